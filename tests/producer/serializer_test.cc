// Serializers (the bytes of Java's serializers), typed_producer, and
// interceptors, with kwire::producer against the mock cluster over TCP.
#include "kwire/producer/serializer.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/tcp_server.hpp"
#include "kwire/producer/interceptor.hpp"

using namespace kwire;

namespace {

template <class T>
std::vector<std::uint8_t> bytes_from(const T& v) {
  std::vector<std::uint8_t> out;
  serializer<T>{}("t", v, out);
  return out;
}

using bytes = std::vector<std::uint8_t>;

}  // namespace

TEST_CASE("serializers: the bytes Java's serializers write") {
  // Java: ByteBuffer.allocate(n).putX(v).array(), big-endian.
  CHECK(bytes_from<std::int32_t>(0x01020304) == bytes{1, 2, 3, 4});
  CHECK(bytes_from<std::int32_t>(-2) == bytes{0xff, 0xff, 0xff, 0xfe});
  CHECK(bytes_from<std::int16_t>(static_cast<std::int16_t>(-32768)) == bytes{0x80, 0x00});
  CHECK(bytes_from<std::int64_t>(std::numeric_limits<std::int64_t>::max()) ==
        bytes{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  CHECK(bytes_from<std::int64_t>(1) == bytes{0, 0, 0, 0, 0, 0, 0, 1});
  CHECK(bytes_from<double>(1.0) == bytes{0x3f, 0xf0, 0, 0, 0, 0, 0, 0});
  CHECK(bytes_from<double>(-2.5) == bytes{0xc0, 0x04, 0, 0, 0, 0, 0, 0});
  CHECK(bytes_from<float>(1.0f) == bytes{0x3f, 0x80, 0, 0});
  CHECK(bytes_from<std::string>("héllo") == bytes{'h', 0xc3, 0xa9, 'l', 'l', 'o'});
  CHECK(bytes_from<std::string>("").empty());
  CHECK(bytes_from<std::vector<std::uint8_t>>({0, 255, 7}) == bytes{0, 255, 7});
}

namespace {

constexpr const char* topic = "typed";

// Adds a header to every record and counts what it sees.
class tagging_interceptor final : public producer_interceptor {
 public:
  void on_send(producer_record& record) override {
    ++sent;
    thread_local std::vector<record_header> headers;
    headers.assign(record.headers.begin(), record.headers.end());
    headers.push_back({"traced-by", bytes_of("kwire-test")});
    record.headers = headers;
  }
  void on_acknowledgement(const record_metadata& md, std::error_code ec) override {
    if (ec) {
      ++failed;
      return;
    }
    std::lock_guard lock(mutex);
    acknowledged_offsets.push_back(md.offset);
  }
  std::atomic<int> sent{0};
  std::atomic<int> failed{0};
  std::mutex mutex;
  std::vector<std::int64_t> acknowledged_offsets;
};

// Throws from both hooks: the records must go on regardless.
class throwing_interceptor final : public producer_interceptor {
 public:
  void on_send(producer_record&) override { throw std::runtime_error("on_send"); }
  void on_acknowledgement(const record_metadata&, std::error_code) override {
    throw std::runtime_error("on_ack");
  }
};

}  // namespace

TEST_CASE(
    "typed_producer and interceptors: typed keys and values arrive as their bytes, with the "
    "interceptor's header") {
  mockbroker::cluster c(mockbroker::cluster_config{});
  mockbroker::topic_config t;
  t.partitions = 1;
  REQUIRE(c.create_topic(topic, t) == kafka_error::none);
  mockbroker::tcp_server server(c);
  server.start();

  auto tagger = std::make_shared<tagging_interceptor>();
  auto config = parse_producer_config(
      {{"bootstrap.servers", server.bootstrap_servers()}, {"linger.ms", "1"}});
  REQUIRE_FALSE(config.error);
  config.config.interceptors = {std::make_shared<throwing_interceptor>(), tagger};
  constexpr int count = 200;
  {
    producer p(config.config);
    typed_producer<std::optional<std::string>, std::int64_t> typed(p);
    std::vector<std::future<record_metadata>> futures;
    int callback_saw_interceptor = 0;
    for (int i = 0; i < count; ++i) {
      std::optional<std::string> key;
      if (i % 2 == 0) key = "card-" + std::to_string(i);
      if (i % 10 == 0) {
        // The interceptor's on_acknowledgement runs before the callback.
        typed.send(
            topic, key, std::int64_t{i} * 100, [&, i](const record_metadata&, std::error_code ec) {
              CHECK_FALSE(ec);
              std::lock_guard lock(tagger->mutex);
              if (!tagger->acknowledged_offsets.empty() && tagger->acknowledged_offsets.back() == i)
                ++callback_saw_interceptor;
            });
      } else {
        futures.push_back(typed.send(topic, key, std::int64_t{i} * 100));
      }
    }
    for (auto& f : futures) CHECK(f.get().offset >= 0);
    p.flush();
    CHECK(callback_saw_interceptor == count / 10);
  }
  CHECK(tagger->sent == count);
  CHECK(tagger->failed == 0);
  CHECK(tagger->acknowledged_offsets.size() == static_cast<std::size_t>(count));

  const auto records = server.call([](mockbroker::cluster& cl) { return cl.read(topic, 0); });
  REQUIRE(records.size() == static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto& r = records[static_cast<std::size_t>(i)];
    if (i % 2 == 0) {
      CHECK(r.key_string() == "card-" + std::to_string(i));
    } else {
      CHECK_FALSE(r.key.has_value());
    }
    REQUIRE(r.value.has_value());
    std::vector<std::uint8_t> expected;
    serializer<std::int64_t>{}(topic, std::int64_t{i} * 100, expected);
    CHECK(*r.value == expected);
    REQUIRE(r.headers.size() == 1);
    CHECK(r.headers[0].first == "traced-by");
    REQUIRE(r.headers[0].second.has_value());
    CHECK(std::string(r.headers[0].second->begin(), r.headers[0].second->end()) == "kwire-test");
  }
  server.stop();
}

TEST_CASE("config: Java's class-name keys are refused with what to use instead") {
  for (const char* key : {"interceptor.classes", "key.serializer", "value.serializer"}) {
    auto parsed = parse_producer_config(
        {{"bootstrap.servers", "127.0.0.1:9092"}, {key, "com.example.Thing"}});
    REQUIRE(parsed.error);
    CHECK(parsed.error->key == key);
    CHECK_THAT(parsed.error->message(), Catch::Contains("typed_producer"));
  }
}
