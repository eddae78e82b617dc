// Fault rules as Boost.JSON values, for the code that already holds a parsed
// document or builds a larger one (the HTTP control API); fault_json.hpp is
// the text form of the same functions.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "kwire/mockbroker/fault_json.hpp"

namespace kwire::mockbroker {

/// Reads one rule object, an array of them, or {"faults": [...]}, as
/// parse_fault_rules does with text. Pure function; thread-safe.
fault_parse_result read_fault_rules(const boost::json::value& document);

/// The rule as a JSON object in the same format. Pure function; thread-safe.
boost::json::object fault_rule_object(const fault_rule& rule);

}  // namespace kwire::mockbroker
