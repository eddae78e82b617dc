// Whole-frame encoders: the generated typed overloads and the type-erased ones
// over any_message give the same bytes as writing size, header and body by
// hand, for every API and version, and name the message when they fail.
#include "kwire/protocol/frame_encode.hpp"

#include <catch2/catch.hpp>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/controlled_shutdown.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace {
using bytes = std::vector<std::uint8_t>;

// The frame as callers wrote it before the generated encoders existed.
bytes hand_request_frame(const kwire::request_header& h, const kwire::any_message& body) {
  bytes out;
  kwire::writer w(out);
  const auto at = kwire::begin_frame(w);
  h.encode(w, kwire::request_header_version(h.api_key, h.api_version));
  body.encode(w, h.api_version);
  kwire::end_frame(w, at);
  REQUIRE(w.ok());
  return out;
}

bytes hand_response_frame(std::int16_t key, std::int32_t correlation_id, std::int16_t version,
                          const kwire::any_message& body) {
  bytes out;
  kwire::writer w(out);
  const auto at = kwire::begin_frame(w);
  kwire::response_header{correlation_id, {}}.encode(w,
                                                    kwire::response_header_version(key, version));
  body.encode(w, version);
  kwire::end_frame(w, at);
  REQUIRE(w.ok());
  return out;
}
}  // namespace

TEST_CASE("encode_request writes the frame a hand-written encoder wrote, for every API and version",
          "[frame][encode]") {
  for (const auto& api : kwire::all_apis()) {
    for (std::int16_t v = api.min_version; v <= api.max_version; ++v) {
      CAPTURE(api.name, v);
      kwire::request_header h;
      h.api_key = api.key;
      h.api_version = v;
      h.correlation_id = 1000 + v;
      h.client_id = "frame-test";
      const kwire::any_message body(*api.request);
      auto frame = kwire::encode_request(h, body);
      REQUIRE(frame.ok());
      CHECK(*frame == hand_request_frame(h, body));

      const kwire::any_message response(*api.response);
      auto reply = kwire::encode_response(77, v, response);
      REQUIRE(reply.ok());
      CHECK(*reply == hand_response_frame(api.key, 77, v, response));
    }
  }
}

TEST_CASE("a typed encode_request sets the key from the type and round-trips", "[frame][encode]") {
  kwire::metadata_request body;
  body.topics.emplace().emplace_back().name = "payments";
  kwire::request_header h;
  h.api_key = 0;  // wrong on purpose: the type decides
  h.api_version = 12;
  h.correlation_id = 42;
  h.client_id = "kwire-test";
  auto frame = kwire::encode_request(h, body);
  REQUIRE(frame.ok());
  const auto view = kwire::split_frame(*frame);
  REQUIRE(view.state == kwire::frame_view::status::frame);
  CHECK(view.consumed == frame->size());
  auto req = kwire::decode_request(view.payload);
  REQUIRE(req.ok());
  CHECK(req->header.api_key == kwire::metadata_request::api_key);
  CHECK(req->header.api_version == 12);
  CHECK(req->header.correlation_id == 42);
  CHECK(req->header.client_id == "kwire-test");
  CHECK(*req->body.as<kwire::metadata_request>() == body);
}

TEST_CASE("header versions follow the API: ControlledShutdown v0 and ApiVersions responses",
          "[frame][encode]") {
  kwire::request_header h;
  h.api_version = 0;
  h.correlation_id = 9;
  h.client_id = "never written in header v0";
  auto frame = kwire::encode_request(h, kwire::controlled_shutdown_request{});
  REQUIRE(frame.ok());
  // Size, key, version, correlation id, then the body's BrokerId: no client id.
  CHECK(frame->size() == 4 + 8 + 4);

  kwire::api_versions_response body;
  body.error_code = 35;
  auto reply = kwire::encode_response(7, 3, body);
  REQUIRE(reply.ok());
  // Header v0 even though v3 is flexible: nothing between correlation id and ErrorCode.
  CHECK(reply->size() == 4 + 4 + body.encoded_size(3));
  auto resp = kwire::decode_response(std::span(*reply).subspan(4), 18, 3);
  REQUIRE(resp.ok());
  CHECK(resp->header.correlation_id == 7);
  CHECK(resp->body.as<kwire::api_versions_response>()->error_code == 35);
}

TEST_CASE("encoder errors name the message, the field and the offset",
          "[frame][encode][malformed]") {
  SECTION("an unsupported version is refused before anything is written") {
    kwire::request_header h;
    h.api_version = 99;
    auto frame = kwire::encode_request(h, kwire::metadata_request{});
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.error().code == kwire::codec_errc::unsupported_version);
    CHECK(frame.error().context == "MetadataRequest v99");
    CHECK(frame.error().message().find("supported 0-") != std::string::npos);

    auto reply = kwire::encode_response(1, -1, kwire::metadata_response{});
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().context == "MetadataResponse v-1");
  }
  SECTION("a null where the version allows none") {
    kwire::produce_request body;
    body.topic_data.emplace_back().name = "t";
    kwire::request_header h;
    h.api_version = 2;
    h.client_id = "c";
    // v0-2 have no TransactionalId at all: a non-default value there is an error.
    body.transactional_id = "txn";
    auto frame = kwire::encode_request(h, body);
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.error().code == kwire::codec_errc::field_not_in_version);
    CHECK(frame.error().context == "ProduceRequest v2");
    CHECK(frame.error().path == "TransactionalId");
    CHECK(frame.error().message().find("in field TransactionalId") != std::string::npos);
    // The header (size 4, key..correlation 8, client id 2 + 1) came before the body.
    CHECK(frame.error().offset == 4 + 8 + 3);
  }
  SECTION("any_message of the wrong kind, or empty") {
    auto frame = kwire::encode_request({}, kwire::any_message(kwire::metadata_response::ops()));
    REQUIRE_FALSE(frame.ok());
    CHECK(frame.error().code == kwire::codec_errc::wrong_message_kind);
    CHECK(frame.error().context.find("MetadataResponse") == 0);
    auto reply = kwire::encode_response(1, 0, kwire::any_message(kwire::metadata_request::ops()));
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.error().code == kwire::codec_errc::wrong_message_kind);
    auto none = kwire::encode_request({}, kwire::any_message{});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == kwire::codec_errc::wrong_message_kind);
  }
}
