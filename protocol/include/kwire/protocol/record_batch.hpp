// Record batches (magic 2): reading with validation, lazy record iteration,
// and a builder for the producer.
//
// Reading borrows: a record_batch read from uncompressed bytes holds views
// into the caller's buffer, and its records are parsed one at a time as the
// caller iterates, so reading a fetch response copies nothing. A compressed
// batch is decompressed once into a buffer the record_batch owns, and its
// records are views into that buffer. Either way, record views live as long
// as the input buffer and the record_batch they came from; record_batch is
// move-only (moving keeps the buffer in place) and records() cannot be
// called on a temporary batch.
//
// Every error names the batch by its base offset and the field, e.g.
// "batch@baseOffset=42.records[3].headers[0].key", with the byte offset in
// the input (or, inside a compressed batch, in its decompressed records).
//
// Nothing here is thread-safe to share while being iterated; distinct
// objects may be used from distinct threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/protocol/compression.hpp"
#include "kwire/protocol/error.hpp"

namespace kwire {

/// Read-only bytes borrowed from somewhere else.
using bytes_view = std::span<const std::uint8_t>;
/// Bytes that may be null (Kafka's length -1).
using nullable_bytes_view = std::optional<bytes_view>;

/// The bytes of a string, for keys and values given as text.
inline bytes_view bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// Bytes of the fixed batch header, up to and including the records count.
inline constexpr std::size_t record_batch_header_size = 61;
/// Bytes before batchLength counts: baseOffset and batchLength themselves.
inline constexpr std::size_t record_batch_log_overhead = 12;
/// The magic byte of this format.
inline constexpr std::int8_t record_batch_magic = 2;

/// Where a record's timestamp comes from (attribute bit 3).
enum class timestamp_type : std::uint8_t {
  create_time = 0,      ///< set by the producer, per record
  log_append_time = 1,  ///< set by the broker: every record has the batch's maxTimestamp
};

/// Bits of the batch attributes field.
namespace batch_attribute {
inline constexpr std::int16_t compression_mask = 0x07;
inline constexpr std::int16_t log_append_time = 0x08;
inline constexpr std::int16_t transactional = 0x10;
inline constexpr std::int16_t control = 0x20;
inline constexpr std::int16_t delete_horizon = 0x40;
}  // namespace batch_attribute

/// The fixed header of a record batch, field by field as on the wire.
struct record_batch_header {
  std::int64_t base_offset = 0;
  std::int32_t batch_length = 0;  ///< bytes after this field to the end of the batch
  std::int32_t partition_leader_epoch = -1;
  std::int8_t magic = record_batch_magic;
  std::uint32_t crc = 0;
  std::int16_t attributes = 0;
  std::int32_t last_offset_delta = -1;
  std::int64_t base_timestamp = -1;
  std::int64_t max_timestamp = -1;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
  std::int32_t records_count = 0;

  compression codec() const noexcept {
    return static_cast<compression>(attributes & batch_attribute::compression_mask);
  }
  bool is_log_append_time() const noexcept { return attributes & batch_attribute::log_append_time; }
  bool is_transactional() const noexcept { return attributes & batch_attribute::transactional; }
  bool is_control() const noexcept { return attributes & batch_attribute::control; }
  bool has_delete_horizon() const noexcept { return attributes & batch_attribute::delete_horizon; }
  /// Offset of the last record (base_offset + last_offset_delta).
  std::int64_t last_offset() const noexcept { return base_offset + last_offset_delta; }
  /// Total bytes of the batch on the wire.
  std::size_t size_in_bytes() const noexcept {
    return record_batch_log_overhead + static_cast<std::size_t>(batch_length);
  }

  bool operator==(const record_batch_header&) const = default;
};

/// A record header as the builder takes it and the reader gives it back.
/// The key is never null in Kafka; the value may be.
struct record_header {
  std::string_view key;
  nullable_bytes_view value;
};

/// A lazy range over the headers of one record. The headers were validated
/// when the record was read, so iterating cannot fail.
class record_header_range {
 public:
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = record_header;
    using difference_type = std::ptrdiff_t;
    using pointer = const record_header*;
    using reference = const record_header&;

    iterator() = default;
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() noexcept;
    void operator++(int) noexcept { ++*this; }
    bool operator==(const iterator& other) const noexcept { return left_ == other.left_; }

   private:
    friend class record_header_range;
    iterator(const std::uint8_t* pos, std::uint32_t left) noexcept;
    void parse() noexcept;
    const std::uint8_t* pos_ = nullptr;
    std::uint32_t left_ = 0;
    record_header current_{};
  };

  record_header_range() = default;
  record_header_range(bytes_view encoded, std::uint32_t count) noexcept
      : encoded_(encoded), count_(count) {}

  iterator begin() const noexcept { return {encoded_.data(), count_}; }
  iterator end() const noexcept { return {}; }
  std::uint32_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }

 private:
  bytes_view encoded_;
  std::uint32_t count_ = 0;
};

/// One record of a batch; its views point into the batch's bytes.
struct record_view {
  std::int64_t offset = 0;     ///< base offset + offset delta
  std::int64_t timestamp = 0;  ///< base timestamp + delta, or maxTimestamp for log append time
  std::int64_t timestamp_delta = 0;
  std::int32_t offset_delta = 0;
  std::int8_t attributes = 0;  ///< unused by Kafka so far; kept as read
  nullable_bytes_view key;
  nullable_bytes_view value;
  record_header_range headers;
  bytes_view encoded;  ///< the whole record, from its length varint on
};

/// Limits and checks applied when reading batches.
struct batch_read_options {
  /// Verify each batch's CRC-32C. Turn off only for bytes already verified.
  bool verify_crc = true;
  /// Walk every record of a batch while reading it, so that a bad record is
  /// reported by read_record_batch() rather than later during iteration.
  bool validate_records = false;
  /// A fetch response may end with a partial batch (it is cut at the fetch
  /// size). When true, record_batch_reader stops cleanly at such a tail and
  /// reports it with truncated_tail(); when false, that tail is an error.
  bool allow_truncated_tail = false;
  /// Cap on the decompressed records of one batch; see compression.hpp.
  std::size_t max_decompressed_size = default_max_decompressed_size;
};

class record_batch;

/// Parses the records of one batch, one at a time. Obtained from
/// record_batch::records(); valid while that batch and its input live.
///
///   auto cursor = batch.records();
///   for (const record_view& r : cursor) use(r);
///   if (!cursor.ok()) report(cursor.error());
class record_cursor {
 public:
  record_cursor() = default;

  /// Parses the next record into `out`. Returns false at the end of the batch
  /// or on an error (then ok() is false). At the end it checks that the batch
  /// held exactly recordsCount records and no bytes beyond them.
  bool next(record_view& out);

  bool ok() const noexcept { return !failed_; }
  const decode_error& error() const noexcept { return error_; }
  /// Records parsed so far.
  std::uint32_t index() const noexcept { return index_; }

  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = record_view;
    using difference_type = std::ptrdiff_t;
    using pointer = const record_view*;
    using reference = const record_view&;

    iterator() = default;
    reference operator*() const noexcept { return current_; }
    pointer operator->() const noexcept { return &current_; }
    iterator& operator++() {
      if (!cursor_->next(current_)) cursor_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    bool operator==(const iterator& other) const noexcept { return cursor_ == other.cursor_; }

   private:
    friend class record_cursor;
    explicit iterator(record_cursor* cursor) : cursor_(cursor) { ++*this; }
    record_cursor* cursor_ = nullptr;
    record_view current_{};
  };

  /// Iteration stops at the end or at the first error; check ok() after.
  iterator begin() { return iterator(this); }
  iterator end() noexcept { return {}; }

 private:
  friend class record_batch;
  // Parses with a diagnosis for every problem; the fast path defers to it.
  bool next_checked(record_view& out);
  bool fail(const std::uint8_t* at, codec_errc code, std::string_view field, std::string detail);

  const std::uint8_t* origin_ = nullptr;  // byte offset 0 for error offsets
  const std::uint8_t* pos_ = nullptr;
  const std::uint8_t* end_ = nullptr;
  std::size_t origin_offset_ = 0;
  std::int64_t base_offset_ = 0;
  std::int64_t base_timestamp_ = 0;
  std::int64_t max_timestamp_ = 0;
  std::int32_t last_offset_delta_ = 0;
  std::int32_t previous_offset_delta_ = -1;
  std::uint32_t count_ = 0;
  std::uint32_t index_ = 0;
  bool log_append_time_ = false;
  bool decompressed_ = false;
  bool failed_ = false;
  decode_error error_;
};

/// One record batch read from bytes. Move-only: record views point into the
/// input or into the decompressed buffer this object owns.
class record_batch {
 public:
  record_batch() = default;
  record_batch(record_batch&&) noexcept = default;
  record_batch& operator=(record_batch&&) noexcept = default;
  record_batch(const record_batch&) = delete;
  record_batch& operator=(const record_batch&) = delete;

  const record_batch_header& header() const noexcept { return header_; }
  /// The whole batch as it was in the input.
  bytes_view bytes() const noexcept { return bytes_; }
  /// The uncompressed records: in the input, or in the owned buffer.
  bytes_view records_data() const noexcept { return records_; }
  /// True when the records were decompressed into an owned buffer.
  bool is_decompressed() const noexcept { return decompressed_; }
  /// Byte offset of the batch within the reader's input.
  std::size_t input_offset() const noexcept { return input_offset_; }

  /// A cursor over the records. The batch must outlive it.
  record_cursor records() const& noexcept;
  record_cursor records() const&& = delete;

 private:
  friend result<record_batch> read_record_batch(bytes_view, const batch_read_options&, std::size_t);
  record_batch_header header_{};
  bytes_view bytes_;
  bytes_view records_;
  std::vector<std::uint8_t> owned_;
  std::size_t input_offset_ = 0;
  bool decompressed_ = false;
};

/// Parses the header of the batch at the start of `input` and checks magic,
/// lengths, CRC, counts and offsets; decompresses the records if needed.
/// Bytes after the batch are ignored (see bytes().size()). `input_offset` is
/// added to every byte offset reported, for callers that pass a sub-range.
result<record_batch> read_record_batch(bytes_view input, const batch_read_options& options = {},
                                       std::size_t input_offset = 0);

/// Deleted: the batch's views would point into a buffer that dies at the end
/// of the statement. Keep the buffer in a variable, or pass a span.
result<record_batch> read_record_batch(std::vector<std::uint8_t>&& input,
                                       const batch_read_options& options = {},
                                       std::size_t input_offset = 0) = delete;
/// Deleted, as for a vector.
result<record_batch> read_record_batch(std::string&& input, const batch_read_options& options = {},
                                       std::size_t input_offset = 0) = delete;

/// Reads the batches of a `records` field one after another.
class record_batch_reader {
 public:
  explicit record_batch_reader(bytes_view input, batch_read_options options = {},
                               std::size_t input_offset = 0) noexcept
      : input_(input), options_(options), input_offset_(input_offset) {}
  /// Deleted: the reader would keep a view of a buffer that dies at the end
  /// of the statement. Keep the buffer in a variable, or pass a span.
  explicit record_batch_reader(std::vector<std::uint8_t>&& input, batch_read_options options = {},
                               std::size_t input_offset = 0) = delete;
  /// Deleted, as for a vector.
  explicit record_batch_reader(std::string&& input, batch_read_options options = {},
                               std::size_t input_offset = 0) = delete;

  /// Reads the next batch into `out`; false at the end or on an error.
  bool next(record_batch& out);

  bool ok() const noexcept { return !failed_; }
  const decode_error& error() const noexcept { return error_; }
  /// True when reading stopped at a partial batch that options allowed.
  bool truncated_tail() const noexcept { return truncated_tail_; }
  /// Bytes consumed so far.
  std::size_t position() const noexcept { return pos_; }

 private:
  bytes_view input_;
  batch_read_options options_;
  std::size_t input_offset_;
  std::size_t pos_ = 0;
  bool failed_ = false;
  bool truncated_tail_ = false;
  decode_error error_;
};

/// The magic byte of the batch or message at the start of `input` (it sits
/// at byte 16 in every format), or -1 if the input is shorter than 17 bytes.
int peek_magic(bytes_view input) noexcept;

// ---- control records ------------------------------------------------------

/// The type in a control record's key. Values other than these exist (for
/// KRaft); they are kept as numbers.
enum class control_type : std::int16_t {
  abort = 0,
  commit = 1,
};

/// The key of a control record: version int16, type int16.
struct control_record_key {
  std::int16_t version = 0;
  std::int16_t type = 0;
};

/// Parses a control record's key; nullopt if it is null or shorter than 4 bytes.
std::optional<control_record_key> parse_control_key(const record_view& record) noexcept;

/// The value of an end-transaction marker: version int16, coordinator epoch int32.
struct end_txn_marker {
  std::int16_t version = 0;
  std::int32_t coordinator_epoch = 0;
};

/// Parses an end-transaction marker value; nullopt if malformed.
std::optional<end_txn_marker> parse_end_txn_marker(const record_view& record) noexcept;

// ---- writing --------------------------------------------------------------

/// What a batch builder writes besides the records.
struct batch_builder_options {
  compression codec = compression::none;
  int compression_level = 0;  ///< 0: the codec's default
  timestamp_type timestamps = timestamp_type::create_time;
  bool transactional = false;
  bool control = false;
  std::int64_t base_offset = 0;
  std::int32_t partition_leader_epoch = -1;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t base_sequence = -1;
};

/// An upper bound of the bytes a record adds to a batch, before compression,
/// whatever its offset and timestamp deltas: for deciding whether the next
/// record still fits a batch.size before appending it.
std::size_t estimate_record_size(std::size_t key_size, std::size_t value_size,
                                 std::span<const record_header> headers = {}) noexcept;

/// Builds one record batch. Records are encoded straight into one buffer
/// after room left for the header; finish() fills the header in place, or
/// compresses the records once into the output after the header. Appending
/// does not allocate unless the buffer outgrows what was reserved.
/// Not thread-safe.
class record_batch_builder {
 public:
  /// `reserve` is the expected batch size in bytes (e.g. batch.size).
  /// `storage` may be the buffer of an earlier, finished batch: its memory is
  /// reused (no allocation, no page faults, no zero-filling), as a producer
  /// that pools its batch buffers does. Its contents are overwritten.
  explicit record_batch_builder(const batch_builder_options& options = {}, std::size_t reserve = 0,
                                std::vector<std::uint8_t> storage = {});

  /// Appends one record with an absolute timestamp in milliseconds. Returns
  /// value_too_large (and appends nothing) when a field does not fit its wire
  /// form or the batch would hold more than INT32_MAX records or bytes.
  std::error_code append(std::int64_t timestamp, const nullable_bytes_view& key,
                         const nullable_bytes_view& value,
                         std::span<const record_header> headers = {});

  /// Appends a control record (for a control batch) with the given type.
  std::error_code append_control(std::int64_t timestamp, control_type type,
                                 const nullable_bytes_view& value, std::int16_t version = 0);

  /// Records appended so far.
  std::int32_t record_count() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  /// Encoded size so far without compression: header plus records.
  std::size_t size_in_bytes() const noexcept { return size_; }
  const batch_builder_options& options() const noexcept { return options_; }

  /// Fills in the header, compresses if asked, computes the CRC and returns
  /// the batch. Call once; the builder is empty afterwards.
  result<std::vector<std::uint8_t>> finish();

 private:
  void grow(std::size_t needed);

  batch_builder_options options_;
  std::vector<std::uint8_t> buffer_;  // its size() runs ahead of size_
  std::size_t size_ = record_batch_header_size;
  std::int32_t count_ = 0;
  std::int64_t base_timestamp_ = -1;
  std::int64_t max_timestamp_ = -1;
};

/// Writes an end-transaction marker batch (a control batch with one record).
result<std::vector<std::uint8_t>> write_end_txn_marker(const batch_builder_options& options,
                                                       control_type type,
                                                       std::int32_t coordinator_epoch,
                                                       std::int64_t timestamp);

// ---- patching batches in place (for brokers) ------------------------------

/// Sets baseOffset of the batch at the start of `batch`. It is not covered
/// by the CRC, so nothing else changes. False if `batch` is too short.
bool set_base_offset(std::span<std::uint8_t> batch, std::int64_t base_offset) noexcept;

/// Sets partitionLeaderEpoch (also outside the CRC).
bool set_partition_leader_epoch(std::span<std::uint8_t> batch, std::int32_t epoch) noexcept;

/// Marks the batch as log-append-time with the given time as maxTimestamp,
/// and recomputes the CRC. False if `batch` is shorter than its header.
bool set_log_append_time(std::span<std::uint8_t> batch, std::int64_t timestamp) noexcept;

/// Sets producer id, epoch and base sequence and recomputes the CRC (what a
/// producer does when it must re-stamp a batch with a new epoch).
bool set_producer_state(std::span<std::uint8_t> batch, std::int64_t producer_id,
                        std::int16_t producer_epoch, std::int32_t base_sequence) noexcept;

}  // namespace kwire
