// Request and response headers, and whole requests and responses decoded by
// API key and version through the one list of APIs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "kwire/protocol/api.hpp"
#include "kwire/protocol/error.hpp"
#include "kwire/protocol/message.hpp"
#include "kwire/protocol/wire.hpp"

namespace kwire {

/// Request header v0 (key, version, correlation id), v1 (+ client id, a
/// nullable int16-length string even in flexible versions) and v2 (+ tagged fields).
struct request_header {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  std::int32_t correlation_id = 0;
  std::optional<std::string> client_id;  ///< header v1 and later
  unknown_tagged_fields unknown_tags;    ///< header v2

  void encode(writer& w, std::int16_t header_version) const;
  std::size_t encoded_size(std::int16_t header_version) const;
  static result<request_header> decode(reader& r, std::int16_t header_version);
  bool operator==(const request_header&) const = default;
};

/// Response header v0 (correlation id) and v1 (+ tagged fields).
struct response_header {
  std::int32_t correlation_id = 0;
  unknown_tagged_fields unknown_tags;  ///< header v1

  void encode(writer& w, std::int16_t header_version) const;
  std::size_t encoded_size(std::int16_t header_version) const;
  static result<response_header> decode(reader& r, std::int16_t header_version);
  bool operator==(const response_header&) const = default;
};

/// The request header version for an API version: 2 when the request is
/// flexible, else 1 (ControlledShutdown v0 alone uses 0). Unknown APIs: 1.
std::int16_t request_header_version(std::int16_t api_key, std::int16_t api_version) noexcept;

/// The response header version: 1 when the response is flexible, else 0.
/// ApiVersions responses always use 0, so that an old client can read the error.
std::int16_t response_header_version(std::int16_t api_key, std::int16_t api_version) noexcept;

/// A request read from one frame: its header, API and body.
struct decoded_request {
  request_header header;
  const api_info* api = nullptr;
  any_message body;
};

/// Decodes one request from a frame's payload (the bytes after the size
/// prefix). The header's key and version choose the body's type; an unknown
/// key, an unsupported version, a bad body or trailing bytes are errors.
/// Records in the body borrow from `payload`; `owner` keeps it alive if given.
result<decoded_request> decode_request(std::span<const std::uint8_t> payload,
                                       std::shared_ptr<const void> owner = {});

/// Deleted: records in the body would borrow from a buffer that dies at the
/// end of the statement. Keep the buffer in a variable, or pass a span.
result<decoded_request> decode_request(std::vector<std::uint8_t>&& payload,
                                       std::shared_ptr<const void> owner = {}) = delete;
/// Deleted, as for a vector.
result<decoded_request> decode_request(std::string&& payload,
                                       std::shared_ptr<const void> owner = {}) = delete;

/// A response read from one frame, given the request's key and version.
struct decoded_response {
  response_header header;
  const api_info* api = nullptr;
  any_message body;
};

/// Decodes one response from a frame's payload, for a request of `api_key`
/// and `api_version` (a response does not say which API it answers).
result<decoded_response> decode_response(std::span<const std::uint8_t> payload,
                                         std::int16_t api_key, std::int16_t api_version,
                                         std::shared_ptr<const void> owner = {});

/// Deleted: records in the body would borrow from a buffer that dies at the
/// end of the statement. Keep the buffer in a variable, or pass a span.
result<decoded_response> decode_response(std::vector<std::uint8_t>&& payload, std::int16_t api_key,
                                         std::int16_t api_version,
                                         std::shared_ptr<const void> owner = {}) = delete;
/// Deleted, as for a vector.
result<decoded_response> decode_response(std::string&& payload, std::int16_t api_key,
                                         std::int16_t api_version,
                                         std::shared_ptr<const void> owner = {}) = delete;

/// Reads only the correlation id at the start of a response payload.
std::optional<std::int32_t> peek_correlation_id(std::span<const std::uint8_t> payload) noexcept;

}  // namespace kwire
