// The broker configs DescribeConfigs reports for a broker resource: the ones
// clients and test setups read, with Kafka's names and defaults, valued from
// the cluster's config.
#include <string>

#include "topic_config_model.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// One broker config: its value in this cluster and Kafka's default.
struct broker_entry {
  std::string name;
  config_type type;
  std::optional<std::string> value;
  std::optional<std::string> kafka_default;
  /// Kafka cannot change it without a restart.
  bool read_only;
};

/// A config Kafka can change only with a restart (read-only to DescribeConfigs).
broker_entry fixed(std::string name, config_type type, std::optional<std::string> value,
                   std::optional<std::string> kafka_default) {
  return {std::move(name), type, std::move(value), std::move(kafka_default), true};
}

std::string text(bool b) { return b ? "true" : "false"; }

}  // namespace

std::vector<described_config> describe_broker_configs(const cluster_config& c,
                                                      std::int32_t broker_id,
                                                      const std::optional<std::string>& rack) {
  using T = config_type;
  using std::to_string;
  const std::string retention_bytes = c.retention_bytes > 0 ? to_string(c.retention_bytes) : "-1";
  const std::vector<broker_entry> entries{
      fixed("auto.create.topics.enable", T::boolean, text(c.auto_create_topics), "true"),
      fixed("broker.id", T::int32, to_string(broker_id), "-1"),
      fixed("broker.rack", T::string, rack, std::nullopt),
      broker_entry{"compression.type", T::string, "producer", "producer", false},
      fixed("default.replication.factor", T::int32, to_string(c.default_replication_factor), "1"),
      fixed("delete.topic.enable", T::boolean, "true", "true"),
      fixed("group.consumer.heartbeat.interval.ms", T::int32,
            to_string(c.group_consumer_heartbeat_interval_ms), "5000"),
      fixed("group.consumer.session.timeout.ms", T::int32,
            to_string(c.group_consumer_session_timeout_ms), "45000"),
      fixed("group.initial.rebalance.delay.ms", T::int32,
            to_string(c.group_initial_rebalance_delay_ms), "3000"),
      fixed("group.max.session.timeout.ms", T::int32, to_string(c.group_max_session_timeout_ms),
            "1800000"),
      fixed("group.min.session.timeout.ms", T::int32, to_string(c.group_min_session_timeout_ms),
            "6000"),
      broker_entry{"log.cleanup.policy", T::list, "delete", "delete", false},
      broker_entry{"log.message.timestamp.type", T::string, "CreateTime", "CreateTime", false},
      broker_entry{"log.retention.bytes", T::int64, retention_bytes, "-1", false},
      fixed("log.retention.hours", T::int32, "168", "168"),
      broker_entry{"log.segment.bytes", T::int32, "1073741824", "1073741824", false},
      broker_entry{"message.max.bytes", T::int32, "1048588", "1048588", false},
      broker_entry{"min.insync.replicas", T::int32, to_string(c.min_insync_replicas), "1", false},
      fixed("num.partitions", T::int32, to_string(c.default_partitions), "1"),
      fixed("offset.metadata.max.bytes", T::int32, to_string(c.offset_metadata_max_bytes), "4096"),
      fixed("offsets.topic.replication.factor", T::int16, "3", "3"),
      fixed("transaction.state.log.replication.factor", T::int16, "3", "3"),
      broker_entry{"unclean.leader.election.enable", T::boolean, "false", "false", false},
  };
  std::vector<described_config> out;
  for (const auto& e : entries) {
    described_config d;
    d.name = e.name;
    d.type = e.type;
    d.value = e.value;
    d.read_only = e.read_only;
    d.source =
        e.value == e.kafka_default ? config_source::default_config : config_source::static_broker;
    d.synonyms.push_back({e.name, e.value, d.source});
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace kwire::mockbroker::detail
