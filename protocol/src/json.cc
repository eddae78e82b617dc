#include "kwire/protocol/json.hpp"

#include <cstdio>

#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire {

// ---- printer --------------------------------------------------------------

void json_printer::separate() {
  if (after_name_) {
    after_name_ = false;
    return;
  }
  if (!first_) out_ += ',';
  first_ = false;
}

void json_printer::begin_struct() {
  separate();
  out_ += '{';
  first_ = true;
}
void json_printer::end_struct() {
  out_ += '}';
  first_ = false;
}
void json_printer::field(std::string_view name) {
  separate();
  append_json_string(out_, name);
  out_ += ':';
  after_name_ = true;
}
void json_printer::begin_array(std::size_t) {
  separate();
  out_ += '[';
  first_ = true;
}
void json_printer::end_array() {
  out_ += ']';
  first_ = false;
}
void json_printer::value_null() {
  separate();
  out_ += "null";
}
void json_printer::value_bool(bool v) {
  separate();
  out_ += v ? "true" : "false";
}
void json_printer::value_int(std::int64_t v) {
  separate();
  out_ += std::to_string(v);
}
void json_printer::value_uint(std::uint64_t v) {
  separate();
  out_ += std::to_string(v);
}
void json_printer::value_float(double v) {
  separate();
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out_ += buf;
}
void json_printer::value_uuid(const uuid& v) {
  separate();
  append_json_string(out_, uuid_to_string(v));
}
void json_printer::value_string(std::string_view v) {
  separate();
  append_json_string(out_, v);
}
void json_printer::value_bytes(std::span<const std::uint8_t> v) {
  separate();
  append_json_bytes(out_, v);
}
void json_printer::value_records(const record_set& v) {
  separate();
  if (v.is_null()) {
    out_ += "null";
  } else if (!options_.decode_records) {
    out_ += "{\"size\":" + std::to_string(v.size()) + "}";
  } else {
    append_records_json(out_, v.bytes(), options_);
  }
}
void json_printer::unknown_tags(const unknown_tagged_fields& tags) {
  field("_unknownTaggedFields");
  begin_array(tags.size());
  for (const auto& t : tags) {
    separate();
    out_ += "{\"tag\":" + std::to_string(t.tag) + ",\"data\":";
    append_json_bytes(out_, t.data);
    out_ += '}';
  }
  end_array();
}

// ---- strings and bytes --------------------------------------------------------

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

bool is_valid_utf8(std::span<const std::uint8_t> b) noexcept {
  std::size_t i = 0;
  while (i < b.size()) {
    const std::uint8_t c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= b.size()) return false;  // the continuation bytes must all be there
    for (std::size_t k = 1; k <= n; ++k) {
      if ((b[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

void append_json_bytes(std::string& out, std::span<const std::uint8_t> bytes) {
  if (is_valid_utf8(bytes)) {
    append_json_string(out, {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    return;
  }
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out += "{\"base64\":\"";
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < bytes.size()) {
    const std::uint32_t v = (bytes[i] << 16) | (i + 1 < bytes.size() ? bytes[i + 1] << 8 : 0);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  out += "\"}";
}

// ---- records --------------------------------------------------------------------

namespace {

void append_payload(std::string& out, nullable_bytes_view v, const json_options& options) {
  if (!v) {
    out += "null";
  } else if (!options.show_payloads) {
    out += "{\"redacted\":" + std::to_string(v->size()) + "}";
  } else {
    append_json_bytes(out, *v);
  }
}

void append_member(std::string& out, std::string_view name, std::int64_t v) {
  append_json_string(out, name);
  out += ':';
  out += std::to_string(v);
  out += ',';
}

void append_error(std::string& out, const decode_error& e) {
  out += "\"error\":";
  append_json_string(out, e.message());
}

void append_batches(std::string& out, std::span<const std::uint8_t> records,
                    const json_options& options) {
  batch_read_options read;
  read.allow_truncated_tail = true;  // fetch responses may end inside a batch
  record_batch_reader reader(records, read);
  record_batch batch;
  out += "{\"batches\":[";
  bool first_batch = true;
  while (reader.next(batch)) {
    if (!first_batch) out += ',';
    first_batch = false;
    const auto& h = batch.header();
    out += '{';
    append_member(out, "baseOffset", h.base_offset);
    append_member(out, "batchLength", h.batch_length);
    append_member(out, "partitionLeaderEpoch", h.partition_leader_epoch);
    append_member(out, "magic", h.magic);
    append_member(out, "crc", h.crc);
    append_member(out, "attributes", h.attributes);
    out += "\"compression\":\"";
    out += to_string(h.codec());
    out += "\",\"timestampType\":\"";
    out += h.is_log_append_time() ? "LogAppendTime" : "CreateTime";
    out += "\",\"isTransactional\":";
    out += h.is_transactional() ? "true," : "false,";
    out += "\"isControl\":";
    out += h.is_control() ? "true," : "false,";
    append_member(out, "lastOffsetDelta", h.last_offset_delta);
    append_member(out, "baseTimestamp", h.base_timestamp);
    append_member(out, "maxTimestamp", h.max_timestamp);
    append_member(out, "producerId", h.producer_id);
    append_member(out, "producerEpoch", h.producer_epoch);
    append_member(out, "baseSequence", h.base_sequence);
    append_member(out, "recordsCount", h.records_count);
    out += "\"records\":[";
    auto cursor = batch.records();
    bool first_record = true;
    for (const auto& r : cursor) {
      if (!first_record) out += ',';
      first_record = false;
      out += '{';
      append_member(out, "offsetDelta", r.offset_delta);
      append_member(out, "timestamp", r.timestamp);
      out += "\"key\":";
      append_payload(out, r.key, options);
      out += ",\"value\":";
      append_payload(out, r.value, options);
      out += ",\"headers\":[";
      bool first_header = true;
      for (const auto& hd : r.headers) {
        if (!first_header) out += ',';
        first_header = false;
        out += "{\"key\":";
        append_json_string(out, hd.key);
        out += ",\"value\":";
        append_payload(out, hd.value, options);
        out += '}';
      }
      out += "]}";
    }
    out += ']';
    if (!cursor.ok()) {
      out += ',';
      append_error(out, cursor.error());
    }
    out += '}';
  }
  out += ']';
  if (!reader.ok()) {
    out += ',';
    append_error(out, reader.error());
  } else if (reader.truncated_tail()) {
    out += ",\"truncatedTail\":true";
  }
  out += '}';
}

void append_message_set(std::string& out, std::span<const std::uint8_t> records,
                        const json_options& options) {
  message_set_read_options read;
  read.allow_truncated_tail = true;
  auto set = read_message_set(records, read);
  out += "{\"messageSet\":[";
  if (set) {
    bool first = true;
    for (const auto& m : set->messages()) {
      if (!first) out += ',';
      first = false;
      out += '{';
      append_member(out, "offset", m.offset);
      append_member(out, "magic", m.magic);
      append_member(out, "attributes", m.attributes);
      out += "\"compression\":\"";
      out += to_string(m.wrapper_codec);
      out += "\",";
      append_member(out, "timestamp", m.timestamp);
      out += "\"key\":";
      append_payload(out, m.key, options);
      out += ",\"value\":";
      append_payload(out, m.value, options);
      out += '}';
    }
  }
  out += ']';
  if (!set) {
    out += ',';
    append_error(out, set.error());
  }
  out += '}';
}

}  // namespace

void append_records_json(std::string& out, std::span<const std::uint8_t> records,
                         const json_options& options) {
  const int magic = peek_magic(records);
  if (records.empty() || magic == 2) {
    append_batches(out, records, options);
  } else if (magic == 0 || magic == 1) {
    append_message_set(out, records, options);
  } else {
    out += "{\"size\":" + std::to_string(records.size()) + ",\"error\":";
    append_json_string(out, magic < 0
                                ? "records too short to hold a batch header"
                                : "unknown magic " + std::to_string(magic) + " at byte offset 16");
    out += '}';
  }
}

std::string to_json(const any_message& message, std::int16_t version, const json_options& options) {
  std::string out;
  json_printer p(out, options);
  message.visit(p, version);
  return out;
}

}  // namespace kwire
