// The cluster's public group functions (cluster.hpp): reading groups and
// acting on them, classic groups and consumer groups (KIP-848). The
// behaviour is the group modules' (groups/); answers these ready for parked
// requests go out through cluster::poll().
#include <algorithm>

#include "cluster_impl.hpp"
#include "groups/consumer_groups.hpp"
#include "groups/groups.hpp"
#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker {

using namespace detail;

namespace {

std::int32_t coordinator_id(const cluster_state& s, std::string_view group) {
  const coordinator_choice c = group_coordinator_for(s, group);
  return c.broker ? c.broker->id : -1;
}

group_info consumer_group_info(const cluster_state& s, const consumer_group& g) {
  group_info out;
  out.group_id = g.id;
  out.type = "consumer";
  out.state = std::string(consumer_group_phase_name(g.phase()));
  out.protocol_type = "consumer";
  out.protocol = g.preferred_assignor().value_or(s.config.group_consumer_assignors.front());
  out.generation = g.group_epoch;
  out.coordinator = coordinator_id(s, g.id);
  for (const auto& [id, m] : g.members) {
    group_member_info mi;
    mi.member_id = id;
    mi.group_instance_id = m.instance_id;
    mi.client_id = m.client_id;
    mi.client_host = m.client_host;
    mi.session_timeout_ms = s.config.group_consumer_session_timeout_ms;
    mi.rebalance_timeout_ms = m.rebalance_timeout_ms;
    mi.metadata = subscription_bytes(s, m);
    mi.assignment = assignment_bytes(s, m.assigned);
    mi.member_epoch = m.member_epoch;
    auto target = g.target.find(id);
    if (target != g.target.end()) mi.target_assignment = assignment_bytes(s, target->second);
    out.members.push_back(std::move(mi));
  }
  for (const auto& [topic, parts] : g.offsets)
    for (const auto& [p, c] : parts)
      out.offsets.push_back({topic, p, c.offset, c.metadata, c.leader_epoch});
  return out;
}

}  // namespace

std::vector<group_listing> cluster::groups() const {
  const auto& s = impl_->state;
  std::vector<group_listing> out;
  for (const auto& [id, g] : s.groups.groups)
    out.push_back({id, std::string(group_phase_name(g.state)), g.protocol_type.value_or(""),
                   coordinator_id(s, id), "classic"});
  for (const auto& [id, g] : s.consumer_groups.groups)
    out.push_back({id, std::string(consumer_group_phase_name(g.phase())), "consumer",
                   coordinator_id(s, id), "consumer"});
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  return out;
}

std::optional<group_info> cluster::group(std::string_view group_id) const {
  if (const consumer_group* cg = impl_->state.consumer_groups.find(group_id))
    return consumer_group_info(impl_->state, *cg);
  const group_state* g = impl_->state.groups.find(group_id);
  if (!g) return std::nullopt;
  group_info out;
  out.group_id = g->id;
  out.state = std::string(group_phase_name(g->state));
  out.protocol_type = g->protocol_type.value_or("");
  out.protocol = g->protocol_name;
  out.generation = g->generation;
  out.leader = g->leader;
  out.coordinator = coordinator_id(impl_->state, group_id);
  for (const auto& m : g->members) {
    group_member_info mi;
    mi.member_id = m.member_id;
    mi.group_instance_id = m.instance_id;
    mi.client_id = m.client_id;
    mi.client_host = m.client_host;
    mi.session_timeout_ms = m.session_timeout_ms;
    mi.rebalance_timeout_ms = m.rebalance_timeout_ms;
    if (g->protocol_name)
      if (const member_protocol* p = m.protocol(*g->protocol_name)) mi.metadata = p->metadata;
    mi.assignment = m.assignment;
    out.members.push_back(std::move(mi));
  }
  for (const auto& [topic, parts] : g->offsets)
    for (const auto& [p, c] : parts)
      out.offsets.push_back({topic, p, c.offset, c.metadata, c.leader_epoch});
  return out;
}

bool cluster::expire_member(std::string_view group_id, std::string_view member_id) {
  if (consumer_group* g = impl_->state.consumer_groups.find(group_id)) {
    if (!g->find_member(member_id)) return false;
    fence_consumer_member(impl_->state, *g, member_id);
    return true;
  }
  return detail::expire_member(impl_->state, group_id, member_id, impl_->last_now);
}

bool cluster::rebalance_group(std::string_view group_id) {
  return force_rebalance(impl_->state, group_id, impl_->last_now);
}

bool cluster::move_group_coordinator(std::string_view group_id, std::int32_t broker_id) {
  const time_point now = impl_->last_now;
  if (!impl_->state.find_broker(broker_id)) return false;
  auto& s = impl_->state;
  const std::int32_t before = coordinator_id(s, group_id);
  s.groups.coordinator_overrides[std::string(group_id)] = broker_id;
  if (before != broker_id) {
    if (group_state* g = s.groups.find(group_id)) unload_group(s, *g, now);
    if (consumer_group* g = s.consumer_groups.find(group_id)) reload_consumer_group(s, *g, now);
  }
  return true;
}

kafka_error cluster::set_committed_offset(std::string_view group_id, std::string_view topic,
                                          std::int32_t partition, std::int64_t offset,
                                          std::string_view metadata, std::int32_t leader_epoch) {
  auto& s = impl_->state;
  const time_point now = impl_->last_now;
  std::vector<commit_partition> parts{
      {std::string(topic), partition, offset, leader_epoch, std::string(metadata), 0}};
  if (consumer_group* cg = s.consumer_groups.find(group_id)) {
    // Accepted whatever the group's members, as for classic groups.
    if (!partition_exists(s, topic, partition)) return kafka_error::unknown_topic_or_partition;
    store_offsets(s, group_id, cg->offsets, parts, now);
    return static_cast<kafka_error>(parts[0].error);
  }
  // As a commit from outside the group, but accepted whatever the group's state.
  group_state* g = s.groups.find(group_id);
  if (!g || g->state == group_phase::empty) {
    commit_offsets(s, group_id, -1, "", std::nullopt, parts, now);
    return static_cast<kafka_error>(parts[0].error);
  }
  const topic_state* t = s.find_topic(topic);
  if (!t || partition < 0 || static_cast<std::size_t>(partition) >= t->partitions.size())
    return kafka_error::unknown_topic_or_partition;
  if (metadata.size() > static_cast<std::size_t>(std::max(s.config.offset_metadata_max_bytes, 0)))
    return kafka_error::offset_metadata_too_large;
  if (61 + 10 + 2 + 2 + group_id.size() + 2 + topic.size() + 4 + 2 + 8 + 4 + 2 + metadata.size() +
          8 >
      static_cast<std::size_t>(std::max(s.config.offsets_topic_max_message_bytes, 0)))
    return kafka_error::invalid_commit_offset_size;
  committed_offset& c = g->offsets[std::string(topic)][partition];
  c.offset = offset;
  c.leader_epoch = leader_epoch;
  c.metadata = std::string(metadata);
  c.commit_time = now;
  return kafka_error::none;
}

}  // namespace kwire::mockbroker
