#include "kwire/protocol/compression.hpp"

#include <catch2/catch.hpp>

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using kwire::codec_errc;
using kwire::compression;

constexpr compression all_codecs[] = {compression::none, compression::gzip, compression::snappy,
                                      compression::lz4, compression::zstd};
constexpr compression real_codecs[] = {compression::gzip, compression::snappy, compression::lz4,
                                       compression::zstd};

// JSON-like lines: compressible the way real payloads are, not trivially.
std::vector<std::uint8_t> json_text(std::size_t size, unsigned seed = 1) {
  std::mt19937 rng(seed);
  static const char* const names[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
  static const char* const actions[] = {"login", "logout", "purchase", "view", "click"};
  std::string s;
  while (s.size() < size) {
    s += R"({"user":")";
    s += names[rng() % 6];
    s += R"(","action":")";
    s += actions[rng() % 5];
    s += R"(","amount":)" + std::to_string(rng() % 100000) + R"(,"ts":)" +
         std::to_string(1700000000000ull + rng() % 1000000) + "}\n";
  }
  s.resize(size);
  return {s.begin(), s.end()};
}

std::vector<std::uint8_t> random_bytes(std::size_t size, unsigned seed = 2) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> v(size);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

std::vector<std::uint8_t> compressed(compression codec, const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out;
  REQUIRE_FALSE(kwire::compress(codec, in, out));
  return out;
}

constexpr std::size_t mib = std::size_t{1} << 20;
constexpr std::size_t gib = std::size_t{1} << 30;

}  // namespace

TEST_CASE("compression round trips every codec and size", "[compression]") {
  std::vector<std::vector<std::uint8_t>> inputs = {{},
                                                   {'x'},
                                                   json_text(100),
                                                   json_text(32 * 1024),
                                                   json_text(32 * 1024 + 1),
                                                   json_text(70000),
                                                   json_text(mib),
                                                   random_bytes(100000)};
  for (compression codec : all_codecs) {
    for (const auto& in : inputs) {
      INFO("codec " << kwire::to_string(codec) << " size " << in.size());
      auto packed = compressed(codec, in);
      CHECK(packed.size() <= kwire::max_compressed_size(codec, in.size()));
      std::vector<std::uint8_t> out;
      auto n = kwire::decompress(codec, packed, out);
      REQUIRE(n.ok());
      CHECK(*n == in.size());
      CHECK(out == in);
    }
  }
}

TEST_CASE("compression appends after existing bytes", "[compression]") {
  const auto text = json_text(5000);
  for (compression codec : all_codecs) {
    INFO("codec " << kwire::to_string(codec));
    std::vector<std::uint8_t> packed = {1, 2, 3};
    REQUIRE_FALSE(kwire::compress(codec, text, packed));
    REQUIRE(packed.size() > 3);
    CHECK(packed[0] == 1);
    CHECK(packed[2] == 3);
    std::vector<std::uint8_t> out = {9};
    auto n = kwire::decompress(codec, std::span(packed).subspan(3), out);
    REQUIRE(n.ok());
    CHECK(out.size() == 1 + text.size());
    CHECK(out[0] == 9);
    CHECK(std::equal(text.begin(), text.end(), out.begin() + 1));
  }
}

TEST_CASE("compression shrinks text", "[compression]") {
  const auto text = json_text(mib);
  for (compression codec : real_codecs) {
    INFO("codec " << kwire::to_string(codec));
    CHECK(compressed(codec, text).size() < text.size() / 2);
  }
}

TEST_CASE("snappy writes the xerial framing and reads raw snappy too", "[compression][snappy]") {
  const auto text = json_text(100000);
  const auto packed = compressed(compression::snappy, text);
  const std::uint8_t header[16] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  REQUIRE(packed.size() > 16);
  CHECK(std::memcmp(packed.data(), header, 16) == 0);
  // 100000 bytes in 32 KiB blocks: four length-prefixed blocks.
  std::size_t pos = 16, blocks = 0;
  while (pos < packed.size()) {
    const std::uint32_t n = (std::uint32_t{packed[pos]} << 24) | (packed[pos + 1] << 16) |
                            (packed[pos + 2] << 8) | packed[pos + 3];
    pos += 4 + n;
    ++blocks;
  }
  CHECK(pos == packed.size());
  CHECK(blocks == 4);

  // Raw snappy as librdkafka's reader also accepts: length varint 5, a 5-byte literal.
  const std::vector<std::uint8_t> raw = {0x05, 0x10, 'h', 'e', 'l', 'l', 'o'};
  std::vector<std::uint8_t> out;
  auto n = kwire::decompress(compression::snappy, raw, out);
  REQUIRE(n.ok());
  CHECK(std::string(out.begin(), out.end()) == "hello");

  std::string big_raw;
  const std::string text_str(text.begin(), text.end());
  snappy::Compress(text_str.data(), text_str.size(), &big_raw);
  out.clear();
  REQUIRE(kwire::decompress(compression::snappy,
                            {reinterpret_cast<const std::uint8_t*>(big_raw.data()), big_raw.size()},
                            out)
              .ok());
  CHECK(out == text);
}

TEST_CASE("decompression limit is exact", "[compression][limits]") {
  const auto text = json_text(200000);
  for (compression codec : all_codecs) {
    INFO("codec " << kwire::to_string(codec));
    const auto packed = compressed(codec, text);
    std::vector<std::uint8_t> out;
    CHECK(kwire::decompress(codec, packed, out, text.size()).ok());
    out.clear();
    auto r = kwire::decompress(codec, packed, out, text.size() - 1);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == codec_errc::limit_exceeded);
    CHECK(r.error().detail.find("limit") != std::string::npos);
    CHECK(out.empty());
  }
}

namespace {

// Bombs: 1 GiB of zeros compressed in a streaming way, so the test itself
// never holds the gigabyte either.
std::vector<std::uint8_t> gzip_bomb() {
  std::vector<std::uint8_t> zeros(mib, 0), out(2 * mib);
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  for (int i = 0; i < 1024; ++i) {
    zs.next_in = zeros.data();
    zs.avail_in = static_cast<uInt>(zeros.size());
    REQUIRE(deflate(&zs, i == 1023 ? Z_FINISH : Z_NO_FLUSH) != Z_STREAM_ERROR);
    REQUIRE(zs.avail_in == 0);
  }
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::vector<std::uint8_t> lz4_bomb() {
  std::vector<std::uint8_t> zeros(mib, 0);
  LZ4F_cctx* cctx = nullptr;
  REQUIRE_FALSE(LZ4F_isError(LZ4F_createCompressionContext(&cctx, LZ4F_VERSION)));
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  std::vector<std::uint8_t> out(LZ4F_compressBound(mib, &prefs) * 1024 / 64 + mib);
  std::size_t pos = LZ4F_compressBegin(cctx, out.data(), out.size(), &prefs);
  for (int i = 0; i < 1024; ++i) {
    const std::size_t need = LZ4F_compressBound(mib, &prefs);
    if (out.size() - pos < need) out.resize(pos + need);
    const std::size_t n = LZ4F_compressUpdate(cctx, out.data() + pos, out.size() - pos,
                                              zeros.data(), zeros.size(), nullptr);
    REQUIRE_FALSE(LZ4F_isError(n));
    pos += n;
  }
  out.resize(pos + LZ4F_compressBound(0, &prefs));
  pos += LZ4F_compressEnd(cctx, out.data() + pos, out.size() - pos, nullptr);
  out.resize(pos);
  LZ4F_freeCompressionContext(cctx);
  return out;
}

std::vector<std::uint8_t> zstd_bomb(bool declare_size) {
  std::vector<std::uint8_t> zeros(mib, 0), out(mib);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (declare_size) REQUIRE_FALSE(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx, gib)));
  ZSTD_outBuffer ob{out.data(), out.size(), 0};
  for (int i = 0; i < 1024; ++i) {
    ZSTD_inBuffer ib{zeros.data(), zeros.size(), 0};
    const auto mode = i == 1023 ? ZSTD_e_end : ZSTD_e_continue;
    std::size_t r;
    do {
      r = ZSTD_compressStream2(cctx, &ob, &ib, mode);
      REQUIRE_FALSE(ZSTD_isError(r));
    } while (mode == ZSTD_e_end ? r != 0 : ib.pos != ib.size);
  }
  out.resize(ob.pos);
  ZSTD_freeCCtx(cctx);
  return out;
}

std::vector<std::uint8_t> snappy_xerial_bomb() {
  // One 1 MiB block of zeros, repeated 1024 times in the xerial framing.
  std::string block;
  const std::string zeros(mib, '\0');
  snappy::Compress(zeros.data(), zeros.size(), &block);
  std::vector<std::uint8_t> out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  out.reserve(16 + 1024 * (4 + block.size()));
  for (int i = 0; i < 1024; ++i) {
    const auto n = static_cast<std::uint32_t>(block.size());
    out.insert(out.end(), {static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16),
                           static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)});
    out.insert(out.end(), block.begin(), block.end());
  }
  return out;
}

std::vector<std::uint8_t> snappy_raw_bomb() {
  // A raw snappy header that claims 1 GiB; the body does not matter.
  std::vector<std::uint8_t> out = {0x80, 0x80, 0x80, 0x80, 0x04};
  out.resize(64, 0);
  return out;
}

void check_bomb(compression codec, const std::vector<std::uint8_t>& bomb) {
  constexpr std::size_t limit = 16 * mib;
  std::vector<std::uint8_t> out;
  auto r = kwire::decompress(codec, bomb, out, limit);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == codec_errc::limit_exceeded);
  CHECK(out.empty());
  // Never more than about the limit was allocated, let alone the gigabyte.
  CHECK(out.capacity() <= 2 * limit + 1);
}

}  // namespace

TEST_CASE("decompression bombs stop at the limit", "[compression][limits]") {
  SECTION("gzip") { check_bomb(compression::gzip, gzip_bomb()); }
  SECTION("lz4") { check_bomb(compression::lz4, lz4_bomb()); }
  SECTION("zstd without a declared size") { check_bomb(compression::zstd, zstd_bomb(false)); }
  SECTION("zstd declaring 1 GiB") { check_bomb(compression::zstd, zstd_bomb(true)); }
  SECTION("snappy xerial") { check_bomb(compression::snappy, snappy_xerial_bomb()); }
  SECTION("snappy raw") { check_bomb(compression::snappy, snappy_raw_bomb()); }
}

TEST_CASE("truncated compressed input fails cleanly", "[compression][corrupt]") {
  const auto text = json_text(3000);
  for (compression codec : real_codecs) {
    const auto packed = compressed(codec, text);
    for (std::size_t n = 0; n < packed.size(); ++n) {
      INFO("codec " << kwire::to_string(codec) << " prefix " << n << " of " << packed.size());
      std::vector<std::uint8_t> out;
      auto r = kwire::decompress(codec, std::span(packed).first(n), out);
      if (codec == compression::snappy && r.ok()) {
        // The xerial framing has no end marker: a cut at a block boundary is a
        // shorter valid stream. Anything it yields is a prefix of the input.
        CHECK(out.size() < text.size());
        CHECK(std::equal(out.begin(), out.end(), text.begin()));
        continue;
      }
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == codec_errc::compression_error);
      CHECK(out.empty());
    }
  }
}

TEST_CASE("corrupted compressed input never crashes", "[compression][corrupt]") {
  const auto text = json_text(20000);
  std::mt19937 rng(7);
  for (compression codec : real_codecs) {
    const auto packed = compressed(codec, text);
    int errors = 0;
    for (int trial = 0; trial < 300; ++trial) {
      auto bad = packed;
      for (int k = 0; k < 1 + trial % 4; ++k)
        bad[rng() % bad.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
      std::vector<std::uint8_t> out;
      auto r = kwire::decompress(codec, bad, out, 1 * mib);
      if (!r.ok()) {
        ++errors;
        CHECK(out.empty());
      } else {
        CHECK(out.size() <= 1 * mib);
      }
    }
    INFO("codec " << kwire::to_string(codec));
    // gzip and zstd carry checksums; some damage is always noticed by all.
    CHECK(errors > 0);
  }
}

TEST_CASE("unknown codecs and garbage are rejected", "[compression]") {
  std::vector<std::uint8_t> out;
  const std::vector<std::uint8_t> junk = {1,  2,  3,  4,  5,  6,  7,  8,  9,
                                          10, 11, 12, 13, 14, 15, 16, 17, 18};
  auto r = kwire::decompress(static_cast<compression>(7), junk, out);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == codec_errc::unsupported_compression);
  CHECK(kwire::compress(static_cast<compression>(5), junk, out) ==
        codec_errc::unsupported_compression);
  for (compression codec : real_codecs) {
    INFO("codec " << kwire::to_string(codec));
    auto g = kwire::decompress(codec, junk, out);
    REQUIRE_FALSE(g.ok());
    CHECK(g.error().code == codec_errc::compression_error);
    auto e = kwire::decompress(codec, {}, out);
    CHECK_FALSE(e.ok());
  }
  CHECK(kwire::to_string(compression::zstd) == "zstd");
  CHECK(kwire::to_string(static_cast<compression>(9)) == "unknown");
}

TEST_CASE("lz4 frames with and without a content size, one after another", "[compression][lz4]") {
  // liblz4 keeps a declared content size across context resets; each call
  // and each concatenated frame must not inherit the previous frame's.
  const auto text = json_text(5000);
  const auto sized = compressed(compression::lz4, text);
  const auto empty = compressed(compression::lz4, {});
  std::vector<std::uint8_t> out;
  REQUIRE(kwire::decompress(compression::lz4, sized, out).ok());
  out.clear();
  REQUIRE(kwire::decompress(compression::lz4, empty, out).ok());
  CHECK(out.empty());
  // A frame that declares no size after one that does, in one input.
  std::vector<std::uint8_t> both = sized;
  LZ4F_preferences_t prefs{};
  std::vector<std::uint8_t> unsized(LZ4F_compressFrameBound(text.size(), &prefs));
  unsized.resize(
      LZ4F_compressFrame(unsized.data(), unsized.size(), text.data(), text.size(), &prefs));
  both.insert(both.end(), unsized.begin(), unsized.end());
  out.clear();
  auto n = kwire::decompress(compression::lz4, both, out);
  REQUIRE(n.ok());
  CHECK(*n == 2 * text.size());
}
