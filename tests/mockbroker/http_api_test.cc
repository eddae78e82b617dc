// The HTTP control API's routes over real loopback sockets, driven with
// Beast's client: every route and every error it names, while Kafka requests
// go to the same cluster through its TCP front.
#include "kwire/mockbroker/http_server.hpp"

#include <catch2/catch.hpp>

#include "http_harness.hpp"

using namespace kwire::mockbroker::http_testing;

TEST_CASE("http: GET /cluster shows brokers, topics and partitions", "[http]") {
  mock_with_http m;
  auto a = m.get("/cluster");
  REQUIRE(a.status == 200);
  CHECK(a.response[http::field::content_type] == "application/json");
  const auto& brokers = a.object().at("brokers").as_array();
  REQUIRE(brokers.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(brokers[i].at("id").as_int64() == static_cast<std::int64_t>(i + 1));
    CHECK(brokers[i].at("up").as_bool());
    CHECK(brokers[i].at("latency_ms").as_int64() == 0);
    CHECK(brokers[i].at("port").as_int64() == m.kafka.port(static_cast<std::int32_t>(i + 1)));
  }
  CHECK(a.object().at("bootstrap_servers").as_string() == m.kafka.bootstrap_servers());
  const auto& topics = a.object().at("topics").as_array();
  REQUIRE(topics.size() == 1);
  CHECK(topics[0].at("name").as_string() == "payments");
  CHECK(topics[0].at("id").as_string().size() == 22);
  const auto& partitions = topics[0].at("partitions").as_array();
  REQUIRE(partitions.size() == 3);
  for (const auto& p : partitions) {
    CHECK(ints(p.at("replicas")).size() == 3);
    CHECK(ints(p.at("isr")).size() == 3);
    CHECK(p.at("leader").as_int64() == ints(p.at("replicas")).front());
    CHECK(p.at("leader_epoch").as_int64() == 0);
    CHECK(p.at("log_start_offset").as_int64() == 0);
    CHECK(p.at("high_watermark").as_int64() == 0);
  }
}

TEST_CASE("http: unknown paths, methods and query parameters", "[http]") {
  mock_with_http m;
  auto a = m.get("/nothing/here");
  CHECK(a.status == 404);
  CHECK(a.error() == "no such path");
  a = m.get("/");
  CHECK(a.status == 404);
  a = m.post("/cluster", "{}");
  CHECK(a.status == 405);
  CHECK(a.error() == "POST is not served on /cluster (only GET)");
  a = m.get("/cluster?verbose=1");
  CHECK(a.status == 400);
  CHECK(a.error() == "unknown query parameter 'verbose'");
  a = m.get("/topics/%zz");
  CHECK(a.status == 400);
  CHECK(a.error().find("malformed percent-encoding") != std::string::npos);
}

TEST_CASE("http: create and delete topics", "[http]") {
  mock_with_http m;
  auto a = m.post("/topics", R"({"name": "orders", "partitions": 2, "replication_factor": 2})");
  REQUIRE(a.status == 201);
  CHECK(a.object().at("name").as_string() == "orders");
  REQUIRE(a.object().at("partitions").as_array().size() == 2);
  CHECK(ints(a.object().at("partitions").as_array()[0].at("replicas")).size() == 2);
  CHECK(m.kafka.call(
      [](kwire::mockbroker::cluster& c) { return c.partition("orders", 1).has_value(); }));

  a = m.post("/topics", R"({"name": "placed", "assignments": [[3], [2, 1]]})");
  REQUIRE(a.status == 201);
  CHECK(ints(a.object().at("partitions").as_array()[1].at("replicas")) ==
        std::vector<std::int64_t>{2, 1});
  CHECK(m.get("/topics/placed").object().at("partitions").as_array()[0].at("leader").as_int64() ==
        3);

  SECTION("errors name the problem") {
    a = m.post("/topics", R"({"name": "orders"})");
    CHECK(a.status == 409);
    CHECK(a.error() == "topic 'orders' already exists");
    a = m.post("/topics", "{not json");
    CHECK(a.status == 400);
    CHECK(a.error().rfind("body is not JSON", 0) == 0);
    a = m.post("/topics", "[1, 2]");
    CHECK(a.status == 400);
    CHECK(a.error() == "body must be a JSON object, got [1,2]");
    a = m.post("/topics", R"({"name": "x", "partitons": 2})");
    CHECK(a.status == 400);
    CHECK(a.error().rfind("unknown key 'partitons'", 0) == 0);
    a = m.post("/topics", R"({"partitions": 2})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'name': is required");
    a = m.post("/topics", R"({"name": "x", "partitions": "two"})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'partitions': expected an integer, got \"two\"");
    a = m.post("/topics", R"({"name": "x", "partitions": 0})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'partitions': 0 is out of range 1..100000");
    a = m.post("/topics", R"({"name": "bad name!"})");
    CHECK(a.status == 400);
    CHECK(a.error().rfind("'name': 'bad name!' is not a valid topic name", 0) == 0);
    a = m.post("/topics", R"({"name": "x", "replication_factor": 4})");
    CHECK(a.status == 400);
    CHECK(a.error() == "cannot create topic 'x': INVALID_REPLICATION_FACTOR");
    a = m.post("/topics", R"({"name": "x", "assignments": [[1, 9]]})");
    CHECK(a.status == 404);
    CHECK(a.error() == "'assignments': no broker with id 9");
    a = m.post("/topics", R"({"name": "x", "partitions": 3, "assignments": [[1]]})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'partitions': 3 does not match the 1 assignments");
    CHECK(m.get("/topics/x").status == 404);
  }

  a = m.del("/topics/orders");
  CHECK(a.status == 200);
  CHECK(a.object().at("deleted").as_string() == "orders");
  a = m.get("/topics/orders");
  CHECK(a.status == 404);
  CHECK(a.error() == "no topic 'orders'");
  a = m.del("/topics/orders");
  CHECK(a.status == 404);
  CHECK(m.put("/topics/payments", "{}").status == 405);
}

TEST_CASE("http: move a leader, set an ISR", "[http]") {
  mock_with_http m;
  const auto before = m.partition("payments", 0);
  const auto old_leader = before.at("leader").as_int64();
  const auto new_leader = old_leader == 3 ? 1 : old_leader + 1;
  auto a = m.put("/topics/payments/partitions/0/leader",
                 R"({"broker": )" + std::to_string(new_leader) + "}");
  REQUIRE(a.status == 200);
  CHECK(a.object().at("leader").as_int64() == new_leader);
  CHECK(a.object().at("leader_epoch").as_int64() == before.at("leader_epoch").as_int64() + 1);
  CHECK(m.kafka.call([](kwire::mockbroker::cluster& c) {
    return c.partition("payments", 0)->leader;
  }) == new_leader);

  a = m.put("/topics/payments/partitions/0/isr", R"({"isr": [1, 2]})");
  REQUIRE(a.status == 200);
  CHECK(ints(a.object().at("isr")) == std::vector<std::int64_t>{1, 2});
  a = m.put("/topics/payments/partitions/0/isr", R"({"isr": [1, 2, 3]})");
  REQUIRE(a.status == 200);
  CHECK(ints(a.object().at("isr")) == std::vector<std::int64_t>{1, 2, 3});

  SECTION("errors") {
    a = m.put("/topics/payments/partitions/0/leader", R"({"broker": 9})");
    CHECK(a.status == 404);
    CHECK(a.error() == "'broker': no broker with id 9");
    a = m.put("/topics/nope/partitions/0/leader", R"({"broker": 1})");
    CHECK(a.status == 404);
    CHECK(a.error() == "no topic 'nope'");
    a = m.put("/topics/payments/partitions/7/leader", R"({"broker": 1})");
    CHECK(a.status == 404);
    CHECK(a.error() == "topic 'payments' has no partition 7");
    a = m.put("/topics/payments/partitions/x/leader", R"({"broker": 1})");
    CHECK(a.status == 400);
    CHECK(a.error() == "partition 'x' is not a partition number");
    a = m.put("/topics/payments/partitions/0/leader", R"({"leader": 1})");
    CHECK(a.status == 400);
    CHECK(a.error() == "unknown key 'leader' (expected broker)");
    a = m.put("/topics/payments/partitions/0/leader", R"({"broker": "1"})");
    CHECK(a.status == 400);
    a = m.get("/topics/payments/partitions/0/leader");
    CHECK(a.status == 405);
    a = m.put("/topics/payments/partitions/0/isr", R"({"isr": []})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'isr': must name at least one broker");
    a = m.put("/topics/payments/partitions/0/isr", R"({"isr": [1, 1]})");
    CHECK(a.status == 400);
    a = m.put("/topics/payments/partitions/0/isr", R"({"isr": [5]})");
    CHECK(a.status == 404);
    a = m.put("/topics/payments/partitions/0/isr", R"({"isr": "1"})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'isr': expected an array of broker ids, got \"1\"");
  }
  SECTION("not a replica") {
    m.post("/topics", R"({"name": "small", "assignments": [[1, 2]]})");
    a = m.put("/topics/small/partitions/0/isr", R"({"isr": [3]})");
    CHECK(a.status == 400);
    CHECK(a.error() == "'isr': broker 3 is not a replica of small-0 (replicas [1,2])");
  }
}

TEST_CASE("http: brokers down and up, latency", "[http]") {
  mock_with_http m;
  auto a = m.put("/brokers/2", R"({"up": false})");
  REQUIRE(a.status == 200);
  CHECK_FALSE(a.object().at("up").as_bool());
  for (int p = 0; p < 3; ++p) {
    const auto part = m.partition("payments", p);
    CHECK(part.at("leader").as_int64() != 2);
    const auto isr = ints(part.at("isr"));
    CHECK(std::find(isr.begin(), isr.end(), 2) == isr.end());
  }
  // Broker 2's Kafka listener now closes connections.
  kafka_client down(m.kafka.port(2));
  CHECK_FALSE(down.api_versions_answered());
  a = m.put("/brokers/2", R"({"up": true, "latency_ms": 5})");
  REQUIRE(a.status == 200);
  CHECK(a.object().at("up").as_bool());
  CHECK(a.object().at("latency_ms").as_int64() == 5);
  CHECK(m.get("/brokers/2").object().at("latency_ms").as_int64() == 5);
  kafka_client up(m.kafka.port(2));
  CHECK(up.api_versions_answered());

  a = m.put("/brokers/9", R"({"up": false})");
  CHECK(a.status == 404);
  CHECK(a.error() == "no broker with id 9");
  a = m.put("/brokers/two", R"({"up": false})");
  CHECK(a.status == 400);
  a = m.put("/brokers/1", "{}");
  CHECK(a.status == 400);
  CHECK(a.error() == "nothing to change: give 'up' or 'latency_ms'");
  a = m.put("/brokers/1", R"({"up": "no"})");
  CHECK(a.status == 400);
  CHECK(a.error() == "'up': expected true or false, got \"no\"");
  a = m.put("/brokers/1", R"({"latency_ms": -1})");
  CHECK(a.status == 400);
  CHECK(m.get("/brokers/1").object().at("up").as_bool());
}

TEST_CASE("http: fault rules added, listed, counted and deleted", "[http]") {
  mock_with_http m;
  auto a =
      m.post("/faults", R"({"api": "Produce", "error": "NOT_LEADER_OR_FOLLOWER", "count": 3})");
  REQUIRE(a.status == 201);
  const auto id = a.object().at("id").to_number<std::uint64_t>();
  a = m.get("/faults");
  REQUIRE(a.status == 200);
  REQUIRE(a.object().at("faults").as_array().size() == 1);
  const auto& listed = a.object().at("faults").as_array()[0];
  CHECK(listed.at("id").to_number<std::uint64_t>() == id);
  CHECK(listed.at("fired").to_number<std::uint64_t>() == 0);
  CHECK(json::serialize(listed.at("rule")) ==
        R"({"api":"Produce","error":"NOT_LEADER_OR_FOLLOWER","count":3})");

  // Fire it from a real Kafka producer request.
  const auto leader = m.partition("payments", 0).at("leader").as_int64();
  kafka_client k(m.kafka.port(static_cast<std::int32_t>(leader)));
  CHECK(k.produce("payments", 0, make_batch({"a"})) == 6);  // NOT_LEADER_OR_FOLLOWER
  a = m.get("/faults/" + std::to_string(id));
  REQUIRE(a.status == 200);
  CHECK(a.object().at("fired").to_number<std::uint64_t>() == 1);
  CHECK(a.object().at("matched").to_number<std::uint64_t>() == 1);

  a = m.del("/faults/" + std::to_string(id));
  CHECK(a.status == 200);
  CHECK(k.produce("payments", 0, make_batch({"b"})) == 0);
  a = m.del("/faults/" + std::to_string(id));
  CHECK(a.status == 404);
  CHECK(a.error() == "no fault rule with id " + std::to_string(id));
  CHECK(m.get("/faults/xyz").status == 400);

  a = m.post(
      "/faults",
      R"({"faults": [{"api": "Fetch", "delay_ms": 10}, {"broker": 1, "drop": true, "nth": 1000}]})");
  REQUIRE(a.status == 201);
  CHECK(a.object().at("ids").as_array().size() == 2);
  CHECK(m.get("/faults").object().at("faults").as_array().size() == 2);
  a = m.del("/faults");
  CHECK(a.status == 200);
  CHECK(a.object().at("deleted").to_number<std::uint64_t>() == 2);
  CHECK(m.get("/faults").object().at("faults").as_array().empty());

  a = m.post("/faults", R"({"api": "Produce", "eror": "X"})");
  CHECK(a.status == 400);
  CHECK(a.error() == "rule 0: unknown key 'eror'");
  a = m.post("/faults", R"({"api": "Produce", "error": "NO_SUCH_ERROR"})");
  CHECK(a.status == 400);
  CHECK(a.error() == "rule 0: 'error': unknown Kafka error 'NO_SUCH_ERROR'");
  a = m.post("/faults", "[]");
  CHECK(a.status == 400);
  CHECK(a.error() == "no rules given");
  a = m.post("/faults", "");
  CHECK(a.status == 400);
  CHECK(m.get("/faults").object().at("faults").as_array().empty());
}

TEST_CASE("http: a partition's records, paged, with keys, values and headers", "[http]") {
  mock_with_http m;
  const auto leader = m.partition("payments", 1).at("leader").as_int64();
  kafka_client k(m.kafka.port(static_cast<std::int32_t>(leader)));
  REQUIRE(k.produce("payments", 1, make_batch({"v0", "v1", "v2"}, -1, -1, -1)) == 0);
  // A record with a null key, a binary value and a header.
  kwire::batch_builder_options options;
  kwire::record_batch_builder b(options);
  const std::vector<std::uint8_t> binary{0xff, 0x00, 0xfe};
  const kwire::record_header header{"trace", kwire::bytes_of("t-1")};
  REQUIRE(!b.append(5, std::nullopt, kwire::bytes_view(binary), std::span(&header, 1)));
  REQUIRE(!b.append(6, kwire::bytes_of("k"), std::nullopt));
  auto batch = b.finish();
  REQUIRE(batch.ok());
  REQUIRE(k.produce("payments", 1, std::move(batch).value()) == 0);

  auto a = m.get("/topics/payments/partitions/1/records?offset=0&limit=2");
  REQUIRE(a.status == 200);
  auto records = a.object().at("records").as_array();
  REQUIRE(records.size() == 2);
  CHECK(records[0].at("offset").as_int64() == 0);
  CHECK(records[0].at("key").as_string() == "k0");
  CHECK(records[0].at("value").as_string() == "v0");
  CHECK(records[1].at("value").as_string() == "v1");
  CHECK(records[0].at("producer_id").as_int64() == -1);
  CHECK(a.object().at("next_offset").as_int64() == 2);
  CHECK(a.object().at("high_watermark").as_int64() == 5);

  a = m.get("/topics/payments/partitions/1/records?offset=2");
  REQUIRE(a.status == 200);
  records = a.object().at("records").as_array();
  REQUIRE(records.size() == 3);
  CHECK(records[0].at("value").as_string() == "v2");
  CHECK(records[1].at("key").is_null());
  CHECK(json::serialize(records[1].at("value")) == R"({"base64":"/wD+"})");
  CHECK(json::serialize(records[1].at("headers")) == R"([{"key":"trace","value":"t-1"}])");
  CHECK(records[2].at("value").is_null());
  CHECK(records[2].at("sequence").as_int64() == -1);
  CHECK(a.object().at("next_offset").as_int64() == 5);

  a = m.get("/topics/payments/partitions/1/records?offset=5");
  CHECK(a.object().at("records").as_array().empty());
  CHECK(m.get("/topics/payments/partitions/1/records?offset=-1").status == 400);
  CHECK(m.get("/topics/payments/partitions/1/records?limit=0").status == 400);
  a = m.get("/topics/payments/partitions/1/records?page=2");
  CHECK(a.status == 400);
  CHECK(a.error() == "unknown query parameter 'page'");
  CHECK(m.get("/topics/payments/partitions/3/records").status == 404);
}

TEST_CASE("http: the request log, decoded and filtered", "[http]") {
  mock_with_http m;
  const auto leader = static_cast<std::int32_t>(m.partition("payments", 0).at("leader").as_int64());
  kafka_client k(m.kafka.port(leader));
  REQUIRE(k.api_versions_answered());
  REQUIRE(k.produce("payments", 0, make_batch({"hello"})) == 0);

  auto a = m.get("/requests");
  REQUIRE(a.status == 200);
  auto entries = a.object().at("requests").as_array();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].at("api").as_string() == "ApiVersions");
  CHECK(entries[1].at("api").as_string() == "Produce");
  CHECK(entries[1].at("broker").as_int64() == leader);
  CHECK(entries[1].at("version").as_int64() == 9);
  CHECK(entries[1].at("client_id").as_string() == "kwire-test");
  CHECK(entries[1].at("request").at("TopicData").as_array()[0].at("Name").as_string() ==
        "payments");
  CHECK(entries[1]
            .at("response")
            .at("Responses")
            .as_array()[0]
            .at("PartitionResponses")
            .as_array()[0]
            .at("ErrorCode")
            .as_int64() == 0);
  CHECK(a.raw.find("hello") != std::string::npos);  // the record, decoded

  a = m.get("/requests?api=Produce&topic=payments&broker=" + std::to_string(leader));
  CHECK(a.object().at("requests").as_array().size() == 1);
  a = m.get("/requests?api=Produce&payloads=false");
  CHECK(a.raw.find("hello") == std::string::npos);
  CHECK(a.raw.find("redacted") != std::string::npos);
  CHECK(m.get("/requests?topic=other").object().at("requests").as_array().empty());
  CHECK(m.get("/requests?broker=" + std::to_string(leader % 3 + 1))
            .object()
            .at("requests")
            .as_array()
            .empty());
  a = m.get("/requests?limit=1");
  REQUIRE(a.object().at("requests").as_array().size() == 1);
  CHECK(a.object().at("requests").as_array()[0].at("api").as_string() == "Produce");
  a = m.get("/requests?since=0&limit=1");
  CHECK(a.object().at("requests").as_array()[0].at("api").as_string() == "ApiVersions");
  CHECK(a.object().at("next_since").to_number<std::uint64_t>() ==
        entries[0].at("sequence").to_number<std::uint64_t>() + 1);

  a = m.get("/requests?api=Produse");
  CHECK(a.status == 400);
  CHECK(a.error() ==
        "query parameter 'api': 'Produse' is not a Kafka API name (e.g. Produce, Fetch, Metadata)");
  CHECK(m.get("/requests?broker=x").status == 400);
  CHECK(m.get("/requests?color=red").status == 400);

  a = m.del("/requests");
  CHECK(a.status == 200);
  CHECK(m.get("/requests").object().at("requests").as_array().empty());
}

TEST_CASE("http: POST /reset restores the initial state and keeps the ports", "[http]") {
  mock_with_http m;
  const auto ports_before = m.kafka.bootstrap_servers();
  kafka_client k(m.kafka.port(1));
  REQUIRE(m.post("/topics", R"({"name": "extra"})").status == 201);
  REQUIRE(m.post("/faults", R"({"api": "Metadata", "delay_ms": 1})").status == 201);
  REQUIRE(m.put("/brokers/3", R"({"up": false, "latency_ms": 7})").status == 200);
  REQUIRE(m.put("/topics/payments/partitions/0/leader", R"({"broker": 3})").status == 200);
  const auto leader = static_cast<std::int32_t>(m.partition("payments", 2).at("leader").as_int64());
  kafka_client producer(m.kafka.port(leader));
  REQUIRE(producer.produce("payments", 2, make_batch({"x"})) == 0);

  auto a = m.post("/reset", "");
  REQUIRE(a.status == 200);
  a = m.get("/cluster");
  CHECK(a.object().at("bootstrap_servers").as_string() == ports_before);
  const auto& topics = a.object().at("topics").as_array();
  REQUIRE(topics.size() == 1);
  CHECK(topics[0].at("name").as_string() == "payments");
  for (const auto& b : a.object().at("brokers").as_array()) {
    CHECK(b.at("up").as_bool());
    CHECK(b.at("latency_ms").as_int64() == 0);
  }
  CHECK(m.partition("payments", 0).at("leader_epoch").as_int64() == 0);
  CHECK(m.partition("payments", 2).at("high_watermark").as_int64() == 0);
  CHECK(m.get("/faults").object().at("faults").as_array().empty());
  CHECK(m.get("/requests").object().at("requests").as_array().empty());
  // Kafka connections made before the reset still work.
  CHECK(k.api_versions_answered());
  CHECK(m.get("/reset").status == 405);
}
