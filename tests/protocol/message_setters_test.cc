// message_ops setters for top-level ErrorCode and ThrottleTimeMs: they work on
// exactly the message types whose schema has those fields at the top level,
// as kwire's own schema JSON lists them, and set the field a visitor sees.
#include "kwire/protocol/message.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>

#include "kwire/protocol/api.hpp"

namespace json = boost::json;

namespace {

// Message name -> its top-level fields' name -> type, from schema_json().
std::map<std::string, std::map<std::string, std::string>> top_level_fields() {
  std::map<std::string, std::map<std::string, std::string>> out;
  const auto doc = json::parse(kwire::schema_json());
  for (const auto& m : doc.as_array()) {
    auto& fields = out[std::string(m.at("name").as_string())];
    for (const auto& f : m.at("fields").as_array()) {
      fields[std::string(f.at("name").as_string())] = std::string(f.at("type").as_string());
    }
  }
  return out;
}

// The integer value of one top-level field, as the message's visitor shows it.
class top_level_int final : public kwire::field_visitor {
 public:
  explicit top_level_int(std::string_view name) : name_(name) {}
  std::optional<std::int64_t> value;

  void begin_struct() override { ++depth_; }
  void end_struct() override { --depth_; }
  void field(std::string_view name) override { wanted_ = depth_ == 1 && name == name_; }
  void begin_array(std::size_t) override { wanted_ = false; }
  void end_array() override {}
  void value_null() override {}
  void value_bool(bool) override {}
  void value_int(std::int64_t v) override {
    if (wanted_) value = v;
    wanted_ = false;
  }
  void value_uint(std::uint64_t) override {}
  void value_float(double) override {}
  void value_uuid(const kwire::uuid&) override {}
  void value_string(std::string_view) override {}
  void value_bytes(std::span<const std::uint8_t>) override {}
  void value_records(const kwire::record_set&) override {}

 private:
  std::string_view name_;
  int depth_ = 0;
  bool wanted_ = false;
};

std::optional<std::int64_t> read_top_level(const kwire::any_message& m, std::string_view name) {
  top_level_int v(name);
  m.visit(v);
  return v.value;
}

}  // namespace

TEST_CASE("ErrorCode and ThrottleTimeMs setters exist exactly where the schema has the fields",
          "[message][setters]") {
  const auto schema = top_level_fields();
  int with_error = 0;
  int with_throttle = 0;
  for (const auto& api : kwire::all_apis()) {
    for (const kwire::message_ops* ops : {api.request, api.response}) {
      CAPTURE(ops->name);
      const auto it = schema.find(std::string(ops->name));
      REQUIRE(it != schema.end());
      const auto& fields = it->second;
      const bool has_error = fields.count("ErrorCode") && fields.at("ErrorCode") == "int16";
      const bool has_throttle =
          fields.count("ThrottleTimeMs") && fields.at("ThrottleTimeMs") == "int32";

      kwire::any_message m(*ops);
      CHECK(m.set_error_code(35) == has_error);
      CHECK(m.set_throttle_time_ms(1234) == has_throttle);
      // Set where the setter said so; elsewhere the message is as it was made.
      const kwire::any_message fresh(*ops);
      if (has_error) {
        CHECK(read_top_level(m, "ErrorCode") == 35);
      }
      if (has_throttle) {
        CHECK(read_top_level(m, "ThrottleTimeMs") == 1234);
      }
      CHECK((m == fresh) == (!has_error && !has_throttle));
      // The function pointers are never null, so callers need no check.
      CHECK(ops->set_error_code(m.get(), 7) == has_error);
      CHECK(ops->set_throttle_time_ms(m.get(), 8) == has_throttle);
      with_error += has_error;
      with_throttle += has_throttle;
    }
  }
  // Most responses carry both; the walk really met them.
  CHECK(with_error > 30);
  CHECK(with_throttle > 60);
}

TEST_CASE("an empty any_message has nothing to set", "[message][setters]") {
  kwire::any_message empty;
  CHECK_FALSE(empty.set_error_code(1));
  CHECK_FALSE(empty.set_throttle_time_ms(1));
}
