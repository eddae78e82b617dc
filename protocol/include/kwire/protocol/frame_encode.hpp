// Whole frames out: a size prefix, a header and a body, in one call.
//
// Every generated message header declares typed overloads next to its types:
//   encode_request(request_header, const produce_request&)
//   encode_response(std::int32_t correlation_id, std::int16_t version, const produce_response&)
// This header declares the type-erased ones over any_message and the one
// implementation they all share. Each call returns a new buffer holding the
// frame, or an error naming the message (and the field and byte offset when
// the writer knows them). Functions are thread-safe; they share no state.
#pragma once

#include <cstdint>
#include <vector>

#include "kwire/protocol/error.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/message.hpp"

namespace kwire {

/// Encodes a whole request frame for `body`, which must hold a request type.
/// header.api_key is set from the body's type; header.api_version chooses the
/// body's version and, with the key, the header version.
result<std::vector<std::uint8_t>> encode_request(request_header header, const any_message& body);

/// Encodes a whole response frame of `version` for `body`, which must hold a
/// response type; the header version follows from its API and `version`.
result<std::vector<std::uint8_t>> encode_response(std::int32_t correlation_id, std::int16_t version,
                                                  const any_message& body);

namespace detail {

/// What every encode_request overload calls: `body` points to a message of
/// the type `ops` describes. Not for direct use.
result<std::vector<std::uint8_t>> encode_request_frame(request_header& header,
                                                       const message_ops& ops, const void* body);

/// What every encode_response overload calls. Not for direct use.
result<std::vector<std::uint8_t>> encode_response_frame(std::int32_t correlation_id,
                                                        std::int16_t version,
                                                        const message_ops& ops, const void* body);

}  // namespace detail
}  // namespace kwire
