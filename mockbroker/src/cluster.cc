// The cluster core: model, cluster actions, fault rules, the request log and
// the request path (handle). The API handlers live in handlers.cc.
#include "kwire/mockbroker/cluster.hpp"

#include <algorithm>
#include <limits>
#include <sstream>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/messages.hpp"
#include "kwire/protocol/record_batch.hpp"
#include "state.hpp"

namespace kwire::mock {
namespace detail {

bool has_target_filter(const fault_match& m) {
  return m.topic.has_value() || m.partition.has_value() || m.producer_id.has_value();
}

bool target_matches(const fault_match& m, const target& t) {
  if (m.topic && *m.topic != t.topic) return false;
  if (m.partition && *m.partition != t.partition) return false;
  if (m.producer_id && *m.producer_id != t.producer_id) return false;
  return true;
}

std::optional<std::int16_t> request_context::injected_error(const target& t, bool before) const {
  for (const auto& e : fired) {
    const fault_kind want = before ? fault_kind::error : fault_kind::append_then_error;
    if (e.rule.action.kind == want && target_matches(e.rule.match, t)) return e.rule.action.error_code;
  }
  return std::nullopt;
}

bool valid_topic_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::int32_t add_sequence(std::int32_t first, std::int64_t delta) noexcept {
  const std::int64_t wrap = std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
  return static_cast<std::int32_t>((std::int64_t{first} + delta) % wrap);
}

}  // namespace detail

using namespace detail;

std::string_view fault_kind_name(fault_kind kind) noexcept {
  switch (kind) {
    case fault_kind::error: return "error";
    case fault_kind::delay: return "delay";
    case fault_kind::drop: return "drop";
    case fault_kind::close_before: return "close_before";
    case fault_kind::close_after_processing: return "close_after_processing";
    case fault_kind::close_after_response: return "close_after_response";
    case fault_kind::append_then_error: return "append_then_error";
    case fault_kind::append_then_drop: return "append_then_drop";
    case fault_kind::throttle: return "throttle";
  }
  return "unknown";
}

// ---- impl: model ----------------------------------------------------------------

cluster::impl::impl(cluster_config c)
    : config(std::move(c)), fault_random(config.seed), id_random(config.seed ^ 0x9e3779b97f4a7c15ULL) {
  if (config.broker_count < 1) config.broker_count = 1;
  for (int i = 0; i < config.broker_count; ++i) {
    broker_state b;
    b.id = i + 1;
    b.host = config.host;
    b.port = static_cast<std::size_t>(i) < config.ports.size() ? config.ports[static_cast<std::size_t>(i)]
                                                               : config.first_port + i;
    if (static_cast<std::size_t>(i) < config.racks.size()) b.rack = config.racks[static_cast<std::size_t>(i)];
    brokers.push_back(std::move(b));
  }
}

broker_state* cluster::impl::find_broker(std::int32_t id) {
  for (auto& b : brokers)
    if (b.id == id) return &b;
  return nullptr;
}
const broker_state* cluster::impl::find_broker(std::int32_t id) const {
  for (const auto& b : brokers)
    if (b.id == id) return &b;
  return nullptr;
}

topic_state* cluster::impl::find_topic(std::string_view name) {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

topic_state* cluster::impl::find_topic_by_id(const uuid& id) {
  for (auto& [name, t] : topics)
    if (t.id == id) return &t;
  return nullptr;
}

partition_state* cluster::impl::find_partition(std::string_view topic, std::int32_t partition) {
  topic_state* t = find_topic(topic);
  if (!t || partition < 0 || static_cast<std::size_t>(partition) >= t->partitions.size()) return nullptr;
  return &t->partitions[static_cast<std::size_t>(partition)];
}

std::int32_t cluster::impl::live_broker_count() const {
  return static_cast<std::int32_t>(std::count_if(brokers.begin(), brokers.end(), [](auto& b) { return b.up; }));
}

std::int32_t cluster::impl::controller_id() const {
  for (const auto& b : brokers)
    if (b.up) return b.id;
  return -1;
}

kafka_error cluster::impl::create_topic(std::string_view name, const topic_config& cfg, bool validate_only,
                                        topic_state** created) {
  if (!valid_topic_name(name)) return kafka_error::invalid_topic_exception;
  if (find_topic(name)) return kafka_error::topic_already_exists;
  const auto broker_count = static_cast<std::int32_t>(brokers.size());
  std::vector<std::vector<std::int32_t>> assignment = cfg.assignments;
  if (assignment.empty()) {
    const std::int32_t partitions = cfg.partitions == -1 ? config.default_partitions : cfg.partitions;
    if (partitions <= 0) return kafka_error::invalid_partitions;
    std::int32_t replicas = cfg.replication_factor;
    if (replicas == -1) replicas = std::min<std::int32_t>(config.default_replication_factor, broker_count);
    if (replicas <= 0 || replicas > broker_count) return kafka_error::invalid_replication_factor;
    // Round robin from a start that moves with the topic count, as Kafka spreads leaders.
    const auto start = static_cast<std::int32_t>(topics.size());
    for (std::int32_t p = 0; p < partitions; ++p) {
      std::vector<std::int32_t> r;
      for (std::int32_t k = 0; k < replicas; ++k) r.push_back(brokers[static_cast<std::size_t>((start + p + k) % broker_count)].id);
      assignment.push_back(std::move(r));
    }
  } else {
    for (const auto& r : assignment) {
      if (r.empty()) return kafka_error::invalid_replica_assignment;
      for (auto id : r)
        if (!find_broker(id) || std::count(r.begin(), r.end(), id) != 1) return kafka_error::invalid_replica_assignment;
    }
  }
  if (validate_only) return kafka_error::none;
  topic_state t;
  t.name = std::string(name);
  for (auto& byte : t.id) byte = static_cast<std::uint8_t>(id_random());
  t.log_append_time = cfg.log_append_time;
  t.min_insync_replicas = cfg.min_insync_replicas > 0 ? cfg.min_insync_replicas : config.min_insync_replicas;
  t.retention_bytes = cfg.retention_bytes == 0 ? config.retention_bytes : cfg.retention_bytes;
  t.retention_records = cfg.retention_records == 0 ? config.retention_records : cfg.retention_records;
  for (std::size_t p = 0; p < assignment.size(); ++p) {
    partition_state ps;
    ps.index = static_cast<std::int32_t>(p);
    ps.replicas = assignment[p];
    for (auto id : ps.replicas)
      if (find_broker(id)->up) ps.isr.push_back(id);
    if (ps.isr.empty()) ps.isr.push_back(ps.replicas.front());
    ps.leader = find_broker(ps.isr.front())->up ? ps.isr.front() : -1;
    t.partitions.push_back(std::move(ps));
  }
  auto [it, inserted] = topics.emplace(t.name, std::move(t));
  if (created) *created = &it->second;
  return kafka_error::none;
}

std::pair<std::int64_t, std::int16_t> cluster::impl::allocate_producer_id() {
  const std::int64_t id = next_producer_id++;
  producers[id] = 0;
  return {id, 0};
}

double cluster::impl::next_unit() {
  // 53 random bits: the same on every standard library, unlike the distributions.
  return static_cast<double>(fault_random() >> 11) * (1.0 / 9007199254740992.0);
}

void cluster::impl::apply_retention(topic_state& topic, partition_state& p) {
  auto over = [&] {
    if (topic.retention_bytes > 0 && p.bytes > static_cast<std::size_t>(topic.retention_bytes)) return true;
    return topic.retention_records > 0 && p.records() > topic.retention_records;
  };
  while (p.log.size() > 1 && over()) {
    p.bytes -= p.log.front().bytes.size();
    p.log.pop_front();
    p.log_start = p.log.front().base_offset;
  }
}

void cluster::impl::record(logged_request entry) {
  if (config.request_log_capacity == 0) return;
  log.push_back(std::move(entry));
  while (log.size() > config.request_log_capacity) log.pop_front();
}

// ---- impl: the request path ---------------------------------------------------------

namespace {

std::optional<std::vector<std::uint8_t>> encode_frame(std::int32_t correlation_id, std::int16_t api_key,
                                                      std::int16_t version, const any_message& body) {
  std::vector<std::uint8_t> out;
  out.reserve(body.encoded_size(version) + 16);
  writer w(out);
  const std::size_t at = begin_frame(w);
  response_header header;
  header.correlation_id = correlation_id;
  header.encode(w, response_header_version(api_key, version));
  body.encode(w, version);
  if (!w.ok()) return std::nullopt;
  end_frame(w, at);
  return out;
}

}  // namespace

handle_result cluster::impl::handle(std::int32_t broker_id, std::uint64_t connection_id,
                                    std::span<const std::uint8_t> payload, time_point now) {
  handle_result out;
  out.send_at = now;
  logged_request entry;
  entry.sequence = next_sequence++;
  entry.broker_id = broker_id;
  entry.connection_id = connection_id;
  entry.arrival = now;

  auto close_now = [&](std::string reason) {
    out.close_before_response = true;
    out.close_reason = reason;
    entry.closed = true;
    entry.close_reason = std::move(reason);
    entry.faults = out.faults;
    record(std::move(entry));
    return std::move(out);
  };

  broker_state* broker = find_broker(broker_id);
  if (!broker) return close_now("no broker with id " + std::to_string(broker_id));
  if (!broker->up) return close_now("broker " + std::to_string(broker_id) + " is down");
  out.send_at = now + broker->latency;

  if (payload.size() < 8) return close_now("frame of " + std::to_string(payload.size()) + " bytes is too short for a request header");
  {
    reader r(payload);
    entry.header.api_key = r.read_int16();
    entry.header.api_version = r.read_int16();
    entry.header.correlation_id = r.read_int32();
  }
  const std::int16_t key = entry.header.api_key;
  const std::int16_t version = entry.header.api_version;
  const api_info* api = find_api(key);
  if (!api) return close_now("unknown API key " + std::to_string(key));
  if (!api->supports(version)) {
    if (key == static_cast<std::int16_t>(api_key::api_versions)) {
      // Kafka answers an ApiVersions it cannot parse with a v0 response
      // carrying UNSUPPORTED_VERSION and its own ApiVersions range.
      api_versions_response r;
      r.error_code = static_cast<std::int16_t>(kafka_error::unsupported_version);
      r.api_keys.push_back({key, api->min_version, api->max_version, {}});
      entry.response = wrap(std::move(r));
      out.response = encode_frame(entry.header.correlation_id, key, 0, entry.response);
      entry.send_at = out.send_at;
      record(std::move(entry));
      return out;
    }
    return close_now(std::string(api->name) + " v" + std::to_string(version) + " is not supported");
  }

  // Keep the payload alive for the request log: decoded records borrow from it.
  std::shared_ptr<const void> owner;
  std::span<const std::uint8_t> bytes = payload;
  if (config.request_log_capacity > 0) {
    auto copy = std::make_shared<std::vector<std::uint8_t>>(payload.begin(), payload.end());
    bytes = *copy;
    owner = std::move(copy);
  }
  auto decoded = decode_request(bytes, owner);
  if (!decoded) return close_now("malformed request: " + decoded.error().message());
  decoded_request& request = *decoded;

  // Fault rules.
  request_context ctx;
  ctx.broker_id = broker_id;
  ctx.now = now;
  ctx.version = version;
  std::vector<target> targets;
  bool targets_known = false;
  for (auto& rule : rules) {
    const fault_match& m = rule.rule.match;
    if (m.broker && *m.broker != broker_id) continue;
    if (m.api_key && *m.api_key != key) continue;
    if (m.api_version && *m.api_version != version) continue;
    if (has_target_filter(m)) {
      if (!targets_known) {
        targets = targets_of(request);
        targets_known = true;
      }
      if (std::none_of(targets.begin(), targets.end(), [&](const target& t) { return target_matches(m, t); })) continue;
    }
    ++rule.matched;
    if (m.nth > 0 && rule.matched < m.nth) continue;
    if (rule.rule.count && rule.fired >= *rule.rule.count) continue;
    if (m.probability < 1.0 && !(next_unit() < m.probability)) continue;
    ++rule.fired;
    ctx.fired.push_back(rule);
    out.faults.push_back({rule.id, rule.rule.action.kind});
  }

  auto fired_kind = [&](fault_kind k) {
    return std::any_of(ctx.fired.begin(), ctx.fired.end(), [&](auto& e) { return e.rule.action.kind == k; });
  };
  auto first_code = [&](fault_kind k) -> std::int16_t {
    for (auto& e : ctx.fired)
      if (e.rule.action.kind == k) return e.rule.action.error_code;
    return 0;
  };
  duration delay{};
  std::int32_t throttle = -1;
  for (auto& e : ctx.fired) {
    if (e.rule.action.kind == fault_kind::delay) delay += e.rule.action.delay;
    if (e.rule.action.kind == fault_kind::throttle) throttle = std::max(throttle, e.rule.action.throttle_ms);
  }

  entry.header = request.header;
  entry.faults = out.faults;

  if (fired_kind(fault_kind::close_before)) {
    entry.request = std::move(request.body);
    return close_now("fault: close before processing");
  }
  if (fired_kind(fault_kind::drop)) {
    entry.request = std::move(request.body);
    record(std::move(entry));
    return out;
  }

  // Produce, Fetch, ListOffsets and Metadata take injected errors per
  // partition or topic; the others as a whole.
  const bool per_partition = key == static_cast<std::int16_t>(api_key::produce) ||
                             key == static_cast<std::int16_t>(api_key::fetch) ||
                             key == static_cast<std::int16_t>(api_key::list_offsets) ||
                             key == static_cast<std::int16_t>(api_key::metadata);
  any_message response;
  if (!per_partition && fired_kind(fault_kind::error)) {
    response = error_response(request, first_code(fault_kind::error));
  } else {
    response = serve(request, ctx);
    if (!per_partition && fired_kind(fault_kind::append_then_error))
      response = error_response(request, first_code(fault_kind::append_then_error));
  }

  bool send = !response.empty() && !ctx.no_response;
  if (fired_kind(fault_kind::append_then_drop)) send = false;
  if (fired_kind(fault_kind::close_after_processing)) {
    entry.request = std::move(request.body);
    return close_now("fault: close after processing");
  }
  if (ctx.close_after) {
    out.close_after_response = true;
    out.close_reason = ctx.close_reason;
    entry.closed = true;
    entry.close_reason = ctx.close_reason;
  }
  if (fired_kind(fault_kind::close_after_response)) {
    out.close_after_response = true;
    out.close_reason = "fault: close after response";
    entry.closed = true;
    entry.close_reason = out.close_reason;
  }
  out.send_at += delay + ctx.wait;

  if (send) {
    if (throttle >= 0) {
      any_message throttled = response.clone();
      if (set_throttle_time(throttled, throttle)) {
        std::vector<std::uint8_t> probe;
        writer w(probe);
        throttled.encode(w, version);
        if (w.ok()) response = std::move(throttled);
      }
    }
    out.response = encode_frame(request.header.correlation_id, key, version, response);
    if (!out.response) {
      // A handler built something the version cannot carry: a bug here, but
      // still no crash; answer with the plain error response.
      response = error_response(request, static_cast<std::int16_t>(kafka_error::unknown_server_error));
      out.response = encode_frame(request.header.correlation_id, key, version, response);
    }
    if (out.response) {
      entry.send_at = out.send_at;
      entry.response = std::move(response);
    }
  }
  entry.request = std::move(request.body);
  record(std::move(entry));
  return out;
}

std::vector<target> cluster::impl::targets_of(const decoded_request& request) {
  std::vector<target> out;
  const std::int16_t version = request.header.api_version;
  if (auto* r = request.body.as<produce_request>()) {
    for (auto& t : r->topic_data)
      for (auto& p : t.partition_data) {
        std::int64_t pid = -1;
        auto bytes = p.records.bytes();
        if (bytes.size() >= record_batch_header_size && peek_magic(bytes) == 2) {
          reader rd(bytes.subspan(43, 8));
          pid = rd.read_int64();
        }
        out.push_back({t.name, p.index, pid});
      }
  } else if (auto* f = request.body.as<fetch_request>()) {
    for (auto& t : f->topics) {
      std::string name = t.topic;
      if (version >= 13)
        if (auto* ts = find_topic_by_id(t.topic_id)) name = ts->name;
      for (auto& p : t.partitions) out.push_back({name, p.partition, -1});
    }
  } else if (auto* l = request.body.as<list_offsets_request>()) {
    for (auto& t : l->topics)
      for (auto& p : t.partitions) out.push_back({t.name, p.partition_index, -1});
  } else if (auto* m = request.body.as<metadata_request>()) {
    if (!m->topics || (version == 0 && m->topics->empty())) {
      for (auto& [name, t] : topics) out.push_back({name, -1, -1});
    } else {
      for (auto& t : *m->topics) {
        if (t.name) out.push_back({*t.name, -1, -1});
        else if (auto* ts = find_topic_by_id(t.topic_id)) out.push_back({ts->name, -1, -1});
      }
    }
  } else if (auto* c = request.body.as<create_topics_request>()) {
    for (auto& t : c->topics) out.push_back({t.name, -1, -1});
  } else if (auto* d = request.body.as<delete_topics_request>()) {
    for (auto& n : d->topic_names) out.push_back({n, -1, -1});
    for (auto& t : d->topics) {
      if (t.name) out.push_back({*t.name, -1, -1});
      else if (auto* ts = find_topic_by_id(t.topic_id)) out.push_back({ts->name, -1, -1});
    }
  }
  return out;
}

// ---- cluster: public API --------------------------------------------------------------

cluster::cluster(cluster_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
cluster::~cluster() = default;
cluster::cluster(cluster&&) noexcept = default;
cluster& cluster::operator=(cluster&&) noexcept = default;

const cluster_config& cluster::config() const noexcept { return impl_->config; }

handle_result cluster::handle(std::int32_t broker_id, std::uint64_t connection_id,
                              std::span<const std::uint8_t> payload, time_point now) {
  return impl_->handle(broker_id, connection_id, payload, now);
}

std::vector<broker_info> cluster::brokers() const {
  std::vector<broker_info> out;
  for (const auto& b : impl_->brokers) out.push_back({b.id, b.host, b.port, b.rack, b.up, b.latency});
  return out;
}

std::string cluster::bootstrap_servers() const {
  std::string out;
  for (const auto& b : impl_->brokers) {
    if (!out.empty()) out += ',';
    out += b.host + ':' + std::to_string(b.port);
  }
  return out;
}

bool cluster::set_broker_port(std::int32_t broker_id, std::int32_t port) {
  auto* b = impl_->find_broker(broker_id);
  if (!b) return false;
  b->port = port;
  return true;
}

bool cluster::set_broker_latency(std::int32_t broker_id, duration latency) {
  auto* b = impl_->find_broker(broker_id);
  if (!b) return false;
  b->latency = latency;
  return true;
}

bool cluster::broker_down(std::int32_t broker_id, bool move_leaderships) {
  auto* b = impl_->find_broker(broker_id);
  if (!b) return false;
  b->up = false;
  if (!move_leaderships) return true;
  for (auto& [name, t] : impl_->topics)
    for (auto& p : t.partitions) {
      // Kafka keeps the last ISR member even when it is down.
      if (p.isr.size() > 1) std::erase(p.isr, broker_id);
      if (p.leader != broker_id) continue;
      p.leader = -1;
      for (auto id : p.isr)
        if (id != broker_id && impl_->find_broker(id)->up) {
          p.leader = id;
          break;
        }
      ++p.leader_epoch;
    }
  return true;
}

bool cluster::broker_up(std::int32_t broker_id) {
  auto* b = impl_->find_broker(broker_id);
  if (!b) return false;
  b->up = true;
  for (auto& [name, t] : impl_->topics)
    for (auto& p : t.partitions) {
      if (std::find(p.replicas.begin(), p.replicas.end(), broker_id) == p.replicas.end()) continue;
      if (std::find(p.isr.begin(), p.isr.end(), broker_id) == p.isr.end()) p.isr.push_back(broker_id);
      if (p.leader == -1) {
        p.leader = broker_id;
        ++p.leader_epoch;
      }
    }
  return true;
}

kafka_error cluster::create_topic(std::string_view name, topic_config config) {
  return impl_->create_topic(name, config, false);
}

kafka_error cluster::delete_topic(std::string_view name) {
  auto it = impl_->topics.find(name);
  if (it == impl_->topics.end()) return kafka_error::unknown_topic_or_partition;
  impl_->topics.erase(it);
  return kafka_error::none;
}

std::vector<std::string> cluster::topics() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : impl_->topics) out.push_back(name);
  return out;
}

std::optional<uuid> cluster::topic_id(std::string_view name) const {
  auto* t = impl_->find_topic(name);
  if (!t) return std::nullopt;
  return t->id;
}

std::optional<partition_info> cluster::partition(std::string_view topic, std::int32_t partition) const {
  auto* p = impl_->find_partition(topic, partition);
  if (!p) return std::nullopt;
  return partition_info{std::string(topic), p->index, p->leader, p->leader_epoch, p->replicas, p->isr,
                        p->log_start, p->log_end, p->log.size(), p->bytes};
}

bool cluster::move_leader(std::string_view topic, std::int32_t partition, std::int32_t new_leader) {
  auto* p = impl_->find_partition(topic, partition);
  if (!p || !impl_->find_broker(new_leader)) return false;
  if (std::find(p->replicas.begin(), p->replicas.end(), new_leader) == p->replicas.end()) p->replicas.push_back(new_leader);
  if (std::find(p->isr.begin(), p->isr.end(), new_leader) == p->isr.end()) p->isr.push_back(new_leader);
  if (p->leader != new_leader) {
    p->leader = new_leader;
    ++p->leader_epoch;
  }
  return true;
}

bool cluster::set_isr(std::string_view topic, std::int32_t partition, std::vector<std::int32_t> isr) {
  auto* p = impl_->find_partition(topic, partition);
  if (!p || isr.empty()) return false;
  for (auto id : isr)
    if (std::find(p->replicas.begin(), p->replicas.end(), id) == p->replicas.end()) return false;
  p->isr = std::move(isr);
  return true;
}

bool cluster::shrink_isr(std::string_view topic, std::int32_t partition, std::int32_t broker_id) {
  auto* p = impl_->find_partition(topic, partition);
  if (!p || p->isr.size() <= 1) return false;
  return std::erase(p->isr, broker_id) > 0;
}

bool cluster::grow_isr(std::string_view topic, std::int32_t partition, std::int32_t broker_id) {
  auto* p = impl_->find_partition(topic, partition);
  if (!p || std::find(p->replicas.begin(), p->replicas.end(), broker_id) == p->replicas.end()) return false;
  if (std::find(p->isr.begin(), p->isr.end(), broker_id) == p->isr.end()) p->isr.push_back(broker_id);
  return true;
}

std::vector<stored_record> cluster::read(std::string_view topic, std::int32_t partition, std::int64_t from_offset,
                                         std::size_t max_records) const {
  std::vector<stored_record> out;
  auto* p = impl_->find_partition(topic, partition);
  if (!p) return out;
  auto copy = [](const nullable_bytes_view& v) -> std::optional<std::vector<std::uint8_t>> {
    if (!v) return std::nullopt;
    return std::vector<std::uint8_t>(v->begin(), v->end());
  };
  for (const auto& b : p->log) {
    if (b.last_offset < from_offset) continue;
    auto batch = read_record_batch(b.bytes, {.verify_crc = false});
    if (!batch) continue;
    const auto& h = batch->header();
    auto cursor = batch->records();
    for (const record_view& r : cursor) {
      if (r.offset < from_offset) continue;
      if (out.size() >= max_records) return out;
      stored_record s;
      s.offset = r.offset;
      s.timestamp = r.timestamp;
      s.key = copy(r.key);
      s.value = copy(r.value);
      for (const auto& hd : r.headers) s.headers.emplace_back(std::string(hd.key), copy(hd.value));
      s.producer_id = h.producer_id;
      s.producer_epoch = h.producer_epoch;
      s.sequence = h.base_sequence < 0 ? -1 : add_sequence(h.base_sequence, r.offset_delta);
      s.batch_base_offset = h.base_offset;
      s.partition_leader_epoch = h.partition_leader_epoch;
      s.log_append_time = h.is_log_append_time();
      out.push_back(std::move(s));
    }
  }
  return out;
}

bool cluster::clear_producer_state(std::string_view topic, std::int32_t partition) {
  auto* p = impl_->find_partition(topic, partition);
  if (!p) return false;
  p->producers.clear();
  return true;
}

bool cluster::seed_producer_state(std::string_view topic, std::int32_t partition, std::int64_t producer_id,
                                  std::int16_t epoch, std::int32_t last_sequence) {
  auto* p = impl_->find_partition(topic, partition);
  auto reg = impl_->producers.find(producer_id);
  if (!p || reg == impl_->producers.end() || last_sequence < 0) return false;
  reg->second = std::max(reg->second, epoch);
  auto& state = p->producers[producer_id];
  state.epoch = epoch;
  state.recent.clear();
  // base_offset -1: a sequence to continue from, never a duplicate to answer.
  state.recent.push_back({last_sequence, last_sequence, -1, -1});
  return true;
}

std::pair<std::int64_t, std::int16_t> cluster::allocate_producer_id() { return impl_->allocate_producer_id(); }

rule_id cluster::add_fault(fault_rule rule) {
  const rule_id id = impl_->next_rule_id++;
  impl_->rules.push_back({id, std::move(rule), 0, 0});
  return id;
}

bool cluster::remove_fault(rule_id id) {
  return std::erase_if(impl_->rules, [&](const rule_entry& e) { return e.id == id; }) > 0;
}

void cluster::clear_faults() { impl_->rules.clear(); }

std::vector<rule_status> cluster::faults() const {
  std::vector<rule_status> out;
  for (const auto& e : impl_->rules) out.push_back({e.id, e.rule, e.matched, e.fired});
  return out;
}

std::uint64_t cluster::fired(rule_id id) const {
  for (const auto& e : impl_->rules)
    if (e.id == id) return e.fired;
  return 0;
}

const std::deque<logged_request>& cluster::request_log() const noexcept { return impl_->log; }
void cluster::clear_request_log() { impl_->log.clear(); }

}  // namespace kwire::mock
