// Target assignments and reconciliation (consumer_groups.hpp): the assignor
// computes where partitions should be at the group epoch; each member moves
// there one heartbeat at a time, giving partitions up before others get them
// (Kafka 4.0's TargetAssignmentBuilder and CurrentAssignmentBuilder).
#include "../state.hpp"
#include "consumer_groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// `tp` without the partitions of topics that are gone or are not in `topics`.
topic_partitions still_valid(const topic_partitions& tp, const assignor_topics& topics) {
  topic_partitions out;
  for (const auto& [id, parts] : tp)
    for (const auto& [name, t] : topics) {
      if (t.id != id) continue;
      for (std::int32_t p : parts)
        if (p >= 0 && p < t.partitions) out[id].insert(p);
    }
  return out;
}

/// The member with epoch `epoch` after a change (Kafka's updateMemberEpoch).
void move_epoch(consumer_member& m, std::int32_t epoch) {
  m.previous_member_epoch = m.member_epoch;
  m.member_epoch = epoch;
}

/// Kafka's computeNextAssignment: keep what stays, give up what goes, take
/// what is free.
consumer_member next_assignment(const consumer_group& g, const consumer_member& m,
                                std::int32_t epoch) {
  static const topic_partitions none;
  auto it = g.target.find(m.member_id);
  const topic_partitions& target = it == g.target.end() ? none : it->second;
  const std::int32_t target_epoch = g.assignment_epoch;

  topic_partitions keep, revoke, add;
  bool unreleased = false;
  std::set<uuid> topics;
  for (const auto& [id, parts] : target) topics.insert(id);
  for (const auto& [id, parts] : m.assigned) topics.insert(id);
  for (const uuid& id : topics) {
    static const std::set<std::int32_t> empty;
    auto t = target.find(id);
    auto c = m.assigned.find(id);
    const auto& wanted = t == target.end() ? empty : t->second;
    const auto& current = c == m.assigned.end() ? empty : c->second;
    for (std::int32_t p : current) (wanted.count(p) ? keep : revoke)[id].insert(p);
    for (std::int32_t p : wanted) {
      if (current.count(p)) continue;
      // A partition another member still owns waits until it is released.
      if (g.partition_owner_epoch(id, p) != -1)
        unreleased = true;
      else
        add[id].insert(p);
    }
  }

  consumer_member next = m;
  if (!revoke.empty()) {
    next.state = member_state::unrevoked_partitions;
    move_epoch(next, epoch);
    next.assigned = std::move(keep);
    next.pending_revocation = std::move(revoke);
    return next;
  }
  for (auto& [id, parts] : add) keep[id].insert(parts.begin(), parts.end());
  next.state = unreleased ? member_state::unreleased_partitions : member_state::stable;
  move_epoch(next, target_epoch);
  next.assigned = std::move(keep);
  next.pending_revocation.clear();
  return next;
}

}  // namespace

void update_target_assignment(const cluster_state& s, consumer_group& g) {
  const std::string assignor =
      g.preferred_assignor().value_or(s.config.group_consumer_assignors.front());
  const assignor_topics& topics = g.subscription_metadata;
  std::vector<assignor_member> members;
  for (const auto& [id, m] : g.members) {
    assignor_member am;
    am.member_id = id;
    for (const auto& name : subscribed_existing_topics(s, m))
      if (topics.count(name)) am.topics.insert(name);
    if (auto t = g.target.find(id); t != g.target.end())
      am.current = still_valid(t->second, topics);
    members.push_back(std::move(am));
  }
  auto result =
      assignor == "range" ? assign_range(members, topics) : assign_uniform(members, topics);
  g.target.clear();
  for (const auto& m : members) g.target[m.member_id] = std::move(result[m.member_id]);
  g.assignment_epoch = g.group_epoch;
}

consumer_member reconcile(const consumer_group& g, const consumer_member& m,
                          const std::optional<topic_partitions>& owned) {
  switch (m.state) {
    case member_state::stable:
      if (m.member_epoch != g.assignment_epoch) return next_assignment(g, m, m.member_epoch);
      return m;
    case member_state::unrevoked_partitions:
      // It moves on once its heartbeat no longer lists what it must revoke.
      if (!owned) return m;
      for (const auto& [id, parts] : *owned) {
        auto pending = m.pending_revocation.find(id);
        if (pending == m.pending_revocation.end()) continue;
        for (std::int32_t p : parts)
          if (pending->second.count(p)) return m;
      }
      return next_assignment(g, m, m.member_epoch + 1);
    case member_state::unreleased_partitions:
      return next_assignment(g, m, m.member_epoch);
  }
  return m;
}

}  // namespace kwire::mockbroker::detail
