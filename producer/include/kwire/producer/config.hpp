// Producer configuration: a typed struct, and parsing from a string map by
// the Java producer's names. Defaults are Kafka 3.x's (see producer/README.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kwire/protocol/compression.hpp"

namespace kwire {

class partitioner;
class producer_interceptor;

/// One bootstrap address, "host:port" (IPv6 as "[::1]:9092").
struct broker_address {
  std::string host;
  std::int32_t port = 0;
  bool operator==(const broker_address&) const = default;
};

/// Which partitioner places records; `custom` uses producer_config::custom_partitioner.
enum class partitioner_kind {
  sticky,       ///< Java's default: murmur2 for keyed records, uniform sticky for null keys
  round_robin,  ///< every record to the next partition, keys ignored
  custom,       ///< a user-defined partitioner object
};

/// Every setting the producer reads. Plain data: copy freely.
struct producer_config {
  std::vector<broker_address> bootstrap_servers;  ///< required, at least one
  std::string client_id;                          ///< empty: "kwire-producer"
  /// 0 (no acknowledgement), 1 (leader only) or -1 ("all": every in-sync replica).
  std::int16_t acks = -1;
  bool enable_idempotence = true;
  /// True when enable.idempotence was given explicitly. Kafka then refuses
  /// conflicting settings; when it was not given, a conflict turns idempotence off.
  bool enable_idempotence_set = false;
  std::chrono::milliseconds linger{0};
  std::int32_t batch_size = 16384;
  std::int64_t buffer_memory = 33554432;
  std::chrono::milliseconds max_block{60000};
  compression compression_type = compression::none;
  std::int32_t retries = 2147483647;
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1000};
  std::chrono::milliseconds delivery_timeout{120000};
  std::chrono::milliseconds request_timeout{30000};
  std::int32_t max_in_flight_requests_per_connection = 5;
  std::int32_t max_request_size = 1048576;
  std::chrono::milliseconds metadata_max_age{300000};
  partitioner_kind partitioner = partitioner_kind::sticky;
  /// Used when partitioner is `custom`; shared so that configs stay copyable.
  std::shared_ptr<kwire::partitioner> custom_partitioner;
  std::int32_t send_buffer_bytes = 131072;    ///< SO_SNDBUF for the shell; -1: OS default
  std::int32_t receive_buffer_bytes = 32768;  ///< SO_RCVBUF for the shell; -1: OS default
  /// Java's interceptor.classes: called in this order by kwire::producer
  /// (see interceptor.hpp). The core ignores them.
  std::vector<std::shared_ptr<producer_interceptor>> interceptors;
};

/// Why a configuration was refused: the key, the value given, and the rule.
struct config_error {
  std::string key;
  std::string value;
  std::string reason;
  /// "invalid value 'x' for configuration key 'acks': must be 0, 1, all or -1".
  std::string message() const;
};

/// A parsed configuration, or the first error found.
struct config_result {
  producer_config config;
  std::optional<config_error> error;
  explicit operator bool() const noexcept { return !error; }
};

/// Parses the Java producer's keys (see producer/README.md), fills defaults,
/// then validates the whole (validate_config). Unknown keys are errors.
config_result parse_producer_config(const std::map<std::string, std::string>& settings);

/// Checks ranges and cross-key rules as Kafka's producer does. A conflict
/// with idempotence is an error when enable_idempotence_set, else it turns
/// idempotence off (the returned config shows the effective settings).
config_result validate_config(producer_config config);

/// Parses "host:port[,host:port...]".
std::optional<std::vector<broker_address>> parse_bootstrap_servers(const std::string& text);

}  // namespace kwire
