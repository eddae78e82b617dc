// The group coordinator's offsets: OffsetCommit, OffsetFetch and
// OffsetDelete at every version, with Kafka's checks of generation,
// member, topic and metadata size.
#include "group_harness.hpp"

namespace kwire::mockbroker::testing {
namespace {

using namespace std::chrono_literals;

offset_commit_request commit_of(
    const std::string& group, std::int32_t generation, const std::string& member,
    std::vector<std::tuple<std::string, std::int32_t, std::int64_t, std::optional<std::string>>>
        parts) {
  offset_commit_request r;
  r.group_id = group;
  r.generation_id_or_member_epoch = generation;
  r.member_id = member;
  for (auto& [topic, p, offset, metadata] : parts) {
    auto it = std::find_if(r.topics.begin(), r.topics.end(),
                           [&](const auto& t) { return t.name == topic; });
    if (it == r.topics.end()) {
      r.topics.emplace_back();
      r.topics.back().name = topic;
      it = r.topics.end() - 1;
    }
    offset_commit_request::offset_commit_request_partition op;
    op.partition_index = p;
    op.committed_offset = offset;
    op.committed_metadata = metadata;
    it->partitions.push_back(op);
  }
  return r;
}

/// The error codes of a commit answer, in order.
std::vector<std::int16_t> codes(const offset_commit_response& r) {
  std::vector<std::int16_t> out;
  for (const auto& t : r.topics)
    for (const auto& p : t.partitions) out.push_back(p.error_code);
  return out;
}

offset_fetch_request fetch_of(
    const std::string& group,
    std::optional<std::vector<std::pair<std::string, std::vector<std::int32_t>>>> topics,
    std::int16_t version) {
  offset_fetch_request r;
  if (version >= 8) {
    offset_fetch_request::offset_fetch_request_group g;
    g.group_id = group;
    if (topics) {
      g.topics.emplace();
      for (auto& [name, parts] : *topics) g.topics->push_back({name, parts, {}});
    } else {
      g.topics.reset();
    }
    r.groups.push_back(std::move(g));
  } else {
    r.group_id = group;
    if (topics) {
      r.topics.emplace();
      for (auto& [name, parts] : *topics) r.topics->push_back({name, parts, {}});
    } else {
      r.topics.reset();
    }
  }
  return r;
}

struct fetched {
  std::string topic;
  std::int32_t partition;
  std::int64_t offset;
  std::int32_t epoch;
  std::optional<std::string> metadata;
  std::int16_t error;
  bool operator==(const fetched&) const = default;
};

std::vector<fetched> flatten(const offset_fetch_response& r, std::int16_t version) {
  std::vector<fetched> out;
  if (version >= 8) {
    for (const auto& g : r.groups)
      for (const auto& t : g.topics)
        for (const auto& p : t.partitions)
          out.push_back({t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                         p.metadata, p.error_code});
  } else {
    for (const auto& t : r.topics)
      for (const auto& p : t.partitions)
        out.push_back({t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                       p.metadata, p.error_code});
  }
  return out;
}

TEST_CASE("Simple consumers commit with generation -1 at every version; OffsetFetch reads it") {
  for (std::int16_t cv = 0; cv <= offset_commit_request::max_version; ++cv) {
    harness h;
    REQUIRE(h.c.create_topic("t", {.partitions = 3}) == kafka_error::none);
    const std::int32_t b = coordinator_of(h, "g");
    auto req = commit_of("g", -1, "", {{"t", 0, 42, "meta"}, {"t", 2, 7, std::nullopt}});
    if (cv >= 6) req.topics[0].partitions[0].committed_leader_epoch = 3;
    auto r = h.call<offset_commit_response>(b, req, cv);
    INFO("OffsetCommit v" << cv);
    CHECK(codes(r) == std::vector<std::int16_t>{0, 0});
    auto info = h.c.group("g");
    REQUIRE(info.has_value());
    CHECK(info->state == "Empty");
    CHECK(info->protocol_type.empty());
    REQUIRE(info->offsets.size() == 2);
    CHECK(info->offsets[0].offset == 42);
    CHECK(info->offsets[0].metadata == "meta");
    CHECK(info->offsets[0].leader_epoch == (cv >= 6 ? 3 : -1));
    CHECK(info->offsets[1].metadata.empty());  // null metadata is stored as ""
    for (std::int16_t fv = 1; fv <= offset_fetch_request::max_version; ++fv) {
      INFO("OffsetFetch v" << fv);
      auto f = h.call<offset_fetch_response>(b, fetch_of("g", {{{"t", {0, 1, 2}}}}, fv), fv);
      const std::int32_t epoch = fv >= 5 && cv >= 6 ? 3 : -1;
      CHECK(flatten(f, fv) == std::vector<fetched>{{"t", 0, 42, epoch, "meta", 0},
                                                   {"t", 1, -1, -1, "", 0},
                                                   {"t", 2, 7, -1, "", 0}});
    }
  }
}

TEST_CASE("OffsetCommit: unknown partitions, metadata too large, the rest stored") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "g");
  auto r = h.call<offset_commit_response>(b,
                                          commit_of("g", -1, "",
                                                    {{"t", 0, 1, std::string(4096, 'm')},
                                                     {"t", 1, 2, std::string(4097, 'm')},
                                                     {"t", 2, 3, ""},
                                                     {"nope", 0, 4, ""}}),
                                          8);
  CHECK(codes(r) == std::vector<std::int16_t>{0, ec(kafka_error::offset_metadata_too_large),
                                              ec(kafka_error::unknown_topic_or_partition),
                                              ec(kafka_error::unknown_topic_or_partition)});
  auto info = h.c.group("g");
  REQUIRE(info->offsets.size() == 1);
  CHECK(info->offsets[0].partition == 0);
  CHECK(info->offsets[0].metadata.size() == 4096);

  // Nothing storable: no group is created.
  auto none = h.call<offset_commit_response>(coordinator_of(h, "g2"),
                                             commit_of("g2", -1, "", {{"nope", 0, 1, ""}}), 8);
  CHECK(codes(none) == std::vector<std::int16_t>{ec(kafka_error::unknown_topic_or_partition)});
  CHECK_FALSE(h.c.group("g2").has_value());

  // The configured limit.
  cluster_config cfg;
  cfg.offset_metadata_max_bytes = 3;
  harness small(cfg);
  REQUIRE(small.c.create_topic("t") == kafka_error::none);
  auto s = small.call<offset_commit_response>(coordinator_of(small, "g"),
                                              commit_of("g", -1, "", {{"t", 0, 1, "abcd"}}), 2);
  CHECK(codes(s) == std::vector<std::int16_t>{ec(kafka_error::offset_metadata_too_large)});
  CHECK_FALSE(small.c.group("g").has_value());
}

TEST_CASE("OffsetCommit checks the group: generation, member, state, coordinator") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "g");
  auto one = [&](std::int32_t generation, const std::string& member, std::int32_t broker = 0,
                 std::int16_t v = 8) {
    auto r = h.call<offset_commit_response>(
        broker ? broker : b, commit_of("g", generation, member, {{"t", 0, 5, ""}}), v);
    return codes(r).at(0);
  };
  // A generation for a group that does not exist: ILLEGAL_GENERATION.
  CHECK(one(1, "m") == ec(kafka_error::illegal_generation));
  CHECK_FALSE(h.c.group("g").has_value());
  CHECK(one(-1, "", other_broker(h, "g")) == ec(kafka_error::not_coordinator));

  auto m = join_alone(h, "g");
  CHECK(one(m.generation, m.member_id) == 0);
  CHECK(one(m.generation + 1, m.member_id) == ec(kafka_error::illegal_generation));
  CHECK(one(m.generation, "stranger") == ec(kafka_error::unknown_member_id));
  // Outside commits while the group has members: UNKNOWN_MEMBER_ID.
  CHECK(one(-1, "") == ec(kafka_error::unknown_member_id));
  CHECK(one(-1, "", b, 0) == ec(kafka_error::unknown_member_id));
  // During PreparingRebalance a member may still commit.
  REQUIRE(h.c.rebalance_group("g"));
  CHECK(one(m.generation, m.member_id) == 0);
  // CompletingRebalance: REBALANCE_IN_PROGRESS.
  auto j = h.call<join_group_response>(b, join_request("g", m.member_id), 5);
  REQUIRE(j.generation_id == m.generation + 1);
  CHECK(h.c.group("g")->state == "CompletingRebalance");
  CHECK(one(j.generation_id, m.member_id) == ec(kafka_error::rebalance_in_progress));
  // The member leaves: the group is Empty and outside commits work again.
  leave_group_request l;
  l.group_id = "g";
  l.member_id = m.member_id;
  REQUIRE(h.call<leave_group_response>(b, l, 1).error_code == 0);
  CHECK(h.c.group("g")->state == "Empty");
  CHECK(one(-1, "") == 0);
}

TEST_CASE("OffsetCommit keeps a committing member's session alive") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "g");
  auto m = join_alone(h, "g");
  for (int i = 0; i < 5; ++i) {
    h.now += 9000ms;
    auto r = h.call<offset_commit_response>(
        b, commit_of("g", m.generation, m.member_id, {{"t", 0, i, ""}}), 8);
    CHECK(codes(r).at(0) == 0);
    poll(h);
  }
  CHECK(h.c.group("g")->members.size() == 1);
  h.now += 10000ms;
  poll(h);
  CHECK(h.c.group("g")->members.empty());
  CHECK(h.c.group("g")->offsets.at(0).offset == 4);
}

TEST_CASE("OffsetFetch: every committed partition, unknown groups, many groups, errors") {
  harness h;
  REQUIRE(h.c.create_topic("a", {.partitions = 2}) == kafka_error::none);
  REQUIRE(h.c.create_topic("b") == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "g");
  REQUIRE(codes(h.call<offset_commit_response>(
              b, commit_of("g", -1, "", {{"b", 0, 9, "x"}, {"a", 1, 3, "y"}}), 8)) ==
          std::vector<std::int16_t>{0, 0});
  for (std::int16_t v = 2; v <= offset_fetch_request::max_version; ++v) {
    INFO("OffsetFetch v" << v);
    // Null topics: everything committed, by topic and partition.
    auto all = h.call<offset_fetch_response>(b, fetch_of("g", std::nullopt, v), v);
    CHECK(flatten(all, v) ==
          std::vector<fetched>{{"a", 1, 3, -1, "y", 0}, {"b", 0, 9, -1, "x", 0}});
    // An unknown group: -1 for each asked partition, nothing when asked for all.
    const std::int32_t bu = coordinator_of(h, "unknown");
    auto unknown = h.call<offset_fetch_response>(bu, fetch_of("unknown", {{{"a", {0}}}}, v), v);
    CHECK(flatten(unknown, v) == std::vector<fetched>{{"a", 0, -1, -1, "", 0}});
    CHECK(flatten(h.call<offset_fetch_response>(bu, fetch_of("unknown", std::nullopt, v), v), v)
              .empty());
    // require_stable: no transactions here, so the offsets are stable.
    if (v >= 7) {
      auto req = fetch_of("g", {{{"b", {0}}}}, v);
      req.require_stable = true;
      CHECK(flatten(h.call<offset_fetch_response>(b, req, v), v) ==
            std::vector<fetched>{{"b", 0, 9, -1, "x", 0}});
    }
    // The wrong broker: NOT_COORDINATOR at the top (v2-v7) or per group (v8+).
    auto wrong =
        h.call<offset_fetch_response>(other_broker(h, "g"), fetch_of("g", {{{"a", {1}}}}, v), v);
    if (v >= 8) {
      REQUIRE(wrong.groups.size() == 1);
      CHECK(wrong.groups[0].error_code == ec(kafka_error::not_coordinator));
      CHECK(wrong.groups[0].topics.empty());
    } else {
      CHECK(wrong.error_code == ec(kafka_error::not_coordinator));
      CHECK(wrong.topics.empty());
    }
  }
  // v0-v1: the error on each partition.
  for (std::int16_t v = 0; v <= 1; ++v) {
    auto wrong =
        h.call<offset_fetch_response>(other_broker(h, "g"), fetch_of("g", {{{"a", {1}}}}, v), v);
    CHECK(flatten(wrong, v) ==
          std::vector<fetched>{{"a", 1, -1, -1, "", ec(kafka_error::not_coordinator)}});
  }
  // v8: several groups in one request, each answered by its coordinator's rules.
  REQUIRE(h.c.move_group_coordinator("h", b));
  REQUIRE(h.c.set_committed_offset("h", "b", 0, 11, "hm") == kafka_error::none);
  offset_fetch_request many;
  for (const std::string id : {"g", "h", "unknown-group"}) {
    offset_fetch_request::offset_fetch_request_group g;
    g.group_id = id;
    g.topics.emplace();
    g.topics->push_back({"b", {0}, {}});
    many.groups.push_back(g);
  }
  auto r = h.call<offset_fetch_response>(b, many, 8);
  REQUIRE(r.groups.size() == 3);
  CHECK(r.groups[0].topics.at(0).partitions.at(0).committed_offset == 9);
  CHECK(r.groups[1].topics.at(0).partitions.at(0).committed_offset == 11);
  CHECK(r.groups[1].topics.at(0).partitions.at(0).metadata == std::optional<std::string>("hm"));
  if (coordinator_of(h, "unknown-group") == b)
    CHECK(r.groups[2].topics.at(0).partitions.at(0).committed_offset == -1);
  else
    CHECK(r.groups[2].error_code == ec(kafka_error::not_coordinator));
}

TEST_CASE(
    "OffsetDelete: Empty groups lose offsets; subscribed topics of live consumer groups stay") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 2}) == kafka_error::none);
  REQUIRE(h.c.create_topic("other") == kafka_error::none);
  const std::int32_t b = coordinator_of(h, "g");
  auto del = [&](const std::string& group, std::vector<std::pair<std::string, std::int32_t>> parts,
                 std::int32_t broker = 0) {
    offset_delete_request r;
    r.group_id = group;
    for (auto& [topic, p] : parts) {
      auto it = std::find_if(r.topics.begin(), r.topics.end(),
                             [&](const auto& t) { return t.name == topic; });
      if (it == r.topics.end()) {
        r.topics.emplace_back();
        r.topics.back().name = topic;
        it = r.topics.end() - 1;
      }
      it->partitions.push_back({p, {}});
    }
    return h.call<offset_delete_response>(broker ? broker : coordinator_of(h, group), r, 0);
  };
  auto errors = [](const offset_delete_response& r) {
    std::vector<std::int16_t> out;
    for (const auto& t : r.topics)
      for (const auto& p : t.partitions) out.push_back(p.error_code);
    return out;
  };
  CHECK(del("missing", {{"t", 0}}).error_code == ec(kafka_error::group_id_not_found));
  CHECK(del("", {{"t", 0}}, b).error_code == ec(kafka_error::invalid_group_id));
  CHECK(del("g", {{"t", 0}}, other_broker(h, "g")).error_code == ec(kafka_error::not_coordinator));

  REQUIRE(h.c.set_committed_offset("g", "t", 0, 1) == kafka_error::none);
  REQUIRE(h.c.set_committed_offset("g", "t", 1, 2) == kafka_error::none);
  REQUIRE(h.c.set_committed_offset("g", "other", 0, 3) == kafka_error::none);
  // A consumer group subscribed to "t" only.
  auto m = join_alone(h, "g", bytes("a"), {"t"});
  auto live = del("g", {{"t", 0}, {"other", 0}, {"gone", 0}});
  CHECK(live.error_code == 0);
  CHECK(errors(live) == std::vector<std::int16_t>{ec(kafka_error::group_subscribed_to_topic), 0,
                                                  ec(kafka_error::unknown_topic_or_partition)});
  auto info = h.c.group("g");
  REQUIRE(info->offsets.size() == 2);
  CHECK(info->offsets[0].topic == "t");
  CHECK(info->offsets[1].topic == "t");
  // Once Empty, everything may go.
  leave_group_request l;
  l.group_id = "g";
  l.member_id = m.member_id;
  REQUIRE(h.call<leave_group_response>(b, l, 0).error_code == 0);
  auto empty = del("g", {{"t", 0}, {"t", 1}});
  CHECK(errors(empty) == std::vector<std::int16_t>{0, 0});
  CHECK(h.c.group("g")->offsets.empty());

  // A live group of another protocol type: NON_EMPTY_GROUP.
  const std::int32_t bc = coordinator_of(h, "c");
  auto first =
      h.call<join_group_response>(bc, join_request("c", "", {}, {}, 10000, 60000, "connect"), 3);
  REQUIRE(first.error_code == 0);
  auto nc = del("c", {{"t", 0}});
  CHECK(nc.error_code == ec(kafka_error::non_empty_group));
  CHECK(nc.topics.empty());
}

TEST_CASE("set_committed_offset: the action's checks") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  CHECK(h.c.set_committed_offset("g", "nope", 0, 1) == kafka_error::unknown_topic_or_partition);
  CHECK(h.c.set_committed_offset("g", "t", 1, 1) == kafka_error::unknown_topic_or_partition);
  CHECK(h.c.set_committed_offset("g", "t", 0, 1, std::string(4097, 'x')) ==
        kafka_error::offset_metadata_too_large);
  CHECK_FALSE(h.c.group("g").has_value());
  CHECK(h.c.set_committed_offset("g", "t", 0, 17, "md", 4) == kafka_error::none);
  auto o = h.c.group("g")->offsets.at(0);
  CHECK(o.offset == 17);
  CHECK(o.metadata == "md");
  CHECK(o.leader_epoch == 4);
  // Into a live group too.
  join_alone(h, "live");
  CHECK(h.c.set_committed_offset("live", "t", 0, 5) == kafka_error::none);
  CHECK(h.c.group("live")->offsets.at(0).offset == 5);
}

}  // namespace
}  // namespace kwire::mockbroker::testing
