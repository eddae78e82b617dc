// The cluster fuzz_cluster builds for every input, shared with the seed
// writer make_group_seeds: a seed that learned a member id from this cluster
// finds the same id when fuzz_cluster replays it (member ids come from the
// cluster's seed).
#pragma once

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::fuzzing {

/// The cluster of fuzz_cluster: 3 brokers, seed 7, topic "fuzz" of 3
/// partitions; a request log of 8 entries when `keep_log`.
inline mockbroker::cluster_config fuzz_cluster_config(bool keep_log) {
  mockbroker::cluster_config config;
  config.request_log_capacity = keep_log ? 8 : 0;
  config.seed = 7;
  return config;
}

inline constexpr const char* fuzz_topic = "fuzz";
inline constexpr std::int32_t fuzz_topic_partitions = 3;

/// Creates the topic every input can name.
inline void create_fuzz_topic(mockbroker::cluster& cluster) {
  cluster.create_topic(fuzz_topic, {.partitions = fuzz_topic_partitions});
}

/// The clock of an input's first frame (each selector byte adds 37 ms steps).
inline mockbroker::time_point fuzz_start_time() {
  return mockbroker::time_point(std::chrono::milliseconds(1'700'000'000'000));
}
inline constexpr int fuzz_time_step_ms = 37;

}  // namespace kwire::fuzzing
