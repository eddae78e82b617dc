// The producer core's network client. See network_client.hpp.
#include "kwire/producer/detail/network_client.hpp"

#include <algorithm>

#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/init_producer_id.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace kwire::detail {

namespace {

// Produce v3 is the first with record batches (magic 2).
constexpr std::int16_t min_produce_version = 3;
constexpr std::int16_t api_versions_first_try = 3;

}  // namespace

network_client::network_client(core_context& ctx, network_listener& listener)
    : ctx_(ctx),
      listener_(listener),
      client_id_(ctx.config.client_id.empty() ? "kwire-producer" : ctx.config.client_id) {
  std::int32_t id = -1;
  for (const auto& b : ctx.config.bootstrap_servers) {
    broker_connection& bc = brokers_[id];
    bc.id = id;
    bc.host = b.host;
    bc.port = b.port;
    --id;
  }
}

request_header network_client::next_header(std::int16_t api_key, std::int16_t version) {
  const std::int32_t correlation = next_correlation_++;
  if (next_correlation_ == std::numeric_limits<std::int32_t>::max()) next_correlation_ = 1;
  request_header h;
  h.api_key = api_key;
  h.api_version = version;
  h.correlation_id = correlation;
  h.client_id = client_id_;
  return h;
}

void network_client::enqueue(broker_connection& b, const request_header& header,
                             std::vector<std::uint8_t> bytes, core_time now,
                             std::vector<std::unique_ptr<producer_batch>> batches,
                             bool expect_response) {
  if (!bytes.empty()) ctx_.out.frames.push_back({b.id, std::move(bytes)});
  if (!expect_response) return;
  in_flight_request r;
  r.api_key = header.api_key;
  r.api_version = header.api_version;
  r.sent = now;
  r.order = b.requests_sent++;
  r.batches = std::move(batches);
  b.in_flight.emplace(header.correlation_id, std::move(r));
}

broker_connection* network_client::find(std::int32_t broker_id) {
  auto it = brokers_.find(broker_id);
  return it == brokers_.end() ? nullptr : &it->second;
}

void network_client::on_connected(std::int32_t broker_id, core_time now) {
  broker_connection* b = find(broker_id);
  if (!b) return;
  b->state = conn_state::negotiating;
  api_versions_request r;
  r.client_software_name = std::string(client_software_name);
  r.client_software_version = std::string(client_software_version);
  send(*b, r, api_versions_first_try, now);
}

void network_client::on_bytes(std::int32_t broker_id, std::span<const std::uint8_t> bytes,
                              core_time now) {
  broker_connection* found = find(broker_id);
  if (!found) return;
  broker_connection& b = *found;
  if (b.state == conn_state::disconnected) return;
  b.splitter.feed(bytes);
  while (b.state != conn_state::disconnected) {
    auto frame = b.splitter.next();
    if (!frame) break;
    // Copy: handling may reset the splitter (a dropped connection).
    std::vector<std::uint8_t> payload(frame->begin(), frame->end());
    on_frame(b, payload, now);
  }
  if (b.splitter.failed()) drop(b, now);
}

void network_client::on_disconnected(std::int32_t broker_id, core_time now) {
  if (broker_connection* b = find(broker_id))
    connection_lost(*b, now, static_cast<std::int16_t>(kafka_error::network_exception));
}

void network_client::on_frame(broker_connection& b, std::span<const std::uint8_t> payload,
                              core_time now) {
  const auto correlation = peek_correlation_id(payload);
  if (!correlation) return drop(b, now);
  auto it = b.in_flight.find(*correlation);
  if (it == b.in_flight.end()) return drop(b, now);  // Java closes the connection on a mismatch too
  // A broker answers a connection's requests in order. An answer that
  // overtakes an older request means the older one's answer was lost: as
  // Java's client, close the connection, so that every request on it is
  // retried in order rather than a later batch acknowledged before an
  // earlier one is resolved.
  for (const auto& [other, r] : b.in_flight)
    if (r.order < it->second.order) return drop(b, now);
  in_flight_request req = std::move(it->second);
  b.in_flight.erase(it);
  ++ctx_.metrics.requests;
  const auto latency = now - req.sent;
  ctx_.metrics.request_latency_total += latency;
  ctx_.metrics.request_latency_max = std::max(ctx_.metrics.request_latency_max, latency);
  if (req.api_key == produce_request::api_key) --b.produce_in_flight;
  if (req.api_key == api_versions_request::api_key)
    return on_api_versions(b, payload, req.api_version, now);
  auto decoded = decode_response(payload, req.api_key, req.api_version);
  if (!decoded) {
    // Put the request back so that its batches are handled as lost.
    if (req.api_key == produce_request::api_key) ++b.produce_in_flight;
    b.in_flight.emplace(*correlation, std::move(req));
    return drop(b, now);
  }
  listener_.on_response(b, req, *decoded, now);
}

void network_client::on_api_versions(broker_connection& b, std::span<const std::uint8_t> payload,
                                     std::int16_t version, core_time now) {
  auto decoded = decode_response(payload, api_versions_request::api_key, version);
  if (!decoded && version != 0)
    decoded = decode_response(payload, api_versions_request::api_key, 0);
  if (!decoded) {
    // A broker that does not know our version may answer in a shape valid
    // in no version (librdkafka 2.0's mock does). Its first field is still
    // the error code: UNSUPPORTED_VERSION means "ask again with v0", which
    // is what Java's client and librdkafka do.
    if (version != 0 && payload.size() >= 6) {
      const auto code = static_cast<std::int16_t>((payload[4] << 8) | payload[5]);
      if (code == wire_code(kafka_error::unsupported_version)) {
        send(b, api_versions_request{}, 0, now);
        return;
      }
    }
    return drop(b, now);
  }
  const auto* body = decoded->body.as<api_versions_response>();
  if (body->error_code == wire_code(kafka_error::unsupported_version) && version != 0) {
    send(b, api_versions_request{}, 0, now);
    return;
  }
  if (body->error_code != 0) return drop(b, now);
  // Each API at the highest version both sides support; -1 when none.
  auto pick = [&](std::int16_t key, std::int16_t our_min, std::int16_t our_max) -> std::int16_t {
    for (const auto& k : body->api_keys)
      if (k.api_key == key) {
        const std::int16_t hi = std::min(our_max, k.max_version);
        const std::int16_t lo = std::max(our_min, k.min_version);
        return hi >= lo ? hi : -1;
      }
    return -1;
  };
  b.produce_version =
      pick(produce_request::api_key, min_produce_version, produce_request::max_version);
  b.metadata_version = pick(metadata_request::api_key, 1, metadata_request::max_version);
  b.init_pid_version =
      pick(init_producer_id_request::api_key, 0, init_producer_id_request::max_version);
  if (b.produce_version < 0 || b.metadata_version < 0) return drop(b, now);
  b.state = conn_state::ready;
  b.failures = 0;
}

void network_client::drop(broker_connection& b, core_time now) {
  ctx_.out.disconnects.push_back(b.id);
  connection_lost(b, now, wire_code(kafka_error::network_exception));
}

// Every request on the connection is lost: its batches may or may not
// have been written.
void network_client::connection_lost(broker_connection& b, core_time now, std::int16_t code) {
  // Frames for this connection not yet handed to the shell will never be
  // written (found by fuzz_producer: a request queued earlier in the same
  // poll() went out after the close); their requests are lost below.
  std::erase_if(ctx_.out.frames, [&](const outgoing_frame& f) { return f.broker_id == b.id; });
  auto lost = std::move(b.in_flight);
  b.in_flight.clear();
  b.state = conn_state::disconnected;
  b.splitter = frame_splitter{};
  b.produce_in_flight = 0;
  // Reconnects back off exponentially, from retry.backoff.ms to
  // retry.backoff.max.ms, so that a broker that keeps refusing is not
  // hammered (Java: reconnect.backoff.ms to reconnect.backoff.max.ms).
  const auto& config = ctx_.config;
  const int doublings = std::min(b.failures++, 16);
  b.reconnect_after = now + std::min(config.retry_backoff * (std::int64_t{1} << doublings),
                                     std::max(config.retry_backoff, config.retry_backoff_max));
  listener_.on_connection_lost(now);
  for (auto& [correlation, request] : lost) {
    (void)correlation;
    ++ctx_.metrics.errors;
    listener_.on_request_lost(request, code, now);
  }
}

void network_client::expire_requests(core_time now) {
  for (auto& [id, b] : brokers_) {
    bool timed_out = false;
    for (const auto& [correlation, r] : b.in_flight) {
      (void)correlation;
      if (now >= r.sent + ctx_.config.request_timeout)
        timed_out = true;
      else
        ctx_.note_deadline(r.sent + ctx_.config.request_timeout, now);
    }
    // As Kafka's NetworkClient: a request that timed out closes its connection.
    if (timed_out) {
      ctx_.out.disconnects.push_back(b.id);
      connection_lost(b, now, wire_code(kafka_error::request_timed_out));
    }
  }
}

broker_connection* network_client::any_ready_broker(core_time now) {
  broker_connection* best = nullptr;
  bool connecting = false;
  for (auto& [id, b] : brokers_) {
    if (b.state == conn_state::ready) {
      if (!best || b.in_flight.size() < best->in_flight.size()) best = &b;
    } else if (b.state != conn_state::disconnected) {
      connecting = true;
    }
  }
  if (best || connecting) return best;
  // Prefer brokers learnt from metadata, then the bootstrap list, in turn.
  std::vector<broker_connection*> candidates;
  for (auto& [id, b] : brokers_)
    if (id >= 0) candidates.push_back(&b);
  if (candidates.empty())
    for (auto& [id, b] : brokers_) candidates.push_back(&b);
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    broker_connection* b = candidates[(bootstrap_cursor_ + i) % candidates.size()];
    if (b->reconnect_after <= now) {
      bootstrap_cursor_ = (bootstrap_cursor_ + i + 1) % candidates.size();
      connect(*b);
      return nullptr;
    }
    ctx_.note_deadline(b->reconnect_after, now);
  }
  return nullptr;
}

void network_client::connect(broker_connection& b) {
  b.state = conn_state::connecting;
  ctx_.out.connects.push_back({b.id, b.host, b.port});
}

void network_client::update_brokers(
    const std::vector<metadata_response::metadata_response_broker>& brokers) {
  for (const auto& nb : brokers) {
    broker_connection& b = brokers_[nb.node_id];
    if (b.host != nb.host || b.port != nb.port) {
      b.id = nb.node_id;
      b.host = nb.host;
      b.port = nb.port;
    }
  }
}

std::size_t network_client::produce_in_flight_total() const {
  std::size_t n = 0;
  for (const auto& [id, b] : brokers_) n += static_cast<std::size_t>(b.produce_in_flight);
  return n;
}

void network_client::abort(const std::function<void(in_flight_request&)>& each) {
  for (auto& [id, b] : brokers_) {
    for (auto& [correlation, request] : b.in_flight) {
      (void)correlation;
      each(request);
    }
    b.in_flight.clear();
    b.produce_in_flight = 0;
    if (b.state != conn_state::disconnected) {
      ctx_.out.disconnects.push_back(b.id);
      b.state = conn_state::disconnected;
      b.splitter = frame_splitter{};
    }
  }
}

}  // namespace kwire::detail
