// Error faults on the admin APIs: whole-request errors land on every
// resource or topic and change nothing; per-partition ones (DeleteRecords,
// OffsetForLeaderEpoch) land on the partitions the rule matches.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

fault_rule error_on(std::int16_t key, kafka_error error) {
  fault_rule r;
  r.match.api_key = key;
  r.action = fault_action::error(error);
  return r;
}

}  // namespace

TEST_CASE("Error faults answer every resource of the config APIs and CreatePartitions") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  h.c.add_fault(
      error_on(describe_configs_request::api_key, kafka_error::cluster_authorization_failed));
  h.c.add_fault(error_on(alter_configs_request::api_key, kafka_error::policy_violation));
  h.c.add_fault(error_on(create_partitions_request::api_key, kafka_error::not_controller));

  describe_configs_request describe;
  describe.resources.push_back({2, "t", std::nullopt, {}});
  auto d = h.call<describe_configs_response>(1, describe, 4);
  REQUIRE(d.results.size() == 1);
  CHECK(d.results[0].error_code == ec(kafka_error::cluster_authorization_failed));
  CHECK(d.results[0].configs.empty());

  alter_configs_request alter;
  alter.resources.push_back({2, "t", {{"retention.ms", "1", {}}}, {}});
  auto a = h.call<alter_configs_response>(1, alter, 2);
  CHECK(a.responses.at(0).error_code == ec(kafka_error::policy_violation));

  create_partitions_request grow;
  grow.topics.push_back({"t", 4, std::nullopt, {}});
  auto g = h.call<create_partitions_response>(1, grow, 3);
  CHECK(g.results.at(0).error_code == ec(kafka_error::not_controller));
  CHECK_FALSE(h.c.partition("t", 1).has_value());

  h.c.clear_faults();
  auto after = h.call<describe_configs_response>(1, describe, 4);
  for (const auto& c : after.results.at(0).configs)
    if (c.name == "retention.ms") CHECK(c.value == std::optional<std::string>("604800000"));
}

TEST_CASE("Error faults land on the DeleteRecords partitions they match") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2, .replication_factor = 1}) == kafka_error::none);
  REQUIRE(h.c.move_leader("t", 0, 1));
  REQUIRE(h.c.move_leader("t", 1, 1));
  for (std::int32_t p = 0; p < 2; ++p)
    REQUIRE(h.produce(1, "t", p, make_batch({"a", "b"})).error_code == 0);
  fault_rule r = error_on(delete_records_request::api_key, kafka_error::request_timed_out);
  r.match.partition = 1;
  h.c.add_fault(r);
  delete_records_request req;
  req.topics.push_back({"t", {{0, 1, {}}, {1, 1, {}}}, {}});
  auto resp = h.call<delete_records_response>(1, req, 2);
  const auto& parts = resp.topics.at(0).partitions;
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].error_code == 0);
  CHECK(parts[0].low_watermark == 1);
  CHECK(parts[1].error_code == ec(kafka_error::request_timed_out));
  CHECK(h.c.partition("t", 1)->log_start_offset == 0);
}
