// AlterConfigs and IncrementalAlterConfigs: the topic's overrides replaced
// or edited, validate_only, Kafka's errors, and the configs the mock acts on
// taking effect (max.message.bytes, retention.bytes, min.insync.replicas).
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

using incremental = incremental_alter_configs_request;

void create(harness& h, const std::string& topic,
            std::vector<create_topics_request::creatable_topic_config> configs = {}) {
  create_topics_request req;
  req.topics.push_back({topic, 1, 3, {}, std::move(configs), {}});
  REQUIRE(h.call<create_topics_response>(1, req, 5).topics.at(0).error_code == 0);
}

/// The value and source (1 DYNAMIC_TOPIC_CONFIG, 4 STATIC_BROKER_CONFIG,
/// 5 DEFAULT_CONFIG) of one config.
std::pair<std::optional<std::string>, int> config(harness& h, const std::string& topic,
                                                  const std::string& name) {
  describe_configs_request req;
  req.resources.push_back({2, topic, std::vector<std::string>{name}, {}});
  auto r = h.call<describe_configs_response>(1, req, 3);
  REQUIRE(r.results.at(0).configs.size() == 1);
  return {r.results[0].configs[0].value, r.results[0].configs[0].config_source};
}

alter_configs_response::alter_configs_resource_response alter(
    harness& h, const std::string& topic,
    std::vector<alter_configs_request::alterable_config> configs, bool validate_only = false,
    std::int8_t type = 2) {
  alter_configs_request req;
  req.resources.push_back({type, topic, std::move(configs), {}});
  req.validate_only = validate_only;
  auto r = h.call<alter_configs_response>(1, req, 1);
  REQUIRE(r.responses.size() == 1);
  return r.responses[0];
}

incremental_alter_configs_response::alter_configs_resource_response edit(
    harness& h, const std::string& topic, std::vector<incremental::alterable_config> configs,
    bool validate_only = false, std::int8_t type = 2) {
  incremental req;
  req.resources.push_back({type, topic, std::move(configs), {}});
  req.validate_only = validate_only;
  auto r = h.call<incremental_alter_configs_response>(1, req, 1);
  REQUIRE(r.responses.size() == 1);
  return r.responses[0];
}

using value = std::optional<std::string>;

}  // namespace

TEST_CASE("AlterConfigs replaces a topic's overrides; validate_only changes nothing") {
  harness h;
  create(h, "t", {{"retention.ms", "1000", {}}});
  auto dry = alter(h, "t", {{"segment.ms", "5000", {}}}, true);
  CHECK(dry.error_code == 0);
  CHECK_FALSE(dry.error_message.has_value());
  CHECK(config(h, "t", "retention.ms") == std::pair<value, int>("1000", 1));
  CHECK(config(h, "t", "segment.ms") == std::pair<value, int>("604800000", 5));
  CHECK(alter(h, "t", {{"segment.ms", "5000", {}}}).error_code == 0);
  CHECK(config(h, "t", "segment.ms") == std::pair<value, int>("5000", 1));
  // Not named again: back to its default.
  CHECK(config(h, "t", "retention.ms") == std::pair<value, int>("604800000", 5));
}

TEST_CASE("AlterConfigs errors as Kafka: unknown topic, bad value, unknown name, resource types") {
  harness h;
  create(h, "t");
  auto missing = alter(h, "nope", {{"retention.ms", "1", {}}});
  CHECK(missing.error_code == ec(kafka_error::unknown_topic_or_partition));
  CHECK(missing.error_message == value("The topic 'nope' does not exist."));
  auto bad = alter(h, "t", {{"retention.ms", "soon", {}}});
  CHECK(bad.error_code == ec(kafka_error::invalid_config));
  CHECK(bad.error_message ==
        value("Invalid value soon for configuration retention.ms: Not a number of type LONG"));
  auto small = alter(h, "t", {{"segment.bytes", "10", {}}});
  CHECK(small.error_message ==
        value("Invalid value 10 for configuration segment.bytes: Value must be at least 14"));
  auto unknown = alter(h, "t", {{"retention.days", "1", {}}});
  CHECK(unknown.error_code == ec(kafka_error::invalid_config));
  CHECK(unknown.error_message == value("Unknown topic config name: retention.days"));
  auto policy = alter(h, "t", {{"cleanup.policy", "delete,shred", {}}});
  CHECK(policy.error_message ==
        value("Invalid value shred for configuration cleanup.policy: String must be one of: "
              "compact, delete"));
  CHECK(alter(h, "t", {{"preallocate", "yes", {}}}).error_message ==
        value("Invalid value yes for configuration preallocate: Expected value to be either "
              "true or false"));
  CHECK(alter(h, "t", {{"retention.ms", "1", {}}, {"retention.ms", "2", {}}}).error_code ==
        ec(kafka_error::invalid_request));
  CHECK(alter(h, "t", {{"retention.ms", "1", {}}}, false, 3).error_code ==
        ec(kafka_error::invalid_request));
  // A refused request changes nothing.
  CHECK(config(h, "t", "retention.ms") == std::pair<value, int>("604800000", 5));
}

TEST_CASE("IncrementalAlterConfigs sets, deletes, appends to and subtracts from lists") {
  harness h;
  create(h, "t", {{"retention.ms", "1000", {}}});
  CHECK(edit(h, "t", {{"segment.ms", 0, "7000", {}}, {"retention.ms", 1, std::nullopt, {}}})
            .error_code == 0);
  CHECK(config(h, "t", "segment.ms") == std::pair<value, int>("7000", 1));
  CHECK(config(h, "t", "retention.ms") == std::pair<value, int>("604800000", 5));
  // APPEND starts from the default value ("delete").
  CHECK(edit(h, "t", {{"cleanup.policy", 2, "compact", {}}}).error_code == 0);
  CHECK(config(h, "t", "cleanup.policy") == std::pair<value, int>("delete,compact", 1));
  CHECK(edit(h, "t", {{"cleanup.policy", 3, "delete", {}}}).error_code == 0);
  CHECK(config(h, "t", "cleanup.policy") == std::pair<value, int>("compact", 1));
  // validate_only: checked, not kept.
  CHECK(edit(h, "t", {{"segment.ms", 0, "9000", {}}}, true).error_code == 0);
  CHECK(config(h, "t", "segment.ms") == std::pair<value, int>("7000", 1));
  auto not_list = edit(h, "t", {{"segment.ms", 2, "1", {}}});
  CHECK(not_list.error_code == ec(kafka_error::invalid_request));
  CHECK(not_list.error_message ==
        value("Config value append is not allowed for config key: segment.ms"));
  CHECK(edit(h, "t", {{"segment.ms", 7, "1", {}}}).error_code == ec(kafka_error::invalid_request));
  CHECK(edit(h, "t", {{"segment.ms", 0, "x", {}}}).error_code == ec(kafka_error::invalid_config));
  CHECK(edit(h, "nope", {{"segment.ms", 0, "1", {}}}).error_code ==
        ec(kafka_error::unknown_topic_or_partition));
  CHECK(edit(h, "t", {{"segment.ms", 0, "1", {}}}, false, 9).error_code ==
        ec(kafka_error::invalid_request));
  CHECK(config(h, "t", "segment.ms") == std::pair<value, int>("7000", 1));
}

TEST_CASE("Altered configs the mock acts on take effect at once") {
  harness h;
  create(h, "t");
  const auto leader = h.leader("t");
  REQUIRE(h.produce(leader, "t", 0, make_batch({std::string(2000, 'a')})).error_code == 0);
  // max.message.bytes: a larger batch is MESSAGE_TOO_LARGE, a smaller one goes.
  REQUIRE(edit(h, "t", {{"max.message.bytes", 0, "1000", {}}}).error_code == 0);
  CHECK(h.produce(leader, "t", 0, make_batch({std::string(2000, 'b')})).error_code ==
        ec(kafka_error::message_too_large));
  CHECK(h.produce(leader, "t", 0, make_batch({"small"})).error_code == 0);
  // retention.bytes: the log is trimmed (the newest batch always stays).
  REQUIRE(h.c.partition("t", 0)->log_start_offset == 0);
  REQUIRE(edit(h, "t", {{"retention.bytes", 0, "100", {}}}).error_code == 0);
  CHECK(h.c.partition("t", 0)->log_start_offset == 1);
  // min.insync.replicas: acks=-1 needs that many in the ISR.
  REQUIRE(edit(h, "t", {{"min.insync.replicas", 0, "3", {}}}).error_code == 0);
  REQUIRE(h.c.set_isr("t", 0, {leader}));
  CHECK(h.produce(leader, "t", 0, make_batch({"x"})).error_code ==
        ec(kafka_error::not_enough_replicas));
  REQUIRE(edit(h, "t", {{"min.insync.replicas", 1, std::nullopt, {}}}).error_code == 0);
  CHECK(h.produce(leader, "t", 0, make_batch({"x"})).error_code == 0);
}
