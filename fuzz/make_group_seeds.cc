// Writes fuzz_cluster seeds that walk consumer groups deep: members that
// join, sync, heartbeat, commit, fetch their offsets, are fenced, expire and
// leave. A member id is random to a fuzzer but not to the cluster, whose ids
// come from its seed: this program runs the same cluster as fuzz_cluster
// (cluster_setup.hpp), learns each id from its answers and writes the frames
// as fuzz_cluster reads them, so a replay reaches the same states. Every
// answer is checked on the way: a seed that no longer reaches its state
// fails here instead of going stale.
//
// Usage: make_group_seeds DIR (fuzz/corpus/fuzz_cluster)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster_setup.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/header.hpp"
#include "kwire/protocol/messages.hpp"

namespace {

using namespace kwire;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "make_group_seeds: %s\n", what.c_str());
  std::exit(1);
}

/// One seed: the cluster fuzz_cluster builds, and the input that drives it.
class recorder {
 public:
  recorder() { fuzzing::create_fuzz_topic(cluster_); }

  /// A request sent and its answer: now, or (parked) when the cluster polls it out.
  struct sent {
    std::optional<std::vector<std::uint8_t>> response;
    std::uint64_t ticket = 0;
    std::int16_t key = 0;
    std::int16_t version = 0;
  };

  /// Appends `body` to the input for `broker` (1-3) on connection slot
  /// `slot` (0-3), `steps` time steps after the previous frame, and runs it.
  template <class Request>
  sent send(std::int32_t broker, int slot, const Request& body, std::int16_t version,
            int steps = 0) {
    auto frame =
        encode_request({Request::api_key, version, ++correlation_, std::string("seed"), {}}, body);
    if (!frame.ok()) fail(std::string(Request::name) + " does not encode");
    const std::vector<std::uint8_t>& bytes = frame.value();
    input_.push_back(static_cast<std::uint8_t>((broker & 3) | (slot << 2) | (steps << 4)));
    input_.insert(input_.end(), bytes.begin(), bytes.end());  // size prefix and payload
    now_ += std::chrono::milliseconds(fuzzing::fuzz_time_step_ms * steps);
    const std::span<const std::uint8_t> payload(bytes.data() + 4, bytes.size() - 4);
    // fuzz_cluster numbers connections 1.. by broker slot, then connection slot.
    const auto connection = static_cast<std::uint64_t>((broker & 3) * 4 + slot + 1);
    auto result = cluster_.handle(broker, connection, payload, now_);
    if (result.closes()) fail(std::string(Request::name) + " closed its connection");
    for (auto& a : cluster_.poll(now_))
      if (a.response) answers_[a.ticket] = std::move(*a.response);
    return {std::move(result.response), result.parked, Request::api_key, version};
  }

  /// The answer to `s`, which must have come.
  template <class Response>
  Response answer(const sent& s) const {
    const std::vector<std::uint8_t>* bytes = s.response ? &*s.response : nullptr;
    if (!bytes) {
      auto it = answers_.find(s.ticket);
      if (it == answers_.end()) fail(std::string(Response::name) + " not answered");
      bytes = &it->second;
    }
    const std::span<const std::uint8_t> payload(bytes->data() + 4, bytes->size() - 4);
    auto decoded = decode_response(payload, s.key, s.version);
    if (!decoded.ok()) fail(std::string(Response::name) + " does not decode");
    return *decoded.value().body.as<Response>();
  }

  /// The answer's error code must be `want`.
  template <class Response>
  Response expect(const sent& s, kafka_error want) const {
    Response r = answer<Response>(s);
    if (r.error_code != static_cast<std::int16_t>(want))
      fail(std::string(Response::name) + ": error " + std::to_string(r.error_code) + ", expected " +
           std::to_string(static_cast<int>(want)));
    return r;
  }

  void write(const std::filesystem::path& file) const {
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(input_.data()),
               static_cast<std::streamsize>(input_.size()));
  }

 private:
  mockbroker::cluster cluster_{fuzzing::fuzz_cluster_config(false)};
  mockbroker::time_point now_ = fuzzing::fuzz_start_time();
  std::vector<std::uint8_t> input_{0x00};  // no request log, fault or hook
  std::int32_t correlation_ = 0;
  std::map<std::uint64_t, std::vector<std::uint8_t>> answers_;
};

std::vector<std::uint8_t> subscription() {
  consumer_protocol_subscription s;
  s.topics = {fuzzing::fuzz_topic};
  return encode_consumer_protocol_subscription(s, 1).value();
}

std::vector<std::uint8_t> assignment(std::vector<std::int32_t> partitions) {
  consumer_protocol_assignment a;
  a.assigned_partitions.push_back({fuzzing::fuzz_topic, std::move(partitions), {}});
  return encode_consumer_protocol_assignment(a, 1).value();
}

join_group_request join(const std::string& group, const std::string& member,
                        std::optional<std::string> instance = std::nullopt) {
  join_group_request r;
  r.group_id = group;
  r.session_timeout_ms = 6000;
  r.rebalance_timeout_ms = 10000;
  r.member_id = member;
  r.group_instance_id = std::move(instance);
  r.protocol_type = "consumer";
  r.protocols.push_back({"range", subscription(), {}});
  return r;
}

sync_group_request sync(const std::string& group, std::int32_t generation,
                        const std::string& member,
                        std::vector<std::pair<std::string, std::vector<std::int32_t>>> plan = {}) {
  sync_group_request r;
  r.group_id = group;
  r.generation_id = generation;
  r.member_id = member;
  r.protocol_type = "consumer";
  r.protocol_name = "range";
  for (auto& [id, partitions] : plan) r.assignments.push_back({id, assignment(partitions), {}});
  return r;
}

heartbeat_request heartbeat(const std::string& group, std::int32_t generation,
                            const std::string& member) {
  heartbeat_request r;
  r.group_id = group;
  r.generation_id = generation;
  r.member_id = member;
  return r;
}

offset_commit_request commit(const std::string& group, std::int32_t generation,
                             const std::string& member, std::int64_t offset) {
  offset_commit_request r;
  r.group_id = group;
  r.generation_id_or_member_epoch = generation;
  r.member_id = member;
  offset_commit_request_offset_commit_request_topic t;
  t.name = fuzzing::fuzz_topic;
  for (std::int32_t p = 0; p < fuzzing::fuzz_topic_partitions; ++p)
    t.partitions.push_back({p, offset + p, -1, -1, std::string("m"), {}});
  r.topics.push_back(std::move(t));
  return r;
}

std::int32_t coordinator(recorder& r, const std::string& group) {
  find_coordinator_request req;
  req.key = group;
  return r.expect<find_coordinator_response>(r.send(1, 0, req, 3), kafka_error::none).node_id;
}

/// A member alone: MEMBER_ID_REQUIRED, join, sync, heartbeat, commit, fetch
/// offsets, describe, list, leave, delete offsets and the group (v5-era versions).
void one_member(recorder& r) {
  const std::string g = "g1";
  const std::int32_t b = coordinator(r, g);
  auto first =
      r.expect<join_group_response>(r.send(b, 0, join(g, ""), 5), kafka_error::member_id_required);
  auto joined =
      r.expect<join_group_response>(r.send(b, 0, join(g, first.member_id), 5), kafka_error::none);
  const std::string m = joined.member_id;
  r.expect<sync_group_response>(r.send(b, 0, sync(g, joined.generation_id, m, {{m, {0, 1, 2}}}), 3),
                                kafka_error::none);
  r.expect<heartbeat_response>(r.send(b, 0, heartbeat(g, joined.generation_id, m), 3, 5),
                               kafka_error::none);
  auto committed =
      r.answer<offset_commit_response>(r.send(b, 0, commit(g, joined.generation_id, m, 0), 7));
  if (committed.topics.at(0).partitions.at(0).error_code != 0) fail("OffsetCommit v7 failed");
  offset_fetch_request of;
  of.group_id = g;
  r.expect<offset_fetch_response>(r.send(b, 0, of, 5), kafka_error::none);
  describe_groups_request dg;
  dg.groups = {g};
  r.answer<describe_groups_response>(r.send(b, 0, dg, 5));
  r.expect<list_groups_response>(r.send(b, 0, list_groups_request{}, 4), kafka_error::none);
  leave_group_request lg;
  lg.group_id = g;
  lg.members.push_back({m, std::nullopt, std::nullopt, {}});
  r.expect<leave_group_response>(r.send(b, 0, lg, 3), kafka_error::none);
  offset_delete_request od;
  od.group_id = g;
  od.topics.push_back({fuzzing::fuzz_topic, {{1, {}}}, {}});
  r.expect<offset_delete_response>(r.send(b, 0, od, 0), kafka_error::none);
  delete_groups_request del;
  del.groups_names = {g};
  auto deleted = r.answer<delete_groups_response>(r.send(b, 0, del, 2));
  if (deleted.results.at(0).error_code != 0) fail("DeleteGroups failed");
}

/// Two members at the newest versions: the second joins and waits, the
/// first rejoins, the follower's SyncGroup waits for the leader's, both
/// commit; one leaves and the other rejoins alone.
void two_members(recorder& r) {
  const std::string g = "g2";
  const std::int32_t b = coordinator(r, g);
  auto a_id =
      r.expect<join_group_response>(r.send(b, 0, join(g, ""), 9), kafka_error::member_id_required)
          .member_id;
  auto a = r.expect<join_group_response>(r.send(b, 0, join(g, a_id), 9), kafka_error::none);
  r.expect<sync_group_response>(
      r.send(b, 0, sync(g, a.generation_id, a_id, {{a_id, {0, 1, 2}}}), 5), kafka_error::none);
  auto b_id =
      r.expect<join_group_response>(r.send(b, 1, join(g, ""), 9), kafka_error::member_id_required)
          .member_id;
  auto b_join = r.send(b, 1, join(g, b_id), 9);
  if (b_join.response) fail("the second member's JoinGroup was not parked");
  r.expect<heartbeat_response>(r.send(b, 0, heartbeat(g, a.generation_id, a_id), 4, 3),
                               kafka_error::rebalance_in_progress);
  auto a2 = r.expect<join_group_response>(r.send(b, 0, join(g, a_id), 9), kafka_error::none);
  auto b2 = r.expect<join_group_response>(b_join, kafka_error::none);
  if (a2.generation_id != b2.generation_id || a2.members.size() != 2) fail("no common generation");
  auto b_sync = r.send(b, 1, sync(g, b2.generation_id, b_id), 5);
  if (b_sync.response) fail("the follower's SyncGroup was not parked");
  r.expect<sync_group_response>(
      r.send(b, 0, sync(g, a2.generation_id, a_id, {{a_id, {0, 1}}, {b_id, {2}}}), 5),
      kafka_error::none);
  r.expect<sync_group_response>(b_sync, kafka_error::none);
  r.answer<offset_commit_response>(r.send(b, 0, commit(g, a2.generation_id, a_id, 10), 9, 2));
  r.answer<offset_commit_response>(r.send(b, 1, commit(g, b2.generation_id, b_id, 20), 9));
  offset_fetch_request of;
  of.groups.push_back({g, std::nullopt, -1, std::nullopt, {}});
  of.require_stable = true;
  r.answer<offset_fetch_response>(r.send(b, 1, of, 9));
  describe_groups_request dg;
  dg.groups = {g};
  dg.include_authorized_operations = true;
  r.answer<describe_groups_response>(r.send(b, 1, dg, 5));
  list_groups_request lg;
  lg.states_filter = {"Stable"};
  lg.types_filter = {"consumer"};
  r.expect<list_groups_response>(r.send(b, 1, lg, 5), kafka_error::none);
  leave_group_request leave;
  leave.group_id = g;
  leave.members.push_back({b_id, std::nullopt, std::string("done"), {}});
  r.expect<leave_group_response>(r.send(b, 1, leave, 5), kafka_error::none);
  r.expect<heartbeat_response>(r.send(b, 0, heartbeat(g, a2.generation_id, a_id), 4, 2),
                               kafka_error::rebalance_in_progress);
  auto a3 = r.expect<join_group_response>(r.send(b, 0, join(g, a_id), 9), kafka_error::none);
  r.expect<sync_group_response>(
      r.send(b, 0, sync(g, a3.generation_id, a_id, {{a_id, {0, 1, 2}}}), 5), kafka_error::none);
}

/// Static members: a join without a member id round, a rejoin that takes a
/// new id and fences the old one, then a session that expires.
void static_member(recorder& r) {
  const std::string g = "g3";
  const std::int32_t b = coordinator(r, g);
  auto first = r.expect<join_group_response>(r.send(b, 0, join(g, "", "i1"), 7), kafka_error::none);
  r.expect<sync_group_response>(
      r.send(b, 0, sync(g, first.generation_id, first.member_id, {{first.member_id, {0, 1, 2}}}),
             5),
      kafka_error::none);
  auto again = r.expect<join_group_response>(r.send(b, 1, join(g, "", "i1"), 7), kafka_error::none);
  heartbeat_request old = heartbeat(g, first.generation_id, first.member_id);
  old.group_instance_id = "i1";
  r.expect<heartbeat_response>(r.send(b, 0, old, 4), kafka_error::fenced_instance_id);
  heartbeat_request current = heartbeat(g, again.generation_id, again.member_id);
  current.group_instance_id = "i1";
  r.expect<heartbeat_response>(r.send(b, 1, current, 4), kafka_error::none);
  // No heartbeat for longer than the session (6 s): the member is gone.
  metadata_request md;
  for (int i = 0; i < 12; ++i) r.send(b % 3 + 1, 2, md, 9, 15);
  r.expect<heartbeat_response>(r.send(b, 1, current, 4), kafka_error::unknown_member_id);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_group_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  const std::pair<const char*, void (*)(recorder&)> seeds[] = {
      {"groups-one-member", one_member},
      {"groups-two-members", two_members},
      {"groups-static-member", static_member},
  };
  for (const auto& [name, script] : seeds) {
    recorder r;
    script(r);
    r.write(dir / name);
  }
  std::printf("wrote %zu seeds to %s\n", std::size(seeds), dir.string().c_str());
  return 0;
}
