// Fault rules as JSON: the one format of `kwire mock --faults FILE` and of
// the HTTP control API's POST /faults (both read it with the same reader,
// mockbroker/src/json/json_reader.hpp). A rule is an object with optional matchers,
// exactly one action and an optional count:
//
//   {"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3}
//   {"broker": 2, "api": "Produce", "topic": "payments", "append_then_drop": true, "nth": 10,
//   "count": 1}
//   {"api": "Fetch", "delay_ms": 250, "probability": 0.1}
//
// Matchers: broker (id), api (Kafka's name, e.g. "Produce"), version, topic,
// partition, producer_id, nth (the rule can fire from the n-th matching
// request on), probability (0..1, from the cluster's seeded random source).
// Actions: error (Kafka's error name), delay_ms, drop (true), close
// ("before", "after_processing" or "after_response"; true means "before"),
// append_then_error (an error name), append_then_drop (true), throttle_ms.
// count: how many times the rule fires; without it, forever.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker {

/// A rule, or the reason it is not one (naming the key and the value).
struct fault_parse_result {
  std::vector<fault_rule> rules;
  std::string error;  ///< empty on success, e.g. "rule 2: unknown key 'eror'"
  bool ok() const noexcept { return error.empty(); }
};

/// Parses one rule object, or an array of them, or {"faults": [...]}.
/// Pure function; thread-safe.
fault_parse_result parse_fault_rules(std::string_view json);

/// The rule as JSON, in the same format (for listing rules back). Pure
/// function; thread-safe.
std::string fault_rule_to_json(const fault_rule& rule);

}  // namespace kwire::mockbroker
