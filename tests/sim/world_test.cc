// The simulation shell and the checker themselves: determinism, the random
// source, and a checker that does catch what it is meant to catch.
#include "kwire/sim/world.hpp"

#include <catch2/catch.hpp>

#include "kwire/sim/random.hpp"
#include "kwire/sim/scenario.hpp"
#include "sim_harness.hpp"

using namespace kwire;
using namespace kwire::sim;
using namespace kwire::sim::testing;

TEST_CASE("sim: xoshiro256** is the same everywhere and below() stays in range") {
  random_source a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    CHECK(x == b.next());
    CHECK(x != c.next());
  }
  random_source r(7);
  for (int i = 0; i < 1000; ++i) {
    CHECK(r.below(3) < 3);
    const auto v = r.between(-5, 5);
    CHECK((v >= -5 && v <= 5));
  }
  CHECK(r.below(0) == 0);
}

TEST_CASE("sim: a scenario is a pure function of its seed") {
  for (std::uint64_t seed : {1u, 2u, 1922u}) {
    const auto a = run_scenario(make_scenario(seed));
    const auto b = run_scenario(make_scenario(seed));
    CHECK(a.digest == b.digest);
    CHECK(a.virtual_time == b.virtual_time);
    CHECK(a.steps == b.steps);
    CHECK(a.check.violations.size() == b.check.violations.size());
    CHECK(make_scenario(seed).describe() == make_scenario(seed).describe());
  }
  CHECK(run_scenario(make_scenario(1)).digest != run_scenario(make_scenario(2)).digest);
}

TEST_CASE("sim: excluded fault types are never drawn") {
  scenario_options o;
  for (int i = 0; i < fault_type_count; ++i)
    if (static_cast<fault_type>(i) != fault_type::lost_ack)
      o.excluded.insert(static_cast<fault_type>(i));
  std::size_t faults = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed)
    for (const auto& f : make_scenario(seed, o).faults) {
      CHECK(f.type == fault_type::lost_ack);
      ++faults;
    }
  CHECK(faults > 0);
}

TEST_CASE("sim: without faults every record is acknowledged, once, in order") {
  sim_case s(base_config(), 3);
  for (int i = 0; i < 30; ++i)
    s.w.send("t", "k" + std::to_string(i % 5), "r" + std::to_string(i) + ":", ms(i * 3));
  REQUIRE(s.w.run_until_reported(10000ms));
  const auto result = s.check();
  CHECK(result.ok());
  CHECK(result.acked == 30);
  CHECK(s.w.contract_violations().empty());
  CHECK(s.w.network().requests > 0);
}

TEST_CASE("sim: the checker catches a duplicate, a loss and a reorder planted in the log") {
  sim_case s(base_config());
  s.send(0ms);
  s.send(10ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  REQUIRE(s.check().ok());
  // Another writer appends copies of r1 then r0: both are now twice in the
  // log. Order is judged on first appearances, so a late copy is a
  // duplicate, not also a reorder.
  s.w.cluster().handle(1, 999, raw_produce("t", 0, {"r1:", "r0:"}),
                       mockbroker::time_point(ms(1'700'000'010'000)));
  auto result = s.check();
  CHECK(result.duplicated == 2);
  CHECK(result.reordered == 0);
  REQUIRE(result.violations.size() == 2);
  CHECK(result.violations[0].kind == "duplicated");
  // A log that lost its records: the acknowledged ones are reported lost.
  mockbroker::topic_config settings;
  settings.retention_records = 1;
  sim_case t(base_config(), 1, settings);
  t.send(0ms);
  t.send(10ms);
  REQUIRE(t.w.run_until_reported(5000ms));
  t.w.cluster().handle(1, 999, raw_produce("t", 0, {"other"}),
                       mockbroker::time_point(ms(1'700'000'010'000)));
  result = t.check();
  CHECK(result.lost == 2);
  CHECK_FALSE(result.ok());
}

TEST_CASE("sim: a cut connection loses what is in flight; the producer retries") {
  auto config = base_config();
  sim_case s(config, 1, {}, 5ms);
  s.send(0ms);
  REQUIRE(s.w.run_until_reported(5000ms));
  s.send(1000ms);
  s.w.at(1002ms, "cut", [](world& w) { REQUIRE(w.cut_connection(1)); });
  REQUIRE(s.w.run_until_reported(10000ms));
  CHECK(s.w.network().cuts == 1);
  CHECK(s.w.network().dropped_frames >= 1);
  CHECK_FALSE(s.w.records()[1].error);
  CHECK(s.log_values() == std::vector<std::string>{"r0:", "r1:"});
  CHECK(s.check().ok());
}
