// librdkafka's consumers against two mock clusters in the same process:
// kwire's (its TCP front on loopback) or librdkafka's own (rdkafka_mock.h).
// Run the two alternately, several times, and compare.
//
// Usage: consumer_vs_rdkafka kwire|rdkafka join [CONSUMERS]
//        consumer_vs_rdkafka kwire|rdkafka read [RECORDS] [RECORD_SIZE]
// join: CONSUMERS consumers (default 10) subscribe as one group to a topic of
//   as many partitions, one record in each; timed from the first subscribe
//   until every consumer has received a record.
// read: a producer fills a 3-partition topic with RECORDS (default
//   2,000,000) records of RECORD_SIZE (100) bytes, untimed; then one group
//   consumer reads them all, timed from subscribe to the last record
//   (seconds) and from the first record to the last (records_per_sec: the
//   read without the group's join). librdkafka 2.0's mock stops delivering
//   after about 137,000 of 150,000 records (3 partitions), so compare at
//   100,000.
// Prints one JSON object: mock, mode, count, seconds (and records_per_sec).
// librdkafka type-checks producev() arguments with GNU statement
// expressions, which clang -Wpedantic rejects.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/tcp_server.hpp"

namespace {

using steady = std::chrono::steady_clock;

bool set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "consumer_vs_rdkafka: %s=%s: %s\n", key, value.c_str(), err);
    return false;
  }
  return true;
}

rd_kafka_t* make(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (!rk) std::fprintf(stderr, "consumer_vs_rdkafka: %s\n", err);
  return rk;
}

/// One of the two mock clusters, with a topic of `partitions` partitions.
struct mock {
  std::unique_ptr<kwire::mockbroker::cluster> cluster;
  std::unique_ptr<kwire::mockbroker::tcp_server> server;
  rd_kafka_t* host = nullptr;  // librdkafka's mock lives in a client instance
  rd_kafka_mock_cluster_t* rd = nullptr;
  std::string bootstrap;

  bool start(bool kwire_mock, const char* topic, int partitions) {
    if (kwire_mock) {
      kwire::mockbroker::cluster_config config;
      config.retention_bytes = 1LL << 30;
      config.request_log_capacity = 0;
      cluster = std::make_unique<kwire::mockbroker::cluster>(config);
      if (cluster->create_topic(topic, {.partitions = partitions}) != kwire::kafka_error::none)
        return false;
      server = std::make_unique<kwire::mockbroker::tcp_server>(*cluster);
      server->start();
      bootstrap = server->bootstrap_servers();
      return true;
    }
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    if (!set(conf, "log_level", "3")) return false;
    host = make(RD_KAFKA_PRODUCER, conf);
    if (!host) return false;
    rd = rd_kafka_mock_cluster_new(host, 3);
    if (!rd) return false;
    if (rd_kafka_mock_topic_create(rd, topic, partitions, 3) != RD_KAFKA_RESP_ERR_NO_ERROR)
      return false;
    bootstrap = rd_kafka_mock_cluster_bootstraps(rd);
    return true;
  }

  ~mock() {
    if (server) server->stop();
    if (rd) rd_kafka_mock_cluster_destroy(rd);
    if (host) rd_kafka_destroy(host);
  }
};

/// Produces `count` records of `size` bytes, round robin over `partitions`.
bool fill(const std::string& bootstrap, const char* topic, long count, long size, int partitions) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (!set(conf, "bootstrap.servers", bootstrap) || !set(conf, "linger.ms", "5") ||
      !set(conf, "queue.buffering.max.messages", "1000000") || !set(conf, "log_level", "3"))
    return false;
  rd_kafka_t* producer = make(RD_KAFKA_PRODUCER, conf);
  if (!producer) return false;
  const std::string value(static_cast<std::size_t>(size), 'x');
  for (long i = 0; i < count; ++i) {
    while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(i % partitions)),
                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(producer, 1);
    if ((i & 1023) == 0) rd_kafka_poll(producer, 0);
  }
  const bool ok = rd_kafka_flush(producer, 300000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_destroy(producer);
  return ok;
}

rd_kafka_t* group_consumer(const std::string& bootstrap, const char* group, const char* topic) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (!set(conf, "bootstrap.servers", bootstrap) || !set(conf, "group.id", group) ||
      !set(conf, "auto.offset.reset", "earliest") || !set(conf, "enable.auto.commit", "false") ||
      !set(conf, "session.timeout.ms", "6000") || !set(conf, "heartbeat.interval.ms", "100") ||
      !set(conf, "log_level", "3"))
    return nullptr;
  rd_kafka_t* c = make(RD_KAFKA_CONSUMER, conf);
  if (!c) return nullptr;
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(c, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err) {
    std::fprintf(stderr, "consumer_vs_rdkafka: subscribe: %s\n", rd_kafka_err2str(err));
    rd_kafka_destroy(c);
    return nullptr;
  }
  return c;
}

void close_all(std::vector<rd_kafka_t*>& consumers) {
  for (rd_kafka_t* c : consumers) {
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
  }
  consumers.clear();
}

int join(bool kwire_mock, const char* name, int count) {
  mock m;
  if (!m.start(kwire_mock, "join", count) || !fill(m.bootstrap, "join", count, 10, count)) return 1;
  std::vector<rd_kafka_t*> consumers;
  std::vector<bool> received(static_cast<std::size_t>(count), false);
  const auto start = steady::now();
  for (int i = 0; i < count; ++i) {
    rd_kafka_t* c = group_consumer(m.bootstrap, "joiners", "join");
    if (!c) return 1;
    consumers.push_back(c);
  }
  int waiting = count;
  while (waiting > 0 && steady::now() - start < std::chrono::minutes(2)) {
    for (std::size_t i = 0; i < consumers.size(); ++i) {
      rd_kafka_message_t* msg = rd_kafka_consumer_poll(consumers[i], 1);
      if (!msg) continue;
      if (!msg->err && !received[i]) {
        received[i] = true;
        --waiting;
      }
      rd_kafka_message_destroy(msg);
    }
  }
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  close_all(consumers);
  std::printf("{\"mock\":\"%s\",\"mode\":\"join\",\"count\":%d,\"seconds\":%.3f}\n", name, count,
              seconds);
  return waiting == 0 ? 0 : 1;
}

int read(bool kwire_mock, const char* name, long records, long size) {
  mock m;
  if (!m.start(kwire_mock, "read", 3) || !fill(m.bootstrap, "read", records, size, 3)) return 1;
  std::vector<rd_kafka_t*> consumers;
  const auto start = steady::now();
  rd_kafka_t* c = group_consumer(m.bootstrap, "reader", "read");
  if (!c) return 1;
  consumers.push_back(c);
  long got = 0;
  steady::time_point first{};
  while (got < records && steady::now() - start < std::chrono::minutes(5)) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(c, 100);
    if (!msg) continue;
    if (!msg->err && got++ == 0) first = steady::now();
    rd_kafka_message_destroy(msg);
  }
  const auto end = steady::now();
  const double seconds = std::chrono::duration<double>(end - start).count();
  const double reading = std::chrono::duration<double>(end - first).count();
  close_all(consumers);
  std::printf(
      "{\"mock\":\"%s\",\"mode\":\"read\",\"count\":%ld,\"seconds\":%.3f,\"records_per_sec\":%.0f}"
      "\n",
      name, got, seconds, got > 1 ? static_cast<double>(got - 1) / reading : 0.0);
  return got == records ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool known_mock =
      argc >= 3 && (std::strcmp(argv[1], "kwire") == 0 || std::strcmp(argv[1], "rdkafka") == 0);
  const bool known_mode =
      argc >= 3 && (std::strcmp(argv[2], "join") == 0 || std::strcmp(argv[2], "read") == 0);
  if (!known_mock || !known_mode) {
    std::fprintf(stderr,
                 "usage: consumer_vs_rdkafka kwire|rdkafka join [CONSUMERS]\n"
                 "       consumer_vs_rdkafka kwire|rdkafka read [RECORDS] [RECORD_SIZE]\n");
    return 2;
  }
  const bool kwire_mock = std::strcmp(argv[1], "kwire") == 0;
  if (std::strcmp(argv[2], "join") == 0)
    return join(kwire_mock, argv[1], argc > 3 ? std::atoi(argv[3]) : 10);
  return read(kwire_mock, argv[1], argc > 3 ? std::atol(argv[3]) : 2000000,
              argc > 4 ? std::atol(argv[4]) : 100);
}
