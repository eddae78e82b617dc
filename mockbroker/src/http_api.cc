// The control API's routing and JSON (see http_api.hpp): targets are split
// into percent-decoded path segments and a query, each route reads its body
// with a reader that names the key and the value it rejects, and every
// answer is built with Boost.JSON. Strings that came off the wire (client
// ids, topic names, decoded requests) are made valid UTF-8 before they are
// put in a JSON document, so no client can make the API emit broken JSON.
#include "kwire/mockbroker/http_api.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <initializer_list>

#include "kwire/mockbroker/fault_json.hpp"
#include "kwire/protocol/api.hpp"
#include "kwire/protocol/json.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mock {
namespace {

namespace json = boost::json;

constexpr std::size_t default_page = 100;
constexpr std::size_t max_page = 10000;
// Far above any test's needs, far below what would exhaust memory.
constexpr std::int64_t max_partitions = 100000;

// ---- text ---------------------------------------------------------------------------

// Replaces each byte that does not start a well-formed UTF-8 sequence by U+FFFD.
std::string to_valid_utf8(std::string_view s) {
  const auto* b = reinterpret_cast<const std::uint8_t*>(s.data());
  if (is_valid_utf8({b, s.size()})) return std::string(s);
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::uint8_t c = b[i];
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n > 0 && i + n <= s.size() && is_valid_utf8({b + i, n})) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

json::value text(std::string_view s) { return json::string(to_valid_utf8(s)); }

// A key or value: a string if valid UTF-8, else {"base64": ...}; null as null.
json::value bytes_value(const std::optional<std::vector<std::uint8_t>>& bytes) {
  if (!bytes) return nullptr;
  std::string fragment;
  append_json_bytes(fragment, *bytes);
  boost::system::error_code ec;
  auto v = json::parse(fragment, ec);
  return ec ? json::value(nullptr) : v;
}

// A message decoded by the protocol's JSON printer.
json::value message_value(const any_message& m, std::int16_t version, bool payloads) {
  if (m.empty()) return nullptr;
  json_options options;
  options.show_payloads = payloads;
  boost::system::error_code ec;
  auto v = json::parse(to_valid_utf8(to_json(m, version, options)), ec);
  if (ec) return json::object{{"error", "not printable as JSON: " + ec.message()}};
  return v;
}

bool percent_decode(std::string_view in, std::string& out, bool plus_is_space) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+' && plus_is_space) {
      out += ' ';
    } else if (in[i] == '%') {
      unsigned v = 0;
      if (i + 2 >= in.size()) return false;
      const auto r = std::from_chars(in.data() + i + 1, in.data() + i + 3, v, 16);
      if (r.ec != std::errc() || r.ptr != in.data() + i + 3) return false;
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

template <class Int>
bool parse_number(std::string_view s, Int lo, Int hi, Int& out) {
  Int v{};
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < lo || v > hi) return false;
  out = v;
  return true;
}

// ---- the request ------------------------------------------------------------------------

struct target {
  std::vector<std::string> path;  // percent-decoded segments, without empty ones
  std::vector<std::pair<std::string, std::string>> query;
  std::string error;
};

target split_target(std::string_view t) {
  target out;
  const auto q = t.find('?');
  const std::string_view path = t.substr(0, q);
  std::string decoded;
  for (std::size_t at = 0; at <= path.size();) {
    const auto slash = std::min(path.find('/', at), path.size());
    const auto segment = path.substr(at, slash - at);
    if (!segment.empty()) {
      if (!percent_decode(segment, decoded, false)) {
        out.error = "malformed percent-encoding in path segment '" + to_valid_utf8(segment) + "'";
        return out;
      }
      out.path.push_back(decoded);
    }
    at = slash + 1;
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = t.substr(q + 1);
  while (!query.empty()) {
    const auto amp = std::min(query.find('&'), query.size());
    const auto item = query.substr(0, amp);
    query.remove_prefix(std::min(amp + 1, query.size()));
    if (item.empty()) continue;
    const auto eq = item.find('=');
    std::string key, value;
    if (!percent_decode(item.substr(0, eq), key, true) ||
        (eq != std::string_view::npos && !percent_decode(item.substr(eq + 1), value, true))) {
      out.error = "malformed percent-encoding in query parameter '" + to_valid_utf8(item) + "'";
      return out;
    }
    out.query.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

// Reads the keys of a body object; each reader returns false after setting
// `error`, naming the key and the value it rejects.
struct body_reader {
  json::object object;
  std::string error;

  bool fail(std::string_view key, const std::string& why) {
    error = "'" + std::string(key) + "': " + why;
    return false;
  }

  // Parses `body` as an object with only `allowed` keys.
  bool parse(std::string_view body, std::initializer_list<std::string_view> allowed) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) {
      error = "body is not JSON: " + ec.message();
      return false;
    }
    if (!v.is_object()) {
      error = "body must be a JSON object, got " + json::serialize(v).substr(0, 200);
      return false;
    }
    object = std::move(v.as_object());
    for (const auto& [key, value] : object) {
      if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error = "unknown key '" + to_valid_utf8(key) + "' (expected " + list + ")";
        return false;
      }
    }
    return true;
  }

  bool has(std::string_view key) const { return object.contains(key); }

  bool require(std::string_view key) {
    return has(key) || fail(key, "is required");
  }

  template <class Int>
  bool integer(const json::value& v, std::string_view key, std::int64_t lo, std::int64_t hi, Int& out) {
    if (!v.is_int64() && !v.is_uint64()) return fail(key, "expected an integer, got " + json::serialize(v).substr(0, 200));
    if (v.is_uint64() && v.as_uint64() > static_cast<std::uint64_t>(hi)) return fail(key, json::serialize(v) + " is out of range");
    const std::int64_t n = v.is_int64() ? v.as_int64() : static_cast<std::int64_t>(v.as_uint64());
    if (n < lo || n > hi) {
      return fail(key, std::to_string(n) + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    out = static_cast<Int>(n);
    return true;
  }

  template <class Int>
  bool integer(std::string_view key, std::int64_t lo, std::int64_t hi, Int& out) {
    return integer(object.at(key), key, lo, hi, out);
  }

  bool boolean(std::string_view key, bool& out) {
    const auto& v = object.at(key);
    if (!v.is_bool()) return fail(key, "expected true or false, got " + json::serialize(v).substr(0, 200));
    out = v.as_bool();
    return true;
  }

  bool string(std::string_view key, std::string& out) {
    const auto& v = object.at(key);
    if (!v.is_string()) return fail(key, "expected a string, got " + json::serialize(v).substr(0, 200));
    out = std::string(v.as_string());
    return true;
  }

  bool broker_ids(const json::value& v, std::string_view key, std::vector<std::int32_t>& out) {
    if (!v.is_array()) return fail(key, "expected an array of broker ids, got " + json::serialize(v).substr(0, 200));
    for (const auto& id : v.as_array()) {
      std::int32_t n = 0;
      if (!integer(id, key, INT32_MIN, INT32_MAX, n)) return false;
      out.push_back(n);
    }
    return true;
  }
};

// ---- answers ------------------------------------------------------------------------------

http_reply reply(const json::value& v, unsigned status = 200) { return {status, json::serialize(v)}; }

http_reply bad_request(std::string_view why) { return http_error(400, why); }
http_reply not_found(std::string_view why) { return http_error(404, why); }

std::int64_t milliseconds(duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

json::value broker_json(const broker_info& b) {
  return json::object{{"id", b.id},
                      {"host", text(b.host)},
                      {"port", b.port},
                      {"rack", b.rack ? text(*b.rack) : json::value(nullptr)},
                      {"up", b.up},
                      {"latency_ms", milliseconds(b.latency)}};
}

json::array ids_json(const std::vector<std::int32_t>& ids) {
  json::array out;
  for (auto id : ids) out.push_back(id);
  return out;
}

json::value partition_json(const partition_info& p) {
  return json::object{{"topic", text(p.topic)},
                      {"partition", p.partition},
                      {"leader", p.leader},
                      {"leader_epoch", p.leader_epoch},
                      {"replicas", ids_json(p.replicas)},
                      {"isr", ids_json(p.isr)},
                      {"log_start_offset", p.log_start_offset},
                      {"high_watermark", p.high_watermark},
                      {"batch_count", p.batch_count},
                      {"size_in_bytes", p.size_in_bytes}};
}

json::value topic_json(const cluster& c, const std::string& name) {
  json::array partitions;
  for (std::int32_t p = 0;; ++p) {
    auto info = c.partition(name, p);
    if (!info) break;
    partitions.push_back(partition_json(*info));
  }
  const auto id = c.topic_id(name);
  return json::object{{"name", text(name)},
                      {"id", id ? json::value(uuid_to_string(*id)) : json::value(nullptr)},
                      {"partitions", std::move(partitions)}};
}

json::value rule_status_json(const rule_status& s) {
  boost::system::error_code ec;
  auto rule = json::parse(fault_rule_to_json(s.rule), ec);
  return json::object{{"id", s.id}, {"rule", std::move(rule)}, {"matched", s.matched}, {"fired", s.fired}};
}

json::value record_json(const stored_record& r) {
  json::array headers;
  for (const auto& [key, value] : r.headers) {
    headers.push_back(json::object{{"key", text(key)}, {"value", bytes_value(value)}});
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

// ---- request log filters ------------------------------------------------------------------

// True when the decoded request names `topic` (by name, or by its id `id`).
bool names_topic(const any_message& m, const std::string& topic, const std::optional<uuid>& id) {
  const auto is = [&](const std::string& name) { return name == topic; };
  const auto is_id = [&](const uuid& u) { return id && u == *id; };
  if (auto* r = m.as<produce_request>()) {
    return std::any_of(r->topic_data.begin(), r->topic_data.end(), [&](const auto& t) { return is(t.name); });
  }
  if (auto* r = m.as<fetch_request>()) {
    return std::any_of(r->topics.begin(), r->topics.end(), [&](const auto& t) { return is(t.topic) || is_id(t.topic_id); });
  }
  if (auto* r = m.as<list_offsets_request>()) {
    return std::any_of(r->topics.begin(), r->topics.end(), [&](const auto& t) { return is(t.name); });
  }
  if (auto* r = m.as<metadata_request>()) {
    if (!r->topics) return false;
    return std::any_of(r->topics->begin(), r->topics->end(),
                       [&](const auto& t) { return (t.name && is(*t.name)) || is_id(t.topic_id); });
  }
  if (auto* r = m.as<create_topics_request>()) {
    return std::any_of(r->topics.begin(), r->topics.end(), [&](const auto& t) { return is(t.name); });
  }
  if (auto* r = m.as<delete_topics_request>()) {
    return std::any_of(r->topic_names.begin(), r->topic_names.end(), is) ||
           std::any_of(r->topics.begin(), r->topics.end(),
                       [&](const auto& t) { return (t.name && is(*t.name)) || is_id(t.topic_id); });
  }
  return false;
}

bool passes(const logged_request& e, const request_log_filter& f, const std::optional<uuid>& topic_id) {
  if (f.since && e.sequence < *f.since) return false;
  if (f.broker && e.broker_id != *f.broker) return false;
  if (f.api_key && e.header.api_key != *f.api_key) return false;
  if (f.topic && (e.request.empty() || !names_topic(e.request, *f.topic, topic_id))) return false;
  return true;
}

// ---- routes ---------------------------------------------------------------------------------

struct route_context {
  cluster& c;
  std::string_view method;
  const target& t;
  std::string_view body;
};

http_reply method_not_allowed(const route_context& r, std::string_view allowed) {
  std::string path;
  for (const auto& s : r.t.path) path += "/" + s;
  return http_error(405, std::string(r.method) + " is not served on " + to_valid_utf8(path) + " (only " +
                             std::string(allowed) + ")");
}

// Query parameters a route does not know are refused, so a typo is not ignored.
std::string check_query(const target& t, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : t.query) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      return "unknown query parameter '" + to_valid_utf8(key) + "'";
    }
  }
  return {};
}

http_reply get_cluster(const cluster& c) {
  json::array brokers;
  for (const auto& b : c.brokers()) brokers.push_back(broker_json(b));
  json::array topics;
  for (const auto& name : c.topics()) topics.push_back(topic_json(c, name));
  return reply(json::object{{"cluster_id", text(c.config().cluster_id)},
                            {"bootstrap_servers", text(c.bootstrap_servers())},
                            {"brokers", std::move(brokers)},
                            {"topics", std::move(topics)}});
}

http_reply create_topic(cluster& c, std::string_view body) {
  body_reader r;
  if (!r.parse(body, {"name", "partitions", "replication_factor", "assignments", "log_append_time",
                      "min_insync_replicas", "retention_bytes", "retention_records"}) ||
      !r.require("name")) {
    return bad_request(r.error);
  }
  std::string name;
  topic_config tc;
  bool ok = r.string("name", name);
  if (ok && r.has("partitions")) ok = r.integer("partitions", 1, max_partitions, tc.partitions);
  if (ok && r.has("replication_factor")) ok = r.integer("replication_factor", 1, INT16_MAX, tc.replication_factor);
  if (ok && r.has("log_append_time")) ok = r.boolean("log_append_time", tc.log_append_time);
  if (ok && r.has("min_insync_replicas")) ok = r.integer("min_insync_replicas", 1, INT16_MAX, tc.min_insync_replicas);
  if (ok && r.has("retention_bytes")) ok = r.integer("retention_bytes", INT64_MIN, INT64_MAX, tc.retention_bytes);
  if (ok && r.has("retention_records")) ok = r.integer("retention_records", INT64_MIN, INT64_MAX, tc.retention_records);
  if (ok && r.has("assignments")) {
    const auto& v = r.object.at("assignments");
    ok = v.is_array() && !v.as_array().empty() && v.as_array().size() <= static_cast<std::size_t>(max_partitions);
    if (!ok) r.fail("assignments", "expected a non-empty array of replica lists, one per partition");
    for (std::size_t p = 0; ok && p < v.as_array().size(); ++p) {
      ok = r.broker_ids(v.as_array()[p], "assignments", tc.assignments.emplace_back());
    }
    if (ok && r.has("partitions") && static_cast<std::size_t>(tc.partitions) != tc.assignments.size()) {
      ok = r.fail("partitions", std::to_string(tc.partitions) + " does not match the " +
                                    std::to_string(tc.assignments.size()) + " assignments");
    }
  }
  if (!ok) return bad_request(r.error);
  for (const auto& replicas : tc.assignments)
    for (auto id : replicas) {
      auto brokers = c.brokers();
      if (std::none_of(brokers.begin(), brokers.end(), [&](const auto& b) { return b.id == id; })) {
        return not_found("'assignments': no broker with id " + std::to_string(id));
      }
    }
  const auto err = c.create_topic(name, tc);
  switch (err) {
    case kafka_error::none: return reply(topic_json(c, name), 201);
    case kafka_error::topic_already_exists: return http_error(409, "topic '" + to_valid_utf8(name) + "' already exists");
    case kafka_error::invalid_topic_exception:
      return bad_request("'name': '" + to_valid_utf8(name) +
                         "' is not a valid topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'; not '.' or '..')");
    default:
      return bad_request("cannot create topic '" + to_valid_utf8(name) + "': " +
                         std::string(kafka_error_name(static_cast<std::int16_t>(err))));
  }
}

http_reply no_topic(const std::string& name) { return not_found("no topic '" + to_valid_utf8(name) + "'"); }

http_reply route_topic(const route_context& r, const std::string& name) {
  if (!r.c.topic_id(name)) return no_topic(name);
  if (r.method == "GET") return reply(topic_json(r.c, name));
  if (r.method == "DELETE") {
    r.c.delete_topic(name);
    return reply(json::object{{"deleted", text(name)}});
  }
  return method_not_allowed(r, "GET, DELETE");
}

http_reply move_leader(cluster& c, const partition_info& p, std::string_view body) {
  body_reader r;
  std::int32_t broker = 0;
  if (!r.parse(body, {"broker"}) || !r.require("broker") || !r.integer("broker", INT32_MIN, INT32_MAX, broker)) {
    return bad_request(r.error);
  }
  if (!c.move_leader(p.topic, p.partition, broker)) return not_found("'broker': no broker with id " + std::to_string(broker));
  return reply(partition_json(*c.partition(p.topic, p.partition)));
}

http_reply set_isr(cluster& c, const partition_info& p, std::string_view body) {
  body_reader r;
  std::vector<std::int32_t> isr;
  if (!r.parse(body, {"isr"}) || !r.require("isr") || !r.broker_ids(r.object.at("isr"), "isr", isr)) {
    return bad_request(r.error);
  }
  if (isr.empty()) return bad_request("'isr': must name at least one broker");
  const auto brokers = c.brokers();
  for (auto id : isr) {
    if (std::none_of(brokers.begin(), brokers.end(), [&](const auto& b) { return b.id == id; })) {
      return not_found("'isr': no broker with id " + std::to_string(id));
    }
    if (std::find(p.replicas.begin(), p.replicas.end(), id) == p.replicas.end()) {
      return bad_request("'isr': broker " + std::to_string(id) + " is not a replica of " + to_valid_utf8(p.topic) +
                         "-" + std::to_string(p.partition) + " (replicas " + json::serialize(ids_json(p.replicas)) + ")");
    }
    if (std::count(isr.begin(), isr.end(), id) > 1) return bad_request("'isr': broker " + std::to_string(id) + " is named twice");
  }
  if (!c.set_isr(p.topic, p.partition, isr)) return bad_request("'isr': refused by the cluster");
  return reply(partition_json(*c.partition(p.topic, p.partition)));
}

http_reply read_records(const cluster& c, const partition_info& p, const target& t) {
  if (auto e = check_query(t, {"offset", "limit"}); !e.empty()) return bad_request(e);
  std::int64_t offset = 0;
  std::size_t limit = default_page;
  for (const auto& [key, value] : t.query) {
    if (key == "offset" && !parse_number<std::int64_t>(value, 0, INT64_MAX, offset)) {
      return bad_request("query parameter 'offset': '" + to_valid_utf8(value) + "' is not an offset (0 or more)");
    }
    if (key == "limit" && !parse_number<std::size_t>(value, 1, max_page, limit)) {
      return bad_request("query parameter 'limit': '" + to_valid_utf8(value) + "' is not a number from 1 to " +
                         std::to_string(max_page));
    }
  }
  json::array records;
  const auto stored = c.read(p.topic, p.partition, offset, limit);
  for (const auto& s : stored) records.push_back(record_json(s));
  const std::int64_t next = stored.empty() ? std::max(offset, p.log_start_offset) : stored.back().offset + 1;
  return reply(json::object{{"records", std::move(records)},
                            {"next_offset", next},
                            {"log_start_offset", p.log_start_offset},
                            {"high_watermark", p.high_watermark}});
}

// /topics/{topic}/partitions/{p}[/leader|/isr|/records]
http_reply route_partition(const route_context& r) {
  const auto& path = r.t.path;
  const std::string& topic = path[1];
  std::int32_t index = 0;
  if (!parse_number<std::int32_t>(path[3], 0, INT32_MAX, index)) {
    return bad_request("partition '" + to_valid_utf8(path[3]) + "' is not a partition number");
  }
  if (!r.c.topic_id(topic)) return no_topic(topic);
  const auto p = r.c.partition(topic, index);
  if (!p) return not_found("topic '" + to_valid_utf8(topic) + "' has no partition " + std::to_string(index));
  if (path.size() == 4) return r.method == "GET" ? reply(partition_json(*p)) : method_not_allowed(r, "GET");
  if (path.size() != 5) return not_found("no such path");
  if (path[4] == "leader") return r.method == "PUT" ? move_leader(r.c, *p, r.body) : method_not_allowed(r, "PUT");
  if (path[4] == "isr") return r.method == "PUT" ? set_isr(r.c, *p, r.body) : method_not_allowed(r, "PUT");
  if (path[4] == "records") return r.method == "GET" ? read_records(r.c, *p, r.t) : method_not_allowed(r, "GET");
  return not_found("no such path");
}

http_reply update_broker(cluster& c, std::int32_t id, std::string_view body) {
  body_reader r;
  if (!r.parse(body, {"up", "latency_ms", "move_leaderships"})) return bad_request(r.error);
  if (!r.has("up") && !r.has("latency_ms")) return bad_request("nothing to change: give 'up' or 'latency_ms'");
  bool up = true, move_leaderships = true;
  std::int64_t latency_ms = 0;
  bool ok = true;
  if (r.has("up")) ok = r.boolean("up", up);
  if (ok && r.has("move_leaderships")) ok = r.boolean("move_leaderships", move_leaderships);
  if (ok && r.has("latency_ms")) ok = r.integer("latency_ms", 0, 3600 * 1000, latency_ms);
  if (!ok) return bad_request(r.error);
  if (r.has("latency_ms")) c.set_broker_latency(id, std::chrono::milliseconds(latency_ms));
  if (r.has("up")) {
    if (up) c.broker_up(id);
    else c.broker_down(id, move_leaderships);
  }
  for (const auto& b : c.brokers())
    if (b.id == id) return reply(broker_json(b));
  return not_found("no broker with id " + std::to_string(id));
}

http_reply route_broker(const route_context& r) {
  std::int32_t id = 0;
  const auto& segment = r.t.path[1];
  if (!parse_number<std::int32_t>(segment, INT32_MIN, INT32_MAX, id)) {
    return bad_request("broker '" + to_valid_utf8(segment) + "' is not a broker id");
  }
  const auto brokers = r.c.brokers();
  const auto it = std::find_if(brokers.begin(), brokers.end(), [&](const auto& b) { return b.id == id; });
  if (it == brokers.end()) return not_found("no broker with id " + std::to_string(id));
  if (r.method == "GET") return reply(broker_json(*it));
  if (r.method == "PUT") return update_broker(r.c, id, r.body);
  return method_not_allowed(r, "GET, PUT");
}

http_reply add_faults(cluster& c, std::string_view body) {
  auto parsed = parse_fault_rules(body);
  if (!parsed.ok()) return bad_request(parsed.error);
  if (parsed.rules.empty()) return bad_request("no rules given");
  // One rule object answers with its id; a list answers with every id.
  boost::system::error_code ec;
  const auto doc = json::parse(body, ec);
  const bool single = !ec && doc.is_object() && !doc.as_object().contains("faults");
  json::array ids;
  for (auto& rule : parsed.rules) ids.push_back(c.add_fault(std::move(rule)));
  if (single) return reply(json::object{{"id", ids.front()}}, 201);
  return reply(json::object{{"ids", std::move(ids)}}, 201);
}

http_reply route_faults(const route_context& r) {
  if (r.t.path.size() == 1) {
    if (r.method == "GET") {
      json::array list;
      for (const auto& s : r.c.faults()) list.push_back(rule_status_json(s));
      return reply(json::object{{"faults", std::move(list)}});
    }
    if (r.method == "POST") return add_faults(r.c, r.body);
    if (r.method == "DELETE") {
      const auto n = r.c.faults().size();
      r.c.clear_faults();
      return reply(json::object{{"deleted", n}});
    }
    return method_not_allowed(r, "GET, POST, DELETE");
  }
  if (r.t.path.size() != 2) return not_found("no such path");
  rule_id id = 0;
  if (!parse_number<rule_id>(r.t.path[1], 0, UINT64_MAX, id)) {
    return bad_request("fault rule '" + to_valid_utf8(r.t.path[1]) + "' is not a rule id");
  }
  const auto rules = r.c.faults();
  const auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& s) { return s.id == id; });
  if (it == rules.end()) return not_found("no fault rule with id " + std::to_string(id));
  if (r.method == "GET") return reply(rule_status_json(*it));
  if (r.method == "DELETE") {
    r.c.remove_fault(id);
    return reply(json::object{{"deleted", id}});
  }
  return method_not_allowed(r, "GET, DELETE");
}

}  // namespace

// ---- public ---------------------------------------------------------------------------------

http_reply http_error(unsigned status, std::string_view message) {
  return {status, json::serialize(json::object{{"error", text(message)}})};
}

std::string parse_request_log_query(std::string_view query, request_log_filter& filter, std::size_t& limit) {
  const auto t = split_target("?" + std::string(query));
  if (!t.error.empty()) return t.error;
  if (auto e = check_query(t, {"broker", "api", "topic", "since", "limit", "payloads"}); !e.empty()) return e;
  limit = 0;
  for (const auto& parameter : t.query) {
    // Named, not structured bindings: clang 14 cannot capture those in a lambda.
    const std::string& key = parameter.first;
    const std::string& value = parameter.second;
    const auto bad = [&](std::string_view why) {
      return "query parameter '" + key + "': '" + to_valid_utf8(value) + "' " + std::string(why);
    };
    if (key == "broker") {
      std::int32_t id = 0;
      if (!parse_number<std::int32_t>(value, INT32_MIN, INT32_MAX, id)) return bad("is not a broker id");
      filter.broker = id;
    } else if (key == "api") {
      const auto* api = find_api(std::string_view(value));
      if (!api) return bad("is not a Kafka API name (e.g. Produce, Fetch, Metadata)");
      filter.api_key = api->key;
    } else if (key == "topic") {
      filter.topic = value;
    } else if (key == "since") {
      std::uint64_t since = 0;
      if (!parse_number<std::uint64_t>(value, 0, UINT64_MAX, since)) return bad("is not a sequence number");
      filter.since = since;
    } else if (key == "limit") {
      if (!parse_number<std::size_t>(value, 1, max_page, limit)) {
        return bad("is not a number from 1 to " + std::to_string(max_page));
      }
    } else if (key == "payloads") {
      if (value != "true" && value != "false") return bad("is not true or false");
      filter.payloads = value == "true";
    }
  }
  return {};
}

control_api::control_api(initial_state setup) : setup_(std::move(setup)) {}

void control_api::reset(cluster& c) {
  std::vector<std::pair<std::int32_t, std::int32_t>> ports;
  for (const auto& b : c.brokers()) ports.emplace_back(b.id, b.port);
  c = cluster(c.config());
  for (const auto& [id, port] : ports) c.set_broker_port(id, port);
  if (setup_) setup_(c);
  ++generation_;
}

std::string control_api::request_log_entry_json(const logged_request& e, bool payloads) {
  const auto* api = find_api(e.header.api_key);
  json::array faults;
  for (const auto& f : e.faults) faults.push_back(json::object{{"id", f.id}, {"kind", fault_kind_name(f.kind)}});
  const auto unix_ms = [](time_point t) { return milliseconds(t.time_since_epoch()); };
  json::object o{{"sequence", e.sequence},
                 {"broker", e.broker_id},
                 {"connection", e.connection_id},
                 {"arrival_ms", unix_ms(e.arrival)},
                 {"sent_ms", e.send_at ? json::value(unix_ms(*e.send_at)) : json::value(nullptr)},
                 {"api", api ? json::value(api->name) : json::value(nullptr)},
                 {"api_key", e.header.api_key},
                 {"version", e.header.api_version},
                 {"correlation_id", e.header.correlation_id},
                 {"client_id", e.header.client_id ? text(*e.header.client_id) : json::value(nullptr)},
                 {"request", message_value(e.request, e.header.api_version, payloads)},
                 {"response", message_value(e.response, e.header.api_version, payloads)},
                 {"faults", std::move(faults)},
                 {"closed", e.closed},
                 {"close_reason", text(e.close_reason)}};
  return json::serialize(o);
}

std::vector<std::string> control_api::read_request_log(const cluster& c, request_log_cursor& cursor,
                                                       const request_log_filter& filter, std::size_t max_entries) {
  std::vector<std::string> out;
  const auto& log = c.request_log();
  if (!cursor.started || cursor.generation != generation_) {
    // A new reader starts at `since` or after what is logged now; after a reset
    // or a cleared log, from the start of the new log.
    const bool fresh = !cursor.started;
    cursor = {0, generation_, true, false};
    if (fresh && filter.since) cursor.next_sequence = *filter.since;
    else if (fresh && !log.empty()) cursor.next_sequence = log.back().sequence + 1;
    else cursor.resync = true;
  }
  if (cursor.resync) {
    // Everything in the log now is new to this reader.
    if (log.empty()) return out;
    cursor.next_sequence = log.front().sequence;
    cursor.resync = false;
  }
  if (!log.empty() && log.front().sequence > cursor.next_sequence) {
    out.push_back(json::serialize(json::object{{"missed", log.front().sequence - cursor.next_sequence}}));
    cursor.next_sequence = log.front().sequence;
  }
  const auto topic_id = filter.topic ? c.topic_id(*filter.topic) : std::nullopt;
  // The log is in sequence order: skip to the cursor, then scan.
  auto it = std::lower_bound(log.begin(), log.end(), cursor.next_sequence,
                             [](const logged_request& e, std::uint64_t s) { return e.sequence < s; });
  for (; it != log.end() && out.size() < max_entries; ++it) {
    cursor.next_sequence = it->sequence + 1;
    if (passes(*it, filter, topic_id)) out.push_back(request_log_entry_json(*it, filter.payloads));
  }
  return out;
}

http_reply control_api::handle(cluster& c, std::string_view method, std::string_view target_text,
                               std::string_view body) {
  const auto t = split_target(target_text);
  if (!t.error.empty()) return bad_request(t.error);
  const route_context r{c, method, t, body};
  const auto& path = t.path;
  if (path.empty()) return not_found("no such path; try GET /cluster");
  const std::string& head = path[0];
  // Only the records and request log routes take a query.
  const bool takes_query = (head == "requests") || (head == "topics" && path.size() == 5 && path[4] == "records");
  if (!takes_query) {
    if (auto e = check_query(t, {}); !e.empty()) return bad_request(e);
  }
  if (head == "cluster" && path.size() == 1) return method == "GET" ? get_cluster(c) : method_not_allowed(r, "GET");
  if (head == "reset" && path.size() == 1) {
    if (method != "POST") return method_not_allowed(r, "POST");
    reset(c);
    return reply(json::object{{"reset", true}});
  }
  if (head == "topics") {
    if (path.size() == 1) return method == "POST" ? create_topic(c, body) : method_not_allowed(r, "POST");
    if (path.size() == 2) return route_topic(r, path[1]);
    if (path.size() >= 4 && path[2] == "partitions") return route_partition(r);
  }
  if (head == "brokers" && path.size() == 2) return route_broker(r);
  if (head == "faults") return route_faults(r);
  if (head == "requests" && path.size() == 1) {
    if (method == "DELETE") {
      if (!t.query.empty()) return bad_request("DELETE /requests takes no query");
      c.clear_request_log();
      ++generation_;
      return reply(json::object{{"cleared", true}});
    }
    if (method != "GET") return method_not_allowed(r, "GET, DELETE");
    request_log_filter filter;
    std::size_t limit = 0;
    const auto q = target_text.find('?');
    if (auto e = parse_request_log_query(q == std::string_view::npos ? "" : target_text.substr(q + 1), filter, limit);
        !e.empty()) {
      return bad_request(e);
    }
    if (limit == 0) limit = default_page;
    const auto topic_id = filter.topic ? c.topic_id(*filter.topic) : std::nullopt;
    std::vector<const logged_request*> matches;
    for (const auto& e : c.request_log())
      if (passes(e, filter, topic_id)) matches.push_back(&e);
    // With `since`, the first `limit` from there (paging forward); without, the newest.
    const std::size_t skip = matches.size() > limit && !filter.since ? matches.size() - limit : 0;
    std::string out = "{\"requests\":[";
    std::size_t shown = 0;
    for (std::size_t i = skip; i < matches.size() && shown < limit; ++i, ++shown) {
      if (shown) out += ',';
      out += request_log_entry_json(*matches[i], filter.payloads);
    }
    // Where the next page starts: after the last shown if the page is full,
    // else after everything logged so far.
    const auto& log = c.request_log();
    std::uint64_t next = filter.since.value_or(0);
    if (shown == limit) next = matches[skip + shown - 1]->sequence + 1;
    else if (!log.empty()) next = std::max(next, log.back().sequence + 1);
    out += "],\"next_since\":" + std::to_string(next) + "}";
    return {200, std::move(out)};
  }
  return not_found("no such path");
}

}  // namespace kwire::mock
