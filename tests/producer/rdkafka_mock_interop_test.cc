// Interop: kwire::producer against a broker no one here wrote, librdkafka's
// own mock cluster (rdkafka_mock.h from librdkafka-dev), 3 brokers over
// loopback. An idempotent acks=all producer sends 20,000 keyed records while
// every partition's leader moves to another broker halfway through; then
// Debian's kcat (a librdkafka consumer) reads the topic back. Every record
// must be there exactly once, at the partition and offset its delivery
// report named, in send order per partition and per key, and none failed.
// No timing assertions.
#include "kwire/producer/producer.hpp"

#include <catch2/catch.hpp>

// librdkafka type-checks producev() arguments with GNU statement
// expressions, which clang -Wpedantic rejects.
#define LIBRDKAFKA_TYPECHECKS 0
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

using namespace kwire;

namespace {

constexpr const char* topic = "payments";
constexpr std::int32_t partitions = 6;
constexpr int brokers = 3;
constexpr int keys = 97;

std::string key_of(int i) { return "card-" + std::to_string(i % keys); }

// librdkafka's mock cluster needs an rd_kafka_t for its book keeping (its
// docs: "The rk instance is required for internal book keeping"); a producer
// handle that never produces owns it. Destroyed in reverse order.
class rdkafka_mock {
 public:
  explicit rdkafka_mock(int broker_count) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    // The owner has no bootstrap.servers: keep its warning about that quiet.
    REQUIRE(rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) == RD_KAFKA_CONF_OK);
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    INFO("rd_kafka_new: " << err);
    REQUIRE(owner_ != nullptr);
    cluster_ = rd_kafka_mock_cluster_new(owner_, broker_count);
    REQUIRE(cluster_ != nullptr);
  }
  ~rdkafka_mock() {
    if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
    if (owner_) rd_kafka_destroy(owner_);
  }
  rdkafka_mock(const rdkafka_mock&) = delete;
  rdkafka_mock& operator=(const rdkafka_mock&) = delete;

  rd_kafka_mock_cluster_t* get() const { return cluster_; }
  std::string bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

void set_leaders(rdkafka_mock& mock, int shift) {
  for (std::int32_t p = 0; p < partitions; ++p) {
    const std::int32_t leader = (p + shift) % brokers + 1;
    INFO("partition " << p << " -> broker " << leader);
    REQUIRE(rd_kafka_mock_partition_set_leader(mock.get(), topic, p, leader) ==
            RD_KAFKA_RESP_ERR_NO_ERROR);
  }
}

struct stored {
  std::int32_t partition = -1;
  std::int64_t offset = -1;
  std::string key;
  int index = -1;  // the value: the record's send index
};

// Reads the whole topic with kcat (Debian's package, librdkafka's consumer):
// one "partition offset key value" line per record.
std::vector<stored> read_with_kcat(const std::string& bootstrap) {
  if (std::system("command -v kcat >/dev/null 2>&1") != 0)
    FAIL("kcat is not installed (Debian package kcat); this test reads the topic back with it");
  const std::string command = "timeout 120 kcat -C -b '" + bootstrap + "' -t " + topic +
                              " -e -q -X log_level=3 -f '%p %o %k %s\\n'";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[65536];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  const int status = pclose(pipe);
  INFO("command: " << command);
  REQUIRE(status == 0);
  std::vector<stored> records;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    stored r;
    fields >> r.partition >> r.offset >> r.key >> r.index;
    INFO("kcat line: " << line);
    REQUIRE(fields);
    records.push_back(std::move(r));
  }
  return records;
}

}  // namespace

// librdkafka 2.0.2's mock answers ApiVersions v3 with UNSUPPORTED_VERSION in
// a body that is neither v3 nor v0 (a raw array count of 1 in a compact-array
// slot, entries without tagged fields, then throttle_time_ms). The producer
// must still fall back to v0, as Java's client and librdkafka do; this test
// first found that it did not.
TEST_CASE(
    "librdkafka's mock cluster: 20,000 keyed records, idempotent, acks=all, every leader moved "
    "halfway",
    "[interop][librdkafka]") {
  rdkafka_mock mock(brokers);
  REQUIRE(rd_kafka_mock_topic_create(mock.get(), topic, partitions, brokers) ==
          RD_KAFKA_RESP_ERR_NO_ERROR);
  set_leaders(mock, 0);
  const std::string bootstrap = mock.bootstrap_servers();

  constexpr int count = 20000;
  std::vector<record_metadata> reported(count);
  std::vector<std::error_code> errors(count);
  std::mutex error_mutex;
  std::map<std::string, int> error_counts;  // message -> count, to show what failed
  producer_metrics metrics;
  {
    producer p({{"bootstrap.servers", bootstrap},
                {"acks", "all"},
                {"enable.idempotence", "true"},
                {"linger.ms", "2"},
                {"batch.size", "4096"},  // many batches, so some are in flight when leaders move
                {"request.timeout.ms", "5000"},
                {"retry.backoff.ms", "20"},
                {"max.block.ms", "20000"}});
    // Metadata first: if the producer cannot talk to the mock at all, stop here
    // rather than let 20,000 sends each wait max.block.ms.
    REQUIRE(p.partitions_for(topic).size() == static_cast<std::size_t>(partitions));
    for (int i = 0; i < count; ++i) {
      // Halfway, with batches still queued and in flight: every partition's
      // leader moves to the next broker. Requests to the old leaders come
      // back NOT_LEADER_OR_FOLLOWER and the producer must find the new ones.
      if (i == count / 2) set_leaders(mock, 1);
      const auto key = key_of(i);
      const auto value = std::to_string(i);
      p.send({topic, std::nullopt, std::nullopt, bytes_of(key), bytes_of(value), {}},
             [&, i](const record_metadata& md, std::error_code ec) {
               reported[static_cast<std::size_t>(i)] = md;
               errors[static_cast<std::size_t>(i)] = ec;
               if (ec) {
                 std::lock_guard lock(error_mutex);
                 ++error_counts[ec.message()];
               }
             });
    }
    p.flush();
    CHECK(p.pending_records() == 0);
    metrics = p.metrics();
    p.close();
  }
  for (const auto& [message, n] : error_counts) UNSCOPED_INFO(n << " records failed: " << message);
  CHECK(error_counts.empty());
  CHECK(metrics.records_sent == static_cast<std::uint64_t>(count));
  CHECK(metrics.records_failed == 0);

  const auto records = read_with_kcat(bootstrap);
  CHECK(records.size() == static_cast<std::size_t>(count));

  std::vector<int> copies(count, 0);
  std::map<std::int32_t, std::vector<const stored*>> by_partition;
  std::size_t foreign = 0;
  std::size_t misplaced = 0;  // not at the partition and offset the delivery report named
  for (const auto& r : records) {
    if (r.index < 0 || r.index >= count || r.key != key_of(r.index)) {
      ++foreign;
      continue;
    }
    const auto i = static_cast<std::size_t>(r.index);
    ++copies[i];
    if (reported[i].partition != r.partition || reported[i].offset != r.offset) ++misplaced;
    by_partition[r.partition].push_back(&r);
  }
  std::size_t missing = 0;
  std::size_t duplicated = 0;
  for (int c : copies) {
    if (c == 0) ++missing;
    if (c > 1) ++duplicated;
  }
  // Per partition, in offset order: offsets 0, 1, 2, ... and send indexes
  // rising (so per key too, as a key always maps to one partition).
  std::size_t gaps = 0;
  std::size_t out_of_order = 0;
  std::map<std::string, std::int32_t> partition_of_key;
  std::size_t keys_on_two_partitions = 0;
  for (auto& [partition, log] : by_partition) {
    std::sort(log.begin(), log.end(),
              [](const stored* a, const stored* b) { return a->offset < b->offset; });
    for (std::size_t k = 0; k < log.size(); ++k) {
      if (log[k]->offset != static_cast<std::int64_t>(k)) ++gaps;
      if (k > 0 && log[k]->index <= log[k - 1]->index) ++out_of_order;
      const auto [it, first] = partition_of_key.emplace(log[k]->key, partition);
      if (!first && it->second != partition) ++keys_on_two_partitions;
    }
  }
  CHECK(by_partition.size() == static_cast<std::size_t>(partitions));
  CHECK(foreign == 0);
  CHECK(missing == 0);
  CHECK(duplicated == 0);
  CHECK(misplaced == 0);
  CHECK(gaps == 0);
  CHECK(out_of_order == 0);
  CHECK(keys_on_two_partitions == 0);
  WARN("kwire producer against librdkafka's mock: "
       << metrics.records_sent << " acknowledged, " << records.size() << " read back by kcat, "
       << metrics.retries << " batches retried, " << metrics.errors << " errors, "
       << metrics.metadata_requests << " metadata requests");
}
