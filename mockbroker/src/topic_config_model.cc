// Kafka's topic configs: the table, the checks of a value against it
// (parsed whole after trimming, as Kafka's ConfigDef parses), the overrides
// of a topic and how the mock acts on them, and their description.
#include "topic_config_model.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "state.hpp"

namespace kwire::mockbroker::detail {
namespace {

constexpr std::int64_t int_max = std::numeric_limits<std::int32_t>::max();
/// The mock keeps min.insync.replicas, like replication factors, as an int16.
constexpr std::int64_t int16_max = std::numeric_limits<std::int16_t>::max();

using T = config_type;

// Kafka 3.x LogConfig: names, types, defaults, ranges and valid values.
constexpr topic_config_def defs[] = {
    {"cleanup.policy",
     T::list,
     "delete",
     {},
     {},
     "compact, delete",
     "log.cleanup.policy",
     "delete"},
    {"compression.type",
     T::string,
     "producer",
     {},
     {},
     "uncompressed, zstd, lz4, snappy, gzip, producer",
     "compression.type",
     "producer"},
    {"delete.retention.ms",
     T::int64,
     "86400000",
     0,
     {},
     {},
     "log.cleaner.delete.retention.ms",
     "86400000"},
    {"file.delete.delay.ms", T::int64, "60000", 0, {}, {}, "log.segment.delete.delay.ms", "60000"},
    {"flush.messages",
     T::int64,
     "9223372036854775807",
     1,
     {},
     {},
     "log.flush.interval.messages",
     "9223372036854775807"},
    {"flush.ms",
     T::int64,
     "9223372036854775807",
     0,
     {},
     {},
     "log.flush.scheduler.interval.ms",
     "9223372036854775807"},
    {"follower.replication.throttled.replicas",
     T::list,
     "",
     {},
     {},
     {},
     "follower.replication.throttled.replicas",
     ""},
    {"index.interval.bytes", T::int32, "4096", 0, {}, {}, "log.index.interval.bytes", "4096"},
    {"leader.replication.throttled.replicas",
     T::list,
     "",
     {},
     {},
     {},
     "leader.replication.throttled.replicas",
     ""},
    {"local.retention.bytes", T::int64, "-2", -2, {}, {}, "log.local.retention.bytes", "-2"},
    {"local.retention.ms", T::int64, "-2", -2, {}, {}, "log.local.retention.ms", "-2"},
    {"max.compaction.lag.ms",
     T::int64,
     "9223372036854775807",
     1,
     {},
     {},
     "log.cleaner.max.compaction.lag.ms",
     "9223372036854775807"},
    {"max.message.bytes", T::int32, "1048588", 0, {}, {}, "message.max.bytes", "1048588"},
    {"message.downconversion.enable",
     T::boolean,
     "true",
     {},
     {},
     {},
     "log.message.downconversion.enable",
     "true"},
    {"message.format.version",
     T::string,
     "3.0-IV1",
     {},
     {},
     {},
     "log.message.format.version",
     "3.0-IV1"},
    {"message.timestamp.difference.max.ms",
     T::int64,
     "9223372036854775807",
     0,
     {},
     {},
     "log.message.timestamp.difference.max.ms",
     "9223372036854775807"},
    {"message.timestamp.type",
     T::string,
     "CreateTime",
     {},
     {},
     "CreateTime, LogAppendTime",
     "log.message.timestamp.type",
     "CreateTime"},
    {"min.cleanable.dirty.ratio",
     T::float64,
     "0.5",
     0,
     1,
     {},
     "log.cleaner.min.cleanable.ratio",
     "0.5"},
    {"min.compaction.lag.ms", T::int64, "0", 0, {}, {}, "log.cleaner.min.compaction.lag.ms", "0"},
    {"min.insync.replicas", T::int32, "1", 1, int16_max, {}, "min.insync.replicas", "1"},
    {"preallocate", T::boolean, "false", {}, {}, {}, "log.preallocate", "false"},
    {"remote.storage.enable", T::boolean, "false", {}, {}, {}, {}, {}},
    {"retention.bytes", T::int64, "-1", {}, {}, {}, "log.retention.bytes", "-1"},
    {"retention.ms", T::int64, "604800000", -1, {}, {}, "log.retention.hours", "168"},
    {"segment.bytes", T::int32, "1073741824", 14, {}, {}, "log.segment.bytes", "1073741824"},
    {"segment.index.bytes",
     T::int32,
     "10485760",
     4,
     {},
     {},
     "log.index.size.max.bytes",
     "10485760"},
    {"segment.jitter.ms", T::int64, "0", 0, {}, {}, "log.roll.jitter.hours", "0"},
    {"segment.ms", T::int64, "604800000", 1, {}, {}, "log.roll.hours", "168"},
    {"unclean.leader.election.enable",
     T::boolean,
     "false",
     {},
     {},
     {},
     "unclean.leader.election.enable",
     "false"},
};

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

/// The whole of `text` as an integer of type I, or nullopt (empty, junk
/// after the digits, or outside I). A leading '+' is taken, as Java does.
template <class I>
std::optional<I> parse_integer(std::string_view text) {
  text = trim(text);
  if (text.size() > 1 && text.front() == '+' && text[1] != '-') text.remove_prefix(1);
  I value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  text = trim(text);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string invalid(std::string_view name, std::string_view value, std::string_view why) {
  return "Invalid value " + std::string(value) + " for configuration " + std::string(name) + ": " +
         std::string(why);
}

bool one_of(std::string_view list, std::string_view value) {
  while (!list.empty()) {
    const auto comma = list.find(", ");
    if (list.substr(0, comma) == value) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 2);
  }
  return false;
}

/// A number checked against the def's range; the message names Kafka's bound.
checked_value check_number(const topic_config_def& d, std::string_view value, std::int64_t n) {
  if (d.at_least && n < *d.at_least)
    return {std::nullopt,
            invalid(d.name, value, "Value must be at least " + std::to_string(*d.at_least))};
  if (d.at_most && n > *d.at_most) {
    // min.insync.replicas: Kafka takes any int; the mock's cap says so plainly.
    const char* why =
        *d.at_most == int16_max ? "Value must be at most " : "Value must be no more than ";
    return {std::nullopt, invalid(d.name, value, why + std::to_string(*d.at_most))};
  }
  return {std::to_string(n), {}};
}

checked_value check_value(const topic_config_def& d, std::string_view value) {
  switch (d.type) {
    case T::int32:
    case T::int16: {
      const auto n = parse_integer<std::int32_t>(value);
      if (!n) return {std::nullopt, invalid(d.name, value, "Not a number of type INT")};
      return check_number(d, value, *n);
    }
    case T::int64: {
      const auto n = parse_integer<std::int64_t>(value);
      if (!n) return {std::nullopt, invalid(d.name, value, "Not a number of type LONG")};
      return check_number(d, value, *n);
    }
    case T::float64: {
      const auto x = parse_double(value);
      if (!x) return {std::nullopt, invalid(d.name, value, "Not a number of type DOUBLE")};
      if (d.at_least && *x < static_cast<double>(*d.at_least))
        return {std::nullopt,
                invalid(d.name, value, "Value must be at least " + std::to_string(*d.at_least))};
      if (d.at_most && *x > static_cast<double>(*d.at_most))
        return {std::nullopt,
                invalid(d.name, value, "Value must be no more than " + std::to_string(*d.at_most))};
      return {std::string(trim(value)), {}};
    }
    case T::boolean: {
      std::string v(trim(value));
      std::transform(v.begin(), v.end(), v.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (v != "true" && v != "false")
        return {std::nullopt, invalid(d.name, value, "Expected value to be either true or false")};
      return {v, {}};
    }
    case T::list: {
      // Elements trimmed, empty ones dropped, each checked against the valid values.
      std::string joined;
      std::string_view rest = value;
      while (true) {
        const auto comma = rest.find(',');
        const std::string_view item = trim(rest.substr(0, comma));
        if (!item.empty()) {
          if (!d.one_of.empty() && !one_of(d.one_of, item))
            return {std::nullopt,
                    invalid(d.name, item, "String must be one of: " + std::string(d.one_of))};
          if (!joined.empty()) joined += ',';
          joined += item;
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      return {joined, {}};
    }
    default: {
      const std::string_view v = trim(value);
      if (!d.one_of.empty() && !one_of(d.one_of, v))
        return {std::nullopt,
                invalid(d.name, value, "String must be one of: " + std::string(d.one_of))};
      return {std::string(v), {}};
    }
  }
}

std::string default_retention_bytes(const cluster_config& c) {
  return c.retention_bytes > 0 ? std::to_string(c.retention_bytes) : "-1";
}

/// The value a topic without an override has: the cluster's, where the mock
/// has a setting for it, else Kafka's default.
std::string fallback_value(const cluster_config& c, const topic_config_def& d) {
  if (d.name == "retention.bytes") return default_retention_bytes(c);
  if (d.name == "min.insync.replicas") return std::to_string(c.min_insync_replicas);
  return std::string(d.default_value);
}

}  // namespace

std::span<const topic_config_def> topic_config_defs() noexcept { return defs; }

bool acted_on(const topic_config_def& def) noexcept {
  return def.name == "max.message.bytes" || def.name == "message.timestamp.type" ||
         def.name == "min.insync.replicas" || def.name == "retention.bytes";
}

const topic_config_def* find_topic_config(std::string_view name) noexcept {
  for (const auto& d : defs)
    if (d.name == name) return &d;
  return nullptr;
}

checked_value check_topic_config(std::string_view name, const std::optional<std::string>& value) {
  const topic_config_def* d = find_topic_config(name);
  if (!d) return {std::nullopt, "Unknown topic config name: " + std::string(name)};
  if (!value)
    return {std::nullopt, "Null value not supported for topic configs: " + std::string(name)};
  return check_value(*d, *value);
}

void set_topic_overrides(const cluster_config& config, topic_state& topic,
                         std::map<std::string, std::string, std::less<>> overrides) {
  topic.config_overrides = std::move(overrides);
  auto value_of = [&](std::string_view name) {
    auto it = topic.config_overrides.find(name);
    return it != topic.config_overrides.end() ? it->second
                                              : fallback_value(config, *find_topic_config(name));
  };
  // The values were checked when they were stored.
  topic.log_append_time = value_of("message.timestamp.type") == "LogAppendTime";
  topic.min_insync_replicas = static_cast<std::int16_t>(
      parse_integer<std::int32_t>(value_of("min.insync.replicas")).value_or(1));
  topic.retention_bytes = parse_integer<std::int64_t>(value_of("retention.bytes")).value_or(-1);
  topic.max_message_bytes = static_cast<std::int32_t>(std::min<std::int64_t>(
      parse_integer<std::int64_t>(value_of("max.message.bytes")).value_or(0), int_max));
}

std::map<std::string, std::string, std::less<>> overrides_of(const topic_config& cfg) {
  std::map<std::string, std::string, std::less<>> out;
  if (cfg.log_append_time) out["message.timestamp.type"] = "LogAppendTime";
  if (cfg.min_insync_replicas > 0)
    out["min.insync.replicas"] = std::to_string(cfg.min_insync_replicas);
  if (cfg.retention_bytes != 0)
    out["retention.bytes"] = std::to_string(cfg.retention_bytes < 0 ? -1 : cfg.retention_bytes);
  return out;
}

std::vector<described_config> describe_topic_configs(const cluster_config& config,
                                                     const topic_state& topic) {
  std::vector<described_config> out;
  for (const auto& d : defs) {
    described_config c;
    c.name = std::string(d.name);
    c.type = d.type;
    const std::string fallback = fallback_value(config, d);
    const bool from_broker = fallback != d.default_value;
    if (auto it = topic.config_overrides.find(d.name); it != topic.config_overrides.end()) {
      c.value = it->second;
      c.source = config_source::dynamic_topic;
      c.synonyms.push_back({c.name, it->second, config_source::dynamic_topic});
    } else {
      c.value = fallback;
      c.source = from_broker ? config_source::static_broker : config_source::default_config;
    }
    if (!d.broker_name.empty())
      c.synonyms.push_back(
          {std::string(d.broker_name), from_broker ? fallback : std::string(d.broker_default),
           from_broker ? config_source::static_broker : config_source::default_config});
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace kwire::mockbroker::detail
