// Consumer groups of KIP-848 driven with ConsumerGroupHeartbeat and
// ConsumerGroupDescribe through the codec, step by step as KIP-848 tells
// them: joins, epochs, revocation before assignment, the assignors, session
// and rebalance timeouts, leaving, static members, fencing, topic changes,
// coordinator moves (bad input: consumer_group_input_test.cc). Exact outcomes; time only moves with
// h.now.
#include "consumer_group_harness.hpp"

namespace kwire::mockbroker::testing {
namespace {

using namespace std::chrono_literals;

TEST_CASE("The first member joins and gets every partition at epoch 1", "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 3}) == kafka_error::none);
  auto r = heartbeat(h, join_of("g", "member-a", {"t"}));
  CHECK(r.error_code == 0);
  CHECK_FALSE(r.error_message.has_value());
  CHECK(r.member_id == std::optional<std::string>("member-a"));
  CHECK(r.member_epoch == 1);
  CHECK(r.heartbeat_interval_ms == 5000);
  REQUIRE(r.assignment.has_value());
  CHECK(named(h, r.assignment->topic_partitions) == by_topic{{"t", {0, 1, 2}}});

  auto info = h.c.group("g");
  REQUIRE(info.has_value());
  CHECK(info->type == "consumer");
  CHECK(info->state == "Stable");
  CHECK(info->protocol_type == "consumer");
  CHECK(info->protocol == std::optional<std::string>("uniform"));
  CHECK(info->generation == 1);
  REQUIRE(info->members.size() == 1);
  CHECK(info->members[0].member_epoch == 1);
  CHECK(info->members[0].client_id == "kwire-test");
  CHECK(info->members[0].client_host == "/127.0.0.1");
  CHECK(info->members[0].session_timeout_ms == 45000);
  CHECK(info->members[0].rebalance_timeout_ms == 60000);
  REQUIRE(h.c.groups().size() == 1);
  CHECK(h.c.groups()[0].type == "consumer");

  // A heartbeat with nothing new: same epoch, no assignment repeated.
  auto again = heartbeat(h, beat_of("g", "member-a", 1));
  CHECK(again.error_code == 0);
  CHECK(again.member_epoch == 1);
  CHECK_FALSE(again.assignment.has_value());
  CHECK(h.c.group("g")->generation == 1);
}

TEST_CASE("v0 lets the coordinator name a joining member; v1 requires the member's id",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  auto v0 = heartbeat(h, join_of("g", "", {"t"}), 0);
  CHECK(v0.error_code == 0);
  REQUIRE(v0.member_id.has_value());
  CHECK(v0.member_id->size() == 22);  // a Uuid as Kafka prints one
  CHECK(v0.member_epoch == 1);
  CHECK(h.c.group("g")->members.at(0).member_id == *v0.member_id);

  auto v1 = heartbeat(h, join_of("g", "", {"t"}), 1);
  CHECK(v1.error_code == ec(kafka_error::invalid_request));
  CHECK(v1.error_message == std::optional<std::string>("MemberId can't be empty."));
  CHECK_FALSE(v1.member_id.has_value());
  // v0 still needs the id once the member has an epoch.
  CHECK(heartbeat(h, beat_of("g", "", 1), 0).error_code == ec(kafka_error::invalid_request));
  CHECK(h.c.group("g")->members.size() == 1);
}

TEST_CASE("A second member waits until the first has revoked, then both converge",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 4}) == kafka_error::none);
  auto a = heartbeat(h, join_of("g", "member-a", {"t"}));
  REQUIRE(a.member_epoch == 1);
  REQUIRE(named(h, a.assignment->topic_partitions) == by_topic{{"t", {0, 1, 2, 3}}});

  // B joins: group epoch 2. Its target (2 and 3) is still A's: B has epoch 2
  // and nothing yet.
  auto b = heartbeat(h, join_of("g", "member-b", {"t"}));
  CHECK(b.member_epoch == 2);
  REQUIRE(b.assignment.has_value());
  CHECK(b.assignment->topic_partitions.empty());
  auto d = describe(h, "g");
  CHECK(d.group_epoch == 2);
  CHECK(d.assignment_epoch == 2);
  CHECK(d.group_state == "Reconciling");
  CHECK(named(member_of(d, "member-a").target_assignment) == by_topic{{"t", {0, 1}}});
  CHECK(named(member_of(d, "member-b").target_assignment) == by_topic{{"t", {2, 3}}});

  // A learns that it must give up 2 and 3: it stays at epoch 1, keeping 0 and 1.
  auto a2 = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1, 2, 3}}})));
  CHECK(a2.member_epoch == 1);
  REQUIRE(a2.assignment.has_value());
  CHECK(named(h, a2.assignment->topic_partitions) == by_topic{{"t", {0, 1}}});

  // B gets nothing while A still owns them, however often it asks.
  auto b2 = heartbeat(h, beat_of("g", "member-b", 2, owned_of(h, {})));
  CHECK(b2.member_epoch == 2);
  CHECK_FALSE(b2.assignment.has_value());
  auto a3 = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1, 2, 3}}})));
  CHECK(a3.member_epoch == 1);
  CHECK_FALSE(a3.assignment.has_value());
  CHECK(heartbeat(h, beat_of("g", "member-b", 2)).assignment.has_value() == false);
  CHECK(member_of(describe(h, "g"), "member-b").assignment.topic_partitions.empty());

  // A acknowledges: it reaches epoch 2 with 0 and 1 (unchanged, so not repeated).
  auto a4 = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1}}})));
  CHECK(a4.member_epoch == 2);
  CHECK_FALSE(a4.assignment.has_value());
  CHECK(describe(h, "g").group_state == "Reconciling");

  // Now 2 and 3 are free: B gets them.
  auto b3 = heartbeat(h, beat_of("g", "member-b", 2, owned_of(h, {})));
  CHECK(b3.member_epoch == 2);
  REQUIRE(b3.assignment.has_value());
  CHECK(named(h, b3.assignment->topic_partitions) == by_topic{{"t", {2, 3}}});
  d = describe(h, "g");
  CHECK(d.group_state == "Stable");
  CHECK(member_of(d, "member-a").member_epoch == 2);
  CHECK(member_of(d, "member-b").member_epoch == 2);
  CHECK(named(member_of(d, "member-a").assignment) == by_topic{{"t", {0, 1}}});
  CHECK(named(member_of(d, "member-b").assignment) == by_topic{{"t", {2, 3}}});
}

TEST_CASE("Uniform and range assign two topics differently, exactly", "[consumer_group]") {
  for (const std::string assignor : {"uniform", "range"}) {
    INFO(assignor);
    harness h;
    REQUIRE(h.c.create_topic("a", {.partitions = 3}) == kafka_error::none);
    REQUIRE(h.c.create_topic("b", {.partitions = 3}) == kafka_error::none);
    consumer x{"g", "member-a", {"a", "b"}, assignor};
    consumer y{"g", "member-b", {"a", "b"}, assignor};
    x.beat(h);
    CHECK(x.owned == by_topic{{"a", {0, 1, 2}}, {"b", {0, 1, 2}}});
    y.beat(h);
    converge(h, {&x, &y});
    auto d = describe(h, "g");
    CHECK(d.assignor_name == assignor);
    CHECK(d.group_epoch == 2);
    if (assignor == "uniform") {
      // Balance first: A keeps its first topic, B takes the other.
      CHECK(x.owned == by_topic{{"a", {0, 1, 2}}});
      CHECK(y.owned == by_topic{{"b", {0, 1, 2}}});
    } else {
      // Ranges per topic, the extra partition to the member that had it.
      CHECK(x.owned == by_topic{{"a", {0, 1}}, {"b", {0, 1}}});
      CHECK(y.owned == by_topic{{"a", {2}}, {"b", {2}}});
    }
    CHECK(named(member_of(d, "member-a").assignment) == x.owned);
    CHECK(named(member_of(d, "member-b").assignment) == y.owned);
  }
}

TEST_CASE("Range spreads a topic in member id order; the most named assignor wins",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 7}) == kafka_error::none);
  consumer c{"g", "c", {"t"}, "range"};
  consumer a{"g", "a", {"t"}, "range"};
  consumer b{"g", "b", {"t"}};  // names no assignor: two say range
  c.beat(h);
  a.beat(h);
  b.beat(h);
  converge(h, {&a, &b, &c});
  auto d = describe(h, "g");
  CHECK(d.assignor_name == "range");
  // 7 over 3: the first in member id order that had more keeps the extra
  // one (a: 4, 5, 6); c keeps its lowest two; b gets what is left.
  CHECK(a.owned == by_topic{{"t", {4, 5, 6}}});
  CHECK(b.owned == by_topic{{"t", {2, 3}}});
  CHECK(c.owned == by_topic{{"t", {0, 1}}});
}

TEST_CASE("A member that stops heartbeating is fenced after the session timeout",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  const time_point start = h.now;
  consumer a{"g", "member-a", {"t"}};
  consumer b{"g", "member-b", {"t"}};
  a.beat(h);
  b.beat(h);
  converge(h, {&a, &b});
  CHECK(a.owned == by_topic{{"t", {0}}});
  CHECK(b.owned == by_topic{{"t", {1}}});

  // Only B heartbeats from now on.
  h.now = start + 30s;
  b.beat(h);
  REQUIRE(h.c.next_timer().has_value());
  CHECK(*h.c.next_timer() == start + 45s);
  h.now = start + 45s - 1ms;
  poll(h);
  CHECK(h.c.group("g")->members.size() == 2);
  h.now = start + 45s;
  poll(h);
  auto info = h.c.group("g");
  REQUIRE(info->members.size() == 1);
  CHECK(info->members[0].member_id == "member-b");
  CHECK(info->generation == 3);
  CHECK(info->state == "Assigning");

  // B's next heartbeat brings the new target: A's partition moves to B.
  auto r = b.beat(h);
  CHECK(r.member_epoch == 3);
  CHECK(b.owned == by_topic{{"t", {0, 1}}});
  CHECK(h.c.group("g")->state == "Stable");
  // A is gone: its heartbeats are refused, and it may join again.
  CHECK(heartbeat(h, beat_of("g", "member-a", 2)).error_code == ec(kafka_error::unknown_member_id));
}

TEST_CASE("A member that does not revoke within its rebalance timeout is fenced",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  auto a = heartbeat(h, join_of("g", "member-a", {"t"}, std::nullopt, std::nullopt, 10000));
  REQUIRE(a.member_epoch == 1);
  heartbeat(h, join_of("g", "member-b", {"t"}));
  const time_point told = h.now;
  auto revoke = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1}}})));
  REQUIRE(named(h, revoke.assignment->topic_partitions) == by_topic{{"t", {0}}});
  // It keeps heartbeating, and keeps partition 1.
  h.now = told + 5s;
  CHECK(heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1}}}))).error_code == 0);
  h.now = told + 10s - 1ms;
  poll(h);
  CHECK(h.c.group("g")->members.size() == 2);
  h.now = told + 10s;
  poll(h);
  REQUIRE(h.c.group("g")->members.size() == 1);
  CHECK(heartbeat(h, beat_of("g", "member-a", 1)).error_code == ec(kafka_error::unknown_member_id));
  auto b = heartbeat(h, beat_of("g", "member-b", 2, owned_of(h, {})));
  CHECK(b.member_epoch == 3);
  CHECK(named(h, b.assignment->topic_partitions) == by_topic{{"t", {0, 1}}});
}

TEST_CASE("A member leaves with epoch -1 and its partitions move", "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  consumer a{"g", "member-a", {"t"}};
  consumer b{"g", "member-b", {"t"}};
  a.beat(h);
  b.beat(h);
  converge(h, {&a, &b});
  auto left = heartbeat(h, beat_of("g", "member-b", -1));
  CHECK(left.error_code == 0);
  CHECK(left.member_id == std::optional<std::string>("member-b"));
  CHECK(left.member_epoch == -1);
  CHECK(left.heartbeat_interval_ms == 0);
  CHECK_FALSE(left.assignment.has_value());
  CHECK(h.c.group("g")->generation == 3);
  a.beat(h);
  CHECK(a.epoch == 3);
  CHECK(a.owned == by_topic{{"t", {0, 1}}});
  // Leaving twice, or a member never seen: UNKNOWN_MEMBER_ID.
  CHECK(heartbeat(h, beat_of("g", "member-b", -1)).error_code ==
        ec(kafka_error::unknown_member_id));
  CHECK(heartbeat(h, beat_of("nope", "member-b", -1)).error_code ==
        ec(kafka_error::group_id_not_found));
  // The last one leaves: the group stays, Empty.
  CHECK(heartbeat(h, beat_of("g", "member-a", -1)).error_code == 0);
  CHECK(h.c.group("g")->state == "Empty");
  CHECK(describe(h, "g").group_state == "Empty");
}

TEST_CASE("A static member leaves with -2, keeps its partitions and rejoins with them",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  consumer a{"g", "member-a", {"t"}, std::nullopt, "instance-a"};
  consumer b{"g", "member-b", {"t"}};
  a.beat(h);
  b.beat(h);
  converge(h, {&a, &b});
  const by_topic kept = a.owned;
  const std::int32_t epoch = describe(h, "g").group_epoch;

  CHECK(heartbeat(h, beat_of("g", "member-a", -2)).error_code ==
        ec(kafka_error::invalid_request));  // -2 needs the instance id
  auto gone = heartbeat(h, beat_of("g", "member-a", -2, std::nullopt, "instance-a"));
  CHECK(gone.error_code == 0);
  CHECK(gone.member_epoch == -2);
  auto d = describe(h, "g");
  CHECK(d.group_epoch == epoch);  // no rebalance
  CHECK(member_of(d, "member-a").member_epoch == -2);
  CHECK(named(member_of(d, "member-a").assignment) == kept);
  b.beat(h);
  CHECK(b.epoch == epoch);
  CHECK(b.owned != by_topic{{"t", {0, 1}}});

  // The instance comes back under a new member id, at once with its partitions.
  consumer again{"g", "member-a2", {"t"}, std::nullopt, "instance-a"};
  auto back = again.beat(h);
  CHECK(back.member_epoch == epoch);
  CHECK(again.owned == kept);
  d = describe(h, "g");
  CHECK(d.group_epoch == epoch);
  CHECK(d.group_state == "Stable");
  CHECK(d.members.size() == 2);
  CHECK(member_of(d, "member-a2").instance_id == std::optional<std::string>("instance-a"));

  // Another process with the same instance id while it is there: refused;
  // the old member id is fenced.
  CHECK(heartbeat(h, join_of("g", "member-a3", {"t"}, std::nullopt, "instance-a")).error_code ==
        ec(kafka_error::unreleased_instance_id));
  CHECK(heartbeat(h, beat_of("g", "member-a", epoch, std::nullopt, "instance-a")).error_code ==
        ec(kafka_error::fenced_instance_id));
  CHECK(heartbeat(h, beat_of("g", "member-a2", epoch, std::nullopt, "instance-b")).error_code ==
        ec(kafka_error::unknown_member_id));

  // Gone with -2 and not back within the session timeout: fenced for good.
  const time_point left = h.now;
  heartbeat(h, beat_of("g", "member-a2", -2, std::nullopt, "instance-a"));
  h.now = left + 30s;
  b.beat(h);
  h.now = left + 45s;
  poll(h);
  d = describe(h, "g");
  REQUIRE(d.members.size() == 1);
  CHECK(d.group_epoch == epoch + 1);
  b.beat(h);
  CHECK(b.owned == by_topic{{"t", {0, 1}}});
}

TEST_CASE("A wrong member epoch is fenced; the previous one is taken with what it owned",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 3}) == kafka_error::none);
  REQUIRE(heartbeat(h, join_of("g", "member-a", {"t"})).member_epoch == 1);
  auto ahead = heartbeat(h, beat_of("g", "member-a", 2));
  CHECK(ahead.error_code == ec(kafka_error::fenced_member_epoch));
  CHECK(ahead.error_message.has_value());
  CHECK_FALSE(ahead.member_id.has_value());

  // New partitions: the next heartbeat takes the member to epoch 2 with the new one.
  REQUIRE(h.c.create_partitions("t", 4) == kafka_error::none);
  auto grown = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1, 2}}})));
  CHECK(grown.member_epoch == 2);
  CHECK(named(h, grown.assignment->topic_partitions) == by_topic{{"t", {0, 1, 2, 3}}});
  // That answer was lost: epoch 1 again, owning a subset of its assignment, is taken.
  auto lost = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 1, 2}}})));
  CHECK(lost.error_code == 0);
  CHECK(lost.member_epoch == 2);
  // Epoch 1 without saying what it owns, or owning more: fenced.
  CHECK(heartbeat(h, beat_of("g", "member-a", 1)).error_code ==
        ec(kafka_error::fenced_member_epoch));
  CHECK(heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {{"t", {0, 9}}}))).error_code ==
        ec(kafka_error::fenced_member_epoch));
  // A join with its live id and epoch 0 is one epoch too far behind.
  CHECK(heartbeat(h, join_of("g", "member-a", {"t"})).error_code ==
        ec(kafka_error::fenced_member_epoch));
  CHECK(describe(h, "g").group_epoch == 2);
  CHECK(member_of(describe(h, "g"), "member-a").member_epoch == 2);
}

TEST_CASE("Topic changes reach the target assignment on the next heartbeat", "[consumer_group]") {
  harness h;
  // Subscribed to a topic that does not exist: the member joins with nothing.
  auto r = heartbeat(h, join_of("g", "member-a", {"later", "t"}));
  CHECK(r.error_code == 0);
  CHECK(r.member_epoch == 1);
  REQUIRE(r.assignment.has_value());
  CHECK(r.assignment->topic_partitions.empty());
  REQUIRE(h.c.create_topic("later", {.partitions = 2}) == kafka_error::none);
  auto created = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, {})));
  CHECK(created.member_epoch == 2);
  CHECK(named(h, created.assignment->topic_partitions) == by_topic{{"later", {0, 1}}});
  REQUIRE(h.c.create_partitions("later", 3) == kafka_error::none);
  auto grown = heartbeat(h, beat_of("g", "member-a", 2, owned_of(h, {{"later", {0, 1}}})));
  CHECK(grown.member_epoch == 3);
  CHECK(named(h, grown.assignment->topic_partitions) == by_topic{{"later", {0, 1, 2}}});
  // Deleted: its partitions are taken back.
  const auto owned = owned_of(h, {{"later", {0, 1, 2}}});
  REQUIRE(h.c.delete_topic("later") == kafka_error::none);
  auto deleted = heartbeat(h, beat_of("g", "member-a", 3, owned));
  CHECK(deleted.member_epoch == 3);  // still revoking
  REQUIRE(deleted.assignment.has_value());
  CHECK(deleted.assignment->topic_partitions.empty());
  auto done = heartbeat(h, beat_of("g", "member-a", 3, owned_of(h, {})));
  CHECK(done.member_epoch == 4);
  CHECK(describe(h, "g").group_state == "Stable");
  CHECK(h.c.create_partitions("nope", 2) == kafka_error::unknown_topic_or_partition);
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  CHECK(h.c.create_partitions("t", 1) == kafka_error::invalid_partitions);
}

TEST_CASE("A moved coordinator answers NOT_COORDINATOR; members carry on at the new one",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  consumer a{"g", "member-a", {"t"}};
  a.beat(h);
  const time_point joined = h.now;

  // The coordinator goes down: the group loads on the next live broker,
  // where its members' sessions start again.
  const std::int32_t first = coordinator_of(h, "g");
  h.now += 40s;
  poll(h);
  REQUIRE(h.c.broker_down(first));
  const std::int32_t second = coordinator_of(h, "g");
  CHECK(second != first);
  h.now = joined + 50s;  // 50 s after its last heartbeat, 10 s after the move
  poll(h);
  CHECK(h.c.group("g")->members.size() == 1);
  CHECK(h.c.group("g")->coordinator == second);
  CHECK(heartbeat(h, beat_of("g", "member-a", 1), 1, second).error_code == 0);
  REQUIRE(h.c.broker_up(first));

  const std::int32_t old_broker = coordinator_of(h, "g");
  const std::int32_t new_broker = other_broker(h, "g");
  REQUIRE(h.c.move_group_coordinator("g", new_broker));
  CHECK(coordinator_of(h, "g") == new_broker);
  auto stale = heartbeat(h, beat_of("g", "member-a", 1), 1, old_broker);
  CHECK(stale.error_code == ec(kafka_error::not_coordinator));
  consumer_group_describe_request req;
  req.group_ids = {"g"};
  auto at_old = h.call<consumer_group_describe_response>(old_broker, req, 0);
  CHECK(at_old.groups.at(0).error_code == ec(kafka_error::not_coordinator));
  // The group moved with its state: same member, same epoch.
  auto moved = heartbeat(h, beat_of("g", "member-a", 1, owned_of(h, a.owned)));
  CHECK(moved.error_code == 0);
  CHECK(moved.member_epoch == 1);
  CHECK(describe(h, "g").members.size() == 1);
}

TEST_CASE("ConsumerGroupDescribe shows members, epochs, assignments and targets",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  auto join = join_of("g", "member-a", {"t"}, "range", "instance-a");
  join.rack_id = "rack-1";
  REQUIRE(heartbeat(h, join).error_code == 0);
  REQUIRE(heartbeat(h, join_of("g", "member-b", {"t"})).error_code == 0);
  // An unknown id the same broker coordinates.
  std::string unknown = "unknown";
  while (coordinator_of(h, unknown) != coordinator_of(h, "g")) unknown += "-";
  consumer_group_describe_request req;
  req.group_ids = {"g", unknown};
  req.include_authorized_operations = true;
  auto r = h.call<consumer_group_describe_response>(coordinator_of(h, "g"), req, 0);
  REQUIRE(r.groups.size() == 2);
  const auto& d = r.groups[0];
  CHECK(d.error_code == 0);
  CHECK(d.group_id == "g");
  CHECK(d.group_state == "Reconciling");
  CHECK(d.group_epoch == 2);
  CHECK(d.assignment_epoch == 2);
  CHECK(d.assignor_name == "range");
  CHECK(d.authorized_operations == ((1 << 3) | (1 << 6) | (1 << 8)));
  REQUIRE(d.members.size() == 2);
  const auto& a = member_of(d, "member-a");
  CHECK(a.instance_id == std::optional<std::string>("instance-a"));
  CHECK(a.rack_id == std::optional<std::string>("rack-1"));
  CHECK(a.member_epoch == 1);
  CHECK(a.client_id == "kwire-test");
  CHECK(a.client_host == "/127.0.0.1");
  CHECK(a.subscribed_topic_names == std::vector<std::string>{"t"});
  CHECK_FALSE(a.subscribed_topic_regex.has_value());
  CHECK(named(a.assignment) == by_topic{{"t", {0, 1}}});
  CHECK(named(a.target_assignment) == by_topic{{"t", {0}}});
  REQUIRE(a.assignment.topic_partitions.size() == 1);
  CHECK(a.assignment.topic_partitions[0].topic_id == *h.c.topic_id("t"));
  const auto& b = member_of(d, "member-b");
  CHECK(b.member_epoch == 2);
  CHECK(named(b.assignment).empty());
  CHECK(named(b.target_assignment) == by_topic{{"t", {1}}});
  CHECK(r.groups[1].group_id == unknown);
  CHECK(r.groups[1].error_code == ec(kafka_error::group_id_not_found));
  CHECK(r.groups[1].error_message.has_value());
  req.group_ids = {""};
  auto empty = h.call<consumer_group_describe_response>(coordinator_of(h, "g"), req, 0);
  CHECK(empty.groups.at(0).error_code == ec(kafka_error::invalid_group_id));
}

}  // namespace
}  // namespace kwire::mockbroker::testing
