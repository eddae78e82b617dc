// Sequence and epoch checks for idempotent producers, and appending to a
// partition's log.
#include "idempotence.hpp"

#include <algorithm>

namespace kwire::mockbroker::detail {

sequence_verdict check_sequence(const cluster_state& s, const partition_state& p,
                                const record_batch_header& h) {
  auto refuse = [](kafka_error e) {
    return sequence_verdict{sequence_verdict::kind::refuse, e, nullptr};
  };
  if (h.producer_id < 0) return {};
  auto reg = s.producers.find(h.producer_id);
  if (reg == s.producers.end()) return refuse(kafka_error::unknown_producer_id);
  if (h.producer_epoch < reg->second) return refuse(kafka_error::invalid_producer_epoch);
  const std::int32_t first = h.base_sequence;
  const std::int32_t last = add_sequence(first, h.last_offset_delta);
  auto it = p.producers.find(h.producer_id);
  if (it == p.producers.end()) {
    // Nothing known here: only a producer starting at sequence 0 is accepted.
    if (first != 0) return refuse(kafka_error::unknown_producer_id);
  } else if (h.producer_epoch < it->second.epoch) {
    return refuse(kafka_error::invalid_producer_epoch);
  } else if (h.producer_epoch > it->second.epoch) {
    if (first != 0) return refuse(kafka_error::out_of_order_sequence_number);
  } else {
    for (const auto& prev : it->second.recent)
      if (prev.base_offset >= 0 && prev.first_sequence == first && prev.last_sequence == last)
        return {sequence_verdict::kind::duplicate, kafka_error::none, &prev};
    const std::int32_t expected =
        it->second.recent.empty() ? 0 : add_sequence(it->second.recent.back().last_sequence, 1);
    if (first != expected) return refuse(kafka_error::out_of_order_sequence_number);
  }
  return {};
}

appended append_batch(cluster_state& s, topic_state& t, partition_state& p, bytes_view batch,
                      const record_batch_header& h, std::int64_t now_ms) {
  stored_batch stored;
  stored.base_offset = p.log_end;
  stored.last_offset = p.log_end + h.last_offset_delta;
  stored.bytes.assign(batch.begin(), batch.end());
  set_base_offset(stored.bytes, stored.base_offset);
  set_partition_leader_epoch(stored.bytes, p.leader_epoch);
  stored.max_timestamp = h.max_timestamp;
  appended out{stored.base_offset, -1};
  if (t.log_append_time) {
    out.log_append_time = now_ms;
    set_log_append_time(stored.bytes, now_ms);
    stored.max_timestamp = now_ms;
  }
  if (h.producer_id >= 0) {
    std::int16_t& newest = s.producers[h.producer_id];
    newest = std::max(newest, h.producer_epoch);
    producer_partition_state& state = p.producers[h.producer_id];
    if (state.epoch != h.producer_epoch) {
      state.epoch = h.producer_epoch;
      state.recent.clear();
    }
    state.recent.push_back({h.base_sequence, add_sequence(h.base_sequence, h.last_offset_delta),
                            stored.base_offset, out.log_append_time});
    while (state.recent.size() > producer_batches_kept) state.recent.pop_front();
  }
  p.log_end = stored.last_offset + 1;
  p.bytes += stored.bytes.size();
  p.log.push_back(std::move(stored));
  s.apply_retention(t, p);
  return out;
}

}  // namespace kwire::mockbroker::detail
