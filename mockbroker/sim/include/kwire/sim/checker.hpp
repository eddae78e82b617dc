// The checker: after a run, reads the partition logs (cluster::read) and the
// delivery reports and says whether the producer kept its promises.
//
// What it checks depends on what the configuration promises:
// - always (acks >= 1): an acknowledged record is in the log, at the offset
//   and partition its report gave; every record is reported exactly once;
//   a record is not failed before delivery.timeout.ms (measured from the
//   oldest record failed with it) unless an error justified it, and is
//   reported by delivery.timeout.ms + report_slack after it was accepted.
// - idempotence (acks=all): no record is in the log twice; the records of a
//   partition are in the log in the order they were sent; a failed record is
//   absent or present once.
// - no idempotence, max.in.flight=1: order of first appearances is kept;
//   duplicates are allowed (counted as tolerated).
// - acks=0: only the reports' shape (no offsets) and report-once.
// Failures are justified by the run's fault schedule: an injected
// non-retriable error, retries exhausted (finite retries), a delivery timeout
// that really expired, or an unresolved sequence after another justified failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "kwire/sim/world.hpp"

namespace kwire::sim {

/// What the run's configuration and fault schedule allow.
struct check_expectations {
  std::string topic;
  std::int32_t partitions = 1;
  std::int16_t acks = -1;
  bool idempotent = true;
  std::int32_t max_in_flight = 5;
  bool finite_retries = false;
  ms delivery_timeout{120000};
  /// A record reported later than delivery.timeout.ms + this after it was
  /// accepted is a `late_report` (a request in flight at the deadline may
  /// finish first: request.timeout.ms plus backoff and a round trip is fair).
  ms report_slack{31000};
  /// Kafka error codes the schedule may legitimately fail records with (the
  /// injected non-retriable ones; with finite retries the retriable ones too).
  std::set<std::int16_t> allowed_errors;
};

/// One broken promise.
struct violation {
  std::string
      kind;  ///< "lost", "duplicated", "reordered", "offset_mismatch", "unexpected_failure", ...
  std::uint64_t record = static_cast<std::uint64_t>(-1);  ///< -1 when not about one record
  std::string detail;
};

/// The checker's verdict and counts.
struct check_result {
  std::vector<violation> violations;
  std::uint64_t records = 0;
  std::uint64_t acked = 0;
  std::uint64_t failed = 0;                ///< reported with an error (justified or not)
  std::uint64_t refused = 0;               ///< refused by send(), or the sender gave up blocking
  std::uint64_t lost = 0;                  ///< acknowledged, not in the log
  std::uint64_t duplicated = 0;            ///< in the log twice where that is forbidden
  std::uint64_t reordered = 0;             ///< out of send order where that is forbidden
  std::uint64_t unexpected_failures = 0;   ///< failed without a justification
  std::uint64_t tolerated_duplicates = 0;  ///< duplicates a non-idempotent producer may write
  std::uint64_t tolerated_reorders = 0;    ///< reorders a non-idempotent producer may cause
  bool ok() const noexcept { return violations.empty(); }
};

/// Checks the records of `w` (which must be done running) against its cluster's logs.
check_result check_run(world& w, const check_expectations& expect);

/// The record id in a value written by the sim workload ("r<id>:..."), or -1.
std::int64_t record_id_of_value(std::string_view value) noexcept;

}  // namespace kwire::sim
