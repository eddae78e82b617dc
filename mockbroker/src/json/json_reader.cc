#include "json_reader.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>

#include "json_text.hpp"
#include "kwire/protocol/kafka_error.hpp"

namespace kwire::mockbroker {

namespace json = boost::json;

std::optional<json::value> parse_json(std::string_view text, std::string& error) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    error = ec.message();
    return std::nullopt;
  }
  return v;
}

bool json_reader::fail(std::string_view key, std::string_view why) {
  return fail_with("'" + to_valid_utf8(key) + "': " + std::string(why));
}

bool json_reader::fail_with(std::string message) {
  error_ = std::move(message);
  return false;
}

bool json_reader::require(std::string_view key) { return has(key) || fail(key, "is required"); }

bool json_reader::only_keys(std::initializer_list<std::string_view> allowed) {
  for (const auto& entry : object_) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(entry.key())) != allowed.end())
      continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return fail_with("unknown key '" + to_valid_utf8(entry.key()) + "' (expected " + list + ")");
  }
  return true;
}

bool json_reader::integer(const json::value& v, std::string_view key, std::int64_t lo,
                          std::int64_t hi, std::int64_t& out) {
  if (!v.is_int64() && !v.is_uint64())
    return fail(key, "expected an integer, got " + shown_json(v));
  if (v.is_uint64() && v.as_uint64() > static_cast<std::uint64_t>(hi)) {
    return fail(key, shown_json(v) + " is out of range");
  }
  const std::int64_t n = v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(v.as_uint64());
  if (n < lo || n > hi) {
    return fail(key, std::to_string(n) + " is out of range " + std::to_string(lo) + ".." +
                         std::to_string(hi));
  }
  out = n;
  return true;
}

bool json_reader::integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                          std::int64_t& out) {
  return integer(object_.at(key), key, lo, hi, out);
}

bool json_reader::number_between(std::string_view key, double lo, double hi, double& out) {
  const auto& v = object_.at(key);
  if (!v.is_number()) return fail(key, "expected a number, got " + shown_json(v));
  const double d = v.to_number<double>();
  if (!(d >= lo && d <= hi)) {
    char text[64];
    std::snprintf(text, sizeof text, "%g is not between %g and %g", d, lo, hi);
    return fail(key, text);
  }
  out = d;
  return true;
}

bool json_reader::boolean(std::string_view key, bool& out) {
  const auto& v = object_.at(key);
  if (!v.is_bool()) return fail(key, "expected true or false, got " + shown_json(v));
  out = v.as_bool();
  return true;
}

bool json_reader::is_true(std::string_view key) {
  const auto& v = object_.at(key);
  if (!v.is_bool() || !v.as_bool()) return fail(key, "expected true, got " + shown_json(v));
  return true;
}

bool json_reader::string(std::string_view key, std::string& out) {
  const auto& v = object_.at(key);
  if (!v.is_string()) return fail(key, "expected a string, got " + shown_json(v));
  out = std::string(v.as_string());
  return true;
}

bool json_reader::kafka_error_name(std::string_view key, std::int16_t& out) {
  std::string name;
  if (!string(key, name)) return false;
  const auto e = kafka_error_from_name(name);
  if (!e) return fail(key, "unknown Kafka error '" + to_valid_utf8(name) + "'");
  out = static_cast<std::int16_t>(*e);
  return true;
}

bool json_reader::broker_ids(const json::value& v, std::string_view key,
                             std::vector<std::int32_t>& out) {
  if (!v.is_array()) return fail(key, "expected an array of broker ids, got " + shown_json(v));
  for (const auto& id : v.as_array()) {
    std::int64_t n = 0;
    if (!integer(id, key, INT32_MIN, INT32_MAX, n)) return false;
    out.push_back(static_cast<std::int32_t>(n));
  }
  return true;
}

}  // namespace kwire::mockbroker
