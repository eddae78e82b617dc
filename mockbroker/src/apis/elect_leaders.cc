// ElectLeaders: preferred (the first replica leads again when it is alive
// and in the ISR) and unclean (a partition without a live leader gets one
// from its live ISR, else from any live replica, which becomes the ISR).
// A new leader bumps the leader epoch, as cluster::move_leader does. Error
// faults answer the whole request with the error at the top level.
#include <algorithm>

#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// Kafka's ElectionType codes.
constexpr std::int8_t preferred = 0;
constexpr std::int8_t unclean = 1;

bool alive(const cluster_state& s, std::int32_t id) {
  const broker_state* b = s.find_broker(id);
  return b && b->up;
}

/// Elects a leader of `p` by `type`; the error code and message, if any.
std::pair<kafka_error, std::string> elect(cluster_state& s, partition_state& p, std::int8_t type,
                                          const std::string& name) {
  std::int32_t chosen = -1;
  if (type == preferred) {
    const std::int32_t first = p.replicas.front();
    if (p.leader == first) return {kafka_error::election_not_needed, "Leader election not needed"};
    if (!alive(s, first) || std::find(p.isr.begin(), p.isr.end(), first) == p.isr.end())
      return {kafka_error::preferred_leader_not_available,
              "Failed to elect the preferred leader " + std::to_string(first) + " of " + name};
    chosen = first;
  } else if (type == unclean) {
    if (p.leader >= 0 && alive(s, p.leader))
      return {kafka_error::election_not_needed, "Leader election not needed"};
    for (auto id : p.isr)
      if (chosen < 0 && alive(s, id)) chosen = id;
    if (chosen < 0) {
      for (auto id : p.replicas)
        if (chosen < 0 && alive(s, id)) chosen = id;
      if (chosen >= 0) p.isr = {chosen};  // unclean: only the new leader is in sync
    }
    if (chosen < 0)
      return {kafka_error::eligible_leaders_not_available,
              "No live replica of " + name + " can lead"};
  } else {
    return {kafka_error::invalid_request, "Unknown election type " + std::to_string(type)};
  }
  p.leader = chosen;
  ++p.leader_epoch;
  return {kafka_error::none, {}};
}

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<elect_leaders_request>();
  const std::int8_t type = ctx.version >= 1 ? req.election_type : preferred;
  // No list: every partition, and those that need no election are left out.
  std::vector<elect_leaders_request::topic_partitions_entry> asked;
  const bool all = !req.topic_partitions;
  if (all) {
    for (const auto& [name, t] : s.topics) {
      asked.push_back({name, {}, {}});
      for (const auto& p : t.partitions) asked.back().partitions.push_back(p.index);
    }
  } else {
    asked = *req.topic_partitions;
  }
  elect_leaders_response r;
  bool moved = false;
  for (const auto& want : asked) {
    elect_leaders_response::replica_election_result tr;
    tr.topic = want.topic;
    for (auto index : want.partitions) {
      elect_leaders_response::partition_result pr;
      pr.partition_id = index;
      pr.error_message = std::nullopt;
      partition_state* p = s.find_partition(want.topic, index);
      auto [error, message] = p ? elect(s, *p, type, want.topic + "-" + std::to_string(index))
                                : std::pair{kafka_error::unknown_topic_or_partition,
                                            std::string("The partition does not exist.")};
      if (all && error == kafka_error::election_not_needed) continue;
      moved |= error == kafka_error::none;
      pr.error_code = code(error);
      if (error != kafka_error::none) pr.error_message = message;
      tr.partition_result.push_back(std::move(pr));
    }
    if (!tr.partition_result.empty() || !all) r.replica_election_results.push_back(std::move(tr));
  }
  if (moved) wake_all_fetches(s, ctx.now);  // fetches on the old leaders end with an error
  return wrap(std::move(r));
}

}  // namespace

extern const api_handler elect_leaders_api{.key = elect_leaders_request::api_key,
                                           .serve = serve,
                                           .error_response = nullptr,
                                           .targets = nullptr,
                                           .places_errors = false};

}  // namespace kwire::mockbroker::detail
