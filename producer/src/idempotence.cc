// The producer core's idempotence. See idempotence.hpp.
#include "kwire/producer/detail/idempotence.hpp"

#include <algorithm>
#include <limits>

namespace kwire::detail {

std::int32_t wrap_sequence(std::int64_t v) noexcept {
  constexpr std::int64_t span = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  return static_cast<std::int32_t>(v >= span ? v - span : v);
}

bool sequence_after(std::int32_t a, std::int32_t b) noexcept {
  const std::int64_t space = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  const std::int64_t d = ((static_cast<std::int64_t>(a) - b) % space + space) % space;
  return d != 0 && d < space / 2;
}

idempotence_manager::idempotence_manager(core_context& ctx, bool enabled)
    : ctx_(ctx), enabled_(enabled) {
  if (!enabled_) pid_ = pid_state::ready;
}

idempotence_manager::step idempotence_manager::next_step(core_time now,
                                                         std::size_t produce_in_flight) {
  if (!enabled_ || pid_ == pid_state::requesting || pid_ == pid_state::fatal) return step::nothing;
  if (pid_ == pid_state::ready && !bump_needed_) return step::nothing;
  // An epoch bump waits until nothing is in flight, so that every
  // outstanding batch has come back and can be re-sequenced.
  if (bump_needed_ && produce_in_flight > 0) return step::nothing;
  if (bump_needed_ && pid_ == pid_state::ready && producer_id_ >= 0 &&
      producer_epoch_ < std::numeric_limits<std::int16_t>::max()) {
    // As Java's idempotent producer (KIP-360): the epoch is bumped here,
    // without asking the broker, which takes a higher epoch starting at
    // sequence 0 and from then on fences the old one. Only when the epoch
    // would overflow is a new producer id requested.
    bump_needed_ = false;
    start_epoch(producer_id_, static_cast<std::int16_t>(producer_epoch_ + 1));
    return step::bump_epoch;
  }
  if (now < retry_after_) {
    ctx_.note_deadline(retry_after_, now);
    return step::nothing;
  }
  return step::request;
}

init_producer_id_request idempotence_manager::make_request() const {
  init_producer_id_request r;
  r.transactional_id = std::nullopt;
  r.transaction_timeout_ms = 60000;
  return r;
}

void idempotence_manager::on_request_sent() noexcept {
  pid_ = pid_state::requesting;
  bump_needed_ = false;
}

void idempotence_manager::on_request_lost(core_time now) noexcept {
  if (pid_ != pid_state::requesting) return;
  pid_ = pid_state::none;
  retry_after_ = now + ctx_.config.retry_backoff;
}

void idempotence_manager::on_request_aborted() noexcept {
  if (pid_ == pid_state::requesting) pid_ = pid_state::none;
}

idempotence_manager::outcome idempotence_manager::on_response(const init_producer_id_response& r,
                                                              core_time now) {
  if (r.error_code != 0) {
    if (is_retriable(r.error_code)) {
      pid_ = pid_state::none;
      retry_after_ = now + ctx_.config.retry_backoff;
      return outcome::retry_later;
    }
    pid_ = pid_state::fatal;
    fatal_error_ = r.error_code;
    return outcome::fatal;
  }
  return start_epoch(r.producer_id, r.producer_epoch) ? outcome::new_epoch : outcome::started;
}

bool idempotence_manager::start_epoch(std::int64_t id, std::int16_t epoch) {
  const bool bump = producer_id_ >= 0;
  producer_id_ = id;
  producer_epoch_ = epoch;
  pid_ = pid_state::ready;
  if (bump) ++ctx_.metrics.epoch_bumps;
  return bump;
}

void idempotence_manager::on_drained(partition_sequences& s, producer_batch& batch) {
  if (!enabled_) return;
  if (batch.base_sequence < 0) {
    batch.base_sequence = s.next;
    s.next = wrap_sequence(static_cast<std::int64_t>(s.next) + batch.record_count());
    stamp(batch);
  }
  s.in_flight.insert(batch.base_sequence);
}

void idempotence_manager::stamp(producer_batch& batch) const {
  set_producer_state(batch.encoded, producer_id_, producer_epoch_, batch.base_sequence);
}

void idempotence_manager::on_acked(partition_sequences& s, const producer_batch& batch,
                                   std::int64_t base_offset) {
  if (!enabled_ || batch.base_sequence < 0) return;
  // A retried batch can be acknowledged after a later one (its first
  // answer was lost): the acknowledged sequence only moves forward.
  const std::int32_t last =
      wrap_sequence(static_cast<std::int64_t>(batch.base_sequence) + batch.record_count() - 1);
  if (s.last_acked < 0 || sequence_after(last, s.last_acked)) s.last_acked = last;
  if (base_offset >= 0)
    s.last_acked_offset = std::max(s.last_acked_offset, base_offset + batch.record_count() - 1);
}

void idempotence_manager::on_failed(const producer_batch& batch) noexcept {
  // A batch with a sequence that fails leaves a gap the broker will not
  // accept: the epoch must be bumped before that partition can continue.
  if (enabled_ && batch.base_sequence >= 0) bump_needed_ = true;
}

bool idempotence_manager::may_send(const partition_sequences& s,
                                   const producer_batch& front) const {
  // A retry goes only when no batch before it is still out (Kafka's rule:
  // it must be the first in-flight sequence).
  return !(front.base_sequence >= 0 && !s.in_flight.empty() &&
           *s.in_flight.begin() < front.base_sequence);
}

std::optional<bool> idempotence_manager::retriable(const partition_sequences& s,
                                                   const producer_batch& batch, std::int16_t code,
                                                   std::int64_t log_start_offset) {
  if (!enabled_) return std::nullopt;
  const bool next_in_line =
      batch.base_sequence == wrap_sequence(static_cast<std::int64_t>(s.last_acked) + 1);
  if (code == wire_code(kafka_error::out_of_order_sequence_number)) {
    // Out of order only because an earlier batch of the partition is
    // unresolved: retry with the same sequence once the earlier one is.
    // Next in line and still refused: the broker lost our sequence; fail
    // this batch and bump the epoch (Kafka's producer does the same).
    if (next_in_line) bump_needed_ = true;
    return !next_in_line;
  }
  if (code == wire_code(kafka_error::unknown_producer_id)) {
    // The broker has no state for us on this partition. As Kafka's
    // producer: if this batch is not next in line, an earlier batch of the
    // partition is unresolved (it was refused or is still out) and this one
    // was refused only because of it: retry once the earlier one is. If
    // the broker did not say where its log starts, retry until it does.
    // Next in line: safe to go on under a new epoch only when the log start
    // moved past everything we had acknowledged (retention removed it);
    // otherwise we cannot tell what the broker kept, so the batch fails.
    if (!next_in_line || log_start_offset < 0) return true;
    bump_needed_ = true;
    return s.last_acked_offset < log_start_offset;
  }
  return std::nullopt;
}

bool idempotence_manager::counts_as_success(std::int16_t code) const noexcept {
  return enabled_ && code == wire_code(kafka_error::duplicate_sequence_number);
}

void idempotence_manager::restart(partition_sequences& s) {
  s.next = 0;
  s.last_acked = -1;
  s.in_flight.clear();
}

}  // namespace kwire::detail
