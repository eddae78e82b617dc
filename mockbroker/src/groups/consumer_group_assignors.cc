// The server-side assignors (consumer_groups.hpp): uniform (Kafka's
// UniformAssignor: balance first, then stickiness) and range (Kafka's
// server-side RangeAssignor: ranges per topic, sticky). Members come in
// member id order and topics in name order, so that an assignment is a
// function of the group (Kafka iterates hash maps there).
#include <algorithm>
#include <limits>

#include "consumer_groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

using assignment = std::map<std::string, topic_partitions, std::less<>>;

struct partition_ref {
  uuid topic{};
  std::int32_t partition = 0;
};

/// Kafka's UniformHomogeneousAssignmentBuilder: every member subscribes to
/// the same topics. Each keeps its partitions up to its quota (the first
/// members get the extra ones); the rest are handed out in order.
assignment uniform_homogeneous(const std::vector<assignor_member>& members,
                               const assignor_topics& topics) {
  assignment out;
  for (const auto& m : members) out[m.member_id];
  const std::set<std::string>& names = members.front().topics;
  if (names.empty()) return out;
  std::set<std::pair<uuid, std::int32_t>> taken;
  for (const auto& m : members)
    for (const auto& [id, parts] : m.current)
      for (std::int32_t p : parts) taken.insert({id, p});
  std::vector<partition_ref> unassigned;
  std::int64_t total = 0;
  for (const auto& name : names) {
    const subscribed_topic& t = topics.find(name)->second;
    for (std::int32_t p = 0; p < t.partitions; ++p)
      if (!taken.count({t.id, p})) unassigned.push_back({t.id, p});
    total += t.partitions;
  }
  const auto count = static_cast<std::int64_t>(members.size());
  const std::int64_t min_quota = total / count;
  std::int64_t extra = total % count;
  std::vector<std::pair<std::string, std::int64_t>> unfilled;
  for (const auto& m : members) {
    std::int64_t quota = min_quota;
    if (extra > 0) {
      ++quota;
      --extra;
    }
    topic_partitions& mine = out[m.member_id];
    for (const auto& name : names) {
      const uuid id = topics.find(name)->second.id;
      auto held = m.current.find(id);
      if (held == m.current.end()) continue;
      for (std::int32_t p : held->second) {
        if (quota > 0) {
          mine[id].insert(p);
          --quota;
        } else {
          unassigned.push_back({id, p});
        }
      }
    }
    if (quota > 0) unfilled.emplace_back(m.member_id, quota);
  }
  std::size_t next = 0;
  for (const auto& [member, quota] : unfilled)
    for (std::int64_t i = 0; i < quota && next < unassigned.size(); ++i, ++next)
      out[member][unassigned[next].topic].insert(unassigned[next].partition);
  return out;
}

/// Members with different subscriptions: each keeps what it still
/// subscribes to, free partitions go to the least loaded subscriber, then
/// partitions move from a member to a subscriber with two or more fewer
/// until no such move is left (Kafka's heterogeneous builder balances and
/// stays sticky too; its choices may differ).
assignment uniform_heterogeneous(const std::vector<assignor_member>& members,
                                 const assignor_topics& topics) {
  assignment out;
  std::map<std::string, std::int64_t> load;
  std::map<std::pair<uuid, std::int32_t>, std::string> owner;
  for (const auto& m : members) {
    out[m.member_id];
    load[m.member_id] = 0;
  }
  for (const auto& m : members)
    for (const auto& [id, parts] : m.current) {
      const auto& topic_id = id;  // clang before 16 cannot capture a structured binding
      const auto topic = std::find_if(topics.begin(), topics.end(),
                                      [&](const auto& t) { return t.second.id == topic_id; });
      if (topic == topics.end() || !m.topics.count(topic->first)) continue;
      for (std::int32_t p : parts)
        if (owner.emplace(std::make_pair(id, p), m.member_id).second) ++load[m.member_id];
    }
  auto least_loaded = [&](const std::string& topic) -> const std::string* {
    const std::string* best = nullptr;
    for (const auto& m : members)
      if (m.topics.count(topic) && (!best || load[m.member_id] < load[*best])) best = &m.member_id;
    return best;
  };
  for (const auto& [name, t] : topics)
    for (std::int32_t p = 0; p < t.partitions; ++p) {
      if (owner.count({t.id, p})) continue;
      if (const std::string* to = least_loaded(name)) {
        owner[{t.id, p}] = *to;
        ++load[*to];
      }
    }
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& [name, t] : topics)
      for (std::int32_t p = 0; p < t.partitions; ++p) {
        auto it = owner.find({t.id, p});
        if (it == owner.end()) continue;
        const std::string* to = least_loaded(name);
        if (!to || load[it->second] - load[*to] < 2) continue;
        --load[it->second];
        ++load[*to];
        it->second = *to;
        moved = true;
      }
  }
  for (const auto& [tp, member] : owner) out[member][tp.first].insert(tp.second);
  return out;
}

}  // namespace

assignment assign_uniform(const std::vector<assignor_member>& members,
                          const assignor_topics& topics) {
  if (members.empty()) return {};
  const bool homogeneous = std::all_of(members.begin(), members.end(), [&](const auto& m) {
    return m.topics == members.front().topics;
  });
  return homogeneous ? uniform_homogeneous(members, topics)
                     : uniform_heterogeneous(members, topics);
}

assignment assign_range(const std::vector<assignor_member>& members,
                        const assignor_topics& topics) {
  assignment out;
  for (const auto& m : members) out[m.member_id];
  for (const auto& [name, t] : topics) {
    std::vector<const assignor_member*> subscribers;
    for (const auto& m : members)
      if (m.topics.count(name)) subscribers.push_back(&m);
    if (subscribers.empty()) continue;
    const auto count = static_cast<std::int32_t>(subscribers.size());
    const std::int32_t min_quota = t.partitions / count;
    std::int32_t extra = t.partitions % count;
    // Each keeps its lowest partitions up to the quota (one more while
    // extras are left for members that had more).
    std::set<std::int32_t> kept;
    std::vector<std::pair<const std::string*, std::int32_t>> unfilled;
    for (const assignor_member* m : subscribers) {
      auto it = m->current.find(t.id);
      const std::vector<std::int32_t> current =
          it == m->current.end() ? std::vector<std::int32_t>{}
                                 : std::vector<std::int32_t>(it->second.begin(), it->second.end());
      const auto size = static_cast<std::int32_t>(current.size());
      for (std::int32_t i = 0; i < std::min(size, min_quota); ++i) {
        kept.insert(current[static_cast<std::size_t>(i)]);
        out[m->member_id][t.id].insert(current[static_cast<std::size_t>(i)]);
      }
      const std::int32_t remaining = min_quota - size;
      if (remaining < 0 && extra > 0) {
        --extra;
        kept.insert(current[static_cast<std::size_t>(min_quota)]);
        out[m->member_id][t.id].insert(current[static_cast<std::size_t>(min_quota)]);
      } else {
        unfilled.emplace_back(&m->member_id, remaining);
      }
    }
    std::vector<std::int32_t> free;
    for (std::int32_t p = 0; p < t.partitions; ++p)
      if (!kept.count(p)) free.push_back(p);
    std::size_t next = 0;
    for (auto [member, remaining] : unfilled) {
      if (extra > 0) {
        ++remaining;
        --extra;
      }
      for (std::int32_t i = 0; i < remaining && next < free.size(); ++i, ++next)
        out[*member][t.id].insert(free[next]);
    }
  }
  return out;
}

}  // namespace kwire::mockbroker::detail
