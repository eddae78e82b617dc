// `kwire demo`: the card-payment case, end to end, on the embedded mock.
//
// A 3-broker mock cluster listens on loopback; an idempotent producer
// (acks=all) sends N payments keyed by card number while the cluster injects
// errors, lost acknowledgements and latency, and every partition's leader
// moves halfway through. Then the partition logs are read back and checked:
// every acknowledged payment exactly once, each card's payments in the order
// they were sent. The fault schedule is a function of --seed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/tcp_server.hpp"
#include "kwire/producer/producer.hpp"
#include "kwire/tools/commands.hpp"
#include "kwire/tools/percentile.hpp"

namespace kwire::tools {
namespace {

constexpr const char* topic = "payments";
using steady = std::chrono::steady_clock;

std::string card_number(long long card) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "4000-%04lld-%04lld-%04lld", (card / 100000000) % 10000,
                (card / 10000) % 10000, card % 10000);
  return buf;
}

// "id=<payment>;seq=<n-th payment of this card>;cents=<amount>"
std::string payment_value(long long id, long long seq, long long cents) {
  return "id=" + std::to_string(id) + ";seq=" + std::to_string(seq) +
         ";cents=" + std::to_string(cents);
}

bool parse_payment(std::string_view v, long long& id, long long& seq) {
  auto field = [&](std::string_view name, long long& out) {
    const auto at = v.find(name);
    if (at == std::string_view::npos) return false;
    long long x = 0;
    std::size_t i = at + name.size();
    if (i >= v.size()) return false;
    for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i) x = x * 10 + (v[i] - '0');
    out = x;
    return true;
  };
  return field("id=", id) && field("seq=", seq);
}

// The fault schedule: a function of the seed (through the cluster's seeded
// random source for the probabilistic rules).
struct schedule {
  std::vector<mockbroker::rule_id> rules;
  std::vector<std::string> names;
};

schedule install_faults(mockbroker::cluster& c) {
  schedule s;
  auto add = [&](std::string name, mockbroker::fault_rule rule) {
    s.rules.push_back(c.add_fault(std::move(rule)));
    s.names.push_back(std::move(name));
  };
  constexpr std::int16_t produce_key = 0;
  mockbroker::fault_rule not_leader;
  not_leader.match.api_key = produce_key;
  // Each rule starts firing at its nth matching request (so every run sees
  // it, however few requests the batching makes), then at random.
  not_leader.match.nth = 100;
  not_leader.match.probability = 0.05;
  not_leader.action = mockbroker::fault_action::error(kafka_error::not_leader_or_follower);
  not_leader.count = 20;
  add("NOT_LEADER_OR_FOLLOWER answers", not_leader);

  mockbroker::fault_rule not_enough;
  not_enough.match.api_key = produce_key;
  not_enough.match.nth = 150;
  not_enough.match.probability = 0.05;
  not_enough.action = mockbroker::fault_action::error(kafka_error::not_enough_replicas);
  not_enough.count = 20;
  add("NOT_ENOUGH_REPLICAS answers", not_enough);

  mockbroker::fault_rule written_then_error;
  written_then_error.match.api_key = produce_key;
  written_then_error.match.nth = 250;
  written_then_error.match.probability = 0.05;
  written_then_error.action =
      mockbroker::fault_action::append_then_error(kafka_error::request_timed_out);
  written_then_error.count = 5;
  add("REQUEST_TIMED_OUT after the append", written_then_error);

  mockbroker::fault_rule lost_ack;
  lost_ack.match.api_key = produce_key;
  lost_ack.match.nth = 200;
  lost_ack.action = mockbroker::fault_action::of(mockbroker::fault_kind::append_then_drop);
  lost_ack.count = 2;
  add("acknowledgements lost after the append", lost_ack);

  mockbroker::fault_rule slow;
  slow.match.api_key = produce_key;
  slow.match.probability = 0.01;
  slow.action = mockbroker::fault_action::delayed(std::chrono::milliseconds(20));
  add("answers delayed by 20 ms", slow);
  return s;
}

}  // namespace

int run_demo(const demo_options& options) {
  const auto payments = options.payments;
  const auto cards = options.cards;
  const auto partitions = options.partitions;
  const auto seed = options.seed;
  const auto& settings = options.settings;

  mockbroker::cluster_config cc;
  cc.broker_count = 3;
  cc.seed = static_cast<std::uint64_t>(seed);
  cc.request_log_capacity = 0;
  cc.retention_bytes = -1;  // keep every payment for the check
  mockbroker::cluster cluster(cc);
  mockbroker::topic_config tc;
  tc.partitions = static_cast<std::int32_t>(partitions);
  tc.min_insync_replicas = 2;
  if (cluster.create_topic(topic, tc) != kafka_error::none) {
    std::cerr << "kwire demo: cannot create the payments topic\n";
    return 2;
  }
  cluster.set_broker_latency(2, std::chrono::milliseconds(1));
  const schedule faults = install_faults(cluster);
  mockbroker::tcp_server server(cluster);
  server.start();

  // The payment system's producer: idempotent, acks=all; a lost
  // acknowledgement is noticed after request.timeout.ms. Defaults the demo
  // chooses may be overridden with -X.
  std::map<std::string, std::string> config{{"bootstrap.servers", server.bootstrap_servers()},
                                            {"acks", "all"},
                                            {"enable.idempotence", "true"},
                                            {"linger.ms", "5"},
                                            {"request.timeout.ms", "400"},
                                            {"delivery.timeout.ms", "120000"},
                                            {"retry.backoff.ms", "10"}};
  for (const auto& [k, v] : settings) config[k] = v;
  std::optional<producer> p;
  try {
    p.emplace(config, core_options{static_cast<std::uint64_t>(seed)});
  } catch (const std::invalid_argument& e) {
    std::cerr << "kwire demo: " << e.what() << "\n";
    return 2;
  }

  std::cout
      << "kwire demo: " << payments << " card payments to a 3-broker mock cluster at "
      << server.bootstrap_servers() << "\n  topic " << topic << ", " << partitions
      << " partitions, 3 replicas, min.insync.replicas=2; producer acks=all, idempotent, linger.ms="
      << config["linger.ms"] << ", request.timeout.ms=" << config["request.timeout.ms"]
      << "\n  faults:";
  for (const auto& name : faults.names) std::cout << " " << name << ";";
  std::cout << " 1 ms latency on broker 2; every leader moves at " << payments / 2 << " payments\n"
            << std::flush;

  const auto n = static_cast<std::size_t>(payments);
  std::vector<std::int64_t> sent_us(n, 0);
  std::vector<std::int32_t> latency_us(n, -1);
  std::vector<std::uint8_t> acked(n, 0);
  std::atomic<std::uint64_t> acknowledged{0};
  std::atomic<std::uint64_t> failed{0};
  std::mutex error_mutex;
  std::map<std::string, std::uint64_t> errors;
  std::vector<long long> card_seq(static_cast<std::size_t>(cards), 0);
  const auto start = steady::now();
  auto now_us = [&] {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  };

  std::uint64_t rng = static_cast<std::uint64_t>(seed) * 0x9E3779B97F4A7C15ULL + 1;
  auto next_random = [&] {  // splitmix64: which card pays, and how much
    std::uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (i == n / 2) {
      server.call([&](mockbroker::cluster& c) {
        for (std::int32_t part = 0; part < partitions; ++part)
          if (auto info = c.partition(topic, part))
            c.move_leader(topic, part, info->leader % 3 + 1);
        return 0;
      });
    }
    const auto card = static_cast<long long>(next_random() % static_cast<std::uint64_t>(cards));
    const auto key = card_number(card);
    const auto value =
        payment_value(static_cast<long long>(i), card_seq[static_cast<std::size_t>(card)]++,
                      static_cast<long long>(next_random() % 100000));
    sent_us[i] = now_us();
    p->send({topic, std::nullopt, std::nullopt, bytes_of(key), bytes_of(value), {}},
            [&, i](const record_metadata&, std::error_code ec) {
              if (ec) {
                ++failed;
                std::lock_guard lock(error_mutex);
                ++errors[ec.message()];
                return;
              }
              latency_us[i] = static_cast<std::int32_t>(
                  std::min<std::int64_t>(now_us() - sent_us[i], INT32_MAX));
              acked[i] = 1;
              ++acknowledged;
            });
  }
  p->flush();
  const double seconds = static_cast<double>(now_us()) / 1e6;
  const auto metrics = p->metrics();
  p->close();

  // Read the logs back.
  std::vector<std::uint32_t> copies(n, 0);
  std::uint64_t foreign = 0;
  std::uint64_t out_of_order = 0;
  std::vector<std::vector<mockbroker::stored_record>> logs =
      server.call([&](mockbroker::cluster& c) {
        std::vector<std::vector<mockbroker::stored_record>> all;
        for (std::int32_t part = 0; part < partitions; ++part) all.push_back(c.read(topic, part));
        return all;
      });
  std::vector<std::uint64_t> fired;
  for (auto id : faults.rules)
    fired.push_back(server.call([&](mockbroker::cluster& c) { return c.fired(id); }));
  const auto moved_epochs = server.call([&](mockbroker::cluster& c) {
    std::int32_t moves = 0;
    for (std::int32_t part = 0; part < partitions; ++part)
      if (auto info = c.partition(topic, part)) moves += info->leader_epoch > 0 ? 1 : 0;
    return moves;
  });
  server.stop();
  std::map<std::string, long long> last_seq;  // per card, in log order
  for (const auto& log : logs)
    for (const auto& r : log) {
      long long id = -1;
      long long seq = -1;
      if (!parse_payment(r.value_string(), id, seq) || id < 0 || id >= payments) {
        ++foreign;
        continue;
      }
      ++copies[static_cast<std::size_t>(id)];
      auto [it, first] = last_seq.emplace(r.key_string(), seq);
      if (!first) {
        if (seq <= it->second) ++out_of_order;
        it->second = seq;
      }
    }
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t failed_but_written = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (acked[i] && copies[i] == 0) ++lost;
    if (copies[i] > 1) duplicated += copies[i] - 1;
    if (!acked[i] && copies[i] > 0) ++failed_but_written;
  }
  std::vector<std::int32_t> latencies;
  latencies.reserve(n);
  for (auto l : latency_us)
    if (l >= 0) latencies.push_back(l);
  std::sort(latencies.begin(), latencies.end());
  const double rate = seconds > 0 ? static_cast<double>(n) / seconds : 0;

  std::cout << "  faults fired:";
  for (std::size_t i = 0; i < fired.size(); ++i)
    std::cout << " " << faults.names[i] << " " << fired[i] << ";";
  std::cout << " leaders moved " << moved_epochs << "\n";
  std::cout << "  producer: " << metrics.retries << " batches retried, " << metrics.errors
            << " errors, " << metrics.epoch_bumps << " epoch bumps, " << metrics.batches_sent
            << " produce attempts\n";
  for (const auto& [message, count] : errors)
    std::cout << "  failed: " << count << " x " << message << "\n";
  std::printf("payments acknowledged  %llu of %zu\n",
              static_cast<unsigned long long>(acknowledged.load()), n);
  std::printf("lost                   %llu\n", static_cast<unsigned long long>(lost));
  std::printf("duplicated             %llu\n", static_cast<unsigned long long>(duplicated));
  std::printf("out of order per card  %llu\n", static_cast<unsigned long long>(out_of_order));
  std::printf("failed (reported)      %llu (of which in the log: %llu)\n",
              static_cast<unsigned long long>(failed.load()),
              static_cast<unsigned long long>(failed_but_written));
  std::printf("records per second     %.0f (%.2f s)\n", rate, seconds);
  std::printf("latency p50 / p99      %.1f ms / %.1f ms (max %.1f ms)\n",
              percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99),
              latencies.empty() ? 0.0 : latencies.back() / 1000.0);
  const bool ok = lost == 0 && duplicated == 0 && out_of_order == 0 && failed == 0 &&
                  foreign == 0 && acknowledged == static_cast<std::uint64_t>(n);
  std::printf(
      "{\"payments\": %zu, \"acknowledged\": %llu, \"lost\": %llu, \"duplicated\": %llu, "
      "\"out_of_order\": %llu, "
      "\"failed\": %llu, \"records_per_sec\": %.1f, \"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, "
      "\"max\": %.3f}, "
      "\"ok\": %s}\n",
      n, static_cast<unsigned long long>(acknowledged.load()),
      static_cast<unsigned long long>(lost), static_cast<unsigned long long>(duplicated),
      static_cast<unsigned long long>(out_of_order), static_cast<unsigned long long>(failed.load()),
      rate, percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99),
      latencies.empty() ? 0.0 : latencies.back() / 1000.0, ok ? "true" : "false");
  return ok ? 0 : 1;
}

}  // namespace kwire::tools
