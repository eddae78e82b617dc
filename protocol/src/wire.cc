#include "kwire/protocol/wire.hpp"

#include <bit>
#include <limits>

namespace kwire {

record_set::record_set(std::vector<std::uint8_t> bytes) : null_(false) {
  auto owned = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
  data_ = owned->data();
  size_ = owned->size();
  owner_ = std::move(owned);
}

record_set record_set::borrow(std::span<const std::uint8_t> bytes,
                              std::shared_ptr<const void> owner) {
  record_set r;
  r.data_ = bytes.data();
  r.size_ = bytes.size();
  r.null_ = false;
  r.owner_ = std::move(owner);
  return r;
}

bool record_set::operator==(const record_set& other) const noexcept {
  if (null_ != other.null_ || size_ != other.size_) return false;
  return size_ == 0 || std::memcmp(data_, other.data_, size_) == 0;
}

// ---- reader -------------------------------------------------------------

bool reader::need(std::size_t n) noexcept {
  if (failed_) return false;
  if (remaining() < n) {
    failed_ = true;
    error_.code = codec_errc::truncated;
    error_.offset = offset();
    return false;
  }
  return true;
}

template <class T>
T reader::read_be() noexcept {
  if (!need(sizeof(T))) return T{};
  const T v = detail::load_be<T>(pos_);
  pos_ += sizeof(T);
  return v;
}

std::int8_t reader::read_int8() noexcept {
  if (!need(1)) return 0;
  return static_cast<std::int8_t>(*pos_++);
}
std::int16_t reader::read_int16() noexcept {
  return static_cast<std::int16_t>(read_be<std::uint16_t>());
}
std::int32_t reader::read_int32() noexcept {
  return static_cast<std::int32_t>(read_be<std::uint32_t>());
}
std::int64_t reader::read_int64() noexcept {
  return static_cast<std::int64_t>(read_be<std::uint64_t>());
}
std::uint16_t reader::read_uint16() noexcept { return read_be<std::uint16_t>(); }
std::uint32_t reader::read_uint32() noexcept { return read_be<std::uint32_t>(); }
double reader::read_float64() noexcept { return std::bit_cast<double>(read_be<std::uint64_t>()); }
bool reader::read_bool() noexcept { return read_int8() != 0; }

template <int MaxBytes>
std::uint64_t reader::read_unsigned_varint() noexcept {
  if (failed_) return 0;
  std::uint64_t v = 0;
  const std::uint8_t* p = pos_;
  switch (detail::get_uvarint<MaxBytes>(p, end_, v)) {
    case detail::varint_status::ok:
      pos_ = p;
      return v;
    case detail::varint_status::truncated:
      // As for any other field, a truncation is reported where the input ends.
      fail_at(static_cast<std::size_t>(end_ - base_), codec_errc::truncated);
      return 0;
    case detail::varint_status::too_long:
      break;
  }
  fail_at(offset(), codec_errc::varint_too_long);
  return 0;
}

std::uint64_t reader::read_uvarlong() noexcept { return read_unsigned_varint<10>(); }

std::uint32_t reader::read_uvarint() noexcept {
  return static_cast<std::uint32_t>(read_unsigned_varint<5>());
}

std::int32_t reader::read_varint() noexcept { return detail::unzigzag32(read_uvarint()); }

std::int64_t reader::read_varlong() noexcept { return detail::unzigzag64(read_uvarlong()); }

uuid reader::read_uuid() noexcept {
  uuid id{};
  if (!need(16)) return id;
  std::memcpy(id.data(), pos_, 16);
  pos_ += 16;
  return id;
}

namespace {
// Reads a length prefix; returns -1 for null, -2 after a failure.
std::int64_t read_length(reader& r, bool compact, bool classic_is_int16) {
  const std::size_t start = r.offset();
  std::int64_t n;
  if (compact) {
    n = static_cast<std::int64_t>(r.read_uvarint()) - 1;
  } else {
    n = classic_is_int16 ? r.read_int16() : r.read_int32();
  }
  if (!r.ok()) return -2;
  if (n < -1) {
    r.fail_at(start, codec_errc::negative_length, "length " + std::to_string(n));
    return -2;
  }
  if (n > static_cast<std::int64_t>(r.remaining())) {
    r.fail_at(
        start, codec_errc::length_exceeds_input,
        "length " + std::to_string(n) + " > " + std::to_string(r.remaining()) + " bytes remaining");
    return -2;
  }
  return n;
}
}  // namespace

std::span<const std::uint8_t> reader::read_view(std::size_t n) noexcept {
  if (!need(n)) return {};
  std::span<const std::uint8_t> v(pos_, n);
  pos_ += n;
  return v;
}

std::optional<std::string> reader::read_nullable_string(bool compact) {
  const std::int64_t n = read_length(*this, compact, true);
  if (n < 0) return std::nullopt;
  auto v = read_view(static_cast<std::size_t>(n));
  return std::string(reinterpret_cast<const char*>(v.data()), v.size());
}

std::string reader::read_string(bool compact) {
  const std::size_t start = offset();
  auto s = read_nullable_string(compact);
  if (!s) {
    if (ok()) fail_at(start, codec_errc::null_not_allowed, "null string");
    return {};
  }
  return std::move(*s);
}

std::optional<std::vector<std::uint8_t>> reader::read_nullable_bytes(bool compact) {
  const std::int64_t n = read_length(*this, compact, false);
  if (n < 0) return std::nullopt;
  auto v = read_view(static_cast<std::size_t>(n));
  return std::vector<std::uint8_t>(v.begin(), v.end());
}

std::vector<std::uint8_t> reader::read_bytes(bool compact) {
  const std::size_t start = offset();
  auto b = read_nullable_bytes(compact);
  if (!b) {
    if (ok()) fail_at(start, codec_errc::null_not_allowed, "null bytes");
    return {};
  }
  return std::move(*b);
}

record_set reader::read_records(bool compact, bool nullable) {
  const std::size_t start = offset();
  const std::int64_t n = read_length(*this, compact, false);
  if (n == -1 && !nullable) fail_at(start, codec_errc::null_not_allowed, "null records");
  if (n < 0) return {};
  return record_set::borrow(read_view(static_cast<std::size_t>(n)), owner_);
}

std::int32_t reader::read_array_length(bool compact, bool nullable, std::size_t min_element_size) {
  const std::size_t start = offset();
  std::int64_t n;
  if (compact) {
    n = static_cast<std::int64_t>(read_uvarint()) - 1;
  } else {
    n = read_int32();
  }
  if (!ok()) return 0;
  if (n == -1) {
    if (!nullable) fail_at(start, codec_errc::null_not_allowed, "null array");
    return nullable ? -1 : 0;
  }
  if (n < -1) {
    fail_at(start, codec_errc::negative_length, "array length " + std::to_string(n));
    return 0;
  }
  if (n > static_cast<std::int64_t>(limits_.max_array_length)) {
    fail_at(start, codec_errc::limit_exceeded,
            "array length " + std::to_string(n) + " > limit " +
                std::to_string(limits_.max_array_length));
    return 0;
  }
  const std::size_t each = min_element_size == 0 ? 1 : min_element_size;
  if (static_cast<std::uint64_t>(n) * each > remaining()) {
    fail_at(start, codec_errc::length_exceeds_input,
            "array length " + std::to_string(n) + " needs at least " +
                std::to_string(static_cast<std::uint64_t>(n) * each) + " bytes, " +
                std::to_string(remaining()) + " remaining");
    return 0;
  }
  return static_cast<std::int32_t>(n);
}

const std::uint8_t* reader::narrow(std::size_t n) noexcept {
  const std::uint8_t* old = end_;
  if (!failed_ && remaining() < n) {
    fail(codec_errc::length_exceeds_input, "tagged field size " + std::to_string(n) + " > " +
                                               std::to_string(remaining()) + " bytes remaining");
  }
  if (!failed_) end_ = pos_ + n;
  return old;
}

void reader::restore_end(const std::uint8_t* end) noexcept {
  if (!failed_ && pos_ != end_) fail(codec_errc::trailing_bytes, "inside a tagged field");
  // After a failure pos_ may be anywhere up to end_; both stay within the input.
  end_ = end;
}

void reader::fail(codec_errc code, std::string detail) {
  fail_at(offset(), code, std::move(detail));
}

void reader::fail_at(std::size_t at, codec_errc code, std::string detail) {
  if (failed_) return;
  failed_ = true;
  error_.code = code;
  error_.offset = at;
  error_.detail = std::move(detail);
}

void reader::prefix_path(std::string_view segment) {
  if (error_.path.empty()) {
    error_.path.assign(segment);
  } else if (error_.path.front() == '[') {
    error_.path.insert(0, segment);
  } else {
    error_.path.insert(0, ".");
    error_.path.insert(0, segment);
  }
}

void reader::prefix_path_index(std::string_view name, std::size_t index) {
  std::string seg(name);
  seg += '[';
  seg += std::to_string(index);
  seg += ']';
  prefix_path(seg);
}

// ---- writer -------------------------------------------------------------

void writer::write_float64(double v) { write_be(std::bit_cast<std::uint64_t>(v)); }

void writer::write_uvarlong(std::uint64_t v) {
  std::uint8_t buf[detail::max_uvarint_size];
  std::uint8_t* end = detail::put_uvarint(buf, v);
  out_->insert(out_->end(), buf, end);
}

void writer::write_varint(std::int32_t v) { write_uvarlong(detail::zigzag32(v)); }

void writer::write_varlong(std::int64_t v) { write_uvarlong(detail::zigzag64(v)); }

void writer::write_raw(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty()) out_->insert(out_->end(), bytes.begin(), bytes.end());
}

void writer::write_string(std::string_view s, bool compact) {
  if (compact) {
    write_uvarlong(s.size() + 1);
  } else {
    if (s.size() > static_cast<std::size_t>(std::numeric_limits<std::int16_t>::max())) {
      fail(codec_errc::value_too_large, "string of " + std::to_string(s.size()) + " bytes");
    }
    write_int16(static_cast<std::int16_t>(s.size()));
  }
  write_raw({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

void writer::write_nullable_string(const std::optional<std::string>& s, bool compact) {
  if (s) {
    write_string(*s, compact);
  } else if (compact) {
    write_uvarint(0);
  } else {
    write_int16(-1);
  }
}

void writer::write_bytes(std::span<const std::uint8_t> b, bool compact) {
  if (compact) {
    write_uvarlong(b.size() + 1);
  } else {
    if (b.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
      fail(codec_errc::value_too_large, "bytes of " + std::to_string(b.size()));
    }
    write_int32(static_cast<std::int32_t>(b.size()));
  }
  write_raw(b);
}

void writer::write_nullable_bytes(const std::optional<std::vector<std::uint8_t>>& b, bool compact) {
  if (b) {
    write_bytes(*b, compact);
  } else if (compact) {
    write_uvarint(0);
  } else {
    write_int32(-1);
  }
}

void writer::write_records(const record_set& r, bool compact, bool nullable) {
  if (!r.is_null()) {
    write_bytes(r.bytes(), compact);
    return;
  }
  if (!nullable) fail(codec_errc::null_not_allowed, "null records");
  if (compact) {
    write_uvarint(0);
  } else {
    write_int32(-1);
  }
}

void writer::write_array_length(std::int64_t n, bool compact, bool nullable) {
  if (n < 0 && !nullable) fail(codec_errc::null_not_allowed, "null array");
  if (n > std::numeric_limits<std::int32_t>::max() - 1) {
    fail(codec_errc::value_too_large, "array of " + std::to_string(n) + " elements");
  }
  if (compact) {
    write_uvarlong(static_cast<std::uint64_t>(n + 1));
  } else {
    write_int32(static_cast<std::int32_t>(n));
  }
}

void writer::fail_field(codec_errc code, std::string_view field) {
  if (error_) return;
  fail(code, std::string(field));
  field_.assign(field);
}

void writer::fail(codec_errc code, std::string detail) {
  if (error_) return;
  error_ = code;
  detail_ = std::move(detail);
  error_offset_ = out_->size();
}

std::string uuid_to_string(const uuid& id) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve(22);
  std::size_t i = 0;
  for (; i + 3 <= id.size(); i += 3) {
    const std::uint32_t v = (id[i] << 16) | (id[i + 1] << 8) | id[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  // 16 = 5*3 + 1: one byte left, two characters, no padding.
  const std::uint32_t v = id[i] << 16;
  out += alphabet[(v >> 18) & 63];
  out += alphabet[(v >> 12) & 63];
  return out;
}

}  // namespace kwire
