// The inside of kwire::sim::world, shared by its two halves (private to
// kwire::sim, not installed):
// - world.cc: the calendar, the clock and the network with the cluster at
//   its far end (links, deliveries, the cluster's held and parked
//   responses), and the client end of every connection, which belongs to an
//   owner that hears of it through client_handlers;
// - world_producer.cc: the producer core as one such owner (its
//   connections, the sender thread of the workload, delivery reports).
// Thread-safety: none, as the world.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kwire/sim/world.hpp"

namespace kwire::sim {

inline constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
inline constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

inline void fnv(std::uint64_t& h, std::span<const std::uint8_t> bytes) noexcept {
  for (const std::uint8_t b : bytes) {
    h ^= b;
    h *= fnv_prime;
  }
}

inline void fnv_int(std::uint64_t& h, std::int64_t v) noexcept {
  for (int i = 0; i < 8; ++i) {
    h ^= static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i));
    h *= fnv_prime;
  }
}

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
    cluster_timer,
    wake  // a client's timer (wake_at): `action`, without a trace line
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
    bool is_producer = false;
    std::string owner;  // names the client end in the trace: "producer", "consumer m1"
    std::string label;  // in conn_name: "producer id 1", "m1"
    client_handlers handlers;
    bool client_open = true;  // its owner has not closed it
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
    return "b" + std::to_string(c.broker) + "/c" + std::to_string(c.id) + " (" + c.label + ")";
  }

  // ---- the producer's side (world_producer.cc) ----

  // Polls the producer core until it has nothing to do; carries out what it asks.
  void pump();
  void open(const connect_request& request);
  void write(outgoing_frame& frame);
  void deliver_report(const delivery_report& report);
  // The sender (one thread of the user's program).
  void run_sender();
  void refuse(sim_record& r, std::optional<producer_errc> why);

  // ---- the network and the cluster (world.cc) ----

  // A connection attempt to host:port; it completes (or fails) one round trip later.
  connection& open_connection(const std::string& host, std::int32_t port, std::string owner,
                              std::string label, client_handlers handlers);
  // Bytes from the client end: they arrive after the link's latency, behind earlier ones.
  void send_to_server(connection& c, std::vector<std::uint8_t> bytes);
  // The owner closes its end: requests written still arrive, responses are dropped.
  void close_by_client(connection& c);
  // The owner no longer has this connection; tell it, unless it closed it itself.
  void lose_connection(connection& c, std::string_view why);
  // The network loses everything in flight both ways; the owner hears of it now.
  void cut(connection& c);

  void process(event& e);
  void to_server(connection& c, const std::vector<std::uint8_t>& bytes);
  // Parked requests answered (by this request, an action or a timer), and
  // the cluster's next timer on the calendar.
  void pump_cluster();
  // Sends a response the cluster made at `send_at`, after the connection's earlier ones.
  void respond(connection& c, ms send_at, std::optional<std::vector<std::uint8_t>> response,
               bool close_after);
  void server_close(connection& c);
  void trace_exchange(const connection& c, const mockbroker::handle_result& r);
  void run(ms until, bool stop_when_reported);
};

}  // namespace kwire::sim
