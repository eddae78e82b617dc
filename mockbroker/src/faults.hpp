// Fault rules: which rules a request fires, in one place. Internal to the
// core. The request path asks evaluate() once per request and hands what
// fired to the handlers through the request_context; nothing else draws
// from the seeded source, so a seed replays the same faults.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"

namespace kwire::mockbroker::detail {

/// A rule with its counters, as kept by the cluster.
struct rule_entry {
  rule_id id = 0;
  fault_rule rule;
  std::uint64_t matched = 0;
  std::uint64_t fired = 0;
};

/// Something a request touches, for matching fault rules.
struct target {
  /// A constructor rather than an aggregate, so that handlers that name no
  /// group keep writing {topic, partition, producer_id}.
  target(std::string topic_ = {}, std::int32_t partition_ = -1, std::int64_t producer_id_ = -1,
         std::optional<std::string> group_ = std::nullopt)
      : topic(std::move(topic_)),
        partition(partition_),
        producer_id(producer_id_),
        group(std::move(group_)) {}

  std::string topic;
  std::int32_t partition = -1;
  std::int64_t producer_id = -1;
  std::optional<std::string> group;  ///< the group id of a group request
};

/// Does `m`'s topic/partition/producer filter accept `t`?
bool target_matches(const fault_match& m, const target& t);
/// Does `m` name a topic, partition, producer id or group?
bool has_target_filter(const fault_match& m);

/// What the rules that fired on one request add up to.
struct fired_faults {
  std::vector<rule_entry> rules;  ///< copies of the rules that fired, in rule order
  duration delay{};               ///< the sum of the delays
  std::int32_t throttle_ms = -1;  ///< the largest throttle, -1 if none

  bool has(fault_kind kind) const;
  /// The error code of the first rule of `kind` that fired (0 if none).
  std::int16_t first_code(fault_kind kind) const;
  /// The error an error rule (before = true) or an append_then_error rule
  /// (before = false) that fired puts on `t`, if any.
  std::optional<std::int16_t> error_for(const target& t, bool before) const;
  /// The ids and kinds, for handle_result and the request log.
  std::vector<applied_fault> applied() const;
};

/// The rules of a cluster and the seeded source of their probabilities.
class fault_rules {
 public:
  explicit fault_rules(std::uint64_t seed) : random_(seed) {}

  rule_id add(fault_rule rule);
  bool remove(rule_id id);
  void clear() { rules_.clear(); }
  const std::vector<rule_entry>& entries() const noexcept { return rules_; }

  /// Counts and fires the rules for one request, in the order they were
  /// added. `targets` is asked at most once, and only if a rule filters on
  /// topic, partition or producer id.
  fired_faults evaluate(std::int32_t broker_id, std::int16_t api_key, std::int16_t api_version,
                        const std::function<std::vector<target>()>& targets);

 private:
  /// A uniform draw in [0, 1) from the seeded source.
  double next_unit();

  std::vector<rule_entry> rules_;
  rule_id next_id_ = 1;
  std::mt19937_64 random_;
};

}  // namespace kwire::mockbroker::detail
