// Test helpers for the HTTP control API: a cluster with its Kafka and HTTP
// fronts on loopback, a blocking HTTP client (Beast) whose answers must be
// JSON, raw socket exchanges, and a blocking Kafka client.
#pragma once

#include <catch2/catch.hpp>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "harness.hpp"
#include "kwire/mockbroker/http_api.hpp"
#include "kwire/mockbroker/http_server.hpp"
#include "kwire/mockbroker/tcp_server.hpp"

namespace kwire::mockbroker::http_testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using kwire::mockbroker::testing::make_batch;
using kwire::mockbroker::testing::produce_of;
using kwire::mockbroker::testing::request_payload;

struct answer {
  unsigned status = 0;
  json::value body;
  std::string raw;
  http::response<http::string_body> response;

  const json::object& object() const { return body.as_object(); }
  std::string error() const {
    return body.is_object() && body.as_object().contains("error")
               ? std::string(body.at("error").as_string())
               : "";
  }
};

// One blocking HTTP/1.1 request on a new connection.
inline answer request(std::uint16_t port, http::verb method, const std::string& target,
                      const std::string& body = "", const std::string& token = "") {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty() || method == http::verb::post || method == http::verb::put) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  answer a;
  http::read(stream, buffer, a.response);
  a.status = a.response.result_int();
  a.raw = a.response.body();
  boost::system::error_code ec;
  a.body = json::parse(a.raw, ec);
  INFO(a.raw);
  REQUIRE(!ec);  // every answer, errors too, is JSON
  return a;
}

// Raw bytes in, the whole answer out (the server closes after a refusal).
inline std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(bytes));
  s.shutdown(tcp::socket::shutdown_send);
  std::string out;
  boost::system::error_code ec;
  std::array<char, 4096> buf{};
  for (;;) {
    const auto n = s.read_some(asio::buffer(buf), ec);
    out.append(buf.data(), n);
    if (ec) break;
  }
  return out;
}

// A blocking Kafka client: size-prefixed frames out, response payloads in.
struct kafka_client {
  asio::io_context io;
  tcp::socket socket{io};
  std::int32_t correlation = 0;

  explicit kafka_client(std::uint16_t port) {
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  template <class Request>
  std::optional<std::vector<std::uint8_t>> exchange(const Request& body, std::int16_t version) {
    const auto payload = request_payload(body, version, ++correlation);
    std::vector<std::uint8_t> frame(4);
    const auto n = static_cast<std::uint32_t>(payload.size());
    frame[0] = static_cast<std::uint8_t>(n >> 24);
    frame[1] = static_cast<std::uint8_t>(n >> 16);
    frame[2] = static_cast<std::uint8_t>(n >> 8);
    frame[3] = static_cast<std::uint8_t>(n);
    frame.insert(frame.end(), payload.begin(), payload.end());
    asio::write(socket, asio::buffer(frame));
    std::array<std::uint8_t, 4> size{};
    boost::system::error_code ec;
    asio::read(socket, asio::buffer(size), ec);
    if (ec) return std::nullopt;
    std::vector<std::uint8_t> response((std::uint32_t{size[0]} << 24) | (size[1] << 16) |
                                       (size[2] << 8) | size[3]);
    asio::read(socket, asio::buffer(response), ec);
    if (ec) return std::nullopt;
    return response;
  }

  // Produces one batch; returns the partition's error code.
  std::int16_t produce(const std::string& topic, std::int32_t partition,
                       std::vector<std::uint8_t> batch) {
    const auto payload = exchange(produce_of(topic, partition, std::move(batch)), 9);
    REQUIRE(payload.has_value());
    auto decoded = kwire::decode_response(*payload, kwire::produce_request::api_key, 9);
    REQUIRE(decoded.ok());
    const auto* body = decoded->body.as<kwire::produce_response>();
    REQUIRE(body != nullptr);
    REQUIRE(body->responses.size() == 1);
    return body->responses[0].partition_responses.at(0).error_code;
  }

  bool api_versions_answered() { return exchange(kwire::api_versions_request{}, 3).has_value(); }
};

inline void create_payments(kwire::mockbroker::cluster& c) {
  kwire::mockbroker::topic_config tc;
  tc.partitions = 3;
  REQUIRE(c.create_topic("payments", tc) == kwire::kafka_error::none);
}

// A cluster of three brokers with topic "payments" (3 partitions), its Kafka
// front and its HTTP front.
struct mock_with_http {
  kwire::mockbroker::cluster cluster;
  kwire::mockbroker::tcp_server kafka;
  kwire::mockbroker::control_api api;
  kwire::mockbroker::http_server web;

  explicit mock_with_http(kwire::mockbroker::http_server_options options = {})
      : kafka(cluster), api(create_payments), web(kafka, api, options) {
    create_payments(cluster);
    kafka.start();
    web.start();
  }
  ~mock_with_http() { web.stop(); }

  std::uint16_t port() const { return web.port(); }
  answer get(const std::string& target) { return request(port(), http::verb::get, target); }
  answer post(const std::string& target, const std::string& body) {
    return request(port(), http::verb::post, target, body);
  }
  answer put(const std::string& target, const std::string& body) {
    return request(port(), http::verb::put, target, body);
  }
  answer del(const std::string& target) { return request(port(), http::verb::delete_, target); }

  json::object partition(const std::string& topic, int p) {
    auto a = get("/topics/" + topic + "/partitions/" + std::to_string(p));
    REQUIRE(a.status == 200);
    return a.object();
  }
};

inline std::vector<std::int64_t> ints(const json::value& v) {
  std::vector<std::int64_t> out;
  for (const auto& x : v.as_array()) out.push_back(x.as_int64());
  return out;
}

}  // namespace kwire::mockbroker::http_testing
