// The named scenarios of issue 6, each played in the simulation shell with
// the unchanged producer and cluster cores, asserting the exact outcome in
// virtual time. Link latency is 1 ms each way unless a case says otherwise;
// retry backoff is a flat 100 ms (jitter is +-20%, so retry times are read
// from the trace where they matter and checked against the window).
#include "kwire/sim/world.hpp"

#include <catch2/catch.hpp>

#include "kwire/producer/errors.hpp"
#include "sim_harness.hpp"

using namespace kwire;
using namespace kwire::sim;
using namespace kwire::sim::testing;

namespace {

[[maybe_unused]] std::error_code kerr(kafka_error e) { return make_error_code(e); }

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

TEST_CASE("scenario: leader moved mid-batch") {
  auto config = base_config();
  config.linger = 5ms;
  sim_case s(config, 1, {}, 10ms);
  // Warm up: metadata, producer id, the connection to broker 1.
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  const ms t0 = 1000ms;
  for (int i = 0; i < 3; ++i) s.send(t0);
  // The batch leaves at t0 + 5 ms (linger) and reaches broker 1 10 ms later;
  // leadership moves to broker 2 while it is on the wire.
  s.w.at(t0 + 10ms, "move the leader to broker 2",
         [](world& w) { REQUIRE(w.cluster().move_leader("t", 0, 2)); });
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  const auto produce = s.produce_log();
  INFO(joined(produce));
  REQUIRE(produce.size() == 3);
  CHECK(produce[1].find("1.015s b1 acks=-1 [t-0 pid 1000 epoch 0 seq 1..3: r1 r2 r3] -> [t-0 "
                        "NOT_LEADER_OR_FOLLOWER") == 0);
  CHECK(
      produce[2].find(" b2 acks=-1 [t-0 pid 1000 epoch 0 seq 1..3: r1 r2 r3] -> [t-0 ok base 1") !=
      std::string::npos);
  for (std::uint64_t id = 1; id <= 3; ++id) {
    const auto& r = s.w.records()[id];
    CHECK_FALSE(r.error);
    CHECK(r.offset == static_cast<std::int64_t>(id));
    // NOT_LEADER back at 1.025; metadata round trip to 1.045; backoff to
    // 1.125; connect and ApiVersions to broker 2; Produce lands at 1.175.
    CHECK(r.reported_at == 1185ms);
  }
  CHECK(s.log_values() == std::vector<std::string>{"r0:", "r1:", "r2:", "r3:"});
  CHECK(s.w.producer().metrics().retries == 1);
  CHECK(s.check().ok());
}

TEST_CASE("scenario: acknowledgement lost, then retry") {
  sim_case s(base_config());
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  // The next Produce is appended, and its answer never comes.
  mockbroker::fault_rule lost;
  lost.match.api_key = 0;
  lost.action = mockbroker::fault_action::of(mockbroker::fault_kind::append_then_drop);
  lost.count = 1;
  const auto rule = s.w.cluster().add_fault(lost);
  s.send(1000ms);
  s.send(1000ms);
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  const auto produce = s.produce_log();
  INFO(joined(produce));
  CHECK(s.w.cluster().fired(rule) == 1);
  REQUIRE(produce.size() == 3);
  CHECK(produce[1] == "1.001s b1 acks=-1 [t-0 pid 1000 epoch 0 seq 1..2: r1 r2] -> (no response)");
  // request.timeout.ms (1000) after the write at 1.000: the connection is
  // closed; after the backoff the batch goes again, same producer id, epoch
  // and sequence, and the broker answers with where it already put it.
  CHECK(produce[2].find("b1 acks=-1 [t-0 pid 1000 epoch 0 seq 1..2: r1 r2] -> [t-0 ok base 1") !=
        std::string::npos);
  for (std::uint64_t id = 1; id <= 2; ++id) {
    const auto& r = s.w.records()[id];
    CHECK_FALSE(r.error);
    CHECK(r.offset == static_cast<std::int64_t>(id));
    // Timed out at 2.000, metadata, backoff to 2.100, reconnect, ApiVersions,
    // the retry lands at 2.105 and its answer is back at 2.106.
    CHECK(r.reported_at == 2106ms);
  }
  CHECK(s.log_values() == std::vector<std::string>{"r0:", "r1:", "r2:"});
  CHECK(s.w.producer().metrics().retries == 1);
  CHECK(s.w.producer().producer_epoch() == 0);
  CHECK(s.check().ok());
}

TEST_CASE("scenario: five requests in flight, an error on the second") {
  auto config = base_config();
  config.batch_size = 0;  // one record per batch, so one batch per request
  sim_case s(config);
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  // Broker 1 answers 20 ms after a request arrives, so five are in flight.
  s.w.cluster().set_broker_latency(1, 20ms);
  mockbroker::fault_rule second;
  second.match.api_key = 0;
  second.match.nth = 2;
  second.action = mockbroker::fault_action::error(kafka_error::not_enough_replicas);
  second.count = 1;
  s.w.cluster().add_fault(second);
  for (int i = 0; i < 5; ++i) s.send(1000ms);
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  const auto produce = s.produce_log();
  INFO(joined(produce));
  REQUIRE(produce.size() == 10);  // the warm-up, five, and four retries
  // The first five: seq 1 ok, seq 2 refused, seq 3..5 out of order behind it.
  CHECK(produce[1].find("[t-0 pid 1000 epoch 0 seq 1..1: r1] -> [t-0 ok base 1") !=
        std::string::npos);
  CHECK(produce[2].find("[t-0 pid 1000 epoch 0 seq 2..2: r2] -> [t-0 NOT_ENOUGH_REPLICAS ") !=
        std::string::npos);
  for (std::size_t i = 3; i <= 5; ++i)
    CHECK(produce[i].find("-> [t-0 OUT_OF_ORDER_SEQUENCE_NUMBER") != std::string::npos);
  for (std::uint64_t id = 1; id <= 5; ++id) {
    const auto& r = s.w.records()[id];
    CHECK_FALSE(r.error);
    CHECK(r.offset == static_cast<std::int64_t>(id));
  }
  // All five answers are back at 1.022: r1 is done; after a 100 ms backoff
  // the others go again one at a time, in sequence order, 22 ms apart.
  const std::vector<ms> reported = {1022ms, 1144ms, 1166ms, 1188ms, 1210ms};
  for (std::size_t i = 0; i < 5; ++i) CHECK(s.w.records()[i + 1].reported_at == reported[i]);
  for (std::size_t i = 6; i < 10; ++i)
    CHECK(produce[i].find(" ok base " + std::to_string(i - 4)) != std::string::npos);
  CHECK(s.log_values() == std::vector<std::string>{"r0:", "r1:", "r2:", "r3:", "r4:", "r5:"});
  CHECK(s.w.producer().producer_epoch() == 0);  // no epoch bump was needed
  CHECK(s.check().ok());
}

TEST_CASE("scenario: broker down past request.timeout.ms") {
  sim_case s(base_config());
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  // Broker 1 dies silently while r1 is on the wire: no reset reaches the
  // producer; the cluster moves its leadership to broker 2.
  s.send(1000ms);
  s.w.at(1000ms, "broker 1 dies silently", [](world& w) {
    w.set_unreachable(1, true);
    REQUIRE(w.cluster().broker_down(1, true));
  });
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  const auto produce = s.produce_log();
  INFO(joined(produce));
  REQUIRE(produce.size() == 2);  // the first attempt never reached the cluster
  CHECK(produce[1].find("b2 acks=-1 [t-0 pid 1000 epoch 0 seq 1..1: r1] -> [t-0 ok base 1") !=
        std::string::npos);
  const auto& r = s.w.records()[1];
  CHECK_FALSE(r.error);
  CHECK(r.offset == 1);
  // request.timeout.ms runs out at 2.000 (the core closes the connection),
  // metadata names broker 2, backoff to 2.100, connect, ApiVersions, Produce.
  CHECK(r.reported_at == 2106ms);
  CHECK(r.reported_at > 1000ms + s.w.producer().config().request_timeout);
  CHECK(s.log_values() == std::vector<std::string>{"r0:", "r1:"});
  CHECK(s.check().ok());
}

TEST_CASE("scenario: delivery.timeout.ms expires with records queued") {
  auto config = base_config();
  config.delivery_timeout = 3000ms;
  config.linger = 0ms;
  config.max_in_flight_requests_per_connection = 1;
  sim_case s(config);
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  // Broker 1 goes down for good and nobody takes over: the partition is offline.
  s.w.at(1000ms, "broker 1 down, partition offline",
         [](world& w) { REQUIRE(w.cluster().broker_down(1, false)); });
  for (int i = 0; i < 4; ++i) s.send(1000ms + ms(100 * i));
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  for (std::uint64_t id = 1; id <= 4; ++id) {
    const auto& r = s.w.records()[id];
    INFO("r" << id);
    CHECK(r.error == make_error_code(producer_errc::delivery_timeout));
    CHECK(r.offset == -1);
    REQUIRE(r.accepted_at);
  }
  // r1's batch was tried (its connection closed under it); r2, r3 and r4
  // queued into one batch created when r2 arrived, so all three expire at
  // r2's acceptance + delivery.timeout.ms, to the millisecond.
  CHECK(s.w.records()[1].reported_at == 4000ms);
  for (std::uint64_t id = 2; id <= 4; ++id) CHECK(s.w.records()[id].reported_at == 4100ms);
  CHECK(s.log_values() == std::vector<std::string>{"r0:"});
  CHECK(s.w.producer().pending_records() == 0);
  CHECK(s.w.producer().buffered_bytes() == 0);
  CHECK(s.check().ok());
}

TEST_CASE("scenario: OUT_OF_ORDER_SEQUENCE_NUMBER after a failover") {
  sim_case s(base_config());
  s.send(0ms);
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  // Broker 1 fails; broker 2 takes the partition over but (as a leader that
  // missed the producer's last batches would) refuses the next sequence.
  s.w.at(1000ms, "broker 1 down, leader moves to 2", [](world& w) {
    REQUIRE(w.cluster().broker_down(1, true));
    w.cut_connections_to(1);
    mockbroker::fault_rule oos;
    oos.match.api_key = 0;
    oos.match.broker = 2;
    oos.action = mockbroker::fault_action::error(kafka_error::out_of_order_sequence_number);
    oos.count = 1;
    w.cluster().add_fault(oos);
  });
  s.send(1000ms);
  s.send(1500ms);
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  const auto produce = s.produce_log();
  INFO(joined(produce));
  // r2 is the next expected batch: it fails, and the epoch is bumped.
  const auto& r2 = s.w.records()[2];
  CHECK(r2.error == kerr(kafka_error::out_of_order_sequence_number));
  CHECK(r2.reported_at == 1008ms);  // the first answer from the new leader
  CHECK(s.w.producer().producer_epoch() == 1);
  // r3 starts the new epoch at sequence 0 on broker 2.
  const auto& r3 = s.w.records()[3];
  CHECK_FALSE(r3.error);
  CHECK(r3.offset == 2);
  CHECK(produce.back().find("b2 acks=-1 [t-0 pid 1000 epoch 1 seq 0..0: r3] -> [t-0 ok base 2") !=
        std::string::npos);
  CHECK(s.log_values() == std::vector<std::string>{"r0:", "r1:", "r3:"});
  auto result = s.check();
  // The checker, told nothing of this schedule, flags r2's failure (and nothing else).
  REQUIRE(result.violations.size() == 1);
  CHECK(result.violations[0].kind == "unexpected_failure");
  CHECK(result.violations[0].record == 2);
}

TEST_CASE("scenario: UNKNOWN_PRODUCER_ID after the log was truncated") {
  mockbroker::topic_config settings;
  settings.retention_records = 1;  // only the newest batch stays
  sim_case s(base_config(), 1, settings);
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  REQUIRE(s.w.records()[0].offset == 0);
  // Another producer writes; retention drops r0's batch (log start 1), and
  // with it the broker forgets our producer, as Kafka does.
  s.w.at(1000ms, "another producer writes, retention truncates", [&](world& w) {
    const auto payload = raw_produce("t", 0, {"other"});
    const auto r =
        w.cluster().handle(1, 999, payload, mockbroker::time_point(ms(1'700'000'001'000)));
    REQUIRE(r.response);
    REQUIRE(w.cluster().clear_producer_state("t", 0));
  });
  s.send(2000ms);
  REQUIRE(s.w.run_until_reported(20000ms));
  INFO(s.trace());
  const auto produce = s.produce_log();
  INFO(joined(produce));
  // seq 1 from a producer the partition forgot: UNKNOWN_PRODUCER_ID with log
  // start 1 > our last acknowledged offset 0, so nothing of ours was lost:
  // new epoch, sequence 0, and the record lands after the other producer's.
  CHECK(
      produce[produce.size() - 2].find(
          "[t-0 pid 1000 epoch 0 seq 1..1: r1] -> [t-0 UNKNOWN_PRODUCER_ID base -1 log start 1]") !=
      std::string::npos);
  CHECK(produce.back().find("[t-0 pid 1000 epoch 1 seq 0..0: r1] -> [t-0 ok base 2") !=
        std::string::npos);
  const auto& r1 = s.w.records()[1];
  CHECK_FALSE(r1.error);
  CHECK(r1.offset == 2);
  CHECK(r1.reported_at == 2104ms);  // after one InitProducerId and a 100 ms backoff
  CHECK(s.w.producer().producer_epoch() == 1);
  CHECK(s.log_values() ==
        std::vector<std::string>{"r1:"});  // retention keeps the newest batch only
}
