// Fuzz target: the mock cluster core fed arbitrary frames on arbitrary
// connections of arbitrary brokers.
//
// Input: byte 0 configures the cluster (bit 0: keep a request log, which
// copies and keeps every decoded request; bits 1-4: one fault rule that fires
// on half the requests, 0 for none; bits 5-6: a control hook on Metadata
// that passes, delays, or answers with a default response, 0 for none; bit 7:
// a hook that answers every Heartbeat before the group coordinator sees it). Then entries: a
// selector byte (bits 0-1: broker 1-3, or 0 for an id no broker has; bits 2-3: connection; bits
// 4-7: time step of 37 ms each), an int32 big-endian frame size and the frame (the last entry takes
// what is left). A connection the cluster closed is replaced by a new one, as a client reconnects.
// Oracles: handle() never throws and answers, parks or closes: a request that gets none is an
// acks=0 Produce or hit a dropping fault; a parked one (a Fetch waiting for data, a JoinGroup
// waiting for its rebalance) is answered through poll() once, on its connection, unless the
// connection closed, and none is left waiting after the cluster's timers run out. A response is one
// whole frame with the request's correlation id; if the request decodes, the response decodes as
// its API and version answer (ApiVersions for a version the broker lacks: as v0). Leaks are ASan's
// to find.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "cluster_setup.hpp"
#include "kwire/mockbroker/cluster.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages/heartbeat.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace {

// An oracle failed: say which, then crash so that libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
  std::abort();
}
#define CHECK(cond) ((cond) ? void() : fail(#cond, __LINE__))

constexpr kwire::mockbroker::fault_kind fault_kinds[] = {
    kwire::mockbroker::fault_kind::error,
    kwire::mockbroker::fault_kind::delay,
    kwire::mockbroker::fault_kind::drop,
    kwire::mockbroker::fault_kind::close_before,
    kwire::mockbroker::fault_kind::close_after_processing,
    kwire::mockbroker::fault_kind::close_after_response,
    kwire::mockbroker::fault_kind::append_then_error,
    kwire::mockbroker::fault_kind::append_then_drop,
    kwire::mockbroker::fault_kind::throttle,
};

bool is_acks0_produce(std::span<const std::uint8_t> frame) {
  auto req = kwire::decode_request(frame);
  if (!req) return false;
  const auto* produce = req->body.as<kwire::produce_request>();
  return produce && produce->acks == 0;
}

void check_response(const std::vector<std::uint8_t>& bytes, std::span<const std::uint8_t> frame) {
  CHECK(bytes.size() >= 8);
  const auto split = kwire::split_frame(bytes);
  CHECK(split.state == kwire::frame_view::status::frame && split.consumed == bytes.size());
  const auto correlation_id = kwire::peek_correlation_id(split.payload);
  CHECK(correlation_id.has_value());
  auto req = kwire::decode_request(frame);
  if (!req) {
    // Only ApiVersions of a version the broker lacks is answered undecoded, as v0.
    CHECK(frame.size() >= 8);
    kwire::reader r(frame);
    const auto key = r.read_int16();
    r.read_int16();
    CHECK(key == 18 && *correlation_id == r.read_int32());
    CHECK(static_cast<bool>(kwire::decode_response(split.payload, key, 0)));
    return;
  }
  CHECK(*correlation_id == req->header.correlation_id);
  CHECK(static_cast<bool>(
      kwire::decode_response(split.payload, req->header.api_key, req->header.api_version)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const kwire::mockbroker::cluster_config config = kwire::fuzzing::fuzz_cluster_config(data[0] & 1);
  kwire::mockbroker::cluster cluster(config);
  kwire::fuzzing::create_fuzz_topic(cluster);
  bool dropping_fault = false;
  if (const unsigned f = (data[0] >> 1) & 15; f > 0 && f <= std::size(fault_kinds)) {
    kwire::mockbroker::fault_rule rule;
    rule.match.probability = 0.5;
    rule.action.kind = fault_kinds[f - 1];
    rule.action.error_code = 6;  // NOT_LEADER_OR_FOLLOWER
    rule.action.delay = std::chrono::milliseconds(100);
    rule.action.throttle_ms = 50;
    dropping_fault = rule.action.kind == kwire::mockbroker::fault_kind::drop ||
                     rule.action.kind == kwire::mockbroker::fault_kind::append_then_drop;
    cluster.add_fault(rule);
  }
  using kwire::mockbroker::control_decision;
  switch ((data[0] >> 5) & 3) {
    case 1:
      cluster.control(
          kwire::metadata_request::api_key,
          [](const kwire::mockbroker::control_request&) { return control_decision::pass(); });
      break;
    case 2:
      cluster.control(kwire::metadata_request::api_key,
                      [](const kwire::mockbroker::control_request&) {
                        return control_decision::delay(std::chrono::milliseconds(50));
                      });
      break;
    case 3:
      cluster.control(kwire::metadata_request::api_key,
                      [](const kwire::mockbroker::control_request&) {
                        return control_decision::answer(kwire::metadata_response{});
                      });
      break;
    default:
      break;
  }
  if (data[0] & 0x80)
    cluster.control(kwire::heartbeat_request::api_key,
                    [](const kwire::mockbroker::control_request&) {
                      return control_decision::answer(kwire::heartbeat_response{});
                    });

  // Connection ids per (broker, slot); a closed connection gets a fresh id.
  std::array<std::array<std::uint64_t, 4>, 4> connection{};
  std::uint64_t next_connection = 1;
  for (auto& b : connection)
    for (auto& c : b) c = next_connection++;
  auto now = kwire::fuzzing::fuzz_start_time();

  // Parked requests by ticket: their frames, and the connection they came on.
  std::map<std::uint64_t, std::vector<std::uint8_t>> parked;
  std::map<std::uint64_t, std::pair<std::int32_t, std::uint64_t>> parked_on;
  auto close_connection = [&](std::int32_t broker, std::uint64_t& conn) {
    cluster.connection_closed(broker, conn);
    for (auto it = parked_on.begin(); it != parked_on.end();) {
      if (it->second == std::make_pair(broker, conn)) {
        parked.erase(it->first);
        it = parked_on.erase(it);
      } else {
        ++it;
      }
    }
    conn = next_connection++;
  };
  auto take_answers = [&](kwire::mockbroker::time_point when) {
    for (const auto& a : cluster.poll(when)) {
      auto it = parked.find(a.ticket);
      CHECK(it != parked.end());  // answered once, and only if parked
      CHECK(parked_on.at(a.ticket) == std::make_pair(a.broker_id, a.connection_id));
      CHECK(a.send_at >= when);
      if (a.response) check_response(*a.response, it->second);
      parked.erase(it);
      parked_on.erase(a.ticket);
      if (a.close_after_response) {
        for (auto& b : connection)
          for (auto& c : b)
            if (c == a.connection_id) {
              const std::int32_t broker_id = a.broker_id;
              close_connection(broker_id, c);
            }
      }
    }
  };

  std::size_t at = 1;
  while (at < size) {
    const std::uint8_t selector = data[at++];
    std::size_t frame_size = size - at;
    if (size - at >= 4) {
      std::uint32_t declared = 0;
      for (int i = 0; i < 4; ++i) declared = declared << 8 | data[at + static_cast<std::size_t>(i)];
      at += 4;
      frame_size = std::min<std::size_t>(declared, size - at);
    } else {
      at = size;
      frame_size = 0;
    }
    const std::span<const std::uint8_t> frame(data + at, frame_size);
    at += frame_size;

    const unsigned broker_slot = selector & 3;
    const std::int32_t broker = broker_slot == 0 ? 9 : static_cast<std::int32_t>(broker_slot);
    auto& conn = connection[broker_slot][(selector >> 2) & 3];
    now += std::chrono::milliseconds(kwire::fuzzing::fuzz_time_step_ms * (selector >> 4));

    // handle() may keep nothing of the frame: give it a copy that dies after the call.
    std::vector<std::uint8_t> copy(frame.begin(), frame.end());
    const auto res = cluster.handle(broker, conn, copy, now);
    std::fill(copy.begin(), copy.end(), std::uint8_t{0xa5});

    CHECK(!(res.close_before_response && res.response));
    CHECK(res.send_at >= now);
    if (res.response) {
      check_response(*res.response, frame);
    } else if (res.parked != 0) {
      CHECK(!res.close_before_response);
      CHECK(
          parked.emplace(res.parked, std::vector<std::uint8_t>(frame.begin(), frame.end())).second);
      parked_on.emplace(res.parked, std::make_pair(broker, conn));
    } else if (!res.closes()) {
      CHECK(dropping_fault || is_acks0_produce(frame));
    }
    if (res.closes()) close_connection(broker, conn);
    take_answers(now);
  }
  // Every parked request of a connection still open is answered in the end:
  // nothing waits forever (MaxWaitMs and group timeouts are at most ~25 days).
  for (int round = 0; round < 1000; ++round) {
    const auto next = cluster.next_timer();
    if (!next) break;
    now = std::max(now, *next);
    take_answers(now);
  }
  CHECK(parked.empty());
  // The request log holds decoded requests that borrow their frames: walk it
  // after every input frame is gone.
  std::ostringstream printed;
  for (const auto& entry : cluster.request_log()) printed << entry.request << entry.response;
  CHECK(cluster.request_log().size() <= config.request_log_capacity);
  return 0;
}
