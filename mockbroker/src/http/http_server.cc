// The HTTP and WebSocket front of the control API (see http_server.hpp).
//
// Classic Beast shape: an acceptor, one session per connection that reads a
// request, answers it and reads the next; a WebSocket upgrade on
// /requests/stream hands the socket to a stream session, which polls the
// request log on a timer and writes what is new. Everything here runs on the
// server's own I/O thread; the cluster is reached only through
// tcp_server::call().
#include "kwire/mockbroker/http_server.hpp"

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "../bind_address.hpp"
#include "http_routes.hpp"
#include "http_target.hpp"

namespace kwire::mockbroker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::uint32_t max_header_size = 16 * 1024;
// A keep-alive connection that sends nothing for this long is closed.
constexpr std::chrono::seconds idle_timeout{120};
// After a 413, read (and drop) at most this much of the rest of the body, so
// the client gets to read the answer instead of a connection reset.
constexpr std::size_t max_drain = 64 * 1024 * 1024;
constexpr std::chrono::seconds drain_timeout{5};
// Request log entries written per poll of a stream; the rest wait for the next poll.
constexpr std::size_t stream_batch = 256;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

response json_response(unsigned status, std::string body, unsigned version, bool keep_alive) {
  response res{static_cast<http::status>(status), version};
  res.set(http::field::server, "kwire-mock");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.body() += '\n';
  res.prepare_payload();
  return res;
}

// Compares in time independent of where the first difference is.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

struct http_server::impl {
  impl(tcp_server& k, control_api& a, http_server_options o)
      : kafka(k), api(a), options(std::move(o)) {}

  struct connection {
    virtual ~connection() = default;
    virtual void close() = 0;
  };
  struct http_session;
  struct stream_session;

  tcp_server& kafka;
  control_api& api;
  http_server_options options;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  tcp::endpoint bound;  // kept: the acceptor forgets it once closed
  std::vector<std::weak_ptr<connection>> connections;
  std::thread thread;
  bool running = false;

  void log(std::string_view line) {
    if (options.log) options.log(line);
  }

  void accept();
  void track(const std::shared_ptr<connection>& c) {
    std::erase_if(connections, [](const auto& w) { return w.expired(); });
    connections.push_back(c);
  }
};

// GET /requests/stream after the upgrade: polls the request log and writes
// each new entry that passes the filter as one text message. Reads only to
// notice pings and the close handshake.
struct http_server::impl::stream_session : connection,
                                           std::enable_shared_from_this<stream_session> {
  stream_session(impl& s, tcp::socket socket, request upgrade, request_log_filter f)
      : server(s),
        ws(std::move(socket)),
        handshake(std::move(upgrade)),
        filter(std::move(f)),
        timer(s.io) {}

  impl& server;
  websocket::stream<beast::tcp_stream> ws;
  request handshake;  // kept alive until the accept completes
  request_log_filter filter;
  request_log_cursor cursor;
  asio::steady_timer timer;
  beast::flat_buffer incoming;
  std::deque<std::string> outbox;
  bool writing = false;
  bool closed = false;

  void run() {
    // A reader that only listens stays connected: pings count as its activity.
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "kwire-mock"); }));
    ws.read_message_max(64 * 1024);
    // Start the cursor now, so entries logged after the handshake are not missed.
    poll_log();
    ws.async_accept(handshake, [self = shared_from_this()](error_code ec) {
      if (ec) return self->close();
      self->read();
      self->flush();
      self->schedule_poll();
    });
  }

  void read() {
    ws.async_read(incoming, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec) return self->close();
      self->incoming.clear();  // messages from the client are ignored
      self->read();
    });
  }

  void poll_log() {
    auto entries = server.kafka.call([this](cluster& c) {
      return server.api.read_request_log(c, cursor, filter, stream_batch);
    });
    for (auto& e : entries) outbox.push_back(std::move(e));
  }

  void schedule_poll() {
    timer.expires_after(server.options.stream_poll_interval);
    timer.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed) return;
      // A client that reads slowly is not sent more than one batch ahead.
      if (self->outbox.empty()) self->poll_log();
      self->flush();
      self->schedule_poll();
    });
  }

  void flush() {
    if (writing || closed || outbox.empty()) return;
    writing = true;
    ws.text(true);
    ws.async_write(asio::buffer(outbox.front()),
                   [self = shared_from_this()](error_code ec, std::size_t) {
                     self->writing = false;
                     if (ec) return self->close();
                     self->outbox.pop_front();
                     self->flush();
                   });
  }

  void close() override {
    if (closed) return;
    closed = true;
    timer.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws).socket().close(ignored);
  }
};

// One HTTP connection: read a request, answer it, read the next.
struct http_server::impl::http_session : connection, std::enable_shared_from_this<http_session> {
  http_session(impl& s, tcp::socket socket) : server(s), stream(std::move(socket)) {}

  impl& server;
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::optional<http::request_parser<http::string_body>> parser;
  response reply;
  std::array<char, 16 * 1024> scratch{};
  std::size_t drained = 0;
  bool closed = false;

  // The header first: a client that sent `Expect: 100-continue` (curl does
  // for bodies above 1 KiB) waits for a 100 before it sends the body.
  void read() {
    parser.emplace();
    parser->body_limit(server.options.max_body_size);
    parser->header_limit(max_header_size);
    stream.expires_after(idle_timeout);
    http::async_read_header(
        stream, buffer, *parser, [self = shared_from_this()](error_code ec, std::size_t) {
          if (ec || self->closed) return self->on_read(ec);
          if (beast::iequals(self->parser->get()[http::field::expect], "100-continue"))
            return self->send_continue();
          self->read_body();
        });
  }

  void send_continue() {
    auto note = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
    http::async_write(stream, *note, [self = shared_from_this(), note](error_code ec, std::size_t) {
      if (ec || self->closed) return self->close();
      self->read_body();
    });
  }

  void read_body() {
    http::async_read(
        stream, buffer, *parser,
        [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (closed) return;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == http::error::body_limit) {
      return refuse(
          413, "request body above " + std::to_string(server.options.max_body_size) + " bytes");
    }
    if (ec == http::error::header_limit) return refuse(431, "request header above 16 KiB");
    if (ec) return refuse(400, "malformed HTTP request: " + ec.message());
    handle(parser->release());
  }

  // Answers an unreadable request and closes, reading what is left of its body first.
  void refuse(unsigned status, const std::string& why) {
    reply = json_response(status, http_error(status, why).body, 11, false);
    write(true);
  }

  bool authorized(const request& req) const {
    if (server.options.token.empty()) return true;
    const std::string_view header = req[http::field::authorization];
    constexpr std::string_view scheme = "Bearer ";
    return header.size() > scheme.size() && header.substr(0, scheme.size()) == scheme &&
           same_secret(header.substr(scheme.size()), server.options.token);
  }

  void handle(request req) {
    const bool keep_alive = req.keep_alive();
    const auto answer = [&](http_reply r) {
      reply = json_response(r.status, std::move(r.body), req.version(), keep_alive);
      if (r.status == 401) reply.set(http::field::www_authenticate, "Bearer");
      write(false);
    };
    if (!authorized(req))
      return answer(http_error(401, "missing or wrong bearer token (Authorization: Bearer TOKEN)"));
    const std::string_view target = req.target();
    const http_target parsed = parse_http_target(target);
    if (parsed.error.empty() && parsed.path == std::vector<std::string>{"requests", "stream"}) {
      if (!websocket::is_upgrade(req)) {
        return answer(http_error(
            426, "GET /requests/stream is a WebSocket; use GET /requests for a snapshot"));
      }
      request_log_filter filter;
      std::size_t limit = 0;
      if (auto e = request_log_filter_of(parsed, filter, limit); !e.empty()) {
        return answer(http_error(400, e));
      }
      closed = true;  // the socket moves to the stream session
      auto s = std::make_shared<stream_session>(server, stream.release_socket(), std::move(req),
                                                std::move(filter));
      server.track(s);
      s->run();
      return;
    }
    http_reply r;
    try {
      const std::string_view method = req.method_string();
      r = server.kafka.call(
          [&](cluster& c) { return server.api.handle(c, method, target, req.body()); });
    } catch (const std::exception& e) {
      r = http_error(500, std::string("internal error: ") + e.what());
    }
    answer(std::move(r));
  }

  void write(bool drain_after) {
    stream.expires_after(idle_timeout);
    http::async_write(stream, reply,
                      [self = shared_from_this(), drain_after](error_code ec, std::size_t) {
                        if (ec || self->closed) return self->close();
                        if (drain_after) return self->drain();
                        if (!self->reply.keep_alive()) return self->close();
                        self->read();
                      });
  }

  // Reads and drops the rest of a refused request until the client closes.
  void drain() {
    if (drained == 0) {
      error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream.expires_after(drain_timeout);
    }
    stream.async_read_some(asio::buffer(scratch),
                           [self = shared_from_this()](error_code ec, std::size_t n) {
                             self->drained += n;
                             if (ec || self->closed || self->drained > max_drain)
                               return self->close();
                             self->drain();
                           });
  }

  void close() override {
    if (closed) return;
    closed = true;
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }
};

void http_server::impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log("HTTP accept: " + ec.message());
      if (!acceptor.is_open()) return;
    } else {
      auto s = std::make_shared<http_session>(*this, std::move(socket));
      track(s);
      s->read();
    }
    accept();
  });
}

http_server::http_server(tcp_server& kafka, control_api& api, http_server_options options)
    : impl_(std::make_unique<impl>(kafka, api, std::move(options))) {
  auto& o = impl_->options;
  error_code ec;
  const auto address = detail::bind_address(impl_->io, o.bind_host, "HTTP address");
  const tcp::endpoint endpoint(address, o.port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::system_error(ec,
                            "kwire mock: HTTP cannot listen on " + host_port(o.bind_host, o.port));
  impl_->bound = a.local_endpoint();
}

http_server::~http_server() { stop(); }

void http_server::start() {
  if (impl_->running) return;
  impl_->running = true;
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void http_server::stop() {
  if (!impl_->running) return;
  asio::post(impl_->io, [this] {
    error_code ignored;
    impl_->acceptor.close(ignored);
    for (const auto& w : impl_->connections)
      if (auto c = w.lock()) c->close();
    impl_->io.stop();
  });
  impl_->thread.join();
  impl_->running = false;
}

std::string http_server::address() const {
  const auto& endpoint = impl_->bound;
  const auto host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" +
         std::to_string(endpoint.port());
}

std::uint16_t http_server::port() const { return impl_->bound.port(); }

}  // namespace kwire::mockbroker
