// CRC-32C (Castagnoli), the checksum of record batch v2.
//
// Two implementations compute the same function: a hardware one (the SSE 4.2
// crc32 instruction on x86-64, the CRC extension on ARMv8) and a portable
// slicing-by-8 table. crc32c() picks the hardware one at run time when the CPU
// has it, so the build needs no -msse4.2 and the binary still runs on CPUs
// without it. Both are exposed so tests and benchmarks can call each one.
//
// All functions are thread-safe and never allocate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace kwire {

/// CRC-32C of `data`. To checksum data in pieces, pass the previous result as
/// `crc`: crc32c(b, crc32c(a)) == crc32c(a followed by b). Start with 0.
std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// The portable table implementation; works everywhere.
std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// True when this CPU has a CRC-32C instruction that crc32c_hardware() uses.
bool crc32c_hardware_available() noexcept;

/// The hardware implementation. Precondition: crc32c_hardware_available();
/// on a CPU without the instruction it falls back to crc32c_portable() rather
/// than faulting, so a wrong call is slow, never a crash.
std::uint32_t crc32c_hardware(std::span<const std::uint8_t> data, std::uint32_t crc = 0) noexcept;

/// Which implementation crc32c() uses: "sse4.2", "armv8-crc" or "portable".
std::string_view crc32c_implementation() noexcept;

}  // namespace kwire
