// The producer's Asio shell: one I/O thread drives the core (see producer.hpp).
//
// The core sits behind one mutex. Senders call core.send() under it; the I/O
// thread calls on_connected/on_bytes/on_disconnected and poll() under it and
// does the socket work outside it. After every event the I/O thread polls
// ("pump"), acts on the output in the core's order (close, open, write,
// report), and arms one timer on next_deadline().
#include "kwire/producer/producer.hpp"

#include "kwire/producer/interceptor.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace kwire {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;  // for close()'s own time limit

// Kafka's socket.connection.setup.timeout.ms default; capped by request.timeout.ms.
constexpr std::chrono::milliseconds connect_timeout_default{10000};

std::int32_t size_of(const nullable_bytes_view& v) {
  return v ? static_cast<std::int32_t>(v->size()) : -1;
}

producer_config parsed(const std::map<std::string, std::string>& settings) {
  auto r = parse_producer_config(settings);
  if (r.error) throw std::invalid_argument(r.error->message());
  return std::move(r.config);
}

// What the shell remembers of a record until its report.
struct pending_entry {
  delivery_callback callback;
  std::optional<std::promise<record_metadata>> promise;
  std::int32_t key_size = -1;
  std::int32_t value_size = -1;
  bool done = false;
};

// A report copied out of the core, ready to hand to the user off the lock.
struct ready_report {
  record_metadata metadata;
  std::error_code error;
  delivery_callback callback;
  std::optional<std::promise<record_metadata>> promise;
};

void hand_over(ready_report& r,
               const std::vector<std::shared_ptr<producer_interceptor>>& interceptors) {
  for (const auto& i : interceptors) {
    try {
      i->on_acknowledgement(r.metadata, r.error);
    } catch (...) {
      // As Java: an interceptor's exception is not the record's problem.
    }
  }
  if (r.callback) {
    try {
      r.callback(r.metadata, r.error);
    } catch (...) {
      // A throwing callback must not take the I/O thread down; Java logs and goes on.
    }
  }
  if (r.promise) {
    if (r.error)
      r.promise->set_exception(std::make_exception_ptr(std::system_error(r.error)));
    else
      r.promise->set_value(r.metadata);
  }
}

struct connection {
  connection(asio::io_context& ioc, std::int32_t id)
      : broker_id(id), socket(ioc), resolver(ioc), connect_timer(ioc) {}
  std::int32_t broker_id;
  tcp::socket socket;
  tcp::resolver resolver;
  asio::steady_timer connect_timer;
  std::vector<tcp::endpoint> endpoints;
  std::deque<std::vector<std::uint8_t>> queued;
  std::vector<std::vector<std::uint8_t>> writing;
  std::vector<asio::const_buffer> buffers;
  std::vector<std::uint8_t> read_buffer = std::vector<std::uint8_t>(64 * 1024);
  bool connected = false;
  bool closed = false;
};

}  // namespace

struct producer::impl {
  impl(producer_config config, core_options options)
      : interceptors(config.interceptors),
        core(std::move(config), options),
        timer(ioc),
        work(asio::make_work_guard(ioc)) {
    thread = std::thread([this] { ioc.run(); });
    io_thread = thread.get_id();
  }

  // The core's time: steady, and the wall clock as of the producer's start,
  // so that records without a timestamp get Unix milliseconds.
  core_time now() const { return time_source.now(); }
  bool on_io_thread() const { return std::this_thread::get_id() == io_thread; }

  // Asks the I/O thread to poll soon; at most one such request is queued.
  void wake() {
    if (!wake_posted.exchange(true))
      asio::post(ioc, [this] {
        wake_posted = false;
        pump();
      });
  }

  // ---- sending (any thread) ----

  void send(const producer_record& given, delivery_callback callback,
            std::promise<record_metadata>* promise) {
    // Interceptors first, outside the lock (they may change the record).
    const producer_record* chosen = &given;
    std::optional<producer_record> changed;
    if (!interceptors.empty()) {
      changed.emplace(given);
      for (const auto& i : interceptors) {
        try {
          i->on_send(*changed);
        } catch (...) {
          // As Java: the record goes on as the interceptors before this one left it.
        }
      }
      chosen = &*changed;
    }
    const producer_record& record = *chosen;
    std::unique_lock lock(mutex);
    // One clock read on the fast path: the deadline is only needed to wait.
    core_time at = now();
    std::optional<core_time> deadline;
    for (;;) {
      if (closed)
        return refuse(lock, record, std::move(callback), promise, producer_errc::producer_closed);
      const auto r = core.send(record, next_id, at);
      if (r.status == send_status::accepted) {
        pending_entry e;
        e.callback = std::move(callback);
        if (promise) e.promise.emplace(std::move(*promise));
        e.key_size = size_of(record.key);
        e.value_size = size_of(record.value);
        entries.push_back(std::move(e));
        ++next_id;
        lock.unlock();
        // A record that joined an open batch changes nothing the I/O thread
        // waits for (its timer covers linger.ms): waking it per record would
        // cost a syscall and a context switch each.
        if (r.new_batch) wake();
        return;
      }
      if (r.status == send_status::failed)
        return refuse(lock, record, std::move(callback), promise, r.error);
      const auto timeout_error = r.status == send_status::wait_for_metadata
                                     ? producer_errc::metadata_timeout
                                     : producer_errc::buffer_exhausted;
      wake();
      // From a callback the I/O thread cannot wait for itself.
      if (!deadline) deadline = at + core.config().max_block;
      const core_time current = now();
      if (on_io_thread() || current >= *deadline)
        return refuse(lock, record, std::move(callback), promise, timeout_error);
      cv.wait_for(lock, *deadline - current);  // then try once more, even after the deadline
      at = now();
    }
  }

  void refuse(std::unique_lock<std::mutex>& lock, const producer_record& record,
              delivery_callback callback, std::promise<record_metadata>* promise,
              std::error_code error) {
    lock.unlock();
    ready_report r;
    r.metadata.topic = std::string(record.topic);
    r.metadata.partition = record.partition.value_or(-1);
    r.metadata.serialized_key_size = size_of(record.key);
    r.metadata.serialized_value_size = size_of(record.value);
    r.error = error;
    r.callback = std::move(callback);
    if (promise) r.promise.emplace(std::move(*promise));
    hand_over(r, interceptors);
  }

  // Waits (lock held) until every record with an id below `target` has been
  // reported and its callback has returned, or until `deadline`.
  bool wait_delivered(std::unique_lock<std::mutex>& lock, std::uint64_t target,
                      std::optional<clock::time_point> deadline) {
    auto reported = [&] { return base_id >= target; };
    if (deadline) {
      if (!cv.wait_until(lock, *deadline, reported)) return false;
    } else {
      cv.wait(lock, reported);
    }
    // The pump that took the last of them may still be running callbacks.
    const auto generation = pumps_started;
    auto finished = [&] { return pumps_finished >= generation; };
    if (deadline) return cv.wait_until(lock, *deadline, finished);
    cv.wait(lock, finished);
    return true;
  }

  // ---- the I/O thread ----

  void pump() {
    core_output out;
    std::optional<core_time> deadline;
    std::vector<ready_report> ready;
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex);
      out = core.poll(now());
      deadline = core.next_deadline();
      take_reports(out.reports, ready);
      generation = ++pumps_started;
    }
    cv.notify_all();  // metadata may have arrived, buffer may be free
    for (auto id : out.disconnects) close_broker(id);
    for (auto& c : out.connects) open(c);
    for (auto& f : out.frames) write(f.broker_id, std::move(f.bytes));
    for (auto& r : ready) hand_over(r, interceptors);
    {
      std::lock_guard lock(mutex);
      pumps_finished = generation;
    }
    cv.notify_all();
    arm_timer(deadline);
  }

  // Copies what the core lends (the topic) and pairs each report with its
  // callback or promise. Lock held.
  void take_reports(const std::vector<delivery_report>& reports, std::vector<ready_report>& ready) {
    ready.reserve(reports.size());
    for (const auto& d : reports) {
      if (d.record_id < base_id || d.record_id - base_id >= entries.size())
        continue;  // not ours (cannot happen)
      pending_entry& e = entries[static_cast<std::size_t>(d.record_id - base_id)];
      if (e.done) continue;
      ready_report r;
      r.metadata = {std::string(d.topic), d.partition, d.offset,
                    d.timestamp,          e.key_size,  e.value_size};
      r.error = d.error;
      r.callback = std::move(e.callback);
      r.promise = std::move(e.promise);
      e.done = true;
      ready.push_back(std::move(r));
    }
    while (!entries.empty() && entries.front().done) {
      entries.pop_front();
      ++base_id;
    }
  }

  void arm_timer(std::optional<core_time> deadline) {
    if (deadline == armed) return;
    armed = deadline;
    if (!deadline) {
      timer.cancel();
      return;
    }
    // Relative to now: the core's clock and the timer's are both steady.
    timer.expires_after(*deadline - now());
    timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      armed.reset();
      pump();
    });
  }

  void open(const connect_request& request) {
    close_broker(request.broker_id);
    auto conn = std::make_shared<connection>(ioc, request.broker_id);
    connections[request.broker_id] = conn;
    const auto timeout = std::min(connect_timeout_default, core.config().request_timeout);
    conn->connect_timer.expires_after(timeout);
    conn->connect_timer.async_wait([this, conn](const boost::system::error_code& ec) {
      if (!ec && !conn->closed && !conn->connected) fail(conn);
    });
    conn->resolver.async_resolve(
        request.host, std::to_string(request.port),
        [this, conn](const boost::system::error_code& ec, tcp::resolver::results_type results) {
          if (conn->closed) return;
          if (ec) return fail(conn);
          for (const auto& entry : results) conn->endpoints.push_back(entry.endpoint());
          try_connect(conn, 0);
        });
  }

  // Tries each resolved address in turn; socket options are set before connect.
  void try_connect(const std::shared_ptr<connection>& conn, std::size_t index) {
    if (index >= conn->endpoints.size()) return fail(conn);
    const auto& endpoint = conn->endpoints[index];
    boost::system::error_code ec;
    conn->socket.close(ec);
    conn->socket.open(endpoint.protocol(), ec);
    if (ec) return try_connect(conn, index + 1);
    const auto& config = core.config();  // immutable after construction
    if (config.send_buffer_bytes > 0)
      conn->socket.set_option(asio::socket_base::send_buffer_size(config.send_buffer_bytes), ec);
    if (config.receive_buffer_bytes > 0)
      conn->socket.set_option(asio::socket_base::receive_buffer_size(config.receive_buffer_bytes),
                              ec);
    conn->socket.async_connect(endpoint,
                               [this, conn, index](const boost::system::error_code& error) {
                                 if (conn->closed) return;
                                 if (error) return try_connect(conn, index + 1);
                                 on_connect(conn);
                               });
  }

  void on_connect(const std::shared_ptr<connection>& conn) {
    conn->connected = true;
    conn->connect_timer.cancel();
    boost::system::error_code ec;
    conn->socket.set_option(tcp::no_delay(true), ec);
    {
      std::lock_guard lock(mutex);
      core.on_connected(conn->broker_id, now());
    }
    start_read(conn);
    start_write(conn);
    pump();
  }

  void start_read(const std::shared_ptr<connection>& conn) {
    conn->socket.async_read_some(
        asio::buffer(conn->read_buffer),
        [this, conn](const boost::system::error_code& ec, std::size_t n) {
          if (conn->closed) return;
          if (ec) return fail(conn);
          {
            std::lock_guard lock(mutex);
            core.on_bytes(conn->broker_id, {conn->read_buffer.data(), n}, now());
          }
          start_read(conn);
          pump();
        });
  }

  void write(std::int32_t broker_id, std::vector<std::uint8_t> bytes) {
    auto it = connections.find(broker_id);
    // No connection: the core believes it closed, and will time the request out.
    if (it == connections.end() || it->second->closed) return;
    it->second->queued.push_back(std::move(bytes));
    start_write(it->second);
  }

  // Writes everything queued in one gathered write; frames keep their order.
  void start_write(const std::shared_ptr<connection>& conn) {
    if (!conn->connected || conn->closed || !conn->writing.empty() || conn->queued.empty()) return;
    while (!conn->queued.empty()) {
      conn->writing.push_back(std::move(conn->queued.front()));
      conn->queued.pop_front();
    }
    conn->buffers.clear();
    for (const auto& frame : conn->writing) conn->buffers.emplace_back(asio::buffer(frame));
    asio::async_write(conn->socket, conn->buffers,
                      [this, conn](const boost::system::error_code& ec, std::size_t) {
                        if (conn->closed) return;
                        if (ec) return fail(conn);
                        conn->writing.clear();
                        start_write(conn);
                      });
  }

  static void shut(connection& conn) {
    conn.closed = true;
    boost::system::error_code ec;
    conn.socket.close(ec);
    conn.resolver.cancel();
    conn.connect_timer.cancel();
  }

  // Closing asked by the core: it already knows.
  void close_broker(std::int32_t broker_id) {
    auto it = connections.find(broker_id);
    if (it == connections.end()) return;
    shut(*it->second);
    connections.erase(it);
  }

  // The socket failed (or the connect timed out): tell the core.
  void fail(const std::shared_ptr<connection>& conn) {
    if (conn->closed) return;
    shut(*conn);
    auto it = connections.find(conn->broker_id);
    if (it != connections.end() && it->second == conn) connections.erase(it);
    {
      std::lock_guard lock(mutex);
      core.on_disconnected(conn->broker_id, now());
    }
    pump();
  }

  // Closes every socket and stops the I/O thread; from a thread other than it.
  void stop_io() {
    asio::post(ioc, [this] {
      for (auto& [id, conn] : connections) shut(*conn);
      connections.clear();
      timer.cancel();
      work.reset();
      ioc.stop();
    });
    if (thread.joinable()) thread.join();
  }

  const steady_core_clock time_source;  // the core's clock
  const std::vector<std::shared_ptr<producer_interceptor>>
      interceptors;  // before core: copied from its config
  mutable std::mutex mutex;
  std::condition_variable cv;
  producer_core core;                 // guarded by mutex
  std::deque<pending_entry> entries;  // by record id, from base_id on; guarded by mutex
  std::uint64_t base_id = 0;
  std::uint64_t next_id = 0;
  std::uint64_t pumps_started = 0;
  std::uint64_t pumps_finished = 0;
  bool closed = false;
  bool stopped = false;

  asio::io_context ioc;
  asio::steady_timer timer;  // I/O thread only
  std::optional<core_time> armed;
  std::map<std::int32_t, std::shared_ptr<connection>> connections;  // I/O thread only
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::atomic<bool> wake_posted{false};
  std::thread thread;
  std::thread::id io_thread;
};

producer::producer(producer_config config, core_options options)
    : impl_(std::make_unique<impl>(std::move(config), options)) {}

producer::producer(const std::map<std::string, std::string>& settings, core_options options)
    : producer(parsed(settings), options) {}

producer::~producer() { close(); }

std::future<record_metadata> producer::send(const producer_record& record) {
  std::promise<record_metadata> promise;
  auto future = promise.get_future();
  impl_->send(record, {}, &promise);
  return future;
}

void producer::send(const producer_record& record, delivery_callback callback) {
  impl_->send(record, std::move(callback), nullptr);
}

void producer::flush() {
  if (impl_->on_io_thread())
    throw std::logic_error("kwire::producer::flush() called from a delivery callback");
  std::unique_lock lock(impl_->mutex);
  if (impl_->stopped) return;
  impl_->core.flush();
  const auto target = impl_->next_id;
  impl_->wake();
  impl_->wait_delivered(lock, target, std::nullopt);
}

void producer::close(std::chrono::milliseconds timeout) {
  auto& s = *impl_;
  if (s.on_io_thread())
    throw std::logic_error("kwire::producer::close() called from a delivery callback");
  std::unique_lock lock(s.mutex);
  if (s.stopped) return;
  s.closed = true;  // later and blocked sends fail from now on
  s.core.flush();
  const auto target = s.next_id;
  s.wake();
  std::optional<clock::time_point> deadline;
  if (timeout < std::chrono::hours(24 * 365)) deadline = clock::now() + timeout;
  if (!s.wait_delivered(lock, target, deadline)) {
    s.core.abort(make_error_code(producer_errc::producer_closed));
    s.wake();
    s.wait_delivered(lock, target, std::nullopt);
  }
  s.stopped = true;
  lock.unlock();
  s.stop_io();
}

std::vector<std::int32_t> producer::partitions_for(std::string_view topic) {
  auto& s = *impl_;
  std::unique_lock lock(s.mutex);
  const core_time deadline = s.now() + s.core.config().max_block;
  for (;;) {
    if (auto count = s.core.partition_count(topic)) {
      std::vector<std::int32_t> partitions(static_cast<std::size_t>(*count));
      for (std::int32_t i = 0; i < *count; ++i) partitions[static_cast<std::size_t>(i)] = i;
      return partitions;
    }
    if (s.closed) throw std::system_error(make_error_code(producer_errc::producer_closed));
    if (const std::error_code error = s.core.want_metadata(topic)) throw std::system_error(error);
    s.wake();  // the I/O thread polls, and the core asks for the topic
    const core_time current = s.now();
    if (s.on_io_thread() || current >= deadline)
      throw std::system_error(make_error_code(producer_errc::metadata_timeout));
    s.cv.wait_for(lock, deadline - current);  // pump() notifies after every poll
  }
}

producer_metrics producer::metrics() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->core.metrics();
}

std::size_t producer::pending_records() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->entries.size();
}

const producer_config& producer::config() const noexcept { return impl_->core.config(); }

}  // namespace kwire
