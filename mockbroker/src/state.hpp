// Internal state of the mock cluster: what cluster::impl holds, shared by the
// source files of the core. Not installed, not part of the API.
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

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/header.hpp"

namespace kwire::mock::detail {

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

inline constexpr std::size_t producer_batches_kept = 5;

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

struct topic_state {
  std::string name;
  uuid id{};
  bool log_append_time = false;
  std::int16_t min_insync_replicas = 1;
  std::int64_t retention_bytes = -1;
  std::int64_t retention_records = -1;
  std::vector<partition_state> partitions;
};

// A broker's state is exactly what brokers() reports about it.
using broker_state = broker_info;

struct rule_entry {
  rule_id id = 0;
  fault_rule rule;
  std::uint64_t matched = 0;
  std::uint64_t fired = 0;
};

/// Something a request touches, for matching fault rules.
struct target {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t producer_id = -1;
};

/// Does `m`'s topic/partition/producer filter accept `t`?
bool target_matches(const fault_match& m, const target& t);
/// Does `m` name a topic, partition or producer id?
bool has_target_filter(const fault_match& m);

/// Per request: what the handlers need besides the request itself.
struct request_context {
  std::int32_t broker_id = 0;
  time_point now{};
  std::int16_t version = 0;
  std::vector<rule_entry> fired;  // copies of the rules that fired
  duration wait{};                // Fetch: answer this much later
  bool no_response = false;       // acks=0
  bool close_after = false;       // acks=0 with an error
  std::string close_reason;

  /// The error an error rule (before = true) or append_then_error rule
  /// (before = false) that fired puts on this partition, if any.
  std::optional<std::int16_t> injected_error(const target& t, bool before) const;
  std::int64_t now_ms() const noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  }
};

/// Sets the top-level ErrorCode / ThrottleTimeMs of any generated response
/// that has one (false when the type has none).
bool set_top_level_error(any_message& response, std::int16_t code);
bool set_throttle_time(any_message& response, std::int32_t ms);

/// Wraps a concrete message into an any_message.
template <class T>
any_message wrap(T&& message) {
  any_message m(std::decay_t<T>::ops());
  *m.as<std::decay_t<T>>() = std::forward<T>(message);
  return m;
}

/// Kafka's legal topic names: 1-249 of [a-zA-Z0-9._-], not "." or "..".
bool valid_topic_name(std::string_view name) noexcept;

/// The last sequence of a batch of `count` records from `first`, wrapping at INT32_MAX.
std::int32_t add_sequence(std::int32_t first, std::int64_t delta) noexcept;

}  // namespace kwire::mock::detail

namespace kwire::mock {

struct cluster::impl {
  explicit impl(cluster_config c);

  cluster_config config;
  std::vector<detail::broker_state> brokers;
  std::map<std::string, detail::topic_state, std::less<>> topics;
  std::map<std::int64_t, std::int16_t> producers;  // id -> newest epoch
  std::map<std::string, std::int64_t, std::less<>> transactional_ids;
  std::int64_t next_producer_id = 1000;
  std::vector<detail::rule_entry> rules;
  rule_id next_rule_id = 1;
  std::mt19937_64 fault_random;
  std::mt19937_64 id_random;
  std::deque<logged_request> log;
  std::uint64_t next_sequence = 0;

  detail::broker_state* find_broker(std::int32_t id);
  const detail::broker_state* find_broker(std::int32_t id) const;
  detail::topic_state* find_topic(std::string_view name);
  detail::topic_state* find_topic_by_id(const uuid& id);
  detail::partition_state* find_partition(std::string_view topic, std::int32_t partition);
  std::int32_t live_broker_count() const;
  std::int32_t controller_id() const;

  kafka_error create_topic(std::string_view name, const topic_config& cfg, bool validate_only,
                           detail::topic_state** created = nullptr);
  std::pair<std::int64_t, std::int16_t> allocate_producer_id();
  double next_unit();
  void apply_retention(detail::topic_state& topic, detail::partition_state& p);
  void record(logged_request entry);

  handle_result handle(std::int32_t broker_id, std::uint64_t connection_id,
                       std::span<const std::uint8_t> payload, time_point now);

  // API handlers (handlers.cc). Each returns the response body; an empty
  // any_message means no response.
  any_message serve(const decoded_request& request, detail::request_context& ctx);
  any_message api_versions(std::int16_t version);
  any_message metadata(const decoded_request& request, detail::request_context& ctx);
  any_message produce(const decoded_request& request, detail::request_context& ctx);
  any_message fetch(const decoded_request& request, detail::request_context& ctx);
  any_message list_offsets(const decoded_request& request, detail::request_context& ctx);
  any_message init_producer_id(const decoded_request& request, detail::request_context& ctx);
  any_message create_topics(const decoded_request& request, detail::request_context& ctx);
  any_message delete_topics(const decoded_request& request, detail::request_context& ctx);
  any_message find_coordinator(const decoded_request& request, detail::request_context& ctx);
  any_message describe_cluster(const decoded_request& request, detail::request_context& ctx);
  /// A well-formed response to `request` that carries `code` wherever the
  /// response has error codes (each partition, topic or key, or top level).
  any_message error_response(const decoded_request& request, std::int16_t code);
  /// The things a request touches, for fault matching.
  std::vector<detail::target> targets_of(const decoded_request& request);
};

}  // namespace kwire::mock
