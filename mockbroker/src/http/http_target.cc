#include "http_target.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/pct_string_view.hpp>
#include <boost/url/url_view.hpp>

#include "json/json_text.hpp"

namespace kwire::mockbroker {
namespace {

namespace urls = boost::urls;

// Boost.URL says only that a target does not parse; this names the part:
// the first path segment or query item with a broken %XX escape, else the
// target as a whole.
std::string why_refused(std::string_view target) {
  const auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  while (!path.empty()) {
    const auto slash = std::min(path.find('/'), path.size());
    const auto segment = path.substr(0, slash);
    if (!urls::make_pct_string_view(segment)) {
      return "malformed percent-encoding in path segment '" + to_valid_utf8(segment) + "'";
    }
    path.remove_prefix(std::min(slash + 1, path.size()));
  }
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = std::min(query.find('&'), query.size());
    const auto item = query.substr(0, amp);
    if (!urls::make_pct_string_view(item)) {
      return "malformed percent-encoding in query parameter '" + to_valid_utf8(item) + "'";
    }
    query.remove_prefix(std::min(amp + 1, query.size()));
  }
  if (target.empty() || target.front() != '/')
    return "the target '" + to_valid_utf8(target) + "' does not start with '/'";
  return "the target '" + to_valid_utf8(target) + "' has a character that must be percent-encoded";
}

}  // namespace

std::string http_target::path_text() const {
  std::string out;
  for (const auto& s : path) out += "/" + s;
  return out;
}

http_target parse_http_target(std::string_view text) {
  http_target out;
  const auto parsed = urls::parse_origin_form(text);
  if (!parsed) {
    out.error = why_refused(text);
    return out;
  }
  for (const auto& segment : parsed->segments()) {
    if (!segment.empty()) out.path.push_back(segment);
  }
  // Decoded with '+' as a space, as an HTML form sends it.
  for (const auto& param : parsed->params()) {
    if (param.key.empty() && !param.has_value) continue;  // "?", "&&"
    out.query.emplace_back(param.key, param.value);
  }
  return out;
}

std::string check_query(const http_target& t, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : t.query) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(key)) == allowed.end()) {
      return "unknown query parameter '" + to_valid_utf8(key) + "'";
    }
  }
  return {};
}

}  // namespace kwire::mockbroker
