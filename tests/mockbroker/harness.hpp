// Test helpers for the cluster core: build request frames with the codec and
// the batch builder, hand them to the core, decode what comes back.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::mockbroker::testing {

inline constexpr std::int16_t ec(kafka_error e) { return static_cast<std::int16_t>(e); }

/// A request payload (no size prefix) for `body` at `version`.
template <class Request>
std::vector<std::uint8_t> request_payload(const Request& body, std::int16_t version,
                                          std::int32_t correlation_id) {
  auto frame = encode_request(
      {Request::api_key, version, correlation_id, std::string("kwire-test"), {}}, body);
  REQUIRE(frame.ok());
  return {frame.value().begin() + 4, frame.value().end()};  // without the size prefix
}

/// One record batch with the given values (keys "k0", "k1", ...).
inline std::vector<std::uint8_t> make_batch(std::vector<std::string> values,
                                            std::int64_t producer_id = -1, std::int16_t epoch = -1,
                                            std::int32_t sequence = -1,
                                            std::int64_t timestamp = 1000) {
  batch_builder_options o;
  o.producer_id = producer_id;
  o.producer_epoch = epoch;
  o.base_sequence = sequence;
  record_batch_builder b(o);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::string key = "k" + std::to_string(i);
    REQUIRE(
        !b.append(timestamp + static_cast<std::int64_t>(i), bytes_of(key), bytes_of(values[i])));
  }
  auto r = b.finish();
  REQUIRE(r.ok());
  return std::move(r).value();
}

inline produce_request produce_of(const std::string& topic, std::int32_t partition,
                                  std::vector<std::uint8_t> records, std::int16_t acks = -1) {
  produce_request r;
  r.acks = acks;
  r.timeout_ms = 30000;
  produce_request::partition_produce_data p;
  p.index = partition;
  p.records = record_set(std::move(records));
  r.topic_data.push_back({topic, {std::move(p)}, {}});
  return r;
}

/// A cluster and a clock that only moves when a test moves it.
/// What building a cluster throws (std::invalid_argument) once `change` has
/// set something in the default config; empty when it builds.
template <class Change>
std::string construction_error(Change change) {
  cluster_config config;
  change(config);
  try {
    cluster c(config);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

struct harness {
  cluster c;
  time_point now{std::chrono::seconds(1'700'000'000)};
  std::int32_t correlation = 0;
  handle_result last;

  explicit harness(cluster_config config = {}) : c(std::move(config)) {}

  handle_result raw(std::int32_t broker, std::span<const std::uint8_t> payload,
                    std::uint64_t connection = 1) {
    return c.handle(broker, connection, payload, now);
  }

  /// Sends `body`; returns the handle_result.
  template <class Request>
  handle_result send(std::int32_t broker, const Request& body, std::int16_t version,
                     std::uint64_t connection = 1) {
    auto payload = request_payload(body, version, ++correlation);
    last = c.handle(broker, connection, payload, now);
    return std::move(last);
  }

  /// Decodes a response frame for a request of `Request` at `version`.
  template <class Response>
  static Response decode(const std::vector<std::uint8_t>& frame, std::int16_t api_key,
                         std::int16_t version, std::int32_t expected_correlation) {
    REQUIRE(frame.size() >= 4);
    auto owned = std::make_shared<std::vector<std::uint8_t>>(frame.begin() + 4, frame.end());
    reader size_reader(frame);
    REQUIRE(static_cast<std::size_t>(size_reader.read_int32()) == owned->size());
    auto decoded = decode_response(*owned, api_key, version, owned);
    INFO((decoded.ok() ? std::string() : decoded.error().message()));
    REQUIRE(decoded.ok());
    REQUIRE(decoded->header.correlation_id == expected_correlation);
    auto* body = decoded->body.template as<Response>();
    REQUIRE(body != nullptr);
    return *body;
  }

  /// Sends `body` and decodes the response, which must be there.
  template <class Response, class Request>
  Response call(std::int32_t broker, const Request& body, std::int16_t version,
                std::uint64_t connection = 1) {
    auto result = send(broker, body, version, connection);
    REQUIRE_FALSE(result.closes());
    REQUIRE(result.response.has_value());
    last = std::move(result);
    return decode<Response>(*last.response, Request::api_key, version, correlation);
  }

  produce_response::partition_produce_response produce(
      std::int32_t broker, const std::string& topic, std::int32_t partition,
      std::vector<std::uint8_t> batch, std::int16_t version = 9, std::int16_t acks = -1) {
    auto r = call<produce_response>(broker, produce_of(topic, partition, std::move(batch), acks),
                                    version);
    REQUIRE(r.responses.size() == 1);
    REQUIRE(r.responses[0].partition_responses.size() == 1);
    return r.responses[0].partition_responses[0];
  }

  std::int32_t leader(const std::string& topic, std::int32_t partition = 0) {
    auto p = c.partition(topic, partition);
    REQUIRE(p.has_value());
    return p->leader;
  }
};

}  // namespace kwire::mockbroker::testing
