#include "cluster_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "fault_rule_json.hpp"
#include "json_text.hpp"
#include "kwire/protocol/api.hpp"
#include "kwire/protocol/json.hpp"
#include "time_json.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

// A key or value: a string if valid UTF-8, else {"base64": ...}; null as
// null. The protocol's printer is the one definition of that form (kwire
// decode prints the same), so its text is parsed rather than redone here.
json::value bytes_value(const std::optional<std::vector<std::uint8_t>>& bytes) {
  if (!bytes) return nullptr;
  std::string fragment;
  append_json_bytes(fragment, *bytes);
  boost::system::error_code ec;
  auto v = json::parse(fragment, ec);
  return ec ? json::value(nullptr) : v;
}

// A message decoded by the protocol's JSON printer (which prints text; the
// schema-driven printer is the protocol's, so it is parsed into a value).
json::value message_value(const any_message& m, std::int16_t version, bool payloads) {
  if (m.empty()) return nullptr;
  json_options options;
  options.show_payloads = payloads;
  boost::system::error_code ec;
  auto v = json::parse(to_valid_utf8(to_json(m, version, options)), ec);
  if (ec) return json::object{{"error", "not printable as JSON: " + ec.message()}};
  return v;
}

json::array ids_value(const std::vector<std::int32_t>& ids) {
  json::array out;
  for (auto id : ids) out.push_back(id);
  return out;
}

}  // namespace

json::object broker_value(const broker_info& b) {
  return json::object{
      {"id", b.id},     {"host", json_text(b.host)},
      {"port", b.port}, {"rack", b.rack ? json_text(*b.rack) : json::value(nullptr)},
      {"up", b.up},     {"latency_ms", whole_milliseconds(b.latency)}};
}

json::object partition_value(const partition_info& p) {
  return json::object{{"topic", json_text(p.topic)},
                      {"partition", p.partition},
                      {"leader", p.leader},
                      {"leader_epoch", p.leader_epoch},
                      {"replicas", ids_value(p.replicas)},
                      {"isr", ids_value(p.isr)},
                      {"log_start_offset", p.log_start_offset},
                      {"high_watermark", p.high_watermark},
                      {"batch_count", p.batch_count},
                      {"size_in_bytes", p.size_in_bytes}};
}

json::object topic_value(const cluster& c, const std::string& name) {
  json::array partitions;
  for (std::int32_t p = 0;; ++p) {
    auto info = c.partition(name, p);
    if (!info) break;
    partitions.push_back(partition_value(*info));
  }
  const auto id = c.topic_id(name);
  return json::object{{"name", json_text(name)},
                      {"id", id ? json::value(uuid_to_string(*id)) : json::value(nullptr)},
                      {"partitions", std::move(partitions)}};
}

json::object rule_status_value(const rule_status& s) {
  return json::object{{"id", s.id},
                      {"rule", fault_rule_object(s.rule)},
                      {"matched", s.matched},
                      {"fired", s.fired}};
}

json::object record_value(const stored_record& r) {
  json::array headers;
  for (const auto& [key, value] : r.headers) {
    headers.push_back(json::object{{"key", json_text(key)}, {"value", bytes_value(value)}});
  }
  return json::object{{"offset", r.offset},
                      {"timestamp", r.timestamp},
                      {"key", bytes_value(r.key)},
                      {"value", bytes_value(r.value)},
                      {"headers", std::move(headers)},
                      {"producer_id", r.producer_id},
                      {"producer_epoch", r.producer_epoch},
                      {"sequence", r.sequence}};
}

json::object request_log_entry_value(const logged_request& e, bool payloads) {
  const auto* api = find_api(e.header.api_key);
  json::array faults;
  for (const auto& f : e.faults)
    faults.push_back(json::object{{"id", f.id}, {"kind", fault_kind_name(f.kind)}});
  return json::object{
      {"sequence", e.sequence},
      {"broker", e.broker_id},
      {"connection", e.connection_id},
      {"arrival_ms", unix_millis(e.arrival)},
      {"sent_ms", e.send_at ? json::value(unix_millis(*e.send_at)) : json::value(nullptr)},
      {"api", api ? json::value(api->name) : json::value(nullptr)},
      {"api_key", e.header.api_key},
      {"version", e.header.api_version},
      {"correlation_id", e.header.correlation_id},
      {"client_id", e.header.client_id ? json_text(*e.header.client_id) : json::value(nullptr)},
      {"request", message_value(e.request, e.header.api_version, payloads)},
      {"response", message_value(e.response, e.header.api_version, payloads)},
      {"faults", std::move(faults)},
      {"closed", e.closed},
      {"close_reason", json_text(e.close_reason)}};
}

}  // namespace kwire::mockbroker
