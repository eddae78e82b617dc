// What DescribeConfigs, AlterConfigs and IncrementalAlterConfigs share:
// the resource types and finding the resource a request names. Internal to
// their handlers (describe_configs.cc, alter_configs.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "../state.hpp"

namespace kwire::mockbroker::detail {

/// Kafka's ConfigResource.Type codes.
inline constexpr std::int8_t topic_resource = 2;
inline constexpr std::int8_t broker_resource = 4;
inline constexpr std::int8_t broker_logger_resource = 8;

/// Why a resource cannot be served: Kafka's error code and message.
struct resource_error {
  kafka_error error = kafka_error::none;
  std::string message;
};

/// The topic named by a TOPIC resource, or why not (UNKNOWN_TOPIC_OR_PARTITION,
/// INVALID_TOPIC_EXCEPTION, with Kafka's messages).
inline topic_state* find_config_topic(cluster_state& s, std::string_view name,
                                      resource_error& why) {
  if (!valid_topic_name(name)) {
    why = {kafka_error::invalid_topic_exception,
           "Topic name '" + std::string(name) + "' is illegal"};
    return nullptr;
  }
  topic_state* t = s.find_topic(name);
  if (!t)
    why = {kafka_error::unknown_topic_or_partition,
           "The topic '" + std::string(name) + "' does not exist."};
  return t;
}

/// A resource type the mock does not serve configs of.
inline resource_error unknown_resource_type(std::int8_t type) {
  return {kafka_error::invalid_request,
          "Unsupported resource type " + std::to_string(static_cast<int>(type))};
}

}  // namespace kwire::mockbroker::detail
