// The latency percentiles that kwire perf and kwire demo report.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace kwire::tools {

/// The q-quantile (0..1, nearest rank) of latencies in microseconds, sorted
/// ascending, in milliseconds; 0 for none. Pure function.
template <class T>
double percentile_ms(const std::vector<T>& sorted_us, double q) {
  if (sorted_us.empty()) return 0;
  auto index = static_cast<std::size_t>(q * static_cast<double>(sorted_us.size() - 1) + 0.5);
  return static_cast<double>(sorted_us[std::min(index, sorted_us.size() - 1)]) / 1000.0;
}

}  // namespace kwire::tools
