// Fuzz target: record batches (with decompression, capped small) and legacy
// message sets, as a records field would carry them. Every record is walked;
// the first byte chooses the format and whether a cut-off tail is allowed.
#include <cstdint>
#include <cstdlib>

#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {
std::size_t touch(kwire::nullable_bytes_view v) {
  return v ? v->size() + (v->empty() ? 0 : (*v)[0]) : 0;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const kwire::bytes_view input(data + 1, size - 1);
  std::size_t sum = 0;
  if ((mode & 1) == 0) {
    kwire::batch_read_options options;
    options.allow_truncated_tail = (mode & 2) != 0;
    options.verify_crc = (mode & 4) != 0;  // most mutations would die at the CRC otherwise
    options.max_decompressed_size = 1 << 20;
    kwire::record_batch_reader reader(input, options);
    kwire::record_batch batch;
    while (reader.next(batch)) {
      auto cursor = batch.records();
      for (const auto& r : cursor) {
        sum += touch(r.key) + touch(r.value);
        for (const auto& h : r.headers) sum += h.key.size() + touch(h.value);
      }
      if (!cursor.ok() && cursor.error().message().empty()) std::abort();
    }
    if (reader.position() > input.size()) std::abort();
  } else {
    kwire::message_set_read_options options;
    options.allow_truncated_tail = (mode & 2) != 0;
    options.verify_crc = (mode & 4) != 0;
    options.max_decompressed_size = 1 << 20;
    auto set = kwire::read_message_set(input, options);
    if (set) {
      for (const auto& m : set->messages()) sum += touch(m.key) + touch(m.value);
      if (set->bytes_read() > input.size()) std::abort();
    }
  }
  return sum == 0xdeadbeef ? 1 : 0;
}
