// The group coordinator of the mock cluster: classic consumer groups (Kafka's
// GroupCoordinator / ClassicGroup), their members, rebalances, session
// timeouts and committed offsets. Internal to the core (not installed).
//
// The model is here; the behaviour is split by job: group_model.cc (one
// group's bookkeeping: members, protocols, the vote), membership.cc
// (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), rebalance.cc (preparing
// and completing a rebalance, removing members; rebalance.hpp holds its
// parts that membership.cc uses), group_timers.cc (rebalance, pending-sync and session deadlines),
// offsets.cc (OffsetCommit, OffsetFetch, OffsetDelete) and coordinator.cc
// (which broker coordinates a group). The handlers in apis/group_*.cc decode
// requests and check the coordinator; the functions here do the rest.
//
// Sans-I/O like the rest of the core: every function takes the time it
// runs at; deadlines run through cluster::poll() (timers.cc). Requests that
// wait (a JoinGroup for its rebalance, a follower's SyncGroup for the
// leader) are parked (parking.hpp) and answered through cluster_state::parked.
// Thread-safety: none, as the cluster.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../parking.hpp"
#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker::detail {

struct cluster_state;
struct request_context;

/// Kafka's classic group states.
enum class group_phase { empty, preparing_rebalance, completing_rebalance, stable, dead };

/// Kafka's name of a state: "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
std::string_view group_phase_name(group_phase phase) noexcept;

/// One protocol a member supports (JoinGroup's Protocols), in its order of preference.
struct member_protocol {
  std::string name;
  std::vector<std::uint8_t> metadata;
  bool operator==(const member_protocol&) const = default;
};

/// A parked request of a member and the version it came at (its answer's version).
struct parked_call {
  ticket id = 0;
  std::int16_t version = 0;
  explicit operator bool() const noexcept { return id != 0; }
};

/// One member of a group (Kafka's MemberMetadata).
struct group_member {
  std::string member_id;
  std::optional<std::string> instance_id;  ///< group.instance.id of a static member
  std::string client_id;
  std::string client_host;
  std::int32_t session_timeout_ms = 0;
  std::int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<member_protocol> protocols;
  std::vector<std::uint8_t> assignment;
  parked_call awaiting_join;  ///< its JoinGroup waits for the rebalance
  parked_call awaiting_sync;  ///< its SyncGroup waits for the leader
  /// Joined during the current rebalance and not yet answered (Kafka's
  /// isNew): expires after new_member_join_timeout rather than its session.
  bool is_new = false;
  /// When it expires unless it heartbeats (or is awaiting a rebalance).
  std::optional<time_point> session_deadline;

  const member_protocol* protocol(std::string_view name) const;
};

/// A committed offset (OffsetCommit), as OffsetFetch returns it.
struct committed_offset {
  std::int64_t offset = -1;
  std::int32_t leader_epoch = -1;
  std::string metadata;
  time_point commit_time{};
};

/// One classic group (Kafka's GroupMetadata / ClassicGroup).
struct group_state {
  std::string id;
  group_phase state = group_phase::empty;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::int32_t generation = 0;
  std::optional<std::string> leader;
  /// Members in the order they joined.
  std::vector<group_member> members;
  /// Member ids handed out with MEMBER_ID_REQUIRED and not yet joined, with
  /// the end of their session.
  std::map<std::string, time_point> pending_members;
  /// Members that have not sent SyncGroup since the join completed, and
  /// when they are removed for it (Kafka's pending sync, rebalance timeout).
  std::set<std::string> pending_sync;
  std::optional<time_point> sync_deadline;

  // The rebalance in progress (PreparingRebalance).
  std::optional<time_point> join_deadline;
  std::int32_t rebalance_timeout_ms = 0;  ///< the largest of the members', at its start
  /// Kafka's InitialDelayedJoin: a rebalance of an Empty group waits
  /// group.initial.rebalance.delay.ms, again while new members come, up to
  /// the rebalance timeout.
  bool initial_delay = false;
  std::int64_t initial_delay_ms = 0;      ///< this wait
  std::int64_t initial_remaining_ms = 0;  ///< what is left of the rebalance timeout
  bool new_member_added = false;

  /// Topics the members subscribe to (consumer protocol), from the chosen
  /// protocol's metadata; nullopt when not a consumer group or unreadable.
  std::optional<std::set<std::string>> subscribed_topics;
  /// Committed offsets: topic -> partition -> offset.
  std::map<std::string, std::map<std::int32_t, committed_offset>> offsets;

  group_member* find_member(std::string_view member_id);
  const group_member* find_member(std::string_view member_id) const;
  /// The member id of a static member, or nullptr.
  const std::string* static_member(std::string_view instance_id) const;
  bool is_leader(std::string_view member_id) const { return leader && *leader == member_id; }
  std::size_t awaiting_join_count() const;
  bool all_members_joined() const;
  /// Kafka's supportsProtocols: can a member of this type and protocols join?
  bool supports(std::string_view type, const std::vector<member_protocol>& protocols) const;
  /// Kafka's vote: each member votes for its first protocol that every
  /// member supports; the most votes win, ties to the earliest-joined voter.
  std::string select_protocol() const;
  /// Adds a member (the first one sets the protocol type and leads).
  void add(group_member member);
  /// Removes a member, its static id, its pending sync; the leader passes on.
  void remove(std::string_view member_id);
  /// The largest rebalance timeout of the members.
  std::int32_t max_rebalance_timeout() const;
  /// Recomputes subscribed_topics from the members' metadata of the chosen protocol.
  void compute_subscribed_topics();
  /// May OffsetDelete not delete offsets of `topic` (Kafka's isSubscribedToTopic)?
  bool subscribed_to(std::string_view topic) const;
};

/// Every group of the cluster and who coordinates which.
struct group_coordinator {
  explicit group_coordinator(std::uint64_t seed) : member_random(seed ^ 0x67726f757073ULL) {}

  std::map<std::string, group_state, std::less<>> groups;
  /// Groups whose coordinator was moved by cluster::move_group_coordinator.
  std::map<std::string, std::int32_t, std::less<>> coordinator_overrides;
  /// Member ids (client id + "-" + a UUID); apart from the other sources so
  /// that groups do not change topic ids or fault draws.
  std::mt19937_64 member_random;

  group_state* find(std::string_view id);
  const group_state* find(std::string_view id) const;
};

/// The size of the record batch Kafka would write to __consumer_offsets
/// for the group's metadata (GroupMetadataManager.storeGroup), as the
/// assignment `assignment` of each member would make it.
std::size_t group_record_bytes(const group_state& g);

/// Kafka's fixed timeout of a new member's JoinGroup (5 minutes).
inline constexpr std::int64_t new_member_join_timeout_ms = 300000;
/// Kafka's coordinator answer to a member of no group (JoinGroupRequest.UNKNOWN_MEMBER_ID).
inline constexpr std::string_view no_member_id = "";

// ---- coordinator.cc ---------------------------------------------------------

/// The coordinator of a key: a broker, or an error (COORDINATOR_NOT_AVAILABLE).
struct coordinator_choice {
  std::int16_t error = 0;
  const broker_info* broker = nullptr;
};

/// FindCoordinator's stable choice for a key: FNV-1a hash of the key modulo
/// the broker count, then the next live broker.
coordinator_choice coordinator_by_hash(const cluster_state& s, std::string_view key);
/// The coordinator of a group: its override (move_group_coordinator; if that
/// broker is down, none) or the hash choice.
coordinator_choice group_coordinator_for(const cluster_state& s, std::string_view group);

/// Which group APIs take an empty group id (Kafka's isValidGroupId): the
/// offset APIs, DescribeGroups and DeleteGroups do, for compatibility.
enum class group_id_rule { non_empty, any };
/// Kafka's validateGroupStatus as seen from `broker_id`: INVALID_GROUP_ID,
/// COORDINATOR_NOT_AVAILABLE (its coordinator is down), NOT_COORDINATOR.
std::optional<std::int16_t> check_group_status(const cluster_state& s, std::string_view group,
                                               group_id_rule rule, std::int32_t broker_id);

// ---- membership.cc ------------------------------------------------------------

/// Kafka's validateCurrentMember: the instance id (if given) maps to
/// `member_id` (else FENCED_INSTANCE_ID, or UNKNOWN_MEMBER_ID when it maps
/// to none), and the member exists (else UNKNOWN_MEMBER_ID).
std::optional<kafka_error> validate_member(const group_state& g, std::string_view member_id,
                                           const std::optional<std::string>& instance_id);

/// Everything of a JoinGroup that the coordinator reads.
struct join_call {
  std::string group_id;
  std::int32_t session_timeout_ms = 0;
  std::int32_t rebalance_timeout_ms = 0;  ///< v0: the session timeout
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string protocol_type;
  std::vector<member_protocol> protocols;
  std::string client_id;
  std::string client_host;
  std::int16_t version = 0;
};

/// JoinGroup (the coordinator check done): the answer, or empty when the
/// request is parked (ctx.park(); its answer, perhaps given already, goes
/// through s.parked).
any_message join_group(cluster_state& s, const join_call& call, request_context& ctx);

/// Everything of a SyncGroup the coordinator reads.
struct sync_call {
  std::string group_id;
  std::int32_t generation = 0;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> assignments;
  std::int16_t version = 0;
};
/// SyncGroup (the coordinator check done): the answer, or empty when parked.
any_message sync_group(cluster_state& s, const sync_call& call, request_context& ctx);

/// Heartbeat: the error code.
std::int16_t heartbeat(cluster_state& s, std::string_view group, std::int32_t generation,
                       std::string_view member_id, const std::optional<std::string>& instance_id,
                       time_point now);

/// One member of a LeaveGroup and its outcome.
struct leave_member {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::int16_t error = 0;  ///< out
};
/// LeaveGroup: the top-level error; each member's in `members`.
std::int16_t leave_group(cluster_state& s, std::string_view group,
                         std::vector<leave_member>& members, time_point now);

// ---- rebalance.cc -------------------------------------------------------------

/// Removes a member as if its session had expired (and rebalances).
bool expire_member(cluster_state& s, std::string_view group, std::string_view member_id,
                   time_point now);
/// Starts a rebalance of a group with members (Stable or CompletingRebalance).
bool force_rebalance(cluster_state& s, std::string_view group, time_point now);
/// The coordinator moved: parked JoinGroup and SyncGroup requests get
/// NOT_COORDINATOR, as Kafka's onGroupUnloaded answers them, and every
/// member's session starts again, as the coordinator that loads the group
/// schedules them (Kafka's onGroupLoaded).
void unload_group(cluster_state& s, group_state& g, time_point now);
/// A broker is about to go down: the groups it coordinates are unloaded
/// (unload_group). To be called before the broker is marked down.
void unload_groups_of(cluster_state& s, std::int32_t broker_id, time_point now);
/// Kafka's removeMemberAndUpdateGroup: answers its parked join with
/// UNKNOWN_MEMBER_ID, removes it, rebalances or completes the join.
void remove_member_and_update(cluster_state& s, group_state& g, std::string_view member_id,
                              time_point now);
/// Kafka's removePendingMemberAndUpdateGroup.
void remove_pending_member(cluster_state& s, group_state& g, std::string_view member_id,
                           time_point now);
/// The end of a rebalance's wait (DelayedJoin / InitialDelayedJoin expiry).
void join_deadline_passed(cluster_state& s, group_state& g, time_point now);
/// The pending-sync wait passed: members that did not sync are removed.
void sync_deadline_passed(cluster_state& s, group_state& g, time_point now);

// ---- group_timers.cc ----------------------------------------------------------

/// Runs the groups' deadlines due by `now` (timers.cc calls it).
void run_group_timers(cluster_state& s, time_point now);
/// The earliest deadline of any group, or nullopt.
std::optional<time_point> next_group_deadline(const cluster_state& s);

// ---- offsets.cc ---------------------------------------------------------------

/// One partition of an OffsetCommit and its outcome.
struct commit_partition {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  std::int16_t error = 0;  ///< out
};
/// OffsetCommit (coordinator check done): sets each partition's error.
void commit_offsets(cluster_state& s, std::string_view group, std::int32_t generation,
                    std::string_view member_id, const std::optional<std::string>& instance_id,
                    std::vector<commit_partition>& partitions, time_point now);

/// One partition of an OffsetFetch answer.
struct fetched_offset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::int32_t leader_epoch = -1;
  std::string metadata;
};
/// OffsetFetch of one group (coordinator check done): the requested
/// partitions, or every committed one when `topics` is nullopt.
std::vector<fetched_offset> fetch_offsets(
    const cluster_state& s, std::string_view group,
    const std::optional<std::vector<std::pair<std::string, std::vector<std::int32_t>>>>& topics);

/// OffsetDelete (coordinator check done): the group error; each partition's in `partitions`.
std::int16_t delete_offsets(cluster_state& s, std::string_view group,
                            std::vector<commit_partition>& partitions);

/// DeleteGroups of one group (coordinator check done): the error code.
std::int16_t delete_group(cluster_state& s, std::string_view group, time_point now);

// ---- offsets.cc, shared with consumer groups (consumer_groups.hpp) ------------
// fetch_offsets, delete_offsets and delete_group above serve consumer groups
// too; commits to them go through commit_consumer_offsets.

/// Committed offsets of a group: topic -> partition -> offset.
using offset_map = std::map<std::string, std::map<std::int32_t, committed_offset>>;
/// Does the cluster have this partition?
bool partition_exists(const cluster_state& s, std::string_view topic, std::int32_t partition);
/// The commit of the partitions without an error, once the group took it:
/// OFFSET_METADATA_TOO_LARGE, INVALID_COMMIT_OFFSET_SIZE, else stored.
void store_offsets(const cluster_state& s, std::string_view group, offset_map& offsets,
                   std::vector<commit_partition>& partitions, time_point now);

}  // namespace kwire::mockbroker::detail
