// One group's bookkeeping (groups.hpp): members, protocols, the vote,
// subscribed topics. No requests and no timers here.
#include <algorithm>
#include <map>

#include "groups.hpp"

namespace kwire::mockbroker::detail {

std::string_view group_phase_name(group_phase phase) noexcept {
  switch (phase) {
    case group_phase::empty:
      return "Empty";
    case group_phase::preparing_rebalance:
      return "PreparingRebalance";
    case group_phase::completing_rebalance:
      return "CompletingRebalance";
    case group_phase::stable:
      return "Stable";
    case group_phase::dead:
      return "Dead";
  }
  return "Dead";
}

const member_protocol* group_member::protocol(std::string_view name) const {
  for (const auto& p : protocols)
    if (p.name == name) return &p;
  return nullptr;
}

group_member* group_state::find_member(std::string_view member_id) {
  for (auto& m : members)
    if (m.member_id == member_id) return &m;
  return nullptr;
}

const group_member* group_state::find_member(std::string_view member_id) const {
  for (const auto& m : members)
    if (m.member_id == member_id) return &m;
  return nullptr;
}

const std::string* group_state::static_member(std::string_view instance_id) const {
  for (const auto& m : members)
    if (m.instance_id && *m.instance_id == instance_id) return &m.member_id;
  return nullptr;
}

std::size_t group_state::awaiting_join_count() const {
  return static_cast<std::size_t>(std::count_if(
      members.begin(), members.end(), [](const group_member& m) { return bool(m.awaiting_join); }));
}

bool group_state::all_members_joined() const {
  return awaiting_join_count() == members.size() && pending_members.empty();
}

bool group_state::supports(std::string_view type,
                           const std::vector<member_protocol>& protocols) const {
  if (state == group_phase::empty) return !type.empty() && !protocols.empty();
  if (!protocol_type || *protocol_type != type) return false;
  // Some protocol of the joining member that every current member supports.
  return std::any_of(protocols.begin(), protocols.end(), [&](const member_protocol& p) {
    return std::all_of(members.begin(), members.end(),
                       [&](const group_member& m) { return m.protocol(p.name) != nullptr; });
  });
}

std::string group_state::select_protocol() const {
  // Candidates: the protocols every member supports.
  auto candidate = [&](std::string_view name) {
    return std::all_of(members.begin(), members.end(),
                       [&](const group_member& m) { return m.protocol(name) != nullptr; });
  };
  std::vector<std::pair<std::string, int>> votes;  // in order of first vote
  for (const auto& m : members) {
    for (const auto& p : m.protocols) {
      if (!candidate(p.name)) continue;
      auto it = std::find_if(votes.begin(), votes.end(),
                             [&](const auto& v) { return v.first == p.name; });
      if (it == votes.end())
        votes.emplace_back(p.name, 1);
      else
        ++it->second;
      break;
    }
  }
  if (votes.empty()) return {};
  auto best = votes.begin();
  for (auto it = votes.begin(); it != votes.end(); ++it)
    if (it->second > best->second) best = it;
  return best->first;
}

void group_state::add(group_member member) {
  if (members.empty()) protocol_type = member.protocol_type;
  if (!leader) leader = member.member_id;
  pending_members.erase(member.member_id);
  members.push_back(std::move(member));
}

void group_state::remove(std::string_view member_id) {
  std::erase_if(members, [&](const group_member& m) { return m.member_id == member_id; });
  if (is_leader(member_id))
    leader = members.empty() ? std::nullopt : std::optional<std::string>(members.front().member_id);
  pending_members.erase(std::string(member_id));
  pending_sync.erase(std::string(member_id));
}

std::int32_t group_state::max_rebalance_timeout() const {
  std::int32_t out = 0;
  for (const auto& m : members) out = std::max(out, m.rebalance_timeout_ms);
  return out;
}

namespace {

/// The topics of a consumer protocol Subscription, read as its version 0
/// prefix (as Kafka does): int16 version, then an array of int16-length strings.
std::optional<std::vector<std::string>> subscription_topics(const std::vector<std::uint8_t>& b) {
  std::size_t at = 0;
  auto need = [&](std::size_t n) { return b.size() - at >= n; };
  auto u16 = [&] {
    const auto v = static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
    at += 2;
    return v;
  };
  if (!need(2)) return std::nullopt;
  if (static_cast<std::int16_t>(u16()) < 0) return std::nullopt;
  if (!need(4)) return std::nullopt;
  const std::int32_t count =
      static_cast<std::int32_t>((std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) |
                                (std::uint32_t(b[at + 2]) << 8) | std::uint32_t(b[at + 3]));
  at += 4;
  if (count < 0 || static_cast<std::size_t>(count) > (b.size() - at) / 2) return std::nullopt;
  std::vector<std::string> out;
  for (std::int32_t i = 0; i < count; ++i) {
    if (!need(2)) return std::nullopt;
    const auto len = static_cast<std::int16_t>(u16());
    if (len < 0 || !need(static_cast<std::size_t>(len))) return std::nullopt;
    out.emplace_back(b.begin() + static_cast<std::ptrdiff_t>(at),
                     b.begin() + static_cast<std::ptrdiff_t>(at) + len);
    at += static_cast<std::size_t>(len);
  }
  return out;
}

}  // namespace

void group_state::compute_subscribed_topics() {
  subscribed_topics.reset();
  if (!protocol_type || *protocol_type != "consumer" || members.empty() || !protocol_name) return;
  std::set<std::string> topics;
  for (const auto& m : members) {
    const member_protocol* p = m.protocol(*protocol_name);
    if (!p) return;
    auto t = subscription_topics(p->metadata);
    if (!t) return;
    topics.insert(t->begin(), t->end());
  }
  subscribed_topics = std::move(topics);
}

bool group_state::subscribed_to(std::string_view topic) const {
  if (subscribed_topics) return subscribed_topics->count(std::string(topic)) != 0;
  // Unknown subscriptions of a consumer group count as subscribed, to be safe.
  return protocol_type && *protocol_type == "consumer";
}

std::size_t group_record_bytes(const group_state& g) {
  // A v2 record batch (61 bytes) of one record (about 10 bytes of framing),
  // key: version, group id; value (GroupMetadataValue v3): protocol type,
  // generation, protocol, leader, timestamp, and per member its id,
  // instance id, client id, host, timeouts, subscription and assignment.
  auto str = [](std::size_t n) { return 2 + n; };
  std::size_t n = 61 + 10 + 2 + str(g.id.size());
  n += 2 + str(g.protocol_type.value_or("").size()) + 4 + str(g.protocol_name.value_or("").size()) +
       str(g.leader.value_or("").size()) + 8 + 4;
  for (const auto& m : g.members) {
    const member_protocol* p = g.protocol_name ? m.protocol(*g.protocol_name) : nullptr;
    n += str(m.member_id.size()) + str(m.instance_id.value_or("").size()) +
         str(m.client_id.size()) + str(m.client_host.size()) + 4 + 4 + 4 +
         (p ? p->metadata.size() : 0) + 4 + m.assignment.size();
  }
  return n;
}

group_state* group_coordinator::find(std::string_view id) {
  auto it = groups.find(id);
  return it == groups.end() ? nullptr : &it->second;
}

const group_state* group_coordinator::find(std::string_view id) const {
  auto it = groups.find(id);
  return it == groups.end() ? nullptr : &it->second;
}

}  // namespace kwire::mockbroker::detail
