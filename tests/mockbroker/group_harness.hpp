// Test helpers for the group coordinator: requests that may be parked, their
// answers through cluster::poll(), consumer protocol metadata, and a client
// that walks the JoinGroup/SyncGroup dance.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"

namespace kwire::mockbroker::testing {

/// A request sent to the cluster; its answer came now or comes from poll().
struct sent_request {
  handle_result result;
  std::int16_t key = 0;
  std::int16_t version = 0;
  std::int32_t correlation = 0;

  bool parked() const { return result.parked != 0 && !result.response; }
};

template <class Request>
sent_request send_request(harness& h, std::int32_t broker, const Request& body,
                          std::int16_t version, std::uint64_t connection = 1) {
  sent_request s;
  s.result = h.send(broker, body, version, connection);
  s.key = Request::api_key;
  s.version = version;
  s.correlation = h.correlation;
  return s;
}

/// The answer given at once; the request must not have been parked.
template <class Response>
Response answered(const sent_request& s) {
  REQUIRE_FALSE(s.result.closes());
  REQUIRE(s.result.response.has_value());
  return harness::decode<Response>(*s.result.response, s.key, s.version, s.correlation);
}

/// Answers handed out by poll(), by ticket.
struct polled {
  std::map<std::uint64_t, parked_response> by_ticket;

  bool has(const sent_request& s) const { return by_ticket.count(s.result.parked) != 0; }

  template <class Response>
  Response get(const sent_request& s) const {
    auto it = by_ticket.find(s.result.parked);
    REQUIRE(it != by_ticket.end());
    REQUIRE(it->second.response.has_value());
    return harness::decode<Response>(*it->second.response, s.key, s.version, s.correlation);
  }
};

/// Runs the cluster's timers up to h.now and collects the parked answers.
inline polled poll(harness& h) {
  polled p;
  for (auto& r : h.c.poll(h.now)) p.by_ticket.emplace(r.ticket, std::move(r));
  return p;
}

/// The answer to `s`: at once, or (parked) from `p`.
template <class Response>
Response answer_of(const sent_request& s, const polled& p) {
  if (!s.parked()) return answered<Response>(s);
  return p.get<Response>(s);
}

/// A consumer protocol Subscription (version 0): the topics, no user data.
inline std::vector<std::uint8_t> subscription(const std::vector<std::string>& topics) {
  std::vector<std::uint8_t> out{0, 0};
  auto put32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(std::uint8_t(v >> shift));
  };
  put32(static_cast<std::uint32_t>(topics.size()));
  for (const auto& t : topics) {
    out.push_back(std::uint8_t(t.size() >> 8));
    out.push_back(std::uint8_t(t.size()));
    out.insert(out.end(), t.begin(), t.end());
  }
  put32(0xffffffffu);  // null user data
  return out;
}

inline std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

/// JoinGroup with the consumer protocol type and the given protocols.
inline join_group_request join_request(
    const std::string& group, const std::string& member_id,
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> protocols = {},
    std::optional<std::string> instance_id = std::nullopt, std::int32_t session_ms = 10000,
    std::int32_t rebalance_ms = 60000, std::string protocol_type = "consumer") {
  join_group_request r;
  r.group_id = group;
  r.member_id = member_id;
  r.session_timeout_ms = session_ms;
  r.rebalance_timeout_ms = rebalance_ms;
  r.group_instance_id = std::move(instance_id);
  r.protocol_type = std::move(protocol_type);
  if (protocols.empty()) protocols.emplace_back("range", subscription({"t"}));
  for (auto& [name, metadata] : protocols) r.protocols.push_back({name, metadata, {}});
  return r;
}

inline sync_group_request sync_request(
    const std::string& group, std::int32_t generation, const std::string& member_id,
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> assignments = {}) {
  sync_group_request r;
  r.group_id = group;
  r.generation_id = generation;
  r.member_id = member_id;
  for (auto& [id, a] : assignments) r.assignments.push_back({id, a, {}});
  return r;
}

inline heartbeat_request heartbeat_of(const std::string& group, std::int32_t generation,
                                      const std::string& member_id,
                                      std::optional<std::string> instance_id = std::nullopt) {
  heartbeat_request r;
  r.group_id = group;
  r.generation_id = generation;
  r.member_id = member_id;
  r.group_instance_id = std::move(instance_id);
  return r;
}

/// The broker FindCoordinator names for a group.
inline std::int32_t coordinator_of(harness& h, const std::string& group) {
  find_coordinator_request req;
  req.key = group;
  req.key_type = 0;
  auto r = h.call<find_coordinator_response>(1, req, 3);  // flexible: any key length
  REQUIRE(r.error_code == 0);
  return r.node_id;
}

/// A broker that is up and does not coordinate `group`.
inline std::int32_t other_broker(harness& h, const std::string& group) {
  const std::int32_t c = coordinator_of(h, group);
  for (const auto& b : h.c.brokers())
    if (b.up && b.id != c) return b.id;
  FAIL("no other broker");
  return -1;
}

/// A member that joined a group: its id and generation.
struct joined_member {
  std::string member_id;
  std::int32_t generation = -1;
  std::string leader;
};

/// One member joins a group alone (v5: MEMBER_ID_REQUIRED, then the join,
/// answered at once with the default initial delay of 0) and, as its
/// leader, syncs `assignment` for itself.
inline joined_member join_alone(harness& h, const std::string& group,
                                std::vector<std::uint8_t> assignment = bytes("a"),
                                std::vector<std::string> topics = {"t"}) {
  const std::int32_t broker = coordinator_of(h, group);
  auto first = h.call<join_group_response>(
      broker, join_request(group, "", {{"range", subscription(topics)}}), 5);
  REQUIRE(first.error_code == ec(kafka_error::member_id_required));
  auto join = send_request(
      h, broker, join_request(group, first.member_id, {{"range", subscription(topics)}}), 5);
  auto j = answered<join_group_response>(join);
  REQUIRE(j.error_code == 0);
  auto s = h.call<sync_group_response>(
      broker, sync_request(group, j.generation_id, j.member_id, {{j.member_id, assignment}}), 3);
  REQUIRE(s.error_code == 0);
  return {j.member_id, j.generation_id, j.leader};
}

}  // namespace kwire::mockbroker::testing
