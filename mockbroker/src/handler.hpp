// What an API handler of the cluster core is, and the table of them. Internal
// to the core. One file per API family in apis/ defines its handlers;
// apis/table.cc lists them by API key. The request path (request_path.cc)
// parses the header, applies fault rules and asks the handler of the key;
// ApiVersions advertises exactly the keys of the table.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "faults.hpp"
#include "kwire/protocol/header.hpp"
#include "parking.hpp"
#include "state.hpp"

namespace kwire::mockbroker::detail {

/// Per request: what a handler needs besides the request and the model,
/// and what it tells the request path back. Lives for one handle() call.
struct request_context {
  std::int32_t broker_id = 0;
  time_point now{};
  std::int16_t version = 0;
  /// The fault rules that fired on this request.
  const fired_faults* faults = nullptr;
  bool no_response = false;  ///< out: acks=0
  bool close_after = false;  ///< out: acks=0 with an error
  std::string close_reason;  ///< out: why, with close_after
  /// The cluster's parked requests; park() reserves a ticket there.
  parking_lot* lot = nullptr;
  ticket parked = 0;  ///< out: the request is parked (park())

  /// Parks the request being served: the handler returns no response, and
  /// the module that keeps the ticket answers it later (parking.hpp).
  ticket park() {
    parked = lot->reserve();
    return parked;
  }

  /// The error an error rule (before = true) or append_then_error rule
  /// (before = false) that fired puts on `t`, if any.
  std::optional<std::int16_t> injected_error(const target& t, bool before) const {
    return faults ? faults->error_for(t, before) : std::nullopt;
  }
  /// Milliseconds since the Unix epoch (LogAppendTime, ListOffsets by time).
  std::int64_t now_ms() const noexcept { return unix_ms(now); }
};

/// One served API. Adding an API: a file in apis/ defining one of these,
/// and one line in apis/table.cc.
struct api_handler {
  std::int16_t key = -1;
  /// Builds the response (empty: none) to a decoded request of this API.
  any_message (*serve)(cluster_state&, const decoded_request&, request_context&) = nullptr;
  /// A well-formed response carrying `code` wherever it has error codes, for
  /// an error fault; nullptr: the default response with the code at the top level.
  any_message (*error_response)(const cluster_state&, const decoded_request&,
                                std::int16_t code) = nullptr;
  /// What a request touches (topics, partitions, producer ids), for rules
  /// that filter on them; nullptr: nothing, such rules never match.
  std::vector<target> (*targets)(const cluster_state&, const decoded_request&) = nullptr;
  /// True: serve() places error faults itself, per partition or topic
  /// (injected_error); false: an error fault answers the whole request with
  /// error_response() instead of serving it.
  bool places_errors = false;
};

/// The served APIs, ordered by key.
std::span<const api_handler* const> served_apis() noexcept;
/// The handler of `key`, or nullptr when the mock does not serve it.
const api_handler* find_handler(std::int16_t key) noexcept;

/// The error response of `handler` to `request` (its own, or the generic one).
any_message error_response_for(const api_handler& handler, const cluster_state& state,
                               const decoded_request& request, std::int16_t code);

/// Kafka's answer to an ApiVersions request of a version it does not know:
/// UNSUPPORTED_VERSION and the ApiVersions range, to be sent as v0.
any_message unsupported_api_versions_response();

/// The whole response frame (size prefix, response header, body) at
/// `version`; nullopt when the body cannot be encoded at that version.
std::optional<std::vector<std::uint8_t>> encode_response_frame(std::int32_t correlation_id,
                                                               std::int16_t version,
                                                               const any_message& body);

/// Does `message` encode at `version` (every field it sets exists there)?
bool encodes_at(const any_message& message, std::int16_t version);

/// Wraps a concrete message into an any_message.
template <class T>
any_message wrap(T&& message) {
  any_message m(std::decay_t<T>::ops());
  *m.as<std::decay_t<T>>() = std::forward<T>(message);
  return m;
}

/// Kafka's wire error code of `e`.
constexpr std::int16_t code(kafka_error e) noexcept { return static_cast<std::int16_t>(e); }

}  // namespace kwire::mockbroker::detail
