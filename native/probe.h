// Kernel feature probes for `probeKernel()`: each loads a trivial program,
// creates a map of the needed type or looks in the kernel's BTF, so the
// answer is the kernel's own. Each feature names the events it serves and
// whether its absence disables them or only leaves some arguments out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct ProbeResult {
  std::string feature;            // btf, ringbuf, raw_tracepoint, tp_btf, task_storage, ...
  bool ok;
  std::string detail;             // why not, when !ok
  std::vector<uint32_t> events;   // event ids it serves (empty: all events)
  bool degrades;                  // true: without it those events lose some arguments only
};

std::vector<ProbeResult> ProbeKernel();
