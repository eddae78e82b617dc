// Fault injection: every action, matching, counting, probability replay.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

fault_rule rule_for(fault_action action, std::optional<std::int16_t> key = std::int16_t{0}) {
  fault_rule r;
  r.match.api_key = key;
  r.action = action;
  return r;
}

}  // namespace

TEST_CASE("Fault: return an error code instead of processing") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto id = h.c.add_fault(rule_for(fault_action::error(kafka_error::not_leader_or_follower)));
  auto r = h.produce(leader, "t", 0, make_batch({"a"}));
  CHECK(r.error_code == ec(kafka_error::not_leader_or_follower));
  CHECK(h.last.faults == std::vector<applied_fault>{{id, fault_kind::error}});
  CHECK(h.c.read("t", 0).empty());
  CHECK(h.c.fired(id) == 1);
  // Whole-request errors on other APIs land at the top level.
  fault_rule ipid =
      rule_for(fault_action::error(kafka_error::coordinator_load_in_progress), std::int16_t{22});
  h.c.add_fault(ipid);
  auto i = h.call<init_producer_id_response>(1, init_producer_id_request{}, 3);
  CHECK(i.error_code == ec(kafka_error::coordinator_load_in_progress));
  CHECK(i.producer_id == -1);
}

TEST_CASE("Fault: matching on topic, partition, producer id, broker and version") {
  harness h;
  REQUIRE(h.c.create_topic("t", {2, 3, false, -1, 0, 0, {}}) == kafka_error::none);
  auto [pid, epoch] = h.c.allocate_producer_id();
  fault_rule r = rule_for(fault_action::error(kafka_error::request_timed_out));
  r.match.topic = "t";
  r.match.partition = 1;
  r.match.producer_id = pid;
  auto id = h.c.add_fault(r);
  produce_request req = produce_of("t", 0, make_batch({"a"}, pid, epoch, 0));
  req.topic_data[0].partition_data.push_back({1, record_set(make_batch({"b"}, pid, epoch, 0)), {}});
  // Both partitions in one request to a broker that leads both.
  REQUIRE(h.c.move_leader("t", 0, 1));
  REQUIRE(h.c.move_leader("t", 1, 1));
  auto resp = h.call<produce_response>(1, req, 9);
  CHECK(resp.responses[0].partition_responses[0].error_code == 0);
  CHECK(resp.responses[0].partition_responses[1].error_code == ec(kafka_error::request_timed_out));
  CHECK(h.c.fired(id) == 1);
  // Another producer does not match.
  CHECK(h.produce(1, "t", 1, make_batch({"c"})).error_code == 0);
  CHECK(h.c.fired(id) == 1);

  fault_rule by_broker =
      rule_for(fault_action::error(kafka_error::unknown_server_error), std::int16_t{3});
  by_broker.match.broker = 2;
  by_broker.match.api_version = 9;
  h.c.add_fault(by_broker);
  metadata_request all;
  all.topics = std::nullopt;
  CHECK(h.call<metadata_response>(1, all, 9).topics.at(0).error_code == 0);
  CHECK(h.call<metadata_response>(2, all, 8).topics.at(0).error_code == 0);
  CHECK(h.call<metadata_response>(2, all, 9).topics.at(0).error_code ==
        ec(kafka_error::unknown_server_error));
}

TEST_CASE("Fault: the n-th matching request, a count, and the counters") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  fault_rule r = rule_for(fault_action::error(kafka_error::not_enough_replicas));
  r.match.nth = 3;
  r.count = 2;
  auto id = h.c.add_fault(r);
  std::vector<std::int16_t> codes;
  for (int i = 0; i < 6; ++i)
    codes.push_back(h.produce(leader, "t", 0, make_batch({"a"})).error_code);
  const auto e = ec(kafka_error::not_enough_replicas);
  CHECK(codes == std::vector<std::int16_t>{0, 0, e, e, 0, 0});
  auto status = h.c.faults();
  REQUIRE(status.size() == 1);
  CHECK(status[0].id == id);
  CHECK(status[0].matched == 6);
  CHECK(status[0].fired == 2);
  CHECK(h.c.remove_fault(id));
  CHECK_FALSE(h.c.remove_fault(id));
  h.c.add_fault(r);
  h.c.add_fault(r);
  CHECK(h.c.faults().size() == 2);
  h.c.clear_faults();
  CHECK(h.c.faults().empty());
}

TEST_CASE("Fault: a probability from the seeded source replays with the same seed") {
  auto run = [](std::uint64_t seed) {
    cluster_config config;
    config.seed = seed;
    harness h(config);
    REQUIRE(h.c.create_topic("t") == kafka_error::none);
    fault_rule r = rule_for(fault_action::error(kafka_error::network_exception));
    r.match.probability = 0.5;
    h.c.add_fault(r);
    std::vector<bool> fired;
    for (int i = 0; i < 64; ++i)
      fired.push_back(h.produce(h.leader("t"), "t", 0, make_batch({"a"})).error_code != 0);
    return fired;
  };
  const auto a = run(7);
  CHECK(a == run(7));
  CHECK(a != run(8));
  const auto hits = std::count(a.begin(), a.end(), true);
  CHECK(hits > 10);
  CHECK(hits < 54);
}

TEST_CASE("Fault: delay, throttle and broker latency move send_at or ThrottleTimeMs") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  h.c.add_fault(rule_for(fault_action::delayed(std::chrono::milliseconds(300))));
  REQUIRE(h.c.set_broker_latency(leader, std::chrono::milliseconds(20)));
  h.produce(leader, "t", 0, make_batch({"a"}));
  CHECK(h.last.send_at == h.now + std::chrono::milliseconds(320));
  h.c.clear_faults();
  h.c.add_fault(rule_for(fault_action::throttled(1500)));
  auto r = h.call<produce_response>(leader, produce_of("t", 0, make_batch({"b"})), 9);
  CHECK(r.throttle_time_ms == 1500);
  CHECK(h.last.send_at == h.now + std::chrono::milliseconds(20));
  CHECK(h.c.read("t", 0).size() == 2);
}

TEST_CASE("Fault: drop, and close before processing, do not process") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto id = h.c.add_fault(rule_for(fault_action::of(fault_kind::drop)));
  auto dropped = h.send(leader, produce_of("t", 0, make_batch({"a"})), 9);
  CHECK_FALSE(dropped.response);
  CHECK_FALSE(dropped.closes());
  h.c.remove_fault(id);
  h.c.add_fault(rule_for(fault_action::of(fault_kind::close_before)));
  auto closed = h.send(leader, produce_of("t", 0, make_batch({"a"})), 9);
  CHECK_FALSE(closed.response);
  CHECK(closed.close_before_response);
  CHECK(closed.close_reason == "fault: close before processing");
  CHECK(h.c.read("t", 0).empty());
}

TEST_CASE("Fault: close after processing, close after the response") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto id = h.c.add_fault(rule_for(fault_action::of(fault_kind::close_after_processing)));
  auto a = h.send(leader, produce_of("t", 0, make_batch({"a"})), 9);
  CHECK_FALSE(a.response);
  CHECK(a.closes());
  CHECK(h.c.read("t", 0).size() == 1);
  h.c.remove_fault(id);
  h.c.add_fault(rule_for(fault_action::of(fault_kind::close_after_response)));
  auto b = h.send(leader, produce_of("t", 0, make_batch({"b"})), 9);
  REQUIRE(b.response);
  CHECK(b.close_after_response);
  CHECK_FALSE(b.close_before_response);
  CHECK(h.c.read("t", 0).size() == 2);
}

TEST_CASE("Fault: append then answer with an error; the retry is a duplicate, not a second copy") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto [pid, epoch] = h.c.allocate_producer_id();
  fault_rule r = rule_for(fault_action::append_then_error(kafka_error::not_leader_or_follower));
  r.count = 1;
  h.c.add_fault(r);
  auto batch = make_batch({"a", "b"}, pid, epoch, 0);
  auto first = h.produce(leader, "t", 0, batch);
  CHECK(first.error_code == ec(kafka_error::not_leader_or_follower));
  CHECK(first.base_offset == -1);
  CHECK(h.c.read("t", 0).size() == 2);
  auto retry = h.produce(leader, "t", 0, batch);
  CHECK(retry.error_code == 0);
  CHECK(retry.base_offset == 0);
  CHECK(h.c.read("t", 0).size() == 2);
}

TEST_CASE("Fault: append and never answer (the acknowledgement lost)") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto [pid, epoch] = h.c.allocate_producer_id();
  fault_rule r = rule_for(fault_action::of(fault_kind::append_then_drop));
  r.count = 1;
  h.c.add_fault(r);
  auto batch = make_batch({"a"}, pid, epoch, 0);
  auto lost = h.send(leader, produce_of("t", 0, batch), 9);
  CHECK_FALSE(lost.response);
  CHECK_FALSE(lost.closes());
  CHECK(h.produce(leader, "t", 0, batch).base_offset == 0);
  CHECK(h.produce(leader, "t", 0, make_batch({"b"}, pid, epoch, 1)).base_offset == 1);
  auto stored = h.c.read("t", 0);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].value_string() == "a");
  CHECK(stored[1].value_string() == "b");
}

TEST_CASE("The request log records requests, responses, times and faults, bounded") {
  cluster_config config;
  config.request_log_capacity = 3;
  harness h(config);
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  auto id = h.c.add_fault(rule_for(fault_action::delayed(std::chrono::milliseconds(5))));
  h.produce(leader, "t", 0, make_batch({"a"}));
  const auto& log = h.c.request_log();
  REQUIRE(log.size() == 1);
  const auto& e = log.back();
  CHECK(e.broker_id == leader);
  CHECK(e.connection_id == 1);
  CHECK(e.header.api_key == 0);
  CHECK(e.header.api_version == 9);
  CHECK(e.header.client_id == std::optional<std::string>("kwire-test"));
  CHECK(e.arrival == h.now);
  CHECK(e.send_at == h.now + std::chrono::milliseconds(5));
  REQUIRE(e.request.as<produce_request>());
  CHECK(e.request.as<produce_request>()->topic_data[0].partition_data[0].records.size() > 0);
  REQUIRE(e.response.as<produce_response>());
  CHECK(e.response.as<produce_response>()->responses[0].partition_responses[0].base_offset == 0);
  CHECK(e.faults == std::vector<applied_fault>{{id, fault_kind::delay}});
  for (int i = 0; i < 5; ++i) h.call<api_versions_response>(1, api_versions_request{}, 3);
  CHECK(log.size() == 3);
  CHECK(log.back().sequence == 5);
  h.c.clear_request_log();
  CHECK(h.c.request_log().empty());
}

TEST_CASE("The request log is bounded by the bytes of its frames too") {
  cluster_config config;
  config.request_log_max_bytes = 100 * 1024;
  harness h(config);
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  const std::string value(30 * 1024, 'v');  // ~30 KiB a Produce
  for (int i = 0; i < 10; ++i) h.produce(leader, "t", 0, make_batch({value}));
  const auto& log = h.c.request_log();
  std::size_t held = 0;
  for (const auto& e : log) {
    CHECK(e.bytes > value.size());  // the request frame and its response
    held += e.bytes;
  }
  CHECK(log.size() == 3);
  CHECK(held <= config.request_log_max_bytes);
  CHECK(log.back().sequence == 9);
  // One entry above the bound stays: the newest is always kept.
  h.produce(leader, "t", 0, make_batch({std::string(200 * 1024, 'w')}));
  REQUIRE(log.size() == 1);
  CHECK(log.back().sequence == 10);
  CHECK(h.c.read("t", 0).size() == 11);  // the log is not the partition
}
