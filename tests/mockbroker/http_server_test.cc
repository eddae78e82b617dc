// The HTTP front itself (http_server.hpp): the WebSocket stream of the
// request log, the bearer token, the body and header limits, bytes that are
// not HTTP, keep-alive.
#include "kwire/mockbroker/http_server.hpp"

#include <catch2/catch.hpp>

#include "http_harness.hpp"

using namespace kwire::mockbroker::http_testing;

TEST_CASE("http: GET /requests/stream streams the request log over a WebSocket", "[http]") {
  mock_with_http m;
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws(io);
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), m.port()));
  ws.handshake("127.0.0.1", "/requests/stream?api=Metadata");

  kafka_client k(m.kafka.port(1));
  REQUIRE(k.api_versions_answered());  // filtered out
  kwire::metadata_request md;
  md.topics = std::vector<kwire::metadata_request::metadata_request_topic>{};
  md.topics->push_back({});
  md.topics->back().name = "payments";
  REQUIRE(k.exchange(md, 12).has_value());

  beast::flat_buffer buffer;
  ws.read(buffer);
  CHECK(ws.got_text());
  const auto entry = json::parse(beast::buffers_to_string(buffer.data()));
  CHECK(entry.at("api").as_string() == "Metadata");
  CHECK(entry.at("broker").as_int64() == 1);
  CHECK(entry.at("correlation_id").as_int64() == k.correlation);
  CHECK(entry.at("request").at("Topics").as_array()[0].at("Name").as_string() == "payments");

  // After a reset the stream goes on with the new cluster's log.
  REQUIRE(m.post("/reset", "").status == 200);
  kafka_client k2(m.kafka.port(2));
  REQUIRE(k2.exchange(md, 12).has_value());
  buffer.clear();
  ws.read(buffer);
  const auto after = json::parse(beast::buffers_to_string(buffer.data()));
  CHECK(after.at("api").as_string() == "Metadata");
  CHECK(after.at("broker").as_int64() == 2);
  ws.close(websocket::close_code::normal);

  SECTION("a bad filter or a plain GET is refused") {
    websocket::stream<beast::tcp_stream> bad(io);
    beast::get_lowest_layer(bad).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), m.port()));
    websocket::response_type res;
    boost::system::error_code ec;
    bad.handshake(res, "127.0.0.1", "/requests/stream?api=Nope", ec);
    CHECK(ec);
    CHECK(res.result_int() == 400);
    auto a = m.get("/requests/stream");
    CHECK(a.status == 426);
  }
}

TEST_CASE("http: a bearer token guards every request", "[http]") {
  kwire::mockbroker::http_server_options options;
  options.token = "s3cret";
  mock_with_http m(options);
  auto a = request(m.port(), http::verb::get, "/cluster");
  CHECK(a.status == 401);
  CHECK(a.response[http::field::www_authenticate] == "Bearer");
  CHECK(a.error().rfind("missing or wrong bearer token", 0) == 0);
  CHECK(request(m.port(), http::verb::get, "/cluster", "", "wrong!").status == 401);
  CHECK(request(m.port(), http::verb::get, "/cluster", "", "s3cret").status == 200);
  CHECK(request(m.port(), http::verb::post, "/reset", "", "s3cre").status == 401);

  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws(io);
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), m.port()));
  websocket::response_type res;
  boost::system::error_code ec;
  ws.handshake(res, "127.0.0.1", "/requests/stream", ec);
  CHECK(ec);
  CHECK(res.result_int() == 401);
}

TEST_CASE("http: oversized bodies, oversized headers and bytes that are not HTTP", "[http]") {
  kwire::mockbroker::http_server_options options;
  options.max_body_size = 4096;
  mock_with_http m(options);
  auto a = m.post("/faults", std::string(5000, ' '));
  CHECK(a.status == 413);
  CHECK(a.error() == "request body above 4096 bytes");

  auto raw = raw_exchange(m.port(), "HELLO KAFKA\r\n\r\n");
  CHECK(raw.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(raw.find("malformed HTTP request") != std::string::npos);
  raw = raw_exchange(m.port(),
                     "GET /cluster HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  CHECK(raw.rfind("HTTP/1.1 431", 0) == 0);
  raw = raw_exchange(m.port(), std::string("\0\0\0\x10\xff\xfe", 6));
  CHECK(raw.rfind("HTTP/1.1 400", 0) == 0);

  // A client that waits for 100 Continue (as curl does for bodies above 1 KiB) gets it.
  const std::string body = R"({"api": "Fetch", "delay_ms": 1})";
  raw = raw_exchange(
      m.port(), "POST /faults HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body);
  CHECK(raw.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created", 0) == 0);

  // A body that is not UTF-8 gets a JSON error that is.
  a = m.post("/topics", "{\"name\": \"\xff\"}");
  CHECK(a.status == 400);

  // Both fronts still serve.
  CHECK(m.get("/cluster").status == 200);
  kafka_client k(m.kafka.port(1));
  CHECK(k.api_versions_answered());
}

TEST_CASE("http: keep-alive connections serve several requests", "[http]") {
  mock_with_http m;
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), m.port()));
  beast::flat_buffer buffer;
  for (int i = 0; i < 3; ++i) {
    http::request<http::string_body> req{http::verb::get, "/brokers/" + std::to_string(i + 1), 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    CHECK(res.result_int() == 200);
    CHECK(json::parse(res.body()).at("id").as_int64() == i + 1);
  }
}
