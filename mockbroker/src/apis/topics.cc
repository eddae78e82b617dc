// CreateTopics and DeleteTopics. Error faults answer the whole request,
// with the error on every topic.
#include <algorithm>

#include "../handler.hpp"
#include "../memory.hpp"
#include "../topic_config_model.hpp"
#include "kwire/protocol/messages.hpp"
#include "topic_configs.hpp"

namespace kwire::mockbroker::detail {
namespace {

any_message create_topics(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<create_topics_request>();
  const std::int16_t v = ctx.version;
  create_topics_response r;
  for (const auto& want : req.topics) {
    create_topics_response::creatable_topic_result tr;
    tr.name = want.name;
    tr.error_message = std::nullopt;
    topic_config cfg;
    cfg.partitions = want.num_partitions;
    cfg.replication_factor = want.replication_factor;
    kafka_error error = kafka_error::none;
    std::string message;
    if (!want.assignments.empty()) {
      if (want.num_partitions != -1 || want.replication_factor != -1) {
        error = kafka_error::invalid_request;
        message = "assignments given together with a partition count or replication factor";
      }
      auto assignments = want.assignments;
      std::sort(assignments.begin(), assignments.end(),
                [](auto& a, auto& b) { return a.partition_index < b.partition_index; });
      for (std::size_t i = 0; i < assignments.size(); ++i) {
        if (assignments[i].partition_index != static_cast<std::int32_t>(i))
          error = kafka_error::invalid_replica_assignment;
        cfg.assignments.push_back(assignments[i].broker_ids);
      }
    } else if (want.num_partitions == 0 || want.num_partitions < -1) {
      error = kafka_error::invalid_partitions;
    } else if (want.replication_factor == 0 || want.replication_factor < -1) {
      error = kafka_error::invalid_replication_factor;
    }
    // Configs are checked after the partitions and replicas, as Kafka does.
    create_topic_overrides asked;
    if (error == kafka_error::none) {
      asked = check_create_topic_configs(want.configs);
      if (!asked.error.empty()) {
        error = kafka_error::invalid_config;
        message = std::move(asked.error);
      }
    }
    topic_state* created = nullptr;
    if (error == kafka_error::none) {
      error = s.create_topic(want.name, cfg, req.validate_only, &created);
      if (created) {
        tr.topic_id = created->id;
        set_topic_overrides(s.config, *created, asked.overrides);
      }
    }
    if (error != kafka_error::none) {
      tr.error_code = code(error);
      if (v >= 1)
        tr.error_message = message.empty() ? std::string(kafka_error_name(code(error))) : message;
    } else if (v >= 5) {
      // validate_only: what the topic would have been.
      topic_state would_be;
      if (!created) set_topic_overrides(s.config, would_be, asked.overrides);
      const topic_state& t = created ? *created : would_be;
      tr.num_partitions =
          created ? static_cast<std::int32_t>(t.partitions.size())
                  : (cfg.partitions == -1 ? s.config.default_partitions : cfg.partitions);
      tr.replication_factor =
          created ? static_cast<std::int16_t>(t.partitions.front().replicas.size())
                  : (cfg.replication_factor == -1
                         ? std::min<std::int16_t>(s.config.default_replication_factor,
                                                  static_cast<std::int16_t>(s.brokers.size()))
                         : cfg.replication_factor);
      std::vector<create_topics_response::creatable_topic_configs> configs;
      for (const auto& d : describe_topic_configs(s.config, t))
        configs.push_back(
            {d.name, d.value, d.read_only, static_cast<std::int8_t>(d.source), d.sensitive, {}});
      tr.configs = std::move(configs);
    }
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

any_message create_topics_error(const cluster_state&, const decoded_request& request,
                                std::int16_t error) {
  create_topics_response r;
  for (auto& t : request.body.as<create_topics_request>()->topics) {
    create_topics_response::creatable_topic_result tr;
    tr.name = t.name;
    tr.error_code = error;
    tr.error_message = request.header.api_version >= 1
                           ? std::optional<std::string>(std::string(kafka_error_name(error)))
                           : std::nullopt;
    tr.configs = std::nullopt;
    r.topics.push_back(std::move(tr));
  }
  return wrap(std::move(r));
}

std::vector<target> create_topics_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (auto& t : request.body.as<create_topics_request>()->topics) out.push_back({t.name, -1, -1});
  return out;
}

any_message delete_topics(cluster_state& s, const decoded_request& request, request_context& ctx) {
  const auto& req = *request.body.as<delete_topics_request>();
  delete_topics_response r;
  auto remove = [&](topic_state* t, delete_topics_response::deletable_topic_result& tr,
                    kafka_error missing) {
    if (!t) {
      tr.error_code = code(missing);
      return;
    }
    tr.topic_id = t->id;
    const std::string name = t->name;
    s.topics.erase(name);
    wake_all_fetches(s, ctx.now);  // a fetch waiting on it ends with an error
    give_back_free_memory();
  };
  if (ctx.version < 6) {
    for (const auto& name : req.topic_names) {
      delete_topics_response::deletable_topic_result tr;
      tr.name = name;
      remove(s.find_topic(name), tr, kafka_error::unknown_topic_or_partition);
      tr.topic_id = {};
      r.responses.push_back(std::move(tr));
    }
  } else {
    for (const auto& want : req.topics) {
      delete_topics_response::deletable_topic_result tr;
      tr.name = want.name;
      if (want.name) {
        remove(s.find_topic(*want.name), tr, kafka_error::unknown_topic_or_partition);
      } else {
        tr.topic_id = want.topic_id;
        topic_state* t = s.find_topic_by_id(want.topic_id);
        if (t) tr.name = t->name;
        remove(t, tr, kafka_error::unknown_topic_id);
      }
      r.responses.push_back(std::move(tr));
    }
  }
  return wrap(std::move(r));
}

any_message delete_topics_error(const cluster_state&, const decoded_request& request,
                                std::int16_t error) {
  const auto& req = *request.body.as<delete_topics_request>();
  delete_topics_response r;
  for (auto& n : req.topic_names) r.responses.push_back({n, {}, error, std::nullopt, {}});
  for (auto& t : req.topics) r.responses.push_back({t.name, t.topic_id, error, std::nullopt, {}});
  return wrap(std::move(r));
}

std::vector<target> delete_topics_targets(const cluster_state& s, const decoded_request& request) {
  const auto& req = *request.body.as<delete_topics_request>();
  std::vector<target> out;
  for (auto& n : req.topic_names) out.push_back({n, -1, -1});
  for (auto& t : req.topics) {
    if (t.name)
      out.push_back({*t.name, -1, -1});
    else if (const auto* ts = s.find_topic_by_id(t.topic_id))
      out.push_back({ts->name, -1, -1});
  }
  return out;
}

}  // namespace

extern const api_handler create_topics_api{.key = create_topics_request::api_key,
                                           .serve = create_topics,
                                           .error_response = create_topics_error,
                                           .targets = create_topics_targets,
                                           .places_errors = false};

extern const api_handler delete_topics_api{.key = delete_topics_request::api_key,
                                           .serve = delete_topics,
                                           .error_response = delete_topics_error,
                                           .targets = delete_topics_targets,
                                           .places_errors = false};

}  // namespace kwire::mockbroker::detail
