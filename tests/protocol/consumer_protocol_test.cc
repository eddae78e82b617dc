// The consumer protocol's data types, ConsumerProtocolSubscription and
// ConsumerProtocolAssignment: the bytes of JoinGroup's protocol metadata and
// SyncGroup's assignments when the protocol type is "consumer". Round trips
// at every version, golden bytes built by hand, Kafka's forward compatibility
// (a newer version is read as the newest known, extra bytes ignored),
// truncated input, null UserData, and the metadata and assignments that
// real clients (librdkafka, kafka-python) sent in tests/data/golden.
#include "kwire/protocol/messages/consumer_protocol_subscription.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "kwire/protocol/api.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages/consumer_protocol_assignment.hpp"
#include "kwire/protocol/messages/join_group.hpp"
#include "kwire/protocol/messages/sync_group.hpp"
#include "random_fill.hpp"

namespace fs = std::filesystem;

namespace {

using bytes = std::vector<std::uint8_t>;
using kwire::consumer_protocol_assignment;
using kwire::consumer_protocol_subscription;

// Byte-building helpers for the golden vectors: big-endian, as on the wire.
void put16(bytes& b, int v) {
  b.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}
void put32(bytes& b, std::int64_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    b.push_back(static_cast<std::uint8_t>((v >> shift) & 0xff));
  }
}
// A classic (non-flexible) string: int16 length, then the bytes.
void put_string(bytes& b, std::string_view s) {
  put16(b, static_cast<int>(s.size()));
  b.insert(b.end(), s.begin(), s.end());
}

// The golden vectors, written field by field from the layout in
// protocol/schema/consumer_protocol_*.kws (Kafka's ConsumerProtocol*.json):
// int16 version; arrays as an int32 count then the elements; strings as an
// int16 length then the bytes; nullable bytes as an int32 length (-1 for
// null) then the bytes; int32 big-endian. The literal bytes are spelled out
// in the comments so that the helpers above are checked too.

// Subscription v0: Topics ["foo"], UserData null.
// 00 00 | 00 00 00 01 | 00 03 66 6f 6f | ff ff ff ff  (15 bytes)
const bytes subscription_v0_bytes = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
                                     0x66, 0x6f, 0x6f, 0xff, 0xff, 0xff, 0xff};

consumer_protocol_subscription subscription_v0() {
  consumer_protocol_subscription s;
  s.topics = {"foo"};
  return s;  // user_data is null by default
}

// Subscription v3: Topics ["foo"], UserData {01 02}, OwnedPartitions
// [{Topic "foo", Partitions [0, 2]}], GenerationId 5, RackId "r1".
// 00 03 | 00 00 00 01 | 00 03 'foo' | 00 00 00 02 01 02
// | 00 00 00 01 | 00 03 'foo' | 00 00 00 02 | 00 00 00 00 | 00 00 00 02
// | 00 00 00 05 | 00 02 'r1'  (46 bytes)
bytes subscription_v3_bytes() {
  bytes b;
  put16(b, 3);
  put32(b, 1);
  put_string(b, "foo");
  put32(b, 2);
  b.push_back(0x01);
  b.push_back(0x02);
  put32(b, 1);
  put_string(b, "foo");
  put32(b, 2);
  put32(b, 0);
  put32(b, 2);
  put32(b, 5);
  put_string(b, "r1");
  return b;
}

consumer_protocol_subscription subscription_v3() {
  consumer_protocol_subscription s;
  s.topics = {"foo"};
  s.user_data = bytes{0x01, 0x02};
  s.owned_partitions.push_back({"foo", {0, 2}, {}});
  s.generation_id = 5;
  s.rack_id = "r1";
  return s;
}

// Assignment v0: AssignedPartitions [{Topic "foo", Partitions [1]}], UserData null.
// 00 00 | 00 00 00 01 | 00 03 'foo' | 00 00 00 01 | 00 00 00 01 | ff ff ff ff  (23 bytes)
const bytes assignment_v0_bytes = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
                                   0x66, 0x6f, 0x6f, 0x00, 0x00, 0x00, 0x01, 0x00,
                                   0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff};

consumer_protocol_assignment assignment_v0() {
  consumer_protocol_assignment a;
  a.assigned_partitions.push_back({"foo", {1}, {}});
  return a;
}

// Assignment v3: AssignedPartitions [{"foo", [0, 1]}, {"bar", []}], UserData {ab}.
// 00 03 | 00 00 00 02 | 00 03 'foo' | 00 00 00 02 | 00 00 00 00 | 00 00 00 01
// | 00 03 'bar' | 00 00 00 00 | 00 00 00 01 ab  (37 bytes)
bytes assignment_v3_bytes() {
  bytes b;
  put16(b, 3);
  put32(b, 2);
  put_string(b, "foo");
  put32(b, 2);
  put32(b, 0);
  put32(b, 1);
  put_string(b, "bar");
  put32(b, 0);
  put32(b, 1);
  b.push_back(0xab);
  return b;
}

consumer_protocol_assignment assignment_v3() {
  consumer_protocol_assignment a;
  a.assigned_partitions.push_back({"foo", {0, 1}, {}});
  a.assigned_partitions.push_back({"bar", {}, {}});
  a.user_data = bytes{0xab};
  return a;
}

// Encodes, checks the size and the version prefix, decodes, compares.
template <class T, class Encode, class Decode>
void check_round_trip(const T& value, std::int16_t version, Encode encode, Decode decode) {
  INFO(T::name << " v" << version << ": " << value);
  auto encoded = encode(value, version);
  if (!encoded) FAIL(encoded.error().message());
  REQUIRE(encoded->size() == 2 + value.encoded_size(version));
  CHECK((*encoded)[0] == 0);
  CHECK((*encoded)[1] == version);
  auto decoded = decode(*encoded);
  if (!decoded) FAIL(decoded.error().message());
  CHECK(*decoded == value);
  auto again = encode(*decoded, version);
  REQUIRE(again.ok());
  CHECK(*again == *encoded);
}

}  // namespace

TEST_CASE("consumer protocol data types are not APIs", "[consumer_protocol]") {
  CHECK(kwire::all_apis().size() == 88);
  for (const auto& api : kwire::all_apis()) {
    CHECK(api.request != &consumer_protocol_subscription::ops());
    CHECK(api.response != &consumer_protocol_assignment::ops());
  }
  CHECK(kwire::find_api("ConsumerProtocolSubscription") == nullptr);
  CHECK(consumer_protocol_subscription::ops().api_key == -1);
  CHECK(consumer_protocol_subscription::min_version == 0);
  CHECK(consumer_protocol_subscription::max_version == 3);
  CHECK(consumer_protocol_subscription::first_flexible_version == -1);
  CHECK(consumer_protocol_assignment::max_version == 3);
  CHECK(consumer_protocol_assignment::first_flexible_version == -1);
}

TEST_CASE("golden bytes built by hand, v0 and v3", "[consumer_protocol]") {
  SECTION("subscription v0") {
    auto encoded = kwire::encode_consumer_protocol_subscription(subscription_v0(), 0);
    REQUIRE(encoded.ok());
    CHECK(*encoded == subscription_v0_bytes);
    auto decoded = kwire::decode_consumer_protocol_subscription(subscription_v0_bytes);
    if (!decoded) FAIL(decoded.error().message());
    CHECK(*decoded == subscription_v0());
    CHECK_FALSE(decoded->user_data.has_value());
    CHECK(decoded->generation_id == -1);  // absent from v0: its default
  }
  SECTION("subscription v3") {
    const bytes golden = subscription_v3_bytes();
    REQUIRE(golden.size() == 46);
    CHECK(golden[2] == 0x00);  // the helpers agree with the comment's first bytes
    CHECK(golden[5] == 0x01);
    CHECK(golden[7] == 0x03);
    CHECK(golden[8] == 'f');
    auto encoded = kwire::encode_consumer_protocol_subscription(subscription_v3(), 3);
    REQUIRE(encoded.ok());
    CHECK(*encoded == golden);
    auto decoded = kwire::decode_consumer_protocol_subscription(golden);
    if (!decoded) FAIL(decoded.error().message());
    CHECK(*decoded == subscription_v3());
  }
  SECTION("assignment v0") {
    auto encoded = kwire::encode_consumer_protocol_assignment(assignment_v0(), 0);
    REQUIRE(encoded.ok());
    CHECK(*encoded == assignment_v0_bytes);
    auto decoded = kwire::decode_consumer_protocol_assignment(assignment_v0_bytes);
    if (!decoded) FAIL(decoded.error().message());
    CHECK(*decoded == assignment_v0());
  }
  SECTION("assignment v3") {
    const bytes golden = assignment_v3_bytes();
    REQUIRE(golden.size() == 37);
    auto encoded = kwire::encode_consumer_protocol_assignment(assignment_v3(), 3);
    REQUIRE(encoded.ok());
    CHECK(*encoded == golden);
    auto decoded = kwire::decode_consumer_protocol_assignment(golden);
    if (!decoded) FAIL(decoded.error().message());
    CHECK(*decoded == assignment_v3());
  }
}

TEST_CASE("round trips at every version", "[consumer_protocol]") {
  auto enc_s = [](const consumer_protocol_subscription& s, std::int16_t v) {
    return kwire::encode_consumer_protocol_subscription(s, v);
  };
  auto dec_s = [](const bytes& b) { return kwire::decode_consumer_protocol_subscription(b); };
  auto enc_a = [](const consumer_protocol_assignment& a, std::int16_t v) {
    return kwire::encode_consumer_protocol_assignment(a, v);
  };
  auto dec_a = [](const bytes& b) { return kwire::decode_consumer_protocol_assignment(b); };

  for (std::int16_t v = 0; v <= 3; ++v) {
    // Hand-made values with exactly the fields each version carries.
    consumer_protocol_subscription s;
    s.topics = {"a", "topic-b", ""};
    s.user_data = bytes{};  // empty, not null: a different encoding
    if (v >= 1) s.owned_partitions.push_back({"a", {3, 1, 4}, {}});
    if (v >= 2) s.generation_id = 42;
    if (v >= 3) s.rack_id = "rack-1";
    check_round_trip(s, v, enc_s, dec_s);
    check_round_trip(consumer_protocol_subscription{}, v, enc_s, dec_s);
    check_round_trip(assignment_v3(), v, enc_a, dec_a);
    check_round_trip(consumer_protocol_assignment{}, v, enc_a, dec_a);

    // Random values from a fixed seed, as the property test does for every API.
    std::mt19937_64 rng(1000 + static_cast<unsigned>(v));
    for (int i = 0; i < 50; ++i) {
      consumer_protocol_subscription rs;
      REQUIRE(kwire::testing::random_fill(consumer_protocol_subscription::ops(), &rs, v, rng));
      check_round_trip(rs, v, enc_s, dec_s);
      consumer_protocol_assignment ra;
      REQUIRE(kwire::testing::random_fill(consumer_protocol_assignment::ops(), &ra, v, rng));
      check_round_trip(ra, v, enc_a, dec_a);
    }
  }
}

TEST_CASE("null UserData and empty UserData differ on the wire", "[consumer_protocol]") {
  consumer_protocol_assignment a;
  a.user_data.reset();
  auto null_bytes = kwire::encode_consumer_protocol_assignment(a, 1);
  a.user_data = bytes{};
  auto empty_bytes = kwire::encode_consumer_protocol_assignment(a, 1);
  REQUIRE(null_bytes.ok());
  REQUIRE(empty_bytes.ok());
  // 00 01 | 00 00 00 00 (no partitions) | UserData: ff ff ff ff or 00 00 00 00.
  CHECK(*null_bytes == bytes{0x00, 0x01, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff});
  CHECK(*empty_bytes == bytes{0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0});
  auto back = kwire::decode_consumer_protocol_assignment(*null_bytes);
  REQUIRE(back.ok());
  CHECK_FALSE(back->user_data.has_value());
  back = kwire::decode_consumer_protocol_assignment(*empty_bytes);
  REQUIRE(back.ok());
  REQUIRE(back->user_data.has_value());
  CHECK(back->user_data->empty());
}

TEST_CASE("a newer version is read as the newest known, extra bytes ignored",
          "[consumer_protocol]") {
  // What a v7 writer might send: the v3 layout, then fields kwire does not know.
  const bytes extra = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x07};
  SECTION("subscription") {
    bytes b = subscription_v3_bytes();
    b[1] = 7;
    b.insert(b.end(), extra.begin(), extra.end());
    auto decoded = kwire::decode_consumer_protocol_subscription(b);
    if (!decoded) FAIL(decoded.error().message());
    CHECK(*decoded == subscription_v3());
  }
  SECTION("assignment") {
    bytes b = assignment_v3_bytes();
    b[0] = 0x7f;  // version 32767, the largest
    b[1] = 0xff;
    b.insert(b.end(), extra.begin(), extra.end());
    auto decoded = kwire::decode_consumer_protocol_assignment(b);
    if (!decoded) FAIL(decoded.error().message());
    CHECK(*decoded == assignment_v3());
  }
  SECTION("trailing bytes after a known version are ignored too, as Kafka does") {
    bytes b = subscription_v0_bytes;
    b.insert(b.end(), extra.begin(), extra.end());
    auto decoded = kwire::decode_consumer_protocol_subscription(b);
    REQUIRE(decoded.ok());
    CHECK(*decoded == subscription_v0());
  }
  SECTION("a newer version too short for the newest known layout is an error") {
    bytes b = subscription_v3_bytes();
    b[1] = 9;
    b.resize(b.size() - 3);  // inside RackId
    auto decoded = kwire::decode_consumer_protocol_subscription(b);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.error().path == "RackId");
    CHECK(decoded.error().context == "ConsumerProtocolSubscription v9 (read as v3)");
  }
}

TEST_CASE("encoding refuses versions the types do not have", "[consumer_protocol]") {
  for (std::int16_t v : {-1, 4, 7}) {
    auto s = kwire::encode_consumer_protocol_subscription(subscription_v0(), v);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == kwire::codec_errc::unsupported_version);
    auto a = kwire::encode_consumer_protocol_assignment(assignment_v0(), v);
    REQUIRE_FALSE(a.ok());
    CHECK(a.error().code == kwire::codec_errc::unsupported_version);
  }
  // The fields v1-v3 added are ignorable: an older version leaves them out,
  // as Kafka's generated code does.
  auto v0 = kwire::encode_consumer_protocol_subscription(subscription_v3(), 0);
  REQUIRE(v0.ok());
  auto back = kwire::decode_consumer_protocol_subscription(*v0);
  REQUIRE(back.ok());
  CHECK(back->topics == subscription_v3().topics);
  CHECK(back->user_data == subscription_v3().user_data);
  CHECK(back->owned_partitions.empty());
  CHECK(back->generation_id == -1);
  CHECK_FALSE(back->rack_id.has_value());
}

TEST_CASE("truncated or malformed input is an error naming the field and offset",
          "[consumer_protocol]") {
  SECTION("every prefix of the golden vectors fails cleanly") {
    const bytes sub = subscription_v3_bytes();
    for (std::size_t n = 0; n < sub.size(); ++n) {
      INFO("subscription prefix of " << n << " bytes");
      auto d = kwire::decode_consumer_protocol_subscription(std::span(sub).first(n));
      REQUIRE_FALSE(d.ok());
      CHECK_FALSE(d.error().path.empty());
      CHECK(d.error().offset <= n);
      CHECK(d.error().message().find("ConsumerProtocolSubscription") != std::string::npos);
    }
    const bytes asg = assignment_v3_bytes();
    for (std::size_t n = 0; n < asg.size(); ++n) {
      INFO("assignment prefix of " << n << " bytes");
      auto d = kwire::decode_consumer_protocol_assignment(std::span(asg).first(n));
      REQUIRE_FALSE(d.ok());
      CHECK_FALSE(d.error().path.empty());
      CHECK(d.error().offset <= n);
      CHECK(d.error().message().find("ConsumerProtocolAssignment") != std::string::npos);
    }
  }
  SECTION("specific places") {
    const bytes sub = subscription_v3_bytes();
    // One byte: the version itself is cut.
    auto d = kwire::decode_consumer_protocol_subscription(std::span(sub).first(1));
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == kwire::codec_errc::truncated);
    CHECK(d.error().path == "Version");
    CHECK(d.error().offset == 0);
    // GenerationId starts at byte 38 (version 2, Topics 9, UserData 6,
    // OwnedPartitions 21): cut inside it.
    d = kwire::decode_consumer_protocol_subscription(std::span(sub).first(40));
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == kwire::codec_errc::truncated);
    CHECK(d.error().path == "GenerationId");
    CHECK(d.error().offset == 38);
    CHECK(d.error().context == "ConsumerProtocolSubscription v3");
    // Cut inside the second partition of OwnedPartitions[0] (bytes 34-37).
    d = kwire::decode_consumer_protocol_subscription(std::span(sub).first(36));
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().path.rfind("OwnedPartitions[0].Partitions", 0) == 0);
    INFO(d.error().message());
    CHECK(d.error().message().find("OwnedPartitions[0].Partitions") != std::string::npos);
  }
  SECTION("a negative version") {
    bytes b = subscription_v0_bytes;
    b[0] = 0xff;
    b[1] = 0xff;
    auto d = kwire::decode_consumer_protocol_subscription(b);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == kwire::codec_errc::unsupported_version);
    CHECK(d.error().path == "Version");
    CHECK(d.error().offset == 0);
  }
  SECTION("an array count larger than the input") {
    bytes b = assignment_v0_bytes;
    b[5] = 0x70;  // AssignedPartitions count 0x70 instead of 1
    auto d = kwire::decode_consumer_protocol_assignment(b);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().code == kwire::codec_errc::length_exceeds_input);
    CHECK(d.error().path == "AssignedPartitions");
    CHECK(d.error().offset == 2);
  }
  SECTION("a null topic name") {
    bytes b = assignment_v0_bytes;
    b[6] = 0xff;  // Topic length -1
    b[7] = 0xff;
    auto d = kwire::decode_consumer_protocol_assignment(b);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().path == "AssignedPartitions[0].Topic");
    CHECK(d.error().offset == 6);
  }
}

TEST_CASE("printing shows the fields, not the bytes of UserData", "[consumer_protocol]") {
  std::ostringstream os;
  os << subscription_v3();
  const std::string text = os.str();
  CHECK(text.find("ConsumerProtocolSubscription") != std::string::npos);
  CHECK(text.find("foo") != std::string::npos);
  CHECK(text.find("r1") != std::string::npos);
}

// ---- real clients ---------------------------------------------------------------

namespace {

bytes read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::span<const std::uint8_t>> frames_of(const bytes& stream) {
  std::vector<std::span<const std::uint8_t>> out;
  std::span<const std::uint8_t> rest(stream);
  while (!rest.empty()) {
    auto v = kwire::split_frame(rest);
    REQUIRE(v.state == kwire::frame_view::status::frame);
    out.push_back(v.payload);
    rest = rest.subspan(v.consumed);
  }
  return out;
}

// The client's own bytes come back from kwire's encoder at the version it sent.
template <class T, class Encode>
void check_reencodes(const T& value, std::span<const std::uint8_t> original, Encode encode) {
  const std::int16_t version = static_cast<std::int16_t>((original[0] << 8) | original[1]);
  if (version > T::max_version) return;
  auto again = encode(value, version);
  REQUIRE(again.ok());
  CHECK(*again == bytes(original.begin(), original.end()));
}

}  // namespace

TEST_CASE("golden captures: real clients' subscriptions and assignments decode",
          "[consumer_protocol][golden]") {
  const fs::path golden = fs::path(KWIRE_TEST_DATA_DIR) / "golden";
  // The group captures and the topic each consumer subscribed to (their manifests).
  const std::vector<std::pair<std::string, std::string>> captures = {
      {"kcat-consume-group", "kcat-zstd"},
      {"confluent-consume-group", "ck-txn"},
      {"kafka-python-consume-group", "kp-gzip"}};
  std::size_t subscriptions = 0, assignments = 0;
  for (const auto& [capture, topic] : captures) {
    const fs::path dir = golden / capture;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.find(".requests.bin") == std::string::npos) continue;
      INFO(capture << " " << name);
      const bytes requests = read_file(e.path());
      for (auto payload : frames_of(requests)) {
        auto req = kwire::decode_request(payload);
        REQUIRE(req.ok());
        if (const auto* join = req->body.as<kwire::join_group_request>()) {
          REQUIRE(join->protocol_type == "consumer");
          for (const auto& p : join->protocols) {
            INFO("JoinGroup v" << req->header.api_version << " protocol " << p.name);
            auto s = kwire::decode_consumer_protocol_subscription(p.metadata);
            if (!s) FAIL(s.error().message());
            CHECK(s->topics == std::vector<std::string>{topic});
            check_reencodes(*s, p.metadata, kwire::encode_consumer_protocol_subscription);
            ++subscriptions;
          }
        }
        if (const auto* sync = req->body.as<kwire::sync_group_request>()) {
          for (const auto& a : sync->assignments) {
            INFO("SyncGroup v" << req->header.api_version << " for " << a.member_id);
            auto d = kwire::decode_consumer_protocol_assignment(a.assignment);
            if (!d) FAIL(d.error().message());
            REQUIRE(d->assigned_partitions.size() == 1);
            CHECK(d->assigned_partitions[0].topic == topic);
            CHECK_FALSE(d->assigned_partitions[0].partitions.empty());
            check_reencodes(*d, a.assignment, kwire::encode_consumer_protocol_assignment);
            ++assignments;
          }
        }
      }
    }
  }
  if (subscriptions == 0) {
    WARN("skipped: no group captures under " << golden.string());
    return;
  }
  CHECK(subscriptions >= 6);  // two protocols (range, roundrobin) per JoinGroup
  CHECK(assignments >= 3);
}
