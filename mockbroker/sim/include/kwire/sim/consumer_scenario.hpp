// Consumer-group scenarios from a seed: the producer scenario of the same
// seed (make_scenario: cluster, producer, records, faults) plus a consumer
// group reading the topic, its settings, and a script of group events (members
// joining, crashing, restarting, leaving; the coordinator moving; forced
// rebalances; group errors injected), drawn from a second stream of the seed.
// The runner plays it in one world, lets the group settle, stops every
// member cleanly and runs both checkers.
//
// `kwire sim --workload consumers --seed S --runs 1 --trace` replays run S.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/sim/consumers.hpp"
#include "kwire/sim/group_checker.hpp"
#include "kwire/sim/scenario.hpp"

namespace kwire::sim {

/// What the group script does.
enum class group_event_type {
  join,                    ///< a new member starts
  crash,                   ///< a member stops silently (its session expires)
  restart,                 ///< a new member replaces a crashed one, from the committed offsets
  leave,                   ///< a member stops cleanly (commit, LeaveGroup)
  coordinator_move,        ///< move_group_coordinator to another live broker
  force_rebalance,         ///< rebalance_group: members must rejoin
  group_error,             ///< a group API answers an error for a while (fault rule on the group)
  find_coordinator_error,  ///< FindCoordinator answers COORDINATOR_NOT_AVAILABLE for a while
};

inline constexpr int group_event_type_count = 8;

/// "crash", ...
std::string_view group_event_type_name(group_event_type t) noexcept;

/// One entry of the group script.
struct group_event {
  group_event_type type = group_event_type::join;
  ms at{0};
  std::size_t member = 0;     ///< join, restart: the new member's index; crash, leave: the member's
  std::size_t replaces = 0;   ///< restart: the crashed member
  ms duration{0};             ///< error rules: how long they stay
  std::int16_t api_key = -1;  ///< group_error: JoinGroup, SyncGroup, Heartbeat, OffsetCommit...
  std::int16_t error = 0;     ///< group_error, find_coordinator_error
  unsigned percent = 100;     ///< chance per matching request
  std::uint64_t count = 1;    ///< most firings of the rule
  std::int32_t broker = 0;    ///< coordinator_move: a choice among the other live brokers
  std::string describe() const;
};

/// A consumer-group run.
struct consumer_scenario {
  scenario base;  ///< the producer scenario of the same seed
  consumer_options consumer;
  std::vector<group_event> events;  ///< in time order; members numbered as they start
  /// The longest the group may take to settle after the last event, fault
  /// and record (from the session and rebalance timeouts).
  ms settle_limit{0};
  /// When the last event, fault or record is over.
  ms activity_end() const;
  group_expectations expectations() const;
  std::string describe() const;
};

/// The scenario for `seed`: a pure function of its arguments. `options`
/// excludes producer fault types as for make_scenario.
consumer_scenario make_consumer_scenario(std::uint64_t seed, const scenario_options& options = {});

/// What one run gave.
struct consumer_run_result {
  check_result producer;  ///< the producer checker (checker.hpp)
  group_check_result group;
  bool settled = false;  ///< the group settled before settle_limit ran out
  std::uint64_t digest = 0;
  ms virtual_time{0};
  std::uint64_t steps = 0;
  network_stats network;
  bool ok() const noexcept { return producer.ok() && group.ok(); }
};

/// Plays `s` in a fresh world: the records and faults of the base scenario,
/// the group script, then a quiet period until the group settles (every
/// live member stable in the group's generation, every partition owned and
/// read to its end), then every member stops cleanly. Both checkers run;
/// not settling is a `not_settled` violation. `trace` as for run_scenario.
consumer_run_result run_consumer_scenario(const consumer_scenario& s,
                                          const std::function<void(std::string_view)>& trace = {});

/// Puts one group event on a world's calendar (members through `group`).
void schedule_group_event(world& w, consumer_group& group, const group_event& e);

}  // namespace kwire::sim
