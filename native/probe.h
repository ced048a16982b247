// Kernel feature probes for `probeKernel()`: each loads a trivial program or
// creates a map of the needed type, so the answer is the kernel's own.
#pragma once

#include <string>
#include <vector>

struct ProbeResult {
  std::string feature;  // btf, ringbuf, raw_tracepoint, tp_btf
  bool ok;
  std::string detail;   // why not, when !ok
};

std::vector<ProbeResult> ProbeKernel();
