#include "kwire/protocol/message.hpp"

#include <ostream>

#include "kwire/protocol/api.hpp"
#include "kwire/protocol/detail/message_support.hpp"

namespace kwire {

void field_visitor::unknown_tags(const unknown_tagged_fields& tags) {
  field("_unknownTaggedFields");
  value_uint(tags.size());
}

namespace {

// Name{Field=value, List=[{...}, {...}]}; payload bytes are never shown.
class text_printer final : public field_visitor {
 public:
  explicit text_printer(std::ostream& os) : os_(os) {}

  void begin_struct() override {
    separate();
    os_ << '{';
    first_ = true;
  }
  void end_struct() override {
    os_ << '}';
    first_ = false;
  }
  void field(std::string_view name) override {
    separate();
    os_ << name << '=';
    pending_name_ = true;
  }
  void begin_array(std::size_t) override {
    separate();
    os_ << '[';
    first_ = true;
  }
  void end_array() override {
    os_ << ']';
    first_ = false;
  }
  void value_null() override { scalar() << "null"; }
  void value_bool(bool v) override { scalar() << (v ? "true" : "false"); }
  void value_int(std::int64_t v) override { scalar() << v; }
  void value_uint(std::uint64_t v) override { scalar() << v; }
  void value_float(double v) override { scalar() << v; }
  void value_uuid(const uuid& v) override { scalar() << uuid_to_string(v); }
  void value_string(std::string_view v) override { scalar() << '"' << v << '"'; }
  void value_bytes(std::span<const std::uint8_t> v) override {
    scalar() << "<" << v.size() << " bytes>";
  }
  void value_records(const record_set& v) override {
    if (v.is_null()) {
      scalar() << "null";
    } else {
      scalar() << "<records " << v.size() << " bytes>";
    }
  }

 private:
  // A value directly after "Name=" needs no separator; inside arrays it does.
  void separate() {
    if (pending_name_) {
      pending_name_ = false;
      return;
    }
    if (!first_) os_ << ", ";
    first_ = false;
  }
  std::ostream& scalar() {
    separate();
    return os_;
  }

  std::ostream& os_;
  bool first_ = true;
  bool pending_name_ = true;
};

}  // namespace

std::ostream& print_message(std::ostream& os, const message_ops& ops, const void* message) {
  os << ops.name;
  text_printer p(os);
  ops.visit(message, p, -1);
  return os;
}

std::ostream& operator<<(std::ostream& os, const any_message& m) {
  if (m.empty()) return os << "<empty message>";
  return print_message(os, m.ops(), m.get());
}

any_message& any_message::operator=(any_message&& o) noexcept {
  if (this != &o) {
    reset();
    ops_ = o.ops_;
    ptr_ = o.ptr_;
    o.ptr_ = nullptr;
  }
  return *this;
}

result<any_message> any_message::decode(const message_ops& ops, reader& r, std::int16_t version) {
  any_message m(ops);
  if (!ops.decode(m.ptr_, r, version)) return detail::context_error(r, ops.name, version);
  return m;
}

any_message any_message::clone() const {
  any_message m;
  if (ptr_) {
    m.ops_ = ops_;
    m.ptr_ = ops_->clone(ptr_);
  }
  return m;
}

const api_info* find_api(std::int16_t key) noexcept {
  const auto apis = all_apis();
  for (const auto& api : apis) {
    if (api.key == key) return &api;
  }
  return nullptr;
}

const api_info* find_api(std::string_view name) noexcept {
  for (const auto& api : all_apis()) {
    if (api.name == name) return &api;
  }
  return nullptr;
}

namespace detail {

void read_unknown_tagged(reader& r, unknown_tagged_fields& out, std::uint32_t tag,
                         std::uint32_t size) {
  if (size > r.remaining()) {
    r.fail(codec_errc::length_exceeds_input, "tagged field " + std::to_string(tag) + " of " +
                                                 std::to_string(size) + " bytes, " +
                                                 std::to_string(r.remaining()) + " remaining");
    return;
  }
  const auto bytes = r.read_view(size);
  out.push_back(tagged_field{tag, std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
}

bool read_tagged_fields(reader& r, unknown_tagged_fields& unknown, std::int16_t version,
                        void* message, known_tag_reader known) {
  const std::uint32_t count = r.read_uvarint();
  std::int64_t last_tag = -1;
  for (std::uint32_t i = 0; i < count && r.ok(); ++i) {
    const std::size_t at = r.offset();
    const std::uint32_t tag = r.read_uvarint();
    const std::uint32_t size = r.read_uvarint();
    if (!r.ok()) break;
    if (static_cast<std::int64_t>(tag) <= last_tag) {
      r.fail_at(at, codec_errc::invalid_tag_order, "tag " + std::to_string(tag));
      break;
    }
    last_tag = tag;
    if (known != nullptr && known(message, r, tag, size, version)) continue;
    // A known field that failed part-way may still say "unknown"; never keep its rest.
    if (!r.ok()) break;
    read_unknown_tagged(r, unknown, tag, size);
  }
  return r.ok();
}

decode_error context_error(reader& r, std::string_view name, std::int16_t version) {
  decode_error e = r.take_error();
  e.context.assign(name);
  e.context += " v";
  e.context += std::to_string(version);
  return e;
}

}  // namespace detail
}  // namespace kwire
