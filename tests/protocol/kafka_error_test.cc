// Kafka's error table: names, numbers, retriability; checked against the
// reference table where it is present, and against fixed facts always.
#include "kwire/protocol/kafka_error.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "kwire/protocol/error.hpp"

TEST_CASE("well-known Kafka error codes", "[errors]") {
  CHECK(static_cast<int>(kwire::kafka_error::none) == 0);
  CHECK(static_cast<int>(kwire::kafka_error::unknown_server_error) == -1);
  CHECK(kwire::kafka_error_name(6) == "NOT_LEADER_OR_FOLLOWER");
  CHECK(kwire::is_retriable(kwire::kafka_error::not_leader_or_follower));
  CHECK(kwire::is_retriable(kwire::kafka_error::not_enough_replicas));
  CHECK(kwire::is_retriable(kwire::kafka_error::request_timed_out));
  CHECK_FALSE(kwire::is_retriable(kwire::kafka_error::out_of_order_sequence_number));
  CHECK_FALSE(kwire::is_retriable(kwire::kafka_error::invalid_producer_epoch));
  CHECK_FALSE(kwire::is_retriable(kwire::kafka_error::message_too_large));
  CHECK(kwire::kafka_error_from_name("UNKNOWN_PRODUCER_ID") ==
        kwire::kafka_error::unknown_producer_id);
  CHECK_FALSE(kwire::kafka_error_from_name("NO_SUCH_ERROR").has_value());
  CHECK(kwire::kafka_error_name(9999) == "UNKNOWN_ERROR_CODE");
  CHECK_FALSE(kwire::is_retriable(std::int16_t{9999}));

  const std::error_code ec = kwire::kafka_error::corrupt_message;
  CHECK(ec.category().name() == std::string("kafka"));
  CHECK(ec.message() == "CORRUPT_MESSAGE");
  CHECK(ec != kwire::codec_errc::crc_mismatch);
}

TEST_CASE("the error table matches the reference table", "[errors][conformance]") {
  const std::filesystem::path tsv =
      std::filesystem::path(KWIRE_REFERENCE_DIR) / "kafka-error-codes.tsv";
  if (!std::filesystem::exists(tsv)) {
    WARN("skipped: no reference error table at " << tsv.string());
    return;
  }
  std::ifstream in(tsv);
  std::string line;
  std::getline(in, line);  // column names
  std::size_t rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string code, name, retriable;
    std::getline(fields, code, '\t');
    std::getline(fields, name, '\t');
    std::getline(fields, retriable, '\t');
    const auto* e = kwire::find_kafka_error(static_cast<std::int16_t>(std::stoi(code)));
    INFO("code " << code);
    REQUIRE(e != nullptr);
    CHECK(e->name == name);
    CHECK(e->retriable == (retriable == "yes"));
    ++rows;
  }
  CHECK(rows == kwire::all_kafka_errors().size());
}
