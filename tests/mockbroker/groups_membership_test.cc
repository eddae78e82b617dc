// The group coordinator's membership: JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup, rebalances, session timeouts, static members, coordinator
// moves. Exact outcomes; time only moves with h.now.
#include "group_harness.hpp"

namespace kwire::mockbroker::testing {
namespace {

using namespace std::chrono_literals;

cluster_config delayed(std::int32_t delay_ms) {
  cluster_config c;
  c.group_initial_rebalance_delay_ms = delay_ms;
  return c;
}

TEST_CASE(
    "JoinGroup v4+ hands out a member id first; a lone member's rebalance completes at once") {
  for (std::int16_t v = 4; v <= join_group_request::max_version; ++v) {
    INFO("JoinGroup v" << v);
    harness h;
    const std::string g = "g" + std::to_string(v);
    const std::int32_t b = coordinator_of(h, g);
    auto first = h.call<join_group_response>(b, join_request(g, ""), v);
    CHECK(first.error_code == ec(kafka_error::member_id_required));
    CHECK(first.generation_id == -1);
    CHECK(first.member_id.rfind("kwire-test-", 0) == 0);
    CHECK(first.member_id.size() == std::string("kwire-test-").size() + 36);
    CHECK(first.leader.empty());
    if (v >= 7) CHECK_FALSE(first.protocol_name.has_value());
    // Only a pending member so far: the group is Empty.
    REQUIRE(h.c.group(g).has_value());
    CHECK(h.c.group(g)->state == "Empty");
    CHECK(h.c.group(g)->members.empty());

    auto join = send_request(h, b, join_request(g, first.member_id), v);
    REQUIRE_FALSE(join.parked());
    auto j = answered<join_group_response>(join);
    CHECK(j.error_code == 0);
    CHECK(j.generation_id == 1);
    CHECK(j.member_id == first.member_id);
    CHECK(j.leader == first.member_id);
    CHECK(j.protocol_name == std::optional<std::string>("range"));
    CHECK(j.protocol_type == (v >= 7 ? std::optional<std::string>("consumer") : std::nullopt));
    REQUIRE(j.members.size() == 1);
    CHECK(j.members[0].member_id == first.member_id);
    CHECK(j.members[0].metadata == subscription({"t"}));
    CHECK(h.c.group(g)->state == "CompletingRebalance");

    auto s = h.call<sync_group_response>(
        b, sync_request(g, 1, j.member_id, {{j.member_id, bytes("mine")}}), 3);
    CHECK(s.error_code == 0);
    CHECK(s.assignment == bytes("mine"));
    auto info = h.c.group(g);
    CHECK(info->state == "Stable");
    CHECK(info->generation == 1);
    CHECK(info->protocol == std::optional<std::string>("range"));
    CHECK(info->protocol_type == "consumer");
    CHECK(info->leader == std::optional<std::string>(j.member_id));
    REQUIRE(info->members.size() == 1);
    CHECK(info->members[0].assignment == bytes("mine"));
    CHECK(info->members[0].client_id == "kwire-test");
    CHECK(info->members[0].client_host == "/127.0.0.1");
    CHECK(info->members[0].session_timeout_ms == 10000);
    CHECK(info->members[0].rebalance_timeout_ms == 60000);
    CHECK(h.call<heartbeat_response>(b, heartbeat_of(g, 1, j.member_id), 4).error_code == 0);
  }
}

TEST_CASE("JoinGroup v0-v3 joins without a member id round; v0 uses the session timeout") {
  for (std::int16_t v = 0; v <= 3; ++v) {
    INFO("JoinGroup v" << v);
    harness h;
    const std::int32_t b = coordinator_of(h, "g");
    auto j = h.call<join_group_response>(b, join_request("g", ""), v);
    CHECK(j.error_code == 0);
    CHECK(j.generation_id == 1);
    CHECK(j.leader == j.member_id);
    CHECK(j.protocol_name == std::optional<std::string>("range"));
    CHECK(h.c.group("g")->members.at(0).rebalance_timeout_ms == (v == 0 ? 10000 : 60000));
  }
}

TEST_CASE("JoinGroup refuses bad input with Kafka's codes and leaves no group behind") {
  harness h;
  const std::int32_t b = coordinator_of(h, "g");
  auto code_of = [&](const join_group_request& r, std::int16_t v = 5, std::int32_t broker = 0) {
    return h.call<join_group_response>(broker ? broker : b, r, v).error_code;
  };
  CHECK(code_of(join_request("g", "", {}, {}, 5999)) == ec(kafka_error::invalid_session_timeout));
  CHECK(code_of(join_request("g", "", {}, {}, 1800001)) ==
        ec(kafka_error::invalid_session_timeout));
  CHECK(code_of(join_request("g", "", {}, {}, -1)) == ec(kafka_error::invalid_session_timeout));
  CHECK(code_of(join_request("", "")) == ec(kafka_error::invalid_group_id));
  // A member id the group never gave, in a group that does not exist.
  auto unknown = h.call<join_group_response>(b, join_request("g", "made-up"), 5);
  CHECK(unknown.error_code == ec(kafka_error::unknown_member_id));
  CHECK(unknown.member_id == "made-up");
  // No protocol type, no protocols: INCONSISTENT_GROUP_PROTOCOL.
  CHECK(code_of(join_request("g", "", {}, {}, 10000, 60000, "")) ==
        ec(kafka_error::inconsistent_group_protocol));
  auto none = join_request("g", "");
  none.protocols.clear();
  CHECK(code_of(none) == ec(kafka_error::inconsistent_group_protocol));
  CHECK(code_of(join_request("g", ""), 5, other_broker(h, "g")) ==
        ec(kafka_error::not_coordinator));
  CHECK(h.c.groups().empty());

  // Against a Stable group: another protocol type, no common protocol, an unknown id.
  auto m = join_alone(h, "g");
  CHECK(code_of(join_request("g", "", {}, {}, 10000, 60000, "connect")) ==
        ec(kafka_error::inconsistent_group_protocol));
  CHECK(code_of(join_request("g", "", {{"sticky", {}}})) ==
        ec(kafka_error::inconsistent_group_protocol));
  CHECK(code_of(join_request("g", "never-given")) == ec(kafka_error::unknown_member_id));
  auto info = h.c.group("g");
  CHECK(info->state == "Stable");
  CHECK(info->generation == m.generation);
  CHECK(info->members.size() == 1);
}

TEST_CASE("Two members: the initial delay gathers them, the vote picks a common protocol") {
  harness h(delayed(3000));
  const std::int32_t b = coordinator_of(h, "g");
  // v3: no MEMBER_ID_REQUIRED round.
  auto a = send_request(
      h, b, join_request("g", "", {{"roundrobin", bytes("A-rr")}, {"range", bytes("A-range")}}), 3,
      1);
  CHECK(a.parked());
  CHECK(h.c.group("g")->state == "PreparingRebalance");
  h.now += 1000ms;
  CHECK(poll(h).by_ticket.empty());
  auto c = send_request(h, b, join_request("g", "", {{"range", bytes("C-range")}}), 3, 2);
  CHECK(c.parked());
  // A newcomer during the delay: at its end the group waits one delay more
  // (Kafka's InitialDelayedJoin), within the rebalance timeout.
  h.now += 2000ms;
  CHECK(poll(h).by_ticket.empty());
  REQUIRE(h.c.next_timer().has_value());
  CHECK(*h.c.next_timer() == h.now + 3000ms);
  h.now += 2999ms;
  CHECK(poll(h).by_ticket.empty());
  h.now += 1ms;
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto jc = p.get<join_group_response>(c);
  CHECK(ja.error_code == 0);
  CHECK(jc.error_code == 0);
  CHECK(ja.generation_id == 1);
  CHECK(jc.generation_id == 1);
  CHECK(ja.protocol_name == std::optional<std::string>("range"));  // C has no roundrobin
  CHECK(ja.leader == ja.member_id);
  CHECK(jc.leader == ja.member_id);
  REQUIRE(ja.members.size() == 2);
  CHECK(ja.members[0].metadata == bytes("A-range"));
  CHECK(ja.members[1].metadata == bytes("C-range"));
  CHECK(jc.members.empty());

  // The follower's SyncGroup waits for the leader's.
  auto sc = send_request(h, b, sync_request("g", 1, jc.member_id), 3, 2);
  CHECK(sc.parked());
  CHECK(poll(h).by_ticket.empty());
  auto sa = send_request(
      h, b,
      sync_request("g", 1, ja.member_id,
                   {{ja.member_id, bytes("p0")}, {jc.member_id, bytes("p1")}, {"x", bytes("?")}}),
      3, 1);
  auto p2 = poll(h);
  CHECK(answered<sync_group_response>(sa).assignment == bytes("p0"));
  CHECK(p2.get<sync_group_response>(sc).assignment == bytes("p1"));
  CHECK(p2.get<sync_group_response>(sc).error_code == 0);
  CHECK(h.c.group("g")->state == "Stable");
  // A member the leader left out gets an empty assignment; a Stable group
  // answers a late SyncGroup at once.
  CHECK(h.call<sync_group_response>(b, sync_request("g", 1, jc.member_id), 3).assignment ==
        bytes("p1"));
}

TEST_CASE("The vote: each member votes for its first common protocol, the most votes win") {
  harness h(delayed(100));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", "", {{"x", {}}, {"y", {}}}), 3, 1);
  auto m2 = send_request(h, b, join_request("g", "", {{"y", {}}, {"x", {}}}), 3, 2);
  auto m3 = send_request(h, b, join_request("g", "", {{"y", {}}, {"x", {}}}), 3, 3);
  h.now += 200ms;  // later members extend the delay once
  auto p = poll(h);
  CHECK(p.get<join_group_response>(a).protocol_name == std::optional<std::string>("y"));
  CHECK(p.get<join_group_response>(m3).protocol_name == std::optional<std::string>("y"));
  CHECK(p.get<join_group_response>(m2).generation_id == 1);
}

TEST_CASE("SyncGroup and Heartbeat refuse wrong moves") {
  harness h;
  const std::int32_t b = coordinator_of(h, "g");
  auto m = join_alone(h, "g");
  auto sync_code = [&](sync_group_request r, std::int16_t v = 3, std::int32_t broker = 0) {
    return h.call<sync_group_response>(broker ? broker : b, r, v).error_code;
  };
  auto hb_code = [&](heartbeat_request r, std::int32_t broker = 0) {
    return h.call<heartbeat_response>(broker ? broker : b, r, 3).error_code;
  };
  CHECK(sync_code(sync_request("g", 2, m.member_id)) == ec(kafka_error::illegal_generation));
  CHECK(sync_code(sync_request("g", 1, "stranger")) == ec(kafka_error::unknown_member_id));
  CHECK(sync_code(sync_request("nope", 1, m.member_id), 3, coordinator_of(h, "nope")) ==
        ec(kafka_error::unknown_member_id));
  CHECK(sync_code(sync_request("", 1, m.member_id)) == ec(kafka_error::invalid_group_id));
  CHECK(sync_code(sync_request("g", 1, m.member_id), 3, other_broker(h, "g")) ==
        ec(kafka_error::not_coordinator));
  auto wrong_name = sync_request("g", 1, m.member_id);
  wrong_name.protocol_type = "consumer";
  wrong_name.protocol_name = "roundrobin";
  CHECK(sync_code(wrong_name, 5) == ec(kafka_error::inconsistent_group_protocol));
  auto wrong_type = sync_request("g", 1, m.member_id);
  wrong_type.protocol_type = "connect";
  CHECK(sync_code(wrong_type, 5) == ec(kafka_error::inconsistent_group_protocol));
  auto right = sync_request("g", 1, m.member_id);
  right.protocol_type = "consumer";
  right.protocol_name = "range";
  auto ok = h.call<sync_group_response>(b, right, 5);
  CHECK(ok.error_code == 0);
  CHECK(ok.protocol_type == std::optional<std::string>("consumer"));
  CHECK(ok.protocol_name == std::optional<std::string>("range"));
  CHECK(ok.assignment == bytes("a"));

  CHECK(hb_code(heartbeat_of("g", 0, m.member_id)) == ec(kafka_error::illegal_generation));
  CHECK(hb_code(heartbeat_of("g", 1, "stranger")) == ec(kafka_error::unknown_member_id));
  CHECK(hb_code(heartbeat_of("nope", 1, m.member_id), coordinator_of(h, "nope")) ==
        ec(kafka_error::unknown_member_id));
  CHECK(hb_code(heartbeat_of("", 1, m.member_id)) == ec(kafka_error::invalid_group_id));
  CHECK(hb_code(heartbeat_of("g", 1, m.member_id), other_broker(h, "g")) ==
        ec(kafka_error::not_coordinator));
  CHECK(hb_code(heartbeat_of("g", 1, m.member_id, "not-static")) ==
        ec(kafka_error::unknown_member_id));

  // During a rebalance: heartbeats say so, SyncGroup too.
  REQUIRE(h.c.rebalance_group("g"));
  CHECK(h.c.group("g")->state == "PreparingRebalance");
  CHECK(hb_code(heartbeat_of("g", 1, m.member_id)) == ec(kafka_error::rebalance_in_progress));
  CHECK(sync_code(sync_request("g", 1, m.member_id)) == ec(kafka_error::rebalance_in_progress));
  CHECK_FALSE(h.c.rebalance_group("g"));  // already rebalancing
  // The member rejoins: the rebalance completes with generation 2.
  auto j = h.call<join_group_response>(b, join_request("g", m.member_id), 5);
  CHECK(j.error_code == 0);
  CHECK(j.generation_id == 2);
  CHECK(hb_code(heartbeat_of("g", 2, m.member_id)) == 0);  // CompletingRebalance
}

TEST_CASE("A member that stops heartbeating is removed after its session timeout") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", "", {}, {}, 10000), 3, 1);
  auto c = send_request(h, b, join_request("g", "", {}, {}, 20000), 3, 2);
  h.now += 20ms;  // the second member's join extends the delay once
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto jc = p.get<join_group_response>(c);
  auto sa = send_request(h, b, sync_request("g", 1, ja.member_id, {}), 3, 1);
  auto sc = send_request(h, b, sync_request("g", 1, jc.member_id), 3, 2);
  CHECK(answered<sync_group_response>(sa).error_code == 0);
  CHECK(answered<sync_group_response>(sc).error_code == 0);
  // C heartbeats; A does not. At 10 s A's session ends.
  h.now += 9999ms;
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, jc.member_id), 3, 2).error_code == 0);
  CHECK(poll(h).by_ticket.empty());
  CHECK(h.c.group("g")->members.size() == 2);
  h.now += 1ms;
  poll(h);
  auto info = h.c.group("g");
  REQUIRE(info->members.size() == 1);
  CHECK(info->members[0].member_id == jc.member_id);
  CHECK(info->state == "PreparingRebalance");
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, ja.member_id), 3, 1).error_code ==
        ec(kafka_error::unknown_member_id));
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, jc.member_id), 3, 2).error_code ==
        ec(kafka_error::rebalance_in_progress));
  // C rejoins: everybody left is in, generation 2, C leads.
  auto j = h.call<join_group_response>(b, join_request("g", jc.member_id, {}, {}, 20000), 3, 2);
  CHECK(j.generation_id == 2);
  CHECK(j.leader == jc.member_id);
}

TEST_CASE("A member that does not rejoin within the rebalance timeout is dropped") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", "", {}, {}, 10000, 30000), 3, 1);
  auto c = send_request(h, b, join_request("g", "", {}, {}, 10000, 45000), 3, 2);
  h.now += 20ms;  // the second member's join extends the delay once
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto jc = p.get<join_group_response>(c);
  h.call<sync_group_response>(b, sync_request("g", 1, ja.member_id), 3, 1);
  h.call<sync_group_response>(b, sync_request("g", 1, jc.member_id), 3, 2);
  // A rejoins (as leader it triggers a rebalance); C keeps heartbeating but never rejoins.
  auto ra = send_request(h, b, join_request("g", ja.member_id, {}, {}, 10000, 30000), 3, 1);
  CHECK(ra.parked());
  for (int i = 0; i < 5; ++i) {
    h.now += 8000ms;
    CHECK(poll(h).by_ticket.empty());
    CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, jc.member_id), 3, 2).error_code ==
          ec(kafka_error::rebalance_in_progress));
  }
  // The rebalance timeout is the largest of the members' (45 s).
  h.now += 5000ms;
  auto p2 = poll(h);
  auto j = p2.get<join_group_response>(ra);
  CHECK(j.generation_id == 2);
  REQUIRE(j.members.size() == 1);
  CHECK(h.c.group("g")->members.size() == 1);
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 2, jc.member_id), 3, 2).error_code ==
        ec(kafka_error::unknown_member_id));
}

TEST_CASE("A pending member id holds the join until its session ends") {
  harness h;
  const std::int32_t b = coordinator_of(h, "g");
  auto m = join_alone(h, "g");
  auto pending = h.call<join_group_response>(b, join_request("g", "", {}, {}, 7000), 4, 2);
  REQUIRE(pending.error_code == ec(kafka_error::member_id_required));
  REQUIRE(h.c.rebalance_group("g"));
  auto rejoin = send_request(h, b, join_request("g", m.member_id), 4, 1);
  CHECK(rejoin.parked());
  h.now += 6999ms;
  CHECK(poll(h).by_ticket.empty());
  h.now += 1ms;
  auto p = poll(h);
  auto j = p.get<join_group_response>(rejoin);
  CHECK(j.generation_id == 2);
  CHECK(j.members.size() == 1);
  // The pending id is gone: joining with it now is an unknown member.
  CHECK(h.call<join_group_response>(b, join_request("g", pending.member_id), 4, 2).error_code ==
        ec(kafka_error::unknown_member_id));
}

TEST_CASE("A new member whose JoinGroup is never completed is dropped after five minutes") {
  harness h;
  const std::int32_t b = coordinator_of(h, "g");
  auto m = join_alone(h, "g");
  // A second member joins: the group rebalances; the first never rejoins
  // but heartbeats keep it (a static member would stay).
  auto n = send_request(h, b, join_request("g", "", {}, {}, 10000, 600000), 3, 2);
  CHECK(n.parked());
  for (int i = 0; i < 33; ++i) {
    h.now += 9000ms;
    CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, m.member_id), 3, 1).error_code ==
          ec(kafka_error::rebalance_in_progress));
    CHECK(poll(h).by_ticket.empty());
  }
  h.now += 3000ms;  // 300 s since the new member's JoinGroup
  auto p = poll(h);
  auto j = p.get<join_group_response>(n);
  CHECK(j.error_code == ec(kafka_error::unknown_member_id));
  CHECK(j.member_id.empty());
  auto info = h.c.group("g");
  CHECK(info->state == "PreparingRebalance");
  REQUIRE(info->members.size() == 1);
  CHECK(info->members[0].member_id == m.member_id);
}

TEST_CASE("A follower's pending SyncGroup: members that never sync are removed") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", "", {}, {}, 10000, 20000), 3, 1);
  auto c = send_request(h, b, join_request("g", "", {}, {}, 10000, 20000), 3, 2);
  h.now += 20ms;  // the second member's join extends the delay once
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto jc = p.get<join_group_response>(c);
  CHECK(answered<sync_group_response>(send_request(h, b, sync_request("g", 1, ja.member_id), 3, 1))
            .error_code == 0);
  // C never sends SyncGroup (but heartbeats): after the rebalance timeout it is removed.
  h.now += 9000ms;
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, jc.member_id), 3, 2).error_code == 0);
  h.now += 9000ms;
  CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, ja.member_id), 3, 1).error_code == 0);
  h.now += 2000ms;
  poll(h);
  auto info = h.c.group("g");
  CHECK(info->state == "PreparingRebalance");
  REQUIRE(info->members.size() == 1);
  CHECK(info->members[0].member_id == ja.member_id);
}

TEST_CASE("A rebalance while followers wait for the leader answers them REBALANCE_IN_PROGRESS") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", ""), 3, 1);
  auto c = send_request(h, b, join_request("g", ""), 3, 2);
  h.now += 20ms;  // the second member's join extends the delay once
  auto p = poll(h);
  auto jc = p.get<join_group_response>(c);
  auto sc = send_request(h, b, sync_request("g", 1, jc.member_id), 3, 2);
  CHECK(sc.parked());
  REQUIRE(h.c.rebalance_group("g"));
  auto p2 = poll(h);
  CHECK(p2.get<sync_group_response>(sc).error_code == ec(kafka_error::rebalance_in_progress));
  CHECK(p2.get<sync_group_response>(sc).assignment.empty());
  (void)a;
}

TEST_CASE("LeaveGroup: v0-v2 one member, v3+ a batch with per-member errors") {
  for (std::int16_t v = 0; v <= leave_group_request::max_version; ++v) {
    INFO("LeaveGroup v" << v);
    harness h;
    const std::int32_t b = coordinator_of(h, "g");
    auto m = join_alone(h, "g");
    leave_group_request r;
    r.group_id = "g";
    if (v < 3) {
      r.member_id = "stranger";
      CHECK(h.call<leave_group_response>(b, r, v).error_code == ec(kafka_error::unknown_member_id));
      r.member_id = m.member_id;
      CHECK(h.call<leave_group_response>(b, r, v).error_code == 0);
    } else {
      r.members.push_back({m.member_id, std::nullopt, std::nullopt, {}});
      r.members.push_back({"stranger", std::nullopt, std::nullopt, {}});
      r.members.push_back({"", std::string("no-such-instance"), std::nullopt, {}});
      auto resp = h.call<leave_group_response>(b, r, v);
      CHECK(resp.error_code == 0);
      REQUIRE(resp.members.size() == 3);
      CHECK(resp.members[0].member_id == m.member_id);
      CHECK(resp.members[0].error_code == 0);
      CHECK(resp.members[1].error_code == ec(kafka_error::unknown_member_id));
      CHECK(resp.members[2].group_instance_id == std::optional<std::string>("no-such-instance"));
      CHECK(resp.members[2].error_code == ec(kafka_error::unknown_member_id));
    }
    // The last member left: the group is Empty, generation 2.
    auto info = h.c.group("g");
    CHECK(info->state == "Empty");
    CHECK(info->generation == 2);
    CHECK(info->members.empty());
    CHECK_FALSE(info->protocol.has_value());
  }
}

TEST_CASE("LeaveGroup errors: unknown group, wrong coordinator, empty group id") {
  harness h;
  const std::int32_t b = coordinator_of(h, "g");
  leave_group_request r;
  r.group_id = "g";
  r.members.push_back({"m", std::nullopt, std::nullopt, {}});
  auto resp = h.call<leave_group_response>(b, r, 4);
  CHECK(resp.error_code == 0);
  REQUIRE(resp.members.size() == 1);
  CHECK(resp.members[0].error_code == ec(kafka_error::unknown_member_id));
  auto wrong = h.call<leave_group_response>(other_broker(h, "g"), r, 4);
  CHECK(wrong.error_code == ec(kafka_error::not_coordinator));
  CHECK(wrong.members.empty());
  r.group_id = "";
  CHECK(h.call<leave_group_response>(b, r, 4).error_code == ec(kafka_error::invalid_group_id));
  r.group_id = "g";
  r.members.clear();
  r.member_id = "m";
  CHECK(h.call<leave_group_response>(b, r, 1).error_code == ec(kafka_error::unknown_member_id));
}

TEST_CASE("Static members: no member id round, a rejoin takes a new id and fences the old") {
  for (std::int16_t v : {std::int16_t(5), std::int16_t(9)}) {
    INFO("JoinGroup v" << v);
    harness h;
    const std::int32_t b = coordinator_of(h, "g");
    auto j = h.call<join_group_response>(b, join_request("g", "", {}, "inst-1"), v);
    CHECK(j.error_code == 0);
    CHECK(j.generation_id == 1);
    CHECK(j.leader == j.member_id);
    REQUIRE(j.members.size() == 1);
    CHECK(j.members[0].group_instance_id == std::optional<std::string>("inst-1"));
    h.call<sync_group_response>(b, sync_request("g", 1, j.member_id, {{j.member_id, bytes("a")}}),
                                3);
    // The same instance restarts: a new member id, the same generation, no rebalance.
    auto again = h.call<join_group_response>(b, join_request("g", "", {}, "inst-1"), v);
    CHECK(again.error_code == 0);
    CHECK(again.member_id != j.member_id);
    CHECK(again.generation_id == 1);
    if (v >= 9) {
      CHECK(again.leader == again.member_id);
      CHECK(again.skip_assignment);
      CHECK(again.members.size() == 1);
    } else {
      CHECK(again.leader == j.member_id);  // the old id: the leader does not assign again
      CHECK(again.members.empty());
    }
    auto info = h.c.group("g");
    CHECK(info->state == "Stable");
    CHECK(info->generation == 1);
    REQUIRE(info->members.size() == 1);
    CHECK(info->members[0].member_id == again.member_id);
    CHECK(info->members[0].group_instance_id == std::optional<std::string>("inst-1"));
    CHECK(info->members[0].assignment == bytes("a"));
    // The old id is fenced when it names the instance, unknown otherwise.
    CHECK(
        h.call<heartbeat_response>(b, heartbeat_of("g", 1, j.member_id, "inst-1"), 3).error_code ==
        ec(kafka_error::fenced_instance_id));
    CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, j.member_id), 3).error_code ==
          ec(kafka_error::unknown_member_id));
    CHECK(h.call<join_group_response>(b, join_request("g", j.member_id, {}, "inst-1"), v)
              .error_code == ec(kafka_error::fenced_instance_id));
    auto s = sync_request("g", 1, j.member_id);
    s.group_instance_id = "inst-1";
    CHECK(h.call<sync_group_response>(b, s, 3).error_code == ec(kafka_error::fenced_instance_id));
    CHECK(h.call<heartbeat_response>(b, heartbeat_of("g", 1, again.member_id, "inst-1"), 3)
              .error_code == 0);
    // LeaveGroup by instance id alone (administrative removal).
    leave_group_request r;
    r.group_id = "g";
    r.members.push_back({"", std::string("inst-1"), std::nullopt, {}});
    auto left = h.call<leave_group_response>(b, r, 3);
    REQUIRE(left.members.size() == 1);
    CHECK(left.members[0].error_code == 0);
    CHECK(h.c.group("g")->members.empty());
  }
}

TEST_CASE("A static member that does not rejoin stays through the rebalance") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", "", {}, "a", 10000, 20000), 5, 1);
  auto s = send_request(h, b, join_request("g", "", {}, "s", 60000, 20000), 5, 2);
  h.now += 20ms;  // the second member's join extends the delay once
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto js = p.get<join_group_response>(s);
  REQUIRE(h.c.rebalance_group("g"));
  auto ra = send_request(h, b, join_request("g", ja.member_id, {}, "a", 10000, 20000), 5, 1);
  h.now += 20000ms;
  auto p2 = poll(h);
  auto j = p2.get<join_group_response>(ra);
  CHECK(j.generation_id == 2);
  REQUIRE(j.members.size() == 2);  // the static member is still in
  CHECK(h.c.group("g")->members.size() == 2);
  (void)js;
}

TEST_CASE("group.max.size: GROUP_MAX_SIZE_REACHED for one member too many") {
  cluster_config cfg;
  cfg.group_max_size = 1;
  harness h(cfg);
  const std::int32_t b = coordinator_of(h, "g");
  auto m = join_alone(h, "g");
  auto r = h.call<join_group_response>(b, join_request("g", ""), 3, 2);
  CHECK(r.error_code == ec(kafka_error::group_max_size_reached));
  CHECK(r.member_id.empty());
  auto info = h.c.group("g");
  CHECK(info->members.size() == 1);
  CHECK(info->state == "Stable");
  // The member in it may still rejoin.
  CHECK(h.call<join_group_response>(b, join_request("g", m.member_id), 3).error_code == 0);
}

TEST_CASE("Cluster actions: expire_member, rebalance_group") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  CHECK_FALSE(h.c.expire_member("g", "x"));
  CHECK_FALSE(h.c.rebalance_group("g"));
  auto a = send_request(h, b, join_request("g", ""), 3, 1);
  auto c = send_request(h, b, join_request("g", ""), 3, 2);
  h.now += 20ms;  // the second member's join extends the delay once
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto jc = p.get<join_group_response>(c);
  h.call<sync_group_response>(b, sync_request("g", 1, ja.member_id), 3, 1);
  CHECK_FALSE(h.c.expire_member("g", "x"));
  // C rejoins first, then A expires: the join completes with C alone.
  REQUIRE(h.c.rebalance_group("g"));
  auto rc = send_request(h, b, join_request("g", jc.member_id), 3, 2);
  CHECK(rc.parked());
  CHECK(h.c.expire_member("g", ja.member_id));
  auto p2 = poll(h);
  auto j = p2.get<join_group_response>(rc);
  CHECK(j.generation_id == 2);
  CHECK(j.leader == jc.member_id);
  CHECK(h.c.group("g")->members.size() == 1);
  // Expiring a member whose JoinGroup is parked answers it UNKNOWN_MEMBER_ID.
  REQUIRE(h.c.rebalance_group("g"));
  auto rc2 = send_request(h, b, join_request("g", jc.member_id), 3, 2);
  if (rc2.parked()) {
    CHECK(h.c.expire_member("g", jc.member_id));
    CHECK(poll(h).get<join_group_response>(rc2).error_code == ec(kafka_error::unknown_member_id));
  }
}

TEST_CASE("Coordinator moves: FindCoordinator follows, parked requests get NOT_COORDINATOR") {
  harness h(delayed(5000));
  const std::int32_t old = coordinator_of(h, "g");
  auto j = send_request(h, old, join_request("g", ""), 3);
  CHECK(j.parked());
  const std::int32_t target = other_broker(h, "g");
  CHECK_FALSE(h.c.move_group_coordinator("g", 99));
  REQUIRE(h.c.move_group_coordinator("g", target));
  CHECK(coordinator_of(h, "g") == target);
  CHECK(h.c.group("g")->coordinator == target);
  auto p = poll(h);
  CHECK(p.get<join_group_response>(j).error_code == ec(kafka_error::not_coordinator));
  CHECK(h.call<heartbeat_response>(old, heartbeat_of("g", 0, "m"), 3).error_code ==
        ec(kafka_error::not_coordinator));
  // Its coordinator down: FindCoordinator and the group APIs say it is not available.
  REQUIRE(h.c.broker_down(target));
  find_coordinator_request fc;
  fc.key = "g";
  auto r = h.call<find_coordinator_response>(old, fc, 2);
  CHECK(r.error_code == ec(kafka_error::coordinator_not_available));
  CHECK(h.call<heartbeat_response>(old, heartbeat_of("g", 0, "m"), 3).error_code ==
        ec(kafka_error::coordinator_not_available));
  CHECK(h.call<join_group_response>(old, join_request("g", ""), 5).error_code ==
        ec(kafka_error::coordinator_not_available));
  REQUIRE(h.c.broker_up(target));
  CHECK(coordinator_of(h, "g") == target);
  // Transactional ids keep the hash choice.
  fc.key_type = 1;
  CHECK(h.call<find_coordinator_response>(old, fc, 2).node_id == old);
}

TEST_CASE("A coordinator move starts every member's session again") {
  harness h;
  const joined_member a = join_alone(h, "g");  // session 10 s
  h.now += std::chrono::seconds(8);
  poll(h);
  REQUIRE(h.c.move_group_coordinator("g", other_broker(h, "g")));
  // 16 s without a heartbeat, 8 s since the new coordinator loaded the group.
  h.now += std::chrono::seconds(8);
  poll(h);
  REQUIRE(h.c.group("g")->members.size() == 1);
  const std::int32_t now_coordinator = coordinator_of(h, "g");
  CHECK(h.call<heartbeat_response>(now_coordinator, heartbeat_of("g", a.generation, a.member_id), 3)
            .error_code == 0);
  // Silent for a whole session at the new coordinator: gone.
  h.now += std::chrono::seconds(11);
  poll(h);
  CHECK(h.c.group("g")->members.empty());
}

TEST_CASE("A coordinator that goes down answers its parked JoinGroup with NOT_COORDINATOR") {
  harness h(delayed(5000));
  const std::int32_t b = coordinator_of(h, "g");
  auto j = send_request(h, b, join_request("g", ""), 3);
  REQUIRE(j.parked());
  REQUIRE(h.c.broker_down(b));
  auto p = poll(h);
  CHECK(p.get<join_group_response>(j).error_code == ec(kafka_error::not_coordinator));
}

TEST_CASE("A fault rule can name a group") {
  harness h;
  fault_rule rule;
  rule.match.group = "g1";
  rule.action = fault_action::error(kafka_error::not_coordinator);
  const rule_id id = h.c.add_fault(rule);
  const std::int32_t b1 = coordinator_of(h, "g1");
  auto r = h.call<join_group_response>(b1, join_request("g1", "m"), 5);
  CHECK(r.error_code == ec(kafka_error::not_coordinator));
  CHECK(r.member_id == "m");
  CHECK(h.c.fired(id) == 1);
  // Another group is untouched.
  const std::int32_t b2 = coordinator_of(h, "g2");
  CHECK(h.call<join_group_response>(b2, join_request("g2", ""), 5).error_code ==
        ec(kafka_error::member_id_required));
  CHECK(h.c.fired(id) == 1);
  leave_group_request l;
  l.group_id = "g1";
  l.members.push_back({"x", std::nullopt, std::nullopt, {}});
  auto lr = h.call<leave_group_response>(b1, l, 3);
  CHECK(lr.error_code == ec(kafka_error::not_coordinator));
  REQUIRE(lr.members.size() == 1);
  CHECK(lr.members[0].error_code == ec(kafka_error::not_coordinator));
}

TEST_CASE("append_then_error on JoinGroup: the member joins, its answer is the error") {
  harness h;
  const joined_member a = join_alone(h, "g");
  const std::int32_t b = coordinator_of(h, "g");
  auto first = h.call<join_group_response>(b, join_request("g", ""), 5);
  REQUIRE(first.error_code == ec(kafka_error::member_id_required));
  fault_rule rule;
  rule.match.group = "g";
  rule.match.api_key = join_group_request::api_key;
  rule.action = fault_action::append_then_error(kafka_error::coordinator_load_in_progress);
  rule.count = 2;
  const rule_id id = h.c.add_fault(rule);
  // The newcomer's JoinGroup waits for the rebalance (answered later) ...
  auto newcomer = send_request(h, b, join_request("g", first.member_id), 5);
  REQUIRE(newcomer.parked());
  // ... the old member's rejoin completes it (answered at once).
  auto rejoin = send_request(h, b, join_request("g", a.member_id), 5);
  auto answers = poll(h);
  CHECK(h.c.fired(id) == 2);
  CHECK(answer_of<join_group_response>(rejoin, answers).error_code ==
        ec(kafka_error::coordinator_load_in_progress));
  CHECK(answers.get<join_group_response>(newcomer).error_code ==
        ec(kafka_error::coordinator_load_in_progress));
  // Both joins were done: the next generation has both members.
  const auto info = h.c.group("g");
  REQUIRE(info.has_value());
  CHECK(info->generation == a.generation + 1);
  CHECK(info->members.size() == 2);
  CHECK(info->state == "CompletingRebalance");
}

TEST_CASE("Rejoining with the same metadata: the current generation, without a rebalance") {
  harness h(delayed(10));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", ""), 3, 1);
  auto c = send_request(h, b, join_request("g", ""), 3, 2);
  h.now += 20ms;
  auto p = poll(h);
  auto ja = p.get<join_group_response>(a);
  auto jc = p.get<join_group_response>(c);
  // CompletingRebalance: a member that missed its answer asks again.
  auto again = h.call<join_group_response>(b, join_request("g", jc.member_id), 3, 2);
  CHECK(again.error_code == 0);
  CHECK(again.generation_id == 1);
  CHECK(again.leader == ja.member_id);
  CHECK(again.members.empty());
  auto leader_again = h.call<join_group_response>(b, join_request("g", ja.member_id), 3, 1);
  CHECK(leader_again.members.size() == 2);  // the leader gets the members again
  CHECK(h.c.group("g")->state == "CompletingRebalance");
  REQUIRE(h.call<sync_group_response>(b, sync_request("g", 1, ja.member_id), 3, 1).error_code == 0);
  REQUIRE(h.call<sync_group_response>(b, sync_request("g", 1, jc.member_id), 3, 2).error_code == 0);
  // Stable: a follower with the same metadata stays in generation 1.
  auto follower = h.call<join_group_response>(b, join_request("g", jc.member_id), 3, 2);
  CHECK(follower.generation_id == 1);
  CHECK(h.c.group("g")->state == "Stable");
  // New metadata: a rebalance, the follower's JoinGroup waits for the leader's.
  auto changed = send_request(
      h, b, join_request("g", jc.member_id, {{"range", subscription({"t", "u"})}}), 3, 2);
  CHECK(changed.parked());
  CHECK(h.c.group("g")->state == "PreparingRebalance");
  auto rl = send_request(h, b, join_request("g", ja.member_id), 3, 1);
  REQUIRE_FALSE(rl.parked());  // the last one in completes the join for all
  auto p2 = poll(h);
  CHECK(answered<join_group_response>(rl).generation_id == 2);
  CHECK(p2.get<join_group_response>(changed).generation_id == 2);
  // CompletingRebalance with new metadata: another rebalance; the waiting
  // follower's SyncGroup is told so.
  auto sc = send_request(h, b, sync_request("g", 2, jc.member_id), 3, 2);
  CHECK(sc.parked());
  auto rl2 =
      send_request(h, b, join_request("g", ja.member_id, {{"range", subscription({"v"})}}), 3, 1);
  CHECK(rl2.parked());
  CHECK(poll(h).get<sync_group_response>(sc).error_code == ec(kafka_error::rebalance_in_progress));
  CHECK(h.c.group("g")->state == "PreparingRebalance");
}

TEST_CASE("OffsetCommit and LeaveGroup of a static member check its instance id") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "g");
  auto j = h.call<join_group_response>(b, join_request("g", "", {}, "inst"), 7);
  REQUIRE(j.error_code == 0);
  offset_commit_request c;
  c.group_id = "g";
  c.generation_id_or_member_epoch = 1;
  c.member_id = "other-id";
  c.group_instance_id = "inst";
  c.topics.push_back({"t", {{0, 5, -1, -1, std::string(""), {}}}, {}});
  CHECK(h.call<offset_commit_response>(b, c, 7).topics.at(0).partitions.at(0).error_code ==
        ec(kafka_error::fenced_instance_id));
  c.member_id = j.member_id;
  CHECK(h.call<offset_commit_response>(b, c, 7).topics.at(0).partitions.at(0).error_code ==
        ec(kafka_error::rebalance_in_progress));  // CompletingRebalance
  leave_group_request l;
  l.group_id = "g";
  l.members.push_back({"other-id", std::string("inst"), std::nullopt, {}});
  auto r = h.call<leave_group_response>(b, l, 3);
  CHECK(r.members.at(0).error_code == ec(kafka_error::fenced_instance_id));
  CHECK(h.c.group("g")->members.size() == 1);
}

TEST_CASE("A megabyte group id: joins, but its metadata does not fit __consumer_offsets") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  // Only flexible versions carry strings this long (varint lengths).
  const std::string big(1 << 20, 'g');
  const std::int32_t b = coordinator_of(h, big);
  auto m = join_alone(h, "small");
  auto first = h.call<join_group_response>(b, join_request(big, ""), 9);
  REQUIRE(first.error_code == ec(kafka_error::member_id_required));
  auto j = h.call<join_group_response>(b, join_request(big, first.member_id), 9);
  REQUIRE(j.error_code == 0);
  // Kafka fails to store the group at the leader's SyncGroup, and rebalances.
  auto s = h.call<sync_group_response>(
      b, sync_request(big, 1, j.member_id, {{j.member_id, bytes("a")}}), 5);
  CHECK(s.error_code == ec(kafka_error::unknown_server_error));
  CHECK(s.assignment.empty());
  CHECK(h.c.group(big)->state == "PreparingRebalance");
  CHECK(h.c.group(big)->members.at(0).assignment.empty());
  // Its offsets do not fit either; nothing is stored.
  offset_commit_request c;
  c.group_id = std::string(1 << 20, 'o');
  c.topics.push_back({"t", {{0, 5, -1, -1, std::string(""), {}}}, {}});
  auto r = h.call<offset_commit_response>(coordinator_of(h, c.group_id), c, 8);
  CHECK(r.topics.at(0).partitions.at(0).error_code == ec(kafka_error::invalid_commit_offset_size));
  CHECK_FALSE(h.c.group(c.group_id).has_value());
  // Other groups are untouched.
  CHECK(h.c.group("small")->state == "Stable");
  CHECK(h.call<heartbeat_response>(coordinator_of(h, "small"),
                                   heartbeat_of("small", 1, m.member_id), 3)
            .error_code == 0);
}

TEST_CASE("A connection that closes while its JoinGroup waits gets nothing; the group goes on") {
  harness h(delayed(100));
  const std::int32_t b = coordinator_of(h, "g");
  auto a = send_request(h, b, join_request("g", ""), 3, 1);
  auto c = send_request(h, b, join_request("g", ""), 3, 2);
  h.c.connection_closed(b, 1);
  h.now += 200ms;  // later members extend the delay once
  auto p = poll(h);
  CHECK_FALSE(p.has(a));
  CHECK(p.get<join_group_response>(c).generation_id == 1);
}

}  // namespace
}  // namespace kwire::mockbroker::testing
