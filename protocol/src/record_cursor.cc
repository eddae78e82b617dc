// Records inside a batch: parsing them one at a time (record_cursor, a fast
// path and a checked path that names every problem), iterating a record's
// headers, and the keys and values of control records.
#include "kwire/protocol/record_batch.hpp"

#include <string>

#include "kwire/protocol/detail/bytes.hpp"
#include "record_batch_layout.hpp"

namespace kwire {
namespace {

using detail::batch_path;
using detail::get_uvarint;
using detail::load_be;
using detail::varint_status;

// Reads a zig-zag varint that was already validated (header iteration).
inline std::int64_t get_validated_varint(const std::uint8_t*& p) noexcept {
  std::uint64_t v = 0;
  int shift = 0;
  std::uint8_t b;
  do {
    b = *p++;
    v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  return detail::unzigzag64(v);
}

}  // namespace

// ---- headers ------------------------------------------------------------

record_header_range::iterator::iterator(const std::uint8_t* pos, std::uint32_t left) noexcept
    : pos_(pos), left_(left) {
  if (left_ != 0) parse();
}

void record_header_range::iterator::parse() noexcept {
  const std::int64_t key_len = get_validated_varint(pos_);
  current_.key = {reinterpret_cast<const char*>(pos_), static_cast<std::size_t>(key_len)};
  pos_ += key_len;
  const std::int64_t value_len = get_validated_varint(pos_);
  if (value_len < 0) {
    current_.value.reset();
  } else {
    current_.value = bytes_view(pos_, static_cast<std::size_t>(value_len));
    pos_ += value_len;
  }
}

record_header_range::iterator& record_header_range::iterator::operator++() noexcept {
  if (--left_ != 0) parse();
  return *this;
}

// ---- records --------------------------------------------------------------

[[gnu::cold]] bool record_cursor::fail(const std::uint8_t* where, codec_errc code,
                                       std::string_view field, std::string detail) {
  failed_ = true;
  error_.code = code;
  error_.offset = origin_offset_ + static_cast<std::size_t>(where - origin_);
  error_.path = batch_path(base_offset_, true);
  error_.path += ".records[";
  error_.path += std::to_string(index_);
  error_.path += ']';
  if (!field.empty()) {
    error_.path += '.';
    error_.path += field;
  }
  error_.context =
      decompressed_ ? "record batch (offset within its decompressed records)" : "record batch";
  error_.detail = std::move(detail);
  return false;
}

namespace {

// The common case in a few bytes and branches: one to three bytes, in bounds.
template <int MaxBytes>
inline bool fast_uvarint(const std::uint8_t*& p, const std::uint8_t* end,
                         std::uint64_t& v) noexcept {
  if (end - p >= 3) [[likely]] {
    const std::uint64_t b0 = p[0];
    if (b0 < 0x80) {
      v = b0;
      p += 1;
      return true;
    }
    const std::uint64_t b1 = p[1];
    if (b1 < 0x80) {
      v = (b0 & 0x7f) | (b1 << 7);
      p += 2;
      return true;
    }
    const std::uint64_t b2 = p[2];
    if (b2 < 0x80) {
      v = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
      p += 3;
      return true;
    }
  }
  return get_uvarint<MaxBytes>(p, end, v) == varint_status::ok;
}

inline bool fast_nullable(const std::uint8_t*& p, const std::uint8_t* end,
                          nullable_bytes_view& dst) noexcept {
  std::uint64_t u;
  if (!fast_uvarint<5>(p, end, u)) return false;
  const std::int64_t n = detail::unzigzag64(u);
  if (n >= 0) {
    if (n > end - p) return false;
    dst = bytes_view(p, static_cast<std::size_t>(n));
    p += n;
    return true;
  }
  dst.reset();
  return n == -1;
}

}  // namespace

bool record_cursor::next(record_view& out) {
  if (failed_ || index_ == count_) [[unlikely]]
    return next_checked(out);
  // Fast path: parse assuming the record is well formed. On anything odd,
  // next_checked() parses the same record again and names the problem.
  const std::uint8_t* p = pos_;
  std::uint64_t u;
  if (!fast_uvarint<5>(p, end_, u)) return next_checked(out);
  const std::int64_t length = detail::unzigzag64(u);
  if (length <= 0 || length > end_ - p) return next_checked(out);
  const std::uint8_t* const rend = p + length;
  const auto attributes = static_cast<std::int8_t>(*p++);
  if (!fast_uvarint<10>(p, rend, u)) return next_checked(out);
  const std::int64_t timestamp_delta = detail::unzigzag64(u);
  if (!fast_uvarint<5>(p, rend, u)) return next_checked(out);
  const std::int64_t offset_delta = detail::unzigzag64(u);
  if (!fast_nullable(p, rend, out.key) || !fast_nullable(p, rend, out.value)) {
    return next_checked(out);
  }
  if (!fast_uvarint<5>(p, rend, u)) return next_checked(out);
  const std::int64_t header_count = detail::unzigzag64(u);
  const std::uint8_t* const headers_start = p;
  if (header_count != 0) {
    if (header_count < 0 || header_count > (rend - p) / 2) return next_checked(out);
    for (std::int64_t h = 0; h < header_count; ++h) {
      if (!fast_uvarint<5>(p, rend, u)) return next_checked(out);
      const std::int64_t key_len = detail::unzigzag64(u);
      if (key_len < 0 || key_len > rend - p) return next_checked(out);
      p += key_len;
      nullable_bytes_view ignored;
      if (!fast_nullable(p, rend, ignored)) return next_checked(out);
    }
  }
  std::int64_t timestamp;
  if (p != rend || offset_delta <= previous_offset_delta_ || offset_delta > last_offset_delta_ ||
      __builtin_add_overflow(base_timestamp_, timestamp_delta, &timestamp)) {
    return next_checked(out);
  }
  out.attributes = attributes;
  out.timestamp_delta = timestamp_delta;
  out.offset_delta = static_cast<std::int32_t>(offset_delta);
  out.offset = base_offset_ + offset_delta;
  out.timestamp = log_append_time_ ? max_timestamp_ : timestamp;
  out.headers =
      record_header_range(bytes_view(headers_start, static_cast<std::size_t>(rend - headers_start)),
                          static_cast<std::uint32_t>(header_count));
  out.encoded = bytes_view(pos_, static_cast<std::size_t>(rend - pos_));
  previous_offset_delta_ = static_cast<std::int32_t>(offset_delta);
  pos_ = rend;
  ++index_;
  return true;
}

[[gnu::noinline]] bool record_cursor::next_checked(record_view& out) {
  if (failed_) return false;
  if (index_ == count_) {
    if (pos_ != end_) {
      return fail(pos_, codec_errc::invalid_record, "",
                  "recordsCount is " + std::to_string(count_) + " but " +
                      std::to_string(end_ - pos_) + " bytes follow the last record");
    }
    return false;
  }
  const std::uint8_t* const start = pos_;
  const std::uint8_t* p = pos_;
  std::uint64_t u = 0;

  auto varint_error = [&](varint_status st, const std::uint8_t* where, std::string_view field) {
    return st == varint_status::truncated
               ? fail(where, codec_errc::truncated, field, "record ends inside a varint")
               : fail(where, codec_errc::varint_too_long, field, {});
  };

  // length, bounded by the batch
  if (auto st = get_uvarint<5>(p, end_, u); st != varint_status::ok) {
    if (st == varint_status::truncated) {
      return fail(start, codec_errc::truncated, "length",
                  "recordsCount is " + std::to_string(count_) + " but the batch ends after " +
                      std::to_string(index_) + " records");
    }
    return varint_error(st, start, "length");
  }
  const std::int64_t length = detail::unzigzag64(u);
  if (length < 0) {
    return fail(start, codec_errc::invalid_record, "length",
                "negative length " + std::to_string(length));
  }
  if (length > end_ - p) {
    return fail(start, codec_errc::length_exceeds_input, "length",
                "length " + std::to_string(length) + " > " + std::to_string(end_ - p) +
                    " bytes left in the batch");
  }
  const std::uint8_t* const rend = p + length;
  if (p == rend) return fail(p, codec_errc::truncated, "attributes", "empty record");
  out.attributes = static_cast<std::int8_t>(*p++);

  const std::uint8_t* field_start = p;
  if (auto st = get_uvarint<10>(p, rend, u); st != varint_status::ok) {
    return varint_error(st, field_start, "timestampDelta");
  }
  out.timestamp_delta = detail::unzigzag64(u);

  field_start = p;
  if (auto st = get_uvarint<5>(p, rend, u); st != varint_status::ok) {
    return varint_error(st, field_start, "offsetDelta");
  }
  const auto offset_delta = static_cast<std::int32_t>(detail::unzigzag64(u));

  // key and value: -1 is null
  auto read_nullable = [&](nullable_bytes_view& dst, std::string_view length_field,
                           std::string_view field) -> bool {
    const std::uint8_t* s = p;
    if (auto st = get_uvarint<5>(p, rend, u); st != varint_status::ok) {
      return varint_error(st, s, length_field);
    }
    const std::int64_t n = detail::unzigzag64(u);
    if (n < 0) {
      if (n != -1) {
        return fail(s, codec_errc::negative_length, field, "length " + std::to_string(n));
      }
      dst.reset();
      return true;
    }
    if (n > rend - p) {
      return fail(s, codec_errc::length_exceeds_input, field,
                  "length " + std::to_string(n) + " > " + std::to_string(rend - p) +
                      " bytes left in the record");
    }
    dst = bytes_view(p, static_cast<std::size_t>(n));
    p += n;
    return true;
  };
  if (!read_nullable(out.key, "keyLength", "key")) return false;
  if (!read_nullable(out.value, "valueLength", "value")) return false;

  field_start = p;
  if (auto st = get_uvarint<5>(p, rend, u); st != varint_status::ok) {
    return varint_error(st, field_start, "headersCount");
  }
  const std::int64_t header_count = detail::unzigzag64(u);
  // Each header takes at least two bytes (its two lengths).
  if (header_count < 0) {
    return fail(field_start, codec_errc::negative_length, "headersCount",
                "count " + std::to_string(header_count));
  }
  if (header_count > (rend - p) / 2) {
    return fail(field_start, codec_errc::length_exceeds_input, "headersCount",
                "count " + std::to_string(header_count) + " needs at least " +
                    std::to_string(2 * header_count) + " bytes, " + std::to_string(rend - p) +
                    " left in the record");
  }
  const std::uint8_t* const headers_start = p;
  for (std::int64_t h = 0; h < header_count; ++h) {
    const std::uint8_t* s = p;
    auto header_field = [&](const char* name) {
      return "headers[" + std::to_string(h) + "]." + name;
    };
    if (auto st = get_uvarint<5>(p, rend, u); st != varint_status::ok) {
      return varint_error(st, s, header_field("keyLength"));
    }
    const std::int64_t key_len = detail::unzigzag64(u);
    if (key_len < 0) {
      return fail(s, key_len == -1 ? codec_errc::null_not_allowed : codec_errc::negative_length,
                  header_field("key"), "header key length " + std::to_string(key_len));
    }
    if (key_len > rend - p) {
      return fail(s, codec_errc::length_exceeds_input, header_field("key"),
                  "length " + std::to_string(key_len) + " > " + std::to_string(rend - p) +
                      " bytes left in the record");
    }
    p += key_len;
    nullable_bytes_view ignored;
    if (!read_nullable(ignored, header_field("valueLength"), header_field("value"))) return false;
  }
  if (p != rend) {
    return fail(start, codec_errc::invalid_record, "length",
                "length " + std::to_string(length) + " but the fields end " +
                    std::to_string(rend - p) + " bytes earlier");
  }

  if (offset_delta <= previous_offset_delta_) {
    return fail(start, codec_errc::invalid_record, "offsetDelta",
                "offsetDelta " + std::to_string(offset_delta) + " after " +
                    std::to_string(previous_offset_delta_) + ": offsets must increase");
  }
  if (offset_delta > last_offset_delta_) {
    return fail(start, codec_errc::invalid_record, "offsetDelta",
                "offsetDelta " + std::to_string(offset_delta) + " > lastOffsetDelta " +
                    std::to_string(last_offset_delta_));
  }
  std::int64_t timestamp;
  if (__builtin_add_overflow(base_timestamp_, out.timestamp_delta, &timestamp)) {
    return fail(start, codec_errc::invalid_record, "timestampDelta",
                "baseTimestamp " + std::to_string(base_timestamp_) + " + timestampDelta " +
                    std::to_string(out.timestamp_delta) + " overflows int64");
  }

  out.offset_delta = offset_delta;
  // base_offset + last_offset_delta was checked not to overflow.
  out.offset = base_offset_ + offset_delta;
  out.timestamp = log_append_time_ ? max_timestamp_ : timestamp;
  out.headers =
      record_header_range(bytes_view(headers_start, static_cast<std::size_t>(p - headers_start)),
                          static_cast<std::uint32_t>(header_count));
  out.encoded = bytes_view(start, static_cast<std::size_t>(rend - start));
  previous_offset_delta_ = offset_delta;
  pos_ = rend;
  ++index_;
  return true;
}

record_cursor record_batch::records() const& noexcept {
  record_cursor c;
  c.origin_ = decompressed_ ? owned_.data() : bytes_.data();
  c.origin_offset_ = decompressed_ ? 0 : input_offset_;
  c.pos_ = records_.data();
  c.end_ = records_.data() + records_.size();
  c.base_offset_ = header_.base_offset;
  c.base_timestamp_ = header_.base_timestamp;
  c.max_timestamp_ = header_.max_timestamp;
  c.last_offset_delta_ = header_.last_offset_delta;
  c.count_ = static_cast<std::uint32_t>(header_.records_count);
  c.log_append_time_ = header_.is_log_append_time();
  c.decompressed_ = decompressed_;
  return c;
}

// ---- control records --------------------------------------------------------

std::optional<control_record_key> parse_control_key(const record_view& record) noexcept {
  if (!record.key || record.key->size() < 4) return std::nullopt;
  return control_record_key{load_be<std::int16_t>(record.key->data()),
                            load_be<std::int16_t>(record.key->data() + 2)};
}

std::optional<end_txn_marker> parse_end_txn_marker(const record_view& record) noexcept {
  if (!record.value || record.value->size() < 6) return std::nullopt;
  return end_txn_marker{load_be<std::int16_t>(record.value->data()),
                        load_be<std::int32_t>(record.value->data() + 2)};
}

}  // namespace kwire
