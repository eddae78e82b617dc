#include "kwire/protocol/frame_encode.hpp"

#include <optional>
#include <string>

#include "kwire/protocol/frame.hpp"

namespace kwire {
namespace {

std::string context_of(const message_ops& ops, std::int16_t version) {
  return std::string(ops.name) + " v" + std::to_string(version);
}

decode_error frame_error(codec_errc code, const message_ops* ops, std::int16_t version,
                         std::string detail) {
  decode_error e;
  e.code = code;
  if (ops != nullptr) e.context = context_of(*ops, version);
  e.detail = std::move(detail);
  return e;
}

// Checks what the writer cannot: the version, before a byte is written.
std::optional<decode_error> check_version(const message_ops& ops, std::int16_t version) {
  if (version >= ops.min_version && version <= ops.max_version) return std::nullopt;
  return frame_error(
      codec_errc::unsupported_version, &ops, version,
      "supported " + std::to_string(ops.min_version) + "-" + std::to_string(ops.max_version));
}

// The writer's first failure as a result: its field name, if it recorded one,
// becomes the path (and is not repeated as the detail), and its offset is
// counted from the start of the frame.
result<std::vector<std::uint8_t>> finish(writer& w, std::size_t frame_at,
                                         std::vector<std::uint8_t>& out, const message_ops& ops,
                                         std::int16_t version) {
  end_frame(w, frame_at);
  if (w.ok()) return std::move(out);
  decode_error e;
  e.code = w.error();
  e.offset = w.error_offset();
  e.context = context_of(ops, version);
  e.path = w.error_field();
  if (e.path != w.error_detail()) e.detail = w.error_detail();
  return e;
}

}  // namespace

namespace detail {

result<std::vector<std::uint8_t>> encode_request_frame(request_header& header,
                                                       const message_ops& ops, const void* body) {
  const std::int16_t version = header.api_version;
  if (auto e = check_version(ops, version)) return std::move(*e);
  header.api_key = ops.api_key;
  const std::int16_t header_version = request_header_version(ops.api_key, version);
  std::vector<std::uint8_t> out;
  // Exact sizes are cheap next to a reallocation in the middle of a large body.
  out.reserve(4 + header.encoded_size(header_version) + ops.encoded_size(body, version));
  writer w(out);
  const std::size_t at = begin_frame(w);
  header.encode(w, header_version);
  ops.encode(body, w, version);
  return finish(w, at, out, ops, version);
}

result<std::vector<std::uint8_t>> encode_response_frame(std::int32_t correlation_id,
                                                        std::int16_t version,
                                                        const message_ops& ops, const void* body) {
  if (auto e = check_version(ops, version)) return std::move(*e);
  const response_header header{correlation_id, {}};
  const std::int16_t header_version = response_header_version(ops.api_key, version);
  std::vector<std::uint8_t> out;
  out.reserve(4 + header.encoded_size(header_version) + ops.encoded_size(body, version));
  writer w(out);
  const std::size_t at = begin_frame(w);
  header.encode(w, header_version);
  ops.encode(body, w, version);
  return finish(w, at, out, ops, version);
}

}  // namespace detail

result<std::vector<std::uint8_t>> encode_request(request_header header, const any_message& body) {
  if (body.empty()) {
    return frame_error(codec_errc::wrong_message_kind, nullptr, header.api_version,
                       "an empty any_message has no type to encode");
  }
  if (!body.ops().is_request) {
    return frame_error(codec_errc::wrong_message_kind, &body.ops(), header.api_version,
                       "encode_request given a response");
  }
  return detail::encode_request_frame(header, body.ops(), body.get());
}

result<std::vector<std::uint8_t>> encode_response(std::int32_t correlation_id, std::int16_t version,
                                                  const any_message& body) {
  if (body.empty()) {
    return frame_error(codec_errc::wrong_message_kind, nullptr, version,
                       "an empty any_message has no type to encode");
  }
  if (body.ops().is_request) {
    return frame_error(codec_errc::wrong_message_kind, &body.ops(), version,
                       "encode_response given a request");
  }
  return detail::encode_response_frame(correlation_id, version, body.ops(), body.get());
}

}  // namespace kwire
