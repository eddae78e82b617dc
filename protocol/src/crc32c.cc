#include "kwire/protocol/crc32c.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#define KWIRE_CRC32C_X86 1
#include <cpuid.h>
#include <nmmintrin.h>
#elif defined(__aarch64__)
#define KWIRE_CRC32C_ARM 1
#include <arm_acle.h>
#if defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif
#endif

namespace kwire {
namespace {

// Reflected Castagnoli polynomial.
constexpr std::uint32_t polynomial = 0x82f63b78u;

// The CRC register here is the raw (not inverted) state; the public functions
// invert on the way in and out, as the standard CRC-32C definition does.

struct slicing_tables {
  std::uint32_t t[8][256];
};

constexpr slicing_tables make_slicing_tables() {
  slicing_tables s{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (polynomial & (0u - (c & 1u)));
    s.t[0][i] = c;
  }
  // t[k][b] is the register after byte b followed by k zero bytes.
  for (std::uint32_t i = 0; i < 256; ++i) {
    for (int k = 1; k < 8; ++k) {
      const std::uint32_t prev = s.t[k - 1][i];
      s.t[k][i] = (prev >> 8) ^ s.t[0][prev & 0xffu];
    }
  }
  return s;
}

constexpr slicing_tables tables = make_slicing_tables();

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  if constexpr (std::endian::native == std::endian::big) w = __builtin_bswap64(w);
  return w;
}

std::uint32_t portable_update(std::uint32_t reg, const std::uint8_t* p, std::size_t n) noexcept {
  const auto& t = tables.t;
  while (n >= 8) {
    const std::uint64_t w = load_le64(p) ^ reg;
    reg = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^ t[4][(w >> 24) & 0xff] ^
          t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^ t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) reg = t[0][(reg ^ *p++) & 0xffu] ^ (reg >> 8);
  return reg;
}

// The hardware instruction has a latency of about three cycles but can start
// one per cycle, so a single dependent chain uses a third of its throughput.
// Long inputs are cut into three lanes checksummed side by side, then joined:
// crc(A || B) = shift(crc(A), |B|) ^ crc_from_zero(B), where shift() runs the
// register over |B| zero bytes. That operator is linear, so it is a table.
constexpr std::size_t long_lane = 8192;
constexpr std::size_t short_lane = 256;

struct shift_table {
  std::uint32_t t[4][256];
};

shift_table make_shift_table(std::size_t zero_bytes) noexcept {
  std::uint32_t basis[32];
  for (int bit = 0; bit < 32; ++bit) {
    std::uint32_t reg = 1u << bit;
    for (std::size_t i = 0; i < zero_bytes; ++i) reg = tables.t[0][reg & 0xffu] ^ (reg >> 8);
    basis[bit] = reg;
  }
  shift_table s{};
  for (int k = 0; k < 4; ++k) {
    for (std::uint32_t b = 0; b < 256; ++b) {
      std::uint32_t v = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (b & (1u << bit)) v ^= basis[8 * k + bit];
      }
      s.t[k][b] = v;
    }
  }
  return s;
}

[[maybe_unused]] std::uint32_t shift(const shift_table& s, std::uint32_t reg) noexcept {
  return s.t[0][reg & 0xff] ^ s.t[1][(reg >> 8) & 0xff] ^ s.t[2][(reg >> 16) & 0xff] ^
         s.t[3][reg >> 24];
}

struct lane_shifts {
  shift_table long_shift = make_shift_table(long_lane);
  shift_table short_shift = make_shift_table(short_lane);
};

// Built on first use (a few hundred microseconds), only by the hardware path.
[[maybe_unused]] const lane_shifts& shifts() noexcept {
  static const lane_shifts s;
  return s;
}

#if defined(KWIRE_CRC32C_X86)

bool detect_hardware() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
  return (ecx & bit_SSE4_2) != 0;
}

constexpr std::string_view hardware_name = "sse4.2";

__attribute__((target("sse4.2"))) std::uint32_t hardware_lanes(std::uint32_t reg,
                                                               const std::uint8_t* p,
                                                               std::size_t lane,
                                                               const shift_table& s) noexcept {
  std::uint64_t c0 = reg, c1 = 0, c2 = 0;
  for (std::size_t i = 0; i < lane; i += 8) {
    c0 = _mm_crc32_u64(c0, load_le64(p + i));
    c1 = _mm_crc32_u64(c1, load_le64(p + lane + i));
    c2 = _mm_crc32_u64(c2, load_le64(p + 2 * lane + i));
  }
  std::uint32_t r = shift(s, static_cast<std::uint32_t>(c0)) ^ static_cast<std::uint32_t>(c1);
  return shift(s, r) ^ static_cast<std::uint32_t>(c2);
}

__attribute__((target("sse4.2"))) std::uint32_t hardware_update(std::uint32_t reg,
                                                                const std::uint8_t* p,
                                                                std::size_t n) noexcept {
  while (n != 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    reg = _mm_crc32_u8(reg, *p++);
    --n;
  }
  if (n >= 3 * short_lane) {
    const lane_shifts& s = shifts();
    while (n >= 3 * long_lane) {
      reg = hardware_lanes(reg, p, long_lane, s.long_shift);
      p += 3 * long_lane;
      n -= 3 * long_lane;
    }
    while (n >= 3 * short_lane) {
      reg = hardware_lanes(reg, p, short_lane, s.short_shift);
      p += 3 * short_lane;
      n -= 3 * short_lane;
    }
  }
  std::uint64_t r64 = reg;
  while (n >= 8) {
    r64 = _mm_crc32_u64(r64, load_le64(p));
    p += 8;
    n -= 8;
  }
  reg = static_cast<std::uint32_t>(r64);
  while (n--) reg = _mm_crc32_u8(reg, *p++);
  return reg;
}

#elif defined(KWIRE_CRC32C_ARM)

bool detect_hardware() noexcept {
#if defined(__linux__) && defined(HWCAP_CRC32)
  return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#elif defined(__ARM_FEATURE_CRC32)
  return true;
#else
  return false;
#endif
}

constexpr std::string_view hardware_name = "armv8-crc";

// clang's arm_acle.h only declares the CRC intrinsics when the whole build
// targets +crc, so under clang call the builtins they wrap.
#if defined(__clang__)
#define KWIRE_TARGET_CRC __attribute__((target("crc")))
#define KWIRE_CRC32CB __builtin_arm_crc32cb
#define KWIRE_CRC32CD __builtin_arm_crc32cd
#else
#define KWIRE_TARGET_CRC __attribute__((target("+crc")))
#define KWIRE_CRC32CB __crc32cb
#define KWIRE_CRC32CD __crc32cd
#endif

KWIRE_TARGET_CRC std::uint32_t hardware_update(std::uint32_t reg, const std::uint8_t* p,
                                               std::size_t n) noexcept {
  while (n != 0 && (reinterpret_cast<std::uintptr_t>(p) & 7u) != 0) {
    reg = KWIRE_CRC32CB(reg, *p++);
    --n;
  }
  if (n >= 3 * short_lane) {
    const lane_shifts& s = shifts();
    auto lanes = [&](std::size_t lane, const shift_table& t) {
      std::uint32_t c0 = reg, c1 = 0, c2 = 0;
      for (std::size_t i = 0; i < lane; i += 8) {
        c0 = KWIRE_CRC32CD(c0, load_le64(p + i));
        c1 = KWIRE_CRC32CD(c1, load_le64(p + lane + i));
        c2 = KWIRE_CRC32CD(c2, load_le64(p + 2 * lane + i));
      }
      reg = shift(t, shift(t, c0) ^ c1) ^ c2;
      p += 3 * lane;
      n -= 3 * lane;
    };
    while (n >= 3 * long_lane) lanes(long_lane, s.long_shift);
    while (n >= 3 * short_lane) lanes(short_lane, s.short_shift);
  }
  while (n >= 8) {
    reg = KWIRE_CRC32CD(reg, load_le64(p));
    p += 8;
    n -= 8;
  }
  while (n--) reg = KWIRE_CRC32CB(reg, *p++);
  return reg;
}

#else

bool detect_hardware() noexcept { return false; }
constexpr std::string_view hardware_name = "portable";
std::uint32_t hardware_update(std::uint32_t reg, const std::uint8_t* p, std::size_t n) noexcept {
  return portable_update(reg, p, n);
}

#endif

bool hardware_present() noexcept {
  static const bool present = detect_hardware();
  return present;
}

}  // namespace

std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  return ~portable_update(~crc, data.data(), data.size());
}

bool crc32c_hardware_available() noexcept { return hardware_present(); }

std::uint32_t crc32c_hardware(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  if (!hardware_present()) return crc32c_portable(data, crc);
  return ~hardware_update(~crc, data.data(), data.size());
}

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc) noexcept {
  if (hardware_present()) return ~hardware_update(~crc, data.data(), data.size());
  return ~portable_update(~crc, data.data(), data.size());
}

std::string_view crc32c_implementation() noexcept {
  return hardware_present() ? hardware_name : std::string_view("portable");
}

}  // namespace kwire
