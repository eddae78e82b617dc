#include "kwire/protocol/record_batch.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string>

#include "kwire/protocol/crc32c.hpp"

namespace kwire {
namespace {

// ---- byte helpers -------------------------------------------------------

template <class T>
T load_be(const std::uint8_t* p) noexcept {
  using U = std::make_unsigned_t<T>;
  U v;
  std::memcpy(&v, p, sizeof(U));
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(U) == 2) v = static_cast<U>(__builtin_bswap16(v));
    if constexpr (sizeof(U) == 4) v = static_cast<U>(__builtin_bswap32(v));
    if constexpr (sizeof(U) == 8) v = static_cast<U>(__builtin_bswap64(v));
  }
  return static_cast<T>(v);
}

template <class T>
void store_be(std::uint8_t* p, T value) noexcept {
  using U = std::make_unsigned_t<T>;
  U v = static_cast<U>(value);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(U) == 2) v = static_cast<U>(__builtin_bswap16(v));
    if constexpr (sizeof(U) == 4) v = static_cast<U>(__builtin_bswap32(v));
    if constexpr (sizeof(U) == 8) v = static_cast<U>(__builtin_bswap64(v));
  }
  std::memcpy(p, &v, sizeof(U));
}

// Byte positions of the header fields.
namespace at {
constexpr std::size_t base_offset = 0;
constexpr std::size_t batch_length = 8;
constexpr std::size_t partition_leader_epoch = 12;
constexpr std::size_t magic = 16;
constexpr std::size_t crc = 17;
constexpr std::size_t attributes = 21;
constexpr std::size_t last_offset_delta = 23;
constexpr std::size_t base_timestamp = 27;
constexpr std::size_t max_timestamp = 35;
constexpr std::size_t producer_id = 43;
constexpr std::size_t producer_epoch = 51;
constexpr std::size_t base_sequence = 53;
constexpr std::size_t records_count = 57;
}  // namespace at

// The smallest record: length, attributes, timestampDelta, offsetDelta,
// keyLength, valueLength and headers count, one byte each.
constexpr std::size_t min_record_size = 7;

record_batch_header parse_header(const std::uint8_t* p) noexcept {
  record_batch_header h;
  h.base_offset = load_be<std::int64_t>(p + at::base_offset);
  h.batch_length = load_be<std::int32_t>(p + at::batch_length);
  h.partition_leader_epoch = load_be<std::int32_t>(p + at::partition_leader_epoch);
  h.magic = static_cast<std::int8_t>(p[at::magic]);
  h.crc = load_be<std::uint32_t>(p + at::crc);
  h.attributes = load_be<std::int16_t>(p + at::attributes);
  h.last_offset_delta = load_be<std::int32_t>(p + at::last_offset_delta);
  h.base_timestamp = load_be<std::int64_t>(p + at::base_timestamp);
  h.max_timestamp = load_be<std::int64_t>(p + at::max_timestamp);
  h.producer_id = load_be<std::int64_t>(p + at::producer_id);
  h.producer_epoch = load_be<std::int16_t>(p + at::producer_epoch);
  h.base_sequence = load_be<std::int32_t>(p + at::base_sequence);
  h.records_count = load_be<std::int32_t>(p + at::records_count);
  return h;
}

void write_header(std::uint8_t* p, const record_batch_header& h) noexcept {
  store_be(p + at::base_offset, h.base_offset);
  store_be(p + at::batch_length, h.batch_length);
  store_be(p + at::partition_leader_epoch, h.partition_leader_epoch);
  p[at::magic] = static_cast<std::uint8_t>(h.magic);
  store_be(p + at::crc, h.crc);
  store_be(p + at::attributes, h.attributes);
  store_be(p + at::last_offset_delta, h.last_offset_delta);
  store_be(p + at::base_timestamp, h.base_timestamp);
  store_be(p + at::max_timestamp, h.max_timestamp);
  store_be(p + at::producer_id, h.producer_id);
  store_be(p + at::producer_epoch, h.producer_epoch);
  store_be(p + at::base_sequence, h.base_sequence);
  store_be(p + at::records_count, h.records_count);
}

// The CRC covers attributes to the end of the batch.
std::uint32_t batch_crc(const std::uint8_t* batch, std::size_t size) noexcept {
  return crc32c({batch + at::attributes, size - at::attributes});
}

// ---- varints ------------------------------------------------------------

enum class varint_status { ok, truncated, too_long };

// An unsigned varint of at most MaxBytes bytes within [p, end). The last
// allowed byte may only carry the bits that still fit the type.
template <int MaxBytes>
inline varint_status get_uvarint(const std::uint8_t*& p, const std::uint8_t* end,
                                 std::uint64_t& out) noexcept {
  if (p < end && *p < 0x80) [[likely]] {
    out = *p++;
    return varint_status::ok;
  }
  std::uint64_t v = 0;
  constexpr std::uint8_t last_max = MaxBytes == 5 ? 0x0f : 0x01;
  for (int i = 0; i < MaxBytes; ++i) {
    if (p + i >= end) return varint_status::truncated;
    const std::uint8_t b = p[i];
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i == MaxBytes - 1 && b > last_max) return varint_status::too_long;
      p += i + 1;
      out = v;
      return varint_status::ok;
    }
  }
  return varint_status::too_long;
}

inline std::int64_t unzigzag(std::uint64_t u) noexcept {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

inline std::uint64_t zigzag64(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::uint64_t zigzag32(std::int32_t v) noexcept {
  return (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31);
}

inline std::size_t uvarint_size(std::uint64_t v) noexcept {
  // ceil(bits / 7) without a division: (floor(log2) * 9 + 73) / 64.
  const auto log2 = static_cast<std::size_t>(std::bit_width(v | 1)) - 1;
  return (log2 * 9 + 73) / 64;
}

inline std::uint8_t* put_uvarint(std::uint8_t* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}

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
  return unzigzag(v);
}

std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 28; i >= 0; i -= 4) s += digits[(v >> i) & 0xf];
  return s;
}

std::string batch_path(std::int64_t base_offset, bool known) {
  std::string s = "batch";
  if (known) {
    s += "@baseOffset=";
    s += std::to_string(base_offset);
  }
  return s;
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

[[gnu::cold]] bool record_cursor::fail(const std::uint8_t* where, codec_errc code, std::string_view field,
                         std::string detail) {
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
  error_.context = decompressed_ ? "record batch (offset within its decompressed records)"
                                 : "record batch";
  error_.detail = std::move(detail);
  return false;
}

namespace {

// The common case in a few bytes and branches: one to three bytes, in bounds.
template <int MaxBytes>
inline bool fast_uvarint(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& v) noexcept {
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
  const std::int64_t n = unzigzag(u);
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
  if (failed_ || index_ == count_) [[unlikely]] return next_checked(out);
  // Fast path: parse assuming the record is well formed. On anything odd,
  // next_checked() parses the same record again and names the problem.
  const std::uint8_t* p = pos_;
  std::uint64_t u;
  if (!fast_uvarint<5>(p, end_, u)) return next_checked(out);
  const std::int64_t length = unzigzag(u);
  if (length <= 0 || length > end_ - p) return next_checked(out);
  const std::uint8_t* const rend = p + length;
  const auto attributes = static_cast<std::int8_t>(*p++);
  if (!fast_uvarint<10>(p, rend, u)) return next_checked(out);
  const std::int64_t timestamp_delta = unzigzag(u);
  if (!fast_uvarint<5>(p, rend, u)) return next_checked(out);
  const std::int64_t offset_delta = unzigzag(u);
  if (!fast_nullable(p, rend, out.key) || !fast_nullable(p, rend, out.value)) {
    return next_checked(out);
  }
  if (!fast_uvarint<5>(p, rend, u)) return next_checked(out);
  const std::int64_t header_count = unzigzag(u);
  const std::uint8_t* const headers_start = p;
  if (header_count != 0) {
    if (header_count < 0 || header_count > (rend - p) / 2) return next_checked(out);
    for (std::int64_t h = 0; h < header_count; ++h) {
      if (!fast_uvarint<5>(p, rend, u)) return next_checked(out);
      const std::int64_t key_len = unzigzag(u);
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
  out.headers = record_header_range(
      bytes_view(headers_start, static_cast<std::size_t>(rend - headers_start)),
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
  const std::int64_t length = unzigzag(u);
  if (length < 0) {
    return fail(start, codec_errc::invalid_record, "length", "negative length " + std::to_string(length));
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
  out.timestamp_delta = unzigzag(u);

  field_start = p;
  if (auto st = get_uvarint<5>(p, rend, u); st != varint_status::ok) {
    return varint_error(st, field_start, "offsetDelta");
  }
  const auto offset_delta = static_cast<std::int32_t>(unzigzag(u));

  // key and value: -1 is null
  auto read_nullable = [&](nullable_bytes_view& dst, std::string_view length_field,
                           std::string_view field) -> bool {
    const std::uint8_t* s = p;
    if (auto st = get_uvarint<5>(p, rend, u); st != varint_status::ok) {
      return varint_error(st, s, length_field);
    }
    const std::int64_t n = unzigzag(u);
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
  const std::int64_t header_count = unzigzag(u);
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
    const std::int64_t key_len = unzigzag(u);
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
  out.headers = record_header_range(bytes_view(headers_start, static_cast<std::size_t>(p - headers_start)),
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

// ---- reading batches --------------------------------------------------------

result<record_batch> read_record_batch(bytes_view input, const batch_read_options& options,
                                       std::size_t input_offset) {
  const bool base_known = input.size() >= 8;
  const std::int64_t base_offset = base_known ? load_be<std::int64_t>(input.data()) : 0;
  auto failure = [&](std::error_code code, std::size_t where, std::string_view field,
                     std::string detail) -> decode_error {
    decode_error e;
    e.code = code;
    e.offset = input_offset + where;
    e.path = batch_path(base_offset, base_known);
    if (!field.empty()) {
      e.path += '.';
      e.path += field;
    }
    e.context = "record batch";
    e.detail = std::move(detail);
    return e;
  };

  if (input.size() < record_batch_log_overhead) {
    return failure(codec_errc::truncated, 0, "batchLength",
                   "input ends after " + std::to_string(input.size()) + " bytes");
  }
  const std::int32_t batch_length = load_be<std::int32_t>(input.data() + at::batch_length);
  // Magic first: a legacy message set handed here is better named as such.
  if (input.size() > at::magic && static_cast<std::int8_t>(input[at::magic]) != record_batch_magic) {
    return failure(codec_errc::invalid_record, at::magic, "magic",
                   "magic " + std::to_string(static_cast<std::int8_t>(input[at::magic])) +
                       ", expected 2 (magic 0 and 1 are legacy message sets)");
  }
  constexpr std::int32_t min_length = record_batch_header_size - record_batch_log_overhead;
  if (batch_length < min_length) {
    return failure(codec_errc::invalid_record, at::batch_length, "batchLength",
                   "batchLength " + std::to_string(batch_length) + " < " +
                       std::to_string(min_length) + ", the size of an empty batch");
  }
  const std::size_t total = record_batch_log_overhead + static_cast<std::size_t>(batch_length);
  if (total > input.size()) {
    return failure(codec_errc::truncated, at::batch_length, "batchLength",
                   "batchLength " + std::to_string(batch_length) + " but only " +
                       std::to_string(input.size() - record_batch_log_overhead) +
                       " bytes follow it");
  }

  record_batch batch;
  batch.header_ = parse_header(input.data());
  batch.bytes_ = input.first(total);
  batch.input_offset_ = input_offset;
  const record_batch_header& h = batch.header_;

  if (options.verify_crc) {
    const std::uint32_t computed = batch_crc(input.data(), total);
    if (computed != h.crc) {
      return failure(codec_errc::crc_mismatch, at::crc, "crc",
                     "stored " + hex32(h.crc) + ", computed " + hex32(computed));
    }
  }
  if (!is_known_compression(h.attributes & batch_attribute::compression_mask)) {
    return failure(codec_errc::unsupported_compression, at::attributes, "attributes",
                   "compression codec " +
                       std::to_string(h.attributes & batch_attribute::compression_mask));
  }
  if (h.records_count < 0) {
    return failure(codec_errc::negative_length, at::records_count, "recordsCount",
                   "recordsCount " + std::to_string(h.records_count));
  }
  if (h.last_offset_delta < h.records_count - 1) {
    return failure(codec_errc::invalid_record, at::last_offset_delta, "lastOffsetDelta",
                   "lastOffsetDelta " + std::to_string(h.last_offset_delta) + " is too small for " +
                       std::to_string(h.records_count) + " records");
  }
  std::int64_t last_offset;
  if (__builtin_add_overflow(h.base_offset, static_cast<std::int64_t>(h.last_offset_delta),
                             &last_offset)) {
    return failure(codec_errc::invalid_record, at::last_offset_delta, "lastOffsetDelta",
                   "baseOffset + lastOffsetDelta overflows int64");
  }

  const bytes_view region = batch.bytes_.subspan(record_batch_header_size);
  if (h.codec() == compression::none) {
    batch.records_ = region;
  } else {
    auto n = decompress(h.codec(), region, batch.owned_, options.max_decompressed_size);
    if (!n) {
      return failure(n.error().code, record_batch_header_size + n.error().offset, "records",
                     n.error().detail);
    }
    batch.records_ = bytes_view(batch.owned_.data(), batch.owned_.size());
    batch.decompressed_ = true;
  }
  if (static_cast<std::uint64_t>(h.records_count) * min_record_size > batch.records_.size()) {
    return failure(codec_errc::length_exceeds_input, at::records_count, "recordsCount",
                   "recordsCount " + std::to_string(h.records_count) + " needs at least " +
                       std::to_string(static_cast<std::uint64_t>(h.records_count) * min_record_size) +
                       " bytes of records, the batch has " + std::to_string(batch.records_.size()) +
                       (batch.decompressed_ ? " after decompression" : ""));
  }

  if (options.validate_records) {
    record_cursor cursor = batch.records();
    record_view r;
    while (cursor.next(r)) {
    }
    if (!cursor.ok()) return cursor.error();
  }
  return batch;
}

bool record_batch_reader::next(record_batch& out) {
  if (failed_ || truncated_tail_ || pos_ >= input_.size()) return false;
  const bytes_view rest = input_.subspan(pos_);
  // A fetch may cut the last batch short; recognise that before parsing.
  if (options_.allow_truncated_tail) {
    bool partial = rest.size() < record_batch_log_overhead;
    if (!partial) {
      const std::int32_t length = load_be<std::int32_t>(rest.data() + at::batch_length);
      partial = length >= 0 &&
                record_batch_log_overhead + static_cast<std::size_t>(length) > rest.size();
    }
    if (partial) {
      truncated_tail_ = true;
      return false;
    }
  }
  auto r = read_record_batch(rest, options_, input_offset_ + pos_);
  if (!r) {
    failed_ = true;
    error_ = r.error();
    return false;
  }
  out = std::move(r).value();
  pos_ += out.bytes().size();
  return true;
}

int peek_magic(bytes_view input) noexcept {
  if (input.size() <= at::magic) return -1;
  return static_cast<std::int8_t>(input[at::magic]);
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

// ---- writing ------------------------------------------------------------------

std::size_t estimate_record_size(std::size_t key_size, std::size_t value_size,
                                 std::span<const record_header> headers) noexcept {
  // Worst-case varints: 5 bytes for int32 fields, 10 for the timestamp delta.
  std::size_t n = 5 + 1 + 10 + 5 + 5 + key_size + 5 + value_size + 5;
  for (const auto& h : headers) n += 5 + h.key.size() + 5 + (h.value ? h.value->size() : 0);
  return n;
}

record_batch_builder::record_batch_builder(const batch_builder_options& options,
                                           std::size_t reserve, std::vector<std::uint8_t> storage)
    : options_(options), buffer_(std::move(storage)) {
  buffer_.reserve(std::max(reserve, record_batch_header_size));
  // A recycled buffer keeps its size: those bytes need no zero-filling again.
  if (buffer_.size() < record_batch_header_size) buffer_.resize(record_batch_header_size);
}

void record_batch_builder::grow(std::size_t needed) {
  // Zero-filling vector growth is done in doubling steps rather than per
  // record: one call per step instead of one per append, and at most twice
  // the bytes used are ever zeroed, however large the reservation. Memory
  // already reserved is used up to its capacity before anything moves.
  const std::size_t doubled = std::max({needed, buffer_.size() * 2, std::size_t{4096}});
  buffer_.resize(needed <= buffer_.capacity() ? std::min(doubled, buffer_.capacity()) : doubled);
}

std::error_code record_batch_builder::append(std::int64_t timestamp,
                                             const nullable_bytes_view& key,
                                             const nullable_bytes_view& value,
                                             std::span<const record_header> headers) {
  constexpr std::size_t int32_max = static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
  if (count_ == std::numeric_limits<std::int32_t>::max()) return codec_errc::value_too_large;
  std::int64_t timestamp_delta = 0;
  if (count_ != 0 && __builtin_sub_overflow(timestamp, base_timestamp_, &timestamp_delta)) {
    return codec_errc::value_too_large;
  }
  const std::size_t key_len = key ? key->size() : 0;
  const std::size_t value_len = value ? value->size() : 0;
  if (key_len > int32_max || value_len > int32_max || headers.size() > int32_max) {
    return codec_errc::value_too_large;
  }
  const std::uint64_t ts_zz = zigzag64(timestamp_delta);
  const std::uint64_t offset_zz = zigzag32(count_);
  const std::uint64_t key_zz = key ? zigzag32(static_cast<std::int32_t>(key_len)) : 1;
  const std::uint64_t value_zz = value ? zigzag32(static_cast<std::int32_t>(value_len)) : 1;
  const std::uint64_t headers_zz = zigzag32(static_cast<std::int32_t>(headers.size()));

  std::size_t body = 1 + uvarint_size(ts_zz) + uvarint_size(offset_zz) + uvarint_size(key_zz) +
                     key_len + uvarint_size(value_zz) + value_len + uvarint_size(headers_zz);
  for (const auto& h : headers) {
    const std::size_t hv = h.value ? h.value->size() : 0;
    if (h.key.size() > int32_max || hv > int32_max) return codec_errc::value_too_large;
    body += uvarint_size(zigzag32(static_cast<std::int32_t>(h.key.size()))) + h.key.size() +
            (h.value ? uvarint_size(zigzag32(static_cast<std::int32_t>(hv))) + hv : 1);
  }
  if (body > int32_max) return codec_errc::value_too_large;
  const std::uint64_t length_zz = zigzag32(static_cast<std::int32_t>(body));
  const std::size_t total = uvarint_size(length_zz) + body;
  const std::size_t old = size_;
  if (old - record_batch_log_overhead + total > int32_max) return codec_errc::value_too_large;

  if (old + total > buffer_.size()) [[unlikely]] grow(old + total);
  std::uint8_t* p = buffer_.data() + old;
  p = put_uvarint(p, length_zz);
  *p++ = 0;  // record attributes: none defined
  p = put_uvarint(p, ts_zz);
  p = put_uvarint(p, offset_zz);
  p = put_uvarint(p, key_zz);
  if (key_len != 0) {
    std::memcpy(p, key->data(), key_len);
    p += key_len;
  }
  p = put_uvarint(p, value_zz);
  if (value_len != 0) {
    std::memcpy(p, value->data(), value_len);
    p += value_len;
  }
  p = put_uvarint(p, headers_zz);
  for (const auto& h : headers) {
    p = put_uvarint(p, zigzag32(static_cast<std::int32_t>(h.key.size())));
    if (!h.key.empty()) {
      std::memcpy(p, h.key.data(), h.key.size());
      p += h.key.size();
    }
    if (!h.value) {
      p = put_uvarint(p, 1);  // zig-zag of -1
    } else {
      p = put_uvarint(p, zigzag32(static_cast<std::int32_t>(h.value->size())));
      if (!h.value->empty()) {
        std::memcpy(p, h.value->data(), h.value->size());
        p += h.value->size();
      }
    }
  }

  if (count_ == 0) {
    base_timestamp_ = timestamp;
    max_timestamp_ = timestamp;
  } else if (timestamp > max_timestamp_) {
    max_timestamp_ = timestamp;
  }
  size_ = old + total;
  ++count_;
  return {};
}

std::error_code record_batch_builder::append_control(std::int64_t timestamp, control_type type,
                                                     const nullable_bytes_view& value,
                                                     std::int16_t version) {
  std::uint8_t key[4];
  store_be(key, version);
  store_be(key + 2, static_cast<std::int16_t>(type));
  return append(timestamp, bytes_view(key, 4), value);
}

result<std::vector<std::uint8_t>> record_batch_builder::finish() {
  record_batch_header h;
  h.base_offset = options_.base_offset;
  h.partition_leader_epoch = options_.partition_leader_epoch;
  h.magic = record_batch_magic;
  h.attributes = static_cast<std::int16_t>(static_cast<int>(options_.codec) & batch_attribute::compression_mask);
  if (options_.timestamps == timestamp_type::log_append_time) h.attributes |= batch_attribute::log_append_time;
  if (options_.transactional) h.attributes |= batch_attribute::transactional;
  if (options_.control) h.attributes |= batch_attribute::control;
  h.last_offset_delta = count_ - 1;
  h.base_timestamp = count_ != 0 ? base_timestamp_ : -1;
  h.max_timestamp = count_ != 0 ? max_timestamp_ : -1;
  h.producer_id = options_.producer_id;
  h.producer_epoch = options_.producer_epoch;
  h.base_sequence = options_.base_sequence;
  h.records_count = count_;

  buffer_.resize(size_);  // shrinking: no reallocation, no copy
  std::vector<std::uint8_t> out;
  if (options_.codec == compression::none) {
    out = std::move(buffer_);
  } else {
    const bytes_view records(buffer_.data() + record_batch_header_size,
                             buffer_.size() - record_batch_header_size);
    out.reserve(record_batch_header_size + max_compressed_size(options_.codec, records.size()));
    out.resize(record_batch_header_size);
    if (auto ec = compress(options_.codec, records, out, options_.compression_level)) {
      decode_error e;
      e.code = ec;
      e.path = "batch.records";
      e.context = "record batch builder";
      e.detail = std::string("compressing with ") + std::string(to_string(options_.codec));
      return e;
    }
    if (out.size() - record_batch_log_overhead >
        static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      decode_error e;
      e.code = codec_errc::value_too_large;
      e.path = "batch.batchLength";
      e.context = "record batch builder";
      return e;
    }
  }
  h.batch_length = static_cast<std::int32_t>(out.size() - record_batch_log_overhead);
  write_header(out.data(), h);
  store_be(out.data() + at::crc, batch_crc(out.data(), out.size()));

  buffer_ = {};
  buffer_.resize(record_batch_header_size);
  size_ = record_batch_header_size;
  count_ = 0;
  base_timestamp_ = max_timestamp_ = -1;
  return out;
}

result<std::vector<std::uint8_t>> write_end_txn_marker(const batch_builder_options& options,
                                                       control_type type,
                                                       std::int32_t coordinator_epoch,
                                                       std::int64_t timestamp) {
  batch_builder_options o = options;
  o.control = true;
  o.transactional = true;
  o.codec = compression::none;
  record_batch_builder builder(o, 128);
  std::uint8_t value[6];
  store_be(value, std::int16_t{0});
  store_be(value + 2, coordinator_epoch);
  if (auto ec = builder.append_control(timestamp, type, bytes_view(value, 6))) {
    decode_error e;
    e.code = ec;
    return e;
  }
  return builder.finish();
}

// ---- patching -------------------------------------------------------------------

namespace {
// The whole batch must be present for a CRC to be recomputed.
bool whole_batch(std::span<std::uint8_t> batch) noexcept {
  if (batch.size() < record_batch_header_size) return false;
  const std::int32_t length = load_be<std::int32_t>(batch.data() + at::batch_length);
  return length >= 0 &&
         record_batch_log_overhead + static_cast<std::size_t>(length) <= batch.size() &&
         record_batch_log_overhead + static_cast<std::size_t>(length) >= record_batch_header_size;
}
void refresh_crc(std::span<std::uint8_t> batch) noexcept {
  const std::size_t total =
      record_batch_log_overhead +
      static_cast<std::size_t>(load_be<std::int32_t>(batch.data() + at::batch_length));
  store_be(batch.data() + at::crc, batch_crc(batch.data(), total));
}
}  // namespace

bool set_base_offset(std::span<std::uint8_t> batch, std::int64_t base_offset) noexcept {
  if (batch.size() < 8) return false;
  store_be(batch.data() + at::base_offset, base_offset);
  return true;
}

bool set_partition_leader_epoch(std::span<std::uint8_t> batch, std::int32_t epoch) noexcept {
  if (batch.size() < at::magic) return false;
  store_be(batch.data() + at::partition_leader_epoch, epoch);
  return true;
}

bool set_log_append_time(std::span<std::uint8_t> batch, std::int64_t timestamp) noexcept {
  if (!whole_batch(batch)) return false;
  const auto attributes = static_cast<std::int16_t>(
      load_be<std::int16_t>(batch.data() + at::attributes) | batch_attribute::log_append_time);
  store_be(batch.data() + at::attributes, attributes);
  store_be(batch.data() + at::max_timestamp, timestamp);
  refresh_crc(batch);
  return true;
}

bool set_producer_state(std::span<std::uint8_t> batch, std::int64_t producer_id,
                        std::int16_t producer_epoch, std::int32_t base_sequence) noexcept {
  if (!whole_batch(batch)) return false;
  store_be(batch.data() + at::producer_id, producer_id);
  store_be(batch.data() + at::producer_epoch, producer_epoch);
  store_be(batch.data() + at::base_sequence, base_sequence);
  refresh_crc(batch);
  return true;
}

}  // namespace kwire
