// The producer core's sender. See sender.hpp.
#include "kwire/producer/detail/sender.hpp"

#include <algorithm>
#include <deque>
#include <map>

namespace kwire::detail {

namespace {

constexpr int max_in_flight_per_partition_idempotent = 5;

// Errors after which the partition's leader may have moved (Java's InvalidMetadataException
// family).
bool invalidates_metadata(std::int16_t code) {
  switch (static_cast<kafka_error>(code)) {
    case kafka_error::unknown_topic_or_partition:
    case kafka_error::leader_not_available:
    case kafka_error::not_leader_or_follower:
    case kafka_error::kafka_storage_error:
    case kafka_error::fenced_leader_epoch:
    case kafka_error::unknown_leader_epoch:
    case kafka_error::network_exception:
    case kafka_error::request_timed_out:
      return true;
    default:
      return false;
  }
}

}  // namespace

sender::sender(core_context& ctx, record_accumulator& accumulator, cluster_metadata& metadata,
               idempotence_manager& idempotence, network_client& network, partitioner* part,
               std::uint64_t seed)
    : ctx_(ctx),
      config_(ctx.config),
      accumulator_(accumulator),
      metadata_(metadata),
      idempotence_(idempotence),
      network_(network),
      part_(part),
      random_(seed) {}

void sender::run(core_time now) {
  network_.expire_requests(now);
  expire_batches(now);
  maybe_request_metadata(now);
  maybe_init_producer_id(now);
  drain(now);
  // Draining may have found partitions without a leader.
  maybe_request_metadata(now);
  if (flushing_ && pending_ == 0) flushing_ = false;
}

// ---- outcomes -------------------------------------------------------------

core_duration sender::backoff(int attempts) {
  // Exponential from retry.backoff.ms to retry.backoff.max.ms with +-20% jitter, as Java's
  // ExponentialBackoff.
  const double base = static_cast<double>(config_.retry_backoff.count());
  const double cap =
      static_cast<double>(std::max(config_.retry_backoff_max, config_.retry_backoff).count());
  double term = base;
  for (int i = 1; i < attempts && term < cap; ++i) term *= 2;
  term = std::min(term, cap);
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const double value = base >= cap ? base : term * jitter(random_);
  return core_duration{static_cast<std::int64_t>(std::min(value, cap))};
}

void sender::report(const producer_batch& batch, std::int64_t base_offset,
                    std::int64_t log_append_time, std::error_code error) {
  for (std::size_t i = 0; i < batch.records.size(); ++i) {
    delivery_report r;
    r.record_id = batch.records[i].id;
    r.topic = batch.topic;
    r.partition = batch.partition;
    r.offset = (error || base_offset < 0) ? -1 : base_offset + static_cast<std::int64_t>(i);
    r.timestamp = log_append_time >= 0 ? log_append_time : batch.records[i].timestamp;
    r.error = error;
    ctx_.out.reports.push_back(r);
  }
  pending_ -= batch.records.size();
  if (error)
    ctx_.metrics.records_failed += batch.records.size();
  else
    ctx_.metrics.records_sent += batch.records.size();
}

void sender::fail_batch(std::unique_ptr<producer_batch> batch, std::error_code error) {
  idempotence_.on_failed(*batch);
  report(*batch, -1, -1, error);
  accumulator_.release(*batch);
}

void sender::succeed_batch(partition_state& p, std::unique_ptr<producer_batch> batch,
                           std::int64_t base_offset, std::int64_t log_append_time) {
  idempotence_.on_acked(p.sequences, *batch, base_offset);
  report(*batch, base_offset, log_append_time, {});
  accumulator_.release(*batch);
}

// Decides between a retry and a failure for a batch that got `code` back
// (or no answer, with maybe_written set by the caller).
void sender::retry_or_fail(partition_state& p, std::unique_ptr<producer_batch> batch,
                           std::int16_t code, std::int64_t log_start_offset, core_time now) {
  batch->last_error = code;
  if (code == wire_code(kafka_error::message_too_large) && !batch->maybe_written &&
      split_batch(p, *batch, now)) {
    // The parts replace the batch; its reservation passed to them.
    return;
  }
  // A broker may send these after the leader appended the batch (the last
  // two when an acks=all produce times out waiting for replicas, or the
  // leader moves meanwhile): it may be in the log, so it must not be
  // re-sequenced under a new epoch.
  if (code == wire_code(kafka_error::not_enough_replicas_after_append) ||
      code == wire_code(kafka_error::request_timed_out) ||
      code == wire_code(kafka_error::not_leader_or_follower))
    batch->maybe_written = true;
  const std::error_code as_error = make_error_code(static_cast<kafka_error>(code));
  const bool retriable = idempotence_.retriable(p.sequences, *batch, code, log_start_offset)
                             .value_or(is_retriable(code));
  if (invalidates_metadata(code)) metadata_.invalidate();
  const bool expired = now >= batch->created + config_.delivery_timeout;
  if (retriable && !expired && batch->attempts <= config_.retries) {
    ++ctx_.metrics.retries;
    batch->retry_after = now + backoff(batch->attempts);
    accumulator_.reenqueue(p.queue, std::move(batch));
    return;
  }
  fail_batch(std::move(batch),
             expired && retriable ? make_error_code(producer_errc::delivery_timeout) : as_error);
}

// MESSAGE_TOO_LARGE for a batch of several records: as Java's producer,
// split it and send the parts, without counting a retry. Halves, so that
// every split makes progress down to single records (a single record that
// is too large fails). The parts keep the batch's sequence range (the
// first half starts at its base sequence), so later batches stay valid.
bool sender::split_batch(partition_state& p, producer_batch& batch, core_time now) {
  if (batch.record_count() < 2) return false;
  auto read = read_record_batch(batch.encoded);
  if (!read) return false;
  batch_builder_options options;
  options.codec = config_.compression_type;
  const std::size_t half = batch.records.size() / 2;
  std::unique_ptr<producer_batch> parts[2];
  for (int i = 0; i < 2; ++i) {
    const std::size_t reserve =
        i == 0 ? batch.reserved_bytes / 2 : batch.reserved_bytes - batch.reserved_bytes / 2;
    parts[i] = std::make_unique<producer_batch>(batch.topic, batch.partition, options, reserve,
                                                batch.created);
    parts[i]->reserved_bytes = reserve;
    parts[i]->attempts = batch.attempts;
    parts[i]->retry_after = now;
    parts[i]->full = true;
  }
  std::vector<record_header> headers;
  std::size_t index = 0;
  auto cursor = read->records();
  for (const record_view& r : cursor) {
    if (index >= batch.records.size()) return false;
    producer_batch& part = *parts[index < half ? 0 : 1];
    headers.assign(r.headers.begin(), r.headers.end());
    if (part.builder.append(r.timestamp, r.key, r.value, headers)) return false;
    part.records.push_back(batch.records[index]);
    ++index;
  }
  if (!cursor.ok() || index != batch.records.size()) return false;
  for (auto& part : parts) {
    if (!part->close()) return false;
    if (batch.base_sequence >= 0) {
      part->base_sequence =
          part.get() == parts[0].get()
              ? batch.base_sequence
              : wrap_sequence(static_cast<std::int64_t>(batch.base_sequence) + half);
      idempotence_.stamp(*part);
    }
  }
  ++ctx_.metrics.batch_splits;
  accumulator_.reenqueue(p.queue, std::move(parts[1]));
  accumulator_.reenqueue(p.queue, std::move(parts[0]));
  return true;
}

void sender::fail_queued(std::error_code error) {
  for (auto& [name, t] : metadata_.topics())
    for (auto& p : t.partitions)
      while (!p->queue.batches.empty()) fail_batch(accumulator_.take_front(p->queue), error);
}

// A new producer id or epoch: every partition restarts at sequence 0.
// Batches that were never written get new sequences in their queue order
// when drained; a batch that may have been written under the old epoch
// cannot be sent again without risking a duplicate, so it fails.
void sender::restart_sequences() {
  for (auto& [name, t] : metadata_.topics())
    for (auto& p : t.partitions) {
      idempotence_manager::restart(p->sequences);
      std::deque<std::unique_ptr<producer_batch>> keep;
      for (auto& batch : p->queue.batches) {
        if (batch->base_sequence >= 0 && batch->maybe_written) {
          batch->base_sequence = -1;  // no further bump for this one
          report(*batch, -1, -1, make_error_code(producer_errc::unresolved_sequence));
          accumulator_.release(*batch);
          continue;
        }
        batch->base_sequence = -1;
        keep.push_back(std::move(batch));
      }
      p->queue.batches = std::move(keep);
    }
}

void sender::abort(std::error_code error) {
  network_.abort([&](in_flight_request& request) {
    if (request.api_key == metadata_request::api_key) metadata_.on_request_lost();
    if (request.api_key == init_producer_id_request::api_key) idempotence_.on_request_aborted();
    for (auto& batch : request.batches) {
      if (partition_state* p = metadata_.find_partition(batch->topic, batch->partition)) {
        --p->in_flight;
        idempotence_.on_returned(p->sequences, *batch);
      }
      fail_batch(std::move(batch), error);
    }
  });
  fail_queued(error);
}

// ---- answers and lost requests ---------------------------------------------

void sender::on_response(broker_connection& b, in_flight_request& request,
                         const decoded_response& response, core_time now) {
  if (const auto* m = response.body.as<metadata_response>()) {
    on_metadata(b, *m, now);
  } else if (const auto* ip = response.body.as<init_producer_id_response>()) {
    on_init_producer_id(*ip, now);
  } else if (const auto* pr = response.body.as<produce_response>()) {
    on_produce(b, request, *pr, now);
  }
}

void sender::on_connection_lost(core_time) { metadata_.invalidate(); }

void sender::on_request_lost(in_flight_request& request, std::int16_t code, core_time now) {
  if (request.api_key == metadata_request::api_key) metadata_.on_request_lost();
  if (request.api_key == init_producer_id_request::api_key) idempotence_.on_request_lost(now);
  for (auto& batch : request.batches) {
    partition_state* p = metadata_.find_partition(batch->topic, batch->partition);
    batch->maybe_written = true;
    if (p) {
      --p->in_flight;
      idempotence_.on_returned(p->sequences, *batch);
      retry_or_fail(*p, std::move(batch), code, -1, now);
    }
  }
}

void sender::on_metadata(broker_connection& b, const metadata_response& m, core_time now) {
  if (m.throttle_time_ms > 0)
    b.throttle_until = std::max(b.throttle_until, now + core_duration{m.throttle_time_ms});
  network_.update_brokers(m.brokers);
  metadata_.on_response(m, now);
}

void sender::on_init_producer_id(const init_producer_id_response& r, core_time now) {
  switch (idempotence_.on_response(r, now)) {
    case idempotence_manager::outcome::retry_later:
    case idempotence_manager::outcome::started:
      return;
    case idempotence_manager::outcome::fatal:
      // Without a producer id nothing can be sent: fail everything queued.
      return fail_queued(make_error_code(static_cast<kafka_error>(r.error_code)));
    case idempotence_manager::outcome::new_epoch:
      return restart_sequences();
  }
}

void sender::on_produce(broker_connection& b, in_flight_request& req, const produce_response& r,
                        core_time now) {
  if (r.throttle_time_ms > 0)
    b.throttle_until = std::max(b.throttle_until, now + core_duration{r.throttle_time_ms});
  for (auto& batch : req.batches) {
    partition_state* p = metadata_.find_partition(batch->topic, batch->partition);
    if (!p) {  // cannot happen: partitions are never removed
      fail_batch(std::move(batch), make_error_code(kafka_error::unknown_topic_or_partition));
      continue;
    }
    --p->in_flight;
    idempotence_.on_returned(p->sequences, *batch);
    const produce_response::partition_produce_response* found = nullptr;
    for (const auto& t : r.responses)
      if (t.name == batch->topic)
        for (const auto& pr : t.partition_responses)
          if (pr.index == batch->partition) found = &pr;
    if (!found) {
      ++ctx_.metrics.errors;
      batch->maybe_written = true;
      retry_or_fail(*p, std::move(batch), wire_code(kafka_error::network_exception), -1, now);
      continue;
    }
    if (found->error_code == 0 || idempotence_.counts_as_success(found->error_code)) {
      succeed_batch(*p, std::move(batch), found->base_offset, found->log_append_time_ms);
      continue;
    }
    ++ctx_.metrics.errors;
    retry_or_fail(*p, std::move(batch), found->error_code, found->log_start_offset, now);
  }
}

// ---- poll steps -------------------------------------------------------------

void sender::expire_batches(core_time now) {
  // Retried batches sit at the front of a queue (not always in creation
  // order); behind them, batches never sent are in creation order, so the
  // scan stops at the first of those that has not expired.
  for (auto& [name, t] : metadata_.topics())
    for (auto& p : t.partitions) {
      auto& q = p->queue.batches;
      for (auto it = q.begin(); it != q.end();) {
        if (now >= (*it)->created + config_.delivery_timeout) {
          auto batch = std::move(*it);
          it = q.erase(it);
          fail_batch(std::move(batch), make_error_code(producer_errc::delivery_timeout));
          continue;
        }
        ctx_.note_deadline((*it)->created + config_.delivery_timeout, now);
        if ((*it)->attempts == 0) break;
        ++it;
      }
    }
}

void sender::maybe_request_metadata(core_time now) {
  if (!metadata_.request_due(now)) return;
  broker_connection* b = network_.any_ready_broker(now);
  if (!b) return;
  const metadata_request m = metadata_.build_request();
  metadata_.on_request_sent();
  network_.send(*b, m, b->metadata_version, now);
}

void sender::maybe_init_producer_id(core_time now) {
  switch (idempotence_.next_step(now, network_.produce_in_flight_total())) {
    case idempotence_manager::step::nothing:
      return;
    case idempotence_manager::step::bump_epoch:
      return restart_sequences();
    case idempotence_manager::step::request:
      break;
  }
  broker_connection* b = network_.any_ready_broker(now);
  if (!b) return;
  const init_producer_id_request r = idempotence_.make_request();
  if (b->init_pid_version < 0) return network_.drop(*b, now);
  idempotence_.on_request_sent();
  network_.send(*b, r, b->init_pid_version, now);
}

// May the front batch of `p` go now, as far as ordering is concerned?
bool sender::partition_sendable(const partition_state& p, const broker_connection& b) const {
  if (idempotence_.enabled()) {
    // All of a partition's batches in flight go to one broker, whose
    // answers come in order: after a leader move, the new leader gets
    // nothing until the old one has answered (or its connection is lost).
    // So no batch is acknowledged while an earlier one is unresolved, and
    // a retried batch is always among the last five the broker keeps.
    if (p.in_flight > 0 && p.in_flight_broker != b.id) return false;
    if (p.in_flight >= std::min(max_in_flight_per_partition_idempotent,
                                config_.max_in_flight_requests_per_connection))
      return false;
    return idempotence_.may_send(p.sequences, *p.queue.batches.front());
  }
  // Kafka mutes a partition while a batch is out when one request per
  // connection is allowed: that is how ordering is guaranteed without idempotence.
  if (config_.max_in_flight_requests_per_connection == 1 && p.in_flight > 0) return false;
  return true;
}

void sender::drain(core_time now) {
  if (!idempotence_.ready_to_send()) return;
  // Ready partitions per leader.
  std::map<std::int32_t, std::vector<partition_state*>> per_broker;
  for (auto& [name, t] : metadata_.topics()) {
    for (auto& p : t.partitions) {
      if (p->queue.batches.empty()) continue;
      if (!accumulator_.ready(p->queue, now, flushing_)) {
        if (auto at = accumulator_.ready_time(p->queue)) ctx_.note_deadline(*at, now);
        continue;
      }
      if (p->leader < 0) {
        metadata_.invalidate();
        continue;
      }
      per_broker[p->leader].push_back(p.get());
    }
  }
  for (auto& [leader, parts] : per_broker) {
    broker_connection* found = network_.find(leader);
    if (!found) {
      metadata_.invalidate();
      continue;
    }
    broker_connection& b = *found;
    if (b.state == conn_state::disconnected) {
      if (b.reconnect_after <= now)
        network_.connect(b);
      else
        ctx_.note_deadline(b.reconnect_after, now);
      continue;
    }
    if (b.state != conn_state::ready) continue;
    if (now < b.throttle_until) {
      ctx_.note_deadline(b.throttle_until, now);
      continue;
    }
    while (b.produce_in_flight < config_.max_in_flight_requests_per_connection ||
           config_.acks == 0) {
      if (!build_produce(b, parts, now)) break;
    }
  }
}

// One request with at most one batch per partition. False if nothing was sent.
bool sender::build_produce(broker_connection& b, std::vector<partition_state*>& parts,
                           core_time now) {
  produce_request req;
  req.acks = config_.acks;
  req.timeout_ms = static_cast<std::int32_t>(config_.request_timeout.count());
  std::vector<std::unique_ptr<producer_batch>> batches;
  std::size_t size = 0;
  for (partition_state* p : parts) {
    if (p->queue.batches.empty() || !accumulator_.ready(p->queue, now, flushing_) ||
        !partition_sendable(*p, b))
      continue;
    producer_batch& front = *p->queue.batches.front();
    if (!front.closed) {
      if (!front.close()) {
        fail_batch(accumulator_.take_front(p->queue),
                   make_error_code(producer_errc::encode_failed));
        continue;
      }
    }
    if (!batches.empty() &&
        size + front.encoded.size() > static_cast<std::size_t>(config_.max_request_size))
      continue;
    auto batch = accumulator_.take_front(p->queue);
    if (batch->attempts == 0 && part_) {
      auto t = metadata_.topics().find(batch->topic);
      part_->on_batch_complete(batch->topic, batch->partition,
                               static_cast<std::int32_t>(t->second.partitions.size()));
    }
    idempotence_.on_drained(p->sequences, *batch);
    ++batch->attempts;
    ++p->in_flight;
    p->in_flight_broker = b.id;
    size += batch->encoded.size();
    ++ctx_.metrics.batches_sent;
    ctx_.metrics.batch_bytes_total += batch->encoded.size();
    ctx_.metrics.batch_bytes_max =
        std::max<std::uint64_t>(ctx_.metrics.batch_bytes_max, batch->encoded.size());
    batches.push_back(std::move(batch));
  }
  if (batches.empty()) return false;
  for (const auto& batch : batches) {
    auto t = std::find_if(req.topic_data.begin(), req.topic_data.end(),
                          [&](const auto& td) { return td.name == batch->topic; });
    if (t == req.topic_data.end()) {
      req.topic_data.emplace_back();
      t = std::prev(req.topic_data.end());
      t->name = std::string(batch->topic);
    }
    produce_request::partition_produce_data pd;
    pd.index = batch->partition;
    pd.records = record_set::borrow(batch->encoded);
    t->partition_data.push_back(std::move(pd));
  }
  if (config_.acks == 0) {
    // No answer will come: the records count as delivered once written.
    network_.send(b, req, b.produce_version, now, {}, false);
    for (auto& batch : batches) {
      partition_state* p = metadata_.find_partition(batch->topic, batch->partition);
      --p->in_flight;
      succeed_batch(*p, std::move(batch), -1, -1);
    }
    return true;
  }
  ++b.produce_in_flight;
  network_.send(b, req, b.produce_version, now, std::move(batches));
  return true;
}

}  // namespace kwire::detail
