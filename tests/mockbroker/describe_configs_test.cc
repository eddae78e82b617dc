// DescribeConfigs: a topic's every config with its value and source, the
// overrides from CreateTopics, synonyms, config types, broker configs, and
// Kafka's errors for unknown topics and resource types.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

using entry = describe_configs_response::describe_configs_resource_result;

void create(harness& h, const std::string& topic,
            std::vector<create_topics_request::creatable_topic_config> configs) {
  create_topics_request req;
  req.topics.push_back({topic, 2, 1, {}, std::move(configs), {}});
  auto r = h.call<create_topics_response>(1, req, 5);
  REQUIRE(r.topics.at(0).error_code == 0);
}

describe_configs_response describe(harness& h, std::int8_t type, const std::string& name,
                                   std::int16_t version = 4, bool synonyms = false,
                                   std::optional<std::vector<std::string>> keys = std::nullopt,
                                   std::int32_t broker = 1) {
  describe_configs_request req;
  req.resources.push_back({type, name, std::move(keys), {}});
  req.include_synonyms = synonyms;
  return h.call<describe_configs_response>(broker, req, version);
}

const entry& find(const describe_configs_response& r, const std::string& name) {
  REQUIRE(r.results.size() == 1);
  for (const auto& c : r.results[0].configs)
    if (c.name == name) return c;
  FAIL("no config " << name);
  throw;
}

}  // namespace

TEST_CASE(
    "DescribeConfigs shows a topic's overrides as DYNAMIC_TOPIC_CONFIG, the rest as defaults") {
  harness h;
  create(h, "t", {{"retention.ms", "3600000", {}}, {"cleanup.policy", "compact , delete", {}}});
  auto r = describe(h, 2, "t");
  REQUIRE(r.results.at(0).error_code == 0);
  CHECK(r.results[0].configs.size() >= 25);
  const auto& retention = find(r, "retention.ms");
  CHECK(retention.value == std::optional<std::string>("3600000"));
  CHECK(retention.config_source == 1);
  CHECK(retention.config_type == 5);  // LONG
  CHECK_FALSE(retention.read_only);
  CHECK_FALSE(retention.is_sensitive);
  CHECK_FALSE(retention.documentation.has_value());
  CHECK(find(r, "cleanup.policy").value == std::optional<std::string>("compact,delete"));
  CHECK(find(r, "cleanup.policy").config_type == 7);  // LIST
  const auto& segment = find(r, "segment.bytes");
  CHECK(segment.value == std::optional<std::string>("1073741824"));
  CHECK(segment.config_source == 5);  // DEFAULT_CONFIG
  CHECK(segment.config_type == 3);    // INT
  CHECK(find(r, "unclean.leader.election.enable").config_type == 1);
  CHECK(find(r, "compression.type").value == std::optional<std::string>("producer"));
  // The mock's cluster default retention (256 MiB) is a broker setting.
  CHECK(find(r, "retention.bytes").value == std::optional<std::string>("268435456"));
  CHECK(find(r, "retention.bytes").config_source == 4);  // STATIC_BROKER_CONFIG
}

TEST_CASE("DescribeConfigs answers every version, with synonyms when asked and named keys only") {
  harness h;
  create(h, "t", {{"retention.ms", "1000", {}}});
  for (std::int16_t v = 0; v <= describe_configs_request::max_version; ++v) {
    INFO("v" << v);
    auto r = describe(h, 2, "t", v, v >= 1, std::vector<std::string>{"retention.ms", "segment.ms"});
    REQUIRE(r.results.at(0).configs.size() == 2);
    const auto& retention = find(r, "retention.ms");
    CHECK(retention.value == std::optional<std::string>("1000"));
    if (v == 0) {
      CHECK_FALSE(retention.is_default);
      CHECK(find(r, "segment.ms").is_default);
    } else {
      REQUIRE(retention.synonyms.size() == 2);
      CHECK(retention.synonyms[0].name == "retention.ms");
      CHECK(retention.synonyms[0].source == 1);
      CHECK(retention.synonyms[1].name == "log.retention.hours");
      CHECK(retention.synonyms[1].value == std::optional<std::string>("168"));
      CHECK(retention.synonyms[1].source == 5);
    }
    CHECK(retention.config_type == (v >= 3 ? 5 : 0));
  }
  // Without include_synonyms there are none.
  CHECK(find(describe(h, 2, "t", 4, false), "retention.ms").synonyms.empty());
}

TEST_CASE("DescribeConfigs describes the broker it is sent to, with Kafka's names") {
  cluster_config config;
  config.default_partitions = 4;
  harness h(config);
  auto r = describe(h, 4, "2", 4, false, std::nullopt, 2);
  REQUIRE(r.results.at(0).error_code == 0);
  CHECK(find(r, "broker.id").value == std::optional<std::string>("2"));
  CHECK(find(r, "num.partitions").value == std::optional<std::string>("4"));
  CHECK(find(r, "num.partitions").config_source == 4);
  CHECK(find(r, "message.max.bytes").value == std::optional<std::string>("1048588"));
  CHECK(find(r, "message.max.bytes").config_source == 5);
  CHECK(find(r, "min.insync.replicas").value == std::optional<std::string>("1"));
  // Another broker's id, or not a number: INVALID_REQUEST, as Kafka.
  auto other = describe(h, 4, "3", 4, false, std::nullopt, 2);
  CHECK(other.results[0].error_code == ec(kafka_error::invalid_request));
  CHECK(other.results[0].error_message ==
        std::optional<std::string>("Unexpected broker id, expected 2 or empty string, but "
                                   "received 3"));
  auto junk = describe(h, 4, "x", 4, false, std::nullopt, 2);
  CHECK(junk.results[0].error_message ==
        std::optional<std::string>("Broker id must be an integer, but it is: x"));
  // The empty name (the cluster-wide dynamic defaults): none.
  auto defaults = describe(h, 4, "", 4, false, std::nullopt, 2);
  CHECK(defaults.results[0].error_code == 0);
  CHECK(defaults.results[0].configs.empty());
}

TEST_CASE("DescribeConfigs errors: unknown topic, illegal name, unknown resource type") {
  harness h;
  auto missing = describe(h, 2, "nope");
  CHECK(missing.results.at(0).error_code == ec(kafka_error::unknown_topic_or_partition));
  CHECK(missing.results[0].error_message ==
        std::optional<std::string>("The topic 'nope' does not exist."));
  CHECK(missing.results[0].configs.empty());
  CHECK(describe(h, 2, "bad name").results.at(0).error_code ==
        ec(kafka_error::invalid_topic_exception));
  CHECK(describe(h, 3, "x").results.at(0).error_code == ec(kafka_error::invalid_request));
  CHECK(h.c.topics().empty());  // describing never creates a topic
}
