// A consumer member's connections and timers (consumer_member.hpp): each
// channel is one connection through the world's network; requests are
// framed by the codec, answers matched by correlation id in the order they
// were written (a broker answers a connection's requests in order), and a
// request unanswered by its deadline closes its channel, as the Java
// client's request.timeout.ms does.
#include <algorithm>
#include <memory>

#include "consumer_member.hpp"
#include "kwire/protocol/frame_encode.hpp"
#include "kwire/protocol/kafka_error.hpp"

namespace kwire::sim::detail {

consumer_member::consumer_member(world& w, const consumer_options& options, consumer_log& log,
                                 std::size_t index, std::vector<broker_address> bootstrap)
    : world_(w),
      options_(options),
      log_(log),
      index_(index),
      name_("m" + std::to_string(index + 1)),
      client_id_("consumer-" + name_),
      bootstrap_(std::move(bootstrap)) {}

consumer_member::channel* consumer_member::channel_of(std::uint64_t connection) {
  if (connection == 0) return nullptr;
  if (bootstrap_channel_.connection == connection) return &bootstrap_channel_;
  if (coordinator_channel_.connection == connection) return &coordinator_channel_;
  for (auto& [broker, ch] : fetch_channels_)
    if (ch.connection == connection) return &ch;
  return nullptr;
}

std::vector<const consumer_member::channel*> consumer_member::channels() const {
  std::vector<const channel*> out{&bootstrap_channel_, &coordinator_channel_};
  for (const auto& [broker, ch] : fetch_channels_) out.push_back(&ch);
  return out;
}

void consumer_member::ensure_open(channel& ch, const broker_address& to) {
  if (ch.connection != 0) return;
  client_handlers h;
  // The ids are bound once the connection exists; a handler of a
  // connection the member no longer has finds no channel and does nothing.
  auto id = std::make_shared<std::uint64_t>(0);
  h.on_connected = [this, id] { on_connected(*id); };
  h.on_bytes = [this, id](std::span<const std::uint8_t> bytes) { on_bytes(*id, bytes); };
  h.on_closed = [this, id](std::string_view why) { on_closed(*id, why); };
  ch = channel{};
  ch.broker = to.id;
  ch.connection = world_.open_client(to.host, to.port, "consumer " + name_, std::move(h));
  *id = ch.connection;
}

void consumer_member::send(channel& ch, const broker_address& to, const any_message& body,
                           std::int16_t version, ms timeout, response_fn done) {
  ensure_open(ch, to);
  request_header header{body.ops().api_key, version, next_correlation_++, client_id_, {}};
  auto frame = encode_request(header, body);
  if (!frame) {
    anomaly("cannot encode " + std::string(body.ops().name) + ": " + frame.error().message());
    done(nullptr);
    return;
  }
  ch.in_flight.push_back(
      {header.correlation_id, header.api_key, version, now() + timeout, std::move(done)});
  if (ch.connected)
    world_.write_client(ch.connection, std::move(frame).value());
  else
    ch.unsent.push_back(std::move(frame).value());
}

void consumer_member::on_connected(std::uint64_t connection) {
  channel* ch = channel_of(connection);
  if (!ch || !alive_) return;
  ch->connected = true;
  for (auto& frame : ch->unsent) world_.write_client(connection, std::move(frame));
  ch->unsent.clear();
  advance();
}

void consumer_member::on_bytes(std::uint64_t connection, std::span<const std::uint8_t> bytes) {
  channel* ch = channel_of(connection);
  if (!ch || !alive_) return;
  ch->splitter.feed(bytes);
  while (auto payload = ch->splitter.next()) {
    if (ch->in_flight.empty()) {
      anomaly("a response nobody asked for on " + name_ + "'s connection");
      fail_channel(*ch, "unexpected response");
      break;
    }
    pending p = std::move(ch->in_flight.front());
    ch->in_flight.pop_front();
    const auto correlation = peek_correlation_id(*payload);
    if (!correlation || *correlation != p.correlation) {
      anomaly("response with correlation id " + std::to_string(correlation.value_or(-1)) +
              ", expected " + std::to_string(p.correlation));
      p.done(nullptr);
      if (channel_of(connection)) fail_channel(*ch, "correlation mismatch");
      break;
    }
    auto decoded = decode_response(*payload, p.api_key, p.version);
    if (!decoded) {
      anomaly("undecodable response of API " + std::to_string(p.api_key) + " v" +
              std::to_string(p.version) + ": " + decoded.error().message());
      p.done(nullptr);
    } else {
      p.done(&decoded->body);
    }
    // The callback may have closed this channel (and reopened another).
    if (channel_of(connection) != ch) break;
  }
  advance();
}

void consumer_member::on_closed(std::uint64_t connection, std::string_view why) {
  channel* ch = channel_of(connection);
  if (!ch || !alive_) return;
  fail_channel(*ch, why);
  advance();
}

void consumer_member::fail_channel(channel& ch, std::string_view why) {
  if (ch.connection == 0) return;
  const std::uint64_t connection = ch.connection;
  std::deque<pending> failed = std::move(ch.in_flight);
  const std::int32_t broker = ch.broker;
  ch = channel{};
  ch.broker = broker;
  world_.close_client(connection);  // no-op when the network already lost it
  if (world_.tracing())
    note("drops its connection c" + std::to_string(connection) + ": " + std::string(why));
  // The Java client moves on to another broker for metadata after a failure.
  if (&ch == &bootstrap_channel_) ++bootstrap_turn_;
  for (auto& p : failed) p.done(nullptr);
}

void consumer_member::close_all_channels() {
  auto close = [this](channel& ch) {
    if (ch.connection != 0) world_.close_client(ch.connection);
    ch = channel{};
  };
  close(bootstrap_channel_);
  close(coordinator_channel_);
  for (auto& [broker, ch] : fetch_channels_) close(ch);
  fetch_channels_.clear();
}

void consumer_member::check_timeouts() {
  auto expired = [this](const channel& ch) {
    return std::any_of(ch.in_flight.begin(), ch.in_flight.end(),
                       [this](const pending& p) { return p.deadline <= now(); });
  };
  if (expired(bootstrap_channel_)) fail_channel(bootstrap_channel_, "request timed out");
  if (expired(coordinator_channel_)) fail_channel(coordinator_channel_, "request timed out");
  for (auto& [broker, ch] : fetch_channels_)
    if (expired(ch)) fail_channel(ch, "request timed out");
}

void consumer_member::wake(ms at) {
  if (!alive_) return;
  at = std::max(at, now());
  if (!wakes_.empty() && *wakes_.begin() <= at) return;  // that wake-up will look again
  wakes_.insert(at);
  world_.wake_at(at, [this, at] { on_wake(at); });
}

void consumer_member::on_wake(ms at) {
  wakes_.erase(at);
  if (!alive_) return;
  check_timeouts();
  advance();
}

void consumer_member::note(const std::string& line) {
  if (world_.tracing()) world_.note("consumer " + name_ + ": " + line);
}

void consumer_member::anomaly(const std::string& what) {
  note("ANOMALY: " + what);
  log_.anomalies.push_back(name_ + ": " + what);
}

}  // namespace kwire::sim::detail
