// The world's calendar, clock and network, with the cluster core at the far
// end of every link: connection attempts, deliveries in both directions,
// closes and cuts, the cluster's responses held behind parked requests, and
// the run loop that steps it all in virtual time (world.hpp). The
// producer's side of the connections is world_producer.cc.
#include <algorithm>
#include <utility>

#include "world_impl.hpp"

namespace kwire::sim {

using namespace std::chrono_literals;

void world::impl::process(event& e) {
  ++steps;
  switch (e.what) {
    case kind::action:
      trace("fault: " + e.label);
      // Cluster actions happen at the latest time the cluster was given:
      // give it this one. After, poll as after handle(): the action may
      // have answered parked requests (an unloaded group's joins) or set a timer.
      pump_cluster();
      e.action(*self);
      pump_cluster();
      break;
    case kind::wake:
      e.action(*self);
      break;
    case kind::sender_wake:
      run_sender();
      break;
    case kind::flush:
      core.flush();
      break;
    case kind::cluster_timer:
      if (cluster_timer_at && *cluster_timer_at == now) cluster_timer_at.reset();
      pump_cluster();
      break;
    case kind::connect_done: {
      connection& c = connections.at(e.connection);
      if (!c.client_open) break;  // abandoned by its owner
      if (c.broker < 0 || unreachable.count(c.broker) || !broker_up(c.broker)) {
        ++stats.failed_connects;
        lose_connection(c, "connect failed");
        break;
      }
      c.connected = true;
      trace(c.owner + ": connected " + conn_name(c));
      if (c.handlers.on_connected) c.handlers.on_connected();
      break;
    }
    case kind::to_server:
      to_server(connections.at(e.connection), e.bytes);
      break;
    case kind::to_client: {
      connection& c = connections.at(e.connection);
      if (c.cut || !c.client_open || unreachable.count(c.broker)) {
        ++stats.dropped_frames;
        break;
      }
      if (!e.bytes.empty()) {
        ++stats.responses;
        trace(c.owner + " <- " + conn_name(c) + " " + std::to_string(e.bytes.size()) + " bytes");
        if (c.handlers.on_bytes) c.handlers.on_bytes(e.bytes);
      }
      if (e.close_after) {
        c.server_closed = true;
        lose_connection(c, "closed by the broker after its response");
      }
      break;
    }
    case kind::close_notice: {
      connection& c = connections.at(e.connection);
      if (!c.cut && !unreachable.count(c.broker)) lose_connection(c, "closed by the broker");
      break;
    }
  }
}

world::impl::connection& world::impl::open_connection(const std::string& host, std::int32_t port,
                                                      std::string owner, std::string label,
                                                      client_handlers handlers) {
  connection c;
  c.id = next_connection++;
  c.owner = std::move(owner);
  c.label = std::move(label);
  c.handlers = std::move(handlers);
  auto a = address_to_broker.find({host, port});
  c.broker = a == address_to_broker.end() ? -1 : a->second;
  ++stats.connects;
  trace(c.owner + " connects to " + host + ":" + std::to_string(port) + " as " + conn_name(c));
  const ms rtt = 2 * link_latency(c.broker);
  event e;
  e.what = kind::connect_done;
  e.connection = c.id;
  const std::uint64_t id = c.id;
  connections.emplace(id, std::move(c));
  schedule(now + rtt, std::move(e));
  return connections.at(id);
}

void world::impl::send_to_server(connection& c, std::vector<std::uint8_t> bytes) {
  if (unreachable.count(c.broker)) {
    ++stats.dropped_frames;
    return;
  }
  const ms arrival = std::max(now + link_latency(c.broker), c.last_to_server);
  c.last_to_server = arrival;
  event e;
  e.what = kind::to_server;
  e.connection = c.id;
  e.bytes = std::move(bytes);
  schedule(arrival, std::move(e));
}

void world::impl::close_by_client(connection& c) {
  trace(c.owner + " closes " + conn_name(c));
  c.client_open = false;
  ++(c.is_producer ? stats.producer_closes : stats.client_closes);
}

void world::impl::lose_connection(connection& c, std::string_view why) {
  const bool notify = c.client_open;
  c.client_open = false;
  if (!notify) return;
  trace(c.owner + ": connection " + conn_name(c) + " closed: " + std::string(why));
  if (c.handlers.on_closed) c.handlers.on_closed(why);
}

void world::impl::cut(connection& c) {
  c.cut = true;
  c.server_closed = true;
  ++stats.cuts;
  lose_connection(c, "cut by the network");
}

void world::impl::to_server(connection& c, const std::vector<std::uint8_t>& bytes) {
  if (c.cut || c.server_closed || (c.server_close_at && now >= *c.server_close_at) ||
      bytes.size() < 4 || unreachable.count(c.broker)) {
    ++stats.dropped_frames;
    return;
  }
  ++stats.requests;
  const std::span<const std::uint8_t> payload(bytes.data() + 4, bytes.size() - 4);
  fnv_int(hash, 1);
  fnv_int(hash, now.count());
  fnv_int(hash, c.broker);
  fnv_int(hash, static_cast<std::int64_t>(c.id));
  fnv(hash, payload);
  mockbroker::handle_result r = cl.handle(c.broker, c.id, payload, core_now());
  if (options.trace) trace_exchange(c, r);
  if (r.close_before_response) {
    server_close(c);
    pump_cluster();
    return;
  }
  if (r.parked != 0) {
    c.held.push_back({r.parked, false, {}, std::nullopt, false});
  } else if (r.response || r.close_after_response) {  // else acks=0, or dropped
    if (c.held.empty()) {
      respond(c, virtual_time(r.send_at), std::move(r.response), r.close_after_response);
    } else {
      c.held.push_back(
          {0, true, virtual_time(r.send_at), std::move(r.response), r.close_after_response});
    }
  }
  pump_cluster();
}

// Parked requests answered (by this request, an action or a timer), and
// the cluster's next timer on the calendar.
void world::impl::pump_cluster() {
  for (mockbroker::parked_response& a : cl.poll(core_now())) {
    auto it = connections.find(a.connection_id);
    if (it == connections.end()) continue;
    connection& c = it->second;
    for (auto& h : c.held) {
      if (h.ready || h.ticket != a.ticket) continue;
      h.ready = true;
      h.send = virtual_time(a.send_at);
      h.bytes = std::move(a.response);
      h.close_after = a.close_after_response;
      break;
    }
    while (!c.held.empty() && c.held.front().ready) {
      auto h = std::move(c.held.front());
      c.held.pop_front();
      respond(c, h.send, std::move(h.bytes), h.close_after);
    }
  }
  const auto next = cl.next_timer();
  if (!next) return;
  const ms at = std::max(virtual_time(*next), now);
  if (cluster_timer_at && *cluster_timer_at <= at) return;
  cluster_timer_at = at;
  schedule(at, event{kind::cluster_timer, 0, {}, false, {}, {}});
}

// Sends a response the cluster made at `send_at`, after the connection's earlier ones.
void world::impl::respond(connection& c, ms send_at,
                          std::optional<std::vector<std::uint8_t>> response, bool close_after) {
  if (c.server_closed) return;
  const ms send = std::max(send_at, c.server_send_tail);
  c.server_send_tail = send;
  if (close_after && (!c.server_close_at || send < *c.server_close_at)) c.server_close_at = send;
  const ms arrival = std::max(send + link_latency(c.broker), c.last_to_client);
  c.last_to_client = arrival;
  event e;
  e.what = kind::to_client;
  e.connection = c.id;
  if (response) {
    fnv_int(hash, 2);
    fnv_int(hash, send.count());
    fnv(hash, *response);
    e.bytes = std::move(*response);
  }
  e.close_after = close_after;
  schedule(arrival, std::move(e));
}

void world::impl::server_close(connection& c) {
  if (c.server_closed) return;
  c.server_closed = true;
  c.held.clear();
  cl.connection_closed(c.broker, c.id);
  ++stats.server_closes;
  const ms notice = std::max(now + link_latency(c.broker), c.last_to_client);
  c.last_to_client = notice;
  schedule(notice, event{kind::close_notice, c.id, {}, false, {}, {}});
}

void world::impl::trace_exchange(const connection& c, const mockbroker::handle_result& r) {
  std::string line = "-> " + conn_name(c);
  const auto& log = cl.request_log();
  if (!log.empty()) {
    const mockbroker::logged_request& entry = log.back();
    const std::string_view name =
        entry.header.api_key >= 0 && !entry.request.empty() ? entry.request.ops().name : "?";
    line += " #" + std::to_string(entry.sequence) + " " + std::string(name) + " v" +
            std::to_string(entry.header.api_version) + " corr " +
            std::to_string(entry.header.correlation_id);
    if (!entry.request.empty())
      line += " " + describe_message(entry.request, entry.header.api_version);
    trace(line);
    for (const auto& f : r.faults)
      trace("   fault fired: rule " + std::to_string(f.id) + " " +
            std::string(mockbroker::fault_kind_name(f.kind)));
    if (r.close_before_response) {
      trace("   broker closes the connection: " + r.close_reason);
    } else if (!entry.response.empty()) {
      trace("   <- at " + format_time(virtual_time(r.send_at)) + " " +
            describe_message(entry.response, entry.header.api_version) +
            (r.close_after_response ? " then close: " + r.close_reason : std::string()));
    } else if (r.parked != 0) {
      trace("   parked: answered later");
    } else {
      trace(std::string("   no response") +
            (r.close_after_response ? ", then close: " + r.close_reason : std::string()));
    }
  } else {
    trace(line);
  }
}

void world::impl::run(ms until, bool stop_when_reported) {
  for (;;) {
    pump();
    if (stop_when_reported && sender_queue.empty() && unreported == 0) return;
    ms next = ms::max();
    if (!calendar.empty()) next = calendar.begin()->first.first;
    if (auto deadline = core.next_deadline()) {
      const ms d = virtual_time(*deadline);
      next = std::min(next, d > now ? d : now + 1ms);
    }
    if (next > until) {
      now = std::max(now, until);
      return;
    }
    now = next;
    // Every event of this instant, each followed by a poll, as a shell
    // polls after each I/O completion.
    while (!calendar.empty() && calendar.begin()->first.first == now) {
      auto node = calendar.extract(calendar.begin());
      process(node.mapped());
      pump();
    }
  }
}

world::world(mockbroker::cluster_config cluster_config, producer_config producer,
             core_options options, world_options w)
    : impl_(std::make_unique<impl>(std::move(cluster_config), std::move(producer), options,
                                   std::move(w))) {
  impl_->self = this;
}

world::~world() = default;

mockbroker::cluster& world::cluster() noexcept { return impl_->cl; }
ms world::now() const noexcept { return impl_->now; }

void world::at(ms at, std::string what, std::function<void(world&)> action) {
  impl_->schedule(
      at, impl::event{impl::kind::action, 0, {}, false, std::move(what), std::move(action)});
}

void world::set_link_latency(std::int32_t broker_id, ms latency) {
  if (latency < ms(0))
    impl_->latency.erase(broker_id);
  else
    impl_->latency[broker_id] = latency;
}

void world::set_unreachable(std::int32_t cluster_broker_id, bool unreachable) {
  if (unreachable)
    impl_->unreachable.insert(cluster_broker_id);
  else
    impl_->unreachable.erase(cluster_broker_id);
}

const network_stats& world::network() const noexcept { return impl_->stats; }

std::uint64_t world::open_client(const std::string& host, std::int32_t port, std::string name,
                                 client_handlers handlers) {
  std::string label = name;
  return impl_->open_connection(host, port, std::move(name), std::move(label), std::move(handlers))
      .id;
}

bool world::write_client(std::uint64_t connection, std::vector<std::uint8_t> frame) {
  auto it = impl_->connections.find(connection);
  if (it == impl_->connections.end() || it->second.is_producer || !it->second.client_open ||
      !it->second.connected)
    return false;
  impl_->send_to_server(it->second, std::move(frame));
  return true;
}

void world::close_client(std::uint64_t connection) {
  auto it = impl_->connections.find(connection);
  if (it == impl_->connections.end() || it->second.is_producer || !it->second.client_open) return;
  impl_->close_by_client(it->second);
}

void world::wake_at(ms at, std::function<void()> fn) {
  impl_->schedule(
      at, impl::event{impl::kind::wake, 0, {}, false, {}, [fn = std::move(fn)](world&) { fn(); }});
}

void world::run_until(ms until) { impl_->run(until, false); }

std::uint64_t world::steps() const noexcept { return impl_->steps; }
std::uint64_t world::digest() const noexcept { return impl_->hash; }
const std::vector<std::string>& world::contract_violations() const noexcept {
  return impl_->violations;
}
void world::note(std::string_view line) { impl_->trace(line); }
bool world::tracing() const noexcept { return static_cast<bool>(impl_->options.trace); }

}  // namespace kwire::sim
