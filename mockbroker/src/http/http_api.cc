// The control API's table and dispatch (see http_api.hpp): a target is
// parsed with Boost.URL (http_target.hpp), matched against a table of
// method and path pattern to handler, and answered by the handler; the
// handlers live beside this file, one file per resource.
#include "kwire/mockbroker/http_api.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "../memory.hpp"
#include "http_routes.hpp"
#include "json/json_reader.hpp"
#include "json/json_text.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

/// One line of the table. A pattern's segments are literal or a {placeholder}
/// that matches any one segment; `query` lists the parameters it takes.
struct route {
  std::string_view method;
  std::string_view pattern;
  route_handler handler;
  std::vector<std::string_view> query;
};

// For a path served by several methods, the order here is the order a 405
// lists them in.
const std::vector<route>& routes() {
  static const std::vector<route> table = {
      {"GET", "/cluster", get_cluster_route, {}},
      {"POST", "/topics", create_topic_route, {}},
      {"GET", "/topics/{topic}", get_topic_route, {}},
      {"DELETE", "/topics/{topic}", delete_topic_route, {}},
      {"GET", "/topics/{topic}/partitions/{partition}", get_partition_route, {}},
      {"PUT", "/topics/{topic}/partitions/{partition}/leader", move_leader_route, {}},
      {"PUT", "/topics/{topic}/partitions/{partition}/isr", set_isr_route, {}},
      {"GET",
       "/topics/{topic}/partitions/{partition}/records",
       read_records_route,
       {"offset", "limit"}},
      {"GET", "/groups", list_groups_route, {}},
      {"GET", "/groups/{group}", get_group_route, {}},
      {"DELETE", "/groups/{group}/members/{member}", expire_member_route, {}},
      {"POST", "/groups/{group}/rebalance", rebalance_group_route, {}},
      {"PUT", "/groups/{group}/coordinator", move_group_coordinator_route, {}},
      {"PUT", "/groups/{group}/offsets", set_group_offsets_route, {}},
      {"GET", "/brokers/{id}", get_broker_route, {}},
      {"PUT", "/brokers/{id}", update_broker_route, {}},
      {"GET", "/faults", list_faults_route, {}},
      {"POST", "/faults", add_faults_route, {}},
      {"DELETE", "/faults", clear_faults_route, {}},
      {"GET", "/faults/{id}", get_fault_route, {}},
      {"DELETE", "/faults/{id}", delete_fault_route, {}},
      {"GET",
       "/requests",
       list_requests_route,
       {"broker", "api", "topic", "since", "limit", "payloads"}},
      {"DELETE", "/requests", clear_requests_route, {}},
      {"POST", "/reset", reset_route, {}},
  };
  return table;
}

// True, with the placeholders' values in `params`, when `path` fits `pattern`.
bool matches(std::string_view pattern, const std::vector<std::string>& path,
             std::vector<std::string>& params) {
  params.clear();
  std::size_t i = 0;
  pattern.remove_prefix(1);  // the leading '/'
  while (!pattern.empty()) {
    const auto slash = std::min(pattern.find('/'), pattern.size());
    const auto segment = pattern.substr(0, slash);
    pattern.remove_prefix(std::min(slash + 1, pattern.size()));
    if (i == path.size()) return false;
    if (segment.front() == '{')
      params.push_back(path[i]);
    else if (segment != path[i])
      return false;
    ++i;
  }
  return i == path.size();
}

}  // namespace

// ---- helpers the handlers share (http_routes.hpp) ------------------------------------

http_reply json_reply(const json::value& v, unsigned status) {
  return {status, json::serialize(v)};
}

std::optional<json::object> request_body_object(std::string_view body,
                                                std::initializer_list<std::string_view> allowed,
                                                std::string& error) {
  std::string why;
  auto v = parse_json(body, why);
  if (!v) {
    error = "body is not JSON: " + why;
    return std::nullopt;
  }
  if (!v->is_object()) {
    error = "body must be a JSON object, got " + shown_json(*v);
    return std::nullopt;
  }
  json_reader r(v->as_object());
  if (!r.only_keys(allowed)) {
    error = r.error();
    return std::nullopt;
  }
  return std::move(v->as_object());
}

// ---- public ---------------------------------------------------------------------------

http_reply http_error(unsigned status, std::string_view message) {
  return {status, json::serialize(json::object{{"error", json_text(message)}})};
}

control_api::control_api(initial_state setup) : setup_(std::move(setup)) {}

void control_api::reset(cluster& c) {
  const std::vector<broker_info> brokers = c.brokers();
  c = cluster(c.config());
  for (const auto& b : brokers) c.set_broker_address(b.id, b.host, b.port);
  detail::give_back_free_memory();  // the old cluster's logs
  if (setup_) setup_(c);
  ++generation_;
}

void control_api::clear_request_log(cluster& c) {
  c.clear_request_log();
  ++generation_;
}

http_reply control_api::handle(cluster& c, std::string_view method, std::string_view target_text,
                               std::string_view body) {
  const auto t = parse_http_target(target_text);
  if (!t.error.empty()) return bad_request(t.error);
  if (t.path.empty()) return not_found("no such path; try GET /cluster");
  std::vector<std::string> params;
  std::vector<const route*> on_path;
  for (const auto& r : routes())
    if (matches(r.pattern, t.path, params)) on_path.push_back(&r);
  if (on_path.empty()) return not_found("no such path");
  // A query parameter no method of the path knows is refused, so a typo is
  // not silently ignored.
  for (const auto& parameter : t.query) {
    // Named, not a structured binding: clang 14 cannot capture those in a lambda.
    const std::string& key = parameter.first;
    const bool known = std::any_of(on_path.begin(), on_path.end(), [&](const route* r) {
      return std::find(r->query.begin(), r->query.end(), key) != r->query.end();
    });
    if (!known) return bad_request("unknown query parameter '" + to_valid_utf8(key) + "'");
  }
  const auto it = std::find_if(on_path.begin(), on_path.end(),
                               [&](const route* r) { return r->method == method; });
  if (it == on_path.end()) {
    std::string allowed;
    for (const route* r : on_path)
      allowed += (allowed.empty() ? "" : ", ") + std::string(r->method);
    return http_error(405, std::string(method) + " is not served on " +
                               to_valid_utf8(t.path_text()) + " (only " + allowed + ")");
  }
  const route& chosen = **it;
  if (chosen.query.empty() && !t.query.empty()) {
    return bad_request(std::string(method) + " " + to_valid_utf8(t.path_text()) +
                       " takes no query");
  }
  matches(chosen.pattern, t.path, params);
  route_call call{c, *this, std::move(params), t, body};
  return chosen.handler(call);
}

}  // namespace kwire::mockbroker
