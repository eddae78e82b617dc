// What every generated message shares: a visitor over its fields, a
// type-erased table of operations, and a printer that never shows payloads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kwire/protocol/error.hpp"
#include "kwire/protocol/wire.hpp"

namespace kwire {

/// Receives a message's fields in schema order, under their schema names
/// (e.g. "TopicData"). Generated visit() functions drive it; printers and the
/// JSON writer of `kwire decode` implement it.
class field_visitor {
 public:
  virtual ~field_visitor() = default;
  virtual void begin_struct() = 0;
  virtual void end_struct() = 0;
  /// Announces the next value's field name.
  virtual void field(std::string_view name) = 0;
  virtual void begin_array(std::size_t size) = 0;
  virtual void end_array() = 0;
  virtual void value_null() = 0;
  virtual void value_bool(bool v) = 0;
  virtual void value_int(std::int64_t v) = 0;
  virtual void value_uint(std::uint64_t v) = 0;
  virtual void value_float(double v) = 0;
  virtual void value_uuid(const uuid& v) = 0;
  virtual void value_string(std::string_view v) = 0;
  virtual void value_bytes(std::span<const std::uint8_t> v) = 0;
  virtual void value_records(const record_set& v) = 0;
  /// Tagged fields that kwire does not know; by default shown as a count.
  virtual void unknown_tags(const unknown_tagged_fields& tags);
};

/// Operations on one generated message type, reachable without knowing the
/// type at compile time. One static instance per type (T::ops()).
struct message_ops {
  std::string_view name;  ///< schema name, e.g. "ProduceRequest"
  std::int16_t api_key;
  bool is_request;
  std::int16_t min_version;
  std::int16_t max_version;
  std::int16_t first_flexible_version;  ///< -1 if none
  void* (*create)();
  void* (*clone)(const void*);
  void (*destroy)(void*) noexcept;
  bool (*decode)(void*, reader&, std::int16_t version);
  void (*encode)(const void*, writer&, std::int16_t version);
  std::size_t (*encoded_size)(const void*, std::int16_t version);
  bool (*equal)(const void*, const void*);
  void (*visit)(const void*, field_visitor&, std::int16_t version);
  /// Sets the top-level ErrorCode; false (and nothing set) for a type without one.
  bool (*set_error_code)(void*, std::int16_t code) noexcept;
  /// Sets the top-level ThrottleTimeMs; false (and nothing set) for a type without one.
  bool (*set_throttle_time_ms)(void*, std::int32_t ms) noexcept;

  bool is_flexible(std::int16_t version) const noexcept {
    return first_flexible_version >= 0 && version >= first_flexible_version;
  }
};

/// Prints `message` (of the type `ops` describes) as Name{Field=value, ...}.
/// Strings are quoted; bytes and records show only their size.
std::ostream& print_message(std::ostream& os, const message_ops& ops, const void* message);

/// A message of any generated type, owned. Move-only; clone() copies.
class any_message {
 public:
  any_message() = default;
  /// A default-constructed message of the type `ops` describes.
  explicit any_message(const message_ops& ops) : ops_(&ops), ptr_(ops.create()) {}
  any_message(any_message&& o) noexcept : ops_(o.ops_), ptr_(o.ptr_) { o.ptr_ = nullptr; }
  any_message& operator=(any_message&& o) noexcept;
  any_message(const any_message&) = delete;
  any_message& operator=(const any_message&) = delete;
  ~any_message() { reset(); }

  /// Decodes a message of the type `ops` describes, of `version`.
  static result<any_message> decode(const message_ops& ops, reader& r, std::int16_t version);

  any_message clone() const;
  bool empty() const noexcept { return ptr_ == nullptr; }
  const message_ops& ops() const noexcept { return *ops_; }
  void encode(writer& w, std::int16_t version) const { ops_->encode(ptr_, w, version); }
  std::size_t encoded_size(std::int16_t version) const { return ops_->encoded_size(ptr_, version); }
  void visit(field_visitor& v, std::int16_t version = -1) const { ops_->visit(ptr_, v, version); }
  /// Sets the top-level ErrorCode where the message type has one; false for
  /// the other types and for an empty any_message.
  bool set_error_code(std::int16_t code) noexcept {
    return ptr_ != nullptr && ops_->set_error_code(ptr_, code);
  }
  /// Sets the top-level ThrottleTimeMs where the message type has one; false
  /// for the other types and for an empty any_message.
  bool set_throttle_time_ms(std::int32_t ms) noexcept {
    return ptr_ != nullptr && ops_->set_throttle_time_ms(ptr_, ms);
  }
  void* get() noexcept { return ptr_; }
  const void* get() const noexcept { return ptr_; }

  /// The message as T, or nullptr if it holds another type.
  template <class T>
  T* as() noexcept {
    return ops_ == &T::ops() ? static_cast<T*>(ptr_) : nullptr;
  }
  template <class T>
  const T* as() const noexcept {
    return ops_ == &T::ops() ? static_cast<const T*>(ptr_) : nullptr;
  }

  friend bool operator==(const any_message& a, const any_message& b) {
    return a.ops_ == b.ops_ &&
           (a.ptr_ == b.ptr_ || (a.ptr_ && b.ptr_ && a.ops_->equal(a.ptr_, b.ptr_)));
  }
  friend std::ostream& operator<<(std::ostream& os, const any_message& m);

 private:
  void reset() noexcept {
    if (ptr_) ops_->destroy(ptr_);
    ptr_ = nullptr;
  }
  const message_ops* ops_ = nullptr;
  void* ptr_ = nullptr;
};

}  // namespace kwire
