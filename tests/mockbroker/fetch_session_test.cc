// Incremental fetch sessions (KIP-227) in the cluster core: opening and
// closing sessions, what incremental responses carry, session errors, topic
// ids (v13+), the bounded cache per broker, and parked incremental fetches.
#include <map>
#include <random>

#include "harness.hpp"

// The session cache itself, sans-I/O, for what no request sequence reaches
// in a test's time (the epoch wrap at INT32_MAX).
#include "../../mockbroker/src/fetch_sessions.hpp"

using namespace kwire;
using namespace kwire::mockbroker;
using namespace kwire::mockbroker::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::int16_t not_found = ec(kafka_error::fetch_session_id_not_found);
constexpr std::int16_t bad_epoch = ec(kafka_error::invalid_fetch_session_epoch);

/// A partition a fetch names.
struct part {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

/// Topics "t" (3 partitions) and "u" (1), all led by broker 1.
struct session_fixture {
  harness h;
  std::int16_t version;

  explicit session_fixture(std::int16_t v, cluster_config config = {})
      : h(std::move(config)), version(v) {
    REQUIRE(h.c.create_topic("t", {.partitions = 3, .assignments = {{1, 2}, {1, 2}, {1, 2}}}) ==
            kafka_error::none);
    REQUIRE(h.c.create_topic("u", {.partitions = 1, .assignments = {{1, 2}}}) == kafka_error::none);
  }

  uuid id_of(const std::string& topic) {
    auto id = h.c.topic_id(topic);
    REQUIRE(id.has_value());
    return *id;
  }

  /// A fetch of `parts` (consecutive partitions of a topic share an entry)
  /// forgetting `forgotten`; answered at once unless max_wait_ms is set.
  fetch_request request(
      std::int32_t session_id, std::int32_t epoch, std::vector<part> parts,
      std::vector<std::pair<std::string, std::vector<std::int32_t>>> forgotten = {},
      std::int32_t max_wait_ms = 0, std::int32_t min_bytes = 1) {
    fetch_request r;
    r.max_wait_ms = max_wait_ms;
    r.min_bytes = min_bytes;
    r.max_bytes = 1 << 20;
    r.session_id = session_id;
    r.session_epoch = epoch;
    for (const part& p : parts) {
      if (r.topics.empty() || r.topics.back().topic != p.topic) {
        fetch_request::fetch_topic t;
        t.topic = p.topic;
        if (version >= 13) t.topic_id = id_of(p.topic);
        r.topics.push_back(std::move(t));
      }
      fetch_request::fetch_partition fp;
      fp.partition = p.partition;
      fp.fetch_offset = p.offset;
      fp.partition_max_bytes = 1 << 20;
      r.topics.back().partitions.push_back(fp);
    }
    for (auto& [topic, partitions] : forgotten) {
      fetch_request::forgotten_topic f;
      f.topic = topic;
      if (version >= 13) f.topic_id = id_of(topic);
      f.partitions = partitions;
      r.forgotten_topics_data.push_back(std::move(f));
    }
    // Versions before 13 name topics, later ones only carry ids.
    if (version >= 13)
      for (auto& t : r.topics) t.topic.clear();
    return r;
  }

  fetch_response fetch(const fetch_request& r, std::int32_t broker = 1,
                       std::uint64_t connection = 1) {
    return h.call<fetch_response>(broker, r, version, connection);
  }

  void produce(const std::string& topic, std::int32_t partition, std::string value) {
    REQUIRE(h.produce(1, topic, partition, make_batch({std::move(value)})).error_code == 0);
  }

  static std::size_t record_count(const fetch_response::partition_data& pd) {
    std::size_t n = 0;
    record_batch_reader reader(pd.records.bytes());
    record_batch b;
    while (reader.next(b))
      for ([[maybe_unused]] const auto& r : b.records()) ++n;
    REQUIRE(reader.ok());
    return n;
  }

  /// The partitions of a response in order, as "topic/partition", then
  /// "+N" for N records and "!E" for error code E.
  std::vector<std::string> included(const fetch_response& r) {
    std::vector<std::string> out;
    for (const auto& t : r.responses) {
      std::string name = t.topic;
      if (version >= 13) {
        name = "?";
        for (const auto& known : h.c.topics())
          if (h.c.topic_id(known) == t.topic_id) name = known;
      }
      for (const auto& pd : t.partitions) {
        std::string s = name + "/" + std::to_string(pd.partition_index);
        if (auto n = record_count(pd)) s += "+" + std::to_string(n);
        if (pd.error_code != 0) s += "!" + std::to_string(pd.error_code);
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  std::vector<fetch_session_info> sessions(std::int32_t broker = 1) {
    return h.c.fetch_sessions(broker);
  }

  /// Broker 1's session `id`, which must be there.
  fetch_session_info session(std::int32_t id) {
    for (const auto& s : sessions())
      if (s.id == id) return s;
    FAIL("no session " << id);
    return {};
  }

  /// Opens a session over `parts` with a full fetch (epoch 0).
  std::int32_t open(std::vector<part> parts) {
    auto r = fetch(request(0, 0, std::move(parts)));
    REQUIRE(r.error_code == 0);
    REQUIRE(r.session_id != 0);
    return r.session_id;
  }

  /// The one parked answer poll() has now, decoded.
  fetch_response answer(std::int32_t correlation) {
    auto answers = h.c.poll(h.now);
    REQUIRE(answers.size() == 1);
    REQUIRE(answers[0].response);
    return harness::decode<fetch_response>(*answers[0].response, fetch_request::api_key, version,
                                           correlation);
  }
};

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("Fetch v7: epoch 0 opens a session; incremental fetches carry only what changed") {
  session_fixture f(7);
  f.produce("t", 0, "a");

  auto full = f.fetch(f.request(0, 0, {{"t", 0, 0}, {"t", 1, 0}, {"t", 2, 0}}));
  CHECK(full.error_code == 0);
  const std::int32_t id = full.session_id;
  CHECK(id > 0);
  CHECK(f.included(full) == strings{"t/0+1", "t/1", "t/2"});
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 1, 3, false}});

  // The consumer moves p0 to offset 1: nothing new anywhere, nothing sent.
  auto r = f.fetch(f.request(id, 1, {{"t", 0, 1}}));
  CHECK(r.error_code == 0);
  CHECK(r.session_id == id);
  CHECK(f.included(r).empty());
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 2, 3, false}});

  // New data on p1: only p1, read from the offset the session keeps.
  f.produce("t", 1, "b");
  r = f.fetch(f.request(id, 2, {}));
  CHECK(f.included(r) == strings{"t/1+1"});
  CHECK(r.responses.at(0).partitions.at(0).high_watermark == 1);

  // p1 not moved on by the consumer: read again (records are always sent).
  r = f.fetch(f.request(id, 3, {}));
  CHECK(f.included(r) == strings{"t/1+1"});
  r = f.fetch(f.request(id, 4, {{"t", 1, 1}}));
  CHECK(f.included(r).empty());

  // A partition added to the session is sent (its first response), one forgotten is not.
  r = f.fetch(f.request(id, 5, {{"u", 0, 0}}, {{"t", {2}}}));
  CHECK(f.included(r) == strings{"u/0"});
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 6, 3, false}});
  f.produce("t", 2, "c");
  r = f.fetch(f.request(id, 6, {}));
  CHECK(f.included(r).empty());

  // Forgetting partitions the session never had changes nothing.
  r = f.fetch(f.request(id, 7, {}, {{"t", {2, 7}}, {"nope", {0}}}));
  CHECK(r.error_code == 0);
  CHECK(f.included(r).empty());
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 8, 3, false}});
}

TEST_CASE("An incremental response sends partitions that returned records last next time") {
  session_fixture f(11);
  const std::int32_t id = f.open({{"t", 0, 0}, {"t", 1, 0}, {"t", 2, 0}});
  f.produce("t", 0, "a");
  auto r = f.fetch(f.request(id, 1, {}));
  CHECK(f.included(r) == strings{"t/0+1"});
  // p0 returned records: it moved behind p1 and p2 in the session.
  f.produce("t", 1, "b");
  r = f.fetch(f.request(id, 2, {{"t", 0, 1}}));
  CHECK(f.included(r) == strings{"t/1+1"});
  f.produce("t", 0, "c");
  r = f.fetch(f.request(id, 3, {{"t", 1, 1}}));
  CHECK(f.included(r) == strings{"t/0+1"});
  f.produce("t", 0, "d");
  f.produce("t", 1, "e");
  r = f.fetch(f.request(id, 4, {{"t", 0, 2}}));
  CHECK(f.included(r) == strings{"t/1+1", "t/0+1"});  // session order p2, p1, p0
}

TEST_CASE("An incremental request's leader epoch and max bytes stay in the session") {
  session_fixture f(11);
  const std::int32_t id = f.open({{"t", 0, 0}, {"u", 0, 0}, {"t", 1, 0}});
  REQUIRE(f.h.c.move_leader("t", 0, 2));
  REQUIRE(f.h.c.move_leader("t", 0, 1));
  const std::int32_t epoch = f.h.c.partition("t", 0)->leader_epoch;
  auto with = [&](std::int32_t session_epoch, std::int32_t leader_epoch, std::int32_t max_bytes) {
    fetch_request r = f.request(id, session_epoch, {{"t", 0, 0}});
    r.topics[0].partitions[0].current_leader_epoch = leader_epoch;
    r.topics[0].partitions[0].partition_max_bytes = max_bytes;
    return r;
  };
  const std::string fenced = "t/0!" + std::to_string(ec(kafka_error::fenced_leader_epoch));
  auto r = f.fetch(with(1, epoch - 1, 1 << 20));
  CHECK(f.included(r) == strings{fenced});
  r = f.fetch(f.request(id, 2, {}));  // the stale epoch is kept
  CHECK(f.included(r) == strings{fenced});
  r = f.fetch(with(3, epoch, 1 << 20));
  CHECK(f.included(r) == strings{"t/0"});  // sent again now that the error is gone
  r = f.fetch(f.request(id, 4, {}));
  CHECK(f.included(r).empty());

  // MaxBytes 1 for t/0 is kept: one batch at a time.
  f.produce("t", 0, "a");
  f.produce("t", 0, "b");
  r = f.fetch(with(5, epoch, 1));
  CHECK(f.included(r) == strings{"t/0+1"});
  r = f.fetch(f.request(id, 6, {}));
  CHECK(f.included(r) == strings{"t/0+1"});
  // t/0 moved behind t/1 (the session is u/0, t/1, t/0 now).
  f.produce("t", 1, "c");
  r = f.fetch(with(7, epoch, 1 << 20));
  CHECK(f.included(r) == strings{"t/1+1", "t/0+2"});
  CHECK(r.responses.size() == 1);
}

TEST_CASE("Partitions of a topic adjacent in an incremental response share one entry") {
  session_fixture f(11);
  const std::int32_t id = f.open({{"t", 0, 0}, {"u", 0, 0}, {"t", 1, 0}});
  f.produce("t", 0, "a");
  f.produce("t", 1, "b");
  auto r = f.fetch(f.request(id, 1, {}));
  CHECK(f.included(r) == strings{"t/0+1", "t/1+1"});
  CHECK(r.responses.size() == 1);  // u/0 left out between them, as Kafka groups
}

TEST_CASE("Incremental responses carry a changed log start offset and every error") {
  session_fixture f(11);
  REQUIRE(
      f.h.c.create_topic("r", {.partitions = 1, .retention_records = 1, .assignments = {{1, 2}}}) ==
      kafka_error::none);
  f.produce("r", 0, "a");
  const std::int32_t id = f.open({{"r", 0, 1}, {"t", 0, 0}});
  // Retention moves the log start to 1; the consumer is at 1 and reads "b".
  f.produce("r", 0, "b");
  auto r = f.fetch(f.request(id, 1, {}));
  REQUIRE(f.included(r) == strings{"r/0+1"});
  CHECK(r.responses[0].partitions[0].log_start_offset == 1);
  // The consumer is at 3: no records; the high watermark and log start moved.
  f.produce("r", 0, "c");
  r = f.fetch(f.request(id, 2, {{"r", 0, 3}}));
  REQUIRE(f.included(r) == strings{"r/0"});
  CHECK(r.responses[0].partitions[0].log_start_offset == 2);
  CHECK(r.responses[0].partitions[0].high_watermark == 3);
  r = f.fetch(f.request(id, 3, {}));
  CHECK(f.included(r).empty());

  // An error goes out every time, and the partition once more when it ends.
  REQUIRE(f.h.c.move_leader("t", 0, 2));
  const std::string nl = "!" + std::to_string(ec(kafka_error::not_leader_or_follower));
  r = f.fetch(f.request(id, 4, {}));
  CHECK(f.included(r) == strings{"t/0" + nl});
  r = f.fetch(f.request(id, 5, {}));
  CHECK(f.included(r) == strings{"t/0" + nl});
  REQUIRE(f.h.c.move_leader("t", 0, 1));
  r = f.fetch(f.request(id, 6, {}));
  CHECK(f.included(r) == strings{"t/0"});
  r = f.fetch(f.request(id, 7, {}));
  CHECK(f.included(r).empty());

  // Out of range is an error too.
  r = f.fetch(f.request(id, 8, {{"t", 0, 99}}));
  CHECK(f.included(r) == strings{"t/0!" + std::to_string(ec(kafka_error::offset_out_of_range))});
}

TEST_CASE("Fault rules naming a partition match incremental fetches of sessions that hold it") {
  session_fixture f(13);
  const std::int32_t id = f.open({{"t", 0, 0}, {"t", 1, 0}});
  fault_rule rule;
  rule.match.api_key = fetch_request::api_key;
  rule.match.topic = "t";
  rule.match.partition = 1;
  rule.action = fault_action::error(kafka_error::not_leader_or_follower);
  rule.count = 1;
  const rule_id fault = f.h.c.add_fault(rule);
  // The request lists nothing; its session holds t/1.
  auto r = f.fetch(f.request(id, 1, {}));
  CHECK(f.included(r) == strings{"t/1!" + std::to_string(ec(kafka_error::not_leader_or_follower))});
  CHECK(f.h.c.fired(fault) == 1);
  r = f.fetch(f.request(id, 2, {}));
  CHECK(f.included(r) == strings{"t/1"});  // sent again once the error is gone
}

TEST_CASE("Session errors answer at the top level and leave the session as it was") {
  session_fixture f(7);
  const std::int32_t id = f.open({{"t", 0, 0}, {"t", 1, 0}});
  const std::int32_t other = id == INT32_MAX ? 1 : id + 1;
  const auto before = std::vector<fetch_session_info>{{id, 1, 2, false}};

  struct bad {
    std::int32_t session_id;
    std::int32_t epoch;
    std::int16_t error;
  };
  for (const bad& b : {bad{other, 1, not_found}, bad{0, 1, not_found}, bad{0, 5, not_found},
                       bad{id, 2, bad_epoch}, bad{id, INT32_MAX, bad_epoch}, bad{id, -2, bad_epoch},
                       bad{id, INT32_MIN, bad_epoch}, bad{other, -7, not_found}}) {
    INFO("session " << b.session_id << " epoch " << b.epoch);
    // With partitions to add and to forget: none of it is applied.
    auto r = f.fetch(f.request(b.session_id, b.epoch, {{"u", 0, 0}}, {{"t", {0}}}));
    CHECK(r.error_code == b.error);
    CHECK(r.session_id == 0);
    CHECK(r.responses.empty());
    CHECK(f.sessions() == before);
  }

  auto r = f.fetch(f.request(id, 1, {}));
  CHECK(r.error_code == 0);
  CHECK(r.session_id == id);
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 2, 2, false}});
  // The same epoch again (a retried request) is now the wrong one.
  r = f.fetch(f.request(id, 1, {}));
  CHECK(r.error_code == bad_epoch);
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 2, 2, false}});
}

TEST_CASE("Epoch -1 closes a session and is answered without one; epoch 0 opens another") {
  session_fixture f(7);
  f.produce("t", 0, "a");
  const std::int32_t a = f.open({{"t", 0, 0}});

  auto r = f.fetch(f.request(a, -1, {{"t", 0, 0}, {"t", 1, 0}}));
  CHECK(r.error_code == 0);
  CHECK(r.session_id == 0);
  CHECK(f.included(r) == strings{"t/0+1", "t/1"});  // full
  CHECK(f.sessions().empty());
  CHECK(f.fetch(f.request(a, 1, {})).error_code == not_found);

  // No session, epoch -1: today's sessionless fetch. An unknown id with -1 or 0: no error.
  r = f.fetch(f.request(0, -1, {{"t", 0, 0}}));
  CHECK(r.session_id == 0);
  CHECK(f.included(r) == strings{"t/0+1"});
  CHECK(f.fetch(f.request(12345, -1, {{"t", 0, 0}})).error_code == 0);
  CHECK(f.sessions().empty());

  const std::int32_t b = f.open({{"t", 0, 0}});
  f.fetch(f.request(b, 1, {}));
  r = f.fetch(f.request(b, 0, {{"t", 1, 0}, {"t", 2, 0}}));
  const std::int32_t c = r.session_id;
  CHECK(c != 0);
  CHECK(c != b);
  CHECK(f.included(r) == strings{"t/1", "t/2"});
  CHECK(f.sessions() == std::vector<fetch_session_info>{{c, 1, 2, false}});
  CHECK(f.fetch(f.request(b, 2, {})).error_code == not_found);

  // Forgetting every partition closes the session: answered without one.
  r = f.fetch(f.request(c, 1, {}, {{"t", {1, 2}}}));
  CHECK(r.error_code == 0);
  CHECK(r.session_id == 0);
  CHECK(r.responses.empty());
  CHECK(f.sessions().empty());
}

TEST_CASE("Session ids are per broker and follow the seed") {
  cluster_config config;
  config.seed = 42;
  session_fixture f(11, config);
  REQUIRE(f.h.c.create_topic("b2", {.partitions = 1, .assignments = {{2, 1}}}) ==
          kafka_error::none);
  const std::int32_t id = f.open({{"t", 0, 0}});
  // On broker 2 the id is unknown.
  auto r = f.fetch(f.request(id, 1, {}), 2);
  CHECK(r.error_code == not_found);
  CHECK(f.sessions(2).empty());
  // Broker 2 has its own cache.
  r = f.fetch(f.request(0, 0, {{"b2", 0, 0}}), 2);
  const std::int32_t id2 = r.session_id;
  CHECK(id2 > 0);
  CHECK(f.sessions(2) == std::vector<fetch_session_info>{{id2, 1, 1, false}});
  CHECK(f.sessions(1).size() == 1);
  CHECK(f.h.c.fetch_sessions(99).empty());

  // The same seed gives the same ids.
  session_fixture g(11, config);
  CHECK(g.open({{"t", 0, 0}}) == id);
}

TEST_CASE("Fetch v13+: sessions name partitions by topic id") {
  session_fixture f(13);
  f.produce("t", 0, "a");
  const std::int32_t id = f.open({{"t", 0, 0}, {"u", 0, 0}});
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 1, 2, true}});
  auto r = f.fetch(f.request(id, 1, {{"t", 0, 1}}));
  CHECK(r.error_code == 0);
  CHECK(f.included(r).empty());
  f.produce("u", 0, "b");
  r = f.fetch(f.request(id, 2, {}));
  CHECK(f.included(r) == strings{"u/0+1"});
  CHECK(r.responses.at(0).topic_id == f.id_of("u"));
  CHECK(r.responses.at(0).topic.empty());

  // A v12 request (topic names) on a v13 session, and the reverse.
  f.version = 12;
  r = f.fetch(f.request(id, 3, {}));
  CHECK(r.error_code == ec(kafka_error::fetch_session_topic_id_error));
  CHECK(r.session_id == 0);
  CHECK(r.responses.empty());
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 3, 2, true}});
  const std::int32_t named = f.open({{"t", 0, 0}});
  f.version = 13;
  CHECK(f.fetch(f.request(named, 1, {})).error_code ==
        ec(kafka_error::fetch_session_topic_id_error));

  // Forgotten by topic id.
  r = f.fetch(f.request(id, 3, {}, {{"u", {0}}}));
  CHECK(r.error_code == 0);
  CHECK(f.session(id).partitions == 1);

  // An unknown topic id joins the session and answers UNKNOWN_TOPIC_ID every time.
  fetch_request add = f.request(id, 4, {});
  fetch_request::fetch_topic ghost;
  ghost.topic_id = uuid{1, 2, 3};
  ghost.partitions.push_back({});
  ghost.partitions[0].partition = 0;
  add.topics.push_back(ghost);
  const std::string unknown = "?/0!" + std::to_string(ec(kafka_error::unknown_topic_id));
  r = f.fetch(add);
  CHECK(f.included(r) == strings{unknown});
  r = f.fetch(f.request(id, 5, {}));
  CHECK(f.included(r) == strings{unknown});

  // A topic deleted and created again has a new id: the old one is unknown
  // until the consumer forgets it and adds the new one.
  fetch_request forget = f.request(id, 6, {});
  forget.forgotten_topics_data.push_back({{}, ghost.topic_id, {0}, {}});
  CHECK(f.included(f.fetch(forget)).empty());
  const uuid old_t = f.id_of("t");
  REQUIRE(f.h.c.delete_topic("t") == kafka_error::none);
  REQUIRE(f.h.c.create_topic("t", {.partitions = 1, .assignments = {{1, 2}}}) == kafka_error::none);
  r = f.fetch(f.request(id, 7, {}));
  REQUIRE(r.responses.size() == 1);
  CHECK(r.responses[0].topic_id == old_t);
  CHECK(r.responses[0].partitions.at(0).error_code == ec(kafka_error::unknown_topic_id));
  fetch_request swap = f.request(id, 8, {{"t", 0, 0}});
  swap.forgotten_topics_data.push_back({{}, old_t, {0}, {}});
  r = f.fetch(swap);
  CHECK(f.included(r) == strings{"t/0"});
  r = f.fetch(f.request(id, 9, {}));
  CHECK(f.included(r).empty());
}

TEST_CASE("A full cache serves a full fetch without a session; eviction as Kafka's") {
  cluster_config config;
  config.fetch_session_cache_slots = 2;
  session_fixture f(11, config);
  const time_point t0 = f.h.now;
  const std::int32_t s1 = f.open({{"t", 0, 0}});
  f.h.now += 1s;
  const std::int32_t s2 = f.open({{"t", 0, 0}, {"t", 1, 0}});

  // Both young: nothing can be evicted, not even for a bigger session.
  auto r = f.fetch(f.request(0, 0, {{"t", 0, 0}, {"t", 1, 0}, {"t", 2, 0}}));
  CHECK(r.error_code == 0);
  CHECK(r.session_id == 0);
  CHECK(f.included(r) == strings{"t/0", "t/1", "t/2"});
  CHECK(f.sessions().size() == 2);

  // s1 unused for longer than the eviction time: stale, evicted first.
  f.h.now = t0 + 120s;
  CHECK(f.fetch(f.request(s2, 1, {})).error_code == 0);  // s2 in use
  f.h.now = t0 + 120s + 1ms;
  const std::int32_t s3 = f.open({{"u", 0, 0}});
  CHECK(f.fetch(f.request(s1, 1, {})).error_code == not_found);
  CHECK(f.session(s2).partitions == 2);
  CHECK(f.session(s3).partitions == 1);

  // s2 used more than the eviction time after its creation: a session with
  // more partitions may evict it, one with as many may not. s3 is young:
  // never evictable for a consumer's session.
  f.h.now = t0 + 121s + 1ms;
  CHECK(f.fetch(f.request(s2, 2, {})).error_code == 0);
  r = f.fetch(f.request(0, 0, {{"t", 0, 0}, {"t", 1, 0}}));
  CHECK(r.session_id == 0);
  r = f.fetch(f.request(0, 0, {{"t", 0, 0}, {"t", 1, 0}, {"t", 2, 0}}));
  const std::int32_t s4 = r.session_id;
  CHECK(s4 != 0);
  CHECK(f.fetch(f.request(s2, 3, {})).error_code == not_found);
  CHECK(f.fetch(f.request(s3, 1, {})).error_code == 0);
  CHECK(f.fetch(f.request(s4, 1, {})).error_code == 0);
}

TEST_CASE("A follower's session evicts a young consumer session; a cache of 0 opens none") {
  cluster_config config;
  config.fetch_session_cache_slots = 1;
  session_fixture f(11, config);
  const std::int32_t consumer = f.open({{"t", 0, 0}, {"t", 1, 0}});
  f.h.now += 1s;
  fetch_request follower = f.request(0, 0, {{"t", 0, 0}});
  follower.replica_id = 2;
  auto r = f.fetch(follower);
  CHECK(r.session_id != 0);
  CHECK(f.fetch(f.request(consumer, 1, {})).error_code == not_found);
  // The follower's session is not evicted for a consumer's.
  CHECK(f.fetch(f.request(0, 0, {{"t", 0, 0}, {"t", 1, 0}, {"t", 2, 0}})).session_id == 0);
  CHECK(f.sessions().size() == 1);

  cluster_config none;
  none.fetch_session_cache_slots = 0;
  session_fixture g(11, none);
  r = g.fetch(g.request(0, 0, {{"t", 0, 0}}));
  CHECK(r.error_code == 0);
  CHECK(r.session_id == 0);
  CHECK(g.included(r) == strings{"t/0"});
  CHECK(g.sessions().empty());
}

TEST_CASE("A parked incremental fetch is woken by a produce to a partition of its session") {
  session_fixture f(11);
  const std::int32_t id = f.open({{"t", 0, 0}, {"t", 1, 0}});
  auto parked = f.h.send(1, f.request(id, 1, {}, {}, 500), f.version, 7);
  REQUIRE(parked.parked != 0);
  const std::int32_t correlation = f.h.correlation;
  // The request changed the session when it arrived.
  CHECK(f.sessions() == std::vector<fetch_session_info>{{id, 2, 2, false}});
  // A partition outside the session does not wake it.
  f.h.now += 10ms;
  f.produce("t", 2, "elsewhere");
  CHECK(f.h.c.poll(f.h.now).empty());
  f.h.now += 10ms;
  f.produce("t", 1, "b");
  auto r = f.answer(correlation);
  CHECK(r.error_code == 0);
  CHECK(r.session_id == id);
  CHECK(f.included(r) == strings{"t/1+1"});
  r = f.fetch(f.request(id, 2, {{"t", 1, 1}}));
  CHECK(f.included(r).empty());
}

TEST_CASE("A parked incremental fetch updates its session once, when it is answered") {
  session_fixture f(11);
  const std::int32_t id = f.open({{"t", 0, 0}, {"t", 1, 0}});
  // MaxBytes 1: the first batch goes, the other partition only reports its
  // high watermark. MinBytes far above: it waits until MaxWaitMs.
  fetch_request wait = f.request(id, 1, {}, {}, 300, 1 << 20);
  wait.max_bytes = 1;
  REQUIRE(f.h.send(1, wait, f.version).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  f.h.now += 100ms;
  f.produce("t", 0, "a");  // re-evaluated: still waiting
  f.produce("t", 1, "b");  // re-evaluated: still waiting
  CHECK(f.h.c.poll(f.h.now).empty());
  f.h.now += 200ms;
  auto r = f.answer(correlation);
  // p1 goes for its high watermark alone: the re-evaluations did not record it as sent.
  CHECK(f.included(r) == strings{"t/0+1", "t/1"});
  CHECK(r.responses.at(0).partitions.at(1).high_watermark == 1);
  // p0 returned records, so p1 comes first now and gets the one batch.
  fetch_request next = f.request(id, 2, {{"t", 0, 1}});
  next.max_bytes = 1;
  r = f.fetch(next);
  CHECK(f.included(r) == strings{"t/1+1"});
}

TEST_CASE(
    "A parked incremental fetch overtaken by the next epoch answers INVALID_FETCH_SESSION_EPOCH") {
  session_fixture f(11);
  const std::int32_t id = f.open({{"t", 0, 0}});
  REQUIRE(f.h.send(1, f.request(id, 1, {}, {}, 500), f.version, 7).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  // A duplicate on another connection with the next epoch.
  auto r = f.fetch(f.request(id, 2, {}), 1, 8);
  CHECK(r.error_code == 0);
  CHECK(r.session_id == id);
  f.h.now += 500ms;
  r = f.answer(correlation);
  CHECK(r.error_code == bad_epoch);
  CHECK(r.session_id == id);
  CHECK(r.responses.empty());
}

TEST_CASE("A parked full fetch opens its session when it is answered") {
  session_fixture f(11);
  REQUIRE(f.h.send(1, f.request(0, 0, {{"t", 0, 0}}, {}, 500), f.version).parked != 0);
  const std::int32_t correlation = f.h.correlation;
  CHECK(f.sessions().empty());
  f.h.now += 5ms;
  f.produce("t", 0, "a");
  auto r = f.answer(correlation);
  CHECK(r.session_id != 0);
  CHECK(f.included(r) == strings{"t/0+1"});
  CHECK(f.sessions() == std::vector<fetch_session_info>{{r.session_id, 1, 1, false}});
  // A parked fetch whose connection goes away opens nothing.
  REQUIRE(f.h.send(1, f.request(0, 0, {{"t", 0, 1}}, {}, 500), f.version, 9).parked != 0);
  f.h.c.connection_closed(1, 9);
  f.produce("t", 0, "b");
  CHECK(f.h.c.poll(f.h.now).empty());
  CHECK(f.sessions().size() == 1);
}

TEST_CASE("Fetch v6 and below know no sessions") {
  session_fixture f(6);
  auto r = f.fetch(f.request(0, 0, {{"t", 0, 0}}));
  CHECK(r.session_id == 0);
  CHECK(f.sessions().empty());
}

TEST_CASE("The session epoch wraps from INT32_MAX to 1") {
  using namespace kwire::mockbroker::detail;
  static_assert(next_fetch_epoch(0) == 1);
  static_assert(next_fetch_epoch(1) == 2);
  static_assert(next_fetch_epoch(INT32_MAX) == 1);
  static_assert(next_fetch_epoch(-1) == -1);

  fetch_session_cache cache(10, 120s, 1);
  session_partition p;
  p.key = {{}, "t", 0};
  auto session = cache.try_create(time_point{}, false, false, {p});
  REQUIRE(session);
  CHECK(session->epoch == 1);
  session->epoch = INT32_MAX;
  fetch_request req;
  req.session_id = session->id;
  req.session_epoch = INT32_MAX;
  auto context = open_fetch_context(cache, req, 11, time_point{});
  CHECK(context.kind == fetch_context_kind::incremental);
  CHECK(session->epoch == 1);
  req.session_epoch = 1;
  CHECK(open_fetch_context(cache, req, 11, time_point{}).kind == fetch_context_kind::incremental);
  CHECK(session->epoch == 2);
}

TEST_CASE(
    "Random session traffic: every answer decodes, errors are Kafka's, the cache stays bounded") {
  cluster_config config;
  config.fetch_session_cache_slots = 3;
  config.fetch_session_eviction = 2s;
  session_fixture f(7, config);
  std::mt19937 random(7);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(random() % n); };
  std::map<std::uint64_t, std::pair<std::int16_t, std::int32_t>> parked;  // ticket -> version, corr
  const std::vector<std::pair<std::string, std::int32_t>> all = {
      {"t", 0}, {"t", 1}, {"t", 2}, {"u", 0}, {"nope", 0}};
  std::map<std::int16_t, int> errors;
  int with_session = 0, answered_later = 0;
  auto check = [&](const fetch_response& r) {
    ++errors[r.error_code];
    if (r.session_id != 0) ++with_session;
    CHECK((r.error_code == 0 || r.error_code == not_found || r.error_code == bad_epoch ||
           r.error_code == ec(kafka_error::fetch_session_topic_id_error)));
    if (r.error_code != 0) CHECK(r.responses.empty());
  };
  for (int step = 0; step < 3000; ++step) {
    f.h.now += std::chrono::milliseconds(pick(200));
    for (auto& a : f.h.c.poll(f.h.now)) {
      auto it = parked.find(a.ticket);
      REQUIRE(it != parked.end());
      REQUIRE(a.response);
      check(harness::decode<fetch_response>(*a.response, fetch_request::api_key, it->second.first,
                                            it->second.second));
      parked.erase(it);
      ++answered_later;
    }
    if (pick(4) == 0) {
      const auto& [topic, partition] = all[pick(4)];
      f.produce(topic, partition, "v" + std::to_string(step));
      continue;
    }
    const std::int32_t broker = pick(5) == 0 ? 2 : 1;
    f.version = static_cast<std::int16_t>(7 + pick(11));
    auto known = f.sessions(broker);
    std::int32_t id = 0, epoch = -1;
    switch (pick(6)) {
      case 0:
        epoch = 0;
        break;
      case 1:
        break;
      case 2:
        id = static_cast<std::int32_t>(random());
        epoch = static_cast<std::int32_t>(random());
        break;
      default:
        if (!known.empty()) {
          const auto& s = known[pick(static_cast<std::uint32_t>(known.size()))];
          id = s.id;
          const std::int32_t epochs[] = {s.epoch, s.epoch, s.epoch, 0, -1, s.epoch + 1};
          epoch = epochs[pick(6)];
        }
    }
    std::vector<part> parts;
    for (const auto& [topic, partition] : all)
      if (topic != "nope" && pick(3) == 0)
        parts.push_back({topic, partition, static_cast<std::int64_t>(pick(3))});
    std::vector<std::pair<std::string, std::vector<std::int32_t>>> forgotten;
    if (pick(4) == 0) forgotten.push_back({"t", {static_cast<std::int32_t>(pick(4))}});
    const bool wait = pick(4) == 0;
    fetch_request req = f.request(id, epoch, parts, forgotten, wait ? 300 : 0, wait ? 1 << 20 : 1);
    if (pick(8) == 0) {
      fetch_request::fetch_topic ghost;
      ghost.topic = "ghost";
      ghost.topic_id = uuid{9};
      ghost.partitions.push_back({});
      req.topics.push_back(ghost);
    }
    auto result = f.h.send(broker, req, f.version, pick(3) + 1);
    REQUIRE_FALSE(result.closes());
    if (result.parked != 0) {
      parked[result.parked] = {f.version, f.h.correlation};
    } else {
      REQUIRE(result.response);
      check(harness::decode<fetch_response>(*result.response, fetch_request::api_key, f.version,
                                            f.h.correlation));
    }
    CHECK(f.sessions(1).size() <= 3);
    CHECK(f.sessions(2).size() <= 3);
  }
  // The run went through every path.
  INFO("with session " << with_session << ", answered later " << answered_later);
  std::string counts;
  for (auto [code, n] : errors)
    counts += " error " + std::to_string(code) + ": " + std::to_string(n);
  INFO(counts);
  CHECK(errors.size() == 4);
  CHECK(with_session > 300);
  CHECK(answered_later > 100);
}

TEST_CASE("A broker that goes down forgets its fetch sessions, as a restarted broker") {
  session_fixture f(7);
  const std::int32_t id = f.open({{"t", 0, 0}});
  REQUIRE(f.sessions().size() == 1);
  REQUIRE(f.h.c.broker_down(1));
  REQUIRE(f.h.c.broker_up(1));
  CHECK(f.sessions().empty());
  auto r = f.fetch(f.request(id, 1, {}));
  CHECK(r.error_code == ec(kafka_error::fetch_session_id_not_found));
  // A new session gets a new id.
  REQUIRE(f.h.c.move_leader("t", 0, 1));
  CHECK(f.open({{"t", 0, 0}}) != id);
}
