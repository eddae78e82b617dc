// Produce: per partition, leadership, the records (produce_records.cc),
// acks and min.insync.replicas, idempotence and appending (idempotence.cc);
// acks=0 answers nothing. Error faults land on the partitions they match.
#include <algorithm>

#include "../handler.hpp"
#include "idempotence.hpp"
#include "kwire/protocol/batch_header.hpp"
#include "produce_records.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// The producer id of a partition's batch, -1 for none or no v2 batch header.
std::int64_t producer_id_of(const record_set& records) {
  auto header = peek_batch_header(records.bytes());
  return header ? header->producer_id : -1;
}

any_message serve(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<produce_request>();
  const std::int16_t v = ctx.version;
  produce_response r;
  bool any_error = false;
  std::string first_error;

  auto add_endpoint = [&](std::int32_t broker_id) {
    if (v < 10 || broker_id < 0) return;
    for (auto& e : r.node_endpoints)
      if (e.node_id == broker_id) return;
    const broker_state* b = s.find_broker(broker_id);
    r.node_endpoints.push_back({b->id, b->host, b->port, b->rack, {}});
  };

  for (const auto& topic : req.topic_data) {
    produce_response::topic_produce_response tr;
    tr.name = topic.name;
    for (const auto& data : topic.partition_data) {
      produce_response::partition_produce_response pr;
      pr.index = data.index;
      pr.base_offset = -1;
      auto set_error = [&](std::int16_t e, std::optional<std::string> message = std::nullopt) {
        pr.error_code = e;
        pr.base_offset = -1;
        pr.log_append_time_ms = -1;
        pr.log_start_offset = -1;
        if (v >= 8) pr.error_message = std::move(message);
      };
      [&] {
        if (req.acks != 0 && req.acks != 1 && req.acks != -1)
          return set_error(code(kafka_error::invalid_required_acks));
        topic_state* t = s.find_topic(topic.name);
        partition_state* p = t ? s.find_partition(topic.name, data.index) : nullptr;
        if (!p) return set_error(code(kafka_error::unknown_topic_or_partition));
        if (p->leader != ctx.broker_id) {
          set_error(code(kafka_error::not_leader_or_follower));
          if (v >= 10) pr.current_leader = {p->leader, p->leader_epoch, {}};
          add_endpoint(p->leader);
          return;
        }
        const std::int64_t pid = producer_id_of(data.records);
        if (auto e = ctx.injected_error({topic.name, data.index, pid}, true)) return set_error(*e);
        parsed_batch batch = parse_produce_records(data.records, v);
        if (batch.error) {
          set_error(batch.error, batch.message);
          if (v >= 8) pr.record_errors = std::move(batch.record_errors);
          return;
        }
        if (req.acks == -1 && static_cast<std::int64_t>(p->isr.size()) < t->min_insync_replicas)
          return set_error(code(kafka_error::not_enough_replicas));
        // The topic's max.message.bytes bounds a batch, as Kafka's log does.
        if (batch.bytes.size() > static_cast<std::size_t>(std::max(t->max_message_bytes, 0)))
          return set_error(code(kafka_error::message_too_large));
        // Idempotence: per producer id and partition, the epoch and last five batches.
        // Refusals by the log carry its start offset, as Kafka's do: a producer
        // told UNKNOWN_PRODUCER_ID compares it with what it had acknowledged.
        const sequence_verdict verdict = check_sequence(s, *p, batch.header);
        if (verdict.what == sequence_verdict::kind::refuse) {
          set_error(code(verdict.error));
          pr.log_start_offset = p->log_start;
          return;
        }
        if (verdict.what == sequence_verdict::kind::duplicate) {
          // A retried batch: answer with where it went, do not write it twice.
          pr.base_offset = verdict.original->base_offset;
          pr.log_append_time_ms = verdict.original->log_append_time;
          pr.log_start_offset = p->log_start;
          return;
        }
        const appended where = append_batch(s, *t, *p, batch.bytes, batch.header, ctx.now_ms());
        pr.base_offset = where.base_offset;
        pr.log_append_time_ms = where.log_append_time;
        pr.log_start_offset = p->log_start;
        wake_fetches(s, t->name, data.index, ctx.now);
        if (auto e = ctx.injected_error({topic.name, data.index, pid}, false)) set_error(*e);
      }();
      if (pr.error_code != 0 && !any_error) {
        any_error = true;
        first_error = std::string(kafka_error_name(pr.error_code)) + " on " + topic.name + "-" +
                      std::to_string(data.index);
      }
      tr.partition_responses.push_back(std::move(pr));
    }
    r.responses.push_back(std::move(tr));
  }
  if (req.acks == 0) {
    // No response; on an error Kafka closes the connection so that the
    // producer notices and refreshes its metadata.
    ctx.no_response = true;
    if (any_error) {
      ctx.close_after = true;
      ctx.close_reason = "acks=0 produce failed: " + first_error;
    }
  }
  return wrap(std::move(r));
}

any_message error_response(const cluster_state&, const decoded_request& request,
                           std::int16_t error) {
  const auto& req = *request.body.as<produce_request>();
  produce_response r;
  for (auto& t : req.topic_data) {
    produce_response::topic_produce_response tr;
    tr.name = t.name;
    for (auto& p : t.partition_data)
      tr.partition_responses.push_back({p.index, error, -1, -1, -1, {}, {}, {}, {}});
    r.responses.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

std::vector<target> targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (auto& t : request.body.as<produce_request>()->topic_data)
    for (auto& p : t.partition_data) out.push_back({t.name, p.index, producer_id_of(p.records)});
  return out;
}

}  // namespace

extern const api_handler produce_api{.key = produce_request::api_key,
                                     .serve = serve,
                                     .error_response = error_response,
                                     .targets = targets,
                                     .places_errors = true};

}  // namespace kwire::mockbroker::detail
