// The topic configs CreateTopics knows, parsed with range checks. Internal
// to the CreateTopics handler.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {

/// Applies the configs of one CreateTopics topic onto `cfg`: the known ones
/// are message.timestamp.type (CreateTime or LogAppendTime),
/// min.insync.replicas (1..32767) and retention.bytes (any int64); others are
/// accepted and ignored. Returns nullopt, or for the first value that does
/// not parse or is out of range the message Kafka gives with INVALID_CONFIG,
/// naming the config and the value ("Invalid value 2abc for configuration
/// min.insync.replicas: Not a number of type INT").
std::optional<std::string> apply_topic_configs(
    std::span<const create_topics_request::creatable_topic_config> configs, topic_config& cfg);

}  // namespace kwire::mockbroker::detail
