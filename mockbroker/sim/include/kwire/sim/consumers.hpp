// A consumer-group workload for the simulation: members of one classic
// consumer group, each a small client written with the codec, that consume
// one topic in virtual time through the world's network while the producer
// writes and faults fire.
//
// A member does what Kafka's classic Java consumer does, in small:
// Metadata and FindCoordinator on any broker; JoinGroup with the consumer
// protocol (its subscription encoded by the codec's consumer protocol
// encoder; MEMBER_ID_REQUIRED answered by joining again); the leader
// assigns the partitions itself ("range": sorted member ids, consecutive
// ranges); SyncGroup; Heartbeat every heartbeat_interval; OffsetFetch for
// what it was given (ListOffsets to the earliest offset where nothing is
// committed); Fetch from the partition leaders (one long poll per broker);
// OffsetCommit of what it processed every auto_commit_interval and before it
// rejoins (eager rebalancing: it gives up all its partitions first); and
// LeaveGroup when it stops cleanly. A crash stops it silently: its
// connections close, its session expires in the coordinator.
//
// Every outcome the checker (group_checker.hpp) needs is written to a
// consumer_log: each record processed, each assignment, where each member
// started on a partition, each commit answered.
//
// Lifetimes: a consumer_group must outlive every run of its world (the
// world's connections and timers call into its members). Thread-safety: none.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kwire/sim/world.hpp"

namespace kwire::sim {

/// How every member of the group behaves (the Java consumer's settings).
struct consumer_options {
  std::string group_id = "sim-group";
  std::string topic = "sim";
  ms session_timeout{10000};
  ms rebalance_timeout{15000};  ///< max.poll.interval.ms, as JoinGroup's RebalanceTimeoutMs
  ms heartbeat_interval{3000};
  ms auto_commit_interval{1000};
  ms fetch_max_wait{500};
  /// A request unanswered this long closes its connection (JoinGroup:
  /// rebalance_timeout longer, as the Java client; Fetch: fetch_max_wait longer).
  ms request_timeout{5000};
  ms retry_backoff{100};
};

/// One record a member processed (in the order processed).
struct consumed_record {
  std::size_t member = 0;
  std::int32_t generation = -1;  ///< of the assignment it consumed under
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int64_t record_id = -1;  ///< from the value "r<id>:", -1 if none
  std::size_t start = 0;        ///< the start_record its run of the partition began with
  ms at{0};
};

/// An assignment a member received from SyncGroup.
struct assignment_record {
  std::size_t member = 0;
  std::string member_id;
  std::int32_t generation = -1;
  std::vector<std::int32_t> partitions;  ///< sorted
  ms at{0};
};

/// What a leader sent in its SyncGroup for one member.
struct plan_record {
  std::size_t leader = 0;
  std::int32_t generation = -1;
  std::string member_id;
  std::vector<std::int32_t> partitions;  ///< sorted
};

/// Where a member started consuming a partition it was assigned.
struct start_record {
  std::size_t member = 0;
  std::int32_t generation = -1;
  std::int32_t partition = 0;
  std::int64_t committed = -1;  ///< OffsetFetch's answer, -1 for none
  std::int64_t position = 0;    ///< where it starts: the committed offset, else the earliest
  ms asked_at{0};               ///< when the OffsetFetch was sent
  ms at{0};
};

/// An OffsetCommit a member sent, per partition, and its answer.
struct commit_record {
  std::size_t member = 0;
  std::int32_t generation = -1;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  ms sent_at{0};
  std::optional<ms> answered_at;  ///< nullopt: no answer (lost, timed out)
  std::int16_t error = 0;
};

/// One member's life.
struct member_record {
  std::string name;  ///< "m1", "m2"... (a restart is a new member)
  std::optional<std::size_t> restart_of;
  ms started_at{0};
  std::optional<ms> crashed_at;
  std::optional<ms> stopped_at;  ///< when a clean stop began
  bool left = false;             ///< LeaveGroup answered without error
  std::vector<std::string> member_ids;
  std::int32_t last_generation = -1;
};

/// Everything the members did, for the checker and the summary.
struct consumer_log {
  std::vector<member_record> members;
  std::vector<consumed_record> consumed;
  std::vector<assignment_record> assignments;
  std::vector<plan_record> plans;
  std::vector<start_record> starts;
  std::vector<commit_record> commits;
  /// Things a correct cluster never makes a member see (an undecodable
  /// response, an error no fault explains): each is a violation.
  std::vector<std::string> anomalies;
  std::uint64_t joins = 0;                ///< JoinGroup answered without error
  std::uint64_t rebalance_notices = 0;    ///< REBALANCE_IN_PROGRESS seen by a member
  std::uint64_t coordinator_changes = 0;  ///< coordinator lost (NOT_COORDINATOR, ...)
  std::uint64_t fetches = 0;              ///< Fetch responses handled
};

/// The members of one group in one world.
class consumer_group {
 public:
  /// Members find the cluster through `w` (its brokers are the bootstrap list).
  consumer_group(world& w, consumer_options options);
  ~consumer_group();
  consumer_group(const consumer_group&) = delete;
  consumer_group& operator=(const consumer_group&) = delete;

  /// Adds a member that starts at `at`; returns its index. `restart_of`
  /// says which member it replaces (for the trace and the log).
  std::size_t start_member(ms at, std::optional<std::size_t> restart_of = std::nullopt);
  /// The member stops at `at` without a word: its connections close, its
  /// session runs out in the coordinator.
  void crash_member(std::size_t member, ms at);
  /// The member stops cleanly at `at`: it stops fetching, commits what it
  /// processed, sends LeaveGroup, then closes its connections.
  void stop_member(std::size_t member, ms at);
  /// Stops every running member cleanly, now.
  void stop_all();

  std::size_t size() const noexcept;
  /// Started and neither crashed nor stopped.
  bool running(std::size_t member) const;
  /// Running, in a generation, with an assignment and every assigned
  /// partition's position known.
  bool stable(std::size_t member) const;
  /// The generation a member last synced in (-1 before).
  std::int32_t generation(std::size_t member) const;
  /// Its assigned partitions (empty while rebalancing).
  std::vector<std::int32_t> assignment(std::size_t member) const;
  /// Its next offset on an assigned partition, if known.
  std::optional<std::int64_t> position(std::size_t member, std::int32_t partition) const;
  /// A member that stopped cleanly and whose leave is done (or given up).
  bool finished(std::size_t member) const;

  const consumer_log& log() const noexcept;
  const consumer_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kwire::sim
