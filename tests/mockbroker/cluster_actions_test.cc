// Cluster actions (leader moves, outages, ISR), retention, and bad frames.
#include "kwire/mockbroker/cluster.hpp"

#include "harness.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;

TEST_CASE("Moving a leader bumps the epoch; the old leader answers NOT_LEADER_OR_FOLLOWER") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto old_leader = h.leader("t");
  const auto new_leader = old_leader % 3 + 1;
  CHECK(h.produce(old_leader, "t", 0, make_batch({"a"})).error_code == 0);
  REQUIRE(h.c.move_leader("t", 0, new_leader));
  auto p = h.c.partition("t", 0);
  CHECK(p->leader == new_leader);
  CHECK(p->leader_epoch == 1);
  CHECK(h.produce(old_leader, "t", 0, make_batch({"b"})).error_code ==
        ec(kafka_error::not_leader_or_follower));
  CHECK(h.produce(new_leader, "t", 0, make_batch({"b"})).base_offset == 1);
  CHECK_FALSE(h.c.move_leader("t", 0, 99));
  CHECK_FALSE(h.c.move_leader("t", 5, 1));
  metadata_request req;
  req.topics = std::nullopt;
  auto m = h.call<metadata_response>(1, req, 9);
  CHECK(m.topics[0].partitions[0].leader_id == new_leader);
  CHECK(m.topics[0].partitions[0].leader_epoch == 1);
}

TEST_CASE("A broker outage closes its connections and moves its leaderships") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  REQUIRE(h.c.broker_down(leader));
  auto closed = h.send(leader, api_versions_request{}, 3);
  CHECK(closed.close_before_response);
  CHECK_FALSE(closed.response);
  auto p = h.c.partition("t", 0);
  CHECK(p->leader != leader);
  CHECK(p->leader != -1);
  CHECK(p->leader_epoch == 1);
  CHECK(p->isr.size() == 2);
  metadata_request req;
  req.topics = std::nullopt;
  auto m = h.call<metadata_response>(p->leader, req, 9);
  CHECK(m.brokers.size() == 2);
  CHECK(m.topics[0].partitions[0].offline_replicas == std::vector<std::int32_t>{leader});
  REQUIRE(h.c.broker_up(leader));
  CHECK(h.c.partition("t", 0)->isr.size() == 3);
  CHECK_FALSE(h.send(leader, api_versions_request{}, 3).closes());
}

TEST_CASE("With every replica down a partition goes offline until one comes back") {
  harness h;
  REQUIRE(h.c.create_topic("t", {1, 1, false, -1, 0, 0, {}}) == kafka_error::none);
  const auto leader = h.leader("t");
  REQUIRE(h.c.broker_down(leader));
  CHECK(h.c.partition("t", 0)->leader == -1);
  const auto other = leader % 3 + 1;
  metadata_request req;
  req.topics = std::nullopt;
  auto m = h.call<metadata_response>(other, req, 9);
  CHECK(m.topics[0].partitions[0].error_code == ec(kafka_error::leader_not_available));
  CHECK(m.topics[0].partitions[0].leader_id == -1);
  CHECK(h.produce(other, "t", 0, make_batch({"a"})).error_code ==
        ec(kafka_error::not_leader_or_follower));
  REQUIRE(h.c.broker_up(leader));
  CHECK(h.c.partition("t", 0)->leader == leader);
  CHECK(h.c.partition("t", 0)->leader_epoch == 2);
}

TEST_CASE("Taking a broker down without moving leaderships leaves its partitions on it") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  REQUIRE(h.c.broker_down(leader, false));
  CHECK(h.c.partition("t", 0)->leader == leader);
  CHECK(h.c.partition("t", 0)->leader_epoch == 0);
}

TEST_CASE("ISR shrink and grow") {
  harness h;
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  CHECK(h.c.shrink_isr("t", 0, 2));
  CHECK(h.c.partition("t", 0)->isr.size() == 2);
  CHECK(h.c.grow_isr("t", 0, 2));
  CHECK(h.c.partition("t", 0)->isr.size() == 3);
  CHECK(h.c.set_isr("t", 0, {1}));
  CHECK_FALSE(h.c.shrink_isr("t", 0, 1));  // the last member stays
  CHECK_FALSE(h.c.set_isr("t", 0, {7}));
}

TEST_CASE("Retention drops the oldest batches and advances the log start") {
  cluster_config config;
  config.retention_records = 10;
  harness h(config);
  REQUIRE(h.c.create_topic("t") == kafka_error::none);
  const auto leader = h.leader("t");
  for (int i = 0; i < 8; ++i) h.produce(leader, "t", 0, make_batch({"a", "b", "c"}));
  auto p = h.c.partition("t", 0);
  CHECK(p->high_watermark == 24);
  CHECK(p->log_start_offset == 15);
  CHECK(p->batch_count == 3);
  auto stored = h.c.read("t", 0);
  REQUIRE(stored.size() == 9);
  CHECK(stored.front().offset == 15);
  CHECK(h.produce(leader, "t", 0, make_batch({"d"})).log_start_offset ==
        15);  // 10 records: at the limit
  CHECK(h.produce(leader, "t", 0, make_batch({"e"})).log_start_offset == 18);

  topic_config by_bytes;
  by_bytes.retention_bytes = 1;
  REQUIRE(h.c.create_topic("b", by_bytes) == kafka_error::none);
  const auto bl = h.leader("b");
  for (int i = 0; i < 4; ++i) h.produce(bl, "b", 0, make_batch({"xyz"}));
  CHECK(h.c.partition("b", 0)->batch_count == 1);  // the newest batch always stays
  CHECK(h.c.partition("b", 0)->log_start_offset == 3);
  // Fetching below the log start is out of range.
  fetch_request req;
  req.max_wait_ms = 0;
  fetch_request::fetch_topic ft;
  ft.topic = "b";
  ft.partitions.push_back({0, -1, 0, -1, -1, 1 << 20, {}, {}});
  req.topics.push_back(ft);
  auto r = h.call<fetch_response>(bl, req, 11);
  CHECK(r.responses[0].partitions[0].error_code == ec(kafka_error::offset_out_of_range));
  CHECK(r.responses[0].partitions[0].log_start_offset == 3);
}

TEST_CASE(
    "Malformed frames, unknown APIs and versions, unknown and down brokers close the connection") {
  harness h;
  auto closes = [&](std::vector<std::uint8_t> payload, std::int32_t broker = 1) {
    auto r = h.raw(broker, payload);
    CHECK(r.close_before_response);
    CHECK_FALSE(r.response);
    CHECK_FALSE(r.close_reason.empty());
    return r.close_reason;
  };
  closes({});
  closes({0, 3, 0});
  CHECK(closes({0x7f, 0x00, 0, 1, 0, 0, 0, 1, 0xff, 0xff}).find("unknown API key") !=
        std::string::npos);
  CHECK(closes({0, 3, 0, 99, 0, 0, 0, 1, 0xff, 0xff}).find("not supported") != std::string::npos);
  // A client id longer than the frame: the header itself does not decode.
  CHECK(closes({0, 3, 0, 1, 0, 0, 0, 1, 0x00, 0x05, 'a'}).find("malformed request header") !=
        std::string::npos);
  CHECK(h.c.request_log().back().header.api_key == 3);
  // Metadata v1: a header, then a topic array count larger than what follows.
  CHECK(closes({0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x00, 0x10, 0x00, 0x00}).find("malformed") !=
        std::string::npos);
  // Trailing garbage after a valid body.
  auto payload = request_payload(api_versions_request{}, 2, 1);
  payload.push_back(0xaa);
  closes(payload);
  closes(request_payload(api_versions_request{}, 2, 1), 42);
  h.c.broker_down(2);
  CHECK(closes(request_payload(api_versions_request{}, 2, 1), 2) == "broker 2 is down");
  // Random bytes never crash the core.
  std::uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk(static_cast<std::size_t>(i % 64));
    for (auto& b : junk) {
      x = x * 1664525u + 1013904223u;
      b = static_cast<std::uint8_t>(x >> 24);
    }
    if (junk.size() >= 4) {
      junk[0] = 0;
      junk[1] = static_cast<std::uint8_t>(i % 70);
      junk[2] = 0;
      junk[3] = static_cast<std::uint8_t>(i % 5);
    }
    auto r = h.raw(1, junk);
    if (r.response) CHECK(r.response->size() >= 8);
  }
  CHECK(h.c.request_log().back().closed);
}
