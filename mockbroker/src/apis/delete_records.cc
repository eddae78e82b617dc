// DeleteRecords: the log start offset of each partition moves up to the
// offset asked (-1: the high watermark), dropping the batches wholly below
// it; fetches below the start then get OFFSET_OUT_OF_RANGE and ListOffsets
// earliest answers it. Error faults land on the partitions they match.
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// Kafka's DeleteRecordsRequest.HIGH_WATERMARK.
constexpr std::int64_t high_watermark = -1;

void delete_before(partition_state& p, std::int64_t offset) {
  if (offset <= p.log_start) return;  // the start only moves up
  while (!p.log.empty() && p.log.front().last_offset < offset) {
    p.bytes -= p.log.front().bytes.size();
    p.log.pop_front();
  }
  p.log_start = offset;
}

any_message delete_records(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<delete_records_request>();
  delete_records_response r;
  for (const auto& want : req.topics) {
    delete_records_response::delete_records_topic_result tr;
    tr.name = want.name;
    for (const auto& wp : want.partitions) {
      delete_records_response::delete_records_partition_result pr;
      pr.partition_index = wp.partition_index;
      pr.low_watermark = -1;
      pr.error_code = [&] {
        partition_state* p = s.find_partition(want.name, wp.partition_index);
        if (!p) return code(kafka_error::unknown_topic_or_partition);
        if (auto e = ctx.injected_error({want.name, wp.partition_index, -1}, true)) return *e;
        if (p->leader != ctx.broker_id) return code(kafka_error::not_leader_or_follower);
        const std::int64_t offset = wp.offset == high_watermark ? p->log_end : wp.offset;
        if (offset < 0 || offset > p->log_end) return code(kafka_error::offset_out_of_range);
        delete_before(*p, offset);
        pr.low_watermark = p->log_start;
        if (auto e = ctx.injected_error({want.name, wp.partition_index, -1}, false)) return *e;
        return code(kafka_error::none);
      }();
      tr.partitions.push_back(pr);
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

std::vector<target> delete_records_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& want : request.body.as<delete_records_request>()->topics)
    for (const auto& wp : want.partitions) out.push_back({want.name, wp.partition_index, -1});
  return out;
}

}  // namespace

extern const api_handler delete_records_api{.key = delete_records_request::api_key,
                                            .serve = delete_records,
                                            .error_response = nullptr,
                                            .targets = delete_records_targets,
                                            .places_errors = true};

}  // namespace kwire::mockbroker::detail
