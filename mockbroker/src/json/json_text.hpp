// Text that goes into the mock's JSON documents. Strings that came off the
// wire (client ids, topic names, header keys) or out of a request body are
// made valid UTF-8 first, so that no client can make the HTTP API or a fault
// rule error emit broken JSON.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace kwire::mockbroker {

/// `s` with each byte that does not start a well-formed UTF-8 sequence
/// replaced by U+FFFD. Pure function; thread-safe.
std::string to_valid_utf8(std::string_view s);

/// `s` as a JSON string, made valid UTF-8 first. Pure function; thread-safe.
boost::json::value json_text(std::string_view s);

/// `v` serialized, cut to its first 200 characters: how an error message
/// shows a value it rejects. Pure function; thread-safe.
std::string shown_json(const boost::json::value& v);

}  // namespace kwire::mockbroker
