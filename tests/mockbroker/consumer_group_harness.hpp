// Test helpers for consumer groups (KIP-848): ConsumerGroupHeartbeat
// requests, assignments by topic name, ConsumerGroupDescribe, and a member
// that heartbeats as a consumer does (it gives up what it is no longer
// assigned at once and reports what it owns). Time moves only with h.now.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "group_harness.hpp"

namespace kwire::mockbroker::testing {

/// Partitions by topic name, ascending.
using by_topic = std::map<std::string, std::vector<std::int32_t>>;

/// A joining heartbeat (epoch 0) with everything a join must carry.
inline consumer_group_heartbeat_request join_of(const std::string& group, const std::string& member,
                                                std::vector<std::string> topics,
                                                std::optional<std::string> assignor = std::nullopt,
                                                std::optional<std::string> instance = std::nullopt,
                                                std::int32_t rebalance_ms = 60000) {
  consumer_group_heartbeat_request r;
  r.group_id = group;
  r.member_id = member;
  r.member_epoch = 0;
  r.instance_id = std::move(instance);
  r.rebalance_timeout_ms = rebalance_ms;
  r.subscribed_topic_names = std::move(topics);
  r.server_assignor = std::move(assignor);
  r.topic_partitions.emplace();
  return r;
}

/// A heartbeat that only says what changed: the epoch and, if given, the
/// partitions owned.
inline consumer_group_heartbeat_request beat_of(
    const std::string& group, const std::string& member, std::int32_t epoch,
    std::optional<std::vector<consumer_group_heartbeat_request::topic_partitions_entry>> owned =
        std::nullopt,
    std::optional<std::string> instance = std::nullopt) {
  consumer_group_heartbeat_request r;
  r.group_id = group;
  r.member_id = member;
  r.member_epoch = epoch;
  r.instance_id = std::move(instance);
  r.topic_partitions = std::move(owned);
  return r;
}

/// Owned partitions of a heartbeat, by topic name.
inline std::vector<consumer_group_heartbeat_request::topic_partitions_entry> owned_of(
    harness& h, const by_topic& owned) {
  std::vector<consumer_group_heartbeat_request::topic_partitions_entry> out;
  for (const auto& [topic, parts] : owned) {
    auto id = h.c.topic_id(topic);
    REQUIRE(id.has_value());
    out.push_back({*id, parts, {}});
  }
  return out;
}

/// An answer's assignment by topic name ("?" for an id the cluster lacks).
inline by_topic named(harness& h,
                      const std::vector<consumer_group_heartbeat_response::topic_partitions>& tps) {
  by_topic out;
  for (const auto& tp : tps) {
    std::string name = "?";
    for (const auto& t : h.c.topics())
      if (h.c.topic_id(t) == tp.topic_id) name = t;
    auto parts = tp.partitions;
    std::sort(parts.begin(), parts.end());
    out[name] = parts;
  }
  return out;
}

/// A described assignment by topic name.
inline by_topic named(const consumer_group_describe_response::assignment& a) {
  by_topic out;
  for (const auto& tp : a.topic_partitions) {
    auto parts = tp.partitions;
    std::sort(parts.begin(), parts.end());
    out[tp.topic_name] = parts;
  }
  return out;
}

/// Sends a heartbeat to `broker` (0: the group's coordinator).
inline consumer_group_heartbeat_response heartbeat(harness& h,
                                                   const consumer_group_heartbeat_request& r,
                                                   std::int16_t version = 1,
                                                   std::int32_t broker = 0) {
  return h.call<consumer_group_heartbeat_response>(broker ? broker : coordinator_of(h, r.group_id),
                                                   r, version);
}

/// ConsumerGroupDescribe of one group at its coordinator.
inline consumer_group_describe_response::described_group describe(harness& h,
                                                                  const std::string& group,
                                                                  std::int32_t broker = 0) {
  consumer_group_describe_request r;
  r.group_ids = {group};
  auto answer =
      h.call<consumer_group_describe_response>(broker ? broker : coordinator_of(h, group), r, 0);
  REQUIRE(answer.groups.size() == 1);
  return answer.groups[0];
}

/// The member `id` of a description.
inline const consumer_group_describe_response::member& member_of(
    const consumer_group_describe_response::described_group& g, const std::string& id) {
  for (const auto& m : g.members)
    if (m.member_id == id) return m;
  FAIL("no member " << id);
  return g.members.front();
}

/// A consumer as the protocol expects one: it joins, heartbeats with its
/// epoch and owned partitions, takes what it is given and gives up what it
/// is not.
struct consumer {
  consumer(std::string group_, std::string id_, std::vector<std::string> topics_,
           std::optional<std::string> assignor_ = std::nullopt,
           std::optional<std::string> instance_ = std::nullopt)
      : group(std::move(group_)),
        id(std::move(id_)),
        topics(std::move(topics_)),
        assignor(std::move(assignor_)),
        instance(std::move(instance_)) {}

  std::string group;
  std::string id;
  std::vector<std::string> topics;
  std::optional<std::string> assignor;
  std::optional<std::string> instance;
  std::int32_t epoch = 0;
  by_topic owned;
  consumer_group_heartbeat_response last;

  /// Joins (epoch 0) or heartbeats; takes the answer's epoch and assignment.
  consumer_group_heartbeat_response beat(harness& h) {
    auto r = epoch == 0 ? join_of(group, id, topics, assignor, instance)
                        : beat_of(group, id, epoch, owned_of(h, owned), instance);
    last = heartbeat(h, r);
    REQUIRE(last.error_code == 0);
    epoch = last.member_epoch;
    if (last.assignment) owned = named(h, last.assignment->topic_partitions);
    return last;
  }
};

/// Heartbeats every consumer, round after round, until the group is Stable.
inline void converge(harness& h, std::vector<consumer*> members) {
  for (int round = 0; round < 10; ++round) {
    for (auto* m : members) m->beat(h);
    if (describe(h, members.front()->group).group_state == "Stable") return;
  }
  FAIL("the group did not become Stable");
}

}  // namespace kwire::mockbroker::testing
