// CreateTopics configs: every config the mock knows is parsed whole and
// range-checked; a bad value answers INVALID_CONFIG for its topic, naming
// the config and the value, and creates nothing.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

struct outcome {
  std::int16_t error = 0;
  std::optional<std::string> message;
  bool created = false;
};

outcome create_with(const std::string& name, std::optional<std::string> value,
                    std::int16_t version = 7) {
  harness h;
  create_topics_request req;
  req.topics.push_back({"t", 1, 1, {}, {{name, std::move(value), {}}}, {}});
  auto r = h.call<create_topics_response>(1, req, version);
  REQUIRE(r.topics.size() == 1);
  return {r.topics[0].error_code, r.topics[0].error_message, h.c.topic_id("t").has_value()};
}

void check_refused(const std::string& name, std::optional<std::string> value,
                   const std::string& message) {
  INFO(name << "=" << value.value_or("null"));
  const auto r = create_with(name, value);
  CHECK(r.error == ec(kafka_error::invalid_config));
  CHECK(r.message == std::optional<std::string>(message));
  CHECK_FALSE(r.created);
}

}  // namespace

TEST_CASE(
    "CreateTopics refuses config values that do not parse or are out of range, naming config and "
    "value") {
  check_refused(
      "min.insync.replicas", "70000",
      "Invalid value 70000 for configuration min.insync.replicas: Value must be at most 32767");
  check_refused(
      "min.insync.replicas", "2abc",
      "Invalid value 2abc for configuration min.insync.replicas: Not a number of type INT");
  check_refused("min.insync.replicas", "0",
                "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1");
  check_refused("min.insync.replicas", "-3",
                "Invalid value -3 for configuration min.insync.replicas: Value must be at least 1");
  check_refused(
      "min.insync.replicas", "99999999999",
      "Invalid value 99999999999 for configuration min.insync.replicas: Not a number of type INT");
  check_refused("min.insync.replicas", "",
                "Invalid value  for configuration min.insync.replicas: Not a number of type INT");
  check_refused("retention.bytes", "12x",
                "Invalid value 12x for configuration retention.bytes: Not a number of type LONG");
  check_refused("retention.bytes", "99999999999999999999",
                "Invalid value 99999999999999999999 for configuration retention.bytes: Not a "
                "number of type LONG");
  check_refused("retention.bytes", "1.5",
                "Invalid value 1.5 for configuration retention.bytes: Not a number of type LONG");
  check_refused(
      "message.timestamp.type", "WallClock",
      "Invalid value WallClock for configuration message.timestamp.type: String must be one of: "
      "CreateTime, LogAppendTime");
  check_refused("min.insync.replicas", std::nullopt,
                "Null value not supported for topic configs: min.insync.replicas");
  // Names Kafka does not know are refused, as Kafka's topic config check does.
  check_refused("retention.days", "1", "Unknown topic config name: retention.days");
  check_refused("max.message.bytes", "-1",
                "Invalid value -1 for configuration max.message.bytes: Value must be at least 0");
  check_refused("compression.type", "brotli",
                "Invalid value brotli for configuration compression.type: String must be one of: "
                "uncompressed, zstd, lz4, snappy, gzip, producer");
}

TEST_CASE("CreateTopics with validate_only checks configs and creates nothing") {
  harness h;
  create_topics_request req;
  req.topics.push_back({"t", 1, 1, {}, {{"segment.bytes", "1", {}}}, {}});
  req.topics.push_back({"u", 1, 1, {}, {{"retention.ms", "1000", {}}}, {}});
  req.validate_only = true;
  auto r = h.call<create_topics_response>(1, req, 5);
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[0].error_code == ec(kafka_error::invalid_config));
  CHECK(r.topics[1].error_code == 0);
  bool shown = false;
  for (const auto& c : r.topics[1].configs.value())
    if (c.name == "retention.ms") shown = c.value == std::optional<std::string>("1000");
  CHECK(shown);
  CHECK(h.c.topics().empty());
}

TEST_CASE(
    "CreateTopics applies good config values, trimmed as Kafka trims them; every Kafka topic "
    "config is taken") {
  harness h;
  create_topics_request req;
  req.topics.push_back(
      {"a", 1, 3, {}, {{"min.insync.replicas", " 2 ", {}}, {"retention.bytes", "-1", {}}}, {}});
  req.topics.push_back(
      {"b",
       1,
       3,
       {},
       {{"message.timestamp.type", "LogAppendTime", {}}, {"cleanup.policy", "compact", {}}},
       {}});
  req.topics.push_back(
      {"c",
       1,
       3,
       {},
       {{"min.insync.replicas", "+3", {}}, {"retention.bytes", "9223372036854775807", {}}},
       {}});
  auto r = h.call<create_topics_response>(1, req, 5);
  REQUIRE(r.topics.size() == 3);
  for (const auto& t : r.topics) CHECK(t.error_code == 0);
  auto config_of = [&](std::size_t topic, const std::string& name) {
    for (const auto& c : r.topics[topic].configs.value())
      if (c.name == name) return c.value;
    return std::optional<std::string>();
  };
  CHECK(config_of(0, "min.insync.replicas") == std::optional<std::string>("2"));
  CHECK(config_of(1, "message.timestamp.type") == std::optional<std::string>("LogAppendTime"));
  CHECK(config_of(2, "min.insync.replicas") == std::optional<std::string>("3"));
  // min.insync.replicas 2 took effect: acks=-1 needs two in the ISR.
  const auto leader = h.leader("a");
  const std::int32_t other = h.c.partition("a", 0)->isr.back() == leader
                                 ? h.c.partition("a", 0)->isr.front()
                                 : h.c.partition("a", 0)->isr.back();
  REQUIRE(h.c.set_isr("a", 0, {leader}));
  CHECK(h.produce(leader, "a", 0, make_batch({"x"})).error_code ==
        ec(kafka_error::not_enough_replicas));
  REQUIRE(h.c.grow_isr("a", 0, other));
  CHECK(h.produce(leader, "a", 0, make_batch({"x"})).error_code == 0);
}

TEST_CASE("A bad config fails its own topic only, at every CreateTopics version") {
  for (std::int16_t v = 0; v <= create_topics_request::max_version; ++v) {
    INFO("v" << v);
    harness h;
    create_topics_request req;
    req.topics.push_back({"bad", 1, 1, {}, {{"min.insync.replicas", "70000", {}}}, {}});
    req.topics.push_back({"good", 1, 1, {}, {{"min.insync.replicas", "1", {}}}, {}});
    auto r = h.call<create_topics_response>(1, req, v);
    REQUIRE(r.topics.size() == 2);
    CHECK(r.topics[0].error_code == ec(kafka_error::invalid_config));
    if (v >= 1) CHECK(r.topics[0].error_message.value_or("").find("70000") != std::string::npos);
    CHECK(r.topics[1].error_code == 0);
    CHECK(h.c.topics() == std::vector<std::string>{"good"});
  }
}
