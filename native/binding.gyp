# The libbpf loader addon: builds native/build/Release/tracee_capture.node.
# Built through npm (npm run build:native) so node-gyp uses the local Node
# headers (npm passes nodedir) instead of downloading them.
# node-addon-api is used header-only (include dir + C++ exceptions) rather
# than through its .gyp target, which would make gyp write Makefiles into a
# stray native/node_modules/.
{
  "targets": [
    {
      "target_name": "tracee_capture",
      "sources": ["capture.cc", "loader.cc", "programs.cc", "batcher.cc", "probe.cc", "log.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                    "<!@(pkg-config --cflags libbpf libelf zlib)"],
      "libraries": ["<!@(pkg-config --libs libbpf libelf zlib)", "-lpthread"]
    }
  ]
}
