// Consumer-group scenarios (consumer_scenario.hpp): drawing the group script
// from a seed, putting it on a world's calendar, and the runner.
#include "kwire/sim/consumer_scenario.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "kwire/protocol/kafka_error.hpp"
#include "kwire/sim/random.hpp"

namespace kwire::sim {
namespace {

constexpr std::int16_t c(kafka_error e) { return static_cast<std::int16_t>(e); }

std::string ms_text(ms d) { return std::to_string(d.count()) + "ms"; }

std::string api_name(std::int16_t key) {
  switch (key) {
    case 8:
      return "OffsetCommit";
    case 9:
      return "OffsetFetch";
    case 11:
      return "JoinGroup";
    case 12:
      return "Heartbeat";
    case 14:
      return "SyncGroup";
    default:
      return "API " + std::to_string(key);
  }
}

// The group errors a coordinator may answer while loading, moving or
// rebalancing, for the APIs that can carry them (OffsetFetch has no
// REBALANCE_IN_PROGRESS).
constexpr std::int16_t group_errors[] = {
    c(kafka_error::coordinator_not_available),
    c(kafka_error::not_coordinator),
    c(kafka_error::rebalance_in_progress),
    c(kafka_error::coordinator_load_in_progress),
};
constexpr std::int16_t group_apis[] = {11, 14, 12, 8, 9};

// The script's second random stream: "consumer" folded into the seed.
constexpr std::uint64_t consumer_stream = 0x636f6e73756d6572ULL;

}  // namespace

std::string_view group_event_type_name(group_event_type t) noexcept {
  switch (t) {
    case group_event_type::join:
      return "join";
    case group_event_type::crash:
      return "crash";
    case group_event_type::restart:
      return "restart";
    case group_event_type::leave:
      return "leave";
    case group_event_type::coordinator_move:
      return "coordinator_move";
    case group_event_type::force_rebalance:
      return "force_rebalance";
    case group_event_type::group_error:
      return "group_error";
    case group_event_type::find_coordinator_error:
      return "find_coordinator_error";
  }
  return "?";
}

std::string group_event::describe() const {
  std::string s = std::string(group_event_type_name(type)) + " at " + format_time(at);
  const std::string m = " m" + std::to_string(member + 1);
  switch (type) {
    case group_event_type::join:
    case group_event_type::crash:
    case group_event_type::leave:
      return s + m;
    case group_event_type::restart:
      return s + m + " (replaces m" + std::to_string(replaces + 1) + ")";
    case group_event_type::coordinator_move:
      return s + " (choice " + std::to_string(broker) + ")";
    case group_event_type::force_rebalance:
      return s;
    case group_event_type::group_error:
      return s + " " + api_name(api_key) + " " + std::string(kafka_error_name(error)) + " for " +
             ms_text(duration) + " " + std::to_string(percent) + "% up to " +
             std::to_string(count) + "x";
    case group_event_type::find_coordinator_error:
      return s + " " + std::string(kafka_error_name(error)) + " for " + ms_text(duration) + " " +
             std::to_string(percent) + "% up to " + std::to_string(count) + "x";
  }
  return s;
}

ms consumer_scenario::activity_end() const {
  ms end{0};
  for (const auto& r : base.records) end = std::max(end, r.at);
  for (const auto& f : base.faults) end = std::max(end, f.at + f.duration);
  for (const auto& e : events) end = std::max(end, e.at + e.duration);
  return end;
}

group_expectations consumer_scenario::expectations() const {
  group_expectations e;
  e.topic = base.topic;
  e.partitions = base.partitions;
  e.group_id = consumer.group_id;
  return e;
}

std::string consumer_scenario::describe() const {
  const auto& o = consumer;
  std::string s = base.describe() + "\n";
  s += "  consumers: group '" + o.group_id + "' session.timeout=" + ms_text(o.session_timeout) +
       " rebalance.timeout=" + ms_text(o.rebalance_timeout) +
       " heartbeat=" + ms_text(o.heartbeat_interval) +
       " auto.commit=" + ms_text(o.auto_commit_interval) +
       " fetch.max.wait=" + ms_text(o.fetch_max_wait) +
       " request.timeout=" + ms_text(o.request_timeout) + " backoff=" + ms_text(o.retry_backoff) +
       ", settles within " + ms_text(settle_limit) + "\n";
  s += "  group script (" + std::to_string(events.size()) + "):";
  for (const auto& e : events) s += "\n    " + e.describe();
  return s;
}

consumer_scenario make_consumer_scenario(std::uint64_t seed, const scenario_options& options) {
  consumer_scenario s;
  s.base = make_scenario(seed, options);
  random_source rng(seed ^ consumer_stream);
  consumer_options& o = s.consumer;
  o.topic = s.base.topic;
  o.session_timeout = ms(rng.between(6000, 12000));
  o.heartbeat_interval =
      ms(rng.between(o.session_timeout.count() / 10, o.session_timeout.count() / 3));
  o.rebalance_timeout = ms(rng.between(5000, 15000));
  o.auto_commit_interval = ms(rng.between(200, 2000));
  o.fetch_max_wait = ms(rng.between(200, 1000));
  o.request_timeout = ms(rng.between(3000, 6000));
  o.retry_backoff = ms(rng.between(50, 200));
  // A crash is noticed after a session; a rebalance may wait a rebalance
  // timeout for a member, and a member that never syncs another: twice both.
  s.settle_limit = 2 * (o.session_timeout + o.rebalance_timeout) + ms(10000);

  ms last_send{0};
  for (const auto& r : s.base.records) last_send = std::max(last_send, r.at);
  const ms span = last_send + ms(2000);

  // Members start early; the script's events fall while the producer writes.
  std::size_t next_member = 0;
  std::vector<std::size_t> alive;
  const auto initial = rng.between(1, 3);
  for (std::int64_t i = 0; i < initial; ++i) {
    group_event e;
    e.type = group_event_type::join;
    e.at = ms(rng.between(0, 500));
    s.events.push_back(e);
  }
  std::vector<ms> slots;
  const auto n = rng.chance(10) ? 0 : rng.between(1, 8);
  // After the first members started (by 500 ms), so that their events find them.
  for (std::int64_t i = 0; i < n; ++i) slots.push_back(ms(rng.between(600, span.count())));
  std::sort(slots.begin(), slots.end());
  std::stable_sort(s.events.begin(), s.events.end(),
                   [](const group_event& a, const group_event& b) { return a.at < b.at; });
  for (auto& e : s.events) {
    e.member = next_member++;
    alive.push_back(e.member);
  }

  // Walk the slots in time order, with the restarts that crashes queue.
  std::multimap<ms, std::size_t> restarts;  // when -> the crashed member
  auto start = [&](group_event e) {
    e.member = next_member++;
    alive.push_back(e.member);
    s.events.push_back(e);
  };
  auto flush_restarts = [&](ms until) {
    while (!restarts.empty() && restarts.begin()->first <= until) {
      group_event e;
      e.type = group_event_type::restart;
      e.at = restarts.begin()->first;
      e.replaces = restarts.begin()->second;
      restarts.erase(restarts.begin());
      start(e);
    }
  };
  for (const ms at : slots) {
    flush_restarts(at);
    group_event e;
    e.at = at;
    const auto kind = rng.below(100);
    if (kind < 15 && alive.size() < 4) {
      e.type = group_event_type::join;
      start(e);
      continue;
    }
    if (kind < 40 && !alive.empty()) {
      const std::size_t k = rng.below(alive.size());
      e.member = alive[k];
      alive.erase(alive.begin() + static_cast<std::ptrdiff_t>(k));
      if (rng.chance(60)) {
        e.type = group_event_type::crash;
        if (rng.chance(75))
          restarts.emplace(at + ms(rng.between(500, 2 * o.session_timeout.count())), e.member);
      } else {
        e.type = group_event_type::leave;
      }
      s.events.push_back(e);
      continue;
    }
    if (kind < 55) {
      e.type = group_event_type::coordinator_move;
      e.broker = static_cast<std::int32_t>(rng.below(s.base.brokers));
    } else if (kind < 65) {
      e.type = group_event_type::force_rebalance;
    } else if (kind < 90) {
      e.type = group_event_type::group_error;
      e.api_key = rng.pick(group_apis);
      do {
        e.error = rng.pick(group_errors);
      } while (e.api_key == 9 && e.error == c(kafka_error::rebalance_in_progress));
    } else {
      e.type = group_event_type::find_coordinator_error;
      e.error = c(kafka_error::coordinator_not_available);
    }
    if (e.type == group_event_type::group_error ||
        e.type == group_event_type::find_coordinator_error) {
      e.duration = ms(rng.between(200, 5000));
      e.percent = static_cast<unsigned>(rng.between(20, 100));
      e.count = static_cast<std::uint64_t>(rng.between(1, 5));
    }
    s.events.push_back(e);
  }
  flush_restarts(ms::max());
  // Somebody must be left to read to the end.
  if (alive.empty()) {
    group_event e;
    e.type = group_event_type::join;
    ms last{0};
    for (const auto& x : s.events) last = std::max(last, x.at);
    e.at = last + ms(rng.between(100, 3000));
    start(e);
  }
  return s;
}

void schedule_group_event(world& w, consumer_group& group, const group_event& e) {
  const std::string& id = group.options().group_id;
  const std::string what = "group: " + e.describe();
  auto rule_window = [&](mockbroker::fault_rule rule) {
    rule.match.probability = e.percent / 100.0;
    rule.count = e.count;
    auto rid = std::make_shared<mockbroker::rule_id>(0);
    w.at(e.at, what, [rule, rid](world& w) { *rid = w.cluster().add_fault(rule); });
    w.at(e.at + e.duration, "end of " + what, [rid](world& w) { w.cluster().remove_fault(*rid); });
  };
  switch (e.type) {
    case group_event_type::join:
    case group_event_type::restart: {
      const auto index = group.start_member(
          e.at, e.type == group_event_type::restart ? std::optional(e.replaces) : std::nullopt);
      if (index != e.member)
        throw std::logic_error("kwire sim: group script out of order (member " +
                               std::to_string(index) + " is not " + std::to_string(e.member) + ")");
      break;
    }
    case group_event_type::crash:
      group.crash_member(e.member, e.at);
      break;
    case group_event_type::leave:
      group.stop_member(e.member, e.at);
      break;
    case group_event_type::coordinator_move:
      w.at(e.at, what, [id, e](world& w) {
        const auto g = w.cluster().group(id);
        std::vector<std::int32_t> candidates;
        for (const auto& b : w.cluster().brokers())
          if (b.up && (!g || b.id != g->coordinator)) candidates.push_back(b.id);
        if (candidates.empty()) return;
        const auto to = candidates[static_cast<std::size_t>(e.broker) % candidates.size()];
        w.note("group " + id + " coordinator moves to broker " + std::to_string(to));
        w.cluster().move_group_coordinator(id, to);
      });
      break;
    case group_event_type::force_rebalance:
      w.at(e.at, what, [id](world& w) { w.cluster().rebalance_group(id); });
      break;
    case group_event_type::group_error: {
      mockbroker::fault_rule rule;
      rule.match.api_key = e.api_key;
      rule.match.group = id;
      rule.action = mockbroker::fault_action{mockbroker::fault_kind::error, e.error, {}, 0};
      rule_window(std::move(rule));
      break;
    }
    case group_event_type::find_coordinator_error: {
      mockbroker::fault_rule rule;
      rule.match.api_key = 10;
      rule.action = mockbroker::fault_action{mockbroker::fault_kind::error, e.error, {}, 0};
      rule_window(std::move(rule));
      break;
    }
  }
}

namespace {

// Settled: the group is Stable with exactly the running members, each synced
// in its generation; every partition is owned and read to its end.
bool settled(world& w, const consumer_group& group, const consumer_scenario& s) {
  const auto g = w.cluster().group(s.consumer.group_id);
  if (!g || g->state != "Stable") return false;
  std::set<std::string> in_group;
  for (const auto& m : g->members) in_group.insert(m.member_id);
  std::size_t running = 0;
  std::set<std::int32_t> owned;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!group.running(i)) continue;
    ++running;
    const auto& ids = group.log().members[i].member_ids;
    if (!group.stable(i) || group.generation(i) != g->generation || ids.empty() ||
        !in_group.count(ids.back()))
      return false;
    for (const auto p : group.assignment(i)) {
      const auto info = w.cluster().partition(s.base.topic, p);
      if (!info || group.position(i, p) != info->high_watermark) return false;
      owned.insert(p);
    }
  }
  return running == in_group.size() && owned.size() == static_cast<std::size_t>(s.base.partitions);
}

}  // namespace

consumer_run_result run_consumer_scenario(const consumer_scenario& s,
                                          const std::function<void(std::string_view)>& trace) {
  const scenario& b = s.base;
  const std::unique_ptr<world> run = scenario_world(b, trace ? s.describe() : std::string(), trace);
  world& w = *run;
  consumer_group group(w, s.consumer);
  for (const auto& e : s.events) schedule_group_event(w, group, e);

  // The script and the producer's work, then a quiet period until the
  // group settles, then every member stops cleanly.
  w.run_until(s.activity_end());
  w.run_until_reported(std::max(b.limit, w.now()));
  // Reported is not yet appended: with acks=0, or an earlier attempt of a
  // failed record, a Produce may still be on its way.
  w.run_until(w.now() + ms(1000));
  consumer_run_result out;
  const ms settle_by = w.now() + s.settle_limit;
  while (!(out.settled = settled(w, group, s)) && w.now() < settle_by)
    w.run_until(std::min(w.now() + ms(500), settle_by));
  w.note(out.settled ? "the group settled; every member stops cleanly"
                     : "the group did not settle; every member stops");
  group.stop_all();
  w.run_until(w.now() + 2 * s.consumer.request_timeout + ms(1000));

  out.producer = check_run(w, b.expectations());
  group_expectations e = s.expectations();
  e.all_consumed = out.settled;
  out.group = check_group(w, group, e);
  if (!out.settled)
    out.group.violations.insert(
        out.group.violations.begin(),
        {"not_settled", static_cast<std::uint64_t>(-1),
         "the group did not settle within " + std::to_string(s.settle_limit.count()) +
             "ms of the last event"});
  out.digest = w.digest();
  out.virtual_time = w.now();
  out.steps = w.steps();
  out.network = w.network();
  if (trace) {
    for (const auto& v : out.producer.violations) trace("VIOLATION " + v.kind + ": " + v.detail);
    for (const auto& v : out.group.violations) trace("VIOLATION " + v.kind + ": " + v.detail);
  }
  return out;
}

}  // namespace kwire::sim
