// What a cluster holds: the model, the fault rules, the control hooks and
// the request log, and the request path over them. Internal to the core.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "faults.hpp"
#include "kwire/mockbroker/cluster.hpp"
#include "state.hpp"

namespace kwire::mockbroker {

struct cluster::impl {
  explicit impl(cluster_config c) : state(std::move(c)), faults(state.config.seed) {}

  /// An installed control hook. The function is shared so that a hook that
  /// removes itself (or another) while running stays alive until it returns.
  struct control_entry {
    control_id id = 0;
    std::int16_t api_key = 0;
    std::shared_ptr<control_fn> fn;
  };

  /// What the request path keeps of a parked request to answer it later.
  struct parked_entry {
    std::int32_t broker_id = 0;
    std::uint64_t connection_id = 0;
    std::int32_t correlation_id = 0;
    std::int16_t version = 0;
    std::uint64_t log_sequence = 0;  ///< its request log entry
    duration extra{};                ///< latency and delays added when it arrived
    std::int32_t throttle_ms = -1;   ///< a throttle fault's ThrottleTimeMs, or -1
    bool close_after = false;
    std::string close_reason;
    /// An append_then_error fault's answer, sent instead of the module's.
    std::optional<any_message> error_answer;
  };

  detail::cluster_state state;
  detail::fault_rules faults;
  std::vector<control_entry> controls;
  control_id next_control_id = 1;
  std::deque<logged_request> log;
  std::uint64_t next_sequence = 0;
  std::map<detail::ticket, parked_entry> parked;
  /// The sum of the request log's entries' bytes.
  std::size_t log_bytes = 0;
  /// The latest time handle() or poll() was given: cluster actions, which
  /// take no time, happen then.
  time_point last_now{};

  /// The newest time seen, now included.
  time_point advance(time_point now) {
    if (now > last_now) last_now = now;
    return last_now;
  }

  /// Adds an entry to the bounded request log.
  void record(logged_request entry);

  /// The request path (request_path.cc).
  handle_result handle(std::int32_t broker_id, std::uint64_t connection_id,
                       std::span<const std::uint8_t> payload, time_point now);

  /// Turns the answers of parked requests into response frames (request_path.cc).
  std::vector<parked_response> take_parked_answers();
};

}  // namespace kwire::mockbroker
