#include "kwire/producer/producer_core.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "kwire/producer/partitioner.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/init_producer_id.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace kwire {

namespace {

constexpr std::int16_t err(kafka_error e) { return static_cast<std::int16_t>(e); }
constexpr int max_in_flight_per_partition_idempotent = 5;
// Produce v3 is the first with record batches (magic 2).
constexpr std::int16_t min_produce_version = 3;
constexpr std::int16_t api_versions_first_try = 3;

// Errors after which the partition's leader may have moved (Java's InvalidMetadataException family).
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

// Sequences wrap from INT32_MAX to 0, as Kafka's do.
std::int32_t wrap_sequence(std::int64_t v) {
  constexpr std::int64_t span = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  return static_cast<std::int32_t>(v >= span ? v - span : v);
}

// Is sequence `a` after `b`, within half the sequence space (they wrap at INT32_MAX)?
bool sequence_after(std::int32_t a, std::int32_t b) {
  const std::int64_t space = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  const std::int64_t d = ((static_cast<std::int64_t>(a) - b) % space + space) % space;
  return d != 0 && d < space / 2;
}

struct partition_state {
  partition_state(std::string topic, std::int32_t index) : queue(std::move(topic), index) {}
  partition_queue queue;
  std::int32_t leader = -1;
  std::int32_t leader_epoch = -1;
  int in_flight = 0;
  std::int32_t in_flight_broker = -1;  // where the batches in flight went (all to one broker)
  std::set<std::int32_t> in_flight_sequences;
  std::int32_t next_sequence = 0;
  std::int32_t last_acked_sequence = -1;
  std::int64_t last_acked_offset = -1;
};

struct topic_state {
  std::vector<std::unique_ptr<partition_state>> partitions;
  bool known = false;
  std::int16_t error = 0;  // a non-retriable metadata error
};

struct in_flight_request {
  std::int16_t api_key = 0;
  std::int16_t api_version = 0;
  core_time sent{};
  std::uint64_t order = 0;  // send order on its connection
  std::vector<std::unique_ptr<producer_batch>> batches;  // Produce only
};

enum class conn_state { disconnected, connecting, negotiating, ready };

struct broker_state {
  std::int32_t id = 0;
  std::string host;
  std::int32_t port = 0;
  conn_state state = conn_state::disconnected;
  frame_splitter splitter;
  std::map<std::int32_t, in_flight_request> in_flight;
  core_time throttle_until{};
  core_time reconnect_after{};
  std::int16_t produce_version = -1;
  std::int16_t metadata_version = -1;
  std::int16_t init_pid_version = -1;
  int produce_in_flight = 0;
  std::uint64_t requests_sent = 0;
  int failures = 0;  // connections lost since the last one that became ready
};

enum class pid_state { none, requesting, ready, fatal };

}  // namespace

struct producer_core::state {
  producer_config config;
  core_options options;
  record_accumulator accumulator;
  std::mt19937_64 random;
  std::unique_ptr<partitioner> owned_partitioner;
  partitioner* part = nullptr;
  bool idempotent = false;
  std::string client_id;

  std::map<std::int32_t, broker_state> brokers;
  std::map<std::string, topic_state, std::less<>> topics;
  std::int32_t next_correlation = 1;
  std::size_t bootstrap_cursor = 0;

  // Metadata.
  bool metadata_wanted = true;
  bool metadata_in_flight = false;
  core_time last_metadata{};
  bool have_metadata = false;
  core_time metadata_backoff_until{};

  // Idempotence.
  pid_state pid = pid_state::none;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  bool bump_needed = false;
  core_time pid_retry_after{};
  std::int16_t fatal_error = 0;

  bool flushing = false;
  std::size_t pending = 0;
  producer_metrics metrics;
  core_output out;
  std::optional<core_time> deadline;

  state(producer_config c, core_options o)
      : config(std::move(c)),
        options(o),
        accumulator(accumulator_options{static_cast<std::size_t>(config.batch_size),
                                        static_cast<std::size_t>(config.buffer_memory),
                                        static_cast<std::size_t>(config.max_request_size), config.linger,
                                        config.compression_type}),
        random(o.seed) {
    idempotent = config.enable_idempotence;
    client_id = config.client_id.empty() ? "kwire-producer" : config.client_id;
    switch (config.partitioner) {
      case partitioner_kind::sticky: owned_partitioner = std::make_unique<sticky_partitioner>(o.seed ^ 0x5eed); break;
      case partitioner_kind::round_robin: owned_partitioner = std::make_unique<round_robin_partitioner>(); break;
      case partitioner_kind::custom: break;
    }
    part = owned_partitioner ? owned_partitioner.get() : config.custom_partitioner.get();
    std::int32_t id = -1;
    for (const auto& b : config.bootstrap_servers) {
      broker_state& bs = brokers[id];
      bs.id = id;
      bs.host = b.host;
      bs.port = b.port;
      --id;
    }
    if (!idempotent) pid = pid_state::ready;
  }

  // ---- helpers ----------------------------------------------------------

  void note_deadline(core_time t, core_time now) {
    if (t <= now) t = now + core_time{1};
    if (!deadline || t < *deadline) deadline = t;
  }

  core_time backoff(int attempts) {
    // Exponential from retry.backoff.ms to retry.backoff.max.ms with +-20% jitter, as Java's ExponentialBackoff.
    const double base = static_cast<double>(config.retry_backoff.count());
    const double cap = static_cast<double>(std::max(config.retry_backoff_max, config.retry_backoff).count());
    double term = base;
    for (int i = 1; i < attempts && term < cap; ++i) term *= 2;
    term = std::min(term, cap);
    std::uniform_real_distribution<double> jitter(0.8, 1.2);
    const double value = base >= cap ? base : term * jitter(random);
    return core_time{static_cast<std::int64_t>(std::min(value, cap))};
  }

  partition_state* find_partition(std::string_view topic, std::int32_t index) {
    auto it = topics.find(topic);
    if (it == topics.end() || index < 0 || index >= static_cast<std::int32_t>(it->second.partitions.size()))
      return nullptr;
    return it->second.partitions[static_cast<std::size_t>(index)].get();
  }

  template <class Message>
  void send_request(broker_state& b, const Message& body, std::int16_t version, core_time now,
                    std::vector<std::unique_ptr<producer_batch>> batches = {}, bool expect_response = true) {
    const std::int32_t correlation = next_correlation++;
    if (next_correlation == std::numeric_limits<std::int32_t>::max()) next_correlation = 1;
    std::vector<std::uint8_t> bytes;
    writer w(bytes);
    const std::size_t at = begin_frame(w);
    request_header h;
    h.api_key = Message::api_key;
    h.api_version = version;
    h.correlation_id = correlation;
    h.client_id = client_id;
    h.encode(w, request_header_version(Message::api_key, version));
    body.encode(w, version);
    end_frame(w, at);
    out.frames.push_back({b.id, std::move(bytes)});
    if (!expect_response) return;
    in_flight_request r;
    r.api_key = Message::api_key;
    r.api_version = version;
    r.sent = now;
    r.order = b.requests_sent++;
    r.batches = std::move(batches);
    b.in_flight.emplace(correlation, std::move(r));
  }

  void report(const producer_batch& batch, std::int64_t base_offset, std::int64_t log_append_time,
              std::error_code error) {
    for (std::size_t i = 0; i < batch.records.size(); ++i) {
      delivery_report r;
      r.record_id = batch.records[i].id;
      r.topic = batch.topic;
      r.partition = batch.partition;
      r.offset = (error || base_offset < 0) ? -1 : base_offset + static_cast<std::int64_t>(i);
      r.timestamp = log_append_time >= 0 ? log_append_time : batch.records[i].timestamp;
      r.error = error;
      out.reports.push_back(r);
    }
    pending -= batch.records.size();
    if (error) metrics.records_failed += batch.records.size();
    else metrics.records_sent += batch.records.size();
  }

  // A batch with a sequence that fails leaves a gap the broker will not
  // accept: the epoch must be bumped before that partition can continue.
  void fail_batch(std::unique_ptr<producer_batch> batch, std::error_code error) {
    if (idempotent && batch->base_sequence >= 0) bump_needed = true;
    report(*batch, -1, -1, error);
    accumulator.release(*batch);
  }

  void succeed_batch(partition_state& p, std::unique_ptr<producer_batch> batch, std::int64_t base_offset,
                     std::int64_t log_append_time) {
    if (idempotent && batch->base_sequence >= 0) {
      // A retried batch can be acknowledged after a later one (its first
      // answer was lost): the acknowledged sequence only moves forward.
      const std::int32_t last =
          wrap_sequence(static_cast<std::int64_t>(batch->base_sequence) + batch->record_count() - 1);
      if (p.last_acked_sequence < 0 || sequence_after(last, p.last_acked_sequence)) p.last_acked_sequence = last;
      if (base_offset >= 0) p.last_acked_offset = std::max(p.last_acked_offset, base_offset + batch->record_count() - 1);
    }
    report(*batch, base_offset, log_append_time, {});
    accumulator.release(*batch);
  }

  // Decides between a retry and a failure for a batch that got `code` back
  // (or no answer, with maybe_written set by the caller).
  void retry_or_fail(partition_state& p, std::unique_ptr<producer_batch> batch, std::int16_t code,
                     std::int64_t log_start_offset, core_time now) {
    batch->last_error = code;
    if (code == err(kafka_error::message_too_large) && !batch->maybe_written && split_batch(p, *batch, now)) {
      // The parts replace the batch; its reservation passed to them.
      return;
    }
    // A broker may send these after the leader appended the batch (the last
    // two when an acks=all produce times out waiting for replicas, or the
    // leader moves meanwhile): it may be in the log, so it must not be
    // re-sequenced under a new epoch.
    if (code == err(kafka_error::not_enough_replicas_after_append) || code == err(kafka_error::request_timed_out) ||
        code == err(kafka_error::not_leader_or_follower))
      batch->maybe_written = true;
    const std::error_code as_error = make_error_code(static_cast<kafka_error>(code));
    bool retriable = is_retriable(code);
    if (idempotent && code == err(kafka_error::out_of_order_sequence_number)) {
      // Out of order only because an earlier batch of the partition is
      // unresolved: retry with the same sequence once the earlier one is.
      // Next in line and still refused: the broker lost our sequence; fail
      // this batch and bump the epoch (Kafka's producer does the same).
      retriable = batch->base_sequence != wrap_sequence(static_cast<std::int64_t>(p.last_acked_sequence) + 1);
      if (!retriable) bump_needed = true;
    } else if (idempotent && code == err(kafka_error::unknown_producer_id)) {
      // The broker has no state for us on this partition. As Kafka's
      // producer: if this batch is not next in line, an earlier batch of the
      // partition is unresolved (it was refused or is still out) and this one
      // was refused only because of it: retry once the earlier one is. If
      // the broker did not say where its log starts, retry until it does.
      // Next in line: safe to go on under a new epoch only when the log start
      // moved past everything we had acknowledged (retention removed it);
      // otherwise we cannot tell what the broker kept, so the batch fails.
      const bool next_in_line =
          batch->base_sequence == wrap_sequence(static_cast<std::int64_t>(p.last_acked_sequence) + 1);
      if (!next_in_line || log_start_offset < 0) {
        retriable = true;
      } else {
        bump_needed = true;
        retriable = p.last_acked_offset < log_start_offset;
      }
    }
    if (invalidates_metadata(code)) metadata_wanted = true;
    const bool expired = now >= batch->created + config.delivery_timeout;
    if (retriable && !expired && batch->attempts <= config.retries) {
      ++metrics.retries;
      batch->retry_after = now + backoff(batch->attempts);
      accumulator.reenqueue(p.queue, std::move(batch));
      return;
    }
    fail_batch(std::move(batch), expired && retriable ? make_error_code(producer_errc::delivery_timeout) : as_error);
  }

  // MESSAGE_TOO_LARGE for a batch of several records: as Java's producer,
  // split it and send the parts, without counting a retry. Halves, so that
  // every split makes progress down to single records (a single record that
  // is too large fails). The parts keep the batch's sequence range (the
  // first half starts at its base sequence), so later batches stay valid.
  bool split_batch(partition_state& p, producer_batch& batch, core_time now) {
    if (batch.record_count() < 2) return false;
    auto read = read_record_batch(batch.encoded);
    if (!read) return false;
    batch_builder_options options;
    options.codec = config.compression_type;
    const std::size_t half = batch.records.size() / 2;
    std::unique_ptr<producer_batch> parts[2];
    for (int i = 0; i < 2; ++i) {
      const std::size_t reserve = i == 0 ? batch.reserved_bytes / 2 : batch.reserved_bytes - batch.reserved_bytes / 2;
      parts[i] = std::make_unique<producer_batch>(batch.topic, batch.partition, options, reserve, batch.created);
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
        part->base_sequence = part.get() == parts[0].get()
                                  ? batch.base_sequence
                                  : wrap_sequence(static_cast<std::int64_t>(batch.base_sequence) + half);
        set_producer_state(part->encoded, producer_id, producer_epoch, part->base_sequence);
      }
    }
    ++metrics.batch_splits;
    accumulator.reenqueue(p.queue, std::move(parts[1]));
    accumulator.reenqueue(p.queue, std::move(parts[0]));
    return true;
  }

  // Every request on the connection is lost: its batches may or may not
  // have been written.
  void connection_lost(broker_state& b, core_time now, std::int16_t code) {
    // Frames for this connection not yet handed to the shell will never be
    // written (found by fuzz_producer: a request queued earlier in the same
    // poll() went out after the close); their requests are lost below.
    std::erase_if(out.frames, [&](const outgoing_frame& f) { return f.broker_id == b.id; });
    auto lost = std::move(b.in_flight);
    b.in_flight.clear();
    b.state = conn_state::disconnected;
    b.splitter = frame_splitter{};
    b.produce_in_flight = 0;
    // Reconnects back off exponentially, from retry.backoff.ms to
    // retry.backoff.max.ms, so that a broker that keeps refusing is not
    // hammered (Java: reconnect.backoff.ms to reconnect.backoff.max.ms).
    const int doublings = std::min(b.failures++, 16);
    b.reconnect_after = now + std::min(config.retry_backoff * (std::int64_t{1} << doublings),
                                       std::max(config.retry_backoff, config.retry_backoff_max));
    metadata_wanted = true;
    for (auto& [correlation, request] : lost) {
      (void)correlation;
      ++metrics.errors;
      if (request.api_key == metadata_request::api_key) metadata_in_flight = false;
      if (request.api_key == init_producer_id_request::api_key && pid == pid_state::requesting) {
        pid = pid_state::none;
        pid_retry_after = now + config.retry_backoff;
      }
      for (auto& batch : request.batches) {
        partition_state* p = find_partition(batch->topic, batch->partition);
        batch->maybe_written = true;
        if (p) {
          --p->in_flight;
          p->in_flight_sequences.erase(batch->base_sequence);
          retry_or_fail(*p, std::move(batch), code, -1, now);
        }
      }
    }
  }

  // ---- responses --------------------------------------------------------

  void on_api_versions(broker_state& b, std::span<const std::uint8_t> payload, std::int16_t version,
                       core_time now) {
    auto decoded = decode_response(payload, api_versions_request::api_key, version);
    if (!decoded && version != 0) decoded = decode_response(payload, api_versions_request::api_key, 0);
    if (!decoded) {
      // A broker that does not know our version may answer in a shape valid
      // in no version (librdkafka 2.0's mock does). Its first field is still
      // the error code: UNSUPPORTED_VERSION means "ask again with v0", which
      // is what Java's client and librdkafka do.
      if (version != 0 && payload.size() >= 6) {
        const auto code = static_cast<std::int16_t>((payload[4] << 8) | payload[5]);
        if (code == err(kafka_error::unsupported_version)) {
          send_request(b, api_versions_request{}, 0, now);
          return;
        }
      }
      return drop(b, now);
    }
    const auto* body = decoded->body.as<api_versions_response>();
    if (body->error_code == err(kafka_error::unsupported_version) && version != 0) {
      send_request(b, api_versions_request{}, 0, now);
      return;
    }
    if (body->error_code != 0) return drop(b, now);
    auto pick = [&](std::int16_t key, std::int16_t our_min, std::int16_t our_max) -> std::int16_t {
      for (const auto& k : body->api_keys)
        if (k.api_key == key) {
          const std::int16_t hi = std::min(our_max, k.max_version);
          const std::int16_t lo = std::max(our_min, k.min_version);
          return hi >= lo ? hi : -1;
        }
      return -1;
    };
    b.produce_version = pick(produce_request::api_key, min_produce_version, produce_request::max_version);
    b.metadata_version = pick(metadata_request::api_key, 1, metadata_request::max_version);
    b.init_pid_version = pick(init_producer_id_request::api_key, 0, init_producer_id_request::max_version);
    if (b.produce_version < 0 || b.metadata_version < 0) return drop(b, now);
    b.state = conn_state::ready;
    b.failures = 0;
  }

  void drop(broker_state& b, core_time now) {
    out.disconnects.push_back(b.id);
    connection_lost(b, now, err(kafka_error::network_exception));
  }

  void on_metadata(const metadata_response& m, core_time now) {
    metadata_in_flight = false;
    last_metadata = now;
    have_metadata = true;
    metadata_wanted = false;
    for (const auto& nb : m.brokers) {
      broker_state& b = brokers[nb.node_id];
      if (b.host != nb.host || b.port != nb.port) {
        b.id = nb.node_id;
        b.host = nb.host;
        b.port = nb.port;
      }
    }
    for (const auto& t : m.topics) {
      if (!t.name) continue;
      auto it = topics.find(*t.name);
      if (it == topics.end()) continue;
      topic_state& ts = it->second;
      if (t.error_code != 0) {
        if (is_retriable(t.error_code)) {
          metadata_wanted = true;
        } else {
          ts.error = t.error_code;
        }
        continue;
      }
      // The partitions are the entries (as Java's client counts them), and
      // their indexes must be exactly 0..count-1. Anything else is a broken
      // answer: not believed, asked again (an index from the wire never
      // sizes an allocation).
      const std::size_t count = t.partitions.size();
      std::vector<bool> seen(count, false);
      bool valid = count > 0;
      for (const auto& p : t.partitions) {
        if (p.partition_index < 0 || static_cast<std::size_t>(p.partition_index) >= count ||
            seen[static_cast<std::size_t>(p.partition_index)]) {
          valid = false;
          break;
        }
        seen[static_cast<std::size_t>(p.partition_index)] = true;
      }
      if (!valid || count < ts.partitions.size()) {
        metadata_wanted = true;
        continue;
      }
      ts.error = 0;
      ts.known = true;
      while (ts.partitions.size() < count)
        ts.partitions.push_back(
            std::make_unique<partition_state>(*t.name, static_cast<std::int32_t>(ts.partitions.size())));
      for (const auto& p : t.partitions) {
        partition_state& ps = *ts.partitions[static_cast<std::size_t>(p.partition_index)];
        ps.leader = p.error_code == 0 || p.error_code == err(kafka_error::replica_not_available) ? p.leader_id : -1;
        ps.leader_epoch = p.leader_epoch;
        if (ps.leader < 0) metadata_wanted = true;
      }
    }
    if (metadata_wanted) metadata_backoff_until = now + config.retry_backoff;
  }

  void on_init_producer_id(const init_producer_id_response& r, core_time now) {
    if (r.error_code != 0) {
      if (is_retriable(r.error_code)) {
        pid = pid_state::none;
        pid_retry_after = now + config.retry_backoff;
        return;
      }
      // Without a producer id nothing can be sent: fail everything queued.
      pid = pid_state::fatal;
      fatal_error = r.error_code;
      for (auto& [name, t] : topics)
        for (auto& p : t.partitions)
          while (!p->queue.batches.empty())
            fail_batch(accumulator.take_front(p->queue), make_error_code(static_cast<kafka_error>(r.error_code)));
      return;
    }
    start_epoch(r.producer_id, r.producer_epoch);
  }

  // A producer id and epoch to use from now on. When one was in use before,
  // every partition restarts at sequence 0: batches that were never written
  // get new sequences in their queue order when drained; a batch that may
  // have been written under the old epoch cannot be sent again without
  // risking a duplicate, so it fails.
  void start_epoch(std::int64_t id, std::int16_t epoch) {
    const bool bump = producer_id >= 0;
    producer_id = id;
    producer_epoch = epoch;
    pid = pid_state::ready;
    if (!bump) return;
    ++metrics.epoch_bumps;
    for (auto& [name, t] : topics)
      for (auto& p : t.partitions) {
        p->next_sequence = 0;
        p->last_acked_sequence = -1;
        p->in_flight_sequences.clear();
        std::deque<std::unique_ptr<producer_batch>> keep;
        for (auto& batch : p->queue.batches) {
          if (batch->base_sequence >= 0 && batch->maybe_written) {
            batch->base_sequence = -1;  // no further bump for this one
            report(*batch, -1, -1, make_error_code(producer_errc::unresolved_sequence));
            accumulator.release(*batch);
            continue;
          }
          batch->base_sequence = -1;
          keep.push_back(std::move(batch));
        }
        p->queue.batches = std::move(keep);
      }
  }

  void on_produce(broker_state& b, in_flight_request& req, const produce_response& r, core_time now) {
    if (r.throttle_time_ms > 0) b.throttle_until = std::max(b.throttle_until, now + core_time{r.throttle_time_ms});
    for (auto& batch : req.batches) {
      partition_state* p = find_partition(batch->topic, batch->partition);
      if (!p) {  // cannot happen: partitions are never removed
        fail_batch(std::move(batch), make_error_code(kafka_error::unknown_topic_or_partition));
        continue;
      }
      --p->in_flight;
      p->in_flight_sequences.erase(batch->base_sequence);
      const produce_response::partition_produce_response* found = nullptr;
      for (const auto& t : r.responses)
        if (t.name == batch->topic)
          for (const auto& pr : t.partition_responses)
            if (pr.index == batch->partition) found = &pr;
      if (!found) {
        ++metrics.errors;
        batch->maybe_written = true;
        retry_or_fail(*p, std::move(batch), err(kafka_error::network_exception), -1, now);
        continue;
      }
      if (found->error_code == 0 || (idempotent && found->error_code == err(kafka_error::duplicate_sequence_number))) {
        succeed_batch(*p, std::move(batch), found->base_offset, found->log_append_time_ms);
        continue;
      }
      ++metrics.errors;
      retry_or_fail(*p, std::move(batch), found->error_code, found->log_start_offset, now);
    }
  }

  void on_frame(broker_state& b, std::span<const std::uint8_t> payload, core_time now) {
    const auto correlation = peek_correlation_id(payload);
    if (!correlation) return drop(b, now);
    auto it = b.in_flight.find(*correlation);
    if (it == b.in_flight.end()) return drop(b, now);  // Java closes the connection on a mismatch too
    // A broker answers a connection's requests in order. An answer that
    // overtakes an older request means the older one's answer was lost: as
    // Java's client, close the connection, so that every request on it is
    // retried in order rather than a later batch acknowledged before an
    // earlier one is resolved.
    for (const auto& [other, r] : b.in_flight)
      if (r.order < it->second.order) return drop(b, now);
    in_flight_request req = std::move(it->second);
    b.in_flight.erase(it);
    ++metrics.requests;
    const auto latency = now - req.sent;
    metrics.request_latency_total += latency;
    metrics.request_latency_max = std::max(metrics.request_latency_max, latency);
    if (req.api_key == produce_request::api_key) --b.produce_in_flight;
    if (req.api_key == api_versions_request::api_key) return on_api_versions(b, payload, req.api_version, now);
    auto decoded = decode_response(payload, req.api_key, req.api_version);
    if (!decoded) {
      // Put the request back so that its batches are handled as lost.
      if (req.api_key == produce_request::api_key) ++b.produce_in_flight;
      b.in_flight.emplace(*correlation, std::move(req));
      return drop(b, now);
    }
    if (const auto* m = decoded->body.as<metadata_response>()) {
      if (m->throttle_time_ms > 0) b.throttle_until = std::max(b.throttle_until, now + core_time{m->throttle_time_ms});
      on_metadata(*m, now);
    } else if (const auto* ip = decoded->body.as<init_producer_id_response>()) {
      on_init_producer_id(*ip, now);
    } else if (const auto* pr = decoded->body.as<produce_response>()) {
      on_produce(b, req, *pr, now);
    }
  }

  // ---- poll steps -------------------------------------------------------

  void expire_requests(core_time now) {
    for (auto& [id, b] : brokers) {
      bool timed_out = false;
      for (const auto& [correlation, r] : b.in_flight) {
        (void)correlation;
        if (now >= r.sent + config.request_timeout) timed_out = true;
        else note_deadline(r.sent + config.request_timeout, now);
      }
      // As Kafka's NetworkClient: a request that timed out closes its connection.
      if (timed_out) {
        out.disconnects.push_back(b.id);
        connection_lost(b, now, err(kafka_error::request_timed_out));
      }
    }
  }

  void expire_batches(core_time now) {
    // Retried batches sit at the front of a queue (not always in creation
    // order); behind them, batches never sent are in creation order, so the
    // scan stops at the first of those that has not expired.
    for (auto& [name, t] : topics)
      for (auto& p : t.partitions) {
        auto& q = p->queue.batches;
        for (auto it = q.begin(); it != q.end();) {
          if (now >= (*it)->created + config.delivery_timeout) {
            auto batch = std::move(*it);
            it = q.erase(it);
            fail_batch(std::move(batch), make_error_code(producer_errc::delivery_timeout));
            continue;
          }
          note_deadline((*it)->created + config.delivery_timeout, now);
          if ((*it)->attempts == 0) break;
          ++it;
        }
      }
  }

  // A ready broker with the fewest requests in flight, or nullptr; asks for
  // a connection when there is none at all.
  broker_state* any_ready_broker(core_time now) {
    broker_state* best = nullptr;
    bool connecting = false;
    for (auto& [id, b] : brokers) {
      if (b.state == conn_state::ready) {
        if (!best || b.in_flight.size() < best->in_flight.size()) best = &b;
      } else if (b.state != conn_state::disconnected) {
        connecting = true;
      }
    }
    if (best || connecting) return best;
    // Prefer brokers learnt from metadata, then the bootstrap list, in turn.
    std::vector<broker_state*> candidates;
    for (auto& [id, b] : brokers)
      if (id >= 0) candidates.push_back(&b);
    if (candidates.empty())
      for (auto& [id, b] : brokers) candidates.push_back(&b);
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      broker_state* b = candidates[(bootstrap_cursor + i) % candidates.size()];
      if (b->reconnect_after <= now) {
        bootstrap_cursor = (bootstrap_cursor + i + 1) % candidates.size();
        connect(*b);
        return nullptr;
      }
      note_deadline(b->reconnect_after, now);
    }
    return nullptr;
  }

  void connect(broker_state& b) {
    b.state = conn_state::connecting;
    out.connects.push_back({b.id, b.host, b.port});
  }

  void maybe_request_metadata(core_time now) {
    const bool aged = have_metadata && now >= last_metadata + config.metadata_max_age;
    if (have_metadata && !aged) note_deadline(last_metadata + config.metadata_max_age, now);
    if (!(metadata_wanted || aged) || metadata_in_flight) return;
    if (now < metadata_backoff_until) return note_deadline(metadata_backoff_until, now);
    broker_state* b = any_ready_broker(now);
    if (!b) return;
    metadata_request m;
    m.topics = std::vector<metadata_request::metadata_request_topic>{};
    for (const auto& [name, t] : topics) {
      metadata_request::metadata_request_topic rt;
      rt.name = name;
      m.topics->push_back(std::move(rt));
    }
    ++metrics.metadata_requests;
    metadata_in_flight = true;
    send_request(*b, m, b->metadata_version, now);
  }

  std::size_t produce_in_flight_total() const {
    std::size_t n = 0;
    for (const auto& [id, b] : brokers) n += static_cast<std::size_t>(b.produce_in_flight);
    return n;
  }

  void maybe_init_producer_id(core_time now) {
    if (!idempotent || pid == pid_state::requesting || pid == pid_state::fatal) return;
    if (pid == pid_state::ready && !bump_needed) return;
    // An epoch bump waits until nothing is in flight, so that every
    // outstanding batch has come back and can be re-sequenced.
    if (bump_needed && produce_in_flight_total() > 0) return;
    if (bump_needed && pid == pid_state::ready && producer_id >= 0 &&
        producer_epoch < std::numeric_limits<std::int16_t>::max()) {
      // As Java's idempotent producer (KIP-360): the epoch is bumped here,
      // without asking the broker, which takes a higher epoch starting at
      // sequence 0 and from then on fences the old one. Only when the epoch
      // would overflow is a new producer id requested.
      bump_needed = false;
      start_epoch(producer_id, static_cast<std::int16_t>(producer_epoch + 1));
      return;
    }
    if (now < pid_retry_after) return note_deadline(pid_retry_after, now);
    broker_state* b = any_ready_broker(now);
    if (!b) return;
    init_producer_id_request r;
    r.transactional_id = std::nullopt;
    r.transaction_timeout_ms = 60000;
    if (b->init_pid_version < 0) return drop(*b, now);
    pid = pid_state::requesting;
    bump_needed = false;
    send_request(*b, r, b->init_pid_version, now);
  }

  // May the front batch of `p` go now, as far as ordering is concerned?
  bool partition_sendable(const partition_state& p, const broker_state& b) const {
    if (idempotent) {
      // All of a partition's batches in flight go to one broker, whose
      // answers come in order: after a leader move, the new leader gets
      // nothing until the old one has answered (or its connection is lost).
      // So no batch is acknowledged while an earlier one is unresolved, and
      // a retried batch is always among the last five the broker keeps.
      if (p.in_flight > 0 && p.in_flight_broker != b.id) return false;
      if (p.in_flight >= std::min(max_in_flight_per_partition_idempotent, config.max_in_flight_requests_per_connection))
        return false;
      const producer_batch& front = *p.queue.batches.front();
      // A retry goes only when no batch before it is still out (Kafka's
      // rule: it must be the first in-flight sequence).
      if (front.base_sequence >= 0 && !p.in_flight_sequences.empty() &&
          *p.in_flight_sequences.begin() < front.base_sequence)
        return false;
      return true;
    }
    // Kafka mutes a partition while a batch is out when one request per
    // connection is allowed: that is how ordering is guaranteed without idempotence.
    if (config.max_in_flight_requests_per_connection == 1 && p.in_flight > 0) return false;
    return true;
  }

  void drain(core_time now) {
    if (idempotent && (pid != pid_state::ready || bump_needed)) return;
    // Ready partitions per leader.
    std::map<std::int32_t, std::vector<partition_state*>> per_broker;
    for (auto& [name, t] : topics) {
      const auto count = static_cast<std::int32_t>(t.partitions.size());
      for (auto& p : t.partitions) {
        if (p->queue.batches.empty()) continue;
        if (!accumulator.ready(p->queue, now, flushing)) {
          if (auto at = accumulator.ready_time(p->queue)) note_deadline(*at, now);
          continue;
        }
        if (p->leader < 0) {
          metadata_wanted = true;
          continue;
        }
        (void)count;
        per_broker[p->leader].push_back(p.get());
      }
    }
    for (auto& [leader, parts] : per_broker) {
      auto it = brokers.find(leader);
      if (it == brokers.end()) {
        metadata_wanted = true;
        continue;
      }
      broker_state& b = it->second;
      if (b.state == conn_state::disconnected) {
        if (b.reconnect_after <= now) connect(b);
        else note_deadline(b.reconnect_after, now);
        continue;
      }
      if (b.state != conn_state::ready) continue;
      if (now < b.throttle_until) {
        note_deadline(b.throttle_until, now);
        continue;
      }
      while (b.produce_in_flight < config.max_in_flight_requests_per_connection || config.acks == 0) {
        if (!build_produce(b, parts, now)) break;
      }
    }
  }

  // One request with at most one batch per partition. False if nothing was sent.
  bool build_produce(broker_state& b, std::vector<partition_state*>& parts, core_time now) {
    produce_request req;
    req.acks = config.acks;
    req.timeout_ms = static_cast<std::int32_t>(config.request_timeout.count());
    std::vector<std::unique_ptr<producer_batch>> batches;
    std::size_t size = 0;
    for (partition_state* p : parts) {
      if (p->queue.batches.empty() || !accumulator.ready(p->queue, now, flushing) || !partition_sendable(*p, b)) continue;
      producer_batch& front = *p->queue.batches.front();
      if (!front.closed) {
        if (!front.close()) {
          fail_batch(accumulator.take_front(p->queue), make_error_code(producer_errc::encode_failed));
          continue;
        }
      }
      if (!batches.empty() && size + front.encoded.size() > static_cast<std::size_t>(config.max_request_size)) continue;
      auto batch = accumulator.take_front(p->queue);
      if (batch->attempts == 0 && part) {
        auto t = topics.find(batch->topic);
        part->on_batch_complete(batch->topic, batch->partition, static_cast<std::int32_t>(t->second.partitions.size()));
      }
      if (idempotent) {
        if (batch->base_sequence < 0) {
          batch->base_sequence = p->next_sequence;
          p->next_sequence = wrap_sequence(static_cast<std::int64_t>(p->next_sequence) + batch->record_count());
          set_producer_state(batch->encoded, producer_id, producer_epoch, batch->base_sequence);
        }
        p->in_flight_sequences.insert(batch->base_sequence);
      }
      ++batch->attempts;
      ++p->in_flight;
      p->in_flight_broker = b.id;
      size += batch->encoded.size();
      ++metrics.batches_sent;
      metrics.batch_bytes_total += batch->encoded.size();
      metrics.batch_bytes_max = std::max<std::uint64_t>(metrics.batch_bytes_max, batch->encoded.size());
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
    if (config.acks == 0) {
      // No answer will come: the records count as delivered once written.
      send_request(b, req, b.produce_version, now, {}, false);
      for (auto& batch : batches) {
        partition_state* p = find_partition(batch->topic, batch->partition);
        --p->in_flight;
        succeed_batch(*p, std::move(batch), -1, -1);
      }
      return true;
    }
    ++b.produce_in_flight;
    send_request(b, req, b.produce_version, now, std::move(batches));
    return true;
  }
};

producer_core::producer_core(producer_config config, core_options options) {
  auto checked = validate_config(std::move(config));
  if (checked.error) throw std::invalid_argument(checked.error->message());
  s_ = std::make_unique<state>(std::move(checked.config), options);
}

producer_core::~producer_core() = default;

send_result producer_core::send(const producer_record& record, std::uint64_t record_id, core_time now) {
  state& s = *s_;
  if (s.pid == pid_state::fatal)
    return {send_status::failed, -1, make_error_code(static_cast<kafka_error>(s.fatal_error))};
  auto it = s.topics.find(record.topic);
  if (it == s.topics.end()) {
    it = s.topics.emplace(std::string(record.topic), topic_state{}).first;
    s.metadata_wanted = true;
    s.metadata_backoff_until = core_time{0};
  }
  topic_state& t = it->second;
  if (t.error != 0) return {send_status::failed, -1, make_error_code(static_cast<kafka_error>(t.error))};
  if (!t.known || t.partitions.empty()) {
    s.metadata_wanted = true;
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
  partition_state& p = *t.partitions[static_cast<std::size_t>(partition)];
  const std::int64_t timestamp = record.timestamp ? *record.timestamp : s.options.wall_clock_offset_ms + now.count();
  const auto status = s.accumulator.append(p.queue, timestamp, record.key, record.value, record.headers, record_id, now);
  bool new_batch = true;
  switch (status) {
    case append_status::appended:
      new_batch = false;
      break;
    case append_status::appended_new:
      // The previous open batch of this partition is now full: the sticky
      // partitioner moves on, as in KIP-480.
      if (p.queue.batches.size() > 1 && !record.key && !record.partition)
        s.part->on_batch_complete(record.topic, partition, count);
      break;
    case append_status::buffer_full:
      return {send_status::wait_for_buffer, -1, {}};
    case append_status::record_too_large:
      return {send_status::failed, -1, make_error_code(producer_errc::record_too_large)};
  }
  ++s.pending;
  return {send_status::accepted, partition, {}, new_batch};
}

void producer_core::on_connected(std::int32_t broker_id, core_time now) {
  auto it = s_->brokers.find(broker_id);
  if (it == s_->brokers.end()) return;
  broker_state& b = it->second;
  b.state = conn_state::negotiating;
  api_versions_request r;
  r.client_software_name = "kwire";
  r.client_software_version = "0.1.0";
  s_->send_request(b, r, api_versions_first_try, now);
}

void producer_core::on_bytes(std::int32_t broker_id, std::span<const std::uint8_t> bytes, core_time now) {
  auto it = s_->brokers.find(broker_id);
  if (it == s_->brokers.end()) return;
  broker_state& b = it->second;
  if (b.state == conn_state::disconnected) return;
  b.splitter.feed(bytes);
  while (b.state != conn_state::disconnected) {
    auto frame = b.splitter.next();
    if (!frame) break;
    // Copy: handling may reset the splitter (a dropped connection).
    std::vector<std::uint8_t> payload(frame->begin(), frame->end());
    s_->on_frame(b, payload, now);
  }
  if (b.splitter.failed()) s_->drop(b, now);
}

void producer_core::on_disconnected(std::int32_t broker_id, core_time now) {
  auto it = s_->brokers.find(broker_id);
  if (it == s_->brokers.end()) return;
  s_->connection_lost(it->second, now, static_cast<std::int16_t>(kafka_error::network_exception));
}

void producer_core::flush() { s_->flushing = true; }

void producer_core::abort(std::error_code error) {
  state& s = *s_;
  for (auto& [id, b] : s.brokers) {
    for (auto& [correlation, request] : b.in_flight) {
      (void)correlation;
      if (request.api_key == metadata_request::api_key) s.metadata_in_flight = false;
      if (request.api_key == init_producer_id_request::api_key && s.pid == pid_state::requesting)
        s.pid = pid_state::none;
      for (auto& batch : request.batches) {
        if (partition_state* p = s.find_partition(batch->topic, batch->partition)) {
          --p->in_flight;
          p->in_flight_sequences.erase(batch->base_sequence);
        }
        s.fail_batch(std::move(batch), error);
      }
    }
    b.in_flight.clear();
    b.produce_in_flight = 0;
    if (b.state != conn_state::disconnected) {
      s.out.disconnects.push_back(b.id);
      b.state = conn_state::disconnected;
      b.splitter = frame_splitter{};
    }
  }
  for (auto& [name, t] : s.topics)
    for (auto& p : t.partitions)
      while (!p->queue.batches.empty()) s.fail_batch(s.accumulator.take_front(p->queue), error);
}

core_output producer_core::poll(core_time now) {
  state& s = *s_;
  s.deadline.reset();
  s.expire_requests(now);
  s.expire_batches(now);
  s.maybe_request_metadata(now);
  s.maybe_init_producer_id(now);
  s.drain(now);
  // Draining may have found partitions without a leader.
  s.maybe_request_metadata(now);
  if (s.flushing && s.pending == 0) s.flushing = false;
  return std::exchange(s.out, core_output{});
}

std::optional<core_time> producer_core::next_deadline() const { return s_->deadline; }

std::optional<std::int32_t> producer_core::partition_count(std::string_view topic) const {
  auto it = s_->topics.find(topic);
  if (it == s_->topics.end() || !it->second.known) return std::nullopt;
  return static_cast<std::int32_t>(it->second.partitions.size());
}

std::size_t producer_core::pending_records() const noexcept { return s_->pending; }
std::size_t producer_core::buffered_bytes() const noexcept { return s_->accumulator.buffered_bytes(); }
std::int64_t producer_core::producer_id() const noexcept { return s_->producer_id; }
std::int16_t producer_core::producer_epoch() const noexcept { return s_->producer_epoch; }
const producer_metrics& producer_core::metrics() const noexcept { return s_->metrics; }
const producer_config& producer_core::config() const noexcept { return s_->config; }

}  // namespace kwire
