// The fixed header of a record batch where it lies: peeking at its fields
// (peek_batch_header, peek_magic) and patching those a broker or producer
// rewrites in place (set_base_offset ... set_producer_state), with the CRC
// recomputed when the patched field is covered by it.
#include "kwire/protocol/batch_header.hpp"

#include <string>
#include <type_traits>

#include "kwire/protocol/detail/bytes.hpp"
#include "kwire/protocol/record_batch.hpp"
#include "kwire/protocol/wire.hpp"
#include "record_batch_layout.hpp"

namespace kwire {
namespace {

namespace at = detail::record_batch_at;
using detail::batch_crc;
using detail::load_be;
using detail::store_be;

}  // namespace

result<batch_header> peek_batch_header(std::span<const std::uint8_t> bytes) {
  reader r(bytes);
  batch_header h;
  // The field the input ends in, under its name in Kafka's record batch format.
  const char* field = nullptr;
  std::size_t field_offset = 0;
  auto read = [&](const char* name, auto& into, auto(reader::*read_fn)() noexcept) {
    if (field) return;
    const std::size_t at = r.offset();
    into = static_cast<std::remove_reference_t<decltype(into)>>((r.*read_fn)());
    if (!r.ok()) {
      field = name;
      field_offset = at;
    }
  };
  read("baseOffset", h.base_offset, &reader::read_int64);
  read("batchLength", h.batch_length, &reader::read_int32);
  read("partitionLeaderEpoch", h.partition_leader_epoch, &reader::read_int32);
  read("magic", h.magic, &reader::read_int8);
  // Magic decides the format of everything after it: check it before the rest.
  if (!field && h.magic != record_batch_magic) {
    decode_error e;
    e.code = codec_errc::invalid_record;
    e.offset = r.offset() - 1;
    e.context = "RecordBatch header";
    e.path = "magic";
    e.detail = "magic " + std::to_string(h.magic) + ", expected 2";
    return e;
  }
  read("crc", h.crc, &reader::read_uint32);
  read("attributes", h.attributes, &reader::read_int16);
  read("lastOffsetDelta", h.last_offset_delta, &reader::read_int32);
  read("baseTimestamp", h.base_timestamp, &reader::read_int64);
  read("maxTimestamp", h.max_timestamp, &reader::read_int64);
  read("producerId", h.producer_id, &reader::read_int64);
  read("producerEpoch", h.producer_epoch, &reader::read_int16);
  read("baseSequence", h.base_sequence, &reader::read_int32);
  read("recordsCount", h.records_count, &reader::read_int32);
  if (field) {
    decode_error e;
    e.code = codec_errc::truncated;
    e.offset = field_offset;
    e.context = "RecordBatch header";
    e.path = field;
    e.detail = std::to_string(bytes.size()) + " bytes, the header needs " +
               std::to_string(record_batch_header_size);
    return e;
  }
  return h;
}

int peek_magic(bytes_view input) noexcept {
  if (input.size() <= at::magic) return -1;
  return static_cast<std::int8_t>(input[at::magic]);
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
