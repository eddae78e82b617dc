// DescribeCluster: the cluster id, the controller and the live brokers.
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<describe_cluster_request>();
  describe_cluster_response r;
  if (ctx.version >= 1 && req.endpoint_type != 1) {
    r.error_code = code(kafka_error::unsupported_endpoint_type);
    r.error_message = "the mock cluster has broker endpoints only";
    r.endpoint_type = req.endpoint_type;
    return wrap(std::move(r));
  }
  r.cluster_id = s.config.cluster_id;
  r.controller_id = s.controller_id();
  for (const auto& b : s.brokers)
    if (b.up) r.brokers.push_back({b.id, b.host, b.port, b.rack, {}});
  return wrap(std::move(r));
}

}  // namespace

extern const api_handler describe_cluster_api{.key = describe_cluster_request::api_key,
                                              .serve = serve,
                                              .error_response = nullptr,
                                              .targets = nullptr,
                                              .places_errors = false};

}  // namespace kwire::mockbroker::detail
