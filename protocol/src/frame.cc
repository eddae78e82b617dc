#include "kwire/protocol/frame.hpp"

#include "kwire/protocol/detail/bytes.hpp"

namespace kwire {

frame_view split_frame(std::span<const std::uint8_t> buffered,
                       std::size_t max_frame_size) noexcept {
  frame_view v;
  if (buffered.size() < 4) return v;
  const std::int32_t size = detail::load_be<std::int32_t>(buffered.data());
  v.declared_size = size;
  if (size < 0) {
    v.state = frame_view::status::error;
    v.error = codec_errc::negative_length;
    return v;
  }
  if (static_cast<std::size_t>(size) > max_frame_size) {
    v.state = frame_view::status::error;
    v.error = codec_errc::limit_exceeded;
    return v;
  }
  if (buffered.size() - 4 < static_cast<std::size_t>(size)) return v;
  v.state = frame_view::status::frame;
  v.payload = buffered.subspan(4, static_cast<std::size_t>(size));
  v.consumed = 4 + static_cast<std::size_t>(size);
  return v;
}

void frame_splitter::feed(std::span<const std::uint8_t> bytes) {
  if (failed()) return;
  // Drop what was handed out before growing, so the buffer holds at most one
  // partial frame plus what just arrived.
  if (start_ > 0 && (start_ == buffer_.size() || start_ > buffer_.size() / 2)) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<std::span<const std::uint8_t>> frame_splitter::next() {
  if (failed()) return std::nullopt;
  const auto v =
      split_frame(std::span<const std::uint8_t>(buffer_).subspan(start_), max_frame_size_);
  switch (v.state) {
    case frame_view::status::need_more:
      return std::nullopt;
    case frame_view::status::error:
      error_ = v.error;
      detail_ =
          "frame of " + std::to_string(v.declared_size) + " bytes" +
          (v.error == codec_errc::limit_exceeded ? " > maximum " + std::to_string(max_frame_size_)
                                                 : std::string(" (negative size)"));
      return std::nullopt;
    case frame_view::status::frame:
      start_ += v.consumed;
      return v.payload;
  }
  return std::nullopt;
}

void end_frame(writer& w, std::size_t at) {
  const std::size_t size = w.size() - at - 4;
  if (size > static_cast<std::size_t>(INT32_MAX)) {
    w.fail(codec_errc::value_too_large, "frame of " + std::to_string(size) + " bytes");
    return;
  }
  detail::store_be(w.buffer().data() + at, static_cast<std::uint32_t>(size));
}

}  // namespace kwire
