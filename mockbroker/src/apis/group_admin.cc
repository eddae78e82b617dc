// ListGroups, DescribeGroups and DeleteGroups: the groups a broker
// coordinates, as Kafka's GroupCoordinator answers for classic groups, and
// as Kafka 4.0 answers for consumer groups (KIP-848): listed with type
// "consumer", Dead to DescribeGroups (which describes classic groups only).
#include <algorithm>
#include <cctype>
#include <set>

#include "../groups/consumer_groups.hpp"
#include "../groups/groups.hpp"
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// Kafka's group resource operations a describer may do with no ACLs set
/// (READ, DELETE, DESCRIBE), as DescribeGroups' AuthorizedOperations bits.
constexpr std::int32_t group_operations = (1 << 3) | (1 << 6) | (1 << 8);

// ---- ListGroups -----------------------------------------------------------------

any_message serve_list(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<list_groups_request>();
  // Filters compare without case, as Kafka 4.0 does.
  std::set<std::string> states, types;
  for (const auto& f : req.states_filter) states.insert(lower(f));
  for (const auto& f : req.types_filter) types.insert(lower(f));
  list_groups_response r;
  auto list = [&](const std::string& id, std::string_view state, std::string protocol_type,
                  std::string_view type) {
    const coordinator_choice c = group_coordinator_for(s, id);
    if (!c.broker || c.broker->id != ctx.broker_id) return;
    if (!states.empty() && !states.count(lower(state))) return;
    if (!types.empty() && !types.count(std::string(type))) return;
    list_groups_response::listed_group lg;
    lg.group_id = id;
    lg.protocol_type = std::move(protocol_type);
    if (ctx.version >= 4) lg.group_state = std::string(state);
    if (ctx.version >= 5) lg.group_type = std::string(type);
    r.groups.push_back(std::move(lg));
  };
  for (const auto& [id, g] : s.groups.groups)
    list(id, group_phase_name(g.state), g.protocol_type.value_or(""), "classic");
  for (const auto& [id, g] : s.consumer_groups.groups)
    list(id, consumer_group_phase_name(g.phase()), "consumer", "consumer");
  return wrap(std::move(r));
}

// ---- DescribeGroups -------------------------------------------------------------

any_message serve_describe(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<describe_groups_request>();
  describe_groups_response r;
  for (const auto& id : req.groups) {
    describe_groups_response::described_group dg;
    dg.group_id = id;
    if (ctx.version >= 3 && req.include_authorized_operations)
      dg.authorized_operations = group_operations;
    if (auto e = check_group_status(s, id, group_id_rule::any, ctx.broker_id)) {
      dg.error_code = *e;
      r.groups.push_back(std::move(dg));
      continue;
    }
    const group_state* g = s.groups.find(id);
    if (!g) {
      // Unknown, or a consumer group: Kafka 4.0 describes only classic
      // groups here (v6+ would add GROUP_ID_NOT_FOUND; the codec stops at v5).
      dg.group_state = "Dead";
      r.groups.push_back(std::move(dg));
      continue;
    }
    dg.group_state = std::string(group_phase_name(g->state));
    dg.protocol_type = g->protocol_type.value_or("");
    // Only a Stable group shows its protocol, metadata and assignments.
    const bool stable = g->state == group_phase::stable;
    if (stable) dg.protocol_data = g->protocol_name.value_or("");
    for (const auto& m : g->members) {
      describe_groups_response::described_group_member dm;
      dm.member_id = m.member_id;
      if (ctx.version >= 4) dm.group_instance_id = m.instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      if (stable) {
        if (const member_protocol* p = m.protocol(*g->protocol_name))
          dm.member_metadata = p->metadata;
        dm.member_assignment = m.assignment;
      }
      dg.members.push_back(std::move(dm));
    }
    r.groups.push_back(std::move(dg));
  }
  return wrap(std::move(r));
}

any_message describe_error(const cluster_state&, const decoded_request& request,
                           std::int16_t error) {
  describe_groups_response r;
  for (const auto& id : request.body.as<describe_groups_request>()->groups) {
    describe_groups_response::described_group dg;
    dg.group_id = id;
    dg.error_code = error;
    r.groups.push_back(std::move(dg));
  }
  return wrap(std::move(r));
}

std::vector<target> describe_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& id : request.body.as<describe_groups_request>()->groups)
    out.push_back({{}, -1, -1, id});
  return out;
}

// ---- DeleteGroups ---------------------------------------------------------------

/// The group ids once each, in request order (Kafka takes them as a set).
std::vector<std::string> distinct(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids)
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

any_message serve_delete_groups(cluster_state& s, const decoded_request& request,
                                request_context& ctx) {
  const auto& req = *request.body.as<delete_groups_request>();
  delete_groups_response r;
  for (const auto& id : distinct(req.groups_names)) {
    delete_groups_response::deletable_group_result dr;
    dr.group_id = id;
    if (auto e = check_group_status(s, id, group_id_rule::any, ctx.broker_id))
      dr.error_code = *e;
    else
      dr.error_code = delete_group(s, id, ctx.now);
    r.results.push_back(std::move(dr));
  }
  return wrap(std::move(r));
}

any_message delete_groups_error(const cluster_state&, const decoded_request& request,
                                std::int16_t error) {
  delete_groups_response r;
  for (const auto& id : distinct(request.body.as<delete_groups_request>()->groups_names)) {
    delete_groups_response::deletable_group_result dr;
    dr.group_id = id;
    dr.error_code = error;
    r.results.push_back(std::move(dr));
  }
  return wrap(std::move(r));
}

std::vector<target> delete_groups_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& id : request.body.as<delete_groups_request>()->groups_names)
    out.push_back({{}, -1, -1, id});
  return out;
}

}  // namespace

extern const api_handler list_groups_api{.key = list_groups_request::api_key,
                                         .serve = serve_list,
                                         .error_response = nullptr,  // top-level code only
                                         .targets = nullptr,         // names no group
                                         .places_errors = false};
extern const api_handler describe_groups_api{.key = describe_groups_request::api_key,
                                             .serve = serve_describe,
                                             .error_response = describe_error,
                                             .targets = describe_targets,
                                             .places_errors = false};
extern const api_handler delete_groups_api{.key = delete_groups_request::api_key,
                                           .serve = serve_delete_groups,
                                           .error_response = delete_groups_error,
                                           .targets = delete_groups_targets,
                                           .places_errors = false};

}  // namespace kwire::mockbroker::detail
