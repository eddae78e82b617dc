#include "kwire/protocol/error.hpp"

namespace kwire {
namespace {

class codec_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kwire.codec"; }
  std::string message(int ev) const override {
    switch (static_cast<codec_errc>(ev)) {
      case codec_errc::truncated:
        return "input ends inside a field";
      case codec_errc::negative_length:
        return "negative length or count";
      case codec_errc::length_exceeds_input:
        return "length or count exceeds the remaining input";
      case codec_errc::varint_too_long:
        return "varint too long";
      case codec_errc::null_not_allowed:
        return "null value where the field is not nullable";
      case codec_errc::unsupported_version:
        return "unsupported API version";
      case codec_errc::unknown_api:
        return "unknown API key";
      case codec_errc::limit_exceeded:
        return "configured limit exceeded";
      case codec_errc::trailing_bytes:
        return "unexpected trailing bytes";
      case codec_errc::invalid_tag_order:
        return "tagged fields out of order or repeated";
      case codec_errc::value_too_large:
        return "value too large for its wire form";
      case codec_errc::field_not_in_version:
        return "field has a non-default value but the version lacks it";
      case codec_errc::invalid_record:
        return "malformed record batch or record";
      case codec_errc::crc_mismatch:
        return "checksum mismatch";
      case codec_errc::compression_error:
        return "decompression failed";
      case codec_errc::unsupported_compression:
        return "unsupported compression codec";
      case codec_errc::wrong_message_kind:
        return "wrong kind of message";
    }
    return "unknown codec error";
  }
};

}  // namespace

const std::error_category& codec_category() noexcept {
  static const codec_category_impl instance;
  return instance;
}

std::string decode_error::message() const {
  std::string out = context.empty() ? std::string("decode") : context;
  out += ": ";
  out += code.message();
  if (!path.empty()) {
    out += " in field ";
    out += path;
  }
  out += " at byte offset ";
  out += std::to_string(offset);
  if (!detail.empty()) {
    out += " (";
    out += detail;
    out += ")";
  }
  return out;
}

}  // namespace kwire
