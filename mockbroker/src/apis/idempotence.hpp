// Idempotent producers on a partition: the epoch and the last five batches
// of each producer id, the sequence checks Kafka makes before appending, and
// appending a batch to the log. Internal to the Produce handler (and, next,
// the transaction coordinator's markers).
#pragma once

#include <cstdint>

#include "../state.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::mockbroker::detail {

/// What the sequence check says about one batch.
struct sequence_verdict {
  enum class kind {
    append,     ///< new and in order (or not idempotent): append it
    duplicate,  ///< a retry of one of the last five batches: answer with where it went
    refuse,     ///< answer with `error`
  };
  kind what = kind::append;
  kafka_error error = kafka_error::none;     ///< for refuse
  const producer_batch* original = nullptr;  ///< for duplicate; valid until the partition changes
};

/// Checks a batch's producer id, epoch and sequence against what the cluster
/// (InitProducerId) and the partition know. Changes nothing.
sequence_verdict check_sequence(const cluster_state& s, const partition_state& p,
                                const record_batch_header& h);

/// Where an appended batch went.
struct appended {
  std::int64_t base_offset = 0;
  std::int64_t log_append_time = -1;  ///< -1 unless the topic uses LogAppendTime
};

/// Appends a batch that check_sequence() accepted: re-stamps its base offset
/// and leader epoch (and LogAppendTime at `now_ms`), remembers it for the
/// producer, and applies retention.
appended append_batch(cluster_state& s, topic_state& t, partition_state& p, bytes_view batch,
                      const record_batch_header& h, std::int64_t now_ms);

}  // namespace kwire::mockbroker::detail
