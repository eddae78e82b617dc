// ElectLeaders (preferred and unclean) and DescribeLogDirs.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

elect_leaders_response elect(harness& h, std::int8_t type,
                             std::optional<std::vector<std::int32_t>> partitions,
                             std::int16_t version = 2, std::int32_t broker = 1) {
  elect_leaders_request req;
  req.election_type = type;
  if (partitions)
    req.topic_partitions =
        std::vector<elect_leaders_request::topic_partitions_entry>{{"t", *partitions, {}}};
  else
    req.topic_partitions = std::nullopt;
  return h.call<elect_leaders_response>(broker, req, version);
}

}  // namespace

TEST_CASE("ElectLeaders preferred: the first replica leads again, or says why not") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2, .replication_factor = 3}) == kafka_error::none);
  const auto preferred = h.c.partition("t", 0)->replicas.front();
  const auto other = h.c.partition("t", 0)->replicas.back();
  REQUIRE(h.c.move_leader("t", 0, other));
  const auto epoch = h.c.partition("t", 0)->leader_epoch;
  for (std::int16_t v = 0; v <= elect_leaders_request::max_version; ++v) {
    INFO("v" << v);
    auto r = elect(h, 0, std::vector<std::int32_t>{0, 1, 9}, v);
    REQUIRE(r.replica_election_results.size() == 1);
    const auto& results = r.replica_election_results[0].partition_result;
    REQUIRE(results.size() == 3);
    CHECK(results[0].error_code == (v == 0 ? 0 : ec(kafka_error::election_not_needed)));
    CHECK(results[1].error_code == ec(kafka_error::election_not_needed));
    CHECK(results[2].error_code == ec(kafka_error::unknown_topic_or_partition));
  }
  CHECK(h.c.partition("t", 0)->leader == preferred);
  CHECK(h.c.partition("t", 0)->leader_epoch == epoch + 1);
  // All partitions (null): those needing no election are left out.
  CHECK(elect(h, 0, std::nullopt).replica_election_results.empty());
  // The preferred replica out of the ISR: PREFERRED_LEADER_NOT_AVAILABLE.
  REQUIRE(h.c.move_leader("t", 0, other));
  REQUIRE(h.c.shrink_isr("t", 0, preferred));
  CHECK(elect(h, 0, std::vector<std::int32_t>{0})
            .replica_election_results.at(0)
            .partition_result.at(0)
            .error_code == ec(kafka_error::preferred_leader_not_available));
}

TEST_CASE("ElectLeaders unclean: a partition without a live leader gets a live replica") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 3}) == kafka_error::none);
  const auto leader = h.leader("t");
  CHECK(elect(h, 1, std::vector<std::int32_t>{0})
            .replica_election_results.at(0)
            .partition_result.at(0)
            .error_code == ec(kafka_error::election_not_needed));
  const auto replicas = h.c.partition("t", 0)->replicas;
  REQUIRE(h.c.set_isr("t", 0, {leader}));
  h.c.broker_down(leader, false);
  const std::int32_t live = leader == 1 ? 2 : 1;
  auto r = elect(h, 1, std::vector<std::int32_t>{0}, 2, live);
  CHECK(r.replica_election_results.at(0).partition_result.at(0).error_code == 0);
  const auto now = h.c.partition("t", 0)->leader;
  CHECK(now != leader);
  CHECK(std::find(replicas.begin(), replicas.end(), now) != replicas.end());
  CHECK(h.c.partition("t", 0)->isr == std::vector<std::int32_t>{now});
  CHECK(h.produce(now, "t", 0, make_batch({"x"})).error_code == 0);
}

TEST_CASE("DescribeLogDirs lists one log dir per broker with its partitions' sizes") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 3, .replication_factor = 2}) == kafka_error::none);
  const auto leader = h.leader("t", 0);
  REQUIRE(h.produce(leader, "t", 0, make_batch({"abc"})).error_code == 0);
  for (std::int16_t v = 0; v <= describe_log_dirs_request::max_version; ++v) {
    INFO("v" << v);
    describe_log_dirs_request req;
    req.topics = std::nullopt;
    auto r = h.call<describe_log_dirs_response>(leader, req, v);
    REQUIRE(r.results.size() == 1);
    CHECK(r.results[0].error_code == 0);
    CHECK(r.results[0].log_dir == "/var/lib/kwire-mock/" + std::to_string(leader));
    REQUIRE(r.results[0].topics.size() == 1);
    bool found = false;
    for (const auto& p : r.results[0].topics[0].partitions)
      if (p.partition_index == 0) {
        found = true;
        CHECK(p.partition_size > 0);
        CHECK(p.offset_lag == 0);
      }
    CHECK(found);
  }
  describe_log_dirs_request some;
  some.topics = std::vector<describe_log_dirs_request::describable_log_dir_topic>{{"t", {0}, {}}};
  auto r = h.call<describe_log_dirs_response>(leader, some, 4);
  REQUIRE(r.results.at(0).topics.size() == 1);
  CHECK(r.results[0].topics[0].partitions.size() == 1);
}
