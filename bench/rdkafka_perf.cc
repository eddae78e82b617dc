// librdkafka's producer measured the way `kwire perf` measures kwire's: the
// same options, the same send-to-acknowledgement latency per record, the same
// JSON last line. bench/producer_compare.py runs the two alternately against
// one `kwire mock`.
//
// Usage: rdkafka_perf --bootstrap B [--topic T] --records N --record-size S [--throughput R]
//                     [-X key=value]...
// -X settings go to rd_kafka_conf_set unchanged (librdkafka's names; acks,
// enable.idempotence and linger.ms are the same as Java's).
// librdkafka type-checks producev() arguments with GNU statement
// expressions, which clang -Wpedantic rejects.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

struct run_state {
  steady::time_point start;
  std::size_t sample_every = 1;  // as kwire perf: at most about 500,000 samples
  std::vector<std::int64_t> sent_at_us;
  std::vector<std::int64_t> latency_us;
  std::uint64_t delivered = 0;  // the delivery callback runs on the polling (main) thread
  std::uint64_t failed = 0;
  std::string first_error;

  std::int64_t now_us() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - start).count();
  }
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* s = static_cast<run_state*>(opaque);
  const auto i = reinterpret_cast<std::uintptr_t>(m->_private);
  if (m->err) {
    if (s->failed++ == 0) s->first_error = rd_kafka_err2str(m->err);
    return;
  }
  if (i % s->sample_every == 0)
    s->latency_us[i / s->sample_every] = s->now_us() - s->sent_at_us[i / s->sample_every];
  ++s->delivered;
}

bool set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "rdkafka_perf: %s=%s: %s\n", key.c_str(), value.c_str(), err);
    return false;
  }
  return true;
}

double percentile_ms(const std::vector<std::int64_t>& sorted_us, double q) {
  if (sorted_us.empty()) return 0;
  auto index = static_cast<std::size_t>(q * static_cast<double>(sorted_us.size() - 1) + 0.5);
  index = std::min(index, sorted_us.size() - 1);
  return static_cast<double>(sorted_us[index]) / 1000.0;
}

int usage() {
  std::fprintf(
      stderr,
      "usage: rdkafka_perf --bootstrap B [--topic T] --records N --record-size S [--throughput R]\n"
      "                    [-X key=value]...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap;
  std::string topic = "kwire-perf";
  long long records = -1;
  long long size = -1;
  long long throughput = 0;
  std::vector<std::pair<std::string, std::string>> settings;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string value = argv[++i];
    char* end = nullptr;
    if (arg == "--bootstrap") {
      bootstrap = value;
    } else if (arg == "--topic") {
      topic = value;
    } else if (arg == "--records") {
      records = std::strtoll(value.c_str(), &end, 10);
      if (*end != '\0' || records < 1) return usage();
    } else if (arg == "--record-size") {
      size = std::strtoll(value.c_str(), &end, 10);
      if (*end != '\0' || size < 0) return usage();
    } else if (arg == "--throughput") {
      throughput = std::strtoll(value.c_str(), &end, 10);
      if (*end != '\0' || throughput < 1) return usage();
    } else if (arg == "-X") {
      const auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) return usage();
      settings.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else {
      return usage();
    }
  }
  if (bootstrap.empty() || records < 1 || size < 0) return usage();

  run_state state;
  const auto n = static_cast<std::size_t>(records);
  state.sample_every = std::max<std::size_t>(1, n / 500000);
  const std::size_t samples = (n + state.sample_every - 1) / state.sample_every;
  state.sent_at_us.assign(samples, 0);
  state.latency_us.assign(samples, -1);

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (!set(conf, "bootstrap.servers", bootstrap) || !set(conf, "log_level", "3")) return 1;
  for (const auto& [key, value] : settings)
    if (!set(conf, key, value)) return 2;
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &state);
  char err[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!producer) {
    std::fprintf(stderr, "rdkafka_perf: %s\n", err);
    return 1;
  }
  const std::string value(static_cast<std::size_t>(size), 'x');
  state.start = steady::now();
  for (std::size_t i = 0; i < n; ++i) {
    if (throughput > 0 && i % 64 == 0) {  // as kwire perf --throughput
      const auto due = std::chrono::microseconds(static_cast<std::int64_t>(
          static_cast<double>(i) * 1e6 / static_cast<double>(throughput)));
      const auto ahead = due - std::chrono::microseconds(state.now_us());
      if (ahead > std::chrono::microseconds(200)) {
        rd_kafka_poll(producer, 0);
        std::this_thread::sleep_for(ahead);
      }
    }
    // As kwire perf (and Java's perf test): from before the send, so the
    // time spent waiting for room in the queue counts.
    if (i % state.sample_every == 0) state.sent_at_us[i / state.sample_every] = state.now_us();
    while (rd_kafka_producev(
               producer, RD_KAFKA_V_TOPIC(topic.c_str()),
               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
               RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(i))),
               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 1);
    }
    if ((i & 1023) == 0) rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 300000);
  const double seconds = static_cast<double>(state.now_us()) / 1e6;
  rd_kafka_destroy(producer);

  std::vector<std::int64_t> latencies;
  latencies.reserve(state.latency_us.size());
  for (auto l : state.latency_us)
    if (l >= 0) latencies.push_back(l);
  std::sort(latencies.begin(), latencies.end());
  if (state.failed > 0)
    std::fprintf(stderr, "rdkafka_perf: %llu records failed (first error: %s)\n",
                 static_cast<unsigned long long>(state.failed), state.first_error.c_str());
  std::printf(
      "{\"records\": %zu, \"seconds\": %.3f, \"records_per_sec\": %.1f, \"mb_per_sec\": %.3f, "
      "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}, "
      "\"delivered\": %llu, \"failed\": %llu}\n",
      n, seconds, seconds > 0 ? static_cast<double>(n) / seconds : 0.0,
      seconds > 0 ? static_cast<double>(n) * static_cast<double>(size) / (1024.0 * 1024.0) / seconds
                  : 0.0,
      percentile_ms(latencies, 0.5), percentile_ms(latencies, 0.99),
      percentile_ms(latencies, 0.999),
      latencies.empty() ? 0.0 : static_cast<double>(latencies.back()) / 1000.0,
      static_cast<unsigned long long>(state.delivered),
      static_cast<unsigned long long>(state.failed));
  return state.failed == 0 && state.delivered == n ? 0 : 1;
}
