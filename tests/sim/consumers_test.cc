// The consumer-group workload of the simulation, in scripted cases: members
// splitting partitions, a crash and a restart that resumes from the
// committed offset, the coordinator moving under a group, and a checker
// that catches an offset nobody committed. Times are virtual; every outcome
// asserted is exact for the script.
#include "kwire/sim/consumers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include "kwire/sim/consumer_scenario.hpp"
#include "kwire/sim/group_checker.hpp"
#include "sim_harness.hpp"

using namespace kwire;
using namespace kwire::sim;
using namespace kwire::sim::testing;

namespace {

consumer_options group_options() {
  consumer_options o;
  o.group_id = "g";
  o.topic = "t";
  o.session_timeout = 6000ms;
  o.rebalance_timeout = 10000ms;
  o.heartbeat_interval = 2000ms;
  o.auto_commit_interval = 1500ms;
  o.fetch_max_wait = 500ms;
  o.request_timeout = 3000ms;
  o.retry_backoff = 100ms;
  return o;
}

/// A sim_case whose partition p is led by broker 1 + p % 3, with a
/// consumer group "g" on its topic.
struct group_case : sim_case {
  consumer_group group;

  explicit group_case(std::int32_t partitions)
      : sim_case(base_config(), partitions), group(w, group_options()) {
    for (std::int32_t p = 0; p < partitions; ++p)
      REQUIRE(w.cluster().move_leader(topic, p, 1 + p % 3));
  }

  /// `n` records to each partition, one every `every`, from `from` on.
  void produce(int n, ms from, ms every) {
    for (int i = 0; i < n; ++i)
      for (std::int32_t p = 0; p < partitions; ++p) send(from + i * every, p);
  }

  group_check_result check_group_run() {
    group_expectations e;
    e.topic = topic;
    e.partitions = partitions;
    e.group_id = "g";
    return check_group(w, group, e);
  }

  /// The offsets member `m` processed on `partition`, in order.
  std::vector<std::int64_t> processed(std::size_t m, std::int32_t partition) const {
    std::vector<std::int64_t> out;
    for (const auto& r : group.log().consumed)
      if (r.member == m && r.partition == partition) out.push_back(r.offset);
    return out;
  }

  static std::string violations(const group_check_result& r) {
    std::string out;
    for (const auto& v : r.violations) out += v.kind + ": " + v.detail + "\n";
    return out;
  }
};

std::vector<std::int64_t> range(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> out;
  for (auto i = from; i < to; ++i) out.push_back(i);
  return out;
}

}  // namespace

TEST_CASE("sim consumers: two members split three partitions by range and read each record once") {
  group_case s(3);
  s.produce(20, 0ms, 50ms);
  const auto a = s.group.start_member(0ms);
  const auto b = s.group.start_member(0ms);
  s.w.run_until(8000ms);
  INFO(s.trace());
  REQUIRE(s.group.stable(a));
  REQUIRE(s.group.stable(b));
  CHECK(s.group.generation(a) == s.group.generation(b));
  // Range over the sorted member ids: the first takes partitions 0 and 1.
  const auto& ids = s.group.log().members;
  const bool a_first = ids[a].member_ids.back() < ids[b].member_ids.back();
  CHECK(s.group.assignment(a_first ? a : b) == std::vector<std::int32_t>{0, 1});
  CHECK(s.group.assignment(a_first ? b : a) == std::vector<std::int32_t>{2});
  for (std::int32_t p = 0; p < 3; ++p) {
    const auto owner = (p < 2) == a_first ? a : b;
    CHECK(s.group.position(owner, p) == 20);
    CHECK(s.processed(owner, p) == range(0, 20));
  }
  // Each leader served its own partition's fetches.
  s.group.stop_all();
  s.w.run_until(12000ms);
  CHECK(s.group.finished(a));
  CHECK(s.group.finished(b));
  const auto r = s.check_group_run();
  INFO(group_case::violations(r));
  CHECK(r.ok());
  CHECK(r.consumed == 60);
  CHECK(r.duplicates == 0);
  CHECK(r.clean_leaves == 2);
  const auto g = s.w.cluster().group("g");
  REQUIRE(g);
  CHECK(g->state == "Empty");
  REQUIRE(g->offsets.size() == 3);
  for (const auto& o : g->offsets) CHECK(o.offset == 20);
}

TEST_CASE("sim consumers: a crashed member's partition resumes from the committed offset") {
  group_case s(1);
  s.produce(10, 0ms, 10ms);     // r0..r9, read and committed (at 1.5 s) before the crash
  s.produce(5, 2000ms, 10ms);   // r10..r14, read by m1 but not committed when it crashes
  s.produce(5, 12000ms, 10ms);  // r15..r19, read by m2
  const auto m1 = s.group.start_member(0ms);
  s.group.crash_member(m1, 2500ms);
  const auto m2 = s.group.start_member(3000ms, m1);
  s.w.run_until(2400ms);
  REQUIRE(s.group.position(m1, 0) == 15);
  s.w.run_until(16000ms);
  INFO(s.trace());
  const consumer_log& log = s.group.log();
  CHECK(s.processed(m1, 0) == range(0, 15));
  // m2 waited for m1's session to expire (its last heartbeat plus 6 s), then
  // resumed at the offset m1 had committed, and read 10..14 again.
  REQUIRE(s.group.stable(m2));
  CHECK(s.group.assignment(m2) == std::vector<std::int32_t>{0});
  const auto start = std::find_if(log.starts.begin(), log.starts.end(),
                                  [&](const start_record& r) { return r.member == m2; });
  REQUIRE(start != log.starts.end());
  CHECK(start->committed == 10);
  CHECK(start->position == 10);
  CHECK(start->at >= 2500ms + 6000ms - 2000ms);
  CHECK(s.processed(m2, 0) == range(10, 20));
  s.group.stop_all();
  s.w.run_until(20000ms);
  const auto r = s.check_group_run();
  INFO(group_case::violations(r));
  CHECK(r.ok());
  CHECK(r.consumed == 25);
  CHECK(r.duplicates == 5);
  CHECK(r.crashes == 1);
  CHECK(r.restarts == 1);
  CHECK(s.w.cluster().group("g")->offsets.at(0).offset == 20);
}

TEST_CASE("sim consumers: the coordinator moves under a stable group and nobody rebalances") {
  group_case s(2);
  s.produce(20, 0ms, 200ms);  // over 4 s, across the move at 2 s
  const auto a = s.group.start_member(0ms);
  const auto b = s.group.start_member(0ms);
  s.w.run_until(1900ms);
  REQUIRE(s.group.stable(a));
  REQUIRE(s.group.stable(b));
  const auto generation = s.group.generation(a);
  // Generation 1's SyncGroup heard REBALANCE_IN_PROGRESS when b joined.
  const auto notices = s.group.log().rebalance_notices;
  const auto before = s.w.cluster().group("g")->coordinator;
  const std::int32_t to = before == 3 ? 1 : before + 1;
  s.w.at(2000ms, "move the coordinator",
         [&](world& w) { REQUIRE(w.cluster().move_group_coordinator("g", to)); });
  s.w.run_until(8000ms);
  INFO(s.trace());
  CHECK(s.w.cluster().group("g")->coordinator == to);
  // Each member heard NOT_COORDINATOR, found the new coordinator and went on
  // heartbeating and committing in the same generation.
  CHECK(s.group.log().coordinator_changes == 2);
  CHECK(s.group.generation(a) == generation);
  CHECK(s.group.generation(b) == generation);
  CHECK(s.group.log().rebalance_notices == notices);
  const auto commits_after = std::count_if(
      s.group.log().commits.begin(), s.group.log().commits.end(),
      [](const commit_record& c) { return c.sent_at > 2000ms && c.answered_at && c.error == 0; });
  CHECK(commits_after > 0);
  s.group.stop_all();
  s.w.run_until(12000ms);
  const auto r = s.check_group_run();
  INFO(group_case::violations(r));
  CHECK(r.ok());
  CHECK(r.consumed == 40);
  CHECK(r.duplicates == 0);
  CHECK(r.generations == 1);
}

TEST_CASE("sim consumers: the coordinator moves while a JoinGroup is parked") {
  group_case s(2);
  s.produce(10, 0ms, 100ms);  // read and committed by a (at 1.5 s) before b comes
  const auto a = s.group.start_member(0ms);
  // b's JoinGroup starts a rebalance and waits, parked, for a, which hears
  // of it only at its next heartbeat (about 2 s): the coordinator moves first.
  const auto b = s.group.start_member(1500ms);
  s.w.run_until(1799ms);
  auto g = s.w.cluster().group("g");
  REQUIRE(g);
  REQUIRE(g->state == "PreparingRebalance");
  REQUIRE(g->generation == 1);
  const std::int32_t to = g->coordinator == 3 ? 1 : g->coordinator + 1;
  s.w.at(1800ms, "move the coordinator",
         [to](world& w) { REQUIRE(w.cluster().move_group_coordinator("g", to)); });
  s.w.run_until(8000ms);
  INFO(s.trace());
  // b's parked join was answered NOT_COORDINATOR, a's heartbeat too: both
  // found the new coordinator and formed generation 2 there.
  CHECK(s.group.log().coordinator_changes == 2);
  g = s.w.cluster().group("g");
  CHECK(g->coordinator == to);
  CHECK(g->state == "Stable");
  CHECK(g->generation == 2);
  REQUIRE(s.group.stable(a));
  REQUIRE(s.group.stable(b));
  CHECK(s.group.generation(a) == 2);
  CHECK(s.group.generation(b) == 2);
  CHECK(s.group.assignment(a).size() == 1);
  CHECK(s.group.assignment(b).size() == 1);
  s.group.stop_all();
  s.w.run_until(12000ms);
  const auto r = s.check_group_run();
  INFO(group_case::violations(r));
  CHECK(r.ok());
  CHECK(r.distinct == 20);
  CHECK(r.duplicates == 0);  // a committed everything before it gave partition up
}

TEST_CASE("sim consumers: the checker catches a committed offset nobody committed") {
  group_case s(1);
  s.produce(10, 0ms, 10ms);
  s.produce(10, 3000ms, 10ms);
  const auto m1 = s.group.start_member(0ms);
  s.group.crash_member(m1, 2000ms);
  // While m1's session runs out, the offset jumps past records 10..14
  // (as a coordinator that mixed up its offsets would): the restart
  // resumes there and never reads them.
  s.w.at(4000ms, "plant an offset", [](world& w) {
    REQUIRE(w.cluster().set_committed_offset("g", "t", 0, 15) == kafka_error::none);
  });
  s.group.start_member(4500ms, m1);
  s.w.run_until(16000ms);
  s.group.stop_all();
  s.w.run_until(20000ms);
  const auto r = s.check_group_run();
  std::vector<std::string> kinds;
  for (const auto& v : r.violations) kinds.push_back(v.kind);
  INFO(group_case::violations(r));
  CHECK(std::count(kinds.begin(), kinds.end(), "phantom_offset") == 1);
  CHECK(std::count(kinds.begin(), kinds.end(), "uncovered") == 5);  // offsets 10..14
  // ...which the producer had been told were written: r10..r14.
  CHECK(std::count(kinds.begin(), kinds.end(), "unconsumed") == 5);
  CHECK(r.violations.size() == 11);
}

TEST_CASE("sim consumers: a consumer scenario is a pure function of its seed") {
  for (std::uint64_t seed : {1u, 5u, 77u}) {
    const auto s = make_consumer_scenario(seed);
    CHECK(s.describe() == make_consumer_scenario(seed).describe());
    // The producer's part is the default workload's scenario for the seed.
    CHECK(s.base.describe() == make_scenario(seed).describe());
    const auto x = run_consumer_scenario(s);
    const auto y = run_consumer_scenario(s);
    CHECK(x.digest == y.digest);
    CHECK(x.virtual_time == y.virtual_time);
    CHECK(x.group.consumed == y.group.consumed);
    CHECK(x.ok());
    CHECK(x.settled);
  }
  CHECK(run_consumer_scenario(make_consumer_scenario(1)).digest !=
        run_consumer_scenario(make_consumer_scenario(2)).digest);
}
