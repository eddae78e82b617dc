// The producer's side of the world: the producer core polled after every
// event, the connections it asks for, the frames it writes, its delivery
// reports, and the workload's sender, one user thread that blocks while
// send() says wait (world.hpp). The network itself is world.cc.
#include <algorithm>
#include <utility>

#include "world_impl.hpp"

namespace kwire::sim {

using namespace std::chrono_literals;

void world::impl::pump() {
  for (int round = 0; round < 64; ++round) {
    core_output out = core.poll(core_now());
    if (out.empty()) return;
    for (const std::int32_t id : out.disconnects) {
      auto it = current.find(id);
      if (it == current.end()) continue;
      close_by_client(connections.at(it->second));
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
  const std::int32_t producer_id = request.broker_id;
  client_handlers h;
  h.on_connected = [this, producer_id] { core.on_connected(producer_id, core_now()); };
  h.on_bytes = [this, producer_id](std::span<const std::uint8_t> bytes) {
    core.on_bytes(producer_id, bytes, core_now());
  };
  // on_closed is set below, once the connection has its id.
  connection& c = open_connection(request.host, request.port, "producer",
                                  "producer id " + std::to_string(producer_id), std::move(h));
  c.is_producer = true;
  c.client_id = producer_id;
  current[producer_id] = c.id;
  c.handlers.on_closed = [this, producer_id, id = c.id](std::string_view) {
    auto it = current.find(producer_id);
    if (it != current.end() && it->second == id) current.erase(it);
    core.on_disconnected(producer_id, core_now());
  };
}

void world::impl::write(outgoing_frame& frame) {
  auto it = current.find(frame.broker_id);
  if (it == current.end() || !connections.at(it->second).connected) {
    violation("a frame for producer broker id " + std::to_string(frame.broker_id) +
              ", which has no open connection");
    return;
  }
  send_to_server(connections.at(it->second), std::move(frame.bytes));
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
  impl_->cut(impl_->connections.at(it->second));
  return true;
}

std::size_t world::cut_connections_to(std::int32_t cluster_broker_id) {
  std::vector<std::int32_t> ids;
  for (const auto& [client, conn] : impl_->current)
    if (impl_->connections.at(conn).broker == cluster_broker_id) ids.push_back(client);
  for (const auto id : ids) cut_connection(id);
  // Then the other clients' connections, in the order they were opened.
  std::vector<std::uint64_t> others;
  for (const auto& [id, c] : impl_->connections)
    if (!c.is_producer && c.client_open && c.broker == cluster_broker_id) others.push_back(id);
  for (const auto id : others) {
    impl::connection& c = impl_->connections.at(id);
    if (c.client_open) impl_->cut(c);  // an earlier owner's handler may have closed it
  }
  return ids.size() + others.size();
}

bool world::run_until_reported(ms limit) {
  impl_->run(limit, true);
  return impl_->sender_queue.empty() && impl_->unreported == 0;
}

}  // namespace kwire::sim
