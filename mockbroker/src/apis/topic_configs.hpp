// The configs of one CreateTopics topic, checked against the topic config
// model (../topic_config_model.hpp). Internal to the CreateTopics handler.
#pragma once

#include <map>
#include <span>
#include <string>

#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {

/// The overrides a CreateTopics topic asks for, normalised, or for the first
/// config that is unknown, null, does not parse or is out of range the
/// message Kafka gives with INVALID_CONFIG, naming the config and the value
/// ("Invalid value 2abc for configuration min.insync.replicas: Not a number
/// of type INT").
struct create_topic_overrides {
  std::map<std::string, std::string, std::less<>> overrides;
  std::string error;  ///< non-empty: refused
};
create_topic_overrides check_create_topic_configs(
    std::span<const create_topics_request::creatable_topic_config> configs);

}  // namespace kwire::mockbroker::detail
