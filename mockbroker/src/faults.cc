// Fault rules: matching, counting, probabilities and what fired adds up to.
#include "faults.hpp"

#include <algorithm>

namespace kwire::mockbroker {

std::string_view fault_kind_name(fault_kind kind) noexcept {
  switch (kind) {
    case fault_kind::error:
      return "error";
    case fault_kind::delay:
      return "delay";
    case fault_kind::drop:
      return "drop";
    case fault_kind::close_before:
      return "close_before";
    case fault_kind::close_after_processing:
      return "close_after_processing";
    case fault_kind::close_after_response:
      return "close_after_response";
    case fault_kind::append_then_error:
      return "append_then_error";
    case fault_kind::append_then_drop:
      return "append_then_drop";
    case fault_kind::throttle:
      return "throttle";
  }
  return "unknown";
}

namespace detail {

bool has_target_filter(const fault_match& m) {
  return m.topic.has_value() || m.partition.has_value() || m.producer_id.has_value() ||
         m.group.has_value();
}

bool target_matches(const fault_match& m, const target& t) {
  if (m.topic && *m.topic != t.topic) return false;
  if (m.partition && *m.partition != t.partition) return false;
  if (m.producer_id && *m.producer_id != t.producer_id) return false;
  if (m.group && (!t.group || *m.group != *t.group)) return false;
  return true;
}

bool fired_faults::has(fault_kind kind) const {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const rule_entry& e) { return e.rule.action.kind == kind; });
}

std::int16_t fired_faults::first_code(fault_kind kind) const {
  for (const auto& e : rules)
    if (e.rule.action.kind == kind) return e.rule.action.error_code;
  return 0;
}

std::optional<std::int16_t> fired_faults::error_for(const target& t, bool before) const {
  const fault_kind want = before ? fault_kind::error : fault_kind::append_then_error;
  for (const auto& e : rules)
    if (e.rule.action.kind == want && target_matches(e.rule.match, t))
      return e.rule.action.error_code;
  return std::nullopt;
}

std::vector<applied_fault> fired_faults::applied() const {
  std::vector<applied_fault> out;
  for (const auto& e : rules) out.push_back({e.id, e.rule.action.kind});
  return out;
}

rule_id fault_rules::add(fault_rule rule) {
  const rule_id id = next_id_++;
  rules_.push_back({id, std::move(rule), 0, 0});
  return id;
}

bool fault_rules::remove(rule_id id) {
  return std::erase_if(rules_, [&](const rule_entry& e) { return e.id == id; }) > 0;
}

double fault_rules::next_unit() {
  // 53 random bits: the same on every standard library, unlike the distributions.
  return static_cast<double>(random_() >> 11) * (1.0 / 9007199254740992.0);
}

fired_faults fault_rules::evaluate(std::int32_t broker_id, std::int16_t api_key,
                                   std::int16_t api_version,
                                   const std::function<std::vector<target>()>& targets_of) {
  fired_faults out;
  std::vector<target> targets;
  bool targets_known = false;
  for (auto& rule : rules_) {
    const fault_match& m = rule.rule.match;
    if (m.broker && *m.broker != broker_id) continue;
    if (m.api_key && *m.api_key != api_key) continue;
    if (m.api_version && *m.api_version != api_version) continue;
    if (has_target_filter(m)) {
      if (!targets_known) {
        targets = targets_of();
        targets_known = true;
      }
      if (std::none_of(targets.begin(), targets.end(),
                       [&](const target& t) { return target_matches(m, t); }))
        continue;
    }
    ++rule.matched;
    // The order of these checks decides when the seeded source is drawn
    // from: only for a rule that could fire now. Changing it changes replays.
    if (m.nth > 0 && rule.matched < m.nth) continue;
    if (rule.rule.count && rule.fired >= *rule.rule.count) continue;
    if (m.probability < 1.0 && !(next_unit() < m.probability)) continue;
    ++rule.fired;
    out.rules.push_back(rule);
  }
  for (const auto& e : out.rules) {
    if (e.rule.action.kind == fault_kind::delay) out.delay += e.rule.action.delay;
    if (e.rule.action.kind == fault_kind::throttle)
      out.throttle_ms = std::max(out.throttle_ms, e.rule.action.throttle_ms);
  }
  return out;
}

}  // namespace detail
}  // namespace kwire::mockbroker
