// JoinGroup, SyncGroup, Heartbeat and LeaveGroup: the coordinator check
// (Kafka's validateGroupStatus), then the group module (groups/membership.cc).
// A consumer group's id (KIP-848) is no classic group there: SyncGroup and
// Heartbeat answer UNKNOWN_MEMBER_ID as Kafka does to a classic request for
// a consumer group; JoinGroup and LeaveGroup look at it here.
#include "../groups/consumer_groups.hpp"
#include "../groups/groups.hpp"
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// Where the core says a client is: it sees no addresses, so "/" + the
/// cluster's host (Kafka: "/" + the client's address).
std::string client_host(const cluster_state& s) { return "/" + s.config.host; }

std::vector<target> group_target(std::string_view group) {
  target t;
  t.group = std::string(group);
  return {t};
}

// ---- JoinGroup ------------------------------------------------------------------

any_message join_error_response(std::int16_t error, std::string member_id, std::int16_t version) {
  join_group_response r;
  r.error_code = error;
  r.member_id = std::move(member_id);
  r.protocol_name = version >= 7 ? std::nullopt : std::optional<std::string>("");
  return wrap(std::move(r));
}

any_message serve_join(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<join_group_request>();
  if (auto e = check_group_status(s, req.group_id, group_id_rule::non_empty, ctx.broker_id))
    return join_error_response(*e, req.member_id, ctx.version);
  if (const consumer_group* cg = s.consumer_groups.find(req.group_id)) {
    // Kafka 4.0 lets consumers of the classic protocol join a consumer group
    // (KIP-848's mixed groups); the mock does not mix them and answers as
    // Kafka does to protocols a consumer group cannot take.
    if (!cg->members.empty())
      return join_error_response(code(kafka_error::inconsistent_group_protocol), req.member_id,
                                 ctx.version);
    // An Empty consumer group gives way to a classic group, with its offsets
    // (unless the join is refused before it touches the group).
    if (req.session_timeout_ms >= s.config.group_min_session_timeout_ms &&
        req.session_timeout_ms <= s.config.group_max_session_timeout_ms)
      convert_empty_consumer_group(s, req.group_id);
  }
  join_call call;
  call.group_id = req.group_id;
  call.session_timeout_ms = req.session_timeout_ms;
  call.rebalance_timeout_ms = ctx.version == 0 ? req.session_timeout_ms : req.rebalance_timeout_ms;
  call.member_id = req.member_id;
  call.instance_id = req.group_instance_id;
  call.protocol_type = req.protocol_type;
  for (const auto& p : req.protocols) call.protocols.push_back({p.name, p.metadata});
  call.client_id = request.header.client_id.value_or("");
  call.client_host = client_host(s);
  call.version = ctx.version;
  return join_group(s, call, ctx);
}

any_message join_error(const cluster_state&, const decoded_request& request, std::int16_t error) {
  return join_error_response(error, request.body.as<join_group_request>()->member_id,
                             request.header.api_version);
}

std::vector<target> join_targets(const cluster_state&, const decoded_request& request) {
  return group_target(request.body.as<join_group_request>()->group_id);
}

// ---- SyncGroup ------------------------------------------------------------------

any_message serve_sync(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<sync_group_request>();
  if (auto e = check_group_status(s, req.group_id, group_id_rule::non_empty, ctx.broker_id)) {
    sync_group_response r;
    r.error_code = *e;
    return wrap(std::move(r));
  }
  sync_call call;
  call.group_id = req.group_id;
  call.generation = req.generation_id;
  call.member_id = req.member_id;
  call.instance_id = req.group_instance_id;
  call.protocol_type = req.protocol_type;
  call.protocol_name = req.protocol_name;
  for (const auto& a : req.assignments) call.assignments.emplace_back(a.member_id, a.assignment);
  call.version = ctx.version;
  return sync_group(s, call, ctx);
}

std::vector<target> sync_targets(const cluster_state&, const decoded_request& request) {
  return group_target(request.body.as<sync_group_request>()->group_id);
}

// ---- Heartbeat ------------------------------------------------------------------

any_message serve_heartbeat(cluster_state& s, const decoded_request& request,
                            request_context& ctx) {
  const auto& req = *request.body.as<heartbeat_request>();
  heartbeat_response r;
  if (auto e = check_group_status(s, req.group_id, group_id_rule::non_empty, ctx.broker_id))
    r.error_code = *e;
  else
    r.error_code = heartbeat(s, req.group_id, req.generation_id, req.member_id,
                             req.group_instance_id, ctx.now);
  return wrap(std::move(r));
}

std::vector<target> heartbeat_targets(const cluster_state&, const decoded_request& request) {
  return group_target(request.body.as<heartbeat_request>()->group_id);
}

// ---- LeaveGroup -----------------------------------------------------------------

any_message serve_leave(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<leave_group_request>();
  leave_group_response r;
  if (auto e = check_group_status(s, req.group_id, group_id_rule::non_empty, ctx.broker_id)) {
    r.error_code = *e;
    return wrap(std::move(r));
  }
  std::vector<leave_member> members;
  if (ctx.version < 3)
    members.push_back({req.member_id, std::nullopt, 0});
  else
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id, 0});
  if (consumer_group* cg = s.consumer_groups.find(req.group_id))
    for (auto& m : members) m.error = leave_consumer_group(s, *cg, m.member_id, m.instance_id);
  else
    r.error_code = leave_group(s, req.group_id, members, ctx.now);
  if (ctx.version < 3) {
    // One member: its error is the answer's.
    if (r.error_code == 0) r.error_code = members.front().error;
  } else {
    for (const auto& m : members) {
      leave_group_response::member_response mr;
      mr.member_id = m.member_id;
      mr.group_instance_id = m.instance_id;
      mr.error_code = m.error;
      r.members.push_back(std::move(mr));
    }
  }
  return wrap(std::move(r));
}

any_message leave_error(const cluster_state&, const decoded_request& request, std::int16_t error) {
  const auto& req = *request.body.as<leave_group_request>();
  leave_group_response r;
  r.error_code = error;
  if (request.header.api_version >= 3)
    for (const auto& m : req.members) {
      leave_group_response::member_response mr;
      mr.member_id = m.member_id;
      mr.group_instance_id = m.group_instance_id;
      mr.error_code = error;
      r.members.push_back(std::move(mr));
    }
  return wrap(std::move(r));
}

std::vector<target> leave_targets(const cluster_state&, const decoded_request& request) {
  return group_target(request.body.as<leave_group_request>()->group_id);
}

}  // namespace

extern const api_handler join_group_api{.key = join_group_request::api_key,
                                        .serve = serve_join,
                                        .error_response = join_error,
                                        .targets = join_targets,
                                        .places_errors = false};
extern const api_handler sync_group_api{.key = sync_group_request::api_key,
                                        .serve = serve_sync,
                                        .error_response = nullptr,  // top-level code only
                                        .targets = sync_targets,
                                        .places_errors = false};
extern const api_handler heartbeat_api{.key = heartbeat_request::api_key,
                                       .serve = serve_heartbeat,
                                       .error_response = nullptr,  // top-level code only
                                       .targets = heartbeat_targets,
                                       .places_errors = false};
extern const api_handler leave_group_api{.key = leave_group_request::api_key,
                                         .serve = serve_leave,
                                         .error_response = leave_error,
                                         .targets = leave_targets,
                                         .places_errors = false};

}  // namespace kwire::mockbroker::detail
