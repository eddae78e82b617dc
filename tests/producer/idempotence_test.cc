// The idempotence part alone: producer id, epochs, sequences, and the errors
// it decides. No network: the answers are handed in directly.
#include "kwire/producer/detail/idempotence.hpp"

#include <catch2/catch.hpp>

#include <limits>

using namespace kwire;
using namespace kwire::detail;
using namespace std::chrono_literals;

namespace {

using step = idempotence_manager::step;
using outcome = idempotence_manager::outcome;
constexpr std::int32_t int32_max = std::numeric_limits<std::int32_t>::max();

producer_config test_config() {
  producer_config c;
  c.bootstrap_servers = {{"boot", 9092}};
  return c;
}

init_producer_id_response pid_answer(std::int64_t id, std::int16_t epoch,
                                     kafka_error error = kafka_error::none) {
  init_producer_id_response r;
  r.error_code = static_cast<std::int16_t>(error);
  r.producer_id = id;
  r.producer_epoch = epoch;
  return r;
}

// A closed batch of `n` records, as the accumulator makes them.
std::unique_ptr<producer_batch> batch_of(int n, std::int32_t base_sequence = -1) {
  record_accumulator acc({16384, 1 << 20, 1 << 20, 0ms, compression::none});
  partition_queue q("t", 0);
  for (int i = 0; i < n; ++i)
    REQUIRE(acc.append(q, 0, std::nullopt, bytes_of("v"), {}, static_cast<std::uint64_t>(i),
                       core_time{}) != append_status::record_too_large);
  auto b = acc.take_front(q);
  REQUIRE(b->close());
  b->base_sequence = base_sequence;
  return b;
}

// A manager that has its producer id (7, epoch `epoch`).
void start(idempotence_manager& m, std::int16_t epoch = 0) {
  REQUIRE(m.next_step(core_time{}, 0) == step::request);
  m.on_request_sent();
  REQUIRE(m.on_response(pid_answer(7, epoch), core_time{}) == outcome::started);
  REQUIRE(m.ready_to_send());
}

}  // namespace

TEST_CASE(
    "idempotence: sequences are given per batch in drain order and wrap from INT32_MAX to 0") {
  core_context ctx(test_config());
  idempotence_manager m(ctx, true);
  CHECK_FALSE(m.ready_to_send());
  start(m, 3);
  CHECK(m.make_request().transactional_id == std::nullopt);
  partition_sequences s;
  s.next = int32_max - 1;
  auto b = batch_of(3);
  m.on_drained(s, *b);
  CHECK(b->base_sequence == int32_max - 1);
  CHECK(s.next == 1);
  CHECK(s.in_flight.count(int32_max - 1) == 1);
  auto read = read_record_batch(b->encoded);
  REQUIRE(read);
  CHECK(read->header().producer_id == 7);
  CHECK(read->header().producer_epoch == 3);
  CHECK(read->header().base_sequence == int32_max - 1);
  // A retry keeps its sequence.
  m.on_returned(s, *b);
  CHECK(s.in_flight.empty());
  m.on_drained(s, *b);
  CHECK(b->base_sequence == int32_max - 1);
  CHECK(s.next == 1);
  m.on_returned(s, *b);
  m.on_acked(s, *b, 100);
  CHECK(s.last_acked == 0);  // INT32_MAX - 1, INT32_MAX, 0
  CHECK(s.last_acked_offset == 102);
  CHECK(sequence_after(0, int32_max));
  CHECK_FALSE(sequence_after(int32_max, 0));
}

TEST_CASE("idempotence: which error answers it decides, and when they need a new epoch") {
  core_context ctx(test_config());
  idempotence_manager m(ctx, true);
  start(m);
  partition_sequences s;
  s.last_acked = 4;
  s.last_acked_offset = 50;
  const auto next = batch_of(2, 5);   // next in line after sequence 4
  const auto later = batch_of(2, 7);  // an earlier batch is unresolved
  const auto oos = static_cast<std::int16_t>(kafka_error::out_of_order_sequence_number);
  const auto unknown = static_cast<std::int16_t>(kafka_error::unknown_producer_id);

  SECTION("not its business") {
    CHECK_FALSE(
        m.retriable(s, *next, static_cast<std::int16_t>(kafka_error::not_leader_or_follower), -1));
    CHECK(m.counts_as_success(static_cast<std::int16_t>(kafka_error::duplicate_sequence_number)));
    CHECK(m.ready_to_send());
  }
  SECTION("OUT_OF_ORDER_SEQUENCE_NUMBER behind an unresolved batch: retried") {
    CHECK(m.retriable(s, *later, oos, -1) == true);
    CHECK(m.ready_to_send());
  }
  SECTION("OUT_OF_ORDER_SEQUENCE_NUMBER for the next in line: fails, epoch to bump") {
    CHECK(m.retriable(s, *next, oos, -1) == false);
    CHECK_FALSE(m.ready_to_send());
  }
  SECTION("UNKNOWN_PRODUCER_ID behind an unresolved batch, or without a log start: retried") {
    CHECK(m.retriable(s, *later, unknown, 100) == true);
    CHECK(m.retriable(s, *next, unknown, -1) == true);
    CHECK(m.ready_to_send());
  }
  SECTION("UNKNOWN_PRODUCER_ID with the log start past our records: retried under a new epoch") {
    CHECK(m.retriable(s, *next, unknown, 51) == true);
    CHECK_FALSE(m.ready_to_send());
  }
  SECTION("UNKNOWN_PRODUCER_ID with our records still in the log: fails, epoch to bump") {
    CHECK(m.retriable(s, *next, unknown, 50) == false);
    CHECK_FALSE(m.ready_to_send());
  }
  SECTION("a retry goes only when no earlier batch is out") {
    s.in_flight = {5};
    CHECK_FALSE(m.may_send(s, *later));
    CHECK(m.may_send(s, *next));
  }
}

TEST_CASE(
    "idempotence: a bump waits for nothing in flight, then raises the epoch without a request") {
  core_context ctx(test_config());
  idempotence_manager m(ctx, true);
  start(m, 5);
  const auto failed = batch_of(1, 0);
  m.on_failed(*failed);
  CHECK_FALSE(m.ready_to_send());
  CHECK(m.next_step(core_time{}, 1) == step::nothing);  // a Produce request is still out
  CHECK(m.next_step(core_time{}, 0) == step::bump_epoch);
  CHECK(m.producer_id() == 7);
  CHECK(m.producer_epoch() == 6);
  CHECK(ctx.metrics.epoch_bumps == 1);
  CHECK(m.ready_to_send());
  partition_sequences s;
  s.next = 9;
  s.last_acked = 8;
  s.in_flight = {3};
  idempotence_manager::restart(s);
  CHECK(s.next == 0);
  CHECK(s.last_acked == -1);
  CHECK(s.in_flight.empty());
}

TEST_CASE("idempotence: at the last epoch a bump asks for a new producer id") {
  core_context ctx(test_config());
  idempotence_manager m(ctx, true);
  start(m, std::numeric_limits<std::int16_t>::max());
  m.on_failed(*batch_of(1, 0));
  CHECK(m.next_step(core_time{}, 0) == step::request);
  m.on_request_sent();
  CHECK(m.on_response(pid_answer(8, 0), core_time{}) == outcome::new_epoch);
  CHECK(m.producer_id() == 8);
  CHECK(ctx.metrics.epoch_bumps == 1);
}

TEST_CASE("idempotence: InitProducerId errors and lost requests") {
  core_context ctx(test_config());
  idempotence_manager m(ctx, true);
  const core_time t0 = from_unix_ms(1000);
  REQUIRE(m.next_step(t0, 0) == step::request);
  m.on_request_sent();
  SECTION("a retriable error: asked again after retry.backoff.ms") {
    CHECK(m.on_response(pid_answer(-1, -1, kafka_error::coordinator_not_available), t0) ==
          outcome::retry_later);
    CHECK(m.next_step(t0 + 99ms, 0) == step::nothing);
    CHECK(ctx.deadline == t0 + 100ms);
    CHECK(m.next_step(t0 + 100ms, 0) == step::request);
  }
  SECTION("a lost request: the same") {
    m.on_request_lost(t0);
    CHECK(m.next_step(t0 + 99ms, 0) == step::nothing);
    CHECK(m.next_step(t0 + 100ms, 0) == step::request);
  }
  SECTION("a fatal error: for good") {
    CHECK(m.on_response(pid_answer(-1, -1, kafka_error::cluster_authorization_failed), t0) ==
          outcome::fatal);
    CHECK(m.fatal());
    CHECK(m.fatal_error() == static_cast<std::int16_t>(kafka_error::cluster_authorization_failed));
    CHECK(m.next_step(t0 + 1000000ms, 0) == step::nothing);
    CHECK_FALSE(m.ready_to_send());
  }
}

TEST_CASE("idempotence: disabled, it permits everything and decides nothing") {
  core_context ctx(test_config());
  idempotence_manager m(ctx, false);
  CHECK(m.ready_to_send());
  CHECK(m.next_step(core_time{}, 0) == step::nothing);
  partition_sequences s;
  auto b = batch_of(2);
  m.on_drained(s, *b);
  CHECK(b->base_sequence == -1);
  CHECK(s.next == 0);
  CHECK_FALSE(
      m.retriable(s, *b, static_cast<std::int16_t>(kafka_error::out_of_order_sequence_number), -1));
  CHECK_FALSE(
      m.counts_as_success(static_cast<std::int16_t>(kafka_error::duplicate_sequence_number)));
}
