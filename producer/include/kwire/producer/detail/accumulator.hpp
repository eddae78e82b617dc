// The record accumulator: per-partition queues of record batches, with
// linger.ms / batch.size readiness and buffer.memory accounting.
//
// A detail of the producer core (kwire::detail), not part of its API: the
// public headers do not include it. Tests and the core's parts use it.
//
// Records are encoded into their batch's buffer when appended (the caller's
// key, value and headers are only borrowed during the call); appending to
// an open batch allocates nothing beyond that batch's own buffers. Not
// thread-safe: the core owns it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kwire/protocol/clock.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::detail {

/// What the core remembers of each record until its delivery report.
struct record_entry {
  std::uint64_t id = 0;         ///< the caller's token for the record
  std::int64_t timestamp = -1;  ///< create time written in the batch
};

/// One batch of one partition, from its first record to its last report.
struct producer_batch {
  producer_batch(std::string_view topic, std::int32_t partition,
                 const batch_builder_options& options, std::size_t reserve, core_time created)
      : topic(topic), partition(partition), builder(options, reserve), created(created) {}

  std::string_view topic;  ///< points into the owning partition_queue
  std::int32_t partition;
  record_batch_builder builder;       ///< while open
  std::vector<std::uint8_t> encoded;  ///< once closed: the batch on the wire
  std::vector<record_entry> records;
  core_time created;
  core_time retry_after{};          ///< not sent again before this
  std::size_t reserved_bytes = 0;   ///< counted against buffer.memory
  int attempts = 0;                 ///< times sent
  std::int32_t base_sequence = -1;  ///< idempotence: assigned when first drained
  bool closed = false;              ///< no more appends; encoded is final
  bool full = false;                ///< the next record did not fit
  bool maybe_written = false;       ///< an attempt ended without an answer (timeout, disconnect)
  std::int16_t last_error = 0;      ///< the last broker error, for reports

  std::int32_t record_count() const noexcept { return static_cast<std::int32_t>(records.size()); }
  /// Closes the batch (compresses, computes the CRC). Returns false if encoding failed.
  bool close();
};

/// The queue of one partition: the oldest batch first.
struct partition_queue {
  partition_queue(std::string topic, std::int32_t partition)
      : topic(std::move(topic)), partition(partition) {}
  std::string topic;
  std::int32_t partition;
  std::deque<std::unique_ptr<producer_batch>> batches;
};

/// The accumulator's settings, from producer_config.
struct accumulator_options {
  std::size_t batch_size = 16384;
  std::size_t buffer_memory = 33554432;
  std::size_t max_request_size = 1048576;
  core_duration linger{0};
  compression codec = compression::none;
};

/// The outcome of one append.
enum class append_status {
  appended,          ///< into the open batch
  appended_new,      ///< into a new batch (the previous one, if any, is now full)
  buffer_full,       ///< a new batch would exceed buffer.memory: nothing appended
  record_too_large,  ///< larger than max.request.size or buffer.memory: never fits
};

/// Per-partition batching and memory accounting.
class record_accumulator {
 public:
  explicit record_accumulator(accumulator_options options) : options_(options) {}

  /// Encodes one record into the partition's open batch or a new one.
  append_status append(partition_queue& queue, std::int64_t timestamp,
                       const nullable_bytes_view& key, const nullable_bytes_view& value,
                       std::span<const record_header> headers, std::uint64_t id, core_time now);

  /// True when the front batch may be sent at `now`: full, lingered long
  /// enough, past its retry backoff, or flushing.
  bool ready(const partition_queue& queue, core_time now, bool flushing = false) const;
  /// When the front batch becomes ready (nullopt for an empty queue).
  std::optional<core_time> ready_time(const partition_queue& queue) const;

  /// Removes the front batch (closing it) for sending.
  std::unique_ptr<producer_batch> take_front(partition_queue& queue);
  /// Puts a batch back for a retry: in base-sequence order among batches
  /// that have one, otherwise at the front.
  void reenqueue(partition_queue& queue, std::unique_ptr<producer_batch> batch);
  /// Returns a finished batch's memory to the pool.
  void release(const producer_batch& batch) noexcept;

  /// Bytes reserved by live batches.
  std::size_t buffered_bytes() const noexcept { return used_; }
  const accumulator_options& options() const noexcept { return options_; }

 private:
  accumulator_options options_;
  std::size_t used_ = 0;
};

}  // namespace kwire::detail
