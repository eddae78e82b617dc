// OffsetCommit, OffsetFetch and OffsetDelete: the coordinator check (Kafka's
// validateGroupStatus; the commit and fetch APIs take an empty group id),
// then the group module (groups/offsets.cc), or for a consumer group
// (KIP-848: the generation is the member epoch) groups/consumer_group_admin.cc.
#include "../groups/consumer_groups.hpp"
#include "../groups/groups.hpp"
#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

// ---- OffsetCommit ---------------------------------------------------------------

/// The answer with each partition's error, in request order.
offset_commit_response commit_answer(const offset_commit_request& req,
                                     const std::vector<commit_partition>& done) {
  offset_commit_response r;
  std::size_t i = 0;
  for (const auto& t : req.topics) {
    offset_commit_response::offset_commit_response_topic rt;
    rt.name = t.name;
    for (const auto& p : t.partitions)
      rt.partitions.push_back({p.partition_index, done[i++].error, {}});
    r.topics.push_back(std::move(rt));
  }
  return r;
}

any_message serve_commit(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<offset_commit_request>();
  std::vector<commit_partition> parts;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions)
      parts.push_back({t.name, p.partition_index, p.committed_offset, p.committed_leader_epoch,
                       p.committed_metadata, 0});
  if (auto e = check_group_status(s, req.group_id, group_id_rule::any, ctx.broker_id)) {
    // Unknown partitions are told so whatever the group's state.
    for (auto& p : parts) {
      const topic_state* t = s.find_topic(p.topic);
      const bool known =
          t && p.partition >= 0 && static_cast<std::size_t>(p.partition) < t->partitions.size();
      p.error = known ? *e : code(kafka_error::unknown_topic_or_partition);
    }
  } else if (consumer_group* g = s.consumer_groups.find(req.group_id)) {
    commit_consumer_offsets(s, *g, req.generation_id_or_member_epoch, req.member_id, ctx.version,
                            parts, ctx.now);
  } else {
    commit_offsets(s, req.group_id, req.generation_id_or_member_epoch, req.member_id,
                   req.group_instance_id, parts, ctx.now);
  }
  return wrap(commit_answer(req, parts));
}

any_message commit_error(const cluster_state&, const decoded_request& request, std::int16_t error) {
  const auto& req = *request.body.as<offset_commit_request>();
  std::vector<commit_partition> parts;
  for (const auto& t : req.topics)
    for (std::size_t i = 0; i < t.partitions.size(); ++i)
      parts.push_back({{}, 0, 0, -1, {}, error});
  return wrap(commit_answer(req, parts));
}

std::vector<target> commit_targets(const cluster_state&, const decoded_request& request) {
  const auto& req = *request.body.as<offset_commit_request>();
  std::vector<target> out;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) out.push_back({t.name, p.partition_index, -1, req.group_id});
  if (out.empty()) out.push_back({{}, -1, -1, req.group_id});
  return out;
}

// ---- OffsetFetch ----------------------------------------------------------------

using topic_list = std::optional<std::vector<std::pair<std::string, std::vector<std::int32_t>>>>;

template <class Topic>
topic_list list_of(const std::optional<std::vector<Topic>>& topics) {
  topic_list out;
  if (!topics) return out;
  out.emplace();
  for (const auto& t : *topics) out->emplace_back(t.name, t.partition_indexes);
  return out;
}

/// The fetched offsets grouped by topic, in the order they came.
template <class TopicOut>
std::vector<TopicOut> by_topic(const std::vector<fetched_offset>& offsets) {
  std::vector<TopicOut> out;
  for (const auto& f : offsets) {
    if (out.empty() || out.back().name != f.topic) {
      out.emplace_back();
      out.back().name = f.topic;
    }
    auto& p = out.back().partitions.emplace_back();
    p.partition_index = f.partition;
    p.committed_offset = f.offset;
    p.committed_leader_epoch = f.leader_epoch;
    p.metadata = f.metadata;
  }
  return out;
}

any_message serve_fetch(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<offset_fetch_request>();
  offset_fetch_response r;
  if (ctx.version >= 8) {
    for (const auto& g : req.groups) {
      offset_fetch_response::offset_fetch_response_group rg;
      rg.group_id = g.group_id;
      const consumer_group* cg = s.consumer_groups.find(g.group_id);
      if (auto e = check_group_status(s, g.group_id, group_id_rule::any, ctx.broker_id))
        rg.error_code = *e;
      else if (auto refused = cg ? check_consumer_offset_fetch(*cg, g.member_id, g.member_epoch)
                                 : std::nullopt)
        rg.error_code = *refused;
      else
        rg.topics = by_topic<offset_fetch_response::offset_fetch_response_topics>(
            fetch_offsets(s, g.group_id, list_of(g.topics)));
      r.groups.push_back(std::move(rg));
    }
    return wrap(std::move(r));
  }
  if (auto e = check_group_status(s, req.group_id, group_id_rule::any, ctx.broker_id)) {
    if (ctx.version >= 2) {
      r.error_code = *e;
    } else {
      // v0-v1 have no top-level error: every partition carries it.
      auto parts = fetch_offsets(s, "", list_of(req.topics));
      r.topics = by_topic<offset_fetch_response::offset_fetch_response_topic>(parts);
      for (auto& t : r.topics)
        for (auto& p : t.partitions) {
          p.committed_offset = -1;
          p.committed_leader_epoch = -1;
          p.metadata = "";
          p.error_code = *e;
        }
    }
    return wrap(std::move(r));
  }
  r.topics = by_topic<offset_fetch_response::offset_fetch_response_topic>(
      fetch_offsets(s, req.group_id, list_of(req.topics)));
  return wrap(std::move(r));
}

any_message fetch_error(const cluster_state&, const decoded_request& request, std::int16_t error) {
  const auto& req = *request.body.as<offset_fetch_request>();
  const std::int16_t v = request.header.api_version;
  offset_fetch_response r;
  if (v >= 8) {
    for (const auto& g : req.groups) {
      offset_fetch_response::offset_fetch_response_group rg;
      rg.group_id = g.group_id;
      rg.error_code = error;
      r.groups.push_back(std::move(rg));
    }
  } else if (v >= 2) {
    r.error_code = error;
  } else if (req.topics) {
    for (const auto& t : *req.topics) {
      offset_fetch_response::offset_fetch_response_topic rt;
      rt.name = t.name;
      for (std::int32_t p : t.partition_indexes) {
        offset_fetch_response::offset_fetch_response_partition rp;
        rp.partition_index = p;
        rp.committed_offset = -1;
        rp.metadata = "";
        rp.error_code = error;
        rt.partitions.push_back(std::move(rp));
      }
      r.topics.push_back(std::move(rt));
    }
  }
  return wrap(std::move(r));
}

std::vector<target> fetch_targets(const cluster_state&, const decoded_request& request) {
  const auto& req = *request.body.as<offset_fetch_request>();
  std::vector<target> out;
  auto add = [&](const std::string& group, const topic_list& topics) {
    bool any = false;
    if (topics)
      for (const auto& [name, parts] : *topics)
        for (std::int32_t p : parts) {
          out.push_back({name, p, -1, group});
          any = true;
        }
    if (!any) out.push_back({{}, -1, -1, group});
  };
  if (request.header.api_version >= 8)
    for (const auto& g : req.groups) add(g.group_id, list_of(g.topics));
  else
    add(req.group_id, list_of(req.topics));
  return out;
}

// ---- OffsetDelete ---------------------------------------------------------------

any_message serve_delete(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<offset_delete_request>();
  offset_delete_response r;
  if (auto e = check_group_status(s, req.group_id, group_id_rule::non_empty, ctx.broker_id)) {
    r.error_code = *e;
    return wrap(std::move(r));
  }
  std::vector<commit_partition> parts;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) parts.push_back({t.name, p.partition_index, 0, -1, {}, 0});
  r.error_code = delete_offsets(s, req.group_id, parts);
  if (r.error_code != 0) return wrap(std::move(r));
  std::size_t i = 0;
  for (const auto& t : req.topics) {
    offset_delete_response::offset_delete_response_topic rt;
    rt.name = t.name;
    for (const auto& p : t.partitions)
      rt.partitions.push_back({p.partition_index, parts[i++].error, {}});
    r.topics.push_back(std::move(rt));
  }
  return wrap(std::move(r));
}

std::vector<target> delete_targets(const cluster_state&, const decoded_request& request) {
  const auto& req = *request.body.as<offset_delete_request>();
  std::vector<target> out;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) out.push_back({t.name, p.partition_index, -1, req.group_id});
  if (out.empty()) out.push_back({{}, -1, -1, req.group_id});
  return out;
}

}  // namespace

extern const api_handler offset_commit_api{.key = offset_commit_request::api_key,
                                           .serve = serve_commit,
                                           .error_response = commit_error,
                                           .targets = commit_targets,
                                           .places_errors = false};
extern const api_handler offset_fetch_api{.key = offset_fetch_request::api_key,
                                          .serve = serve_fetch,
                                          .error_response = fetch_error,
                                          .targets = fetch_targets,
                                          .places_errors = false};
// Kafka's error answer to OffsetDelete is the top-level code alone.
extern const api_handler offset_delete_api{.key = offset_delete_request::api_key,
                                           .serve = serve_delete,
                                           .error_response = nullptr,
                                           .targets = delete_targets,
                                           .places_errors = false};

}  // namespace kwire::mockbroker::detail
