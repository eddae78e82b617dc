// What the other group APIs do with a consumer group (consumer_groups.hpp),
// as Kafka 4.0's ConsumerGroup and OffsetMetadataManager do: commits checked
// by member epoch, OffsetFetch v9's member check, OffsetDelete, DeleteGroups,
// a JoinGroup taking over an Empty consumer group, a coordinator move, and
// the consumer protocol bytes cluster::group() shows.
#include "../handler.hpp"
#include "../state.hpp"
#include "consumer_groups.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

const topic_state* topic_by_id(const cluster_state& s, const uuid& id) {
  return s.find_topic_by_id(id);
}

}  // namespace

void commit_consumer_offsets(cluster_state& s, consumer_group& g, std::int32_t member_epoch,
                             std::string_view member_id, std::int16_t version,
                             std::vector<commit_partition>& partitions, time_point now) {
  bool any = false;
  for (auto& p : partitions) {
    p.error = partition_exists(s, p.topic, p.partition)
                  ? 0
                  : code(kafka_error::unknown_topic_or_partition);
    any = any || p.error == 0;
  }
  if (!any) return;
  std::optional<kafka_error> refused;
  // Commits from outside the group (epoch -1) only while it has no member.
  if (member_epoch >= 0 || !g.members.empty()) {
    const consumer_member* m = g.find_member(member_id);
    if (!m)
      refused = kafka_error::unknown_member_id;
    else if (m->member_epoch != member_epoch)
      // Clients of the consumer protocol commit with v9+; Kafka tells older
      // versions that they cannot commit to such a group.
      refused = version >= 9 ? kafka_error::stale_member_epoch : kafka_error::unsupported_version;
  }
  if (refused) {
    for (auto& p : partitions)
      if (p.error == 0) p.error = code(*refused);
    return;
  }
  store_offsets(s, g.id, g.offsets, partitions, now);
}

std::optional<std::int16_t> check_consumer_offset_fetch(const consumer_group& g,
                                                        const std::optional<std::string>& member_id,
                                                        std::int32_t member_epoch) {
  // The admin client and older consumers name no member: always answered.
  if (!member_id && member_epoch < 0) return std::nullopt;
  const consumer_member* m = member_id ? g.find_member(*member_id) : nullptr;
  if (!m) return code(kafka_error::unknown_member_id);
  if (m->member_epoch != member_epoch) return code(kafka_error::stale_member_epoch);
  return std::nullopt;
}

std::int16_t delete_consumer_offsets(cluster_state& s, consumer_group& g,
                                     std::vector<commit_partition>& partitions) {
  for (auto& p : partitions) {
    if (!partition_exists(s, p.topic, p.partition)) {
      p.error = code(kafka_error::unknown_topic_or_partition);
      continue;
    }
    if (g.subscribed_to(p.topic)) {
      p.error = code(kafka_error::group_subscribed_to_topic);
      continue;
    }
    p.error = 0;
    auto t = g.offsets.find(p.topic);
    if (t == g.offsets.end()) continue;
    t->second.erase(p.partition);
    if (t->second.empty()) g.offsets.erase(t);
  }
  return 0;
}

std::int16_t delete_consumer_group(cluster_state& s, std::string_view group) {
  const consumer_group* g = s.consumer_groups.find(group);
  if (!g) return code(kafka_error::group_id_not_found);
  if (!g->members.empty()) return code(kafka_error::non_empty_group);
  s.consumer_groups.groups.erase(s.consumer_groups.groups.find(group));
  return 0;
}

std::int16_t leave_consumer_group(cluster_state& s, consumer_group& g, std::string_view member_id,
                                  const std::optional<std::string>& instance_id) {
  if (!instance_id) return code(kafka_error::unknown_member_id);
  const consumer_member* m = g.static_member(*instance_id);
  if (!m) return code(kafka_error::unknown_member_id);
  if (!member_id.empty())
    return code(member_id != m->member_id ? kafka_error::fenced_instance_id
                                          : kafka_error::unknown_member_id);
  const std::string id = m->member_id;
  fence_consumer_member(s, g, id);
  return 0;
}

bool convert_empty_consumer_group(cluster_state& s, std::string_view group) {
  auto it = s.consumer_groups.groups.find(group);
  if (it == s.consumer_groups.groups.end() || !it->second.members.empty()) return false;
  group_state classic;
  classic.id = it->second.id;
  classic.offsets = std::move(it->second.offsets);
  s.consumer_groups.groups.erase(it);
  s.groups.groups.emplace(classic.id, std::move(classic));
  return true;
}

void reload_consumer_group(const cluster_state& s, consumer_group& g, time_point now) {
  for (auto& [id, m] : g.members) {
    m.session_deadline = now + duration(s.config.group_consumer_session_timeout_ms);
    if (m.state == member_state::unrevoked_partitions) {
      m.rebalance_deadline = now + duration(m.rebalance_timeout_ms);
      m.rebalance_epoch = m.member_epoch;
    }
  }
}

void reload_consumer_groups_of(cluster_state& s, std::int32_t broker_id, time_point now) {
  for (auto& [id, g] : s.consumer_groups.groups) {
    const coordinator_choice c = group_coordinator_for(s, id);
    if (c.broker && c.broker->id == broker_id) reload_consumer_group(s, g, now);
  }
}

std::vector<std::uint8_t> assignment_bytes(const cluster_state& s, const topic_partitions& tp) {
  consumer_protocol_assignment a;
  for (const auto& [id, parts] : tp) {
    const topic_state* t = topic_by_id(s, id);
    if (!t) continue;
    a.assigned_partitions.push_back({t->name, {parts.begin(), parts.end()}, {}});
  }
  auto bytes = encode_consumer_protocol_assignment(a, 0);
  return bytes.ok() ? std::move(bytes).value() : std::vector<std::uint8_t>{};
}

std::vector<std::uint8_t> subscription_bytes(const cluster_state& s, const consumer_member& m) {
  consumer_protocol_subscription sub;
  std::set<std::string> names = subscribed_existing_topics(s, m);
  names.insert(m.subscribed_topic_names.begin(), m.subscribed_topic_names.end());
  sub.topics.assign(names.begin(), names.end());
  auto bytes = encode_consumer_protocol_subscription(sub, 0);
  return bytes.ok() ? std::move(bytes).value() : std::vector<std::uint8_t>{};
}

}  // namespace kwire::mockbroker::detail
