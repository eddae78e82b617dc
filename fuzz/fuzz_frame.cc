// Fuzz target: the frame splitter and whole-request decoding (header, API
// choice, body). The first byte sets how many bytes each feed() gets, so the
// splitter sees every way a stream can be cut.
#include <cstdint>
#include <cstdlib>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  kwire::frame_splitter splitter(1 << 20);
  std::size_t frames_bytes = 0;
  for (std::size_t at = 1; at < size; at += chunk) {
    const std::size_t n = std::min(chunk, size - at);
    splitter.feed(std::span<const std::uint8_t>(data + at, n));
    while (auto frame = splitter.next()) {
      frames_bytes += frame->size() + 4;
      auto req = kwire::decode_request(*frame);
      if (req) {
        std::vector<std::uint8_t> out;
        kwire::writer w(out);
        req->header.encode(w, kwire::request_header_version(req->header.api_key, req->header.api_version));
        req->body.encode(w, req->header.api_version);
        if (!w.ok()) std::abort();
      }
    }
    if (splitter.failed()) break;
  }
  if (frames_bytes + splitter.buffered() > size) std::abort();
  return 0;
}
