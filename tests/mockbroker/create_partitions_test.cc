// CreatePartitions: a topic grows, on the replicas asked for or round robin,
// produce works on the new partitions, validate_only changes nothing, and
// Kafka's errors for a count that does not grow or a bad assignment.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

using assignment = create_partitions_request::create_partitions_assignment;

create_partitions_response::create_partitions_topic_result grow(
    harness& h, const std::string& topic, std::int32_t count,
    std::optional<std::vector<assignment>> assignments = std::nullopt, bool validate_only = false,
    std::int16_t version = 3) {
  create_partitions_request req;
  req.topics.push_back({topic, count, std::move(assignments), {}});
  req.timeout_ms = 30000;
  req.validate_only = validate_only;
  auto r = h.call<create_partitions_response>(1, req, version);
  REQUIRE(r.results.size() == 1);
  CHECK(r.throttle_time_ms == 0);
  return r.results[0];
}

}  // namespace

TEST_CASE("CreatePartitions grows a topic at every version, and the new partitions take records") {
  for (std::int16_t v = 0; v <= create_partitions_request::max_version; ++v) {
    INFO("v" << v);
    harness h;
    REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 2}) == kafka_error::none);
    auto r = grow(h, "t", 3, std::nullopt, false, v);
    CHECK(r.error_code == 0);
    CHECK_FALSE(r.error_message.has_value());
    REQUIRE(h.c.partition("t", 2).has_value());
    CHECK(h.c.partition("t", 2)->replicas.size() == 2);
    for (std::int32_t p = 1; p < 3; ++p) {
      const auto leader = h.leader("t", p);
      auto produced = h.produce(leader, "t", p, make_batch({"a", "b"}));
      CHECK(produced.error_code == 0);
      CHECK(produced.base_offset == 0);
    }
    metadata_request all;
    all.topics = std::nullopt;
    auto meta = h.call<metadata_response>(1, all, 9);
    REQUIRE(meta.topics.size() == 1);
    CHECK(meta.topics[0].partitions.size() == 3);
  }
}

TEST_CASE("CreatePartitions places new partitions on the replicas given, leader first") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 2}) == kafka_error::none);
  CHECK(grow(h, "t", 3, std::vector<assignment>{{{3, 1}, {}}, {{2, 3}, {}}}).error_code == 0);
  CHECK(h.c.partition("t", 1)->replicas == std::vector<std::int32_t>{3, 1});
  CHECK(h.c.partition("t", 1)->leader == 3);
  CHECK(h.c.partition("t", 2)->replicas == std::vector<std::int32_t>{2, 3});
}

TEST_CASE("CreatePartitions validate_only and errors as Kafka") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2, .replication_factor = 2}) == kafka_error::none);
  CHECK(grow(h, "t", 5, std::nullopt, true).error_code == 0);
  CHECK(h.c.partition("t", 2) == std::nullopt);

  auto same = grow(h, "t", 2);
  CHECK(same.error_code == ec(kafka_error::invalid_partitions));
  CHECK(same.error_message == std::optional<std::string>("Topic already has 2 partitions."));
  auto fewer = grow(h, "t", 1);
  CHECK(fewer.error_code == ec(kafka_error::invalid_partitions));
  CHECK(fewer.error_message ==
        std::optional<std::string>(
            "Topic currently has 2 partitions, which is higher than the requested 1."));
  auto missing = grow(h, "nope", 3);
  CHECK(missing.error_code == ec(kafka_error::unknown_topic_or_partition));
  CHECK(h.c.topics() == std::vector<std::string>{"t"});

  auto count = grow(h, "t", 4, std::vector<assignment>{{{1, 2}, {}}});
  CHECK(count.error_code == ec(kafka_error::invalid_replica_assignment));
  CHECK(count.error_message ==
        std::optional<std::string>(
            "Increasing the number of partitions by 2 but 1 assignments provided."));
  CHECK(grow(h, "t", 3, std::vector<assignment>{{{1, 9}, {}}}).error_message ==
        std::optional<std::string>("Unknown broker(s) in replica assignment: 9."));
  CHECK(grow(h, "t", 3, std::vector<assignment>{{{1, 1}, {}}}).error_code ==
        ec(kafka_error::invalid_replica_assignment));
  CHECK(grow(h, "t", 3, std::vector<assignment>{{{1}, {}}}).error_code ==
        ec(kafka_error::invalid_replica_assignment));
  CHECK(h.c.partition("t", 2) == std::nullopt);

  create_partitions_request twice;
  twice.topics.push_back({"t", 3, std::nullopt, {}});
  twice.topics.push_back({"t", 4, std::nullopt, {}});
  auto r = h.call<create_partitions_response>(1, twice, 3);
  REQUIRE(r.results.size() == 2);
  CHECK(r.results[0].error_code == ec(kafka_error::invalid_request));
  CHECK(r.results[1].error_code == ec(kafka_error::invalid_request));
}
