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
  char line[4096];
  int n = vsnprintf(line, sizeof line, fmt, args);
  if (n <= 0) return n;
  std::lock_guard<std::mutex> lock(mu);
  text.append(line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
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
