#include "kwire/protocol/message_set.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include <zlib.h>

#include "kwire/protocol/detail/bytes.hpp"

namespace kwire {
namespace {

std::int64_t be64(const std::uint8_t* p) noexcept { return detail::load_be<std::int64_t>(p); }
std::uint32_t be32(const std::uint8_t* p) noexcept { return detail::load_be<std::uint32_t>(p); }

std::uint32_t zlib_crc32(const std::uint8_t* p, std::size_t n) noexcept {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; messages are bounded by int32 sizes anyway.
  while (n > 0) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

constexpr std::size_t log_overhead = 12;  // offset and message size
// crc, magic, attributes, key length, value length; magic 1 adds a timestamp.
constexpr std::size_t min_message_v0 = 4 + 1 + 1 + 4 + 4;
constexpr std::size_t min_message_v1 = min_message_v0 + 8;
constexpr std::int8_t attribute_log_append_time = 0x08;

}  // namespace

// Reads entries level by level; one object per read_message_set() call.
class message_set_parser {
 public:
  message_set_parser(const message_set_read_options& options, std::size_t input_offset)
      : options_(options), input_offset_(input_offset) {}

  struct wrapper_info {
    std::int64_t offset = 0;
    std::int8_t magic = 0;
    std::int64_t timestamp = -1;
    bool log_append_time = false;
    compression codec = compression::none;
    std::string path;
  };

  // Parses `data`; `wrapper` is null at the top level.
  bool parse(bytes_view data, const wrapper_info* wrapper) {
    std::size_t pos = 0;
    std::size_t index = 0;
    const std::size_t first_inner = set_.messages_.size();
    while (pos < data.size()) {
      const std::size_t rest = data.size() - pos;
      const std::uint8_t* entry = data.data() + pos;
      const bool offset_known = rest >= 8;
      const std::int64_t offset = offset_known ? be64(entry) : 0;
      current_path_ = wrapper ? wrapper->path + ".inner[" + std::to_string(index) + "]"
                              : std::string("message") +
                                    (offset_known ? "@offset=" + std::to_string(offset) : "");
      origin_ = wrapper ? 0 : input_offset_;
      base_ = data.data();

      if (rest < log_overhead) {
        if (!wrapper && options_.allow_truncated_tail) return tail(pos);
        return fail(entry, codec_errc::truncated, "messageSize",
                    "input ends " + std::to_string(rest) + " bytes into the entry");
      }
      const auto size = static_cast<std::int32_t>(be32(entry + 8));
      if (size < static_cast<std::int32_t>(min_message_v0)) {
        return fail(entry + 8, codec_errc::invalid_record, "messageSize",
                    "messageSize " + std::to_string(size) + " < " + std::to_string(min_message_v0));
      }
      if (static_cast<std::size_t>(size) > rest - log_overhead) {
        if (!wrapper && options_.allow_truncated_tail) return tail(pos);
        return fail(entry + 8, codec_errc::truncated, "messageSize",
                    "messageSize " + std::to_string(size) + " but only " +
                        std::to_string(rest - log_overhead) + " bytes follow");
      }
      const std::uint8_t* m = entry + log_overhead;
      const std::uint8_t* const mend = m + size;
      legacy_message msg;
      msg.offset = offset;
      msg.crc = be32(m);
      msg.magic = static_cast<std::int8_t>(m[4]);
      msg.attributes = static_cast<std::int8_t>(m[5]);
      if (msg.magic != 0 && msg.magic != 1) {
        return fail(
            m + 4, codec_errc::invalid_record, "magic",
            "magic " + std::to_string(msg.magic) +
                (msg.magic == 2 ? " is a record batch, not a message set" : ", expected 0 or 1"));
      }
      if (wrapper && msg.magic != wrapper->magic) {
        return fail(m + 4, codec_errc::invalid_record, "magic",
                    "inner magic " + std::to_string(msg.magic) + " in a magic " +
                        std::to_string(wrapper->magic) + " wrapper");
      }
      if (msg.magic == 1 && static_cast<std::size_t>(size) < min_message_v1) {
        return fail(entry + 8, codec_errc::invalid_record, "messageSize",
                    "messageSize " + std::to_string(size) + " < " + std::to_string(min_message_v1) +
                        " for magic 1");
      }
      if (options_.verify_crc) {
        const std::uint32_t computed = zlib_crc32(m + 4, static_cast<std::size_t>(size) - 4);
        if (computed != msg.crc) {
          return fail(
              m, codec_errc::crc_mismatch, "crc",
              "stored " + std::to_string(msg.crc) + ", computed " + std::to_string(computed));
        }
      }
      const std::uint8_t* p = m + 6;
      if (msg.magic == 1) {
        msg.timestamp = be64(p);
        p += 8;
      }
      msg.log_append_time = msg.magic == 1 && (msg.attributes & attribute_log_append_time);
      if (!read_bytes(p, mend, msg.key, "key") || !read_bytes(p, mend, msg.value, "value"))
        return false;
      if (p != mend) {
        return fail(p, codec_errc::trailing_bytes, "messageSize",
                    std::to_string(mend - p) + " bytes after the value");
      }

      const int codec = msg.attributes & 0x07;
      if (codec != 0) {
        if (wrapper) {
          return fail(m + 5, codec_errc::invalid_record, "attributes",
                      "a compressed message inside a compressed message");
        }
        if (codec > static_cast<int>(compression::lz4)) {
          return fail(m + 5, codec_errc::unsupported_compression, "attributes",
                      "compression codec " + std::to_string(codec) +
                          (codec == 4 ? " (zstd needs magic 2)" : ""));
        }
        if (!msg.value) {
          return fail(m, codec_errc::invalid_record, "value", "compressed message without a value");
        }
        if (!open_wrapper(msg, static_cast<compression>(codec), m)) return false;
      } else {
        if (wrapper) {
          msg.wrapper_codec = wrapper->codec;
          if (wrapper->log_append_time) {
            msg.timestamp = wrapper->timestamp;
            msg.log_append_time = true;
          }
        }
        set_.messages_.push_back(msg);
      }
      pos += log_overhead + static_cast<std::size_t>(size);
      ++index;
      if (!wrapper) set_.bytes_read_ = pos;
    }
    // Magic 1 inner offsets count back from the wrapper: the last inner
    // message has the wrapper's offset.
    if (wrapper && wrapper->magic == 1 && set_.messages_.size() > first_inner) {
      const std::int64_t last = set_.messages_.back().offset;
      for (std::size_t i = first_inner; i < set_.messages_.size(); ++i) {
        // Offsets from the wire: an absolute offset outside int64 is an
        // invalid wrapper, not an overflow (found by fuzz_records).
        std::int64_t base = 0;
        std::int64_t absolute = 0;
        if (__builtin_sub_overflow(wrapper->offset, last, &base) ||
            __builtin_add_overflow(base, set_.messages_[i].offset, &absolute))
          return fail(data.data(), codec_errc::invalid_record, "offset",
                      "inner message offsets do not fit the wrapper's offset");
        set_.messages_[i].offset = absolute;
      }
    }
    return true;
  }

  message_set take() { return std::move(set_); }
  decode_error take_error() { return std::move(error_); }

 private:
  bool read_bytes(const std::uint8_t*& p, const std::uint8_t* end, nullable_bytes_view& out,
                  const char* field) {
    if (end - p < 4) {
      return fail(p, codec_errc::truncated, field,
                  "message ends inside the " + std::string(field) + " length");
    }
    const auto n = static_cast<std::int32_t>(be32(p));
    if (n == -1) {
      p += 4;
      out.reset();
      return true;
    }
    if (n < 0) return fail(p, codec_errc::negative_length, field, "length " + std::to_string(n));
    if (static_cast<std::size_t>(n) > static_cast<std::size_t>(end - p - 4)) {
      return fail(p, codec_errc::length_exceeds_input, field,
                  "length " + std::to_string(n) + " > " + std::to_string(end - p - 4) +
                      " bytes left in the message");
    }
    out = bytes_view(p + 4, static_cast<std::size_t>(n));
    p += 4 + n;
    return true;
  }

  bool open_wrapper(const legacy_message& msg, compression codec, const std::uint8_t* m) {
    const std::size_t budget = options_.max_decompressed_size - decompressed_;
    std::vector<std::uint8_t> buffer;
    auto n = decompress(codec, *msg.value, buffer, budget);
    if (!n) {
      return fail(m, n.error().code, "value", n.error().detail);
    }
    decompressed_ += *n;
    set_.buffers_.push_back(std::move(buffer));
    wrapper_info info;
    info.offset = msg.offset;
    info.magic = msg.magic;
    info.timestamp = msg.timestamp;
    info.log_append_time = msg.log_append_time;
    info.codec = codec;
    info.path = current_path_;
    const std::size_t saved_origin = origin_;
    const std::uint8_t* saved_base = base_;
    in_decompressed_ = true;
    const bool ok = parse(set_.buffers_.back(), &info);
    in_decompressed_ = false;
    origin_ = saved_origin;
    base_ = saved_base;
    return ok;
  }

  bool tail(std::size_t pos) {
    set_.truncated_tail_ = true;
    set_.bytes_read_ = pos;
    return true;
  }

  bool fail(const std::uint8_t* where, std::error_code code, const char* field,
            std::string detail) {
    error_.code = code;
    error_.offset = origin_ + static_cast<std::size_t>(where - base_);
    error_.path = current_path_ + "." + field;
    error_.context = in_decompressed_ ? "legacy message set (offset within a decompressed wrapper)"
                                      : "legacy message set";
    error_.detail = std::move(detail);
    return false;
  }

  const message_set_read_options& options_;
  std::size_t input_offset_;
  std::size_t origin_ = 0;
  const std::uint8_t* base_ = nullptr;
  std::size_t decompressed_ = 0;
  bool in_decompressed_ = false;
  std::string current_path_;
  message_set set_;
  decode_error error_;
};

result<message_set> read_message_set(bytes_view input, const message_set_read_options& options,
                                     std::size_t input_offset) {
  message_set_parser parser(options, input_offset);
  if (!parser.parse(input, nullptr)) return parser.take_error();
  return parser.take();
}

namespace {

void write_entry(std::vector<std::uint8_t>& out, std::int64_t offset, std::int8_t magic,
                 std::int8_t attributes, std::int64_t timestamp, nullable_bytes_view key,
                 nullable_bytes_view value) {
  detail::append_be(out, offset);
  const std::size_t size_at = out.size();
  detail::append_be(out, std::uint32_t{0});  // message size, filled below
  const std::size_t crc_at = out.size();
  detail::append_be(out, std::uint32_t{0});  // crc, filled below
  out.push_back(static_cast<std::uint8_t>(magic));
  out.push_back(static_cast<std::uint8_t>(attributes));
  if (magic == 1) detail::append_be(out, timestamp);
  for (const auto& field : {key, value}) {
    if (!field) {
      detail::append_be(out, std::int32_t{-1});
    } else {
      detail::append_be(out, static_cast<std::uint32_t>(field->size()));
      out.insert(out.end(), field->begin(), field->end());
    }
  }
  const std::size_t size = out.size() - crc_at;
  const std::uint32_t crc = zlib_crc32(out.data() + crc_at + 4, size - 4);
  detail::store_be(out.data() + size_at, static_cast<std::uint32_t>(size));
  detail::store_be(out.data() + crc_at, crc);
}

decode_error write_failure(codec_errc code, std::string detail) {
  decode_error e;
  e.code = code;
  e.context = "legacy message set writer";
  e.detail = std::move(detail);
  return e;
}

}  // namespace

result<std::vector<std::uint8_t>> write_message_set(std::span<const legacy_record> records,
                                                    const message_set_write_options& options) {
  if (options.magic != 0 && options.magic != 1) {
    return write_failure(codec_errc::unsupported_version,
                         "magic " + std::to_string(options.magic) + " is not a message set");
  }
  const auto codec = options.codec;
  if (codec != compression::none && codec != compression::gzip && codec != compression::snappy &&
      codec != compression::lz4) {
    return write_failure(codec_errc::unsupported_compression,
                         std::string(to_string(codec)) + " needs record batches (magic 2)");
  }
  constexpr std::size_t int32_max =
      static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max());
  std::size_t total = 0;
  for (const auto& r : records) {
    const std::size_t k = r.key ? r.key->size() : 0, v = r.value ? r.value->size() : 0;
    if (k > int32_max || v > int32_max)
      return write_failure(codec_errc::value_too_large, "key or value");
    total += log_overhead + min_message_v1 + k + v;
  }
  const std::int8_t ts_bit =
      options.magic == 1 && options.timestamps == timestamp_type::log_append_time
          ? attribute_log_append_time
          : 0;
  std::vector<std::uint8_t> inner;
  inner.reserve(total);
  std::int64_t max_timestamp = -1;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    // Inside a magic 1 wrapper offsets are relative; elsewhere absolute.
    const std::int64_t offset = codec != compression::none && options.magic == 1
                                    ? static_cast<std::int64_t>(i)
                                    : options.base_offset + static_cast<std::int64_t>(i);
    write_entry(inner, offset, options.magic, codec == compression::none ? ts_bit : 0, r.timestamp,
                r.key, r.value);
    max_timestamp = std::max(max_timestamp, r.timestamp);
  }
  if (codec == compression::none || records.empty()) return inner;

  std::vector<std::uint8_t> packed;
  if (auto ec = compress(codec, inner, packed, options.compression_level)) {
    return write_failure(static_cast<codec_errc>(ec.value()), "compressing the inner messages");
  }
  if (packed.size() > int32_max - min_message_v1) {
    return write_failure(codec_errc::value_too_large, "compressed wrapper over 2 GiB");
  }
  std::vector<std::uint8_t> out;
  out.reserve(log_overhead + min_message_v1 + packed.size());
  write_entry(out, options.base_offset + static_cast<std::int64_t>(records.size()) - 1,
              options.magic, static_cast<std::int8_t>(static_cast<int>(codec) | ts_bit),
              max_timestamp, std::nullopt, bytes_view(packed));
  return out;
}

}  // namespace kwire
