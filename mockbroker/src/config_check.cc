// The range checks of cluster_config, run when a cluster is built (state.hpp):
// a value no Kafka broker would start with throws std::invalid_argument
// naming its key, instead of a cluster that misbehaves later.
#include <stdexcept>
#include <string>

#include "groups/consumer_groups.hpp"
#include "state.hpp"

namespace kwire::mockbroker::detail {
namespace {

template <class Int>
void at_least(const char* key, Int value, Int low) {
  if (value < low)
    throw std::invalid_argument("cluster_config: " + std::string(key) + " must be at least " +
                                std::to_string(low) + ", not " + std::to_string(value));
}

}  // namespace

void check_cluster_config(const cluster_config& c) {
  at_least("default_partitions", c.default_partitions, 1);
  at_least("default_replication_factor", c.default_replication_factor, std::int16_t{1});
  at_least("group_min_session_timeout_ms", c.group_min_session_timeout_ms, 0);
  at_least("group_max_session_timeout_ms", c.group_max_session_timeout_ms,
           c.group_min_session_timeout_ms);
  at_least("group_initial_rebalance_delay_ms", c.group_initial_rebalance_delay_ms, 0);
  at_least("group_max_size", c.group_max_size, 1);
  at_least("offset_metadata_max_bytes", c.offset_metadata_max_bytes, 0);
  at_least("offsets_topic_max_message_bytes", c.offsets_topic_max_message_bytes, 0);
  at_least("fetch_session_eviction (ms)", c.fetch_session_eviction.count(), duration::rep{0});
  check_consumer_group_config(c);
}

}  // namespace kwire::mockbroker::detail
