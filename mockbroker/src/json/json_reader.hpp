// The one reader of JSON input: fault rules (`kwire mock --faults`, POST
// /faults) and the HTTP control API's request bodies. Every check names the
// key and shows the value it rejects, so a typo in a test's setup is reported
// as such instead of being ignored or silently clamped.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kwire::mockbroker {

/// Parses a whole JSON document; nullopt with `error` set to the parser's
/// reason otherwise. Pure function; thread-safe.
std::optional<boost::json::value> parse_json(std::string_view text, std::string& error);

/// Reads the keys of one JSON object. Each check returns false after setting
/// error() to "'KEY': why", so callers chain checks with && and report the
/// first failure. The object must outlive the reader. Not thread-safe.
class json_reader {
 public:
  explicit json_reader(const boost::json::object& object) : object_(object) {}

  /// The first failure, e.g. "'count': 0 is out of range 1..9223372036854775807".
  const std::string& error() const noexcept { return error_; }

  /// Sets error() to "'key': why" and returns false.
  bool fail(std::string_view key, std::string_view why);
  /// Sets error() to `message` as it is and returns false.
  bool fail_with(std::string message);

  bool has(std::string_view key) const { return object_.contains(key); }
  /// False ("'key': is required") when the key is absent.
  bool require(std::string_view key);
  /// False when a key is not in `allowed`: "unknown key 'k' (expected a, b)".
  bool only_keys(std::initializer_list<std::string_view> allowed);

  /// An integer in [lo, hi] (not a float, not a string).
  bool integer(std::string_view key, std::int64_t lo, std::int64_t hi, std::int64_t& out);
  /// The same check on a value that is not the key's own (an array element).
  bool integer(const boost::json::value& v, std::string_view key, std::int64_t lo, std::int64_t hi,
               std::int64_t& out);
  /// An integer in [lo, hi], stored in a narrower type (the range must fit it).
  template <class Int>
  bool integer_as(std::string_view key, std::int64_t lo, std::int64_t hi, Int& out) {
    std::int64_t n = 0;
    if (!integer(key, lo, hi, n)) return false;
    out = static_cast<Int>(n);
    return true;
  }
  /// Any number (integer or not) in [lo, hi].
  bool number_between(std::string_view key, double lo, double hi, double& out);
  bool boolean(std::string_view key, bool& out);
  /// Only `true` (a flag that names an action, like "drop": true).
  bool is_true(std::string_view key);
  bool string(std::string_view key, std::string& out);
  /// A Kafka error by its name (e.g. "NOT_LEADER_OR_FOLLOWER").
  bool kafka_error_name(std::string_view key, std::int16_t& out);
  /// An array of broker ids (int32).
  bool broker_ids(const boost::json::value& v, std::string_view key,
                  std::vector<std::int32_t>& out);

  const boost::json::value& at(std::string_view key) const { return object_.at(key); }

 private:
  const boost::json::object& object_;
  std::string error_;
};

}  // namespace kwire::mockbroker
