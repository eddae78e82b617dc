// Fault rules as JSON (see fault_json.hpp), read with the shared json_reader.
#include "kwire/mockbroker/fault_json.hpp"

#include <boost/json/serialize.hpp>

#include "fault_rule_json.hpp"
#include "json_reader.hpp"
#include "json_text.hpp"
#include "kwire/protocol/api.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "time_json.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

// Reads one rule; false with the reader's error naming the key.
bool read_rule(const json::object& o, fault_rule& rule, json_reader& r) {
  int actions = 0;
  for (const auto& entry : o) {
    const std::string_view key = entry.key();
    const json::value& value = entry.value();
    std::int64_t n = 0;
    bool ok = true;
    if (key == "broker") {
      ok = r.integer_as(key, INT32_MIN, INT32_MAX, rule.match.broker.emplace());
    } else if (key == "api") {
      std::string name;
      ok = r.string(key, name);
      const auto* api = ok ? find_api(name) : nullptr;
      if (ok && !api) return r.fail(key, "unknown API '" + to_valid_utf8(name) + "'");
      if (ok) rule.match.api_key = api->key;
    } else if (key == "version") {
      ok = r.integer_as(key, 0, INT16_MAX, rule.match.api_version.emplace());
    } else if (key == "topic") {
      ok = r.string(key, rule.match.topic.emplace());
    } else if (key == "partition") {
      ok = r.integer_as(key, 0, INT32_MAX, rule.match.partition.emplace());
    } else if (key == "producer_id") {
      ok = r.integer_as(key, 0, INT64_MAX, rule.match.producer_id.emplace());
    } else if (key == "group") {
      ok = r.string(key, rule.match.group.emplace());
    } else if (key == "nth") {
      ok = r.integer_as(key, 1, INT64_MAX, rule.match.nth);
    } else if (key == "probability") {
      ok = r.number_between(key, 0.0, 1.0, rule.match.probability);
    } else if (key == "count") {
      ok = r.integer_as(key, 1, INT64_MAX, rule.count.emplace());
    } else if (key == "error" || key == "append_then_error") {
      ++actions;
      rule.action.kind = key == "error" ? fault_kind::error : fault_kind::append_then_error;
      ok = r.kafka_error_name(key, rule.action.error_code);
    } else if (key == "delay_ms") {
      ++actions;
      ok = r.integer(key, 0, 3600 * 1000, n);
      rule.action = fault_action::delayed(std::chrono::milliseconds(n));
    } else if (key == "throttle_ms") {
      ++actions;
      ok = r.integer(key, 0, INT32_MAX, n);
      rule.action = fault_action::throttled(static_cast<std::int32_t>(n));
    } else if (key == "drop" || key == "append_then_drop") {
      ++actions;
      ok = r.is_true(key);
      rule.action =
          fault_action::of(key == "drop" ? fault_kind::drop : fault_kind::append_then_drop);
    } else if (key == "close") {
      ++actions;
      if ((value.is_bool() && value.as_bool()) || value == "before") {
        rule.action = fault_action::of(fault_kind::close_before);
      } else if (value == "after_processing") {
        rule.action = fault_action::of(fault_kind::close_after_processing);
      } else if (value == "after_response") {
        rule.action = fault_action::of(fault_kind::close_after_response);
      } else {
        return r.fail(
            key, "expected \"before\", \"after_processing\", \"after_response\" or true, got " +
                     shown_json(value));
      }
    } else {
      // No list of the keys here: a rule has too many for one line.
      return r.fail_with("unknown key '" + to_valid_utf8(key) + "'");
    }
    if (!ok) return false;
  }
  if (actions != 1) {
    return r.fail_with(
        actions == 0
            ? "no action (error, delay_ms, drop, close, append_then_error, append_then_drop "
              "or throttle_ms)"
            : "more than one action");
  }
  return true;
}

}  // namespace

fault_parse_result read_fault_rules(const json::value& doc) {
  fault_parse_result out;
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
    const json::value& v = (*list)[i];
    const std::string where = "rule " + std::to_string(i) + ": ";
    if (!v.is_object()) {
      out.rules.clear();
      out.error = where + "expected an object, got " + shown_json(v);
      return out;
    }
    json_reader reader(v.as_object());
    fault_rule rule;
    if (!read_rule(v.as_object(), rule, reader)) {
      out.rules.clear();
      out.error = where + reader.error();
      return out;
    }
    out.rules.push_back(std::move(rule));
  }
  return out;
}

fault_parse_result parse_fault_rules(std::string_view text) {
  std::string error;
  const auto doc = parse_json(text, error);
  if (!doc) {
    fault_parse_result out;
    out.error = "not JSON: " + error;
    return out;
  }
  return read_fault_rules(*doc);
}

json::object fault_rule_object(const fault_rule& rule) {
  json::object o;
  const auto& m = rule.match;
  if (m.broker) o["broker"] = *m.broker;
  if (m.api_key) {
    const auto* api = find_api(*m.api_key);
    o["api"] = api ? json::value(std::string(api->name)) : json::value(*m.api_key);
  }
  if (m.api_version) o["version"] = *m.api_version;
  if (m.topic) o["topic"] = json_text(*m.topic);
  if (m.partition) o["partition"] = *m.partition;
  if (m.producer_id) o["producer_id"] = *m.producer_id;
  if (m.group) o["group"] = *m.group;
  if (m.nth) o["nth"] = m.nth;
  if (m.probability != 1.0) o["probability"] = m.probability;
  const auto& a = rule.action;
  const auto error_name = [&] { return std::string(kafka_error_name(a.error_code)); };
  switch (a.kind) {
    case fault_kind::error:
      o["error"] = error_name();
      break;
    case fault_kind::append_then_error:
      o["append_then_error"] = error_name();
      break;
    case fault_kind::delay:
      o["delay_ms"] = whole_milliseconds(a.delay);
      break;
    case fault_kind::drop:
      o["drop"] = true;
      break;
    case fault_kind::close_before:
      o["close"] = "before";
      break;
    case fault_kind::close_after_processing:
      o["close"] = "after_processing";
      break;
    case fault_kind::close_after_response:
      o["close"] = "after_response";
      break;
    case fault_kind::append_then_drop:
      o["append_then_drop"] = true;
      break;
    case fault_kind::throttle:
      o["throttle_ms"] = a.throttle_ms;
      break;
  }
  if (rule.count) o["count"] = *rule.count;
  return o;
}

std::string fault_rule_to_json(const fault_rule& rule) {
  return json::serialize(fault_rule_object(rule));
}

}  // namespace kwire::mockbroker
