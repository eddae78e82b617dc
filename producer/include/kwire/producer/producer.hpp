// The producer: the sans-I/O producer core driven by a Boost.Asio shell on
// its own I/O thread, behind Java's KafkaProducer API (send with a future or
// a callback, flush, close, partitions_for, metrics).
//
// Threading: every public member is safe to call from any number of threads,
// except flush() and close(), which must not be called from a delivery
// callback (they wait for the I/O thread, which runs the callbacks; doing so
// throws std::logic_error). One mutex guards the core; the I/O thread owns
// every socket and timer.
//
// Delivery callbacks and futures: callbacks run on the producer's I/O
// thread, one at a time, in report order (so in send order per partition),
// outside the core's lock. A slow callback delays all network I/O: hand
// heavy work to another thread. A record refused at once (invalid partition,
// record too large, max.block.ms exhausted, producer closed) has its
// callback called on the sending thread, before send() returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "kwire/producer/config.hpp"
#include "kwire/producer/errors.hpp"
#include "kwire/producer/producer_core.hpp"

namespace kwire {

/// Where a record was written. Owns its data: nothing borrowed from the core.
struct record_metadata {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;                 ///< -1 when unknown (acks=0)
  std::int64_t timestamp = -1;              ///< create time, or the broker's log-append time
  std::int32_t serialized_key_size = -1;    ///< -1 for a null key
  std::int32_t serialized_value_size = -1;  ///< -1 for a null value
};

/// Called once per record with its metadata and, on failure, an error
/// (metadata then carries topic, partition if known, and sizes).
using delivery_callback = std::function<void(const record_metadata&, std::error_code)>;

/// A Kafka producer. See the file comment for threading.
class producer {
 public:
  /// Validates the config (throws std::invalid_argument naming the key) and
  /// starts the I/O thread. No connection is opened before the first send.
  explicit producer(producer_config config, core_options options = {});
  /// Parses Java producer keys first (parse_producer_config); same errors.
  explicit producer(const std::map<std::string, std::string>& settings, core_options options = {});
  /// close() without a time limit (records still end within delivery.timeout.ms).
  ~producer();
  producer(const producer&) = delete;
  producer& operator=(const producer&) = delete;

  /// Sends one record. The record's views are only borrowed during the call.
  /// Blocks up to max.block.ms while the topic's metadata is unknown or
  /// buffer.memory is full. The future holds the metadata, or a
  /// std::system_error with the delivery error.
  std::future<record_metadata> send(const producer_record& record);
  /// Same, reporting through `callback` (see the file comment for the thread).
  /// An empty callback is fire-and-forget.
  void send(const producer_record& record, delivery_callback callback);

  /// Sends everything queued now (ignoring linger.ms) and waits until every
  /// record sent before the call has been reported and its callback has returned.
  void flush();

  /// Flushes for up to `timeout`; then fails whatever is still unreported
  /// with producer_errc::producer_closed, closes connections and stops the
  /// I/O thread. Later sends fail with producer_closed. Idempotent.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  /// The partition numbers of a topic, waiting up to max.block.ms for its
  /// metadata. Throws std::system_error (metadata_timeout, or the topic's
  /// Kafka error) when it cannot tell.
  std::vector<std::int32_t> partitions_for(std::string_view topic);

  /// A snapshot of the core's counters.
  producer_metrics metrics() const;
  /// Records sent and not yet reported.
  std::size_t pending_records() const;
  /// The effective configuration.
  const producer_config& config() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kwire
