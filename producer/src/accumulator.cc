#include "kwire/producer/detail/accumulator.hpp"

#include <algorithm>

namespace kwire::detail {

bool producer_batch::close() {
  if (closed) return true;
  closed = true;
  auto bytes = builder.finish();
  if (!bytes) return false;
  encoded = std::move(bytes.value());
  return true;
}

append_status record_accumulator::append(partition_queue& queue, std::int64_t timestamp,
                                         const nullable_bytes_view& key,
                                         const nullable_bytes_view& value,
                                         std::span<const record_header> headers, std::uint64_t id,
                                         core_time now) {
  const std::size_t record_size =
      estimate_record_size(key ? key->size() : 0, value ? value->size() : 0, headers);
  const std::size_t alone = record_batch_header_size + record_size;
  if (alone > options_.max_request_size || alone > options_.buffer_memory)
    return append_status::record_too_large;

  if (!queue.batches.empty()) {
    producer_batch& last = *queue.batches.back();
    if (!last.closed && !last.full) {
      if (last.builder.size_in_bytes() + record_size <=
          std::max(options_.batch_size, last.reserved_bytes)) {
        if (last.builder.append(timestamp, key, value, headers))
          return append_status::record_too_large;
        last.records.push_back({id, timestamp});
        return append_status::appended;
      }
      last.full = true;
    }
  }
  const std::size_t reserve = std::max(options_.batch_size, alone);
  if (used_ + reserve > options_.buffer_memory) return append_status::buffer_full;
  batch_builder_options builder_options;
  builder_options.codec = options_.codec;
  auto batch =
      std::make_unique<producer_batch>(queue.topic, queue.partition, builder_options, reserve, now);
  batch->reserved_bytes = reserve;
  batch->records.reserve(std::min<std::size_t>(reserve / 16 + 1, 1024));
  if (batch->builder.append(timestamp, key, value, headers)) return append_status::record_too_large;
  batch->records.push_back({id, timestamp});
  used_ += reserve;
  queue.batches.push_back(std::move(batch));
  return append_status::appended_new;
}

std::optional<core_time> record_accumulator::ready_time(const partition_queue& queue) const {
  if (queue.batches.empty()) return std::nullopt;
  const producer_batch& front = *queue.batches.front();
  if (front.attempts > 0) return front.retry_after;
  if (front.full || front.closed || queue.batches.size() > 1) return front.created;
  return front.created + options_.linger;
}

bool record_accumulator::ready(const partition_queue& queue, core_time now, bool flushing) const {
  const auto at = ready_time(queue);
  if (!at) return false;
  const producer_batch& front = *queue.batches.front();
  if (flushing && front.attempts == 0) return true;
  return *at <= now;
}

std::unique_ptr<producer_batch> record_accumulator::take_front(partition_queue& queue) {
  auto batch = std::move(queue.batches.front());
  queue.batches.pop_front();
  return batch;
}

void record_accumulator::reenqueue(partition_queue& queue, std::unique_ptr<producer_batch> batch) {
  auto pos = queue.batches.begin();
  if (batch->base_sequence >= 0) {
    while (pos != queue.batches.end() && (*pos)->base_sequence >= 0 &&
           (*pos)->base_sequence < batch->base_sequence)
      ++pos;
  }
  queue.batches.insert(pos, std::move(batch));
}

void record_accumulator::release(const producer_batch& batch) noexcept {
  used_ -= batch.reserved_bytes;
}

}  // namespace kwire::detail
