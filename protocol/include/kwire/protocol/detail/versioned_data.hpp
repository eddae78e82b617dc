// Helpers for the generated code of data types only; not a public interface.
// Kept apart from message_support.hpp, which every generated message includes,
// so that a change here recompiles only the data types.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "kwire/protocol/message.hpp"

namespace kwire::detail {

/// A data type's encoding as clients carry it inside other messages: the int16
/// `version`, then the data type (of the type `ops` describes) at that version.
/// The generated encode_<data type>() functions call it.
result<std::vector<std::uint8_t>> encode_versioned_data(const message_ops& ops, const void* data,
                                                        std::int16_t version);

/// Reads an int16 version, then the data type `ops` describes into `data`
/// (default-constructed): a version above ops.max_version is read as
/// max_version and bytes after the known fields are ignored, as Kafka does. A
/// negative version is an error. Returns the error, if any; offsets count from
/// the start of `bytes`. The generated decode_<data type>() functions call it.
std::optional<decode_error> decode_versioned_data(const message_ops& ops, void* data,
                                                  std::span<const std::uint8_t> bytes);

}  // namespace kwire::detail
