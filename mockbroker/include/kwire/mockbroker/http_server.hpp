// The HTTP front of the control API (http_api.hpp), on Boost.Beast: one
// listener, HTTP/1.1 with keep-alive, and GET /requests/stream as a
// WebSocket that sends each new request log entry as one text message.
//
// The server runs its own I/O thread. It never touches the cluster itself:
// every request, and every poll of the request log for the stream, goes
// through tcp_server::call(), so it runs on the thread that owns the cluster.
// A slow or broken HTTP client delays no Kafka request.
//
// Limits: bodies above max_body_size get 413 and the connection closes
// (after the rest of the body is read, up to a bound, so the client sees the
// answer); headers above 16 KiB get 431; anything that is not HTTP gets 400.
// With a token, every request (the WebSocket handshake too) must carry
// `Authorization: Bearer TOKEN`, or it gets 401.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kwire/mockbroker/http_api.hpp"
#include "kwire/mockbroker/tcp_server.hpp"

namespace kwire::mockbroker {

/// How the HTTP front listens.
struct http_server_options {
  /// Loopback unless told otherwise: the API can reset and rewrite the cluster.
  std::string bind_host = "127.0.0.1";
  /// 0 picks an ephemeral port; port() tells which.
  std::uint16_t port = 0;
  /// Non-empty: requests must carry `Authorization: Bearer <token>`.
  std::string token;
  /// Bodies above this get 413. The API's largest bodies are fault lists.
  std::size_t max_body_size = 1024 * 1024;
  /// How often a WebSocket stream looks for new request log entries.
  std::chrono::milliseconds stream_poll_interval{20};
  /// Receives one line per notable event (accept errors). May be empty.
  std::function<void(std::string_view)> log;
};

/// Serves a control_api over HTTP for the cluster a tcp_server owns. The
/// tcp_server and the control_api must outlive this server, and this server
/// must be stopped before the tcp_server is.
class http_server {
 public:
  /// Binds the listener. Throws std::system_error naming the address if it
  /// cannot be bound.
  http_server(tcp_server& kafka, control_api& api, http_server_options options = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Starts the I/O thread. Idempotent.
  void start();
  /// Closes the listener and every connection and joins the I/O thread. Idempotent.
  void stop();

  /// "host:port" as bound ("[host]:port" for IPv6).
  std::string address() const;
  std::uint16_t port() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kwire::mockbroker
