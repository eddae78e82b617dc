#include "kwire/protocol/record_batch.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kwire/protocol/crc32c.hpp"

namespace {

using kwire::bytes_of;
using kwire::bytes_view;
using kwire::codec_errc;
using kwire::compression;
using kwire::record_batch;
using kwire::record_view;

using bytes = std::vector<std::uint8_t>;

constexpr compression all_codecs[] = {compression::none, compression::gzip, compression::snappy,
                                      compression::lz4, compression::zstd};

// What a test expects a record to read back as.
struct expected_record {
  std::int64_t timestamp = 0;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::string text(bytes_view b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

std::optional<std::string> text(const kwire::nullable_bytes_view& b) {
  if (!b) return std::nullopt;
  return text(*b);
}

kwire::nullable_bytes_view view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return bytes_of(*s);
}

bytes build(const kwire::batch_builder_options& options, const std::vector<expected_record>& records) {
  kwire::record_batch_builder builder(options, 1024);
  for (const auto& r : records) {
    std::vector<kwire::record_header> headers;
    for (const auto& [k, v] : r.headers) headers.push_back({k, view(v)});
    REQUIRE_FALSE(builder.append(r.timestamp, view(r.key), view(r.value), headers));
  }
  auto out = builder.finish();
  REQUIRE(out.ok());
  return std::move(out).value();
}

std::vector<record_view> read_all(const record_batch& batch) {
  std::vector<record_view> out;
  auto cursor = batch.records();
  for (const record_view& r : cursor) out.push_back(r);
  INFO(cursor.error().message());
  REQUIRE(cursor.ok());
  return out;
}

void check_records(const record_batch& batch, const std::vector<expected_record>& expected) {
  const auto got = read_all(batch);
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("record " << i);
    CHECK(got[i].offset_delta == static_cast<std::int32_t>(i));
    CHECK(got[i].offset == batch.header().base_offset + static_cast<std::int64_t>(i));
    CHECK(got[i].timestamp == expected[i].timestamp);
    CHECK(text(got[i].key) == expected[i].key);
    CHECK(text(got[i].value) == expected[i].value);
    REQUIRE(got[i].headers.size() == expected[i].headers.size());
    std::size_t h = 0;
    for (const auto& header : got[i].headers) {
      CHECK(std::string(header.key) == expected[i].headers[h].first);
      CHECK(text(header.value) == expected[i].headers[h].second);
      ++h;
    }
    CHECK(h == expected[i].headers.size());
  }
}

// Big-endian writer for hand-made batches in the corruption tests.
struct raw {
  bytes b;
  raw& i8(int v) { b.push_back(static_cast<std::uint8_t>(v)); return *this; }
  raw& i16(int v) { return i8(v >> 8).i8(v); }
  raw& i32(std::int64_t v) { return i16(static_cast<int>(v >> 16)).i16(static_cast<int>(v & 0xffff)); }
  raw& i64(std::int64_t v) { return i32(v >> 32).i32(v & 0xffffffff); }
  raw& varint(std::int64_t v) {
    std::uint64_t u = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    while (u >= 0x80) { b.push_back(static_cast<std::uint8_t>(u | 0x80)); u >>= 7; }
    b.push_back(static_cast<std::uint8_t>(u));
    return *this;
  }
  raw& str(std::string_view s) { b.insert(b.end(), s.begin(), s.end()); return *this; }
};

struct raw_header {
  std::int64_t base_offset = 42;
  std::int16_t attributes = 0;
  std::int32_t last_offset_delta = 0;
  std::int64_t base_timestamp = 1000;
  std::int32_t records_count = 1;
};

// A batch around hand-made record bytes, with a correct length and CRC so
// that only the structure is wrong.
bytes raw_batch(const raw_header& h, const bytes& records) {
  raw r;
  r.i64(h.base_offset).i32(49 + static_cast<std::int64_t>(records.size())).i32(-1).i8(2).i32(0);
  r.i16(h.attributes).i32(h.last_offset_delta).i64(h.base_timestamp).i64(h.base_timestamp);
  r.i64(-1).i16(-1).i32(-1).i32(h.records_count);
  r.b.insert(r.b.end(), records.begin(), records.end());
  const std::uint32_t crc = kwire::crc32c(bytes_view(r.b).subspan(21));
  for (int i = 0; i < 4; ++i) r.b[17 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  return r.b;
}

// One record's bytes: body then its length prefix.
bytes raw_record(const raw& body) {
  raw r;
  r.varint(static_cast<std::int64_t>(body.b.size()));
  r.b.insert(r.b.end(), body.b.begin(), body.b.end());
  return r.b;
}

raw simple_body(std::int64_t offset_delta = 0) {
  raw body;
  body.i8(0).varint(0).varint(offset_delta).varint(1).str("k").varint(1).str("v").varint(0);
  return body;
}

kwire::decode_error read_error(const bytes& batch, kwire::batch_read_options options = {}) {
  options.validate_records = true;
  auto r = kwire::read_record_batch(batch, options);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("record batch round trips every codec and record shape", "[record_batch]") {
  const std::optional<std::string> keys[] = {std::nullopt, std::string("key-1"), std::string()};
  const std::optional<std::string> values[] = {std::nullopt, std::string(R"({"a":1,"b":"two"})"), std::string()};
  const std::vector<std::pair<std::string, std::optional<std::string>>> header_sets[] = {
      {}, {{"trace", std::string("abc")}, {"empty", std::nullopt}, {"", std::string("x")}}};
  for (compression codec : all_codecs) {
    for (const auto& key : keys) {
      for (const auto& value : values) {
        for (const auto& headers : header_sets) {
          for (int count : {0, 1, 3, 1000}) {
            INFO("codec " << kwire::to_string(codec) << " key " << key.has_value() << " value "
                          << value.has_value() << " headers " << headers.size() << " count " << count);
            std::vector<expected_record> records;
            for (int i = 0; i < count; ++i) {
              // Timestamps go up and down: deltas may be negative.
              records.push_back({1'700'000'000'000 + (i % 7) * 13 - (i % 3) * 50, key, value, headers});
            }
            kwire::batch_builder_options options;
            options.codec = codec;
            options.base_offset = 42;
            options.producer_id = 7;
            options.producer_epoch = 3;
            options.base_sequence = 100;
            options.partition_leader_epoch = 5;
            const bytes batch = build(options, records);

            auto read = kwire::read_record_batch(batch);
            INFO((read.ok() ? std::string() : read.error().message()));
            REQUIRE(read.ok());
            const auto& h = read->header();
            CHECK(h.base_offset == 42);
            CHECK(h.size_in_bytes() == batch.size());
            CHECK(h.magic == 2);
            CHECK(h.codec() == codec);
            CHECK(h.records_count == count);
            CHECK(h.last_offset_delta == count - 1);
            CHECK(h.producer_id == 7);
            CHECK(h.producer_epoch == 3);
            CHECK(h.base_sequence == 100);
            CHECK(h.partition_leader_epoch == 5);
            CHECK_FALSE(h.is_transactional());
            CHECK_FALSE(h.is_control());
            CHECK_FALSE(h.is_log_append_time());
            if (count > 0) {
              CHECK(h.base_timestamp == records[0].timestamp);
              std::int64_t max = records[0].timestamp;
              for (const auto& r : records) max = std::max(max, r.timestamp);
              CHECK(h.max_timestamp == max);
            } else {
              CHECK(h.base_timestamp == -1);
              CHECK(h.max_timestamp == -1);
            }
            CHECK(read->is_decompressed() == (codec != compression::none));
            check_records(*read, records);
          }
        }
      }
    }
  }
}

TEST_CASE("record batch encoding is byte-exact", "[record_batch]") {
  kwire::batch_builder_options options;
  options.base_offset = 5;
  kwire::record_batch_builder builder(options);
  REQUIRE_FALSE(builder.append(1000, bytes_of("k"), bytes_of("vv")));
  REQUIRE_FALSE(builder.append(999, std::nullopt, bytes_of("w"),
                               std::vector<kwire::record_header>{{"h", std::nullopt}}));
  auto batch = builder.finish();
  REQUIRE(batch.ok());

  raw rec0, rec1;
  rec0.i8(0).varint(0).varint(0).varint(1).str("k").varint(2).str("vv").varint(0);
  rec1.i8(0).varint(-1).varint(1).varint(-1).varint(1).str("w").varint(1).varint(1).str("h").varint(-1);
  bytes records = raw_record(rec0);
  const bytes second = raw_record(rec1);
  records.insert(records.end(), second.begin(), second.end());
  raw expected;
  expected.i64(5).i32(49 + static_cast<std::int64_t>(records.size())).i32(-1).i8(2).i32(0);
  expected.i16(0).i32(1).i64(1000).i64(1000).i64(-1).i16(-1).i32(-1).i32(2);
  expected.b.insert(expected.b.end(), records.begin(), records.end());
  const std::uint32_t crc = kwire::crc32c(bytes_view(expected.b).subspan(21));
  for (int i = 0; i < 4; ++i) expected.b[17 + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
  CHECK(*batch == expected.b);
}

TEST_CASE("uncompressed records are views into the input", "[record_batch]") {
  const bytes batch = build({}, {{10, std::string("key"), std::string("value"), {{"h", std::string("hv")}}}});
  auto read = kwire::read_record_batch(batch);
  REQUIRE(read.ok());
  CHECK_FALSE(read->is_decompressed());
  auto records = read_all(*read);
  REQUIRE(records.size() == 1);
  const auto* begin = batch.data();
  const auto* end = batch.data() + batch.size();
  CHECK(records[0].key->data() >= begin);
  CHECK(records[0].value->data() + records[0].value->size() <= end);
  CHECK(reinterpret_cast<const std::uint8_t*>(records[0].headers.begin()->key.data()) > begin);
  CHECK(records[0].encoded.data() == batch.data() + kwire::record_batch_header_size);
}

TEST_CASE("record iteration is lazy", "[record_batch]") {
  // Record 1 of 3 is broken; record 0 still reads, and the error names record 1.
  bytes records = raw_record(simple_body(0));
  raw bad;
  bad.i8(0).varint(0).varint(1).varint(50).str("k");  // key length 50 in a short record
  const bytes second = raw_record(bad), third = raw_record(simple_body(2));
  records.insert(records.end(), second.begin(), second.end());
  records.insert(records.end(), third.begin(), third.end());
  const bytes batch = raw_batch({.last_offset_delta = 2, .records_count = 3}, records);

  auto read = kwire::read_record_batch(batch);  // header only: fine
  REQUIRE(read.ok());
  auto cursor = read->records();
  record_view r;
  REQUIRE(cursor.next(r));
  CHECK(text(r.key) == "k");
  CHECK(cursor.index() == 1);
  CHECK_FALSE(cursor.next(r));
  REQUIRE_FALSE(cursor.ok());
  CHECK(cursor.error().code == codec_errc::length_exceeds_input);
  CHECK(cursor.error().path == "batch@baseOffset=42.records[1].key");
  CHECK_FALSE(cursor.next(r));  // stays failed
}

TEST_CASE("control batches carry transaction markers", "[record_batch]") {
  for (auto type : {kwire::control_type::abort, kwire::control_type::commit}) {
    kwire::batch_builder_options options;
    options.producer_id = 99;
    options.producer_epoch = 2;
    options.base_offset = 10;
    auto marker = kwire::write_end_txn_marker(options, type, 17, 123456);
    REQUIRE(marker.ok());
    auto read = kwire::read_record_batch(*marker);
    REQUIRE(read.ok());
    CHECK(read->header().is_control());
    CHECK(read->header().is_transactional());
    CHECK(read->header().producer_id == 99);
    auto records = read_all(*read);
    REQUIRE(records.size() == 1);
    auto key = kwire::parse_control_key(records[0]);
    REQUIRE(key);
    CHECK(key->version == 0);
    CHECK(key->type == static_cast<std::int16_t>(type));
    auto value = kwire::parse_end_txn_marker(records[0]);
    REQUIRE(value);
    CHECK(value->coordinator_epoch == 17);
    CHECK(records[0].timestamp == 123456);
    // Key bytes as on the wire: int16 version 0, int16 type.
    const bytes expected_key = {0, 0, 0, static_cast<std::uint8_t>(type)};
    CHECK(bytes(records[0].key->begin(), records[0].key->end()) == expected_key);
  }
  record_view plain;
  CHECK_FALSE(kwire::parse_control_key(plain));
  CHECK_FALSE(kwire::parse_end_txn_marker(plain));
}

TEST_CASE("timestamp types", "[record_batch]") {
  std::vector<expected_record> records = {{100, std::nullopt, std::string("a"), {}},
                                          {300, std::nullopt, std::string("b"), {}}};
  SECTION("log append time from the builder uses maxTimestamp for every record") {
    kwire::batch_builder_options options;
    options.timestamps = kwire::timestamp_type::log_append_time;
    const bytes batch = build(options, records);
    auto read = kwire::read_record_batch(batch);
    REQUIRE(read.ok());
    CHECK(read->header().is_log_append_time());
    for (const auto& r : read_all(*read)) CHECK(r.timestamp == 300);
  }
  SECTION("a broker stamps log append time in place") {
    bytes batch = build({}, records);
    REQUIRE(kwire::set_log_append_time(batch, 5555));
    auto read = kwire::read_record_batch(batch);
    REQUIRE(read.ok());  // CRC was recomputed
    CHECK(read->header().max_timestamp == 5555);
    for (const auto& r : read_all(*read)) CHECK(r.timestamp == 5555);
  }
  SECTION("create time keeps each record's own") {
    const bytes batch = build({}, records);
    auto read = kwire::read_record_batch(batch);
    REQUIRE(read.ok());
    auto got = read_all(*read);
    CHECK(got[0].timestamp == 100);
    CHECK(got[1].timestamp == 300);
    CHECK(got[1].timestamp_delta == 200);
  }
}

TEST_CASE("patching a batch in place keeps it valid", "[record_batch]") {
  bytes batch = build({}, {{1, std::nullopt, std::string("x"), {}}, {2, std::nullopt, std::string("y"), {}}});
  REQUIRE(kwire::set_base_offset(batch, 1000));
  REQUIRE(kwire::set_partition_leader_epoch(batch, 9));
  REQUIRE(kwire::set_producer_state(batch, 55, 4, 77));
  auto read = kwire::read_record_batch(batch);
  REQUIRE(read.ok());
  CHECK(read->header().base_offset == 1000);
  CHECK(read->header().partition_leader_epoch == 9);
  CHECK(read->header().producer_id == 55);
  CHECK(read->header().producer_epoch == 4);
  CHECK(read->header().base_sequence == 77);
  CHECK(read_all(*read).back().offset == 1001);
  bytes tiny(10);
  CHECK_FALSE(kwire::set_producer_state(tiny, 1, 1, 1));
  CHECK_FALSE(kwire::set_log_append_time(tiny, 1));
}

TEST_CASE("builder knows its size", "[record_batch]") {
  kwire::record_batch_builder builder({}, 4096);
  CHECK(builder.size_in_bytes() == kwire::record_batch_header_size);
  CHECK(builder.empty());
  std::size_t before = builder.size_in_bytes();
  const std::string value(100, 'v');
  const std::vector<kwire::record_header> headers = {{"trace", bytes_of("1234")}};
  for (int i = 0; i < 50; ++i) {
    REQUIRE_FALSE(builder.append(1000 + i, bytes_of("key"), bytes_of(value), headers));
    const std::size_t grown = builder.size_in_bytes() - before;
    CHECK(grown <= kwire::estimate_record_size(3, value.size(), headers));
    before = builder.size_in_bytes();
  }
  CHECK(builder.record_count() == 50);
  const std::size_t size = builder.size_in_bytes();
  auto batch = builder.finish();
  REQUIRE(batch.ok());
  CHECK(batch->size() == size);
  CHECK(builder.empty());  // finish() leaves it empty
}

TEST_CASE("corrupt batches: every flipped bit in the CRC range is caught", "[record_batch][corrupt]") {
  for (compression codec : {compression::none, compression::zstd}) {
    kwire::batch_builder_options options;
    options.codec = codec;
    const bytes batch = build(options, {{1, std::string("k"), std::string("value"), {{"h", std::string("v")}}},
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
    const bytes batch = build(options, {{1, std::string("k"), std::string("value"), {}},
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
    auto e = read_error(raw_batch({.last_offset_delta = 0x7fffffff, .records_count = 0x7fffffff}, one));
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
    CHECK(kwire::read_record_batch(raw_batch({.last_offset_delta = 9, .records_count = 2}, two), o).ok());
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
    for (int i = 0; i < 200; ++i) records.push_back({1, std::nullopt, std::string(100000, 'z'), {}});
    for (compression codec : {compression::gzip, compression::snappy, compression::lz4, compression::zstd}) {
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

TEST_CASE("reading several batches", "[record_batch]") {
  bytes all;
  std::vector<std::size_t> starts;
  for (int b = 0; b < 4; ++b) {
    kwire::batch_builder_options options;
    options.base_offset = b * 10;
    options.codec = all_codecs[b % 5];
    starts.push_back(all.size());
    const bytes one = build(options, {{b, std::nullopt, std::string("v") + std::to_string(b), {}}});
    all.insert(all.end(), one.begin(), one.end());
  }
  {
    kwire::record_batch_reader reader(all);
    record_batch batch;
    int n = 0;
    while (reader.next(batch)) {
      CHECK(batch.header().base_offset == n * 10);
      CHECK(batch.input_offset() == starts[n]);
      CHECK(text(*read_all(batch)[0].value) == "v" + std::to_string(n));
      ++n;
    }
    CHECK(reader.ok());
    CHECK(n == 4);
    CHECK(reader.position() == all.size());
  }
  {
    // An error in the third batch carries its position in the whole input.
    bytes bad = all;
    bad[starts[2] + 30] ^= 1;
    kwire::record_batch_reader reader(bad, {}, 1000);
    record_batch batch;
    int n = 0;
    while (reader.next(batch)) ++n;
    CHECK(n == 2);
    REQUIRE_FALSE(reader.ok());
    CHECK(reader.error().code == codec_errc::crc_mismatch);
    CHECK(reader.error().offset == 1000 + starts[2] + 17);
    CHECK(reader.error().path == "batch@baseOffset=20.crc");
    CHECK(reader.error().message().find("batch@baseOffset=20.crc") != std::string::npos);
  }
  {
    // A fetch cut inside the last batch.
    kwire::batch_read_options tail;
    tail.allow_truncated_tail = true;
    kwire::record_batch_reader reader(bytes_view(all).first(starts[3] + 20), tail);
    record_batch batch;
    int n = 0;
    while (reader.next(batch)) ++n;
    CHECK(n == 3);
    CHECK(reader.ok());
    CHECK(reader.truncated_tail());
  }
}

TEST_CASE("random corruption never crashes the reader", "[record_batch][corrupt]") {
  std::mt19937 rng(2024);
  for (compression codec : all_codecs) {
    kwire::batch_builder_options options;
    options.codec = codec;
    std::vector<expected_record> records;
    for (int i = 0; i < 20; ++i) {
      records.push_back({i, std::string("key") + std::to_string(i), std::string(i * 3, 'x'),
                         {{"h", std::string("v")}}});
    }
    const bytes batch = build(options, records);
    for (int trial = 0; trial < 500; ++trial) {
      bytes bad = batch;
      for (int k = 0; k < 1 + trial % 3; ++k) bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
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

TEST_CASE("a builder that reuses a finished batch's buffer builds the same bytes", "[record_batch][builder]") {
  auto build = [](std::vector<std::uint8_t> storage, int records, const char* prefix) {
    kwire::record_batch_builder b({}, 1 << 12, std::move(storage));
    for (int i = 0; i < records; ++i) {
      const std::string value = std::string(prefix) + std::to_string(i);
      REQUIRE_FALSE(b.append(1000 + i, kwire::bytes_of("k"), kwire::bytes_of(value)));
    }
    auto out = b.finish();
    REQUIRE(out.ok());
    return std::move(out).value();
  };
  auto big = build({}, 500, "a long first batch ");
  const std::size_t capacity = big.capacity();
  const auto fresh = build({}, 3, "second ");
  auto reused = build(std::move(big), 3, "second ");
  CHECK(reused == fresh);
  CHECK(reused.capacity() == capacity);  // the same memory, not a new allocation
  auto read = kwire::read_record_batch(reused);
  REQUIRE(read.ok());
  CHECK(read->header().records_count == 3);
}
