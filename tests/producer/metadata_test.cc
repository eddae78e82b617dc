// The metadata part alone: which topics a request names, when one is due,
// and which answers are believed.
#include "kwire/producer/detail/metadata.hpp"

#include <catch2/catch.hpp>

using namespace kwire;
using namespace kwire::detail;
using namespace std::chrono_literals;

namespace {

producer_config test_config() {
  producer_config c;
  c.bootstrap_servers = {{"boot", 9092}};
  c.metadata_max_age = 60000ms;
  return c;
}

metadata_response::metadata_response_topic topic_answer(const std::string& name,
                                                        std::vector<std::int32_t> leaders,
                                                        kafka_error error = kafka_error::none) {
  metadata_response::metadata_response_topic t;
  t.name = name;
  t.error_code = static_cast<std::int16_t>(error);
  for (std::size_t i = 0; i < leaders.size(); ++i) {
    metadata_response::metadata_response_partition p;
    p.partition_index = static_cast<std::int32_t>(i);
    p.leader_id = leaders[i];
    t.partitions.push_back(p);
  }
  return t;
}

std::vector<std::string> names_in(const metadata_request& r) {
  std::vector<std::string> names;
  for (const auto& t : *r.topics) names.push_back(*t.name);
  return names;
}

}  // namespace

TEST_CASE(
    "metadata: a request names every topic asked about; an answer gives partitions and leaders") {
  core_context ctx(test_config());
  cluster_metadata m(ctx);
  const core_time t0 = from_unix_ms(5000);
  CHECK(m.request_due(t0));  // at start, to learn the cluster
  CHECK_FALSE(m.want("b"));
  m.topic("a");
  CHECK(names_in(m.build_request()) == std::vector<std::string>{"a", "b"});
  m.on_request_sent();
  CHECK(ctx.metrics.metadata_requests == 1);
  CHECK_FALSE(m.request_due(t0));  // one at a time
  metadata_response r;
  r.topics = {topic_answer("a", {1, 2}), topic_answer("b", {2})};
  m.on_response(r, t0);
  CHECK(m.partition_count("a") == 2);
  CHECK(m.partition_count("b") == 1);
  REQUIRE(m.find_partition("a", 1));
  CHECK(m.find_partition("a", 1)->leader == 2);
  CHECK_FALSE(m.find_partition("a", 2));
  CHECK_FALSE(m.request_due(t0 + 59999ms));
  CHECK(ctx.deadline == t0 + 60000ms);
  CHECK(m.request_due(t0 + 60000ms));  // metadata.max.age.ms
}

TEST_CASE(
    "metadata: a missing topic or leader is asked again after retry.backoff.ms; a fatal error "
    "sticks") {
  core_context ctx(test_config());
  cluster_metadata m(ctx);
  const core_time t0 = from_unix_ms(5000);
  m.topic("missing");
  m.topic("leaderless");
  m.topic("denied");
  m.on_request_sent();
  metadata_response r;
  r.topics = {topic_answer("missing", {}, kafka_error::unknown_topic_or_partition),
              topic_answer("leaderless", {-1}),
              topic_answer("denied", {}, kafka_error::topic_authorization_failed)};
  m.on_response(r, t0);
  CHECK_FALSE(m.partition_count("missing"));
  CHECK(m.partition_count("leaderless") == 1);
  CHECK(m.find_partition("leaderless", 0)->leader == -1);
  CHECK(m.want("denied") == make_error_code(kafka_error::topic_authorization_failed));
  CHECK_FALSE(m.request_due(t0 + 99ms));
  CHECK(m.request_due(t0 + 100ms));
}

TEST_CASE("metadata: an answer with fewer partitions than known, or bad indexes, is not believed") {
  core_context ctx(test_config());
  cluster_metadata m(ctx);
  const core_time t0 = from_unix_ms(5000);
  m.topic("t");
  m.on_request_sent();
  metadata_response r;
  r.topics = {topic_answer("t", {1, 1, 1})};
  m.on_response(r, t0);
  REQUIRE(m.partition_count("t") == 3);
  partition_state* kept = m.find_partition("t", 2);
  m.on_request_sent();
  r.topics = {topic_answer("t", {1})};  // partitions never shrink
  m.on_response(r, t0 + 1ms);
  CHECK(m.partition_count("t") == 3);
  CHECK(m.find_partition("t", 2) == kept);
  m.on_request_sent();
  r.topics = {topic_answer("t", {2, 2, 2, 2})};
  r.topics[0].partitions[3].partition_index = 7;
  m.on_response(r, t0 + 2ms);
  CHECK(m.partition_count("t") == 3);
  CHECK(m.find_partition("t", 0)->leader == 1);
  CHECK(m.request_due(t0 + 2ms + ctx.config.retry_backoff));
}
