// Helpers for generated message code only; not a public interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/protocol/message.hpp"

namespace kwire::detail {

inline std::optional<std::string> read_nullable_string(reader& r, bool compact, bool null_ok) {
  const std::size_t at = r.offset();
  auto s = r.read_nullable_string(compact);
  if (!s && r.ok() && !null_ok) r.fail_at(at, codec_errc::null_not_allowed, "null string");
  return s;
}

inline std::optional<std::vector<std::uint8_t>> read_nullable_bytes(reader& r, bool compact,
                                                                    bool null_ok) {
  const std::size_t at = r.offset();
  auto b = r.read_nullable_bytes(compact);
  if (!b && r.ok() && !null_ok) r.fail_at(at, codec_errc::null_not_allowed, "null bytes");
  return b;
}

inline void write_tagged(writer& w, const tagged_field& t) {
  w.write_tag_header(t.tag, t.data.size());
  w.write_raw(t.data);
}

inline std::size_t tagged_size(const tagged_field& t) {
  return wire_size::uvarint(t.tag) + wire_size::uvarlong(t.data.size()) + t.data.size();
}

/// Keeps a tagged field that the schema does not know (the size is checked
/// against the remaining input before anything is copied).
void read_unknown_tagged(reader& r, unknown_tagged_fields& out, std::uint32_t tag,
                         std::uint32_t size);

/// Reads one tagged field that a generated struct knows, of `size` bytes, into
/// `message` (the struct, type-erased). Returns true when the tag is known in
/// `version` (then the reader tells whether reading it worked), false to keep
/// the field as unknown. A handler that fails part-way may return either: the
/// loop looks at the reader before keeping anything. A plain function pointer, so that the loop
/// below is compiled once rather than once per struct.
using known_tag_reader = bool (*)(void* message, reader& r, std::uint32_t tag, std::uint32_t size,
                                  std::int16_t version);

/// Reads a tagged-fields section: the count, then each field's tag, size and
/// bytes. Tags must ascend; known tags go to `known` (if given), the others
/// are kept in `unknown`. Returns r.ok(); the reader holds the error.
bool read_tagged_fields(reader& r, unknown_tagged_fields& unknown, std::int16_t version = 0,
                        void* message = nullptr, known_tag_reader known = nullptr);

inline void visit_unknown_tags(const unknown_tagged_fields& tags, field_visitor& v) {
  v.unknown_tags(tags);
}

/// The reader's error, with the message name and version as context.
decode_error context_error(reader& r, std::string_view name, std::int16_t version);

/// The setter of a message type without that top-level field.
inline bool no_error_code(void*, std::int16_t) noexcept { return false; }
inline bool no_throttle_time_ms(void*, std::int32_t) noexcept { return false; }

/// The operations on T; the setters come from generated code (nullptr when T
/// lacks the field), because only the schema knows which fields are top-level.
template <class T>
message_ops make_ops(bool (*set_error_code)(void*, std::int16_t) noexcept = nullptr,
                     bool (*set_throttle_time_ms)(void*, std::int32_t) noexcept = nullptr) {
  return message_ops{
      T::name,
      T::api_key,
      T::is_request,
      T::min_version,
      T::max_version,
      T::first_flexible_version,
      []() -> void* { return new T(); },
      [](const void* p) -> void* { return new T(*static_cast<const T*>(p)); },
      [](void* p) noexcept { delete static_cast<T*>(p); },
      [](void* p, reader& r, std::int16_t v) { return static_cast<T*>(p)->decode_from(r, v); },
      [](const void* p, writer& w, std::int16_t v) { static_cast<const T*>(p)->encode(w, v); },
      [](const void* p, std::int16_t v) { return static_cast<const T*>(p)->encoded_size(v); },
      [](const void* a, const void* b) {
        return *static_cast<const T*>(a) == *static_cast<const T*>(b);
      },
      [](const void* p, field_visitor& vis, std::int16_t v) {
        static_cast<const T*>(p)->visit(vis, v);
      },
      set_error_code != nullptr ? set_error_code : &no_error_code,
      set_throttle_time_ms != nullptr ? set_throttle_time_ms : &no_throttle_time_ms,
  };
}

}  // namespace kwire::detail
