#include "kwire/producer/partitioner.hpp"

#include <catch2/catch.hpp>
#include <set>

using namespace kwire;

TEST_CASE("partitioner: murmur2 matches the Java client's published vectors") {
  // From Apache Kafka's clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java
  // (testMurmur2).
  CHECK(murmur2(bytes_of("21")) == -973932308);
  CHECK(murmur2(bytes_of("foobar")) == -790332482);
  CHECK(murmur2(bytes_of("a-little-bit-long-string")) == -985981536);
  CHECK(murmur2(bytes_of("a-little-bit-longer-string")) == -1486304829);
  CHECK(murmur2(bytes_of("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8")) == -58897971);
  CHECK(murmur2(bytes_of("abc")) == 479470107);
}

TEST_CASE("partitioner: murmur2 matches librdkafka's murmur2_random vectors") {
  // From librdkafka's src/rdmurmur2.c (unittest_murmur2), which checks its
  // murmur2 against the Java client's; every length modulo 4 and the empty key.
  auto h = [](const char* s) { return static_cast<std::uint32_t>(murmur2(bytes_of(s))); };
  CHECK(h("kafka") == 0xd067cf64u);
  CHECK(h("giberish123456789") == 0x8f552b0cu);
  CHECK(h("1234") == 0x9fc97b14u);
  CHECK(h("234") == 0xe7c009cau);
  CHECK(h("34") == 0x873930dau);
  CHECK(h("4") == 0x5a4b5ca1u);
  CHECK(h("PreAmbleWillBeRemoved,ThePrePartThatIs") == 0x78424f1cu);
  CHECK(h("reAmbleWillBeRemoved,ThePrePartThatIs") == 0x4a62b377u);
  CHECK(h("eAmbleWillBeRemoved,ThePrePartThatIs") == 0xe0e4e09eu);
  CHECK(h("AmbleWillBeRemoved,ThePrePartThatIs") == 0x62b8b43fu);
  CHECK(h("") == 0x106e08d9u);
}

TEST_CASE("partitioner: keyed records use toPositive(murmur2) % n, not abs()") {
  // murmur2("21") is negative: toPositive clears the sign bit.
  const std::int32_t positive = -973932308 & 0x7fffffff;
  CHECK(murmur2_partition(bytes_of("21"), 7) == positive % 7);
  CHECK(murmur2_partition(bytes_of("21"), 7) != (973932308 % 7));
  sticky_partitioner p(1);
  for (int n : {1, 3, 12, 100})
    CHECK(p.partition("t", bytes_of("foobar"), n) == murmur2_partition(bytes_of("foobar"), n));
}

TEST_CASE("partitioner: uniform sticky for null keys moves when its batch completes") {
  sticky_partitioner p(42);
  const std::int32_t first = p.partition("t", std::nullopt, 6);
  for (int i = 0; i < 100; ++i) CHECK(p.partition("t", std::nullopt, 6) == first);
  p.on_batch_complete("t", (first + 1) % 6, 6);  // another partition: no change
  CHECK(p.partition("t", std::nullopt, 6) == first);
  p.on_batch_complete("t", first, 6);
  const std::int32_t second = p.partition("t", std::nullopt, 6);
  CHECK(second != first);
  CHECK(second >= 0);
  CHECK(second < 6);
  // Topics stick independently, and one partition is always 0.
  CHECK(p.partition("single", std::nullopt, 1) == 0);
  p.on_batch_complete("single", 0, 1);
  CHECK(p.partition("single", std::nullopt, 1) == 0);
  // Every partition gets chosen eventually.
  std::set<std::int32_t> seen;
  for (int i = 0; i < 200; ++i) {
    const auto q = p.partition("t", std::nullopt, 6);
    seen.insert(q);
    p.on_batch_complete("t", q, 6);
  }
  CHECK(seen.size() == 6);
}

TEST_CASE("partitioner: round robin ignores keys and cycles per topic") {
  round_robin_partitioner p;
  std::vector<std::int32_t> got;
  for (int i = 0; i < 7; ++i) got.push_back(p.partition("a", bytes_of("same-key"), 3));
  CHECK(got == std::vector<std::int32_t>{0, 1, 2, 0, 1, 2, 0});
  CHECK(p.partition("b", std::nullopt, 3) == 0);
  CHECK(p.partition("a", std::nullopt, 3) == 1);
}
