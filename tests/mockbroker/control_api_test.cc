// The control API without sockets (http_api.hpp): garbage never throws,
// truncated bodies change nothing, targets are read as URLs, the route table
// answers 404 and 405, fault rules are refused in the words of --faults, and
// cluster times become Unix milliseconds.
#include "kwire/mockbroker/http_api.hpp"

#include <catch2/catch.hpp>

#include "kwire/mockbroker/fault_json.hpp"

#include "http_harness.hpp"

using namespace kwire::mockbroker::http_testing;

TEST_CASE("http: control_api answers without sockets", "[http]") {
  kwire::mockbroker::cluster c;
  kwire::mockbroker::control_api api(create_payments);
  create_payments(c);
  auto r = api.handle(c, "GET", "/topics/payments/partitions/0", "");
  CHECK(r.status == 200);
  r = api.handle(c, "PUT", "/topics/pay%6dents/partitions/0/leader", R"({"broker": 2})");
  CHECK(r.status == 200);
  CHECK(c.partition("payments", 0)->leader == 2);
  r = api.handle(c, "POST", "/faults",
                 R"({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})");
  CHECK(r.status == 201);
  REQUIRE(c.faults().size() == 1);
  CHECK(c.faults()[0].rule.count == 3u);
  api.reset(c);
  CHECK(c.faults().empty());
  CHECK(c.partition("payments", 0)->leader_epoch == 0);
  // Garbage in every position never throws.
  for (const char* target :
       {"", "?", "/%", "/topics//partitions/0", "/faults/18446744073709551616", "/brokers/-1",
        "/requests?since=-1", "/requests?api", "/topics/payments/partitions/99999999999"}) {
    for (const char* method : {"GET", "PUT", "POST", "DELETE", "PATCH"}) {
      INFO(method << " " << target);
      const auto reply = api.handle(c, method, target, "{\"a\":");
      CHECK(reply.status >= 400);
      CHECK(json::parse(reply.body).as_object().contains("error"));
    }
  }
}

TEST_CASE("http: every truncation of a valid body is refused and changes nothing", "[http]") {
  struct route {
    const char* method;
    const char* target;
    std::string body;
  };
  const std::vector<route> routes = {
      {"POST", "/topics", R"({"name": "cut", "partitions": 2, "assignments": [[1, 2], [2, 3]]})"},
      {"PUT", "/topics/payments/partitions/0/leader", R"({"broker": 2})"},
      {"PUT", "/topics/payments/partitions/0/isr", R"({"isr": [1, 2]})"},
      {"PUT", "/brokers/3", R"({"up": false, "latency_ms": 10})"},
      {"POST", "/faults",
       R"({"faults": [{"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3}]})"},
  };
  for (const auto& r : routes) {
    kwire::mockbroker::cluster c;
    kwire::mockbroker::control_api api(create_payments);
    create_payments(c);
    const auto before = api.handle(c, "GET", "/cluster", "").body;
    for (std::size_t cut = 0; cut < r.body.size(); ++cut) {
      INFO(r.method << " " << r.target << " with " << r.body.substr(0, cut));
      const auto reply = api.handle(c, r.method, r.target, r.body.substr(0, cut));
      CHECK(reply.status == 400);
      CHECK(api.handle(c, "GET", "/cluster", "").body == before);
      CHECK(c.faults().empty());
    }
    INFO(r.method << " " << r.target);
    CHECK(api.handle(c, r.method, r.target, r.body).status < 300);
  }
}

TEST_CASE("http: targets are read as URLs: percent-encoding, '+' and empty query items", "[http]") {
  kwire::mockbroker::cluster c;
  kwire::mockbroker::control_api api(create_payments);
  create_payments(c);
  const auto error_of = [](const kwire::mockbroker::http_reply& r) {
    return std::string(json::parse(r.body).at("error").as_string());
  };
  CHECK(api.handle(c, "GET", "/topics/%70ayments", "").status == 200);
  CHECK(api.handle(c, "GET", "/topics/payments/", "").status ==
        200);  // empty segments do not count
  CHECK(api.handle(c, "GET", "/requests?api=Pro%64uce", "").status == 200);
  auto r = api.handle(c, "GET", "/requests?api=Pro+duce", "");  // '+' is a space in a query
  CHECK(r.status == 400);
  CHECK(
      error_of(r) ==
      "query parameter 'api': 'Pro duce' is not a Kafka API name (e.g. Produce, Fetch, Metadata)");
  r = api.handle(c, "GET", "/requests?api=%zz", "");
  CHECK(r.status == 400);
  CHECK(error_of(r) == "malformed percent-encoding in query parameter 'api=%zz'");
  r = api.handle(c, "GET", "/topics/pay%7", "");
  CHECK(r.status == 400);
  CHECK(error_of(r) == "malformed percent-encoding in path segment 'pay%7'");
  r = api.handle(c, "GET", "cluster", "");
  CHECK(r.status == 400);
  CHECK(error_of(r) == "the target 'cluster' does not start with '/'");
  r = api.handle(c, "GET", "/topics/payments/partitions/0/records?&offset=0&&limit=1&", "");
  CHECK(r.status == 200);
  r = api.handle(c, "GET", "/", "");
  CHECK(r.status == 404);
  CHECK(error_of(r) == "no such path; try GET /cluster");

  // The stream's query is read by the same code.
  kwire::mockbroker::request_log_filter filter;
  std::size_t limit = 0;
  CHECK(kwire::mockbroker::parse_request_log_query(
            "api=Fetch&broker=2&payloads=false&topic=a+b&limit=7", filter, limit) == "");
  CHECK(filter.api_key == std::optional<std::int16_t>(1));
  CHECK(filter.broker == std::optional<std::int32_t>(2));
  CHECK(filter.topic == std::optional<std::string>("a b"));
  CHECK_FALSE(filter.payloads);
  CHECK(limit == 7u);
  CHECK(kwire::mockbroker::parse_request_log_query("limit=10001", filter, limit) ==
        "query parameter 'limit': '10001' is not a number from 1 to 10000");
  CHECK(kwire::mockbroker::parse_request_log_query("colour=red", filter, limit) ==
        "unknown query parameter 'colour'");
}

TEST_CASE("http: a path's methods and query parameters come from the route table", "[http]") {
  kwire::mockbroker::cluster c;
  kwire::mockbroker::control_api api(create_payments);
  create_payments(c);
  const auto answer = [&](const char* method, const char* target) {
    const auto r = api.handle(c, method, target, "");
    return std::to_string(r.status) + " " +
           std::string(json::parse(r.body).at("error").as_string());
  };
  CHECK(answer("PATCH", "/faults") ==
        "405 PATCH is not served on /faults (only GET, POST, DELETE)");
  CHECK(answer("POST", "/topics/payments") ==
        "405 POST is not served on /topics/payments (only GET, DELETE)");
  CHECK(answer("PUT", "/requests") == "405 PUT is not served on /requests (only GET, DELETE)");
  CHECK(answer("GET", "/topics/payments/partitions/0/isr") ==
        "405 GET is not served on /topics/payments/partitions/0/isr (only PUT)");
  CHECK(answer("GET", "/brokers/1/extra") == "404 no such path");
  // A parameter no method of the path takes is unknown; one that another method takes is refused by
  // name.
  CHECK(answer("GET", "/faults?api=Produce") == "400 unknown query parameter 'api'");
  CHECK(answer("DELETE", "/requests?api=Produce") == "400 DELETE /requests takes no query");
  CHECK(api.handle(c, "DELETE", "/requests", "").status == 200);
}

TEST_CASE("http: POST /faults and kwire mock --faults refuse a rule with the same words",
          "[http][faults][json]") {
  kwire::mockbroker::cluster c;
  kwire::mockbroker::control_api api;
  for (const char* rule :
       {R"({"api": "Produce", "eror": "X"})", R"({"count": 0, "drop": true})",
        R"({"probability": 2, "drop": true})", R"({"broker": "two", "drop": true})",
        R"([{"drop": true}, 5])", R"({"faults": {"drop": true}})", "{not json"}) {
    INFO(rule);
    const auto from_file = kwire::mockbroker::parse_fault_rules(rule);
    REQUIRE_FALSE(from_file.ok());
    const auto r = api.handle(c, "POST", "/faults", rule);
    CHECK(r.status == 400);
    CHECK(json::parse(r.body).at("error").as_string() == from_file.error);
  }
  CHECK(c.faults().empty());
  CHECK(kwire::mockbroker::parse_fault_rules(R"([{"drop": true}, 5])").error ==
        "rule 1: expected an object, got 5");
}

TEST_CASE("http: request log times are Unix milliseconds of the cluster's clock", "[http]") {
  kwire::mockbroker::cluster c;
  kwire::mockbroker::control_api api;
  const std::int64_t at_ms = 1700000000123;
  const auto arrival = kwire::mockbroker::time_point(std::chrono::milliseconds(at_ms));
  c.set_broker_latency(1, std::chrono::milliseconds(5));
  const auto payload = request_payload(kwire::api_versions_request{}, 3, 1);
  REQUIRE(c.handle(1, 1, payload, arrival).response.has_value());
  const auto a = json::parse(api.handle(c, "GET", "/requests", "").body);
  const auto& entry = a.at("requests").as_array().at(0);
  CHECK(entry.at("arrival_ms").as_int64() == at_ms);
  CHECK(entry.at("sent_ms").as_int64() == at_ms + 5);
}
