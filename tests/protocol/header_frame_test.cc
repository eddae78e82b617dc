// Request/response headers, whole-frame decoding and the frame splitter.
#include "kwire/protocol/header.hpp"

#include <catch2/catch.hpp>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/controlled_shutdown.hpp"
#include "kwire/protocol/messages/metadata.hpp"

namespace {
using bytes = std::vector<std::uint8_t>;

template <class Body>
bytes request_frame(std::int16_t key, std::int16_t version, const Body& body,
                    std::int32_t corr = 42) {
  bytes out;
  kwire::writer w(out);
  const auto at = kwire::begin_frame(w);
  kwire::request_header h;
  h.api_key = key;
  h.api_version = version;
  h.correlation_id = corr;
  h.client_id = "kwire-test";
  h.encode(w, kwire::request_header_version(key, version));
  body.encode(w, version);
  kwire::end_frame(w, at);
  REQUIRE(w.ok());
  return out;
}
}  // namespace

TEST_CASE("header versions follow the API's flexible versions", "[header]") {
  using kwire::api_key;
  auto key = [](api_key k) { return static_cast<std::int16_t>(k); };
  CHECK(kwire::request_header_version(key(api_key::metadata), 8) == 1);
  CHECK(kwire::request_header_version(key(api_key::metadata), 9) == 2);
  CHECK(kwire::response_header_version(key(api_key::metadata), 8) == 0);
  CHECK(kwire::response_header_version(key(api_key::metadata), 9) == 1);
  // ApiVersions responses always use header v0 so an old client can read the error.
  CHECK(kwire::request_header_version(key(api_key::api_versions), 3) == 2);
  CHECK(kwire::response_header_version(key(api_key::api_versions), 3) == 0);
  CHECK(kwire::request_header_version(key(api_key::controlled_shutdown), 0) == 0);
  CHECK(kwire::request_header_version(key(api_key::controlled_shutdown), 1) == 1);
}

TEST_CASE("a request frame decodes to its header and typed body", "[header]") {
  kwire::metadata_request body;
  auto& t = body.topics.emplace().emplace_back();
  t.name = "payments";
  const auto frame = request_frame(3, 12, body);
  auto view = kwire::split_frame(frame);
  REQUIRE(view.state == kwire::frame_view::status::frame);
  CHECK(view.consumed == frame.size());
  auto req = kwire::decode_request(view.payload);
  REQUIRE(req.ok());
  CHECK(req->header.api_key == 3);
  CHECK(req->header.api_version == 12);
  CHECK(req->header.correlation_id == 42);
  CHECK(req->header.client_id == "kwire-test");
  CHECK(req->api->name == "Metadata");
  const auto* typed = req->body.as<kwire::metadata_request>();
  REQUIRE(typed != nullptr);
  CHECK(*typed == body);
  CHECK(req->body.as<kwire::metadata_response>() == nullptr);
}

TEST_CASE("bad request frames name what was wrong", "[header][malformed]") {
  kwire::api_versions_request body;
  SECTION("unknown API key") {
    auto frame = request_frame(999, 0, kwire::metadata_request{});
    auto req = kwire::decode_request(std::span(frame).subspan(4));
    REQUIRE_FALSE(req.ok());
    CHECK(req.error().code == kwire::codec_errc::unknown_api);
    CHECK(req.error().detail == "API key 999");
  }
  SECTION("unsupported version") {
    auto frame = request_frame(18, 3, body);
    frame[4 + 3] = 77;  // api_version low byte
    auto req = kwire::decode_request(std::span(frame).subspan(4));
    REQUIRE_FALSE(req.ok());
    CHECK(req.error().code == kwire::codec_errc::unsupported_version);
    CHECK(req.error().message().find("version 77") != std::string::npos);
  }
  SECTION("trailing bytes") {
    auto frame = request_frame(18, 3, body);
    frame.push_back(0);
    auto req = kwire::decode_request(std::span(frame).subspan(4));
    REQUIRE_FALSE(req.ok());
    CHECK(req.error().code == kwire::codec_errc::trailing_bytes);
    CHECK(req.error().offset == frame.size() - 5);
  }
}

TEST_CASE("an ApiVersions response uses header v0 even when flexible", "[header]") {
  kwire::api_versions_response body;
  body.error_code = 35;
  bytes out;
  kwire::writer w(out);
  kwire::response_header h{7, {}};
  h.encode(w, kwire::response_header_version(18, 3));
  body.encode(w, 3);
  CHECK(out.size() == 4 + body.encoded_size(3));
  CHECK(kwire::peek_correlation_id(out) == 7);
  auto resp = kwire::decode_response(out, 18, 3);
  REQUIRE(resp.ok());
  CHECK(resp->body.as<kwire::api_versions_response>()->error_code == 35);
}

TEST_CASE("the frame splitter cuts a stream fed byte by byte", "[frame]") {
  bytes stream;
  for (int i = 0; i < 3; ++i) {
    kwire::api_versions_request body;
    body.client_software_name = std::string(static_cast<std::size_t>(i) * 10, 'x');
    auto f = request_frame(18, 3, body, i);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  kwire::frame_splitter s(1024);
  std::vector<std::int32_t> ids;
  for (auto b : stream) {
    s.feed(std::span(&b, 1));
    while (auto frame = s.next()) {
      auto req = kwire::decode_request(*frame);
      REQUIRE(req.ok());
      ids.push_back(req->header.correlation_id);
    }
  }
  CHECK(ids == std::vector<std::int32_t>{0, 1, 2});
  CHECK(s.buffered() == 0);
  CHECK_FALSE(s.failed());
}

TEST_CASE("the frame splitter refuses oversized and negative frames before buffering them",
          "[frame][malformed]") {
  kwire::frame_splitter s(1000);
  const bytes huge = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
  s.feed(huge);
  CHECK_FALSE(s.next().has_value());
  CHECK(s.failed());
  CHECK(s.error() == kwire::codec_errc::limit_exceeded);
  CHECK(s.error_detail() == "frame of 2147483647 bytes > maximum 1000");

  kwire::frame_splitter n;
  const bytes negative = {0xff, 0xff, 0xff, 0xfe};
  n.feed(negative);
  CHECK_FALSE(n.next().has_value());
  CHECK(n.error() == kwire::codec_errc::negative_length);
}
