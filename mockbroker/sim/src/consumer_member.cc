// A consumer member's group protocol (consumer_member.hpp), after Kafka's
// classic AbstractCoordinator / ConsumerCoordinator with eager rebalancing:
// find the coordinator, join (MEMBER_ID_REQUIRED, then again with the id),
// the leader assigns by range, sync, heartbeat, commit what was processed,
// and on any sign of a rebalance give everything up and join again. A clean
// stop commits and sends LeaveGroup.
#include <algorithm>

#include "consumer_member.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages/consumer_protocol_assignment.hpp"
#include "kwire/protocol/messages/consumer_protocol_subscription.hpp"
#include "kwire/protocol/messages/find_coordinator.hpp"
#include "kwire/protocol/messages/heartbeat.hpp"
#include "kwire/protocol/messages/join_group.hpp"
#include "kwire/protocol/messages/leave_group.hpp"
#include "kwire/protocol/messages/offset_commit.hpp"
#include "kwire/protocol/messages/sync_group.hpp"

namespace kwire::sim::detail {
namespace {

constexpr std::int16_t c(kafka_error e) { return static_cast<std::int16_t>(e); }

bool coordinator_error(std::int16_t e) {
  return e == c(kafka_error::not_coordinator) || e == c(kafka_error::coordinator_not_available);
}

std::string error_name(std::int16_t e) { return std::string(kafka_error_name(e)); }

}  // namespace

void consumer_member::start() {
  alive_ = true;
  phase_ = phase::joining;
  log_.members[index_].started_at = now();
  note("starts");
  advance();
}

void consumer_member::crash() {
  if (!alive_) return;
  note("crashes");
  log_.members[index_].crashed_at = now();
  alive_ = false;
  phase_ = phase::crashed;
  close_all_channels();
}

void consumer_member::stop() {
  if (!alive_ || phase_ == phase::stopping) return;
  note("stops cleanly");
  log_.members[index_].stopped_at = now();
  // Stop fetching at once; what was processed is committed, then it leaves.
  final_positions_ = phase_ == phase::stable ? positions_ : std::map<std::int32_t, std::int64_t>{};
  revoke();
  phase_ = phase::stopping;
  stop_step_ = stop_step::commit;
  stop_deadline_ = now() + 2 * options_.request_timeout + options_.retry_backoff;
  wake(stop_deadline_);
  advance();
}

bool consumer_member::stable() const {
  if (!alive_ || phase_ != phase::stable) return false;
  return std::all_of(assigned_.begin(), assigned_.end(),
                     [this](std::int32_t p) { return positions_.count(p) != 0; });
}

std::optional<std::int64_t> consumer_member::position(std::int32_t partition) const {
  auto it = positions_.find(partition);
  if (it == positions_.end()) return std::nullopt;
  return it->second;
}

// ---- the scheduler ----

void consumer_member::advance() {
  if (!alive_) return;
  if (metadata_stale_ && !metadata_in_flight_ && now() >= metadata_retry_at_) send_metadata();
  if (!coordinator_ && !find_in_flight_ && now() >= find_retry_at_) send_find_coordinator();
  // The next time something falls due (what is due now was done above, or
  // waits for an answer, which calls advance again).
  std::optional<ms> next;
  auto at = [&](ms t) {
    if (t > now() && (!next || t < *next)) next = t;
  };
  switch (phase_) {
    case phase::joining:
      if (coordinator_ && partition_count_ > 0 && !join_in_flight_ && !revoking_ &&
          now() >= join_retry_at_)
        send_join();
      if (!join_in_flight_) at(join_retry_at_);
      break;
    case phase::stable:
      if (coordinator_ && !heartbeat_in_flight_ && now() >= heartbeat_due_) send_heartbeat();
      if (phase_ != phase::stable) break;  // the heartbeat's send failed into a rejoin
      if (!heartbeat_in_flight_) at(heartbeat_due_);
      if (coordinator_ && !commit_in_flight_ && now() >= commit_due_) {
        commit_due_ = now() + options_.auto_commit_interval;
        commit(positions_, {});
      }
      at(commit_due_);
      advance_fetching();
      break;
    case phase::stopping:
      advance_stop();
      at(stop_deadline_);
      break;
    case phase::idle:
    case phase::syncing:
    case phase::done:
    case phase::crashed:
      break;
  }
  if (!alive_) return;
  if (metadata_stale_ && !metadata_in_flight_) at(metadata_retry_at_);
  if (!coordinator_ && !find_in_flight_) at(find_retry_at_);
  if (phase_ == phase::stable) {
    if (!offsets_in_flight_) at(offsets_retry_at_);
    for (const auto& [p, t] : partition_retry_at_) at(t);
  }
  for (const channel* ch : channels())
    for (const auto& p : ch->in_flight) at(p.deadline);
  if (next) wake(*next);
}

// ---- the coordinator ----

void consumer_member::send_find_coordinator() {
  find_coordinator_request r;
  r.key = options_.group_id;
  r.key_type = 0;
  find_in_flight_ = true;
  send(bootstrap_channel_, bootstrap_target(), r, 3, options_.request_timeout,
       [this](const any_message* m) {
         find_in_flight_ = false;
         const auto* r = m ? m->as<find_coordinator_response>() : nullptr;
         if (!r || r->error_code != 0 || r->node_id < 0) {
           if (r && !coordinator_error(r->error_code))
             anomaly("FindCoordinator: " + error_name(r->error_code));
           find_retry_at_ = now() + options_.retry_backoff;
           return;
         }
         coordinator_ = broker_address{r->node_id, r->host, r->port};
         if (coordinator_channel_.connection != 0 && coordinator_channel_.broker != r->node_id)
           fail_channel(coordinator_channel_, "the coordinator moved");
         note("coordinator is broker " + std::to_string(r->node_id));
       });
}

void consumer_member::coordinator_lost() {
  if (!coordinator_) return;
  ++log_.coordinator_changes;
  note("lost its coordinator (broker " + std::to_string(coordinator_->id) + ")");
  coordinator_.reset();
  find_retry_at_ = now();
  fail_channel(coordinator_channel_, "coordinator lost");
}

// ---- joining ----

void consumer_member::send_join() {
  consumer_protocol_subscription s;
  s.topics = {options_.topic};
  s.generation_id = generation_;
  auto metadata = encode_consumer_protocol_subscription(s, 3);
  join_group_request r;
  r.group_id = options_.group_id;
  r.session_timeout_ms = static_cast<std::int32_t>(options_.session_timeout.count());
  r.rebalance_timeout_ms = static_cast<std::int32_t>(options_.rebalance_timeout.count());
  r.member_id = member_id_;
  r.protocol_type = "consumer";
  r.protocols.push_back({"range", std::move(metadata).value(), {}});
  join_in_flight_ = true;
  note("joins as '" + member_id_ + "'");
  send(coordinator_channel_, *coordinator_, r, 9,
       options_.rebalance_timeout + options_.request_timeout,
       [this](const any_message* m) { on_join(m); });
}

void consumer_member::on_join(const any_message* m) {
  join_in_flight_ = false;
  if (phase_ != phase::joining) return;  // stopping: the answer no longer matters
  const auto* r = m ? m->as<join_group_response>() : nullptr;
  join_retry_at_ = now() + options_.retry_backoff;
  if (!r) {
    coordinator_lost();
    return;
  }
  const std::int16_t e = r->error_code;
  if (e == c(kafka_error::member_id_required)) {
    member_id_ = r->member_id;
    join_retry_at_ = now();
    return;
  }
  if (e == c(kafka_error::unknown_member_id)) {
    member_id_.clear();
    generation_ = -1;
    return;
  }
  if (coordinator_error(e)) {
    coordinator_lost();
    return;
  }
  if (e == c(kafka_error::illegal_generation)) {
    generation_ = -1;
    return;
  }
  if (e == c(kafka_error::coordinator_load_in_progress) ||
      e == c(kafka_error::rebalance_in_progress))
    return;
  if (e != 0) {
    anomaly("JoinGroup: " + error_name(e));
    return;
  }
  member_id_ = r->member_id;
  generation_ = r->generation_id;
  ++log_.joins;
  auto& ids = log_.members[index_].member_ids;
  if (ids.empty() || ids.back() != member_id_) ids.push_back(member_id_);
  note("joined generation " + std::to_string(generation_) +
       (r->leader == member_id_ ? " as the leader" : ""));
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> plan;
  if (r->leader == member_id_) {
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> members;
    for (const auto& jm : r->members) members.emplace_back(jm.member_id, jm.metadata);
    plan = range_assign(members);
  }
  phase_ = phase::syncing;
  send_sync(std::move(plan));
}

std::vector<std::pair<std::string, std::vector<std::uint8_t>>> consumer_member::range_assign(
    const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& members) {
  // Kafka's RangeAssignor: members subscribed to the topic, sorted by id;
  // each takes a consecutive range, the first (partitions % members) one more.
  std::vector<std::string> subscribed;
  for (const auto& [id, metadata] : members) {
    auto s = decode_consumer_protocol_subscription(metadata);
    if (!s) {
      anomaly("the subscription of " + id + " does not decode: " + s.error().message());
      continue;
    }
    if (std::find(s->topics.begin(), s->topics.end(), options_.topic) != s->topics.end())
      subscribed.push_back(id);
  }
  std::sort(subscribed.begin(), subscribed.end());
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> out;
  const auto n = static_cast<std::size_t>(partition_count_);
  const std::size_t k = subscribed.size();
  std::size_t next = 0;
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t count = n / k + (i < n % k ? 1 : 0);
    consumer_protocol_assignment a;
    a.user_data = std::nullopt;
    std::vector<std::int32_t> partitions;
    for (std::size_t j = 0; j < count; ++j) partitions.push_back(static_cast<std::int32_t>(next++));
    if (!partitions.empty()) a.assigned_partitions.push_back({options_.topic, partitions, {}});
    log_.plans.push_back({index_, generation_, subscribed[i], partitions});
    out.emplace_back(subscribed[i], encode_consumer_protocol_assignment(a, 3).value());
  }
  // Members that do not subscribe get an empty assignment.
  for (const auto& [id, metadata] : members)
    if (std::find(subscribed.begin(), subscribed.end(), id) == subscribed.end()) {
      log_.plans.push_back({index_, generation_, id, {}});
      out.emplace_back(id, encode_consumer_protocol_assignment({}, 3).value());
    }
  return out;
}

void consumer_member::send_sync(
    std::vector<std::pair<std::string, std::vector<std::uint8_t>>> assignments) {
  if (!coordinator_) {  // lost while the join was answered: join again
    phase_ = phase::joining;
    return;
  }
  sync_group_request r;
  r.group_id = options_.group_id;
  r.generation_id = generation_;
  r.member_id = member_id_;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  for (auto& [id, bytes] : assignments) r.assignments.push_back({id, std::move(bytes), {}});
  sync_in_flight_ = true;
  const std::int32_t generation = generation_;
  send(coordinator_channel_, *coordinator_, r, 5,
       options_.rebalance_timeout + options_.request_timeout,
       [this, generation](const any_message* m) { on_sync(m, generation); });
}

void consumer_member::on_sync(const any_message* m, std::int32_t generation) {
  sync_in_flight_ = false;
  if (phase_ != phase::syncing || generation != generation_) return;
  phase_ = phase::joining;  // unless it worked
  join_retry_at_ = now();
  const auto* r = m ? m->as<sync_group_response>() : nullptr;
  if (!r) {
    coordinator_lost();
    return;
  }
  const std::int16_t e = r->error_code;
  if (e == c(kafka_error::rebalance_in_progress)) {
    ++log_.rebalance_notices;
    return;
  }
  if (e == c(kafka_error::unknown_member_id)) {
    member_id_.clear();
    generation_ = -1;
    return;
  }
  if (e == c(kafka_error::illegal_generation)) {
    generation_ = -1;
    return;
  }
  if (coordinator_error(e)) {
    coordinator_lost();
    return;
  }
  if (e == c(kafka_error::coordinator_load_in_progress)) {
    join_retry_at_ = now() + options_.retry_backoff;
    return;
  }
  if (e != 0) {
    anomaly("SyncGroup: " + error_name(e));
    join_retry_at_ = now() + options_.retry_backoff;
    return;
  }
  std::vector<std::int32_t> partitions;
  if (!r->assignment.empty()) {
    auto a = decode_consumer_protocol_assignment(r->assignment);
    if (!a) {
      anomaly("an assignment that does not decode: " + a.error().message());
      return;
    }
    for (const auto& tp : a->assigned_partitions)
      if (tp.topic == options_.topic)
        partitions.insert(partitions.end(), tp.partitions.begin(), tp.partitions.end());
  }
  std::sort(partitions.begin(), partitions.end());
  phase_ = phase::stable;
  synced_generation_ = generation_;
  log_.members[index_].last_generation = generation_;
  assigned_ = partitions;
  ++assignment_epoch_;
  positions_.clear();
  offsets_asked_at_.clear();
  run_start_.clear();
  reset_needed_.clear();
  partition_retry_at_.clear();
  offsets_retry_at_ = now();
  heartbeat_due_ = now() + options_.heartbeat_interval;
  commit_due_ = now() + options_.auto_commit_interval;
  log_.assignments.push_back({index_, member_id_, generation_, partitions, now()});
  std::string list;
  for (auto p : partitions) list += " " + std::to_string(p);
  note("generation " + std::to_string(generation_) + " assigns it" +
       (list.empty() ? std::string(" nothing") : list));
}

// ---- being a member ----

void consumer_member::send_heartbeat() {
  heartbeat_request r;
  r.group_id = options_.group_id;
  r.generation_id = generation_;
  r.member_id = member_id_;
  heartbeat_in_flight_ = true;
  const std::uint64_t epoch = assignment_epoch_;
  send(coordinator_channel_, *coordinator_, r, 4, options_.request_timeout,
       [this, epoch](const any_message* m) {
         heartbeat_in_flight_ = false;
         if (phase_ != phase::stable || epoch != assignment_epoch_) return;
         const auto* r = m ? m->as<heartbeat_response>() : nullptr;
         heartbeat_due_ = now() + options_.heartbeat_interval;
         if (!r) {
           heartbeat_due_ = now() + options_.retry_backoff;
           coordinator_lost();
           return;
         }
         const std::int16_t e = r->error_code;
         if (e == 0) return;
         if (e == c(kafka_error::rebalance_in_progress)) {
           ++log_.rebalance_notices;
           note("heartbeat: the group rebalances");
           rejoin(true);
         } else if (e == c(kafka_error::illegal_generation)) {
           generation_ = -1;
           rejoin(false);
         } else if (e == c(kafka_error::unknown_member_id) ||
                    e == c(kafka_error::fenced_instance_id)) {
           member_id_.clear();
           generation_ = -1;
           rejoin(false);
         } else if (coordinator_error(e)) {
           heartbeat_due_ = now();
           coordinator_lost();
         } else if (e == c(kafka_error::coordinator_load_in_progress)) {
           heartbeat_due_ = now() + options_.retry_backoff;
         } else {
           anomaly("Heartbeat: " + error_name(e));
         }
       });
}

void consumer_member::revoke() {
  assigned_.clear();
  positions_.clear();
  offsets_asked_at_.clear();
  run_start_.clear();
  reset_needed_.clear();
  partition_retry_at_.clear();
  ++assignment_epoch_;
}

void consumer_member::rejoin(bool commit_first) {
  auto processed = positions_;
  const bool was_stable = phase_ == phase::stable;
  revoke();
  phase_ = phase::joining;
  join_retry_at_ = now();
  if (!commit_first || !was_stable || !coordinator_) return;
  revoking_ = true;
  commit(std::move(processed), [this] { revoking_ = false; });
}

void consumer_member::commit(std::map<std::int32_t, std::int64_t> offsets,
                             std::function<void()> then) {
  offset_commit_request r;
  r.group_id = options_.group_id;
  r.generation_id_or_member_epoch = generation_;
  r.member_id = member_id_;
  offset_commit_request::offset_commit_request_topic t;
  t.name = options_.topic;
  for (const auto& [p, offset] : offsets) {
    auto done = committed_.find(p);
    if (done != committed_.end() && done->second == offset) continue;
    offset_commit_request::offset_commit_request_partition cp;
    cp.partition_index = p;
    cp.committed_offset = offset;
    t.partitions.push_back(cp);
  }
  if (t.partitions.empty() || !coordinator_) {
    if (then) then();
    return;
  }
  const std::size_t first = log_.commits.size();
  for (const auto& cp : t.partitions)
    log_.commits.push_back(
        {index_, generation_, cp.partition_index, cp.committed_offset, now(), std::nullopt, 0});
  r.topics.push_back(std::move(t));
  commit_in_flight_ = true;
  send(coordinator_channel_, *coordinator_, r, 8, options_.request_timeout,
       [this, first, then = std::move(then)](const any_message* m) {
         commit_in_flight_ = false;
         const auto* r = m ? m->as<offset_commit_response>() : nullptr;
         std::int16_t worst = 0;
         if (r) {
           for (const auto& t : r->topics)
             for (const auto& p : t.partitions)
               for (std::size_t i = first; i < log_.commits.size(); ++i) {
                 commit_record& cr = log_.commits[i];
                 if (cr.member != index_ || cr.partition != p.partition_index || cr.answered_at)
                   continue;
                 cr.answered_at = now();
                 cr.error = p.error_code;
                 if (p.error_code == 0)
                   committed_[cr.partition] = cr.offset;
                 else
                   worst = p.error_code;
                 break;
               }
         }
         if (then) then();
         if (!r) {
           coordinator_lost();
         } else if (coordinator_error(worst)) {
           coordinator_lost();
         } else if (phase_ == phase::stable && (worst == c(kafka_error::rebalance_in_progress) ||
                                                worst == c(kafka_error::illegal_generation) ||
                                                worst == c(kafka_error::unknown_member_id))) {
           if (worst == c(kafka_error::unknown_member_id)) member_id_.clear();
           if (worst != c(kafka_error::rebalance_in_progress)) generation_ = -1;
           rejoin(worst == c(kafka_error::rebalance_in_progress));
         } else if (worst != 0 && worst != c(kafka_error::coordinator_load_in_progress) &&
                    worst != c(kafka_error::rebalance_in_progress) &&
                    worst != c(kafka_error::illegal_generation) &&
                    worst != c(kafka_error::unknown_member_id)) {
           anomaly("OffsetCommit: " + error_name(worst));
         }
       });
}

// ---- a clean stop ----

void consumer_member::advance_stop() {
  if (now() >= stop_deadline_) {
    note("gives up its clean stop");
    finish();
    return;
  }
  if (!coordinator_) return;  // find_coordinator first (advance did)
  if (stop_step_ == stop_step::commit && !commit_in_flight_) {
    stop_step_ = stop_step::committing;
    commit(final_positions_, [this] {
      if (phase_ == phase::stopping) stop_step_ = stop_step::leave;
    });
  }
  if (stop_step_ == stop_step::leave) {
    if (member_id_.empty()) {
      finish();
      return;
    }
    leave_group_request r;
    r.group_id = options_.group_id;
    r.members.push_back({member_id_, std::nullopt, std::string("the consumer is closing"), {}});
    stop_step_ = stop_step::leaving;
    send(coordinator_channel_, *coordinator_, r, 5, options_.request_timeout,
         [this](const any_message* m) {
           if (phase_ != phase::stopping) return;
           const auto* r = m ? m->as<leave_group_response>() : nullptr;
           if (!r) {
             coordinator_lost();
             stop_step_ = stop_step::leave;  // again, to the coordinator found next
             return;
           }
           const std::int16_t e =
               r->error_code ? r->error_code
                             : (r->members.empty() ? std::int16_t{0} : r->members[0].error_code);
           if (coordinator_error(e)) {
             coordinator_lost();
             stop_step_ = stop_step::leave;
             return;
           }
           if (e == c(kafka_error::coordinator_load_in_progress)) {
             stop_step_ = stop_step::leave;
             return;
           }
           log_.members[index_].left = e == 0;
           note(e == 0 ? "left the group" : "LeaveGroup: " + error_name(e));
           finish();
         });
  }
}

void consumer_member::finish() {
  phase_ = phase::done;
  alive_ = false;
  close_all_channels();
}

}  // namespace kwire::sim::detail
