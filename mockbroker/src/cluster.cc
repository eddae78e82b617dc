// The cluster's public API: cluster actions, reading the model, fault rules,
// control hooks and the request log. The request path is request_path.cc,
// the API handlers are in apis/.
#include "kwire/mockbroker/cluster.hpp"

#include <algorithm>

#include "cluster_impl.hpp"
#include "groups/consumer_groups.hpp"
#include "groups/groups.hpp"
#include "kwire/protocol/record_batch.hpp"
#include "memory.hpp"
#include "timers.hpp"

namespace kwire::mockbroker {

using namespace detail;

cluster::cluster(cluster_config config) : impl_(std::make_unique<impl>(std::move(config))) {}
cluster::~cluster() = default;
cluster::cluster(cluster&&) noexcept = default;
cluster& cluster::operator=(cluster&&) noexcept = default;

const cluster_config& cluster::config() const noexcept { return impl_->state.config; }

handle_result cluster::handle(std::int32_t broker_id, std::uint64_t connection_id,
                              std::span<const std::uint8_t> payload, time_point now) {
  return impl_->handle(broker_id, connection_id, payload, now);
}

std::vector<parked_response> cluster::poll(time_point now) {
  run_timers(impl_->state, impl_->advance(now));
  return impl_->take_parked_answers();
}

std::optional<time_point> cluster::next_timer() const {
  // Answers readied by a cluster action are due at once.
  if (impl_->state.parked.has_answers()) return impl_->last_now;
  return detail::next_timer(impl_->state);
}

void cluster::connection_closed(std::int32_t broker_id, std::uint64_t connection_id) {
  for (auto it = impl_->parked.begin(); it != impl_->parked.end();) {
    if (it->second.broker_id == broker_id && it->second.connection_id == connection_id) {
      impl_->state.parked.drop(it->first);
      it = impl_->parked.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<broker_info> cluster::brokers() const {
  std::vector<broker_info> out;
  for (const auto& b : impl_->state.brokers)
    out.push_back({b.id, b.host, b.port, b.rack, b.up, b.latency});
  return out;
}

std::string host_port(std::string_view host, std::int32_t port) {
  const bool v6 = host.find(':') != std::string_view::npos && host.front() != '[';
  std::string out = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ':' + std::to_string(port);
}

std::string cluster::bootstrap_servers() const {
  std::string out;
  for (const auto& b : impl_->state.brokers) {
    if (!out.empty()) out += ',';
    out += host_port(b.host, b.port);
  }
  return out;
}

bool cluster::set_broker_port(std::int32_t broker_id, std::int32_t port) {
  auto* b = impl_->state.find_broker(broker_id);
  if (!b) return false;
  b->port = port;
  return true;
}

bool cluster::set_broker_address(std::int32_t broker_id, std::string host, std::int32_t port) {
  auto* b = impl_->state.find_broker(broker_id);
  if (!b) return false;
  b->host = std::move(host);
  b->port = port;
  return true;
}

bool cluster::set_broker_latency(std::int32_t broker_id, duration latency) {
  auto* b = impl_->state.find_broker(broker_id);
  if (!b) return false;
  b->latency = latency;
  return true;
}

bool cluster::broker_down(std::int32_t broker_id, bool move_leaderships) {
  auto* b = impl_->state.find_broker(broker_id);
  if (!b) return false;
  // Its groups unload first: their parked JoinGroup and SyncGroup requests
  // get NOT_COORDINATOR, as when Kafka moves a coordinator away.
  unload_groups_of(impl_->state, broker_id, impl_->last_now);
  // Its consumer groups load on the next live broker: their members' session
  // timeouts start again there (Kafka's onLoaded).
  if (b->up) reload_consumer_groups_of(impl_->state, broker_id, impl_->last_now);
  impl_->state.fetch_sessions.forget(broker_id);
  b->up = false;
  if (!move_leaderships) return true;
  for (auto& [name, t] : impl_->state.topics)
    for (auto& p : t.partitions) {
      // Kafka keeps the last ISR member even when it is down.
      if (p.isr.size() > 1) std::erase(p.isr, broker_id);
      if (p.leader != broker_id) continue;
      p.leader = -1;
      for (auto id : p.isr)
        if (id != broker_id && impl_->state.find_broker(id)->up) {
          p.leader = id;
          break;
        }
      ++p.leader_epoch;
    }
  wake_all_fetches(impl_->state, impl_->last_now);
  return true;
}

bool cluster::broker_up(std::int32_t broker_id) {
  auto* b = impl_->state.find_broker(broker_id);
  if (!b) return false;
  b->up = true;
  for (auto& [name, t] : impl_->state.topics)
    for (auto& p : t.partitions) {
      if (std::find(p.replicas.begin(), p.replicas.end(), broker_id) == p.replicas.end()) continue;
      if (std::find(p.isr.begin(), p.isr.end(), broker_id) == p.isr.end())
        p.isr.push_back(broker_id);
      if (p.leader == -1) {
        p.leader = broker_id;
        ++p.leader_epoch;
      }
    }
  wake_all_fetches(impl_->state, impl_->last_now);
  return true;
}

std::vector<fetch_session_info> cluster::fetch_sessions(std::int32_t broker_id) const {
  std::vector<fetch_session_info> out;
  if (const auto* cache = impl_->state.fetch_sessions.find(broker_id))
    for (const auto& [id, s] : cache->sessions())
      out.push_back({id, s->epoch, s->partitions.size(), s->uses_topic_ids});
  return out;
}

kafka_error cluster::create_topic(std::string_view name, topic_config config) {
  return impl_->state.create_topic(name, config, false);
}

kafka_error cluster::create_partitions(std::string_view name, std::int32_t total) {
  auto& s = impl_->state;
  topic_state* t = s.find_topic(name);
  if (!t) return kafka_error::unknown_topic_or_partition;
  std::string message;
  return s.create_partitions(*t, total, nullptr, false, message);
}

kafka_error cluster::delete_topic(std::string_view name) {
  auto it = impl_->state.topics.find(name);
  if (it == impl_->state.topics.end()) return kafka_error::unknown_topic_or_partition;
  impl_->state.topics.erase(it);
  wake_all_fetches(impl_->state, impl_->last_now);
  detail::give_back_free_memory();
  return kafka_error::none;
}

std::vector<std::string> cluster::topics() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : impl_->state.topics) out.push_back(name);
  return out;
}

std::optional<uuid> cluster::topic_id(std::string_view name) const {
  auto* t = impl_->state.find_topic(name);
  if (!t) return std::nullopt;
  return t->id;
}

std::optional<partition_info> cluster::partition(std::string_view topic,
                                                 std::int32_t partition) const {
  auto* p = impl_->state.find_partition(topic, partition);
  if (!p) return std::nullopt;
  return partition_info{std::string(topic), p->index, p->leader,    p->leader_epoch,
                        p->replicas,        p->isr,   p->log_start, p->log_end,
                        p->log.size(),      p->bytes};
}

bool cluster::move_leader(std::string_view topic, std::int32_t partition, std::int32_t new_leader) {
  auto* p = impl_->state.find_partition(topic, partition);
  if (!p || !impl_->state.find_broker(new_leader)) return false;
  if (std::find(p->replicas.begin(), p->replicas.end(), new_leader) == p->replicas.end())
    p->replicas.push_back(new_leader);
  if (std::find(p->isr.begin(), p->isr.end(), new_leader) == p->isr.end())
    p->isr.push_back(new_leader);
  if (p->leader != new_leader) {
    p->leader = new_leader;
    ++p->leader_epoch;
    wake_fetches(impl_->state, topic, partition, impl_->last_now);
  }
  return true;
}

bool cluster::set_isr(std::string_view topic, std::int32_t partition,
                      std::vector<std::int32_t> isr) {
  auto* p = impl_->state.find_partition(topic, partition);
  if (!p || isr.empty()) return false;
  for (auto id : isr)
    if (std::find(p->replicas.begin(), p->replicas.end(), id) == p->replicas.end()) return false;
  p->isr = std::move(isr);
  return true;
}

bool cluster::shrink_isr(std::string_view topic, std::int32_t partition, std::int32_t broker_id) {
  auto* p = impl_->state.find_partition(topic, partition);
  if (!p || p->isr.size() <= 1) return false;
  return std::erase(p->isr, broker_id) > 0;
}

bool cluster::grow_isr(std::string_view topic, std::int32_t partition, std::int32_t broker_id) {
  auto* p = impl_->state.find_partition(topic, partition);
  if (!p || std::find(p->replicas.begin(), p->replicas.end(), broker_id) == p->replicas.end())
    return false;
  if (std::find(p->isr.begin(), p->isr.end(), broker_id) == p->isr.end())
    p->isr.push_back(broker_id);
  return true;
}

std::vector<stored_record> cluster::read(std::string_view topic, std::int32_t partition,
                                         std::int64_t from_offset, std::size_t max_records) const {
  std::vector<stored_record> out;
  auto* p = impl_->state.find_partition(topic, partition);
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
  auto* p = impl_->state.find_partition(topic, partition);
  if (!p) return false;
  p->producers.clear();
  return true;
}

bool cluster::seed_producer_state(std::string_view topic, std::int32_t partition,
                                  std::int64_t producer_id, std::int16_t epoch,
                                  std::int32_t last_sequence) {
  auto* p = impl_->state.find_partition(topic, partition);
  auto reg = impl_->state.producers.find(producer_id);
  if (!p || reg == impl_->state.producers.end() || last_sequence < 0) return false;
  reg->second = std::max(reg->second, epoch);
  auto& state = p->producers[producer_id];
  state.epoch = epoch;
  state.recent.clear();
  // base_offset -1: a sequence to continue from, never a duplicate to answer.
  state.recent.push_back({last_sequence, last_sequence, -1, -1});
  return true;
}

std::pair<std::int64_t, std::int16_t> cluster::allocate_producer_id() {
  return impl_->state.allocate_producer_id();
}

rule_id cluster::add_fault(fault_rule rule) { return impl_->faults.add(std::move(rule)); }

bool cluster::remove_fault(rule_id id) { return impl_->faults.remove(id); }

void cluster::clear_faults() { impl_->faults.clear(); }

std::vector<rule_status> cluster::faults() const {
  std::vector<rule_status> out;
  for (const auto& e : impl_->faults.entries()) out.push_back({e.id, e.rule, e.matched, e.fired});
  return out;
}

std::uint64_t cluster::fired(rule_id id) const {
  for (const auto& e : impl_->faults.entries())
    if (e.id == id) return e.fired;
  return 0;
}

control_id cluster::control(std::int16_t api_key, control_fn fn) {
  const control_id id = impl_->next_control_id++;
  impl_->controls.push_back({id, api_key, std::make_shared<control_fn>(std::move(fn))});
  return id;
}

bool cluster::remove_control(control_id id) {
  return std::erase_if(impl_->controls, [&](const impl::control_entry& e) { return e.id == id; }) >
         0;
}

const std::deque<logged_request>& cluster::request_log() const noexcept { return impl_->log; }
void cluster::clear_request_log() {
  impl_->log.clear();
  impl_->log_bytes = 0;
  detail::give_back_free_memory();
}

}  // namespace kwire::mockbroker
