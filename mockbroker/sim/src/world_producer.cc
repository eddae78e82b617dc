// The producer's side of the world: the producer core polled after every
// event, the connections it asks for, the frames it writes, its delivery
// reports, and the workload's sender, one user thread that blocks while
// send() says wait (world.hpp). The network itself is world.cc.
#include <algorithm>
#include <utility>

#include "world_impl.hpp"

namespace kwire::sim {

using namespace std::chrono_literals;

void world::impl::lose_connection(connection& c, std::string_view why) {
  const bool notify = c.client_open;
  c.client_open = false;
  auto it = current.find(c.client_id);
  if (it != current.end() && it->second == c.id) current.erase(it);
  if (notify) {
    trace("producer: connection " + conn_name(c) + " closed: " + std::string(why));
    core.on_disconnected(c.client_id, core_now());
  }
}

// ---- the producer ----

void world::impl::pump() {
  for (int round = 0; round < 64; ++round) {
    core_output out = core.poll(core_now());
    if (out.empty()) return;
    for (const std::int32_t id : out.disconnects) {
      auto it = current.find(id);
      if (it == current.end()) continue;
      connection& c = connections.at(it->second);
      trace("producer closes " + conn_name(c));
      c.client_open = false;
      ++stats.producer_closes;
      current.erase(it);
    }
    for (const auto& request : out.connects) open(request);
    for (auto& frame : out.frames) write(frame);
    for (const auto& report : out.reports) deliver_report(report);
  }
  violation("poll() kept returning work at " + format_time(now));
}

void world::impl::open(const connect_request& request) {
  if (auto old = current.find(request.broker_id); old != current.end()) {
    connections.at(old->second).client_open = false;  // replaced without a disconnect
    current.erase(old);
  }
  connection c;
  c.id = next_connection++;
  c.client_id = request.broker_id;
  auto a = address_to_broker.find({request.host, request.port});
  c.broker = a == address_to_broker.end() ? -1 : a->second;
  ++stats.connects;
  current[c.client_id] = c.id;
  trace("producer connects to " + request.host + ":" + std::to_string(request.port) + " as " +
        conn_name(c));
  const ms rtt = 2 * link_latency(c.broker);
  event e;
  e.what = kind::connect_done;
  e.connection = c.id;
  connections.emplace(c.id, std::move(c));
  schedule(now + rtt, std::move(e));
}

void world::impl::write(outgoing_frame& frame) {
  auto it = current.find(frame.broker_id);
  if (it == current.end() || !connections.at(it->second).connected) {
    violation("a frame for producer broker id " + std::to_string(frame.broker_id) +
              ", which has no open connection");
    return;
  }
  connection& c = connections.at(it->second);
  if (unreachable.count(c.broker)) {
    ++stats.dropped_frames;
    return;
  }
  const ms arrival = std::max(now + link_latency(c.broker), c.last_to_server);
  c.last_to_server = arrival;
  event e;
  e.what = kind::to_server;
  e.connection = c.id;
  e.bytes = std::move(frame.bytes);
  schedule(arrival, std::move(e));
}

void world::impl::deliver_report(const delivery_report& report) {
  if (report.record_id >= records.size()) {
    violation("a report for unknown record id " + std::to_string(report.record_id));
    return;
  }
  sim_record& r = records[report.record_id];
  ++r.reports;
  if (r.reported) {
    violation("a second report for record " + std::to_string(r.id));
    return;
  }
  r.reported = true;
  --unreported;
  r.reported_at = now;
  r.error = report.error;
  r.offset = report.offset;
  if (report.partition != r.partition)
    violation("record " + std::to_string(r.id) + " reported on partition " +
              std::to_string(report.partition) + ", sent to " + std::to_string(r.partition));
  if (options.trace)
    trace("report r" + std::to_string(r.id) + " " + r.topic + "-" +
          std::to_string(report.partition) + " " +
          (report.error ? "FAILED: " + report.error.message()
                        : "offset " + std::to_string(report.offset)));
}

// ---- the sender (one thread of the user's program) ----

void world::impl::run_sender() {
  while (!sender_queue.empty()) {
    sim_record& r = records[sender_queue.front()];
    if (r.send_at > now) return;  // its own wake-up is on the calendar
    producer_record pr;
    pr.topic = r.topic;
    pr.partition = r.explicit_partition;
    if (r.key) pr.key = bytes_of(*r.key);
    pr.value = bytes_of(r.value);
    const send_result result = core.send(pr, r.id, core_now());
    if (result.status == send_status::wait_for_metadata ||
        result.status == send_status::wait_for_buffer) {
      if (!blocked_since) blocked_since = now;
      const ms max_block = options.max_block ? *options.max_block : core.config().max_block;
      if (now - *blocked_since >= max_block) {
        refuse(r, result.status == send_status::wait_for_metadata
                      ? producer_errc::metadata_timeout
                      : producer_errc::buffer_exhausted);
        continue;
      }
      if (!retry_wake || *retry_wake <= now) {
        retry_wake = now + 1ms;
        schedule(*retry_wake, event{kind::sender_wake, 0, {}, false, {}, {}});
      }
      return;
    }
    blocked_since.reset();
    if (result.status == send_status::failed) {
      r.error = result.error;
      refuse(r, std::nullopt);
      continue;
    }
    r.accepted_at = now;
    r.accept_order = accepted++;
    r.partition = result.partition;
    sender_queue.pop_front();
  }
}

void world::impl::refuse(sim_record& r, std::optional<producer_errc> why) {
  if (why) r.error = make_error_code(*why);
  r.refused_at_send = true;
  r.reported = true;
  r.reported_at = now;
  --unreported;
  blocked_since.reset();
  sender_queue.pop_front();
  trace("send r" + std::to_string(r.id) + " refused: " + r.error.message());
}

producer_core& world::producer() noexcept { return impl_->core; }

std::uint64_t world::send(std::string topic, std::optional<std::string> key, std::string value,
                          ms at, std::optional<std::int32_t> partition) {
  sim_record r;
  r.id = impl_->records.size();
  r.topic = std::move(topic);
  r.key = std::move(key);
  r.value = std::move(value);
  r.explicit_partition = partition;
  r.send_at = std::max(at, impl_->now);
  impl_->records.push_back(std::move(r));
  impl_->sender_queue.push_back(impl_->records.back().id);
  ++impl_->unreported;
  impl_->schedule(impl_->records.back().send_at,
                  impl::event{impl::kind::sender_wake, 0, {}, false, {}, {}});
  return impl_->records.back().id;
}

void world::flush_at(ms at) {
  impl_->schedule(at, impl::event{impl::kind::flush, 0, {}, false, {}, {}});
}

const std::vector<sim_record>& world::records() const noexcept { return impl_->records; }

bool world::all_reported() const noexcept {
  if (!impl_->sender_queue.empty() || impl_->unreported != 0) return false;
  return std::all_of(impl_->records.begin(), impl_->records.end(),
                     [](const sim_record& r) { return r.reported && r.reports <= 1; });
}

bool world::cut_connection(std::int32_t producer_broker_id) {
  auto it = impl_->current.find(producer_broker_id);
  if (it == impl_->current.end()) return false;
  impl::connection& c = impl_->connections.at(it->second);
  c.cut = true;
  c.server_closed = true;
  ++impl_->stats.cuts;
  impl_->lose_connection(c, "cut by the network");
  return true;
}

std::size_t world::cut_connections_to(std::int32_t cluster_broker_id) {
  std::vector<std::int32_t> ids;
  for (const auto& [client, conn] : impl_->current)
    if (impl_->connections.at(conn).broker == cluster_broker_id) ids.push_back(client);
  for (const auto id : ids) cut_connection(id);
  return ids.size();
}

bool world::run_until_reported(ms limit) {
  impl_->run(limit, true);
  return impl_->sender_queue.empty() && impl_->unreported == 0;
}

}  // namespace kwire::sim
