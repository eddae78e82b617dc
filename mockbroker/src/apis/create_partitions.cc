// CreatePartitions: a topic grows to the count asked for, on the replicas
// given or round robin, or is only checked with validate_only. Never
// THROTTLING_QUOTA_EXCEEDED. Error faults answer every topic with the error.
#include <set>

#include "../handler.hpp"
#include "config_resources.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

any_message create_partitions(cluster_state& s, const decoded_request& request, request_context&) {
  const auto& req = *request.body.as<create_partitions_request>();
  create_partitions_response r;
  std::multiset<std::string_view> names;
  for (const auto& want : req.topics) names.insert(want.name);
  for (const auto& want : req.topics) {
    create_partitions_response::create_partitions_topic_result tr;
    tr.name = want.name;
    resource_error why;
    if (names.count(want.name) > 1) {
      why = {kafka_error::invalid_request, "Duplicate topic in request."};
    } else if (topic_state* t = find_config_topic(s, want.name, why)) {
      std::vector<std::vector<std::int32_t>> assignments;
      if (want.assignments)
        for (const auto& a : *want.assignments) assignments.push_back(a.broker_ids);
      why.error = s.create_partitions(*t, want.count, want.assignments ? &assignments : nullptr,
                                      req.validate_only, why.message);
    }
    tr.error_code = code(why.error);
    if (why.error != kafka_error::none) tr.error_message = why.message;
    r.results.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

any_message create_partitions_error(const cluster_state&, const decoded_request& request,
                                    std::int16_t error) {
  create_partitions_response r;
  for (const auto& want : request.body.as<create_partitions_request>()->topics)
    r.results.push_back({want.name, error, std::string(kafka_error_name(error)), {}});
  return wrap(std::move(r));
}

std::vector<target> create_partitions_targets(const cluster_state&,
                                              const decoded_request& request) {
  std::vector<target> out;
  for (const auto& want : request.body.as<create_partitions_request>()->topics)
    out.push_back({want.name, -1, -1});
  return out;
}

}  // namespace

extern const api_handler create_partitions_api{.key = create_partitions_request::api_key,
                                               .serve = create_partitions,
                                               .error_response = create_partitions_error,
                                               .targets = create_partitions_targets,
                                               .places_errors = false};

}  // namespace kwire::mockbroker::detail
