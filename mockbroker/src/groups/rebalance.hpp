// The rebalance of a classic group (groups.hpp), shared by the requests that
// drive it (membership.cc) and the deadlines and cluster actions that do
// (group_timers.cc, group_actions.cc): Kafka's prepareRebalance,
// onCompleteJoin and the answers to parked JoinGroup and SyncGroup requests.
// Private to src/groups.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "groups.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {

/// What a JoinGroup answer says (Kafka's JoinGroupResult).
struct join_result {
  std::int16_t error = 0;
  std::string member_id;
  std::int32_t generation = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::string leader;
  bool skip_assignment = false;
  std::vector<join_group_response::join_group_response_member> members;
};

/// A JoinGroup error answer (Kafka's JoinGroupResult(memberId, error)).
join_result join_error(std::string member_id, kafka_error e);
/// A JoinGroup answer at `version`.
any_message join_response(const join_result& r, std::int16_t version);
/// A SyncGroup answer at `version`: protocol type and name (v5+) from `g` on success.
any_message sync_response(std::int16_t error, const group_state* g,
                          std::vector<std::uint8_t> assignment, std::int16_t version);
/// The current generation as a JoinGroup answer for `member_id`; the
/// members' metadata when `with_members` (the leader's answer).
join_result current_generation(const group_state& g, const std::string& member_id,
                               bool with_members);

/// Answers the member's parked JoinGroup, if any.
void answer_join(cluster_state& s, group_member& m, const join_result& r, time_point now);
/// Answers the member's parked SyncGroup, if any (its assignment unless `error`).
void answer_sync(cluster_state& s, group_member& m, std::int16_t error, const group_state* g,
                 time_point now);
/// A parked request replaced by a newer one of the same member gets no
/// answer (Kafka drops its callback); the shell is told so.
void supersede(cluster_state& s, parked_call& call, time_point now);
/// Kafka's completeAndScheduleNextHeartbeatExpiration.
void schedule_session(group_member& m, time_point now, std::int64_t timeout_ms);

/// Kafka's prepareRebalance: PreparingRebalance, and the join's wait
/// (DelayedJoin, or InitialDelayedJoin for an Empty group), tried at once.
void prepare_rebalance(cluster_state& s, group_state& g, time_point now);
/// prepare_rebalance for a group that is Stable, CompletingRebalance or Empty.
void maybe_prepare_rebalance(cluster_state& s, group_state& g, time_point now);
/// Kafka's onCompleteJoin: the members that rejoined form the next generation.
void complete_join(cluster_state& s, group_state& g, time_point now);
/// Completes the join if its time has come or every member is in (not
/// during the initial delay, which always runs out).
void try_complete_join(cluster_state& s, group_state& g, time_point now);

}  // namespace kwire::mockbroker::detail
