// Routes on consumer groups: list and show groups (members with their
// assignments, committed offsets with lag), expire a member's session, force
// a rebalance, move a group's coordinator, set committed offsets.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "http_routes.hpp"
#include "json/cluster_json.hpp"
#include "json/json_reader.hpp"
#include "json/json_text.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

http_reply no_group(const std::string& id) {
  return not_found("no group '" + to_valid_utf8(id) + "'");
}

}  // namespace

http_reply list_groups_route(route_call& call) {
  json::array out;
  for (const auto& g : call.c.groups()) out.push_back(group_listing_value(g));
  return json_reply(json::object{{"groups", std::move(out)}});
}

http_reply get_group_route(route_call& call) {
  const auto& id = call.params.at(0);
  const auto g = call.c.group(id);
  if (!g) return no_group(id);
  return json_reply(group_value(call.c, *g));
}

http_reply expire_member_route(route_call& call) {
  const auto& id = call.params.at(0);
  const auto& member = call.params.at(1);
  if (!call.c.group(id)) return no_group(id);
  if (!call.c.expire_member(id, member))
    return not_found("group '" + to_valid_utf8(id) + "' has no member '" + to_valid_utf8(member) +
                     "'");
  return json_reply(group_value(call.c, *call.c.group(id)));
}

http_reply rebalance_group_route(route_call& call) {
  const auto& id = call.params.at(0);
  const auto g = call.c.group(id);
  if (!g) return no_group(id);
  if (!call.c.rebalance_group(id))
    return http_error(409, "group '" + to_valid_utf8(id) + "' is " + g->state + " with " +
                               std::to_string(g->members.size()) +
                               " members: nothing to rebalance");
  return json_reply(group_value(call.c, *call.c.group(id)));
}

http_reply move_group_coordinator_route(route_call& call) {
  const auto& id = call.params.at(0);
  std::string error;
  const auto body = request_body_object(call.body, {"broker"}, error);
  if (!body) return bad_request(error);
  json_reader r(*body);
  std::int32_t broker = 0;
  if (!r.require("broker") || !r.integer_as("broker", INT32_MIN, INT32_MAX, broker))
    return bad_request(r.error());
  if (!call.c.move_group_coordinator(id, broker))
    return not_found("'broker': no broker with id " + std::to_string(broker));
  const auto g = call.c.group(id);
  if (!g) return json_reply(json::object{{"group_id", json_text(id)}, {"coordinator", broker}});
  return json_reply(group_value(call.c, *g));
}

http_reply set_group_offsets_route(route_call& call) {
  const auto& id = call.params.at(0);
  std::string error;
  const auto body = request_body_object(call.body, {"offsets"}, error);
  if (!body) return bad_request(error);
  json_reader r(*body);
  if (!r.require("offsets")) return bad_request(r.error());
  const auto& list = r.at("offsets");
  if (!list.is_array() || list.as_array().empty())
    return bad_request("'offsets': expected a non-empty array of {topic, partition, offset}");
  struct entry {
    std::string topic;
    std::int32_t partition = 0;
    std::int64_t offset = 0;
    std::string metadata;
    std::int32_t leader_epoch = -1;
  };
  // Every entry is checked before any is set: a bad one changes nothing.
  std::vector<entry> entries;
  for (std::size_t i = 0; i < list.as_array().size(); ++i) {
    const auto& v = list.as_array()[i];
    const std::string where = "'offsets'[" + std::to_string(i) + "]";
    if (!v.is_object()) return bad_request(where + ": expected an object");
    json_reader e(v.as_object());
    entry out;
    const bool ok =
        e.only_keys({"topic", "partition", "offset", "metadata", "leader_epoch"}) &&
        e.require("topic") && e.string("topic", out.topic) && e.require("partition") &&
        e.integer_as("partition", 0, INT32_MAX, out.partition) && e.require("offset") &&
        e.integer_as("offset", -1, INT64_MAX, out.offset) &&
        (!e.has("metadata") || e.string("metadata", out.metadata)) &&
        (!e.has("leader_epoch") || e.integer_as("leader_epoch", -1, INT32_MAX, out.leader_epoch));
    if (!ok) return bad_request(where + ": " + e.error());
    if (out.metadata.size() > static_cast<std::size_t>(call.c.config().offset_metadata_max_bytes))
      return bad_request(where + ": 'metadata' is longer than " +
                         std::to_string(call.c.config().offset_metadata_max_bytes) +
                         " bytes (offset_metadata_max_bytes)");
    if (!call.c.partition(out.topic, out.partition))
      return not_found(where + ": no partition " + to_valid_utf8(out.topic) + "-" +
                       std::to_string(out.partition));
    entries.push_back(std::move(out));
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const kafka_error err =
        call.c.set_committed_offset(id, e.topic, e.partition, e.offset, e.metadata, e.leader_epoch);
    if (err != kafka_error::none)
      return bad_request("'offsets'[" + std::to_string(i) +
                         "]: " + std::string(kafka_error_name(static_cast<std::int16_t>(err))));
  }
  return json_reply(group_value(call.c, *call.c.group(id)));
}

}  // namespace kwire::mockbroker
