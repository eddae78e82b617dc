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

TEST_CASE("record batch round trips every codec and record shape", "[record_batch]") {
  const std::optional<std::string> keys[] = {std::nullopt, std::string("key-1"), std::string()};
  const std::optional<std::string> values[] = {std::nullopt, std::string(R"({"a":1,"b":"two"})"),
                                               std::string()};
  const std::vector<std::pair<std::string, std::optional<std::string>>> header_sets[] = {
      {}, {{"trace", std::string("abc")}, {"empty", std::nullopt}, {"", std::string("x")}}};
  for (compression codec : all_codecs) {
    for (const auto& key : keys) {
      for (const auto& value : values) {
        for (const auto& headers : header_sets) {
          for (int count : {0, 1, 3, 1000}) {
            INFO("codec " << kwire::to_string(codec) << " key " << key.has_value() << " value "
                          << value.has_value() << " headers " << headers.size() << " count "
                          << count);
            std::vector<expected_record> records;
            for (int i = 0; i < count; ++i) {
              // Timestamps go up and down: deltas may be negative.
              records.push_back(
                  {1'700'000'000'000 + (i % 7) * 13 - (i % 3) * 50, key, value, headers});
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
  rec1.i8(0).varint(-1).varint(1).varint(-1).varint(1).str("w").varint(1).varint(1).str("h").varint(
      -1);
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
  const bytes batch =
      build({}, {{10, std::string("key"), std::string("value"), {{"h", std::string("hv")}}}});
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
  bytes batch =
      build({}, {{1, std::nullopt, std::string("x"), {}}, {2, std::nullopt, std::string("y"), {}}});
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

TEST_CASE("a builder that reuses a finished batch's buffer builds the same bytes",
          "[record_batch][builder]") {
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
