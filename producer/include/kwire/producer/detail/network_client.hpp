// The producer core's network client (Java's NetworkClient): one connection
// per broker, its frames and correlation ids, the requests in flight on it,
// ApiVersions negotiation, request timeouts and reconnect backoff. It knows
// no producer semantics: answers other than ApiVersions go to a
// network_listener (the sender), and so does every request a lost
// connection takes with it. No I/O: connects, frames and closes go to the
// shell through core_context::out. Owned by the core; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/producer/detail/accumulator.hpp"
#include "kwire/producer/detail/core_context.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/version.hpp"

namespace kwire::detail {

/// The client_software_version kwire announces in ApiVersions (KIP-511):
/// the project version CMake writes into kwire/version.hpp.
inline constexpr std::string_view client_software_version = kwire::version;
/// The client_software_name kwire announces in ApiVersions.
inline constexpr std::string_view client_software_name = "kwire";

/// Where a broker's connection is.
enum class conn_state { disconnected, connecting, negotiating, ready };

/// A request written and not yet answered.
struct in_flight_request {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  core_time sent{};
  std::uint64_t order = 0;                               ///< send order on its connection
  std::vector<std::unique_ptr<producer_batch>> batches;  ///< Produce only: the batches it carries
};

/// One broker and the connection to it.
struct broker_connection {
  std::int32_t id = 0;  ///< node id; bootstrap servers are -1, -2, ...
  std::string host;
  std::int32_t port = 0;
  conn_state state = conn_state::disconnected;
  frame_splitter splitter;
  std::map<std::int32_t, in_flight_request> in_flight;  ///< by correlation id
  core_time throttle_until{};         ///< nothing more is sent before this (throttle_time_ms)
  core_time reconnect_after{};        ///< no connection attempt before this
  std::int16_t produce_version = -1;  ///< negotiated; -1: none in common
  std::int16_t metadata_version = -1;
  std::int16_t init_pid_version = -1;
  int produce_in_flight = 0;
  std::uint64_t requests_sent = 0;
  int failures = 0;  ///< connections lost since the last one that became ready
};

/// What the network client hands back to the producer. Called during the
/// network client's own calls; an implementation may send further requests.
class network_listener {
 public:
  virtual ~network_listener() = default;
  /// An answer to `request` (anything but ApiVersions) arrived on `broker`.
  virtual void on_response(broker_connection& broker, in_flight_request& request,
                           const decoded_response& response, core_time now) = 0;
  /// A connection was lost; its requests follow, one on_request_lost each.
  virtual void on_connection_lost(core_time now) = 0;
  /// A request of a lost connection: no answer will come. `code` says why
  /// (NETWORK_EXCEPTION, REQUEST_TIMED_OUT).
  virtual void on_request_lost(in_flight_request& request, std::int16_t code, core_time now) = 0;
};

/// The connections to every broker. See the file comment.
class network_client {
 public:
  /// Knows the bootstrap servers of `ctx.config` as brokers -1, -2, ...
  /// Both references must outlive the client.
  network_client(core_context& ctx, network_listener& listener);

  /// Writes a request to `broker`. Unless `expect_response` is false
  /// (acks=0 Produce), it is in flight until answered or lost, and
  /// `batches` travel with it.
  template <class Message>
  void send(broker_connection& broker, const Message& body, std::int16_t version, core_time now,
            std::vector<std::unique_ptr<producer_batch>> batches = {},
            bool expect_response = true) {
    const request_header header = next_header(Message::api_key, version);
    auto frame = encode_request(header, body);
    // Our own requests fail to encode only through a bug (a field set that
    // the negotiated version lacks). Such a request is not written but stays
    // in flight, so it is lost as an unanswered request is: by
    // request.timeout.ms, with its connection, and its batches retried or failed.
    enqueue(broker, header, frame ? std::move(frame).value() : std::vector<std::uint8_t>{}, now,
            std::move(batches), expect_response);
  }

  /// The shell opened the connection to `broker_id`: negotiation begins.
  void on_connected(std::int32_t broker_id, core_time now);
  /// Bytes read from a connection, reassembled into frames and handled.
  void on_bytes(std::int32_t broker_id, std::span<const std::uint8_t> bytes, core_time now);
  /// The connection closed, or the attempt failed.
  void on_disconnected(std::int32_t broker_id, core_time now);

  /// Closes every connection with a request older than request.timeout.ms.
  void expire_requests(core_time now);
  /// A ready broker with the fewest requests in flight, or nullptr; asks for
  /// a connection (in turn among known brokers) when none is ready or opening.
  broker_connection* any_ready_broker(core_time now);
  /// The broker with this id, or nullptr.
  broker_connection* find(std::int32_t broker_id);
  /// Asks the shell to open the connection.
  void connect(broker_connection& broker);
  /// Closes the connection (the shell is told) and loses its requests.
  void drop(broker_connection& broker, core_time now);
  /// Learns brokers from a Metadata answer.
  void update_brokers(const std::vector<metadata_response::metadata_response_broker>& brokers);
  /// Produce requests in flight on every connection.
  std::size_t produce_in_flight_total() const;
  /// Hands every request in flight to `each`, forgets them, and closes every connection.
  void abort(const std::function<void(in_flight_request&)>& each);

 private:
  request_header next_header(std::int16_t api_key, std::int16_t version);

  void enqueue(broker_connection& broker, const request_header& header,
               std::vector<std::uint8_t> bytes, core_time now,
               std::vector<std::unique_ptr<producer_batch>> batches, bool expect_response);
  void on_frame(broker_connection& broker, std::span<const std::uint8_t> payload, core_time now);
  void on_api_versions(broker_connection& broker, std::span<const std::uint8_t> payload,
                       std::int16_t version, core_time now);
  void connection_lost(broker_connection& broker, core_time now, std::int16_t code);

  core_context& ctx_;
  network_listener& listener_;
  std::string client_id_;
  std::map<std::int32_t, broker_connection> brokers_;
  std::int32_t next_correlation_ = 1;
  std::size_t bootstrap_cursor_ = 0;
};

}  // namespace kwire::detail
