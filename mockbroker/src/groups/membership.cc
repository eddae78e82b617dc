// Group membership (groups.hpp): JoinGroup, SyncGroup, Heartbeat and
// LeaveGroup of classic groups, as Kafka's GroupCoordinator answers them;
// the rebalance they start is in rebalance.cc. The handlers
// (apis/group_membership.cc) have checked the coordinator; parked requests
// are answered through s.parked.
#include <algorithm>
#include <cstdio>
#include <map>

#include "../handler.hpp"
#include "groups.hpp"
#include "kwire/protocol/messages.hpp"
#include "rebalance.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// A member id as Kafka makes one: the client id, "-", a random UUID.
std::string new_member_id(cluster_state& s, const std::string& client_id) {
  const std::uint64_t hi = s.groups.member_random();
  const std::uint64_t lo = s.groups.member_random();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xffff), unsigned(hi & 0x0fff),
                unsigned(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return client_id + "-" + buf;
}

/// Kafka's addMemberAndRebalance; parks the JoinGroup.
any_message add_member_and_rebalance(cluster_state& s, group_state& g, const join_call& call,
                                     const std::string& member_id, request_context& ctx) {
  group_member m;
  m.member_id = member_id;
  m.instance_id = call.instance_id;
  m.client_id = call.client_id;
  m.client_host = call.client_host;
  m.session_timeout_ms = call.session_timeout_ms;
  m.rebalance_timeout_ms = call.rebalance_timeout_ms;
  m.protocol_type = call.protocol_type;
  m.protocols = call.protocols;
  m.is_new = true;
  m.awaiting_join = {ctx.park(), call.version};
  // New members cannot heartbeat before their JoinGroup is answered.
  schedule_session(m, ctx.now, new_member_join_timeout_ms);
  if (g.state == group_phase::preparing_rebalance && g.generation == 0) g.new_member_added = true;
  g.add(std::move(m));
  maybe_prepare_rebalance(s, g, ctx.now);
  return {};
}

/// Kafka's updateMember: new protocols and timeouts, and the JoinGroup parked.
void update_member(cluster_state& s, group_member& m, const join_call& call, request_context& ctx) {
  m.protocols = call.protocols;
  m.rebalance_timeout_ms = call.rebalance_timeout_ms;
  m.session_timeout_ms = call.session_timeout_ms;
  supersede(s, m.awaiting_join, ctx.now);
  m.awaiting_join = {ctx.park(), call.version};
}

/// A static member rejoining without its member id takes a new one; the
/// old id is fenced (Kafka's updateStaticMemberAndRebalance).
any_message replace_static_member(cluster_state& s, group_state& g, const join_call& call,
                                  const std::string& old_id, const std::string& new_id,
                                  request_context& ctx) {
  const std::string old_leader = g.leader.value_or("");
  group_member& m = *g.find_member(old_id);
  answer_join(s, m, join_error(old_id, kafka_error::fenced_instance_id), ctx.now);
  answer_sync(s, m, code(kafka_error::fenced_instance_id), &g, ctx.now);
  m.member_id = new_id;
  if (g.is_leader(old_id)) g.leader = new_id;
  if (g.pending_sync.erase(old_id)) g.pending_sync.insert(new_id);
  schedule_session(m, ctx.now, m.session_timeout_ms);

  if (g.state == group_phase::stable) {
    group_state next = g;  // would the vote change with the new protocols?
    next.find_member(new_id)->protocols = call.protocols;
    if (next.select_protocol() == g.protocol_name) {
      m.protocols = call.protocols;
      m.rebalance_timeout_ms = call.rebalance_timeout_ms;
      m.session_timeout_ms = call.session_timeout_ms;
      // Before v9 the answer names the old leader id, so that a static leader
      // does not assign again in a stable group; v9 tells it to skip.
      const bool leads = g.is_leader(new_id);
      join_result r = current_generation(g, new_id, call.version >= 9 && leads);
      if (call.version >= 9)
        r.skip_assignment = leads;
      else
        r.leader = old_leader;
      return join_response(r, call.version);
    }
    update_member(s, m, call, ctx);
    prepare_rebalance(s, g, ctx.now);
    return {};
  }
  update_member(s, m, call, ctx);
  // CompletingRebalance: the leader may have assigned to the old id; rebalance.
  if (g.state == group_phase::completing_rebalance) prepare_rebalance(s, g, ctx.now);
  return {};
}

any_message new_member_join(cluster_state& s, group_state& g, const join_call& call,
                            request_context& ctx) {
  if (!g.supports(call.protocol_type, call.protocols))
    return join_response(join_error(call.member_id, kafka_error::inconsistent_group_protocol),
                         call.version);
  const std::string id = new_member_id(s, call.client_id);
  if (call.instance_id) {
    if (const std::string* old = g.static_member(*call.instance_id)) {
      const std::string old_id = *old;
      return replace_static_member(s, g, call, old_id, id, ctx);
    }
    return add_member_and_rebalance(s, g, call, id, ctx);
  }
  if (call.version >= 4) {
    // KIP-394: the client learns its id first and joins again with it.
    g.pending_members[id] = ctx.now + duration(call.session_timeout_ms);
    return join_response(join_error(id, kafka_error::member_id_required), call.version);
  }
  return add_member_and_rebalance(s, g, call, id, ctx);
}

any_message current_member_join(cluster_state& s, group_state& g, const join_call& call,
                                request_context& ctx) {
  if (!g.supports(call.protocol_type, call.protocols))
    return join_response(join_error(call.member_id, kafka_error::inconsistent_group_protocol),
                         call.version);
  if (g.pending_members.count(call.member_id) && !call.instance_id)
    return add_member_and_rebalance(s, g, call, call.member_id, ctx);
  if (auto e = validate_member(g, call.member_id, call.instance_id))
    return join_response(join_error(call.member_id, *e), call.version);
  group_member& m = *g.find_member(call.member_id);
  const bool same = m.protocols == call.protocols;
  switch (g.state) {
    case group_phase::preparing_rebalance:
      update_member(s, m, call, ctx);
      return {};
    case group_phase::completing_rebalance:
      // Same metadata: it missed the answer; send it the current generation.
      if (same)
        return join_response(current_generation(g, m.member_id, g.is_leader(m.member_id)),
                             call.version);
      update_member(s, m, call, ctx);
      prepare_rebalance(s, g, ctx.now);
      return {};
    case group_phase::stable:
      if (g.is_leader(m.member_id) || !same) {
        update_member(s, m, call, ctx);
        prepare_rebalance(s, g, ctx.now);
        return {};
      }
      return join_response(current_generation(g, m.member_id, false), call.version);
    case group_phase::empty:
    case group_phase::dead:
      break;
  }
  return join_response(join_error(call.member_id, kafka_error::unknown_member_id), call.version);
}

/// Kafka's acceptJoiningMember (group.max.size).
bool accept_joining_member(const cluster_state& s, const group_state& g,
                           std::string_view member_id) {
  const auto max = static_cast<std::size_t>(std::max(s.config.group_max_size, 0));
  const group_member* m = g.find_member(member_id);
  switch (g.state) {
    case group_phase::empty:
    case group_phase::dead:
      return true;
    case group_phase::preparing_rebalance:
      return (m && m->awaiting_join) || g.awaiting_join_count() < max;
    case group_phase::completing_rebalance:
    case group_phase::stable:
      return m || g.members.size() < max;
  }
  return true;
}

/// A group a failed JoinGroup created and left as it was: Kafka's cleanup
/// would drop it; the mock does at once.
bool untouched(const group_state& g) {
  return g.state == group_phase::empty && g.members.empty() && g.pending_members.empty() &&
         g.offsets.empty() && g.generation == 0;
}

}  // namespace

std::optional<kafka_error> validate_member(const group_state& g, std::string_view member_id,
                                           const std::optional<std::string>& instance_id) {
  if (instance_id) {
    const std::string* current = g.static_member(*instance_id);
    if (!current) return kafka_error::unknown_member_id;
    if (*current != member_id) return kafka_error::fenced_instance_id;
    return std::nullopt;
  }
  if (!g.find_member(member_id)) return kafka_error::unknown_member_id;
  return std::nullopt;
}

any_message join_group(cluster_state& s, const join_call& call, request_context& ctx) {
  if (call.session_timeout_ms < s.config.group_min_session_timeout_ms ||
      call.session_timeout_ms > s.config.group_max_session_timeout_ms)
    return join_response(join_error(call.member_id, kafka_error::invalid_session_timeout),
                         call.version);
  const bool unknown_member = call.member_id.empty();
  group_state* g = s.groups.find(call.group_id);
  if (!g) {
    if (!unknown_member)
      return join_response(join_error(call.member_id, kafka_error::unknown_member_id),
                           call.version);
    g = &s.groups.groups.emplace(call.group_id, group_state{}).first->second;
    g->id = call.group_id;
  }
  any_message out;
  if (!accept_joining_member(s, *g, call.member_id)) {
    if (g->find_member(call.member_id))
      remove_member_and_update(s, *g, call.member_id, ctx.now);
    else
      g->pending_members.erase(call.member_id);
    out = join_response(join_error("", kafka_error::group_max_size_reached), call.version);
  } else if (unknown_member) {
    out = new_member_join(s, *g, call, ctx);
  } else {
    out = current_member_join(s, *g, call, ctx);
  }
  try_complete_join(s, *g, ctx.now);
  if (untouched(*g)) s.groups.groups.erase(call.group_id);
  return out;
}

any_message sync_group(cluster_state& s, const sync_call& call, request_context& ctx) {
  auto error = [&](kafka_error e) { return sync_response(code(e), nullptr, {}, call.version); };
  group_state* g = s.groups.find(call.group_id);
  if (!g) return error(kafka_error::unknown_member_id);
  if (auto e = validate_member(*g, call.member_id, call.instance_id)) return error(*e);
  if (call.generation != g->generation) return error(kafka_error::illegal_generation);
  if (call.protocol_type && g->protocol_type != call.protocol_type)
    return error(kafka_error::inconsistent_group_protocol);
  if (call.protocol_name && g->protocol_name != call.protocol_name)
    return error(kafka_error::inconsistent_group_protocol);
  group_member& m = *g->find_member(call.member_id);
  auto synced = [&] {
    g->pending_sync.erase(m.member_id);
    if (g->pending_sync.empty()) g->sync_deadline.reset();
  };
  switch (g->state) {
    case group_phase::empty:
    case group_phase::dead:
      return error(kafka_error::unknown_member_id);
    case group_phase::preparing_rebalance:
      return error(kafka_error::rebalance_in_progress);
    case group_phase::completing_rebalance: {
      supersede(s, m.awaiting_sync, ctx.now);
      m.awaiting_sync = {ctx.park(), call.version};
      synced();
      if (!g->is_leader(m.member_id)) return {};
      // The leader's assignment: members it left out get an empty one.
      std::map<std::string, std::vector<std::uint8_t>, std::less<>> given;
      for (const auto& [id, bytes] : call.assignments) given[id] = bytes;
      for (auto& member : g->members) {
        auto it = given.find(member.member_id);
        member.assignment = it == given.end() ? std::vector<std::uint8_t>{} : it->second;
      }
      // Kafka stores the group before it answers; a record too large for
      // __consumer_offsets fails (UNKNOWN_SERVER_ERROR) and the group rebalances.
      if (group_record_bytes(*g) >
          static_cast<std::size_t>(std::max(s.config.offsets_topic_max_message_bytes, 0))) {
        for (auto& member : g->members) {
          member.assignment.clear();
          answer_sync(s, member, code(kafka_error::unknown_server_error), g, ctx.now);
        }
        maybe_prepare_rebalance(s, *g, ctx.now);
        return {};
      }
      g->state = group_phase::stable;
      for (auto& member : g->members) {
        if (!member.awaiting_sync) continue;
        answer_sync(s, member, 0, g, ctx.now);
        schedule_session(member, ctx.now, member.session_timeout_ms);
      }
      return {};
    }
    case group_phase::stable:
      synced();
      schedule_session(m, ctx.now, m.session_timeout_ms);
      return sync_response(0, g, m.assignment, call.version);
  }
  return error(kafka_error::unknown_member_id);
}

std::int16_t heartbeat(cluster_state& s, std::string_view group, std::int32_t generation,
                       std::string_view member_id, const std::optional<std::string>& instance_id,
                       time_point now) {
  group_state* g = s.groups.find(group);
  if (!g) return code(kafka_error::unknown_member_id);
  if (auto e = validate_member(*g, member_id, instance_id)) return code(*e);
  if (generation != g->generation) return code(kafka_error::illegal_generation);
  group_member& m = *g->find_member(member_id);
  switch (g->state) {
    case group_phase::empty:
    case group_phase::dead:
      return code(kafka_error::unknown_member_id);
    case group_phase::preparing_rebalance:
      schedule_session(m, now, m.session_timeout_ms);
      return code(kafka_error::rebalance_in_progress);
    case group_phase::completing_rebalance:
    case group_phase::stable:
      schedule_session(m, now, m.session_timeout_ms);
      return 0;
  }
  return 0;
}

std::int16_t leave_group(cluster_state& s, std::string_view group,
                         std::vector<leave_member>& members, time_point now) {
  group_state* g = s.groups.find(group);
  if (!g) {
    for (auto& m : members) m.error = code(kafka_error::unknown_member_id);
    return 0;
  }
  for (auto& leaving : members) {
    if (leaving.member_id.empty()) {
      // Administrative removal by group.instance.id.
      const std::string* current =
          leaving.instance_id ? g->static_member(*leaving.instance_id) : nullptr;
      if (!current) {
        leaving.error = code(kafka_error::unknown_member_id);
        continue;
      }
      const std::string id = *current;
      remove_member_and_update(s, *g, id, now);
      leaving.error = 0;
    } else if (g->pending_members.count(leaving.member_id)) {
      remove_pending_member(s, *g, leaving.member_id, now);
      leaving.error = 0;
    } else if (auto e = validate_member(*g, leaving.member_id, leaving.instance_id)) {
      leaving.error = code(*e);
    } else {
      remove_member_and_update(s, *g, leaving.member_id, now);
      leaving.error = 0;
    }
  }
  return 0;
}

}  // namespace kwire::mockbroker::detail
