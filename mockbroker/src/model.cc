// The model of the cluster core: finding brokers, topics and partitions,
// creating topics, allocating producer ids, retention.
#include <algorithm>
#include <limits>

#include "state.hpp"
#include "topic_config_model.hpp"

namespace kwire::mockbroker::detail {

bool valid_topic_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::int32_t add_sequence(std::int32_t first, std::int64_t delta) noexcept {
  const std::int64_t wrap = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  return static_cast<std::int32_t>((std::int64_t{first} + delta) % wrap);
}

cluster_state::cluster_state(cluster_config c)
    : config(std::move(c)),
      id_random(config.seed ^ 0x9e3779b97f4a7c15ULL),
      groups(config.seed),
      consumer_groups(config.seed) {
  check_cluster_config(config);
  if (config.broker_count < 1) config.broker_count = 1;
  for (int i = 0; i < config.broker_count; ++i) {
    broker_state b;
    b.id = i + 1;
    b.host = config.host;
    b.port = static_cast<std::size_t>(i) < config.ports.size()
                 ? config.ports[static_cast<std::size_t>(i)]
                 : config.first_port + i;
    if (static_cast<std::size_t>(i) < config.racks.size())
      b.rack = config.racks[static_cast<std::size_t>(i)];
    brokers.push_back(std::move(b));
  }
}

broker_state* cluster_state::find_broker(std::int32_t id) {
  for (auto& b : brokers)
    if (b.id == id) return &b;
  return nullptr;
}

const broker_state* cluster_state::find_broker(std::int32_t id) const {
  for (const auto& b : brokers)
    if (b.id == id) return &b;
  return nullptr;
}

topic_state* cluster_state::find_topic(std::string_view name) {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

const topic_state* cluster_state::find_topic(std::string_view name) const {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

topic_state* cluster_state::find_topic_by_id(const uuid& id) {
  for (auto& [name, t] : topics)
    if (t.id == id) return &t;
  return nullptr;
}

const topic_state* cluster_state::find_topic_by_id(const uuid& id) const {
  for (const auto& [name, t] : topics)
    if (t.id == id) return &t;
  return nullptr;
}

partition_state* cluster_state::find_partition(std::string_view topic, std::int32_t partition) {
  topic_state* t = find_topic(topic);
  if (!t || partition < 0 || static_cast<std::size_t>(partition) >= t->partitions.size())
    return nullptr;
  return &t->partitions[static_cast<std::size_t>(partition)];
}

std::int32_t cluster_state::live_broker_count() const {
  return static_cast<std::int32_t>(
      std::count_if(brokers.begin(), brokers.end(), [](auto& b) { return b.up; }));
}

std::int32_t cluster_state::controller_id() const {
  for (const auto& b : brokers)
    if (b.up) return b.id;
  return -1;
}

kafka_error cluster_state::create_topic(std::string_view name, const topic_config& cfg,
                                        bool validate_only, topic_state** created) {
  if (!valid_topic_name(name)) return kafka_error::invalid_topic_exception;
  if (find_topic(name)) return kafka_error::topic_already_exists;
  const auto broker_count = static_cast<std::int32_t>(brokers.size());
  std::vector<std::vector<std::int32_t>> assignment = cfg.assignments;
  if (assignment.empty()) {
    const std::int32_t partitions =
        cfg.partitions == -1 ? config.default_partitions : cfg.partitions;
    if (partitions <= 0) return kafka_error::invalid_partitions;
    std::int32_t replicas = cfg.replication_factor;
    if (replicas == -1)
      replicas = std::min<std::int32_t>(config.default_replication_factor, broker_count);
    if (replicas <= 0 || replicas > broker_count) return kafka_error::invalid_replication_factor;
    // Round robin from a start that moves with the topic count, as Kafka spreads leaders.
    const auto start = static_cast<std::int32_t>(topics.size());
    for (std::int32_t p = 0; p < partitions; ++p) {
      std::vector<std::int32_t> r;
      for (std::int32_t k = 0; k < replicas; ++k)
        r.push_back(brokers[static_cast<std::size_t>((start + p + k) % broker_count)].id);
      assignment.push_back(std::move(r));
    }
  } else {
    for (const auto& r : assignment) {
      if (r.empty()) return kafka_error::invalid_replica_assignment;
      for (auto id : r)
        if (!find_broker(id) || std::count(r.begin(), r.end(), id) != 1)
          return kafka_error::invalid_replica_assignment;
    }
  }
  if (validate_only) return kafka_error::none;
  topic_state t;
  t.name = std::string(name);
  for (auto& byte : t.id) byte = static_cast<std::uint8_t>(id_random());
  set_topic_overrides(config, t, overrides_of(cfg));
  t.retention_records =
      cfg.retention_records == 0 ? config.retention_records : cfg.retention_records;
  for (std::size_t p = 0; p < assignment.size(); ++p) {
    partition_state ps;
    ps.index = static_cast<std::int32_t>(p);
    ps.replicas = assignment[p];
    for (auto id : ps.replicas)
      if (find_broker(id)->up) ps.isr.push_back(id);
    if (ps.isr.empty()) ps.isr.push_back(ps.replicas.front());
    ps.leader = find_broker(ps.isr.front())->up ? ps.isr.front() : -1;
    t.partitions.push_back(std::move(ps));
  }
  auto [it, inserted] = topics.emplace(t.name, std::move(t));
  if (created) *created = &it->second;
  return kafka_error::none;
}

std::pair<std::int64_t, std::int16_t> cluster_state::allocate_producer_id() {
  const std::int64_t id = next_producer_id++;
  producers[id] = 0;
  return {id, 0};
}

void cluster_state::apply_retention(topic_state& topic, partition_state& p) {
  auto over = [&] {
    if (topic.retention_bytes > 0 && p.bytes > static_cast<std::size_t>(topic.retention_bytes))
      return true;
    return topic.retention_records > 0 && p.records() > topic.retention_records;
  };
  while (p.log.size() > 1 && over()) {
    p.bytes -= p.log.front().bytes.size();
    p.log.pop_front();
    // DeleteRecords may have put the start inside the new first batch.
    p.log_start = std::max(p.log_start, p.log.front().base_offset);
  }
}

}  // namespace kwire::mockbroker::detail

namespace kwire::mockbroker::detail {

kafka_error cluster_state::create_partitions(
    topic_state& topic, std::int32_t total,
    const std::vector<std::vector<std::int32_t>>* assignments, bool validate_only,
    std::string& message) {
  const auto current = static_cast<std::int32_t>(topic.partitions.size());
  if (total < current) {
    message = "Topic currently has " + std::to_string(current) +
              " partitions, which is higher than the requested " + std::to_string(total) + ".";
    return kafka_error::invalid_partitions;
  }
  if (total == current) {
    message = "Topic already has " + std::to_string(current) + " partitions.";
    return kafka_error::invalid_partitions;
  }
  const auto replicas = static_cast<std::int32_t>(topic.partitions.front().replicas.size());
  std::vector<std::vector<std::int32_t>> placed;
  if (assignments) {
    if (static_cast<std::int32_t>(assignments->size()) != total - current) {
      message = "Increasing the number of partitions by " + std::to_string(total - current) +
                " but " + std::to_string(assignments->size()) + " assignments provided.";
      return kafka_error::invalid_replica_assignment;
    }
    for (std::size_t i = 0; i < assignments->size(); ++i) {
      const auto& r = (*assignments)[i];
      const std::string partition = std::to_string(current + static_cast<std::int32_t>(i));
      for (auto id : r) {
        if (!find_broker(id)) {
          message = "Unknown broker(s) in replica assignment: " + std::to_string(id) + ".";
          return kafka_error::invalid_replica_assignment;
        }
        if (std::count(r.begin(), r.end(), id) != 1) {
          message = "Duplicate brokers not allowed in replica assignment for partition id " +
                    partition + ".";
          return kafka_error::invalid_replica_assignment;
        }
      }
      if (static_cast<std::int32_t>(r.size()) != replicas) {
        message = "Inconsistent replication factor between partitions, partition 0 has " +
                  std::to_string(replicas) + " while partition " + partition + " has " +
                  std::to_string(r.size()) + ".";
        return kafka_error::invalid_replica_assignment;
      }
    }
    placed = *assignments;
  } else {
    const auto broker_count = static_cast<std::int32_t>(brokers.size());
    for (std::int32_t p = current; p < total; ++p) {
      std::vector<std::int32_t> r;
      for (std::int32_t k = 0; k < replicas; ++k)
        r.push_back(brokers[static_cast<std::size_t>((p + k) % broker_count)].id);
      placed.push_back(std::move(r));
    }
  }
  if (validate_only) return kafka_error::none;
  for (auto& r : placed) {
    partition_state ps;
    ps.index = static_cast<std::int32_t>(topic.partitions.size());
    ps.replicas = std::move(r);
    for (auto id : ps.replicas)
      if (find_broker(id)->up) ps.isr.push_back(id);
    if (ps.isr.empty()) ps.isr.push_back(ps.replicas.front());
    ps.leader = find_broker(ps.isr.front())->up ? ps.isr.front() : -1;
    topic.partitions.push_back(std::move(ps));
  }
  return kafka_error::none;
}

}  // namespace kwire::mockbroker::detail
