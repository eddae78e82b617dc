// The model of the mock cluster: brokers, topics, partition logs and producer
// ids, and the operations every API family shares on them. Internal to the
// core (not installed): the API handlers in apis/ and the public cluster
// functions in cluster.cc work on it. Thread-safety: none, as the cluster.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fetch_sessions.hpp"
#include "groups/consumer_groups.hpp"
#include "groups/groups.hpp"
#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/header.hpp"
#include "parking.hpp"

namespace kwire::mockbroker::detail {

/// One batch as stored: its bytes with baseOffset and partitionLeaderEpoch re-stamped.
struct stored_batch {
  std::int64_t base_offset = 0;
  std::int64_t last_offset = 0;
  std::int64_t max_timestamp = -1;
  std::vector<std::uint8_t> bytes;
};

/// One of the last five batches of a producer on a partition.
struct producer_batch {
  std::int32_t first_sequence = 0;
  std::int32_t last_sequence = 0;
  std::int64_t base_offset = 0;
  std::int64_t log_append_time = -1;
};

/// What a partition remembers of one producer id.
struct producer_partition_state {
  std::int16_t epoch = -1;
  std::deque<producer_batch> recent;  // oldest first, at most five
};

/// Kafka keeps the last five batches per producer and partition for duplicate detection.
inline constexpr std::size_t producer_batches_kept = 5;

/// One partition: replicas, ISR, its log and its producers.
struct partition_state {
  std::int32_t index = 0;
  std::int32_t leader = -1;
  std::int32_t leader_epoch = 0;
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> isr;
  std::deque<stored_batch> log;
  std::int64_t log_start = 0;
  std::int64_t log_end = 0;
  std::size_t bytes = 0;
  std::unordered_map<std::int64_t, producer_partition_state> producers;

  std::int64_t records() const noexcept { return log_end - log_start; }
};

/// One topic and its settings (from topic_config or CreateTopics configs).
struct topic_state {
  std::string name;
  uuid id{};
  /// The topic's config overrides by Kafka name, values normalised
  /// (topic_config_model.hpp); the settings below follow from them.
  std::map<std::string, std::string, std::less<>> config_overrides;
  bool log_append_time = false;
  std::int16_t min_insync_replicas = 1;
  std::int64_t retention_bytes = -1;
  std::int64_t retention_records = -1;
  /// max.message.bytes: a larger batch gets MESSAGE_TOO_LARGE.
  std::int32_t max_message_bytes = 1048588;
  std::vector<partition_state> partitions;
};

/// A Fetch parked until enough data arrives or its MaxWaitMs passes
/// (Kafka's delayed fetch), answered by apis/fetch.cc.
struct waiting_fetch {
  ticket id = 0;
  std::int32_t broker_id = 0;
  std::int16_t version = 0;
  time_point deadline{};
  any_message request;  ///< the fetch_request, owned
  /// Its fetch session (fetch_sessions.hpp).
  fetch_context session;
};

/// A broker's state is exactly what brokers() reports about it.
using broker_state = broker_info;

/// Kafka's legal topic names: 1-249 of [a-zA-Z0-9._-], not "." or "..".
bool valid_topic_name(std::string_view name) noexcept;

/// The last sequence of a batch of `count` records from `first`, wrapping at INT32_MAX.
std::int32_t add_sequence(std::int32_t first, std::int64_t delta) noexcept;

/// Throws std::invalid_argument naming the key of the first setting of `c`
/// out of its range (config_check.cc); the cluster_state constructor calls it.
void check_cluster_config(const cluster_config& c);

/// Brokers, topics and producer ids: everything the handlers read and change.
struct cluster_state {
  explicit cluster_state(cluster_config c);

  cluster_config config;
  std::vector<broker_state> brokers;
  std::map<std::string, topic_state, std::less<>> topics;
  std::map<std::int64_t, std::int16_t> producers;  // id -> newest epoch
  std::map<std::string, std::int64_t, std::less<>> transactional_ids;
  std::int64_t next_producer_id = 1000;
  /// Topic ids; apart from the fault source so that rules do not change ids.
  std::mt19937_64 id_random;
  /// Requests answered later (parking.hpp).
  parking_lot parked;
  /// Fetches waiting for data, oldest first.
  std::vector<waiting_fetch> waiting_fetches;
  /// Classic consumer groups and their committed offsets (groups/groups.hpp).
  group_coordinator groups;
  /// Consumer groups of KIP-848 and their committed offsets
  /// (groups/consumer_groups.hpp); a group id is in one of the two.
  consumer_group_coordinator consumer_groups;
  /// Each broker's incremental fetch sessions (fetch_sessions.hpp).
  fetch_session_caches fetch_sessions;

  broker_state* find_broker(std::int32_t id);
  const broker_state* find_broker(std::int32_t id) const;
  topic_state* find_topic(std::string_view name);
  const topic_state* find_topic(std::string_view name) const;
  topic_state* find_topic_by_id(const uuid& id);
  const topic_state* find_topic_by_id(const uuid& id) const;
  partition_state* find_partition(std::string_view topic, std::int32_t partition);
  std::int32_t live_broker_count() const;
  /// The first live broker, or -1.
  std::int32_t controller_id() const;

  /// Creates a topic (or only checks that it could be, with validate_only).
  kafka_error create_topic(std::string_view name, const topic_config& cfg, bool validate_only,
                           topic_state** created = nullptr);
  /// Grows `topic` to `total` partitions, placed round robin or on
  /// `assignments` (one replica list per new partition, leader first); only
  /// checks with validate_only. INVALID_PARTITIONS, INVALID_REPLICA_ASSIGNMENT
  /// with Kafka's message in `message`.
  kafka_error create_partitions(topic_state& topic, std::int32_t total,
                                const std::vector<std::vector<std::int32_t>>* assignments,
                                bool validate_only, std::string& message);
  std::pair<std::int64_t, std::int16_t> allocate_producer_id();
  /// Drops the oldest batches while the partition is over its topic's limits.
  void apply_retention(topic_state& topic, partition_state& p);
};

/// Answers the waiting fetches that ask for this partition and now have
/// enough data, or an error (after an append, a leader move, a deletion).
/// In apis/fetch.cc.
void wake_fetches(cluster_state& s, std::string_view topic, std::int32_t partition, time_point now);
/// Answers every waiting fetch that has enough data or an error now (after
/// a cluster action: a leader move, a broker down, a deleted topic).
void wake_all_fetches(cluster_state& s, time_point now);
/// Answers the waiting fetches whose MaxWaitMs has passed by `now`.
void expire_fetches(cluster_state& s, time_point now);
/// The earliest MaxWaitMs deadline of the waiting fetches.
std::optional<time_point> next_fetch_deadline(const cluster_state& s);

}  // namespace kwire::mockbroker::detail
