# The libbpf loader addon: builds native/build/Release/tracee_capture.node.
# Built through npm (npm run build:native) so node-gyp uses the local Node
# headers (npm passes nodedir) instead of downloading them.
{
  "targets": [
    {
      "target_name": "tracee_capture",
      "sources": ["capture.cc", "loader.cc", "programs.cc", "batcher.cc", "probe.cc", "log.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                    "<!@(pkg-config --cflags libbpf libelf zlib)"],
      "libraries": ["<!@(pkg-config --libs libbpf libelf zlib)", "-lpthread"]
    }
  ]
}
