// The cluster core's timers: a Fetch's MaxWaitMs, the group coordinator's
// rebalance and session timeouts, and the consumer groups' (KIP-848)
// session and rebalance timeouts. cluster::poll() runs them;
// each module keeps its own deadlines. Internal to the core.
#pragma once

#include <optional>

#include "state.hpp"

namespace kwire::mockbroker::detail {

/// Runs every deadline that has come by `now`; answers go to s.parked.
void run_timers(cluster_state& s, time_point now);

/// The earliest deadline still to run; nullopt when there is none.
std::optional<time_point> next_timer(const cluster_state& s);

}  // namespace kwire::mockbroker::detail
