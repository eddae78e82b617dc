// Compression codecs of Kafka record batches: gzip, snappy, lz4 and zstd.
//
// Compression covers the records of a batch (or the value of a legacy wrapper
// message), never a header. The wire forms are the ones Kafka's Java client
// writes and reads:
//   - gzip: a gzip stream (RFC 1952) from zlib; reading also accepts a zlib
//     stream and several concatenated gzip members.
//   - snappy: the xerial framing when writing (a 16-byte header, then
//     int32-length-prefixed snappy blocks); reading accepts it and raw snappy.
//   - lz4: the LZ4 frame format; reading accepts concatenated frames.
//   - zstd: zstd frames.
//
// Decompression always takes a limit on the output size and stops with
// codec_errc::limit_exceeded once the output would pass it; the output buffer
// grows towards the limit as data actually arrives, so a small input that
// claims or expands to gigabytes never allocates more than about the limit.
//
// All functions are thread-safe. Compression keeps one reusable codec context
// per thread, so the producer's hot path does not allocate one per batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "kwire/protocol/error.hpp"

namespace kwire {

/// The compression codec, with the value of attribute bits 0-2.
enum class compression : std::uint8_t {
  none = 0,
  gzip = 1,
  snappy = 2,
  lz4 = 3,
  zstd = 4,
};

/// Kafka's name for a codec ("none", "gzip", "snappy", "lz4", "zstd"), or
/// "unknown" for a value outside the enum.
std::string_view to_string(compression codec) noexcept;

/// True for the five codecs above.
bool is_known_compression(int value) noexcept;

/// Default cap on decompressed bytes. Kafka's default message.max.bytes is
/// about 1 MiB and typical codecs shrink text 3 to 10 times; 64 MiB leaves
/// room for well-compressed large batches while keeping a hostile batch from
/// taking more memory than a handful of normal fetches.
inline constexpr std::size_t default_max_decompressed_size = std::size_t{64} << 20;

/// Block size used for the xerial snappy framing when writing; the same as
/// the Java client's default, so readers sized for it are happy.
inline constexpr std::size_t snappy_xerial_block_size = 32 * 1024;

/// Compresses `input` with `codec` and appends the result to `out`. `level`
/// 0 means the codec's default (gzip 6, lz4 fast, zstd 3); snappy ignores it.
/// Returns unsupported_compression for an unknown codec, value_too_large for
/// an input the codec cannot take, compression_error if the library fails.
/// compression::none appends the input unchanged.
std::error_code compress(compression codec, std::span<const std::uint8_t> input,
                         std::vector<std::uint8_t>& out, int level = 0);

/// Decompresses `input` and appends the result to `out`, which grows by at
/// most about `max_output` bytes. Returns the number of bytes appended, or an
/// error: limit_exceeded when the output would be larger than `max_output`,
/// compression_error for corrupt or truncated input (with the library's reason
/// in `detail` and the input offset where known), unsupported_compression for
/// an unknown codec. On error, `out` keeps its original size.
result<std::size_t> decompress(compression codec, std::span<const std::uint8_t> input,
                               std::vector<std::uint8_t>& out,
                               std::size_t max_output = default_max_decompressed_size);

/// An upper bound of compress()'s output size for `input_size` bytes.
std::size_t max_compressed_size(compression codec, std::size_t input_size) noexcept;

}  // namespace kwire
