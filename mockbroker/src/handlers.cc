// The API handlers of the cluster core: one function per served API, each
// building the response Kafka would give, for every version the codec knows.
#include <algorithm>
#include <limits>

#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/messages.hpp"
#include "kwire/protocol/record_batch.hpp"
#include "state.hpp"

namespace kwire::mock {

using namespace detail;

namespace {

constexpr std::int16_t code(kafka_error e) noexcept { return static_cast<std::int16_t>(e); }

/// FNV-1a: a stable hash for coordinator choice.
std::uint64_t stable_hash(std::string_view s) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

}  // namespace

any_message cluster::impl::serve(const decoded_request& request, request_context& ctx) {
  switch (static_cast<api_key>(request.header.api_key)) {
    case api_key::api_versions: return api_versions(ctx.version);
    case api_key::metadata: return metadata(request, ctx);
    case api_key::produce: return produce(request, ctx);
    case api_key::fetch: return fetch(request, ctx);
    case api_key::list_offsets: return list_offsets(request, ctx);
    case api_key::init_producer_id: return init_producer_id(request, ctx);
    case api_key::create_topics: return create_topics(request, ctx);
    case api_key::delete_topics: return delete_topics(request, ctx);
    case api_key::find_coordinator: return find_coordinator(request, ctx);
    case api_key::describe_cluster: return describe_cluster(request, ctx);
    default: return error_response(request, code(kafka_error::unsupported_version));
  }
}

// ---- ApiVersions ----------------------------------------------------------------

any_message cluster::impl::api_versions(std::int16_t /*version*/) {
  api_versions_response r;
  for (const api_info& api : all_apis()) {
    std::int16_t max = api.max_version;
    if (api.latest_version_unstable && !config.advertise_unstable_versions && max > api.min_version) --max;
    r.api_keys.push_back({api.key, api.min_version, max, {}});
  }
  return wrap(std::move(r));
}

// ---- Metadata ------------------------------------------------------------------

any_message cluster::impl::metadata(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<metadata_request>();
  const std::int16_t v = ctx.version;
  metadata_response r;
  for (const auto& b : brokers)
    if (b.up) r.brokers.push_back({b.id, b.host, b.port, b.rack, {}});
  r.cluster_id = config.cluster_id;
  r.controller_id = controller_id();

  auto describe = [&](topic_state& t) {
    metadata_response::metadata_response_topic rt;
    rt.name = t.name;
    rt.topic_id = t.id;
    for (const auto& p : t.partitions) {
      metadata_response::metadata_response_partition rp;
      rp.partition_index = p.index;
      rp.leader_id = p.leader;
      rp.leader_epoch = p.leader_epoch;
      rp.replica_nodes = p.replicas;
      rp.isr_nodes = p.isr;
      for (auto id : p.replicas)
        if (!find_broker(id)->up) rp.offline_replicas.push_back(id);
      if (p.leader < 0) rp.error_code = code(kafka_error::leader_not_available);
      rt.partitions.push_back(std::move(rp));
    }
    if (auto e = ctx.injected_error({t.name, -1, -1}, true)) rt.error_code = *e;
    return rt;
  };

  if (!req.topics || (v == 0 && req.topics->empty())) {
    for (auto& [name, t] : topics) r.topics.push_back(describe(t));
  } else {
    for (const auto& want : *req.topics) {
      topic_state* t = nullptr;
      if (want.name) {
        t = find_topic(*want.name);
        if (!t) {
          metadata_response::metadata_response_topic rt;
          rt.name = *want.name;
          const bool may_create = config.auto_create_topics && (v < 4 || req.allow_auto_topic_creation);
          if (!valid_topic_name(*want.name)) {
            rt.error_code = code(kafka_error::invalid_topic_exception);
          } else if (may_create) {
            create_topic(*want.name, {}, false, &t);
          }
          if (!t) {
            if (rt.error_code == 0) rt.error_code = code(kafka_error::unknown_topic_or_partition);
            r.topics.push_back(std::move(rt));
            continue;
          }
        }
      } else {
        t = find_topic_by_id(want.topic_id);
        if (!t) {
          metadata_response::metadata_response_topic rt;
          rt.name = std::nullopt;
          rt.topic_id = want.topic_id;
          rt.error_code = code(kafka_error::unknown_topic_id);
          r.topics.push_back(std::move(rt));
          continue;
        }
      }
      r.topics.push_back(describe(*t));
    }
  }
  return wrap(std::move(r));
}

// ---- Produce ---------------------------------------------------------------------

namespace {

/// A produce partition's records turned into the one v2 batch to append, or an error.
struct parsed_batch {
  std::int16_t error = 0;
  std::string message;
  std::vector<produce_response::batch_index_and_error_message> record_errors;
  std::vector<std::uint8_t> converted;  // legacy messages rewritten as a v2 batch
  bytes_view bytes;
  record_batch_header header;
};

parsed_batch parse_produce_records(const record_set& records, std::int16_t version) {
  parsed_batch out;
  auto fail = [&](kafka_error e, std::string message) {
    out.error = code(e);
    out.message = std::move(message);
    return std::move(out);
  };
  const bytes_view bytes = records.bytes();
  if (records.is_null() || bytes.empty()) return fail(kafka_error::invalid_record, "no record batch");
  const int magic = peek_magic(bytes);
  if (magic < 0) return fail(kafka_error::corrupt_message, "records too short for a batch header");
  if (magic != 2) {
    if (version >= 3 || magic > 2)
      return fail(kafka_error::invalid_record, "Produce v3 and later must carry magic 2 record batches, got magic " +
                                                   std::to_string(magic));
    // Produce v0-v2: a legacy message set, stored as one v2 batch as Kafka
    // 3.x stores everything.
    auto set = read_message_set(bytes);
    if (!set) {
      return fail(kafka_error::corrupt_message, set.error().message());
    }
    if (set->messages().empty()) return fail(kafka_error::invalid_record, "empty message set");
    record_batch_builder builder;
    for (const auto& m : set->messages())
      if (builder.append(m.timestamp, m.key, m.value)) return fail(kafka_error::invalid_record, "message too large");
    auto built = builder.finish();
    if (!built) return fail(kafka_error::invalid_record, built.error().message());
    out.converted = std::move(built).value();
    out.bytes = out.converted;
    out.header = read_record_batch(out.bytes)->header();
    return out;
  }
  auto batch = read_record_batch(bytes);
  if (!batch) {
    const auto& e = batch.error();
    const bool corrupt = e.code == codec_errc::crc_mismatch || e.code == codec_errc::truncated ||
                         e.code == codec_errc::length_exceeds_input || e.code == codec_errc::negative_length;
    return fail(corrupt ? kafka_error::corrupt_message : kafka_error::invalid_record, e.message());
  }
  if (batch->bytes().size() != bytes.size())
    return fail(kafka_error::invalid_record, "Produce requests must carry exactly one record batch per partition");
  if (batch->header().is_control())
    return fail(kafka_error::invalid_record, "clients may not send control batches");
  auto cursor = batch->records();
  record_view rv;
  while (cursor.next(rv)) {
  }
  if (!cursor.ok()) {
    out.record_errors.push_back({static_cast<std::int32_t>(cursor.index()), cursor.error().message(), {}});
    return fail(kafka_error::invalid_record, cursor.error().message());
  }
  out.bytes = bytes;
  out.header = batch->header();
  return out;
}

}  // namespace

any_message cluster::impl::produce(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<produce_request>();
  const std::int16_t v = ctx.version;
  produce_response r;
  bool any_error = false;
  std::string first_error;

  auto add_endpoint = [&](std::int32_t broker_id) {
    if (v < 10 || broker_id < 0) return;
    for (auto& e : r.node_endpoints)
      if (e.node_id == broker_id) return;
    const broker_state* b = find_broker(broker_id);
    r.node_endpoints.push_back({b->id, b->host, b->port, b->rack, {}});
  };

  for (const auto& topic : req.topic_data) {
    produce_response::topic_produce_response tr;
    tr.name = topic.name;
    for (const auto& data : topic.partition_data) {
      produce_response::partition_produce_response pr;
      pr.index = data.index;
      pr.base_offset = -1;
      auto set_error = [&](std::int16_t e, std::optional<std::string> message = std::nullopt) {
        pr.error_code = e;
        pr.base_offset = -1;
        pr.log_append_time_ms = -1;
        pr.log_start_offset = -1;
        if (v >= 8) pr.error_message = std::move(message);
      };
      [&] {
        if (req.acks != 0 && req.acks != 1 && req.acks != -1) return set_error(code(kafka_error::invalid_required_acks));
        topic_state* t = find_topic(topic.name);
        partition_state* p = t ? find_partition(topic.name, data.index) : nullptr;
        if (!p) return set_error(code(kafka_error::unknown_topic_or_partition));
        if (p->leader != ctx.broker_id) {
          set_error(code(kafka_error::not_leader_or_follower));
          if (v >= 10) pr.current_leader = {p->leader, p->leader_epoch, {}};
          add_endpoint(p->leader);
          return;
        }
        std::int64_t pid = -1;
        if (data.records.bytes().size() >= record_batch_header_size && peek_magic(data.records.bytes()) == 2) {
          reader rd(data.records.bytes().subspan(43, 8));
          pid = rd.read_int64();
        }
        if (auto e = ctx.injected_error({topic.name, data.index, pid}, true)) return set_error(*e);
        parsed_batch batch = parse_produce_records(data.records, v);
        if (batch.error) {
          set_error(batch.error, batch.message);
          if (v >= 8) pr.record_errors = std::move(batch.record_errors);
          return;
        }
        if (req.acks == -1 && static_cast<std::int64_t>(p->isr.size()) < t->min_insync_replicas)
          return set_error(code(kafka_error::not_enough_replicas));
        const auto& h = batch.header;
        const std::int64_t now_ms = ctx.now_ms();

        // Idempotence: per producer id and partition, the epoch and last five batches.
        // Refusals by the log carry its start offset, as Kafka's do: a producer
        // told UNKNOWN_PRODUCER_ID compares it with what it had acknowledged.
        auto refuse = [&](kafka_error e) {
          set_error(code(e));
          pr.log_start_offset = p->log_start;
        };
        producer_partition_state* state = nullptr;
        if (h.producer_id >= 0) {
          auto reg = producers.find(h.producer_id);
          if (reg == producers.end()) return refuse(kafka_error::unknown_producer_id);
          if (h.producer_epoch < reg->second) return refuse(kafka_error::invalid_producer_epoch);
          const std::int32_t first = h.base_sequence;
          const std::int32_t last = add_sequence(first, h.last_offset_delta);
          auto it = p->producers.find(h.producer_id);
          if (it == p->producers.end()) {
            // Nothing known here: only a producer starting at sequence 0 is accepted.
            if (first != 0) return refuse(kafka_error::unknown_producer_id);
          } else if (h.producer_epoch < it->second.epoch) {
            return refuse(kafka_error::invalid_producer_epoch);
          } else if (h.producer_epoch > it->second.epoch) {
            if (first != 0) return refuse(kafka_error::out_of_order_sequence_number);
          } else {
            for (const auto& prev : it->second.recent)
              if (prev.base_offset >= 0 && prev.first_sequence == first && prev.last_sequence == last) {
                // A retried batch: answer with where it went, do not write it twice.
                pr.base_offset = prev.base_offset;
                pr.log_append_time_ms = prev.log_append_time;
                pr.log_start_offset = p->log_start;
                return;
              }
            const std::int32_t expected = it->second.recent.empty() ? 0 : add_sequence(it->second.recent.back().last_sequence, 1);
            if (first != expected) return refuse(kafka_error::out_of_order_sequence_number);
          }
          reg->second = std::max(reg->second, h.producer_epoch);
          state = &p->producers[h.producer_id];
          if (state->epoch != h.producer_epoch) {
            state->epoch = h.producer_epoch;
            state->recent.clear();
          }
        }

        stored_batch stored;
        stored.base_offset = p->log_end;
        stored.last_offset = p->log_end + h.last_offset_delta;
        stored.bytes.assign(batch.bytes.begin(), batch.bytes.end());
        set_base_offset(stored.bytes, stored.base_offset);
        set_partition_leader_epoch(stored.bytes, p->leader_epoch);
        stored.max_timestamp = h.max_timestamp;
        std::int64_t append_time = -1;
        if (t->log_append_time) {
          append_time = now_ms;
          set_log_append_time(stored.bytes, now_ms);
          stored.max_timestamp = now_ms;
        }
        pr.base_offset = stored.base_offset;
        pr.log_append_time_ms = append_time;
        if (state) {
          state->recent.push_back({h.base_sequence, add_sequence(h.base_sequence, h.last_offset_delta),
                                   stored.base_offset, append_time});
          while (state->recent.size() > producer_batches_kept) state->recent.pop_front();
        }
        p->log_end = stored.last_offset + 1;
        p->bytes += stored.bytes.size();
        p->log.push_back(std::move(stored));
        apply_retention(*t, *p);
        pr.log_start_offset = p->log_start;
        if (auto e = ctx.injected_error({topic.name, data.index, pid}, false)) set_error(*e);
      }();
      if (pr.error_code != 0 && !any_error) {
        any_error = true;
        first_error = std::string(kafka_error_name(pr.error_code)) + " on " + topic.name + "-" + std::to_string(data.index);
      }
      tr.partition_responses.push_back(std::move(pr));
    }
    r.responses.push_back(std::move(tr));
  }
  if (req.acks == 0) {
    // No response; on an error Kafka closes the connection so that the
    // producer notices and refreshes its metadata.
    ctx.no_response = true;
    if (any_error) {
      ctx.close_after = true;
      ctx.close_reason = "acks=0 produce failed: " + first_error;
    }
  }
  return wrap(std::move(r));
}

// ---- Fetch -------------------------------------------------------------------------

namespace {

/// Rewrites v2 batches as a legacy message set for Fetch v0-v3.
void append_down_converted(std::vector<std::uint8_t>& out, const stored_batch& b, std::int8_t magic) {
  auto batch = read_record_batch(b.bytes, {.verify_crc = false});
  if (!batch) return;
  std::vector<legacy_record> records;
  auto cursor = batch->records();
  for (const record_view& r : cursor) records.push_back({r.timestamp, r.key, r.value});
  message_set_write_options options;
  options.magic = magic;
  options.base_offset = b.base_offset;
  auto written = write_message_set(records, options);
  if (written) out.insert(out.end(), written->begin(), written->end());
}

}  // namespace

any_message cluster::impl::fetch(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<fetch_request>();
  const std::int16_t v = ctx.version;
  fetch_response r;
  std::int64_t budget = v >= 3 ? req.max_bytes : std::numeric_limits<std::int32_t>::max();
  std::size_t total = 0;
  bool any_error = false;

  auto add_endpoint = [&](std::int32_t broker_id) {
    if (v < 16 || broker_id < 0) return;
    for (auto& e : r.node_endpoints)
      if (e.node_id == broker_id) return;
    const broker_state* b = find_broker(broker_id);
    r.node_endpoints.push_back({b->id, b->host, b->port, b->rack, {}});
  };

  for (const auto& want : req.topics) {
    fetch_response::fetchable_topic_response tr;
    topic_state* t = nullptr;
    if (v >= 13) {
      tr.topic_id = want.topic_id;
      t = find_topic_by_id(want.topic_id);
    } else {
      tr.topic = want.topic;
      t = find_topic(want.topic);
    }
    for (const auto& fp : want.partitions) {
      fetch_response::partition_data pd;
      pd.partition_index = fp.partition;
      pd.high_watermark = -1;
      pd.last_stable_offset = -1;
      pd.log_start_offset = -1;
      if (v >= 4 && req.isolation_level == 0) pd.aborted_transactions = std::nullopt;
      [&] {
        partition_state* p = t ? find_partition(t->name, fp.partition) : nullptr;
        if (!p) {
          pd.error_code = code(v >= 13 ? kafka_error::unknown_topic_id : kafka_error::unknown_topic_or_partition);
          return;
        }
        if (auto e = ctx.injected_error({t->name, fp.partition, -1}, true)) {
          pd.error_code = *e;
          return;
        }
        if (p->leader != ctx.broker_id) {
          pd.error_code = code(kafka_error::not_leader_or_follower);
          if (v >= 12) pd.current_leader = {p->leader, p->leader_epoch, {}};
          add_endpoint(p->leader);
          return;
        }
        if (v >= 9 && fp.current_leader_epoch >= 0 && fp.current_leader_epoch != p->leader_epoch) {
          pd.error_code = code(fp.current_leader_epoch < p->leader_epoch ? kafka_error::fenced_leader_epoch
                                                                          : kafka_error::unknown_leader_epoch);
          return;
        }
        pd.high_watermark = p->log_end;
        pd.last_stable_offset = p->log_end;
        pd.log_start_offset = p->log_start;
        if (fp.fetch_offset < p->log_start || fp.fetch_offset > p->log_end) {
          pd.error_code = code(kafka_error::offset_out_of_range);
          return;
        }
        // The first batch that holds fetch_offset, then whole batches while
        // they fit; the first batch of the response goes even if too big
        // (KIP-74), so that a consumer always makes progress.
        auto it = std::partition_point(p->log.begin(), p->log.end(),
                                       [&](const stored_batch& b) { return b.last_offset < fp.fetch_offset; });
        std::vector<std::uint8_t> bytes;
        std::int64_t partition_budget = fp.partition_max_bytes;
        for (; it != p->log.end(); ++it) {
          const auto size = static_cast<std::int64_t>(it->bytes.size());
          const bool first_of_response = total == 0 && bytes.empty();
          if (!first_of_response && (size > partition_budget || size > budget)) break;
          if (v <= 3) {
            const std::size_t before = bytes.size();
            append_down_converted(bytes, *it, v <= 1 ? 0 : 1);
            partition_budget -= static_cast<std::int64_t>(bytes.size() - before);
            budget -= static_cast<std::int64_t>(bytes.size() - before);
          } else {
            bytes.insert(bytes.end(), it->bytes.begin(), it->bytes.end());
            partition_budget -= size;
            budget -= size;
          }
          if (partition_budget <= 0 || budget <= 0) {
            ++it;
            break;
          }
        }
        total += bytes.size();
        pd.records = record_set(std::move(bytes));
      }();
      if (pd.error_code != 0) any_error = true;
      tr.partitions.push_back(std::move(pd));
    }
    r.responses.push_back(std::move(tr));
  }
  // Nothing (or less than min_bytes) to return: Kafka holds the request up
  // to max_wait. Here the answer is computed now and sent at the deadline.
  if (!any_error && req.max_wait_ms > 0 && static_cast<std::int64_t>(total) < std::max(req.min_bytes, 1))
    ctx.wait = std::chrono::milliseconds(req.max_wait_ms);
  return wrap(std::move(r));
}

// ---- ListOffsets --------------------------------------------------------------------

any_message cluster::impl::list_offsets(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<list_offsets_request>();
  const std::int16_t v = ctx.version;
  list_offsets_response r;
  for (const auto& want : req.topics) {
    list_offsets_response::list_offsets_topic_response tr;
    tr.name = want.name;
    for (const auto& lp : want.partitions) {
      list_offsets_response::list_offsets_partition_response pr;
      pr.partition_index = lp.partition_index;
      [&] {
        partition_state* p = find_partition(want.name, lp.partition_index);
        if (!p) {
          pr.error_code = code(kafka_error::unknown_topic_or_partition);
          return;
        }
        if (auto e = ctx.injected_error({want.name, lp.partition_index, -1}, true)) {
          pr.error_code = *e;
          return;
        }
        if (p->leader != ctx.broker_id) {
          pr.error_code = code(kafka_error::not_leader_or_follower);
          return;
        }
        if (v >= 4 && lp.current_leader_epoch >= 0 && lp.current_leader_epoch != p->leader_epoch) {
          pr.error_code = code(lp.current_leader_epoch < p->leader_epoch ? kafka_error::fenced_leader_epoch
                                                                          : kafka_error::unknown_leader_epoch);
          return;
        }
        std::int64_t offset = -1;
        std::int64_t timestamp = -1;
        const std::int64_t ts = lp.timestamp;
        if (ts == -1) {
          offset = p->log_end;
        } else if (ts == -2 || ts == -4 || ts == -5) {
          offset = p->log_start;
        } else if (ts == -3 || ts >= 0) {
          // -3: the record with the largest timestamp; >= 0: the first record at or after ts.
          std::int64_t best_ts = -1;
          for (const auto& b : p->log) {
            if (ts >= 0 ? b.max_timestamp < ts : b.max_timestamp <= best_ts) continue;
            auto batch = read_record_batch(b.bytes, {.verify_crc = false});
            if (!batch) continue;
            auto cursor = batch->records();
            for (const record_view& rec : cursor) {
              if (ts >= 0 ? rec.timestamp >= ts : rec.timestamp > best_ts) {
                best_ts = rec.timestamp;
                offset = rec.offset;
                if (ts >= 0) break;
              }
            }
            if (ts >= 0 && offset >= 0) break;
          }
          timestamp = offset >= 0 ? best_ts : -1;
        } else {
          pr.error_code = code(kafka_error::invalid_request);
          return;
        }
        if (v == 0) {
          if (offset >= 0) pr.old_style_offsets.push_back(offset);
        } else {
          pr.offset = offset;
          pr.timestamp = timestamp;
          if (v >= 4) pr.leader_epoch = p->leader_epoch;
        }
      }();
      tr.partitions.push_back(std::move(pr));
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

// ---- InitProducerId -------------------------------------------------------------------

any_message cluster::impl::init_producer_id(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<init_producer_id_request>();
  init_producer_id_response r;
  const kafka_error fenced = ctx.version >= 4 ? kafka_error::producer_fenced : kafka_error::invalid_producer_epoch;
  auto bump = [&](std::int64_t id) {
    std::int16_t& epoch = producers[id];
    if (epoch >= std::numeric_limits<std::int16_t>::max() - 1) {
      // Epochs exhausted: a fresh id, as Kafka does.
      auto fresh = allocate_producer_id();
      r.producer_id = fresh.first;
      r.producer_epoch = fresh.second;
      return fresh.first;
    }
    ++epoch;
    r.producer_id = id;
    r.producer_epoch = epoch;
    return id;
  };
  const bool transactional = req.transactional_id && !req.transactional_id->empty();
  if (transactional) {
    auto it = transactional_ids.find(*req.transactional_id);
    if (it == transactional_ids.end()) {
      auto fresh = allocate_producer_id();
      transactional_ids.emplace(*req.transactional_id, fresh.first);
      r.producer_id = fresh.first;
      r.producer_epoch = fresh.second;
    } else {
      if (req.producer_id >= 0 && (req.producer_id != it->second || req.producer_epoch != producers[it->second])) {
        r.error_code = code(fenced);
        return wrap(std::move(r));
      }
      it->second = bump(it->second);
    }
    return wrap(std::move(r));
  }
  // Without a transactional id Kafka always hands out a fresh id at epoch 0,
  // whatever id and epoch the request names (an idempotent producer bumps
  // its epoch itself, without asking).
  auto fresh = allocate_producer_id();
  r.producer_id = fresh.first;
  r.producer_epoch = fresh.second;
  return wrap(std::move(r));
}

// ---- CreateTopics / DeleteTopics ---------------------------------------------------------

any_message cluster::impl::create_topics(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<create_topics_request>();
  const std::int16_t v = ctx.version;
  create_topics_response r;
  for (const auto& want : req.topics) {
    create_topics_response::creatable_topic_result tr;
    tr.name = want.name;
    tr.error_message = std::nullopt;
    topic_config cfg;
    cfg.partitions = want.num_partitions;
    cfg.replication_factor = want.replication_factor;
    kafka_error error = kafka_error::none;
    std::string message;
    if (!want.assignments.empty()) {
      if (want.num_partitions != -1 || want.replication_factor != -1) {
        error = kafka_error::invalid_request;
        message = "assignments given together with a partition count or replication factor";
      }
      auto assignments = want.assignments;
      std::sort(assignments.begin(), assignments.end(),
                [](auto& a, auto& b) { return a.partition_index < b.partition_index; });
      for (std::size_t i = 0; i < assignments.size(); ++i) {
        if (assignments[i].partition_index != static_cast<std::int32_t>(i)) error = kafka_error::invalid_replica_assignment;
        cfg.assignments.push_back(assignments[i].broker_ids);
      }
    } else if (want.num_partitions == 0 || want.num_partitions < -1) {
      error = kafka_error::invalid_partitions;
    } else if (want.replication_factor == 0 || want.replication_factor < -1) {
      error = kafka_error::invalid_replication_factor;
    }
    for (const auto& c : want.configs) {
      const std::string value = c.value.value_or("");
      try {
        if (c.name == "message.timestamp.type") {
          if (value == "LogAppendTime") cfg.log_append_time = true;
          else if (value != "CreateTime") throw std::invalid_argument(value);
        } else if (c.name == "min.insync.replicas") {
          cfg.min_insync_replicas = static_cast<std::int16_t>(std::stoi(value));
        } else if (c.name == "retention.bytes") {
          cfg.retention_bytes = std::stoll(value);
        }
      } catch (const std::exception&) {
        error = kafka_error::invalid_config;
        message = "invalid value for " + c.name;
      }
    }
    if (error == kafka_error::none) {
      topic_state* created = nullptr;
      error = create_topic(want.name, cfg, req.validate_only, &created);
      if (created) tr.topic_id = created->id;
    }
    if (error != kafka_error::none) {
      tr.error_code = code(error);
      if (v >= 1) tr.error_message = message.empty() ? std::string(kafka_error_name(code(error))) : message;
    } else if (v >= 5) {
      const topic_state* t = find_topic(want.name);
      tr.num_partitions = t ? static_cast<std::int32_t>(t->partitions.size())
                            : (cfg.partitions == -1 ? config.default_partitions : cfg.partitions);
      tr.replication_factor = t ? static_cast<std::int16_t>(t->partitions.front().replicas.size())
                                : (cfg.replication_factor == -1 ? std::min<std::int16_t>(config.default_replication_factor, static_cast<std::int16_t>(brokers.size())) : cfg.replication_factor);
      std::vector<create_topics_response::creatable_topic_configs> configs;
      configs.push_back({"message.timestamp.type", cfg.log_append_time ? "LogAppendTime" : "CreateTime", false, 5, false, {}});
      configs.push_back({"min.insync.replicas",
                         std::to_string(t ? t->min_insync_replicas : config.min_insync_replicas), false, 5, false, {}});
      tr.configs = std::move(configs);
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

any_message cluster::impl::delete_topics(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<delete_topics_request>();
  delete_topics_response r;
  auto remove = [&](topic_state* t, delete_topics_response::deletable_topic_result& tr, kafka_error missing) {
    if (!t) {
      tr.error_code = code(missing);
      return;
    }
    tr.topic_id = t->id;
    const std::string name = t->name;
    topics.erase(name);
  };
  if (ctx.version < 6) {
    for (const auto& name : req.topic_names) {
      delete_topics_response::deletable_topic_result tr;
      tr.name = name;
      remove(find_topic(name), tr, kafka_error::unknown_topic_or_partition);
      tr.topic_id = {};
      r.responses.push_back(std::move(tr));
    }
  } else {
    for (const auto& want : req.topics) {
      delete_topics_response::deletable_topic_result tr;
      tr.name = want.name;
      if (want.name) {
        remove(find_topic(*want.name), tr, kafka_error::unknown_topic_or_partition);
      } else {
        tr.topic_id = want.topic_id;
        topic_state* t = find_topic_by_id(want.topic_id);
        if (t) tr.name = t->name;
        remove(t, tr, kafka_error::unknown_topic_id);
      }
      r.responses.push_back(std::move(tr));
    }
  }
  return wrap(std::move(r));
}

// ---- FindCoordinator / DescribeCluster ----------------------------------------------------

any_message cluster::impl::find_coordinator(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<find_coordinator_request>();
  const std::int16_t v = ctx.version;
  find_coordinator_response r;
  struct choice {
    std::int16_t error = 0;
    const broker_state* broker = nullptr;
  };
  auto choose = [&](std::string_view key) {
    choice c;
    if (req.key_type != 0 && req.key_type != 1) {
      c.error = code(kafka_error::invalid_request);
      return c;
    }
    const std::size_t n = brokers.size();
    const std::size_t start = stable_hash(key) % n;
    for (std::size_t i = 0; i < n; ++i) {
      const broker_state& b = brokers[(start + i) % n];
      if (b.up) {
        c.broker = &b;
        return c;
      }
    }
    c.error = code(kafka_error::coordinator_not_available);
    return c;
  };
  if (v < 4) {
    const choice c = choose(req.key);
    r.error_code = c.error;
    if (v >= 1) r.error_message = c.error ? std::optional<std::string>(std::string(kafka_error_name(c.error))) : std::nullopt;
    r.node_id = c.broker ? c.broker->id : -1;
    r.host = c.broker ? c.broker->host : "";
    r.port = c.broker ? c.broker->port : -1;
  } else {
    for (const auto& key : req.coordinator_keys) {
      const choice c = choose(key);
      find_coordinator_response::coordinator co;
      co.key = key;
      co.error_code = c.error;
      co.node_id = c.broker ? c.broker->id : -1;
      co.host = c.broker ? c.broker->host : "";
      co.port = c.broker ? c.broker->port : -1;
      if (c.error) co.error_message = std::string(kafka_error_name(c.error));
      r.coordinators.push_back(std::move(co));
    }
  }
  return wrap(std::move(r));
}

any_message cluster::impl::describe_cluster(const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<describe_cluster_request>();
  describe_cluster_response r;
  if (ctx.version >= 1 && req.endpoint_type != 1) {
    r.error_code = code(kafka_error::unsupported_endpoint_type);
    r.error_message = "the mock cluster has broker endpoints only";
    r.endpoint_type = req.endpoint_type;
    return wrap(std::move(r));
  }
  r.cluster_id = config.cluster_id;
  r.controller_id = controller_id();
  for (const auto& b : brokers)
    if (b.up) r.brokers.push_back({b.id, b.host, b.port, b.rack, {}});
  return wrap(std::move(r));
}

// ---- error responses ---------------------------------------------------------------------

any_message cluster::impl::error_response(const decoded_request& request, std::int16_t error) {
  const std::int16_t v = request.header.api_version;
  if (auto* req = request.body.as<produce_request>()) {
    produce_response r;
    for (auto& t : req->topic_data) {
      produce_response::topic_produce_response tr;
      tr.name = t.name;
      for (auto& p : t.partition_data) tr.partition_responses.push_back({p.index, error, -1, -1, -1, {}, {}, {}, {}});
      r.responses.push_back(std::move(tr));
    }
    return wrap(std::move(r));
  }
  if (auto* req = request.body.as<fetch_request>()) {
    fetch_response r;
    if (v >= 7) r.error_code = error;
    for (auto& t : req->topics) {
      fetch_response::fetchable_topic_response tr;
      tr.topic = t.topic;
      tr.topic_id = t.topic_id;
      for (auto& p : t.partitions) {
        fetch_response::partition_data pd;
        pd.partition_index = p.partition;
        pd.error_code = error;
        pd.high_watermark = -1;
        tr.partitions.push_back(std::move(pd));
      }
      r.responses.push_back(std::move(tr));
    }
    return wrap(std::move(r));
  }
  if (auto* req = request.body.as<list_offsets_request>()) {
    list_offsets_response r;
    for (auto& t : req->topics) {
      list_offsets_response::list_offsets_topic_response tr;
      tr.name = t.name;
      for (auto& p : t.partitions) {
        list_offsets_response::list_offsets_partition_response pr;
        pr.partition_index = p.partition_index;
        pr.error_code = error;
        tr.partitions.push_back(std::move(pr));
      }
      r.topics.push_back(std::move(tr));
    }
    return wrap(std::move(r));
  }
  if (auto* req = request.body.as<metadata_request>()) {
    metadata_response r;
    for (const auto& b : brokers)
      if (b.up) r.brokers.push_back({b.id, b.host, b.port, b.rack, {}});
    r.cluster_id = config.cluster_id;
    r.controller_id = controller_id();
    if (req->topics)
      for (auto& t : *req->topics) {
        metadata_response::metadata_response_topic rt;
        rt.error_code = error;
        rt.name = t.name;
        rt.topic_id = t.topic_id;
        r.topics.push_back(std::move(rt));
      }
    return wrap(std::move(r));
  }
  if (auto* req = request.body.as<create_topics_request>()) {
    create_topics_response r;
    for (auto& t : req->topics) {
      create_topics_response::creatable_topic_result tr;
      tr.name = t.name;
      tr.error_code = error;
      tr.error_message = v >= 1 ? std::optional<std::string>(std::string(kafka_error_name(error))) : std::nullopt;
      tr.configs = std::nullopt;
      r.topics.push_back(std::move(tr));
    }
    return wrap(std::move(r));
  }
  if (auto* req = request.body.as<delete_topics_request>()) {
    delete_topics_response r;
    for (auto& n : req->topic_names) r.responses.push_back({n, {}, error, std::nullopt, {}});
    for (auto& t : req->topics) r.responses.push_back({t.name, t.topic_id, error, std::nullopt, {}});
    return wrap(std::move(r));
  }
  if (auto* req = request.body.as<find_coordinator_request>()) {
    find_coordinator_response r;
    if (v < 4) {
      r.error_code = error;
      r.node_id = -1;
      r.port = -1;
    } else {
      for (auto& k : req->coordinator_keys) {
        find_coordinator_response::coordinator c;
        c.key = k;
        c.node_id = -1;
        c.port = -1;
        c.error_code = error;
        r.coordinators.push_back(std::move(c));
      }
    }
    return wrap(std::move(r));
  }
  // Any other API: its default response with the error at the top level,
  // when it has one there and the version carries it.
  any_message r(*request.api->response);
  any_message with_error = r.clone();
  if (set_top_level_error(with_error, error)) {
    std::vector<std::uint8_t> probe;
    writer w(probe);
    with_error.encode(w, v);
    if (w.ok()) return with_error;
  }
  return r;
}

}  // namespace kwire::mock
