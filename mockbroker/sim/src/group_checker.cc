// The consumer-group checker (group_checker.hpp).
#include "kwire/sim/group_checker.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace kwire::sim {
namespace {

std::string partition_offset(std::int32_t p, std::int64_t offset) {
  return "partition " + std::to_string(p) + " offset " + std::to_string(offset);
}

std::string list(const std::vector<std::int32_t>& partitions) {
  std::string out = "[";
  for (std::size_t i = 0; i < partitions.size(); ++i)
    out += (i ? " " : "") + std::to_string(partitions[i]);
  return out + "]";
}

// Adds a violation; past `limit` of a kind only counts them, so that one
// broken run does not print thousands of lines.
struct violations_sink {
  std::vector<violation>& out;
  std::map<std::string, std::size_t> per_kind;
  void add(std::string kind, std::int64_t offset, std::string detail) {
    if (++per_kind[kind] > 20) return;
    out.push_back({std::move(kind), static_cast<std::uint64_t>(offset), std::move(detail)});
  }
};

}  // namespace

group_check_result check_group(world& w, const consumer_group& group,
                               const group_expectations& expect) {
  group_check_result out;
  violations_sink v{out.violations, {}};
  const consumer_log& log = group.log();
  const auto& members = log.members;
  auto name = [&](std::size_t m) { return m < members.size() ? members[m].name : "?"; };

  out.members = members.size();
  for (const auto& m : members) {
    out.crashes += m.crashed_at ? 1 : 0;
    out.restarts += m.restart_of ? 1 : 0;
    out.clean_leaves += m.left ? 1 : 0;
  }
  out.rebalance_notices = log.rebalance_notices;
  out.coordinator_changes = log.coordinator_changes;
  for (const auto& a : log.anomalies) v.add("consumer_anomaly", -1, a);

  // Ownership: one owner per partition and generation, as the leader planned.
  std::map<std::int32_t, std::map<std::int32_t, std::size_t>> owner;  // generation -> p -> member
  std::map<std::pair<std::int32_t, std::string>, std::vector<std::int32_t>> planned;
  for (const auto& p : log.plans) planned[{p.generation, p.member_id}] = p.partitions;
  std::set<std::int32_t> generations;
  for (const auto& a : log.assignments) {
    generations.insert(a.generation);
    for (const auto p : a.partitions) {
      auto [it, fresh] = owner[a.generation].emplace(p, a.member);
      if (!fresh && it->second != a.member)
        v.add("double_ownership", -1,
              "generation " + std::to_string(a.generation) + ": partition " + std::to_string(p) +
                  " assigned to " + name(it->second) + " and " + name(a.member));
    }
    auto plan = planned.find({a.generation, a.member_id});
    if (plan != planned.end() && plan->second != a.partitions)
      v.add("assignment_mismatch", -1,
            name(a.member) + " got " + list(a.partitions) + " in generation " +
                std::to_string(a.generation) + ", its leader assigned it " + list(plan->second));
  }
  out.generations = generations.size();

  // Commits: the highest acknowledged per partition, and every offset sent.
  std::map<std::int32_t, std::int64_t> highest_acked;
  std::set<std::pair<std::int32_t, std::int64_t>> ever_sent;
  for (const auto& c : log.commits) {
    ever_sent.insert({c.partition, c.offset});
    if (c.answered_at && c.error == 0) {
      ++out.commits_acked;
      auto& h = highest_acked.emplace(c.partition, -1).first->second;
      h = std::max(h, c.offset);
    } else {
      ++out.commits_refused;
    }
  }

  // Resuming: from the committed offset, never behind an acknowledged commit.
  for (const auto& s : log.starts) {
    std::int64_t acked_before = -1;
    for (const auto& c : log.commits)
      if (c.partition == s.partition && c.answered_at && *c.answered_at < s.asked_at &&
          c.error == 0)
        acked_before = std::max(acked_before, c.offset);
    const std::string who = name(s.member) + " in generation " + std::to_string(s.generation) +
                            " at " + format_time(s.at);
    if (s.committed < acked_before)
      v.add("stale_offset", s.committed,
            who + ": OffsetFetch of partition " + std::to_string(s.partition) + " gave " +
                std::to_string(s.committed) + ", but offset " + std::to_string(acked_before) +
                " was committed and acknowledged before it asked");
    if (s.committed >= 0 && !ever_sent.count({s.partition, s.committed}))
      v.add("phantom_offset", s.committed,
            who + ": OffsetFetch of partition " + std::to_string(s.partition) + " gave " +
                std::to_string(s.committed) + ", which no member committed");
    if (s.committed >= 0 && s.position != s.committed)
      v.add("skipped", s.position,
            who + " started partition " + std::to_string(s.partition) + " at " +
                std::to_string(s.position) + ", its committed offset is " +
                std::to_string(s.committed));
  }

  // Runs: from its start on, each processed offset is the next one.
  std::map<std::size_t, std::int64_t> next_in_run;
  std::map<std::int32_t, std::set<std::int64_t>> processed;
  for (const auto& r : log.consumed) {
    ++out.consumed;
    processed[r.partition].insert(r.offset);
    if (r.start >= log.starts.size()) {
      v.add("skipped", r.offset,
            name(r.member) + " processed " + partition_offset(r.partition, r.offset) +
                " without a start");
      continue;
    }
    auto [it, fresh] = next_in_run.emplace(r.start, log.starts[r.start].position);
    if (r.offset != it->second)
      v.add("skipped", r.offset,
            name(r.member) + " processed " + partition_offset(r.partition, r.offset) +
                " after offset " + std::to_string(it->second - 1) + " in generation " +
                std::to_string(r.generation));
    it->second = r.offset + 1;
  }
  for (const auto& [p, offsets] : processed) out.distinct += offsets.size();
  out.duplicates = out.consumed - out.distinct;

  // The logs, the final committed offsets, and what the producer was told.
  std::map<std::int32_t, std::int64_t> final_committed;
  if (auto g = w.cluster().group(expect.group_id)) {
    out.final_generation = g->generation;
    for (const auto& o : g->offsets)
      if (o.topic == expect.topic) final_committed[o.partition] = o.offset;
    if (expect.group_empty && !g->members.empty())
      v.add("group_not_empty", -1,
            "after every member stopped cleanly the group is " + g->state + " with " +
                std::to_string(g->members.size()) + " member(s)");
  }
  std::map<std::pair<std::int32_t, std::int64_t>, std::int64_t> record_at;
  for (std::int32_t p = 0; p < expect.partitions; ++p) {
    const auto info = w.cluster().partition(expect.topic, p);
    const std::int64_t start = info ? info->log_start_offset : 0;
    const std::int64_t end = info ? info->high_watermark : 0;
    out.log_records += static_cast<std::uint64_t>(end - start);
    for (const auto& stored : w.cluster().read(expect.topic, p))
      record_at[{p, stored.offset}] = record_id_of_value(stored.value_string());
    const auto& seen = processed[p];
    auto c = final_committed.find(p);
    const std::int64_t committed = c == final_committed.end() ? -1 : c->second;
    if (committed > end)
      v.add("commit_ahead", committed,
            "partition " + std::to_string(p) + " committed at " + std::to_string(committed) +
                " past its log end " + std::to_string(end));
    if (auto h = highest_acked.find(p); h != highest_acked.end() && committed < h->second)
      v.add("lost_commit", h->second,
            "partition " + std::to_string(p) + " ends committed at " + std::to_string(committed) +
                ", offset " + std::to_string(h->second) + " was acknowledged");
    for (std::int64_t o = start; o < std::min(committed, end); ++o)
      if (!seen.count(o))
        v.add("uncovered", o,
              partition_offset(p, o) + " is below the committed offset " +
                  std::to_string(committed) + " and nobody processed it");
    if (expect.all_consumed)
      for (std::int64_t o = std::max(start, committed); o < end; ++o)
        if (!seen.count(o))
          v.add("unconsumed", o, partition_offset(p, o) + " is in the log, never processed");
  }
  for (const auto& r : log.consumed) {
    auto it = record_at.find({r.partition, r.offset});
    if (it == record_at.end() || it->second != r.record_id)
      v.add("wrong_record", r.offset,
            name(r.member) + " processed record " + std::to_string(r.record_id) + " at " +
                partition_offset(r.partition, r.offset) + ", the log has " +
                (it == record_at.end() ? std::string("none") : std::to_string(it->second)));
  }
  if (expect.all_consumed)
    for (const auto& r : w.records()) {
      if (r.error || r.offset < 0 || !r.reported) continue;
      if (!processed[r.partition].count(r.offset))
        v.add("unconsumed", r.offset,
              "record r" + std::to_string(r.id) + " acknowledged at " +
                  partition_offset(r.partition, r.offset) + " was never processed");
    }
  return out;
}

}  // namespace kwire::sim
