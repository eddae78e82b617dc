// The control API's routes (http_api.hpp lists them): what a handler is
// given, the helpers every handler answers with, and the handlers, grouped
// by resource in topic_routes.cc, cluster_routes.cc, group_routes.cc and
// request_log_routes.cc.
// http_api.cc holds the table from method and path pattern to handler.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_target.hpp"
#include "kwire/mockbroker/http_api.hpp"

namespace kwire::mockbroker {

/// One request as a handler sees it: the cluster, the API (for reset and
/// the request log's readers), the values of the pattern's {placeholders} in
/// order, the parsed target and the body. Lives for one call of handle().
struct route_call {
  cluster& c;
  control_api& api;
  std::vector<std::string> params;
  const http_target& target;
  std::string_view body;
};

/// A route's handler.
using route_handler = http_reply (*)(route_call&);

/// `v` serialized as the answer with this status.
http_reply json_reply(const boost::json::value& v, unsigned status = 200);
inline http_reply bad_request(std::string_view why) { return http_error(400, why); }
inline http_reply not_found(std::string_view why) { return http_error(404, why); }

/// A request body that must be a JSON object with only `allowed` keys;
/// nullopt with `error` naming what is wrong otherwise.
std::optional<boost::json::object> request_body_object(
    std::string_view body, std::initializer_list<std::string_view> allowed, std::string& error);

// ---- topic_routes.cc ----
http_reply create_topic_route(route_call& call);   // POST /topics
http_reply get_topic_route(route_call& call);      // GET /topics/{topic}
http_reply delete_topic_route(route_call& call);   // DELETE /topics/{topic}
http_reply get_partition_route(route_call& call);  // GET /topics/{topic}/partitions/{p}
http_reply move_leader_route(route_call& call);    // PUT .../leader
http_reply set_isr_route(route_call& call);        // PUT .../isr
http_reply read_records_route(route_call& call);   // GET .../records

// ---- cluster_routes.cc ----
http_reply get_cluster_route(route_call& call);    // GET /cluster
http_reply get_broker_route(route_call& call);     // GET /brokers/{id}
http_reply update_broker_route(route_call& call);  // PUT /brokers/{id}
http_reply list_faults_route(route_call& call);    // GET /faults
http_reply add_faults_route(route_call& call);     // POST /faults
http_reply clear_faults_route(route_call& call);   // DELETE /faults
http_reply get_fault_route(route_call& call);      // GET /faults/{id}
http_reply delete_fault_route(route_call& call);   // DELETE /faults/{id}
http_reply reset_route(route_call& call);          // POST /reset

// ---- group_routes.cc ----
http_reply list_groups_route(route_call& call);             // GET /groups
http_reply get_group_route(route_call& call);               // GET /groups/{id}
http_reply expire_member_route(route_call& call);           // DELETE /groups/{id}/members/{m}
http_reply rebalance_group_route(route_call& call);         // POST /groups/{id}/rebalance
http_reply move_group_coordinator_route(route_call& call);  // PUT /groups/{id}/coordinator
http_reply set_group_offsets_route(route_call& call);       // PUT /groups/{id}/offsets

// ---- request_log_routes.cc ----
/// The request log filter in a target's query (as parse_request_log_query);
/// "" or the error naming the parameter.
std::string request_log_filter_of(const http_target& t, request_log_filter& filter,
                                  std::size_t& limit);
http_reply list_requests_route(route_call& call);   // GET /requests
http_reply clear_requests_route(route_call& call);  // DELETE /requests

}  // namespace kwire::mockbroker
