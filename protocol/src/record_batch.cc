// Reading record batches: read_record_batch() checks a batch's header,
// lengths, CRC and counts and decompresses its records; record_batch_reader
// reads the batches of a records field one after another.
#include "kwire/protocol/record_batch.hpp"

#include <string>

#include "kwire/protocol/detail/bytes.hpp"
#include "record_batch_layout.hpp"

namespace kwire {
namespace {

namespace at = detail::record_batch_at;
using detail::batch_crc;
using detail::batch_path;
using detail::load_be;
using detail::parse_header;

// The smallest record: length, attributes, timestampDelta, offsetDelta,
// keyLength, valueLength and headers count, one byte each.
constexpr std::size_t min_record_size = 7;

std::string hex32(std::uint32_t v) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 28; i >= 0; i -= 4) s += digits[(v >> i) & 0xf];
  return s;
}

}  // namespace

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
  if (input.size() > at::magic &&
      static_cast<std::int8_t>(input[at::magic]) != record_batch_magic) {
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
    return failure(
        codec_errc::unsupported_compression, at::attributes, "attributes",
        "compression codec " + std::to_string(h.attributes & batch_attribute::compression_mask));
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
    return failure(
        codec_errc::length_exceeds_input, at::records_count, "recordsCount",
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
      partial =
          length >= 0 && record_batch_log_overhead + static_cast<std::size_t>(length) > rest.size();
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

}  // namespace kwire
