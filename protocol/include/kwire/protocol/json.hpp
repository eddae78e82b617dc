// Messages as JSON, for `kwire decode`, request logs and tests in other
// languages: fields under their schema names, record batches decoded.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "kwire/protocol/message.hpp"

namespace kwire {

/// What the JSON printer shows.
struct json_options {
  /// Decode `records` fields into batches and records; otherwise show their size.
  bool decode_records = true;
  /// Show record keys, values and header values. Off: each shows as
  /// {"redacted": SIZE}, for logs that must not carry payloads.
  bool show_payloads = true;
};

/// A field_visitor that appends one JSON object per message to a string.
/// Keys and values that are valid UTF-8 print as JSON strings; anything else
/// as {"base64": "..."}. Not thread-safe.
class json_printer final : public field_visitor {
 public:
  explicit json_printer(std::string& out, json_options options = {})
      : out_(out), options_(options) {}

  void begin_struct() override;
  void end_struct() override;
  void field(std::string_view name) override;
  void begin_array(std::size_t size) override;
  void end_array() override;
  void value_null() override;
  void value_bool(bool v) override;
  void value_int(std::int64_t v) override;
  void value_uint(std::uint64_t v) override;
  void value_float(double v) override;
  void value_uuid(const uuid& v) override;
  void value_string(std::string_view v) override;
  void value_bytes(std::span<const std::uint8_t> v) override;
  void value_records(const record_set& v) override;
  void unknown_tags(const unknown_tagged_fields& tags) override;

 private:
  void separate();
  std::string& out_;
  json_options options_;
  bool first_ = true;
  bool after_name_ = false;
};

/// Appends `s` as a JSON string literal, escaping what JSON requires.
void append_json_string(std::string& out, std::string_view s);

/// Appends bytes as a JSON string when they are valid UTF-8, else as
/// {"base64": "..."} (standard alphabet, padded).
void append_json_bytes(std::string& out, std::span<const std::uint8_t> bytes);

/// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::span<const std::uint8_t> bytes) noexcept;

/// Appends the contents of a records field: {"batches": [...]} for record
/// batches (magic 2) or {"messageSet": [...]} for legacy message sets, with an
/// "error" member naming the problem if the bytes stop making sense.
void append_records_json(std::string& out, std::span<const std::uint8_t> records,
                         const json_options& options = {});

/// The message as one JSON object (fields present in `version`; -1 for all).
std::string to_json(const any_message& message, std::int16_t version = -1,
                    const json_options& options = {});

}  // namespace kwire
