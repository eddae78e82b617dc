// Fuzz target: every request and response decoder. The first three bytes pick
// the API, the version and the direction; the rest is the message body.
// Oracle: whatever decodes re-encodes (with encoded_size matching) to bytes
// that decode to an equal message, and the whole-frame encoder puts exactly
// those bytes after its size prefix and header.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "kwire/protocol/api.hpp"
#include "kwire/protocol/frame_encode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const auto apis = kwire::all_apis();
  const auto& api = apis[data[0] % apis.size()];
  const auto span = api.max_version - api.min_version + 1;
  const auto version = static_cast<std::int16_t>(api.min_version + data[1] % span);
  const kwire::message_ops& ops = (data[2] & 1) ? *api.response : *api.request;

  kwire::reader r(std::span<const std::uint8_t>(data + 3, size - 3));
  auto decoded = kwire::any_message::decode(ops, r, version);
  if (!decoded) {
    // Errors must point inside the input.
    if (decoded.error().offset > size - 3) std::abort();
    return 0;
  }
  std::ostringstream printed;
  printed << *decoded;

  std::vector<std::uint8_t> out;
  kwire::writer w(out);
  decoded->encode(w, version);
  if (!w.ok() || decoded->encoded_size(version) != out.size()) std::abort();
  kwire::reader r2(out);
  auto again = kwire::any_message::decode(ops, r2, version);
  if (!again || r2.remaining() != 0 || !(*again == *decoded)) std::abort();

  kwire::request_header header;
  header.api_version = version;
  auto frame = ops.is_request ? kwire::encode_request(header, *decoded)
                              : kwire::encode_response(1, version, *decoded);
  if (!frame || frame->size() < out.size() ||
      !std::equal(out.begin(), out.end(), frame->end() - static_cast<std::ptrdiff_t>(out.size()))) {
    std::abort();
  }
  return 0;
}
