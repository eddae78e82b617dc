// Control hooks: a test answers a request itself, delays it, or passes it to
// the cluster; hooks run before fault rules, in order, and can be removed.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

TEST_CASE("A control hook answers a request itself; the cluster does not process it") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  std::vector<std::int32_t> seen_brokers;
  std::vector<std::uint64_t> seen_connections;
  std::vector<std::int32_t> seen_correlations;
  const auto id = h.c.control(produce_request::api_key, [&](const control_request& r) {
    seen_brokers.push_back(r.broker_id);
    seen_connections.push_back(r.connection_id);
    seen_correlations.push_back(r.header.correlation_id);
    CHECK(r.now == h.now);
    const auto* req = r.body.as<produce_request>();
    REQUIRE(req != nullptr);
    produce_response resp;
    produce_response::topic_produce_response tr;
    tr.name = req->topic_data.at(0).name;
    produce_response::partition_produce_response pr;
    pr.index = 0;
    pr.error_code = ec(kafka_error::kafka_storage_error);
    pr.base_offset = -1;
    tr.partition_responses.push_back(pr);
    resp.responses.push_back(tr);
    return control_decision::answer(std::move(resp));
  });
  // A fault rule on Produce does not see what a hook answered.
  fault_rule rule;
  rule.match.api_key = produce_request::api_key;
  rule.action = fault_action::delayed(std::chrono::milliseconds(500));
  const auto rule_id = h.c.add_fault(rule);

  REQUIRE(h.c.set_broker_latency(leader, std::chrono::milliseconds(3)));
  auto r = h.call<produce_response>(leader, produce_of("t", 0, make_batch({"a"})), 9, 17);
  CHECK(r.responses.at(0).partition_responses.at(0).error_code ==
        ec(kafka_error::kafka_storage_error));
  CHECK(h.last.send_at == h.now + std::chrono::milliseconds(3));  // broker latency only
  CHECK(h.last.faults.empty());
  CHECK(h.c.fired(rule_id) == 0);
  CHECK(h.c.read("t", 0).empty());  // not appended
  CHECK(seen_brokers == std::vector<std::int32_t>{leader});
  CHECK(seen_connections == std::vector<std::uint64_t>{17});
  CHECK(seen_correlations == std::vector<std::int32_t>{h.correlation});
  // The request log has the request and the hook's answer.
  REQUIRE(h.c.request_log().back().response.as<produce_response>());
  CHECK(h.c.request_log().back().request.as<produce_request>());

  // Other APIs are not seen; removing the hook gives the cluster back.
  h.call<metadata_response>(1, metadata_request{}, 9);
  CHECK(seen_brokers.size() == 1);
  CHECK(h.c.remove_control(id));
  CHECK_FALSE(h.c.remove_control(id));
  CHECK(h.produce(leader, "t", 0, make_batch({"b"})).error_code == 0);
  CHECK(h.c.fired(rule_id) == 1);
  CHECK(seen_brokers.size() == 1);
}

TEST_CASE("A control hook delays a request: the cluster handles it, the answer goes later") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  h.c.control(produce_request::api_key, [](const control_request&) {
    return control_decision::delay(std::chrono::milliseconds(750));
  });
  fault_rule rule;
  rule.match.api_key = produce_request::api_key;
  rule.action = fault_action::delayed(std::chrono::milliseconds(20));
  const auto rule_id = h.c.add_fault(rule);
  auto p = h.produce(leader, "t", 0, make_batch({"a"}));
  CHECK(p.error_code == 0);
  CHECK(p.base_offset == 0);
  CHECK(h.c.read("t", 0).size() == 1);
  CHECK(h.c.fired(rule_id) == 1);  // fault rules still apply
  CHECK(h.last.send_at == h.now + std::chrono::milliseconds(770));
}

TEST_CASE("Hooks that pass leave the request to the next hook, then to the cluster") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  std::vector<std::string> calls;
  h.c.control(init_producer_id_request::api_key, [&](const control_request&) {
    calls.push_back("first");
    return control_decision::pass();
  });
  const auto second = h.c.control(init_producer_id_request::api_key, [&](const control_request& r) {
    calls.push_back("second");
    const auto* req = r.body.as<init_producer_id_request>();
    if (!req->transactional_id || *req->transactional_id != "answer-me")
      return control_decision::pass();
    init_producer_id_response resp;
    resp.producer_id = 4242;
    resp.producer_epoch = 9;
    return control_decision::answer(std::move(resp), std::chrono::milliseconds(40));
  });
  h.c.control(init_producer_id_request::api_key, [&](const control_request&) {
    calls.push_back("third");
    return control_decision::pass();
  });
  auto passed = h.call<init_producer_id_response>(1, init_producer_id_request{}, 4);
  CHECK(passed.producer_id == 1000);  // the cluster's own allocation
  CHECK(calls == std::vector<std::string>{"first", "second", "third"});
  calls.clear();
  init_producer_id_request txn;
  txn.transactional_id = "answer-me";
  auto answered = h.call<init_producer_id_response>(1, txn, 4);
  CHECK(answered.producer_id == 4242);
  CHECK(answered.producer_epoch == 9);
  CHECK(h.last.send_at == h.now + std::chrono::milliseconds(40));
  CHECK(calls ==
        std::vector<std::string>{"first", "second"});  // the first that decides ends the round
  CHECK(h.c.remove_control(second));
}

TEST_CASE("A control hook can serve an API the cluster does not, and remove itself") {
  harness h;
  int calls = 0;
  control_id self = 0;
  self = h.c.control(describe_acls_request::api_key, [&](const control_request& r) {
    ++calls;
    CHECK(r.body.as<describe_acls_request>()->resource_name_filter ==
          std::optional<std::string>("g"));
    CHECK(h.c.remove_control(self));  // one-shot
    describe_acls_response resp;
    resp.error_code = ec(kafka_error::security_disabled);
    return control_decision::answer(std::move(resp));
  });
  describe_acls_request acls;
  acls.resource_name_filter = "g";
  auto r = h.call<describe_acls_response>(1, acls, 3);
  CHECK(r.error_code == ec(kafka_error::security_disabled));
  auto closed = h.send(1, acls, 3);
  CHECK(closed.close_before_response);
  CHECK(closed.close_reason == "DescribeAcls (API key 29) is not served by the mock cluster");
  CHECK(calls == 1);
}

TEST_CASE(
    "A control hook's answer of the wrong type, or empty, closes the connection with a reason") {
  harness h;
  const auto id = h.c.control(metadata_request::api_key, [](const control_request&) {
    return control_decision::answer(api_versions_response{});
  });
  auto wrong = h.send(1, metadata_request{}, 9);
  CHECK(wrong.close_before_response);
  CHECK_FALSE(wrong.response);
  CHECK(wrong.close_reason ==
        "control hook " + std::to_string(id) +
            " answered MetadataRequest v9 with ApiVersionsResponse, not a MetadataResponse");
  h.c.remove_control(id);
  const auto empty = h.c.control(metadata_request::api_key, [](const control_request&) {
    return control_decision::answer(any_message{});
  });
  auto none = h.send(1, metadata_request{}, 9);
  CHECK(none.close_before_response);
  CHECK(none.close_reason.find("with nothing") != std::string::npos);
  h.c.remove_control(empty);
  CHECK_FALSE(h.send(1, metadata_request{}, 9).closes());
}
