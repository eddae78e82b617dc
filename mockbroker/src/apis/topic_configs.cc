// CreateTopics configs: each checked against the topic config model, the
// first bad one refusing the topic.
#include "topic_configs.hpp"

#include "../topic_config_model.hpp"

namespace kwire::mockbroker::detail {

create_topic_overrides check_create_topic_configs(
    std::span<const create_topics_request::creatable_topic_config> configs) {
  create_topic_overrides out;
  for (const auto& c : configs) {
    checked_value checked = check_topic_config(c.name, c.value);
    if (!checked.value) {
      out.error = std::move(checked.error);
      return out;
    }
    out.overrides[c.name] = std::move(*checked.value);
  }
  return out;
}

}  // namespace kwire::mockbroker::detail
