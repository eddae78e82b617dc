// DeleteRecords: the log start offset moves (-1: to the high watermark), a
// fetch below it gets OFFSET_OUT_OF_RANGE, ListOffsets earliest follows it,
// and Kafka's errors for an offset above the high watermark, a follower and
// an unknown partition.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

struct fixture {
  harness h;
  std::int32_t leader = 0;

  fixture() {
    REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
    leader = h.leader("t");
    // Offsets 0-1, 2-3, 4-5.
    for (int i = 0; i < 3; ++i)
      REQUIRE(h.produce(leader, "t", 0, make_batch({"a", "b"})).error_code == 0);
  }

  delete_records_response::delete_records_partition_result erase(std::int64_t offset,
                                                                 std::int16_t version = 2,
                                                                 std::int32_t broker = 0,
                                                                 const std::string& topic = "t") {
    delete_records_request req;
    req.topics.push_back({topic, {{0, offset, {}}}, {}});
    req.timeout_ms = 30000;
    auto r = h.call<delete_records_response>(broker ? broker : leader, req, version);
    return r.topics.at(0).partitions.at(0);
  }

  fetch_response::partition_data fetch(std::int64_t offset) {
    fetch_request req;
    req.max_wait_ms = 0;
    req.min_bytes = 0;
    req.max_bytes = 1 << 20;
    req.topics.push_back({"t", {}, {{0, -1, offset, -1, -1, 1 << 20, {}, {}}}, {}});
    return h.call<fetch_response>(leader, req, 11).responses.at(0).partitions.at(0);
  }

  std::int64_t earliest() {
    list_offsets_request req;
    req.replica_id = -1;
    list_offsets_request::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = -2;
    req.topics.push_back({"t", {p}, {}});
    return h.call<list_offsets_response>(leader, req, 5).topics.at(0).partitions.at(0).offset;
  }
};

}  // namespace

TEST_CASE("DeleteRecords moves the log start; fetches below it are OFFSET_OUT_OF_RANGE") {
  for (std::int16_t v = 0; v <= delete_records_request::max_version; ++v) {
    INFO("v" << v);
    fixture f;
    auto r = f.erase(3, v);
    CHECK(r.error_code == 0);
    CHECK(r.low_watermark == 3);
    CHECK(f.h.c.partition("t", 0)->log_start_offset == 3);
    CHECK(f.earliest() == 3);
    CHECK(f.fetch(2).error_code == ec(kafka_error::offset_out_of_range));
    auto at = f.fetch(3);
    CHECK(at.error_code == 0);
    CHECK(at.log_start_offset == 3);
    CHECK(at.records.size() > 0);
    // The start never moves back.
    CHECK(f.erase(1, v).low_watermark == 3);
  }
}

TEST_CASE("DeleteRecords to -1 empties the partition up to the high watermark") {
  fixture f;
  auto r = f.erase(-1);
  CHECK(r.error_code == 0);
  CHECK(r.low_watermark == 6);
  CHECK(f.earliest() == 6);
  CHECK(f.fetch(5).error_code == ec(kafka_error::offset_out_of_range));
  CHECK(f.h.produce(f.leader, "t", 0, make_batch({"c"})).base_offset == 6);
  CHECK(f.fetch(6).error_code == 0);
}

TEST_CASE("DeleteRecords errors: above the high watermark, a follower, an unknown partition") {
  fixture f;
  auto above = f.erase(7);
  CHECK(above.error_code == ec(kafka_error::offset_out_of_range));
  CHECK(above.low_watermark == -1);
  CHECK(f.erase(-5).error_code == ec(kafka_error::offset_out_of_range));
  const std::int32_t other = f.leader == 1 ? 2 : 1;
  CHECK(f.erase(2, 2, other).error_code == ec(kafka_error::not_leader_or_follower));
  CHECK(f.erase(2, 2, 0, "nope").error_code == ec(kafka_error::unknown_topic_or_partition));
  CHECK(f.h.c.partition("t", 0)->log_start_offset == 0);
}
