// `kwire perf`: the producer's throughput and send-to-acknowledgement latency.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/tcp_server.hpp"
#include "kwire/producer/producer.hpp"
#include "kwire/tools/commands.hpp"
#include "kwire/tools/percentile.hpp"

namespace kwire::tools {
namespace {

using steady = std::chrono::steady_clock;
constexpr std::size_t not_sampled = static_cast<std::size_t>(-1);

struct run_state {
  steady::time_point start;
  // Latency is sampled as Java's perf test samples it: every record up to
  // 500,000 records, else every (records / 500,000)-th, so that reading the
  // clock twice a record does not dominate what is measured.
  std::size_t sample_every = 1;
  std::vector<std::int64_t> sent_at_us;  // by sample index
  std::vector<std::int64_t> latency_us;  // by sample index, -1 until reported
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  std::mutex error_mutex;
  std::string first_error;

  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  }
};

}  // namespace

int run_perf(const perf_options& options) {
  auto settings = options.settings;
  const auto& topic = options.topic;
  const auto records = options.records;
  const auto record_size = options.record_size;
  const auto partitions = options.partitions;
  const auto throughput = options.throughput;
  const bool progress = options.progress;

  // Without --bootstrap: an embedded mock cluster over loopback.
  std::unique_ptr<mockbroker::cluster> cluster;
  std::unique_ptr<mockbroker::tcp_server> server;
  if (settings.find("bootstrap.servers") == settings.end()) {
    cluster = std::make_unique<mockbroker::cluster>(mockbroker::cluster_config{});
    mockbroker::topic_config t;
    t.partitions = static_cast<std::int32_t>(partitions);
    if (cluster->create_topic(topic, t) != kafka_error::none) {
      std::cerr << "kwire perf: cannot create topic '" << topic << "' on the embedded mock\n";
      return 2;
    }
    server = std::make_unique<mockbroker::tcp_server>(*cluster);
    server->start();
    settings["bootstrap.servers"] = server->bootstrap_servers();
  }

  std::optional<producer> p;
  try {
    p.emplace(settings);
  } catch (const std::invalid_argument& e) {
    std::cerr << "kwire perf: " << e.what() << "\n";
    return 2;
  }

  const auto n = static_cast<std::size_t>(records);
  run_state state;
  state.sample_every = std::max<std::size_t>(1, n / 500000);
  const std::size_t samples = (n + state.sample_every - 1) / state.sample_every;
  state.sent_at_us.assign(samples, 0);
  state.latency_us.assign(samples, -1);
  const std::vector<std::uint8_t> payload(static_cast<std::size_t>(record_size), std::uint8_t{'x'});

  std::atomic<bool> done{false};
  std::mutex progress_mutex;
  std::condition_variable progress_cv;
  std::thread progress_thread;
  if (progress) {
    progress_thread = std::thread([&] {
      std::unique_lock lock(progress_mutex);
      while (!done) {
        progress_cv.wait_for(lock, std::chrono::milliseconds(250));
        const auto reported = state.delivered.load() + state.failed.load();
        const double fraction = static_cast<double>(reported) / static_cast<double>(n);
        const int width = 40;
        const int filled = static_cast<int>(fraction * width);
        const double seconds = static_cast<double>(state.now_us()) / 1e6;
        std::fprintf(stderr, "\r[%s%s] %3d%% %llu/%zu, %.0f records/s, %llu failed",
                     std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                     static_cast<int>(fraction * 100), static_cast<unsigned long long>(reported), n,
                     seconds > 0 ? static_cast<double>(reported) / seconds : 0.0,
                     static_cast<unsigned long long>(state.failed.load()));
      }
      std::fprintf(stderr, "\n");
    });
  }

  state.start = steady::now();
  run_state* s = &state;
  for (std::size_t i = 0; i < n; ++i) {
    if (throughput > 0 && i % 64 == 0) {
      // Record i is due at i / throughput seconds: sleep while ahead of that.
      const auto due = std::chrono::microseconds(static_cast<std::int64_t>(
          static_cast<double>(i) * 1e6 / static_cast<double>(throughput)));
      const auto ahead = due - std::chrono::microseconds(state.now_us());
      if (ahead > std::chrono::microseconds(200)) std::this_thread::sleep_for(ahead);
    }
    // Two words of capture keep the callback inside std::function (no allocation).
    const std::size_t sample = i % state.sample_every == 0 ? i / state.sample_every : not_sampled;
    if (sample != not_sampled) state.sent_at_us[sample] = state.now_us();
    p->send({topic, std::nullopt, std::nullopt, std::nullopt, bytes_view(payload), {}},
            [s, sample](const record_metadata&, std::error_code ec) {
              if (ec) {
                if (s->failed.fetch_add(1) == 0) {
                  std::lock_guard lock(s->error_mutex);
                  s->first_error = ec.message();
                }
                return;
              }
              if (sample != not_sampled)
                s->latency_us[sample] = s->now_us() - s->sent_at_us[sample];
              s->delivered.fetch_add(1);
            });
  }
  p->flush();
  const double seconds = static_cast<double>(state.now_us()) / 1e6;
  p->close();
  {
    std::lock_guard lock(progress_mutex);
    done = true;
  }
  progress_cv.notify_all();
  if (progress_thread.joinable()) progress_thread.join();
  if (server) server->stop();

  std::vector<std::int64_t> latencies;
  latencies.reserve(state.latency_us.size());
  for (auto l : state.latency_us)
    if (l >= 0) latencies.push_back(l);
  std::sort(latencies.begin(), latencies.end());
  const double rate = seconds > 0 ? static_cast<double>(n) / seconds : 0;
  const double mb = seconds > 0 ? static_cast<double>(n) * static_cast<double>(record_size) /
                                      (1024.0 * 1024.0) / seconds
                                : 0;
  if (state.failed > 0) {
    std::lock_guard lock(state.error_mutex);
    std::cerr << "kwire perf: " << state.failed.load() << " of " << n
              << " records failed (first error: " << state.first_error << ")\n";
  }
  std::printf(
      "{\"records\": %zu, \"seconds\": %.3f, \"records_per_sec\": %.1f, \"mb_per_sec\": %.3f, "
      "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}, "
      "\"delivered\": %llu, \"failed\": %llu}\n",
      n, seconds, rate, mb, percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99),
      percentile_ms(latencies, 0.999),
      latencies.empty() ? 0.0 : static_cast<double>(latencies.back()) / 1000.0,
      static_cast<unsigned long long>(state.delivered.load()),
      static_cast<unsigned long long>(state.failed.load()));
  return state.failed > 0 ? 1 : 0;
}

}  // namespace kwire::tools
