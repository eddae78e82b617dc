// ApiVersions: the served APIs (the handler table), or every API the codec
// knows with cluster_config::advertise_all_apis.
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

api_versions_response::api_version advertised(const api_info& api, const cluster_config& config) {
  std::int16_t max = api.max_version;
  if (api.latest_version_unstable && !config.advertise_unstable_versions && max > api.min_version)
    --max;
  return {api.key, api.min_version, max, {}};
}

any_message serve(cluster_state& s, const decoded_request&, request_context&) {
  api_versions_response r;
  if (s.config.advertise_all_apis) {
    for (const api_info& api : all_apis()) r.api_keys.push_back(advertised(api, s.config));
  } else {
    for (const api_handler* h : served_apis())
      r.api_keys.push_back(advertised(*find_api(h->key), s.config));
  }
  return wrap(std::move(r));
}

}  // namespace

any_message unsupported_api_versions_response() {
  // Kafka answers an ApiVersions it cannot parse with a v0 response carrying
  // UNSUPPORTED_VERSION and its own ApiVersions range, so that the client
  // can retry with a version both know.
  const api_info& api = *find_api(api_versions_request::api_key);
  api_versions_response r;
  r.error_code = code(kafka_error::unsupported_version);
  r.api_keys.push_back({api.key, api.min_version, api.max_version, {}});
  return wrap(std::move(r));
}

extern const api_handler api_versions_api{.key = api_versions_request::api_key,
                                          .serve = serve,
                                          .error_response = nullptr,
                                          .targets = nullptr,
                                          .places_errors = false};

}  // namespace kwire::mockbroker::detail
