// Which broker coordinates a group (groups.hpp): FindCoordinator's choice,
// and the status check every group request starts with.
#include "../state.hpp"
#include "groups.hpp"

namespace kwire::mockbroker::detail {
namespace {

/// FNV-1a: a stable hash for coordinator choice.
std::uint64_t stable_hash(std::string_view s) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

constexpr std::int16_t error_code(kafka_error e) noexcept { return static_cast<std::int16_t>(e); }

}  // namespace

coordinator_choice coordinator_by_hash(const cluster_state& s, std::string_view key) {
  coordinator_choice c;
  const std::size_t n = s.brokers.size();
  const std::size_t start = stable_hash(key) % n;
  for (std::size_t i = 0; i < n; ++i) {
    const broker_info& b = s.brokers[(start + i) % n];
    if (b.up) {
      c.broker = &b;
      return c;
    }
  }
  c.error = error_code(kafka_error::coordinator_not_available);
  return c;
}

coordinator_choice group_coordinator_for(const cluster_state& s, std::string_view group) {
  auto it = s.groups.coordinator_overrides.find(group);
  if (it == s.groups.coordinator_overrides.end()) return coordinator_by_hash(s, group);
  coordinator_choice c;
  const broker_info* b = s.find_broker(it->second);
  if (b && b->up)
    c.broker = b;
  else
    c.error = error_code(kafka_error::coordinator_not_available);
  return c;
}

std::optional<std::int16_t> check_group_status(const cluster_state& s, std::string_view group,
                                               group_id_rule rule, std::int32_t broker_id) {
  if (rule == group_id_rule::non_empty && group.empty())
    return error_code(kafka_error::invalid_group_id);
  const coordinator_choice c = group_coordinator_for(s, group);
  if (c.error) return c.error;
  if (c.broker->id != broker_id) return error_code(kafka_error::not_coordinator);
  return std::nullopt;
}

}  // namespace kwire::mockbroker::detail
