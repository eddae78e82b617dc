#include "kwire/mockbroker/fault_json.hpp"

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "kwire/protocol/api.hpp"
#include "kwire/protocol/kafka_error.hpp"

namespace kwire::mock {
namespace {

namespace json = boost::json;

// Each reader returns false after setting `error`, naming the key.
struct rule_reader {
  const json::object& o;
  std::string& error;

  bool fail(std::string_view key, const std::string& why) {
    error = "'" + std::string(key) + "': " + why;
    return false;
  }

  bool integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
    const auto& v = o.at(key);
    if (!v.is_int64() && !v.is_uint64()) return fail(key, "expected an integer, got " + json::serialize(v));
    if (v.is_uint64() && v.as_uint64() > static_cast<std::uint64_t>(hi)) {
      return fail(key, json::serialize(v) + " is out of range");
    }
    const std::int64_t n = v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(v.as_uint64());
    if (n < lo || n > hi) {
      return fail(key, std::to_string(n) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    out = n;
    return true;
  }

  bool text(std::string_view key, std::string& out) {
    const auto& v = o.at(key);
    if (!v.is_string()) return fail(key, "expected a string, got " + json::serialize(v));
    out = std::string(v.as_string());
    return true;
  }

  bool error_code(std::string_view key, std::int16_t& out) {
    std::string name;
    if (!text(key, name)) return false;
    const auto e = kafka_error_from_name(name);
    if (!e) return fail(key, "unknown Kafka error '" + name + "'");
    out = static_cast<std::int16_t>(*e);
    return true;
  }

  bool truth(std::string_view key) {
    const auto& v = o.at(key);
    if (!v.is_bool() || !v.as_bool()) return fail(key, "expected true, got " + json::serialize(v));
    return true;
  }
};

bool parse_rule(const json::value& v, fault_rule& rule, std::string& error) {
  if (!v.is_object()) {
    error = "expected an object, got " + json::serialize(v);
    return false;
  }
  const auto& o = v.as_object();
  rule_reader r{o, error};
  int actions = 0;
  for (const auto& [key, value] : o) {
    std::int64_t n = 0;
    if (key == "broker") {
      if (!r.integer(key, INT32_MIN, INT32_MAX, n)) return false;
      rule.match.broker = static_cast<std::int32_t>(n);
    } else if (key == "api") {
      std::string name;
      if (!r.text(key, name)) return false;
      const auto* api = find_api(name);
      if (!api) return r.fail(key, "unknown API '" + name + "'");
      rule.match.api_key = api->key;
    } else if (key == "version") {
      if (!r.integer(key, 0, INT16_MAX, n)) return false;
      rule.match.api_version = static_cast<std::int16_t>(n);
    } else if (key == "topic") {
      std::string topic;
      if (!r.text(key, topic)) return false;
      rule.match.topic = topic;
    } else if (key == "partition") {
      if (!r.integer(key, 0, INT32_MAX, n)) return false;
      rule.match.partition = static_cast<std::int32_t>(n);
    } else if (key == "producer_id") {
      if (!r.integer(key, 0, INT64_MAX, n)) return false;
      rule.match.producer_id = n;
    } else if (key == "nth") {
      if (!r.integer(key, 1, INT64_MAX, n)) return false;
      rule.match.nth = static_cast<std::uint64_t>(n);
    } else if (key == "probability") {
      if (!value.is_number()) return r.fail(key, "expected a number, got " + json::serialize(value));
      const double p = value.to_number<double>();
      if (!(p >= 0.0 && p <= 1.0)) {
        char shown[32];
        std::snprintf(shown, sizeof shown, "%g", p);
        return r.fail(key, std::string(shown) + " is not between 0 and 1");
      }
      rule.match.probability = p;
    } else if (key == "count") {
      if (!r.integer(key, 1, INT64_MAX, n)) return false;
      rule.count = static_cast<std::uint64_t>(n);
    } else if (key == "error") {
      ++actions;
      rule.action.kind = fault_kind::error;
      if (!r.error_code(key, rule.action.error_code)) return false;
    } else if (key == "append_then_error") {
      ++actions;
      rule.action.kind = fault_kind::append_then_error;
      if (!r.error_code(key, rule.action.error_code)) return false;
    } else if (key == "delay_ms") {
      ++actions;
      if (!r.integer(key, 0, 3600 * 1000, n)) return false;
      rule.action = fault_action::delayed(std::chrono::milliseconds(n));
    } else if (key == "throttle_ms") {
      ++actions;
      if (!r.integer(key, 0, INT32_MAX, n)) return false;
      rule.action = fault_action::throttled(static_cast<std::int32_t>(n));
    } else if (key == "drop") {
      ++actions;
      if (!r.truth(key)) return false;
      rule.action = fault_action::of(fault_kind::drop);
    } else if (key == "append_then_drop") {
      ++actions;
      if (!r.truth(key)) return false;
      rule.action = fault_action::of(fault_kind::append_then_drop);
    } else if (key == "close") {
      ++actions;
      if (value.is_bool() && value.as_bool()) {
        rule.action = fault_action::of(fault_kind::close_before);
      } else if (value == "before") {
        rule.action = fault_action::of(fault_kind::close_before);
      } else if (value == "after_processing") {
        rule.action = fault_action::of(fault_kind::close_after_processing);
      } else if (value == "after_response") {
        rule.action = fault_action::of(fault_kind::close_after_response);
      } else {
        return r.fail(key, "expected \"before\", \"after_processing\", \"after_response\" or true, got " +
                               json::serialize(value));
      }
    } else {
      error = "unknown key '" + std::string(key) + "'";
      return false;
    }
  }
  if (actions != 1) {
    error = actions == 0 ? "no action (error, delay_ms, drop, close, append_then_error, append_then_drop "
                           "or throttle_ms)"
                         : "more than one action";
    return false;
  }
  return true;
}

}  // namespace

fault_parse_result parse_fault_rules(std::string_view text) {
  fault_parse_result out;
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) {
    out.error = "not JSON: " + ec.message();
    return out;
  }
  const json::array* list = nullptr;
  json::array single;
  if (doc.is_array()) {
    list = &doc.as_array();
  } else if (doc.is_object() && doc.as_object().contains("faults")) {
    if (doc.as_object().size() != 1 || !doc.as_object().at("faults").is_array()) {
      out.error = "expected {\"faults\": [...]} with nothing else";
      return out;
    }
    list = &doc.as_object().at("faults").as_array();
  } else {
    single.push_back(doc);
    list = &single;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    fault_rule rule;
    std::string error;
    if (!parse_rule((*list)[i], rule, error)) {
      out.rules.clear();
      out.error = "rule " + std::to_string(i) + ": " + error;
      return out;
    }
    out.rules.push_back(std::move(rule));
  }
  return out;
}

std::string fault_rule_to_json(const fault_rule& rule) {
  json::object o;
  const auto& m = rule.match;
  if (m.broker) o["broker"] = *m.broker;
  if (m.api_key) {
    const auto* api = find_api(*m.api_key);
    o["api"] = api ? json::value(std::string(api->name)) : json::value(*m.api_key);
  }
  if (m.api_version) o["version"] = *m.api_version;
  if (m.topic) o["topic"] = *m.topic;
  if (m.partition) o["partition"] = *m.partition;
  if (m.producer_id) o["producer_id"] = *m.producer_id;
  if (m.nth) o["nth"] = m.nth;
  if (m.probability != 1.0) o["probability"] = m.probability;
  const auto& a = rule.action;
  const auto error_name = [&] { return std::string(kafka_error_name(a.error_code)); };
  switch (a.kind) {
    case fault_kind::error: o["error"] = error_name(); break;
    case fault_kind::append_then_error: o["append_then_error"] = error_name(); break;
    case fault_kind::delay:
      o["delay_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(a.delay).count();
      break;
    case fault_kind::drop: o["drop"] = true; break;
    case fault_kind::close_before: o["close"] = "before"; break;
    case fault_kind::close_after_processing: o["close"] = "after_processing"; break;
    case fault_kind::close_after_response: o["close"] = "after_response"; break;
    case fault_kind::append_then_drop: o["append_then_drop"] = true; break;
    case fault_kind::throttle: o["throttle_ms"] = a.throttle_ms; break;
  }
  if (rule.count) o["count"] = *rule.count;
  return json::serialize(o);
}

}  // namespace kwire::mock
