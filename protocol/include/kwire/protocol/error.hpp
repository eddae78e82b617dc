// Codec errors: what went wrong while reading or writing Kafka wire bytes.
//
// These are kwire's own errors about bytes and versions. They are kept apart
// from Kafka's int16 wire error codes (see kafka_error.hpp), which travel inside
// well-formed messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace kwire {

/// Why a decode or an encode failed.
enum class codec_errc {
  truncated = 1,            ///< the input ended inside a field
  negative_length,          ///< a length or count below -1, or -1 where null is not allowed
  length_exceeds_input,     ///< a length or count larger than the bytes that remain
  varint_too_long,          ///< a varint longer than its type allows
  null_not_allowed,         ///< a null value in a version where the field is not nullable
  unsupported_version,      ///< the API has no such version
  unknown_api,              ///< no API has this key
  limit_exceeded,           ///< a configured limit (frame size, array count, nesting) was hit
  trailing_bytes,           ///< bytes left over after a message or a tagged field
  invalid_tag_order,        ///< tagged fields not in ascending order, or a tag repeated
  value_too_large,          ///< a value does not fit its wire form (e.g. a string over 32767 bytes)
  field_not_in_version,     ///< encoding a non-default value for a field the version lacks
  invalid_record,           ///< a record batch or record is malformed
  crc_mismatch,             ///< a checksum does not match the bytes it covers
  compression_error,        ///< a compressed payload could not be decompressed
  unsupported_compression,  ///< a compression codec kwire does not know
  wrong_message_kind,       ///< a response where a request belongs (or the reverse), or no message
};

/// The category of codec_errc; its name is "kwire.codec".
const std::error_category& codec_category() noexcept;

inline std::error_code make_error_code(codec_errc e) noexcept {
  return {static_cast<int>(e), codec_category()};
}

/// A failed decode: what failed, where, and in which message.
struct decode_error {
  std::error_code code;
  std::size_t offset = 0;  ///< byte offset from the start of the reader's input
  std::string path;        ///< field path, e.g. "Topics[2].Partitions[0].Records"
  std::string context;     ///< message and version, e.g. "ProduceRequest v9"
  std::string detail;      ///< extra words, e.g. "length 70000 > 12 bytes remaining"

  /// One line naming the message, field, offset and reason.
  std::string message() const;
};

/// A value or a decode_error. Cheap to move; value() throws std::system_error
/// on an error so that careless use fails loudly.
template <class T>
class result {
 public:
  result(T value) : state_(std::move(value)) {}
  result(decode_error error) : state_(std::move(error)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    check();
    return std::get<0>(state_);
  }
  const T& value() const& {
    check();
    return std::get<0>(state_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// The error; only meaningful when !ok().
  const decode_error& error() const { return std::get<1>(state_); }

 private:
  void check() const {
    if (!ok()) throw std::system_error(error().code, error().message());
  }
  std::variant<T, decode_error> state_;
};

}  // namespace kwire

template <>
struct std::is_error_code_enum<kwire::codec_errc> : std::true_type {};
