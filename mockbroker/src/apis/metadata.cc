// Metadata: brokers, topics and partitions; creates topics it is asked about
// when auto-creation is on. Error faults land on the topics they match.
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// A request for every topic: no list, or (v0) an empty one.
bool wants_all(const metadata_request& req, std::int16_t version) {
  return !req.topics || (version == 0 && req.topics->empty());
}

void add_brokers(const cluster_state& s, metadata_response& r) {
  for (const auto& b : s.brokers)
    if (b.up) r.brokers.push_back({b.id, b.host, b.port, b.rack, {}});
  r.cluster_id = s.config.cluster_id;
  r.controller_id = s.controller_id();
}

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<metadata_request>();
  const std::int16_t v = ctx.version;
  metadata_response r;
  add_brokers(s, r);

  auto describe = [&](topic_state& t) {
    metadata_response::metadata_response_topic rt;
    rt.name = t.name;
    rt.topic_id = t.id;
    for (const auto& p : t.partitions) {
      metadata_response::metadata_response_partition rp;
      rp.partition_index = p.index;
      rp.leader_id = p.leader;
      rp.leader_epoch = p.leader_epoch;
      rp.replica_nodes = p.replicas;
      rp.isr_nodes = p.isr;
      for (auto id : p.replicas)
        if (!s.find_broker(id)->up) rp.offline_replicas.push_back(id);
      if (p.leader < 0) rp.error_code = code(kafka_error::leader_not_available);
      rt.partitions.push_back(std::move(rp));
    }
    if (auto e = ctx.injected_error({t.name, -1, -1}, true)) rt.error_code = *e;
    return rt;
  };

  if (wants_all(req, v)) {
    for (auto& [name, t] : s.topics) r.topics.push_back(describe(t));
    return wrap(std::move(r));
  }
  for (const auto& want : *req.topics) {
    topic_state* t = nullptr;
    if (want.name) {
      t = s.find_topic(*want.name);
      if (!t) {
        metadata_response::metadata_response_topic rt;
        rt.name = *want.name;
        const bool may_create =
            s.config.auto_create_topics && (v < 4 || req.allow_auto_topic_creation);
        if (!valid_topic_name(*want.name)) {
          rt.error_code = code(kafka_error::invalid_topic_exception);
        } else if (may_create) {
          s.create_topic(*want.name, {}, false, &t);
        }
        if (!t) {
          if (rt.error_code == 0) rt.error_code = code(kafka_error::unknown_topic_or_partition);
          r.topics.push_back(std::move(rt));
          continue;
        }
      }
    } else {
      t = s.find_topic_by_id(want.topic_id);
      if (!t) {
        metadata_response::metadata_response_topic rt;
        rt.name = std::nullopt;
        rt.topic_id = want.topic_id;
        rt.error_code = code(kafka_error::unknown_topic_id);
        r.topics.push_back(std::move(rt));
        continue;
      }
    }
    r.topics.push_back(describe(*t));
  }
  return wrap(std::move(r));
}

any_message error_response(const cluster_state& s, const decoded_request& request,
                           std::int16_t error) {
  const auto& req = *request.body.as<metadata_request>();
  metadata_response r;
  add_brokers(s, r);
  if (req.topics)
    for (auto& t : *req.topics) {
      metadata_response::metadata_response_topic rt;
      rt.error_code = error;
      rt.name = t.name;
      rt.topic_id = t.topic_id;
      r.topics.push_back(std::move(rt));
    }
  return wrap(std::move(r));
}

std::vector<target> targets(const cluster_state& s, const decoded_request& request) {
  const auto& req = *request.body.as<metadata_request>();
  std::vector<target> out;
  if (wants_all(req, request.header.api_version)) {
    for (const auto& [name, t] : s.topics) out.push_back({name, -1, -1});
    return out;
  }
  for (const auto& t : *req.topics) {
    if (t.name)
      out.push_back({*t.name, -1, -1});
    else if (const auto* ts = s.find_topic_by_id(t.topic_id))
      out.push_back({ts->name, -1, -1});
  }
  return out;
}

}  // namespace

extern const api_handler metadata_api{.key = metadata_request::api_key,
                                      .serve = serve,
                                      .error_response = error_response,
                                      .targets = targets,
                                      .places_errors = true};

}  // namespace kwire::mockbroker::detail
