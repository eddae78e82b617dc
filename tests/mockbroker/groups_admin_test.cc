// The group coordinator's admin APIs: ListGroups, DescribeGroups and
// DeleteGroups at every version, and the groups() / group() reads.
#include "group_harness.hpp"

#include "kwire/mockbroker/fault_json.hpp"

namespace kwire::mockbroker::testing {
namespace {

using namespace std::chrono_literals;

/// Group ids, one coordinated by each of the first brokers, found by trying names.
std::vector<std::string> groups_on_each_broker(harness& h) {
  std::vector<std::string> out(3);
  for (int i = 0; i < 100 && (out[0].empty() || out[1].empty() || out[2].empty()); ++i) {
    const std::string id = "group-" + std::to_string(i);
    auto& slot = out[static_cast<std::size_t>(coordinator_of(h, id) - 1)];
    if (slot.empty()) slot = id;
  }
  return out;
}

TEST_CASE("ListGroups lists the groups a broker coordinates, with state and type filters") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto ids = groups_on_each_broker(h);
  join_alone(h, ids[0]);
  REQUIRE(h.c.set_committed_offset(ids[1], "t", 0, 1) == kafka_error::none);
  for (std::int16_t v = 0; v <= list_groups_request::max_version; ++v) {
    INFO("ListGroups v" << v);
    auto on1 = h.call<list_groups_response>(1, list_groups_request{}, v);
    CHECK(on1.error_code == 0);
    REQUIRE(on1.groups.size() == 1);
    CHECK(on1.groups[0].group_id == ids[0]);
    CHECK(on1.groups[0].protocol_type == "consumer");
    CHECK(on1.groups[0].group_state == (v >= 4 ? "Stable" : ""));
    CHECK(on1.groups[0].group_type == (v >= 5 ? "classic" : ""));
    auto on2 = h.call<list_groups_response>(2, list_groups_request{}, v);
    REQUIRE(on2.groups.size() == 1);
    CHECK(on2.groups[0].group_id == ids[1]);
    CHECK(on2.groups[0].protocol_type.empty());  // a group that only commits
    CHECK(h.call<list_groups_response>(3, list_groups_request{}, v).groups.empty());
  }
  list_groups_request stable;
  stable.states_filter = {"stable"};  // without case, as Kafka 4.0
  CHECK(h.call<list_groups_response>(1, stable, 4).groups.size() == 1);
  CHECK(h.call<list_groups_response>(2, stable, 4).groups.empty());
  list_groups_request empty_or_stable;
  empty_or_stable.states_filter = {"Empty", "Stable"};
  CHECK(h.call<list_groups_response>(2, empty_or_stable, 4).groups.size() == 1);
  list_groups_request consumer_type;
  consumer_type.types_filter = {"consumer"};
  CHECK(h.call<list_groups_response>(1, consumer_type, 5).groups.empty());
  list_groups_request classic_type;
  classic_type.types_filter = {"Classic"};
  CHECK(h.call<list_groups_response>(1, classic_type, 5).groups.size() == 1);

  // The cluster's own view.
  auto all = h.c.groups();
  REQUIRE(all.size() == 2);
  CHECK(all[0].group_id == std::min(ids[0], ids[1]));
  for (const auto& g : all) {
    CHECK(g.coordinator == coordinator_of(h, g.group_id));
    CHECK(g.state == (g.group_id == ids[0] ? "Stable" : "Empty"));
  }
  // A moved group is listed by its new coordinator only.
  REQUIRE(h.c.move_group_coordinator(ids[0], 3));
  CHECK(h.call<list_groups_response>(1, list_groups_request{}, 3).groups.empty());
  CHECK(h.call<list_groups_response>(3, list_groups_request{}, 3).groups.size() == 1);
}

TEST_CASE("DescribeGroups: members of a Stable group in full, others without metadata, Dead") {
  harness h;
  const std::int32_t b = coordinator_of(h, "g");
  auto first = h.call<join_group_response>(b, join_request("g", "", {}, "inst"), 5);
  REQUIRE(first.error_code == 0);
  REQUIRE(h.call<sync_group_response>(
               b, sync_request("g", 1, first.member_id, {{first.member_id, bytes("asg")}}), 3)
              .error_code == 0);
  for (std::int16_t v = 0; v <= describe_groups_request::max_version; ++v) {
    INFO("DescribeGroups v" << v);
    describe_groups_request req;
    req.groups = {"g", "unknown"};
    req.include_authorized_operations = v >= 3;
    auto r = h.call<describe_groups_response>(b, req, v);
    REQUIRE(r.groups.size() == 2);
    const auto& g = r.groups[0];
    CHECK(g.error_code == 0);
    CHECK(g.group_id == "g");
    CHECK(g.group_state == "Stable");
    CHECK(g.protocol_type == "consumer");
    CHECK(g.protocol_data == "range");
    REQUIRE(g.members.size() == 1);
    CHECK(g.members[0].member_id == first.member_id);
    CHECK(g.members[0].group_instance_id ==
          (v >= 4 ? std::optional<std::string>("inst") : std::nullopt));
    CHECK(g.members[0].client_id == "kwire-test");
    CHECK(g.members[0].client_host == "/127.0.0.1");
    CHECK(g.members[0].member_metadata == subscription({"t"}));
    CHECK(g.members[0].member_assignment == bytes("asg"));
    if (v >= 3) CHECK(g.authorized_operations == ((1 << 3) | (1 << 6) | (1 << 8)));
    if (coordinator_of(h, "unknown") == b) {
      CHECK(r.groups[1].error_code == 0);
      CHECK(r.groups[1].group_state == "Dead");
      CHECK(r.groups[1].members.empty());
    } else {
      CHECK(r.groups[1].error_code == ec(kafka_error::not_coordinator));
    }
  }
  // A rebalancing group shows members without metadata, assignment or protocol.
  REQUIRE(h.c.rebalance_group("g"));
  describe_groups_request req;
  req.groups = {"g"};
  auto r = h.call<describe_groups_response>(b, req, 5);
  CHECK(r.groups[0].group_state == "PreparingRebalance");
  CHECK(r.groups[0].protocol_data.empty());
  REQUIRE(r.groups[0].members.size() == 1);
  CHECK(r.groups[0].members[0].member_metadata.empty());
  CHECK(r.groups[0].members[0].member_assignment.empty());
  CHECK(r.groups[0].authorized_operations == std::numeric_limits<std::int32_t>::min());
  auto wrong = h.call<describe_groups_response>(other_broker(h, "g"), req, 5);
  CHECK(wrong.groups[0].error_code == ec(kafka_error::not_coordinator));
  CHECK(wrong.groups[0].group_state.empty());

  auto info = h.c.group("g");
  CHECK(info->state == "PreparingRebalance");
  CHECK(info->members.at(0).metadata == subscription({"t"}));
  CHECK_FALSE(h.c.group("unknown").has_value());
}

TEST_CASE("DeleteGroups: Empty groups go with their offsets; live ones stay") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "empty");
  REQUIRE(h.c.set_committed_offset("empty", "t", 0, 5) == kafka_error::none);
  REQUIRE(h.c.move_group_coordinator("live", b));
  REQUIRE(h.c.move_group_coordinator("missing", b));
  join_alone(h, "live");
  for (std::int16_t v = 0; v <= delete_groups_request::max_version; ++v) {
    INFO("DeleteGroups v" << v);
    if (!h.c.group("empty"))
      REQUIRE(h.c.set_committed_offset("empty", "t", 0, 5) == kafka_error::none);
    delete_groups_request req;
    req.groups_names = {"empty", "live", "missing", "empty"};
    auto r = h.call<delete_groups_response>(b, req, v);
    REQUIRE(r.results.size() == 3);
    CHECK(r.results[0].group_id == "empty");
    CHECK(r.results[0].error_code == 0);
    CHECK(r.results[1].error_code == ec(kafka_error::non_empty_group));
    CHECK(r.results[2].error_code == ec(kafka_error::group_id_not_found));
    CHECK_FALSE(h.c.group("empty").has_value());
    CHECK(h.c.group("live").has_value());
    // Its offsets went with it.
    offset_fetch_request f;
    f.group_id = "empty";
    f.topics.emplace();
    f.topics->push_back({"t", {0}, {}});
    CHECK(h.call<offset_fetch_response>(b, f, 3).topics.at(0).partitions.at(0).committed_offset ==
          -1);
  }
  delete_groups_request req;
  req.groups_names = {"live"};
  auto wrong = h.call<delete_groups_response>(other_broker(h, "live"), req, 2);
  CHECK(wrong.results.at(0).error_code == ec(kafka_error::not_coordinator));
}

TEST_CASE("A fault rule naming a group answers DescribeGroups and DeleteGroups per group") {
  harness h;
  fault_rule rule;
  rule.match.group = "g";
  rule.action = fault_action::error(kafka_error::coordinator_load_in_progress);
  h.c.add_fault(rule);
  describe_groups_request d;
  d.groups = {"g", "x"};
  auto r = h.call<describe_groups_response>(1, d, 5);
  REQUIRE(r.groups.size() == 2);
  CHECK(r.groups[0].error_code == ec(kafka_error::coordinator_load_in_progress));
  CHECK(r.groups[1].error_code == ec(kafka_error::coordinator_load_in_progress));
  delete_groups_request del;
  del.groups_names = {"x"};
  auto untouched = h.call<delete_groups_response>(coordinator_of(h, "x"), del, 2);
  CHECK(untouched.results.at(0).error_code == ec(kafka_error::group_id_not_found));
}

TEST_CASE("Fault rules in JSON name a group with \"group\"") {
  auto parsed =
      parse_fault_rules(R"({"api":"JoinGroup","group":"orders","error":"NOT_COORDINATOR"})");
  REQUIRE(parsed.ok());
  REQUIRE(parsed.rules.size() == 1);
  CHECK(parsed.rules[0].match.group == std::optional<std::string>("orders"));
  CHECK(parsed.rules[0].match.api_key == join_group_request::api_key);
  CHECK(fault_rule_to_json(parsed.rules[0]).find(R"("group":"orders")") != std::string::npos);
  CHECK_FALSE(parse_fault_rules(R"({"group":7,"error":"NOT_COORDINATOR"})").ok());
}

TEST_CASE("The group and partition settings are checked when a cluster is built") {
  CHECK_THAT(construction_error([](cluster_config& c) { c.default_partitions = 0; }),
             Catch::Contains("default_partitions must be at least 1, not 0"));
  CHECK_THAT(construction_error([](cluster_config& c) { c.group_max_session_timeout_ms = 1000; }),
             Catch::Contains("group_max_session_timeout_ms must be at least 6000"));
  CHECK_THAT(construction_error([](cluster_config& c) { c.group_initial_rebalance_delay_ms = -1; }),
             Catch::Contains("group_initial_rebalance_delay_ms"));
  CHECK_THAT(construction_error([](cluster_config& c) { c.group_max_size = 0; }),
             Catch::Contains("group_max_size"));
  CHECK_THAT(construction_error([](cluster_config& c) { c.offset_metadata_max_bytes = -5; }),
             Catch::Contains("offset_metadata_max_bytes"));
  // At the edges of their ranges they are taken.
  CHECK(construction_error([](cluster_config& c) {
          c.group_min_session_timeout_ms = 0;
          c.group_max_session_timeout_ms = 0;
          c.group_max_size = 1;
        }).empty());
}

}  // namespace
}  // namespace kwire::mockbroker::testing
