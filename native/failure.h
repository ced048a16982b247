// A failed step of the loader, turned into a JS Error with code/step/errno by
// capture.cc. Kept free of N-API so the libbpf code stays plain C++.
#pragma once

#include <string>

struct Failure {
  std::string code;     // TRC_ERR_*, stable, for callers to match on
  std::string step;     // open, configure, load, attach, ...
  int err = 0;          // positive errno, 0 if none
  std::string message;  // "capture: <action> <target>: <cause>"

  bool failed() const { return !code.empty(); }
  static Failure None() { return {}; }
  static Failure Make(std::string code, std::string step, int err, std::string message) {
    return Failure{std::move(code), std::move(step), err < 0 ? -err : err, std::move(message)};
  }
};
