// The producer core's metadata. See metadata.hpp.
#include "kwire/producer/detail/metadata.hpp"

#include <vector>

namespace kwire::detail {

topic_state& cluster_metadata::topic(std::string_view name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), topic_state{}).first;
    // A new topic is asked for at once, not after a backoff meant for errors.
    wanted_ = true;
    backoff_until_ = core_time{};
  }
  return it->second;
}

std::error_code cluster_metadata::want(std::string_view name) {
  topic_state& t = topic(name);
  if (t.error != 0) return make_error_code(static_cast<kafka_error>(t.error));
  if (!t.known || t.partitions.empty()) wanted_ = true;
  return {};
}

bool cluster_metadata::request_due(core_time now) {
  const auto max_age = ctx_.config.metadata_max_age;
  const bool aged = have_ && now >= last_ + max_age;
  if (have_ && !aged) ctx_.note_deadline(last_ + max_age, now);
  if (!(wanted_ || aged) || in_flight_) return false;
  if (now < backoff_until_) {
    ctx_.note_deadline(backoff_until_, now);
    return false;
  }
  return true;
}

metadata_request cluster_metadata::build_request() const {
  metadata_request m;
  m.topics = std::vector<metadata_request::metadata_request_topic>{};
  for (const auto& [name, t] : topics_) {
    metadata_request::metadata_request_topic rt;
    rt.name = name;
    m.topics->push_back(std::move(rt));
  }
  return m;
}

void cluster_metadata::on_request_sent() {
  ++ctx_.metrics.metadata_requests;
  in_flight_ = true;
}

void cluster_metadata::on_response(const metadata_response& m, core_time now) {
  in_flight_ = false;
  last_ = now;
  have_ = true;
  wanted_ = false;
  for (const auto& t : m.topics) {
    if (!t.name) continue;
    auto it = topics_.find(*t.name);
    if (it == topics_.end()) continue;
    topic_state& ts = it->second;
    if (t.error_code != 0) {
      if (is_retriable(t.error_code)) {
        wanted_ = true;
      } else {
        ts.error = t.error_code;
      }
      continue;
    }
    // The partitions are the entries (as Java's client counts them), and
    // their indexes must be exactly 0..count-1. Anything else is a broken
    // answer: not believed, asked again (an index from the wire never
    // sizes an allocation).
    const std::size_t count = t.partitions.size();
    std::vector<bool> seen(count, false);
    bool valid = count > 0;
    for (const auto& p : t.partitions) {
      if (p.partition_index < 0 || static_cast<std::size_t>(p.partition_index) >= count ||
          seen[static_cast<std::size_t>(p.partition_index)]) {
        valid = false;
        break;
      }
      seen[static_cast<std::size_t>(p.partition_index)] = true;
    }
    if (!valid || count < ts.partitions.size()) {
      wanted_ = true;
      continue;
    }
    ts.error = 0;
    ts.known = true;
    while (ts.partitions.size() < count)
      ts.partitions.push_back(std::make_unique<partition_state>(
          *t.name, static_cast<std::int32_t>(ts.partitions.size())));
    for (const auto& p : t.partitions) {
      partition_state& ps = *ts.partitions[static_cast<std::size_t>(p.partition_index)];
      ps.leader = p.error_code == 0 || p.error_code == wire_code(kafka_error::replica_not_available)
                      ? p.leader_id
                      : -1;
      ps.leader_epoch = p.leader_epoch;
      if (ps.leader < 0) wanted_ = true;
    }
  }
  if (wanted_) backoff_until_ = now + ctx_.config.retry_backoff;
}

partition_state* cluster_metadata::find_partition(std::string_view topic, std::int32_t index) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || index < 0 ||
      index >= static_cast<std::int32_t>(it->second.partitions.size()))
    return nullptr;
  return it->second.partitions[static_cast<std::size_t>(index)].get();
}

std::optional<std::int32_t> cluster_metadata::partition_count(std::string_view topic) const {
  auto it = topics_.find(topic);
  if (it == topics_.end() || !it->second.known) return std::nullopt;
  return static_cast<std::int32_t>(it->second.partitions.size());
}

}  // namespace kwire::detail
