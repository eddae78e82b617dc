// The consumer group protocol of KIP-848 in the mock cluster: groups whose
// members heartbeat with ConsumerGroupHeartbeat and get their partitions from
// a server-side assignor, as Kafka 4.0's group coordinator serves them
// (GroupMetadataManager, ConsumerGroup, CurrentAssignmentBuilder and the
// uniform and range assignors). Internal to the core (not installed).
//
// The model is here; the behaviour is split by job:
// consumer_group_model.cc (one group's bookkeeping: states, subscriptions,
// partition owners, the config check), consumer_group_membership.cc (the
// heartbeat: join, leave, static members, epochs), consumer_group_reconcile.cc
// (target assignments and reconciling a member towards its target),
// consumer_group_assignors.cc (uniform and range), consumer_group_timers.cc
// (session and rebalance deadlines, fencing) and consumer_group_admin.cc
// (what the other group APIs and the cluster's group functions do with a
// consumer group: offsets, listing, describing, deleting, coordinator moves).
// The handlers are in apis/consumer_group.cc; the classic group APIs route a
// consumer group's id here.
//
// A group id names either a classic group (groups.hpp) or a consumer group,
// never both. Sans-I/O like the rest of the core: every function takes the
// time it runs at; deadlines run through cluster::poll() (timers.cc).
// Thread-safety: none, as the cluster.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "groups.hpp"
#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker::detail {

struct cluster_state;

/// Partitions by topic id, ascending (a member's assignment, owned partitions).
using topic_partitions = std::map<uuid, std::set<std::int32_t>>;

/// Where a member stands in its reconciliation (Kafka's MemberState).
enum class member_state {
  stable,                 ///< has its target assignment (or waits for a newer one)
  unrevoked_partitions,   ///< must revoke partitions before it moves on
  unreleased_partitions,  ///< waits for partitions others still own
};

/// Kafka's consumer group states.
enum class consumer_group_phase { empty, assigning, reconciling, stable };

/// Kafka's name of a state: "Empty", "Assigning", "Reconciling", "Stable".
std::string_view consumer_group_phase_name(consumer_group_phase phase) noexcept;

/// The member epochs of leaving: -1 leaves, -2 leaves for a while (static members).
inline constexpr std::int32_t leave_epoch = -1;
inline constexpr std::int32_t static_leave_epoch = -2;

/// One member of a consumer group (Kafka's ConsumerGroupMember).
struct consumer_member {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::int32_t member_epoch = 0;
  std::int32_t previous_member_epoch = 0;
  member_state state = member_state::stable;
  std::int32_t rebalance_timeout_ms = -1;
  std::string client_id;
  std::string client_host;
  /// Sorted and without duplicates.
  std::vector<std::string> subscribed_topic_names;
  std::optional<std::string> subscribed_topic_regex;
  /// The regex compiled (ECMAScript), when subscribed_topic_regex is not empty.
  std::shared_ptr<const std::regex> compiled_regex;
  std::optional<std::string> server_assignor;
  /// Partitions it may use, and partitions it must give up first.
  topic_partitions assigned;
  topic_partitions pending_revocation;
  /// Fenced unless it heartbeats by then.
  std::optional<time_point> session_deadline;
  /// Fenced by then if still at rebalance_epoch revoking (unrevoked_partitions).
  std::optional<time_point> rebalance_deadline;
  std::int32_t rebalance_epoch = 0;

  /// Kafka's isReconciledTo: stable at the target assignment's epoch.
  bool reconciled_to(std::int32_t assignment_epoch) const {
    return state == member_state::stable && member_epoch == assignment_epoch;
  }
  /// Does it subscribe to `topic` (by name or by its regex)?
  bool subscribes_to(std::string_view topic) const;
};

/// One subscribed topic as the last target assignment saw it.
struct subscribed_topic {
  uuid id{};
  std::int32_t partitions = 0;
  bool operator==(const subscribed_topic&) const = default;
};

/// One consumer group (Kafka's ConsumerGroup).
struct consumer_group {
  std::string id;
  std::int32_t group_epoch = 0;
  /// The epoch of the target assignment (Kafka's assignment epoch).
  std::int32_t assignment_epoch = 0;
  /// Members by id.
  std::map<std::string, consumer_member, std::less<>> members;
  /// The target assignment by member id.
  std::map<std::string, topic_partitions, std::less<>> target;
  /// The topics the members subscribe to that exist, by name, as of the last
  /// epoch bump (Kafka's subscription metadata): a change bumps the epoch.
  std::map<std::string, subscribed_topic, std::less<>> subscription_metadata;
  /// Committed offsets: topic -> partition -> offset (as classic groups keep them).
  std::map<std::string, std::map<std::int32_t, committed_offset>> offsets;

  consumer_group_phase phase() const;
  consumer_member* find_member(std::string_view member_id);
  const consumer_member* find_member(std::string_view member_id) const;
  consumer_member* static_member(std::string_view instance_id);
  const consumer_member* static_member(std::string_view instance_id) const;
  /// The epoch of the member owning a partition (assigned or pending
  /// revocation), or -1 when it is free (Kafka's currentPartitionEpoch).
  std::int32_t partition_owner_epoch(const uuid& topic, std::int32_t partition) const;
  /// Does any member subscribe to `topic` (Kafka's isSubscribedToTopic)?
  bool subscribed_to(std::string_view topic) const;
  /// The server assignor most members name (ties to the first name in
  /// alphabetical order), or nullopt when none names one.
  std::optional<std::string> preferred_assignor() const;
};

/// Every consumer group of the cluster.
struct consumer_group_coordinator {
  explicit consumer_group_coordinator(std::uint64_t seed)
      : member_random(seed ^ 0x6b6970383438ULL) {}

  std::map<std::string, consumer_group, std::less<>> groups;
  /// Member ids the coordinator makes (ConsumerGroupHeartbeat v0); apart from
  /// the other sources so that consumer groups change no other draw.
  std::mt19937_64 member_random;

  consumer_group* find(std::string_view id);
  const consumer_group* find(std::string_view id) const;
};

// ---- consumer_group_model.cc ------------------------------------------------

/// Throws std::invalid_argument naming the key when a group_consumer_*
/// setting of `config` is out of range (called when a cluster is built).
void check_consumer_group_config(const cluster_config& config);

/// The topics a member's subscription names that exist, by name.
std::set<std::string> subscribed_existing_topics(const cluster_state& s, const consumer_member& m);
/// The subscription metadata the members of `g` make now.
std::map<std::string, subscribed_topic, std::less<>> compute_subscription_metadata(
    const cluster_state& s, const consumer_group& g);

/// A member id as Kafka's Uuid.randomUuid().toString() makes one: 16 random
/// bytes in URL-safe base64 without padding (22 characters).
std::string new_consumer_member_id(cluster_state& s);

// ---- consumer_group_membership.cc ---------------------------------------------

/// Everything of a ConsumerGroupHeartbeat the coordinator reads.
struct heartbeat_call {
  std::string group_id;
  std::string member_id;
  std::int32_t member_epoch = 0;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::int32_t rebalance_timeout_ms = -1;
  std::optional<std::vector<std::string>> subscribed_topic_names;
  std::optional<std::string> subscribed_topic_regex;
  std::optional<std::string> server_assignor;
  /// The partitions the member owns; nullopt when unchanged since its last heartbeat.
  std::optional<topic_partitions> owned;
  /// How many TopicPartitions entries the request listed (a join must list none).
  std::size_t owned_entries = 0;
  std::string client_id;
  std::string client_host;
  std::int16_t version = 0;
};

/// A ConsumerGroupHeartbeat answer.
struct heartbeat_answer {
  std::int16_t error = 0;
  std::optional<std::string> message;
  std::optional<std::string> member_id;
  std::int32_t member_epoch = 0;
  std::int32_t heartbeat_interval_ms = 0;
  std::optional<topic_partitions> assignment;
};

/// The longest SubscribedTopicRegex taken: std::regex recurses per element
/// of a pattern (Kafka's RE2/J has no such bound; topic names are at most
/// 249 characters).
inline constexpr std::size_t max_topic_regex_bytes = 1024;

/// Kafka's request check, before the coordinator's (INVALID_REQUEST,
/// UNSUPPORTED_ASSIGNOR); nullopt when the request is well formed.
std::optional<heartbeat_answer> check_heartbeat(const cluster_config& config,
                                                const heartbeat_call& call);
/// ConsumerGroupHeartbeat (request and coordinator checked): join, heartbeat
/// or leave.
heartbeat_answer consumer_heartbeat(cluster_state& s, const heartbeat_call& call, time_point now);

// ---- consumer_group_reconcile.cc ----------------------------------------------

/// Recomputes the target assignment of every member at the group epoch with
/// the preferred assignor (or the first of group_consumer_assignors).
void update_target_assignment(const cluster_state& s, consumer_group& g);
/// Kafka's CurrentAssignmentBuilder: moves `m` towards its target; `owned`
/// is what the member reported (nullopt: nothing new).
consumer_member reconcile(const consumer_group& g, const consumer_member& m,
                          const std::optional<topic_partitions>& owned);

// ---- consumer_group_assignors.cc ----------------------------------------------

/// What an assignor sees of one member.
struct assignor_member {
  std::string member_id;
  std::set<std::string> topics;  ///< subscribed, existing
  topic_partitions current;      ///< its target assignment so far
};
/// The topics by name: id and partition count.
using assignor_topics = std::map<std::string, subscribed_topic, std::less<>>;
/// Kafka's UniformAssignor: balanced, then sticky. `members` in member id order.
std::map<std::string, topic_partitions, std::less<>> assign_uniform(
    const std::vector<assignor_member>& members, const assignor_topics& topics);
/// Kafka's server-side RangeAssignor: per topic, ranges in member id order, sticky.
std::map<std::string, topic_partitions, std::less<>> assign_range(
    const std::vector<assignor_member>& members, const assignor_topics& topics);

// ---- consumer_group_timers.cc -------------------------------------------------

/// Removes a member and bumps the group epoch (Kafka's fenceMember).
void fence_consumer_member(cluster_state& s, consumer_group& g, std::string_view member_id);
/// Runs the consumer groups' deadlines due by `now` (timers.cc calls it).
void run_consumer_group_timers(cluster_state& s, time_point now);
/// The earliest deadline of any consumer group, or nullopt.
std::optional<time_point> next_consumer_group_deadline(const cluster_state& s);

// ---- consumer_group_admin.cc --------------------------------------------------

/// OffsetCommit to a consumer group (coordinator checked; partitions' topics
/// checked): member and epoch (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH for
/// v9+, UNSUPPORTED_VERSION before), then stored as for classic groups.
void commit_consumer_offsets(cluster_state& s, consumer_group& g, std::int32_t member_epoch,
                             std::string_view member_id, std::int16_t version,
                             std::vector<commit_partition>& partitions, time_point now);
/// OffsetFetch v9's member check: the error, or nullopt.
std::optional<std::int16_t> check_consumer_offset_fetch(const consumer_group& g,
                                                        const std::optional<std::string>& member_id,
                                                        std::int32_t member_epoch);
/// OffsetDelete of a consumer group: GROUP_SUBSCRIBED_TO_TOPIC for subscribed topics.
std::int16_t delete_consumer_offsets(cluster_state& s, consumer_group& g,
                                     std::vector<commit_partition>& partitions);
/// DeleteGroups of a consumer group: NON_EMPTY_GROUP unless Empty.
std::int16_t delete_consumer_group(cluster_state& s, std::string_view group);
/// One member of a LeaveGroup v3+ to a consumer group (Kafka's
/// classicGroupLeaveToConsumerGroup): a static member named by instance id
/// alone is removed (administrative removal); others, which do not use the
/// classic protocol, are UNKNOWN_MEMBER_ID (FENCED_INSTANCE_ID for an
/// instance id held by another member). The member's error.
std::int16_t leave_consumer_group(cluster_state& s, consumer_group& g, std::string_view member_id,
                                  const std::optional<std::string>& instance_id);
/// A JoinGroup for an Empty consumer group turns it into a classic group with
/// its offsets (Kafka's maybeDeleteEmptyConsumerGroup). False if not Empty.
bool convert_empty_consumer_group(cluster_state& s, std::string_view group);
/// Kafka's onLoaded for a consumer group that moved to another broker: its
/// members' session (and rebalance) timeouts start again from `now`.
void reload_consumer_group(const cluster_state& s, consumer_group& g, time_point now);
/// reload_consumer_group for every consumer group `broker_id` coordinates.
void reload_consumer_groups_of(cluster_state& s, std::int32_t broker_id, time_point now);
/// A member's assignment as the consumer protocol carries it (for group_info).
std::vector<std::uint8_t> assignment_bytes(const cluster_state& s, const topic_partitions& tp);
/// A member's subscription as the consumer protocol carries it (for group_info).
std::vector<std::uint8_t> subscription_bytes(const cluster_state& s, const consumer_member& m);

}  // namespace kwire::mockbroker::detail
