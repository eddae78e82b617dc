// Produce, part one: turning a partition's records into the one v2 batch to
// append, or the error Kafka gives for them (CRC, magic, record errors,
// legacy message sets converted for Produce v0-v2).
#include "produce_records.hpp"

#include "kwire/protocol/message_set.hpp"

namespace kwire::mockbroker::detail {

parsed_batch parse_produce_records(const record_set& records, std::int16_t version) {
  parsed_batch out;
  auto fail = [&](kafka_error e, std::string message) {
    out.error = code(e);
    out.message = std::move(message);
    return std::move(out);
  };
  const bytes_view bytes = records.bytes();
  if (records.is_null() || bytes.empty())
    return fail(kafka_error::invalid_record, "no record batch");
  const int magic = peek_magic(bytes);
  if (magic < 0) return fail(kafka_error::corrupt_message, "records too short for a batch header");
  if (magic != 2) {
    if (version >= 3 || magic > 2)
      return fail(kafka_error::invalid_record,
                  "Produce v3 and later must carry magic 2 record batches, got magic " +
                      std::to_string(magic));
    // Produce v0-v2: a legacy message set, stored as one v2 batch as Kafka
    // 3.x stores everything.
    auto set = read_message_set(bytes);
    if (!set) {
      return fail(kafka_error::corrupt_message, set.error().message());
    }
    if (set->messages().empty()) return fail(kafka_error::invalid_record, "empty message set");
    record_batch_builder builder;
    for (const auto& m : set->messages())
      if (builder.append(m.timestamp, m.key, m.value))
        return fail(kafka_error::invalid_record, "message too large");
    auto built = builder.finish();
    if (!built) return fail(kafka_error::invalid_record, built.error().message());
    out.converted = std::move(built).value();
    out.bytes = out.converted;
    out.header = read_record_batch(out.bytes)->header();
    return out;
  }
  auto batch = read_record_batch(bytes);
  if (!batch) {
    const auto& e = batch.error();
    const bool corrupt = e.code == codec_errc::crc_mismatch || e.code == codec_errc::truncated ||
                         e.code == codec_errc::length_exceeds_input ||
                         e.code == codec_errc::negative_length;
    return fail(corrupt ? kafka_error::corrupt_message : kafka_error::invalid_record, e.message());
  }
  if (batch->bytes().size() != bytes.size())
    return fail(kafka_error::invalid_record,
                "Produce requests must carry exactly one record batch per partition");
  if (batch->header().is_control())
    return fail(kafka_error::invalid_record, "clients may not send control batches");
  auto cursor = batch->records();
  record_view rv;
  while (cursor.next(rv)) {
  }
  if (!cursor.ok()) {
    out.record_errors.push_back(
        {static_cast<std::int32_t>(cursor.index()), cursor.error().message(), {}});
    return fail(kafka_error::invalid_record, cursor.error().message());
  }
  out.bytes = bytes;
  out.header = batch->header();
  return out;
}

}  // namespace kwire::mockbroker::detail
