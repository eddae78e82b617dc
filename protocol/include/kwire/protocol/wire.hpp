// Wire primitives: a bounds-checked reader and a growable writer for every
// Kafka field type, in both the classic and the compact (flexible) forms.
//
// The reader never throws and never reads past its input. The first failure
// is remembered (with its byte offset) and every later read returns a zero
// value, so decoders check ok() once per field rather than after every byte.
// A length read off the wire is checked against the bytes that remain before
// anything is allocated.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/protocol/detail/bytes.hpp"
#include "kwire/protocol/error.hpp"

namespace kwire {

static_assert(std::endian::native == std::endian::little,
              "kwire assumes a little-endian host (x86-64, ARMv8)");

/// A 16-byte UUID as Kafka sends it (big-endian, most significant half first).
using uuid = std::array<std::uint8_t, 16>;

/// A tagged field that this version of kwire does not know. Kept so that
/// decoding then encoding gives back the same bytes.
struct tagged_field {
  std::uint32_t tag = 0;
  std::vector<std::uint8_t> data;
  bool operator==(const tagged_field&) const = default;
};
using unknown_tagged_fields = std::vector<tagged_field>;

/// The bytes of a `records` field: null, or a range of bytes holding record
/// batches. Decoding borrows the range from the input instead of copying it;
/// when the reader was given an owner, the record_set keeps that owner alive,
/// so the view cannot dangle. Built from a vector, it owns its bytes.
class record_set {
 public:
  /// A null record set.
  record_set() = default;
  /// Takes ownership of `bytes`.
  explicit record_set(std::vector<std::uint8_t> bytes);
  /// Borrows `bytes`; `owner` (may be empty) is kept alive as long as this is.
  static record_set borrow(std::span<const std::uint8_t> bytes,
                           std::shared_ptr<const void> owner = {});

  bool is_null() const noexcept { return null_; }
  std::span<const std::uint8_t> bytes() const noexcept { return {data_, size_}; }
  std::size_t size() const noexcept { return size_; }
  /// True when the bytes are kept alive by this object (owned or with an owner).
  bool holds_lifetime() const noexcept { return owner_ != nullptr; }

  /// Same null-ness and the same bytes.
  bool operator==(const record_set& other) const noexcept;

 private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  bool null_ = true;
  std::shared_ptr<const void> owner_;
};

/// Limits applied while decoding, checked before any allocation they guard.
struct reader_limits {
  /// Largest element count accepted for one array. Counts are also checked
  /// against the bytes that remain (each element takes at least one byte), so
  /// this only matters for inputs that really are that large.
  std::uint32_t max_array_length = 1u << 24;
};

/// Reads Kafka primitives from a byte range. Not thread-safe.
class reader {
 public:
  explicit reader(std::span<const std::uint8_t> bytes, std::shared_ptr<const void> owner = {},
                  reader_limits limits = {}) noexcept
      : base_(bytes.data()),
        pos_(bytes.data()),
        end_(bytes.data() + bytes.size()),
        owner_(std::move(owner)),
        limits_(limits) {}

  bool ok() const noexcept { return !failed_; }
  std::size_t offset() const noexcept { return static_cast<std::size_t>(pos_ - base_); }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - pos_); }
  const reader_limits& limits() const noexcept { return limits_; }
  const std::shared_ptr<const void>& owner() const noexcept { return owner_; }

  std::int8_t read_int8() noexcept;
  std::int16_t read_int16() noexcept;
  std::int32_t read_int32() noexcept;
  std::int64_t read_int64() noexcept;
  std::uint16_t read_uint16() noexcept;
  std::uint32_t read_uint32() noexcept;
  double read_float64() noexcept;
  bool read_bool() noexcept;  // any non-zero byte is true, as in Kafka
  std::uint32_t read_uvarint() noexcept;
  std::uint64_t read_uvarlong() noexcept;
  std::int32_t read_varint() noexcept;   // zig-zag
  std::int64_t read_varlong() noexcept;  // zig-zag
  uuid read_uuid() noexcept;

  /// String with an int16 length (classic) or an unsigned varint length+1 (compact).
  std::string read_string(bool compact);
  std::optional<std::string> read_nullable_string(bool compact);
  /// Bytes with an int32 length (classic) or an unsigned varint length+1 (compact).
  std::vector<std::uint8_t> read_bytes(bool compact);
  std::optional<std::vector<std::uint8_t>> read_nullable_bytes(bool compact);
  /// A nullable bytes field read as a record_set borrowing from the input.
  record_set read_records(bool compact, bool nullable);
  /// `n` bytes as a view into the input (empty on failure).
  std::span<const std::uint8_t> read_view(std::size_t n) noexcept;

  /// An array length: -1 for null, else a count already checked against the
  /// remaining bytes (at least `min_element_size` each, never less than 1)
  /// and against limits().max_array_length. Null where not nullable fails.
  std::int32_t read_array_length(bool compact, bool nullable, std::size_t min_element_size);

  /// Reads the tagged-fields header: the number of tagged fields.
  std::uint32_t read_tag_count() noexcept { return read_uvarint(); }

  /// Narrows the input to the next `n` bytes (for one tagged field); returns
  /// the end to give back to restore_end(). Fails if fewer than n remain.
  const std::uint8_t* narrow(std::size_t n) noexcept;
  /// Undoes narrow(); fails with trailing_bytes if the narrowed part was not consumed.
  void restore_end(const std::uint8_t* end) noexcept;

  /// Records a failure at the current offset (the first one wins).
  void fail(codec_errc code, std::string detail = {});
  /// Records a failure at an explicit offset (the first one wins).
  void fail_at(std::size_t offset, codec_errc code, std::string detail = {});
  /// Adds a segment in front of the failure's field path as decoding unwinds.
  void prefix_path(std::string_view segment);
  void prefix_path_index(std::string_view name, std::size_t index);

  const decode_error& error() const noexcept { return error_; }
  decode_error take_error() { return std::move(error_); }

 private:
  bool need(std::size_t n) noexcept;
  template <class T>
  T read_be() noexcept;
  template <int MaxBytes>
  std::uint64_t read_unsigned_varint() noexcept;

  const std::uint8_t* base_;
  const std::uint8_t* pos_;
  const std::uint8_t* end_;
  std::shared_ptr<const void> owner_;
  reader_limits limits_;
  bool failed_ = false;
  decode_error error_;
};

/// Appends Kafka primitives to a byte vector. An encode that cannot be done
/// (a string too long for its length prefix, a null where none is allowed, a
/// field the version lacks) is remembered as the first error; check ok().
class writer {
 public:
  explicit writer(std::vector<std::uint8_t>& out) noexcept : out_(&out) {}

  bool ok() const noexcept { return !error_; }
  std::error_code error() const noexcept { return error_; }
  const std::string& error_detail() const noexcept { return detail_; }
  /// The buffer size when the first error was recorded: where it went wrong.
  std::size_t error_offset() const noexcept { return error_offset_; }
  std::vector<std::uint8_t>& buffer() noexcept { return *out_; }
  std::size_t size() const noexcept { return out_->size(); }

  void write_int8(std::int8_t v) { out_->push_back(static_cast<std::uint8_t>(v)); }
  void write_int16(std::int16_t v) { write_be(static_cast<std::uint16_t>(v)); }
  void write_int32(std::int32_t v) { write_be(static_cast<std::uint32_t>(v)); }
  void write_int64(std::int64_t v) { write_be(static_cast<std::uint64_t>(v)); }
  void write_uint16(std::uint16_t v) { write_be(v); }
  void write_uint32(std::uint32_t v) { write_be(v); }
  void write_float64(double v);
  void write_bool(bool v) { out_->push_back(v ? 1 : 0); }
  void write_uvarint(std::uint32_t v) { write_uvarlong(v); }
  void write_uvarlong(std::uint64_t v);
  void write_varint(std::int32_t v);
  void write_varlong(std::int64_t v);
  void write_uuid(const uuid& v) { write_raw(v); }
  void write_raw(std::span<const std::uint8_t> bytes);

  void write_string(std::string_view s, bool compact);
  void write_nullable_string(const std::optional<std::string>& s, bool compact);
  void write_bytes(std::span<const std::uint8_t> b, bool compact);
  void write_nullable_bytes(const std::optional<std::vector<std::uint8_t>>& b, bool compact);
  void write_records(const record_set& r, bool compact, bool nullable);
  /// An array length; -1 writes null (an error where not nullable).
  void write_array_length(std::int64_t n, bool compact, bool nullable);
  /// Writes one tagged field's header: tag and size.
  void write_tag_header(std::uint32_t tag, std::size_t size) {
    write_uvarint(tag);
    write_uvarint(static_cast<std::uint32_t>(size));
  }

  /// Remembers the first error; later writes still append but the result is void.
  void fail(codec_errc code, std::string detail = {});
  /// As fail(), for an error about one field: its schema name is the detail
  /// and also error_field(), so that frame encoders can report it as the path.
  void fail_field(codec_errc code, std::string_view field);
  /// The schema name of the field the first error was about, if it was fail_field().
  const std::string& error_field() const noexcept { return field_; }

 private:
  template <class T>
  void write_be(T v) {
    detail::append_be(*out_, v);
  }
  std::vector<std::uint8_t>* out_;
  std::error_code error_;
  std::string detail_;
  std::size_t error_offset_ = 0;
  std::string field_;
};

/// Encoded sizes, matching what writer produces byte for byte.
namespace wire_size {
inline std::size_t uvarlong(std::uint64_t v) noexcept { return detail::uvarint_size(v); }
inline std::size_t uvarint(std::uint32_t v) noexcept { return uvarlong(v); }
inline std::size_t varint(std::int32_t v) noexcept { return uvarlong(detail::zigzag32(v)); }
inline std::size_t varlong(std::int64_t v) noexcept { return uvarlong(detail::zigzag64(v)); }
inline std::size_t length_prefix(std::size_t n, bool compact, std::size_t classic_width) noexcept {
  return compact ? uvarlong(n + 1) : classic_width;
}
inline std::size_t string(std::string_view s, bool compact) noexcept {
  return length_prefix(s.size(), compact, 2) + s.size();
}
inline std::size_t nullable_string(const std::optional<std::string>& s, bool compact) noexcept {
  return s ? string(*s, compact) : (compact ? 1 : 2);
}
inline std::size_t bytes(std::size_t n, bool compact) noexcept {
  return length_prefix(n, compact, 4) + n;
}
inline std::size_t nullable_bytes(const std::optional<std::vector<std::uint8_t>>& b,
                                  bool compact) noexcept {
  return b ? bytes(b->size(), compact) : (compact ? 1 : 4);
}
inline std::size_t records(const record_set& r, bool compact) noexcept {
  return r.is_null() ? (compact ? 1 : 4) : bytes(r.size(), compact);
}
inline std::size_t array_length(std::int64_t n, bool compact) noexcept {
  return compact ? uvarlong(static_cast<std::uint64_t>(n + 1)) : 4;
}
}  // namespace wire_size

/// Encodes a uuid as Kafka's base64url text form (22 characters, no padding).
std::string uuid_to_string(const uuid& id);

}  // namespace kwire
