// The cluster core's timers, module by module (timers.hpp).
#include "timers.hpp"

#include <algorithm>

namespace kwire::mockbroker::detail {

void run_timers(cluster_state& s, time_point now) {
  expire_fetches(s, now);
  run_group_timers(s, now);
  run_consumer_group_timers(s, now);
}

std::optional<time_point> next_timer(const cluster_state& s) {
  std::optional<time_point> next;
  auto consider = [&](std::optional<time_point> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(next_fetch_deadline(s));
  consider(next_group_deadline(s));
  consider(next_consumer_group_deadline(s));
  return next;
}

}  // namespace kwire::mockbroker::detail
