// DescribeLogDirs: each broker has one log dir, "/var/lib/kwire-mock/<id>",
// holding the partitions it is a replica of, with their sizes in bytes
// (replication is instant: no lag). Error faults answer the whole request
// with the error at the top level.
#include <algorithm>

#include "../handler.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

bool asked_for(const describe_log_dirs_request& req, const std::string& topic,
               std::int32_t partition) {
  if (!req.topics) return true;  // null: every partition
  for (const auto& t : *req.topics)
    if (t.topic == topic &&
        std::find(t.partitions.begin(), t.partitions.end(), partition) != t.partitions.end())
      return true;
  return false;
}

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<describe_log_dirs_request>();
  describe_log_dirs_response::describe_log_dirs_result dir;
  dir.log_dir = "/var/lib/kwire-mock/" + std::to_string(ctx.broker_id);
  for (const auto& [name, t] : s.topics) {
    describe_log_dirs_response::describe_log_dirs_topic dt;
    dt.name = name;
    for (const auto& p : t.partitions) {
      if (std::find(p.replicas.begin(), p.replicas.end(), ctx.broker_id) == p.replicas.end() ||
          !asked_for(req, name, p.index))
        continue;
      dt.partitions.push_back({p.index, static_cast<std::int64_t>(p.bytes), 0, false, {}});
    }
    if (!dt.partitions.empty()) dir.topics.push_back(std::move(dt));
  }
  describe_log_dirs_response r;
  r.results.push_back(std::move(dir));
  return wrap(std::move(r));
}

}  // namespace

extern const api_handler describe_log_dirs_api{.key = describe_log_dirs_request::api_key,
                                               .serve = serve,
                                               .error_response = nullptr,
                                               .targets = nullptr,
                                               .places_errors = false};

}  // namespace kwire::mockbroker::detail
