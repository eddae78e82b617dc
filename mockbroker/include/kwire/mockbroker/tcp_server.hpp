// The TCP front of the mock cluster: one Boost.Asio listener per broker, so
// real clients (kcat, librdkafka, kafka-python, kwire's producer) can talk to
// a cluster core over loopback.
//
// One I/O thread owns the cluster: every request is handled on it, and
// scripting from other threads goes through call(), which runs a function on
// that thread and waits for it. Responses to one connection leave in request
// order, as Kafka sends them; a delayed response delays the ones after it on
// the same connection but no other connection. A frame above the maximum
// size, or one the core cannot decode, closes that connection only. The
// core's time comes from a steady_core_clock made when the server is: wall
// time in milliseconds (for LogAppendTime) that never runs backwards.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/frame.hpp"

namespace kwire::mockbroker {

/// How the TCP front listens.
struct tcp_server_options {
  /// Address every listener binds to, an IPv4 or IPv6 literal or a host
  /// name (resolved once, first address); loopback unless told otherwise.
  std::string bind_host = "127.0.0.1";
  /// Port per broker by position; 0 or missing entries pick an ephemeral port.
  std::vector<std::uint16_t> ports;
  /// The host Metadata and FindCoordinator tell clients (Kafka's
  /// advertised.listeners), e.g. a container's name. Empty: bind_host as
  /// given, or, when that is a wildcard (0.0.0.0, ::), the cluster's
  /// configured host (cluster_config::host).
  std::string advertised_host;
  /// Port per broker by position that clients are told (a port forward);
  /// 0 or missing entries: the port bound.
  std::vector<std::uint16_t> advertised_ports;
  /// Frames above this size close their connection (Kafka's socket.request.max.bytes).
  std::size_t max_frame_size = default_max_frame_size;
  /// A connection with no bytes in or out for this long, and no response
  /// owed, is closed (Kafka's connections.max.idle.ms, 10 minutes); a client
  /// that sends half a frame and stalls included. Zero: never.
  std::chrono::milliseconds idle_timeout{600000};
  /// Connections each broker keeps at most; past it a new connection is
  /// closed at once with a logged reason (Kafka's max.connections). Zero: no limit.
  std::size_t max_connections_per_broker = 0;
  /// Receives one line per notable event (connection closed and why). May be empty.
  std::function<void(std::string_view)> log;
};

/// Serves a cluster over TCP. The cluster must outlive the server and, while
/// the server runs, be touched only through call().
class tcp_server {
 public:
  /// Binds one listener per broker and tells the cluster the address to
  /// advertise for each (set_broker_address). Throws std::system_error
  /// naming the address if the host does not resolve or a port cannot be bound.
  tcp_server(cluster& c, tcp_server_options options = {});
  ~tcp_server();
  tcp_server(const tcp_server&) = delete;
  tcp_server& operator=(const tcp_server&) = delete;

  /// Starts the I/O thread. Idempotent.
  void start();
  /// Closes every listener and connection and joins the I/O thread. Idempotent.
  /// With a `grace`, the listeners close first and connections stay up to
  /// that long for the responses they are owed (a waiting Fetch included).
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  /// "host:port,..." of every broker as advertised (IPv6 in brackets).
  std::string bootstrap_servers() const;
  /// The port broker `broker_id` listens on (0 if unknown).
  std::uint16_t port(std::int32_t broker_id) const;

  /// Runs `f(cluster&)` on the I/O thread (or right here when the server is
  /// not running) and returns its result.
  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F, cluster&> {
    using R = std::invoke_result_t<F, cluster&>;
    std::packaged_task<R()> task([&] { return f(cluster_); });
    auto result = task.get_future();
    run_on_io_thread([&task] { task(); });
    return result.get();
  }

  /// Connections accepted and closed so far (for tests and logs).
  struct stats {
    std::uint64_t accepted = 0;
    std::uint64_t closed = 0;
    std::uint64_t requests = 0;
    std::uint64_t bad_frames = 0;
  };
  stats statistics();

 private:
  void run_on_io_thread(std::function<void()> fn);

  cluster& cluster_;
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kwire::mockbroker
