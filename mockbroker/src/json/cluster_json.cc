#include "cluster_json.hpp"

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "fault_rule_json.hpp"
#include "json_text.hpp"
#include "kwire/protocol/api.hpp"
#include "kwire/protocol/json.hpp"
#include "kwire/protocol/messages/consumer_protocol_assignment.hpp"
#include "kwire/protocol/messages/consumer_protocol_subscription.hpp"
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

// A member's protocol metadata or assignment: decoded for the "consumer"
// protocol type, else its bytes.
json::value member_bytes_value(const std::string& protocol_type,
                               const std::vector<std::uint8_t>& bytes, bool assignment) {
  if (protocol_type != "consumer" || bytes.empty()) return bytes_value(bytes);
  if (assignment) {
    auto a = decode_consumer_protocol_assignment(bytes);
    if (!a) return json::object{{"undecodable", json_text(a.error().message())}};
    json::array out;
    for (const auto& tp : a->assigned_partitions) {
      json::array partitions(tp.partitions.begin(), tp.partitions.end());
      out.push_back(json::object{{"topic", json_text(tp.topic)}, {"partitions", partitions}});
    }
    return out;
  }
  auto s = decode_consumer_protocol_subscription(bytes);
  if (!s) return json::object{{"undecodable", json_text(s.error().message())}};
  json::array topics;
  for (const auto& t : s->topics) topics.push_back(json_text(t));
  return json::object{{"topics", std::move(topics)}};
}

}  // namespace

json::object group_listing_value(const group_listing& g) {
  return json::object{{"group_id", json_text(g.group_id)},
                      {"state", json_text(g.state)},
                      {"protocol_type", json_text(g.protocol_type)},
                      {"coordinator", g.coordinator},
                      {"type", json_text(g.type)}};
}

json::object group_value(const cluster& c, const group_info& g) {
  json::array members;
  for (const auto& m : g.members) {
    json::object member{{"member_id", json_text(m.member_id)},
                        {"group_instance_id", m.group_instance_id ? json_text(*m.group_instance_id)
                                                                  : json::value(nullptr)},
                        {"client_id", json_text(m.client_id)},
                        {"client_host", json_text(m.client_host)},
                        {"session_timeout_ms", m.session_timeout_ms},
                        {"rebalance_timeout_ms", m.rebalance_timeout_ms},
                        {"metadata", member_bytes_value(g.protocol_type, m.metadata, false)},
                        {"assignment", member_bytes_value(g.protocol_type, m.assignment, true)}};
    if (g.type == "consumer") {
      // KIP-848: the member's epoch and where the assignor wants it.
      member["member_epoch"] = m.member_epoch;
      member["target_assignment"] = member_bytes_value(g.protocol_type, m.target_assignment, true);
    }
    members.push_back(std::move(member));
  }
  json::array offsets;
  for (const auto& o : g.offsets) {
    const auto p = c.partition(o.topic, o.partition);
    offsets.push_back(json::object{
        {"topic", json_text(o.topic)},
        {"partition", o.partition},
        {"offset", o.offset},
        {"metadata", json_text(o.metadata)},
        {"leader_epoch", o.leader_epoch},
        {"log_end_offset", p ? json::value(p->high_watermark) : json::value(nullptr)},
        {"lag", p ? json::value(std::max<std::int64_t>(0, p->high_watermark - o.offset))
                  : json::value(nullptr)}});
  }
  return json::object{{"group_id", json_text(g.group_id)},
                      {"type", json_text(g.type)},
                      {"state", json_text(g.state)},
                      {"protocol_type", json_text(g.protocol_type)},
                      {"protocol", g.protocol ? json_text(*g.protocol) : json::value(nullptr)},
                      {"generation", g.generation},
                      {"leader", g.leader ? json_text(*g.leader) : json::value(nullptr)},
                      {"coordinator", g.coordinator},
                      {"members", std::move(members)},
                      {"offsets", std::move(offsets)}};
}

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
