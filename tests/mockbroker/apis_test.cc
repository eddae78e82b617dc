// The cluster core's APIs: every served API, each version, exact outcomes.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"
#include "kwire/protocol/api.hpp"
#include "kwire/protocol/message_set.hpp"

#include <algorithm>

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

namespace {

/// The keys the mock serves, as the README lists them.
const std::vector<std::int16_t> served_keys = {0,  1,  2,  3,  8,  9,  10, 11, 12, 13,
                                               14, 15, 16, 18, 19, 20, 21, 22, 23, 32,
                                               33, 35, 37, 42, 43, 44, 47, 60, 68, 69};

std::int16_t advertised_max(const api_info& api) {
  return api.latest_version_unstable && api.max_version > api.min_version
             ? static_cast<std::int16_t>(api.max_version - 1)
             : api.max_version;
}

}  // namespace

TEST_CASE(
    "ApiVersions lists exactly the served APIs, in key order, at every "
    "version") {
  harness h;
  for (std::int16_t v = api_versions_request::min_version; v <= api_versions_request::max_version;
       ++v) {
    auto r = h.call<api_versions_response>(1, api_versions_request{}, v);
    CHECK(r.error_code == 0);
    std::vector<std::int16_t> keys;
    for (const auto& k : r.api_keys) {
      keys.push_back(k.api_key);
      const api_info* api = find_api(k.api_key);
      REQUIRE(api != nullptr);
      CHECK(k.min_version == api->min_version);
      CHECK(k.max_version == advertised_max(*api));
    }
    CHECK(keys == served_keys);
  }
}

TEST_CASE(
    "ApiVersions with advertise_all_apis lists every API of the codec, "
    "at every version") {
  cluster_config config;
  config.advertise_all_apis = true;
  harness h(config);
  for (std::int16_t v = api_versions_request::min_version; v <= api_versions_request::max_version;
       ++v) {
    auto r = h.call<api_versions_response>(1, api_versions_request{}, v);
    CHECK(r.error_code == 0);
    REQUIRE(r.api_keys.size() == all_apis().size());
    for (std::size_t i = 0; i < r.api_keys.size(); ++i) {
      const auto& api = all_apis()[i];
      CHECK(r.api_keys[i].api_key == api.key);
      CHECK(r.api_keys[i].min_version == api.min_version);
      CHECK(r.api_keys[i].max_version == advertised_max(api));
    }
  }
  // Advertised is not served: DescribeAcls still closes the connection.
  auto closed = h.send(1, describe_acls_request{}, 3);
  CHECK(closed.close_before_response);
  CHECK(closed.close_reason == "DescribeAcls (API key 29) is not served by the mock cluster");
}

TEST_CASE(
    "ApiVersions of an unknown version gets UNSUPPORTED_VERSION in a v0 "
    "response") {
  harness h;
  std::vector<std::uint8_t> payload;
  writer w(payload);
  w.write_int16(18);
  w.write_int16(99);
  w.write_int32(7);
  w.write_int16(-1);  // null client id
  w.write_raw(std::vector<std::uint8_t>{0x00, 0x00, 0x00});
  auto result = h.raw(1, payload);
  REQUIRE_FALSE(result.closes());
  REQUIRE(result.response);
  auto r = harness::decode<api_versions_response>(*result.response, 18, 0, 7);
  CHECK(r.error_code == ec(kafka_error::unsupported_version));
  REQUIRE(r.api_keys.size() == 1);
  CHECK(r.api_keys[0].api_key == 18);
  CHECK(r.api_keys[0].max_version == api_versions_request::max_version);
}

TEST_CASE(
    "Metadata auto-creates topics and describes brokers and partitions "
    "at every version") {
  for (std::int16_t v = 0; v <= metadata_request::max_version; ++v) {
    cluster_config config;
    config.default_partitions = 3;
    config.racks = {"r1", "r2", "r3"};
    harness h(config);
    metadata_request req;
    metadata_request::metadata_request_topic t;
    t.name = "orders";
    req.topics = std::vector{t};
    auto r = h.call<metadata_response>(1, req, v);
    REQUIRE(r.brokers.size() == 3);
    CHECK(r.brokers[1].node_id == 2);
    CHECK(r.brokers[1].port == 9093);
    if (v >= 1) CHECK(r.brokers[2].rack == std::optional<std::string>("r3"));
    if (v >= 1) CHECK(r.controller_id == 1);
    if (v >= 2) CHECK(r.cluster_id == std::optional<std::string>("kwire-mock-cluster"));
    REQUIRE(r.topics.size() == 1);
    CHECK(r.topics[0].error_code == 0);
    CHECK(r.topics[0].name == std::optional<std::string>("orders"));
    if (v >= 10) CHECK(r.topics[0].topic_id == *h.c.topic_id("orders"));
    REQUIRE(r.topics[0].partitions.size() == 3);
    for (std::int32_t p = 0; p < 3; ++p) {
      const auto& rp = r.topics[0].partitions[static_cast<std::size_t>(p)];
      CHECK(rp.partition_index == p);
      CHECK(rp.leader_id == h.leader("orders", p));
      CHECK(rp.replica_nodes.size() == 3);
      CHECK(rp.isr_nodes.size() == 3);
    }
  }
}

TEST_CASE("Metadata without auto-creation, with bad names, and for all topics") {
  cluster_config config;
  config.auto_create_topics = false;
  harness h(config);
  REQUIRE(h.c.create_topic("a") == kafka_error::none);
  REQUIRE(h.c.create_topic("b", {.partitions = 2}) == kafka_error::none);
  metadata_request req;
  req.topics = std::vector<metadata_request::metadata_request_topic>{{{}, "missing", {}},
                                                                     {{}, "bad name!", {}}};
  auto r = h.call<metadata_response>(2, req, 9);
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[0].error_code == ec(kafka_error::unknown_topic_or_partition));
  CHECK(r.topics[1].error_code == ec(kafka_error::invalid_topic_exception));
  CHECK(h.c.topics() == std::vector<std::string>{"a", "b"});

  metadata_request all;
  all.topics = std::nullopt;
  r = h.call<metadata_response>(2, all, 9);
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[1].partitions.size() == 2);
  r = h.call<metadata_response>(2, metadata_request{},
                                0);  // v0: an empty list means all
  CHECK(r.topics.size() == 2);
}

TEST_CASE("Produce then Fetch returns the batches with offsets, at every version") {
  for (std::int16_t pv = 0; pv <= produce_request::max_version; ++pv) {
    harness h;
    REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 3}) == kafka_error::none);
    const auto leader = h.leader("t");
    std::vector<std::uint8_t> records;
    if (pv < 3) {
      std::vector<legacy_record> msgs{{1000, bytes_of("k"), bytes_of("a")},
                                      {1001, bytes_of("k"), bytes_of("b")}};
      records =
          write_message_set(msgs, {.magic = pv == 2 ? std::int8_t{1} : std::int8_t{0}}).value();
    } else {
      records = make_batch({"a", "b"});
    }
    auto p0 = h.produce(leader, "t", 0, records, pv);
    CHECK(p0.error_code == 0);
    CHECK(p0.base_offset == 0);
    auto p1 = h.produce(leader, "t", 0, make_batch({"c"}), std::max<std::int16_t>(pv, 3));
    CHECK(p1.base_offset == 2);
    if (pv >= 5) CHECK(p0.log_start_offset == 0);
    auto stored = h.c.read("t", 0);
    REQUIRE(stored.size() == 3);
    CHECK(stored[0].value_string() == "a");
    CHECK(stored[2].value_string() == "c");
    CHECK(stored[2].offset == 2);
  }
  for (std::int16_t fv = 0; fv <= fetch_request::max_version; ++fv) {
    harness h;
    REQUIRE(h.c.create_topic("t") == kafka_error::none);
    const auto leader = h.leader("t");
    h.produce(leader, "t", 0, make_batch({"a", "b"}));
    h.produce(leader, "t", 0, make_batch({"c"}));
    fetch_request req;
    req.max_wait_ms = 500;
    req.min_bytes = 1;
    fetch_request::fetch_topic ft;
    ft.topic = "t";
    ft.topic_id = *h.c.topic_id("t");
    ft.partitions.push_back({0, -1, 1, -1, -1, 1 << 20, {}, {}});
    req.topics.push_back(ft);
    auto r = h.call<fetch_response>(leader, req, fv);
    CHECK(h.last.send_at == h.now);  // data there: no wait
    REQUIRE(r.responses.size() == 1);
    REQUIRE(r.responses[0].partitions.size() == 1);
    const auto& pd = r.responses[0].partitions[0];
    CHECK(pd.error_code == 0);
    CHECK(pd.high_watermark == 3);
    std::vector<std::string> values;
    std::vector<std::int64_t> offsets;
    if (fv >= 4) {
      record_batch_reader reader(pd.records.bytes());
      record_batch b;
      while (reader.next(b)) {
        auto cursor = b.records();
        for (const auto& rec : cursor) {
          offsets.push_back(rec.offset);
          values.emplace_back(rec.value->begin(), rec.value->end());
        }
      }
      REQUIRE(reader.ok());
    } else {
      auto set = read_message_set(pd.records.bytes());
      REQUIRE(set.ok());
      for (const auto& m : set->messages()) {
        CHECK(m.magic == (fv <= 1 ? 0 : 1));
        offsets.push_back(m.offset);
        values.emplace_back(m.value->begin(), m.value->end());
      }
    }
    // The whole first batch comes back; the consumer skips offset 0 itself.
    CHECK(offsets == std::vector<std::int64_t>{0, 1, 2});
    CHECK(values == std::vector<std::string>{"a", "b", "c"});
  }
}

TEST_CASE(
    "Fetch honours max bytes, waits when empty, and reports bad offsets "
    "and non-leaders") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1, .replication_factor = 2}) == kafka_error::none);
  const auto leader = h.leader("t");
  const auto batch = make_batch({"0123456789"});
  for (int i = 0; i < 5; ++i) h.produce(leader, "t", 0, batch);
  auto fetch = [&](std::int64_t offset, std::int32_t partition_max, std::int32_t broker = 0) {
    fetch_request req;
    req.max_wait_ms = 250;
    req.min_bytes = 1;
    req.max_bytes = 1 << 20;
    fetch_request::fetch_topic ft;
    ft.topic = "t";
    ft.partitions.push_back({0, -1, offset, -1, -1, partition_max, {}, {}});
    req.topics.push_back(ft);
    return h.call<fetch_response>(broker ? broker : leader, req, 11)
        .responses.at(0)
        .partitions.at(0);
  };
  auto count_batches = [](const fetch_response::partition_data& pd) {
    record_batch_reader reader(pd.records.bytes());
    record_batch b;
    int n = 0;
    while (reader.next(b)) ++n;
    return n;
  };
  CHECK(count_batches(fetch(0, 1 << 20)) == 5);
  CHECK(count_batches(fetch(0, static_cast<std::int32_t>(batch.size() * 2))) == 2);
  CHECK(count_batches(fetch(0, 1)) == 1);  // the first batch always comes
  CHECK(count_batches(fetch(3, 1 << 20)) == 2);
  // Nothing at offset 5 yet: the fetch waits its MaxWaitMs, then gets nothing.
  {
    fetch_request req;
    req.max_wait_ms = 250;
    req.min_bytes = 1;
    req.max_bytes = 1 << 20;
    req.topics.push_back({"t", {}, {{0, -1, 5, -1, -1, 1 << 20, {}, {}}}, {}});
    auto parked = h.send(leader, req, 11);
    REQUIRE(parked.parked != 0);
    CHECK_FALSE(parked.response);
    h.now += std::chrono::milliseconds(250);
    auto answers = h.c.poll(h.now);
    REQUIRE(answers.size() == 1);
    REQUIRE(answers[0].response);
    auto empty = harness::decode<fetch_response>(*answers[0].response, 1, 11, h.correlation)
                     .responses.at(0)
                     .partitions.at(0);
    CHECK(empty.error_code == 0);
    CHECK(empty.records.size() == 0);
    CHECK(answers[0].send_at == h.now);
  }
  CHECK(fetch(6, 1 << 20).error_code == ec(kafka_error::offset_out_of_range));
  const std::int32_t other = leader == 1 ? 2 : 1;
  auto nl = fetch(0, 1 << 20, other);
  CHECK(nl.error_code == ec(kafka_error::not_leader_or_follower));
}

TEST_CASE(
    "ListOffsets: earliest, latest, by timestamp, max timestamp, v0 old "
    "style") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  h.produce(leader, "t", 0, make_batch({"a", "b"}, -1, -1, -1, 1000));  // ts 1000, 1001
  h.produce(leader, "t", 0, make_batch({"c"}, -1, -1, -1, 5000));
  h.produce(leader, "t", 0, make_batch({"d"}, -1, -1, -1, 2000));
  auto list = [&](std::int64_t ts, std::int16_t v) {
    list_offsets_request req;
    req.replica_id = -1;
    list_offsets_request::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = ts;
    req.topics.push_back({"t", {p}, {}});
    return h.call<list_offsets_response>(leader, req, v).topics.at(0).partitions.at(0);
  };
  CHECK(list(-2, 1).offset == 0);
  CHECK(list(-1, 1).offset == 4);
  auto by_time = list(1001, 5);
  CHECK(by_time.offset == 1);
  CHECK(by_time.timestamp == 1001);
  CHECK(by_time.leader_epoch == h.c.partition("t", 0)->leader_epoch);
  CHECK(list(1500, 5).offset == 2);
  CHECK(list(9999, 5).offset == -1);
  auto max = list(-3, 7);
  CHECK(max.offset == 2);
  CHECK(max.timestamp == 5000);
  CHECK(list(-1, 0).old_style_offsets == std::vector<std::int64_t>{4});
  for (std::int16_t v = 0; v <= list_offsets_request::max_version; ++v)
    CHECK(list(-1, v).error_code == 0);
}

TEST_CASE("CreateTopics and DeleteTopics at every version") {
  for (std::int16_t v = 0; v <= create_topics_request::max_version; ++v) {
    harness h;
    create_topics_request req;
    req.topics.push_back({"new", 4, 2, {}, {}, {}});
    req.topics.push_back({"bad/name", 1, 1, {}, {}, {}});
    req.topics.push_back({"too-many", 1, 4, {}, {}, {}});
    req.topics.push_back(
        {"lat", -1, -1, {}, {{"message.timestamp.type", "LogAppendTime", {}}}, {}});
    auto r = h.call<create_topics_response>(1, req, v);
    REQUIRE(r.topics.size() == 4);
    CHECK(r.topics[0].error_code == 0);
    CHECK(r.topics[1].error_code == ec(kafka_error::invalid_topic_exception));
    CHECK(r.topics[2].error_code == ec(kafka_error::invalid_replication_factor));
    CHECK(r.topics[3].error_code == 0);
    if (v >= 5) {
      CHECK(r.topics[0].num_partitions == 4);
      CHECK(r.topics[0].replication_factor == 2);
    }
    if (v >= 7) CHECK(r.topics[0].topic_id == *h.c.topic_id("new"));
    CHECK(h.c.partition("new", 3)->replicas.size() == 2);
    r = h.call<create_topics_response>(1, req, v);
    CHECK(r.topics[0].error_code == ec(kafka_error::topic_already_exists));
  }
  for (std::int16_t v = 0; v <= delete_topics_request::max_version; ++v) {
    harness h;
    REQUIRE(h.c.create_topic("gone") == kafka_error::none);
    delete_topics_request req;
    if (v < 6) {
      req.topic_names = {"gone", "never"};
    } else {
      req.topics.push_back({"gone", {}, {}});
      req.topics.push_back({std::nullopt, uuid{1, 2, 3}, {}});
    }
    auto r = h.call<delete_topics_response>(1, req, v);
    REQUIRE(r.responses.size() == 2);
    CHECK(r.responses[0].error_code == 0);
    CHECK(r.responses[1].error_code ==
          ec(v < 6 ? kafka_error::unknown_topic_or_partition : kafka_error::unknown_topic_id));
    CHECK(h.c.topics().empty());
  }
}

TEST_CASE("FindCoordinator picks a live broker by key hash, at every version") {
  harness h;
  for (std::int16_t v = 0; v <= find_coordinator_request::max_version; ++v) {
    find_coordinator_request req;
    if (v < 4)
      req.key = "group-1";
    else
      req.coordinator_keys = {"group-1", "group-2"};
    auto r = h.call<find_coordinator_response>(1, req, v);
    if (v < 4) {
      CHECK(r.error_code == 0);
      CHECK(r.node_id >= 1);
      CHECK(r.port == 9091 + r.node_id);
    } else {
      REQUIRE(r.coordinators.size() == 2);
      CHECK(r.coordinators[0].error_code == 0);
      CHECK(r.coordinators[0].key == "group-1");
    }
  }
  // The same key always goes to the same broker; a dead coordinator moves it.
  find_coordinator_request req;
  req.key = "g";
  const auto first = h.call<find_coordinator_response>(1, req, 2).node_id;
  CHECK(h.call<find_coordinator_response>(2, req, 2).node_id == first);
  h.c.broker_down(first);
  const std::int32_t live = first == 1 ? 2 : 1;
  CHECK(h.call<find_coordinator_response>(live, req, 2).node_id != first);
}

TEST_CASE("DescribeCluster lists the live brokers") {
  harness h;
  h.c.broker_down(3);
  for (std::int16_t v = 0; v <= describe_cluster_request::max_version; ++v) {
    auto r = h.call<describe_cluster_response>(1, describe_cluster_request{}, v);
    CHECK(r.error_code == 0);
    CHECK(r.cluster_id == "kwire-mock-cluster");
    CHECK(r.controller_id == 1);
    REQUIRE(r.brokers.size() == 2);
    CHECK(r.brokers[1].broker_id == 2);
  }
}

TEST_CASE(
    "InitProducerId: a fresh id without a transactional id (as Kafka), "
    "epoch bumps and fencing "
    "with one") {
  harness h;
  init_producer_id_request req;
  req.transactional_id = std::nullopt;
  auto a = h.call<init_producer_id_response>(1, req, 1);
  auto b = h.call<init_producer_id_response>(1, req, 1);
  CHECK(a.error_code == 0);
  CHECK(a.producer_epoch == 0);
  CHECK(b.producer_id == a.producer_id + 1);
  // Naming an id and epoch changes nothing without a transactional id.
  req.producer_id = a.producer_id;
  req.producer_epoch = 0;
  auto again = h.call<init_producer_id_response>(1, req, 4);
  CHECK(again.error_code == 0);
  CHECK(again.producer_id == b.producer_id + 1);
  CHECK(again.producer_epoch == 0);

  init_producer_id_request txn;
  txn.transactional_id = "tx";
  auto t1 = h.call<init_producer_id_response>(1, txn, 2);
  auto t2 = h.call<init_producer_id_response>(1, txn, 2);
  CHECK(t2.producer_id == t1.producer_id);
  CHECK(t2.producer_epoch == t1.producer_epoch + 1);
  txn.producer_id = t1.producer_id;
  txn.producer_epoch = t1.producer_epoch;  // stale: t2 bumped it
  CHECK(h.call<init_producer_id_response>(1, txn, 4).error_code ==
        ec(kafka_error::producer_fenced));
  CHECK(h.call<init_producer_id_response>(1, txn, 3).error_code ==
        ec(kafka_error::invalid_producer_epoch));
  for (std::int16_t v = 0; v <= init_producer_id_request::max_version; ++v)
    CHECK(h.call<init_producer_id_response>(2, init_producer_id_request{}, v).error_code == 0);
}

TEST_CASE(
    "Every API at its first and last version: served ones answer, others "
    "close naming the API") {
  harness h;
  for (const api_info& api : all_apis()) {
    const bool served =
        std::find(served_keys.begin(), served_keys.end(), api.key) != served_keys.end();
    for (std::int16_t v : {api.min_version, api.max_version}) {
      INFO(api.name << " v" << v);
      any_message body(*api.request);
      std::vector<std::uint8_t> payload;
      writer w(payload);
      request_header hd;
      hd.api_key = api.key;
      hd.api_version = v;
      hd.correlation_id = 42;
      hd.client_id = "x";
      hd.encode(w, request_header_version(api.key, v));
      body.encode(w, v);
      if (!w.ok()) continue;  // a default body this version cannot carry
      auto result = h.raw(1, payload);
      if (!served) {
        CHECK(result.close_before_response);
        CHECK_FALSE(result.response);
        CHECK(result.close_reason == std::string(api.name) + " (API key " +
                                         std::to_string(api.key) +
                                         ") is not served by the mock cluster");
        CHECK(h.c.request_log().back().closed);
        continue;
      }
      CHECK_FALSE(result.close_before_response);
      if (result.response) {
        std::vector<std::uint8_t> inner(result.response->begin() + 4, result.response->end());
        auto decoded = decode_response(inner, api.key, v);
        CHECK(decoded.ok());
      }
    }
  }
}

TEST_CASE(
    "An API the mock does not serve closes the connection, with no "
    "answer and no fault counted") {
  harness h;
  fault_rule any;
  any.action = fault_action::error(kafka_error::unknown_server_error);
  const auto id = h.c.add_fault(any);
  for (auto result : {h.send(1, describe_acls_request{}, 3), h.send(1, end_txn_request{}, 3)}) {
    CHECK(result.close_before_response);
    CHECK_FALSE(result.response);
    CHECK(result.faults.empty());
  }
  CHECK(h.c.request_log().back().close_reason ==
        "EndTxn (API key 26) is not served by the mock cluster");
  CHECK(h.c.faults().at(0).matched == 0);
  CHECK(h.c.fired(id) == 0);
}
