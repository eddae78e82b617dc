// The request path of the cluster core: one frame in, one handle_result out.
// The header is parsed once, control hooks are asked, the fault rules are
// evaluated once (faults.cc) and applied here (handlers that place errors per
// partition or topic only read what fired), and the handler of the API key
// (apis/table.cc) builds the response.
#include <algorithm>

#include "cluster_impl.hpp"
#include "handler.hpp"

namespace kwire::mockbroker {

using namespace detail;

namespace {

/// The API's name and key, for close reasons: "Heartbeat (API key 12)".
std::string api_label(const api_info& api) {
  return std::string(api.name) + " (API key " + std::to_string(api.key) + ")";
}

}  // namespace

void cluster::impl::record(logged_request entry) {
  if (state.config.request_log_capacity == 0) return;
  log_bytes += entry.bytes;
  log.push_back(std::move(entry));
  while (log.size() > 1 && (log.size() > state.config.request_log_capacity ||
                            log_bytes > state.config.request_log_max_bytes)) {
    log_bytes -= log.front().bytes;
    log.pop_front();
  }
}

handle_result cluster::impl::handle(std::int32_t broker_id, std::uint64_t connection_id,
                                    std::span<const std::uint8_t> payload, time_point now) {
  handle_result out;
  advance(now);
  out.send_at = now;
  logged_request entry;
  entry.sequence = next_sequence++;
  entry.broker_id = broker_id;
  entry.connection_id = connection_id;
  entry.arrival = now;
  entry.bytes = payload.size();

  auto close_now = [&](std::string reason) {
    out.close_before_response = true;
    out.close_reason = reason;
    entry.closed = true;
    entry.close_reason = std::move(reason);
    entry.faults = out.faults;
    record(std::move(entry));
    return std::move(out);
  };
  // Sends `response` (already checked to encode) and logs the request.
  auto answer = [&](any_message request_body, any_message response, std::int16_t version) {
    out.response = encode_response_frame(entry.header.correlation_id, version, response);
    if (out.response) {
      entry.send_at = out.send_at;
      entry.response = std::move(response);
    }
    entry.request = std::move(request_body);
    record(std::move(entry));
    return std::move(out);
  };

  broker_state* broker = state.find_broker(broker_id);
  if (!broker) return close_now("no broker with id " + std::to_string(broker_id));
  if (!broker->up) return close_now("broker " + std::to_string(broker_id) + " is down");
  out.send_at = now + broker->latency;

  // Keep the payload alive for the request log: decoded records borrow from it.
  std::shared_ptr<const void> owner;
  std::span<const std::uint8_t> bytes = payload;
  if (state.config.request_log_capacity > 0) {
    auto copy = std::make_shared<std::vector<std::uint8_t>>(payload.begin(), payload.end());
    bytes = *copy;
    owner = std::move(copy);
  }

  // The header, once. Its own version depends on the API key and version,
  // which every header version starts with.
  std::int16_t key = 0;
  std::int16_t version = 0;
  {
    reader peek(bytes);
    key = peek.read_int16();
    version = peek.read_int16();
    if (!peek.ok())
      return close_now("frame of " + std::to_string(payload.size()) +
                       " bytes is too short for a request header");
  }
  // The header is parsed once its version is known: that needs an API that
  // exists, at a version it has.
  reader r(bytes, owner);
  auto read_header = [&]() -> std::optional<std::string> {
    auto header = request_header::decode(r, request_header_version(key, version));
    if (!header) return "malformed request header: " + header.error().message();
    entry.header = std::move(header).value();
    return std::nullopt;
  };
  entry.header.api_key = key;
  entry.header.api_version = version;
  const api_info* api = find_api(key);
  if (!api) return close_now("unknown API key " + std::to_string(key));
  if (!api->supports(version)) {
    if (key != static_cast<std::int16_t>(api_key::api_versions))
      return close_now(std::string(api->name) + " v" + std::to_string(version) +
                       " is not supported");
    if (auto error = read_header()) return close_now(std::move(*error));
    return answer({}, unsupported_api_versions_response(), 0);
  }
  if (auto error = read_header()) return close_now(std::move(*error));
  auto body = any_message::decode(*api->request, r, version);
  if (!body) return close_now("malformed request: " + body.error().message());
  if (r.remaining() != 0)
    return close_now("malformed request: " + std::to_string(r.remaining()) + " bytes after " +
                     std::string(api->request->name) + " v" + std::to_string(version));
  decoded_request request{entry.header, api, std::move(body).value()};

  // Control hooks of the key, in the order installed; the first that does
  // not pass decides. A copy of the list: a hook may remove hooks.
  duration control_delay{};
  std::vector<control_entry> hooks;
  for (const auto& c : controls)
    if (c.api_key == key) hooks.push_back(c);
  for (const auto& hook : hooks) {
    control_decision decision =
        (*hook.fn)(control_request{broker_id, connection_id, request.header, request.body, now});
    if (decision.what == control_decision::kind::pass) continue;
    if (decision.what == control_decision::kind::delay) {
      control_delay = decision.after;
      break;
    }
    const any_message& response = decision.response;
    const bool right_type =
        !response.empty() && !response.ops().is_request && response.ops().api_key == key;
    if (!right_type || !encodes_at(response, version)) {
      entry.request = std::move(request.body);
      return close_now(
          "control hook " + std::to_string(hook.id) + " answered " +
          std::string(api->request->name) + " v" + std::to_string(version) + " with " +
          (response.empty() ? std::string("nothing") : std::string(response.ops().name)) +
          (right_type ? ", which that version cannot carry"
                      : ", not a " + std::string(api->response->name)));
    }
    out.send_at += decision.after;
    return answer(std::move(request.body), std::move(decision.response), version);
  }

  const api_handler* handler = find_handler(key);
  if (!handler) {
    entry.request = std::move(request.body);
    return close_now(api_label(*api) + " is not served by the mock cluster");
  }

  // Fault rules: evaluated once, applied below and by the handlers that
  // place errors per partition or topic.
  const fired_faults fired = faults.evaluate(broker_id, key, version, [&] {
    return handler->targets ? handler->targets(state, request) : std::vector<target>{};
  });
  out.faults = fired.applied();
  entry.faults = out.faults;
  request_context ctx;
  ctx.broker_id = broker_id;
  ctx.now = now;
  ctx.version = version;
  ctx.faults = &fired;
  ctx.lot = &state.parked;

  if (fired.has(fault_kind::close_before)) {
    entry.request = std::move(request.body);
    return close_now("fault: close before processing");
  }
  if (fired.has(fault_kind::drop)) {
    entry.request = std::move(request.body);
    record(std::move(entry));
    return out;
  }

  any_message response;
  // append_then_error: the request is served, its answer replaced by the
  // error, also when the answer comes later (a parked JoinGroup).
  std::optional<any_message> error_answer;
  if (!handler->places_errors && fired.has(fault_kind::error)) {
    response = error_response_for(*handler, state, request, fired.first_code(fault_kind::error));
  } else {
    response = handler->serve(state, request, ctx);
    if (!handler->places_errors && fired.has(fault_kind::append_then_error)) {
      error_answer = error_response_for(*handler, state, request,
                                        fired.first_code(fault_kind::append_then_error));
      response = error_answer->clone();
    }
  }

  // A parked request answered while it was served (the last member's
  // JoinGroup) is answered now; otherwise its answer comes through poll().
  bool parked = false;
  if (ctx.parked != 0) {
    if (auto a = state.parked.take(ctx.parked)) {
      if (!error_answer) response = std::move(a->body);
    } else {
      parked = true;
    }
  }
  bool send = (parked || !response.empty()) && !ctx.no_response;
  if (fired.has(fault_kind::append_then_drop)) send = false;
  if (parked && !send) state.parked.drop(ctx.parked);
  if (fired.has(fault_kind::close_after_processing)) {
    if (parked) state.parked.drop(ctx.parked);
    entry.request = std::move(request.body);
    return close_now("fault: close after processing");
  }
  if (ctx.close_after) {
    out.close_after_response = true;
    out.close_reason = ctx.close_reason;
    entry.closed = true;
    entry.close_reason = ctx.close_reason;
  }
  if (fired.has(fault_kind::close_after_response)) {
    out.close_after_response = true;
    out.close_reason = "fault: close after response";
    entry.closed = true;
    entry.close_reason = out.close_reason;
  }
  out.send_at += fired.delay + control_delay;

  if (!send) {
    entry.request = std::move(request.body);
    record(std::move(entry));
    return out;
  }
  if (parked) {
    parked_entry p;
    p.broker_id = broker_id;
    p.connection_id = connection_id;
    p.correlation_id = entry.header.correlation_id;
    p.version = version;
    p.log_sequence = entry.sequence;
    p.extra = out.send_at - now;
    p.throttle_ms = fired.throttle_ms;
    p.close_after = out.close_after_response;
    p.close_reason = out.close_reason;
    p.error_answer = std::move(error_answer);
    this->parked.emplace(ctx.parked, std::move(p));
    out.parked = ctx.parked;
    out.close_after_response = false;  // it comes with the answer
    out.close_reason.clear();
    entry.request = std::move(request.body);
    record(std::move(entry));
    return out;
  }
  if (fired.throttle_ms >= 0) {
    any_message throttled = response.clone();
    if (throttled.set_throttle_time_ms(fired.throttle_ms) && encodes_at(throttled, version))
      response = std::move(throttled);
  }
  out.response = encode_response_frame(entry.header.correlation_id, version, response);
  if (!out.response) {
    // A handler built something the version cannot carry: a bug here, but
    // still no crash; answer with the plain error response.
    response =
        error_response_for(*handler, state, request, code(kafka_error::unknown_server_error));
    out.response = encode_response_frame(entry.header.correlation_id, version, response);
  }
  if (out.response) {
    entry.send_at = out.send_at;
    entry.response = std::move(response);
    entry.bytes += out.response->size();
  }
  entry.request = std::move(request.body);
  record(std::move(entry));
  return out;
}

std::vector<parked_response> cluster::impl::take_parked_answers() {
  std::vector<parked_response> out;
  for (parked_answer& a : state.parked.take_all()) {
    auto it = parked.find(a.id);
    if (it == parked.end()) continue;
    parked_entry p = std::move(it->second);
    parked.erase(it);
    parked_response r;
    r.broker_id = p.broker_id;
    r.connection_id = p.connection_id;
    r.ticket = a.id;
    r.send_at = a.at + p.extra;
    r.close_after_response = p.close_after;
    r.close_reason = std::move(p.close_reason);
    any_message& body = a.body;
    // A superseded request (empty answer) stays unanswered even so.
    if (!body.empty() && p.error_answer) body = std::move(*p.error_answer);
    if (!body.empty() && p.throttle_ms >= 0) {
      any_message throttled = body.clone();
      if (throttled.set_throttle_time_ms(p.throttle_ms) && encodes_at(throttled, p.version))
        body = std::move(throttled);
    }
    if (!body.empty()) r.response = encode_response_frame(p.correlation_id, p.version, body);
    if (!body.empty() && !r.response) {
      // A module built what the version cannot carry: a bug here, but no
      // crash and no silent hang: the connection closes, saying why.
      r.close_after_response = true;
      r.close_reason = std::string(body.ops().name) + " v" + std::to_string(p.version) +
                       " of a parked request could not be encoded";
    }
    // The request's log entry gets its answer, if it is still in the log.
    auto entry = std::lower_bound(
        log.begin(), log.end(), p.log_sequence,
        [](const logged_request& e, std::uint64_t seq) { return e.sequence < seq; });
    if (entry != log.end() && entry->sequence == p.log_sequence) {
      if (r.response) {
        entry->send_at = r.send_at;
        entry->response = std::move(body);
        entry->bytes += r.response->size();
        log_bytes += r.response->size();
      }
      if (r.close_after_response) {
        entry->closed = true;
        entry->close_reason = r.close_reason;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace kwire::mockbroker
