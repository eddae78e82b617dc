// ConsumerGroupHeartbeat and ConsumerGroupDescribe (KIP-848): decoding, the
// request check and the coordinator check (Kafka's GroupCoordinatorService
// checks the request first), then the consumer group module
// (groups/consumer_group_*.cc), and the answers encoded.
#include <algorithm>

#include "../groups/consumer_groups.hpp"
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// Kafka's group resource operations a describer may do with no ACLs set
/// (READ, DELETE, DESCRIBE), as AuthorizedOperations bits (as DescribeGroups).
constexpr std::int32_t group_operations = (1 << 3) | (1 << 6) | (1 << 8);

std::vector<target> group_target(std::string_view group) {
  target t;
  t.group = std::string(group);
  return {t};
}

// ---- ConsumerGroupHeartbeat -------------------------------------------------------

any_message heartbeat_response(const heartbeat_answer& a) {
  consumer_group_heartbeat_response r;
  r.error_code = a.error;
  r.error_message = a.message;
  r.member_id = a.member_id;
  r.member_epoch = a.member_epoch;
  r.heartbeat_interval_ms = a.heartbeat_interval_ms;
  if (a.assignment) {
    consumer_group_heartbeat_response::assignment_entry entry;
    for (const auto& [id, parts] : *a.assignment)
      entry.topic_partitions.push_back({id, {parts.begin(), parts.end()}, {}});
    r.assignment = std::move(entry);
  }
  return wrap(std::move(r));
}

any_message serve_heartbeat(cluster_state& s, const decoded_request& request,
                            request_context& ctx) {
  const auto& req = *request.body.as<consumer_group_heartbeat_request>();
  heartbeat_call call;
  call.group_id = req.group_id;
  call.member_id = req.member_id;
  call.member_epoch = req.member_epoch;
  call.instance_id = req.instance_id;
  call.rack_id = req.rack_id;
  call.rebalance_timeout_ms = req.rebalance_timeout_ms;
  call.subscribed_topic_names = req.subscribed_topic_names;
  call.subscribed_topic_regex = req.subscribed_topic_regex;
  call.server_assignor = req.server_assignor;
  if (req.topic_partitions) {
    call.owned.emplace();
    call.owned_entries = req.topic_partitions->size();
    for (const auto& tp : *req.topic_partitions)
      (*call.owned)[tp.topic_id].insert(tp.partitions.begin(), tp.partitions.end());
  }
  call.client_id = request.header.client_id.value_or("");
  // The core sees no addresses: "/" + the cluster's host, as classic groups.
  call.client_host = "/" + s.config.host;
  call.version = ctx.version;
  if (auto refused = check_heartbeat(s.config, call)) return heartbeat_response(*refused);
  if (auto e = check_group_status(s, req.group_id, group_id_rule::any, ctx.broker_id)) {
    heartbeat_answer a;
    a.error = *e;
    return heartbeat_response(a);
  }
  return heartbeat_response(consumer_heartbeat(s, call, ctx.now));
}

std::vector<target> heartbeat_targets(const cluster_state&, const decoded_request& request) {
  return group_target(request.body.as<consumer_group_heartbeat_request>()->group_id);
}

// ---- ConsumerGroupDescribe --------------------------------------------------------

consumer_group_describe_response::assignment described_assignment(const cluster_state& s,
                                                                  const topic_partitions& tp) {
  consumer_group_describe_response::assignment out;
  for (const auto& [id, parts] : tp) {
    const topic_state* t = s.find_topic_by_id(id);
    if (!t) continue;  // deleted meanwhile: Kafka shows only topics it knows
    out.topic_partitions.push_back({id, t->name, {parts.begin(), parts.end()}, {}});
  }
  std::sort(out.topic_partitions.begin(), out.topic_partitions.end(),
            [](const auto& a, const auto& b) { return a.topic_name < b.topic_name; });
  return out;
}

consumer_group_describe_response::described_group described(const cluster_state& s,
                                                            const consumer_group& g) {
  consumer_group_describe_response::described_group dg;
  dg.group_id = g.id;
  dg.group_state = std::string(consumer_group_phase_name(g.phase()));
  dg.group_epoch = g.group_epoch;
  dg.assignment_epoch = g.assignment_epoch;
  dg.assignor_name = g.preferred_assignor().value_or(s.config.group_consumer_assignors.front());
  static const topic_partitions none;
  for (const auto& [id, m] : g.members) {
    consumer_group_describe_response::member dm;
    dm.member_id = id;
    dm.instance_id = m.instance_id;
    dm.rack_id = m.rack_id;
    dm.member_epoch = m.member_epoch;
    dm.client_id = m.client_id;
    dm.client_host = m.client_host;
    dm.subscribed_topic_names = m.subscribed_topic_names;
    dm.subscribed_topic_regex = m.subscribed_topic_regex;
    dm.assignment = described_assignment(s, m.assigned);
    auto target = g.target.find(id);
    dm.target_assignment =
        described_assignment(s, target == g.target.end() ? none : target->second);
    dg.members.push_back(std::move(dm));
  }
  return dg;
}

any_message serve_describe(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<consumer_group_describe_request>();
  consumer_group_describe_response r;
  for (const auto& id : req.group_ids) {
    consumer_group_describe_response::described_group dg;
    // An empty id is INVALID_GROUP_ID, as Kafka 4.0 answers it.
    if (auto e = check_group_status(s, id, group_id_rule::non_empty, ctx.broker_id)) {
      dg.error_code = *e;
    } else if (const consumer_group* g = s.consumer_groups.find(id)) {
      dg = described(s, *g);
      if (req.include_authorized_operations) dg.authorized_operations = group_operations;
    } else {
      dg.error_code = code(kafka_error::group_id_not_found);
      dg.error_message = s.groups.find(id) ? "Group " + id + " is not a consumer group."
                                           : "Group " + id + " not found.";
    }
    dg.group_id = id;
    r.groups.push_back(std::move(dg));
  }
  return wrap(std::move(r));
}

any_message describe_error(const cluster_state&, const decoded_request& request,
                           std::int16_t error) {
  consumer_group_describe_response r;
  for (const auto& id : request.body.as<consumer_group_describe_request>()->group_ids) {
    consumer_group_describe_response::described_group dg;
    dg.group_id = id;
    dg.error_code = error;
    r.groups.push_back(std::move(dg));
  }
  return wrap(std::move(r));
}

std::vector<target> describe_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& id : request.body.as<consumer_group_describe_request>()->group_ids)
    out.push_back({{}, -1, -1, id});
  return out;
}

}  // namespace

extern const api_handler consumer_group_heartbeat_api{
    .key = consumer_group_heartbeat_request::api_key,
    .serve = serve_heartbeat,
    .error_response = nullptr,  // top-level code only
    .targets = heartbeat_targets,
    .places_errors = false};
extern const api_handler consumer_group_describe_api{
    .key = consumer_group_describe_request::api_key,
    .serve = serve_describe,
    .error_response = describe_error,
    .targets = describe_targets,
    .places_errors = false};

}  // namespace kwire::mockbroker::detail
