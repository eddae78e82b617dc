#include "kwire/producer/config.hpp"

#include <catch2/catch.hpp>

#include "kwire/producer/partitioner.hpp"

using namespace kwire;
using settings = std::map<std::string, std::string>;

namespace {
config_result parse(settings s) {
  if (!s.count("bootstrap.servers")) s["bootstrap.servers"] = "localhost:9092";
  return parse_producer_config(s);
}
}  // namespace

TEST_CASE("config: defaults are Kafka 3.x's") {
  const auto r = parse({});
  REQUIRE(r);
  const producer_config& c = r.config;
  CHECK(c.bootstrap_servers == std::vector<broker_address>{{"localhost", 9092}});
  CHECK(c.client_id.empty());
  CHECK(c.acks == -1);
  CHECK(c.enable_idempotence);
  CHECK(c.linger.count() == 0);
  CHECK(c.batch_size == 16384);
  CHECK(c.buffer_memory == 33554432);
  CHECK(c.max_block.count() == 60000);
  CHECK(c.compression_type == compression::none);
  CHECK(c.retries == 2147483647);
  CHECK(c.retry_backoff.count() == 100);
  CHECK(c.retry_backoff_max.count() == 1000);
  CHECK(c.delivery_timeout.count() == 120000);
  CHECK(c.request_timeout.count() == 30000);
  CHECK(c.max_in_flight_requests_per_connection == 5);
  CHECK(c.max_request_size == 1048576);
  CHECK(c.metadata_max_age.count() == 300000);
  CHECK(c.partitioner == partitioner_kind::sticky);
  CHECK(c.send_buffer_bytes == 131072);
  CHECK(c.receive_buffer_bytes == 32768);
}

TEST_CASE("config: every key accepts a valid value") {
  const auto r = parse({{"bootstrap.servers", "a:1, [::1]:9093"},
                        {"client.id", "me"},
                        {"acks", "1"},
                        {"enable.idempotence", "false"},
                        {"linger.ms", "7"},
                        {"batch.size", "100"},
                        {"buffer.memory", "5000"},
                        {"max.block.ms", "9"},
                        {"compression.type", "zstd"},
                        {"retries", "3"},
                        {"retry.backoff.ms", "11"},
                        {"retry.backoff.max.ms", "12"},
                        {"delivery.timeout.ms", "40000"},
                        {"request.timeout.ms", "2000"},
                        {"max.in.flight.requests.per.connection", "9"},
                        {"max.request.size", "4096"},
                        {"metadata.max.age.ms", "13"},
                        {"partitioner", "round_robin"},
                        {"send.buffer.bytes", "-1"},
                        {"receive.buffer.bytes", "65536"}});
  REQUIRE(r);
  const producer_config& c = r.config;
  CHECK(c.bootstrap_servers == std::vector<broker_address>{{"a", 1}, {"::1", 9093}});
  CHECK(c.client_id == "me");
  CHECK(c.acks == 1);
  CHECK_FALSE(c.enable_idempotence);
  CHECK(c.linger.count() == 7);
  CHECK(c.batch_size == 100);
  CHECK(c.buffer_memory == 5000);
  CHECK(c.max_block.count() == 9);
  CHECK(c.compression_type == compression::zstd);
  CHECK(c.retries == 3);
  CHECK(c.retry_backoff.count() == 11);
  CHECK(c.retry_backoff_max.count() == 12);
  CHECK(c.delivery_timeout.count() == 40000);
  CHECK(c.request_timeout.count() == 2000);
  CHECK(c.max_in_flight_requests_per_connection == 9);
  CHECK(c.max_request_size == 4096);
  CHECK(c.metadata_max_age.count() == 13);
  CHECK(c.partitioner == partitioner_kind::round_robin);
  CHECK(c.send_buffer_bytes == -1);
  CHECK(c.receive_buffer_bytes == 65536);

  CHECK(parse({{"acks", "all"}}).config.acks == -1);
  CHECK(parse({{"acks", "-1"}}).config.acks == -1);
  CHECK(parse({{"acks", "0"}, {"enable.idempotence", "false"}}).config.acks == 0);
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"})
    CHECK(parse({{"compression.type", codec}}));
  CHECK(parse({{"partitioner.class", "org.apache.kafka.clients.producer.RoundRobinPartitioner"}})
            .config.partitioner == partitioner_kind::round_robin);
  CHECK(parse({{"partitioner", "default"}}).config.partitioner == partitioner_kind::sticky);
}

TEST_CASE("config: a bad value names its key and value") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"bootstrap.servers", "nohostport"},
      {"bootstrap.servers", "h:0"},
      {"bootstrap.servers", "h:99999"},
      {"bootstrap.servers", ""},
      {"acks", "2"},
      {"acks", "any"},
      {"enable.idempotence", "yes"},
      {"linger.ms", "-1"},
      {"linger.ms", "5ms"},
      {"batch.size", "-3"},
      {"batch.size", "99999999999"},
      {"buffer.memory", "-1"},
      {"max.block.ms", "x"},
      {"compression.type", "brotli"},
      {"retries", "-1"},
      {"retry.backoff.ms", "-5"},
      {"retry.backoff.max.ms", ""},
      {"delivery.timeout.ms", "-1"},
      {"request.timeout.ms", "1.5"},
      {"max.in.flight.requests.per.connection", "0"},
      {"max.request.size", "-1"},
      {"metadata.max.age.ms", "-1"},
      {"partitioner", "murmur3"},
      {"send.buffer.bytes", "-2"},
      {"receive.buffer.bytes", "abc"},
  };
  for (const auto& [key, value] : bad) {
    INFO(key << "=" << value);
    const auto r = parse({{key, value}});
    REQUIRE_FALSE(r);
    CHECK(r.error->key == key);
    CHECK(r.error->value == value);
    CHECK(r.error->message().find("'" + key + "'") != std::string::npos);
    CHECK(r.error->message().find("'" + value + "'") != std::string::npos);
  }
}

TEST_CASE("config: unknown and missing keys") {
  auto r = parse({{"linger", "5"}});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "linger");
  CHECK(r.error->reason == "unknown configuration key");
  r = parse_producer_config({});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "bootstrap.servers");
}

TEST_CASE("config: cross-key rules as Kafka checks them") {
  // delivery.timeout.ms >= linger.ms + request.timeout.ms
  auto r = parse({{"delivery.timeout.ms", "30000"}, {"linger.ms", "1"}});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "delivery.timeout.ms");
  CHECK(parse({{"delivery.timeout.ms", "30001"}, {"linger.ms", "1"}}));

  // Idempotence given explicitly: conflicts are errors.
  r = parse({{"enable.idempotence", "true"}, {"acks", "1"}});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "acks");
  r = parse({{"enable.idempotence", "true"}, {"max.in.flight.requests.per.connection", "6"}});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "max.in.flight.requests.per.connection");
  r = parse({{"enable.idempotence", "true"}, {"retries", "0"}});
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "retries");
  CHECK(parse({{"enable.idempotence", "true"}, {"max.in.flight.requests.per.connection", "5"}}));

  // Idempotence by default: a conflict turns it off.
  r = parse({{"acks", "1"}});
  REQUIRE(r);
  CHECK_FALSE(r.config.enable_idempotence);
  r = parse({{"max.in.flight.requests.per.connection", "6"}});
  REQUIRE(r);
  CHECK_FALSE(r.config.enable_idempotence);

  // The typed struct goes through the same checks.
  producer_config c;
  c.bootstrap_servers = {{"h", 1}};
  c.partitioner = partitioner_kind::custom;
  r = validate_config(c);
  REQUIRE_FALSE(r);
  CHECK(r.error->key == "partitioner");
}
