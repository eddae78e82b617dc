// Requests answered later: a Fetch that waits for data, a JoinGroup that waits
// for its rebalance, a SyncGroup that waits for the leader's assignment.
// Internal to the core.
//
// A handler parks the request it serves with request_context::park(), keeps
// the ticket, and returns no response. Later (while serving another request,
// or when a timer of cluster::poll() runs) the module that owns the ticket
// answers it with parking_lot::answer(). The request path turns answers into
// response frames (the request's correlation id and version, the broker's
// latency and the faults that fired on it) and hands them to the shell
// through cluster::poll(). A ticket answered while its own request is still
// being served becomes that request's ordinary response.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/message.hpp"

namespace kwire::mockbroker::detail {

/// Names one parked request; never reused by a cluster (0 is never a ticket).
using ticket = std::uint64_t;

/// A module's answer to a parked request.
struct parked_answer {
  ticket id = 0;
  any_message body;  ///< the response body; empty: the request gets no answer
  time_point at{};   ///< when it was answered
};

/// The tickets of parked requests and the answers waiting to be sent.
class parking_lot {
 public:
  /// A new live ticket (request_context::park() calls this).
  ticket reserve() {
    const ticket t = next_++;
    live_.insert(t);
    return t;
  }
  /// Is `t` still waiting for its answer (not answered, not dropped)?
  bool live(ticket t) const { return live_.count(t) != 0; }
  /// Answers `t`: its response body, as of `now`. Ignored unless `t` is live,
  /// so a module need not know whether the connection went away.
  void answer(ticket t, any_message body, time_point now) {
    if (live_.erase(t) == 0) return;
    ready_.push_back({t, std::move(body), now});
  }
  /// Forgets `t` without an answer (its connection closed).
  void drop(ticket t) { live_.erase(t); }
  /// Takes the answer to `t` if there is one already.
  std::optional<parked_answer> take(ticket t) {
    for (auto it = ready_.begin(); it != ready_.end(); ++it) {
      if (it->id != t) continue;
      parked_answer a = std::move(*it);
      ready_.erase(it);
      return a;
    }
    return std::nullopt;
  }
  /// Takes every answer, in the order they were given.
  std::vector<parked_answer> take_all() { return std::exchange(ready_, {}); }
  bool has_answers() const noexcept { return !ready_.empty(); }

 private:
  ticket next_ = 1;
  std::set<ticket> live_;
  std::vector<parked_answer> ready_;
};

}  // namespace kwire::mockbroker::detail
