// The consumer-group workload of the simulation, in scripted cases: members
// splitting partitions, a crash and a restart that resumes from the
// committed offset, the coordinator moving under a group; each checked by
// the group checker and by exact outcomes.
#include "kwire/sim/consumers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

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
  o.auto_commit_interval = 1000ms;
  o.fetch_max_wait = 500ms;
  o.request_timeout = 3000ms;
  o.retry_backoff = 100ms;
  return o;
}

/// A sim_case with `partitions` partitions led by brokers 1, 2, 3 in turn
/// and a consumer group on it.
struct group_case : sim_case {
  consumer_group group;

  explicit group_case(std::int32_t partitions)
      : sim_case(base_config(), partitions, spread(partitions)), group(w, group_options()) {}

  static mockbroker::topic_config spread(std::int32_t partitions) {
    mockbroker::topic_config t;
    for (std::int32_t p = 0; p < partitions; ++p)
      t.assignments.push_back({1 + p % 3, 1 + (p + 1) % 3, 1 + (p + 2) % 3});
    return t;
  }

  /// `n` records per partition, one every `every`, from `from` on.
  void produce(int n, ms from, ms every) {
    for (int i = 0; i < n; ++i)
      for (std::int32_t p = 0; p < partitions; ++p) send(from + i * every, p);
  }

  group_check_result check_group_run(bool group_empty = true) {
    group_expectations e;
    e.topic = topic;
    e.partitions = partitions;
    e.group_id = "g";
    e.group_empty = group_empty;
    return check_group(w, group, e);
  }

  std::string violations(const group_check_result& r) const {
    std::string out;
    for (const auto& v : r.violations) out += v.kind + ": " + v.detail + "\n";
    return out;
  }
};

}  // namespace

TEST_CASE("sim consumers: two members split three partitions and consume everything once") {
  group_case s(3);
  s.produce(20, 0ms, 50ms);
  const auto a = s.group.start_member(0ms);
  const auto b = s.group.start_member(0ms);
  s.w.run_until(8000ms);
  INFO(s.trace());
  REQUIRE(s.group.stable(a));
  REQUIRE(s.group.stable(b));
  CHECK(s.group.generation(a) == s.group.generation(b));
  // Range: sorted member ids, the first takes two partitions.
  auto pa = s.group.assignment(a), pb = s.group.assignment(b);
  std::vector<std::int32_t> all = pa;
  all.insert(all.end(), pb.begin(), pb.end());
  std::sort(all.begin(), all.end());
  CHECK(all == std::vector<std::int32_t>{0, 1, 2});
  CHECK(std::min(pa.size(), pb.size()) == 1);
  for (std::int32_t p = 0; p < 3; ++p) {
    const auto owner = std::count(pa.begin(), pa.end(), p) ? a : b;
    CHECK(s.group.position(owner, p) == 20);
  }
  s.group.stop_all();
  s.w.run_until(12000ms);
  CHECK(s.group.finished(a));
  CHECK(s.group.finished(b));
  const auto r = s.check_group_run();
  INFO(s.violations(r));
  CHECK(r.ok());
  CHECK(r.consumed == 60);
  CHECK(r.duplicates == 0);
  CHECK(r.clean_leaves == 2);
  const auto g = s.w.cluster().group("g");
  REQUIRE(g);
  CHECK(g->members.empty());
  for (const auto& o : g->offsets) CHECK(o.offset == 20);
}
