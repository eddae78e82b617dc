// ListOffsets: earliest, latest, by timestamp and max timestamp. Error
// faults land on the partitions they match.
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace kwire::mockbroker::detail {
namespace {

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<list_offsets_request>();
  const std::int16_t v = ctx.version;
  list_offsets_response r;
  for (const auto& want : req.topics) {
    list_offsets_response::list_offsets_topic_response tr;
    tr.name = want.name;
    for (const auto& lp : want.partitions) {
      list_offsets_response::list_offsets_partition_response pr;
      pr.partition_index = lp.partition_index;
      [&] {
        partition_state* p = s.find_partition(want.name, lp.partition_index);
        if (!p) {
          pr.error_code = code(kafka_error::unknown_topic_or_partition);
          return;
        }
        if (auto e = ctx.injected_error({want.name, lp.partition_index, -1}, true)) {
          pr.error_code = *e;
          return;
        }
        if (p->leader != ctx.broker_id) {
          pr.error_code = code(kafka_error::not_leader_or_follower);
          return;
        }
        if (v >= 4 && lp.current_leader_epoch >= 0 && lp.current_leader_epoch != p->leader_epoch) {
          pr.error_code =
              code(lp.current_leader_epoch < p->leader_epoch ? kafka_error::fenced_leader_epoch
                                                             : kafka_error::unknown_leader_epoch);
          return;
        }
        std::int64_t offset = -1;
        std::int64_t timestamp = -1;
        const std::int64_t ts = lp.timestamp;
        if (ts == -1) {
          offset = p->log_end;
        } else if (ts == -2 || ts == -4 || ts == -5) {
          offset = p->log_start;
        } else if (ts == -3 || ts >= 0) {
          // -3: the record with the largest timestamp; >= 0: the first record at or after ts.
          std::int64_t best_ts = -1;
          for (const auto& b : p->log) {
            if (ts >= 0 ? b.max_timestamp < ts : b.max_timestamp <= best_ts) continue;
            auto batch = read_record_batch(b.bytes, {.verify_crc = false});
            if (!batch) continue;
            auto cursor = batch->records();
            for (const record_view& rec : cursor) {
              if (ts >= 0 ? rec.timestamp >= ts : rec.timestamp > best_ts) {
                best_ts = rec.timestamp;
                offset = rec.offset;
                if (ts >= 0) break;
              }
            }
            if (ts >= 0 && offset >= 0) break;
          }
          timestamp = offset >= 0 ? best_ts : -1;
        } else {
          pr.error_code = code(kafka_error::invalid_request);
          return;
        }
        if (v == 0) {
          if (offset >= 0) pr.old_style_offsets.push_back(offset);
        } else {
          pr.offset = offset;
          pr.timestamp = timestamp;
          if (v >= 4) pr.leader_epoch = p->leader_epoch;
        }
      }();
      tr.partitions.push_back(std::move(pr));
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

any_message error_response(const cluster_state&, const decoded_request& request,
                           std::int16_t error) {
  list_offsets_response r;
  for (auto& t : request.body.as<list_offsets_request>()->topics) {
    list_offsets_response::list_offsets_topic_response tr;
    tr.name = t.name;
    for (auto& p : t.partitions) {
      list_offsets_response::list_offsets_partition_response pr;
      pr.partition_index = p.partition_index;
      pr.error_code = error;
      tr.partitions.push_back(std::move(pr));
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

std::vector<target> targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (auto& t : request.body.as<list_offsets_request>()->topics)
    for (auto& p : t.partitions) out.push_back({t.name, p.partition_index, -1});
  return out;
}

}  // namespace

extern const api_handler list_offsets_api{.key = list_offsets_request::api_key,
                                          .serve = serve,
                                          .error_response = error_response,
                                          .targets = targets,
                                          .places_errors = true};

}  // namespace kwire::mockbroker::detail
