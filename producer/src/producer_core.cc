// The producer core: a facade over its parts (see producer/README.md):
//   network_client.cc  connections, frames, correlation ids, ApiVersions
//   metadata.cc        topics, partitions, leaders, refresh
//   idempotence.cc     producer id, epochs, sequences
//   sender.cc          drain, Produce, retries, splits, expiry, reports
// Here: construction, send() (partitioning and appending, as Java's
// KafkaProducer.doSend), and forwarding the shell's events.
#include "kwire/producer/producer_core.hpp"

#include <stdexcept>
#include <utility>

#include "kwire/producer/detail/accumulator.hpp"
#include "kwire/producer/detail/core_context.hpp"
#include "kwire/producer/detail/idempotence.hpp"
#include "kwire/producer/detail/metadata.hpp"
#include "kwire/producer/detail/network_client.hpp"
#include "kwire/producer/detail/sender.hpp"
#include "kwire/producer/partitioner.hpp"

namespace kwire {

namespace {

detail::accumulator_options accumulator_options_of(const producer_config& config) {
  return {
      static_cast<std::size_t>(config.batch_size), static_cast<std::size_t>(config.buffer_memory),
      static_cast<std::size_t>(config.max_request_size), config.linger, config.compression_type};
}

std::unique_ptr<partitioner> make_partitioner(partitioner_kind kind, std::uint64_t seed) {
  switch (kind) {
    case partitioner_kind::sticky:
      return std::make_unique<sticky_partitioner>(seed ^ 0x5eed);
    case partitioner_kind::round_robin:
      return std::make_unique<round_robin_partitioner>();
    case partitioner_kind::custom:
      break;
  }
  return nullptr;
}

}  // namespace

// The parts, in construction order: each refers only to those above it
// (the sender's reference to the network client is used only after both exist).
struct producer_core::state {
  state(producer_config config, core_options options)
      : ctx(std::move(config)),
        accumulator(accumulator_options_of(ctx.config)),
        owned_partitioner(make_partitioner(ctx.config.partitioner, options.seed)),
        part(owned_partitioner ? owned_partitioner.get() : ctx.config.custom_partitioner.get()),
        metadata(ctx),
        idempotence(ctx, ctx.config.enable_idempotence),
        sender(ctx, accumulator, metadata, idempotence, network, part, options.seed),
        network(ctx, sender) {}

  detail::core_context ctx;
  detail::record_accumulator accumulator;
  std::unique_ptr<partitioner> owned_partitioner;
  partitioner* part;
  detail::cluster_metadata metadata;
  detail::idempotence_manager idempotence;
  detail::sender sender;
  detail::network_client network;
};

producer_core::producer_core(producer_config config, core_options options) {
  auto checked = validate_config(std::move(config));
  if (checked.error) throw std::invalid_argument(checked.error->message());
  s_ = std::make_unique<state>(std::move(checked.config), options);
}

producer_core::~producer_core() = default;

send_result producer_core::send(const producer_record& record, std::uint64_t record_id,
                                core_time now) {
  state& s = *s_;
  if (s.idempotence.fatal())
    return {send_status::failed, -1,
            make_error_code(static_cast<kafka_error>(s.idempotence.fatal_error()))};
  detail::topic_state& t = s.metadata.topic(record.topic);
  if (t.error != 0)
    return {send_status::failed, -1, make_error_code(static_cast<kafka_error>(t.error))};
  if (!t.known || t.partitions.empty()) {
    s.metadata.invalidate();
    return {send_status::wait_for_metadata, -1, {}};
  }
  const auto count = static_cast<std::int32_t>(t.partitions.size());
  std::int32_t partition = 0;
  if (record.partition) {
    partition = *record.partition;
    if (partition < 0 || partition >= count)
      return {send_status::failed, -1, make_error_code(producer_errc::invalid_partition)};
  } else {
    partition = s.part->partition(record.topic, record.key, count);
    if (partition < 0 || partition >= count)
      return {send_status::failed, -1, make_error_code(producer_errc::invalid_partition)};
  }
  detail::partition_state& p = *t.partitions[static_cast<std::size_t>(partition)];
  const std::int64_t timestamp = record.timestamp ? *record.timestamp : unix_ms(now);
  const auto status = s.accumulator.append(p.queue, timestamp, record.key, record.value,
                                           record.headers, record_id, now);
  bool new_batch = true;
  switch (status) {
    case detail::append_status::appended:
      new_batch = false;
      break;
    case detail::append_status::appended_new:
      // The previous open batch of this partition is now full: the sticky
      // partitioner moves on, as in KIP-480.
      if (p.queue.batches.size() > 1 && !record.key && !record.partition)
        s.part->on_batch_complete(record.topic, partition, count);
      break;
    case detail::append_status::buffer_full:
      return {send_status::wait_for_buffer, -1, {}};
    case detail::append_status::record_too_large:
      return {send_status::failed, -1, make_error_code(producer_errc::record_too_large)};
  }
  s.sender.on_accepted();
  return {send_status::accepted, partition, {}, new_batch};
}

void producer_core::on_connected(std::int32_t broker_id, core_time now) {
  s_->network.on_connected(broker_id, now);
}

void producer_core::on_bytes(std::int32_t broker_id, std::span<const std::uint8_t> bytes,
                             core_time now) {
  s_->network.on_bytes(broker_id, bytes, now);
}

void producer_core::on_disconnected(std::int32_t broker_id, core_time now) {
  s_->network.on_disconnected(broker_id, now);
}

void producer_core::flush() { s_->sender.flush(); }

void producer_core::abort(std::error_code error) { s_->sender.abort(error); }

core_output producer_core::poll(core_time now) {
  state& s = *s_;
  s.ctx.deadline.reset();
  s.sender.run(now);
  return std::exchange(s.ctx.out, core_output{});
}

std::optional<core_time> producer_core::next_deadline() const { return s_->ctx.deadline; }

std::error_code producer_core::want_metadata(std::string_view topic) {
  return s_->metadata.want(topic);
}

std::optional<std::int32_t> producer_core::partition_count(std::string_view topic) const {
  return s_->metadata.partition_count(topic);
}

std::size_t producer_core::pending_records() const noexcept { return s_->sender.pending(); }
std::size_t producer_core::buffered_bytes() const noexcept {
  return s_->accumulator.buffered_bytes();
}
std::int64_t producer_core::producer_id() const noexcept { return s_->idempotence.producer_id(); }
std::int16_t producer_core::producer_epoch() const noexcept {
  return s_->idempotence.producer_epoch();
}
const producer_metrics& producer_core::metrics() const noexcept { return s_->ctx.metrics; }
const producer_config& producer_core::config() const noexcept { return s_->ctx.config; }

}  // namespace kwire
