// Kafka's topic configs as the mock knows them: name, type, default, valid
// values, the broker config it falls back to, and whether the mock acts on
// it. CreateTopics, AlterConfigs and IncrementalAlterConfigs validate against
// it; DescribeConfigs describes from it. Internal to the core.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker::detail {

struct topic_state;

/// Kafka's ConfigType, as DescribeConfigs v3+ sends it.
enum class config_type : std::int8_t {
  unknown = 0,
  boolean = 1,
  string = 2,
  int32 = 3,
  int16 = 4,
  int64 = 5,
  float64 = 6,
  list = 7,
  class_name = 8,
  password = 9,
};

/// Kafka's ConfigSource, as DescribeConfigs v1+ sends it.
enum class config_source : std::int8_t {
  unknown = 0,
  dynamic_topic = 1,
  dynamic_broker = 2,
  dynamic_default_broker = 3,
  static_broker = 4,
  default_config = 5,
};

/// One topic config of Kafka.
struct topic_config_def {
  std::string_view name;
  config_type type = config_type::string;
  /// Kafka's default, as DescribeConfigs shows it.
  std::string_view default_value;
  /// Numbers: the inclusive range Kafka checks (as the text of its message).
  std::optional<std::int64_t> at_least{};
  std::optional<std::int64_t> at_most{};
  /// Strings and lists: the values Kafka takes, ", "-separated; empty: any.
  std::string_view one_of{};
  /// The broker config a topic without an override falls back to, and its default.
  std::string_view broker_name{};
  std::string_view broker_default{};
};

/// Whether the mock changes behaviour with `def` (max.message.bytes,
/// message.timestamp.type, min.insync.replicas, retention.bytes); the others
/// are only stored and described.
bool acted_on(const topic_config_def& def) noexcept;

/// Every topic config, by name.
std::span<const topic_config_def> topic_config_defs() noexcept;
/// The config named `name`, or nullptr.
const topic_config_def* find_topic_config(std::string_view name) noexcept;

/// The value as the mock stores and describes it (numbers without '+' or
/// blanks, booleans in lower case, lists without blanks around commas), or
/// Kafka's INVALID_CONFIG message naming the config and the value ("Invalid
/// value 2abc for configuration min.insync.replicas: Not a number of type
/// INT", "Unknown topic config name: foo", "Null value not supported for
/// topic configs: NAME").
struct checked_value {
  std::optional<std::string> value;  ///< normalised, when valid
  std::string error;                 ///< Kafka's message, when not
};
checked_value check_topic_config(std::string_view name, const std::optional<std::string>& value);

/// Replaces the overrides of `topic` and sets the settings the mock acts on
/// from them and the cluster's defaults (the caller runs retention again).
void set_topic_overrides(const cluster_config& config, topic_state& topic,
                         std::map<std::string, std::string, std::less<>> overrides);

/// The overrides that a topic_config given to create_topic() amounts to.
std::map<std::string, std::string, std::less<>> overrides_of(const topic_config& cfg);

/// One synonym of a described config.
struct config_synonym {
  std::string name;
  std::optional<std::string> value;
  config_source source = config_source::default_config;
};

/// One config as DescribeConfigs reports it.
struct described_config {
  std::string name;
  std::optional<std::string> value;
  config_source source = config_source::default_config;
  config_type type = config_type::string;
  bool read_only = false;
  bool sensitive = false;
  /// Most specific first: the topic override, then the broker config.
  std::vector<config_synonym> synonyms;
};

/// Every config of `topic`, by name.
std::vector<described_config> describe_topic_configs(const cluster_config& config,
                                                     const topic_state& topic);

/// The configs of broker `broker_id` that clients read, with Kafka's names
/// and the cluster's values (STATIC_BROKER_CONFIG where they differ from
/// Kafka's default).
std::vector<described_config> describe_broker_configs(const cluster_config& config,
                                                      std::int32_t broker_id,
                                                      const std::optional<std::string>& rack);

}  // namespace kwire::mockbroker::detail
