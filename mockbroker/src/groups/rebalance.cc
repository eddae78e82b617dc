// The rebalance of classic groups (rebalance.hpp, groups.hpp): preparing and
// completing a join, the answers to parked JoinGroup and SyncGroup requests,
// and what removes members or rebalances from outside a request (session
// and sync deadlines, cluster actions, an unloaded coordinator).
#include "rebalance.hpp"

#include <algorithm>

#include "../handler.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// Every member with its metadata of the chosen protocol (the leader's JoinGroup answer).
std::vector<join_group_response::join_group_response_member> member_metadata(const group_state& g) {
  std::vector<join_group_response::join_group_response_member> out;
  for (const auto& m : g.members) {
    join_group_response::join_group_response_member jm;
    jm.member_id = m.member_id;
    jm.group_instance_id = m.instance_id;
    if (g.protocol_name)
      if (const member_protocol* p = m.protocol(*g.protocol_name)) jm.metadata = p->metadata;
    out.push_back(std::move(jm));
  }
  return out;
}

}  // namespace

join_result join_error(std::string member_id, kafka_error e) {
  join_result r;
  r.error = code(e);
  r.member_id = std::move(member_id);
  return r;
}

any_message join_response(const join_result& r, std::int16_t version) {
  join_group_response out;
  out.error_code = r.error;
  out.generation_id = r.generation;
  // v0-v6 have no null protocol name (Kafka sends ""), and no protocol type.
  out.protocol_type = version >= 7 ? r.protocol_type : std::nullopt;
  out.protocol_name = version >= 7 ? r.protocol_name : r.protocol_name.value_or("");
  out.leader = r.leader;
  out.skip_assignment = version >= 9 && r.skip_assignment;
  out.member_id = r.member_id;
  out.members = r.members;
  if (version < 5)
    for (auto& m : out.members) m.group_instance_id.reset();
  return wrap(std::move(out));
}

any_message sync_response(std::int16_t error, const group_state* g,
                          std::vector<std::uint8_t> assignment, std::int16_t version) {
  sync_group_response out;
  out.error_code = error;
  if (g && version >= 5 && error == 0) {
    out.protocol_type = g->protocol_type;
    out.protocol_name = g->protocol_name;
  }
  out.assignment = std::move(assignment);
  return wrap(std::move(out));
}

join_result current_generation(const group_state& g, const std::string& member_id,
                               bool with_members) {
  join_result r;
  r.member_id = member_id;
  r.generation = g.generation;
  r.protocol_type = g.protocol_type;
  r.protocol_name = g.protocol_name;
  r.leader = g.leader.value_or("");
  if (with_members) r.members = member_metadata(g);
  return r;
}

void answer_join(cluster_state& s, group_member& m, const join_result& r, time_point now) {
  if (!m.awaiting_join) return;
  s.parked.answer(m.awaiting_join.id, join_response(r, m.awaiting_join.version), now);
  m.awaiting_join = {};
}

void answer_sync(cluster_state& s, group_member& m, std::int16_t error, const group_state* g,
                 time_point now) {
  if (!m.awaiting_sync) return;
  s.parked.answer(m.awaiting_sync.id,
                  sync_response(error, g, error ? std::vector<std::uint8_t>{} : m.assignment,
                                m.awaiting_sync.version),
                  now);
  m.awaiting_sync = {};
}

void supersede(cluster_state& s, parked_call& call, time_point now) {
  if (call) s.parked.answer(call.id, any_message{}, now);
  call = {};
}

void schedule_session(group_member& m, time_point now, std::int64_t timeout_ms) {
  m.session_deadline = now + duration(timeout_ms);
}

void prepare_rebalance(cluster_state& s, group_state& g, time_point now) {
  // Members waiting for the leader's assignment rejoin instead.
  if (g.state == group_phase::completing_rebalance)
    for (auto& m : g.members) {
      m.assignment.clear();
      answer_sync(s, m, code(kafka_error::rebalance_in_progress), &g, now);
    }
  g.sync_deadline.reset();
  g.pending_sync.clear();
  g.rebalance_timeout_ms = g.max_rebalance_timeout();
  if (g.state == group_phase::empty) {
    const std::int64_t delay = s.config.group_initial_rebalance_delay_ms;
    g.initial_delay = true;
    g.initial_delay_ms = delay;
    g.initial_remaining_ms = std::max<std::int64_t>(g.rebalance_timeout_ms - delay, 0);
    g.join_deadline = now + duration(delay);
  } else {
    g.initial_delay = false;
    g.join_deadline = now + duration(g.rebalance_timeout_ms);
  }
  g.state = group_phase::preparing_rebalance;
  // A DelayedJoin completes at once when everybody is in already (the last
  // member left, or the only one rejoined); an InitialDelayedJoin never does.
  if (!g.initial_delay && g.all_members_joined()) complete_join(s, g, now);
}

void maybe_prepare_rebalance(cluster_state& s, group_state& g, time_point now) {
  if (g.state == group_phase::stable || g.state == group_phase::completing_rebalance ||
      g.state == group_phase::empty)
    prepare_rebalance(s, g, now);
}

void complete_join(cluster_state& s, group_state& g, time_point now) {
  // Dynamic members that did not rejoin leave; static ones stay.
  std::vector<std::string> gone;
  for (const auto& m : g.members)
    if (!m.awaiting_join && !m.instance_id) gone.push_back(m.member_id);
  for (const auto& id : gone) g.remove(id);

  if (g.leader) {
    const group_member* leader = g.find_member(*g.leader);
    if (!leader || !leader->awaiting_join) {
      auto joined = std::find_if(g.members.begin(), g.members.end(),
                                 [](const group_member& m) { return bool(m.awaiting_join); });
      if (joined == g.members.end()) {
        // Nobody rejoined: wait another rebalance timeout for the sessions to expire.
        g.initial_delay = false;
        g.join_deadline = now + duration(std::max(g.rebalance_timeout_ms, 1));
        return;
      }
      g.leader = joined->member_id;
    }
  }
  g.join_deadline.reset();
  g.initial_delay = false;
  g.new_member_added = false;
  g.pending_sync.clear();
  ++g.generation;
  if (g.members.empty()) {
    g.protocol_name.reset();
    g.subscribed_topics.reset();
    g.state = group_phase::empty;
    return;
  }
  g.protocol_name = g.select_protocol();
  g.compute_subscribed_topics();
  g.state = group_phase::completing_rebalance;
  for (auto& m : g.members) {
    answer_join(s, m, current_generation(g, m.member_id, g.is_leader(m.member_id)), now);
    schedule_session(m, now, m.session_timeout_ms);
    m.is_new = false;
    g.pending_sync.insert(m.member_id);
  }
  g.sync_deadline = now + duration(g.rebalance_timeout_ms);
}

void try_complete_join(cluster_state& s, group_state& g, time_point now) {
  if (g.state != group_phase::preparing_rebalance) return;
  if (g.join_deadline && *g.join_deadline <= now)
    join_deadline_passed(s, g, now);
  else if (!g.initial_delay && g.all_members_joined())
    complete_join(s, g, now);
}

void remove_member_and_update(cluster_state& s, group_state& g, std::string_view member_id,
                              time_point now) {
  group_member* m = g.find_member(member_id);
  if (!m) return;
  // A parked JoinGroup learns it is out and may join again.
  answer_join(s, *m, join_error("", kafka_error::unknown_member_id), now);
  answer_sync(s, *m, code(kafka_error::unknown_member_id), &g, now);
  g.remove(member_id);
  switch (g.state) {
    case group_phase::stable:
    case group_phase::completing_rebalance:
      maybe_prepare_rebalance(s, g, now);
      break;
    case group_phase::preparing_rebalance:
      try_complete_join(s, g, now);
      break;
    case group_phase::empty:
    case group_phase::dead:
      break;
  }
}

void remove_pending_member(cluster_state& s, group_state& g, std::string_view member_id,
                           time_point now) {
  g.pending_members.erase(std::string(member_id));
  try_complete_join(s, g, now);
}

void join_deadline_passed(cluster_state& s, group_state& g, time_point now) {
  if (g.state != group_phase::preparing_rebalance) {
    g.join_deadline.reset();
    return;
  }
  // InitialDelayedJoin: new members came during the delay; wait again,
  // within the rebalance timeout.
  if (g.initial_delay && g.new_member_added && g.initial_remaining_ms != 0) {
    g.new_member_added = false;
    const std::int64_t delay =
        std::min<std::int64_t>(s.config.group_initial_rebalance_delay_ms, g.initial_remaining_ms);
    g.initial_remaining_ms = std::max<std::int64_t>(g.initial_remaining_ms - g.initial_delay_ms, 0);
    g.initial_delay_ms = delay;
    g.join_deadline = now + duration(delay);
    if (delay > 0) return;
  }
  complete_join(s, g, now);
}

void sync_deadline_passed(cluster_state& s, group_state& g, time_point now) {
  g.sync_deadline.reset();
  if (g.state != group_phase::completing_rebalance && g.state != group_phase::stable) return;
  if (g.pending_sync.empty()) return;
  const std::vector<std::string> late(g.pending_sync.begin(), g.pending_sync.end());
  for (const auto& id : late) {
    if (group_member* m = g.find_member(id)) {
      answer_join(s, *m, join_error("", kafka_error::unknown_member_id), now);
      answer_sync(s, *m, code(kafka_error::unknown_member_id), &g, now);
    }
    g.remove(id);
  }
  prepare_rebalance(s, g, now);
  try_complete_join(s, g, now);
}

bool expire_member(cluster_state& s, std::string_view group, std::string_view member_id,
                   time_point now) {
  group_state* g = s.groups.find(group);
  if (!g) return false;
  if (g->pending_members.count(std::string(member_id))) {
    remove_pending_member(s, *g, member_id, now);
    return true;
  }
  if (!g->find_member(member_id)) return false;
  remove_member_and_update(s, *g, member_id, now);
  return true;
}

bool force_rebalance(cluster_state& s, std::string_view group, time_point now) {
  group_state* g = s.groups.find(group);
  if (!g || g->members.empty()) return false;
  if (g->state != group_phase::stable && g->state != group_phase::completing_rebalance)
    return false;
  prepare_rebalance(s, *g, now);
  return true;
}

void unload_group(cluster_state& s, group_state& g, time_point now) {
  for (auto& m : g.members) {
    answer_join(s, m, join_error(m.member_id, kafka_error::not_coordinator), now);
    answer_sync(s, m, code(kafka_error::not_coordinator), &g, now);
    // The coordinator that loads the group starts every session afresh.
    if (m.session_deadline) schedule_session(m, now, m.session_timeout_ms);
  }
}

void unload_groups_of(cluster_state& s, std::int32_t broker_id, time_point now) {
  for (auto& [id, g] : s.groups.groups) {
    const coordinator_choice c = group_coordinator_for(s, id);
    if (c.broker && c.broker->id == broker_id) unload_group(s, g, now);
  }
}

}  // namespace kwire::mockbroker::detail
