// The control API's group routes without sockets: list and show groups with
// members, assignments, offsets and lag; expire a member, force a rebalance,
// move the coordinator, set offsets; every bad input refused, naming it.
#include "kwire/mockbroker/http_api.hpp"

#include <catch2/catch.hpp>

#include "http_harness.hpp"
#include "kwire/protocol/messages/consumer_protocol_assignment.hpp"
#include "kwire/protocol/messages/consumer_protocol_subscription.hpp"

using namespace kwire::mockbroker::http_testing;
using kwire::mockbroker::testing::ec;
using kwire::mockbroker::testing::harness;

namespace {

json::object parse_object(const kwire::mockbroker::http_reply& r) {
  return json::parse(r.body).as_object();
}

/// One member joined and synced into group "g" (protocol type "consumer").
std::string join_one(harness& h, std::int32_t coordinator) {
  kwire::join_group_request join;
  join.group_id = "g";
  join.session_timeout_ms = 10000;
  join.rebalance_timeout_ms = 10000;
  join.protocol_type = "consumer";
  kwire::consumer_protocol_subscription subscription;
  subscription.topics = {"payments"};
  auto metadata = kwire::encode_consumer_protocol_subscription(subscription, 1);
  REQUIRE(metadata.ok());
  join.protocols.push_back({"range", metadata.value(), {}});
  // JoinGroup v4+: the first answer hands out the member id to join with.
  auto required = h.call<kwire::join_group_response>(coordinator, join, 5);
  REQUIRE(required.error_code == ec(kwire::kafka_error::member_id_required));
  join.member_id = required.member_id;
  auto first = h.call<kwire::join_group_response>(coordinator, join, 5);
  REQUIRE(first.error_code == 0);
  const std::string member = first.member_id;
  kwire::sync_group_request sync;
  sync.group_id = "g";
  sync.generation_id = first.generation_id;
  sync.member_id = member;
  kwire::consumer_protocol_assignment assignment;
  assignment.assigned_partitions.push_back({"payments", {0, 1}, {}});
  auto assigned = kwire::encode_consumer_protocol_assignment(assignment, 0);
  REQUIRE(assigned.ok());
  sync.assignments.push_back({member, assigned.value(), {}});
  auto synced = h.call<kwire::sync_group_response>(coordinator, sync, 3);
  REQUIRE(synced.error_code == 0);
  return member;
}

std::int32_t coordinator_of(harness& h, const std::string& group) {
  kwire::find_coordinator_request req;
  req.key = group;
  auto r = h.call<kwire::find_coordinator_response>(1, req, 2);
  REQUIRE(r.error_code == 0);
  return r.node_id;
}

}  // namespace

TEST_CASE("http: groups listed and shown with members, offsets and lag", "[http][groups]") {
  harness h;
  REQUIRE(h.c.create_topic("payments", {.partitions = 2}) == kwire::kafka_error::none);
  h.produce(h.leader("payments", 0), "payments", 0, make_batch({"a", "b", "c"}));
  kwire::mockbroker::control_api api;
  auto empty = api.handle(h.c, "GET", "/groups", "");
  CHECK(empty.status == 200);
  CHECK(parse_object(empty).at("groups").as_array().empty());

  const std::int32_t coordinator = coordinator_of(h, "g");
  const std::string member = join_one(h, coordinator);
  REQUIRE(h.c.set_committed_offset("g", "payments", 0, 1, "note") == kwire::kafka_error::none);

  auto list = parse_object(api.handle(h.c, "GET", "/groups", ""));
  const auto& groups = list.at("groups").as_array();
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].at("group_id").as_string() == "g");
  CHECK(groups[0].at("state").as_string() == "Stable");
  CHECK(groups[0].at("coordinator").as_int64() == coordinator);

  auto shown = api.handle(h.c, "GET", "/groups/g", "");
  REQUIRE(shown.status == 200);
  const auto g = parse_object(shown);
  CHECK(g.at("protocol_type").as_string() == "consumer");
  CHECK(g.at("protocol").as_string() == "range");
  CHECK(g.at("generation").as_int64() == 1);
  CHECK(g.at("leader").as_string() == member);
  const auto& members = g.at("members").as_array();
  REQUIRE(members.size() == 1);
  CHECK(members[0].at("member_id").as_string() == member);
  CHECK(members[0].at("client_id").as_string() == "kwire-test");
  CHECK(members[0].at("session_timeout_ms").as_int64() == 10000);
  // The consumer protocol's subscription and assignment, decoded.
  CHECK(members[0].at("metadata").at("topics").as_array() == json::array{"payments"});
  const auto& assigned = members[0].at("assignment").as_array();
  REQUIRE(assigned.size() == 1);
  CHECK(assigned[0].at("topic").as_string() == "payments");
  CHECK(assigned[0].at("partitions").as_array() == json::array{0, 1});
  const auto& offsets = g.at("offsets").as_array();
  REQUIRE(offsets.size() == 1);
  CHECK(offsets[0].at("topic").as_string() == "payments");
  CHECK(offsets[0].at("partition").as_int64() == 0);
  CHECK(offsets[0].at("offset").as_int64() == 1);
  CHECK(offsets[0].at("metadata").as_string() == "note");
  CHECK(offsets[0].at("log_end_offset").as_int64() == 3);
  CHECK(offsets[0].at("lag").as_int64() == 2);

  auto missing = api.handle(h.c, "GET", "/groups/nope", "");
  CHECK(missing.status == 404);
  CHECK(parse_object(missing).at("error").as_string() == "no group 'nope'");
}

TEST_CASE("http: expire a member, force a rebalance, move the coordinator", "[http][groups]") {
  harness h;
  kwire::mockbroker::control_api api;
  const std::int32_t coordinator = coordinator_of(h, "g");
  const std::string member = join_one(h, coordinator);

  // A forced rebalance: the member's heartbeat learns it.
  auto rebalanced = api.handle(h.c, "POST", "/groups/g/rebalance", "");
  REQUIRE(rebalanced.status == 200);
  CHECK(parse_object(rebalanced).at("state").as_string() == "PreparingRebalance");
  kwire::heartbeat_request hb;
  hb.group_id = "g";
  hb.generation_id = 1;
  hb.member_id = member;
  CHECK(h.call<kwire::heartbeat_response>(coordinator, hb, 4).error_code ==
        ec(kwire::kafka_error::rebalance_in_progress));
  auto again = api.handle(h.c, "POST", "/groups/g/rebalance", "");
  CHECK(again.status == 409);

  // Moving the coordinator: the old one answers NOT_COORDINATOR.
  const std::int32_t other = coordinator == 1 ? 2 : 1;
  auto bad_body = api.handle(h.c, "PUT", "/groups/g/coordinator", R"({"broker": "two"})");
  CHECK(bad_body.status == 400);
  auto unknown = api.handle(h.c, "PUT", "/groups/g/coordinator", R"({"broker": 99})");
  CHECK(unknown.status == 404);
  CHECK(parse_object(unknown).at("error").as_string() == "'broker': no broker with id 99");
  auto moved = api.handle(h.c, "PUT", "/groups/g/coordinator",
                          "{\"broker\": " + std::to_string(other) + "}");
  REQUIRE(moved.status == 200);
  CHECK(parse_object(moved).at("coordinator").as_int64() == other);
  CHECK(coordinator_of(h, "g") == other);
  CHECK(h.call<kwire::heartbeat_response>(coordinator, hb, 4).error_code ==
        ec(kwire::kafka_error::not_coordinator));

  // Expiring the member empties the group.
  auto no_member = api.handle(h.c, "DELETE", "/groups/g/members/someone-else", "");
  CHECK(no_member.status == 404);
  auto expired = api.handle(h.c, "DELETE", "/groups/g/members/" + member, "");
  REQUIRE(expired.status == 200);
  CHECK(parse_object(expired).at("members").as_array().empty());
  CHECK(h.c.group("g")->members.empty());
}

TEST_CASE("http: set committed offsets, all or nothing", "[http][groups]") {
  harness h;
  REQUIRE(h.c.create_topic("payments", {.partitions = 2}) == kwire::kafka_error::none);
  kwire::mockbroker::control_api api;
  auto set = api.handle(h.c, "PUT", "/groups/readers/offsets",
                        R"({"offsets": [{"topic": "payments", "partition": 0, "offset": 5},
                                        {"topic": "payments", "partition": 1, "offset": 7,
                                         "metadata": "m", "leader_epoch": 0}]})");
  REQUIRE(set.status == 200);
  auto g = h.c.group("readers");
  REQUIRE(g);
  REQUIRE(g->offsets.size() == 2);
  CHECK(g->offsets[0].offset == 5);
  CHECK(g->offsets[1].offset == 7);
  CHECK(g->offsets[1].metadata == "m");

  // Each bad entry is named, and nothing of the request is applied.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"offsets": []})", "'offsets': expected a non-empty array of {topic, partition, offset}"},
      {R"({"offsets": [{"topic": "payments", "partition": 0, "offset": 1}, 5]})",
       "'offsets'[1]: expected an object"},
      {R"({"offsets": [{"topic": "payments", "partition": 0, "offset": 1},
                       {"topic": "payments", "partition": 0, "offset": -2}]})",
       "'offsets'[1]: 'offset': -2 is out of range -1..9223372036854775807"},
      {R"({"offsets": [{"topic": "payments", "partition": 0, "offset": 1, "x": 1}]})", ""},
      {R"({"offsets": [{"topic": "payments", "partition": 0, "offset": 1},
                       {"topic": "payments", "partition": 9, "offset": 1}]})",
       "'offsets'[1]: no partition payments-9"},
      {"{\"offsets\": [{\"topic\": \"payments\", \"partition\": 0, \"offset\": 1, \"metadata\": "
       "\"" +
           std::string(5000, 'x') + "\"}]}",
       "'offsets'[0]: 'metadata' is longer than 4096 bytes (offset_metadata_max_bytes)"},
  };
  for (const auto& [body, why] : bad) {
    INFO(body);
    auto r = api.handle(h.c, "PUT", "/groups/readers/offsets", body);
    CHECK(r.status >= 400);
    if (!why.empty()) CHECK(parse_object(r).at("error").as_string() == why);
    const auto after = h.c.group("readers");
    CHECK(after->offsets[0].offset == 5);
  }
}
