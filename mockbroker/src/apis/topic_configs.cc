// CreateTopics configs: each known config with its type and range, parsed
// with std::from_chars over the whole value (as Kafka parses with
// Integer.parseInt / Long.parseLong after trimming), never wrapping.
#include "topic_configs.hpp"

#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <string_view>

namespace kwire::mockbroker::detail {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

/// The whole of `text` as an integer of type T, or nullopt (empty, junk
/// after the digits, or outside T). A leading '+' is taken, as Java does.
template <class T>
std::optional<T> parse_integer(std::string_view text) {
  text = trim(text);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string invalid(std::string_view name, std::string_view value, std::string_view why) {
  return "Invalid value " + std::string(value) + " for configuration " + std::string(name) + ": " +
         std::string(why);
}

/// One known config: how to apply its (non-null) value, or why it is refused.
struct known_config {
  std::string_view name;
  std::optional<std::string> (*apply)(std::string_view name, std::string_view value,
                                      topic_config& cfg);
};

std::optional<std::string> timestamp_type(std::string_view name, std::string_view value,
                                          topic_config& cfg) {
  const std::string_view v = trim(value);
  if (v == "CreateTime")
    cfg.log_append_time = false;
  else if (v == "LogAppendTime")
    cfg.log_append_time = true;
  else
    return invalid(name, value, "String must be one of: CreateTime, LogAppendTime");
  return std::nullopt;
}

std::optional<std::string> min_insync_replicas(std::string_view name, std::string_view value,
                                               topic_config& cfg) {
  const auto n = parse_integer<std::int32_t>(value);
  if (!n) return invalid(name, value, "Not a number of type INT");
  if (*n < 1) return invalid(name, value, "Value must be at least 1");
  // Kafka takes any int; the mock keeps it (like replication factors) as an int16.
  if (*n > std::numeric_limits<std::int16_t>::max())
    return invalid(name, value, "Value must be at most 32767");
  cfg.min_insync_replicas = static_cast<std::int16_t>(*n);
  return std::nullopt;
}

std::optional<std::string> retention_bytes(std::string_view name, std::string_view value,
                                           topic_config& cfg) {
  const auto n = parse_integer<std::int64_t>(value);
  if (!n) return invalid(name, value, "Not a number of type LONG");
  cfg.retention_bytes = *n;
  return std::nullopt;
}

constexpr known_config known[] = {
    {"message.timestamp.type", timestamp_type},
    {"min.insync.replicas", min_insync_replicas},
    {"retention.bytes", retention_bytes},
};

}  // namespace

std::optional<std::string> apply_topic_configs(
    std::span<const create_topics_request::creatable_topic_config> configs, topic_config& cfg) {
  for (const auto& c : configs) {
    for (const auto& k : known) {
      if (k.name != c.name) continue;
      if (!c.value) return "Null value not supported for topic configs: " + c.name;
      if (auto error = k.apply(k.name, *c.value, cfg)) return error;
    }
  }
  return std::nullopt;
}

}  // namespace kwire::mockbroker::detail
