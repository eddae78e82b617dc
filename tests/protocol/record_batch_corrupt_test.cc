// Record batches that lie: flipped bits, truncations, wrong lengths and
// counts, decompression bombs and random junk all fail cleanly, with an error
// that names the batch, the field and the byte offset.
#include "kwire/protocol/record_batch.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kwire/protocol/crc32c.hpp"
#include "record_batch_fixtures.hpp"

using namespace record_batch_fixtures;

TEST_CASE("corrupt batches: every flipped bit in the CRC range is caught",
          "[record_batch][corrupt]") {
  for (compression codec : {compression::none, compression::zstd}) {
    kwire::batch_builder_options options;
    options.codec = codec;
    const bytes batch =
        build(options, {{1, std::string("k"), std::string("value"), {{"h", std::string("v")}}},
                        {2, std::nullopt, std::string("second"), {}}});
    for (std::size_t i = 17; i < batch.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        bytes bad = batch;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        auto r = kwire::read_record_batch(bad);
        INFO("codec " << kwire::to_string(codec) << " byte " << i << " bit " << bit);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == codec_errc::crc_mismatch);
        CHECK(r.error().path == "batch@baseOffset=0.crc");
        CHECK(r.error().offset == 17);
      }
    }
  }
}

TEST_CASE("corrupt batches: every truncated prefix fails cleanly", "[record_batch][corrupt]") {
  for (compression codec : all_codecs) {
    kwire::batch_builder_options options;
    options.codec = codec;
    const bytes batch =
        build(options, {{1, std::string("k"), std::string("value"), {}},
                        {2, std::nullopt, std::string("second"), {{"h", std::nullopt}}}});
    for (std::size_t n = 0; n < batch.size(); ++n) {
      INFO("codec " << kwire::to_string(codec) << " prefix " << n);
      const bytes_view prefix(batch.data(), n);
      auto r = kwire::read_record_batch(prefix);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == codec_errc::truncated);

      // A reader that allows a partial tail stops cleanly instead.
      kwire::batch_read_options tail;
      tail.allow_truncated_tail = true;
      kwire::record_batch_reader reader(prefix, tail);
      record_batch b;
      CHECK_FALSE(reader.next(b));
      CHECK(reader.ok());
      CHECK(reader.truncated_tail() == (n > 0));
    }
  }
}

TEST_CASE("corrupt batches: lying lengths and counts", "[record_batch][corrupt]") {
  const bytes one = raw_record(simple_body(0));

  SECTION("recordsCount larger than the records") {
    auto e = read_error(raw_batch({.last_offset_delta = 1, .records_count = 2}, one));
    CHECK(e.code == codec_errc::length_exceeds_input);
    CHECK(e.path == "batch@baseOffset=42.recordsCount");
  }
  SECTION("recordsCount larger, but bytes for it") {
    bytes two = one;
    two.insert(two.end(), 7, 0);  // enough bytes for the count check, not real records
    auto e = read_error(raw_batch({.last_offset_delta = 1, .records_count = 2}, two));
    CHECK(e.path.rfind("batch@baseOffset=42.records[1]", 0) == 0);
  }
  SECTION("recordsCount smaller than the records") {
    bytes two = one;
    const bytes second = raw_record(simple_body(1));
    two.insert(two.end(), second.begin(), second.end());
    auto e = read_error(raw_batch({.last_offset_delta = 1, .records_count = 1}, two));
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.detail.find("follow the last record") != std::string::npos);
  }
  SECTION("negative recordsCount") {
    auto e = read_error(raw_batch({.records_count = -1}, one));
    CHECK(e.code == codec_errc::negative_length);
  }
  SECTION("huge recordsCount") {
    auto e =
        read_error(raw_batch({.last_offset_delta = 0x7fffffff, .records_count = 0x7fffffff}, one));
    CHECK(e.code == codec_errc::length_exceeds_input);
  }
  SECTION("record length past the batch") {
    raw r;
    r.varint(100);
    r.b.insert(r.b.end(), one.begin() + 1, one.end());
    auto e = read_error(raw_batch({}, r.b));
    CHECK(e.code == codec_errc::length_exceeds_input);
    CHECK(e.path == "batch@baseOffset=42.records[0].length");
    CHECK(e.offset == 61);
  }
  SECTION("record length shorter than its fields") {
    bytes r = one;
    r[0] = 2 * 5;  // length 5 of a 9-byte body
    r.resize(r.size() + 0);
    auto e = read_error(raw_batch({}, r));
    CHECK(e.path.rfind("batch@baseOffset=42.records[0]", 0) == 0);
  }
  SECTION("record length longer than its fields") {
    raw body = simple_body(0);
    body.i8(0);  // one stray byte inside the record
    auto e = read_error(raw_batch({}, raw_record(body)));
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "batch@baseOffset=42.records[0].length");
  }
  SECTION("negative record length") {
    raw r;
    r.varint(-5);
    r.b.insert(r.b.end(), 10, 0);
    auto e = read_error(raw_batch({}, r.b));
    CHECK(e.code == codec_errc::invalid_record);
  }
  SECTION("key length -2") {
    raw body;
    body.i8(0).varint(0).varint(0).varint(-2).varint(-1).varint(0).i8(0).i8(0);
    auto e = read_error(raw_batch({}, raw_record(body)));
    CHECK(e.code == codec_errc::negative_length);
    CHECK(e.path == "batch@baseOffset=42.records[0].key");
  }
  SECTION("header count past the record") {
    raw body;
    body.i8(0).varint(0).varint(0).varint(-1).varint(-1).varint(1000);
    auto e = read_error(raw_batch({}, raw_record(body)));
    CHECK(e.code == codec_errc::length_exceeds_input);
    CHECK(e.path == "batch@baseOffset=42.records[0].headersCount");
  }
  SECTION("null header key") {
    raw body;
    body.i8(0).varint(0).varint(0).varint(-1).varint(-1).varint(1).varint(-1).varint(-1);
    auto e = read_error(raw_batch({}, raw_record(body)));
    CHECK(e.code == codec_errc::null_not_allowed);
    CHECK(e.path == "batch@baseOffset=42.records[0].headers[0].key");
  }
  SECTION("header key past the record") {
    raw body;
    body.i8(0).varint(0).varint(0).varint(-1).varint(-1).varint(1).varint(30).str("ab").varint(-1);
    auto e = read_error(raw_batch({}, raw_record(body)));
    CHECK(e.code == codec_errc::length_exceeds_input);
    CHECK(e.path == "batch@baseOffset=42.records[0].headers[0].key");
  }
  SECTION("varint too long") {
    raw body;
    body.i8(0);
    for (int i = 0; i < 11; ++i) body.i8(0xff);
    body.i8(0);
    auto e = read_error(raw_batch({}, raw_record(body)));
    CHECK(e.code == codec_errc::varint_too_long);
    CHECK(e.path == "batch@baseOffset=42.records[0].timestampDelta");
  }
  SECTION("batchLength past the input") {
    bytes b = raw_batch({}, one);
    b[11] += 1;
    auto e = read_error(b);
    CHECK(e.code == codec_errc::truncated);
    CHECK(e.path == "batch@baseOffset=42.batchLength");
  }
  SECTION("batchLength too small for a header") {
    bytes b = raw_batch({}, one);
    b[8] = b[9] = b[10] = 0;
    b[11] = 20;
    auto e = read_error(b);
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "batch@baseOffset=42.batchLength");
  }
  SECTION("wrong magic") {
    bytes b = raw_batch({}, one);
    b[16] = 1;
    auto e = read_error(b);
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "batch@baseOffset=42.magic");
    CHECK(kwire::peek_magic(b) == 1);
  }
  SECTION("unknown compression codec") {
    auto e = read_error(raw_batch({.attributes = 6}, one));
    CHECK(e.code == codec_errc::unsupported_compression);
  }
  SECTION("lastOffsetDelta below the count") {
    bytes two = one;
    const bytes second = raw_record(simple_body(1));
    two.insert(two.end(), second.begin(), second.end());
    auto e = read_error(raw_batch({.last_offset_delta = 0, .records_count = 2}, two));
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "batch@baseOffset=42.lastOffsetDelta");
  }
  SECTION("offsetDelta past lastOffsetDelta") {
    auto e = read_error(raw_batch({}, raw_record(simple_body(3))));
    CHECK(e.path == "batch@baseOffset=42.records[0].offsetDelta");
  }
  SECTION("offsetDelta not increasing") {
    bytes two = raw_record(simple_body(1));
    const bytes second = raw_record(simple_body(1));
    two.insert(two.end(), second.begin(), second.end());
    auto e = read_error(raw_batch({.last_offset_delta = 1, .records_count = 2}, two));
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "batch@baseOffset=42.records[1].offsetDelta");
  }
  SECTION("compacted gaps in offsetDelta are fine") {
    bytes two = raw_record(simple_body(0));
    const bytes second = raw_record(simple_body(5));
    two.insert(two.end(), second.begin(), second.end());
    kwire::batch_read_options o;
    o.validate_records = true;
    const bytes batch = raw_batch({.last_offset_delta = 9, .records_count = 2}, two);
    CHECK(kwire::read_record_batch(batch, o).ok());
  }
  SECTION("baseOffset + lastOffsetDelta overflows") {
    auto e = read_error(raw_batch({.base_offset = INT64_MAX, .last_offset_delta = 5}, one));
    CHECK(e.path == "batch@baseOffset=" + std::to_string(INT64_MAX) + ".lastOffsetDelta");
  }
  SECTION("timestamp that does not fit") {
    raw body;
    body.i8(0).varint(INT64_MAX).varint(0).varint(-1).varint(-1).varint(0);
    auto e = read_error(raw_batch({.base_timestamp = 10}, raw_record(body)));
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "batch@baseOffset=42.records[0].timestampDelta");
  }
}

TEST_CASE("compressed batches: bombs and junk", "[record_batch][corrupt]") {
  SECTION("records that decompress past the limit") {
    std::vector<expected_record> records;
    for (int i = 0; i < 200; ++i)
      records.push_back({1, std::nullopt, std::string(100000, 'z'), {}});
    for (compression codec :
         {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
      kwire::batch_builder_options options;
      options.codec = codec;
      const bytes batch = build(options, records);
      CHECK(batch.size() < 2'000'000);
      kwire::batch_read_options limits;
      limits.max_decompressed_size = 16 << 20;
      auto r = kwire::read_record_batch(batch, limits);
      INFO("codec " << kwire::to_string(codec));
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == codec_errc::limit_exceeded);
      CHECK(r.error().path == "batch@baseOffset=0.records");
      limits.max_decompressed_size = 32 << 20;
      CHECK(kwire::read_record_batch(batch, limits).ok());
    }
  }
  SECTION("compressed bytes that are not") {
    const bytes batch = raw_batch({.attributes = 1}, raw_record(simple_body(0)));
    auto e = read_error(batch);
    CHECK(e.code == codec_errc::compression_error);
    CHECK(e.path == "batch@baseOffset=42.records");
  }
  SECTION("errors inside decompressed records say so") {
    raw body = simple_body(0);
    body.i8(0);
    bytes records = raw_record(body), packed;
    REQUIRE_FALSE(kwire::compress(compression::lz4, records, packed));
    auto e = read_error(raw_batch({.attributes = 3}, packed));
    CHECK(e.path == "batch@baseOffset=42.records[0].length");
    CHECK(e.context.find("decompressed") != std::string::npos);
  }
}

TEST_CASE("random corruption never crashes the reader", "[record_batch][corrupt]") {
  std::mt19937 rng(2024);
  for (compression codec : all_codecs) {
    kwire::batch_builder_options options;
    options.codec = codec;
    std::vector<expected_record> records;
    for (int i = 0; i < 20; ++i) {
      records.push_back({i,
                         std::string("key") + std::to_string(i),
                         std::string(i * 3, 'x'),
                         {{"h", std::string("v")}}});
    }
    const bytes batch = build(options, records);
    for (int trial = 0; trial < 500; ++trial) {
      bytes bad = batch;
      for (int k = 0; k < 1 + trial % 3; ++k)
        bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
      kwire::batch_read_options o;
      o.verify_crc = false;  // let the damage reach the record parser
      o.max_decompressed_size = 1 << 20;
      auto r = kwire::read_record_batch(bad, o);
      if (!r.ok()) continue;
      auto cursor = r->records();
      for (const record_view& rec : cursor) {
        CHECK(rec.encoded.size() >= 7);
        for (const auto& h : rec.headers) CHECK(h.key.size() <= rec.encoded.size());
      }
    }
  }
}
