// `kwire sim --workload consumers`: seeded runs of the producer and a
// consumer group against the cluster core under faults and a group script,
// each checked by the producer checker and the group checker; JSON last.
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <string_view>

#include "kwire/sim/consumer_scenario.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {

int run_sim_consumers(const sim_options& given) {
  sim::scenario_options options;
  options.excluded = sim::fault_types_named(given.excluded);
  std::function<void(std::string_view)> sink;
  if (given.trace) sink = [](std::string_view line) { std::cout << line << '\n'; };

  const auto wall_start = std::chrono::steady_clock::now();
  std::uint64_t digest = 0xcbf29ce484222325ULL;
  std::uint64_t failing_runs = 0, violations = 0, not_settled = 0;
  std::uint64_t records = 0, acked = 0, lost = 0, duplicated = 0, reordered = 0, unexpected = 0;
  std::uint64_t consumed = 0, reconsumed = 0, generations = 0, members = 0, crashes = 0,
                restarts = 0, leaves = 0, commits_acked = 0, commits_refused = 0, notices = 0,
                coordinator_changes = 0;
  std::int64_t virtual_ms = 0;
  for (long long i = 0; i < given.runs; ++i) {
    const auto seed = given.seed + static_cast<std::uint64_t>(i);
    const sim::consumer_run_result r =
        sim::run_consumer_scenario(sim::make_consumer_scenario(seed, options), sink);
    for (int b = 0; b < 8; ++b) {
      digest ^= static_cast<std::uint8_t>(r.digest >> (8 * b));
      digest *= 0x100000001b3ULL;
    }
    virtual_ms += r.virtual_time.count();
    records += r.producer.records;
    acked += r.producer.acked;
    lost += r.producer.lost;
    duplicated += r.producer.duplicated;
    reordered += r.producer.reordered;
    unexpected += r.producer.unexpected_failures;
    consumed += r.group.consumed;
    reconsumed += r.group.duplicates;
    generations += r.group.generations;
    members += r.group.members;
    crashes += r.group.crashes;
    restarts += r.group.restarts;
    leaves += r.group.clean_leaves;
    commits_acked += r.group.commits_acked;
    commits_refused += r.group.commits_refused;
    notices += r.group.rebalance_notices;
    coordinator_changes += r.group.coordinator_changes;
    not_settled += r.settled ? 0 : 1;
    if (r.ok()) continue;
    ++failing_runs;
    const std::size_t count = r.producer.violations.size() + r.group.violations.size();
    violations += count;
    std::cout << "seed " << seed << ": " << count << " violation(s)\n";
    std::size_t shown = 0;
    for (const auto* list : {&r.producer.violations, &r.group.violations})
      for (const auto& v : *list) {
        if (++shown > 8) break;
        std::cout << "  " << v.kind << ": " << v.detail << '\n';
      }
    if (shown > 8) std::cout << "  ...\n";
    std::cout << "  replay: kwire sim --workload consumers --seed " << seed << " --runs 1 --trace"
              << (given.exclude_text.empty() ? "" : " --exclude " + given.exclude_text) << '\n';
  }
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - wall_start)
                           .count();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(digest));
  // Times in whole milliseconds: Boost.JSON would print doubles as 9.2897E1.
  const boost::json::object summary{
      {"workload", "consumers"},
      {"runs", given.runs},
      {"failing_runs", failing_runs},
      {"violations", violations},
      {"not_settled", not_settled},
      {"records", records},
      {"acked", acked},
      {"lost", lost},
      {"duplicated", duplicated},
      {"reordered", reordered},
      {"unexpected_failures", unexpected},
      {"consumed", consumed},
      {"reconsumed", reconsumed},
      {"generations", generations},
      {"members", members},
      {"crashes", crashes},
      {"restarts", restarts},
      {"clean_leaves", leaves},
      {"commits_acked", commits_acked},
      {"commits_refused", commits_refused},
      {"rebalance_notices", notices},
      {"coordinator_changes", coordinator_changes},
      {"virtual_ms", virtual_ms},
      {"wall_ms", wall_ms},
      {"runs_per_second", wall_ms > 0 ? given.runs * 1000 / wall_ms : given.runs},
      {"digest", hex},
  };
  std::cout << boost::json::serialize(summary) << std::endl;
  return violations ? 1 : 0;
}

}  // namespace kwire::tools
