// Helpers shared by the record batch tests: expected records, and a raw
// big-endian writer for hand-made (often deliberately broken) batches.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kwire/protocol/crc32c.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace record_batch_fixtures {

using kwire::bytes_of;
using kwire::bytes_view;
using kwire::codec_errc;
using kwire::compression;
using kwire::record_batch;
using kwire::record_view;

using bytes = std::vector<std::uint8_t>;

inline constexpr compression all_codecs[] = {
    compression::none, compression::gzip, compression::snappy, compression::lz4, compression::zstd};

// What a test expects a record to read back as.
struct expected_record {
  std::int64_t timestamp = 0;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

inline std::string text(bytes_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

inline std::optional<std::string> text(const kwire::nullable_bytes_view& b) {
  if (!b) return std::nullopt;
  return text(*b);
}

inline kwire::nullable_bytes_view view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return bytes_of(*s);
}

inline bytes build(const kwire::batch_builder_options& options,
                   const std::vector<expected_record>& records) {
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

inline std::vector<record_view> read_all(const record_batch& batch) {
  std::vector<record_view> out;
  auto cursor = batch.records();
  for (const record_view& r : cursor) out.push_back(r);
  INFO(cursor.error().message());
  REQUIRE(cursor.ok());
  return out;
}

inline void check_records(const record_batch& batch, const std::vector<expected_record>& expected) {
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
  raw& i8(int v) {
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  raw& i16(int v) { return i8(v >> 8).i8(v); }
  raw& i32(std::int64_t v) {
    return i16(static_cast<int>(v >> 16)).i16(static_cast<int>(v & 0xffff));
  }
  raw& i64(std::int64_t v) { return i32(v >> 32).i32(v & 0xffffffff); }
  raw& varint(std::int64_t v) {
    std::uint64_t u = (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
    while (u >= 0x80) {
      b.push_back(static_cast<std::uint8_t>(u | 0x80));
      u >>= 7;
    }
    b.push_back(static_cast<std::uint8_t>(u));
    return *this;
  }
  raw& str(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
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
inline bytes raw_batch(const raw_header& h, const bytes& records) {
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
inline bytes raw_record(const raw& body) {
  raw r;
  r.varint(static_cast<std::int64_t>(body.b.size()));
  r.b.insert(r.b.end(), body.b.begin(), body.b.end());
  return r.b;
}

inline raw simple_body(std::int64_t offset_delta = 0) {
  raw body;
  body.i8(0).varint(0).varint(offset_delta).varint(1).str("k").varint(1).str("v").varint(0);
  return body;
}

inline kwire::decode_error read_error(const bytes& batch, kwire::batch_read_options options = {}) {
  options.validate_records = true;
  auto r = kwire::read_record_batch(batch, options);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace record_batch_fixtures
