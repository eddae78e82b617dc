// Data types (ConsumerProtocolSubscription, ...) as clients carry them: an
// int16 version, then the struct at that version. The generated
// encode_<type>() and decode_<type>() functions are thin calls into this file.
#include "kwire/protocol/detail/versioned_data.hpp"

#include <algorithm>
#include <string>

namespace kwire::detail {
namespace {

// "ConsumerProtocolSubscription v7 (read as v3)": says which layout was used.
std::string versioned_context(const message_ops& ops, std::int16_t version, std::int16_t read_as) {
  std::string out(ops.name);
  out += " v";
  out += std::to_string(version);
  if (read_as != version) {
    out += " (read as v";
    out += std::to_string(read_as);
    out += ")";
  }
  return out;
}

}  // namespace

result<std::vector<std::uint8_t>> encode_versioned_data(const message_ops& ops, const void* data,
                                                        std::int16_t version) {
  decode_error e;
  e.context = std::string(ops.name) + " v" + std::to_string(version);
  if (version < ops.min_version || version > ops.max_version) {
    e.code = codec_errc::unsupported_version;
    e.detail =
        "supported " + std::to_string(ops.min_version) + "-" + std::to_string(ops.max_version);
    return e;
  }
  std::vector<std::uint8_t> out;
  out.reserve(2 + ops.encoded_size(data, version));
  writer w(out);
  w.write_int16(version);
  ops.encode(data, w, version);
  if (w.ok()) return out;
  // As the frame encoders report it: the field the writer named is the path.
  e.code = w.error();
  e.offset = w.error_offset();
  e.path = w.error_field();
  if (e.path != w.error_detail()) e.detail = w.error_detail();
  return e;
}

std::optional<decode_error> decode_versioned_data(const message_ops& ops, void* data,
                                                  std::span<const std::uint8_t> bytes) {
  reader r(bytes);
  const std::int16_t version = r.read_int16();
  if (!r.ok()) {
    r.prefix_path("Version");
    decode_error e = r.take_error();
    e.context.assign(ops.name);
    return e;
  }
  if (version < ops.min_version) {
    decode_error e;
    e.code = codec_errc::unsupported_version;
    e.path = "Version";
    e.context = versioned_context(ops, version, version);
    e.detail = "supported " + std::to_string(ops.min_version) + "-" +
               std::to_string(ops.max_version) + " and newer";
    return e;
  }
  // Newer versions only append fields (Kafka's rule for these types), so the
  // newest layout kwire knows reads a prefix of them; the rest is ignored.
  const std::int16_t read_as = std::min(version, ops.max_version);
  if (!ops.decode(data, r, read_as)) {
    decode_error e = r.take_error();
    e.context = versioned_context(ops, version, read_as);
    return e;
  }
  return std::nullopt;
}

}  // namespace kwire::detail
