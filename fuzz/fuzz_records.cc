// Fuzz target: record batches (with decompression, capped small) and legacy
// message sets, as a records field would carry them. Every record is walked;
// the first byte chooses the format and whether a cut-off tail is allowed.
// Oracle (round trip): the records of a batch that read cleanly, written
// again by record_batch_builder (same codec), read back equal; the messages
// of a legacy set, written again by write_message_set, read back equal.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {

// An oracle failed: say which, then crash so that libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
  std::abort();
}
#define CHECK(cond) ((cond) ? void() : fail(#cond, __LINE__))

std::size_t touch(kwire::nullable_bytes_view v) {
  return v ? v->size() + (v->empty() ? 0 : (*v)[0]) : 0;
}

bool same(kwire::nullable_bytes_view a, kwire::nullable_bytes_view b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::equal(a->begin(), a->end(), b->begin(), b->end());
}

struct owned_record {
  std::int64_t timestamp;
  kwire::nullable_bytes_view key;
  kwire::nullable_bytes_view value;
  std::vector<kwire::record_header> headers;
};

// Rebuilds an ordinary (not control, create-time) batch from its records and
// reads it back: the same records must come out.
void batch_round_trip(const kwire::record_batch& batch, const std::vector<owned_record>& records) {
  const auto& h = batch.header();
  // An empty batch rebuilt gets lastOffsetDelta -1, which overflows with
  // baseOffset INT64_MIN: nothing to compare there anyway.
  if (h.is_control() || h.is_log_append_time() || records.empty()) return;
  kwire::batch_builder_options options;
  options.codec = h.codec();
  options.transactional = h.is_transactional();
  options.base_offset = h.base_offset;
  options.producer_id = h.producer_id;
  options.producer_epoch = h.producer_epoch;
  options.base_sequence = h.base_sequence;
  kwire::record_batch_builder builder(options);
  for (const auto& r : records)
    if (builder.append(r.timestamp, r.key, r.value, r.headers))
      return;  // a field the builder refuses
  auto built = builder.finish();
  if (!built) return;  // e.g. a codec this build cannot write
  kwire::batch_read_options read_options;
  read_options.max_decompressed_size = 1 << 22;
  auto again = kwire::read_record_batch(*built, read_options);
  if (!again) std::fprintf(stderr, "rebuilt batch: %s\n", again.error().message().c_str());
  CHECK(static_cast<bool>(again));
  std::size_t i = 0;
  auto cursor = again->records();
  for (const auto& r : cursor) {
    CHECK(i < records.size());
    const auto& want = records[i++];
    CHECK(r.timestamp == want.timestamp && same(r.key, want.key) && same(r.value, want.value));
    std::size_t j = 0;
    for (const auto& hdr : r.headers) {
      CHECK(j < want.headers.size() && hdr.key == want.headers[j].key &&
            same(hdr.value, want.headers[j].value));
      ++j;
    }
    CHECK(j == want.headers.size());
  }
  CHECK(cursor.ok() && i == records.size());
}

void read_batches(kwire::bytes_view input, std::uint8_t mode, std::size_t& sum) {
  kwire::batch_read_options options;
  options.allow_truncated_tail = (mode & 2) != 0;
  options.verify_crc = (mode & 4) != 0;  // most mutations would die at the CRC otherwise
  options.max_decompressed_size = 1 << 20;
  kwire::record_batch_reader reader(input, options);
  kwire::record_batch batch;
  while (reader.next(batch)) {
    std::vector<owned_record> records;
    auto cursor = batch.records();
    for (const auto& r : cursor) {
      sum += touch(r.key) + touch(r.value);
      owned_record o{r.timestamp, r.key, r.value, {}};
      for (const auto& h : r.headers) {
        sum += h.key.size() + touch(h.value);
        o.headers.push_back(h);
      }
      records.push_back(std::move(o));
    }
    if (!cursor.ok()) {
      CHECK(!cursor.error().message().empty());
    } else {
      batch_round_trip(batch, records);
    }
  }
  CHECK(reader.position() <= input.size());
}

void read_messages(kwire::bytes_view input, std::uint8_t mode, std::size_t& sum) {
  kwire::message_set_read_options options;
  options.allow_truncated_tail = (mode & 2) != 0;
  options.verify_crc = (mode & 4) != 0;
  options.max_decompressed_size = 1 << 20;
  auto set = kwire::read_message_set(input, options);
  if (!set) return;
  CHECK(set->bytes_read() <= input.size());
  const auto& messages = set->messages();
  for (const auto& m : messages) sum += touch(m.key) + touch(m.value);
  if (messages.empty()) return;

  // Round trip, uncompressed, when every message has the same magic.
  std::vector<kwire::legacy_record> records;
  for (const auto& m : messages) {
    if (m.magic != messages.front().magic) return;
    records.push_back({m.timestamp, m.key, m.value});
  }
  kwire::message_set_write_options write_options;
  write_options.magic = messages.front().magic;
  auto written = kwire::write_message_set(records, write_options);
  if (!written) return;
  auto again = kwire::read_message_set(*written);
  CHECK(again && again->messages().size() == messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto& a = again->messages()[i];
    CHECK(same(a.key, messages[i].key) && same(a.value, messages[i].value));
    CHECK(a.magic == 0 || a.timestamp == messages[i].timestamp);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const kwire::bytes_view input(data + 1, size - 1);
  std::size_t sum = 0;
  if ((mode & 1) == 0) {
    read_batches(input, mode, sum);
  } else {
    read_messages(input, mode, sum);
  }
  return sum == 0xdeadbeef ? 1 : 0;
}
