// A request target of the HTTP control API (path and query, as sent) read
// with Boost.URL: decoded path segments and query parameters, or an error
// naming the part that is not a valid origin-form target.
#pragma once

#include <charconv>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kwire::mockbroker {

/// A parsed target. Plain value; thread-compatible.
struct http_target {
  /// Percent-decoded segments, without empty ones ("/topics//x/" is topics, x).
  std::vector<std::string> path;
  /// Decoded (key, value) pairs in order; '+' is a space. "?a" gives ("a", "").
  std::vector<std::pair<std::string, std::string>> query;
  /// Empty, or why the target was refused (then path and query are empty).
  std::string error;

  /// "/seg/seg" of the decoded path, for messages.
  std::string path_text() const;
};

/// Parses `target` ("/path?query" as in the request line). Pure function; thread-safe.
http_target parse_http_target(std::string_view target);

/// "" if every query key is in `allowed`, else "unknown query parameter 'k'".
std::string check_query(const http_target& t, std::initializer_list<std::string_view> allowed);

/// A whole decimal number of `Int` in [lo, hi] (no sign for unsigned, no
/// spaces, no '+'); false, `out` untouched, otherwise.
template <class Int>
bool parse_decimal(std::string_view s, Int lo, Int hi, Int& out) {
  Int v{};
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < lo || v > hi)
    return false;
  out = v;
  return true;
}

}  // namespace kwire::mockbroker
