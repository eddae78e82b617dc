// The producer core against the scripted fake cluster, in virtual time:
// error answers, retries and idempotent sequences (epoch bumps, ordering of
// retries in flight, lost or overtaken requests, leader moves).
#include "kwire/producer/producer_core.hpp"

#include <catch2/catch.hpp>

#include "fake_cluster.hpp"

using namespace kwire;
using namespace kwire::test;
using namespace std::chrono_literals;

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
  for (int i = 0; i < 5; ++i)
    CHECK(calls[static_cast<std::size_t>(i)].batches[0].header.base_sequence == i);
  f.answer(calls[0], {{0, 0}});
  REQUIRE(f.produce.size() == 1);  // the sixth goes out now
  calls.push_back(f.take());
  CHECK(calls[5].batches[0].header.base_sequence == 5);
  // The second fails; the broker refuses the later ones as out of order.
  f.answer(calls[1], {{code(kafka_error::not_enough_replicas)}});
  for (std::size_t i = 2; i < 6; ++i)
    f.answer(calls[i], {{code(kafka_error::out_of_order_sequence_number)}});
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

TEST_CASE(
    "core: OUT_OF_ORDER_SEQUENCE_NUMBER for the next expected batch fails it and bumps the epoch") {
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

TEST_CASE(
    "core: an answer that overtakes an older request closes the connection; both are retried in "
    "order") {
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

TEST_CASE(
    "core: after a leader move, nothing goes to the new leader while the old one has batches out") {
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

TEST_CASE(
    "core: request.timeout.ms closes the connection and the batch is retried, same sequence") {
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

TEST_CASE(
    "core: NOT_ENOUGH_REPLICAS_AFTER_APPEND means written: not re-sequenced under a new epoch") {
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
  f.answer(call, {{code(kafka_error::not_enough_replicas_after_append)},
                  {code(kafka_error::message_too_large)}});
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
