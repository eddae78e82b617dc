#include "kwire/sim/world.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include "kwire/protocol/json.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages/produce.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::sim {

using namespace std::chrono_literals;
namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

void fnv(std::uint64_t& h, std::span<const std::uint8_t> bytes) noexcept {
  for (const std::uint8_t b : bytes) {
    h ^= b;
    h *= fnv_prime;
  }
}

void fnv_int(std::uint64_t& h, std::int64_t v) noexcept {
  for (int i = 0; i < 8; ++i) {
    h ^= static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i));
    h *= fnv_prime;
  }
}

}  // namespace

struct world::impl {
  impl(mockbroker::cluster_config cc, producer_config pc, core_options co, world_options wo)
      : cl(prepare_cluster(std::move(cc), wo)),
        core(prepare_producer(std::move(pc), cl), co),
        options(std::move(wo)) {
    for (const auto& b : cl.brokers()) address_to_broker[{b.host, b.port}] = b.id;
  }

  static mockbroker::cluster_config prepare_cluster(mockbroker::cluster_config c,
                                                    const world_options& wo) {
    if (wo.trace && c.request_log_capacity == 0) c.request_log_capacity = 16;
    return c;
  }
  static producer_config prepare_producer(producer_config p, const mockbroker::cluster& cl) {
    if (p.bootstrap_servers.empty())
      for (const auto& b : cl.brokers()) p.bootstrap_servers.push_back({b.host, b.port});
    return p;
  }
  // What both cores are handed as the time: the epoch plus virtual time.
  core_time core_now() const { return from_unix_ms(options.epoch_ms) + now; }
  // A time of the cores back in virtual time.
  ms virtual_time(core_time t) const { return t - from_unix_ms(options.epoch_ms); }

  enum class kind {
    action,
    connect_done,
    to_server,
    to_client,
    close_notice,
    sender_wake,
    flush,
    cluster_timer
  };

  struct event {
    kind what = kind::action;
    std::uint64_t connection = 0;
    std::vector<std::uint8_t> bytes;
    bool close_after = false;
    std::string label;
    std::function<void(world&)> action;
  };

  struct connection {
    std::uint64_t id = 0;
    std::int32_t client_id = 0;  // the producer's broker id (node id or bootstrap -1, -2...)
    std::int32_t broker = -1;    // the cluster broker; -1: the address is nobody's
    bool client_open = true;     // the producer has not closed it
    bool connected = false;
    bool server_closed = false;
    bool cut = false;
    ms last_to_server{0};
    ms last_to_client{0};
    ms server_send_tail{0};
    std::optional<ms> server_close_at;
    // Responses behind a parked request (a Fetch waiting for data), in
    // request order: Kafka answers a connection's requests in order.
    struct held_response {
      std::uint64_t ticket = 0;  // parked, until ready
      bool ready = false;
      ms send{0};
      std::optional<std::vector<std::uint8_t>> bytes;
      bool close_after = false;
    };
    std::deque<held_response> held;
  };

  mockbroker::cluster cl;
  producer_core core;
  world_options options;
  world* self = nullptr;
  ms now{0};
  std::uint64_t next_event = 0;
  std::map<std::pair<ms, std::uint64_t>, event> calendar;
  std::uint64_t next_connection = 1;
  std::map<std::uint64_t, connection> connections;
  std::map<std::int32_t, std::uint64_t> current;  // producer broker id -> connection id
  std::map<std::pair<std::string, std::int32_t>, std::int32_t> address_to_broker;
  std::map<std::int32_t, ms> latency;
  std::set<std::int32_t> unreachable;
  network_stats stats;
  std::vector<sim_record> records;
  std::deque<std::uint64_t> sender_queue;
  std::optional<ms> blocked_since;
  std::optional<ms> retry_wake;
  std::uint64_t accepted = 0;
  std::size_t unreported = 0;
  std::uint64_t steps = 0;
  std::uint64_t hash = fnv_offset;
  std::optional<ms> cluster_timer_at;  // a cluster_timer event is on the calendar then
  std::vector<std::string> violations;

  // ---- helpers ----

  void schedule(ms at, event e) {
    calendar.emplace(std::make_pair(std::max(at, now), next_event++), std::move(e));
  }

  ms link_latency(std::int32_t broker) const {
    auto it = latency.find(broker);
    return it == latency.end() ? options.link_latency : it->second;
  }

  bool broker_up(std::int32_t id) const {
    for (const auto& b : cl.brokers())
      if (b.id == id) return b.up;
    return false;
  }

  void trace(std::string_view line) {
    if (!options.trace) return;
    std::string out = format_time(now);
    out += ' ';
    out += line;
    options.trace(out);
  }

  void violation(std::string what) {
    trace("SHELL CONTRACT VIOLATION: " + what);
    violations.push_back(std::move(what));
  }

  static std::string conn_name(const connection& c) {
    return "b" + std::to_string(c.broker) + "/c" + std::to_string(c.id) + " (producer id " +
           std::to_string(c.client_id) + ")";
  }

  // The producer no longer has this connection; tell it, unless it closed it itself.
  void lose_connection(connection& c, std::string_view why) {
    const bool notify = c.client_open;
    c.client_open = false;
    auto it = current.find(c.client_id);
    if (it != current.end() && it->second == c.id) current.erase(it);
    if (notify) {
      trace("producer: connection " + conn_name(c) + " closed: " + std::string(why));
      core.on_disconnected(c.client_id, core_now());
    }
  }

  // ---- the producer ----

  void pump() {
    for (int round = 0; round < 64; ++round) {
      core_output out = core.poll(core_now());
      if (out.empty()) return;
      for (const std::int32_t id : out.disconnects) {
        auto it = current.find(id);
        if (it == current.end()) continue;
        connection& c = connections.at(it->second);
        trace("producer closes " + conn_name(c));
        c.client_open = false;
        ++stats.producer_closes;
        current.erase(it);
      }
      for (const auto& request : out.connects) open(request);
      for (auto& frame : out.frames) write(frame);
      for (const auto& report : out.reports) deliver_report(report);
    }
    violation("poll() kept returning work at " + format_time(now));
  }

  void open(const connect_request& request) {
    if (auto old = current.find(request.broker_id); old != current.end()) {
      connections.at(old->second).client_open = false;  // replaced without a disconnect
      current.erase(old);
    }
    connection c;
    c.id = next_connection++;
    c.client_id = request.broker_id;
    auto a = address_to_broker.find({request.host, request.port});
    c.broker = a == address_to_broker.end() ? -1 : a->second;
    ++stats.connects;
    current[c.client_id] = c.id;
    trace("producer connects to " + request.host + ":" + std::to_string(request.port) + " as " +
          conn_name(c));
    const ms rtt = 2 * link_latency(c.broker);
    event e;
    e.what = kind::connect_done;
    e.connection = c.id;
    connections.emplace(c.id, std::move(c));
    schedule(now + rtt, std::move(e));
  }

  void write(outgoing_frame& frame) {
    auto it = current.find(frame.broker_id);
    if (it == current.end() || !connections.at(it->second).connected) {
      violation("a frame for producer broker id " + std::to_string(frame.broker_id) +
                ", which has no open connection");
      return;
    }
    connection& c = connections.at(it->second);
    if (unreachable.count(c.broker)) {
      ++stats.dropped_frames;
      return;
    }
    const ms arrival = std::max(now + link_latency(c.broker), c.last_to_server);
    c.last_to_server = arrival;
    event e;
    e.what = kind::to_server;
    e.connection = c.id;
    e.bytes = std::move(frame.bytes);
    schedule(arrival, std::move(e));
  }

  void deliver_report(const delivery_report& report) {
    if (report.record_id >= records.size()) {
      violation("a report for unknown record id " + std::to_string(report.record_id));
      return;
    }
    sim_record& r = records[report.record_id];
    ++r.reports;
    if (r.reported) {
      violation("a second report for record " + std::to_string(r.id));
      return;
    }
    r.reported = true;
    --unreported;
    r.reported_at = now;
    r.error = report.error;
    r.offset = report.offset;
    if (report.partition != r.partition)
      violation("record " + std::to_string(r.id) + " reported on partition " +
                std::to_string(report.partition) + ", sent to " + std::to_string(r.partition));
    if (options.trace)
      trace("report r" + std::to_string(r.id) + " " + r.topic + "-" +
            std::to_string(report.partition) + " " +
            (report.error ? "FAILED: " + report.error.message()
                          : "offset " + std::to_string(report.offset)));
  }

  // ---- the sender (one thread of the user's program) ----

  void run_sender() {
    while (!sender_queue.empty()) {
      sim_record& r = records[sender_queue.front()];
      if (r.send_at > now) return;  // its own wake-up is on the calendar
      producer_record pr;
      pr.topic = r.topic;
      pr.partition = r.explicit_partition;
      if (r.key) pr.key = bytes_of(*r.key);
      pr.value = bytes_of(r.value);
      const send_result result = core.send(pr, r.id, core_now());
      if (result.status == send_status::wait_for_metadata ||
          result.status == send_status::wait_for_buffer) {
        if (!blocked_since) blocked_since = now;
        const ms max_block = options.max_block ? *options.max_block : core.config().max_block;
        if (now - *blocked_since >= max_block) {
          refuse(r, result.status == send_status::wait_for_metadata
                        ? producer_errc::metadata_timeout
                        : producer_errc::buffer_exhausted);
          continue;
        }
        if (!retry_wake || *retry_wake <= now) {
          retry_wake = now + 1ms;
          schedule(*retry_wake, event{kind::sender_wake, 0, {}, false, {}, {}});
        }
        return;
      }
      blocked_since.reset();
      if (result.status == send_status::failed) {
        r.error = result.error;
        refuse(r, std::nullopt);
        continue;
      }
      r.accepted_at = now;
      r.accept_order = accepted++;
      r.partition = result.partition;
      sender_queue.pop_front();
    }
  }

  void refuse(sim_record& r, std::optional<producer_errc> why) {
    if (why) r.error = make_error_code(*why);
    r.refused_at_send = true;
    r.reported = true;
    r.reported_at = now;
    --unreported;
    blocked_since.reset();
    sender_queue.pop_front();
    trace("send r" + std::to_string(r.id) + " refused: " + r.error.message());
  }

  // ---- events ----

  void process(event& e) {
    ++steps;
    switch (e.what) {
      case kind::action:
        trace("fault: " + e.label);
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
        auto it = current.find(c.client_id);
        if (it == current.end() || it->second != c.id || !c.client_open) break;  // abandoned
        if (c.broker < 0 || unreachable.count(c.broker) || !broker_up(c.broker)) {
          ++stats.failed_connects;
          lose_connection(c, "connect failed");
          break;
        }
        c.connected = true;
        trace("producer: connected " + conn_name(c));
        core.on_connected(c.client_id, core_now());
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
          trace("producer <- " + conn_name(c) + " " + std::to_string(e.bytes.size()) + " bytes");
          core.on_bytes(c.client_id, e.bytes, core_now());
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

  void to_server(connection& c, const std::vector<std::uint8_t>& bytes) {
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
  void pump_cluster() {
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
  void respond(connection& c, ms send_at, std::optional<std::vector<std::uint8_t>> response,
               bool close_after) {
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

  void server_close(connection& c) {
    if (c.server_closed) return;
    c.server_closed = true;
    c.held.clear();
    cl.connection_closed(c.broker, c.id);
    ++stats.server_closes;
    const ms notice = std::max(now + link_latency(c.broker), c.last_to_client);
    c.last_to_client = notice;
    schedule(notice, event{kind::close_notice, c.id, {}, false, {}, {}});
  }

  void trace_exchange(const connection& c, const mockbroker::handle_result& r) {
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

  void run(ms until, bool stop_when_reported) {
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
};

world::world(mockbroker::cluster_config cluster_config, producer_config producer,
             core_options options, world_options w)
    : impl_(std::make_unique<impl>(std::move(cluster_config), std::move(producer), options,
                                   std::move(w))) {
  impl_->self = this;
}

world::~world() = default;

mockbroker::cluster& world::cluster() noexcept { return impl_->cl; }
producer_core& world::producer() noexcept { return impl_->core; }
ms world::now() const noexcept { return impl_->now; }

std::uint64_t world::send(std::string topic, std::optional<std::string> key, std::string value,
                          ms at, std::optional<std::int32_t> partition) {
  sim_record r;
  r.id = impl_->records.size();
  r.topic = std::move(topic);
  r.key = std::move(key);
  r.value = std::move(value);
  r.explicit_partition = partition;
  r.send_at = std::max(at, impl_->now);
  impl_->records.push_back(std::move(r));
  impl_->sender_queue.push_back(impl_->records.back().id);
  ++impl_->unreported;
  impl_->schedule(impl_->records.back().send_at,
                  impl::event{impl::kind::sender_wake, 0, {}, false, {}, {}});
  return impl_->records.back().id;
}

void world::flush_at(ms at) {
  impl_->schedule(at, impl::event{impl::kind::flush, 0, {}, false, {}, {}});
}

const std::vector<sim_record>& world::records() const noexcept { return impl_->records; }

bool world::all_reported() const noexcept {
  if (!impl_->sender_queue.empty() || impl_->unreported != 0) return false;
  return std::all_of(impl_->records.begin(), impl_->records.end(),
                     [](const sim_record& r) { return r.reported && r.reports <= 1; });
}

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

bool world::cut_connection(std::int32_t producer_broker_id) {
  auto it = impl_->current.find(producer_broker_id);
  if (it == impl_->current.end()) return false;
  impl::connection& c = impl_->connections.at(it->second);
  c.cut = true;
  c.server_closed = true;
  ++impl_->stats.cuts;
  impl_->lose_connection(c, "cut by the network");
  return true;
}

std::size_t world::cut_connections_to(std::int32_t cluster_broker_id) {
  std::vector<std::int32_t> ids;
  for (const auto& [client, conn] : impl_->current)
    if (impl_->connections.at(conn).broker == cluster_broker_id) ids.push_back(client);
  for (const auto id : ids) cut_connection(id);
  return ids.size();
}

void world::set_unreachable(std::int32_t cluster_broker_id, bool unreachable) {
  if (unreachable)
    impl_->unreachable.insert(cluster_broker_id);
  else
    impl_->unreachable.erase(cluster_broker_id);
}

const network_stats& world::network() const noexcept { return impl_->stats; }

void world::run_until(ms until) { impl_->run(until, false); }

bool world::run_until_reported(ms limit) {
  impl_->run(limit, true);
  return impl_->sender_queue.empty() && impl_->unreported == 0;
}

std::uint64_t world::steps() const noexcept { return impl_->steps; }
std::uint64_t world::digest() const noexcept { return impl_->hash; }
const std::vector<std::string>& world::contract_violations() const noexcept {
  return impl_->violations;
}
void world::note(std::string_view line) { impl_->trace(line); }
bool world::tracing() const noexcept { return static_cast<bool>(impl_->options.trace); }

}  // namespace kwire::sim
