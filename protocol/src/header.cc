#include "kwire/protocol/header.hpp"

#include "kwire/protocol/detail/message_support.hpp"

namespace kwire {
namespace {

void write_tags(writer& w, const unknown_tagged_fields& tags) {
  w.write_uvarint(static_cast<std::uint32_t>(tags.size()));
  for (const auto& t : tags) detail::write_tagged(w, t);
}

std::size_t tags_size(const unknown_tagged_fields& tags) {
  std::size_t n = wire_size::uvarlong(tags.size());
  for (const auto& t : tags) n += detail::tagged_size(t);
  return n;
}

// Header tagged fields are all unknown to kwire; keep them in order.
void read_tags(reader& r, unknown_tagged_fields& out) { detail::read_tagged_fields(r, out); }

template <class T>
result<T> header_error(reader& r, const char* what, std::int16_t version) {
  return detail::context_error(r, what, version);
}

}  // namespace

void request_header::encode(writer& w, std::int16_t header_version) const {
  w.write_int16(api_key);
  w.write_int16(api_version);
  w.write_int32(correlation_id);
  if (header_version >= 1) w.write_nullable_string(client_id, false);
  if (header_version >= 2) write_tags(w, unknown_tags);
}

std::size_t request_header::encoded_size(std::int16_t header_version) const {
  std::size_t n = 8;
  if (header_version >= 1) n += wire_size::nullable_string(client_id, false);
  if (header_version >= 2) n += tags_size(unknown_tags);
  return n;
}

result<request_header> request_header::decode(reader& r, std::int16_t header_version) {
  request_header h;
  h.api_key = r.read_int16();
  h.api_version = r.read_int16();
  h.correlation_id = r.read_int32();
  if (!r.ok()) return header_error<request_header>(r, "RequestHeader", header_version);
  if (header_version >= 1) {
    h.client_id = r.read_nullable_string(false);
    if (!r.ok()) {
      r.prefix_path("ClientId");
      return header_error<request_header>(r, "RequestHeader", header_version);
    }
  }
  if (header_version >= 2) {
    read_tags(r, h.unknown_tags);
    if (!r.ok()) return header_error<request_header>(r, "RequestHeader", header_version);
  }
  return h;
}

void response_header::encode(writer& w, std::int16_t header_version) const {
  w.write_int32(correlation_id);
  if (header_version >= 1) write_tags(w, unknown_tags);
}

std::size_t response_header::encoded_size(std::int16_t header_version) const {
  return 4 + (header_version >= 1 ? tags_size(unknown_tags) : 0);
}

result<response_header> response_header::decode(reader& r, std::int16_t header_version) {
  response_header h;
  h.correlation_id = r.read_int32();
  if (header_version >= 1 && r.ok()) read_tags(r, h.unknown_tags);
  if (!r.ok()) return header_error<response_header>(r, "ResponseHeader", header_version);
  return h;
}

std::int16_t request_header_version(std::int16_t api_key, std::int16_t api_version) noexcept {
  const auto* api = find_api(api_key);
  if (api == nullptr) return 1;
  if (api_key == static_cast<std::int16_t>(kwire::api_key::controlled_shutdown) &&
      api_version == 0) {
    return 0;
  }
  return api->is_flexible(api_version) ? 2 : 1;
}

std::int16_t response_header_version(std::int16_t api_key, std::int16_t api_version) noexcept {
  if (api_key == static_cast<std::int16_t>(kwire::api_key::api_versions)) return 0;
  const auto* api = find_api(api_key);
  return api != nullptr && api->is_flexible(api_version) ? 1 : 0;
}

result<decoded_request> decode_request(std::span<const std::uint8_t> payload,
                                       std::shared_ptr<const void> owner) {
  reader r(payload, std::move(owner));
  // Key and version come first in every header version.
  reader peek(payload);
  const std::int16_t key = peek.read_int16();
  const std::int16_t version = peek.read_int16();
  if (!peek.ok()) return detail::context_error(peek, "RequestHeader", 0);
  const api_info* api = find_api(key);
  if (api == nullptr) {
    decode_error e;
    e.code = codec_errc::unknown_api;
    e.context = "RequestHeader";
    e.path = "RequestApiKey";
    e.detail = "API key " + std::to_string(key);
    return e;
  }
  if (!api->supports(version)) {
    decode_error e;
    e.code = codec_errc::unsupported_version;
    e.offset = 2;
    e.context = std::string(api->name) + "Request";
    e.path = "RequestApiVersion";
    e.detail = "version " + std::to_string(version) + ", supported " +
               std::to_string(api->min_version) + "-" + std::to_string(api->max_version);
    return e;
  }
  // The header's own version depends on the API version, so check that first.
  auto header = request_header::decode(r, request_header_version(key, version));
  if (!header) return header.error();
  auto body = any_message::decode(*api->request, r, version);
  if (!body) return body.error();
  if (r.remaining() != 0) {
    decode_error e;
    e.code = codec_errc::trailing_bytes;
    e.offset = r.offset();
    e.context = std::string(api->request->name) + " v" + std::to_string(version);
    e.detail = std::to_string(r.remaining()) + " bytes after the message";
    return e;
  }
  return decoded_request{std::move(header).value(), api, std::move(body).value()};
}

result<decoded_response> decode_response(std::span<const std::uint8_t> payload,
                                         std::int16_t api_key, std::int16_t api_version,
                                         std::shared_ptr<const void> owner) {
  const api_info* api = find_api(api_key);
  if (api == nullptr) {
    decode_error e;
    e.code = codec_errc::unknown_api;
    e.context = "ResponseHeader";
    e.detail = "API key " + std::to_string(api_key);
    return e;
  }
  reader r(payload, std::move(owner));
  auto header = response_header::decode(r, response_header_version(api_key, api_version));
  if (!header) return header.error();
  auto body = any_message::decode(*api->response, r, api_version);
  if (!body) return body.error();
  if (r.remaining() != 0) {
    decode_error e;
    e.code = codec_errc::trailing_bytes;
    e.offset = r.offset();
    e.context = std::string(api->response->name) + " v" + std::to_string(api_version);
    e.detail = std::to_string(r.remaining()) + " bytes after the message";
    return e;
  }
  return decoded_response{std::move(header).value(), api, std::move(body).value()};
}

std::optional<std::int32_t> peek_correlation_id(std::span<const std::uint8_t> payload) noexcept {
  reader r(payload);
  const std::int32_t id = r.read_int32();
  if (!r.ok()) return std::nullopt;
  return id;
}

}  // namespace kwire
