// Produce as Kafka does it: acks, ISR, validation, LogAppendTime, and the
// idempotent producer's sequence rules.
#include "kwire/mockbroker/cluster.hpp"

#include <cstring>
#include <limits>

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

topic_config partitions(std::int32_t n, std::int16_t replicas = 3) {
  topic_config c;
  c.partitions = n;
  c.replication_factor = replicas;
  return c;
}

}  // namespace

TEST_CASE("Produce acks=0 gets no response; an error closes the connection") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto ok = h.send(leader, produce_of("t", 0, make_batch({"a"}), 0), 7);
  CHECK_FALSE(ok.response);
  CHECK_FALSE(ok.closes());
  CHECK(h.c.partition("t", 0)->high_watermark == 1);
  auto bad = h.send(leader, produce_of("nope", 0, make_batch({"a"}), 0), 7);
  CHECK_FALSE(bad.response);
  CHECK(bad.close_after_response);
  CHECK(bad.close_reason.find("UNKNOWN_TOPIC_OR_PARTITION") != std::string::npos);
}

TEST_CASE("Produce: unknown topic, not leader (with CurrentLeader and NodeEndpoints), bad acks") {
  harness h;
  REQUIRE(h.c.create_topic("t", partitions(1)) == kafka_error::none);
  const auto leader = h.leader("t");
  const std::int32_t other = leader % 3 + 1;
  CHECK(h.produce(leader, "u", 0, make_batch({"a"})).error_code ==
        ec(kafka_error::unknown_topic_or_partition));
  CHECK(h.produce(leader, "t", 1, make_batch({"a"})).error_code ==
        ec(kafka_error::unknown_topic_or_partition));
  auto r = h.call<produce_response>(other, produce_of("t", 0, make_batch({"a"})), 10);
  const auto& p = r.responses[0].partition_responses[0];
  CHECK(p.error_code == ec(kafka_error::not_leader_or_follower));
  CHECK(p.base_offset == -1);
  CHECK(p.current_leader.leader_id == leader);
  CHECK(p.current_leader.leader_epoch == h.c.partition("t", 0)->leader_epoch);
  REQUIRE(r.node_endpoints.size() == 1);
  CHECK(r.node_endpoints[0].node_id == leader);
  CHECK(r.node_endpoints[0].port == 9091 + leader);
  CHECK(h.produce(leader, "t", 0, make_batch({"a"}), 9, 2).error_code ==
        ec(kafka_error::invalid_required_acks));
}

TEST_CASE("Produce acks=-1 needs min.insync.replicas in the ISR; acks=1 does not") {
  cluster_config config;
  config.min_insync_replicas = 2;
  harness h(config);
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  const auto replicas = h.c.partition("t", 0)->replicas;
  for (auto id : replicas)
    if (id != leader) REQUIRE(h.c.shrink_isr("t", 0, id));
  CHECK(h.c.partition("t", 0)->isr == std::vector<std::int32_t>{leader});
  CHECK(h.produce(leader, "t", 0, make_batch({"a"}), 9, -1).error_code ==
        ec(kafka_error::not_enough_replicas));
  CHECK(h.produce(leader, "t", 0, make_batch({"a"}), 9, 1).error_code == 0);
  REQUIRE(h.c.grow_isr("t", 0, leader % 3 + 1));
  CHECK(h.produce(leader, "t", 0, make_batch({"b"}), 9, -1).error_code == 0);
  CHECK(h.c.read("t", 0).size() == 2);
}

TEST_CASE("Produce validates batches: CRC, magic, record errors, one batch per partition") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto corrupt = make_batch({"a", "b"});
  corrupt.back() ^= 0xff;  // inside the records, covered by the CRC
  auto r = h.produce(leader, "t", 0, corrupt, 9);
  CHECK(r.error_code == ec(kafka_error::corrupt_message));
  CHECK(r.error_message.has_value());

  auto magic1 = make_batch({"a"});
  magic1[16] = 1;
  CHECK(h.produce(leader, "t", 0, magic1, 9).error_code == ec(kafka_error::invalid_record));

  auto two = make_batch({"a"});
  auto second = make_batch({"b"});
  two.insert(two.end(), second.begin(), second.end());
  CHECK(h.produce(leader, "t", 0, two, 9).error_code == ec(kafka_error::invalid_record));

  // A record whose length runs past the batch: the header and CRC are fine,
  // record 1 is not. Rebuild the CRC so only the record is wrong.
  auto bad_record = make_batch({"a", "b"});
  {
    // Record 1 starts after record 0; record 0's length varint is at byte 61.
    const std::size_t rec1 = 61 + 1 + (bad_record[61] >> 1);
    bad_record[rec1] = 0x7e;                              // zig-zag 63: longer than what remains
    REQUIRE(set_producer_state(bad_record, -1, -1, -1));  // recomputes the CRC
  }
  auto rr = h.call<produce_response>(leader, produce_of("t", 0, bad_record), 8)
                .responses[0]
                .partition_responses[0];
  CHECK(rr.error_code == ec(kafka_error::invalid_record));
  REQUIRE(rr.record_errors.size() == 1);
  CHECK(rr.record_errors[0].batch_index == 1);
  CHECK(rr.error_message.has_value());

  CHECK(h.c.read("t", 0).empty());
}

TEST_CASE("LogAppendTime topics stamp the batch with the broker's time") {
  harness h;
  topic_config c;
  c.log_append_time = true;
  REQUIRE(h.c.create_topic("t", c) == kafka_error::none);
  const auto leader = h.leader("t");
  auto r = h.produce(leader, "t", 0, make_batch({"a", "b"}), 9);
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(h.now.time_since_epoch()).count();
  CHECK(r.log_append_time_ms == now_ms);
  auto stored = h.c.read("t", 0);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].log_append_time);
  CHECK(stored[1].timestamp == now_ms);
  CHECK(h.produce(leader, "t", 0, make_batch({"c"}), 9).base_offset == 2);
  auto plain = harness();
  REQUIRE(plain.c.create_topic("t") == kafka_error::none);
  CHECK(plain.produce(plain.leader("t"), "t", 0, make_batch({"a"}), 9).log_append_time_ms == -1);
}

TEST_CASE("Stored batches are re-stamped with their base offset and the leader epoch") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  h.produce(h.leader("t"), "t", 0, make_batch({"a"}));
  const auto other = h.leader("t") % 3 + 1;
  REQUIRE(h.c.move_leader("t", 0, other));
  h.produce(other, "t", 0, make_batch({"b", "c"}));
  auto stored = h.c.read("t", 0);
  REQUIRE(stored.size() == 3);
  CHECK(stored[0].partition_leader_epoch == 0);
  CHECK(stored[1].batch_base_offset == 1);
  CHECK(stored[2].offset == 2);
  CHECK(stored[2].partition_leader_epoch == 1);
}

TEST_CASE("Idempotence: a retried batch gets its original offset and is not written twice") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto [pid, epoch] = h.c.allocate_producer_id();
  CHECK(h.produce(leader, "t", 0, make_batch({"a", "b"}, pid, epoch, 0)).base_offset == 0);
  CHECK(h.produce(leader, "t", 0, make_batch({"c"}, pid, epoch, 2)).base_offset == 2);
  auto again = h.produce(leader, "t", 0, make_batch({"a", "b"}, pid, epoch, 0));
  CHECK(again.error_code == 0);
  CHECK(again.base_offset == 0);
  CHECK(h.produce(leader, "t", 0, make_batch({"c"}, pid, epoch, 2)).base_offset == 2);
  auto stored = h.c.read("t", 0);
  REQUIRE(stored.size() == 3);
  CHECK(stored[2].producer_id == pid);
  CHECK(stored[2].sequence == 2);
  // Only the last five batches are remembered: the first one falls out.
  for (std::int32_t s = 3; s < 8; ++s) h.produce(leader, "t", 0, make_batch({"x"}, pid, epoch, s));
  CHECK(h.produce(leader, "t", 0, make_batch({"a", "b"}, pid, epoch, 0)).error_code ==
        ec(kafka_error::out_of_order_sequence_number));
  CHECK(h.produce(leader, "t", 0, make_batch({"x"}, pid, epoch, 3)).base_offset == 3);
  CHECK(h.c.read("t", 0).size() == 8);
}

TEST_CASE("Idempotence: gaps, stale epochs, unknown producers, new epochs, lost state") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto [pid, epoch] = h.c.allocate_producer_id();
  REQUIRE(epoch == 0);
  CHECK(h.produce(leader, "t", 0, make_batch({"a"}, pid, 0, 0)).error_code == 0);
  SECTION("a gap") {
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid, 0, 2)).error_code ==
          ec(kafka_error::out_of_order_sequence_number));
  }
  SECTION("an unknown producer id") {
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid + 100, 0, 0)).error_code ==
          ec(kafka_error::unknown_producer_id));
  }
  SECTION("a first batch that does not start at 0, or state lost") {
    auto [pid2, e2] = h.c.allocate_producer_id();
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid2, e2, 5)).error_code ==
          ec(kafka_error::unknown_producer_id));
    REQUIRE(h.c.clear_producer_state("t", 0));
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid, 0, 1)).error_code ==
          ec(kafka_error::unknown_producer_id));
  }
  SECTION("an epoch the client bumped on its own starts at 0; the old epoch is then stale") {
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid, 1, 1)).error_code ==
          ec(kafka_error::out_of_order_sequence_number));
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid, 1, 0)).base_offset == 1);
    CHECK(h.produce(leader, "t", 0, make_batch({"c"}, pid, 1, 1)).base_offset == 2);
    CHECK(h.produce(leader, "t", 0, make_batch({"d"}, pid, 0, 1)).error_code ==
          ec(kafka_error::invalid_producer_epoch));
  }
  SECTION(
      "InitProducerId without a transactional id gives a fresh id and leaves the old one alone") {
    init_producer_id_request req;
    req.producer_id = pid;
    req.producer_epoch = 0;
    auto r = h.call<init_producer_id_response>(1, req, 4);
    REQUIRE(r.error_code == 0);
    CHECK(r.producer_id != pid);
    CHECK(r.producer_epoch == 0);
    CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid, 0, 1)).base_offset == 1);
    CHECK(h.produce(leader, "t", 0, make_batch({"c"}, r.producer_id, 0, 0)).base_offset == 2);
  }
}

TEST_CASE("Idempotence: sequences wrap at INT32_MAX to 0") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto [pid, epoch] = h.c.allocate_producer_id();
  constexpr std::int32_t max = std::numeric_limits<std::int32_t>::max();
  // Two billion records would take a while: start the producer near the top.
  REQUIRE(h.c.seed_producer_state("t", 0, pid, epoch, max - 1));
  CHECK(h.produce(leader, "t", 0, make_batch({"x"}, pid, epoch, 0)).error_code ==
        ec(kafka_error::out_of_order_sequence_number));
  // max, 0, 1: the batch spans the wrap.
  auto spanning = make_batch({"x", "y", "z"}, pid, epoch, max);
  CHECK(h.produce(leader, "t", 0, spanning).base_offset == 0);
  CHECK(h.produce(leader, "t", 0, spanning).base_offset == 0);  // a retry
  CHECK(h.produce(leader, "t", 0, make_batch({"w"}, pid, epoch, 3)).error_code ==
        ec(kafka_error::out_of_order_sequence_number));
  CHECK(h.produce(leader, "t", 0, make_batch({"w"}, pid, epoch, 2)).base_offset == 3);
  auto stored = h.c.read("t", 0);
  REQUIRE(stored.size() == 4);
  CHECK(stored[0].sequence == max);
  CHECK(stored[1].sequence == 0);
  CHECK(stored[3].sequence == 2);
}
