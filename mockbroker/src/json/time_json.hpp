// The one place where the mock's JSON turns cluster times into numbers: the
// cluster core's clock is kwire::core_time (milliseconds since the Unix epoch).
#pragma once

#include <chrono>
#include <cstdint>

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker {

/// A cluster time (request arrival, send time) as Unix milliseconds: the
/// cluster's clock has the Unix epoch. Pure function; thread-safe.
inline std::int64_t unix_millis(time_point t) { return unix_ms(t); }

/// A span of the cluster's clock (latency, fault delay) in whole
/// milliseconds, rounded down. Pure function; thread-safe.
template <class Rep, class Period>
std::int64_t whole_milliseconds(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace kwire::mockbroker
