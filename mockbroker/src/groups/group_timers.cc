// The groups' deadlines (groups.hpp): the end of a rebalance's wait, the
// pending-sync wait, sessions of members and of pending members. Run by
// cluster::poll() through timers.cc, in time order across groups.
#include <algorithm>
#include <limits>

#include "../state.hpp"
#include "groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// The earliest deadline of one group.
std::optional<time_point> next_deadline(const group_state& g) {
  std::optional<time_point> next;
  auto consider = [&](std::optional<time_point> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  if (g.state == group_phase::preparing_rebalance) consider(g.join_deadline);
  if (!g.pending_sync.empty()) consider(g.sync_deadline);
  for (const auto& [id, deadline] : g.pending_members) consider(deadline);
  for (const auto& m : g.members) {
    // Members waiting for a rebalance satisfy their session (Kafka's
    // hasSatisfiedHeartbeat) unless they are new.
    if (!m.is_new && (m.awaiting_join || m.awaiting_sync)) continue;
    consider(m.session_deadline);
  }
  return next;
}

/// Runs the one deadline of `g` that is due at `at` (the earliest).
void run_one(cluster_state& s, group_state& g, time_point at) {
  for (const auto& [id, deadline] : g.pending_members)
    if (deadline <= at) {
      const std::string member = id;
      remove_pending_member(s, g, member, at);
      return;
    }
  for (const auto& m : g.members) {
    if (!m.is_new && (m.awaiting_join || m.awaiting_sync)) continue;
    if (m.session_deadline && *m.session_deadline <= at) {
      const std::string member = m.member_id;
      remove_member_and_update(s, g, member, at);
      return;
    }
  }
  if (g.state == group_phase::preparing_rebalance && g.join_deadline && *g.join_deadline <= at) {
    join_deadline_passed(s, g, at);
    return;
  }
  if (!g.pending_sync.empty() && g.sync_deadline && *g.sync_deadline <= at) {
    sync_deadline_passed(s, g, at);
    return;
  }
}

}  // namespace

void run_group_timers(cluster_state& s, time_point now) {
  // Deadlines run in time order, each at its own time, as they would have
  // under a shell that polled exactly then.
  for (;;) {
    group_state* first = nullptr;
    time_point at{};
    for (auto& [id, g] : s.groups.groups) {
      auto t = next_deadline(g);
      if (t && *t <= now && (!first || *t < at)) {
        first = &g;
        at = *t;
      }
    }
    if (!first) return;
    run_one(s, *first, at);
  }
}

std::optional<time_point> next_group_deadline(const cluster_state& s) {
  std::optional<time_point> next;
  for (const auto& [id, g] : s.groups.groups) {
    auto t = next_deadline(g);
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

}  // namespace kwire::mockbroker::detail
