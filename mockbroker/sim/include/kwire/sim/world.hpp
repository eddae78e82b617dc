// The simulation shell: the producer core and the cluster core, unchanged,
// joined by an in-memory network and stepped by one thread in virtual time.
//
// A world owns one kwire::mockbroker::cluster and one kwire::producer_core. Time is
// a virtual millisecond clock from the run's start (both cores are handed
// kwire::core_time: world_options::epoch_ms plus that clock) that only moves
// when the world steps to its next event: a delivery on a link, a connection
// attempt completing, a timer of the core, a record the workload sends, or an
// action a test or fault schedule put on the calendar. Events at the same
// instant run in the order they were scheduled, so a run is a pure function
// of its inputs: no wall clock, no threads, no unordered iteration.
//
// The network: each connection the core asks for gets an id and a link to
// the broker whose host:port it named. Bytes on a link arrive after the
// link's latency and never overtake earlier bytes of the same connection
// (TCP does not reorder). Responses leave the broker at the cluster's send_at
// and in request order, as the TCP front sends them. When the producer closes
// a connection, the requests it already wrote still reach the broker (data
// before FIN) but responses are discarded; when a connection is cut
// (cut_connection), everything in flight either way is lost. Other clients
// of the cluster (the consumers of consumers.hpp) open connections through
// the same links (open_client) and hear of them through client_handlers.
//
// Thread-safety: none. Lifetimes: the world owns the cluster and the core;
// references returned by cluster() and producer() live as long as the world.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/producer/producer_core.hpp"

namespace kwire::sim {

using ms = std::chrono::milliseconds;

/// How the world is built.
struct world_options {
  /// Latency of every link, one way, unless set_link_latency says otherwise.
  ms link_latency{1};
  /// Milliseconds since the Unix epoch at virtual time 0: record timestamps
  /// and the cluster's clock start here.
  std::int64_t epoch_ms = 1'700'000'000'000;
  /// How long the workload's sender blocks on wait_for_metadata or
  /// wait_for_buffer before failing the record (the shell's max.block.ms).
  /// nullopt: the producer config's max.block.ms.
  std::optional<ms> max_block;
  /// Receives one line per event (request, response, fault, connection,
  /// report) with its virtual time; empty: no trace is built at all.
  std::function<void(std::string_view)> trace;
};

/// One record of the workload and what became of it.
struct sim_record {
  std::uint64_t id = 0;  ///< 0, 1, 2... in the order send() was called
  std::string topic;
  std::optional<std::string> key;
  std::string value;
  std::optional<std::int32_t> explicit_partition;
  ms send_at{0};                   ///< when the workload wanted to send it
  std::optional<ms> accepted_at;   ///< when producer_core::send accepted it
  std::uint64_t accept_order = 0;  ///< position among accepted records
  std::int32_t partition = -1;     ///< the partition send() chose
  bool reported = false;
  int reports = 0;  ///< delivery reports received (1 when all is well)
  ms reported_at{0};
  std::int64_t offset = -1;
  std::error_code error;         ///< from the report, or from send() itself
  bool refused_at_send = false;  ///< send() failed (or the sender gave up blocking)
};

/// Counters of the network, for tests and the trace.
struct network_stats {
  std::uint64_t connects = 0;
  std::uint64_t failed_connects = 0;
  std::uint64_t requests = 0;         ///< frames handed to the cluster
  std::uint64_t responses = 0;        ///< frames handed to the producer or a client
  std::uint64_t dropped_frames = 0;   ///< lost to a closed or cut connection
  std::uint64_t server_closes = 0;    ///< connections the cluster closed
  std::uint64_t producer_closes = 0;  ///< connections the producer closed
  std::uint64_t client_closes = 0;    ///< connections another client closed (close_client)
  std::uint64_t cuts = 0;             ///< connections cut by the network
};

/// What the client end of a connection (world::open_client) hears. Each is
/// called on the world's thread while it processes an event, and may write,
/// open and close connections and call wake_at. Empty functions are skipped.
struct client_handlers {
  /// The connection attempt succeeded (one round trip after open_client).
  std::function<void()> on_connected;
  /// One whole response frame from the broker, size prefix included; the
  /// bytes are valid during the call only.
  std::function<void(std::span<const std::uint8_t>)> on_bytes;
  /// The connection is gone: the attempt failed, the broker closed it, or
  /// the network cut it. Never called after close_client.
  std::function<void(std::string_view why)> on_closed;
};

/// The simulation. See the top of this file.
class world {
 public:
  /// Builds the cluster from `cluster_config` and the core from `producer`
  /// (whose bootstrap_servers, if empty, become the cluster's brokers).
  /// Throws std::invalid_argument if the producer config is invalid.
  world(mockbroker::cluster_config cluster_config, producer_config producer,
        core_options options = {}, world_options world = {});
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  mockbroker::cluster& cluster() noexcept;
  producer_core& producer() noexcept;
  /// The current virtual time.
  ms now() const noexcept;

  // -- the workload --
  /// Queues a record for the sender, to be sent at `at` (or as soon as the
  /// records queued before it are accepted: the sender is one thread, and
  /// it blocks while send() says wait). Returns the record's id.
  std::uint64_t send(std::string topic, std::optional<std::string> key, std::string value, ms at,
                     std::optional<std::int32_t> partition = std::nullopt);
  /// Calls producer_core::flush() at `at`.
  void flush_at(ms at);
  const std::vector<sim_record>& records() const noexcept;
  /// Every record accepted by send() or refused, and reported exactly once.
  bool all_reported() const noexcept;

  // -- the calendar --
  /// Runs `action` at virtual time `at` (after the events already scheduled
  /// for that instant). `what` names it in the trace. The cluster is polled
  /// at that time before and after it, so that a cluster action happens then
  /// and the answers it readies (an unloaded group's parked joins) leave then.
  void at(ms at, std::string what, std::function<void(world&)> action);

  // -- the network --
  /// Sets the one-way latency of links to a broker (new deliveries only);
  /// a negative latency goes back to world_options::link_latency.
  void set_link_latency(std::int32_t broker_id, ms latency);
  /// Cuts the producer's connection to a broker (by the broker's node id or
  /// a bootstrap id): bytes in flight are lost, the producer hears of it now.
  /// False when there is no such connection.
  bool cut_connection(std::int32_t producer_broker_id);
  /// Cuts every connection the producer and the other clients have to a
  /// cluster broker (the producer's first, as cut_connection does).
  std::size_t cut_connections_to(std::int32_t cluster_broker_id);
  /// A silent partition: while set, connection attempts to the broker fail
  /// and bytes either way on existing connections vanish without a close,
  /// as when a host dies without sending a reset (the producer finds out
  /// only through request.timeout.ms).
  void set_unreachable(std::int32_t cluster_broker_id, bool unreachable);
  const network_stats& network() const noexcept;

  // -- other clients of the cluster (consumers), through the same links --
  /// Opens a connection to host:port for a client that is not the producer:
  /// the attempt takes one round trip and fails if no broker has that
  /// address or it is down or unreachable; latencies, cuts, outages and the
  /// cluster's closes apply as to the producer's connections. `name` names
  /// the client in the trace. Returns the connection's id (never 0).
  std::uint64_t open_client(const std::string& host, std::int32_t port, std::string name,
                            client_handlers handlers);
  /// Writes one request frame (size prefix included) on a client
  /// connection. False, and nothing sent, unless it is open and connected.
  bool write_client(std::uint64_t connection, std::vector<std::uint8_t> frame);
  /// The client closes its end: requests it wrote still reach the broker,
  /// responses are dropped, on_closed is not called. Unknown ids are ignored.
  void close_client(std::uint64_t connection);
  /// Calls `fn` at virtual time `at` (after the events already scheduled for
  /// that instant), with no trace line: a client's timer.
  void wake_at(ms at, std::function<void()> fn);

  // -- running --
  /// Steps every event up to and including `until`, then sets the clock to `until`.
  void run_until(ms until);
  /// Runs until every record is reported and the sender is idle, or until
  /// `limit`. Returns true when everything was reported.
  bool run_until_reported(ms limit);
  /// Events run so far.
  std::uint64_t steps() const noexcept;

  /// FNV-1a 64 of every request and response frame, with its virtual time,
  /// broker and connection: equal digests mean equal runs.
  std::uint64_t digest() const noexcept;

  /// Problems of the shell's own contract seen during the run (a frame for
  /// a broker with no open connection, a report for an unknown record id, a
  /// second report for a record): each is a bug in the core.
  const std::vector<std::string>& contract_violations() const noexcept;

  /// Writes one trace line (prefixed with the virtual time) if tracing.
  void note(std::string_view line);
  bool tracing() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A message as the trace shows it: Produce requests and responses in one
/// line (partition, producer id, epoch, sequences, record ids, offsets),
/// anything else as JSON.
std::string describe_message(const any_message& message, std::int16_t version);

/// "12.345s" for a virtual time, as the trace prints it.
std::string format_time(ms t);

}  // namespace kwire::sim
