// The producer core against the scripted fake cluster, in virtual time:
// sending, batching and delivery reports when nothing goes wrong on the
// wire (linger, flush, compression, splitting, timeouts, backpressure, abort).
#include "kwire/producer/producer_core.hpp"

#include <catch2/catch.hpp>

#include "fake_cluster.hpp"
#include "kwire/producer/partitioner.hpp"

using namespace kwire;
using namespace kwire::test;
using namespace std::chrono_literals;

TEST_CASE("core: happy path from bootstrap to acknowledgement") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 2};
  CHECK(core.send({"t", 0, std::nullopt, std::nullopt, bytes_of("x"), {}}, 0, f.now).status ==
        send_status::wait_for_metadata);
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto r = f.send("t", "key", "v" + std::to_string(i), i, 0);
    REQUIRE(r.status == send_status::accepted);
    CHECK(r.partition == 0);
  }
  CHECK(core.partition_count("t") == 2);
  CHECK(core.pending_records() == 3);
  f.step();
  CHECK(f.connects.front() == -1);  // bootstrap first, then the leader lazily
  CHECK(f.connected.count(1));
  CHECK_FALSE(f.connected.count(2));
  REQUIRE(f.init_requests.size() == 1);
  CHECK_FALSE(f.init_requests[0].transactional_id);
  CHECK(core.producer_id() == 1000);
  CHECK(core.producer_epoch() == 0);
  REQUIRE(f.produce.size() == 1);
  auto call = f.take();
  CHECK(call.broker == 1);
  CHECK(call.version == 9);  // min(kwire's 11, the broker's 9)
  CHECK(call.acks == -1);
  REQUIRE(call.batches.size() == 1);
  const auto& b = call.batches[0];
  CHECK(b.topic == "t");
  CHECK(b.partition == 0);
  CHECK(b.header.producer_id == 1000);
  CHECK(b.header.producer_epoch == 0);
  CHECK(b.header.base_sequence == 0);
  CHECK(b.values == std::vector<std::string>{"v1", "v2", "v3"});
  f.answer(call, {{0, 42, -1, -1}});
  REQUIRE(f.reports.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(f.reports[i].record_id == i + 1);
    CHECK(f.reports[i].topic == "t");
    CHECK(f.reports[i].partition == 0);
    CHECK(f.reports[i].offset == 42 + static_cast<std::int64_t>(i));
    CHECK_FALSE(f.reports[i].error);
  }
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
  CHECK(core.metrics().records_sent == 3);
  CHECK(core.metrics().batches_sent == 1);
  CHECK(core.metrics().retries == 0);
  CHECK(core.metrics().batch_bytes_max > 0);
  // The next batch continues the sequence.
  send_alone(f, "v4", 4);
  call = f.take();
  CHECK(call.batches[0].header.base_sequence == 3);
}

TEST_CASE("core: log-append time and explicit partitions in reports") {
  producer_config c = test_config();
  c.partitioner = partitioner_kind::round_robin;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1, 1, 1};
  REQUIRE(f.send("t", std::nullopt, "a", 1, 2).partition == 2);
  REQUIRE(f.send("t", std::nullopt, "b", 2, 2).partition == 2);
  REQUIRE(f.send("t", std::nullopt, "c", 3).partition == 0);
  REQUIRE(f.send("t", std::nullopt, "d", 4).partition == 1);
  CHECK(f.send("t", std::nullopt, "e", 5, 3).error ==
        make_error_code(producer_errc::invalid_partition));
  f.step();
  auto call = f.take();
  REQUIRE(call.batches.size() == 3);  // one request, one batch per partition
  f.answer(call, {{0, 10, 777, -1}, {0, 20, 777, -1}, {0, 30, 777, -1}});
  REQUIRE(f.reports.size() == 4);
  for (const auto& r : f.reports) CHECK(r.timestamp == 777);
}

TEST_CASE("core: linger.ms holds a batch, and next_deadline says until when") {
  producer_config c = test_config();
  c.linger = 10ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
  const core_time created = f.now;
  f.step();
  CHECK(f.produce.empty());
  CHECK(core.next_deadline() == created + 10ms);
  f.advance(9ms);
  CHECK(f.produce.empty());
  f.advance(1ms);
  REQUIRE(f.produce.size() == 1);
  CHECK(f.take().batches[0].values == std::vector<std::string>{"a"});
}

TEST_CASE(
    "core: MESSAGE_TOO_LARGE splits a batch in halves, keeping its sequences, down to single "
    "records") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  for (std::uint64_t i = 0; i < 4; ++i)
    REQUIRE(f.send("t", std::nullopt, "r" + std::to_string(i), i, 0).status ==
            send_status::accepted);
  f.step();
  auto whole = f.take();
  REQUIRE(whole.batches[0].values.size() == 4);
  f.answer(whole, {{code(kafka_error::message_too_large)}});
  CHECK(f.reports.empty());
  // The halves go at once (no retry backoff), one at a time like retries.
  REQUIRE(f.produce.size() == 1);
  auto first = f.take();
  CHECK(first.batches[0].values == std::vector<std::string>{"r0", "r1"});
  CHECK(first.batches[0].header.base_sequence == 0);
  CHECK(first.batches[0].header.producer_epoch == 0);
  // Still too large: it splits again.
  f.answer(first, {{code(kafka_error::message_too_large)}});
  std::int32_t sequence = 0;
  for (const std::vector<std::string>& values :
       {std::vector<std::string>{"r0"}, std::vector<std::string>{"r1"},
        std::vector<std::string>{"r2", "r3"}}) {
    REQUIRE(f.produce.size() == 1);
    auto call = f.take();
    CHECK(call.batches[0].values == values);
    CHECK(call.batches[0].header.base_sequence == sequence);
    f.answer(call, {{0, sequence}});
    sequence += static_cast<std::int32_t>(values.size());
  }
  REQUIRE(f.reports.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    CHECK(f.reports[i].record_id == i);
    CHECK(f.reports[i].offset == static_cast<std::int64_t>(i));
    CHECK_FALSE(f.reports[i].error);
  }
  CHECK(core.metrics().batch_splits == 2);
  CHECK(core.metrics().epoch_bumps == 0);
  CHECK(core.buffered_bytes() == 0);
  // A single record that is too large fails.
  REQUIRE(f.send("t", std::nullopt, "big", 9, 0).status == send_status::accepted);
  f.step();
  f.answer(f.take(), {{code(kafka_error::message_too_large)}});
  REQUIRE(f.reports.size() == 5);
  CHECK(f.reports[4].error == kerr(kafka_error::message_too_large));
}

TEST_CASE("core: delivery.timeout.ms fails queued records whose leader is unreachable") {
  producer_config c = test_config();
  c.request_timeout = 1000ms;
  c.delivery_timeout = 5000ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  f.unreachable = {1};
  for (std::uint64_t i = 0; i < 3; ++i)
    REQUIRE(f.send("t", std::nullopt, "x", i, 0).status == send_status::accepted);
  const core_time created = f.now;
  f.step();
  while (f.now + 100ms < created + 5000ms) f.advance(100ms);
  CHECK(f.reports.empty());
  // It kept trying, backing off 100, 200, 400, 800 ms, then every 1000 ms.
  CHECK(f.connects.size() >= 6);
  CHECK(f.connects.size() <= 10);
  f.advance(created + 5000ms - f.now);
  REQUIRE(f.reports.size() == 3);
  for (const auto& r : f.reports)
    CHECK(r.error == make_error_code(producer_errc::delivery_timeout));
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
}

TEST_CASE("core: throttle_time_ms holds further sends to that broker") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  f.answer_ok(f.take(), 500);
  const core_time throttled_at = f.now;
  send_alone(f, "b", 2);
  CHECK(f.produce.empty());
  CHECK(core.next_deadline() == throttled_at + 500ms);
  f.advance(throttled_at + 499ms - f.now);
  CHECK(f.produce.empty());
  f.advance(1ms);
  REQUIRE(f.produce.size() == 1);
}

TEST_CASE("core: acks=0 reports once written, without offsets") {
  producer_config c = test_config();
  c.acks = 0;
  c.enable_idempotence = false;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  send_alone(f, "a", 1);
  REQUIRE(f.acks0_calls.size() == 1);
  CHECK(f.acks0_calls[0].acks == 0);
  CHECK(f.acks0_calls[0].batches[0].header.producer_id == -1);
  REQUIRE(f.reports.size() == 1);
  CHECK_FALSE(f.reports[0].error);
  CHECK(f.reports[0].offset == -1);
  CHECK(f.init_requests.empty());
}

TEST_CASE("core: buffer.memory full asks the shell to wait; too-large records fail") {
  producer_config c = test_config();
  c.buffer_memory = 20000;
  c.max_request_size = 1000;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1, 1};
  REQUIRE(f.send("t", std::nullopt, "a", 1, 0).status == send_status::accepted);
  CHECK(f.send("t", std::nullopt, "b", 2, 1).status == send_status::wait_for_buffer);
  CHECK(f.send("t", std::nullopt, std::string(2000, 'x'), 3, 0).error ==
        make_error_code(producer_errc::record_too_large));
  f.step();
  f.answer_ok(f.take());
  CHECK(f.send("t", std::nullopt, "b", 2, 1).status == send_status::accepted);
}

TEST_CASE("core: flush sends a lingering batch at once") {
  producer_config c = test_config();
  c.linger = 1000ms;
  producer_core core(c);
  fake_cluster f(core);
  f.leaders["t"] = {1};
  REQUIRE(f.send("t", std::nullopt, "a", 1).status == send_status::accepted);
  f.step();
  CHECK(f.produce.empty());
  core.flush();
  f.step();
  REQUIRE(f.produce.size() == 1);
}

TEST_CASE("core: batches are compressed with the configured codec") {
  for (auto codec : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
    producer_config c = test_config();
    c.compression_type = codec;
    c.linger = 5ms;
    producer_core core(c);
    fake_cluster f(core);
    f.leaders["t"] = {1};
    for (std::uint64_t i = 0; i < 20; ++i)
      REQUIRE(f.send("t", std::nullopt, std::string(100, 'z'), i, 0).status ==
              send_status::accepted);
    f.advance(5ms);
    auto call = f.take();
    CHECK(call.batches[0].header.codec() == codec);
    CHECK(call.batches[0].values.size() == 20);
    CHECK(call.batches[0].header.batch_length < 20 * 100);
  }
}

TEST_CASE("core: null keys stick to one partition until its batch is sent") {
  producer_config c = test_config();
  c.linger = 10ms;
  producer_core core(c, core_options{.seed = 7});
  fake_cluster f(core);
  f.leaders["t"] = {1, 1, 1, 1};
  const auto first = f.send("t", std::nullopt, "a", 1).partition;
  for (std::uint64_t i = 2; i <= 5; ++i)
    CHECK(f.send("t", std::nullopt, "x", i).partition == first);
  // Keys still follow murmur2.
  CHECK(f.send("t", "foobar", "k", 6).partition == murmur2_partition(bytes_of("foobar"), 4));
  f.advance(10ms);
  REQUIRE(f.produce.size() == 1);
  const auto second = f.send("t", std::nullopt, "b", 7).partition;
  CHECK(second != first);
}

TEST_CASE("core: abort fails queued and in-flight records and closes connections") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1, 1};
  send_alone(f, "a", 1);  // in flight
  REQUIRE(f.produce.size() == 1);
  REQUIRE(f.send("t", std::nullopt, "b", 2, 1).status == send_status::accepted);  // queued
  core.abort(make_error_code(producer_errc::delivery_timeout));
  f.step();
  REQUIRE(f.reports.size() == 2);
  for (const auto& r : f.reports)
    CHECK(r.error == make_error_code(producer_errc::delivery_timeout));
  CHECK(f.disconnects.size() == 2);  // the bootstrap connection and broker 1
  CHECK(core.pending_records() == 0);
  CHECK(core.buffered_bytes() == 0);
}

TEST_CASE("core: a record without a timestamp is stamped with now in Unix milliseconds") {
  producer_core core(test_config());
  fake_cluster f(core);
  f.leaders["t"] = {1};
  f.now = from_unix_ms(1764720000000);  // 2025-12-03T00:00:00Z
  core.want_metadata("t");
  f.step();
  REQUIRE(core.partition_count("t") == 1);
  REQUIRE(core.send({"t", std::nullopt, std::nullopt, std::nullopt, bytes_of("a"), {}}, 1, f.now)
              .status == send_status::accepted);
  f.step();
  f.answer_ok(f.take());
  REQUIRE(f.reports.size() == 1);
  CHECK(f.reports[0].timestamp == 1764720000000);
}
