// ConsumerGroupHeartbeat (consumer_groups.hpp): the request check, joining
// (dynamic and static members), heartbeats with their epochs, leaving, as
// Kafka 4.0's GroupMetadataManager.consumerGroupHeartbeat does. Every error
// is found before the group changes, so a refused heartbeat changes nothing.
#include <algorithm>

#include "../handler.hpp"
#include "../state.hpp"
#include "consumer_groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

heartbeat_answer refuse(kafka_error e, std::string message) {
  heartbeat_answer a;
  a.error = code(e);
  a.message = std::move(message);
  return a;
}

std::string not_consumer_group(const cluster_state& s, const std::string& group) {
  return s.groups.find(group) ? "Group " + group + " is not a consumer group."
                              : "Consumer group " + group + " not found.";
}

/// Kafka's throwIfConsumerGroupMemberEpochIsInvalid: a member may be one
/// epoch behind when it owns no more than it is assigned (its last answer
/// may have been lost); any other epoch than its own is fenced.
std::optional<heartbeat_answer> check_epoch(const consumer_member& m, std::int32_t epoch,
                                            const std::optional<topic_partitions>& owned) {
  auto fenced = [&] {
    return refuse(kafka_error::fenced_member_epoch,
                  "The member epoch " + std::to_string(epoch) + " is not the member's (" +
                      std::to_string(m.member_epoch) + "): it must rejoin without partitions.");
  };
  if (epoch > m.member_epoch) return fenced();
  if (epoch < m.member_epoch) {
    if (epoch != m.previous_member_epoch || !owned) return fenced();
    for (const auto& [topic, parts] : *owned) {
      auto it = m.assigned.find(topic);
      for (std::int32_t p : parts)
        if (it == m.assigned.end() || !it->second.count(p)) return fenced();
    }
  }
  return std::nullopt;
}

/// About the size of the record batch Kafka writes for a member's
/// subscription and assignment: too large for __consumer_offsets fails the
/// heartbeat as Kafka's write does (UNKNOWN_SERVER_ERROR).
std::size_t member_record_bytes(const std::string& group, const consumer_member& m) {
  auto str = [](std::size_t n) { return 2 + n; };
  std::size_t value = 2 + str(m.instance_id.value_or("").size()) +
                      str(m.rack_id.value_or("").size()) + str(m.client_id.size()) +
                      str(m.client_host.size()) + 4 + 4 +
                      str(m.subscribed_topic_regex.value_or("").size()) +
                      str(m.server_assignor.value_or("").size());
  for (const auto& t : m.subscribed_topic_names) value += str(t.size());
  const std::size_t key = 2 + str(group.size()) + str(m.member_id.size());
  // The batch (61), the subscription record and the current assignment record.
  return 61 + (10 + key + value) + (10 + key + 2 + 4 + 4 + 1 + 4 + 4);
}

heartbeat_answer leave(cluster_state& s, const heartbeat_call& call) {
  consumer_group* g = s.consumer_groups.find(call.group_id);
  if (!g) return refuse(kafka_error::group_id_not_found, not_consumer_group(s, call.group_id));
  heartbeat_answer a;
  a.member_id = call.member_id;
  a.member_epoch = call.member_epoch;
  if (!call.instance_id) {
    if (!g->find_member(call.member_id))
      return refuse(
          kafka_error::unknown_member_id,
          "Member " + call.member_id + " is not a member of group " + call.group_id + ".");
    fence_consumer_member(s, *g, call.member_id);
    return a;
  }
  consumer_member* m = g->static_member(*call.instance_id);
  if (!m)
    return refuse(kafka_error::unknown_member_id,
                  "Instance id " + *call.instance_id + " is unknown.");
  if (m->member_id != call.member_id)
    return refuse(kafka_error::fenced_instance_id,
                  "Static member " + call.member_id + " with instance id " + *call.instance_id +
                      " was fenced by member " + m->member_id + ".");
  if (call.member_epoch == static_leave_epoch) {
    // Gone for a while: it keeps its assignment until its session ends.
    m->member_epoch = static_leave_epoch;
    m->pending_revocation.clear();
    m->rebalance_deadline.reset();
    a.member_id = m->member_id;
    return a;
  }
  fence_consumer_member(s, *g, m->member_id);
  return a;
}

}  // namespace

std::optional<heartbeat_answer> check_heartbeat(const cluster_config& config,
                                                const heartbeat_call& call) {
  auto invalid = [](std::string message) {
    return refuse(kafka_error::invalid_request, std::move(message));
  };
  // v0 lets the coordinator name a joining member; v1 (KIP-1082) does not.
  if ((call.version >= 1 || call.member_epoch > 0 || call.member_epoch == leave_epoch) &&
      call.member_id.empty())
    return invalid("MemberId can't be empty.");
  if (call.group_id.empty()) return invalid("GroupId can't be empty.");
  if (call.instance_id && call.instance_id->empty()) return invalid("InstanceId can't be empty.");
  if (call.rack_id && call.rack_id->empty()) return invalid("RackId can't be empty.");
  if (call.member_epoch == 0) {
    if (call.rebalance_timeout_ms == -1)
      return invalid("RebalanceTimeoutMs must be provided in first request.");
    if (!call.owned || call.owned_entries != 0)
      return invalid("TopicPartitions must be empty when (re-)joining.");
    if (!call.subscribed_topic_names && !call.subscribed_topic_regex)
      return invalid(
          "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when "
          "(re-)joining.");
  } else if (call.member_epoch == static_leave_epoch) {
    if (!call.instance_id) return invalid("InstanceId can't be null.");
  } else if (call.member_epoch < static_leave_epoch) {
    return invalid("MemberEpoch is invalid.");
  }
  const auto& known = config.group_consumer_assignors;
  if (call.server_assignor &&
      std::find(known.begin(), known.end(), *call.server_assignor) == known.end()) {
    std::string names;
    for (const auto& n : known) names += (names.empty() ? "" : ", ") + n;
    return refuse(kafka_error::unsupported_assignor, "ServerAssignor " + *call.server_assignor +
                                                         " is not supported. Supported "
                                                         "assignors: " +
                                                         names + ".");
  }
  return std::nullopt;
}

heartbeat_answer consumer_heartbeat(cluster_state& s, const heartbeat_call& call, time_point now) {
  if (call.member_epoch == leave_epoch || call.member_epoch == static_leave_epoch)
    return leave(s, call);
  const bool joining = call.member_epoch == 0;
  consumer_group* g = s.consumer_groups.find(call.group_id);

  // The group: a joining member creates it, or replaces an Empty classic group.
  const group_state* classic = g ? nullptr : s.groups.find(call.group_id);
  if (!g && (!joining || classic)) {
    if (!joining || !classic)
      return refuse(kafka_error::group_id_not_found, not_consumer_group(s, call.group_id));
    if (classic->state != group_phase::empty)
      // Kafka 4.0 may convert a classic group of consumers online (KIP-848's
      // upgrade); the mock answers as Kafka with the migration disabled.
      return refuse(kafka_error::group_id_not_found,
                    "Cannot upgrade classic group " + call.group_id +
                        " to consumer group because online upgrade is disabled.");
  }
  const auto max_size = static_cast<std::size_t>(std::max(s.config.group_max_size, 0));
  const std::size_t size = g ? g->members.size() : 0;
  if (size >= max_size && (call.member_id.empty() || !g || !g->find_member(call.member_id)))
    return refuse(kafka_error::group_max_size_reached,
                  "The consumer group has reached its maximum capacity of " +
                      std::to_string(max_size) + " members.");

  // The member as it was (or a new one), and whom a static member replaces.
  const std::string member_id = call.member_id.empty() ? new_consumer_member_id(s) : call.member_id;
  consumer_member base;
  base.member_id = member_id;
  std::optional<std::string> replaced;
  const consumer_member* existing = g ? g->find_member(member_id) : nullptr;
  if (!call.instance_id) {
    if (!existing && !joining)
      return refuse(kafka_error::unknown_member_id,
                    "Member " + member_id + " is not a member of group " + call.group_id + ".");
    if (existing) {
      if (auto e = check_epoch(*existing, call.member_epoch, call.owned)) return *e;
      base = *existing;
    }
  } else {
    const consumer_member* holder = g ? g->static_member(*call.instance_id) : nullptr;
    if (joining) {
      if (!holder) {
        if (existing) base = *existing;
      } else {
        if (holder->member_epoch != static_leave_epoch)
          return refuse(kafka_error::unreleased_instance_id,
                        "Static member " + member_id + " with instance id " + *call.instance_id +
                            " cannot join the group because the instance id is owned by " +
                            holder->member_id + " member.");
        // It takes the place (and partitions) of the member that left with -2.
        base = *holder;
        base.member_id = member_id;
        base.member_epoch = 0;
        base.previous_member_epoch = 0;
        replaced = holder->member_id;
      }
    } else {
      if (!holder)
        return refuse(kafka_error::unknown_member_id,
                      "Instance id " + *call.instance_id + " is unknown.");
      if (holder->member_id != member_id)
        return refuse(kafka_error::fenced_instance_id,
                      "Static member " + member_id + " with instance id " + *call.instance_id +
                          " was fenced by member " + holder->member_id + ".");
      if (auto e = check_epoch(*holder, call.member_epoch, call.owned)) return *e;
      base = *holder;
    }
  }

  // The member as this heartbeat updates it.
  consumer_member updated = base;
  if (call.instance_id) updated.instance_id = call.instance_id;
  if (call.rack_id) updated.rack_id = call.rack_id;
  if (call.rebalance_timeout_ms != -1) updated.rebalance_timeout_ms = call.rebalance_timeout_ms;
  if (call.server_assignor) updated.server_assignor = call.server_assignor;
  if (call.subscribed_topic_names) {
    auto names = *call.subscribed_topic_names;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    updated.subscribed_topic_names = std::move(names);
  }
  if (call.subscribed_topic_regex && call.subscribed_topic_regex != base.subscribed_topic_regex) {
    updated.subscribed_topic_regex = call.subscribed_topic_regex;
    updated.compiled_regex.reset();
    const std::string& pattern = *call.subscribed_topic_regex;
    // std::regex recurses per element of the pattern: a bound keeps a hostile
    // pattern from exhausting the stack.
    if (pattern.size() > max_topic_regex_bytes)
      return refuse(kafka_error::invalid_regular_expression,
                    "SubscribedTopicRegex is longer than " + std::to_string(max_topic_regex_bytes) +
                        " bytes.");
    if (!pattern.empty()) {
      try {
        updated.compiled_regex = std::make_shared<const std::regex>(pattern);
      } catch (const std::regex_error& e) {
        return refuse(kafka_error::invalid_regular_expression,
                      "SubscribedTopicRegex `" + pattern +
                          "` is not a valid regular expression: " + e.what() + ".");
      }
    }
  }
  updated.client_id = call.client_id;
  updated.client_host = call.client_host;
  // An empty regex subscribes to nothing, as no regex.
  auto regex_of = [](const consumer_member& m) {
    return m.subscribed_topic_regex.value_or(std::string());
  };
  const bool subscription_changed = updated.subscribed_topic_names != base.subscribed_topic_names ||
                                    regex_of(updated) != regex_of(base);
  if ((joining || subscription_changed) &&
      member_record_bytes(call.group_id, updated) >
          static_cast<std::size_t>(std::max(s.config.offsets_topic_max_message_bytes, 0)))
    return refuse(kafka_error::unknown_server_error,
                  "The group's records are too large for __consumer_offsets.");

  // Accepted: from here on the group changes.
  if (!g) {
    consumer_group fresh;
    fresh.id = call.group_id;
    if (group_state* old = s.groups.find(call.group_id)) {
      // An Empty classic group gives way; its committed offsets stay.
      fresh.offsets = std::move(old->offsets);
      s.groups.groups.erase(call.group_id);
    }
    g = &s.consumer_groups.groups.emplace(call.group_id, std::move(fresh)).first->second;
  }
  bool bump = g->group_epoch == 0 || subscription_changed;
  if (replaced) {
    auto target = g->target.find(*replaced);
    topic_partitions kept = target == g->target.end() ? topic_partitions{} : target->second;
    g->target.erase(*replaced);
    g->members.erase(*replaced);
    g->target[member_id] = std::move(kept);
  }
  g->members[member_id] = updated;
  auto metadata = compute_subscription_metadata(s, *g);
  if (metadata != g->subscription_metadata) {
    g->subscription_metadata = std::move(metadata);
    bump = true;
  }
  if (bump) ++g->group_epoch;
  if (g->group_epoch > g->assignment_epoch) update_target_assignment(s, *g);

  consumer_member& m = g->members[member_id];
  if (!m.reconciled_to(g->assignment_epoch)) {
    consumer_member next = reconcile(*g, m, call.owned);
    const bool changed = next.member_epoch != m.member_epoch || next.state != m.state ||
                         next.assigned != m.assigned ||
                         next.pending_revocation != m.pending_revocation;
    if (changed) {
      // The member has its rebalance timeout to revoke what it must.
      if (next.state == member_state::unrevoked_partitions) {
        next.rebalance_deadline = now + duration(next.rebalance_timeout_ms);
        next.rebalance_epoch = next.member_epoch;
      } else {
        next.rebalance_deadline.reset();
      }
    }
    m = std::move(next);
  }
  m.session_deadline = now + duration(s.config.group_consumer_session_timeout_ms);

  heartbeat_answer a;
  a.member_id = m.member_id;
  a.member_epoch = m.member_epoch;
  a.heartbeat_interval_ms = s.config.group_consumer_heartbeat_interval_ms;
  // Kafka sends the assignment on a full request (a join, or everything
  // given) and when it changed.
  const bool full = joining || (call.rebalance_timeout_ms != -1 && call.subscribed_topic_names &&
                                call.owned.has_value());
  if (full || m.assigned != base.assigned) a.assignment = m.assigned;
  return a;
}

}  // namespace kwire::mockbroker::detail
