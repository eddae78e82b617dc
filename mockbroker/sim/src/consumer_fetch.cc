// A consumer member's metadata, positions and records (consumer_member.hpp):
// Metadata for the partition leaders, OffsetFetch for where to start (and
// ListOffsets to the earliest offset where nothing is committed), then one
// long-polling Fetch per leader at a time, each record processed once, in
// order, from the position on.
#include <algorithm>

#include "consumer_member.hpp"
#include "kwire/protocol/kafka_error.hpp"
#include "kwire/protocol/messages/fetch.hpp"
#include "kwire/protocol/messages/list_offsets.hpp"
#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/offset_fetch.hpp"
#include "kwire/protocol/record_batch.hpp"
#include "kwire/sim/checker.hpp"

namespace kwire::sim::detail {
namespace {

constexpr std::int16_t c(kafka_error e) { return static_cast<std::int16_t>(e); }

// Errors that mean "ask Metadata who leads it now, and try again".
bool leadership_error(std::int16_t e) {
  return e == c(kafka_error::not_leader_or_follower) || e == c(kafka_error::leader_not_available) ||
         e == c(kafka_error::unknown_topic_or_partition) ||
         e == c(kafka_error::fenced_leader_epoch) || e == c(kafka_error::unknown_leader_epoch) ||
         e == c(kafka_error::kafka_storage_error) || e == c(kafka_error::replica_not_available) ||
         e == c(kafka_error::not_enough_replicas);
}

std::string error_name(std::int16_t e) { return std::string(kafka_error_name(e)); }

}  // namespace

broker_address consumer_member::bootstrap_target() const {
  if (bootstrap_channel_.connection != 0) {
    auto it = brokers_.find(bootstrap_channel_.broker);
    if (it != brokers_.end()) return it->second;
    for (const auto& b : bootstrap_)
      if (b.id == bootstrap_channel_.broker) return b;
  }
  // Take turns over what Metadata said, else the bootstrap list.
  std::vector<broker_address> all;
  for (const auto& [id, b] : brokers_) all.push_back(b);
  if (all.empty()) all = bootstrap_;
  return all[bootstrap_turn_ % all.size()];
}

std::optional<broker_address> consumer_member::leader_of(std::int32_t partition) const {
  auto l = leaders_.find(partition);
  if (l == leaders_.end() || l->second < 0) return std::nullopt;
  auto b = brokers_.find(l->second);
  if (b == brokers_.end()) return std::nullopt;
  return b->second;
}

void consumer_member::send_metadata() {
  metadata_request r;
  r.topics = std::vector<metadata_request::metadata_request_topic>{{{}, options_.topic, {}}};
  r.allow_auto_topic_creation = false;
  metadata_in_flight_ = true;
  send(bootstrap_channel_, bootstrap_target(), r, 12, options_.request_timeout,
       [this](const any_message* m) {
         metadata_in_flight_ = false;
         metadata_retry_at_ = now() + options_.retry_backoff;
         const auto* r = m ? m->as<metadata_response>() : nullptr;
         if (!r) return;
         brokers_.clear();
         for (const auto& b : r->brokers) brokers_[b.node_id] = {b.node_id, b.host, b.port};
         for (const auto& t : r->topics) {
           if (t.name != options_.topic) continue;
           if (t.error_code != 0) return;  // LEADER_NOT_AVAILABLE, ...: again after the backoff
           leaders_.clear();
           bool all_led = true;
           for (const auto& p : t.partitions) {
             leaders_[p.partition_index] = p.error_code == 0 ? p.leader_id : -1;
             all_led = all_led && p.error_code == 0 && p.leader_id >= 0;
           }
           partition_count_ = static_cast<std::int32_t>(t.partitions.size());
           metadata_stale_ = !all_led;
         }
       });
}

void consumer_member::send_offset_fetch() {
  offset_fetch_request r;
  r.group_id = options_.group_id;
  std::vector<std::int32_t> unknown;
  for (auto p : assigned_)
    if (!positions_.count(p) && !reset_needed_.count(p)) unknown.push_back(p);
  if (unknown.empty()) return;
  r.topics =
      std::vector<offset_fetch_request::offset_fetch_request_topic>{{options_.topic, unknown, {}}};
  for (auto p : unknown) offsets_asked_at_[p] = now();
  offsets_in_flight_ = true;
  const std::uint64_t epoch = assignment_epoch_;
  send(coordinator_channel_, *coordinator_, r, 7, options_.request_timeout,
       [this, epoch](const any_message* m) {
         offsets_in_flight_ = false;
         if (epoch != assignment_epoch_ || phase_ != phase::stable) return;
         offsets_retry_at_ = now() + options_.retry_backoff;
         const auto* r = m ? m->as<offset_fetch_response>() : nullptr;
         if (!r) {
           coordinator_lost();
           return;
         }
         if (r->error_code != 0) {
           if (r->error_code == c(kafka_error::not_coordinator) ||
               r->error_code == c(kafka_error::coordinator_not_available))
             coordinator_lost();
           else if (r->error_code != c(kafka_error::coordinator_load_in_progress))
             anomaly("OffsetFetch: " + error_name(r->error_code));
           return;
         }
         for (const auto& t : r->topics) {
           if (t.name != options_.topic) continue;
           for (const auto& p : t.partitions) {
             const std::int32_t part = p.partition_index;
             if (std::find(assigned_.begin(), assigned_.end(), part) == assigned_.end() ||
                 positions_.count(part))
               continue;
             if (p.error_code != 0) {
               if (p.error_code != c(kafka_error::unstable_offset_commit))
                 anomaly("OffsetFetch partition " + std::to_string(part) + ": " +
                         error_name(p.error_code));
               continue;
             }
             if (p.committed_offset < 0) {
               reset_needed_.insert(part);
               continue;
             }
             positions_[part] = p.committed_offset;
             run_start_[part] = log_.starts.size();
             log_.starts.push_back({index_, generation_, part, p.committed_offset,
                                    p.committed_offset, offsets_asked_at_[part], now()});
             note("resumes partition " + std::to_string(part) + " at committed offset " +
                  std::to_string(p.committed_offset));
           }
         }
       });
}

void consumer_member::send_list_offsets(std::int32_t leader) {
  list_offsets_request r;
  r.replica_id = -1;
  list_offsets_request::list_offsets_topic t;
  t.name = options_.topic;
  for (auto p : reset_needed_) {
    auto l = leaders_.find(p);
    if (l == leaders_.end() || l->second != leader) continue;
    if (auto retry = partition_retry_at_.find(p);
        retry != partition_retry_at_.end() && retry->second > now())
      continue;
    list_offsets_request::list_offsets_partition lp;
    lp.partition_index = p;
    lp.timestamp = -2;  // the earliest offset (auto.offset.reset=earliest)
    t.partitions.push_back(lp);
  }
  if (t.partitions.empty()) return;
  r.topics.push_back(std::move(t));
  list_offsets_in_flight_.insert(leader);
  const std::uint64_t epoch = assignment_epoch_;
  auto& ch = fetch_channels_[leader];
  send(ch, *leader_of(r.topics[0].partitions[0].partition_index), r, 7, options_.request_timeout,
       [this, epoch, leader](const any_message* m) {
         list_offsets_in_flight_.erase(leader);
         if (epoch != assignment_epoch_ || phase_ != phase::stable) return;
         const auto* r = m ? m->as<list_offsets_response>() : nullptr;
         if (!r) {
           metadata_stale_ = true;
           return;
         }
         for (const auto& t : r->topics)
           for (const auto& p : t.partitions) {
             const std::int32_t part = p.partition_index;
             if (!reset_needed_.count(part)) continue;
             if (p.error_code != 0) {
               if (!leadership_error(p.error_code))
                 anomaly("ListOffsets: " + error_name(p.error_code));
               metadata_stale_ = true;
               partition_retry_at_[part] = now() + options_.retry_backoff;
               continue;
             }
             reset_needed_.erase(part);
             positions_[part] = p.offset;
             run_start_[part] = log_.starts.size();
             log_.starts.push_back(
                 {index_, generation_, part, -1, p.offset, offsets_asked_at_[part], now()});
             note("starts partition " + std::to_string(part) + " at the earliest offset " +
                  std::to_string(p.offset) + " (nothing committed)");
           }
       });
}

void consumer_member::advance_fetching() {
  if (coordinator_ && !offsets_in_flight_ && now() >= offsets_retry_at_) send_offset_fetch();
  // Group what is ready by leader.
  std::set<std::int32_t> leaders;
  for (auto p : assigned_) {
    auto retry = partition_retry_at_.find(p);
    if (retry != partition_retry_at_.end()) {
      if (retry->second > now()) continue;
      partition_retry_at_.erase(retry);
    }
    const auto leader = leader_of(p);
    if (!leader) {
      metadata_stale_ = true;
      continue;
    }
    if (positions_.count(p) || reset_needed_.count(p)) leaders.insert(leader->id);
  }
  for (auto leader : leaders) {
    if (!list_offsets_in_flight_.count(leader)) send_list_offsets(leader);
    if (!fetch_in_flight_.count(leader)) send_fetch(leader);
  }
  if (metadata_stale_ && !metadata_in_flight_ && now() >= metadata_retry_at_) send_metadata();
}

void consumer_member::send_fetch(std::int32_t leader) {
  fetch_request r;
  r.replica_id = -1;
  r.max_wait_ms = static_cast<std::int32_t>(options_.fetch_max_wait.count());
  r.min_bytes = 1;
  r.max_bytes = 50 * 1024 * 1024;
  r.session_id = 0;
  r.session_epoch = -1;  // no fetch session: every fetch names its partitions
  fetch_request::fetch_topic t;
  t.topic = options_.topic;
  std::map<std::int32_t, std::int64_t> sent;
  for (auto p : assigned_) {
    auto pos = positions_.find(p);
    if (pos == positions_.end()) continue;
    auto l = leaders_.find(p);
    if (l == leaders_.end() || l->second != leader || partition_retry_at_.count(p)) continue;
    fetch_request::fetch_partition fp;
    fp.partition = p;
    fp.fetch_offset = pos->second;
    fp.partition_max_bytes = 1024 * 1024;
    t.partitions.push_back(fp);
    sent[p] = pos->second;
  }
  if (sent.empty()) return;
  r.topics.push_back(std::move(t));
  fetch_in_flight_.insert(leader);
  const std::uint64_t epoch = assignment_epoch_;
  send(fetch_channels_[leader], *leader_of(sent.begin()->first), r, 12,
       options_.fetch_max_wait + options_.request_timeout,
       [this, epoch, leader, sent](const any_message* m) { on_fetch(m, epoch, leader, sent); });
}

void consumer_member::on_fetch(const any_message* m, std::uint64_t epoch, std::int32_t leader,
                               std::map<std::int32_t, std::int64_t> sent) {
  fetch_in_flight_.erase(leader);
  const auto* r = m ? m->as<fetch_response>() : nullptr;
  auto back_off = [&](std::int32_t p) { partition_retry_at_[p] = now() + options_.retry_backoff; };
  if (!r) {
    metadata_stale_ = true;
    if (epoch == assignment_epoch_)
      for (const auto& [p, offset] : sent) back_off(p);
    return;
  }
  ++log_.fetches;
  if (epoch != assignment_epoch_ || phase_ != phase::stable) return;  // given up since
  if (r->error_code != 0) {
    anomaly("Fetch: " + error_name(r->error_code));
    for (const auto& [p, offset] : sent) back_off(p);
    return;
  }
  for (const auto& t : r->responses) {
    if (t.topic != options_.topic) continue;
    for (const auto& pd : t.partitions) {
      const std::int32_t p = pd.partition_index;
      auto s = sent.find(p);
      auto pos = positions_.find(p);
      if (s == sent.end() || pos == positions_.end() || pos->second != s->second) continue;
      if (pd.error_code != 0) {
        if (leadership_error(pd.error_code)) {
          metadata_stale_ = true;
        } else if (pd.error_code == c(kafka_error::offset_out_of_range)) {
          anomaly("Fetch at offset " + std::to_string(pos->second) + " of partition " +
                  std::to_string(p) + ": OFFSET_OUT_OF_RANGE");
          positions_.erase(pos);
          reset_needed_.insert(p);
        } else {
          anomaly("Fetch partition " + std::to_string(p) + ": " + error_name(pd.error_code));
        }
        back_off(p);
        continue;
      }
      batch_read_options read;
      read.allow_truncated_tail = true;
      record_batch_reader batches(pd.records.bytes(), read);
      record_batch batch;
      std::int64_t& position = pos->second;
      while (batches.next(batch)) {
        auto records = batch.records();
        for (const record_view& rec : records) {
          if (rec.offset < position) continue;  // the batch began before the position
          std::string_view value;
          if (rec.value)
            value = {reinterpret_cast<const char*>(rec.value->data()), rec.value->size()};
          log_.consumed.push_back({index_, generation_, p, rec.offset, record_id_of_value(value),
                                   run_start_[p], now()});
          position = rec.offset + 1;
        }
        if (!records.ok()) anomaly("a record that does not decode: " + records.error().message());
      }
      if (!batches.ok()) anomaly("a batch that does not decode: " + batches.error().message());
    }
  }
}

}  // namespace kwire::sim::detail
