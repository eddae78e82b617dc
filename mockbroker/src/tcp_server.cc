#include "kwire/mockbroker/tcp_server.hpp"

#include <array>
#include <boost/asio.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "bind_address.hpp"

namespace kwire::mockbroker {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

}  // namespace

struct tcp_server::impl {
  struct session;

  impl(cluster& c, tcp_server_options o) : cl(c), options(std::move(o)), poll_timer(io) {}

  cluster& cl;
  tcp_server_options options;
  // The core's time: wall-clock milliseconds (LogAppendTime needs them) that never run backwards.
  steady_core_clock clock;
  asio::io_context io;
  // Keeps io.run() going while the server runs, also with no listener,
  // connection or timer left (stop() closes the listeners first).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::pair<std::int32_t, std::unique_ptr<tcp::acceptor>>> acceptors;
  std::vector<std::string> advertised;  // host:port clients are told, by broker
  std::map<std::uint64_t, std::shared_ptr<session>> sessions;  // by connection id
  // Wakes poll() at the cluster's next timer (a Fetch's wait, a group's timeouts).
  asio::steady_timer poll_timer;
  std::optional<time_point> poll_armed_for;
  std::thread thread;
  std::thread::id io_thread_id;
  std::uint64_t next_connection = 1;
  stats counters;
  std::mutex stats_mutex;
  bool running = false;

  void log(std::string_view line) {
    if (options.log) options.log(line);
  }

  void accept(tcp::acceptor& acceptor, std::int32_t broker_id);
  std::size_t connections_of(std::int32_t broker_id) const;
  // Hands the answers of parked requests to their sessions and arms the
  // timer for the cluster's next deadline. After every request and action.
  void pump();
};

// One client connection: splits frames, hands each to the core, and sends the
// responses in request order, each no earlier than the core asked.
struct tcp_server::impl::session : std::enable_shared_from_this<session> {
  session(impl& s, tcp::socket sock, std::int32_t broker, std::uint64_t id)
      : server(s),
        socket(std::move(sock)),
        broker_id(broker),
        connection_id(id),
        splitter(s.options.max_frame_size),
        timer(s.io),
        idle_timer(s.io) {}

  struct pending {
    steady::time_point at;
    std::optional<std::vector<std::uint8_t>> bytes;
    bool close_after = false;
    std::string reason;
    std::uint64_t ticket = 0;  // a parked request: not ready until its answer comes
    bool ready = true;
  };

  impl& server;
  tcp::socket socket;
  std::int32_t broker_id;
  std::uint64_t connection_id;
  // Reads land here: small while the connection is quiet (an idle
  // connection costs a few KiB), doubled while reads fill it, up to 256 KiB.
  static constexpr std::size_t read_min = 4096, read_max = 256 * 1024;
  frame_splitter splitter;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(read_min);
  std::deque<pending> queue;
  asio::steady_timer timer;
  asio::steady_timer idle_timer;
  steady::time_point last_activity = steady::now();
  bool writing = false;
  bool closed = false;

  void start() {
    watch_idle();
    read();
  }

  // connections.max.idle.ms: checked when the timer fires, re-armed for
  // what is left when there was traffic since.
  void watch_idle() {
    const auto idle = server.options.idle_timeout;
    if (idle <= std::chrono::milliseconds::zero() || closed) return;
    idle_timer.expires_at(last_activity + idle);
    idle_timer.async_wait([self = shared_from_this(), idle](const boost::system::error_code& ec) {
      if (ec || self->closed) return;
      if (self->queue.empty() && steady::now() - self->last_activity >= idle) {
        self->close("idle for " + std::to_string(idle.count()) + " ms (connections.max.idle.ms)" +
                    (self->splitter.buffered() ? ", " + std::to_string(self->splitter.buffered()) +
                                                     " bytes of a frame unfinished"
                                               : std::string()));
        return;
      }
      if (!self->queue.empty()) self->last_activity = steady::now();  // a response is owed
      self->watch_idle();
    });
  }

  void read() {
    socket.async_read_some(
        asio::buffer(buffer),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (self->closed) return;
          if (ec) {
            self->close(ec == asio::error::eof ? "client closed" : "read: " + ec.message());
            return;
          }
          self->on_bytes(n);
        });
  }

  void on_bytes(std::size_t n) {
    acknowledge_now();
    last_activity = steady::now();
    splitter.feed(std::span<const std::uint8_t>(buffer.data(), n));
    while (auto frame = splitter.next()) {
      handle(*frame);
      if (closed) return;
    }
    if (n == buffer.size() && buffer.size() < read_max) {
      buffer.resize(buffer.size() * 2);
    } else if (n < read_min && buffer.size() > read_min) {
      buffer = std::vector<std::uint8_t>(read_min);  // quiet again: give the memory back
    }
    if (splitter.buffered() == 0) splitter.release();
    if (splitter.failed()) {
      {
        std::lock_guard lock(server.stats_mutex);
        ++server.counters.bad_frames;
      }
      close("bad frame: " + splitter.error_detail());
      return;
    }
    read();
  }

  // Clients that leave Nagle's algorithm on (librdkafka does by default) hold
  // back a request's last segment until the previous one is acknowledged;
  // Linux delays that acknowledgement by up to 40 ms unless told otherwise,
  // and quick-ack mode lapses by itself, so ask again after every read.
  void acknowledge_now() {
#ifdef TCP_QUICKACK
    const int one = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#endif
  }

  void handle(std::span<const std::uint8_t> payload) {
    {
      std::lock_guard lock(server.stats_mutex);
      ++server.counters.requests;
    }
    const auto now = server.clock.now();
    const auto steady_now = steady::now();
    auto r = server.cl.handle(broker_id, connection_id, payload, now);
    if (r.close_before_response) {
      close(r.close_reason.empty() ? "closed by the cluster" : r.close_reason);
      server.pump();
      return;
    }
    if (r.parked != 0) {
      queue.push_back(pending{steady_now, std::nullopt, false, {}, r.parked, false});
    } else if (r.response || r.close_after_response) {  // else acks=0, or a dropped request
      auto at = steady_now + std::max(duration::zero(), r.send_at - now);
      if (!queue.empty()) at = std::max(at, queue.back().at);  // keep request order
      queue.push_back(pending{at, std::move(r.response), r.close_after_response,
                              std::move(r.close_reason), 0, true});
      if (!writing) schedule();
    }
    server.pump();  // this request may have readied parked ones (a Produce wakes a Fetch)
  }

  // The answer of a parked request of this connection.
  void on_parked_answer(parked_response& a) {
    for (auto& p : queue) {
      if (p.ticket != a.ticket || p.ready) continue;
      const auto now = server.clock.now();
      p.at = steady::now() + std::max(duration::zero(), a.send_at - now);
      p.bytes = std::move(a.response);
      p.close_after = a.close_after_response;
      p.reason = std::move(a.close_reason);
      p.ready = true;
      // Later responses keep the order: none goes before this one.
      bool after = false;
      for (auto& q : queue) {
        if (&q == &p) {
          after = true;
          continue;
        }
        if (after && q.ready) q.at = std::max(q.at, p.at);
      }
      break;
    }
    if (!writing) schedule();
  }

  void schedule() {
    if (queue.empty() || closed || !queue.front().ready) {
      writing = false;  // a parked request at the front: its answer restarts this
      return;
    }
    writing = true;
    if (queue.front().at <= steady::now()) {  // due already: no timer round trip
      write_front();
      return;
    }
    timer.expires_at(queue.front().at);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->closed) return;
      self->write_front();
    });
  }

  void write_front() {
    auto& p = queue.front();
    if (!p.bytes) {
      const std::string reason = p.reason.empty() ? "closed by the cluster" : p.reason;
      queue.pop_front();
      close(reason);
      return;
    }
    asio::async_write(
        socket, asio::buffer(*p.bytes),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (self->closed) return;
          if (ec) {
            self->close("write: " + ec.message());
            return;
          }
          self->last_activity = steady::now();
          pending done = std::move(self->queue.front());
          self->queue.pop_front();
          if (done.close_after) {
            self->close(done.reason.empty() ? "closed by the cluster" : done.reason);
            return;
          }
          self->schedule();
        });
  }

  void close(const std::string& reason) {
    if (closed) return;
    closed = true;
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    timer.cancel();
    idle_timer.cancel();
    {
      std::lock_guard lock(server.stats_mutex);
      ++server.counters.closed;
    }
    server.log("broker " + std::to_string(broker_id) + " connection " +
               std::to_string(connection_id) + " closed: " + reason);
    server.cl.connection_closed(broker_id, connection_id);
    server.sessions.erase(connection_id);
  }
};

void tcp_server::impl::accept(tcp::acceptor& acceptor, std::int32_t broker_id) {
  acceptor.async_accept([this, &acceptor, broker_id](const boost::system::error_code& ec,
                                                     tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted)
        log("accept on broker " + std::to_string(broker_id) + ": " + ec.message());
      if (!acceptor.is_open()) return;
    } else {
      boost::system::error_code opt_ec;
      socket.set_option(tcp::no_delay(true), opt_ec);
      {
        std::lock_guard lock(stats_mutex);
        ++counters.accepted;
      }
      const std::size_t limit = options.max_connections_per_broker;
      if (limit != 0 && connections_of(broker_id) >= limit) {
        socket.close(opt_ec);
        std::lock_guard lock(stats_mutex);
        ++counters.closed;
        log("broker " + std::to_string(broker_id) +
            " refused a connection: " + std::to_string(limit) + " open (max.connections)");
      } else {
        auto s = std::make_shared<session>(*this, std::move(socket), broker_id, next_connection++);
        sessions.emplace(s->connection_id, s);
        s->start();
      }
    }
    accept(acceptor, broker_id);
  });
}

std::size_t tcp_server::impl::connections_of(std::int32_t broker_id) const {
  std::size_t n = 0;
  for (const auto& [id, s] : sessions) n += s->broker_id == broker_id ? 1 : 0;
  return n;
}

void tcp_server::impl::pump() {
  const auto now = clock.now();
  for (parked_response& a : cl.poll(now)) {
    auto it = sessions.find(a.connection_id);
    if (it != sessions.end()) it->second->on_parked_answer(a);
  }
  const std::optional<time_point> next = cl.next_timer();
  if (!next || (poll_armed_for && *poll_armed_for <= *next)) return;
  poll_armed_for = next;
  poll_timer.expires_at(steady::now() + std::max(duration::zero(), *next - now));
  poll_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: stopping, or re-armed earlier
    poll_armed_for.reset();
    pump();
  });
}

tcp_server::tcp_server(cluster& c, tcp_server_options options)
    : cluster_(c), impl_(std::make_unique<impl>(c, std::move(options))) {
  const auto& o = impl_->options;
  const auto address = detail::bind_address(impl_->io, o.bind_host, "bind address");
  const std::string advertised = !o.advertised_host.empty()     ? o.advertised_host
                                 : detail::is_wildcard(address) ? c.config().host
                                                                : o.bind_host;
  const auto brokers = c.brokers();
  for (std::size_t i = 0; i < brokers.size(); ++i) {
    const std::uint16_t want = i < o.ports.size() ? o.ports[i] : 0;
    boost::system::error_code ec;
    auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
    const tcp::endpoint endpoint(address, want);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::system_error(ec, "kwire mock: broker " + std::to_string(brokers[i].id) +
                                      " cannot listen on " + host_port(o.bind_host, want));
    }
    const std::uint16_t bound = acceptor->local_endpoint().port();
    const std::uint16_t told =
        i < o.advertised_ports.size() && o.advertised_ports[i] != 0 ? o.advertised_ports[i] : bound;
    c.set_broker_address(brokers[i].id, advertised, told);
    impl_->advertised.push_back(host_port(advertised, told));
    impl_->acceptors.emplace_back(brokers[i].id, std::move(acceptor));
  }
}

tcp_server::~tcp_server() { stop(); }

void tcp_server::start() {
  if (impl_->running) return;
  impl_->running = true;
  for (auto& [id, acceptor] : impl_->acceptors) impl_->accept(*acceptor, id);
  impl_->keep_running.emplace(asio::make_work_guard(impl_->io));
  impl_->thread = std::thread([this] { impl_->io.run(); });
  impl_->io_thread_id = impl_->thread.get_id();
}

void tcp_server::stop(std::chrono::milliseconds grace) {
  if (!impl_->running) return;
  run_on_io_thread([this] {
    for (auto& [id, acceptor] : impl_->acceptors) {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    }
  });
  const auto until = steady::now() + grace;
  auto owed = [this] {
    bool any = false;
    run_on_io_thread([&] {
      for (const auto& [id, s] : impl_->sessions) any = any || !s->queue.empty();
    });
    return any;
  };
  while (steady::now() < until && owed()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  run_on_io_thread([this] {
    auto sessions = impl_->sessions;  // close() erases from the map
    for (const auto& [id, s] : sessions) s->close("server stopping");
    impl_->poll_timer.cancel();
  });
  impl_->keep_running.reset();
  impl_->io.stop();
  impl_->thread.join();
  impl_->running = false;
}

std::string tcp_server::bootstrap_servers() const {
  std::string out;
  for (const auto& address : impl_->advertised) {
    if (!out.empty()) out += ',';
    out += address;
  }
  return out;
}

std::uint16_t tcp_server::port(std::int32_t broker_id) const {
  for (const auto& [id, acceptor] : impl_->acceptors) {
    if (id == broker_id) return acceptor->local_endpoint().port();
  }
  return 0;
}

tcp_server::stats tcp_server::statistics() {
  std::lock_guard lock(impl_->stats_mutex);
  return impl_->counters;
}

void tcp_server::run_on_io_thread(std::function<void()> fn) {
  if (!impl_->running) {
    fn();
    return;
  }
  if (std::this_thread::get_id() == impl_->io_thread_id) {
    fn();
    impl_->pump();
    return;
  }
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    fn();
    impl_->pump();  // a cluster action may ready parked requests or set a timer
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace kwire::mockbroker
