// Interop: librdkafka's consumers (written by no one here) in one consumer
// group against the mock over loopback: they join, split the partitions,
// commit; when one leaves, the other takes every partition and resumes
// after the commits. A consumer follows its group's coordinator when it
// moves and rejoins when the group is made to rebalance.
#include <catch2/catch.hpp>

#include "kwire/mockbroker/tcp_server.hpp"

// librdkafka type-checks producev() arguments with GNU statement
// expressions, which clang -Wpedantic rejects.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace {

void set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char err[512];
  REQUIRE(rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
}

void produce(const std::string& bootstrap, int from, int to) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "log_level", "3");
  char err[512];
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  REQUIRE(p != nullptr);
  for (int i = from; i < to; ++i) {
    const std::string value = std::to_string(i);
    REQUIRE(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("orders"),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  REQUIRE(rd_kafka_flush(p, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(p);
}

rd_kafka_t* consumer(const std::string& bootstrap, const std::string& group = "billing") {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "group.id", group);
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.auto.commit", "false");
  set(conf, "session.timeout.ms", "6000");
  set(conf, "heartbeat.interval.ms", "200");
  set(conf, "log_level", "3");
  char err[512];
  rd_kafka_t* c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  REQUIRE(c != nullptr);
  rd_kafka_poll_set_consumer(c);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, "orders", RD_KAFKA_PARTITION_UA);
  REQUIRE(rd_kafka_subscribe(c, topics) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(topics);
  return c;
}

/// Polls the consumers in turn until `want` new values came or 60 s passed.
void consume(std::initializer_list<rd_kafka_t*> consumers, std::set<int>& seen, int& duplicates,
             std::size_t want) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen.size() < want && std::chrono::steady_clock::now() < until) {
    for (rd_kafka_t* c : consumers) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(c, 20);
      if (!m) continue;
      if (!m->err) {
        const int v = std::stoi(std::string(static_cast<const char*>(m->payload), m->len));
        if (!seen.insert(v).second) ++duplicates;
      }
      rd_kafka_message_destroy(m);
    }
  }
}

}  // namespace

TEST_CASE("librdkafka consumers in one group: join, split, commit, leave, resume",
          "[interop][librdkafka]") {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::topic_config topic;
  topic.partitions = 4;
  REQUIRE(cluster.create_topic("orders", topic) == kwire::kafka_error::none);
  kwire::mockbroker::tcp_server server(cluster);
  server.start();
  const std::string bootstrap = server.bootstrap_servers();
  produce(bootstrap, 0, 1000);

  rd_kafka_t* a = consumer(bootstrap);
  rd_kafka_t* b = consumer(bootstrap);
  std::set<int> seen;
  int duplicates = 0;
  consume({a, b}, seen, duplicates, 1000);
  CHECK(seen.size() == 1000);
  // Both in the group, the partitions split between them.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool split = false;
  while (!split && std::chrono::steady_clock::now() < until) {
    rd_kafka_consumer_poll(a, 20);
    rd_kafka_consumer_poll(b, 20);
    split = server.call([](kwire::mockbroker::cluster& c) {
      auto g = c.group("billing");
      return g && g->state == "Stable" && g->members.size() == 2 &&
             !g->members[0].assignment.empty() && !g->members[1].assignment.empty();
    });
  }
  CHECK(split);
  // Each commits the positions of what it read since the split; one of them
  // may have read nothing since (librdkafka: _NO_OFFSET), not both.
  const rd_kafka_resp_err_t ea = rd_kafka_commit(a, nullptr, 0);
  const rd_kafka_resp_err_t eb = rd_kafka_commit(b, nullptr, 0);
  CHECK((ea == RD_KAFKA_RESP_ERR_NO_ERROR || ea == RD_KAFKA_RESP_ERR__NO_OFFSET));
  CHECK((eb == RD_KAFKA_RESP_ERR_NO_ERROR || eb == RD_KAFKA_RESP_ERR__NO_OFFSET));
  CHECK((ea == RD_KAFKA_RESP_ERR_NO_ERROR || eb == RD_KAFKA_RESP_ERR_NO_ERROR));
  // Every committed offset is the end of its partition: all was read.
  const auto committed_at_end = server.call([](kwire::mockbroker::cluster& c) {
    auto g = c.group("billing");
    if (!g || g->offsets.empty()) return false;
    for (const auto& o : g->offsets)
      if (o.offset != c.partition("orders", o.partition)->high_watermark) return false;
    return true;
  });
  CHECK(committed_at_end);

  // b leaves: a takes every partition and reads what comes next, once.
  CHECK(rd_kafka_consumer_close(b) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(b);
  produce(bootstrap, 1000, 1100);
  consume({a}, seen, duplicates, 1100);
  // Nothing is lost; records of a partition that moved before its owner
  // committed may come twice (at least once, as with Kafka).
  CHECK(seen.size() == 1100);
  INFO("records read twice: " << duplicates);
  const auto members = server.call([](kwire::mockbroker::cluster& c) {
    auto g = c.group("billing");
    return g ? g->members.size() : 0;
  });
  CHECK(members == 1);
  rd_kafka_consumer_close(a);
  rd_kafka_destroy(a);
  server.stop();
}

TEST_CASE("A librdkafka consumer follows a coordinator move and a forced rebalance",
          "[interop][librdkafka]") {
  using kwire::mockbroker::cluster;
  cluster mock;
  kwire::mockbroker::topic_config topic;
  topic.partitions = 4;
  REQUIRE(mock.create_topic("orders", topic) == kwire::kafka_error::none);
  kwire::mockbroker::tcp_server server(mock);
  server.start();
  const std::string bootstrap = server.bootstrap_servers();
  produce(bootstrap, 0, 300);

  rd_kafka_t* c = consumer(bootstrap, "ledger");
  std::set<int> seen;
  int duplicates = 0;
  consume({c}, seen, duplicates, 300);
  REQUIRE(seen.size() == 300);
  const auto group = [&] { return server.call([](cluster& m) { return m.group("ledger"); }); };
  const auto before = group();
  REQUIRE(before.has_value());
  const std::int32_t generation = before->generation;

  // The coordinator moves to another broker: the consumer finds it, stays
  // in its generation, reads on and commits there.
  const std::int32_t next = before->coordinator % 3 + 1;
  REQUIRE(server.call([&](cluster& m) { return m.move_group_coordinator("ledger", next); }));
  produce(bootstrap, 300, 600);
  consume({c}, seen, duplicates, 600);
  CHECK(seen.size() == 600);
  CHECK(rd_kafka_commit(c, nullptr, 0) == RD_KAFKA_RESP_ERR_NO_ERROR);
  const auto moved = group();
  REQUIRE(moved.has_value());
  CHECK(moved->coordinator == next);
  CHECK(moved->generation == generation);
  std::int64_t committed = 0;
  for (const auto& o : moved->offsets) committed += o.offset;
  CHECK(committed == 600);  // every partition committed at its end

  // A forced rebalance: the consumer rejoins in the next generation, keeps
  // every partition and reads what comes next.
  REQUIRE(server.call([](cluster& m) { return m.rebalance_group("ledger"); }));
  produce(bootstrap, 600, 900);
  consume({c}, seen, duplicates, 900);
  CHECK(seen.size() == 900);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::optional<kwire::mockbroker::group_info> after;
  while (std::chrono::steady_clock::now() < until) {
    rd_kafka_consumer_poll(c, 20);
    after = group();
    if (after && after->state == "Stable" && after->generation > generation) break;
  }
  REQUIRE(after.has_value());
  CHECK(after->state == "Stable");
  CHECK(after->generation == generation + 1);
  REQUIRE(after->members.size() == 1);
  CHECK_FALSE(after->members[0].assignment.empty());
  INFO("records read twice: " << duplicates);
  rd_kafka_consumer_close(c);
  rd_kafka_destroy(c);
  server.stop();
}
