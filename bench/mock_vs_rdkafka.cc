// librdkafka's idempotent producer (acks=all) against two mock clusters in
// the same process: kwire's (its TCP front on loopback) or librdkafka's own
// (test.mock.num.brokers). Run the two alternately, several times, and
// compare records per second.
//
// Usage: mock_vs_rdkafka kwire|rdkafka [RECORDS] [RECORD_SIZE]
// Prints one JSON object: mock, records, seconds, records_per_sec, delivered.
// librdkafka type-checks producev() arguments with GNU statement
// expressions, which clang -Wpedantic rejects.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/tcp_server.hpp"

namespace {

std::atomic<std::uint64_t> delivered{0};
std::atomic<std::uint64_t> failed{0};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err) {
    ++failed;
  } else {
    ++delivered;
  }
}

bool set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "mock_vs_rdkafka: %s=%s: %s\n", key, value.c_str(), err);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (std::strcmp(argv[1], "kwire") != 0 && std::strcmp(argv[1], "rdkafka") != 0)) {
    std::fprintf(stderr, "usage: mock_vs_rdkafka kwire|rdkafka [RECORDS] [RECORD_SIZE]\n");
    return 2;
  }
  const bool use_kwire = std::strcmp(argv[1], "kwire") == 0;
  const long records = argc > 2 ? std::atol(argv[2]) : 2000000;
  const long size = argc > 3 ? std::atol(argv[3]) : 100;

  std::unique_ptr<kwire::mockbroker::cluster> cluster;
  std::unique_ptr<kwire::mockbroker::tcp_server> server;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (use_kwire) {
    kwire::mockbroker::cluster_config config;
    config.default_partitions = 3;
    config.retention_bytes = 64LL * 1024 * 1024;
    config.request_log_capacity = 0;
    cluster = std::make_unique<kwire::mockbroker::cluster>(config);
    server = std::make_unique<kwire::mockbroker::tcp_server>(*cluster);
    server->start();
    if (!set(conf, "bootstrap.servers", server->bootstrap_servers())) return 1;
  } else {
    if (!set(conf, "test.mock.num.brokers", "3")) return 1;
  }
  bool ok = set(conf, "enable.idempotence", "true") && set(conf, "acks", "all") &&
            set(conf, "linger.ms", "5") && set(conf, "queue.buffering.max.messages", "1000000") &&
            set(conf, "log_level", "3");
  if (!ok) return 1;
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!producer) {
    std::fprintf(stderr, "mock_vs_rdkafka: %s\n", err);
    return 1;
  }
  const std::string value(static_cast<std::size_t>(size), 'x');
  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < records; ++i) {
    while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("bench"),
                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 1);
    }
    if ((i & 1023) == 0) rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 300000);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rd_kafka_destroy(producer);
  if (server) server->stop();
  std::printf(
      "{\"mock\":\"%s\",\"records\":%ld,\"seconds\":%.3f,\"records_per_sec\":%.0f,\"delivered\":%"
      "llu,\"failed\":%llu}\n",
      argv[1], records, seconds, static_cast<double>(delivered) / seconds,
      static_cast<unsigned long long>(delivered.load()),
      static_cast<unsigned long long>(failed.load()));
  return failed == 0 && delivered == static_cast<std::uint64_t>(records) ? 0 : 1;
}
