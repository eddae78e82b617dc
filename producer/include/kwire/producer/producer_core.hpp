// The producer core: Kafka's producer as a state machine that does no I/O
// and reads no clock.
//
// A shell feeds it records (send), network events (on_connected, on_bytes,
// on_disconnected) and the time; poll() returns what to do: connections to
// open or close, frames to write, delivery reports. next_deadline() says when
// poll() must be called again if nothing else happens. The Asio shell and the
// simulation shell drive the same core.
//
// Time is kwire::core_time (protocol/clock.hpp): milliseconds since the Unix
// epoch, which must not go backwards between calls. Records without a
// timestamp are stamped with `now`.
//
// Threading: none. One thread calls everything (the shell's I/O thread, or
// the simulation's stepping thread). Lifetimes: views in a producer_record
// are borrowed only during send(); delivery_report::topic points into the
// core and lives as long as the core.
//
// Inside, the core is in parts (producer/README.md says which file owns what):
// a network client, metadata, idempotence, and the sender over them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kwire/producer/config.hpp"
#include "kwire/producer/errors.hpp"
#include "kwire/protocol/clock.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire {

/// One record to send. Every view is borrowed for the duration of send().
struct producer_record {
  std::string_view topic;
  std::optional<std::int32_t> partition;  ///< wins over the partitioner
  std::optional<std::int64_t>
      timestamp;  ///< create time in ms since the Unix epoch; default: unix_ms(now)
  nullable_bytes_view key;
  nullable_bytes_view value;
  std::span<const record_header> headers;
};

/// What send() did with a record.
enum class send_status {
  accepted,           ///< queued; a delivery report will follow
  wait_for_metadata,  ///< the topic's partitions are not known yet: call again later
  wait_for_buffer,    ///< buffer.memory is full: call again after reports free some
  failed,             ///< refused for good; see error (no report will follow)
};

struct send_result {
  send_status status = send_status::accepted;
  std::int32_t partition = -1;  ///< when accepted
  std::error_code error;        ///< when failed
  /// When accepted: the record started a new batch (so a batch became ready,
  /// or a linger deadline began). If false, the record joined an open batch
  /// and nothing is due earlier than before: a shell need not poll for it.
  bool new_batch = true;
};

/// "Open a connection to this broker, then call on_connected or on_disconnected."
struct connect_request {
  std::int32_t broker_id = 0;  ///< node id; bootstrap servers are -1, -2, ...
  std::string host;
  std::int32_t port = 0;
};

/// Bytes to write, in order, on a broker's connection.
struct outgoing_frame {
  std::int32_t broker_id = 0;
  std::vector<std::uint8_t> bytes;
};

/// The outcome of one record: an offset, or an error.
struct delivery_report {
  std::uint64_t record_id = 0;
  std::string_view topic;  ///< lives as long as the core
  std::int32_t partition = -1;
  std::int64_t offset = -1;     ///< -1 when unknown (acks=0, errors)
  std::int64_t timestamp = -1;  ///< create time, or the broker's log-append time
  std::error_code error;        ///< kafka_category() for broker errors, else producer_category()
};

/// Everything poll() asks the shell to do, in this order: close, open, write, report.
struct core_output {
  std::vector<std::int32_t> disconnects;
  std::vector<connect_request> connects;
  std::vector<outgoing_frame> frames;
  std::vector<delivery_report> reports;
  bool empty() const noexcept {
    return disconnects.empty() && connects.empty() && frames.empty() && reports.empty();
  }
};

/// Counters since the core was made.
struct producer_metrics {
  std::uint64_t records_sent = 0;    ///< acknowledged
  std::uint64_t records_failed = 0;  ///< reported with an error
  std::uint64_t retries = 0;         ///< batches re-sent
  std::uint64_t errors = 0;          ///< error answers per partition, and lost requests
  std::uint64_t batches_sent = 0;    ///< produce attempts of a batch
  std::uint64_t batch_bytes_total = 0;
  std::uint64_t batch_bytes_max = 0;
  std::uint64_t requests = 0;  ///< requests answered, of any API
  std::chrono::milliseconds request_latency_total{0};
  std::chrono::milliseconds request_latency_max{0};
  std::uint64_t epoch_bumps = 0;
  std::uint64_t batch_splits = 0;  ///< batches split after MESSAGE_TOO_LARGE
  std::uint64_t metadata_requests = 0;
};

/// Choices that do not come from producer_config.
struct core_options {
  /// Seed for jitter and the sticky partitioner: a run is a function of it.
  std::uint64_t seed = 0;
};

/// The producer's state machine. See the file comment.
class producer_core {
 public:
  /// Throws std::invalid_argument with config_error::message() if the config is invalid.
  explicit producer_core(producer_config config, core_options options = {});
  ~producer_core();
  producer_core(const producer_core&) = delete;
  producer_core& operator=(const producer_core&) = delete;

  /// Partitions and appends one record. `record_id` comes back in its report.
  send_result send(const producer_record& record, std::uint64_t record_id, core_time now);

  /// The connection asked for by a connect_request is open.
  void on_connected(std::int32_t broker_id, core_time now);
  /// Bytes read from a broker's connection (any split; frames are reassembled).
  void on_bytes(std::int32_t broker_id, std::span<const std::uint8_t> bytes, core_time now);
  /// The connection closed, or the connect attempt failed.
  void on_disconnected(std::int32_t broker_id, core_time now);

  /// Makes every queued batch ready regardless of linger.ms, until the queues are empty.
  void flush();

  /// Gives up: every record not yet reported fails with `error` (queued and
  /// in flight alike), and every connection is closed. For a shell's close()
  /// when its timeout runs out. The core stays usable.
  void abort(std::error_code error);

  /// Does the time-driven work and returns everything to do.
  core_output poll(core_time now);
  /// When poll() must run next if no event comes first; nullopt: only on events.
  /// Valid after poll().
  std::optional<core_time> next_deadline() const;

  /// Asks for the topic's metadata (at the next poll()) unless its
  /// partitions are known; a shell then waits on partition_count(). Returns
  /// the topic's non-retriable metadata error (kafka_category()) if the
  /// cluster answered one, else no error.
  std::error_code want_metadata(std::string_view topic);
  /// Partition count of a topic, if its metadata is known.
  std::optional<std::int32_t> partition_count(std::string_view topic) const;
  /// Records accepted and not yet reported.
  std::size_t pending_records() const noexcept;
  /// Bytes of buffer.memory in use.
  std::size_t buffered_bytes() const noexcept;
  /// Producer id and epoch (-1 until InitProducerId succeeded, or without idempotence).
  std::int64_t producer_id() const noexcept;
  std::int16_t producer_epoch() const noexcept;
  /// Counters since the core was made; the reference lives as long as the core.
  const producer_metrics& metrics() const noexcept;
  /// The effective configuration (after validation).
  const producer_config& config() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> s_;
};

}  // namespace kwire
