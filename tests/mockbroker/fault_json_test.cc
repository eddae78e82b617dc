// Fault rules as JSON, the format of `kwire mock --faults`.
#include "kwire/mockbroker/fault_json.hpp"

#include <catch2/catch.hpp>

using kwire::mockbroker::fault_kind;
using kwire::mockbroker::parse_fault_rules;

TEST_CASE("the smallest useful rule works as written", "[faults][json]") {
  auto r =
      parse_fault_rules(R"({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})");
  REQUIRE(r.ok());
  REQUIRE(r.rules.size() == 1);
  const auto& rule = r.rules[0];
  CHECK(rule.match.api_key == 0);
  CHECK(rule.action.kind == fault_kind::error);
  CHECK(rule.action.error_code == 6);
  CHECK(rule.count == 3u);
  CHECK_FALSE(rule.match.broker.has_value());
}

TEST_CASE("every matcher and action parses and prints back the same", "[faults][json]") {
  const char* rules[] = {
      R"({"broker":2,"api":"Produce","version":9,"topic":"payments","partition":1,"producer_id":1000,"nth":5,"probability":0.5,"append_then_drop":true,"count":1})",
      R"({"api":"Fetch","delay_ms":250})",
      R"({"drop":true})",
      R"({"close":"before"})",
      R"({"close":"after_processing"})",
      R"({"close":"after_response"})",
      R"({"api":"Produce","append_then_error":"REQUEST_TIMED_OUT"})",
      R"({"throttle_ms":100})",
  };
  for (const char* text : rules) {
    INFO(text);
    auto r = parse_fault_rules(text);
    REQUIRE(r.ok());
    REQUIRE(r.rules.size() == 1);
    // Printed back, the rule parses to the same rule (numbers may change form: 0.5 prints as 5E-1).
    const auto printed = kwire::mockbroker::fault_rule_to_json(r.rules[0]);
    auto again = parse_fault_rules(printed);
    REQUIRE(again.ok());
    CHECK(kwire::mockbroker::fault_rule_to_json(again.rules[0]) == printed);
    if (std::string_view(text).find("probability") == std::string_view::npos)
      CHECK(printed == text);
  }
  auto full = parse_fault_rules(rules[0]).rules[0];
  CHECK(full.match.topic == "payments");
  CHECK(full.match.probability == 0.5);
  CHECK(full.action.kind == fault_kind::append_then_drop);
  CHECK(parse_fault_rules(R"({"close":true})").rules[0].action.kind == fault_kind::close_before);
}

TEST_CASE("arrays and {faults: [...]} hold several rules", "[faults][json]") {
  auto a = parse_fault_rules(R"([{"drop":true},{"api":"Metadata","delay_ms":5}])");
  REQUIRE(a.ok());
  CHECK(a.rules.size() == 2);
  auto b = parse_fault_rules(R"({"faults":[{"drop":true}]})");
  REQUIRE(b.ok());
  CHECK(b.rules.size() == 1);
}

TEST_CASE("bad rules are refused with the key and the value named", "[faults][json][malformed]") {
  auto error_of = [](const char* text) { return parse_fault_rules(text).error; };
  CHECK(error_of(R"({"api":"Produce","eror":"X"})") == "rule 0: unknown key 'eror'");
  CHECK(error_of(R"({"api":"Produse","drop":true})") == "rule 0: 'api': unknown API 'Produse'");
  CHECK(error_of(R"({"error":"NOT_A_KAFKA_ERROR"})") ==
        "rule 0: 'error': unknown Kafka error 'NOT_A_KAFKA_ERROR'");
  CHECK(error_of(R"({"api":"Produce"})").find("no action") != std::string::npos);
  CHECK(error_of(R"({"drop":true,"delay_ms":5})") == "rule 0: more than one action");
  CHECK(error_of(R"([{"drop":true},{"count":0,"drop":true}])") ==
        "rule 1: 'count': 0 is out of range 1..9223372036854775807");
  CHECK(error_of(R"({"probability":1.5,"drop":true})") ==
        "rule 0: 'probability': 1.5 is not between 0 and 1");
  CHECK(error_of(R"({"broker":"two","drop":true})") ==
        "rule 0: 'broker': expected an integer, got \"two\"");
  CHECK(error_of(R"({"close":"later"})").find("'close'") != std::string::npos);
  CHECK(error_of("{not json").rfind("not JSON", 0) == 0);
  CHECK(error_of(R"({"faults":{"drop":true}})") ==
        R"(expected {"faults": [...]} with nothing else)");
}
