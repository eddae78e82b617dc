// The TCP front over real loopback sockets: requests in, responses out in
// request order, bad bytes closing one connection while the others go on.
#include "kwire/mockbroker/tcp_server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <boost/asio.hpp>
#include <functional>
#include <mutex>
#include <thread>

#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/fetch.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using bytes = std::vector<std::uint8_t>;

// A blocking client: one socket, frames out, frames in.
struct client {
  asio::io_context io;
  tcp::socket socket{io};

  explicit client(std::uint16_t port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  template <class Body>
  void send(const Body& body, std::int16_t version, std::int32_t correlation_id) {
    auto frame = kwire::encode_request(
        {Body::api_key, version, correlation_id, std::string("tcp-test"), {}}, body);
    REQUIRE(frame.ok());
    asio::write(socket, asio::buffer(frame.value()));
  }

  void send_raw(const bytes& b) { asio::write(socket, asio::buffer(b)); }

  // The next response frame's payload; empty when the server closed the connection.
  std::optional<bytes> receive() {
    std::array<std::uint8_t, 4> size_bytes{};
    boost::system::error_code ec;
    asio::read(socket, asio::buffer(size_bytes), ec);
    if (ec) return std::nullopt;
    const std::uint32_t size = (std::uint32_t{size_bytes[0]} << 24) | (size_bytes[1] << 16) |
                               (size_bytes[2] << 8) | size_bytes[3];
    bytes payload(size);
    asio::read(socket, asio::buffer(payload), ec);
    if (ec) return std::nullopt;
    return payload;
  }
};

// The server's log lines, gathered from its I/O thread.
struct log_lines {
  std::mutex mutex;
  std::vector<std::string> lines;

  std::function<void(std::string_view)> sink() {
    return [this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    };
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return lines.size();
  }
  bool has(std::string_view text) {
    std::lock_guard lock(mutex);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
};

}  // namespace

TEST_CASE("the TCP front answers real socket requests", "[tcp]") {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::tcp_server server(cluster);
  server.start();
  const auto bootstrap = server.bootstrap_servers();
  CHECK(std::count(bootstrap.begin(), bootstrap.end(), ',') == 2);

  client c(server.port(1));
  c.send(kwire::api_versions_request{}, 3, 7);
  auto payload = c.receive();
  REQUIRE(payload.has_value());
  auto resp = kwire::decode_response(*payload, 18, 3);
  REQUIRE(resp.ok());
  CHECK(resp->header.correlation_id == 7);
  const auto* versions = resp->body.as<kwire::api_versions_response>();
  REQUIRE(versions != nullptr);
  CHECK(versions->error_code == 0);
  CHECK(versions->api_keys.size() >= 10);

  // Metadata advertises the ports the listeners really got.
  kwire::metadata_request md;
  c.send(md, 12, 8);
  payload = c.receive();
  REQUIRE(payload.has_value());
  auto md_resp = kwire::decode_response(*payload, 3, 12);
  REQUIRE(md_resp.ok());
  const auto* m = md_resp->body.as<kwire::metadata_response>();
  REQUIRE(m->brokers.size() == 3);
  for (const auto& b : m->brokers) CHECK(b.port == server.port(b.node_id));
  server.stop();
}

TEST_CASE("a delayed response holds back later ones on its connection only", "[tcp]") {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::tcp_server server(cluster);
  kwire::mockbroker::fault_rule slow;
  slow.match.api_key = 3;  // Metadata
  slow.action = kwire::mockbroker::fault_action::delayed(std::chrono::milliseconds(300));
  slow.count = 1;
  server.call([&](kwire::mockbroker::cluster& c) { return c.add_fault(slow); });
  server.start();

  client a(server.port(1));
  a.send(kwire::metadata_request{}, 12, 1);     // delayed
  a.send(kwire::api_versions_request{}, 3, 2);  // must still come second
  client b(server.port(1));
  b.send(kwire::api_versions_request{}, 3, 3);  // another connection: not held back
  auto first_b = b.receive();
  REQUIRE(first_b.has_value());
  CHECK(kwire::peek_correlation_id(*first_b) == 3);
  auto first_a = a.receive();
  auto second_a = a.receive();
  REQUIRE(first_a.has_value());
  REQUIRE(second_a.has_value());
  CHECK(kwire::peek_correlation_id(*first_a) == 1);
  CHECK(kwire::peek_correlation_id(*second_a) == 2);
  CHECK(server.call([](kwire::mockbroker::cluster& c) { return c.faults().front().fired; }) == 1);
  server.stop();
}

TEST_CASE("bad bytes close one connection and the server serves on", "[tcp][malformed]") {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::tcp_server_options options;
  options.max_frame_size = 1 << 20;
  log_lines log;
  options.log = log.sink();
  kwire::mockbroker::tcp_server server(cluster, options);
  server.start();

  SECTION("a 2 GiB size prefix") {
    client bad(server.port(2));
    bad.send_raw({0x7f, 0xff, 0xff, 0xff, 1, 2, 3});
    CHECK_FALSE(bad.receive().has_value());
  }
  SECTION("garbage that is a frame but not a request") {
    client bad(server.port(2));
    bad.send_raw({0, 0, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0x00});
    CHECK_FALSE(bad.receive().has_value());
  }
  SECTION("a truncated frame, then the client goes away") {
    {
      client bad(server.port(2));
      bad.send_raw({0, 0, 0, 50, 0, 18, 0, 3});
    }
  }
  client good(server.port(2));
  good.send(kwire::api_versions_request{}, 3, 99);
  auto payload = good.receive();
  REQUIRE(payload.has_value());
  CHECK(kwire::peek_correlation_id(*payload) == 99);
  server.stop();
  const auto stats = server.statistics();
  CHECK(stats.accepted == 2);
  REQUIRE(log.count() > 0);
}

TEST_CASE("the TCP front hands the core wall-clock milliseconds: LogAppendTime stamps them",
          "[tcp]") {
  kwire::mockbroker::cluster cluster;
  REQUIRE(cluster.create_topic("stamped", {.partitions = 1, .log_append_time = true}) ==
          kwire::kafka_error::none);
  kwire::mockbroker::tcp_server server(cluster);
  server.start();
  const auto leader =
      server.call([](kwire::mockbroker::cluster& c) { return c.partition("stamped", 0)->leader; });
  client c(server.port(leader));

  kwire::record_batch_builder builder;
  REQUIRE_FALSE(
      builder.append(5, kwire::bytes_of("k"), kwire::bytes_of("v")));  // create time 5 ms: replaced
  auto batch = builder.finish();
  REQUIRE(batch.ok());
  kwire::produce_request req;
  req.acks = 1;
  req.timeout_ms = 1000;
  kwire::produce_request::partition_produce_data pd;
  pd.index = 0;
  pd.records = kwire::record_set(std::move(batch).value());
  req.topic_data.push_back({"stamped", {std::move(pd)}, {}});

  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const std::int64_t before = wall_ms();
  c.send(req, 9, 1);
  auto payload = c.receive();
  const std::int64_t after = wall_ms();
  REQUIRE(payload.has_value());
  auto resp = kwire::decode_response(*payload, 0, 9);
  REQUIRE(resp.ok());
  const auto& pr =
      resp->body.as<kwire::produce_response>()->responses.at(0).partition_responses.at(0);
  CHECK(pr.error_code == 0);
  // The steady_core_clock starts at the wall clock when the server is made;
  // a second of slack covers a wall clock that steps while the test runs.
  CHECK(pr.log_append_time_ms >= before - 1000);
  CHECK(pr.log_append_time_ms <= after + 1000);
  const auto stored =
      server.call([](kwire::mockbroker::cluster& cl) { return cl.read("stamped", 0); });
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].timestamp == pr.log_append_time_ms);
  server.stop();
}

TEST_CASE("a waiting fetch is answered when a produce on another connection appends", "[tcp]") {
  kwire::mockbroker::cluster cluster;
  REQUIRE(cluster.create_topic("wake", {.partitions = 1}) == kwire::kafka_error::none);
  kwire::mockbroker::tcp_server server(cluster);
  server.start();
  const auto leader =
      server.call([](kwire::mockbroker::cluster& c) { return c.partition("wake", 0)->leader; });
  client consumer(server.port(leader));
  client producer(server.port(leader));

  // A fetch that would wait a minute, and an ApiVersions behind it on the
  // same connection, which must come after it.
  kwire::fetch_request fetch;
  fetch.max_wait_ms = 60'000;
  fetch.min_bytes = 1;
  fetch.max_bytes = 1 << 20;
  fetch.topics.push_back({"wake", {}, {{0, -1, 0, -1, -1, 1 << 20, {}, {}}}, {}});
  consumer.send(fetch, 11, 1);
  consumer.send(kwire::api_versions_request{}, 3, 2);
  // Parked in the core before the produce goes out.
  while (server.call([](kwire::mockbroker::cluster& c) { return c.next_timer(); }) == std::nullopt)
    std::this_thread::yield();

  kwire::record_batch_builder builder;
  REQUIRE_FALSE(builder.append(5, kwire::bytes_of("k"), kwire::bytes_of("woken")));
  auto batch = builder.finish();
  REQUIRE(batch.ok());
  kwire::produce_request req;
  req.acks = 1;
  req.timeout_ms = 1000;
  kwire::produce_request::partition_produce_data pd;
  pd.index = 0;
  pd.records = kwire::record_set(std::move(batch).value());
  req.topic_data.push_back({"wake", {std::move(pd)}, {}});
  producer.send(req, 9, 3);
  REQUIRE(producer.receive().has_value());

  // The receive would block for the minute if the append did not wake the fetch.
  auto first = consumer.receive();
  REQUIRE(first.has_value());
  CHECK(kwire::peek_correlation_id(*first) == 1);
  auto resp = kwire::decode_response(*first, 1, 11);
  REQUIRE(resp.ok());
  const auto& part = resp->body.as<kwire::fetch_response>()->responses.at(0).partitions.at(0);
  CHECK(part.error_code == 0);
  CHECK(part.high_watermark == 1);
  auto second = consumer.receive();
  REQUIRE(second.has_value());
  CHECK(kwire::peek_correlation_id(*second) == 2);
  server.stop();
}

TEST_CASE("connections.max.idle.ms closes a connection stalled in the middle of a frame", "[tcp]") {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::tcp_server_options options;
  options.idle_timeout = std::chrono::milliseconds(300);
  log_lines log;
  options.log = log.sink();
  kwire::mockbroker::tcp_server server(cluster, options);
  server.start();
  client stalled(server.port(1));
  stalled.send_raw({0, 0, 0, 50, 0, 18, 0, 3});  // 8 of 54 bytes, then nothing
  // The server closes it: the read sees the end, it does not block forever.
  CHECK_FALSE(stalled.receive().has_value());
  server.stop();
  CHECK(log.has("idle for 300 ms (connections.max.idle.ms), 8 bytes of a frame unfinished"));
}

TEST_CASE("max.connections: past the limit a new connection is closed and logged", "[tcp]") {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::tcp_server_options options;
  options.max_connections_per_broker = 2;
  log_lines log;
  options.log = log.sink();
  kwire::mockbroker::tcp_server server(cluster, options);
  server.start();
  client a(server.port(1)), b(server.port(1));
  a.send(kwire::api_versions_request{}, 3, 1);
  b.send(kwire::api_versions_request{}, 3, 2);
  REQUIRE(a.receive().has_value());
  REQUIRE(b.receive().has_value());
  client third(server.port(1));
  third.send_raw({0, 0, 0, 1});
  CHECK_FALSE(third.receive().has_value());
  client other_broker(server.port(2));  // the limit is per broker
  other_broker.send(kwire::api_versions_request{}, 3, 3);
  CHECK(other_broker.receive().has_value());
  server.stop();
  CHECK(log.has("broker 1 refused a connection: 2 open (max.connections)"));
}
