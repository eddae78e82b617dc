// The consumer groups' deadlines (consumer_groups.hpp): a member that does
// not heartbeat within group_consumer_session_timeout_ms, or does not revoke
// its partitions within its rebalance timeout, is fenced: removed, its
// partitions free, the group epoch bumped. Run by cluster::poll() through
// timers.cc, in time order across groups.
#include "../state.hpp"
#include "consumer_groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// The rebalance deadline of `m`, if it still counts (Kafka's timer checks
/// that the member is still at the epoch it was set for).
std::optional<time_point> rebalance_deadline(const consumer_member& m) {
  if (m.state != member_state::unrevoked_partitions || m.member_epoch != m.rebalance_epoch)
    return std::nullopt;
  return m.rebalance_deadline;
}

/// The earliest deadline of one group and whose it is.
std::optional<std::pair<time_point, std::string>> next_deadline(const consumer_group& g) {
  std::optional<std::pair<time_point, std::string>> next;
  auto consider = [&](std::optional<time_point> t, const std::string& member) {
    if (t && (!next || *t < next->first)) next.emplace(*t, member);
  };
  for (const auto& [id, m] : g.members) {
    consider(m.session_deadline, id);
    consider(rebalance_deadline(m), id);
  }
  return next;
}

}  // namespace

void fence_consumer_member(cluster_state& s, consumer_group& g, std::string_view member_id) {
  auto it = g.members.find(member_id);
  if (it == g.members.end()) return;
  const std::string id = it->first;
  g.members.erase(it);
  g.target.erase(id);
  g.subscription_metadata = compute_subscription_metadata(s, g);
  ++g.group_epoch;
}

void run_consumer_group_timers(cluster_state& s, time_point now) {
  for (;;) {
    consumer_group* first = nullptr;
    std::optional<std::pair<time_point, std::string>> due;
    for (auto& [id, g] : s.consumer_groups.groups) {
      auto t = next_deadline(g);
      if (t && t->first <= now && (!due || t->first < due->first)) {
        first = &g;
        due = std::move(t);
      }
    }
    if (!first) return;
    fence_consumer_member(s, *first, due->second);
  }
}

std::optional<time_point> next_consumer_group_deadline(const cluster_state& s) {
  std::optional<time_point> next;
  for (const auto& [id, g] : s.consumer_groups.groups)
    if (auto t = next_deadline(g); t && (!next || t->first < *next)) next = t->first;
  return next;
}

}  // namespace kwire::mockbroker::detail
