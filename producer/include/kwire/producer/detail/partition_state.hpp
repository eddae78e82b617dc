// The producer core's per-partition and per-topic records. One object per
// partition holds a group of fields for each part of the core, so that a
// partition is found once and iterated in one order (topic name, then
// index) by every part; each group is written only by the part named on it.
// The metadata part (metadata.cc) creates them and never removes them, so
// pointers to them stay valid for the core's lifetime. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kwire/producer/detail/accumulator.hpp"

namespace kwire::detail {

/// A partition's sequence numbers; written by the idempotence part (idempotence.cc).
struct partition_sequences {
  std::set<std::int32_t> in_flight;     ///< base sequences of the batches out now
  std::int32_t next = 0;                ///< base sequence of the next new batch
  std::int32_t last_acked = -1;         ///< last sequence the broker acknowledged
  std::int64_t last_acked_offset = -1;  ///< offset of the last acknowledged record
};

/// Everything the core keeps about one partition. See the file comment.
struct partition_state {
  partition_state(std::string topic, std::int32_t index) : queue(std::move(topic), index) {}

  partition_queue queue;               ///< accumulator: batches waiting to be sent (or re-sent)
  std::int32_t leader = -1;            ///< metadata: the leader's node id, -1 when none
  std::int32_t leader_epoch = -1;      ///< metadata
  int in_flight = 0;                   ///< sender: batches of this partition out now
  std::int32_t in_flight_broker = -1;  ///< sender: where they went (all to one broker)
  partition_sequences sequences;       ///< idempotence
};

/// What the core knows of one topic; written by the metadata part.
struct topic_state {
  std::vector<std::unique_ptr<partition_state>> partitions;  ///< by index
  bool known = false;      ///< a valid Metadata answer named its partitions
  std::int16_t error = 0;  ///< a non-retriable metadata error: sends to it fail
};

}  // namespace kwire::detail
