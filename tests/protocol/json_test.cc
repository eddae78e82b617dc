// JSON output: strings, UTF-8 detection, base64, and decoded record batches.
#include "kwire/protocol/json.hpp"

#include <catch2/catch.hpp>

#include "kwire/protocol/messages/produce.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {
std::string bytes_json(std::vector<std::uint8_t> b) {
  std::string out;
  kwire::append_json_bytes(out, b);
  return out;
}
}  // namespace

TEST_CASE("JSON strings are escaped", "[json]") {
  std::string out;
  kwire::append_json_string(out, std::string("a\"b\\c\n\x01", 7));
  CHECK(out == R"("a\"b\\c\n\u0001")");
}

TEST_CASE("bytes print as text when valid UTF-8, else as base64", "[json]") {
  CHECK(bytes_json({'h', 'i'}) == R"("hi")");
  CHECK(bytes_json({0xc3, 0xa9}) == "\"\xc3\xa9\"");  // é
  CHECK(bytes_json({0xff}) == R"({"base64":"/w=="})");
  CHECK(bytes_json({0xc0, 0x80}) == R"({"base64":"wIA="})");        // overlong NUL
  CHECK(bytes_json({0xed, 0xa0, 0x80}) == R"({"base64":"7aCA"})");  // surrogate
  CHECK(bytes_json({0xe2, 0x82}) == R"({"base64":"4oI="})");        // cut short
  CHECK(bytes_json({}) == R"("")");
}

TEST_CASE("a produce request prints with its records decoded", "[json][records]") {
  kwire::record_batch_builder builder;
  const std::vector<std::uint8_t> binary = {0x00, 0xff, 0x10};
  const kwire::record_header headers[] = {{"trace", kwire::bytes_of("t-1")}};
  REQUIRE_FALSE(builder.append(1000, kwire::bytes_of("card-42"), kwire::bytes_of("{\"amount\":10}"),
                               headers));
  REQUIRE_FALSE(builder.append(1001, std::nullopt, kwire::bytes_view(binary)));
  auto batch = builder.finish();
  REQUIRE(batch.ok());

  kwire::produce_request req;
  req.acks = -1;
  auto& part = req.topic_data.emplace_back().partition_data.emplace_back();
  part.records = kwire::record_set(std::move(batch).value());
  std::string out;
  kwire::json_printer p(out);
  req.visit(p, 9);
  CHECK(out.find(R"("Acks":-1)") != std::string::npos);
  CHECK(out.find(R"("compression":"none")") != std::string::npos);
  CHECK(
      out.find(
          R"({"offsetDelta":0,"timestamp":1000,"key":"card-42","value":"{\"amount\":10}","headers":[{"key":"trace","value":"t-1"}]})") !=
      std::string::npos);
  CHECK(
      out.find(
          R"({"offsetDelta":1,"timestamp":1001,"key":null,"value":{"base64":"AP8Q"},"headers":[]})") !=
      std::string::npos);

  std::string redacted;
  kwire::json_printer r(redacted, kwire::json_options{true, false});
  req.visit(r, 9);
  CHECK(redacted.find("card-42") == std::string::npos);
  CHECK(redacted.find(R"("key":{"redacted":7})") != std::string::npos);
}

TEST_CASE("records that stop making sense carry an error", "[json][records][malformed]") {
  std::vector<std::uint8_t> junk(70, 0);
  junk[16] = 2;  // magic 2, but a zero batch length
  std::string out;
  kwire::append_records_json(out, junk);
  CHECK(out.find(R"("error":)") != std::string::npos);
  std::string bad_magic;
  junk[16] = 9;
  kwire::append_records_json(bad_magic, junk);
  CHECK(bad_magic.find("unknown magic 9") != std::string::npos);
}
