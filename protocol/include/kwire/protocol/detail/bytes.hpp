// Big-endian loads and stores, zig-zag and unsigned varints over raw bytes:
// the one copy shared by the wire reader and writer, record batches, legacy
// message sets and compression framing. Not a public interface.
//
// Everything here is inline and branch-light because the encoders and the
// record parser are hot; nothing checks bounds except get_uvarint, which is
// given the end of its input. All functions are pure and thread-safe.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace kwire::detail {

/// Reverses the bytes of an unsigned integer on little-endian hosts, so that
/// the result is in network order (and back).
template <class U>
constexpr U to_big_endian(U v) noexcept {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(U) == 2) v = static_cast<U>(__builtin_bswap16(v));
    if constexpr (sizeof(U) == 4) v = static_cast<U>(__builtin_bswap32(v));
    if constexpr (sizeof(U) == 8) v = static_cast<U>(__builtin_bswap64(v));
  }
  return v;
}

/// Reads a big-endian T (an integer type) from `p`, which must hold sizeof(T) bytes.
template <class T>
inline T load_be(const std::uint8_t* p) noexcept {
  using U = std::make_unsigned_t<T>;
  U v;
  std::memcpy(&v, p, sizeof(U));
  return static_cast<T>(to_big_endian(v));
}

/// Writes `value` big-endian to `p`, which must have room for sizeof(T) bytes.
template <class T>
inline void store_be(std::uint8_t* p, T value) noexcept {
  using U = std::make_unsigned_t<T>;
  const U v = to_big_endian(static_cast<U>(value));
  std::memcpy(p, &v, sizeof(U));
}

/// Appends `value` big-endian to `out`.
template <class T>
inline void append_be(std::vector<std::uint8_t>& out, T value) {
  const std::size_t old = out.size();
  out.resize(old + sizeof(T));
  store_be(out.data() + old, value);
}

/// Zig-zag encodings: small magnitudes of either sign become small unsigned values.
inline std::uint64_t zigzag64(std::int64_t v) noexcept {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::uint32_t zigzag32(std::int32_t v) noexcept {
  return (static_cast<std::uint32_t>(v) << 1) ^ static_cast<std::uint32_t>(v >> 31);
}
inline std::int64_t unzigzag64(std::uint64_t u) noexcept {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}
inline std::int32_t unzigzag32(std::uint32_t u) noexcept {
  return static_cast<std::int32_t>((u >> 1) ^ (~(u & 1) + 1));
}

/// Bytes an unsigned varint of `v` takes (1 to 10).
inline std::size_t uvarint_size(std::uint64_t v) noexcept {
  // ceil(bits / 7) without a division: (floor(log2) * 9 + 73) / 64.
  const auto log2 = static_cast<std::size_t>(std::bit_width(v | 1)) - 1;
  return (log2 * 9 + 73) / 64;
}

/// Longest unsigned varint: 10 bytes for 64 bits.
inline constexpr std::size_t max_uvarint_size = 10;

/// Writes `v` as an unsigned varint at `p` (room for uvarint_size(v) bytes)
/// and returns the position after it.
inline std::uint8_t* put_uvarint(std::uint8_t* p, std::uint64_t v) noexcept {
  while (v >= 0x80) {
    *p++ = static_cast<std::uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<std::uint8_t>(v);
  return p;
}

/// Why get_uvarint stopped.
enum class varint_status { ok, truncated, too_long };

/// Reads an unsigned varint of at most MaxBytes bytes (5 for 32 bits, 10 for
/// 64) within [p, end), advancing p past it on success. The last allowed byte
/// may only carry the bits that still fit the type, as Kafka's readers insist.
template <int MaxBytes>
inline varint_status get_uvarint(const std::uint8_t*& p, const std::uint8_t* end,
                                 std::uint64_t& out) noexcept {
  static_assert(MaxBytes == 5 || MaxBytes == 10);
  if (p < end && *p < 0x80) [[likely]] {
    out = *p++;
    return varint_status::ok;
  }
  std::uint64_t v = 0;
  constexpr std::uint8_t last_max = MaxBytes == 5 ? 0x0f : 0x01;
  for (int i = 0; i < MaxBytes; ++i) {
    if (p + i >= end) return varint_status::truncated;
    const std::uint8_t b = p[i];
    v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (i == MaxBytes - 1 && b > last_max) return varint_status::too_long;
      p += i + 1;
      out = v;
      return varint_status::ok;
    }
  }
  return varint_status::too_long;
}

}  // namespace kwire::detail
