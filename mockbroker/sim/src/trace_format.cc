// How the simulation's trace shows messages and times: Produce requests and
// responses as one line each, everything else as JSON.
#include "kwire/sim/world.hpp"

#include <cstdio>
#include <string>

#include "kwire/protocol/json.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages/produce.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::sim {
namespace {

// Produce requests and responses in one line each: what the checker cares
// about (partition, producer id, epoch, sequences, which records, offsets).
std::string produce_summary(const produce_request& r) {
  std::string out = "acks=" + std::to_string(r.acks);
  for (const auto& t : r.topic_data)
    for (const auto& p : t.partition_data) {
      out += " [" + t.name + "-" + std::to_string(p.index);
      auto batch = read_record_batch(p.records.bytes());
      if (!batch) {
        out += " unreadable]";
        continue;
      }
      const auto& h = batch->header();
      out += " pid " + std::to_string(h.producer_id) + " epoch " +
             std::to_string(h.producer_epoch) + " seq " + std::to_string(h.base_sequence) + ".." +
             std::to_string(h.base_sequence + h.last_offset_delta) + ":";
      auto cursor = batch->records();
      for (const auto& rec : cursor) {
        std::string v = rec.value ? std::string(reinterpret_cast<const char*>(rec.value->data()),
                                                rec.value->size())
                                  : "";
        out += " " + v.substr(0, v.find(':'));
      }
      out += "]";
    }
  return out;
}

std::string produce_summary(const produce_response& r) {
  std::string out;
  if (r.throttle_time_ms) out += "throttle " + std::to_string(r.throttle_time_ms) + "ms ";
  for (const auto& t : r.responses)
    for (const auto& p : t.partition_responses) {
      out += "[" + t.name + "-" + std::to_string(p.index) + " ";
      out += p.error_code ? std::string(kafka_error_name(p.error_code)) : "ok";
      out += " base " + std::to_string(p.base_offset) + " log start " +
             std::to_string(p.log_start_offset) + "] ";
    }
  return out;
}

}  // namespace

std::string describe_message(const any_message& m, std::int16_t version) {
  if (const auto* req = m.as<produce_request>()) return produce_summary(*req);
  if (const auto* resp = m.as<produce_response>()) return produce_summary(*resp);
  return to_json(m, version);
}

std::string format_time(ms t) {
  char buf[32];
  const auto v = t.count();
  std::snprintf(buf, sizeof buf, "%s%lld.%03llds", v < 0 ? "-" : "",
                static_cast<long long>((v < 0 ? -v : v) / 1000),
                static_cast<long long>((v < 0 ? -v : v) % 1000));
  return buf;
}

}  // namespace kwire::sim
