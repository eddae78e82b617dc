// Consumer groups (KIP-848) next to classic groups and the other group APIs:
// a group id is one or the other; OffsetCommit and OffsetFetch by member
// epoch; ListGroups, DescribeGroups, DeleteGroups, OffsetDelete, LeaveGroup;
// ApiVersions; the settings; the public API and the HTTP routes.
#include <boost/json.hpp>
#include <stdexcept>

#include "consumer_group_harness.hpp"
#include "kwire/mockbroker/http_api.hpp"

namespace kwire::mockbroker::testing {
namespace {

offset_commit_request commit_of(const std::string& group, std::int32_t epoch,
                                const std::string& member, const std::string& topic,
                                std::int32_t partition, std::int64_t offset) {
  offset_commit_request r;
  r.group_id = group;
  r.generation_id_or_member_epoch = epoch;
  r.member_id = member;
  offset_commit_request::offset_commit_request_topic t;
  t.name = topic;
  offset_commit_request::offset_commit_request_partition p;
  p.partition_index = partition;
  p.committed_offset = offset;
  t.partitions.push_back(p);
  r.topics.push_back(t);
  return r;
}

std::int16_t commit_error(harness& h, const offset_commit_request& r, std::int16_t version = 9) {
  auto answer = h.call<offset_commit_response>(coordinator_of(h, r.group_id), r, version);
  REQUIRE(answer.topics.size() == 1);
  REQUIRE(answer.topics[0].partitions.size() == 1);
  return answer.topics[0].partitions[0].error_code;
}

/// OffsetFetch v9 of one group: its error and the committed offset of `topic` 0.
std::pair<std::int16_t, std::int64_t> fetch_v9(harness& h, const std::string& group,
                                               std::optional<std::string> member,
                                               std::int32_t epoch, const std::string& topic) {
  offset_fetch_request r;
  offset_fetch_request::offset_fetch_request_group g;
  g.group_id = group;
  g.member_id = std::move(member);
  g.member_epoch = epoch;
  g.topics = std::vector<offset_fetch_request::offset_fetch_request_topics>{{topic, {0}, {}}};
  r.groups.push_back(g);
  auto answer = h.call<offset_fetch_response>(coordinator_of(h, group), r, 9);
  REQUIRE(answer.groups.size() == 1);
  const auto& rg = answer.groups[0];
  if (rg.error_code != 0) return {rg.error_code, -1};
  REQUIRE(rg.topics.size() == 1);
  return {0, rg.topics[0].partitions.at(0).committed_offset};
}

TEST_CASE("A group id is classic or consumer: each protocol is refused the other's group",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  // A live classic group: no ConsumerGroupHeartbeat joins it.
  auto classic = join_alone(h, "classic", bytes("a"), {"t"});
  auto refused = heartbeat(h, join_of("classic", "member-a", {"t"}));
  CHECK(refused.error_code == ec(kafka_error::group_id_not_found));
  CHECK(refused.error_message.has_value());
  CHECK(heartbeat(h, beat_of("classic", "member-a", 1)).error_code ==
        ec(kafka_error::group_id_not_found));
  CHECK(h.c.group("classic")->type == "classic");
  CHECK(h.c.group("classic")->members.size() == 1);
  consumer_group_describe_request describe_classic;
  describe_classic.group_ids = {"classic"};
  auto dc =
      h.call<consumer_group_describe_response>(coordinator_of(h, "classic"), describe_classic, 0);
  CHECK(dc.groups.at(0).error_code == ec(kafka_error::group_id_not_found));

  // A live consumer group: JoinGroup, SyncGroup and Heartbeat of the classic protocol.
  consumer a{"g", "member-a", {"t"}};
  a.beat(h);
  const std::int32_t b = coordinator_of(h, "g");
  auto join = h.call<join_group_response>(b, join_request("g", ""), 5);
  CHECK(join.error_code == ec(kafka_error::inconsistent_group_protocol));
  CHECK(h.call<sync_group_response>(b, sync_request("g", 1, "member-a"), 3).error_code ==
        ec(kafka_error::unknown_member_id));
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, "member-a"), 4).error_code ==
        ec(kafka_error::unknown_member_id));
  // DescribeGroups describes classic groups only: a consumer group is Dead there.
  describe_groups_request dg;
  dg.groups = {"g"};
  auto described = h.call<describe_groups_response>(b, dg, 5);
  CHECK(described.groups.at(0).error_code == 0);
  CHECK(described.groups.at(0).group_state == "Dead");
  CHECK(described.groups.at(0).members.empty());
  CHECK(h.c.group("g")->type == "consumer");
  CHECK(h.c.group("g")->members.size() == 1);
  (void)classic;
}

TEST_CASE("Empty groups change protocol with their committed offsets", "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  // A classic group that only holds offsets becomes a consumer group on a join.
  REQUIRE(h.c.set_committed_offset("g", "t", 0, 42) == kafka_error::none);
  REQUIRE(h.c.group("g")->type == "classic");
  auto r = heartbeat(h, join_of("g", "member-a", {"t"}));
  CHECK(r.error_code == 0);
  CHECK(h.c.group("g")->type == "consumer");
  CHECK(fetch_v9(h, "g", std::nullopt, -1, "t") ==
        std::make_pair(std::int16_t{0}, std::int64_t{42}));
  // Emptied, it becomes a classic group again on a JoinGroup, offsets kept.
  REQUIRE(heartbeat(h, beat_of("g", "member-a", -1)).error_code == 0);
  auto join = h.call<join_group_response>(coordinator_of(h, "g"), join_request("g", ""), 3);
  CHECK(join.error_code == 0);
  CHECK(h.c.group("g")->type == "classic");
  CHECK(h.c.group("g")->offsets.at(0).offset == 42);
}

TEST_CASE("OffsetCommit and OffsetFetch of a consumer group go by member epoch",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  consumer a{"g", "member-a", {"t"}};
  a.beat(h);
  REQUIRE(a.epoch == 1);
  CHECK(commit_error(h, commit_of("g", 1, "member-a", "t", 0, 7)) == 0);
  CHECK(commit_error(h, commit_of("g", 2, "member-a", "t", 0, 8)) ==
        ec(kafka_error::stale_member_epoch));
  // Before v9 a consumer of this protocol cannot commit with a wrong epoch.
  CHECK(commit_error(h, commit_of("g", 2, "member-a", "t", 0, 8), 8) ==
        ec(kafka_error::unsupported_version));
  CHECK(commit_error(h, commit_of("g", 1, "nobody", "t", 0, 8)) ==
        ec(kafka_error::unknown_member_id));
  CHECK(commit_error(h, commit_of("g", -1, "", "t", 0, 8)) == ec(kafka_error::unknown_member_id));
  CHECK(commit_error(h, commit_of("g", 1, "member-a", "nope", 0, 8)) ==
        ec(kafka_error::unknown_topic_or_partition));
  CHECK(fetch_v9(h, "g", std::nullopt, -1, "t").second == 7);
  CHECK(fetch_v9(h, "g", std::string("member-a"), 1, "t").second == 7);
  CHECK(fetch_v9(h, "g", std::string("member-a"), 0, "t").first ==
        ec(kafka_error::stale_member_epoch));
  CHECK(fetch_v9(h, "g", std::string("nobody"), 1, "t").first ==
        ec(kafka_error::unknown_member_id));
  // Once it is empty, anyone may commit (the admin client's reset).
  REQUIRE(heartbeat(h, beat_of("g", "member-a", -1)).error_code == 0);
  CHECK(commit_error(h, commit_of("g", -1, "", "t", 0, 3)) == 0);
  CHECK(h.c.group("g")->offsets.at(0).offset == 3);
}

TEST_CASE("ListGroups, DeleteGroups, OffsetDelete and LeaveGroup with consumer groups",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  REQUIRE(h.c.create_topic("old", {.partitions = 1}) == kafka_error::none);
  consumer a{"g", "member-a", {"t"}, std::nullopt, "instance-a"};
  a.beat(h);
  const std::int32_t b = coordinator_of(h, "g");
  REQUIRE(h.c.set_committed_offset("g", "t", 0, 5) == kafka_error::none);
  REQUIRE(h.c.set_committed_offset("g", "old", 0, 6) == kafka_error::none);
  join_alone(h, "classic");
  h.c.move_group_coordinator("classic", b);

  list_groups_request all;
  auto v5 = h.call<list_groups_response>(b, all, 5);
  REQUIRE(v5.groups.size() == 2);
  for (const auto& g : v5.groups) {
    if (g.group_id == "g") {
      CHECK(g.group_type == "consumer");
      CHECK(g.group_state == "Stable");
      CHECK(g.protocol_type == "consumer");
    } else {
      CHECK(g.group_type == "classic");
    }
  }
  list_groups_request consumers;
  consumers.types_filter = {"Consumer"};
  auto only = h.call<list_groups_response>(b, consumers, 5);
  REQUIRE(only.groups.size() == 1);
  CHECK(only.groups[0].group_id == "g");
  list_groups_request stable;
  stable.states_filter = {"stable"};
  CHECK(h.call<list_groups_response>(b, stable, 4).groups.size() == 2);
  stable.states_filter = {"reconciling"};
  CHECK(h.call<list_groups_response>(b, stable, 4).groups.empty());

  // Offsets of a topic the members subscribe to stay; others go.
  offset_delete_request od;
  od.group_id = "g";
  od.topics.push_back({"t", {{0, {}}}, {}});
  od.topics.push_back({"old", {{0, {}}}, {}});
  auto deleted = h.call<offset_delete_response>(b, od, 0);
  CHECK(deleted.error_code == 0);
  CHECK(deleted.topics.at(0).partitions.at(0).error_code ==
        ec(kafka_error::group_subscribed_to_topic));
  CHECK(deleted.topics.at(1).partitions.at(0).error_code == 0);
  CHECK(h.c.group("g")->offsets.size() == 1);

  delete_groups_request del;
  del.groups_names = {"g"};
  CHECK(h.call<delete_groups_response>(b, del, 2).results.at(0).error_code ==
        ec(kafka_error::non_empty_group));

  // LeaveGroup removes a static member of the consumer protocol by instance
  // id alone (the admin client's removeMembersFromConsumerGroup).
  leave_group_request leave;
  leave.group_id = "g";
  leave.members.push_back({"member-a", "instance-a", {}, {}});
  leave.members.push_back({"", "instance-x", {}, {}});
  auto by_id = h.call<leave_group_response>(b, leave, 4);
  CHECK(by_id.members.at(0).error_code == ec(kafka_error::unknown_member_id));
  CHECK(by_id.members.at(1).error_code == ec(kafka_error::unknown_member_id));
  leave.members = {{"", "instance-a", {}, {}}};
  CHECK(h.call<leave_group_response>(b, leave, 4).members.at(0).error_code == 0);
  CHECK(h.c.group("g")->members.empty());

  CHECK(h.call<delete_groups_response>(b, del, 2).results.at(0).error_code == 0);
  CHECK_FALSE(h.c.group("g").has_value());
  CHECK(fetch_v9(h, "g", std::nullopt, -1, "t").second == -1);
}

TEST_CASE("ApiVersions advertises ConsumerGroupHeartbeat and ConsumerGroupDescribe",
          "[consumer_group]") {
  for (bool unstable : {false, true}) {
    cluster_config cfg;
    cfg.advertise_unstable_versions = unstable;
    harness h(cfg);
    auto r = h.call<api_versions_response>(1, api_versions_request{}, 3);
    std::map<std::int16_t, std::pair<std::int16_t, std::int16_t>> keys;
    for (const auto& k : r.api_keys) keys[k.api_key] = {k.min_version, k.max_version};
    // v1 of the heartbeat is marked unstable in the schema Kafka ships.
    CHECK(keys.at(68) ==
          std::make_pair(std::int16_t{0}, static_cast<std::int16_t>(unstable ? 1 : 0)));
    CHECK(keys.at(69) == std::make_pair(std::int16_t{0}, std::int16_t{0}));
  }
}

TEST_CASE("The group_consumer_* settings are checked when a cluster is built", "[consumer_group]") {
  CHECK_THAT(construction_error([](cluster_config& c) { c.group_consumer_session_timeout_ms = 0; }),
             Catch::Contains("group_consumer_session_timeout_ms"));
  CHECK_THAT(
      construction_error([](cluster_config& c) { c.group_consumer_heartbeat_interval_ms = -1; }),
      Catch::Contains("group_consumer_heartbeat_interval_ms"));
  CHECK_THAT(
      construction_error([](cluster_config& c) { c.group_consumer_heartbeat_interval_ms = 45000; }),
      Catch::Contains("less than group_consumer_session_timeout_ms"));
  CHECK_THAT(construction_error([](cluster_config& c) { c.group_consumer_assignors = {}; }),
             Catch::Contains("group_consumer_assignors"));
  CHECK_THAT(construction_error([](cluster_config& c) { c.group_consumer_assignors = {"sticky"}; }),
             Catch::Contains("sticky"));
  CHECK_THAT(construction_error([](cluster_config& c) {
               c.group_consumer_assignors = {"range", "range"};
             }),
             Catch::Contains("twice"));

  // Settings within range shape the answers: the interval, the default assignor.
  cluster_config cfg;
  cfg.group_consumer_session_timeout_ms = 10000;
  cfg.group_consumer_heartbeat_interval_ms = 1000;
  cfg.group_consumer_assignors = {"range"};
  harness h(cfg);
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  auto r = heartbeat(h, join_of("g", "member-a", {"t"}));
  CHECK(r.heartbeat_interval_ms == 1000);
  CHECK(describe(h, "g").assignor_name == "range");
  CHECK(heartbeat(h, join_of("g", "member-b", {"t"}, "uniform")).error_code ==
        ec(kafka_error::unsupported_assignor));
  CHECK(*h.c.next_timer() == h.now + std::chrono::milliseconds(10000));
}

TEST_CASE("cluster::group, expire_member and the HTTP routes show consumer groups",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  consumer a{"g", "member-a", {"t"}};
  consumer b{"g", "member-b", {"t"}};
  a.beat(h);
  b.beat(h);
  control_api api;
  auto list = boost::json::parse(api.handle(h.c, "GET", "/groups", "").body).as_object();
  const auto& groups = list.at("groups").as_array();
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].at("type").as_string() == "consumer");
  CHECK(groups[0].at("state").as_string() == "Reconciling");
  auto shown = boost::json::parse(api.handle(h.c, "GET", "/groups/g", "").body).as_object();
  CHECK(shown.at("type").as_string() == "consumer");
  CHECK(shown.at("generation").as_int64() == 2);
  const auto& members = shown.at("members").as_array();
  REQUIRE(members.size() == 2);
  CHECK(members[0].at("member_id").as_string() == "member-a");
  CHECK(members[0].at("member_epoch").as_int64() == 1);
  CHECK(members[0].at("metadata").at("topics").as_array() == boost::json::array{"t"});
  CHECK(members[0].at("assignment").as_array().at(0).at("partitions").as_array() ==
        (boost::json::array{0, 1}));
  CHECK(members[0].at("target_assignment").as_array().at(0).at("partitions").as_array() ==
        boost::json::array{0});
  CHECK_FALSE(h.c.rebalance_group("g"));

  // Expiring a member fences it: the group epoch moves, its partitions free.
  CHECK_FALSE(h.c.expire_member("g", "nobody"));
  REQUIRE(h.c.expire_member("g", "member-a"));
  CHECK(h.c.group("g")->generation == 3);
  b.beat(h);
  CHECK(b.owned == by_topic{{"t", {0, 1}}});
}

}  // namespace
}  // namespace kwire::mockbroker::testing
