// Interop: librdkafka's C producer (librdkafka-dev, written by no one here)
// with enable.idempotence=true against the mock over loopback, while the
// test moves leaders, injects NOT_LEADER_OR_FOLLOWER and drops
// acknowledgements after appending. Reading the partitions back must show
// every message exactly once, in send order per key.
#include "kwire/mockbroker/tcp_server.hpp"

#include <catch2/catch.hpp>

// librdkafka type-checks producev() arguments with GNU statement
// expressions, which clang -Wpedantic rejects.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>

#include "kwire/protocol/messages/produce.hpp"
#include "kwire/protocol/record_batch.hpp"

#include <atomic>
#include <map>
#include <string>

namespace {

struct delivery_counts {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> failed{0};
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* counts = static_cast<delivery_counts*>(opaque);
  if (m->err) {
    if (counts->failed++ == 0) counts->first_error = rd_kafka_err2str(m->err);
  } else {
    ++counts->delivered;
  }
}

void set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char err[512];
  REQUIRE(rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK);
}

}  // namespace

TEST_CASE("librdkafka's idempotent producer through leader moves and lost acknowledgements",
          "[interop][librdkafka]") {
  constexpr int messages = 100000;
  constexpr int partitions = 4;
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::topic_config topic;
  topic.partitions = partitions;
  REQUIRE(cluster.create_topic("payments", topic) == kwire::kafka_error::none);

  using kwire::mockbroker::fault_action;
  using kwire::mockbroker::fault_kind;
  using kwire::mockbroker::fault_rule;
  // The faults fire early (from the 5th, 20th and 35th Produce request on);
  // the leader moves come once 30,000 and 70,000 messages are acknowledged.
  // A lost response to a request sent to a stale leader is a different story: librdkafka 2.0.2 then
  // sends the next batch to the new leader before it has resolved the lost one, any broker answers
  // OUT_OF_ORDER_SEQUENCE_NUMBER, and librdkafka stops with a fatal "sequence desynchronization"
  // error. That is librdkafka's behaviour, not the mock's, so the test keeps the two apart.
  fault_rule not_leader;
  not_leader.match.api_key = 0;
  not_leader.match.nth = 5;
  not_leader.action = fault_action::error(kwire::kafka_error::not_leader_or_follower);
  not_leader.count = 10;
  fault_rule lost_ack;
  lost_ack.match.api_key = 0;
  lost_ack.match.nth = 20;
  lost_ack.action = fault_action::of(fault_kind::append_then_drop);
  lost_ack.count = 2;
  fault_rule error_after_append;
  error_after_append.match.api_key = 0;
  error_after_append.match.nth = 35;
  error_after_append.action =
      fault_action::append_then_error(kwire::kafka_error::request_timed_out);
  error_after_append.count = 3;
  const auto not_leader_id = cluster.add_fault(not_leader);
  const auto lost_ack_id = cluster.add_fault(lost_ack);
  const auto after_append_id = cluster.add_fault(error_after_append);

  kwire::mockbroker::tcp_server server(cluster);
  server.start();

  delivery_counts counts;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", server.bootstrap_servers());
  set(conf, "enable.idempotence", "true");
  set(conf, "acks", "all");
  set(conf, "linger.ms", "5");
  set(conf, "batch.num.messages", "500");  // many requests, so the faults land mid-run
  // A dropped acknowledgement is retried once librdkafka gives up on the
  // request: socket.timeout.ms is its client-side bound.
  set(conf, "request.timeout.ms", "3000");
  set(conf, "socket.timeout.ms", "3000");
  set(conf, "retry.backoff.ms", "20");
  set(conf, "message.timeout.ms", "120000");
  set(conf, "log_level", "3");
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &counts);
  char err[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  REQUIRE(producer != nullptr);

  for (int i = 0; i < messages; ++i) {
    const std::string key = "card-" + std::to_string(i % 1000);
    const std::string value = std::to_string(i);
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("payments"),
                                  RD_KAFKA_V_KEY(key.data(), key.size()),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
           RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 10);
    }
    REQUIRE(e == RD_KAFKA_RESP_ERR_NO_ERROR);
    if (i % 1000 == 0) rd_kafka_poll(producer, 0);
    if (i == 30000 || i == 70000) {
      // Wait until everything sent so far is acknowledged (the producer
      // queues faster than it sends), then move every partition's leader to
      // the next broker, bumping the epochs: the requests that follow go to
      // stale leaders and come back NOT_LEADER_OR_FOLLOWER.
      while (counts.delivered + counts.failed < static_cast<std::uint64_t>(i))
        rd_kafka_poll(producer, 10);
      server.call([&](kwire::mockbroker::cluster& c) {
        for (int p = 0; p < partitions; ++p) {
          const auto info = c.partition("payments", p);
          REQUIRE(info.has_value());
          REQUIRE(c.move_leader("payments", p, info->leader % 3 + 1));
        }
        return 0;
      });
    }
  }
  CHECK(rd_kafka_flush(producer, 120000) == RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(producer);

  INFO("first delivery error: " << counts.first_error);
  CHECK(counts.failed == 0);
  CHECK(counts.delivered == static_cast<std::uint64_t>(messages));

  // Read every partition back: each value once, and in send order per key.
  std::vector<int> seen(messages, 0);
  std::map<std::string, int> last_per_key;
  std::size_t stored = 0, out_of_order = 0;
  server.call([&](kwire::mockbroker::cluster& c) {
    for (int p = 0; p < partitions; ++p) {
      for (const auto& r : c.read("payments", p)) {
        ++stored;
        const int v = std::stoi(r.value_string());
        REQUIRE(v >= 0);
        REQUIRE(v < messages);
        ++seen[static_cast<std::size_t>(v)];
        auto [it, inserted] = last_per_key.try_emplace(r.key_string(), v);
        if (!inserted) {
          if (v < it->second) ++out_of_order;
          it->second = v;
        }
      }
    }
    return 0;
  });
  const auto missing = std::count(seen.begin(), seen.end(), 0);
  const auto duplicated = std::count_if(seen.begin(), seen.end(), [](int n) { return n > 1; });
  if (missing || duplicated || out_of_order || counts.failed) {
    // Print what each Produce request carried and got, to see what went wrong.
    server.call([&](kwire::mockbroker::cluster& c) {
      for (const auto& e : c.request_log()) {
        const auto* req = e.request.as<kwire::produce_request>();
        if (!req) continue;
        std::string line = "seq=" + std::to_string(e.sequence) +
                           " conn=" + std::to_string(e.connection_id) +
                           " b=" + std::to_string(e.broker_id);
        for (const auto& t : req->topic_data)
          for (const auto& p : t.partition_data) {
            auto b = kwire::read_record_batch(p.records.bytes());
            if (b)
              line += " p" + std::to_string(p.index) + ":" +
                      std::to_string(b->header().producer_epoch) + "/" +
                      std::to_string(b->header().base_sequence);
          }
        if (const auto* r = e.response.as<kwire::produce_response>()) {
          for (const auto& t : r->responses)
            for (const auto& p : t.partition_responses)
              line += " ->p" + std::to_string(p.index) + ":e" + std::to_string(p.error_code) + "@" +
                      std::to_string(p.base_offset);
        } else
          line += " (no response)";
        for (const auto& f : e.faults) line += " FAULT" + std::to_string(static_cast<int>(f.kind));
        std::printf("%s\n", line.c_str());
      }
      return 0;
    });
  }
  CHECK(stored == static_cast<std::size_t>(messages));
  CHECK(missing == 0);
  CHECK(duplicated == 0);
  CHECK(out_of_order == 0);
  // The faults really happened.
  server.call([&](kwire::mockbroker::cluster& c) {
    CHECK(c.fired(not_leader_id) == 10);
    CHECK(c.fired(lost_ack_id) == 2);
    CHECK(c.fired(after_append_id) == 3);
    return 0;
  });
  server.stop();
  WARN("librdkafka idempotent producer: "
       << counts.delivered << " delivered, " << stored << " stored, " << missing << " missing, "
       << duplicated << " duplicated, " << out_of_order << " out of order per key");
}
