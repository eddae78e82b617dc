// Legacy message sets (magic 0 and 1), as in Produce v0-v2 and in old data
// that Fetch can still return.
//
// A message set is a sequence of entries: offset int64, message size int32,
// then the message: crc uint32 (zlib CRC-32 over magic to the end), magic
// int8, attributes int8 (bits 0-2 compression; magic 1: bit 3 log append
// time), timestamp int64 (magic 1 only), key and value as int32-length bytes
// (-1 null). A compressed message is a wrapper whose value is a compressed
// message set of uncompressed inner messages; magic 1 inner offsets are
// relative, counted back from the wrapper's offset (its last inner offset).
//
// Legacy data is not a hot path, so reading is eager: read_message_set()
// returns every message, with wrappers already opened. Views point into the
// input or into buffers the returned message_set owns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kwire/protocol/compression.hpp"
#include "kwire/protocol/error.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire {

/// One message of a legacy message set, after opening wrappers.
struct legacy_message {
  std::int64_t offset = 0;  ///< absolute offset
  std::int8_t magic = 0;
  std::int8_t attributes = 0;    ///< the message's own attributes
  std::int64_t timestamp = -1;   ///< -1 for magic 0; the wrapper's for log append time
  bool log_append_time = false;  ///< from the message or its wrapper
  compression wrapper_codec = compression::none;  ///< codec of the wrapper it came from
  std::uint32_t crc = 0;
  nullable_bytes_view key;
  nullable_bytes_view value;
};

/// Limits and checks for reading legacy message sets.
struct message_set_read_options {
  bool verify_crc = true;
  /// Stop cleanly at a partial last message (fetch responses cut it).
  bool allow_truncated_tail = false;
  /// Cap on all decompressed bytes of one message set together.
  std::size_t max_decompressed_size = default_max_decompressed_size;
};

/// The messages of a legacy message set. Move-only; keeps the decompressed
/// inner message sets alive for the views in messages().
class message_set {
 public:
  message_set() = default;
  message_set(message_set&&) noexcept = default;
  message_set& operator=(message_set&&) noexcept = default;
  message_set(const message_set&) = delete;
  message_set& operator=(const message_set&) = delete;

  const std::vector<legacy_message>& messages() const& noexcept { return messages_; }
  const std::vector<legacy_message>& messages() const&& = delete;
  /// True when reading stopped at a partial last message that options allowed.
  bool truncated_tail() const noexcept { return truncated_tail_; }
  /// Bytes of the input that whole messages took.
  std::size_t bytes_read() const noexcept { return bytes_read_; }

 private:
  friend class message_set_parser;
  std::vector<legacy_message> messages_;
  std::vector<std::vector<std::uint8_t>> buffers_;
  bool truncated_tail_ = false;
  std::size_t bytes_read_ = 0;
};

/// Reads a whole legacy message set, checking sizes, magic, CRC, lengths and
/// wrappers (no nested compression; inner magic equal to the wrapper's).
/// Errors name the message, e.g. "message@offset=42.inner[3].key".
result<message_set> read_message_set(bytes_view input, const message_set_read_options& options = {},
                                     std::size_t input_offset = 0);

/// Deleted: the messages' views would point into a buffer that dies at the
/// end of the statement. Keep the buffer in a variable, or pass a span.
result<message_set> read_message_set(std::vector<std::uint8_t>&& input,
                                     const message_set_read_options& options = {},
                                     std::size_t input_offset = 0) = delete;
/// Deleted, as for a vector.
result<message_set> read_message_set(std::string&& input,
                                     const message_set_read_options& options = {},
                                     std::size_t input_offset = 0) = delete;

/// A message to write. Timestamps are only written for magic 1.
struct legacy_record {
  std::int64_t timestamp = -1;
  nullable_bytes_view key;
  nullable_bytes_view value;
};

/// How to write a legacy message set.
struct message_set_write_options {
  std::int8_t magic = 1;                  ///< 0 for Produce v0-v1, 1 for Produce v2
  compression codec = compression::none;  ///< none, gzip, snappy or lz4
  int compression_level = 0;
  std::int64_t base_offset = 0;  ///< producers write 0
  timestamp_type timestamps = timestamp_type::create_time;
};

/// Writes `records` as a legacy message set; with a codec, as one wrapper
/// message around the compressed inner set. Fails with
/// unsupported_compression for zstd (Kafka requires magic 2 for it) and
/// unsupported_version for a magic other than 0 or 1.
result<std::vector<std::uint8_t>> write_message_set(std::span<const legacy_record> records,
                                                    const message_set_write_options& options = {});

}  // namespace kwire
