#include "log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace trlog {
namespace {
// Verifier logs can reach megabytes; the end is the useful part.
constexpr size_t kMaxLog = 256 * 1024;
std::mutex mu;
std::string text;

int Capture(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // One call can carry a whole verifier log: size it first.
  va_list again;
  va_copy(again, args);
  int n = vsnprintf(nullptr, 0, fmt, args);
  if (n <= 0) {
    va_end(again);
    return n;
  }
  std::string line(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(&line[0], line.size(), fmt, again);
  va_end(again);
  line.resize(n);
  std::lock_guard<std::mutex> lock(mu);
  text.append(line);
  if (text.size() > kMaxLog) text.erase(0, text.size() - kMaxLog / 2);
  return n;
}
}  // namespace

void Install() { libbpf_set_print(Capture); }

void Clear() {
  std::lock_guard<std::mutex> lock(mu);
  text.clear();
}

std::string Take() {
  std::lock_guard<std::mutex> lock(mu);
  std::string out;
  out.swap(text);
  return out;
}

std::string Tail(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t start = s.find('\n', s.size() - max);
  return "..." + s.substr(start == std::string::npos ? s.size() - max : start);
}
}  // namespace trlog
