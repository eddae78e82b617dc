// `kwire sim`: seeded simulation runs of the producer core against the
// cluster core under a fault schedule, each checked; JSON summary last.
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <string_view>

#include "kwire/sim/scenario.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {

int run_sim(const sim_options& given) {
  if (given.workload == "consumers") return run_sim_consumers(given);
  const auto seed = given.seed;
  const auto runs = given.runs;
  const bool trace = given.trace;
  const auto& exclude_text = given.exclude_text;
  sim::scenario_options options;
  options.excluded = sim::fault_types_named(given.excluded);

  const auto wall_start = std::chrono::steady_clock::now();
  std::uint64_t digest = 0xcbf29ce484222325ULL;
  std::uint64_t failing_runs = 0, violations = 0, lost = 0, duplicated = 0, reordered = 0,
                unexpected = 0;
  std::uint64_t records = 0, acked = 0, failed = 0;
  double virtual_seconds = 0;
  std::function<void(std::string_view)> sink;
  if (trace) sink = [](std::string_view line) { std::cout << line << '\n'; };

  for (long long i = 0; i < runs; ++i) {
    const auto s = static_cast<std::uint64_t>(seed) + static_cast<std::uint64_t>(i);
    const sim::scenario sc = sim::make_scenario(s, options);
    const sim::run_result r = sim::run_scenario(sc, sink);
    for (int b = 0; b < 8; ++b) {
      digest ^= static_cast<std::uint8_t>(r.digest >> (8 * b));
      digest *= 0x100000001b3ULL;
    }
    virtual_seconds += static_cast<double>(r.virtual_time.count()) / 1000.0;
    records += r.check.records;
    acked += r.check.acked;
    failed += r.check.failed;
    lost += r.check.lost;
    duplicated += r.check.duplicated;
    reordered += r.check.reordered;
    unexpected += r.check.unexpected_failures;
    if (!r.check.ok()) {
      ++failing_runs;
      violations += r.check.violations.size();
      std::cout << "seed " << s << ": " << r.check.violations.size() << " violation(s)\n";
      std::size_t shown = 0;
      for (const auto& v : r.check.violations) {
        if (++shown > 5) {
          std::cout << "  ...\n";
          break;
        }
        std::cout << "  " << v.kind << ": " << v.detail << '\n';
      }
      std::cout << "  replay: kwire sim --seed " << s << " --runs 1 --trace"
                << (exclude_text.empty() ? "" : " --exclude " + exclude_text) << '\n';
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  char json[1024];
  std::snprintf(
      json, sizeof json,
      "{\"runs\": %lld, \"failing_runs\": %llu, \"violations\": %llu, \"lost\": %llu, "
      "\"duplicated\": %llu, "
      "\"reordered\": %llu, \"unexpected_failures\": %llu, \"records\": %llu, \"acked\": %llu, "
      "\"failed\": %llu, \"virtual_seconds\": %.3f, \"wall_seconds\": %.3f, \"runs_per_second\": "
      "%.1f, "
      "\"digest\": \"%016llx\"}",
      static_cast<long long>(runs), static_cast<unsigned long long>(failing_runs),
      static_cast<unsigned long long>(violations), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(duplicated), static_cast<unsigned long long>(reordered),
      static_cast<unsigned long long>(unexpected), static_cast<unsigned long long>(records),
      static_cast<unsigned long long>(acked), static_cast<unsigned long long>(failed),
      virtual_seconds, wall, wall > 0 ? static_cast<double>(runs) / wall : 0.0,
      static_cast<unsigned long long>(digest));
  std::cout << json << std::endl;
  return violations ? 1 : 0;
}

}  // namespace kwire::tools
