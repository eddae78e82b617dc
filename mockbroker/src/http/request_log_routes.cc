// The request log over HTTP: its query (shared with the WebSocket stream),
// the topic filter, GET and DELETE /requests, and the stream's reader.
#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "http_routes.hpp"
#include "json/cluster_json.hpp"
#include "json/json_text.hpp"
#include "kwire/protocol/api.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker {
namespace {

namespace json = boost::json;

constexpr std::size_t default_page = 100;
constexpr std::size_t max_page = 10000;

// True when the decoded request names `topic` (by name, or by its id `id`).
bool names_topic(const any_message& m, const std::string& topic, const std::optional<uuid>& id) {
  const auto is = [&](const std::string& name) { return name == topic; };
  const auto is_id = [&](const uuid& u) { return id && u == *id; };
  if (auto* r = m.as<produce_request>()) {
    return std::any_of(r->topic_data.begin(), r->topic_data.end(),
                       [&](const auto& t) { return is(t.name); });
  }
  if (auto* r = m.as<fetch_request>()) {
    return std::any_of(r->topics.begin(), r->topics.end(),
                       [&](const auto& t) { return is(t.topic) || is_id(t.topic_id); });
  }
  if (auto* r = m.as<list_offsets_request>()) {
    return std::any_of(r->topics.begin(), r->topics.end(),
                       [&](const auto& t) { return is(t.name); });
  }
  if (auto* r = m.as<metadata_request>()) {
    if (!r->topics) return false;
    return std::any_of(r->topics->begin(), r->topics->end(),
                       [&](const auto& t) { return (t.name && is(*t.name)) || is_id(t.topic_id); });
  }
  if (auto* r = m.as<create_topics_request>()) {
    return std::any_of(r->topics.begin(), r->topics.end(),
                       [&](const auto& t) { return is(t.name); });
  }
  if (auto* r = m.as<delete_topics_request>()) {
    return std::any_of(r->topic_names.begin(), r->topic_names.end(), is) ||
           std::any_of(r->topics.begin(), r->topics.end(),
                       [&](const auto& t) { return (t.name && is(*t.name)) || is_id(t.topic_id); });
  }
  return false;
}

bool passes(const logged_request& e, const request_log_filter& f,
            const std::optional<uuid>& topic_id) {
  if (f.since && e.sequence < *f.since) return false;
  if (f.broker && e.broker_id != *f.broker) return false;
  if (f.api_key && e.header.api_key != *f.api_key) return false;
  if (f.topic && (e.request.empty() || !names_topic(e.request, *f.topic, topic_id))) return false;
  return true;
}

}  // namespace

std::string request_log_filter_of(const http_target& t, request_log_filter& filter,
                                  std::size_t& limit) {
  if (auto e = check_query(t, {"broker", "api", "topic", "since", "limit", "payloads"}); !e.empty())
    return e;
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
      if (!parse_decimal<std::int32_t>(value, INT32_MIN, INT32_MAX, id))
        return bad("is not a broker id");
      filter.broker = id;
    } else if (key == "api") {
      const auto* api = find_api(std::string_view(value));
      if (!api) return bad("is not a Kafka API name (e.g. Produce, Fetch, Metadata)");
      filter.api_key = api->key;
    } else if (key == "topic") {
      filter.topic = value;
    } else if (key == "since") {
      std::uint64_t since = 0;
      if (!parse_decimal<std::uint64_t>(value, 0, UINT64_MAX, since))
        return bad("is not a sequence number");
      filter.since = since;
    } else if (key == "limit") {
      if (!parse_decimal<std::size_t>(value, 1, max_page, limit)) {
        return bad("is not a number from 1 to " + std::to_string(max_page));
      }
    } else if (key == "payloads") {
      if (value != "true" && value != "false") return bad("is not true or false");
      filter.payloads = value == "true";
    }
  }
  return {};
}

std::string parse_request_log_query(std::string_view query, request_log_filter& filter,
                                    std::size_t& limit) {
  const auto t = parse_http_target("/?" + std::string(query));
  if (!t.error.empty()) return t.error;
  return request_log_filter_of(t, filter, limit);
}

http_reply list_requests_route(route_call& call) {
  request_log_filter filter;
  std::size_t limit = 0;
  if (auto e = request_log_filter_of(call.target, filter, limit); !e.empty()) return bad_request(e);
  if (limit == 0) limit = default_page;
  const cluster& c = call.c;
  const auto topic_id = filter.topic ? c.topic_id(*filter.topic) : std::nullopt;
  std::vector<const logged_request*> matches;
  for (const auto& e : c.request_log())
    if (passes(e, filter, topic_id)) matches.push_back(&e);
  // With `since`, the first `limit` from there (paging forward); without, the newest.
  const std::size_t skip = matches.size() > limit && !filter.since ? matches.size() - limit : 0;
  json::array entries;
  for (std::size_t i = skip; i < matches.size() && entries.size() < limit; ++i) {
    entries.push_back(request_log_entry_value(*matches[i], filter.payloads));
  }
  // Where the next page starts: after the last shown if the page is full,
  // else after everything logged so far.
  const auto& log = c.request_log();
  std::uint64_t next = filter.since.value_or(0);
  if (entries.size() == limit)
    next = matches[skip + limit - 1]->sequence + 1;
  else if (!log.empty())
    next = std::max(next, log.back().sequence + 1);
  return json_reply(json::object{{"requests", std::move(entries)}, {"next_since", next}});
}

http_reply clear_requests_route(route_call& call) {
  call.api.clear_request_log(call.c);
  return json_reply(json::object{{"cleared", true}});
}

std::string control_api::request_log_entry_json(const logged_request& entry, bool payloads) {
  return json::serialize(request_log_entry_value(entry, payloads));
}

std::vector<std::string> control_api::read_request_log(const cluster& c, request_log_cursor& cursor,
                                                       const request_log_filter& filter,
                                                       std::size_t max_entries) {
  std::vector<std::string> out;
  const auto& log = c.request_log();
  if (!cursor.started || cursor.generation != generation_) {
    // A new reader starts at `since` or after what is logged now; after a reset
    // or a cleared log, from the start of the new log.
    const bool fresh = !cursor.started;
    cursor = {0, generation_, true, false};
    if (fresh && filter.since)
      cursor.next_sequence = *filter.since;
    else if (fresh && !log.empty())
      cursor.next_sequence = log.back().sequence + 1;
    else
      cursor.resync = true;
  }
  if (cursor.resync) {
    // Everything in the log now is new to this reader.
    if (log.empty()) return out;
    cursor.next_sequence = log.front().sequence;
    cursor.resync = false;
  }
  if (!log.empty() && log.front().sequence > cursor.next_sequence) {
    out.push_back(
        json::serialize(json::object{{"missed", log.front().sequence - cursor.next_sequence}}));
    cursor.next_sequence = log.front().sequence;
  }
  const auto topic_id = filter.topic ? c.topic_id(*filter.topic) : std::nullopt;
  // The log is in sequence order: skip to the cursor, then scan.
  auto it =
      std::lower_bound(log.begin(), log.end(), cursor.next_sequence,
                       [](const logged_request& e, std::uint64_t s) { return e.sequence < s; });
  for (; it != log.end() && out.size() < max_entries; ++it) {
    cursor.next_sequence = it->sequence + 1;
    if (passes(*it, filter, topic_id)) out.push_back(request_log_entry_json(*it, filter.payloads));
  }
  return out;
}

}  // namespace kwire::mockbroker
