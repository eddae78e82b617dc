// A scripted fake Kafka cluster for the producer core's tests: it decodes the
// frames the core emits, answers ApiVersions, Metadata and InitProducerId by
// itself from a small description of the cluster, and queues Produce
// requests for the test to answer, one by one, with exactly the outcome the
// test wants. Time is virtual: nothing here reads a clock.
#pragma once

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kwire/producer/producer_core.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages/api_versions.hpp"
#include "kwire/protocol/messages/init_producer_id.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace kwire::test {

/// One batch as the fake broker received it.
struct produced_batch {
  std::string topic;
  std::int32_t partition = 0;
  record_batch_header header;
  std::vector<std::string> values;
};

/// One Produce request waiting for the test's answer.
struct produce_call {
  std::int32_t broker = 0;
  std::int32_t correlation = 0;
  std::int16_t version = 0;
  std::int16_t acks = 0;
  std::vector<produced_batch> batches;
};

/// What the fake answers for one partition of a Produce request.
struct partition_answer {
  std::int16_t error = 0;
  std::int64_t base_offset = 0;
  std::int64_t log_append_time = -1;
  std::int64_t log_start_offset = -1;
};

inline std::int16_t code(kafka_error e) { return static_cast<std::int16_t>(e); }

class fake_cluster {
 public:
  explicit fake_cluster(producer_core& core) : core(core) {}

  producer_core& core;
  core_time now{};  // the Unix epoch: virtual time starts there
  // The cluster: nodes, and each topic's leader per partition (-1: none).
  std::map<std::int32_t, std::pair<std::string, std::int32_t>> nodes = {{1, {"b1", 9092}},
                                                                        {2, {"b2", 9092}}};
  std::map<std::string, std::vector<std::int32_t>> leaders;
  std::map<std::string, std::int16_t> topic_errors;
  /// A broken Metadata answer: the first partition of the topic gets this index.
  std::map<std::string, std::int32_t> partition_index_override;
  std::int16_t produce_max_version = 9;  // a Kafka 3.x broker
  std::int16_t init_pid_max_version = 4;
  std::int16_t api_versions_max = 3;
  int api_versions_requests = 0;
  std::int16_t init_pid_error = 0;
  std::int64_t pid = 1000;
  std::int16_t epoch = 0;
  std::set<std::int32_t> unreachable;

  // What happened.
  std::deque<produce_call> produce;
  std::vector<delivery_report> reports;
  std::vector<std::int32_t> disconnects;
  std::vector<std::int32_t> connects;
  std::vector<init_producer_id_request> init_requests;
  int metadata_requests = 0;

  /// Polls the core until it has nothing more to do at `now`.
  void step() {
    for (int guard = 0; guard < 1000; ++guard) {
      core_output out = core.poll(now);
      for (auto& r : out.reports) reports.push_back(r);
      for (auto id : out.disconnects) {
        disconnects.push_back(id);
        connected.erase(id);
      }
      if (out.connects.empty() && out.frames.empty()) return;
      for (const auto& c : out.connects) {
        connects.push_back(c.broker_id);
        if (unreachable.count(c.broker_id)) {
          core.on_disconnected(c.broker_id, now);
        } else {
          connected.insert(c.broker_id);
          core.on_connected(c.broker_id, now);
        }
      }
      for (const auto& f : out.frames) handle_frame(f);
    }
    FAIL("the core did not settle");
  }

  void advance(core_duration by) {
    now += by;
    step();
  }

  /// Sends a record as a shell would: waits (in virtual time) for metadata.
  send_result send(const std::string& topic, std::optional<std::string> key,
                   const std::string& value, std::uint64_t id,
                   std::optional<std::int32_t> partition = std::nullopt) {
    producer_record r;
    r.topic = topic;
    r.partition = partition;
    if (key) r.key = bytes_of(*key);
    r.value = bytes_of(value);
    for (int i = 0; i < 50; ++i) {
      auto result = core.send(r, id, now);
      if (result.status != send_status::wait_for_metadata) return result;
      advance(std::chrono::milliseconds(1));
    }
    return {send_status::wait_for_metadata, -1, {}};
  }

  produce_call take() {
    REQUIRE_FALSE(produce.empty());
    produce_call c = std::move(produce.front());
    produce.pop_front();
    return c;
  }

  /// Answers a Produce request with one answer per batch, in the request's order.
  void answer(const produce_call& call, const std::vector<partition_answer>& answers,
              std::int32_t throttle_ms = 0) {
    REQUIRE(answers.size() == call.batches.size());
    produce_response r;
    r.throttle_time_ms = throttle_ms;
    for (std::size_t i = 0; i < answers.size(); ++i) {
      const auto& b = call.batches[i];
      auto t = std::find_if(r.responses.begin(), r.responses.end(),
                            [&](const auto& x) { return x.name == b.topic; });
      if (t == r.responses.end()) {
        r.responses.emplace_back();
        t = std::prev(r.responses.end());
        t->name = b.topic;
      }
      produce_response::partition_produce_response p;
      p.index = b.partition;
      p.error_code = answers[i].error;
      p.base_offset =
          answers[i].error && answers[i].error != code(kafka_error::duplicate_sequence_number)
              ? -1
              : answers[i].base_offset;
      p.log_append_time_ms = answers[i].log_append_time;
      p.log_start_offset = answers[i].log_start_offset;
      t->partition_responses.push_back(std::move(p));
    }
    reply(call.broker, call.correlation, r, call.version);
    step();
  }

  /// Answers success, giving offsets from a per-partition log end.
  void answer_ok(const produce_call& call, std::int32_t throttle_ms = 0) {
    std::vector<partition_answer> answers;
    for (const auto& b : call.batches) {
      auto& end = log_end[{b.topic, b.partition}];
      answers.push_back({0, end, -1, -1});
      end += b.header.records_count;
    }
    answer(call, answers, throttle_ms);
  }

  /// Errors for the records of `id`s reports, in order.
  std::vector<std::uint64_t> reported_ids() const {
    std::vector<std::uint64_t> ids;
    for (const auto& r : reports) ids.push_back(r.record_id);
    return ids;
  }

  std::map<std::pair<std::string, std::int32_t>, std::int64_t> log_end;
  std::set<std::int32_t> connected;

 private:
  template <class Message>
  void reply(std::int32_t broker, std::int32_t correlation, const Message& body,
             std::int16_t version) {
    auto frame = encode_response(correlation, version, body);
    REQUIRE(frame.ok());
    const std::vector<std::uint8_t>& bytes = frame.value();
    // Split the frame in two reads to exercise reassembly.
    const std::size_t cut = std::min<std::size_t>(3, bytes.size());
    core.on_bytes(broker, std::span<const std::uint8_t>(bytes.data(), cut), now);
    core.on_bytes(broker, std::span<const std::uint8_t>(bytes.data() + cut, bytes.size() - cut),
                  now);
  }

  void handle_frame(const outgoing_frame& f) {
    REQUIRE(connected.count(f.broker_id));
    const auto frame = split_frame(f.bytes);
    REQUIRE(frame.state == frame_view::status::frame);
    REQUIRE(frame.consumed == f.bytes.size());
    auto decoded = decode_request(frame.payload);
    REQUIRE(decoded);
    const auto& h = decoded->header;
    CHECK(h.client_id == std::optional<std::string>("kwire-producer"));
    if (const auto* av = decoded->body.as<api_versions_request>()) {
      (void)av;
      ++api_versions_requests;
      api_versions_response r;
      if (h.api_version > api_versions_max) {
        // As Kafka: an unsupported ApiVersions version is answered in v0 with the versions it has.
        r.error_code = code(kafka_error::unsupported_version);
        r.api_keys = {{18, 0, api_versions_max, {}}};
        reply(f.broker_id, h.correlation_id, r, 0);
        return;
      }
      r.api_keys = {{code_of(0), 3, produce_max_version, {}},
                    {3, 0, 12, {}},
                    {18, 0, 3, {}},
                    {22, 0, init_pid_max_version, {}}};
      reply(f.broker_id, h.correlation_id, r, h.api_version);
    } else if (const auto* m = decoded->body.as<metadata_request>()) {
      ++metadata_requests;
      metadata_response r;
      for (const auto& [id, hp] : nodes) {
        metadata_response::metadata_response_broker b;
        b.node_id = id;
        b.host = hp.first;
        b.port = hp.second;
        r.brokers.push_back(b);
      }
      for (const auto& t : *m->topics) {
        metadata_response::metadata_response_topic rt;
        rt.name = t.name;
        auto e = topic_errors.find(*t.name);
        auto l = leaders.find(*t.name);
        if (e != topic_errors.end()) {
          rt.error_code = e->second;
        } else if (l == leaders.end()) {
          rt.error_code = code(kafka_error::unknown_topic_or_partition);
        } else {
          for (std::size_t i = 0; i < l->second.size(); ++i) {
            metadata_response::metadata_response_partition p;
            p.partition_index = static_cast<std::int32_t>(i);
            if (auto bad = partition_index_override.find(*t.name);
                bad != partition_index_override.end() && i == 0)
              p.partition_index = bad->second;
            p.leader_id = l->second[i];
            p.error_code = l->second[i] < 0 ? code(kafka_error::leader_not_available) : 0;
            rt.partitions.push_back(p);
          }
        }
        r.topics.push_back(std::move(rt));
      }
      reply(f.broker_id, h.correlation_id, r, h.api_version);
    } else if (const auto* ip = decoded->body.as<init_producer_id_request>()) {
      init_requests.push_back(*ip);
      init_producer_id_response r;
      r.error_code = init_pid_error;
      if (!init_pid_error) {
        if (ip->producer_id >= 0) {
          REQUIRE(ip->producer_id == pid);
          REQUIRE(ip->producer_epoch == epoch);
          ++epoch;
        }
        r.producer_id = pid;
        r.producer_epoch = epoch;
      }
      reply(f.broker_id, h.correlation_id, r, h.api_version);
    } else if (const auto* p = decoded->body.as<produce_request>()) {
      produce_call call{f.broker_id, h.correlation_id, h.api_version, p->acks, {}};
      for (const auto& t : p->topic_data)
        for (const auto& pd : t.partition_data) {
          auto batch = read_record_batch(pd.records.bytes());
          REQUIRE(batch);
          REQUIRE(batch->bytes().size() == pd.records.size());  // one batch per partition
          produced_batch pb{t.name, pd.index, batch->header(), {}};
          auto cursor = batch->records();
          for (const auto& rec : cursor) {
            REQUIRE(rec.value);
            pb.values.emplace_back(reinterpret_cast<const char*>(rec.value->data()),
                                   rec.value->size());
          }
          REQUIRE(cursor.ok());
          call.batches.push_back(std::move(pb));
        }
      if (p->acks != 0)
        produce.push_back(std::move(call));
      else
        acks0_calls.push_back(std::move(call));
    } else {
      FAIL("unexpected request " << h.api_key);
    }
  }
  static std::int16_t code_of(int key) { return static_cast<std::int16_t>(key); }

 public:
  std::vector<produce_call> acks0_calls;
};

/// A config for tests: one bootstrap server.
inline producer_config test_config() {
  producer_config c;
  c.bootstrap_servers = {{"boot", 9092}};
  return c;
}

inline std::error_code kerr(kafka_error e) { return make_error_code(e); }

// Sends one record to partition 0 of "t" and steps, so that it goes out alone.
inline void send_alone(fake_cluster& f, const std::string& value, std::uint64_t id) {
  REQUIRE(f.send("t", std::nullopt, value, id, 0).status == send_status::accepted);
  f.step();
}

}  // namespace kwire::test
