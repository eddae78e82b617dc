// Command-line value parsing and small report helpers shared by the `kwire` subcommands.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace kwire::tools {

/// Parses a whole decimal integer within [lo, hi]; false (out untouched) otherwise.
inline bool parse_integer(const std::string& text, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) return false;
  out = v;
  return true;
}

/// Adds a `-X key=value` setting to `settings`; false if `text` has no key or no '='.
inline bool parse_setting(const std::string& text, std::map<std::string, std::string>& settings) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  settings[text.substr(0, eq)] = text.substr(eq + 1);
  return true;
}

/// The q-quantile (0..1, nearest rank) of latencies in microseconds, sorted
/// ascending, in milliseconds; 0 for none.
template <class T>
double percentile_ms(const std::vector<T>& sorted_us, double q) {
  if (sorted_us.empty()) return 0;
  auto index = static_cast<std::size_t>(q * static_cast<double>(sorted_us.size() - 1) + 0.5);
  return static_cast<double>(sorted_us[std::min(index, sorted_us.size() - 1)]) / 1000.0;
}

}  // namespace kwire::tools
