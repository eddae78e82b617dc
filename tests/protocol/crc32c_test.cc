#include "kwire/protocol/crc32c.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

namespace {

using kwire::crc32c;
using kwire::crc32c_hardware;
using kwire::crc32c_portable;

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Bit-at-a-time definition, independent of both implementations under test.
std::uint32_t crc32c_bitwise(std::span<const std::uint8_t> data) {
  std::uint32_t c = 0xffffffffu;
  for (std::uint8_t b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
  }
  return ~c;
}

using crc_fn = std::uint32_t (*)(std::span<const std::uint8_t>, std::uint32_t) noexcept;

struct named_impl {
  const char* name;
  crc_fn fn;
};

std::vector<named_impl> implementations() {
  std::vector<named_impl> v{{"portable", &crc32c_portable}, {"dispatch", &crc32c}};
  if (kwire::crc32c_hardware_available()) v.push_back({"hardware", &crc32c_hardware});
  return v;
}

}  // namespace

TEST_CASE("crc32c known vectors", "[crc32c]") {
  std::vector<std::uint8_t> zeros(32, 0x00), ones(32, 0xff), inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[i] = static_cast<std::uint8_t>(i);
    dec[i] = static_cast<std::uint8_t>(31 - i);
  }
  // RFC 3720 appendix B.4: an iSCSI read command PDU.
  const std::vector<std::uint8_t> iscsi = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

  for (const auto& impl : implementations()) {
    INFO("implementation " << impl.name);
    CHECK(impl.fn(bytes("123456789"), 0) == 0xE3069283u);
    CHECK(impl.fn(bytes(""), 0) == 0u);
    CHECK(impl.fn(bytes("a"), 0) == 0xC1D04330u);
    CHECK(impl.fn(zeros, 0) == 0x8A9136AAu);
    CHECK(impl.fn(ones, 0) == 0x62A8AB43u);
    CHECK(impl.fn(inc, 0) == 0x46DD794Eu);
    CHECK(impl.fn(dec, 0) == 0x113FDB5Cu);
    CHECK(impl.fn(iscsi, 0) == 0xD9963A56u);
  }
}

TEST_CASE("crc32c implementations agree at every length and alignment", "[crc32c]") {
  std::mt19937 rng(12345);
  std::vector<std::uint8_t> data(3 * 8192 * 2 + 3 * 256 * 3 + 77);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());

  const auto impls = implementations();
  // Every length around the lane boundaries of the three-lane hardware path,
  // and every start alignment within a word.
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 80; ++n) lengths.push_back(n);
  for (std::size_t base : {767u, 768u, 769u, 1536u, 24575u, 24576u, 24577u, 49152u + 2304u}) {
    for (std::size_t d = 0; d < 9; ++d) lengths.push_back(base + d - 4);
  }
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t n : lengths) {
      if (align + n > data.size()) continue;
      std::span<const std::uint8_t> piece(data.data() + align, n);
      const std::uint32_t expected = crc32c_bitwise(piece);
      for (const auto& impl : impls) {
        INFO("implementation " << impl.name << " length " << n << " align " << align);
        REQUIRE(impl.fn(piece, 0) == expected);
      }
    }
  }
}

TEST_CASE("crc32c continues across pieces", "[crc32c]") {
  std::mt19937 rng(99);
  std::vector<std::uint8_t> data(100000);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  const std::uint32_t whole = crc32c_bitwise(data);
  for (const auto& impl : implementations()) {
    for (std::size_t cut : {0u, 1u, 7u, 61u, 4096u, 30000u, 99999u, 100000u}) {
      std::span<const std::uint8_t> all(data);
      const std::uint32_t first = impl.fn(all.first(cut), 0);
      INFO("implementation " << impl.name << " cut " << cut);
      CHECK(impl.fn(all.subspan(cut), first) == whole);
    }
  }
}

TEST_CASE("crc32c reports the implementation in use", "[crc32c]") {
  const auto name = kwire::crc32c_implementation();
  if (kwire::crc32c_hardware_available()) {
    CHECK(name != "portable");
  } else {
    CHECK(name == "portable");
  }
}
