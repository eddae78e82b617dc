// Incremental fetch sessions (KIP-227): see fetch_sessions.hpp.
#include "fetch_sessions.hpp"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <utility>

namespace kwire::mockbroker::detail {
namespace {

constexpr std::int16_t code_of(kafka_error e) noexcept { return static_cast<std::int16_t>(e); }

/// Kafka's isFromFollower: the fetcher names a replica.
bool from_follower(const fetch_request& request, std::int16_t version) {
  return (version >= 15 ? request.replica_state.replica_id : request.replica_id) >= 0;
}

session_key key_of(bool topic_ids, const uuid& topic_id, const std::string& topic,
                   std::int32_t partition) {
  return topic_ids ? session_key{topic_id, {}, partition} : session_key{{}, topic, partition};
}

/// The request side of a partition as a request names it.
session_partition requested(session_key key, const fetch_request::fetch_partition& p) {
  session_partition s;
  s.key = std::move(key);
  s.fetch_offset = p.fetch_offset;
  s.fetcher_log_start_offset = p.log_start_offset;
  s.max_bytes = p.partition_max_bytes;
  s.current_leader_epoch = p.current_leader_epoch;
  s.last_fetched_epoch = p.last_fetched_epoch;
  return s;
}

/// The session's partitions as a request to read, in the session's order; a
/// topic gets one entry per run of its partitions, as Kafka groups them.
void build_session_request(const fetch_request& request, fetch_context& context) {
  fetch_request read = request;
  read.topics.clear();
  read.forgotten_topics_data.clear();
  context.session_keys.clear();
  for (const session_partition& p : context.session->partitions) {
    if (read.topics.empty() || read.topics.back().topic_id != p.key.topic_id ||
        read.topics.back().topic != p.key.topic) {
      fetch_request::fetch_topic t;
      t.topic = p.key.topic;
      t.topic_id = p.key.topic_id;
      read.topics.push_back(std::move(t));
    }
    fetch_request::fetch_partition fp;
    fp.partition = p.key.partition;
    fp.current_leader_epoch = p.current_leader_epoch;
    fp.fetch_offset = p.fetch_offset;
    fp.last_fetched_epoch = p.last_fetched_epoch;
    fp.log_start_offset = p.fetcher_log_start_offset;
    fp.partition_max_bytes = p.max_bytes;
    read.topics.back().partitions.push_back(fp);
    context.session_keys.push_back(p.key);
  }
  context.session_request = std::move(read);
}

/// Kafka's CachedPartition.maybeUpdateResponseData with updates on: must the
/// partition go into the incremental response? Records what is sent.
bool must_respond(session_partition& cached, const fetch_response::partition_data& pd) {
  bool must = pd.records.size() > 0;
  if (cached.high_watermark != pd.high_watermark) {
    must = true;
    cached.high_watermark = pd.high_watermark;
  }
  if (cached.log_start_offset != pd.log_start_offset) {
    must = true;
    cached.log_start_offset = pd.log_start_offset;
  }
  if (pd.preferred_read_replica != -1) must = true;
  if (pd.error_code != 0) {
    // Sent again once the error goes away.
    cached.high_watermark = -1;
    must = true;
  }
  if (pd.diverging_epoch.epoch >= 0) must = true;
  return must;
}

/// Full fetch: the session's partitions from the request and its response
/// (a partition named twice: its last entry, as Kafka's request map keeps).
std::vector<session_partition> full_partitions(const fetch_request& read, std::int16_t version,
                                               const fetch_response& response) {
  const bool topic_ids = version >= 13;
  std::map<session_key, std::size_t> seen;
  std::vector<session_partition> out;
  const std::size_t topics = std::min(read.topics.size(), response.responses.size());
  for (std::size_t i = 0; i < topics; ++i) {
    const auto& want = read.topics[i];
    const auto& got = response.responses[i].partitions;
    const std::size_t partitions = std::min(want.partitions.size(), got.size());
    for (std::size_t j = 0; j < partitions; ++j) {
      session_partition p =
          requested(key_of(topic_ids, want.topic_id, want.topic, want.partitions[j].partition),
                    want.partitions[j]);
      p.high_watermark = got[j].high_watermark;
      p.log_start_offset = got[j].log_start_offset;
      auto [it, added] = seen.emplace(p.key, out.size());
      if (added) {
        out.push_back(std::move(p));
      } else {
        out[it->second] = std::move(p);
      }
    }
  }
  return out;
}

/// Incremental fetch: keeps what must be sent and records it in the session.
void finish_incremental(fetch_context& context, fetch_response& response) {
  fetch_session& session = *context.session;
  response.session_id = session.id;
  if (session.epoch != context.epoch_after) {
    // Another request moved the session on while this one waited (Kafka:
    // "possible duplicate request").
    response.error_code = code_of(kafka_error::invalid_fetch_session_epoch);
    response.responses.clear();
    response.node_endpoints.clear();
    return;
  }
  std::size_t k = 0;
  std::vector<fetch_response::fetchable_topic_response> kept;
  for (auto& topic : response.responses) {
    std::vector<fetch_response::partition_data> partitions;
    for (auto& pd : topic.partitions) {
      const session_key* key = k < context.session_keys.size() ? &context.session_keys[k] : nullptr;
      ++k;
      session_partition* cached = key ? session.find(*key) : nullptr;
      if (cached && !must_respond(*cached, pd)) continue;
      if (cached && pd.records.size() > 0) session.move_to_end(*key);
      partitions.push_back(std::move(pd));
    }
    if (partitions.empty()) continue;
    // Partitions of one topic that are adjacent once the others are left
    // out share an entry, as Kafka groups its response.
    if (!kept.empty() && kept.back().topic == topic.topic &&
        kept.back().topic_id == topic.topic_id) {
      for (auto& pd : partitions) kept.back().partitions.push_back(std::move(pd));
      continue;
    }
    topic.partitions = std::move(partitions);
    kept.push_back(std::move(topic));
  }
  response.responses = std::move(kept);
}

}  // namespace

// ---- fetch_session ----------------------------------------------------------

session_partition* fetch_session::find(const session_key& key) {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &*it->second;
}

void fetch_session::add_or_update(const session_partition& p) {
  if (session_partition* cached = find(p.key)) {
    cached->fetch_offset = p.fetch_offset;
    cached->fetcher_log_start_offset = p.fetcher_log_start_offset;
    cached->max_bytes = p.max_bytes;
    cached->current_leader_epoch = p.current_leader_epoch;
    cached->last_fetched_epoch = p.last_fetched_epoch;
    return;
  }
  partitions.push_back(p);
  index.emplace(p.key, std::prev(partitions.end()));
}

bool fetch_session::remove(const session_key& key) {
  auto it = index.find(key);
  if (it == index.end()) return false;
  partitions.erase(it->second);
  index.erase(it);
  return true;
}

void fetch_session::move_to_end(const session_key& key) {
  auto it = index.find(key);
  if (it == index.end()) return;
  partitions.splice(partitions.end(), partitions, it->second);
}

// ---- fetch_session_cache ----------------------------------------------------

fetch_session_cache::fetch_session_cache(std::size_t slots, duration eviction, std::uint64_t seed)
    : slots_(slots), eviction_(eviction), random_(seed) {}

std::shared_ptr<fetch_session> fetch_session_cache::find(std::int32_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

bool fetch_session_cache::remove(std::int32_t id) { return sessions_.erase(id) != 0; }

std::int32_t fetch_session_cache::new_id() {
  // Kafka draws from [1, INT32_MAX); a plain modulo keeps the sequence the
  // same on every standard library.
  std::int32_t id = 0;
  do {
    id = static_cast<std::int32_t>(1 + random_() % (INT32_MAX - 1));
  } while (sessions_.count(id) != 0);
  return id;
}

bool fetch_session_cache::try_evict(bool privileged, std::size_t size, time_point now) {
  if (sessions_.empty()) return false;
  // The least recently used session, if it is stale.
  const fetch_session* lru = nullptr;
  for (const auto& [id, s] : sessions_)
    if (!lru || std::tie(s->last_used, s->id) < std::tie(lru->last_used, lru->id)) lru = s.get();
  if (now - lru->last_used > eviction_) {
    const std::int32_t stale = lru->id;
    sessions_.erase(stale);
    return true;
  }
  // Else the least valuable evictable one, if the new one is worth more.
  const fetch_session* least = nullptr;
  for (const auto& [id, s] : sessions_) {
    if (!(privileged ? s->evictable_by_privileged : s->evictable_by_all)) continue;
    if (!least || std::tie(s->privileged, s->cached_size, s->id) <
                      std::tie(least->privileged, least->cached_size, least->id))
      least = s.get();
  }
  if (!least) return false;
  const std::int32_t new_key_id = 0;
  if (std::tie(privileged, size, new_key_id) <
      std::tie(least->privileged, least->cached_size, least->id))
    return false;
  const std::int32_t victim = least->id;
  sessions_.erase(victim);
  return true;
}

std::shared_ptr<fetch_session> fetch_session_cache::try_create(
    time_point now, bool privileged, bool uses_topic_ids,
    std::vector<session_partition> partitions) {
  if (sessions_.size() >= slots_ && !try_evict(privileged, partitions.size(), now)) return nullptr;
  auto session = std::make_shared<fetch_session>();
  session->id = new_id();
  session->privileged = privileged;
  session->uses_topic_ids = uses_topic_ids;
  session->created = now;
  session->epoch = next_fetch_epoch(initial_fetch_epoch);
  for (const auto& p : partitions) session->add_or_update(p);  // each key once: added whole
  touch(*session, now);
  sessions_.emplace(session->id, session);
  return session;
}

void fetch_session_cache::touch(fetch_session& session, time_point now) const {
  session.last_used = now;
  session.cached_size = session.partitions.size();
  const bool old = now - session.created > eviction_;
  session.evictable_by_privileged = !session.privileged || old;
  session.evictable_by_all = old;
}

// ---- fetch_session_caches ---------------------------------------------------

fetch_session_cache& fetch_session_caches::of(std::int32_t broker, const cluster_config& config) {
  auto it = caches_.find(broker);
  if (it != caches_.end()) return it->second;
  // Apart from the fault and topic id sources, so that sessions change neither.
  const std::uint64_t seed = (config.seed ^ 0x6a09e667f3bcc909ULL) * 0x9e3779b97f4a7c15ULL +
                             static_cast<std::uint64_t>(static_cast<std::uint32_t>(broker));
  return caches_
      .emplace(std::piecewise_construct, std::forward_as_tuple(broker),
               std::forward_as_tuple(config.fetch_session_cache_slots,
                                     config.fetch_session_eviction, seed))
      .first->second;
}

const fetch_session_cache* fetch_session_caches::find(std::int32_t broker) const {
  auto it = caches_.find(broker);
  return it == caches_.end() ? nullptr : &it->second;
}

// ---- contexts -----------------------------------------------------------------

fetch_context open_fetch_context(fetch_session_cache& cache, const fetch_request& request,
                                 std::int16_t version, time_point now) {
  fetch_context context;
  if (version < 7) return context;
  const bool topic_ids = version >= 13;
  if (request.session_epoch == initial_fetch_epoch || request.session_epoch == final_fetch_epoch) {
    // A full fetch closes the session it names.
    if (request.session_id != no_fetch_session) cache.remove(request.session_id);
    if (request.session_epoch == initial_fetch_epoch) {
      context.kind = fetch_context_kind::full;
      context.privileged = from_follower(request, version);
      context.uses_topic_ids = topic_ids;
    }
    return context;
  }
  auto error = [&](kafka_error e) {
    context.kind = fetch_context_kind::error;
    context.error = code_of(e);
    return context;
  };
  std::shared_ptr<fetch_session> session = cache.find(request.session_id);
  if (!session) return error(kafka_error::fetch_session_id_not_found);
  if (session->epoch != request.session_epoch)
    return error(kafka_error::invalid_fetch_session_epoch);
  if (session->uses_topic_ids != topic_ids) return error(kafka_error::fetch_session_topic_id_error);

  for (const auto& t : request.topics)
    for (const auto& p : t.partitions)
      session->add_or_update(requested(key_of(topic_ids, t.topic_id, t.topic, p.partition), p));
  for (const auto& t : request.forgotten_topics_data)
    for (std::int32_t p : t.partitions) session->remove(key_of(topic_ids, t.topic_id, t.topic, p));
  if (session->partitions.empty()) {
    // Nothing left: Kafka closes the session and answers the request as it is.
    cache.remove(session->id);
    return context;
  }
  cache.touch(*session, now);
  session->epoch = next_fetch_epoch(session->epoch);
  context.kind = fetch_context_kind::incremental;
  context.epoch_after = session->epoch;
  context.session = std::move(session);
  build_session_request(request, context);
  return context;
}

void finish_fetch_response(fetch_session_cache& cache, fetch_context& context,
                           const fetch_request& read, std::int16_t version,
                           fetch_response& response, time_point now) {
  switch (context.kind) {
    case fetch_context_kind::sessionless:
      response.session_id = no_fetch_session;
      return;
    case fetch_context_kind::error: {
      const std::int32_t throttle = response.throttle_time_ms;
      response = session_error_response(context.error);
      response.throttle_time_ms = throttle;
      return;
    }
    case fetch_context_kind::full: {
      auto session = cache.try_create(now, context.privileged, context.uses_topic_ids,
                                      full_partitions(read, version, response));
      response.session_id = session ? session->id : no_fetch_session;
      return;
    }
    case fetch_context_kind::incremental:
      finish_incremental(context, response);
      return;
  }
}

fetch_response session_error_response(std::int16_t error) {
  fetch_response r;
  r.error_code = error;
  r.session_id = no_fetch_session;
  return r;
}

}  // namespace kwire::mockbroker::detail
