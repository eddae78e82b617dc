// AlterConfigs (the topic's overrides replaced by those given) and
// IncrementalAlterConfigs (SET, DELETE, APPEND, SUBTRACT), both checked
// against the topic config model and applied at once, or only checked with
// validate_only. Broker configs are not altered (INVALID_REQUEST). Error
// faults answer every resource with the error.
#include <algorithm>
#include <set>

#include "../handler.hpp"
#include "../topic_config_model.hpp"
#include "config_resources.hpp"
#include "kwire/protocol/messages.hpp"

namespace kwire::mockbroker::detail {
namespace {

using overrides_t = std::map<std::string, std::string, std::less<>>;

/// Kafka's IncrementalAlterConfigs operations.
enum class op : std::int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

/// The topic a resource names, checked for what alters it; null with `why` set.
topic_state* alterable_topic(cluster_state& s, std::int8_t type, const std::string& name,
                             resource_error& why) {
  if (type == broker_resource || type == broker_logger_resource) {
    why = {kafka_error::invalid_request, "The mock cluster does not alter broker configs"};
    return nullptr;
  }
  if (type != topic_resource) {
    why = unknown_resource_type(type);
    return nullptr;
  }
  return find_config_topic(s, name, why);
}

/// Stores the new overrides unless only validating; retention follows at once.
void commit(cluster_state& s, topic_state& t, overrides_t overrides, bool validate_only) {
  if (validate_only) return;
  set_topic_overrides(s.config, t, std::move(overrides));
  for (auto& p : t.partitions) s.apply_retention(t, p);
}

template <class Config>
bool has_duplicates(const std::vector<Config>& configs) {
  std::set<std::string_view> seen;
  for (const auto& c : configs)
    if (!seen.insert(c.name).second) return true;
  return false;
}

resource_error alter_topic(cluster_state& s, topic_state& t,
                           const alter_configs_request::alter_configs_resource& want,
                           bool validate_only) {
  overrides_t next;
  for (const auto& c : want.configs) {
    checked_value checked = check_topic_config(c.name, c.value);
    if (!checked.value) return {kafka_error::invalid_config, std::move(checked.error)};
    next[c.name] = std::move(*checked.value);
  }
  commit(s, t, std::move(next), validate_only);
  return {};
}

/// The items of a LIST value, without blanks.
std::vector<std::string> items_of(std::string_view list) {
  std::vector<std::string> out;
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (comma != 0) out.emplace_back(list.substr(0, comma));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

/// APPEND or SUBTRACT `value`'s items to or from the current list (the
/// override, else the default), as Kafka does; nullopt with `why` set.
std::optional<std::string> edit_list(const overrides_t& current, const topic_config_def& d,
                                     const std::string& value, op what, resource_error& why) {
  const checked_value checked = check_topic_config(d.name, value);
  if (!checked.value) {
    why = {kafka_error::invalid_config, checked.error};
    return std::nullopt;
  }
  auto it = current.find(d.name);
  std::vector<std::string> items =
      items_of(it != current.end() ? std::string_view(it->second) : d.default_value);
  for (const auto& item : items_of(*checked.value)) {
    auto at = std::find(items.begin(), items.end(), item);
    if (what == op::append && at == items.end()) items.push_back(item);
    if (what == op::subtract && at != items.end()) items.erase(at);
  }
  return join(items);
}

resource_error alter_topic_incrementally(
    cluster_state& s, topic_state& t,
    const incremental_alter_configs_request::alter_configs_resource& want, bool validate_only) {
  overrides_t next = t.config_overrides;
  for (const auto& c : want.configs) {
    const auto what = static_cast<op>(c.config_operation);
    if (c.config_operation < 0 || c.config_operation > 3)
      return {kafka_error::invalid_request,
              "Unknown alter config operation " + std::to_string(c.config_operation)};
    if (what == op::remove) {
      next.erase(c.name);
      continue;
    }
    const topic_config_def* d = find_topic_config(c.name);
    if (what == op::set || !d || !c.value) {
      checked_value checked = check_topic_config(c.name, c.value);
      if (!checked.value) return {kafka_error::invalid_config, std::move(checked.error)};
      if (what == op::set) {
        next[c.name] = std::move(*checked.value);
        continue;
      }
    }
    if (d->type != config_type::list)
      return {kafka_error::invalid_request, std::string("Config value ") +
                                                (what == op::append ? "append" : "subtract") +
                                                " is not allowed for config key: " + c.name};
    resource_error why;
    auto edited = edit_list(next, *d, *c.value, what, why);
    if (!edited) return why;
    next[c.name] = std::move(*edited);
  }
  commit(s, t, std::move(next), validate_only);
  return {};
}

/// One resource of either API: find the topic, refuse duplicates, alter.
template <class Resource, class Alter>
std::pair<std::int16_t, std::optional<std::string>> serve_resource(cluster_state& s,
                                                                   const Resource& want,
                                                                   bool validate_only,
                                                                   Alter alter) {
  resource_error why;
  if (topic_state* t = alterable_topic(s, want.resource_type, want.resource_name, why)) {
    if (has_duplicates(want.configs))
      why = {kafka_error::invalid_request, "Error due to duplicate config keys"};
    else
      why = alter(s, *t, want, validate_only);
  }
  if (why.error == kafka_error::none) return {0, std::nullopt};
  return {code(why.error), why.message};
}

any_message alter_configs(cluster_state& s, const decoded_request& request, request_context&) {
  const auto& req = *request.body.as<alter_configs_request>();
  alter_configs_response r;
  for (const auto& want : req.resources) {
    auto [error, message] = serve_resource(s, want, req.validate_only, alter_topic);
    r.responses.push_back({error, message, want.resource_type, want.resource_name, {}});
  }
  return wrap(std::move(r));
}

any_message incremental_alter_configs(cluster_state& s, const decoded_request& request,
                                      request_context&) {
  const auto& req = *request.body.as<incremental_alter_configs_request>();
  incremental_alter_configs_response r;
  for (const auto& want : req.resources) {
    auto [error, message] = serve_resource(s, want, req.validate_only, alter_topic_incrementally);
    r.responses.push_back({error, message, want.resource_type, want.resource_name, {}});
  }
  return wrap(std::move(r));
}

template <class Request, class Response>
any_message alter_error(const cluster_state&, const decoded_request& request, std::int16_t error) {
  Response r;
  for (const auto& want : request.body.as<Request>()->resources)
    r.responses.push_back(
        {error, std::string(kafka_error_name(error)), want.resource_type, want.resource_name, {}});
  return wrap(std::move(r));
}

template <class Request>
std::vector<target> alter_targets(const cluster_state&, const decoded_request& request) {
  std::vector<target> out;
  for (const auto& want : request.body.as<Request>()->resources)
    if (want.resource_type == topic_resource) out.push_back({want.resource_name, -1, -1});
  return out;
}

}  // namespace

extern const api_handler alter_configs_api{
    .key = alter_configs_request::api_key,
    .serve = alter_configs,
    .error_response = alter_error<alter_configs_request, alter_configs_response>,
    .targets = alter_targets<alter_configs_request>,
    .places_errors = false};

extern const api_handler incremental_alter_configs_api{
    .key = incremental_alter_configs_request::api_key,
    .serve = incremental_alter_configs,
    .error_response =
        alter_error<incremental_alter_configs_request, incremental_alter_configs_response>,
    .targets = alter_targets<incremental_alter_configs_request>,
    .places_errors = false};

}  // namespace kwire::mockbroker::detail
