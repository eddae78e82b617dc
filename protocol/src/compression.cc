#include "kwire/protocol/compression.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "kwire/protocol/detail/bytes.hpp"

namespace kwire {
namespace {

decode_error failure(codec_errc code, std::size_t offset, std::string detail) {
  decode_error e;
  e.code = code;
  e.offset = offset;
  e.detail = std::move(detail);
  return e;
}

decode_error over_limit(compression codec, std::size_t limit) {
  return failure(codec_errc::limit_exceeded, 0,
                 std::string(to_string(codec)) + " output exceeds the decompression limit of " +
                     std::to_string(limit) + " bytes");
}

// Appends decompressed bytes to a caller's vector, growing it geometrically
// but never past max_output + 1 bytes: producing that one extra byte proves
// the real output is over the limit, without having to allocate more.
class bounded_output {
 public:
  bounded_output(std::vector<std::uint8_t>& out, std::size_t max_output, std::size_t hint)
      : out_(out),
        start_(out.size()),
        limit_(max_output),
        cap_(max_output == std::numeric_limits<std::size_t>::max() ? max_output : max_output + 1) {
    reserve(std::min(cap_, std::max<std::size_t>(hint, 256)));
  }
  ~bounded_output() { out_.resize(start_ + (done_ ? written_ : 0)); }

  std::uint8_t* free_ptr() noexcept { return out_.data() + start_ + written_; }
  std::size_t free_size() const noexcept { return allocated_ - written_; }
  void produced(std::size_t n) noexcept { written_ += n; }
  std::size_t written() const noexcept { return written_; }
  bool over_limit() const noexcept { return written_ > limit_; }
  /// Makes more room; false when already at the cap.
  bool grow() {
    if (allocated_ >= cap_) return false;
    const std::size_t next =
        allocated_ > cap_ / 2 ? cap_ : std::max<std::size_t>(allocated_ * 2, 64 * 1024);
    reserve(std::min(next, cap_));
    return true;
  }
  /// Ensures room for `n` more bytes; false if that passes the cap.
  bool ensure(std::size_t n) {
    if (n > cap_ - written_) return false;
    if (written_ + n > allocated_) reserve(std::max(written_ + n, std::min(cap_, allocated_ * 2)));
    return true;
  }
  /// Keeps the output; otherwise the destructor removes it.
  std::size_t commit() noexcept {
    done_ = true;
    return written_;
  }

 private:
  void reserve(std::size_t n) {
    allocated_ = n;
    out_.resize(start_ + n);
  }

  std::vector<std::uint8_t>& out_;
  std::size_t start_;
  std::size_t limit_;
  std::size_t cap_;
  std::size_t allocated_ = 0;
  std::size_t written_ = 0;
  bool done_ = false;
};

// ---- gzip ---------------------------------------------------------------

struct deflate_context {
  z_stream stream{};
  int level = 0;
  bool ready = false;
  ~deflate_context() {
    if (ready) deflateEnd(&stream);
  }
};

std::error_code gzip_compress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                              int level) {
  if (in.size() > std::numeric_limits<uInt>::max()) return codec_errc::value_too_large;
  const int zlevel = level == 0 ? Z_DEFAULT_COMPRESSION : std::clamp(level, 1, 9);
  thread_local deflate_context ctx;
  if (ctx.ready && ctx.level == zlevel) {
    if (deflateReset(&ctx.stream) != Z_OK) return codec_errc::compression_error;
  } else {
    if (ctx.ready) deflateEnd(&ctx.stream);
    ctx.stream = z_stream{};
    ctx.ready = false;
    // 15 + 16: a 32 KiB window with the gzip wrapper.
    if (deflateInit2(&ctx.stream, zlevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return codec_errc::compression_error;
    }
    ctx.ready = true;
    ctx.level = zlevel;
  }
  z_stream& zs = ctx.stream;
  const std::size_t bound = deflateBound(&zs, static_cast<uLong>(in.size()));
  const std::size_t old = out.size();
  out.resize(old + bound);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = out.data() + old;
  zs.avail_out = static_cast<uInt>(std::min<std::size_t>(bound, std::numeric_limits<uInt>::max()));
  const int rc = deflate(&zs, Z_FINISH);
  if (rc != Z_STREAM_END) {
    out.resize(old);
    return codec_errc::compression_error;
  }
  out.resize(old + zs.total_out);
  return {};
}

struct inflate_guard {
  z_stream* stream;
  ~inflate_guard() { inflateEnd(stream); }
};

result<std::size_t> gzip_decompress(std::span<const std::uint8_t> in,
                                    std::vector<std::uint8_t>& out, std::size_t limit) {
  if (in.size() > std::numeric_limits<uInt>::max()) {
    return failure(codec_errc::compression_error, 0, "gzip input larger than 4 GiB");
  }
  z_stream zs{};
  // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return failure(codec_errc::compression_error, 0, "gzip: inflateInit2 failed");
  }
  inflate_guard guard{&zs};
  // The gzip trailer's ISIZE (size mod 2^32) is only a hint: it may lie.
  std::size_t hint = in.size() * 4;
  if (in.size() >= 18 && in[0] == 0x1f && in[1] == 0x8b) {
    const std::uint8_t* t = in.data() + in.size() - 4;
    hint = static_cast<std::size_t>(t[0]) | (static_cast<std::size_t>(t[1]) << 8) |
           (static_cast<std::size_t>(t[2]) << 16) | (static_cast<std::size_t>(t[3]) << 24);
    // Deflate expands at most about 1032 times, so a bigger ISIZE is a lie.
    hint = std::min(hint, in.size() * 1032) + 1;
  }
  bounded_output sink(out, limit, hint);
  zs.next_in = const_cast<Bytef*>(in.data());
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (sink.free_size() == 0 && !sink.grow()) return over_limit(compression::gzip, limit);
    const std::size_t room =
        std::min<std::size_t>(sink.free_size(), std::numeric_limits<uInt>::max());
    zs.next_out = sink.free_ptr();
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    sink.produced(room - zs.avail_out);
    if (sink.over_limit()) return over_limit(compression::gzip, limit);
    const std::size_t consumed = in.size() - zs.avail_in;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member may follow, as GZIPInputStream accepts.
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        if (inflateReset(&zs) != Z_OK) {
          return failure(codec_errc::compression_error, consumed, "gzip: inflateReset failed");
        }
        continue;
      }
      return failure(codec_errc::compression_error, consumed,
                     "gzip: " + std::to_string(zs.avail_in) + " bytes after the end of the stream");
    }
    if (rc == Z_OK || rc == Z_BUF_ERROR) {
      if (zs.avail_in == 0 && zs.avail_out != 0) {
        return failure(codec_errc::compression_error, consumed, "gzip: truncated stream");
      }
      continue;
    }
    return failure(codec_errc::compression_error, consumed,
                   std::string("gzip: ") + (zs.msg ? zs.msg : "inflate failed"));
  }
  return sink.commit();
}

// ---- snappy -------------------------------------------------------------

constexpr std::uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0x00};
constexpr std::size_t xerial_header_size = 16;

std::size_t snappy_bound(std::size_t n) noexcept {
  const std::size_t blocks = (n + snappy_xerial_block_size - 1) / snappy_xerial_block_size;
  return xerial_header_size + blocks * (4 + snappy::MaxCompressedLength(snappy_xerial_block_size));
}

std::error_code snappy_compress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out) {
  const std::size_t old = out.size();
  out.resize(old + snappy_bound(in.size()));
  std::uint8_t* p = out.data() + old;
  std::memcpy(p, xerial_magic, 8);
  detail::store_be<std::uint32_t>(p + 8, 1);   // version
  detail::store_be<std::uint32_t>(p + 12, 1);  // oldest compatible version
  p += xerial_header_size;
  for (std::size_t pos = 0; pos < in.size(); pos += snappy_xerial_block_size) {
    const std::size_t n = std::min(snappy_xerial_block_size, in.size() - pos);
    std::size_t written = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.data() + pos), n,
                        reinterpret_cast<char*>(p + 4), &written);
    detail::store_be<std::uint32_t>(p, static_cast<std::uint32_t>(written));
    p += 4 + written;
  }
  out.resize(static_cast<std::size_t>(p - out.data()));
  return {};
}

result<std::size_t> snappy_decompress(std::span<const std::uint8_t> in,
                                      std::vector<std::uint8_t>& out, std::size_t limit) {
  auto uncompress_block = [&](std::size_t at, const std::uint8_t* block, std::size_t size,
                              bounded_output& sink) -> std::optional<decode_error> {
    const char* src = reinterpret_cast<const char*>(block);
    std::size_t n = 0;
    if (!snappy::GetUncompressedLength(src, size, &n)) {
      return failure(codec_errc::compression_error, at, "snappy: bad block length header");
    }
    if (!sink.ensure(n) || sink.written() + n > limit)
      return over_limit(compression::snappy, limit);
    if (!snappy::RawUncompress(src, size, reinterpret_cast<char*>(sink.free_ptr()))) {
      return failure(codec_errc::compression_error, at, "snappy: corrupt block");
    }
    sink.produced(n);
    return std::nullopt;
  };

  const bool framed = in.size() >= 8 && std::memcmp(in.data(), xerial_magic, 8) == 0;
  if (!framed) {
    bounded_output sink(out, limit, 0);
    if (auto err = uncompress_block(0, in.data(), in.size(), sink)) return std::move(*err);
    return sink.commit();
  }
  if (in.size() < xerial_header_size) {
    return failure(codec_errc::compression_error, 0, "snappy: truncated xerial header");
  }
  bounded_output sink(out, limit, in.size() * 2);
  std::size_t pos = xerial_header_size;
  while (pos < in.size()) {
    if (in.size() - pos < 4) {
      return failure(codec_errc::compression_error, pos, "snappy: truncated xerial block length");
    }
    const std::uint32_t n = detail::load_be<std::uint32_t>(in.data() + pos);
    if (n > in.size() - pos - 4) {
      return failure(codec_errc::compression_error, pos,
                     "snappy: xerial block length " + std::to_string(n) + " > " +
                         std::to_string(in.size() - pos - 4) + " bytes remaining");
    }
    if (auto err = uncompress_block(pos + 4, in.data() + pos + 4, n, sink)) return std::move(*err);
    pos += 4 + n;
  }
  return sink.commit();
}

// ---- lz4 ----------------------------------------------------------------

LZ4F_preferences_t lz4_preferences(std::size_t input_size, int level) noexcept {
  LZ4F_preferences_t prefs{};
  // 64 KiB independent blocks: what Kafka's Java LZ4 stream reads and writes.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.frameInfo.contentSize = input_size;  // lets readers size their output exactly
  prefs.compressionLevel = level;
  return prefs;
}

std::error_code lz4_compress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                             int level) {
  const LZ4F_preferences_t prefs = lz4_preferences(in.size(), level);
  const std::size_t bound = LZ4F_compressFrameBound(in.size(), &prefs);
  const std::size_t old = out.size();
  out.resize(old + bound);
  // LZ4F_compressFrame keeps its context on the stack for fast levels.
  const std::size_t n = LZ4F_compressFrame(out.data() + old, bound, in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) {
    out.resize(old);
    return codec_errc::compression_error;
  }
  out.resize(old + n);
  return {};
}

struct lz4_dctx_holder {
  LZ4F_dctx* dctx = nullptr;
  ~lz4_dctx_holder() {
    if (dctx) LZ4F_freeDecompressionContext(dctx);
  }
};

result<std::size_t> lz4_decompress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                                   std::size_t limit) {
  // A fresh context per call: liblz4 1.9.4 keeps a frame's content size
  // across LZ4F_resetDecompressionContext(), so a reused context rejects a
  // following frame that declares none.
  lz4_dctx_holder holder;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&holder.dctx, LZ4F_VERSION))) {
    holder.dctx = nullptr;
    return failure(codec_errc::compression_error, 0, "lz4: cannot create a context");
  }
  LZ4F_dctx* d = holder.dctx;

  LZ4F_frameInfo_t info{};
  std::size_t pos = in.size();
  const std::size_t rc = LZ4F_getFrameInfo(d, &info, in.data(), &pos);
  if (LZ4F_isError(rc)) {
    return failure(codec_errc::compression_error, 0, std::string("lz4: ") + LZ4F_getErrorName(rc));
  }
  if (info.contentSize > limit) return over_limit(compression::lz4, limit);
  // An LZ4 block expands at most about 255 times; a larger declared size is
  // only believed once the data proves it.
  const std::size_t declared =
      std::min<std::size_t>(static_cast<std::size_t>(info.contentSize), in.size() * 255);
  bounded_output sink(out, limit, info.contentSize ? declared + 1 : in.size() * 4);
  for (;;) {
    if (sink.free_size() == 0 && !sink.grow()) {
      return over_limit(compression::lz4, limit);
    }
    std::size_t dst = sink.free_size();
    std::size_t src = in.size() - pos;
    const std::size_t r = LZ4F_decompress(d, sink.free_ptr(), &dst, in.data() + pos, &src, nullptr);
    if (LZ4F_isError(r)) {
      return failure(codec_errc::compression_error, pos,
                     std::string("lz4: ") + LZ4F_getErrorName(r));
    }
    sink.produced(dst);
    pos += src;
    if (sink.over_limit()) {
      return over_limit(compression::lz4, limit);
    }
    if (r == 0) {
      if (pos == in.size()) break;
      // Another frame follows; it gets a fresh context for the reason above.
      LZ4F_freeDecompressionContext(holder.dctx);
      if (LZ4F_isError(LZ4F_createDecompressionContext(&holder.dctx, LZ4F_VERSION))) {
        holder.dctx = nullptr;
        return failure(codec_errc::compression_error, pos, "lz4: cannot create a context");
      }
      d = holder.dctx;
      continue;
    }
    if (pos == in.size() && dst == 0 && sink.free_size() != 0) {
      return failure(codec_errc::compression_error, pos, "lz4: truncated frame");
    }
  }
  return sink.commit();
}

// ---- zstd ---------------------------------------------------------------

struct zstd_contexts {
  ZSTD_CCtx* cctx = nullptr;
  ZSTD_DCtx* dctx = nullptr;
  ~zstd_contexts() {
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }
};

zstd_contexts& zstd_thread_contexts() {
  thread_local zstd_contexts ctx;
  return ctx;
}

std::error_code zstd_compress(std::span<const std::uint8_t> in, std::vector<std::uint8_t>& out,
                              int level) {
  auto& ctx = zstd_thread_contexts();
  if (!ctx.cctx && !(ctx.cctx = ZSTD_createCCtx())) return codec_errc::compression_error;
  const std::size_t bound = ZSTD_compressBound(in.size());
  const std::size_t old = out.size();
  out.resize(old + bound);
  const std::size_t n = ZSTD_compressCCtx(ctx.cctx, out.data() + old, bound, in.data(), in.size(),
                                          level == 0 ? ZSTD_CLEVEL_DEFAULT : level);
  if (ZSTD_isError(n)) {
    out.resize(old);
    return codec_errc::compression_error;
  }
  out.resize(old + n);
  return {};
}

result<std::size_t> zstd_decompress(std::span<const std::uint8_t> in,
                                    std::vector<std::uint8_t>& out, std::size_t limit) {
  auto& ctx = zstd_thread_contexts();
  if (!ctx.dctx && !(ctx.dctx = ZSTD_createDCtx())) {
    return failure(codec_errc::compression_error, 0, "zstd: cannot create a context");
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return failure(codec_errc::compression_error, 0, "zstd: not a zstd frame");
  }
  std::size_t hint = in.size() * 4;
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (declared > limit) return over_limit(compression::zstd, limit);
    // One frame that states its size: decompress in one call into exactly
    // that much room; zstd fails rather than write past it.
    const std::size_t frame = ZSTD_findFrameCompressedSize(in.data(), in.size());
    if (!ZSTD_isError(frame) && frame == in.size()) {
      bounded_output sink(out, limit, 0);
      const auto size = static_cast<std::size_t>(declared);
      if (!sink.ensure(size)) return over_limit(compression::zstd, limit);
      const std::size_t n =
          ZSTD_decompressDCtx(ctx.dctx, sink.free_ptr(), size, in.data(), in.size());
      if (ZSTD_isError(n)) {
        return failure(codec_errc::compression_error, 0,
                       std::string("zstd: ") + ZSTD_getErrorName(n));
      }
      if (n != size) {
        return failure(codec_errc::compression_error, 0,
                       "zstd: frame shorter than its header says");
      }
      sink.produced(n);
      return sink.commit();
    }
    hint = static_cast<std::size_t>(declared) + 1;
  }
  ZSTD_DCtx_reset(ctx.dctx, ZSTD_reset_session_only);
  bounded_output sink(out, limit, hint);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  for (;;) {
    if (sink.free_size() == 0 && !sink.grow()) return over_limit(compression::zstd, limit);
    ZSTD_outBuffer output{sink.free_ptr(), sink.free_size(), 0};
    const std::size_t r = ZSTD_decompressStream(ctx.dctx, &output, &input);
    if (ZSTD_isError(r)) {
      ZSTD_DCtx_reset(ctx.dctx, ZSTD_reset_session_only);
      return failure(codec_errc::compression_error, input.pos,
                     std::string("zstd: ") + ZSTD_getErrorName(r));
    }
    sink.produced(output.pos);
    if (sink.over_limit()) {
      ZSTD_DCtx_reset(ctx.dctx, ZSTD_reset_session_only);
      return over_limit(compression::zstd, limit);
    }
    if (input.pos == input.size) {
      if (r == 0) break;
      if (output.pos < output.size) {
        ZSTD_DCtx_reset(ctx.dctx, ZSTD_reset_session_only);
        return failure(codec_errc::compression_error, input.pos, "zstd: truncated frame");
      }
    }
  }
  return sink.commit();
}

}  // namespace

std::string_view to_string(compression codec) noexcept {
  switch (codec) {
    case compression::none:
      return "none";
    case compression::gzip:
      return "gzip";
    case compression::snappy:
      return "snappy";
    case compression::lz4:
      return "lz4";
    case compression::zstd:
      return "zstd";
  }
  return "unknown";
}

bool is_known_compression(int value) noexcept { return value >= 0 && value <= 4; }

std::error_code compress(compression codec, std::span<const std::uint8_t> input,
                         std::vector<std::uint8_t>& out, int level) {
  switch (codec) {
    case compression::none:
      out.insert(out.end(), input.begin(), input.end());
      return {};
    case compression::gzip:
      return gzip_compress(input, out, level);
    case compression::snappy:
      return snappy_compress(input, out);
    case compression::lz4:
      return lz4_compress(input, out, level);
    case compression::zstd:
      return zstd_compress(input, out, level);
  }
  return codec_errc::unsupported_compression;
}

result<std::size_t> decompress(compression codec, std::span<const std::uint8_t> input,
                               std::vector<std::uint8_t>& out, std::size_t max_output) {
  switch (codec) {
    case compression::none: {
      if (input.size() > max_output) return over_limit(codec, max_output);
      out.insert(out.end(), input.begin(), input.end());
      return input.size();
    }
    case compression::gzip:
      return gzip_decompress(input, out, max_output);
    case compression::snappy:
      return snappy_decompress(input, out, max_output);
    case compression::lz4:
      return lz4_decompress(input, out, max_output);
    case compression::zstd:
      return zstd_decompress(input, out, max_output);
  }
  return failure(codec_errc::unsupported_compression, 0,
                 "compression codec " + std::to_string(static_cast<int>(codec)));
}

std::size_t max_compressed_size(compression codec, std::size_t input_size) noexcept {
  switch (codec) {
    case compression::none:
      return input_size;
    case compression::gzip:
      return compressBound(static_cast<uLong>(input_size)) + 18;
    case compression::snappy:
      return snappy_bound(input_size);
    case compression::lz4: {
      const LZ4F_preferences_t prefs = lz4_preferences(input_size, 0);
      return LZ4F_compressFrameBound(input_size, &prefs);
    }
    case compression::zstd:
      return ZSTD_compressBound(input_size);
  }
  return 0;
}

}  // namespace kwire
