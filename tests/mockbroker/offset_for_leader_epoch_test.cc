// OffsetForLeaderEpoch: the end offset of each epoch from the partition's
// history, after leader moves, as consumers ask to detect truncation; and
// the leader and epoch checks.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

offset_for_leader_epoch_response::epoch_end_offset end_of(harness& h, std::int32_t broker,
                                                          std::int32_t epoch,
                                                          std::int32_t current = -1,
                                                          std::int16_t version = 4) {
  offset_for_leader_epoch_request req;
  req.replica_id = -1;
  req.topics.push_back({"t", {{0, current, epoch, {}}}, {}});
  auto r = h.call<offset_for_leader_epoch_response>(broker, req, version);
  return r.topics.at(0).partitions.at(0);
}

}  // namespace

TEST_CASE("OffsetForLeaderEpoch answers each epoch's end offset after leader moves") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 3}) == kafka_error::none);
  const auto first = h.leader("t");
  REQUIRE(h.produce(first, "t", 0, make_batch({"a", "b"})).error_code == 0);  // epoch 0: 0-1
  const auto second = first == 1 ? 2 : 1;
  REQUIRE(h.c.move_leader("t", 0, second));
  REQUIRE(h.produce(second, "t", 0, make_batch({"c"})).error_code == 0);  // epoch 1: 2
  const auto third = second == 3 ? 1 : 3;
  REQUIRE(h.c.move_leader("t", 0, third));  // epoch 2, nothing appended yet
  REQUIRE(h.c.partition("t", 0)->leader_epoch == 2);
  for (std::int16_t v = 0; v <= offset_for_leader_epoch_request::max_version; ++v) {
    INFO("v" << v);
    auto e0 = end_of(h, third, 0, -1, v);
    CHECK(e0.error_code == 0);
    CHECK(e0.end_offset == 2);
    if (v >= 1) CHECK(e0.leader_epoch == 0);
    CHECK(end_of(h, third, 1, -1, v).end_offset == 3);
    CHECK(end_of(h, third, 2, -1, v).end_offset == 3);
    auto future = end_of(h, third, 7, -1, v);
    CHECK(future.error_code == 0);
    CHECK(future.end_offset == -1);
  }
  CHECK(end_of(h, third, 2).leader_epoch == 2);
  CHECK(end_of(h, third, 1).leader_epoch == 1);
}

TEST_CASE("OffsetForLeaderEpoch checks the leader and the current leader epoch") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 3}) == kafka_error::none);
  const auto leader = h.leader("t");
  const auto other = leader == 1 ? 2 : 1;
  CHECK(end_of(h, other, 0).error_code == ec(kafka_error::not_leader_or_follower));
  REQUIRE(h.c.move_leader("t", 0, other));
  CHECK(end_of(h, other, 0, 0).error_code == ec(kafka_error::fenced_leader_epoch));
  CHECK(end_of(h, other, 0, 5).error_code == ec(kafka_error::unknown_leader_epoch));
  auto ok = end_of(h, other, 0, 1);
  CHECK(ok.error_code == 0);
  CHECK(ok.end_offset == 0);
  offset_for_leader_epoch_request req;
  req.topics.push_back({"nope", {{0, -1, 0, {}}}, {}});
  CHECK(h.call<offset_for_leader_epoch_response>(1, req, 4)
            .topics.at(0)
            .partitions.at(0)
            .error_code == ec(kafka_error::unknown_topic_or_partition));
}
