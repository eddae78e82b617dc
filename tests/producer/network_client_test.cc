// The network client alone: connections, ApiVersions negotiation, frames and
// correlation ids, in-order answers and request timeouts. A listener records
// what it hands back; the test plays the broker.
#include "kwire/producer/detail/network_client.hpp"

#include <catch2/catch.hpp>

#include <utility>

#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/init_producer_id.hpp"
#include "kwire/protocol/messages/produce.hpp"

using namespace kwire;
using namespace kwire::detail;
using namespace std::chrono_literals;

namespace {

struct recording_listener final : network_listener {
  std::vector<std::int16_t> answered;  // api keys
  int connections_lost = 0;
  std::vector<std::pair<std::int16_t, std::int16_t>> lost;  // api key, why
  void on_response(broker_connection&, in_flight_request& r, const decoded_response&,
                   core_time) override {
    answered.push_back(r.api_key);
  }
  void on_connection_lost(core_time) override { ++connections_lost; }
  void on_request_lost(in_flight_request& r, std::int16_t code, core_time) override {
    lost.emplace_back(r.api_key, code);
  }
};

producer_config test_config() {
  producer_config c;
  c.bootstrap_servers = {{"boot", 9092}};
  return c;
}

template <class Message>
std::vector<std::uint8_t> response_frame(std::int32_t correlation, const Message& body,
                                         std::int16_t version) {
  auto frame = encode_response(correlation, version, body);
  REQUIRE(frame.ok());
  return std::move(frame).value();
}

decoded_request request_of(const outgoing_frame& f) {
  const auto frame = split_frame(f.bytes);
  REQUIRE(frame.state == frame_view::status::frame);
  auto decoded = decode_request(frame.payload);
  REQUIRE(decoded);
  return std::move(*decoded);
}

struct fixture {
  core_context ctx{test_config()};
  recording_listener listener;
  network_client network{ctx, listener};
  const core_time t0 = from_unix_ms(1000000);

  // Connects the bootstrap broker and completes ApiVersions; returns it.
  broker_connection& ready_broker() {
    REQUIRE(network.any_ready_broker(t0) == nullptr);
    REQUIRE(ctx.out.connects.size() == 1);
    network.on_connected(-1, t0);
    REQUIRE(ctx.out.frames.size() == 1);
    const auto request = request_of(ctx.out.frames[0]);
    ctx.out = {};
    api_versions_response r;
    r.api_keys = {{0, 3, 9, {}}, {3, 0, 12, {}}, {18, 0, 3, {}}, {22, 0, 4, {}}};
    network.on_bytes(
        -1, response_frame(request.header.correlation_id, r, request.header.api_version), t0);
    broker_connection* b = network.any_ready_broker(t0);
    REQUIRE(b);
    return *b;
  }
};

}  // namespace

TEST_CASE(
    "network client: ApiVersions first, naming kwire and its version; versions negotiated down") {
  fixture f;
  CHECK(f.network.any_ready_broker(f.t0) == nullptr);
  REQUIRE(f.ctx.out.connects.size() == 1);
  CHECK(f.ctx.out.connects[0].broker_id == -1);
  CHECK(f.ctx.out.connects[0].host == "boot");
  f.ctx.out = {};
  f.network.on_connected(-1, f.t0);
  REQUIRE(f.ctx.out.frames.size() == 1);
  const auto request = request_of(f.ctx.out.frames[0]);
  CHECK(request.header.api_key == api_versions_request::api_key);
  CHECK(request.header.api_version == 3);
  CHECK(request.header.correlation_id == 1);
  CHECK(request.header.client_id == std::optional<std::string>("kwire-producer"));
  const auto* body = request.body.as<api_versions_request>();
  REQUIRE(body);
  CHECK(body->client_software_name == "kwire");
  CHECK(body->client_software_version == client_software_version);
  f.ctx.out = {};
  api_versions_response r;
  r.api_keys = {{0, 3, 7, {}}, {3, 0, 5, {}}, {18, 0, 3, {}}};  // no InitProducerId
  f.network.on_bytes(-1, response_frame(1, r, 3), f.t0);
  broker_connection* b = f.network.find(-1);
  REQUIRE(b);
  CHECK(b->state == conn_state::ready);
  CHECK(b->produce_version == 7);
  CHECK(b->metadata_version == 5);
  CHECK(b->init_pid_version == -1);
  CHECK(f.listener.answered.empty());  // ApiVersions is the client's own business
  CHECK(f.ctx.metrics.requests == 1);
}

TEST_CASE("network client: answers reach the listener; correlation ids rise per request") {
  fixture f;
  broker_connection& b = f.ready_broker();
  f.network.send(b, metadata_request{}, b.metadata_version, f.t0);
  f.network.send(b, init_producer_id_request{}, b.init_pid_version, f.t0);
  REQUIRE(f.ctx.out.frames.size() == 2);
  const auto first = request_of(f.ctx.out.frames[0]);
  const auto second = request_of(f.ctx.out.frames[1]);
  CHECK(second.header.correlation_id == first.header.correlation_id + 1);
  f.network.on_bytes(
      -1,
      response_frame(first.header.correlation_id, metadata_response{}, first.header.api_version),
      f.t0 + 5ms);
  f.network.on_bytes(-1,
                     response_frame(second.header.correlation_id, init_producer_id_response{},
                                    second.header.api_version),
                     f.t0 + 7ms);
  CHECK(f.listener.answered ==
        std::vector<std::int16_t>{metadata_request::api_key, init_producer_id_request::api_key});
  CHECK(f.ctx.metrics.request_latency_max == 7ms);
  CHECK(f.listener.connections_lost == 0);
}

TEST_CASE(
    "network client: an answer that overtakes an older request closes the connection, losing both "
    "in order") {
  fixture f;
  broker_connection& b = f.ready_broker();
  f.network.send(b, metadata_request{}, b.metadata_version, f.t0);
  f.network.send(b, init_producer_id_request{}, b.init_pid_version, f.t0);
  const auto second = request_of(f.ctx.out.frames[1]);
  f.ctx.out = {};
  f.network.on_bytes(-1,
                     response_frame(second.header.correlation_id, init_producer_id_response{},
                                    second.header.api_version),
                     f.t0);
  CHECK(f.ctx.out.disconnects == std::vector<std::int32_t>{-1});
  CHECK(f.listener.answered.empty());
  CHECK(f.listener.connections_lost == 1);
  const auto network_exception = static_cast<std::int16_t>(kafka_error::network_exception);
  CHECK(f.listener.lost == std::vector<std::pair<std::int16_t, std::int16_t>>{
                               {metadata_request::api_key, network_exception},
                               {init_producer_id_request::api_key, network_exception}});
  CHECK(b.state == conn_state::disconnected);
  CHECK(b.reconnect_after == f.t0 + f.ctx.config.retry_backoff);
  CHECK(f.ctx.metrics.errors == 2);
}

TEST_CASE("network client: request.timeout.ms closes the connection with REQUEST_TIMED_OUT") {
  fixture f;
  broker_connection& b = f.ready_broker();
  f.network.send(b, metadata_request{}, b.metadata_version, f.t0);
  f.ctx.out = {};
  f.network.expire_requests(f.t0 + 29999ms);
  CHECK(f.ctx.out.disconnects.empty());
  CHECK(f.ctx.deadline == f.t0 + 30000ms);
  f.network.expire_requests(f.t0 + 30000ms);
  CHECK(f.ctx.out.disconnects == std::vector<std::int32_t>{-1});
  REQUIRE(f.listener.lost.size() == 1);
  CHECK(f.listener.lost[0].second == static_cast<std::int16_t>(kafka_error::request_timed_out));
}

TEST_CASE("network client: bytes that are not a frame close the connection") {
  fixture f;
  broker_connection& b = f.ready_broker();
  f.ctx.out = {};
  const std::vector<std::uint8_t> negative_size{0xff, 0xff, 0xff, 0xff};
  f.network.on_bytes(-1, negative_size, f.t0);
  CHECK(f.ctx.out.disconnects == std::vector<std::int32_t>{-1});
  CHECK(b.state == conn_state::disconnected);
  CHECK(f.listener.connections_lost == 1);
}
