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
#include "kwire/tools/options.hpp"

namespace kwire::tools {
namespace {

constexpr const char* perf_usage =
    "usage: kwire perf [--bootstrap HOST:PORT[,...]] [--topic T] --records N --record-size S\n"
    "                  [--partitions P] [--throughput R] [--no-progress] [-X key=value]...\n"
    "  Sends N records of S bytes (null keys) as fast as the producer takes them and\n"
    "  measures each one from send to acknowledgement. A progress bar goes to standard\n"
    "  error; the last line of standard output is one JSON object: records, seconds,\n"
    "  records_per_sec, mb_per_sec, latency_ms {p50, p99, p999, max}, delivered, failed.\n"
    "  Latency is sampled as Java's perf test does: every record up to 500,000, else every\n"
    "  (N / 500,000)-th record.\n"
    "  Exits 0 when every record was delivered, 1 otherwise, 2 on a usage error.\n"
    "  --bootstrap B    a cluster to write to; without it, an embedded 3-broker mock\n"
    "                   cluster on loopback (the topic is created with --partitions)\n"
    "  --topic T        default: kwire-perf\n"
    "  --partitions P   partitions of the embedded mock's topic (default 6)\n"
    "  --throughput R   offer at most R records a second (as Java's perf test); default: as\n"
    "                   fast as send() takes them, where latency is mostly time queued in\n"
    "                   buffer.memory\n"
    "  -X key=value     any producer setting by the Java producer's name (e.g. -X linger.ms=5)\n";

using steady = std::chrono::steady_clock;
constexpr std::size_t not_sampled = static_cast<std::size_t>(-1);

struct run_state {
  steady::time_point start;
  // Latency is sampled as Java's perf test samples it: every record up to
  // 500,000 records, else every (records / 500,000)-th, so that reading the
  // clock twice a record does not dominate what is measured.
  std::size_t sample_every = 1;
  std::vector<std::int64_t> sent_at_us;    // by sample index
  std::vector<std::int64_t> latency_us;    // by sample index, -1 until reported
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  std::mutex error_mutex;
  std::string first_error;

  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  }
};

}  // namespace

int run_perf(int argc, char** argv) {
  std::map<std::string, std::string> settings;
  std::string topic = "kwire-perf";
  long long records = -1;
  long long record_size = -1;
  long long partitions = 6;
  long long throughput = 0;
  bool progress = true;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << perf_usage;
      return 0;
    }
    if (arg == "--no-progress") {
      progress = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "kwire perf: " << arg << (arg.starts_with("-") ? " needs a value\n" : ": unexpected\n")
                << perf_usage;
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--bootstrap") {
      settings["bootstrap.servers"] = value;
    } else if (arg == "--topic") {
      topic = value;
    } else if (arg == "--records") {
      if (!parse_integer(value, 1, 1LL << 32, records)) {
        std::cerr << "kwire perf: --records: '" << value << "' is not a count from 1\n";
        return 2;
      }
    } else if (arg == "--record-size") {
      if (!parse_integer(value, 0, 64LL << 20, record_size)) {
        std::cerr << "kwire perf: --record-size: '" << value << "' is not a size in bytes\n";
        return 2;
      }
    } else if (arg == "--throughput") {
      if (!parse_integer(value, 1, 1LL << 40, throughput)) {
        std::cerr << "kwire perf: --throughput: '" << value << "' is not a rate in records a second\n";
        return 2;
      }
    } else if (arg == "--partitions") {
      if (!parse_integer(value, 1, 10000, partitions)) {
        std::cerr << "kwire perf: --partitions: '" << value << "' is not a count from 1\n";
        return 2;
      }
    } else if (arg == "-X") {
      if (!parse_setting(value, settings)) {
        std::cerr << "kwire perf: -X wants key=value, got '" << value << "'\n";
        return 2;
      }
    } else {
      std::cerr << "kwire perf: unknown option '" << arg << "'\n" << perf_usage;
      return 2;
    }
  }
  if (records < 0 || record_size < 0) {
    std::cerr << "kwire perf: --records and --record-size are required\n" << perf_usage;
    return 2;
  }

  // Without --bootstrap: an embedded mock cluster over loopback.
  std::unique_ptr<mock::cluster> cluster;
  std::unique_ptr<mock::tcp_server> server;
  if (settings.find("bootstrap.servers") == settings.end()) {
    cluster = std::make_unique<mock::cluster>(mock::cluster_config{});
    mock::topic_config t;
    t.partitions = static_cast<std::int32_t>(partitions);
    if (cluster->create_topic(topic, t) != kafka_error::none) {
      std::cerr << "kwire perf: cannot create topic '" << topic << "' on the embedded mock\n";
      return 2;
    }
    server = std::make_unique<mock::tcp_server>(*cluster);
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
        std::fprintf(stderr, "\r[%s%s] %3d%% %llu/%zu, %.0f records/s, %llu failed", std::string(filled, '#').c_str(),
                     std::string(width - filled, ' ').c_str(), static_cast<int>(fraction * 100),
                     static_cast<unsigned long long>(reported), n,
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
              if (sample != not_sampled) s->latency_us[sample] = s->now_us() - s->sent_at_us[sample];
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
  const double mb = seconds > 0 ? static_cast<double>(n) * static_cast<double>(record_size) / (1024.0 * 1024.0) / seconds : 0;
  if (state.failed > 0) {
    std::lock_guard lock(state.error_mutex);
    std::cerr << "kwire perf: " << state.failed.load() << " of " << n << " records failed (first error: "
              << state.first_error << ")\n";
  }
  std::printf(
      "{\"records\": %zu, \"seconds\": %.3f, \"records_per_sec\": %.1f, \"mb_per_sec\": %.3f, "
      "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}, "
      "\"delivered\": %llu, \"failed\": %llu}\n",
      n, seconds, rate, mb, percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99),
      percentile_ms(latencies, 0.999), latencies.empty() ? 0.0 : static_cast<double>(latencies.back()) / 1000.0,
      static_cast<unsigned long long>(state.delivered.load()), static_cast<unsigned long long>(state.failed.load()));
  return state.failed > 0 ? 1 : 0;
}

}  // namespace kwire::tools
