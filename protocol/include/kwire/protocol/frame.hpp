// Framing: every Kafka request and response travels as an int32 size
// followed by that many bytes. The splitter cuts a byte stream into frames,
// refusing any frame above a maximum size before buffering it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kwire/protocol/error.hpp"
#include "kwire/protocol/wire.hpp"

namespace kwire {

/// Kafka brokers refuse requests above socket.request.max.bytes (100 MiB by default).
inline constexpr std::size_t default_max_frame_size = 100 * 1024 * 1024;

/// What split_frame found at the start of a buffer.
struct frame_view {
  enum class status { frame, need_more, error };
  status state = status::need_more;
  std::span<const std::uint8_t> payload;  ///< the frame without its size prefix
  std::size_t consumed = 0;               ///< prefix + payload, when state is frame
  std::int64_t declared_size = 0;         ///< the size prefix, once 4 bytes were there
  std::error_code error;                  ///< limit_exceeded or negative_length
};

/// Looks at the start of `buffered` for one complete frame. Never copies.
frame_view split_frame(std::span<const std::uint8_t> buffered,
                       std::size_t max_frame_size = default_max_frame_size) noexcept;

/// Deleted: the payload would view a buffer that dies at the end of the
/// statement. Keep the buffer in a variable, or pass a span.
frame_view split_frame(std::vector<std::uint8_t>&& buffered,
                       std::size_t max_frame_size = default_max_frame_size) = delete;

/// Accumulates bytes from a stream and hands out complete frames. A frame
/// whose size prefix is negative or above the maximum puts the splitter in a
/// failed state: the stream cannot be resynchronised, so its connection
/// should be closed. Not thread-safe.
class frame_splitter {
 public:
  explicit frame_splitter(std::size_t max_frame_size = default_max_frame_size)
      : max_frame_size_(max_frame_size) {}

  /// Appends received bytes.
  void feed(std::span<const std::uint8_t> bytes);

  /// The next complete frame's payload, valid until the next feed() or
  /// next(); empty optional when more bytes are needed or after a failure.
  std::optional<std::span<const std::uint8_t>> next();

  bool failed() const noexcept { return static_cast<bool>(error_); }
  std::error_code error() const noexcept { return error_; }
  /// Words naming the bad size, e.g. "frame of 2147483647 bytes > maximum 104857600".
  const std::string& error_detail() const noexcept { return detail_; }
  /// Bytes received but not yet handed out.
  std::size_t buffered() const noexcept { return buffer_.size() - start_; }
  /// With nothing buffered, gives back the buffer's memory (a connection
  /// that went quiet after a large frame).
  void release() noexcept {
    if (buffered() == 0) {
      buffer_ = {};
      start_ = 0;
    }
  }

 private:
  std::size_t max_frame_size_;
  std::vector<std::uint8_t> buffer_;
  std::size_t start_ = 0;
  std::error_code error_;
  std::string detail_;
};

/// Starts a frame in `w`: writes a placeholder size and returns its position.
inline std::size_t begin_frame(writer& w) {
  const std::size_t at = w.size();
  w.write_int32(0);
  return at;
}

/// Ends a frame begun at `at`: fills in the size of what followed.
void end_frame(writer& w, std::size_t at);

}  // namespace kwire
