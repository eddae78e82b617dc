// Fuzz target: the producer core fed arbitrary responses.
//
// A producer_core sends records to a topic while a mock cluster core stands
// behind its connections. The input is a script: byte 0 chooses the producer
// configuration, then each operation is a byte (low 3 bits: what; the rest
// and the following bytes: its arguments), applied to the connection the
// argument picks among the open ones:
//   0  the cluster answers the oldest request (the answer may arrive in two reads)
//   1  the cluster answers, with one byte of the answer flipped
//   2  an answer made up from the input: the right header, then the input as body
//   3  raw bytes from the input arrive
//   4  the connection closes (or the next connection attempt fails)
//   5  time passes
//   6  more records are sent (keyed, unkeyed, to an explicit partition)
//   7  flush(); with bit 3 set, want_metadata() for the topic first
// After every operation the core is polled until it is idle; then it is
// given a few seconds more, aborted, and polled again.
// Oracles: no crash; every frame the core writes is on an open connection
// and decodes as a request; a report is for an accepted record and comes
// once; pending_records() is the accepted records not yet reported; after
// abort() every accepted record has been reported, nothing is pending or
// buffered.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/producer/producer_core.hpp"
#include "kwire/protocol/frame.hpp"
#include "kwire/protocol/header.hpp"

namespace {

using namespace std::chrono_literals;

// An oracle failed: say which, then crash so that libFuzzer keeps the input.
[[noreturn]] void fail(const char* what, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
  std::abort();
}
#define CHECK(cond) ((cond) ? void() : fail(#cond, __LINE__))

/// Reads the script, giving zeros once it ends.
struct script {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at = 0;
  bool done() const { return at >= size; }
  std::uint8_t byte() { return at < size ? data[at++] : 0; }
  std::span<const std::uint8_t> bytes(std::size_t n) {
    n = std::min(n, size - std::min(at, size));
    std::span<const std::uint8_t> out(data + at, n);
    at += n;
    return out;
  }
};

/// One connection the core asked for, seen from the shell.
struct connection {
  std::int32_t cluster_broker = 0;
  std::uint64_t cluster_connection = 0;
  kwire::frame_splitter outgoing{1 << 24};
  std::deque<std::vector<std::uint8_t>> requests;  // written, not yet answered
};

kwire::mockbroker::cluster_config quiet_cluster() {
  kwire::mockbroker::cluster_config c;
  c.request_log_capacity = 0;
  return c;
}

struct harness {
  kwire::mockbroker::cluster cluster{quiet_cluster()};
  std::unique_ptr<kwire::producer_core> core;
  std::map<std::pair<std::string, std::int32_t>, std::int32_t> address_to_broker;
  std::map<std::int32_t, connection> connections;  // by the core's broker id
  std::uint64_t next_connection = 1;
  bool refuse_next_connect = false;
  // KWIRE_FUZZ_TRACE=1 prints every step and poll (for replaying one input).
  const bool tracing = std::getenv("KWIRE_FUZZ_TRACE") != nullptr;
  kwire::core_time now{};

  std::vector<std::uint64_t> to_send;  // record ids waiting for send()
  std::vector<int> reports;            // per record id: reports received
  std::vector<bool> accepted;
  std::size_t accepted_count = 0;
  std::size_t reported_count = 0;
  std::uint64_t next_record = 0;

  explicit harness(std::uint8_t choice) {
    cluster.create_topic("fuzz", {.partitions = 3});
    for (const auto& b : cluster.brokers()) address_to_broker[{b.host, b.port}] = b.id;
    kwire::producer_config p;
    for (const auto& b : cluster.brokers()) p.bootstrap_servers.push_back({b.host, b.port});
    p.enable_idempotence_set = true;
    switch (choice & 3) {
      case 0:
        p.acks = -1;
        p.enable_idempotence = true;
        break;
      case 1:
        p.acks = -1;
        p.enable_idempotence = false;
        break;
      case 2:
        p.acks = 1;
        p.enable_idempotence = false;
        break;
      default:
        p.acks = 0;
        p.enable_idempotence = false;
        break;
    }
    p.max_in_flight_requests_per_connection = 1 + (choice >> 2) % 5;
    p.compression_type = static_cast<kwire::compression>((choice >> 5) % 5);
    p.linger = (choice & 0x80) ? 5ms : 0ms;
    p.batch_size = (choice & 0x10) ? 0 : 1024;
    if (!p.enable_idempotence && (choice & 0x40)) p.retries = 2;
    p.request_timeout = 1000ms;
    p.delivery_timeout = 4000ms;
    p.retry_backoff = 10ms;
    p.retry_backoff_max = 100ms;
    p.metadata_max_age = 2000ms;
    core = std::make_unique<kwire::producer_core>(p, kwire::core_options{.seed = 1});
  }

  void queue_records(std::size_t n, std::uint8_t shape) {
    for (std::size_t i = 0; i < n; ++i) {
      to_send.push_back(next_record++);
      reports.push_back(0);
      accepted.push_back(false);
    }
    shape_ = shape;
  }

  void try_send() {
    while (!to_send.empty()) {
      const std::uint64_t id = to_send.front();
      const std::string value = "r" + std::to_string(id) + std::string(id % 7 * 10, 'x');
      const std::string key = "k" + std::to_string(id % 5);
      kwire::producer_record r;
      r.topic = "fuzz";
      if (shape_ & 1) r.key = kwire::bytes_of(key);
      r.value = kwire::bytes_of(value);
      if ((shape_ & 2) && id % 3 == 0)
        r.partition = static_cast<std::int32_t>(id % 4);  // 3 is invalid
      const auto res = core->send(r, id, now);
      if (res.status == kwire::send_status::wait_for_metadata ||
          res.status == kwire::send_status::wait_for_buffer)
        return;
      to_send.erase(to_send.begin());
      if (res.status == kwire::send_status::accepted) {
        accepted[id] = true;
        ++accepted_count;
      }
    }
  }

  void handle(kwire::core_output out) {
    if (tracing) {
      std::fprintf(stderr, "%lldms poll:", static_cast<long long>(kwire::unix_ms(now)));
      for (const auto id : out.disconnects) std::fprintf(stderr, " close %d", id);
      for (const auto& c : out.connects)
        std::fprintf(stderr, " connect %d %s:%d", c.broker_id, c.host.c_str(), c.port);
      for (const auto& f : out.frames)
        std::fprintf(stderr, " write %d (%zu bytes)", f.broker_id, f.bytes.size());
      for (const auto& r : out.reports)
        std::fprintf(stderr, " report r%llu", static_cast<unsigned long long>(r.record_id));
      std::fprintf(stderr, "\n");
    }
    for (const std::int32_t id : out.disconnects) connections.erase(id);
    for (const auto& c : out.connects) {
      connections.erase(c.broker_id);
      // Made-up metadata may name any address: nothing listens there.
      const auto b = address_to_broker.find({c.host, c.port});
      if (refuse_next_connect || b == address_to_broker.end()) {
        refuse_next_connect = false;
        core->on_disconnected(c.broker_id, now);
        continue;
      }
      connection& conn = connections[c.broker_id];
      conn.cluster_broker = b->second;
      conn.cluster_connection = next_connection++;
      core->on_connected(c.broker_id, now);
    }
    for (auto& f : out.frames) {
      auto it = connections.find(f.broker_id);
      CHECK(it != connections.end());
      it->second.outgoing.feed(f.bytes);
      while (auto frame = it->second.outgoing.next()) {
        CHECK(static_cast<bool>(kwire::decode_request(*frame)));
        it->second.requests.emplace_back(frame->begin(), frame->end());
      }
      CHECK(!it->second.outgoing.failed());
    }
    for (const auto& r : out.reports) {
      CHECK(r.record_id < reports.size() && accepted[r.record_id]);
      CHECK(++reports[r.record_id] == 1);
      ++reported_count;
    }
  }

  void settle() {
    for (int round = 0; round < 64; ++round) {
      try_send();
      auto out = core->poll(now);
      if (out.empty()) break;
      handle(std::move(out));
    }
    CHECK(core->pending_records() == accepted_count - reported_count);
  }

  connection* pick(std::uint8_t choice, std::int32_t* id) {
    if (connections.empty()) return nullptr;
    auto it = connections.begin();
    std::advance(it, choice % connections.size());
    *id = it->first;
    return &it->second;
  }

  // The cluster answers the oldest request; `mutate` flips one byte of the answer.
  void cluster_answers(script& in, bool mutate) {
    std::int32_t id = 0;
    connection* c = pick(in.byte(), &id);
    const std::uint8_t split = in.byte();
    std::uint16_t flip_at = 0;
    std::uint8_t flip = 0;
    if (mutate) {
      flip_at = static_cast<std::uint16_t>(in.byte() << 8 | in.byte());
      flip = in.byte();
    }
    if (!c || c->requests.empty()) return;
    const auto request = std::move(c->requests.front());
    c->requests.pop_front();
    auto res = cluster.handle(c->cluster_broker, c->cluster_connection, request,
                              kwire::mockbroker::time_point(now.time_since_epoch()));
    if (res.response) {
      auto& bytes = *res.response;
      if (mutate && !bytes.empty()) bytes[flip_at % bytes.size()] ^= flip ? flip : 1;
      const std::size_t first = split % (bytes.size() + 1);
      core->on_bytes(id, std::span(bytes).first(first), now);
      core->on_bytes(id, std::span(bytes).subspan(first), now);
    }
    if (res.closes()) {
      connections.erase(id);
      core->on_disconnected(id, now);
    }
  }

  // An answer with the right size, correlation id and header; the body is the input's.
  void made_up_answer(script& in) {
    std::int32_t id = 0;
    connection* c = pick(in.byte(), &id);
    const auto body = in.bytes(in.byte());
    if (!c || c->requests.empty()) return;
    const auto request = kwire::decode_request(c->requests.front());
    c->requests.pop_front();
    if (!request) return;
    std::vector<std::uint8_t> out;
    kwire::writer w(out);
    const auto at = kwire::begin_frame(w);
    kwire::response_header h;
    h.correlation_id = request->header.correlation_id;
    h.encode(w,
             kwire::response_header_version(request->header.api_key, request->header.api_version));
    w.write_raw(body);
    kwire::end_frame(w, at);
    core->on_bytes(id, out, now);
  }

  void step(script& in) {
    const std::uint8_t op = in.byte();
    if (tracing)
      std::fprintf(stderr, "%lldms step %d (byte %d)\n",
                   static_cast<long long>(kwire::unix_ms(now)), op & 7, op);
    switch (op & 7) {
      case 0:
        cluster_answers(in, false);
        break;
      case 1:
        cluster_answers(in, true);
        break;
      case 2:
        made_up_answer(in);
        break;
      case 3: {
        std::int32_t id = 0;
        const bool some = pick(in.byte(), &id) != nullptr;
        const auto bytes = in.bytes(in.byte() % 64);
        if (some) core->on_bytes(id, bytes, now);
        break;
      }
      case 4: {
        std::int32_t id = 0;
        if (op & 8) {
          refuse_next_connect = true;
        } else if (pick(in.byte(), &id)) {
          connections.erase(id);
          core->on_disconnected(id, now);
        }
        break;
      }
      case 5:
        now += std::chrono::milliseconds(1 + (op >> 3) * (op >> 3) * 4);
        break;
      case 6:
        queue_records((op >> 3) % 8, static_cast<std::uint8_t>(op >> 6));
        break;
      case 7:
        if (op & 8) {
          // Asking for known metadata must change nothing a record sees.
          const auto before = core->partition_count("fuzz");
          (void)core->want_metadata("fuzz");
          CHECK(core->partition_count("fuzz") == before);
        }
        core->flush();
        break;
    }
    settle();
  }

 private:
  std::uint8_t shape_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  harness h(data[0]);
  script in{data + 1, size - 1};
  h.queue_records(6, 1);
  h.settle();
  for (int steps = 0; !in.done() && steps < 4096; ++steps) h.step(in);

  // Let the timers run out, then give up on whatever is left.
  for (int i = 0; i < 10; ++i) {
    h.now += 1000ms;
    h.settle();
  }
  h.to_send.clear();  // never accepted: no report is owed
  h.core->abort(kwire::make_error_code(kwire::producer_errc::producer_closed));
  h.settle();
  for (std::uint64_t id = 0; id < h.next_record; ++id) CHECK(!h.accepted[id] || h.reports[id] == 1);
  CHECK(h.core->pending_records() == 0 && h.accepted_count == h.reported_count);
  CHECK(h.core->buffered_bytes() == 0);
  return 0;
}
