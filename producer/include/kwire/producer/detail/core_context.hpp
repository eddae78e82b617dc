// What the producer core's parts share: the configuration, the output being
// gathered for the shell during one call, the counters, and the earliest
// deadline any part asked for. Owned by the core (producer_core.cc); every
// part holds a reference for the core's lifetime. Not thread-safe: the
// core's one thread uses it.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "kwire/producer/config.hpp"
#include "kwire/producer/producer_core.hpp"
#include "kwire/protocol/clock.hpp"
#include "kwire/protocol/kafka_error.hpp"

namespace kwire::detail {

/// A Kafka error as the int16 the wire carries.
constexpr std::int16_t wire_code(kafka_error e) { return static_cast<std::int16_t>(e); }

/// State every part of the core reads or adds to. See the file comment.
struct core_context {
  explicit core_context(producer_config c) : config(std::move(c)) {}

  const producer_config config;       ///< validated, never changes
  core_output out;                    ///< what the current call hands the shell
  producer_metrics metrics;           ///< counters since the core was made
  std::optional<core_time> deadline;  ///< earliest time poll() must run again

  /// Asks for a poll() at `t`, or 1 ms after `now` if `t` has passed
  /// (a deadline in the past would make a shell spin).
  void note_deadline(core_time t, core_time now) {
    if (t <= now) t = now + core_duration{1};
    if (!deadline || t < *deadline) deadline = t;
  }
};

}  // namespace kwire::detail
