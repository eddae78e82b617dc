// The fixed header of a record batch (magic 2) byte by byte: where each field
// sits, reading and writing them all at once, the CRC, and how errors name a
// batch. Private to protocol/src: shared by the files that read, build and
// patch batches, so that the layout is written down once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kwire/protocol/crc32c.hpp"
#include "kwire/protocol/detail/bytes.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::detail {

// Byte positions of the header fields.
namespace record_batch_at {
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
}  // namespace record_batch_at

inline record_batch_header parse_header(const std::uint8_t* p) noexcept {
  namespace at = record_batch_at;
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

inline void write_header(std::uint8_t* p, const record_batch_header& h) noexcept {
  namespace at = record_batch_at;
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
inline std::uint32_t batch_crc(const std::uint8_t* batch, std::size_t size) noexcept {
  namespace at = record_batch_at;
  return crc32c({batch + at::attributes, size - at::attributes});
}

// The start of every error path: the batch, by its base offset when the
// input holds it.
inline std::string batch_path(std::int64_t base_offset, bool known) {
  std::string s = "batch";
  if (known) {
    s += "@baseOffset=";
    s += std::to_string(base_offset);
  }
  return s;
}

}  // namespace kwire::detail
