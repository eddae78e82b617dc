// Routes on the cluster as a whole, its brokers and its fault rules, and
// POST /reset.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <optional>

#include "http_routes.hpp"
#include "json/cluster_json.hpp"
#include "json/fault_rule_json.hpp"
#include "json/json_reader.hpp"
#include "json/json_text.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

// The broker of /brokers/{id}, or the answer that says why there is none.
std::optional<http_reply> find_broker(const route_call& call, broker_info& out) {
  const std::string& text = call.params.at(0);
  std::int32_t id = 0;
  if (!parse_decimal<std::int32_t>(text, INT32_MIN, INT32_MAX, id)) {
    return bad_request("broker '" + to_valid_utf8(text) + "' is not a broker id");
  }
  for (const auto& b : call.c.brokers()) {
    if (b.id != id) continue;
    out = b;
    return std::nullopt;
  }
  return not_found("no broker with id " + std::to_string(id));
}

// The rule of /faults/{id}, or the answer that says why there is none.
std::optional<http_reply> find_rule(const route_call& call, rule_status& out) {
  const std::string& text = call.params.at(0);
  rule_id id = 0;
  if (!parse_decimal<rule_id>(text, 0, UINT64_MAX, id)) {
    return bad_request("fault rule '" + to_valid_utf8(text) + "' is not a rule id");
  }
  for (const auto& s : call.c.faults()) {
    if (s.id != id) continue;
    out = s;
    return std::nullopt;
  }
  return not_found("no fault rule with id " + std::to_string(id));
}

}  // namespace

http_reply get_cluster_route(route_call& call) {
  const cluster& c = call.c;
  json::array brokers;
  for (const auto& b : c.brokers()) brokers.push_back(broker_value(b));
  json::array topics;
  for (const auto& name : c.topics()) topics.push_back(topic_value(c, name));
  return json_reply(json::object{{"cluster_id", json_text(c.config().cluster_id)},
                                 {"bootstrap_servers", json_text(c.bootstrap_servers())},
                                 {"brokers", std::move(brokers)},
                                 {"topics", std::move(topics)}});
}

http_reply get_broker_route(route_call& call) {
  broker_info b;
  if (auto refused = find_broker(call, b)) return *refused;
  return json_reply(broker_value(b));
}

http_reply update_broker_route(route_call& call) {
  broker_info b;
  if (auto refused = find_broker(call, b)) return *refused;
  std::string error;
  const auto body = request_body_object(call.body, {"up", "latency_ms", "move_leaderships"}, error);
  if (!body) return bad_request(error);
  json_reader r(*body);
  if (!r.has("up") && !r.has("latency_ms"))
    return bad_request("nothing to change: give 'up' or 'latency_ms'");
  bool up = true, move_leaderships = true;
  std::int64_t latency_ms = 0;
  bool ok = true;
  if (r.has("up")) ok = r.boolean("up", up);
  if (ok && r.has("move_leaderships")) ok = r.boolean("move_leaderships", move_leaderships);
  if (ok && r.has("latency_ms")) ok = r.integer("latency_ms", 0, 3600 * 1000, latency_ms);
  if (!ok) return bad_request(r.error());
  if (r.has("latency_ms")) call.c.set_broker_latency(b.id, std::chrono::milliseconds(latency_ms));
  if (r.has("up")) {
    if (up)
      call.c.broker_up(b.id);
    else
      call.c.broker_down(b.id, move_leaderships);
  }
  for (const auto& now : call.c.brokers())
    if (now.id == b.id) return json_reply(broker_value(now));
  return not_found("no broker with id " + std::to_string(b.id));
}

http_reply list_faults_route(route_call& call) {
  json::array list;
  for (const auto& s : call.c.faults()) list.push_back(rule_status_value(s));
  return json_reply(json::object{{"faults", std::move(list)}});
}

http_reply add_faults_route(route_call& call) {
  std::string error;
  const auto doc = parse_json(call.body, error);
  if (!doc) return bad_request("not JSON: " + error);  // as parse_fault_rules says it
  auto parsed = read_fault_rules(*doc);
  if (!parsed.ok()) return bad_request(parsed.error);
  if (parsed.rules.empty()) return bad_request("no rules given");
  // One rule object answers with its id; a list answers with every id.
  const bool single = doc->is_object() && !doc->as_object().contains("faults");
  json::array ids;
  for (auto& rule : parsed.rules) ids.push_back(call.c.add_fault(std::move(rule)));
  if (single) return json_reply(json::object{{"id", ids.front()}}, 201);
  return json_reply(json::object{{"ids", std::move(ids)}}, 201);
}

http_reply clear_faults_route(route_call& call) {
  const auto n = call.c.faults().size();
  call.c.clear_faults();
  return json_reply(json::object{{"deleted", n}});
}

http_reply get_fault_route(route_call& call) {
  rule_status s;
  if (auto refused = find_rule(call, s)) return *refused;
  return json_reply(rule_status_value(s));
}

http_reply delete_fault_route(route_call& call) {
  rule_status s;
  if (auto refused = find_rule(call, s)) return *refused;
  call.c.remove_fault(s.id);
  return json_reply(json::object{{"deleted", s.id}});
}

http_reply reset_route(route_call& call) {
  call.api.reset(call.c);
  return json_reply(json::object{{"reset", true}});
}

}  // namespace kwire::mockbroker
