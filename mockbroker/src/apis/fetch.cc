// Fetch: whole batches from the fetch offset within the byte limits, down-
// converted to message sets for v0-v3. A Fetch with less than MinBytes
// waits (parked) until an append to a partition it asks for gives enough,
// or MaxWaitMs passes, as Kafka's delayed fetch. Error faults land on the
// partitions they match. v7+ use incremental fetch sessions
// (fetch_sessions.hpp): the session is opened or updated when the request
// arrives, the partitions it names are read, and the response is finished
// against the session once, when it is sent.
#include <algorithm>
#include <limits>

#include "../handler.hpp"
#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/messages.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// Rewrites v2 batches as a legacy message set for Fetch v0-v3.
void append_down_converted(std::vector<std::uint8_t>& out, const stored_batch& b,
                           std::int8_t magic) {
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

/// A Fetch's answer as of now, and whether Kafka would send it yet.
struct built_fetch {
  fetch_response response;
  std::size_t total = 0;  ///< record bytes in the response
  bool any_error = false;
};

built_fetch build(cluster_state& s, const fetch_request& req, const request_context& ctx) {
  const std::int16_t v = ctx.version;
  built_fetch out;
  fetch_response& r = out.response;
  std::int64_t budget = v >= 3 ? req.max_bytes : std::numeric_limits<std::int32_t>::max();
  std::size_t total = 0;
  bool any_error = false;

  auto add_endpoint = [&](std::int32_t broker_id) {
    if (v < 16 || broker_id < 0) return;
    for (auto& e : r.node_endpoints)
      if (e.node_id == broker_id) return;
    const broker_state* b = s.find_broker(broker_id);
    r.node_endpoints.push_back({b->id, b->host, b->port, b->rack, {}});
  };

  for (const auto& want : req.topics) {
    fetch_response::fetchable_topic_response tr;
    topic_state* t = nullptr;
    if (v >= 13) {
      tr.topic_id = want.topic_id;
      t = s.find_topic_by_id(want.topic_id);
    } else {
      tr.topic = want.topic;
      t = s.find_topic(want.topic);
    }
    for (const auto& fp : want.partitions) {
      fetch_response::partition_data pd;
      pd.partition_index = fp.partition;
      pd.high_watermark = -1;
      pd.last_stable_offset = -1;
      pd.log_start_offset = -1;
      if (v >= 4 && req.isolation_level == 0) pd.aborted_transactions = std::nullopt;
      [&] {
        partition_state* p = t ? s.find_partition(t->name, fp.partition) : nullptr;
        if (!p) {
          pd.error_code = code(v >= 13 ? kafka_error::unknown_topic_id
                                       : kafka_error::unknown_topic_or_partition);
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
          pd.error_code =
              code(fp.current_leader_epoch < p->leader_epoch ? kafka_error::fenced_leader_epoch
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
        auto it = std::partition_point(p->log.begin(), p->log.end(), [&](const stored_batch& b) {
          return b.last_offset < fp.fetch_offset;
        });
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
  out.total = total;
  out.any_error = any_error;
  return out;
}

/// Kafka answers a Fetch at once when it has MinBytes of records, an error,
/// or no wait (its delayed fetch otherwise).
bool answer_now(const fetch_request& req, const built_fetch& b) {
  return req.max_wait_ms <= 0 || req.topics.empty() || b.any_error ||
         static_cast<std::int64_t>(b.total) >= req.min_bytes;
}

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<fetch_request>();
  fetch_session_cache& sessions = s.fetch_sessions.of(ctx.broker_id, s.config);
  fetch_context session = open_fetch_context(sessions, req, ctx.version, ctx.now);
  if (session.kind == fetch_context_kind::error) return wrap(session_error_response(session.error));
  const fetch_request& read = session.to_read(req);
  built_fetch b = build(s, read, ctx);
  if (answer_now(read, b)) {
    finish_fetch_response(sessions, session, read, ctx.version, b.response, ctx.now);
    return wrap(std::move(b.response));
  }
  // Too little data: parked until an append gives enough, or MaxWaitMs passes.
  s.waiting_fetches.push_back({ctx.park(), ctx.broker_id, ctx.version,
                               ctx.now + std::chrono::milliseconds(req.max_wait_ms),
                               request.body.clone(), std::move(session)});
  return {};
}

any_message error_response(const cluster_state&, const decoded_request& request,
                           std::int16_t error) {
  const auto& req = *request.body.as<fetch_request>();
  fetch_response r;
  if (request.header.api_version >= 7) r.error_code = error;
  for (auto& t : req.topics) {
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

std::vector<target> targets(const cluster_state& s, const decoded_request& request) {
  const auto& req = *request.body.as<fetch_request>();
  const std::int16_t v = request.header.api_version;
  std::vector<target> out;
  auto name_of = [&](const std::string& topic, const uuid& id) {
    if (v >= 13)
      if (const auto* ts = s.find_topic_by_id(id)) return ts->name;
    return topic;
  };
  for (auto& t : req.topics)
    for (auto& p : t.partitions) out.push_back({name_of(t.topic, t.topic_id), p.partition, -1});
  // An incremental fetch also reads the partitions of its session, so rules
  // naming them match it. The broker is not known here: the session is the
  // one with this id and expected epoch on any broker.
  if (v >= 7 && req.session_epoch > 0)
    for (const auto& [broker, cache] : s.fetch_sessions.all())
      if (auto session = cache.find(req.session_id); session && session->epoch == req.session_epoch)
        for (const auto& p : session->partitions)
          out.push_back({name_of(p.key.topic, p.key.topic_id), p.key.partition, -1});
  return out;
}

/// Does the waiting fetch ask for this partition?
bool asks_for(const cluster_state& s, const waiting_fetch& w, std::string_view topic,
              std::int32_t partition) {
  for (const auto& t : w.session.to_read(*w.request.as<fetch_request>()).topics) {
    if (w.version >= 13) {
      const topic_state* ts = s.find_topic_by_id(t.topic_id);
      if (!ts || ts->name != topic) continue;
    } else if (t.topic != topic) {
      continue;
    }
    for (const auto& p : t.partitions)
      if (p.partition == partition) return true;
  }
  return false;
}

/// Answers the waiting fetches for which `due` holds (all, at their
/// deadline; or those Kafka would answer now); drops those whose
/// connection went away.
template <class Due>
void answer_waiting(cluster_state& s, time_point now, Due due) {
  std::vector<waiting_fetch> keep;
  for (auto& w : s.waiting_fetches) {
    if (!s.parked.live(w.id)) continue;
    const fetch_request& read = w.session.to_read(*w.request.as<fetch_request>());
    if (!due(w)) {
      keep.push_back(std::move(w));
      continue;
    }
    request_context ctx;
    ctx.broker_id = w.broker_id;
    ctx.now = now;
    ctx.version = w.version;
    built_fetch b = build(s, read, ctx);
    if (now < w.deadline && !answer_now(read, b)) {
      keep.push_back(std::move(w));  // still waiting: the session is left as it is
      continue;
    }
    // Answered now: the one time its session learns what was sent.
    finish_fetch_response(s.fetch_sessions.of(w.broker_id, s.config), w.session, read, w.version,
                          b.response, now);
    s.parked.answer(w.id, wrap(std::move(b.response)), now);
  }
  s.waiting_fetches = std::move(keep);
}

}  // namespace

void wake_fetches(cluster_state& s, std::string_view topic, std::int32_t partition,
                  time_point now) {
  if (s.waiting_fetches.empty()) return;
  answer_waiting(s, now, [&](const waiting_fetch& w) { return asks_for(s, w, topic, partition); });
}

void wake_all_fetches(cluster_state& s, time_point now) {
  if (s.waiting_fetches.empty()) return;
  answer_waiting(s, now, [](const waiting_fetch&) { return true; });
}

void expire_fetches(cluster_state& s, time_point now) {
  if (s.waiting_fetches.empty()) return;
  answer_waiting(s, now, [&](const waiting_fetch& w) { return w.deadline <= now; });
}

std::optional<time_point> next_fetch_deadline(const cluster_state& s) {
  std::optional<time_point> next;
  for (const auto& w : s.waiting_fetches)
    if (s.parked.live(w.id) && (!next || w.deadline < *next)) next = w.deadline;
  return next;
}

extern const api_handler fetch_api{.key = fetch_request::api_key,
                                   .serve = serve,
                                   .error_response = error_response,
                                   .targets = targets,
                                   .places_errors = true};

}  // namespace kwire::mockbroker::detail
