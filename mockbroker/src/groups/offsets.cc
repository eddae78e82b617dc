// Committed offsets (groups.hpp): OffsetCommit, OffsetFetch, OffsetDelete
// and DeleteGroups, as Kafka's GroupCoordinator and GroupMetadataManager do
// for classic groups; OffsetFetch, OffsetDelete and DeleteGroups hand a
// consumer group to consumer_group_admin.cc. Offsets never expire here.
#include "../state.hpp"
#include "consumer_groups.hpp"
#include "groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

constexpr std::int16_t error_code(kafka_error e) noexcept { return static_cast<std::int16_t>(e); }

/// Kafka's validateOffsetCommit (not transactional).
std::optional<kafka_error> validate_commit(const group_state& g, std::int32_t generation,
                                           std::string_view member_id,
                                           const std::optional<std::string>& instance_id) {
  if (generation >= 0 || !member_id.empty() || instance_id) {
    if (auto e = validate_member(g, member_id, instance_id)) return e;
    if (generation != g.generation) return kafka_error::illegal_generation;
    return std::nullopt;
  }
  // Commits from outside the group (simple consumers) only while nobody is in it.
  if (g.state != group_phase::empty) return kafka_error::unknown_member_id;
  return std::nullopt;
}

}  // namespace

bool partition_exists(const cluster_state& s, std::string_view topic, std::int32_t partition) {
  const topic_state* t = s.find_topic(topic);
  return t && partition >= 0 && static_cast<std::size_t>(partition) < t->partitions.size();
}

void store_offsets(const cluster_state& s, std::string_view group, offset_map& offsets,
                   std::vector<commit_partition>& partitions, time_point now) {
  const auto metadata_max =
      static_cast<std::size_t>(std::max(s.config.offset_metadata_max_bytes, 0));
  for (auto& p : partitions)
    if (p.error == 0 && p.metadata && p.metadata->size() > metadata_max)
      p.error = error_code(kafka_error::offset_metadata_too_large);
  // Kafka writes the offsets as one record batch to __consumer_offsets
  // (61 bytes, and per offset about 10 bytes of framing, the key: version,
  // group, topic, partition; the value v3: version, offset, leader epoch,
  // metadata, commit time). Too large: INVALID_COMMIT_OFFSET_SIZE.
  std::size_t batch = 61;
  for (const auto& p : partitions)
    if (p.error == 0)
      batch += 10 + 2 + 2 + group.size() + 2 + p.topic.size() + 4 + 2 + 8 + 4 + 2 +
               p.metadata.value_or("").size() + 8;
  if (batch > static_cast<std::size_t>(std::max(s.config.offsets_topic_max_message_bytes, 0)))
    for (auto& p : partitions)
      if (p.error == 0) p.error = error_code(kafka_error::invalid_commit_offset_size);
  for (auto& p : partitions) {
    if (p.error != 0) continue;
    committed_offset& c = offsets[p.topic][p.partition];
    c.offset = p.offset;
    c.leader_epoch = p.leader_epoch;
    c.metadata = p.metadata.value_or("");
    c.commit_time = now;
  }
}

void commit_offsets(cluster_state& s, std::string_view group, std::int32_t generation,
                    std::string_view member_id, const std::optional<std::string>& instance_id,
                    std::vector<commit_partition>& partitions, time_point now) {
  bool any = false;
  for (auto& p : partitions) {
    p.error = partition_exists(s, p.topic, p.partition)
                  ? 0
                  : error_code(kafka_error::unknown_topic_or_partition);
    any = any || p.error == 0;
  }
  if (!any) return;
  auto fail_all = [&](kafka_error e) {
    for (auto& p : partitions)
      if (p.error == 0) p.error = error_code(e);
  };
  group_state* g = s.groups.find(group);
  if (!g) {
    // A group not managed by Kafka (generation -1): the commit creates it.
    if (generation >= 0) return fail_all(kafka_error::illegal_generation);
    g = &s.groups.groups.emplace(std::string(group), group_state{}).first->second;
    g->id = std::string(group);
  }
  if (auto e = validate_commit(*g, generation, member_id, instance_id)) {
    fail_all(*e);
  } else if (g->state == group_phase::completing_rebalance) {
    fail_all(kafka_error::rebalance_in_progress);
  } else {
    if (group_member* m = g->find_member(member_id))
      m->session_deadline = now + duration(m->session_timeout_ms);
    store_offsets(s, group, g->offsets, partitions, now);
  }
  // A group created for a commit that stored nothing goes again.
  if (g->state == group_phase::empty && g->members.empty() && g->pending_members.empty() &&
      g->offsets.empty() && g->generation == 0)
    s.groups.groups.erase(std::string(group));
}

std::vector<fetched_offset> fetch_offsets(
    const cluster_state& s, std::string_view group,
    const std::optional<std::vector<std::pair<std::string, std::vector<std::int32_t>>>>& topics) {
  std::vector<fetched_offset> out;
  const offset_map* offsets = nullptr;
  if (const group_state* classic = s.groups.find(group))
    offsets = &classic->offsets;
  else if (const consumer_group* consumer = s.consumer_groups.find(group))
    offsets = &consumer->offsets;
  if (!topics) {
    if (!offsets) return out;
    for (const auto& [topic, parts] : *offsets)
      for (const auto& [p, c] : parts)
        out.push_back({topic, p, c.offset, c.leader_epoch, c.metadata});
    return out;
  }
  for (const auto& [topic, parts] : *topics)
    for (std::int32_t p : parts) {
      fetched_offset f{topic, p, -1, -1, ""};
      if (offsets) {
        auto t = offsets->find(topic);
        if (t != offsets->end()) {
          auto c = t->second.find(p);
          if (c != t->second.end()) {
            f.offset = c->second.offset;
            f.leader_epoch = c->second.leader_epoch;
            f.metadata = c->second.metadata;
          }
        }
      }
      out.push_back(std::move(f));
    }
  return out;
}

std::int16_t delete_offsets(cluster_state& s, std::string_view group,
                            std::vector<commit_partition>& partitions) {
  if (consumer_group* consumer = s.consumer_groups.find(group))
    return delete_consumer_offsets(s, *consumer, partitions);
  group_state* g = s.groups.find(group);
  if (!g) return error_code(kafka_error::group_id_not_found);
  const bool active = g->state != group_phase::empty;
  if (active && g->protocol_type != "consumer") return error_code(kafka_error::non_empty_group);
  for (auto& p : partitions) {
    if (!partition_exists(s, p.topic, p.partition)) {
      p.error = error_code(kafka_error::unknown_topic_or_partition);
      continue;
    }
    if (active && g->subscribed_to(p.topic)) {
      p.error = error_code(kafka_error::group_subscribed_to_topic);
      continue;
    }
    p.error = 0;
    auto t = g->offsets.find(p.topic);
    if (t == g->offsets.end()) continue;
    t->second.erase(p.partition);
    if (t->second.empty()) g->offsets.erase(t);
  }
  return 0;
}

std::int16_t delete_group(cluster_state& s, std::string_view group, time_point) {
  if (s.consumer_groups.find(group)) return delete_consumer_group(s, group);
  group_state* g = s.groups.find(group);
  if (!g) return error_code(kafka_error::group_id_not_found);
  if (g->state != group_phase::empty) return error_code(kafka_error::non_empty_group);
  s.groups.groups.erase(std::string(group));
  return 0;
}

}  // namespace kwire::mockbroker::detail
