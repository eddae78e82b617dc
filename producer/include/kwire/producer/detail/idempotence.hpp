// The producer core's idempotence (the idempotent half of Java's
// TransactionManager): the producer id and epoch, bumping the epoch, and
// each partition's sequence numbers. A transaction manager is to extend it:
// the InitProducerId request is built here (make_request, where a
// transactional id goes), and the sender asks only what it may send.
// Without enable.idempotence every call is a no-op that permits everything.
// Owned by the core; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "kwire/producer/detail/core_context.hpp"
#include "kwire/producer/detail/partition_state.hpp"
#include "kwire/protocol/messages/init_producer_id.hpp"

namespace kwire::detail {

/// Sequences wrap from INT32_MAX to 0, as Kafka's do.
std::int32_t wrap_sequence(std::int64_t v) noexcept;
/// Is sequence `a` after `b`, within half the sequence space (they wrap at INT32_MAX)?
bool sequence_after(std::int32_t a, std::int32_t b) noexcept;

/// Where the producer id is.
enum class pid_state { none, requesting, ready, fatal };

/// Producer id, epoch and sequences. See the file comment.
class idempotence_manager {
 public:
  /// What poll() should do about the producer id.
  enum class step {
    nothing,     ///< it is fine, or waiting (for a retry time, or for batches in flight)
    bump_epoch,  ///< the epoch was bumped locally: restart every partition's sequences
    request,     ///< send InitProducerId (make_request) to any ready broker
  };
  /// What an InitProducerId answer did.
  enum class outcome {
    retry_later,  ///< a retriable error: asked again after retry.backoff.ms
    fatal,        ///< a fatal error: nothing can be sent any more (fatal_error())
    started,      ///< the first producer id and epoch
    new_epoch,    ///< a new id or epoch replaced the old: restart every partition's sequences
  };

  /// `ctx` must outlive the object.
  idempotence_manager(core_context& ctx, bool enabled);

  bool enabled() const noexcept { return enabled_; }
  /// True when batches may be drained: a producer id is there and no bump is pending.
  bool ready_to_send() const noexcept {
    return !enabled_ || (pid_ == pid_state::ready && !bump_needed_);
  }
  bool fatal() const noexcept { return pid_ == pid_state::fatal; }
  /// The InitProducerId error that made the producer id fatal.
  std::int16_t fatal_error() const noexcept { return fatal_error_; }
  std::int64_t producer_id() const noexcept { return producer_id_; }
  std::int16_t producer_epoch() const noexcept { return producer_epoch_; }

  /// Decides what to do about the producer id at `now`; `produce_in_flight`
  /// is the Produce requests out (a bump waits for none).
  step next_step(core_time now, std::size_t produce_in_flight);
  /// The InitProducerId request to send.
  init_producer_id_request make_request() const;
  /// The request was written.
  void on_request_sent() noexcept;
  /// The request's connection was lost: asked again after retry.backoff.ms.
  void on_request_lost(core_time now) noexcept;
  /// The request was abandoned by abort().
  void on_request_aborted() noexcept;
  /// Reads an answer.
  outcome on_response(const init_producer_id_response& r, core_time now);

  /// Gives a batch drained for the first time its base sequence (and writes
  /// id, epoch and sequence into it), and counts it in flight.
  void on_drained(partition_sequences& s, producer_batch& batch);
  /// The batch is no longer in flight (answered, lost or aborted).
  void on_returned(partition_sequences& s, const producer_batch& batch) {
    s.in_flight.erase(batch.base_sequence);
  }
  /// Writes id, epoch and the batch's base sequence into its encoded bytes (a split part).
  void stamp(producer_batch& batch) const;
  /// The batch was acknowledged at `base_offset` (-1: unknown).
  void on_acked(partition_sequences& s, const producer_batch& batch, std::int64_t base_offset);
  /// The batch failed for good: if it had a sequence, the gap needs a new epoch.
  void on_failed(const producer_batch& batch) noexcept;
  /// May the front batch of a partition go, as far as sequences are
  /// concerned? A retry goes only when no batch before it is out.
  bool may_send(const partition_sequences& s, const producer_batch& front) const;
  /// Whether an error answer for `batch` may be retried, when idempotence
  /// decides it (OUT_OF_ORDER_SEQUENCE_NUMBER, UNKNOWN_PRODUCER_ID); nullopt otherwise.
  std::optional<bool> retriable(const partition_sequences& s, const producer_batch& batch,
                                std::int16_t code, std::int64_t log_start_offset);
  /// DUPLICATE_SEQUENCE_NUMBER means the broker already has the batch.
  bool counts_as_success(std::int16_t code) const noexcept;
  /// After an epoch change: the partition starts again at sequence 0.
  static void restart(partition_sequences& s);

 private:
  // A producer id and epoch to use from now on; true when one was in use before.
  bool start_epoch(std::int64_t id, std::int16_t epoch);

  core_context& ctx_;
  bool enabled_;
  pid_state pid_ = pid_state::none;
  std::int64_t producer_id_ = -1;
  std::int16_t producer_epoch_ = -1;
  bool bump_needed_ = false;
  core_time retry_after_{};
  std::int16_t fatal_error_ = 0;
};

}  // namespace kwire::detail
