// OffsetForLeaderEpoch: the end offset of a leader epoch, as a consumer asks
// after a leader change to detect truncation. The epoch history is read from
// the log, whose batches carry the epoch of the leader that appended them
// (Kafka keeps it beside the log, in its leader-epoch cache). Error faults land on the partitions
// they match.
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// The partitionLeaderEpoch field of a stored v2 batch (bytes 12-15).
std::int32_t epoch_of(const stored_batch& b) {
  if (b.bytes.size() < 16) return -1;
  std::uint32_t e = 0;
  for (std::size_t i = 12; i < 16; ++i) e = (e << 8) | b.bytes[i];
  return static_cast<std::int32_t>(e);
}

/// (epoch, end offset) for `requested`, or (-1, -1) when the partition has
/// no such epoch. Every epoch from 0 to the current one was a leader's (each
/// leader change bumps it by one), so an older epoch ends where the first
/// batch of a newer one starts, or at the log end when none has appended.
std::pair<std::int32_t, std::int64_t> end_of_epoch(const partition_state& p,
                                                   std::int32_t requested) {
  if (requested < 0 || requested > p.leader_epoch) return {-1, -1};
  for (const auto& b : p.log)
    if (epoch_of(b) > requested) return {requested, b.base_offset};
  return {requested, p.log_end};
}

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<offset_for_leader_epoch_request>();
  offset_for_leader_epoch_response r;
  for (const auto& want : req.topics) {
    offset_for_leader_epoch_response::offset_for_leader_topic_result tr;
    tr.topic = want.topic;
    for (const auto& wp : want.partitions) {
      offset_for_leader_epoch_response::epoch_end_offset pr;
      pr.partition = wp.partition;
      pr.error_code = [&] {
        const partition_state* p = s.find_partition(want.topic, wp.partition);
        if (!p) return code(kafka_error::unknown_topic_or_partition);
        if (auto e = ctx.injected_error({want.topic, wp.partition, -1}, true)) return *e;
        if (p->leader != ctx.broker_id) return code(kafka_error::not_leader_or_follower);
        if (wp.current_leader_epoch >= 0 && wp.current_leader_epoch != p->leader_epoch)
          return code(wp.current_leader_epoch < p->leader_epoch
                          ? kafka_error::fenced_leader_epoch
                          : kafka_error::unknown_leader_epoch);
        std::tie(pr.leader_epoch, pr.end_offset) = end_of_epoch(*p, wp.leader_epoch);
        if (auto e = ctx.injected_error({want.topic, wp.partition, -1}, false)) return *e;
        return code(kafka_error::none);
      }();
      if (pr.error_code != 0) {
        pr.leader_epoch = -1;
        pr.end_offset = -1;
      }
      tr.partitions.push_back(pr);
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

std::vector<target> targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& want : request.body.as<offset_for_leader_epoch_request>()->topics)
    for (const auto& wp : want.partitions) out.push_back({want.topic, wp.partition, -1});
  return out;
}

}  // namespace

extern const api_handler offset_for_leader_epoch_api{
    .key = offset_for_leader_epoch_request::api_key,
    .serve = serve,
    .error_response = nullptr,
    .targets = targets,
    .places_errors = true};

}  // namespace kwire::mockbroker::detail
