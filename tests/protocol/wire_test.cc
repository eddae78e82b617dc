// Wire primitives and malformed input: every error is clear (code, offset,
// field path) and nothing is allocated from a length the input cannot back.
#include "kwire/protocol/wire.hpp"

#include <catch2/catch.hpp>

#include <limits>

#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace {
using bytes = std::vector<std::uint8_t>;

template <class F>
bytes written(F&& f) {
  bytes out;
  kwire::writer w(out);
  f(w);
  REQUIRE(w.ok());
  return out;
}
}  // namespace

TEST_CASE("fixed-width integers are big-endian", "[wire]") {
  auto b = written([](kwire::writer& w) {
    w.write_int16(0x0102);
    w.write_int32(-2);
    w.write_int64(0x0102030405060708LL);
    w.write_uint16(0xfffe);
    w.write_uint32(0x80000001u);
    w.write_float64(1.5);
    w.write_bool(true);
  });
  const bytes expected = {0x01, 0x02, 0xff, 0xff, 0xff, 0xfe, 1,    2, 3, 4, 5, 6, 7, 8, 0xff,
                          0xfe, 0x80, 0,    0,    1,    0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 1};
  CHECK(b == expected);
  kwire::reader r(b);
  CHECK(r.read_int16() == 0x0102);
  CHECK(r.read_int32() == -2);
  CHECK(r.read_int64() == 0x0102030405060708LL);
  CHECK(r.read_uint16() == 0xfffe);
  CHECK(r.read_uint32() == 0x80000001u);
  CHECK(r.read_float64() == 1.5);
  CHECK(r.read_bool());
  CHECK(r.ok());
  CHECK(r.remaining() == 0);
}

TEST_CASE("varints match Kafka's encodings", "[wire]") {
  CHECK(written([](auto& w) { w.write_uvarint(0); }) == bytes{0x00});
  CHECK(written([](auto& w) { w.write_uvarint(300); }) == bytes{0xac, 0x02});
  CHECK(written([](auto& w) { w.write_varint(-1); }) == bytes{0x01});
  CHECK(written([](auto& w) { w.write_varint(1); }) == bytes{0x02});
  CHECK(written([](auto& w) { w.write_varint(-64); }) == bytes{0x7f});
  CHECK(written([](auto& w) { w.write_varint(64); }) == bytes{0x80, 0x01});
  CHECK(written([](auto& w) { w.write_uvarint(0xffffffffu); }) ==
        bytes{0xff, 0xff, 0xff, 0xff, 0x0f});

  for (std::int64_t v :
       {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}, std::int64_t{0},
        std::int64_t{1} << 40, std::numeric_limits<std::int64_t>::max()}) {
    auto b = written([&](auto& w) { w.write_varlong(v); });
    CHECK(b.size() == kwire::wire_size::varlong(v));
    kwire::reader r(b);
    CHECK(r.read_varlong() == v);
    CHECK(r.remaining() == 0);
  }
  for (std::int32_t v : {std::numeric_limits<std::int32_t>::min(), -300, 0, 300,
                         std::numeric_limits<std::int32_t>::max()}) {
    auto b = written([&](auto& w) { w.write_varint(v); });
    CHECK(b.size() == kwire::wire_size::varint(v));
    kwire::reader r(b);
    CHECK(r.read_varint() == v);
  }
}

TEST_CASE("over-long and truncated varints are rejected", "[wire][malformed]") {
  const bytes too_long = {0xff, 0xff, 0xff, 0xff, 0x7f};  // a sixth group of bits for uint32
  kwire::reader r(too_long);
  r.read_uvarint();
  CHECK_FALSE(r.ok());
  CHECK(r.error().code == kwire::codec_errc::varint_too_long);
  CHECK(r.error().offset == 0);

  const bytes eleven(11, 0x80);
  kwire::reader r2(eleven);
  r2.read_uvarlong();
  CHECK(r2.error().code == kwire::codec_errc::varint_too_long);

  const bytes cut = {0x80, 0x80};
  kwire::reader r3(cut);
  r3.read_varint();
  CHECK(r3.error().code == kwire::codec_errc::truncated);
}

TEST_CASE("strings and bytes in classic and compact forms", "[wire]") {
  auto b = written([](auto& w) {
    w.write_string("kafka", false);
    w.write_string("kafka", true);
    w.write_nullable_string(std::nullopt, false);
    w.write_nullable_string(std::nullopt, true);
    w.write_bytes(bytes{1, 2}, false);
    w.write_nullable_bytes(std::nullopt, true);
  });
  const bytes expected = {0,   5,    'k',  'a', 'f', 'k', 'a', 6, 'k', 'a', 'f', 'k',
                          'a', 0xff, 0xff, 0,   0,   0,   0,   2, 1,   2,   0};
  CHECK(b == expected);
  kwire::reader r(b);
  CHECK(r.read_string(false) == "kafka");
  CHECK(r.read_string(true) == "kafka");
  CHECK_FALSE(r.read_nullable_string(false).has_value());
  CHECK_FALSE(r.read_nullable_string(true).has_value());
  CHECK(r.read_bytes(false) == bytes{1, 2});
  CHECK_FALSE(r.read_nullable_bytes(true).has_value());
  CHECK(r.ok());
}

TEST_CASE("lengths are checked against the remaining input before allocating",
          "[wire][malformed]") {
  SECTION("a string longer than the input") {
    const bytes b = {0x7f, 0xff, 'a'};
    kwire::reader r(b);
    r.read_string(false);
    CHECK(r.error().code == kwire::codec_errc::length_exceeds_input);
    CHECK(r.error().offset == 0);
    CHECK(r.error().detail.find("32767") != std::string::npos);
  }
  SECTION("bytes claiming 2 GiB") {
    const bytes b = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    kwire::reader r(b);
    r.read_bytes(false);
    CHECK(r.error().code == kwire::codec_errc::length_exceeds_input);
  }
  SECTION("a negative length other than -1") {
    const bytes b = {0xff, 0xfe};
    kwire::reader r(b);
    r.read_nullable_string(false);
    CHECK(r.error().code == kwire::codec_errc::negative_length);
  }
  SECTION("null where the field is not nullable") {
    const bytes b = {0xff, 0xff};
    kwire::reader r(b);
    r.read_string(false);
    CHECK(r.error().code == kwire::codec_errc::null_not_allowed);
  }
  SECTION("an array count of two billion with a few bytes behind it") {
    const bytes b = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1};
    kwire::reader r(b);
    CHECK(r.read_array_length(false, false, 4) == 0);
    CHECK(r.error().code == kwire::codec_errc::limit_exceeded);
  }
  SECTION("an array count within limits but beyond the input") {
    const bytes b = {0x00, 0x00, 0x10, 0x00, 0, 0, 0, 1};
    kwire::reader r(b);
    r.read_array_length(false, false, 4);
    CHECK(r.error().code == kwire::codec_errc::length_exceeds_input);
  }
}

TEST_CASE("a decode error names the message, the field path and the byte offset",
          "[codec][malformed]") {
  kwire::produce_request req;
  req.acks = -1;
  req.timeout_ms = 30000;
  auto& topic = req.topic_data.emplace_back();
  topic.name = "payments";
  auto& part = topic.partition_data.emplace_back();
  part.index = 3;
  part.records = kwire::record_set(bytes(40, 0xab));
  bytes b;
  kwire::writer w(b);
  req.encode(w, 9);
  REQUIRE(w.ok());

  // Make the records length claim more than there is. In v9 the layout is:
  // transactional id (1), acks (2), timeout (4), topics count (1), name (1+8),
  // partitions count (1), index (4), then the records length varint.
  const std::size_t records_len_at = 1 + 2 + 4 + 1 + 9 + 1 + 4;
  REQUIRE(b[records_len_at] == 41);
  b[records_len_at] = 0x7f;
  kwire::reader r(b);
  auto res = kwire::produce_request::decode(r, 9);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == kwire::codec_errc::length_exceeds_input);
  CHECK(res.error().path == "TopicData[0].PartitionData[0].Records");
  CHECK(res.error().offset == records_len_at);
  CHECK(res.error().context == "ProduceRequest v9");
  const auto text = res.error().message();
  CHECK(text.find("ProduceRequest v9") != std::string::npos);
  CHECK(text.find("TopicData[0].PartitionData[0].Records") != std::string::npos);
  CHECK(text.find("offset 22") != std::string::npos);
}

TEST_CASE("unsupported versions fail in both directions", "[codec][malformed]") {
  kwire::metadata_request req;
  bytes b;
  kwire::writer w(b);
  req.encode(w, 99);
  CHECK(w.error() == kwire::codec_errc::unsupported_version);

  const bytes empty;
  kwire::reader r(empty);
  auto res = kwire::metadata_request::decode(r, -1);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == kwire::codec_errc::unsupported_version);
}

TEST_CASE("a non-default value in a field the version lacks is an encode error", "[codec]") {
  kwire::produce_request req;
  req.transactional_id = "txn-1";  // exists from v3
  bytes b;
  kwire::writer w(b);
  req.encode(w, 2);
  CHECK(w.error() == kwire::codec_errc::field_not_in_version);
  CHECK(w.error_detail() == "TransactionalId");

  // Ignorable fields are silently dropped, as in Kafka.
  kwire::produce_response resp;
  resp.throttle_time_ms = 100;  // ignorable, from v1
  bytes b2;
  kwire::writer w2(b2);
  resp.encode(w2, 0);
  CHECK(w2.ok());
}

TEST_CASE("unknown tagged fields survive decode and re-encode", "[codec][tagged]") {
  // ApiVersionsRequest v3: client software name and version, then the tagged section.
  kwire::api_versions_request req;
  req.client_software_name = "kwire";
  req.client_software_version = "0.1";
  req.unknown_tags.push_back({7, {1, 2, 3}});
  req.unknown_tags.push_back({1000, {}});
  bytes b;
  kwire::writer w(b);
  req.encode(w, 3);
  REQUIRE(w.ok());
  CHECK(req.encoded_size(3) == b.size());

  kwire::reader r(b);
  auto back = kwire::api_versions_request::decode(r, 3);
  REQUIRE(back.ok());
  REQUIRE(back->unknown_tags.size() == 2);
  CHECK(back->unknown_tags[0].tag == 7);
  CHECK(back->unknown_tags[0].data == bytes{1, 2, 3});
  CHECK(back->unknown_tags[1].tag == 1000);
  bytes again;
  kwire::writer w2(again);
  back->encode(w2, 3);
  CHECK(again == b);
}

TEST_CASE("tagged fields out of order are rejected", "[codec][tagged][malformed]") {
  // ApiVersionsRequest v3 with empty strings and two tags, 5 then 2.
  const bytes b = {1, 1, 2, 5, 0, 2, 0};
  kwire::reader r(b);
  auto res = kwire::api_versions_request::decode(r, 3);
  REQUIRE_FALSE(res.ok());
  CHECK(res.error().code == kwire::codec_errc::invalid_tag_order);
  CHECK(res.error().offset == 5);
}

TEST_CASE("known tagged fields are written only when not default", "[codec][tagged]") {
  kwire::api_versions_response resp;  // SupportedFeatures etc. are tagged in v3
  bytes plain;
  kwire::writer w(plain);
  resp.encode(w, 3);
  resp.finalized_features_epoch = 5;  // default -1
  bytes tagged;
  kwire::writer w2(tagged);
  resp.encode(w2, 3);
  CHECK(tagged.size() > plain.size());
  kwire::reader r(tagged);
  auto back = kwire::api_versions_response::decode(r, 3);
  REQUIRE(back.ok());
  CHECK(back->finalized_features_epoch == 5);
  CHECK(back->unknown_tags.empty());
}
