// Writing record batches: record_batch_builder encodes records straight into
// one buffer and fills in the header (compressing if asked) at finish();
// write_end_txn_marker() builds a transaction's commit or abort marker.
#include "kwire/protocol/record_batch.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "kwire/protocol/detail/bytes.hpp"
#include "record_batch_layout.hpp"

namespace kwire {
namespace {

namespace at = detail::record_batch_at;
using detail::batch_crc;
using detail::put_uvarint;
using detail::store_be;
using detail::uvarint_size;
using detail::write_header;
using detail::zigzag32;
using detail::zigzag64;

}  // namespace

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

std::error_code record_batch_builder::append(std::int64_t timestamp, const nullable_bytes_view& key,
                                             const nullable_bytes_view& value,
                                             std::span<const record_header> headers) {
  constexpr std::size_t int32_max =
      static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
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

  if (old + total > buffer_.size()) [[unlikely]]
    grow(old + total);
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
  h.attributes = static_cast<std::int16_t>(static_cast<int>(options_.codec) &
                                           batch_attribute::compression_mask);
  if (options_.timestamps == timestamp_type::log_append_time)
    h.attributes |= batch_attribute::log_append_time;
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

}  // namespace kwire
