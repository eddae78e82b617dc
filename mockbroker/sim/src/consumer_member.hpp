// One member of a consumer_group (consumers.hpp): a small classic consumer
// written with the codec. Private to kwire::sim. Split by job:
// - consumer_channels.cc: its connections (one to any broker for Metadata
//   and FindCoordinator, one to the coordinator, one per partition leader
//   for Fetch and ListOffsets), requests matched to answers by correlation
//   id, request timeouts, and its timers;
// - consumer_member.cc: the group protocol (FindCoordinator, JoinGroup,
//   the leader's range assignment, SyncGroup, Heartbeat, OffsetCommit,
//   LeaveGroup) and the scheduler (advance) that decides what to send next;
// - consumer_fetch.cc: Metadata, OffsetFetch, ListOffsets and Fetch, and
//   the records it processes.
//
// Callbacks only change state; every entry point (a connection's event, a
// timer, start, stop) ends with advance(), which sends what is due and sets
// the next timer. Thread-safety: none.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/message.hpp"
#include "kwire/sim/consumers.hpp"

namespace kwire::sim::detail {

/// A broker as a member knows it: from the bootstrap list (ids -1, -2...)
/// or from Metadata.
struct broker_address {
  std::int32_t id = -1;
  std::string host;
  std::int32_t port = 0;
};

class consumer_member {
 public:
  consumer_member(world& w, const consumer_options& options, consumer_log& log, std::size_t index,
                  std::vector<broker_address> bootstrap);
  consumer_member(const consumer_member&) = delete;
  consumer_member& operator=(const consumer_member&) = delete;

  void start();
  void crash();
  void stop();

  bool running() const noexcept { return alive_ && phase_ != phase::stopping; }
  bool stable() const;
  bool finished() const noexcept { return phase_ == phase::done; }
  std::int32_t generation() const noexcept { return synced_generation_; }
  std::vector<std::int32_t> assignment() const { return assigned_; }
  std::optional<std::int64_t> position(std::int32_t partition) const;

 private:
  enum class phase { idle, joining, syncing, stable, stopping, done, crashed };

  // ---- channels (consumer_channels.cc) ----
  using response_fn = std::function<void(const any_message*)>;  // nullptr: no answer
  struct pending {
    std::int32_t correlation = 0;
    std::int16_t api_key = 0;
    std::int16_t version = 0;
    ms deadline{0};
    response_fn done;
  };
  struct channel {
    std::uint64_t connection = 0;  // 0: none
    std::int32_t broker = -1;
    bool connected = false;
    std::vector<std::vector<std::uint8_t>> unsent;  // written once connected
    std::deque<pending> in_flight;                  // in the order written
    frame_splitter splitter{default_max_frame_size};
  };
  enum class channel_role { bootstrap, coordinator, fetch };

  channel* channel_of(std::uint64_t connection);
  std::vector<const channel*> channels() const;
  // Opens `ch` to `to` if it has no connection.
  void ensure_open(channel& ch, const broker_address& to);
  // Encodes and writes (or queues) a request on `ch`, opened to `to` if needed.
  void send(channel& ch, const broker_address& to, const any_message& body, std::int16_t version,
            ms timeout, response_fn done);
  template <class Request>
  void send(channel& ch, const broker_address& to, const Request& body, std::int16_t version,
            ms timeout, response_fn done) {
    any_message m(Request::ops());
    *m.template as<Request>() = body;
    send(ch, to, m, version, timeout, std::move(done));
  }
  void on_connected(std::uint64_t connection);
  void on_bytes(std::uint64_t connection, std::span<const std::uint8_t> bytes);
  void on_closed(std::uint64_t connection, std::string_view why);
  // Closes the channel and fails what it carried (callbacks with nullptr).
  void fail_channel(channel& ch, std::string_view why);
  void close_all_channels();
  // Fails channels with a request past its deadline.
  void check_timeouts();
  // A timer at `at` (one per instant; the earliest is enough).
  void wake(ms at);
  void on_wake(ms at);
  ms now() const { return world_.now(); }
  void note(const std::string& line);
  void anomaly(const std::string& what);

  // ---- the group protocol (consumer_member.cc) ----
  void advance();
  void send_find_coordinator();
  void coordinator_lost();
  void send_join();
  void on_join(const any_message* m);
  void send_sync(std::vector<std::pair<std::string, std::vector<std::uint8_t>>> assignments);
  void on_sync(const any_message* m, std::int32_t generation);
  void send_heartbeat();
  // Gives up the assignment (eager rebalancing) and joins again; commits
  // what was processed first when `commit_first`.
  void rejoin(bool commit_first);
  void revoke();
  // Commits the positions that moved since the last commit; `then` runs
  // when it is answered (or at once if there is nothing to commit).
  void commit(std::map<std::int32_t, std::int64_t> offsets, std::function<void()> then);
  void advance_stop();
  void finish();
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> range_assign(
      const std::vector<std::pair<std::string, std::vector<std::uint8_t>>>& members);

  // ---- metadata, offsets and records (consumer_fetch.cc) ----
  void send_metadata();
  void send_offset_fetch();
  void send_list_offsets(std::int32_t leader);
  void send_fetch(std::int32_t leader);
  void on_fetch(const any_message* m, std::uint64_t epoch, std::int32_t leader,
                std::map<std::int32_t, std::int64_t> sent);
  void advance_fetching();
  std::optional<broker_address> leader_of(std::int32_t partition) const;
  broker_address bootstrap_target() const;

  world& world_;
  const consumer_options& options_;
  consumer_log& log_;
  std::size_t index_;
  std::string name_;
  std::string client_id_;
  std::vector<broker_address> bootstrap_;

  bool alive_ = false;
  phase phase_ = phase::idle;
  std::int32_t next_correlation_ = 1;
  std::set<ms> wakes_;

  channel bootstrap_channel_;
  channel coordinator_channel_;
  std::map<std::int32_t, channel> fetch_channels_;  // by broker id
  std::size_t bootstrap_turn_ = 0;

  // What Metadata said.
  std::map<std::int32_t, broker_address> brokers_;
  std::map<std::int32_t, std::int32_t> leaders_;  // partition -> leader (-1 unknown)
  std::int32_t partition_count_ = 0;
  bool metadata_in_flight_ = false;
  bool metadata_stale_ = true;
  ms metadata_retry_at_{0};

  std::optional<broker_address> coordinator_;
  bool find_in_flight_ = false;
  ms find_retry_at_{0};

  // Membership.
  std::string member_id_;
  std::int32_t generation_ = -1;
  std::int32_t synced_generation_ = -1;
  bool join_in_flight_ = false;
  bool sync_in_flight_ = false;
  bool revoking_ = false;  // the commit before a rejoin is in flight
  ms join_retry_at_{0};
  bool heartbeat_in_flight_ = false;
  ms heartbeat_due_{0};

  // The assignment and the positions in it.
  std::vector<std::int32_t> assigned_;
  std::uint64_t assignment_epoch_ = 0;  // bumps on every assign and revoke
  std::map<std::int32_t, std::int64_t> positions_;
  std::map<std::int32_t, ms> offsets_asked_at_;    // OffsetFetch sent, for start_record
  std::map<std::int32_t, std::size_t> run_start_;  // the start_record of each position
  std::set<std::int32_t> reset_needed_;            // nothing committed: ListOffsets
  std::map<std::int32_t, ms> partition_retry_at_;  // backoff after a fetch error
  bool offsets_in_flight_ = false;
  ms offsets_retry_at_{0};
  std::set<std::int32_t> list_offsets_in_flight_;  // by leader
  std::set<std::int32_t> fetch_in_flight_;         // by leader

  // Commits.
  std::map<std::int32_t, std::int64_t> committed_;  // acknowledged by the coordinator
  bool commit_in_flight_ = false;
  ms commit_due_{0};

  // A clean stop: the final commit, then LeaveGroup.
  enum class stop_step { commit, committing, leave, leaving };
  stop_step stop_step_ = stop_step::commit;
  std::map<std::int32_t, std::int64_t> final_positions_;
  ms stop_deadline_{0};
};

}  // namespace kwire::sim::detail
