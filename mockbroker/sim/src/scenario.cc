#include "kwire/sim/scenario.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "kwire/protocol/kafka_error.hpp"
#include "kwire/sim/random.hpp"

namespace kwire::sim {
namespace {

std::string error_name(std::int16_t code) { return std::string(kafka_error_name(code)); }

constexpr std::int16_t c(kafka_error e) { return static_cast<std::int16_t>(e); }

// Retriable errors a Produce may get (each is in Kafka's table as retriable).
constexpr std::int16_t retriable_produce_errors[] = {
    c(kafka_error::not_leader_or_follower),     c(kafka_error::leader_not_available),
    c(kafka_error::not_enough_replicas),        c(kafka_error::request_timed_out),
    c(kafka_error::unknown_topic_or_partition), c(kafka_error::kafka_storage_error),
    c(kafka_error::network_exception),          c(kafka_error::corrupt_message),
};

// Errors that end a batch: the producer must fail its records.
constexpr std::int16_t fatal_produce_errors[] = {
    c(kafka_error::topic_authorization_failed),   c(kafka_error::invalid_record),
    c(kafka_error::record_list_too_large),        c(kafka_error::message_too_large),
    c(kafka_error::unknown_server_error),         c(kafka_error::policy_violation),
    c(kafka_error::cluster_authorization_failed),
};

// Idempotence errors, injected without appending: the broker claims a
// sequence problem the producer must handle (fail or retry, never duplicate).
constexpr std::int16_t sequence_errors[] = {
    c(kafka_error::out_of_order_sequence_number),
    c(kafka_error::unknown_producer_id),
};

std::string ms_text(ms d) { return std::to_string(d.count()) + "ms"; }

const char* const compression_names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

}  // namespace

std::set<fault_type> fault_types_named(const std::vector<std::string>& names) {
  std::set<fault_type> out;
  for (int i = 0; i < fault_type_count; ++i) {
    const auto t = static_cast<fault_type>(i);
    for (const auto& name : names)
      if (fault_type_name(t) == name) out.insert(t);
  }
  return out;
}

std::string_view fault_type_name(fault_type t) noexcept {
  switch (t) {
    case fault_type::produce_error:
      return "produce_error";
    case fault_type::produce_fatal_error:
      return "produce_fatal_error";
    case fault_type::sequence_error:
      return "sequence_error";
    case fault_type::append_then_error:
      return "append_then_error";
    case fault_type::lost_ack:
      return "lost_ack";
    case fault_type::dropped_request:
      return "dropped_request";
    case fault_type::delayed_response:
      return "delayed_response";
    case fault_type::close_before:
      return "close_before";
    case fault_type::close_after_processing:
      return "close_after_processing";
    case fault_type::close_after_response:
      return "close_after_response";
    case fault_type::throttle:
      return "throttle";
    case fault_type::metadata_error:
      return "metadata_error";
    case fault_type::init_producer_id_error:
      return "init_producer_id_error";
    case fault_type::leader_move:
      return "leader_move";
    case fault_type::broker_outage:
      return "broker_outage";
    case fault_type::isr_shrink:
      return "isr_shrink";
    case fault_type::connection_cut:
      return "connection_cut";
    case fault_type::latency_spike:
      return "latency_spike";
  }
  return "?";
}

std::string fault_event::describe() const {
  std::string s = std::string(fault_type_name(type)) + " at " + format_time(at);
  switch (type) {
    case fault_type::leader_move:
      return s + " partition " + std::to_string(partition) + " (choice " + std::to_string(broker) +
             ")";
    case fault_type::broker_outage:
      return s + " broker " + std::to_string(broker) + " for " + ms_text(duration);
    case fault_type::isr_shrink:
      return s + " partition " + std::to_string(partition) + " for " + ms_text(duration);
    case fault_type::connection_cut:
      return s + " to broker " + std::to_string(broker);
    case fault_type::latency_spike:
      return s + " broker " + std::to_string(broker) + " latency " + ms_text(delay) + " for " +
             ms_text(duration);
    default:
      break;
  }
  s += " for " + ms_text(duration);
  s += broker ? " broker " + std::to_string(broker) : std::string(" any broker");
  s += partition >= 0 ? " partition " + std::to_string(partition) : std::string(" any partition");
  if (error) s += " " + error_name(error);
  if (type == fault_type::delayed_response) s += " delay " + ms_text(delay);
  if (type == fault_type::throttle) s += " throttle " + std::to_string(throttle_ms) + "ms";
  s += " " + std::to_string(percent) + "% up to " + std::to_string(count) + "x";
  return s;
}

check_expectations scenario::expectations() const {
  check_expectations e;
  e.topic = topic;
  e.partitions = partitions;
  e.acks = producer.acks;
  e.idempotent = producer.enable_idempotence;
  e.max_in_flight = producer.max_in_flight_requests_per_connection;
  e.finite_retries = producer.retries != 2147483647;
  e.delivery_timeout = producer.delivery_timeout;
  e.report_slack = producer.request_timeout + producer.retry_backoff_max + ms(1000);
  for (const auto& f : faults) {
    if (f.error && !is_retriable(f.error) &&
        (f.type == fault_type::produce_fatal_error || f.type == fault_type::sequence_error ||
         f.type == fault_type::append_then_error))
      e.allowed_errors.insert(f.error);
  }
  return e;
}

std::string scenario::describe() const {
  const auto& p = producer;
  std::string s = "scenario seed " + std::to_string(seed) + "\n";
  s += "  cluster: " + std::to_string(brokers) + " brokers, topic '" + topic + "' " +
       std::to_string(partitions) + " partitions, replication " +
       std::to_string(replication_factor) + ", min.insync " + std::to_string(min_insync_replicas) +
       ", link latency " + ms_text(link_latency) + "\n";
  s += "  producer: acks=" + std::to_string(p.acks) +
       " idempotence=" + (p.enable_idempotence ? "on" : "off") +
       " max.in.flight=" + std::to_string(p.max_in_flight_requests_per_connection) +
       " retries=" + std::to_string(p.retries) + " linger=" + ms_text(p.linger) +
       " batch.size=" + std::to_string(p.batch_size) +
       " compression=" + compression_names[static_cast<int>(p.compression_type)] +
       " request.timeout=" + ms_text(p.request_timeout) +
       " delivery.timeout=" + ms_text(p.delivery_timeout) + " backoff=" + ms_text(p.retry_backoff) +
       ".." + ms_text(p.retry_backoff_max) + " metadata.max.age=" + ms_text(p.metadata_max_age) +
       " partitioner=" +
       (p.partitioner == partitioner_kind::round_robin ? "round_robin" : "sticky") + "\n";
  std::size_t keyed = 0, explicit_partition = 0;
  for (const auto& r : records) {
    keyed += r.key ? 1 : 0;
    explicit_partition += r.partition ? 1 : 0;
  }
  s += "  workload: " + std::to_string(records.size()) + " records (" + std::to_string(keyed) +
       " keyed, " + std::to_string(explicit_partition) + " to an explicit partition) from " +
       format_time(records.empty() ? ms(0) : records.front().at) + " to " +
       format_time(records.empty() ? ms(0) : records.back().at) + "\n";
  s += "  faults (" + std::to_string(faults.size()) + "):\n";
  for (const auto& f : faults) s += "    " + f.describe() + "\n";
  s += "  limit " + format_time(limit);
  return s;
}

fault_event draw_fault(fault_type type, random_source& rng, const scenario& s, ms last_send) {
  fault_event f;
  f.type = type;
  f.at = ms(rng.between(0, last_send.count() + 1000));
  f.duration = ms(rng.between(100, 5000));
  f.broker = rng.chance(50) ? 0 : static_cast<std::int32_t>(rng.between(1, s.brokers));
  f.partition =
      rng.chance(50)
          ? -1
          : static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(s.partitions)));
  f.percent = static_cast<unsigned>(rng.between(10, 100));
  f.count = static_cast<std::uint64_t>(rng.between(1, 5));
  switch (f.type) {
    case fault_type::produce_error:
      f.error = rng.pick(retriable_produce_errors);
      break;
    case fault_type::produce_fatal_error:
      f.error = rng.pick(fatal_produce_errors);
      f.count = static_cast<std::uint64_t>(rng.between(1, 2));
      break;
    case fault_type::sequence_error:
      f.error = rng.pick(sequence_errors);
      f.count = 1;
      break;
    case fault_type::append_then_error:
      // Only errors a broker sends after appending: NOT_ENOUGH_REPLICAS_AFTER_APPEND,
      // and a delayed acks=all produce that times out or loses its leadership.
      // (Validation errors such as MESSAGE_TOO_LARGE come before any append.)
      f.error = rng.chance(60)   ? c(kafka_error::not_enough_replicas_after_append)
                : rng.chance(50) ? c(kafka_error::request_timed_out)
                                 : c(kafka_error::not_leader_or_follower);
      f.count = static_cast<std::uint64_t>(rng.between(1, 3));
      break;
    case fault_type::close_before:
      f.partition = -1;  // any API, so no partition filter
      f.count = static_cast<std::uint64_t>(rng.between(1, 3));
      break;
    case fault_type::lost_ack:
    case fault_type::dropped_request:
    case fault_type::close_after_processing:
    case fault_type::close_after_response:
    case fault_type::init_producer_id_error:
      f.count = static_cast<std::uint64_t>(rng.between(1, 3));
      break;
    case fault_type::delayed_response:
      f.delay = ms(rng.between(10, 2 * s.producer.request_timeout.count()));
      break;
    case fault_type::throttle:
      f.throttle_ms = static_cast<std::int32_t>(rng.between(10, 1000));
      break;
    case fault_type::metadata_error:
      f.error = c(kafka_error::leader_not_available);
      f.count = static_cast<std::uint64_t>(rng.between(1, 10));
      break;
    case fault_type::leader_move:
      f.partition = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(s.partitions)));
      f.broker = static_cast<std::int32_t>(rng.below(s.brokers));
      f.duration = ms(0);
      break;
    case fault_type::broker_outage:
      f.broker = static_cast<std::int32_t>(rng.between(1, s.brokers));
      f.duration = ms(rng.between(200, 8000));
      break;
    case fault_type::isr_shrink:
      f.partition = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(s.partitions)));
      break;
    case fault_type::connection_cut:
      f.broker = static_cast<std::int32_t>(rng.between(1, s.brokers));
      f.duration = ms(0);
      break;
    case fault_type::latency_spike:
      f.broker = static_cast<std::int32_t>(rng.between(1, s.brokers));
      f.delay = ms(rng.between(20, 1500));
      break;
  }
  if (f.type == fault_type::init_producer_id_error)
    f.error = c(kafka_error::coordinator_not_available);
  return f;
}

scenario make_scenario(std::uint64_t seed, const scenario_options& options) {
  random_source rng(seed);
  scenario s;
  s.seed = seed;
  std::uint64_t derive = seed ^ 0x6b7769726573131ULL;  // "kwires11"
  s.producer_seed = splitmix64(derive);
  s.cluster_seed = splitmix64(derive);
  s.partitions = static_cast<std::int32_t>(rng.between(1, 4));
  s.min_insync_replicas = rng.chance(30) ? 2 : 1;
  s.link_latency = ms(rng.between(0, 3));

  producer_config& p = s.producer;
  p.enable_idempotence_set = true;
  const auto mode = rng.below(100);
  if (mode < 55) {
    p.acks = -1;
    p.enable_idempotence = true;
  } else {
    p.enable_idempotence = false;
    p.acks = mode < 70 ? std::int16_t{-1} : mode < 85 ? std::int16_t{1} : std::int16_t{0};
  }
  p.max_in_flight_requests_per_connection = static_cast<std::int32_t>(rng.between(1, 5));
  p.retries = (!p.enable_idempotence && rng.chance(30))
                  ? static_cast<std::int32_t>(rng.between(0, 5))
                  : 2147483647;
  p.linger = ms(rng.chance(40) ? 0 : rng.between(1, 10));
  constexpr std::int32_t batch_sizes[] = {0, 256, 1024, 4096, 16384};
  p.batch_size = rng.pick(batch_sizes);
  p.compression_type =
      rng.chance(50) ? compression::none : static_cast<compression>(rng.between(1, 4));
  p.request_timeout = ms(rng.between(500, 3000));
  p.delivery_timeout = rng.chance(20) ? p.linger + p.request_timeout + ms(rng.between(0, 3000))
                                      : ms(rng.between(8000, 40000));
  p.retry_backoff = ms(rng.between(10, 100));
  p.retry_backoff_max = std::max(p.retry_backoff, ms(rng.between(100, 1000)));
  p.metadata_max_age = ms(rng.chance(30) ? rng.between(500, 5000) : 300000);
  p.partitioner = rng.chance(20) ? partitioner_kind::round_robin : partitioner_kind::sticky;
  p.max_block = ms(60000);
  p.bootstrap_servers = {
      {"127.0.0.1", 9092}};  // placeholder for validation; the world fills the real list
  if (auto v = validate_config(p); !v)
    throw std::logic_error("kwire sim: generated an invalid config: " + v.error->message());
  p.bootstrap_servers.clear();

  // The workload: bursts with pauses, keyed, unkeyed or mixed.
  const auto n = rng.between(20, 150);
  const auto key_mode = rng.below(3);  // 0: no keys, 1: all keyed, 2: mixed
  ms t{0};
  for (std::int64_t i = 0; i < n; ++i) {
    t += ms(rng.chance(8) ? rng.between(100, 2000) : rng.between(0, 15));
    planned_record r;
    r.at = t;
    if (key_mode == 1 || (key_mode == 2 && rng.chance(50)))
      r.key = "k" + std::to_string(rng.below(8));
    if (rng.chance(5))
      r.partition = static_cast<std::int32_t>(rng.below(static_cast<std::uint64_t>(s.partitions)));
    r.padding = rng.chance(30) ? static_cast<std::size_t>(rng.between(10, 200)) : 0;
    s.records.push_back(std::move(r));
  }
  const ms last_send = t;

  // The fault schedule.
  std::vector<fault_type> types;
  for (int i = 0; i < fault_type_count; ++i)
    if (!options.excluded.count(static_cast<fault_type>(i)))
      types.push_back(static_cast<fault_type>(i));
  const auto fault_count = (rng.chance(10) || types.empty()) ? 0 : rng.between(1, 8);
  ms last_fault_end{0};
  for (std::int64_t i = 0; i < fault_count; ++i) {
    const fault_type type = types[rng.below(types.size())];
    fault_event f = draw_fault(type, rng, s, last_send);
    last_fault_end = std::max(last_fault_end, f.at + f.duration);
    s.faults.push_back(f);
  }
  std::stable_sort(s.faults.begin(), s.faults.end(),
                   [](const fault_event& a, const fault_event& b) { return a.at < b.at; });
  s.limit =
      std::max(last_send, last_fault_end) + p.delivery_timeout + 2 * p.request_timeout + ms(60000);
  return s;
}

void schedule_fault(world& w, const std::string& topic, const fault_event& f) {
  const std::string what = f.describe();
  auto rule_window = [&](mockbroker::fault_rule rule) {
    rule.match.probability = f.percent / 100.0;
    rule.count = f.count;
    auto id = std::make_shared<mockbroker::rule_id>(0);
    w.at(f.at, what, [rule, id](world& w) { *id = w.cluster().add_fault(rule); });
    w.at(f.at + f.duration, "end of " + what, [id](world& w) { w.cluster().remove_fault(*id); });
  };
  auto produce_rule = [&](mockbroker::fault_action action) {
    mockbroker::fault_rule rule;
    rule.match.api_key = 0;
    if (f.broker) rule.match.broker = f.broker;
    if (f.partition >= 0) {
      rule.match.topic = topic;
      rule.match.partition = f.partition;
    }
    rule.action = action;
    rule_window(std::move(rule));
  };
  switch (f.type) {
    case fault_type::produce_error:
    case fault_type::produce_fatal_error:
    case fault_type::sequence_error:
      produce_rule(mockbroker::fault_action{mockbroker::fault_kind::error, f.error, {}, 0});
      break;
    case fault_type::append_then_error:
      produce_rule(
          mockbroker::fault_action{mockbroker::fault_kind::append_then_error, f.error, {}, 0});
      break;
    case fault_type::lost_ack:
      produce_rule(mockbroker::fault_action::of(mockbroker::fault_kind::append_then_drop));
      break;
    case fault_type::dropped_request:
      produce_rule(mockbroker::fault_action::of(mockbroker::fault_kind::drop));
      break;
    case fault_type::delayed_response:
      produce_rule(mockbroker::fault_action::delayed(f.delay));
      break;
    case fault_type::close_before: {
      // Any API: a broker may hang up on a Metadata or ApiVersions request too.
      mockbroker::fault_rule rule;
      if (f.broker) rule.match.broker = f.broker;
      rule.action = mockbroker::fault_action::of(mockbroker::fault_kind::close_before);
      rule_window(std::move(rule));
      break;
    }
    case fault_type::close_after_processing:
      produce_rule(mockbroker::fault_action::of(mockbroker::fault_kind::close_after_processing));
      break;
    case fault_type::close_after_response:
      produce_rule(mockbroker::fault_action::of(mockbroker::fault_kind::close_after_response));
      break;
    case fault_type::throttle:
      produce_rule(mockbroker::fault_action::throttled(f.throttle_ms));
      break;
    case fault_type::metadata_error: {
      mockbroker::fault_rule rule;
      rule.match.api_key = 3;
      rule.match.topic = topic;
      rule.action = mockbroker::fault_action{mockbroker::fault_kind::error, f.error, {}, 0};
      rule_window(std::move(rule));
      break;
    }
    case fault_type::init_producer_id_error: {
      mockbroker::fault_rule rule;
      rule.match.api_key = 22;
      rule.action = mockbroker::fault_action{mockbroker::fault_kind::error, f.error, {}, 0};
      rule_window(std::move(rule));
      break;
    }
    case fault_type::leader_move:
      w.at(f.at, what, [topic, f](world& w) {
        auto info = w.cluster().partition(topic, f.partition);
        if (!info) return;
        std::vector<std::int32_t> candidates;
        for (const auto& b : w.cluster().brokers())
          if (b.up && b.id != info->leader) candidates.push_back(b.id);
        if (candidates.empty()) return;
        const auto to = candidates[static_cast<std::size_t>(f.broker) % candidates.size()];
        w.note("leader of " + topic + "-" + std::to_string(f.partition) + " moves from " +
               std::to_string(info->leader) + " to " + std::to_string(to));
        w.cluster().move_leader(topic, f.partition, to);
      });
      break;
    case fault_type::broker_outage:
      w.at(f.at, what, [f](world& w) {
        w.cluster().broker_down(f.broker, true);
        w.cut_connections_to(f.broker);
      });
      w.at(f.at + f.duration, "end of " + what, [f](world& w) { w.cluster().broker_up(f.broker); });
      break;
    case fault_type::isr_shrink:
      w.at(f.at, what, [topic, f](world& w) {
        auto info = w.cluster().partition(topic, f.partition);
        if (!info || info->leader < 0) return;
        w.cluster().set_isr(topic, f.partition, {info->leader});
      });
      w.at(f.at + f.duration, "end of " + what, [topic, f](world& w) {
        auto info = w.cluster().partition(topic, f.partition);
        if (!info) return;
        for (const auto& b : w.cluster().brokers())
          if (b.up &&
              std::find(info->replicas.begin(), info->replicas.end(), b.id) != info->replicas.end())
            w.cluster().grow_isr(topic, f.partition, b.id);
      });
      break;
    case fault_type::connection_cut:
      w.at(f.at, what, [f](world& w) { w.cut_connections_to(f.broker); });
      break;
    case fault_type::latency_spike: {
      w.at(f.at, what, [f](world& w) { w.set_link_latency(f.broker, f.delay); });
      // Back to the world's default: the spike's end forgets the override.
      w.at(f.at + f.duration, "end of " + what,
           [f](world& w) { w.set_link_latency(f.broker, ms(-1)); });
      break;
    }
  }
}

std::unique_ptr<world> scenario_world(const scenario& s, const std::string& description,
                                      const std::function<void(std::string_view)>& trace) {
  mockbroker::cluster_config cc;
  cc.broker_count = s.brokers;
  cc.seed = s.cluster_seed;
  cc.min_insync_replicas = s.min_insync_replicas;
  cc.request_log_capacity = trace ? 16 : 0;
  world_options wo;
  wo.link_latency = s.link_latency;
  wo.trace = trace;
  if (trace) {
    std::size_t start = 0;
    while (start <= description.size()) {
      const auto end = description.find('\n', start);
      trace(std::string_view(description)
                .substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  auto w = std::make_unique<world>(cc, s.producer, core_options{s.producer_seed}, wo);
  mockbroker::topic_config tc;
  tc.partitions = s.partitions;
  tc.replication_factor = s.replication_factor;
  if (w->cluster().create_topic(s.topic, tc) != kafka_error::none)
    throw std::logic_error("kwire sim: cannot create the topic");
  for (std::size_t i = 0; i < s.records.size(); ++i) {
    const auto& r = s.records[i];
    std::string value = "r" + std::to_string(i) + ":";
    value.append(r.padding, 'x');
    w->send(s.topic, r.key, std::move(value), r.at, r.partition);
  }
  for (const auto& f : s.faults) schedule_fault(*w, s.topic, f);
  return w;
}

run_result run_scenario(const scenario& s, const std::function<void(std::string_view)>& trace) {
  const std::unique_ptr<world> run = scenario_world(s, trace ? s.describe() : std::string(), trace);
  world& w = *run;
  w.run_until_reported(s.limit);
  run_result out;
  out.check = check_run(w, s.expectations());
  out.digest = w.digest();
  out.virtual_time = w.now();
  out.steps = w.steps();
  out.network = w.network();
  out.metrics = w.producer().metrics();
  if (trace) {
    for (const auto& v : out.check.violations) trace("VIOLATION " + v.kind + ": " + v.detail);
  }
  return out;
}

}  // namespace kwire::sim
