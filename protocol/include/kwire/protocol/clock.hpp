// The one clock type of kwire's cores: the producer core and the cluster
// core are both driven by times of this clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace kwire {

/// Milliseconds since the Unix epoch, Kafka's own unit of time. It has no
/// now(): a core never reads a clock, its shell passes the time. The Asio
/// shells pass a monotonic clock set to the wall clock when they start (so
/// timeouts never run backwards), the simulation passes virtual time from a
/// chosen epoch. Record timestamps and LogAppendTime are read off it as they are.
struct core_clock {
  using rep = std::int64_t;
  using period = std::milli;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<core_clock>;
  static constexpr bool is_steady = false;
};

/// A time of the cores' clock.
using core_time = core_clock::time_point;
/// A span of the cores' clock (milliseconds).
using core_duration = core_clock::duration;

/// Milliseconds since the Unix epoch of `t`.
constexpr std::int64_t unix_ms(core_time t) noexcept { return t.time_since_epoch().count(); }

/// The time `ms` milliseconds after the Unix epoch.
constexpr core_time from_unix_ms(std::int64_t ms) noexcept { return core_time(core_duration(ms)); }

/// A shell's source of core_time: steady (never runs backwards), and equal
/// to the wall clock at the moment it was made.
class steady_core_clock {
 public:
  steady_core_clock()
      : origin_(std::chrono::steady_clock::now()),
        wall_origin_(std::chrono::duration_cast<core_duration>(
            std::chrono::system_clock::now().time_since_epoch())) {}
  core_time now() const {
    return core_time(wall_origin_ + std::chrono::duration_cast<core_duration>(
                                        std::chrono::steady_clock::now() - origin_));
  }

 private:
  std::chrono::steady_clock::time_point origin_;
  core_duration wall_origin_;
};

}  // namespace kwire
