// Fuzz target: the frame splitter, request and response headers, and whole
// requests and responses decoded from frames.
//
// Input: byte 0 sets how many bytes each feed() gets (bits 0-5, so the
// splitter sees every way a stream can be cut) and the direction (bit 6:
// responses). For responses, bytes 1 and 2 pick the API and version that the
// frames answer (the API whose key is byte 1, else the (byte 1)-th API; the
// version itself when supported, else one by modulo), as a client knows from
// its request. The rest is the stream.
// Oracles: the splitter never hands out more bytes than it was fed; both
// header versions of each direction round-trip; whatever decodes re-encodes,
// through the whole-frame encoders, to a frame that decodes to an equal
// message (a response header's unknown tagged fields are not re-encoded: the
// encoder takes only a correlation id).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/header.hpp"

namespace {

// An oracle failed: say which, then crash so that libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
  std::abort();
}
#define CHECK(cond) ((cond) ? void() : fail(#cond, __LINE__))

// Every header version decodes or fails cleanly; what decodes re-encodes to an equal header.
template <typename Header>
void header_round_trip(std::span<const std::uint8_t> frame, int versions) {
  for (std::int16_t v = 0; v < versions; ++v) {
    kwire::reader r(frame);
    auto h = Header::decode(r, v);
    if (!h) continue;
    std::vector<std::uint8_t> out;
    kwire::writer w(out);
    h->encode(w, v);
    CHECK(w.ok() && out.size() == h->encoded_size(v));
    kwire::reader r2(out);
    auto again = Header::decode(r2, v);
    CHECK(again && r2.remaining() == 0 && *again == *h);
  }
}

void on_request(std::span<const std::uint8_t> frame) {
  header_round_trip<kwire::request_header>(frame, 3);
  auto req = kwire::decode_request(frame);
  if (!req) return;
  auto out = kwire::encode_request(req->header, req->body);
  CHECK(out.ok());
  const auto split = kwire::split_frame(*out);
  CHECK(split.state == kwire::frame_view::status::frame && split.consumed == out->size());
  auto again = kwire::decode_request(split.payload);
  CHECK(again && again->header == req->header && again->api == req->api &&
        again->body == req->body);
}

void on_response(std::span<const std::uint8_t> frame, std::int16_t api_key, std::int16_t version) {
  header_round_trip<kwire::response_header>(frame, 2);
  auto res = kwire::decode_response(frame, api_key, version);
  if (!res) return;
  CHECK(kwire::peek_correlation_id(frame) == res->header.correlation_id);
  // The frame encoder writes header tagged fields never; compare without them.
  auto out = kwire::encode_response(res->header.correlation_id, version, res->body);
  CHECK(out.ok());
  const auto split = kwire::split_frame(*out);
  CHECK(split.state == kwire::frame_view::status::frame && split.consumed == out->size());
  auto again = kwire::decode_response(split.payload, api_key, version);
  CHECK(again && again->header.correlation_id == res->header.correlation_id &&
        again->header.unknown_tags.empty() && again->body == res->body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const bool responses = (data[0] & 64) != 0;
  std::size_t at = 1;
  std::int16_t api_key = 0;
  std::int16_t version = 0;
  if (responses) {
    if (size < 3) return 0;
    const auto apis = kwire::all_apis();
    const kwire::api_info* api = &apis[data[1] % apis.size()];
    for (const auto& a : apis)
      if (a.key == data[1]) api = &a;  // so that seeds can name the key itself
    api_key = api->key;
    version = api->supports(data[2])
                  ? static_cast<std::int16_t>(data[2])
                  : static_cast<std::int16_t>(api->min_version +
                                              data[2] % (api->max_version - api->min_version + 1));
    at = 3;
  }
  const std::size_t stream_size = size - at;
  kwire::frame_splitter splitter(1 << 20);
  std::size_t frames_bytes = 0;
  for (; at < size; at += chunk) {
    const std::size_t n = std::min(chunk, size - at);
    splitter.feed(std::span<const std::uint8_t>(data + at, n));
    while (auto frame = splitter.next()) {
      frames_bytes += frame->size() + 4;
      if (responses) {
        on_response(*frame, api_key, version);
      } else {
        on_request(*frame);
      }
    }
    if (splitter.failed()) break;
  }
  CHECK(frames_bytes + splitter.buffered() <= stream_size);
  return 0;
}
