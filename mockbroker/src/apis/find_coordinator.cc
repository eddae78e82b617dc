// FindCoordinator: groups (key type 0) get the group module's choice
// (groups/coordinator.cc: a stable hash of the key, unless the group's
// coordinator was moved); transactional ids (key type 1) the same hash.
// Kafka hashes onto partitions of __consumer_offsets; the mock has none.
#include "../groups/groups.hpp"
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<find_coordinator_request>();
  const std::int16_t v = ctx.version;
  find_coordinator_response r;
  struct choice {
    std::int16_t error = 0;
    const broker_state* broker = nullptr;
  };
  auto choose = [&](std::string_view key) {
    choice c;
    if (req.key_type != 0 && req.key_type != 1) {
      c.error = code(kafka_error::invalid_request);
      return c;
    }
    const coordinator_choice found =
        req.key_type == 0 ? group_coordinator_for(s, key) : coordinator_by_hash(s, key);
    c.error = found.error;
    c.broker = found.broker;
    return c;
  };
  if (v < 4) {
    const choice c = choose(req.key);
    r.error_code = c.error;
    if (v >= 1)
      r.error_message = c.error ? std::optional<std::string>(std::string(kafka_error_name(c.error)))
                                : std::nullopt;
    r.node_id = c.broker ? c.broker->id : -1;
    r.host = c.broker ? c.broker->host : "";
    r.port = c.broker ? c.broker->port : -1;
  } else {
    for (const auto& key : req.coordinator_keys) {
      const choice c = choose(key);
      find_coordinator_response::coordinator co;
      co.key = key;
      co.error_code = c.error;
      co.node_id = c.broker ? c.broker->id : -1;
      co.host = c.broker ? c.broker->host : "";
      co.port = c.broker ? c.broker->port : -1;
      if (c.error) co.error_message = std::string(kafka_error_name(c.error));
      r.coordinators.push_back(std::move(co));
    }
  }
  return wrap(std::move(r));
}

any_message error_response(const cluster_state&, const decoded_request& request,
                           std::int16_t error) {
  const auto& req = *request.body.as<find_coordinator_request>();
  find_coordinator_response r;
  if (request.header.api_version < 4) {
    r.error_code = error;
    r.node_id = -1;
    r.port = -1;
  } else {
    for (auto& k : req.coordinator_keys) {
      find_coordinator_response::coordinator c;
      c.key = k;
      c.node_id = -1;
      c.port = -1;
      c.error_code = error;
      r.coordinators.push_back(std::move(c));
    }
  }
  return wrap(std::move(r));
}

}  // namespace

extern const api_handler find_coordinator_api{.key = find_coordinator_request::api_key,
                                              .serve = serve,
                                              .error_response = error_response,
                                              .targets = nullptr,
                                              .places_errors = false};

}  // namespace kwire::mockbroker::detail
