// Consumer groups of KIP-848 given bad or unusual input: every malformed
// ConsumerGroupHeartbeat refused with Kafka's code and nothing changed,
// absurd but legal values taken, a megabyte group id, regex subscriptions,
// members with different subscriptions, a changed subscription,
// group_max_size. Exact outcomes; time only moves with h.now.
#include <limits>

#include "consumer_group_harness.hpp"

namespace kwire::mockbroker::testing {
namespace {

TEST_CASE("Subscriptions by regex (v1) follow the topics that match", "[consumer_group]") {
  harness h;
  for (const char* t : {"orders-eu", "orders-us", "payments"})
    REQUIRE(h.c.create_topic(t, {.partitions = 1}) == kafka_error::none);
  auto join = join_of("g", "member-a", {});
  join.subscribed_topic_names.reset();
  join.subscribed_topic_regex = "orders-.*";
  auto r = heartbeat(h, join);
  CHECK(r.error_code == 0);
  CHECK(named(h, r.assignment->topic_partitions) ==
        by_topic{{"orders-eu", {0}}, {"orders-us", {0}}});
  CHECK(member_of(describe(h, "g"), "member-a").subscribed_topic_regex ==
        std::optional<std::string>("orders-.*"));
  REQUIRE(h.c.create_topic("orders-asia", {.partitions = 1}) == kafka_error::none);
  auto more = heartbeat(
      h, beat_of("g", "member-a", 1, owned_of(h, {{"orders-eu", {0}}, {"orders-us", {0}}})));
  CHECK(more.member_epoch == 2);
  CHECK(named(h, more.assignment->topic_partitions) ==
        by_topic{{"orders-asia", {0}}, {"orders-eu", {0}}, {"orders-us", {0}}});

  auto bad = join_of("g", "member-b", {});
  bad.subscribed_topic_regex = "orders-(";
  CHECK(heartbeat(h, bad).error_code == ec(kafka_error::invalid_regular_expression));
  bad.subscribed_topic_regex = std::string(2000, 'a');
  CHECK(heartbeat(h, bad).error_code == ec(kafka_error::invalid_regular_expression));
  CHECK(describe(h, "g").members.size() == 1);
}

TEST_CASE("Bad heartbeats are refused with Kafka's codes and change nothing", "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  auto code_of = [&](const consumer_group_heartbeat_request& r, std::int16_t v = 1) {
    return heartbeat(h, r, v).error_code;
  };
  auto sticky = code_of(join_of("g", "m", {"t"}, "sticky"));
  CHECK(sticky == ec(kafka_error::unsupported_assignor));
  auto no_timeout = join_of("g", "m", {"t"});
  no_timeout.rebalance_timeout_ms = -1;
  CHECK(code_of(no_timeout) == ec(kafka_error::invalid_request));
  auto no_owned = join_of("g", "m", {"t"});
  no_owned.topic_partitions.reset();
  CHECK(code_of(no_owned) == ec(kafka_error::invalid_request));
  auto owning = join_of("g", "m", {"t"});
  owning.topic_partitions = owned_of(h, {{"t", {}}});
  CHECK(code_of(owning) == ec(kafka_error::invalid_request));
  auto no_subscription = join_of("g", "m", {});
  no_subscription.subscribed_topic_names.reset();
  CHECK(code_of(no_subscription) == ec(kafka_error::invalid_request));
  CHECK(code_of(beat_of("g", "m", -3)) == ec(kafka_error::invalid_request));
  CHECK(code_of(beat_of("g", "m", std::numeric_limits<std::int32_t>::min())) ==
        ec(kafka_error::invalid_request));
  CHECK(code_of(join_of("", "m", {"t"})) == ec(kafka_error::invalid_request));
  CHECK(code_of(join_of("g", "m", {"t"}, std::nullopt, "")) == ec(kafka_error::invalid_request));
  auto empty_rack = join_of("g", "m", {"t"});
  empty_rack.rack_id = "";
  CHECK(code_of(empty_rack) == ec(kafka_error::invalid_request));
  CHECK(code_of(beat_of("g", "m", 5)) == ec(kafka_error::group_id_not_found));
  CHECK(h.c.groups().empty());

  // Absurd but legal values are taken as Kafka takes them.
  auto huge = join_of("g", "m", {"t", "t", "t"}, std::nullopt, std::nullopt,
                      std::numeric_limits<std::int32_t>::max());
  auto r = heartbeat(h, huge);
  CHECK(r.error_code == 0);
  CHECK(r.member_epoch == 1);
  CHECK(describe(h, "g").members.at(0).subscribed_topic_names == std::vector<std::string>{"t"});
  auto odd = beat_of("g", "m", 1, owned_of(h, {{"t", {-5, 1000000}}}));
  CHECK(code_of(odd) == 0);
  CHECK(code_of(beat_of("g", "someone", 1)) == ec(kafka_error::unknown_member_id));
  CHECK(code_of(beat_of("g", "m", std::numeric_limits<std::int32_t>::max())) ==
        ec(kafka_error::fenced_member_epoch));

  // A megabyte group id (flexible versions carry it): Kafka cannot write
  // its records, and nothing is left behind.
  const std::string big(1 << 20, 'g');
  auto mega = heartbeat(h, join_of(big, "m", {"t"}));
  CHECK(mega.error_code == ec(kafka_error::unknown_server_error));
  CHECK_FALSE(h.c.group(big).has_value());
  CHECK(h.c.groups().size() == 1);
}

TEST_CASE("Members with different subscriptions: uniform balances over what each takes",
          "[consumer_group]") {
  harness h;
  REQUIRE(h.c.create_topic("a", {.partitions = 2}) == kafka_error::none);
  REQUIRE(h.c.create_topic("b", {.partitions = 2}) == kafka_error::none);
  consumer x{"g", "member-a", {"a", "b"}};
  consumer y{"g", "member-b", {"b"}};
  x.beat(h);
  CHECK(x.owned == by_topic{{"a", {0, 1}}, {"b", {0, 1}}});
  y.beat(h);
  converge(h, {&x, &y});
  // Only A takes "a"; "b" moves to B until neither has two more.
  CHECK(x.owned == by_topic{{"a", {0, 1}}});
  CHECK(y.owned == by_topic{{"b", {0, 1}}});

  // A changes its subscription: a new epoch, "a" goes to nobody else.
  auto change = beat_of("g", "member-a", x.epoch, owned_of(h, x.owned));
  change.subscribed_topic_names = std::vector<std::string>{"b"};
  auto r = heartbeat(h, change);
  CHECK(r.error_code == 0);
  x.topics = {"b"};
  x.owned = named(h, r.assignment->topic_partitions);
  x.epoch = r.member_epoch;
  converge(h, {&x, &y});
  CHECK(describe(h, "g").group_epoch == 3);
  CHECK(x.owned.count("a") == 0);
  CHECK(x.owned.at("b").size() + y.owned.at("b").size() == 2);
}

TEST_CASE("group_max_size limits consumer groups too", "[consumer_group]") {
  cluster_config cfg;
  cfg.group_max_size = 1;
  harness h(cfg);
  REQUIRE(h.c.create_topic("t", {.partitions = 1}) == kafka_error::none);
  REQUIRE(heartbeat(h, join_of("g", "member-a", {"t"})).error_code == 0);
  auto full = heartbeat(h, join_of("g", "member-b", {"t"}));
  CHECK(full.error_code == ec(kafka_error::group_max_size_reached));
  CHECK(heartbeat(h, beat_of("g", "member-a", 1)).error_code == 0);
  CHECK(h.c.group("g")->members.size() == 1);
}

}  // namespace
}  // namespace kwire::mockbroker::testing
