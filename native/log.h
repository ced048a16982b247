// libbpf prints through one process-wide callback. We keep its output in a
// bounded buffer so a failed load can put the verifier log in the JS error.
#pragma once

#include <string>

namespace trlog {
void Install();          // libbpf_set_print(capture); idempotent
void Clear();            // start a new capture
std::string Take();      // the captured text (tail-bounded) and clear
// The last `max` bytes of text, cut at a line start.
std::string Tail(const std::string& text, size_t max);
}  // namespace trlog
