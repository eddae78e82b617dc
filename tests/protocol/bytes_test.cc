// The shared big-endian and varint helpers, against byte strings worked out
// by hand from the Kafka protocol guide's encodings.
#include "kwire/protocol/detail/bytes.hpp"

#include <catch2/catch.hpp>

#include <limits>
#include <vector>

namespace d = kwire::detail;
using bytes = std::vector<std::uint8_t>;

TEST_CASE("big-endian loads and stores", "[bytes]") {
  bytes out;
  d::append_be(out, std::int16_t{-2});
  d::append_be(out, std::uint32_t{0x01020304});
  d::append_be(out, std::int64_t{0x0102030405060708});
  CHECK(out == bytes{0xff, 0xfe, 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(d::load_be<std::int16_t>(out.data()) == -2);
  CHECK(d::load_be<std::uint32_t>(out.data() + 2) == 0x01020304u);
  CHECK(d::load_be<std::int64_t>(out.data() + 6) == 0x0102030405060708);
  d::store_be(out.data(), std::uint16_t{0xabcd});
  CHECK(out[0] == 0xab);
  CHECK(out[1] == 0xcd);
}

TEST_CASE("zig-zag maps small magnitudes to small values", "[bytes][varint]") {
  CHECK(d::zigzag32(0) == 0u);
  CHECK(d::zigzag32(-1) == 1u);
  CHECK(d::zigzag32(1) == 2u);
  CHECK(d::zigzag32(std::numeric_limits<std::int32_t>::min()) == 0xffffffffu);
  CHECK(d::zigzag64(std::numeric_limits<std::int64_t>::max()) == 0xfffffffffffffffeull);
  for (std::int64_t v :
       {std::int64_t{0}, std::int64_t{-1}, std::int64_t{63}, std::int64_t{-64},
        std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    CHECK(d::unzigzag64(d::zigzag64(v)) == v);
  }
  CHECK(d::unzigzag32(d::zigzag32(-300)) == -300);
}

TEST_CASE("unsigned varints: sizes, writing and bounded reading", "[bytes][varint]") {
  struct example {
    std::uint64_t value;
    bytes encoded;
  };
  const example examples[] = {
      {0, {0x00}},
      {127, {0x7f}},
      {128, {0x80, 0x01}},
      {300, {0xac, 0x02}},
      {0xffffffffu, {0xff, 0xff, 0xff, 0xff, 0x0f}},
      {std::numeric_limits<std::uint64_t>::max(),
       {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
  };
  for (const auto& e : examples) {
    CAPTURE(e.value);
    CHECK(d::uvarint_size(e.value) == e.encoded.size());
    std::uint8_t buf[d::max_uvarint_size];
    std::uint8_t* end = d::put_uvarint(buf, e.value);
    CHECK(bytes(buf + 0, end) == e.encoded);
    const std::uint8_t* p = e.encoded.data();
    std::uint64_t back = 0;
    CHECK(d::get_uvarint<10>(p, e.encoded.data() + e.encoded.size(), back) == d::varint_status::ok);
    CHECK(back == e.value);
    CHECK(p == e.encoded.data() + e.encoded.size());
  }
  SECTION("a 32-bit varint may not carry more than 32 bits") {
    const bytes too_big = {0xff, 0xff, 0xff, 0xff, 0x1f};
    const std::uint8_t* p = too_big.data();
    std::uint64_t v = 0;
    CHECK(d::get_uvarint<5>(p, p + too_big.size(), v) == d::varint_status::too_long);
    CHECK(p == too_big.data());  // not advanced on failure
  }
  SECTION("an input that ends inside a varint is truncated") {
    const bytes cut = {0x80, 0x80};
    const std::uint8_t* p = cut.data();
    std::uint64_t v = 0;
    CHECK(d::get_uvarint<5>(p, p + cut.size(), v) == d::varint_status::truncated);
  }
}
