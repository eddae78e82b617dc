// Kafka's delayed fetch in the cluster core: a Fetch with less than MinBytes
// is parked, and answered when an append gives it enough, when its MaxWaitMs
// passes, or when its partition changes leader; poll() hands the answers out.
#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;
using namespace std::chrono_literals;

namespace {

struct fetch_fixture {
  harness h;
  std::int32_t leader = 0;

  explicit fetch_fixture(cluster_config config = {}) : h(std::move(config)) {
    REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
    leader = h.leader("t", 0);
  }

  fetch_request request(std::int64_t offset, std::int32_t min_bytes = 1,
                        std::int32_t max_wait_ms = 500, std::int32_t partition = 0) {
    fetch_request req;
    req.max_wait_ms = max_wait_ms;
    req.min_bytes = min_bytes;
    req.max_bytes = 1 << 20;
    req.topics.push_back({"t", {}, {{partition, -1, offset, -1, -1, 1 << 20, {}, {}}}, {}});
    return req;
  }

  static std::vector<std::string> values(const fetch_response::partition_data& pd) {
    std::vector<std::string> out;
    record_batch_reader reader(pd.records.bytes());
    record_batch b;
    while (reader.next(b))
      for (const auto& r : b.records()) out.emplace_back(r.value->begin(), r.value->end());
    REQUIRE(reader.ok());
    return out;
  }

  /// The one answer poll() has now, decoded.
  fetch_response::partition_data answer(std::int32_t correlation) {
    auto answers = h.c.poll(h.now);
    REQUIRE(answers.size() == 1);
    REQUIRE(answers[0].response);
    last = answers[0];
    return harness::decode<fetch_response>(*answers[0].response, 1, 11, correlation)
        .responses.at(0)
        .partitions.at(0);
  }
  parked_response last;
};

}  // namespace

TEST_CASE("A waiting fetch is answered by the append that gives it data, at the append's time") {
  fetch_fixture f;
  auto parked = f.h.send(f.leader, f.request(0), 11, 7);
  REQUIRE(parked.parked != 0);
  CHECK_FALSE(parked.response);
  CHECK_FALSE(parked.closes());
  const std::int32_t fetch_correlation = f.h.correlation;
  CHECK(f.h.c.poll(f.h.now).empty());
  CHECK(f.h.c.next_timer() == f.h.now + 500ms);

  // An append to the other partition does not wake it.
  f.h.now += 20ms;
  f.h.produce(f.h.leader("t", 1), "t", 1, make_batch({"elsewhere"}));
  CHECK(f.h.c.poll(f.h.now).empty());

  f.h.now += 30ms;
  f.h.produce(f.leader, "t", 0, make_batch({"hello"}));
  auto pd = f.answer(fetch_correlation);
  CHECK(f.last.ticket == parked.parked);
  CHECK(f.last.broker_id == f.leader);
  CHECK(f.last.connection_id == 7);
  CHECK(f.last.send_at == f.h.now);  // 50 ms after the fetch, not 500
  CHECK(pd.error_code == 0);
  CHECK(pd.high_watermark == 1);
  CHECK(fetch_fixture::values(pd) == std::vector<std::string>{"hello"});
  CHECK_FALSE(f.h.c.next_timer());
  CHECK(f.h.c.poll(f.h.now + 1s).empty());  // answered once

  // The request log entry of the fetch got its answer.
  const auto& log = f.h.c.request_log();
  auto entry = std::find_if(log.begin(), log.end(), [&](const logged_request& e) {
    return e.header.correlation_id == fetch_correlation;
  });
  REQUIRE(entry != log.end());
  REQUIRE(entry->send_at);
  CHECK(*entry->send_at == f.h.now);
  CHECK(entry->response.as<fetch_response>() != nullptr);
}

TEST_CASE("A waiting fetch with a large MinBytes waits through small appends until MaxWaitMs") {
  fetch_fixture f;
  REQUIRE(f.h.send(f.leader, f.request(0, 1 << 20, 300), 11).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  f.h.now += 100ms;
  f.h.produce(f.leader, "t", 0, make_batch({"a"}));
  CHECK(f.h.c.poll(f.h.now).empty());
  f.h.now += 199ms;
  CHECK(f.h.c.poll(f.h.now).empty());
  f.h.now += 1ms;
  auto pd = f.answer(correlation);
  CHECK(f.last.send_at == f.h.now);
  CHECK(fetch_fixture::values(pd) == std::vector<std::string>{"a"});
}

TEST_CASE("A waiting fetch with nothing to read gets an empty answer when MaxWaitMs passes") {
  fetch_fixture f;
  f.h.c.set_broker_latency(f.leader, 3ms);
  REQUIRE(f.h.send(f.leader, f.request(0), 11).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  REQUIRE(f.h.c.next_timer() == f.h.now + 500ms);
  f.h.now += 600ms;  // a late poll still answers, as of its own time
  auto pd = f.answer(correlation);
  CHECK(pd.error_code == 0);
  CHECK(pd.records.size() == 0);
  CHECK(f.last.send_at == f.h.now + 3ms);  // the broker's latency still applies
}

TEST_CASE("Fetches that Kafka answers at once are not parked") {
  fetch_fixture f;
  // MinBytes 0, MaxWaitMs 0, an error, or enough data: answered now.
  CHECK(f.h.send(f.leader, f.request(0, 0), 11).response);
  CHECK(f.h.send(f.leader, f.request(0, 1, 0), 11).response);
  CHECK(f.h.send(f.leader, f.request(5), 11).response);  // OFFSET_OUT_OF_RANGE
  const std::int32_t other = f.leader == 1 ? 2 : 1;
  CHECK(f.h.send(other, f.request(0), 11).response);  // NOT_LEADER_OR_FOLLOWER
  f.h.produce(f.leader, "t", 0, make_batch({"x"}));
  CHECK(f.h.send(f.leader, f.request(0), 11).response);
  CHECK_FALSE(f.h.c.next_timer());
}

TEST_CASE("A leader move ends a waiting fetch with NOT_LEADER_OR_FOLLOWER") {
  fetch_fixture f;
  REQUIRE(f.h.send(f.leader, f.request(0), 11).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  f.h.now += 10ms;
  CHECK(f.h.c.poll(f.h.now).empty());
  const std::int32_t other = f.leader == 1 ? 2 : 1;
  REQUIRE(f.h.c.move_leader("t", 0, other));
  REQUIRE(f.h.c.next_timer() == f.h.now);  // due at once
  auto pd = f.answer(correlation);
  CHECK(pd.error_code == ec(kafka_error::not_leader_or_follower));
}

TEST_CASE("A deleted topic ends a waiting fetch with an error") {
  fetch_fixture f;
  REQUIRE(f.h.send(f.leader, f.request(0), 11).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  REQUIRE(f.h.c.delete_topic("t") == kafka_error::none);
  auto pd = f.answer(correlation);
  CHECK(pd.error_code == ec(kafka_error::unknown_topic_or_partition));
}

TEST_CASE("A closed connection's waiting fetch is never answered") {
  fetch_fixture f;
  REQUIRE(f.h.send(f.leader, f.request(0), 11, 9).parked != 0);
  REQUIRE(f.h.send(f.leader, f.request(0), 11, 10).parked != 0);
  f.h.c.connection_closed(f.leader, 9);
  f.h.produce(f.leader, "t", 0, make_batch({"x"}));
  auto answers = f.h.c.poll(f.h.now);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].connection_id == 10);
  CHECK_FALSE(f.h.c.next_timer());
}

TEST_CASE("Faults that fired on a waiting fetch shape its later answer") {
  fetch_fixture f;
  fault_rule delay;
  delay.match.api_key = 1;
  delay.action = fault_action::delayed(40ms);
  delay.count = 1;
  f.h.c.add_fault(delay);
  fault_rule throttle;
  throttle.match.api_key = 1;
  throttle.action = fault_action::throttled(77);
  throttle.count = 1;
  f.h.c.add_fault(throttle);
  fault_rule close;
  close.match.api_key = 1;
  close.action = fault_action::of(fault_kind::close_after_response);
  close.count = 1;
  f.h.c.add_fault(close);
  auto parked = f.h.send(f.leader, f.request(0), 11);
  REQUIRE(parked.parked != 0);
  CHECK_FALSE(parked.close_after_response);  // it comes with the answer
  const std::int32_t correlation = f.h.correlation;
  f.h.now += 5ms;
  f.h.produce(f.leader, "t", 0, make_batch({"x"}));
  auto answers = f.h.c.poll(f.h.now);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].send_at == f.h.now + 40ms);
  CHECK(answers[0].close_after_response);
  CHECK(answers[0].close_reason == "fault: close after response");
  REQUIRE(answers[0].response);
  auto r = harness::decode<fetch_response>(*answers[0].response, 1, 11, correlation);
  CHECK(r.throttle_time_ms == 77);

  // A fetch whose request a drop fault takes is not parked at all.
  fault_rule drop;
  drop.match.api_key = 1;
  drop.action = fault_action::of(fault_kind::drop);
  drop.count = 1;
  f.h.c.add_fault(drop);
  auto dropped = f.h.send(f.leader, f.request(1), 11);
  CHECK(dropped.parked == 0);
  CHECK_FALSE(dropped.response);
  CHECK_FALSE(f.h.c.next_timer());
}
