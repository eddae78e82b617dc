// Helpers for the simulation tests: a world with a 3-broker cluster and one
// topic whose partitions are all led by broker 1, a trace kept in memory, and
// a raw writer for a second (non-idempotent) producer.
#pragma once

#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages/produce.hpp"
#include "kwire/protocol/record_batch.hpp"
#include "kwire/sim/checker.hpp"
#include "kwire/sim/world.hpp"

namespace kwire::sim::testing {

using namespace std::chrono_literals;

inline producer_config base_config() {
  producer_config c;
  c.enable_idempotence = true;
  c.enable_idempotence_set = true;
  c.acks = -1;
  c.request_timeout = 1000ms;
  c.delivery_timeout = 10000ms;
  c.retry_backoff = 100ms;
  c.retry_backoff_max = 100ms;  // no growth: exact retry times
  return c;
}

/// A world whose trace is kept, printed by `trace()` when an assertion fails.
struct sim_case {
  std::vector<std::string> lines;
  std::string topic = "t";
  std::int32_t partitions;
  world w;

  explicit sim_case(producer_config config, std::int32_t partitions = 1,
                    mockbroker::topic_config topic_settings = {}, ms latency = 1ms)
      : partitions(partitions),
        w(cluster_config(), std::move(config), core_options{1}, options(latency)) {
    topic_settings.partitions = partitions;
    topic_settings.replication_factor = 3;
    topic_settings.assignments.assign(static_cast<std::size_t>(partitions), {1, 2, 3});
    REQUIRE(w.cluster().create_topic(topic, topic_settings) == kafka_error::none);
  }

  /// KWIRE_SIM_TRACE=1 prints every case's trace, to read a timeline.
  ~sim_case() {
    if (std::getenv("KWIRE_SIM_TRACE")) std::cout << trace();
  }

  static mockbroker::cluster_config cluster_config() {
    mockbroker::cluster_config c;
    c.broker_count = 3;
    c.seed = 1;
    return c;
  }

  world_options options(ms latency) {
    world_options o;
    o.link_latency = latency;
    o.trace = [this](std::string_view line) { lines.emplace_back(line); };
    return o;
  }

  std::string trace() const {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }

  /// Sends "r<id>:" records to partition `partition` at `at`.
  std::uint64_t send(ms at, std::int32_t partition = 0) {
    const std::uint64_t id = w.records().size();
    return w.send(topic, std::nullopt, "r" + std::to_string(id) + ":", at, partition);
  }

  check_result check() {
    check_expectations e;
    e.topic = topic;
    e.partitions = partitions;
    e.acks = w.producer().config().acks;
    e.idempotent = w.producer().config().enable_idempotence;
    e.max_in_flight = w.producer().config().max_in_flight_requests_per_connection;
    e.delivery_timeout = w.producer().config().delivery_timeout;
    return check_run(w, e);
  }

  /// The Produce requests the cluster saw, as the trace describes them,
  /// with the broker and arrival time: "1.005s b1 [t-0 pid 1000 epoch 0 seq 0..1: r0 r1] -> [t-0 ok
  /// base 0 ...]".
  std::vector<std::string> produce_log() const {
    std::vector<std::string> out;
    for (const auto& e : const_cast<world&>(w).cluster().request_log()) {
      if (e.header.api_key != 0 || e.request.empty()) continue;
      std::string line = format_time(std::chrono::duration_cast<ms>(e.arrival.time_since_epoch()) -
                                     ms(1'700'000'000'000)) +
                         " b" + std::to_string(e.broker_id) + " " +
                         describe_message(e.request, e.header.api_version);
      line += " -> " + (e.response.empty() ? std::string("(no response)")
                                           : describe_message(e.response, e.header.api_version));
      out.push_back(line);
    }
    return out;
  }

  /// The ids of the records in the log of a partition, in offset order.
  std::vector<std::string> log_values(std::int32_t partition = 0) {
    std::vector<std::string> out;
    for (const auto& r : w.cluster().read(topic, partition)) out.push_back(r.value_string());
    return out;
  }
};

/// A Produce request frame payload (no size prefix) from a plain producer
/// (no producer id) with one batch of `values`.
inline std::vector<std::uint8_t> raw_produce(const std::string& topic, std::int32_t partition,
                                             const std::vector<std::string>& values) {
  record_batch_builder b(batch_builder_options{});
  for (const auto& v : values) REQUIRE(!b.append(0, std::nullopt, bytes_of(v)));
  auto batch = b.finish();
  REQUIRE(batch.ok());
  produce_request r;
  r.acks = -1;
  r.timeout_ms = 1000;
  produce_request::partition_produce_data p;
  p.index = partition;
  p.records = record_set(std::move(batch).value());
  r.topic_data.push_back({topic, {std::move(p)}, {}});
  auto frame =
      encode_request({produce_request::api_key, 9, 1, std::string("other-producer"), {}}, r);
  REQUIRE(frame.ok());
  return {frame.value().begin() + 4, frame.value().end()};  // without the size prefix
}

}  // namespace kwire::sim::testing
