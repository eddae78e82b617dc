// Fuzz target: the fault schedule of one simulated run (kwire::sim).
//
// Input: 4 bytes of seed (little-endian), from which make_scenario() draws the
// cluster, the producer configuration and the workload; its own fault
// schedule is thrown away. Then up to 16 faults of 10 bytes each: the type,
// the instant (2 bytes, big-endian, modulo the workload's span + 1 s), and 7
// bytes seeding the draw of everything else with draw_fault(), the function
// make_scenario() uses, so the fuzzer explores schedules the random sweep
// could draw, in combinations and at instants it rarely hits. A shorter tail
// is ignored.
// Oracle: the checker. A violation prints the scenario and every violation,
// then aborts; `kwire sim` cannot replay it (the schedule is not from a
// seed), but this target replays it from the saved input, with the whole
// trace when KWIRE_SIM_TRACE is set.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "kwire/sim/scenario.hpp"

namespace {

using kwire::sim::fault_event;
using kwire::sim::fault_type;
using kwire::sim::ms;

/// One fault from 10 bytes: type and instant from the bytes, the rest drawn
/// as make_scenario() draws it, from a source seeded by the other 7 bytes.
fault_event decode_fault(const std::uint8_t* b, const kwire::sim::scenario& s, ms last_send) {
  const auto type = static_cast<fault_type>(b[0] % kwire::sim::fault_type_count);
  std::uint64_t seed = 0;
  for (int i = 3; i < 10; ++i) seed = seed << 8 | b[i];
  kwire::sim::random_source rng(seed);
  fault_event f = kwire::sim::draw_fault(type, rng, s, last_send);
  f.at = ms(static_cast<std::int64_t>(b[1] << 8 | b[2]) % (last_send.count() + 1001));
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t fault_size = 10;
  constexpr std::size_t max_faults = 16;
  if (size < 4) return 0;
  const std::uint32_t seed = static_cast<std::uint32_t>(data[0] | data[1] << 8 | data[2] << 16) |
                             static_cast<std::uint32_t>(data[3]) << 24;
  kwire::sim::scenario s = kwire::sim::make_scenario(seed);
  const ms last_send = s.records.empty() ? ms(0) : s.records.back().at;
  s.faults.clear();
  ms last_fault_end{0};
  for (std::size_t at = 4; at + fault_size <= size && s.faults.size() < max_faults;
       at += fault_size) {
    s.faults.push_back(decode_fault(data + at, s, last_send));
    last_fault_end = std::max(last_fault_end, s.faults.back().at + s.faults.back().duration);
  }
  std::stable_sort(s.faults.begin(), s.faults.end(),
                   [](const fault_event& a, const fault_event& b) { return a.at < b.at; });
  // As make_scenario(): long enough for every record to be reported.
  s.limit = std::max(last_send, last_fault_end) + s.producer.delivery_timeout +
            2 * s.producer.request_timeout + ms(60000);

  // KWIRE_SIM_TRACE=1 prints the run's trace (for replaying one input).
  static const bool tracing = std::getenv("KWIRE_SIM_TRACE") != nullptr;
  std::function<void(std::string_view)> trace;
  if (tracing)
    trace = [](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    };
  const auto result = kwire::sim::run_scenario(s, trace);
  if (!result.check.ok()) {
    std::fprintf(stderr, "fuzz_schedule: checker violations in\n%s\n", s.describe().c_str());
    for (const auto& v : result.check.violations)
      std::fprintf(stderr, "VIOLATION %s (record %lld): %s\n", v.kind.c_str(),
                   static_cast<long long>(v.record), v.detail.c_str());
    std::abort();
  }
  return 0;
}
