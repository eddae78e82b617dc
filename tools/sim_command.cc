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
#include "kwire/tools/options.hpp"

namespace kwire::tools {
namespace {

constexpr const char* sim_usage =
    "usage: kwire sim [--seed S] [--runs N] [--trace] [--exclude FAULT[,FAULT...]]\n"
    "  Runs N simulated scenarios (run i uses seed S+i): a 3-broker mock cluster and the\n"
    "  producer core in virtual time, with a workload and a fault schedule drawn from\n"
    "  the seed, then checks the partition logs against the delivery reports.\n"
    "  Each violation prints its seed and the command that replays it with a trace.\n"
    "  The last line of standard output is one JSON object: runs, violations, lost,\n"
    "  duplicated, reordered, unexpected_failures, records, acked, failed,\n"
    "  virtual_seconds, wall_seconds, runs_per_second, digest (FNV-1a 64 of every\n"
    "  run's requests and responses: the same arguments give the same digest).\n"
    "  Exits 0 without violations, 1 with any, 2 on a usage error.\n"
    "  --seed S       first seed (default 1)\n"
    "  --runs N       number of runs (default 1)\n"
    "  --trace        print each run's scenario and every request, response, fault and\n"
    "                 report in virtual time\n"
    "  --exclude F    never draw these fault types (comma-separated names, see below)\n"
    "  fault types:";

bool parse_exclusions(const std::string& text, std::set<sim::fault_type>& out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    bool found = false;
    for (int i = 0; i < sim::fault_type_count; ++i) {
      const auto t = static_cast<sim::fault_type>(i);
      if (sim::fault_type_name(t) == name) {
        out.insert(t);
        found = true;
      }
    }
    if (!found) return false;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

void print_usage(std::ostream& os) {
  os << sim_usage;
  for (int i = 0; i < sim::fault_type_count; ++i) os << ' ' << sim::fault_type_name(static_cast<sim::fault_type>(i));
  os << '\n';
}

}  // namespace

int run_sim(int argc, char** argv) {
  long long seed = 1;
  long long runs = 1;
  bool trace = false;
  std::string exclude_text;
  sim::scenario_options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "--help" || arg == "-h") {
      print_usage(std::cout);
      return 0;
    } else if (arg == "--seed") {
      const char* v = value();
      if (!v || !parse_integer(v, 0, 0x7fffffffffffffffLL, seed)) {
        std::cerr << "kwire sim: --seed needs a whole number >= 0\n";
        return 2;
      }
    } else if (arg == "--runs") {
      const char* v = value();
      if (!v || !parse_integer(v, 1, 1'000'000'000LL, runs)) {
        std::cerr << "kwire sim: --runs needs a whole number >= 1\n";
        return 2;
      }
    } else if (arg == "--trace") {
      trace = true;
    } else if (arg == "--exclude") {
      const char* v = value();
      if (!v || !parse_exclusions(v, options.excluded)) {
        std::cerr << "kwire sim: --exclude needs fault type names, e.g. lost_ack,leader_move\n";
        print_usage(std::cerr);
        return 2;
      }
      exclude_text = v;
    } else {
      std::cerr << "kwire sim: unknown option '" << arg << "'\n";
      print_usage(std::cerr);
      return 2;
    }
  }

  const auto wall_start = std::chrono::steady_clock::now();
  std::uint64_t digest = 0xcbf29ce484222325ULL;
  std::uint64_t failing_runs = 0, violations = 0, lost = 0, duplicated = 0, reordered = 0, unexpected = 0;
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
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  char json[1024];
  std::snprintf(json, sizeof json,
                "{\"runs\": %lld, \"failing_runs\": %llu, \"violations\": %llu, \"lost\": %llu, \"duplicated\": %llu, "
                "\"reordered\": %llu, \"unexpected_failures\": %llu, \"records\": %llu, \"acked\": %llu, "
                "\"failed\": %llu, \"virtual_seconds\": %.3f, \"wall_seconds\": %.3f, \"runs_per_second\": %.1f, "
                "\"digest\": \"%016llx\"}",
                runs, static_cast<unsigned long long>(failing_runs), static_cast<unsigned long long>(violations),
                static_cast<unsigned long long>(lost), static_cast<unsigned long long>(duplicated),
                static_cast<unsigned long long>(reordered), static_cast<unsigned long long>(unexpected),
                static_cast<unsigned long long>(records), static_cast<unsigned long long>(acked),
                static_cast<unsigned long long>(failed), virtual_seconds, wall,
                wall > 0 ? static_cast<double>(runs) / wall : 0.0, static_cast<unsigned long long>(digest));
  std::cout << json << std::endl;
  return violations ? 1 : 0;
}

}  // namespace kwire::tools
