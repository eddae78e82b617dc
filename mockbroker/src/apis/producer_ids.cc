// InitProducerId: producer ids and epochs, with and without a transactional id.
#include <limits>

#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<init_producer_id_request>();
  init_producer_id_response r;
  const kafka_error fenced =
      ctx.version >= 4 ? kafka_error::producer_fenced : kafka_error::invalid_producer_epoch;
  auto bump = [&](std::int64_t id) {
    std::int16_t& epoch = s.producers[id];
    if (epoch >= std::numeric_limits<std::int16_t>::max() - 1) {
      // Epochs exhausted: a fresh id, as Kafka does.
      auto fresh = s.allocate_producer_id();
      r.producer_id = fresh.first;
      r.producer_epoch = fresh.second;
      return fresh.first;
    }
    ++epoch;
    r.producer_id = id;
    r.producer_epoch = epoch;
    return id;
  };
  const bool transactional = req.transactional_id && !req.transactional_id->empty();
  if (transactional) {
    auto it = s.transactional_ids.find(*req.transactional_id);
    if (it == s.transactional_ids.end()) {
      auto fresh = s.allocate_producer_id();
      s.transactional_ids.emplace(*req.transactional_id, fresh.first);
      r.producer_id = fresh.first;
      r.producer_epoch = fresh.second;
    } else {
      if (req.producer_id >= 0 &&
          (req.producer_id != it->second || req.producer_epoch != s.producers[it->second])) {
        r.error_code = code(fenced);
        return wrap(std::move(r));
      }
      it->second = bump(it->second);
    }
    return wrap(std::move(r));
  }
  // Without a transactional id Kafka always hands out a fresh id at epoch 0,
  // whatever id and epoch the request names (an idempotent producer bumps
  // its epoch itself, without asking).
  auto fresh = s.allocate_producer_id();
  r.producer_id = fresh.first;
  r.producer_epoch = fresh.second;
  return wrap(std::move(r));
}

}  // namespace

extern const api_handler init_producer_id_api{.key = init_producer_id_request::api_key,
                                              .serve = serve,
                                              .error_response = nullptr,
                                              .targets = nullptr,
                                              .places_errors = false};

}  // namespace kwire::mockbroker::detail
