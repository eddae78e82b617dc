// The producer core against the scripted fake cluster, in virtual time.
#include "kwire/producer/producer_core.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "fake_cluster.hpp"
#include "kwire/producer/partitioner.hpp"

using namespace kwire;
using namespace kwire::test;

namespace {

std::error_code kerr(kafka_error e) { return make_error_code(e); }

// Sends one record to partition 0 of "t" and steps, so that it goes out alone.
void send_alone(fake_cluster& f, const std::string& value, std::uint64_t id) {
  REQUIRE(f.send("t", std::nullopt, value, id, 0).status == send_status::accepted);
  f.step();
}

}  // namespace

TEST_CASE("core: happy path from bootstrap to acknowledgement") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 2};
  CHECK(core.send({"t", 0, std::nullopt, std::nullopt, bytes_of("x"), {}}, 0, f.now).status ==
        send_status::wait_for_metadata);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto r = f.send("t", "key", "v" + std::to_string(i), i, 0);
    REQUIRE(r.status == send_status::accepted);
    CHECK(r.partition == 0);
  }
  CHECK(core.partition_count("t") == 2);
  CHECK(core.pending_records() == 3);
  f.step();
  CHECK(f.connects.front() == -1);  // bootstrap first, then the leader lazily
  CHECK(f.connected.count(1));
  CHECK_FALSE(f.connected.count(2));
  REQUIRE(f.init_requests.size() == 1);
  CHECK_FALSE(f.init_requests[0].transactional_id);
  CHECK(core.producer_id() == 1000);
  CHECK(core.producer_epoch() == 0);
  REQUIRE(f.produce.size() == 1);
  auto call = f.take();
  CHECK(call.broker == 1);
  CHECK(call.version == 9);  // min(kwire's 11, the broker's 9)
  CHECK(call.acks == -1);
  REQUIRE(call.batches.size() == 1);
  const auto& b = call.batches[0];
  CHECK(b.topic == "t");
  CHECK(b.partition == 0);
  CHECK(b.header.producer_id == 1000);
  CHECK(b.header.producer_epoch == 0);
  CHECK(b.header.base_sequence == 0);
  CHECK(b.values == std::vector<std::string>{"v1", "v2", "v3"});
  f.answer(call, {{0, 42, -1, -1}});
  REQUIRE(f.reports.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(f.reports[i].record_id == i + 1);
    CHECK(f.reports[i].topic == "t");
    CHECK(f.reports[i].partition == 0);
    CHECK(f.reports[i].offset == 42 + static_cast<std::int64_t>(i));
    CHECK_FALSE(f.reports[i].error);
  }
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
  CHECK(core.metrics().records_sent == 3);
  CHECK(core.metrics().batches_sent == 1);
  CHECK(core.metrics().retries == 0);
  CHECK(core.metrics().batch_bytes_max > 0);
  // The next batch continues the sequence.
  send_alone(f, "v4", 4);
  call = f.take();
  CHECK(call.batches[0].header.base_sequence == 3);
}

TEST_CASE("core: log-append time and explicit partitions in reports") {
  producer_config c = test_config();
  c.partitioner = partitioner_kind::round_robin;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1, 1, 1};
  REQUIRE(f.send("t", std::nullopt, "a", 1, 2).partition == 2);
  REQUIRE(f.send("t", std::nullopt, "b", 2, 2).partition == 2);
  REQUIRE(f.send("t", std::nullopt, "c", 3).partition == 0);
  REQUIRE(f.send("t", std::nullopt, "d", 4).partition == 1);
  CHECK(f.send("t", std::nullopt, "e", 5, 3).error == make_error_code(producer_errc::invalid_partition));
  f.step();
  auto call = f.take();
  REQUIRE(call.batches.size() == 3);  // one request, one batch per partition
  f.answer(call, {{0, 10, 777, -1}, {0, 20, 777, -1}, {0, 30, 777, -1}});
  REQUIRE(f.reports.size() == 4);
  for (const auto& r : f.reports) CHECK(r.timestamp == 777);
}

TEST_CASE("core: linger.ms holds a batch, and next_deadline says until when") {
  producer_config c = test_config();
  c.linger = 10ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
  const core_time created = f.now;
  f.step();
  CHECK(f.produce.empty());
  CHECK(core.next_deadline() == created + 10ms);
  f.advance(9ms);
  CHECK(f.produce.empty());
  f.advance(1ms);
  REQUIRE(f.produce.size() == 1);
  CHECK(f.take().batches[0].values == std::vector<std::string>{"a"});
}

TEST_CASE("core: a retriable error with a leader change goes to the new leader, same sequence") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  auto call = f.take();
  CHECK(call.broker == 1);
  const int metadata_before = f.metadata_requests;
  f.leaders["t"] = {2};
  f.answer(call, {{code(kafka_error::not_leader_or_follower)}});
  CHECK(f.reports.empty());
  CHECK(f.metadata_requests == metadata_before + 1);  // refreshed at once
  CHECK(f.produce.empty());                           // backoff first
  f.advance(200ms);
  call = f.take();
  CHECK(call.broker == 2);
  CHECK(call.batches[0].header.base_sequence == 0);
  CHECK(call.batches[0].header.producer_epoch == 0);
  f.answer_ok(call);
  REQUIRE(f.reports.size() == 1);
  CHECK_FALSE(f.reports[0].error);
  CHECK(core.metrics().retries == 1);
  CHECK(core.metrics().errors == 1);
}

TEST_CASE("core: a non-retriable error fails the records, then the epoch is bumped") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer(f.take(), {{code(kafka_error::topic_authorization_failed)}});
  REQUIRE(f.reports.size() == 1);
  CHECK(f.reports[0].error == kerr(kafka_error::topic_authorization_failed));
  CHECK(f.reports[0].offset == -1);
  CHECK(core.metrics().records_failed == 1);
  // The failed batch left a gap at sequence 0: a new epoch starts at 0
  // again. As Java's idempotent producer, the epoch is bumped locally.
  CHECK(f.init_requests.size() == 1);
  CHECK(core.producer_id() == 1000);
  CHECK(core.producer_epoch() == 1);
  send_alone(f, "b", 2);
  auto call = f.take();
  CHECK(call.batches[0].header.producer_epoch == 1);
  CHECK(call.batches[0].header.base_sequence == 0);
}

TEST_CASE("core: retries stop at the retries setting") {
  producer_config c = test_config();
  c.retries = 1;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer(f.take(), {{code(kafka_error::not_enough_replicas)}});
  f.advance(200ms);
  f.answer(f.take(), {{code(kafka_error::not_enough_replicas)}});
  REQUIRE(f.reports.size() == 1);
  CHECK(f.reports[0].error == kerr(kafka_error::not_enough_replicas));
}

TEST_CASE("core: five in flight, an error on the second: retries keep order") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  for (std::uint64_t i = 0; i < 5; ++i) send_alone(f, "r" + std::to_string(i), i);
  REQUIRE(f.produce.size() == 5);
  // A sixth batch waits: at most five in flight per partition.
  send_alone(f, "r5", 5);
  REQUIRE(f.produce.size() == 5);
  std::vector<produce_call> calls;
  for (int i = 0; i < 5; ++i) calls.push_back(f.take());
  for (int i = 0; i < 5; ++i) CHECK(calls[static_cast<std::size_t>(i)].batches[0].header.base_sequence == i);
  f.answer(calls[0], {{0, 0}});
  REQUIRE(f.produce.size() == 1);  // the sixth goes out now
  calls.push_back(f.take());
  CHECK(calls[5].batches[0].header.base_sequence == 5);
  // The second fails; the broker refuses the later ones as out of order.
  f.answer(calls[1], {{code(kafka_error::not_enough_replicas)}});
  for (std::size_t i = 2; i < 6; ++i) f.answer(calls[i], {{code(kafka_error::out_of_order_sequence_number)}});
  CHECK(f.reports.size() == 1);
  CHECK(f.produce.empty());
  // After the backoff the retries go one at a time, in sequence order.
  f.advance(200ms);
  for (std::int32_t seq = 1; seq <= 5; ++seq) {
    REQUIRE(f.produce.size() == 1);
    auto call = f.take();
    CHECK(call.batches[0].header.base_sequence == seq);
    CHECK(call.batches[0].header.producer_epoch == 0);
    CHECK(call.batches[0].values == std::vector<std::string>{"r" + std::to_string(seq)});
    f.answer(call, {{0, seq}});
  }
  REQUIRE(f.reports.size() == 6);
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK(f.reports[i].record_id == i);
    CHECK(f.reports[i].offset == static_cast<std::int64_t>(i));
    CHECK_FALSE(f.reports[i].error);
  }
  CHECK(core.metrics().retries == 5);
  CHECK(f.init_requests.size() == 1);  // no epoch bump was needed
}

TEST_CASE("core: DUPLICATE_SEQUENCE_NUMBER counts as success") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer(f.take(), {{code(kafka_error::duplicate_sequence_number), 7}});
  REQUIRE(f.reports.size() == 1);
  CHECK_FALSE(f.reports[0].error);
  CHECK(f.reports[0].offset == 7);
  CHECK(f.init_requests.size() == 1);
}

TEST_CASE("core: OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch fails it and bumps the epoch") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer(f.take(), {{0, 0}});
  send_alone(f, "b", 2);
  // Sequence 1 follows the acknowledged 0: the broker lost state we cannot rebuild.
  f.answer(f.take(), {{code(kafka_error::out_of_order_sequence_number)}});
  REQUIRE(f.reports.size() == 2);
  CHECK(f.reports[1].error == kerr(kafka_error::out_of_order_sequence_number));
  CHECK(f.init_requests.size() == 1);  // bumped locally
  CHECK(core.producer_epoch() == 1);
  CHECK(core.metrics().epoch_bumps == 1);
  send_alone(f, "c", 3);
  auto call = f.take();
  CHECK(call.batches[0].header.producer_epoch == 1);
  CHECK(call.batches[0].header.base_sequence == 0);
  f.answer_ok(call);
  CHECK_FALSE(f.reports[2].error);
}

TEST_CASE("core: UNKNOWN_PRODUCER_ID after retention is retried under a new epoch") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer(f.take(), {{0, 10}});
  send_alone(f, "b", 2);
  // The log start moved past our last acknowledged offset (10): the broker
  // forgot us because our records were deleted, not because it lost any.
  f.answer(f.take(), {{code(kafka_error::unknown_producer_id), -1, -1, 11}});
  CHECK(f.reports.size() == 1);
  CHECK(core.producer_epoch() == 1);
  f.advance(200ms);
  auto call = f.take();
  CHECK(call.batches[0].values == std::vector<std::string>{"b"});
  CHECK(call.batches[0].header.producer_epoch == 1);
  CHECK(call.batches[0].header.base_sequence == 0);
  f.answer(call, {{0, 11}});
  REQUIRE(f.reports.size() == 2);
  CHECK_FALSE(f.reports[1].error);
  CHECK(f.reports[1].offset == 11);
}

TEST_CASE("core: UNKNOWN_PRODUCER_ID behind a refused first batch is retried, no epoch bump") {
  // The broker has no state for us yet: our first batch was refused (a
  // retriable error), so the second, sent meanwhile, is unknown to it.
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  send_alone(f, "b", 2);
  auto first = f.take();
  auto second = f.take();
  f.answer(first, {{code(kafka_error::not_leader_or_follower)}});
  f.answer(second, {{code(kafka_error::unknown_producer_id), -1, -1, 0}});
  CHECK(f.reports.empty());
  f.advance(200ms);
  for (std::int32_t seq = 0; seq < 2; ++seq) {
    REQUIRE(f.produce.size() == 1);
    auto call = f.take();
    CHECK(call.batches[0].header.base_sequence == seq);
    CHECK(call.batches[0].header.producer_epoch == 0);
    f.answer(call, {{0, seq}});
  }
  REQUIRE(f.reports.size() == 2);
  CHECK_FALSE(f.reports[0].error);
  CHECK_FALSE(f.reports[1].error);
  CHECK(f.init_requests.size() == 1);
  CHECK(core.metrics().epoch_bumps == 0);
}

TEST_CASE("core: an answer that overtakes an older request closes the connection; both are retried in order") {
  // The first request's answer is lost (the broker wrote the batch); the
  // second's arrives. As Java's client, the connection is closed: every
  // request on it is retried, in sequence order, one at a time.
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  send_alone(f, "b", 2);
  auto lost = f.take();
  auto second = f.take();
  f.answer(second, {{0, 1}});
  REQUIRE(f.disconnects == std::vector<std::int32_t>{1});
  CHECK(f.reports.empty());
  f.advance(200ms);
  for (std::int32_t seq = 0; seq < 2; ++seq) {
    REQUIRE(f.produce.size() == 1);
    auto retry = f.take();
    CHECK(retry.batches[0].header.base_sequence == seq);
    CHECK(retry.batches[0].header.producer_epoch == 0);
    f.answer(retry, {{code(kafka_error::duplicate_sequence_number), seq}});
  }
  REQUIRE(f.reports.size() == 2);
  CHECK(f.reports[0].record_id == 1);
  CHECK(f.reports[0].offset == 0);
  CHECK(f.reports[1].record_id == 2);
  CHECK(f.reports[1].offset == 1);
  CHECK(core.metrics().epoch_bumps == 0);
}

TEST_CASE("core: after a leader move, nothing goes to the new leader while the old one has batches out") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 2};
  auto send_to = [&](std::int32_t partition, const std::string& value, std::uint64_t id) {
    REQUIRE(f.send("t", std::nullopt, value, id, partition).status == send_status::accepted);
    f.step();
  };
  send_to(0, "a", 1);
  auto a_at_old = f.take();  // left unanswered for now
  CHECK(a_at_old.broker == 1);
  send_to(1, "c", 3);
  auto c_at_old = f.take();
  CHECK(c_at_old.broker == 2);
  // The leaders swap; broker 2's refusal of "c" makes the producer learn it.
  f.leaders["t"] = {2, 1};
  f.answer(c_at_old, {{code(kafka_error::not_leader_or_follower)}});
  send_to(0, "b", 2);
  f.advance(200ms);
  // "c" goes to its new leader; "b" waits: "a" is still out at broker 1.
  REQUIRE(f.produce.size() == 1);
  auto c_retry = f.take();
  CHECK(c_retry.broker == 1);
  CHECK(c_retry.batches[0].values == std::vector<std::string>{"c"});
  f.advance(200ms);
  CHECK(f.produce.empty());
  // Broker 1 answers "a" (not the leader any more), then "c". Now "a" goes
  // to broker 2, then "b".
  f.answer(a_at_old, {{code(kafka_error::not_leader_or_follower)}});
  f.answer(c_retry, {{0, 0}});
  f.advance(200ms);
  // Both to broker 2, "a" first: pipelined in sequence order on one connection.
  REQUIRE(f.produce.size() == 2);
  auto a_retry = f.take();
  CHECK(a_retry.broker == 2);
  CHECK(a_retry.batches[0].values == std::vector<std::string>{"a"});
  CHECK(a_retry.batches[0].header.base_sequence == 0);
  f.answer(a_retry, {{0, 0}});
  auto b_call = f.take();
  CHECK(b_call.broker == 2);
  CHECK(b_call.batches[0].values == std::vector<std::string>{"b"});
  CHECK(b_call.batches[0].header.base_sequence == 1);
  f.answer(b_call, {{0, 1}});
  REQUIRE(f.reports.size() == 3);
  for (const auto& r : f.reports) CHECK_FALSE(r.error);
  CHECK(f.disconnects.empty());
}

TEST_CASE("core: UNKNOWN_PRODUCER_ID with our records still in the log fails the batch") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer(f.take(), {{0, 10}});
  send_alone(f, "b", 2);
  f.answer(f.take(), {{code(kafka_error::unknown_producer_id), -1, -1, 0}});
  REQUIRE(f.reports.size() == 2);
  CHECK(f.reports[1].error == kerr(kafka_error::unknown_producer_id));
  CHECK(core.producer_epoch() == 1);
  send_alone(f, "c", 3);
  CHECK(f.take().batches[0].header.base_sequence == 0);
}

TEST_CASE("core: request.timeout.ms closes the connection and the batch is retried, same sequence") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  const core_time sent = f.now;
  auto lost = f.take();
  CHECK(core.next_deadline() == sent + 30000ms);
  f.advance(29999ms);
  CHECK(f.disconnects.empty());
  f.advance(1ms);
  REQUIRE(f.disconnects == std::vector<std::int32_t>{1});
  CHECK(f.reports.empty());
  f.advance(200ms);
  auto call = f.take();
  CHECK(call.broker == 1);
  CHECK(call.batches[0].header.base_sequence == lost.batches[0].header.base_sequence);
  CHECK(call.batches[0].header.producer_epoch == 0);
  // The broker had written the first attempt: it answers the retry as a duplicate.
  f.answer(call, {{code(kafka_error::duplicate_sequence_number), 0}});
  REQUIRE(f.reports.size() == 1);
  CHECK_FALSE(f.reports[0].error);
  CHECK(core.metrics().errors == 1);
}

TEST_CASE("core: an epoch bump fails a batch that may have been written") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  send_alone(f, "b", 2);
  REQUIRE(f.produce.size() == 2);
  f.produce.clear();
  f.advance(30000ms);  // both requests time out: either may have been written
  f.advance(200ms);
  auto call = f.take();  // the retries go one at a time
  CHECK(f.produce.empty());
  CHECK(call.batches[0].values == std::vector<std::string>{"a"});
  f.answer(call, {{code(kafka_error::topic_authorization_failed)}});
  // "a" failed, so the epoch is bumped; "b" cannot be re-sequenced without
  // risking a duplicate of its first attempt, so it fails too.
  REQUIRE(f.reports.size() == 2);
  CHECK(f.reports[0].error == kerr(kafka_error::topic_authorization_failed));
  CHECK(f.reports[1].error == make_error_code(producer_errc::unresolved_sequence));
  CHECK(core.producer_epoch() == 1);
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
}

TEST_CASE("core: NOT_ENOUGH_REPLICAS_AFTER_APPEND means written: not re-sequenced under a new epoch") {
  // Found by kwire sim (seed 1922): the batch was appended, the answer was an
  // error sent after the append, another partition's failure bumped the
  // epoch, and the batch went again under the new epoch at sequence 0: a
  // duplicate. It must fail instead (it may be in the log).
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 1};
  REQUIRE(f.send("t", std::nullopt, "a", 1, 0).status == send_status::accepted);
  REQUIRE(f.send("t", std::nullopt, "b", 2, 1).status == send_status::accepted);
  f.step();
  auto call = f.take();
  REQUIRE(call.batches.size() == 2);
  f.answer(call, {{code(kafka_error::not_enough_replicas_after_append)}, {code(kafka_error::message_too_large)}});
  // The epoch bump follows at once (nothing else is in flight).
  REQUIRE(core.producer_epoch() == 1);
  REQUIRE(f.reports.size() == 2);
  CHECK(f.reports[0].record_id == 2);
  CHECK(f.reports[0].error == kerr(kafka_error::message_too_large));
  CHECK(f.reports[1].record_id == 1);
  CHECK(f.reports[1].error == make_error_code(producer_errc::unresolved_sequence));
  f.advance(200ms);
  CHECK(f.produce.empty());
}

TEST_CASE("core: MESSAGE_TOO_LARGE splits a batch in halves, keeping its sequences, down to single records") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  for (std::uint64_t i = 0; i < 4; ++i)
    REQUIRE(f.send("t", std::nullopt, "r" + std::to_string(i), i, 0).status == send_status::accepted);
  f.step();
  auto whole = f.take();
  REQUIRE(whole.batches[0].values.size() == 4);
  f.answer(whole, {{code(kafka_error::message_too_large)}});
  CHECK(f.reports.empty());
  // The halves go at once (no retry backoff), one at a time like retries.
  REQUIRE(f.produce.size() == 1);
  auto first = f.take();
  CHECK(first.batches[0].values == std::vector<std::string>{"r0", "r1"});
  CHECK(first.batches[0].header.base_sequence == 0);
  CHECK(first.batches[0].header.producer_epoch == 0);
  // Still too large: it splits again.
  f.answer(first, {{code(kafka_error::message_too_large)}});
  std::int32_t sequence = 0;
  for (const std::vector<std::string>& values : {std::vector<std::string>{"r0"}, std::vector<std::string>{"r1"},
                                                 std::vector<std::string>{"r2", "r3"}}) {
    REQUIRE(f.produce.size() == 1);
    auto call = f.take();
    CHECK(call.batches[0].values == values);
    CHECK(call.batches[0].header.base_sequence == sequence);
    f.answer(call, {{0, sequence}});
    sequence += static_cast<std::int32_t>(values.size());
  }
  REQUIRE(f.reports.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(f.reports[i].record_id == i);
    CHECK(f.reports[i].offset == static_cast<std::int64_t>(i));
    CHECK_FALSE(f.reports[i].error);
  }
  CHECK(core.metrics().batch_splits == 2);
  CHECK(core.metrics().epoch_bumps == 0);
  CHECK(core.buffered_bytes() == 0);
  // A single record that is too large fails.
  REQUIRE(f.send("t", std::nullopt, "big", 9, 0).status == send_status::accepted);
  f.step();
  f.answer(f.take(), {{code(kafka_error::message_too_large)}});
  REQUIRE(f.reports.size() == 5);
  CHECK(f.reports[4].error == kerr(kafka_error::message_too_large));
}

TEST_CASE("core: delivery.timeout.ms fails queued records whose leader is unreachable") {
  producer_config c = test_config();
  c.request_timeout = 1000ms;
  c.delivery_timeout = 5000ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  f.unreachable = {1};
  for (std::uint64_t i = 0; i < 3; ++i) REQUIRE(f.send("t", std::nullopt, "x", i, 0).status == send_status::accepted);
  const core_time created = f.now;
  f.step();
  while (f.now + 100ms < created + 5000ms) f.advance(100ms);
  CHECK(f.reports.empty());
  // It kept trying, backing off 100, 200, 400, 800 ms, then every 1000 ms.
  CHECK(f.connects.size() >= 6);
  CHECK(f.connects.size() <= 10);
  f.advance(created + 5000ms - f.now);
  REQUIRE(f.reports.size() == 3);
  for (const auto& r : f.reports) CHECK(r.error == make_error_code(producer_errc::delivery_timeout));
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
}

TEST_CASE("core: throttle_time_ms holds further sends to that broker") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer_ok(f.take(), 500);
  const core_time throttled_at = f.now;
  send_alone(f, "b", 2);
  CHECK(f.produce.empty());
  CHECK(core.next_deadline() == throttled_at + 500ms);
  f.advance(throttled_at + 499ms - f.now);
  CHECK(f.produce.empty());
  f.advance(1ms);
  REQUIRE(f.produce.size() == 1);
}

TEST_CASE("core: acks=0 reports once written, without offsets") {
  producer_config c = test_config();
  c.acks = 0;
  c.enable_idempotence = false;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  REQUIRE(f.acks0_calls.size() == 1);
  CHECK(f.acks0_calls[0].acks == 0);
  CHECK(f.acks0_calls[0].batches[0].header.producer_id == -1);
  REQUIRE(f.reports.size() == 1);
  CHECK_FALSE(f.reports[0].error);
  CHECK(f.reports[0].offset == -1);
  CHECK(f.init_requests.empty());
}

TEST_CASE("core: without idempotence, two in flight and a retry reorder records") {
  producer_config c = test_config();
  c.enable_idempotence = false;
  SECTION("max.in.flight 5: the retried first batch lands after the second") {
    producer_core core(c);
    fake_cluster f(core);
    f.leaders["t"] = {1};
    send_alone(f, "a", 1);
    send_alone(f, "b", 2);
    REQUIRE(f.produce.size() == 2);
    auto first = f.take();
    auto second = f.take();
    CHECK(first.batches[0].header.base_sequence == -1);
    f.answer(first, {{code(kafka_error::not_leader_or_follower)}});
    f.answer(second, {{0, 0}});
    f.advance(200ms);
    f.answer(f.take(), {{0, 1}});
    REQUIRE(f.reports.size() == 2);
    CHECK(f.reports[0].record_id == 2);
    CHECK(f.reports[0].offset == 0);
    CHECK(f.reports[1].record_id == 1);
    CHECK(f.reports[1].offset == 1);  // "a" after "b": reordered
  }
  SECTION("max.in.flight 1: the partition waits, order kept") {
    c.max_in_flight_requests_per_connection = 1;
    producer_core core(c);
    fake_cluster f(core);
    f.leaders["t"] = {1};
    send_alone(f, "a", 1);
    send_alone(f, "b", 2);
    REQUIRE(f.produce.size() == 1);
    f.answer(f.take(), {{code(kafka_error::not_leader_or_follower)}});
    f.advance(200ms);
    auto retry = f.take();
    CHECK(retry.batches[0].values == std::vector<std::string>{"a"});
    f.answer(retry, {{0, 0}});
    f.answer(f.take(), {{0, 1}});
    CHECK(f.reported_ids() == std::vector<std::uint64_t>{1, 2});
  }
}

TEST_CASE("core: buffer.memory full asks the shell to wait; too-large records fail") {
  producer_config c = test_config();
  c.buffer_memory = 20000;
  c.max_request_size = 1000;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1, 1};
  REQUIRE(f.send("t", std::nullopt, "a", 1, 0).status == send_status::accepted);
  CHECK(f.send("t", std::nullopt, "b", 2, 1).status == send_status::wait_for_buffer);
  CHECK(f.send("t", std::nullopt, std::string(2000, 'x'), 3, 0).error ==
        make_error_code(producer_errc::record_too_large));
  f.step();
  f.answer_ok(f.take());
  CHECK(f.send("t", std::nullopt, "b", 2, 1).status == send_status::accepted);
}

TEST_CASE("core: topic errors and InitProducerId errors") {
  SECTION("a non-retriable topic error fails send") {
    producer_core core(test_config());
    fake_cluster f(core);
    f.topic_errors["bad"] = code(kafka_error::topic_authorization_failed);
    CHECK(f.send("bad", std::nullopt, "a", 1).error == kerr(kafka_error::topic_authorization_failed));
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
    f.init_pid_error = code(kafka_error::coordinator_not_available);  // retriable: retried after a backoff
    REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
    f.step();
    CHECK(f.reports.empty());
    f.init_pid_error = code(kafka_error::cluster_authorization_failed);
    f.advance(200ms);
    CHECK(f.init_requests.size() >= 2);
    REQUIRE(f.reports.size() == 1);
    CHECK(f.reports[0].error == kerr(kafka_error::cluster_authorization_failed));
    CHECK(f.send("t", std::nullopt, "b", 2).error == kerr(kafka_error::cluster_authorization_failed));
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

TEST_CASE("core: flush sends a lingering batch at once") {
  producer_config c = test_config();
  c.linger = 1000ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
  f.step();
  CHECK(f.produce.empty());
  core.flush();
  f.step();
  REQUIRE(f.produce.size() == 1);
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

TEST_CASE("core: batches are compressed with the configured codec") {
  for (auto codec : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
    producer_config c = test_config();
    c.compression_type = codec;
    c.linger = 5ms;
    producer_core core(c);
    fake_cluster f(core);
    f.leaders["t"] = {1};
    for (std::uint64_t i = 0; i < 20; ++i) REQUIRE(f.send("t", std::nullopt, std::string(100, 'z'), i, 0).status == send_status::accepted);
    f.advance(5ms);
    auto call = f.take();
    CHECK(call.batches[0].header.codec() == codec);
    CHECK(call.batches[0].values.size() == 20);
    CHECK(call.batches[0].header.batch_length < 20 * 100);
  }
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

TEST_CASE("core: null keys stick to one partition until its batch is sent") {
  producer_config c = test_config();
  c.linger = 10ms;
  producer_core core(c, core_options{7, 0});
  fake_cluster f(core);
  f.leaders["t"] = {1, 1, 1, 1};
  const auto first = f.send("t", std::nullopt, "a", 1).partition;
  for (std::uint64_t i = 2; i <= 5; ++i) CHECK(f.send("t", std::nullopt, "x", i).partition == first);
  // Keys still follow murmur2.
  CHECK(f.send("t", "foobar", "k", 6).partition == murmur2_partition(bytes_of("foobar"), 4));
  f.advance(10ms);
  REQUIRE(f.produce.size() == 1);
  const auto second = f.send("t", std::nullopt, "b", 7).partition;
  CHECK(second != first);
}

TEST_CASE("core: abort fails queued and in-flight records and closes connections") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 1};
  send_alone(f, "a", 1);  // in flight
  REQUIRE(f.produce.size() == 1);
  REQUIRE(f.send("t", std::nullopt, "b", 2, 1).status == send_status::accepted);  // queued
  core.abort(make_error_code(producer_errc::delivery_timeout));
  f.step();
  REQUIRE(f.reports.size() == 2);
  for (const auto& r : f.reports) CHECK(r.error == make_error_code(producer_errc::delivery_timeout));
  CHECK(f.disconnects.size() == 2);  // the bootstrap connection and broker 1
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
}
