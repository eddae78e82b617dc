// The producer core against the scripted fake cluster, in virtual time:
// what it learns from the cluster before producing (ApiVersions, Metadata,
// InitProducerId), and what it does when those answers are errors or wrong.
#include "kwire/producer/producer_core.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "fake_cluster.hpp"

using namespace kwire;
using namespace kwire::test;
using namespace std::chrono_literals;

TEST_CASE("core: topic errors and InitProducerId errors") {
  SECTION("a non-retriable topic error fails send") {
    producer_core core(test_config());
    fake_cluster f(core);
    f.topic_errors["bad"] = code(kafka_error::topic_authorization_failed);
    CHECK(f.send("bad", std::nullopt, "a", 1).error ==
          kerr(kafka_error::topic_authorization_failed));
  }
  SECTION("an unknown topic keeps the shell waiting for metadata") {
    producer_core core(test_config());
    fake_cluster f(core);
    CHECK(f.send("nope", std::nullopt, "a", 1).status == send_status::wait_for_metadata);
    f.leaders["nope"] = {1};  // auto-created
    f.advance(200ms);
    CHECK(f.send("nope", std::nullopt, "a", 1).status == send_status::accepted);
  }
  SECTION("a fatal InitProducerId error fails queued records and later sends") {
    producer_core core(test_config());
    fake_cluster f(core);
    f.leaders["t"] = {1};
    f.init_pid_error =
        code(kafka_error::coordinator_not_available);  // retriable: retried after a backoff
    REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
    f.step();
    CHECK(f.reports.empty());
    f.init_pid_error = code(kafka_error::cluster_authorization_failed);
    f.advance(200ms);
    CHECK(f.init_requests.size() >= 2);
    REQUIRE(f.reports.size() == 1);
    CHECK(f.reports[0].error == kerr(kafka_error::cluster_authorization_failed));
    CHECK(f.send("t", std::nullopt, "b", 2).error ==
          kerr(kafka_error::cluster_authorization_failed));
  }
}

TEST_CASE("core: a Metadata answer whose partition indexes are not 0..n-1 is not believed") {
  // Found by fuzz_producer: an index of 100,000,000 made the core allocate
  // that many partitions; INT32_MAX overflowed.
  for (std::int32_t bad : {100000000, std::numeric_limits<std::int32_t>::max(), -1, 1}) {
    INFO("index " << bad);
    producer_core core(test_config());
    fake_cluster f(core);
    f.leaders["t"] = {1, 1};
    f.partition_index_override["t"] = bad;  // 1 repeats the second entry's index
    CHECK(f.send("t", std::nullopt, "a", 1).status == send_status::wait_for_metadata);
    CHECK_FALSE(core.partition_count("t").has_value());
    // A good answer later is believed.
    f.partition_index_override.clear();
    f.advance(200ms);
    CHECK(core.partition_count("t") == 2);
  }
}

TEST_CASE("core: ApiVersions falls back to v0 and versions are negotiated down") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  f.api_versions_max = 2;
  f.produce_max_version = 7;
  f.init_pid_max_version = 1;
  send_alone(f, "a", 1);
  CHECK(f.api_versions_requests == 4);  // two connections, each v3 then v0
  auto call = f.take();
  CHECK(call.version == 7);
  f.answer_ok(call);
  CHECK_FALSE(f.reports[0].error);
}

TEST_CASE("core: metadata is refreshed at metadata.max.age.ms") {
  producer_config c = test_config();
  c.metadata_max_age = 1000ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
  f.step();
  const int before = f.metadata_requests;
  const auto deadline = core.next_deadline();
  REQUIRE(deadline);
  CHECK(*deadline <= f.now + 1000ms);
  f.advance(999ms);
  CHECK(f.metadata_requests == before);
  f.advance(1ms);
  CHECK(f.metadata_requests == before + 1);
}

TEST_CASE("core: want_metadata fetches a topic's partitions without a record") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 2, 1};
  CHECK_FALSE(core.partition_count("t").has_value());
  CHECK_FALSE(core.want_metadata("t"));
  f.step();
  CHECK(f.metadata_requests == 1);
  CHECK(core.partition_count("t") == 3);
  CHECK(core.pending_records() == 0);
  CHECK(f.produce.empty());
  CHECK(f.reports.empty());
  CHECK(core.metrics().records_failed == 0);

  SECTION("a known topic is not asked for again") {
    CHECK_FALSE(core.want_metadata("t"));
    f.step();
    CHECK(f.metadata_requests == 1);
  }
  SECTION("a non-retriable topic error is returned once the cluster answered it") {
    f.topic_errors["bad"] = code(kafka_error::topic_authorization_failed);
    CHECK_FALSE(core.want_metadata("bad"));  // not answered yet
    f.step();
    CHECK(f.metadata_requests == 2);
    CHECK(core.want_metadata("bad") == kerr(kafka_error::topic_authorization_failed));
    CHECK_FALSE(core.partition_count("bad").has_value());
  }
  SECTION("a topic that does not exist yet is asked for again after retry.backoff.ms") {
    CHECK_FALSE(core.want_metadata("later"));
    f.step();
    CHECK_FALSE(core.partition_count("later").has_value());
    f.leaders["later"] = {2};  // auto-created meanwhile
    f.advance(200ms);
    CHECK(core.partition_count("later") == 1);
    CHECK(f.metadata_requests >= 3);
  }
}
