// DescribeConfigs: a topic's configs from the topic config model (its
// overrides as DYNAMIC_TOPIC_CONFIG, the rest as the broker's or Kafka's
// defaults), and the broker configs clients read. Error faults answer every
// resource with the error.
#include <algorithm>
#include <charconv>

#include "../handler.hpp"
#include "../topic_config_model.hpp"
#include "config_resources.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

using result_t = describe_configs_response::describe_configs_result;

/// The broker a BROKER resource names, or why not, as Kafka words it.
std::optional<std::int32_t> broker_of(std::string_view name, std::int32_t self,
                                      resource_error& why) {
  std::int32_t id = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), id);
  if (ec != std::errc() || end != name.data() + name.size()) {
    why = {kafka_error::invalid_request,
           "Broker id must be an integer, but it is: " + std::string(name)};
    return std::nullopt;
  }
  if (id != self) {
    why = {kafka_error::invalid_request, "Unexpected broker id, expected " + std::to_string(self) +
                                             " or empty string, but received " + std::string(name)};
    return std::nullopt;
  }
  return id;
}

void fill(result_t& out, const std::vector<described_config>& configs,
          const describe_configs_request& req,
          const describe_configs_request::describe_configs_resource& want, std::int16_t v) {
  for (const auto& c : configs) {
    if (want.configuration_keys && !want.configuration_keys->empty() &&
        std::find(want.configuration_keys->begin(), want.configuration_keys->end(), c.name) ==
            want.configuration_keys->end())
      continue;
    describe_configs_response::describe_configs_resource_result r;
    r.name = c.name;
    r.value = c.sensitive ? std::nullopt : c.value;
    r.read_only = c.read_only;
    r.is_sensitive = c.sensitive;
    if (v == 0) r.is_default = c.source == config_source::default_config;
    if (v >= 1) r.config_source = static_cast<std::int8_t>(c.source);
    if (v >= 1 && req.include_synonyms)
      for (const auto& s : c.synonyms)
        r.synonyms.push_back(
            {s.name, c.sensitive ? std::nullopt : s.value, static_cast<std::int8_t>(s.source), {}});
    if (v >= 3) r.config_type = static_cast<std::int8_t>(c.type);
    r.documentation = std::nullopt;
    out.configs.push_back(std::move(r));
  }
}

any_message describe_configs(cluster_state& s, const decoded_request& request,
                             request_context& ctx) {
  const auto& req = *request.body.as<describe_configs_request>();
  describe_configs_response r;
  for (const auto& want : req.resources) {
    result_t out;
    out.resource_type = want.resource_type;
    out.resource_name = want.resource_name;
    out.error_message = std::nullopt;
    resource_error why;
    if (want.resource_type == topic_resource) {
      if (const topic_state* t = find_config_topic(s, want.resource_name, why))
        fill(out, describe_topic_configs(s.config, *t), req, want, ctx.version);
    } else if (want.resource_type == broker_resource) {
      // The empty name is the cluster-wide dynamic default: the mock has none.
      if (!want.resource_name.empty()) {
        if (auto id = broker_of(want.resource_name, ctx.broker_id, why))
          fill(out, describe_broker_configs(s.config, *id, s.find_broker(*id)->rack), req, want,
               ctx.version);
      }
    } else {
      why = unknown_resource_type(want.resource_type);
    }
    if (why.error != kafka_error::none) {
      out.error_code = code(why.error);
      out.error_message = why.message;
    }
    r.results.push_back(std::move(out));
  }
  return wrap(std::move(r));
}

any_message describe_configs_error(const cluster_state&, const decoded_request& request,
                                   std::int16_t error) {
  describe_configs_response r;
  for (const auto& want : request.body.as<describe_configs_request>()->resources)
    r.results.push_back({error,
                         std::string(kafka_error_name(error)),
                         want.resource_type,
                         want.resource_name,
                         {},
                         {}});
  return wrap(std::move(r));
}

std::vector<target> describe_configs_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& want : request.body.as<describe_configs_request>()->resources)
    if (want.resource_type == topic_resource) out.push_back({want.resource_name, -1, -1});
  return out;
}

}  // namespace

extern const api_handler describe_configs_api{.key = describe_configs_request::api_key,
                                              .serve = describe_configs,
                                              .error_response = describe_configs_error,
                                              .targets = describe_configs_targets,
                                              .places_errors = false};

}  // namespace kwire::mockbroker::detail
