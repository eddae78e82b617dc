// Incremental fetch sessions (KIP-227), as Kafka's FetchSession.scala keeps
// them: each broker's bounded cache of sessions, what a Fetch v7+ does to
// them when it arrives (Kafka's FetchManager.newContext), and which
// partitions an incremental response carries (updateAndGenerateResponseData).
// Sans-I/O and internal to the core: apis/fetch.cc reads the partitions and
// calls in here; this file knows nothing of topics or logs.
//
// A session changes at two moments, as in Kafka: when a request arrives (the
// epoch, the partition set and each partition's fetch parameters) and when
// its response is built to be sent (the high watermark and log start offset
// last sent, the order of partitions). A parked Fetch re-evaluated without
// being answered changes nothing: finish_fetch_response() runs once per
// response sent.
#pragma once

#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/messages/fetch.hpp"

namespace kwire::mockbroker::detail {

/// Kafka's FetchMetadata constants: no session, the epoch of a full fetch
/// that opens one, and the epoch that closes one.
inline constexpr std::int32_t no_fetch_session = 0;
inline constexpr std::int32_t initial_fetch_epoch = 0;
inline constexpr std::int32_t final_fetch_epoch = -1;

/// The epoch after `epoch` (Kafka's FetchMetadata.nextEpoch): INT32_MAX
/// wraps to 1, never to 0 (which would open a new session).
constexpr std::int32_t next_fetch_epoch(std::int32_t epoch) noexcept {
  if (epoch < 0) return final_fetch_epoch;
  if (epoch == INT32_MAX) return 1;
  return epoch + 1;
}

/// Names a partition in a session: by topic id in sessions of Fetch v13+,
/// by topic name before (the other field stays empty).
struct session_key {
  uuid topic_id{};
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const session_key&) const = default;
};

/// One partition of a session (Kafka's CachedPartition).
struct session_partition {
  session_key key;
  // What the fetcher asked last: set when a request names the partition.
  std::int64_t fetch_offset = 0;
  std::int64_t fetcher_log_start_offset = -1;
  std::int32_t max_bytes = 0;
  std::int32_t current_leader_epoch = -1;
  std::int32_t last_fetched_epoch = -1;
  // What the broker sent last: set when a response is sent. -1: never sent
  // (or an error was), so the next response carries the partition.
  std::int64_t high_watermark = -1;
  std::int64_t log_start_offset = -1;
};

/// One session (Kafka's FetchSession). Not copyable: its index points into
/// its list.
struct fetch_session {
  fetch_session() = default;
  fetch_session(const fetch_session&) = delete;
  fetch_session& operator=(const fetch_session&) = delete;

  std::int32_t id = 0;
  bool privileged = false;      ///< opened by a follower (ReplicaId >= 0)
  bool uses_topic_ids = false;  ///< opened by Fetch v13+
  time_point created{};
  time_point last_used{};
  std::int32_t epoch = 1;  ///< the epoch the next incremental request must carry
  /// In Kafka's order: as added, and a partition that returned records
  /// moves to the end, so that the others get their turn at MaxBytes.
  std::list<session_partition> partitions;
  std::map<session_key, std::list<session_partition>::iterator> index;
  // The cache's view as of the last touch (Kafka's cachedSize and its two
  // evictable sets).
  std::size_t cached_size = 0;
  bool evictable_by_all = false;
  bool evictable_by_privileged = false;

  session_partition* find(const session_key& key);
  /// Adds the partition at the end, or updates its request side.
  void add_or_update(const session_partition& p);
  bool remove(const session_key& key);
  void move_to_end(const session_key& key);
};

/// One broker's sessions (Kafka's FetchSessionCache): at most `slots`; when
/// full, a new session evicts a stale one (unused longer than `eviction`), or
/// else the smallest evictable one if it has fewer partitions (a follower's
/// session evicts a consumer's). Ids are positive, unique in the cache, and
/// drawn from a source seeded with the cluster's seed and the broker id.
class fetch_session_cache {
 public:
  fetch_session_cache(std::size_t slots, duration eviction, std::uint64_t seed);

  /// The session with this id, or nullptr.
  std::shared_ptr<fetch_session> find(std::int32_t id) const;
  /// Closes the session with this id; false if there was none.
  bool remove(std::int32_t id);
  /// Kafka's maybeCreateSession: a new session at epoch 1 with these
  /// partitions if there is room or something can be evicted, else nullptr.
  std::shared_ptr<fetch_session> try_create(time_point now, bool privileged, bool uses_topic_ids,
                                            std::vector<session_partition> partitions);
  /// Marks the session used now and refreshes its eviction standing.
  void touch(fetch_session& session, time_point now) const;
  /// Forgets every session (a restarted broker), keeping the id source so
  /// that new ids do not repeat old ones.
  void clear() { sessions_.clear(); }
  /// Every session, by id.
  const std::map<std::int32_t, std::shared_ptr<fetch_session>>& sessions() const noexcept {
    return sessions_;
  }

 private:
  bool try_evict(bool privileged, std::size_t size, time_point now);
  std::int32_t new_id();

  std::size_t slots_;
  duration eviction_;
  std::mt19937_64 random_;
  std::map<std::int32_t, std::shared_ptr<fetch_session>> sessions_;
};

/// Every broker's cache, made on first use (each Kafka broker has its own).
class fetch_session_caches {
 public:
  fetch_session_cache& of(std::int32_t broker, const cluster_config& config);
  /// The broker's cache if it has one yet.
  const fetch_session_cache* find(std::int32_t broker) const;
  /// A broker went down: its sessions are gone, as a restarted Kafka broker's.
  void forget(std::int32_t broker) {
    if (auto it = caches_.find(broker); it != caches_.end()) it->second.clear();
  }
  /// Every cache made so far, by broker id.
  const std::map<std::int32_t, fetch_session_cache>& all() const noexcept { return caches_; }

 private:
  std::map<std::int32_t, fetch_session_cache> caches_;
};

/// What a Fetch does with sessions, decided when it arrives (Kafka's fetch
/// context kinds).
enum class fetch_context_kind {
  sessionless,  ///< answered without a session (v0-v6, epoch -1, or a session emptied)
  full,         ///< epoch 0: answered in full, and opens a session if the cache has room
  incremental,  ///< an existing session: reads its partitions, answers what changed
  error,        ///< a session error, answered at the top level with no partitions
};

/// A Fetch's relation to the sessions of its broker, kept with it while it
/// is parked.
struct fetch_context {
  fetch_context_kind kind = fetch_context_kind::sessionless;
  std::int16_t error = 0;                  ///< error: the top-level error code
  bool privileged = false;                 ///< full: a follower's fetch
  bool uses_topic_ids = false;             ///< full: v13+
  std::shared_ptr<fetch_session> session;  ///< incremental
  std::int32_t epoch_after = 0;            ///< incremental: the session's epoch after this request
  /// incremental: the session's partitions as a request to read, and the
  /// key of each of its partitions in order.
  std::optional<fetch_request> session_request;
  std::vector<session_key> session_keys;

  /// The partitions to read: the session's, or the request's own.
  const fetch_request& to_read(const fetch_request& request) const {
    return session_request ? *session_request : request;
  }
};

/// Applies a Fetch arriving at `version` to the broker's `cache` as Kafka
/// does: SessionId with epoch -1 or 0 closes that session (-1: answered
/// without one, 0: answered in full and opens a new one); another epoch is
/// an incremental fetch, which needs the session (FETCH_SESSION_ID_NOT_FOUND),
/// its epoch (INVALID_FETCH_SESSION_EPOCH) and its kind of topic naming
/// (FETCH_SESSION_TOPIC_ID_ERROR), and then adds and updates the partitions
/// the request names, removes the forgotten ones and moves the epoch on.
/// An error leaves the cache as it was. Versions 0-6 are sessionless.
fetch_context open_fetch_context(fetch_session_cache& cache, const fetch_request& request,
                                 std::int16_t version, time_point now);

/// Finishes a response about to be sent, once: `read` is what
/// fetch_context::to_read() gave and `response` holds a partition for each
/// of its partitions, in order. Sessionless: SessionId 0. Full: opens the
/// session (SessionId 0 if the cache has no room). Incremental: keeps the
/// partitions Kafka would send (records, an error, a changed high watermark
/// or log start offset, a preferred read replica, a diverging epoch),
/// records what was sent, and answers INVALID_FETCH_SESSION_EPOCH instead if
/// another request moved the session on meanwhile.
void finish_fetch_response(fetch_session_cache& cache, fetch_context& context,
                           const fetch_request& read, std::int16_t version,
                           fetch_response& response, time_point now);

/// The answer to a session error: the code at the top level, SessionId 0,
/// no partitions.
fetch_response session_error_response(std::int16_t error);

}  // namespace kwire::mockbroker::detail
