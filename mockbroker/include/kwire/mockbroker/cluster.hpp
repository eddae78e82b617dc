// The mock cluster core: brokers, topics, partition logs, idempotent producer
// state, fault rules and a request log, driven one request frame at a time.
//
// Sans-I/O: the core opens no socket, starts no thread and reads no clock.
// A shell (the TCP front, or a simulation) hands it a request frame, the
// broker and connection it arrived on and the current time; the core returns
// the response frame (or none), when to send it and whether to close the
// connection. Given the same inputs and the same seed, it gives the same
// outputs, so a failing run replays.
//
// Thread-safety: none. One cluster is driven by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/protocol/clock.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/message.hpp"
#include "kwire/protocol/wire.hpp"

namespace kwire::mockbroker {

/// The cluster's times are kwire::core_time: milliseconds since the Unix
/// epoch (protocol/clock.hpp), the one clock type of kwire's cores. The core
/// never reads a clock: shells pass the time (the TCP front a
/// steady_core_clock, the simulation virtual time), tests any value they
/// like. LogAppendTime and ListOffsets by time read it as wall-clock time.
using time_point = core_time;
/// A span of the cluster's clock (milliseconds).
using duration = core_duration;

/// How to build a cluster.
struct cluster_config {
  /// Brokers get ids 1..broker_count.
  int broker_count = 3;
  std::string host = "127.0.0.1";
  /// Port of each broker by position; missing entries get first_port + index.
  std::vector<std::int32_t> ports;
  std::int32_t first_port = 9092;
  /// Rack of each broker by position; missing entries have no rack.
  std::vector<std::string> racks;
  /// Create a topic the first time Metadata names it (Kafka's auto.create.topics.enable).
  bool auto_create_topics = true;
  /// Partitions of an auto-created topic, or of CreateTopics with -1 (Kafka's num.partitions).
  std::int32_t default_partitions = 1;
  /// Replicas of a new topic when none is asked for; capped at the broker count.
  std::int16_t default_replication_factor = 3;
  /// Kafka's min.insync.replicas: acks=-1 fails with NOT_ENOUGH_REPLICAS below it.
  std::int16_t min_insync_replicas = 1;
  /// Retention per partition: the oldest batches are dropped (and the log
  /// start offset advanced) while the partition holds more than this many
  /// bytes or records. The newest batch always stays. <= 0: no limit.
  std::int64_t retention_bytes = 256LL * 1024 * 1024;
  std::int64_t retention_records = -1;
  std::string cluster_id = "kwire-mock-cluster";
  /// Seeds the random source of probabilistic faults (and topic ids).
  std::uint64_t seed = 1;
  /// Most entries kept in the request log (oldest dropped first); 0 keeps none.
  std::size_t request_log_capacity = 10000;
  /// Most bytes of request and response frames the request log holds (the
  /// records of Produce and Fetch are most of it); past it the oldest
  /// entries go, the newest always stays.
  std::size_t request_log_max_bytes = 64 * 1024 * 1024;
  /// Advertise the newest version of an API whose schema marks it unstable,
  /// as Kafka does only with unstable.api.versions.enable.
  bool advertise_unstable_versions = false;
  /// Advertise every API of all_apis() in ApiVersions, served or not (for
  /// codec tests against real clients). Requests of an API the mock does not
  /// serve still close their connection.
  bool advertise_all_apis = false;

  // The group coordinator (classic groups), with Kafka's broker settings.
  /// JoinGroup's session timeout must lie in [min, max], else
  /// INVALID_SESSION_TIMEOUT (group.min.session.timeout.ms, 6 s, and
  /// group.max.session.timeout.ms, 30 min).
  std::int32_t group_min_session_timeout_ms = 6000;
  std::int32_t group_max_session_timeout_ms = 1800000;
  /// How long the first rebalance of an Empty group waits for more members
  /// (group.initial.rebalance.delay.ms). Kafka's default is 3000; the mock's
  /// is 0, so that a lone member's JoinGroup is answered when it arrives.
  std::int32_t group_initial_rebalance_delay_ms = 0;
  /// Most members of a group (group.max.size); more get GROUP_MAX_SIZE_REACHED.
  std::int32_t group_max_size = 2147483647;
  /// Longest committed offset metadata (offset.metadata.max.bytes); longer
  /// gets OFFSET_METADATA_TOO_LARGE.
  std::int32_t offset_metadata_max_bytes = 4096;
  /// Largest record batch Kafka writes to __consumer_offsets (its
  /// message.max.bytes, 1 MiB + 12): a group whose metadata is larger fails
  /// the leader's SyncGroup with UNKNOWN_SERVER_ERROR (and rebalances), an
  /// offset commit larger than this gets INVALID_COMMIT_OFFSET_SIZE. The mock
  /// keeps no such topic; it sizes the records as Kafka's formats would.
  std::int32_t offsets_topic_max_message_bytes = 1048588;
  // Consumer groups of KIP-848 (ConsumerGroupHeartbeat), with Kafka's
  // broker settings; checked when the cluster is built (std::invalid_argument
  // naming the key). group_max_size limits them too.
  /// A member that does not heartbeat for this long is fenced and its
  /// partitions move (group.consumer.session.timeout.ms); positive.
  std::int32_t group_consumer_session_timeout_ms = 45000;
  /// HeartbeatIntervalMs of the answers (group.consumer.heartbeat.interval.ms);
  /// positive, less than the session timeout.
  std::int32_t group_consumer_heartbeat_interval_ms = 5000;
  /// The server-side assignors a member may name in ServerAssignor, the
  /// first being the default (group.consumer.assignors): "uniform", "range".
  std::vector<std::string> group_consumer_assignors{"uniform", "range"};
  /// Incremental fetch sessions (KIP-227) each broker keeps at most (Kafka's
  /// max.incremental.fetch.session.cache.slots). When they are all taken and
  /// none can be evicted, a Fetch that asks for a session is answered in
  /// full without one (SessionId 0); 0 opens none.
  std::size_t fetch_session_cache_slots = 1000;
  /// Kafka's min.incremental.fetch.session.eviction.ms: a session unused
  /// this long is evicted first; a session younger than this is evicted only
  /// for a follower's.
  duration fetch_session_eviction = std::chrono::milliseconds(120000);
};

/// One incremental fetch session (KIP-227) a broker keeps, for tests.
struct fetch_session_info {
  std::int32_t id = 0;
  /// The SessionEpoch its next incremental Fetch must carry.
  std::int32_t epoch = 0;
  /// The partitions in it.
  std::size_t partitions = 0;
  /// Opened by Fetch v13+ (partitions named by topic id).
  bool uses_topic_ids = false;
  bool operator==(const fetch_session_info&) const = default;
};

/// Per-topic settings for create_topic() (CreateTopics configs map onto these).
struct topic_config {
  std::int32_t partitions = -1;          ///< -1: cluster default
  std::int16_t replication_factor = -1;  ///< -1: cluster default
  /// message.timestamp.type=LogAppendTime: the broker stamps batches on append.
  bool log_append_time = false;
  std::int16_t min_insync_replicas = -1;  ///< -1: cluster default
  std::int64_t retention_bytes = 0;       ///< 0: cluster default, < 0: unlimited
  std::int64_t retention_records = 0;     ///< 0: cluster default, < 0: unlimited
  /// Replicas of each partition (first is the leader); empty: round robin.
  std::vector<std::vector<std::int32_t>> assignments{};
};

// ---- faults ------------------------------------------------------------------

/// What a fault does when it fires.
enum class fault_kind {
  error,                   ///< answer with error_code instead of processing
  delay,                   ///< process normally, answer `delay` later
  drop,                    ///< neither process nor answer
  close_before,            ///< close the connection without processing
  close_after_processing,  ///< process, then close without answering
  close_after_response,    ///< process, answer, then close
  append_then_error,       ///< process (append the batch), then answer with error_code
  append_then_drop,        ///< process (append the batch), never answer: the lost acknowledgement
  throttle,                ///< process normally, with ThrottleTimeMs set to throttle_ms
};

/// The name of a fault kind, e.g. "append_then_drop".
std::string_view fault_kind_name(fault_kind kind) noexcept;

/// What a fault rule does, with the parameters its kind needs.
struct fault_action {
  fault_kind kind = fault_kind::error;
  std::int16_t error_code = 0;   ///< for error and append_then_error
  duration delay{};              ///< for delay
  std::int32_t throttle_ms = 0;  ///< for throttle

  static fault_action error(kafka_error e) {
    return {fault_kind::error, static_cast<std::int16_t>(e), {}, 0};
  }
  static fault_action append_then_error(kafka_error e) {
    return {fault_kind::append_then_error, static_cast<std::int16_t>(e), {}, 0};
  }
  static fault_action delayed(duration d) { return {fault_kind::delay, 0, d, 0}; }
  static fault_action throttled(std::int32_t ms) { return {fault_kind::throttle, 0, {}, ms}; }
  static fault_action of(fault_kind kind) { return {kind, 0, {}, 0}; }
};

/// Which requests a rule applies to. Every given criterion must hold. Topic,
/// partition, producer id and group look inside the request: Produce (topics,
/// partitions, the producer id of each batch), Fetch and ListOffsets (topics
/// and partitions), Metadata, CreateTopics and DeleteTopics (topic names),
/// the group APIs (group ids; OffsetCommit, OffsetFetch and OffsetDelete
/// also their topics and partitions); a request of another API never
/// matches a rule that names them. A rule matches a request if any one of
/// its targets fits.
struct fault_match {
  std::optional<std::int32_t> broker;
  std::optional<std::int16_t> api_key;
  std::optional<std::int16_t> api_version;
  std::optional<std::string> topic;
  std::optional<std::int32_t> partition;
  std::optional<std::int64_t> producer_id;
  /// A group id: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
  /// OffsetFetch, OffsetDelete, DescribeGroups, DeleteGroups,
  /// ConsumerGroupHeartbeat and ConsumerGroupDescribe naming it.
  std::optional<std::string> group;
  /// > 0: matching requests before the n-th (1-based) pass untouched; the
  /// rule can fire from the n-th on (with count = 1: the n-th only).
  std::uint64_t nth = 0;
  /// Chance that a matching request fires the rule, from the seeded source.
  double probability = 1.0;
};

/// A fault rule: which requests, what to do, how often.
struct fault_rule {
  fault_match match;
  fault_action action;
  /// How many times the rule may fire; nullopt: without limit.
  std::optional<std::uint64_t> count;
};

/// Names a rule for remove_fault() and fired(); never reused by a cluster.
using rule_id = std::uint64_t;

/// A rule with its counters.
struct rule_status {
  rule_id id = 0;
  fault_rule rule;
  std::uint64_t matched = 0;  ///< matching requests seen
  std::uint64_t fired = 0;    ///< times the action was applied
};

/// A fault applied to one request.
struct applied_fault {
  rule_id id = 0;
  fault_kind kind = fault_kind::error;
  bool operator==(const applied_fault&) const = default;
};

// ---- handling ------------------------------------------------------------------

/// What to do with one request frame.
struct handle_result {
  /// The whole response frame, size prefix included; nullopt: send nothing.
  std::optional<std::vector<std::uint8_t>> response;
  /// When to send the response (or close after it): arrival + broker latency
  /// + fault delays.
  time_point send_at{};
  /// Close the connection now; nothing is sent (response is nullopt).
  bool close_before_response = false;
  /// Close the connection after sending the response (or at send_at if none).
  bool close_after_response = false;
  /// Why the connection closes, for the shell's log.
  std::string close_reason;
  /// The faults that fired on this request.
  std::vector<applied_fault> faults;
  /// Non-zero: the request is parked in the cluster (a Fetch waiting for
  /// data, a JoinGroup waiting for its rebalance, a SyncGroup waiting for the
  /// leader) and response is nullopt; its answer comes from cluster::poll()
  /// with this ticket. Kafka answers a connection's requests in order, so
  /// the shell sends the connection's later responses after it.
  std::uint64_t parked = 0;

  bool closes() const noexcept { return close_before_response || close_after_response; }
};

/// The answer to a parked request (handle_result::parked), from poll().
struct parked_response {
  std::int32_t broker_id = 0;
  std::uint64_t connection_id = 0;
  std::uint64_t ticket = 0;  ///< handle_result::parked of the request
  /// The whole response frame; nullopt: nothing is sent for the request.
  std::optional<std::vector<std::uint8_t>> response;
  /// When to send it: the answer's time plus the broker's latency and the
  /// delays that faults and control hooks added when the request arrived.
  time_point send_at{};
  /// Close the connection after sending the response (or at send_at if none).
  bool close_after_response = false;
  std::string close_reason;
};

/// One entry of the request log.
struct logged_request {
  std::uint64_t sequence = 0;  ///< 0, 1, 2... over the cluster's life
  std::int32_t broker_id = 0;
  std::uint64_t connection_id = 0;
  time_point arrival{};
  std::optional<time_point> send_at;  ///< nullopt when nothing was sent
  /// The header; api_key is -1 when even the header could not be read.
  request_header header{-1, 0, 0, {}, {}};
  any_message request;   ///< empty if the frame did not decode
  any_message response;  ///< empty if nothing was sent
  std::vector<applied_fault> faults;
  bool closed = false;
  std::string close_reason;
  /// The request's and the response's frame sizes: what the entry holds on to.
  std::size_t bytes = 0;
};

// ---- reading the model -------------------------------------------------------

/// "host:port", an IPv6 literal in brackets ("[::1]:9092"), as clients
/// write bootstrap lists.
std::string host_port(std::string_view host, std::int32_t port);

/// A broker as the cluster sees it.
struct broker_info {
  std::int32_t id = 0;
  std::string host;
  std::int32_t port = 0;
  std::optional<std::string> rack;
  bool up = true;
  duration latency{};
};

/// A partition's replicas, leadership and log bounds.
struct partition_info {
  std::string topic;
  std::int32_t partition = 0;
  std::int32_t leader = -1;  ///< -1 when offline
  std::int32_t leader_epoch = 0;
  std::vector<std::int32_t> replicas;
  std::vector<std::int32_t> isr;
  std::int64_t log_start_offset = 0;
  std::int64_t high_watermark = 0;  ///< the log end: replication is instant here
  std::size_t batch_count = 0;
  std::size_t size_in_bytes = 0;
};

/// A record as stored, with what its batch says about its producer.
struct stored_record {
  std::int64_t offset = 0;
  std::int64_t timestamp = 0;
  std::optional<std::vector<std::uint8_t>> key;
  std::optional<std::vector<std::uint8_t>> value;
  std::vector<std::pair<std::string, std::optional<std::vector<std::uint8_t>>>> headers;
  std::int64_t producer_id = -1;
  std::int16_t producer_epoch = -1;
  std::int32_t sequence = -1;  ///< baseSequence + offset delta (wrapping), -1 if none
  std::int64_t batch_base_offset = 0;
  std::int32_t partition_leader_epoch = -1;
  bool log_append_time = false;

  /// The value as text, for tests ("" when null).
  std::string value_string() const {
    return value ? std::string(value->begin(), value->end()) : std::string();
  }
  std::string key_string() const {
    return key ? std::string(key->begin(), key->end()) : std::string();
  }
};

// ---- groups -------------------------------------------------------------------------

/// A group's name and state, as groups() lists it.
struct group_listing {
  std::string group_id;
  std::string state;          ///< "Empty", "PreparingRebalance", "CompletingRebalance", "Stable"
  std::string protocol_type;  ///< "" for a group that only commits offsets
  std::int32_t coordinator = -1;  ///< the broker that coordinates it, -1 if none is up
  /// "classic", or "consumer" for a group of KIP-848's protocol, whose states
  /// are "Empty", "Assigning", "Reconciling", "Stable".
  std::string type = "classic";
};

/// A member of a group.
struct group_member_info {
  std::string member_id;
  std::optional<std::string> group_instance_id;  ///< static members
  std::string client_id;
  std::string client_host;
  std::int32_t session_timeout_ms = 0;
  std::int32_t rebalance_timeout_ms = 0;
  /// Its metadata for the group's protocol (empty until one is chosen).
  std::vector<std::uint8_t> metadata;
  /// What the leader assigned it (empty before the first SyncGroup of the leader).
  std::vector<std::uint8_t> assignment;
  /// Consumer groups: its member epoch and the partitions the assignor
  /// meant for it (a ConsumerProtocolAssignment as `assignment`, which holds
  /// what it has now; `metadata` holds its subscription); the session and
  /// rebalance timeouts are the group's and its own.
  std::int32_t member_epoch = -1;
  std::vector<std::uint8_t> target_assignment;
};

/// A committed offset of a group.
struct group_offset_info {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = -1;
  std::string metadata;
  std::int32_t leader_epoch = -1;
};

/// Everything about one group.
struct group_info {
  std::string group_id;
  std::string state;
  std::string protocol_type;
  /// The chosen protocol, once a generation has one (consumer groups: the assignor).
  std::optional<std::string> protocol;
  /// Consumer groups: the group epoch.
  std::int32_t generation = 0;
  /// "classic" or "consumer" (KIP-848).
  std::string type = "classic";
  std::optional<std::string> leader;
  std::int32_t coordinator = -1;
  std::vector<group_member_info> members;  ///< in the order they joined
  std::vector<group_offset_info> offsets;  ///< by topic, then partition
};

// ---- control hooks --------------------------------------------------------------

/// One request as a control hook sees it. The references are valid during
/// the call only.
struct control_request {
  std::int32_t broker_id = 0;
  std::uint64_t connection_id = 0;
  const request_header& header;
  /// The decoded request body, e.g. body.as<produce_request>().
  const any_message& body;
  time_point now{};
};

/// What a control hook decides for one request.
struct control_decision {
  enum class kind {
    pass,    ///< the hook does not decide: the next hook, or the cluster, handles it
    answer,  ///< send `response` (at now + broker latency + `after`); the cluster does not process
             ///< it
    delay,   ///< the cluster handles it (fault rules included); its answer goes `after` later
  };
  kind what = kind::pass;
  /// For answer: the response body, of the response type of the request's API.
  any_message response;
  /// For answer and delay: how much later than usual the answer goes.
  duration after{};

  static control_decision pass() { return {}; }
  static control_decision answer(any_message response, duration after = {}) {
    return {kind::answer, std::move(response), after};
  }
  /// answer() with a generated response type, e.g. answer(heartbeat_response{...}).
  template <class Response>
  requires requires { Response::ops(); }
  static control_decision answer(Response response, duration after = {}) {
    any_message m(Response::ops());
    *m.template as<Response>() = std::move(response);
    return answer(std::move(m), after);
  }
  static control_decision delay(duration after) { return {kind::delay, {}, after}; }
};

/// A control hook: called on the cluster's thread, inside handle(), for
/// each decoded request of its API key. It may change the cluster (add a
/// fault, move a leader, remove itself) but must not call handle().
using control_fn = std::function<control_decision(const control_request&)>;
/// Names a hook for remove_control(); never reused by a cluster.
using control_id = std::uint64_t;

/// The mock cluster. See the top of this file.
class cluster {
 public:
  /// A cluster of config.broker_count brokers, no topics, no rules. Throws
  /// std::invalid_argument naming the key of a setting out of its range
  /// (default_partitions below 1, group_max_session_timeout_ms below
  /// group_min_session_timeout_ms, ...).
  explicit cluster(cluster_config config = {});
  ~cluster();
  cluster(cluster&&) noexcept;
  cluster& operator=(cluster&&) noexcept;
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  /// The configuration it was built with (broker_count at least 1).
  const cluster_config& config() const noexcept;

  /// Handles one request: `payload` is a frame without its size prefix, as
  /// frame_splitter hands it out; it is not kept after the call. Never throws
  /// for bad input: a frame that does not decode, an unknown API or version,
  /// an API the mock does not serve (the reason names it), or a broker that
  /// is down or unknown closes the connection.
  ///
  /// Order: the broker, the request header (parsed once), the body; then the
  /// control hooks of the key; then, unless a hook answered, the fault rules
  /// (evaluated once, in the order they were added) and the API's handler.
  handle_result handle(std::int32_t broker_id, std::uint64_t connection_id,
                       std::span<const std::uint8_t> payload, time_point now);

  /// Runs the cluster's timers up to `now` (a Fetch's MaxWaitMs, a group's
  /// rebalance and session timeouts) and returns the answers of parked
  /// requests that are ready, in the order they became ready, those that
  /// handle() or a cluster action readied included (a Produce wakes a Fetch,
  /// the last member's JoinGroup completes the others'). A shell calls it
  /// after every handle() and cluster action, and when next_timer() comes.
  std::vector<parked_response> poll(time_point now);
  /// When poll() next has a timer to run; nullopt while none is set.
  std::optional<time_point> next_timer() const;
  /// The shell lost a connection: its parked requests get no answer.
  void connection_closed(std::int32_t broker_id, std::uint64_t connection_id);

  // -- brokers --
  /// Every broker, by id.
  std::vector<broker_info> brokers() const;
  /// "host:port,host:port,..." of every broker (host_port each).
  std::string bootstrap_servers() const;
  /// Changes a broker's port (a TCP front that bound an ephemeral port).
  bool set_broker_port(std::int32_t broker_id, std::int32_t port);
  /// Changes the host and port a broker is advertised at (Metadata,
  /// FindCoordinator, DescribeCluster).
  bool set_broker_address(std::int32_t broker_id, std::string host, std::int32_t port);
  /// Every response from this broker is sent this much later.
  bool set_broker_latency(std::int32_t broker_id, duration latency);
  /// Takes a broker down: its requests close their connections, it leaves
  /// every ISR, and (with move_leaderships) each partition it leads moves to
  /// another live ISR replica, or goes offline (leader -1) if there is none.
  bool broker_down(std::int32_t broker_id, bool move_leaderships = true);
  /// Brings a broker back: it rejoins the ISR of its partitions and leads
  /// those that were offline.
  bool broker_up(std::int32_t broker_id);
  /// The incremental fetch sessions a broker keeps, by id (empty for an
  /// unknown broker).
  std::vector<fetch_session_info> fetch_sessions(std::int32_t broker_id) const;

  // -- topics and partitions --
  /// Creates a topic; none when it exists (TOPIC_ALREADY_EXISTS) or the
  /// settings are invalid. Returns the error (kafka_error::none on success).
  kafka_error create_topic(std::string_view name, topic_config config = {});
  /// Deletes a topic and its logs; UNKNOWN_TOPIC_OR_PARTITION if there is none.
  kafka_error delete_topic(std::string_view name);
  /// Grows a topic to `total` partitions, as CreatePartitions does (the new
  /// ones spread over the brokers like a new topic's). UNKNOWN_TOPIC_OR_PARTITION,
  /// INVALID_PARTITIONS unless `total` is more than it has.
  kafka_error create_partitions(std::string_view name, std::int32_t total);
  /// Topic names, sorted.
  std::vector<std::string> topics() const;
  /// A topic's id (random from the seed), or nullopt.
  std::optional<uuid> topic_id(std::string_view name) const;
  /// A partition's state, or nullopt for an unknown one.
  std::optional<partition_info> partition(std::string_view topic, std::int32_t partition) const;
  /// Moves leadership (the new leader joins replicas and ISR if needed) and
  /// bumps the leader epoch. False for an unknown partition or broker.
  bool move_leader(std::string_view topic, std::int32_t partition, std::int32_t new_leader);
  /// Sets the ISR (each must be a replica). False if invalid.
  bool set_isr(std::string_view topic, std::int32_t partition, std::vector<std::int32_t> isr);
  /// Takes a broker out of the ISR (never the last member). False if it was not in it.
  bool shrink_isr(std::string_view topic, std::int32_t partition, std::int32_t broker_id);
  /// Puts a replica back in the ISR. False if it is not a replica.
  bool grow_isr(std::string_view topic, std::int32_t partition, std::int32_t broker_id);
  /// The records of a partition from `from_offset` on (at most `max_records`).
  std::vector<stored_record> read(std::string_view topic, std::int32_t partition,
                                  std::int64_t from_offset = 0,
                                  std::size_t max_records = static_cast<std::size_t>(-1)) const;
  /// Forgets the idempotence state of every producer on this partition, as
  /// Kafka does when retention removes a producer's last batch.
  bool clear_producer_state(std::string_view topic, std::int32_t partition);

  /// Sets a producer's state on a partition as if its last batch had ended
  /// at `last_sequence` with `epoch` (the producer must be allocated): for
  /// tests that start a producer near the sequence wrap. No batch is written.
  bool seed_producer_state(std::string_view topic, std::int32_t partition, std::int64_t producer_id,
                           std::int16_t epoch, std::int32_t last_sequence);

  // -- producers --
  /// Allocates a producer id with epoch 0, as InitProducerId does.
  std::pair<std::int64_t, std::int16_t> allocate_producer_id();

  // -- groups (classic groups, and consumer groups of KIP-848) --
  // The actions happen at the latest time the cluster was given (handle()
  // or poll()); answers they ready for parked requests come from poll().
  /// Every group with its state, by id.
  std::vector<group_listing> groups() const;
  /// One group, or nullopt when there is none.
  std::optional<group_info> group(std::string_view group_id) const;
  /// Removes a member (or a member id handed out with MEMBER_ID_REQUIRED)
  /// as if its session had expired now: its parked JoinGroup gets
  /// UNKNOWN_MEMBER_ID and the group rebalances (a consumer group's member
  /// is fenced and the group epoch bumped). False for an unknown group or member.
  bool expire_member(std::string_view group_id, std::string_view member_id);
  /// Starts a rebalance of a Stable or CompletingRebalance group, as a
  /// member's new subscription would: heartbeats get REBALANCE_IN_PROGRESS
  /// and members must rejoin. False if the group has no members or already
  /// rebalances, and for consumer groups (whose assignor rebalances them).
  bool rebalance_group(std::string_view group_id);
  /// Makes `broker_id` the group's coordinator (FindCoordinator says so,
  /// other brokers answer NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE while
  /// it is down). Parked JoinGroup and SyncGroup requests get NOT_COORDINATOR,
  /// as when Kafka unloads a group; members and offsets stay (a consumer
  /// group's session timeouts start again, as Kafka's do when it loads the
  /// group). False for an unknown broker.
  bool move_group_coordinator(std::string_view group_id, std::int32_t broker_id);
  /// Sets a committed offset as OffsetCommit would (creating an Empty group
  /// if needed). UNKNOWN_TOPIC_OR_PARTITION for an unknown partition,
  /// OFFSET_METADATA_TOO_LARGE above offset_metadata_max_bytes,
  /// INVALID_COMMIT_OFFSET_SIZE for a record too large for
  /// offsets_topic_max_message_bytes, else none.
  kafka_error set_committed_offset(std::string_view group_id, std::string_view topic,
                                   std::int32_t partition, std::int64_t offset,
                                   std::string_view metadata = {}, std::int32_t leader_epoch = -1);

  // -- faults --
  /// Adds a rule after the others (rules are evaluated in this order).
  rule_id add_fault(fault_rule rule);
  /// Removes a rule; false for an unknown id.
  bool remove_fault(rule_id id);
  void clear_faults();
  /// Every rule with its counters, in evaluation order.
  std::vector<rule_status> faults() const;
  /// How often the rule fired (0 for an unknown id).
  std::uint64_t fired(rule_id id) const;

  // -- control hooks (like franz-go kfake's ControlKey) --
  /// Installs a hook that sees every decoded request of `api_key` (served by
  /// the mock or not) before fault rules and handlers, and answers it itself,
  /// delays it, or passes it on (see control_decision). Hooks of one key run
  /// in the order they were installed; the first that does not pass decides.
  /// A hook stays until removed. An answer of the wrong type, or one the
  /// request's version cannot carry, closes the connection with a reason.
  /// Fault rules remain the declarative way to inject errors.
  control_id control(std::int16_t api_key, control_fn fn);
  /// Removes a hook; false for an unknown id. Safe from inside a hook.
  bool remove_control(control_id id);

  // -- request log --
  /// The newest request_log_capacity requests, oldest first. Valid until
  /// the next handle() or clear_request_log().
  const std::deque<logged_request>& request_log() const noexcept;
  void clear_request_log();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace kwire::mockbroker
