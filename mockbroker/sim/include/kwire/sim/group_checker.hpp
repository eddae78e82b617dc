// The consumer-group checker: after a run, reads the partition logs and the
// group's committed offsets (cluster::read, cluster::group) and the
// consumers' log (consumers.hpp), and says whether the group coordinator
// and the members kept the promises of a classic consumer group:
//
// - ownership: in one generation no partition is assigned to two members,
//   and each member got what the generation's leader assigned it
//   (`double_ownership`, `assignment_mismatch`);
// - resuming: a member starts a partition at the offset OffsetFetch gave,
//   which is never behind a commit acknowledged before it asked
//   (`stale_offset`) and is an offset somebody committed (`phantom_offset`);
//   from there it processes every offset in order, none skipped (`skipped`);
// - at-least-once: for each partition the processed offsets cover every
//   offset below the final committed offset (`uncovered`); the final
//   committed offset is not behind an acknowledged commit (`lost_commit`)
//   nor past the log end (`commit_ahead`);
// - by the end (the run ends once the group settled): every record the
//   producer got acknowledged, and every record in the log, was processed
//   (`unconsumed`), and each as the log has it (`wrong_record`); after every
//   member stopped cleanly the group has no members (`group_not_empty`);
// - a member never saw a response a correct cluster does not send
//   (`consumer_anomaly`: undecodable, or an error nothing injected).
//
// Re-processing is tolerated (at-least-once) and counted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kwire/sim/checker.hpp"
#include "kwire/sim/consumers.hpp"
#include "kwire/sim/world.hpp"

namespace kwire::sim {

/// What the run promises.
struct group_expectations {
  std::string topic;
  std::int32_t partitions = 1;
  std::string group_id;
  /// The run ended after the group settled: every record in the log and
  /// every acknowledged record must have been processed.
  bool all_consumed = true;
  /// Every member stopped cleanly at the end: the group must be empty.
  bool group_empty = true;
};

/// The checker's verdict and counts.
struct group_check_result {
  std::vector<violation> violations;  ///< `record` is the partition's offset where one applies
  std::uint64_t consumed = 0;         ///< records processed, re-processing included
  std::uint64_t distinct = 0;         ///< distinct (partition, offset) processed
  std::uint64_t duplicates = 0;       ///< consumed - distinct: tolerated re-processing
  std::uint64_t log_records = 0;      ///< records in the partitions at the end
  std::uint64_t generations = 0;      ///< distinct generations members synced in
  std::int32_t final_generation = 0;  ///< the group's generation at the end
  std::uint64_t members = 0;          ///< members started (a restart is a new one)
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
  std::uint64_t clean_leaves = 0;         ///< LeaveGroup answered without error
  std::uint64_t commits_acked = 0;        ///< partition offsets committed without error
  std::uint64_t commits_refused = 0;      ///< answered with an error, or unanswered
  std::uint64_t rebalance_notices = 0;    ///< REBALANCE_IN_PROGRESS seen by members
  std::uint64_t coordinator_changes = 0;  ///< coordinator lost and found again by members
  bool ok() const noexcept { return violations.empty(); }
};

/// Checks a finished run of `group` in `w`. With expect.all_consumed, the
/// producer's records (world::records()) acknowledged with an offset must
/// have been processed.
group_check_result check_group(world& w, const consumer_group& group,
                               const group_expectations& expect);

}  // namespace kwire::sim
