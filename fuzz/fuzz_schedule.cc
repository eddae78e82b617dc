// Fuzz target: the fault schedule of one simulated run (kwire::sim).
//
// Input: 4 bytes of seed (little-endian), from which make_scenario() draws the
// cluster, the producer configuration and the workload; its own fault
// schedule is thrown away. Then up to 16 faults of 10 bytes each:
//   type, at (2 bytes, big-endian, modulo the workload's span + 1 s),
//   duration, broker, partition, percent, count, pick, extra
// mapped into the ranges make_scenario() draws from (scenario.cc), so the
// fuzzer explores schedules the random sweep could draw, in combinations
// and at instants it rarely hits. A shorter tail is ignored.
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

#include "kwire/protocol/kafka_error.hpp"
#include "kwire/sim/scenario.hpp"

namespace {

using kwire::sim::fault_event;
using kwire::sim::fault_type;
using kwire::sim::ms;

constexpr std::int16_t c(kwire::kafka_error e) { return static_cast<std::int16_t>(e); }

// The error lists of scenario.cc (kept there in an unnamed namespace).
constexpr std::int16_t retriable_produce_errors[] = {
    c(kwire::kafka_error::not_leader_or_follower),     c(kwire::kafka_error::leader_not_available),
    c(kwire::kafka_error::not_enough_replicas),        c(kwire::kafka_error::request_timed_out),
    c(kwire::kafka_error::unknown_topic_or_partition), c(kwire::kafka_error::kafka_storage_error),
    c(kwire::kafka_error::network_exception),          c(kwire::kafka_error::corrupt_message),
};
constexpr std::int16_t fatal_produce_errors[] = {
    c(kwire::kafka_error::topic_authorization_failed), c(kwire::kafka_error::invalid_record),
    c(kwire::kafka_error::record_list_too_large),      c(kwire::kafka_error::message_too_large),
    c(kwire::kafka_error::unknown_server_error),       c(kwire::kafka_error::policy_violation),
    c(kwire::kafka_error::cluster_authorization_failed),
};
constexpr std::int16_t sequence_errors[] = {
    c(kwire::kafka_error::out_of_order_sequence_number), c(kwire::kafka_error::unknown_producer_id),
};

template <std::size_t N>
std::int16_t pick(const std::int16_t (&list)[N], std::uint8_t b) {
  return list[b % N];
}

std::int64_t between(std::int64_t lo, std::int64_t hi, std::uint32_t v) {
  return lo + static_cast<std::int64_t>(v % static_cast<std::uint64_t>(hi - lo + 1));
}

/// One fault from 10 bytes, in make_scenario()'s ranges for its type.
fault_event decode_fault(const std::uint8_t* b, const kwire::sim::scenario& s, ms last_send) {
  fault_event f;
  f.type = static_cast<fault_type>(b[0] % kwire::sim::fault_type_count);
  f.at = ms(between(0, last_send.count() + 1000, static_cast<std::uint32_t>(b[1] << 8 | b[2])));
  f.duration = ms(between(100, 5000, b[3] * 20u));
  f.broker = (b[4] & 0x80) ? 0 : static_cast<std::int32_t>(between(1, s.brokers, b[4]));
  f.partition = (b[5] & 0x80) ? -1 : static_cast<std::int32_t>(b[5] % s.partitions);
  f.percent = static_cast<unsigned>(between(10, 100, b[6]));
  f.count = static_cast<std::uint64_t>(between(1, 5, b[7]));
  const std::uint8_t choice = b[8];
  const std::uint8_t extra = b[9];
  switch (f.type) {
    case fault_type::produce_error:
      f.error = pick(retriable_produce_errors, choice);
      break;
    case fault_type::produce_fatal_error:
      f.error = pick(fatal_produce_errors, choice);
      f.count = static_cast<std::uint64_t>(between(1, 2, b[7]));
      break;
    case fault_type::sequence_error:
      f.error = pick(sequence_errors, choice);
      f.count = 1;
      break;
    case fault_type::append_then_error:
      // Only errors a broker sends after appending (as make_scenario since 784ab87).
      f.error = (choice & 1)   ? c(kwire::kafka_error::not_enough_replicas_after_append)
                : (choice & 2) ? c(kwire::kafka_error::request_timed_out)
                               : c(kwire::kafka_error::not_leader_or_follower);
      f.count = static_cast<std::uint64_t>(between(1, 3, b[7]));
      break;
    case fault_type::close_before:
      f.partition = -1;
      f.count = static_cast<std::uint64_t>(between(1, 3, b[7]));
      break;
    case fault_type::lost_ack:
    case fault_type::dropped_request:
    case fault_type::close_after_processing:
    case fault_type::close_after_response:
    case fault_type::init_producer_id_error:
      f.count = static_cast<std::uint64_t>(between(1, 3, b[7]));
      break;
    case fault_type::delayed_response:
      f.delay = ms(between(10, 2 * s.producer.request_timeout.count(), static_cast<std::uint32_t>(choice << 8 | extra)));
      break;
    case fault_type::throttle:
      f.throttle_ms = static_cast<std::int32_t>(between(10, 1000, static_cast<std::uint32_t>(choice << 8 | extra)));
      break;
    case fault_type::metadata_error:
      f.error = c(kwire::kafka_error::leader_not_available);
      f.count = static_cast<std::uint64_t>(between(1, 10, b[7]));
      break;
    case fault_type::leader_move:
      f.partition = static_cast<std::int32_t>(b[5] % s.partitions);
      f.broker = static_cast<std::int32_t>(choice % s.brokers);
      f.duration = ms(0);
      break;
    case fault_type::broker_outage:
      f.broker = static_cast<std::int32_t>(between(1, s.brokers, b[4]));
      f.duration = ms(between(200, 8000, static_cast<std::uint32_t>(choice << 8 | extra)));
      break;
    case fault_type::isr_shrink:
      f.partition = static_cast<std::int32_t>(b[5] % s.partitions);
      break;
    case fault_type::connection_cut:
      f.broker = static_cast<std::int32_t>(between(1, s.brokers, b[4]));
      f.duration = ms(0);
      break;
    case fault_type::latency_spike:
      f.broker = static_cast<std::int32_t>(between(1, s.brokers, b[4]));
      f.delay = ms(between(20, 1500, static_cast<std::uint32_t>(choice << 8 | extra)));
      break;
  }
  if (f.type == fault_type::init_producer_id_error) f.error = c(kwire::kafka_error::coordinator_not_available);
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
  for (std::size_t at = 4; at + fault_size <= size && s.faults.size() < max_faults; at += fault_size) {
    s.faults.push_back(decode_fault(data + at, s, last_send));
    last_fault_end = std::max(last_fault_end, s.faults.back().at + s.faults.back().duration);
  }
  std::stable_sort(s.faults.begin(), s.faults.end(),
                   [](const fault_event& a, const fault_event& b) { return a.at < b.at; });
  // As make_scenario(): long enough for every record to be reported.
  s.limit = std::max(last_send, last_fault_end) + s.producer.delivery_timeout + 2 * s.producer.request_timeout +
            ms(60000);

  // KWIRE_SIM_TRACE=1 prints the run's trace (for replaying one input).
  static const bool tracing = std::getenv("KWIRE_SIM_TRACE") != nullptr;
  std::function<void(std::string_view)> trace;
  if (tracing) trace = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); };
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
