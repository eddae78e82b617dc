#include "kwire/protocol/batch_header.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "kwire/protocol/message_set.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {

std::vector<std::uint8_t> idempotent_batch() {
  kwire::batch_builder_options o;
  o.base_offset = 40;
  o.producer_id = 0x0102030405060708;
  o.producer_epoch = 7;
  o.base_sequence = 99;
  kwire::record_batch_builder b(o);
  REQUIRE_FALSE(b.append(1000, kwire::bytes_of("k0"), kwire::bytes_of("a")));
  REQUIRE_FALSE(b.append(1005, kwire::bytes_of("k1"), kwire::bytes_of("b")));
  REQUIRE_FALSE(b.append(1002, kwire::bytes_of("k2"), kwire::bytes_of("c")));
  auto r = b.finish();
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("peek_batch_header reads every field as the full reader does") {
  const auto bytes = idempotent_batch();
  auto peeked = kwire::peek_batch_header(bytes);
  REQUIRE(peeked.ok());
  auto full = kwire::read_record_batch(bytes);
  REQUIRE(full.ok());
  CHECK(*peeked == full->header());
  CHECK(peeked->producer_id == 0x0102030405060708);
  CHECK(peeked->producer_epoch == 7);
  CHECK(peeked->base_sequence == 99);
  CHECK(peeked->records_count == 3);
  CHECK(peeked->last_offset_delta == 2);
  CHECK(peeked->base_timestamp == 1000);
  CHECK(peeked->max_timestamp == 1005);
  CHECK(peeked->magic == 2);
  CHECK(peeked->size_in_bytes() == bytes.size());
}

TEST_CASE("peek_batch_header needs only the header, not the records") {
  const auto bytes = idempotent_batch();
  const std::span<const std::uint8_t> header_only(bytes.data(), kwire::record_batch_header_size);
  auto peeked = kwire::peek_batch_header(header_only);
  REQUIRE(peeked.ok());
  CHECK(peeked->producer_id == 0x0102030405060708);
  CHECK_FALSE(kwire::read_record_batch(header_only).ok());
}

TEST_CASE("peek_batch_header names the field a short input ends in, at every length") {
  const auto bytes = idempotent_batch();
  // The field that starts at or covers each byte of the header, in order.
  const std::vector<std::pair<std::size_t, std::string>> fields = {
      {0, "baseOffset"},    {8, "batchLength"}, {12, "partitionLeaderEpoch"}, {16, "magic"},
      {17, "crc"},          {21, "attributes"}, {23, "lastOffsetDelta"},      {27, "baseTimestamp"},
      {35, "maxTimestamp"}, {43, "producerId"}, {51, "producerEpoch"},        {53, "baseSequence"},
      {57, "recordsCount"},
  };
  for (std::size_t n = 0; n < kwire::record_batch_header_size; ++n) {
    INFO("length " << n);
    auto peeked = kwire::peek_batch_header(std::span<const std::uint8_t>(bytes.data(), n));
    REQUIRE_FALSE(peeked.ok());
    CHECK(peeked.error().code == kwire::codec_errc::truncated);
    std::size_t field = 0;
    while (field + 1 < fields.size() && fields[field + 1].first <= n) ++field;
    CHECK(peeked.error().path == fields[field].second);
    CHECK(peeked.error().offset == fields[field].first);
    CHECK(peeked.error().message().find(fields[field].second) != std::string::npos);
  }
}

TEST_CASE("peek_batch_header refuses a magic other than 2, naming the magic") {
  std::vector<kwire::legacy_record> msgs{{1000, kwire::bytes_of("k"), kwire::bytes_of("a")}};
  for (std::int8_t magic : {std::int8_t{0}, std::int8_t{1}}) {
    auto set = kwire::write_message_set(msgs, {.magic = magic}).value();
    set.resize(std::max<std::size_t>(set.size(), kwire::record_batch_header_size));
    auto peeked = kwire::peek_batch_header(set);
    REQUIRE_FALSE(peeked.ok());
    CHECK(peeked.error().code == kwire::codec_errc::invalid_record);
    CHECK(peeked.error().path == "magic");
    CHECK(peeked.error().message().find("magic " + std::to_string(magic)) != std::string::npos);
  }
  auto bytes = idempotent_batch();
  bytes[16] = 3;
  auto peeked = kwire::peek_batch_header(bytes);
  REQUIRE_FALSE(peeked.ok());
  CHECK(peeked.error().offset == 16);
}
