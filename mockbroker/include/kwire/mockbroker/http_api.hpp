// The HTTP control API of the mock cluster, without sockets: a request
// (method, target, body) goes in, a status and a JSON body come out. The
// routes, their JSON and their errors live behind this class so that tests
// can drive them directly; http_server.hpp puts them on a socket (and adds
// the WebSocket stream of the request log, the token check and the body size
// limit). Targets are read with Boost.URL, bodies and answers are Boost.JSON
// values, and a table maps method and path pattern to handler
// (mockbroker/src/http/http_api.cc; the handlers are beside it, by resource).
//
// Routes (every body in and out is JSON; errors are {"error": "..."}):
//
//   GET    /cluster                                    brokers, topics, partitions
//   POST   /topics                                     {"name": T, "partitions": N, ...}
//   GET    /topics/{topic}                             one topic
//   DELETE /topics/{topic}
//   GET    /topics/{topic}/partitions/{p}              one partition
//   PUT    /topics/{topic}/partitions/{p}/leader       {"broker": ID}
//   PUT    /topics/{topic}/partitions/{p}/isr          {"isr": [ID, ...]}
//   GET    /topics/{topic}/partitions/{p}/records      ?offset=N&limit=M
//   GET    /groups                                     every group: id, state, coordinator
//   GET    /groups/{group}                             members, assignments, offsets and lag
//   DELETE /groups/{group}/members/{member}            expire the member's session now
//   POST   /groups/{group}/rebalance                   members must rejoin
//   PUT    /groups/{group}/coordinator                 {"broker": ID}
//   PUT    /groups/{group}/offsets                     {"offsets": [{"topic", "partition",
//                                                        "offset", "metadata"?, "leader_epoch"?}]}
//   GET    /brokers/{id}
//   PUT    /brokers/{id}                               {"up": bool, "latency_ms": N}
//   POST   /faults                                     a rule, an array, or {"faults": [...]}
//   GET    /faults, GET /faults/{id}, DELETE /faults/{id}, DELETE /faults
//   GET    /requests                                   ?broker=&api=&topic=&since=&limit=&payloads=
//   DELETE /requests                                   forget the request log
//   POST   /reset                                      the state the mock started with
//
// Status codes: 200 (201 for a created topic or rule), 400 for a malformed
// body or query (the message names the key and the value), 404 for an
// unknown path, topic, partition, broker, rule, group or member, 405 for a
// method a path does not serve, 409 for a topic that exists already or a
// group with nothing to rebalance.
//
// Thread-safety: none. A control_api and the cluster it is handed are used by
// one thread at a time: with a running tcp_server, inside tcp_server::call().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker {

/// An HTTP status and its JSON body.
struct http_reply {
  unsigned status = 200;
  std::string body;  ///< a JSON document
};

/// The {"error": message} reply with this status.
http_reply http_error(unsigned status, std::string_view message);

/// Which request log entries to show. Every given criterion must hold.
struct request_log_filter {
  std::optional<std::int32_t> broker;
  std::optional<std::int16_t> api_key;
  /// Entries whose request names this topic (by name or by topic id).
  std::optional<std::string> topic;
  /// Entries with a sequence number at or after this one.
  std::optional<std::uint64_t> since;
  /// Show record keys, values and header values; off: {"redacted": SIZE}.
  bool payloads = true;
};

/// Parses the query of GET /requests (and of the stream): broker, api (a
/// Kafka API name), topic, since, limit (1..10000; 0 when absent), payloads
/// (true/false). Returns the error naming the parameter, or "" on success.
std::string parse_request_log_query(std::string_view query, request_log_filter& filter,
                                    std::size_t& limit);

/// Where a reader of the request log is: the next sequence number it wants,
/// in which incarnation of the cluster (a reset starts the log again at 0).
struct request_log_cursor {
  std::uint64_t next_sequence = 0;
  std::uint64_t generation = 0;
  bool started = false;
  bool resync = false;  ///< take the log's first entry as the next (after a reset or clear)
};

/// The control API. See the top of this file.
class control_api {
 public:
  /// Sets up a cluster as the mock starts: creates its initial topics and
  /// fault rules. Called again by POST /reset on a fresh cluster.
  using initial_state = std::function<void(cluster&)>;

  explicit control_api(initial_state setup = {});

  /// Answers one request. `target` is the path with its query string
  /// (percent-encoded as sent). Never throws for bad input.
  http_reply handle(cluster& c, std::string_view method, std::string_view target,
                    std::string_view body);

  /// Forgets the request log (DELETE /requests); readers of the stream go on
  /// with the new log from its start.
  void clear_request_log(cluster& c);

  /// Rebuilds the cluster from its config, keeping the brokers' ports, and
  /// applies the initial state again: topics, records, faults and the
  /// request log are as when the mock started.
  void reset(cluster& c);

  /// The log entries after `cursor` that pass `filter`, one JSON object each,
  /// at most `max_entries`; advances the cursor. A reader that starts
  /// (`started` false) without filter.since gets only entries logged from then
  /// on. If entries the cursor wanted have left the bounded log, the first
  /// string is {"missed": N}.
  std::vector<std::string> read_request_log(const cluster& c, request_log_cursor& cursor,
                                            const request_log_filter& filter,
                                            std::size_t max_entries);

  /// One request log entry as JSON: sequence, broker, connection, arrival_ms
  /// (Unix milliseconds), sent_ms (or null), api, api_key, version,
  /// correlation_id, client_id, request and response (decoded, or null),
  /// faults ([{"id", "kind"}]), closed, close_reason.
  static std::string request_log_entry_json(const logged_request& entry, bool payloads);

 private:
  initial_state setup_;
  std::uint64_t generation_ = 0;
};

}  // namespace kwire::mockbroker
