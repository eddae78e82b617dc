// Routes on topics and partitions: create, show and delete topics; show a
// partition, move its leader, set its ISR, page through its records.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "http_routes.hpp"
#include "json/cluster_json.hpp"
#include "json/json_reader.hpp"
#include "json/json_text.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

constexpr std::size_t default_page = 100;
constexpr std::size_t max_page = 10000;
// Far above any test's needs, far below what would exhaust memory.
constexpr std::int64_t max_partitions = 100000;

http_reply no_topic(const std::string& name) {
  return not_found("no topic '" + to_valid_utf8(name) + "'");
}

bool has_broker(const cluster& c, std::int32_t id) {
  const auto brokers = c.brokers();
  return std::any_of(brokers.begin(), brokers.end(), [&](const auto& b) { return b.id == id; });
}

// The partition of /topics/{topic}/partitions/{p}, or the answer that says why there is none.
std::optional<http_reply> find_partition(const route_call& call, partition_info& out) {
  const std::string& topic = call.params.at(0);
  const std::string& text = call.params.at(1);
  std::int32_t index = 0;
  if (!parse_decimal<std::int32_t>(text, 0, INT32_MAX, index)) {
    return bad_request("partition '" + to_valid_utf8(text) + "' is not a partition number");
  }
  if (!call.c.topic_id(topic)) return no_topic(topic);
  auto p = call.c.partition(topic, index);
  if (!p)
    return not_found("topic '" + to_valid_utf8(topic) + "' has no partition " +
                     std::to_string(index));
  out = std::move(*p);
  return std::nullopt;
}

// The create-topic body's settings; false with the reader's error.
bool read_topic_config(json_reader& r, topic_config& tc) {
  bool ok = true;
  if (ok && r.has("partitions")) ok = r.integer_as("partitions", 1, max_partitions, tc.partitions);
  if (ok && r.has("replication_factor"))
    ok = r.integer_as("replication_factor", 1, INT16_MAX, tc.replication_factor);
  if (ok && r.has("log_append_time")) ok = r.boolean("log_append_time", tc.log_append_time);
  if (ok && r.has("min_insync_replicas")) {
    ok = r.integer_as("min_insync_replicas", 1, INT16_MAX, tc.min_insync_replicas);
  }
  if (ok && r.has("retention_bytes"))
    ok = r.integer_as("retention_bytes", INT64_MIN, INT64_MAX, tc.retention_bytes);
  if (ok && r.has("retention_records")) {
    ok = r.integer_as("retention_records", INT64_MIN, INT64_MAX, tc.retention_records);
  }
  if (ok && r.has("assignments")) {
    const auto& v = r.at("assignments");
    ok = v.is_array() && !v.as_array().empty() &&
         v.as_array().size() <= static_cast<std::size_t>(max_partitions);
    if (!ok)
      r.fail("assignments", "expected a non-empty array of replica lists, one per partition");
    for (std::size_t p = 0; ok && p < v.as_array().size(); ++p) {
      ok = r.broker_ids(v.as_array()[p], "assignments", tc.assignments.emplace_back());
    }
    if (ok && r.has("partitions") &&
        static_cast<std::size_t>(tc.partitions) != tc.assignments.size()) {
      ok = r.fail("partitions", std::to_string(tc.partitions) + " does not match the " +
                                    std::to_string(tc.assignments.size()) + " assignments");
    }
  }
  return ok;
}

}  // namespace

http_reply create_topic_route(route_call& call) {
  std::string error;
  const auto body = request_body_object(
      call.body,
      {"name", "partitions", "replication_factor", "assignments", "log_append_time",
       "min_insync_replicas", "retention_bytes", "retention_records"},
      error);
  if (!body) return bad_request(error);
  json_reader r(*body);
  std::string name;
  topic_config tc;
  if (!r.require("name") || !r.string("name", name) || !read_topic_config(r, tc))
    return bad_request(r.error());
  for (const auto& replicas : tc.assignments)
    for (auto id : replicas)
      if (!has_broker(call.c, id))
        return not_found("'assignments': no broker with id " + std::to_string(id));
  const auto err = call.c.create_topic(name, tc);
  switch (err) {
    case kafka_error::none:
      return json_reply(topic_value(call.c, name), 201);
    case kafka_error::topic_already_exists:
      return http_error(409, "topic '" + to_valid_utf8(name) + "' already exists");
    case kafka_error::invalid_topic_exception:
      return bad_request("'name': '" + to_valid_utf8(name) +
                         "' is not a valid topic name (1 to 249 of a-z, A-Z, 0-9, '.', '_', '-'; "
                         "not '.' or '..')");
    default:
      return bad_request("cannot create topic '" + to_valid_utf8(name) +
                         "': " + std::string(kafka_error_name(static_cast<std::int16_t>(err))));
  }
}

http_reply get_topic_route(route_call& call) {
  const auto& name = call.params.at(0);
  if (!call.c.topic_id(name)) return no_topic(name);
  return json_reply(topic_value(call.c, name));
}

http_reply delete_topic_route(route_call& call) {
  const auto& name = call.params.at(0);
  if (!call.c.topic_id(name)) return no_topic(name);
  call.c.delete_topic(name);
  return json_reply(json::object{{"deleted", json_text(name)}});
}

http_reply get_partition_route(route_call& call) {
  partition_info p;
  if (auto refused = find_partition(call, p)) return *refused;
  return json_reply(partition_value(p));
}

http_reply move_leader_route(route_call& call) {
  partition_info p;
  if (auto refused = find_partition(call, p)) return *refused;
  std::string error;
  const auto body = request_body_object(call.body, {"broker"}, error);
  if (!body) return bad_request(error);
  json_reader r(*body);
  std::int32_t broker = 0;
  if (!r.require("broker") || !r.integer_as("broker", INT32_MIN, INT32_MAX, broker))
    return bad_request(r.error());
  if (!call.c.move_leader(p.topic, p.partition, broker)) {
    return not_found("'broker': no broker with id " + std::to_string(broker));
  }
  return json_reply(partition_value(*call.c.partition(p.topic, p.partition)));
}

http_reply set_isr_route(route_call& call) {
  partition_info p;
  if (auto refused = find_partition(call, p)) return *refused;
  std::string error;
  const auto body = request_body_object(call.body, {"isr"}, error);
  if (!body) return bad_request(error);
  json_reader r(*body);
  std::vector<std::int32_t> isr;
  if (!r.require("isr") || !r.broker_ids(r.at("isr"), "isr", isr)) return bad_request(r.error());
  if (isr.empty()) return bad_request("'isr': must name at least one broker");
  for (auto id : isr) {
    if (!has_broker(call.c, id)) return not_found("'isr': no broker with id " + std::to_string(id));
    if (std::find(p.replicas.begin(), p.replicas.end(), id) == p.replicas.end()) {
      json::array replicas(p.replicas.begin(), p.replicas.end());
      return bad_request("'isr': broker " + std::to_string(id) + " is not a replica of " +
                         to_valid_utf8(p.topic) + "-" + std::to_string(p.partition) +
                         " (replicas " + json::serialize(replicas) + ")");
    }
    if (std::count(isr.begin(), isr.end(), id) > 1) {
      return bad_request("'isr': broker " + std::to_string(id) + " is named twice");
    }
  }
  if (!call.c.set_isr(p.topic, p.partition, isr))
    return bad_request("'isr': refused by the cluster");
  return json_reply(partition_value(*call.c.partition(p.topic, p.partition)));
}

http_reply read_records_route(route_call& call) {
  partition_info p;
  if (auto refused = find_partition(call, p)) return *refused;
  std::int64_t offset = 0;
  std::size_t limit = default_page;
  for (const auto& [key, value] : call.target.query) {
    if (key == "offset" && !parse_decimal<std::int64_t>(value, 0, INT64_MAX, offset)) {
      return bad_request("query parameter 'offset': '" + to_valid_utf8(value) +
                         "' is not an offset (0 or more)");
    }
    if (key == "limit" && !parse_decimal<std::size_t>(value, 1, max_page, limit)) {
      return bad_request("query parameter 'limit': '" + to_valid_utf8(value) +
                         "' is not a number from 1 to " + std::to_string(max_page));
    }
  }
  json::array records;
  const auto stored = call.c.read(p.topic, p.partition, offset, limit);
  for (const auto& s : stored) records.push_back(record_value(s));
  const std::int64_t next =
      stored.empty() ? std::max(offset, p.log_start_offset) : stored.back().offset + 1;
  return json_reply(json::object{{"records", std::move(records)},
                                 {"next_offset", next},
                                 {"log_start_offset", p.log_start_offset},
                                 {"high_watermark", p.high_watermark}});
}

}  // namespace kwire::mockbroker
