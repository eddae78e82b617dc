#include "kwire/protocol/message_set.hpp"

#include <catch2/catch.hpp>

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using kwire::bytes_of;
using kwire::bytes_view;
using kwire::codec_errc;
using kwire::compression;

using bytes = std::vector<std::uint8_t>;

constexpr compression legacy_codecs[] = {compression::none, compression::gzip, compression::snappy,
                                         compression::lz4};

std::optional<std::string> text(const kwire::nullable_bytes_view& b) {
  if (!b) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

struct raw {
  bytes b;
  raw& i8(int v) {
    b.push_back(static_cast<std::uint8_t>(v));
    return *this;
  }
  raw& i32(std::int64_t v) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    return *this;
  }
  raw& i64(std::int64_t v) { return i32(v >> 32).i32(v & 0xffffffff); }
  raw& str(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
};

// One entry with a correct size and zlib CRC around a hand-made body
// (magic onwards), so only the structure under test is wrong.
bytes raw_entry(std::int64_t offset, const bytes& body) {
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), body.data(), static_cast<uInt>(body.size()));
  raw r;
  r.i64(offset).i32(static_cast<std::int64_t>(body.size()) + 4).i32(static_cast<std::int64_t>(crc));
  r.b.insert(r.b.end(), body.begin(), body.end());
  return r.b;
}

kwire::decode_error read_error(const bytes& set, kwire::message_set_read_options o = {}) {
  auto r = kwire::read_message_set(set, o);
  REQUIRE_FALSE(r.ok());
  return r.error();
}

}  // namespace

TEST_CASE("message sets round trip for magic 0 and 1 and every legacy codec", "[message_set]") {
  const std::optional<std::string> keys[] = {std::nullopt, std::string("k")};
  const std::optional<std::string> values[] = {std::nullopt, std::string("some value"),
                                               std::string()};
  for (std::int8_t magic : {0, 1}) {
    for (compression codec : legacy_codecs) {
      for (const auto& key : keys) {
        for (const auto& value : values) {
          for (int count : {0, 1, 100}) {
            INFO("magic " << int(magic) << " codec " << kwire::to_string(codec) << " count "
                          << count);
            std::vector<kwire::legacy_record> records;
            for (int i = 0; i < count; ++i) {
              records.push_back(
                  {1000 + i, key ? kwire::nullable_bytes_view(bytes_of(*key)) : std::nullopt,
                   value ? kwire::nullable_bytes_view(bytes_of(*value)) : std::nullopt});
            }
            kwire::message_set_write_options options;
            options.magic = magic;
            options.codec = codec;
            options.base_offset = 500;
            auto written = kwire::write_message_set(records, options);
            REQUIRE(written.ok());
            auto read = kwire::read_message_set(*written);
            INFO((read.ok() ? std::string() : read.error().message()));
            REQUIRE(read.ok());
            const auto& messages = read->messages();
            REQUIRE(messages.size() == static_cast<std::size_t>(count));
            CHECK(read->bytes_read() == written->size());
            for (int i = 0; i < count; ++i) {
              CHECK(messages[i].offset == 500 + i);
              CHECK(messages[i].magic == magic);
              CHECK(messages[i].timestamp == (magic == 1 ? 1000 + i : -1));
              CHECK(messages[i].wrapper_codec == codec);
              CHECK(text(messages[i].key) == key);
              CHECK(text(messages[i].value) == value);
            }
          }
        }
      }
    }
  }
}

TEST_CASE("message set encoding is byte-exact", "[message_set]") {
  const std::vector<kwire::legacy_record> records = {{77, bytes_of("k"), bytes_of("val")}};
  kwire::message_set_write_options v0;
  v0.magic = 0;
  auto a = kwire::write_message_set(records, v0);
  REQUIRE(a.ok());
  raw body0;
  body0.i8(0).i8(0).i32(1).str("k").i32(3).str("val");
  CHECK(*a == raw_entry(0, body0.b));

  auto b = kwire::write_message_set(records);  // magic 1
  REQUIRE(b.ok());
  raw body1;
  body1.i8(1).i8(0).i64(77).i32(1).str("k").i32(3).str("val");
  CHECK(*b == raw_entry(0, body1.b));
}

TEST_CASE("compressed wrappers: offsets and timestamps", "[message_set]") {
  std::vector<kwire::legacy_record> records = {{10, std::nullopt, bytes_of("a")},
                                               {30, std::nullopt, bytes_of("b")},
                                               {20, std::nullopt, bytes_of("c")}};
  kwire::message_set_write_options options;
  options.codec = compression::gzip;
  options.base_offset = 100;
  auto written = kwire::write_message_set(records, options);
  REQUIRE(written.ok());
  // One wrapper whose offset is the last inner offset and whose timestamp is the max.
  auto outer = kwire::read_message_set(*written, {});
  REQUIRE(outer.ok());
  CHECK(outer->messages().size() == 3);
  CHECK(outer->messages().back().offset == 102);

  SECTION("log append time on the wrapper overrides inner timestamps") {
    options.timestamps = kwire::timestamp_type::log_append_time;
    auto w = kwire::write_message_set(records, options);
    REQUIRE(w.ok());
    auto read = kwire::read_message_set(*w);
    REQUIRE(read.ok());
    for (const auto& m : read->messages()) {
      CHECK(m.log_append_time);
      CHECK(m.timestamp == 30);
    }
  }
  SECTION("magic 0 inner offsets are absolute") {
    options.magic = 0;
    auto w = kwire::write_message_set(records, options);
    REQUIRE(w.ok());
    auto read = kwire::read_message_set(*w);
    REQUIRE(read.ok());
    CHECK(read->messages()[0].offset == 100);
    CHECK(read->messages()[2].offset == 102);
  }
}

TEST_CASE("message set writer refuses what Kafka refuses", "[message_set]") {
  const std::vector<kwire::legacy_record> records = {{1, std::nullopt, bytes_of("x")}};
  kwire::message_set_write_options options;
  options.codec = compression::zstd;
  auto r = kwire::write_message_set(records, options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == codec_errc::unsupported_compression);
  options.codec = compression::none;
  options.magic = 2;
  auto m = kwire::write_message_set(records, options);
  REQUIRE_FALSE(m.ok());
  CHECK(m.error().code == codec_errc::unsupported_version);
}

TEST_CASE("corrupt message sets", "[message_set][corrupt]") {
  const std::vector<kwire::legacy_record> records = {{1, bytes_of("key"), bytes_of("value")},
                                                     {2, std::nullopt, bytes_of("second")}};
  const bytes plain = *kwire::write_message_set(records);

  SECTION("every flipped bit in the CRC range is caught") {
    const std::size_t first_size = 12 + (std::size_t{plain[10]} << 8 | plain[11]);
    for (std::size_t i = 12; i < first_size; ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        bytes bad = plain;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        auto r = kwire::read_message_set(bad);
        INFO("byte " << i << " bit " << bit);
        REQUIRE_FALSE(r.ok());
        if (i == 16 && bit != 0) {
          // A magic that is neither 0 nor 1 is reported as such before the CRC.
          CHECK(r.error().path == "message@offset=0.magic");
          continue;
        }
        CHECK(r.error().code == codec_errc::crc_mismatch);
        CHECK(r.error().path == "message@offset=0.crc");
      }
    }
  }
  SECTION("every truncated prefix") {
    for (compression codec : legacy_codecs) {
      kwire::message_set_write_options o;
      o.codec = codec;
      const bytes set = *kwire::write_message_set(records, o);
      for (std::size_t n = 1; n < set.size(); ++n) {
        INFO("codec " << kwire::to_string(codec) << " prefix " << n);
        const bytes_view prefix(set.data(), n);
        auto r = kwire::read_message_set(prefix);
        const std::size_t first_end = 12 + (std::size_t{set[10]} << 8 | set[11]);
        if (n == first_end) {
          CHECK(r.ok());  // exactly one whole message
          continue;
        }
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == codec_errc::truncated);
        kwire::message_set_read_options tail;
        tail.allow_truncated_tail = true;
        auto t = kwire::read_message_set(prefix, tail);
        REQUIRE(t.ok());
        CHECK(t->truncated_tail());
      }
    }
  }
  SECTION("lying sizes") {
    raw body;
    body.i8(1).i8(0).i64(5).i32(100).str("k").i32(-1);  // key length 100 in a short message
    auto e = read_error(raw_entry(7, body.b));
    CHECK(e.code == codec_errc::length_exceeds_input);
    CHECK(e.path == "message@offset=7.key");

    raw neg;
    neg.i8(0).i8(0).i32(-5).i32(-1);
    CHECK(read_error(raw_entry(7, neg.b)).code == codec_errc::negative_length);

    raw extra;
    extra.i8(0).i8(0).i32(-1).i32(-1).i8(9);
    CHECK(read_error(raw_entry(7, extra.b)).code == codec_errc::trailing_bytes);

    raw tiny;
    tiny.i64(0).i32(3).i32(0).i8(0).i8(0);
    CHECK(read_error(tiny.b).code == codec_errc::invalid_record);

    raw short_v1;  // magic 1 without room for its timestamp
    short_v1.i8(1).i8(0).i32(-1).i32(-1);
    CHECK(read_error(raw_entry(7, short_v1.b)).code == codec_errc::invalid_record);

    raw magic2;
    magic2.i8(2).i8(0).i32(-1).i32(-1);
    auto m = read_error(raw_entry(7, magic2.b));
    CHECK(m.path == "message@offset=7.magic");
  }
  SECTION("nested compression is rejected") {
    kwire::message_set_write_options o;
    o.codec = compression::gzip;
    const bytes inner_wrapper = *kwire::write_message_set(records, o);
    bytes packed;
    REQUIRE_FALSE(kwire::compress(compression::gzip, inner_wrapper, packed));
    raw body;
    body.i8(1).i8(1).i64(0).i32(-1).i32(static_cast<std::int64_t>(packed.size()));
    body.b.insert(body.b.end(), packed.begin(), packed.end());
    auto e = read_error(raw_entry(1, body.b));
    CHECK(e.code == codec_errc::invalid_record);
    CHECK(e.path == "message@offset=1.inner[0].attributes");
  }
  SECTION("zstd in a legacy wrapper") {
    raw body;
    body.i8(1).i8(4).i64(0).i32(-1).i32(2).i8(0).i8(0);
    CHECK(read_error(raw_entry(1, body.b)).code == codec_errc::unsupported_compression);
  }
  SECTION("wrapper without a value") {
    raw body;
    body.i8(1).i8(1).i64(0).i32(-1).i32(-1);
    CHECK(read_error(raw_entry(1, body.b)).code == codec_errc::invalid_record);
  }
  SECTION("decompression bomb in a wrapper") {
    std::vector<kwire::legacy_record> big;
    const std::string value(1 << 20, 'z');
    for (int i = 0; i < 20; ++i) big.push_back({1, std::nullopt, bytes_of(value)});
    kwire::message_set_write_options o;
    o.codec = compression::lz4;
    const bytes set = *kwire::write_message_set(big, o);
    kwire::message_set_read_options limit;
    limit.max_decompressed_size = 16 << 20;
    auto e = read_error(set, limit);
    CHECK(e.code == codec_errc::limit_exceeded);
    CHECK(e.path == "message@offset=19.value");
  }
  SECTION("random damage never crashes") {
    kwire::message_set_write_options o;
    o.codec = compression::snappy;
    const bytes set = *kwire::write_message_set(records, o);
    std::mt19937 rng(5);
    for (const bytes* base : {&plain, &set}) {
      for (int trial = 0; trial < 2000; ++trial) {
        bytes bad = *base;
        bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
        kwire::message_set_read_options no_crc;
        no_crc.verify_crc = false;
        auto r = kwire::read_message_set(bad, no_crc);
        if (r.ok()) CHECK(r->messages().size() <= 4);
      }
    }
  }
}
