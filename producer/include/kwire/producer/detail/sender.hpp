// The producer core's sender (Java's Sender): each poll() it expires
// requests and batches, keeps metadata and the producer id current, drains
// ready batches into Produce requests per leader, and turns answers into
// delivery reports, retries (with backoff), splits (MESSAGE_TOO_LARGE) or
// failures, counting metrics on the way. It is the network client's
// listener. Owned by the core, with every part it uses; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <system_error>
#include <vector>

#include "kwire/producer/detail/accumulator.hpp"
#include "kwire/producer/detail/core_context.hpp"
#include "kwire/producer/detail/idempotence.hpp"
#include "kwire/producer/detail/metadata.hpp"
#include "kwire/producer/detail/network_client.hpp"
#include "kwire/producer/detail/partition_state.hpp"
#include "kwire/producer/partitioner.hpp"
#include "kwire/protocol/messages/init_producer_id.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace kwire::detail {

/// Drain, build, retry, split, expire, report. See the file comment.
class sender final : public network_listener {
 public:
  /// Every reference must outlive the sender; `network` may be constructed
  /// after it (it is only used from calls made later). `part` may be null.
  sender(core_context& ctx, record_accumulator& accumulator, cluster_metadata& metadata,
         idempotence_manager& idempotence, network_client& network, partitioner* part,
         std::uint64_t seed);

  /// One round of time-driven work at `now` (what producer_core::poll does).
  void run(core_time now);
  /// Makes every queued batch ready regardless of linger.ms, until nothing is pending.
  void flush() noexcept { flushing_ = true; }
  /// Fails every record not yet reported with `error` and closes every connection.
  void abort(std::error_code error);
  /// Counts a record the accumulator took; its report is owed.
  void on_accepted() noexcept { ++pending_; }
  /// Records accepted and not yet reported.
  std::size_t pending() const noexcept { return pending_; }

  // network_listener
  void on_response(broker_connection& broker, in_flight_request& request,
                   const decoded_response& response, core_time now) override;
  void on_connection_lost(core_time now) override;
  void on_request_lost(in_flight_request& request, std::int16_t code, core_time now) override;

 private:
  core_duration backoff(int attempts);
  void report(const producer_batch& batch, std::int64_t base_offset, std::int64_t log_append_time,
              std::error_code error);
  void fail_batch(std::unique_ptr<producer_batch> batch, std::error_code error);
  void succeed_batch(partition_state& p, std::unique_ptr<producer_batch> batch,
                     std::int64_t base_offset, std::int64_t log_append_time);
  void retry_or_fail(partition_state& p, std::unique_ptr<producer_batch> batch, std::int16_t code,
                     std::int64_t log_start_offset, core_time now);
  bool split_batch(partition_state& p, producer_batch& batch, core_time now);
  void fail_queued(std::error_code error);
  void restart_sequences();

  void on_metadata(broker_connection& b, const metadata_response& m, core_time now);
  void on_init_producer_id(const init_producer_id_response& r, core_time now);
  void on_produce(broker_connection& b, in_flight_request& req, const produce_response& r,
                  core_time now);

  void expire_batches(core_time now);
  void maybe_request_metadata(core_time now);
  void maybe_init_producer_id(core_time now);
  bool partition_sendable(const partition_state& p, const broker_connection& b) const;
  void drain(core_time now);
  bool build_produce(broker_connection& b, std::vector<partition_state*>& parts, core_time now);

  core_context& ctx_;
  const producer_config& config_;
  record_accumulator& accumulator_;
  cluster_metadata& metadata_;
  idempotence_manager& idempotence_;
  network_client& network_;
  partitioner* part_;
  std::mt19937_64 random_;  // retry jitter: a run is a function of the seed
  bool flushing_ = false;
  std::size_t pending_ = 0;
};

}  // namespace kwire::detail
