// The one tagged-fields loop every generated decoder calls: ordering, known
// fields through the handler, unknown fields kept for re-encoding.
#include "kwire/protocol/detail/message_support.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace {
using bytes = std::vector<std::uint8_t>;

// A pretend struct that knows tag 1, an int16.
struct knows_tag_one {
  std::int16_t value = 0;
  int calls = 0;
};

bool read_tag_one(void* target, kwire::reader& r, std::uint32_t tag, std::uint32_t size,
                  std::int16_t version) {
  auto& m = *static_cast<knows_tag_one*>(target);
  ++m.calls;
  if (tag != 1 || version < 3) return false;
  const std::uint8_t* end = r.narrow(size);
  m.value = r.read_int16();
  r.restore_end(end);
  return true;
}
}  // namespace

TEST_CASE("read_tagged_fields hands known tags to the handler and keeps the rest",
          "[codec][tagged]") {
  // Three fields: tag 0 (1 byte), tag 1 (int16 0x0102), tag 9 (2 bytes).
  const bytes b = {3, 0, 1, 0xaa, 1, 2, 0x01, 0x02, 9, 2, 0xbb, 0xcc};
  SECTION("in a version that knows tag 1") {
    kwire::reader r(b);
    kwire::unknown_tagged_fields unknown;
    knows_tag_one m;
    REQUIRE(kwire::detail::read_tagged_fields(r, unknown, 3, &m, &read_tag_one));
    CHECK(r.remaining() == 0);
    CHECK(m.value == 0x0102);
    CHECK(m.calls == 3);
    REQUIRE(unknown.size() == 2);
    CHECK(unknown[0] == kwire::tagged_field{0, {0xaa}});
    CHECK(unknown[1] == kwire::tagged_field{9, {0xbb, 0xcc}});
  }
  SECTION("in a version that does not: tag 1 is kept as unknown") {
    kwire::reader r(b);
    kwire::unknown_tagged_fields unknown;
    knows_tag_one m;
    REQUIRE(kwire::detail::read_tagged_fields(r, unknown, 2, &m, &read_tag_one));
    CHECK(m.value == 0);
    REQUIRE(unknown.size() == 3);
    CHECK(unknown[1] == kwire::tagged_field{1, {0x01, 0x02}});
  }
  SECTION("without a handler everything is unknown") {
    kwire::reader r(b);
    kwire::unknown_tagged_fields unknown;
    REQUIRE(kwire::detail::read_tagged_fields(r, unknown));
    CHECK(unknown.size() == 3);
  }
}

TEST_CASE("read_tagged_fields rejects bad sections with the offset", "[codec][tagged][malformed]") {
  kwire::unknown_tagged_fields unknown;
  SECTION("tags out of order") {
    const bytes b = {2, 5, 0, 2, 0};
    kwire::reader r(b);
    CHECK_FALSE(kwire::detail::read_tagged_fields(r, unknown));
    CHECK(r.error().code == kwire::codec_errc::invalid_tag_order);
    CHECK(r.error().offset == 3);
  }
  SECTION("a known field shorter than its size") {
    const bytes b = {1, 1, 3, 0x01, 0x02, 0x03};
    kwire::reader r(b);
    knows_tag_one m;
    CHECK_FALSE(kwire::detail::read_tagged_fields(r, unknown, 3, &m, &read_tag_one));
    CHECK(r.error().code == kwire::codec_errc::trailing_bytes);
    CHECK(unknown.empty());
  }
  SECTION("a size beyond the input") {
    const bytes b = {1, 4, 9, 0x01};
    kwire::reader r(b);
    CHECK_FALSE(kwire::detail::read_tagged_fields(r, unknown));
    CHECK(r.error().code == kwire::codec_errc::length_exceeds_input);
  }
}
