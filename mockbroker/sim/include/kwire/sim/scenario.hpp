// Scenarios from a seed: a cluster, a producer configuration, a workload and
// a fault schedule, all drawn from one xoshiro256** stream; a runner that
// plays one in a world and checks it.
//
// A scenario is plain data: describe() prints it, and make_scenario(seed)
// always builds the same one, so `kwire sim --seed S --runs 1 --trace`
// replays run S of any sweep.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/producer/producer_core.hpp"
#include "kwire/sim/checker.hpp"
#include "kwire/sim/random.hpp"
#include "kwire/sim/world.hpp"

namespace kwire::sim {

/// The kinds of fault the schedule draws from.
enum class fault_type {
  produce_error,        ///< Produce answered with a retriable error (not appended)
  produce_fatal_error,  ///< Produce answered with a non-retriable error (not appended)
  sequence_error,     ///< Produce answered OUT_OF_ORDER_SEQUENCE_NUMBER or UNKNOWN_PRODUCER_ID (not
                      ///< appended)
  append_then_error,  ///< appended, then answered with an error (retriable or not)
  lost_ack,           ///< appended, never answered (append_then_drop)
  dropped_request,    ///< neither appended nor answered
  delayed_response,   ///< answered late (maybe past request.timeout.ms)
  close_before,       ///< the broker closes the connection instead of processing
  close_after_processing,  ///< appended, then the connection closes without an answer
  close_after_response,    ///< answered, then the connection closes
  throttle,                ///< ThrottleTimeMs set on responses
  metadata_error,          ///< Metadata answers LEADER_NOT_AVAILABLE for the topic
  init_producer_id_error,  ///< InitProducerId answers COORDINATOR_NOT_AVAILABLE
  leader_move,             ///< a partition's leadership moves to another live broker
  broker_outage,           ///< a broker goes down (leaders fail over), comes back later
  isr_shrink,              ///< a partition's ISR shrinks to its leader, grows back later
  connection_cut,          ///< the network cuts the producer's connection to a broker
  latency_spike,           ///< a broker's links get slow for a while
};

inline constexpr int fault_type_count = 18;

/// "lost_ack", ...
std::string_view fault_type_name(fault_type t) noexcept;
/// The fault types of `names` (fault_type_name); unknown names are skipped.
std::set<fault_type> fault_types_named(const std::vector<std::string>& names);

/// One entry of the fault schedule.
struct fault_event {
  fault_type type = fault_type::produce_error;
  ms at{0};
  ms duration{0};               ///< how long a rule or condition lasts
  std::int32_t broker = 0;      ///< 0: any broker (rules), else the broker
  std::int32_t partition = -1;  ///< -1: any partition
  std::int16_t error = 0;
  unsigned percent = 100;   ///< chance per matching request
  std::uint64_t count = 1;  ///< most firings of a rule
  ms delay{0};              ///< delayed_response
  std::int32_t throttle_ms = 0;
  std::string describe() const;
};

/// One record of the workload.
struct planned_record {
  ms at{0};
  std::optional<std::string> key;
  std::optional<std::int32_t> partition;
  std::size_t padding = 0;  ///< extra value bytes (compressible)
};

/// Everything a run is made of.
struct scenario {
  std::uint64_t seed = 0;
  std::string topic = "sim";
  int brokers = 3;
  std::int32_t partitions = 1;
  std::int16_t replication_factor = 3;
  std::int16_t min_insync_replicas = 1;
  producer_config producer;
  std::uint64_t producer_seed = 0;
  std::uint64_t cluster_seed = 0;
  ms link_latency{1};
  std::vector<planned_record> records;
  std::vector<fault_event> faults;
  /// The run stops here even if records are still unreported (a violation).
  ms limit{0};
  /// What the checker may accept.
  check_expectations expectations() const;
  /// Several lines: cluster, producer settings, workload summary, every fault.
  std::string describe() const;
};

/// Which faults make_scenario may draw.
struct scenario_options {
  /// Fault types never drawn (e.g. while a known core bug is being fixed).
  std::set<fault_type> excluded;
};

/// The scenario for `seed`: a pure function of its arguments.
scenario make_scenario(std::uint64_t seed, const scenario_options& options = {});

/// One fault of `type`, drawn from `rng` in make_scenario's ranges (the draws
/// make_scenario makes once it has picked the type; `s` gives the cluster
/// and producer, `last_send` the end of the workload). fuzz_schedule builds
/// its schedules with it too, so the two cannot drift apart.
fault_event draw_fault(fault_type type, random_source& rng, const scenario& s, ms last_send);

/// What one run gave.
struct run_result {
  check_result check;
  std::uint64_t digest = 0;  ///< the world's digest (requests and responses)
  ms virtual_time{0};        ///< when the run ended
  std::uint64_t steps = 0;
  network_stats network;
  producer_metrics metrics;
};

/// Plays `s` in a fresh world and checks it. `trace`, if set, receives the
/// scenario's description and then every event.
run_result run_scenario(const scenario& s, const std::function<void(std::string_view)>& trace = {});

/// The world of `s` ready to run: its cluster and topic, its records queued
/// for the sender and its faults on the calendar. `trace`, if set, receives
/// `description` line by line first, then every event.
std::unique_ptr<world> scenario_world(const scenario& s, const std::string& description,
                                      const std::function<void(std::string_view)>& trace);

/// Schedules one fault in a world: adds and later removes cluster rules, or
/// puts cluster and network actions on the calendar.
void schedule_fault(world& w, const std::string& topic, const fault_event& f);

}  // namespace kwire::sim
