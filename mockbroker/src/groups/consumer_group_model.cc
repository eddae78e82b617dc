// One consumer group's bookkeeping (consumer_groups.hpp): its state, its
// members' subscriptions, who owns a partition, the preferred assignor, and
// the check of the group_consumer_* settings. No requests and no timers here.
#include <algorithm>
#include <stdexcept>

#include "../state.hpp"
#include "consumer_groups.hpp"

namespace kwire::mockbroker::detail {

std::string_view consumer_group_phase_name(consumer_group_phase phase) noexcept {
  switch (phase) {
    case consumer_group_phase::empty:
      return "Empty";
    case consumer_group_phase::assigning:
      return "Assigning";
    case consumer_group_phase::reconciling:
      return "Reconciling";
    case consumer_group_phase::stable:
      return "Stable";
  }
  return "Dead";
}

bool consumer_member::subscribes_to(std::string_view topic) const {
  if (std::binary_search(subscribed_topic_names.begin(), subscribed_topic_names.end(), topic))
    return true;
  return compiled_regex && std::regex_match(topic.begin(), topic.end(), *compiled_regex);
}

consumer_group_phase consumer_group::phase() const {
  if (members.empty()) return consumer_group_phase::empty;
  if (group_epoch > assignment_epoch) return consumer_group_phase::assigning;
  for (const auto& [id, m] : members)
    if (!m.reconciled_to(assignment_epoch)) return consumer_group_phase::reconciling;
  return consumer_group_phase::stable;
}

consumer_member* consumer_group::find_member(std::string_view member_id) {
  auto it = members.find(member_id);
  return it == members.end() ? nullptr : &it->second;
}

const consumer_member* consumer_group::find_member(std::string_view member_id) const {
  auto it = members.find(member_id);
  return it == members.end() ? nullptr : &it->second;
}

consumer_member* consumer_group::static_member(std::string_view instance_id) {
  for (auto& [id, m] : members)
    if (m.instance_id && *m.instance_id == instance_id) return &m;
  return nullptr;
}

const consumer_member* consumer_group::static_member(std::string_view instance_id) const {
  for (const auto& [id, m] : members)
    if (m.instance_id && *m.instance_id == instance_id) return &m;
  return nullptr;
}

std::int32_t consumer_group::partition_owner_epoch(const uuid& topic,
                                                   std::int32_t partition) const {
  auto holds = [&](const topic_partitions& tp) {
    auto it = tp.find(topic);
    return it != tp.end() && it->second.count(partition) != 0;
  };
  for (const auto& [id, m] : members)
    if (holds(m.assigned) || holds(m.pending_revocation)) return m.member_epoch;
  return -1;
}

bool consumer_group::subscribed_to(std::string_view topic) const {
  return std::any_of(members.begin(), members.end(),
                     [&](const auto& entry) { return entry.second.subscribes_to(topic); });
}

std::optional<std::string> consumer_group::preferred_assignor() const {
  std::map<std::string, int> counts;  // by name: ties go to the first name
  for (const auto& [id, m] : members)
    if (m.server_assignor) ++counts[*m.server_assignor];
  std::optional<std::string> best;
  int best_count = 0;
  for (const auto& [name, count] : counts)
    if (count > best_count) {
      best = name;
      best_count = count;
    }
  return best;
}

consumer_group* consumer_group_coordinator::find(std::string_view id) {
  auto it = groups.find(id);
  return it == groups.end() ? nullptr : &it->second;
}

const consumer_group* consumer_group_coordinator::find(std::string_view id) const {
  auto it = groups.find(id);
  return it == groups.end() ? nullptr : &it->second;
}

void check_consumer_group_config(const cluster_config& config) {
  auto refuse = [](const std::string& what) {
    throw std::invalid_argument("cluster_config: " + what);
  };
  if (config.group_consumer_session_timeout_ms <= 0)
    refuse("group_consumer_session_timeout_ms must be positive, not " +
           std::to_string(config.group_consumer_session_timeout_ms));
  if (config.group_consumer_heartbeat_interval_ms <= 0)
    refuse("group_consumer_heartbeat_interval_ms must be positive, not " +
           std::to_string(config.group_consumer_heartbeat_interval_ms));
  // Kafka's rule: members must be able to heartbeat within their session.
  if (config.group_consumer_heartbeat_interval_ms >= config.group_consumer_session_timeout_ms)
    refuse("group_consumer_heartbeat_interval_ms (" +
           std::to_string(config.group_consumer_heartbeat_interval_ms) +
           ") must be less than group_consumer_session_timeout_ms (" +
           std::to_string(config.group_consumer_session_timeout_ms) + ")");
  if (config.group_consumer_assignors.empty())
    refuse("group_consumer_assignors must name at least one assignor (uniform, range)");
  std::set<std::string> seen;
  for (const auto& name : config.group_consumer_assignors) {
    if (name != "uniform" && name != "range")
      refuse("group_consumer_assignors: unknown assignor '" + name + "' (known: uniform, range)");
    if (!seen.insert(name).second) refuse("group_consumer_assignors names '" + name + "' twice");
  }
}

std::set<std::string> subscribed_existing_topics(const cluster_state& s, const consumer_member& m) {
  std::set<std::string> out;
  for (const auto& name : m.subscribed_topic_names)
    if (s.find_topic(name)) out.insert(name);
  if (m.compiled_regex)
    for (const auto& [name, t] : s.topics)
      if (std::regex_match(name, *m.compiled_regex)) out.insert(name);
  return out;
}

std::map<std::string, subscribed_topic, std::less<>> compute_subscription_metadata(
    const cluster_state& s, const consumer_group& g) {
  std::map<std::string, subscribed_topic, std::less<>> out;
  for (const auto& [id, m] : g.members)
    for (const auto& name : subscribed_existing_topics(s, m)) {
      const topic_state& t = *s.find_topic(name);
      out[name] = {t.id, static_cast<std::int32_t>(t.partitions.size())};
    }
  return out;
}

std::string new_consumer_member_id(cluster_state& s) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::uint8_t bytes[16];
  const std::uint64_t hi = s.consumer_groups.member_random();
  const std::uint64_t lo = s.consumer_groups.member_random();
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<std::uint8_t>(hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<std::uint8_t>(lo >> (56 - 8 * i));
  }
  // A version 4 UUID, as Java's UUID.randomUUID().
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

}  // namespace kwire::mockbroker::detail
