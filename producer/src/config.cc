#include "kwire/producer/config.hpp"

#include <charconv>
#include <functional>
#include <limits>

namespace kwire {

std::string config_error::message() const {
  return "invalid value '" + value + "' for configuration key '" + key + "': " + reason;
}

namespace {

config_result fail(producer_config config, std::string key, std::string value, std::string reason) {
  return {std::move(config), config_error{std::move(key), std::move(value), std::move(reason)}};
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

template <class T>
std::optional<T> parse_integer(const std::string& raw) {
  const std::string s = trim(raw);
  T v{};
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(const std::string& raw) {
  const std::string s = trim(raw);
  if (s == "true") return true;
  if (s == "false") return false;
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<broker_address>> parse_bootstrap_servers(const std::string& text) {
  std::vector<broker_address> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    const std::string item = trim(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    std::string host, port;
    if (item.front() == '[') {
      const auto close = item.find(']');
      if (close == std::string::npos || close + 1 >= item.size() || item[close + 1] != ':')
        return std::nullopt;
      host = item.substr(1, close - 1);
      port = item.substr(close + 2);
    } else {
      const auto colon = item.rfind(':');
      if (colon == std::string::npos || item.find(':') != colon) return std::nullopt;
      host = item.substr(0, colon);
      port = item.substr(colon + 1);
    }
    const auto p = parse_integer<std::int32_t>(port);
    if (host.empty() || !p || *p < 1 || *p > 65535) return std::nullopt;
    out.push_back({host, *p});
  }
  if (out.empty()) return std::nullopt;
  return out;
}

config_result validate_config(producer_config c) {
  auto num = [](auto v) { return std::to_string(v); };
  auto ms = [](std::chrono::milliseconds v) { return std::to_string(v.count()); };
  if (c.bootstrap_servers.empty())
    return fail(std::move(c), "bootstrap.servers", "", "at least one host:port is required");
  if (c.acks != 0 && c.acks != 1 && c.acks != -1)
    return fail(std::move(c), "acks", num(c.acks), "must be 0, 1, all or -1");
  if (c.linger.count() < 0) return fail(std::move(c), "linger.ms", ms(c.linger), "must be >= 0");
  if (c.batch_size < 0) return fail(std::move(c), "batch.size", num(c.batch_size), "must be >= 0");
  if (c.buffer_memory < 0)
    return fail(std::move(c), "buffer.memory", num(c.buffer_memory), "must be >= 0");
  if (c.max_block.count() < 0)
    return fail(std::move(c), "max.block.ms", ms(c.max_block), "must be >= 0");
  if (c.retries < 0) return fail(std::move(c), "retries", num(c.retries), "must be >= 0");
  if (c.retry_backoff.count() < 0)
    return fail(std::move(c), "retry.backoff.ms", ms(c.retry_backoff), "must be >= 0");
  if (c.retry_backoff_max.count() < 0)
    return fail(std::move(c), "retry.backoff.max.ms", ms(c.retry_backoff_max), "must be >= 0");
  if (c.request_timeout.count() < 0)
    return fail(std::move(c), "request.timeout.ms", ms(c.request_timeout), "must be >= 0");
  if (c.delivery_timeout.count() < 0)
    return fail(std::move(c), "delivery.timeout.ms", ms(c.delivery_timeout), "must be >= 0");
  if (c.max_in_flight_requests_per_connection < 1)
    return fail(std::move(c), "max.in.flight.requests.per.connection",
                num(c.max_in_flight_requests_per_connection), "must be >= 1");
  if (c.max_request_size < 0)
    return fail(std::move(c), "max.request.size", num(c.max_request_size), "must be >= 0");
  if (c.metadata_max_age.count() < 0)
    return fail(std::move(c), "metadata.max.age.ms", ms(c.metadata_max_age), "must be >= 0");
  if (c.send_buffer_bytes < -1)
    return fail(std::move(c), "send.buffer.bytes", num(c.send_buffer_bytes), "must be >= -1");
  if (c.receive_buffer_bytes < -1)
    return fail(std::move(c), "receive.buffer.bytes", num(c.receive_buffer_bytes), "must be >= -1");
  if (c.partitioner == partitioner_kind::custom && !c.custom_partitioner)
    return fail(std::move(c), "partitioner", "custom", "a custom partitioner object is required");
  // Kafka's ProducerConfig: delivery.timeout.ms >= linger.ms + request.timeout.ms.
  if (c.delivery_timeout < c.linger + c.request_timeout)
    return fail(
        std::move(c), "delivery.timeout.ms", ms(c.delivery_timeout),
        "must be >= linger.ms + request.timeout.ms (" + ms(c.linger + c.request_timeout) + ")");
  // Kafka 3.x: idempotence needs acks=all, retries > 0 and at most 5 in flight.
  // Asked for explicitly, a conflict is an error; by default, idempotence yields.
  if (c.enable_idempotence) {
    std::optional<config_error> conflict;
    if (c.acks != -1)
      conflict =
          config_error{"acks", num(c.acks), "must be all (-1) when enable.idempotence is true"};
    else if (c.retries == 0)
      conflict = config_error{"retries", "0", "must be > 0 when enable.idempotence is true"};
    else if (c.max_in_flight_requests_per_connection > 5)
      conflict = config_error{"max.in.flight.requests.per.connection",
                              num(c.max_in_flight_requests_per_connection),
                              "must be at most 5 when enable.idempotence is true"};
    if (conflict) {
      if (c.enable_idempotence_set) return {std::move(c), std::move(conflict)};
      c.enable_idempotence = false;
    }
  }
  return {std::move(c), std::nullopt};
}

config_result parse_producer_config(const std::map<std::string, std::string>& settings) {
  producer_config c;
  using setter = std::function<std::optional<std::string>(const std::string&)>;
  // Each setter returns the reason when the value is malformed.
  auto int32_key = [&](std::int32_t& field, std::int64_t min,
                       std::int64_t max = std::numeric_limits<std::int32_t>::max()) {
    return setter([&field, min, max](const std::string& v) -> std::optional<std::string> {
      const auto n = parse_integer<std::int64_t>(v);
      if (!n) return "not an integer";
      if (*n < min || *n > max)
        return "must be between " + std::to_string(min) + " and " + std::to_string(max);
      field = static_cast<std::int32_t>(*n);
      return std::nullopt;
    });
  };
  auto ms_key = [&](std::chrono::milliseconds& field,
                    std::int64_t max = std::numeric_limits<std::int32_t>::max()) {
    return setter([&field, max](const std::string& v) -> std::optional<std::string> {
      const auto n = parse_integer<std::int64_t>(v);
      if (!n) return "not an integer";
      if (*n < 0 || *n > max) return "must be between 0 and " + std::to_string(max);
      field = std::chrono::milliseconds(*n);
      return std::nullopt;
    });
  };
  const std::int64_t long_max = std::numeric_limits<std::int64_t>::max();
  const std::map<std::string, setter> keys = {
      {"bootstrap.servers",
       [&](const std::string& v) -> std::optional<std::string> {
         auto list = parse_bootstrap_servers(v);
         if (!list) return "expected host:port[,host:port...] with ports 1-65535";
         c.bootstrap_servers = std::move(*list);
         return std::nullopt;
       }},
      {"client.id",
       [&](const std::string& v) -> std::optional<std::string> {
         c.client_id = v;
         return std::nullopt;
       }},
      {"acks",
       [&](const std::string& raw) -> std::optional<std::string> {
         const std::string v = trim(raw);
         if (v == "all" || v == "-1")
           c.acks = -1;
         else if (v == "0")
           c.acks = 0;
         else if (v == "1")
           c.acks = 1;
         else
           return "must be 0, 1, all or -1";
         return std::nullopt;
       }},
      {"enable.idempotence",
       [&](const std::string& v) -> std::optional<std::string> {
         const auto b = parse_bool(v);
         if (!b) return "must be true or false";
         c.enable_idempotence = *b;
         c.enable_idempotence_set = true;
         return std::nullopt;
       }},
      {"linger.ms", ms_key(c.linger)},
      {"batch.size", int32_key(c.batch_size, 0)},
      {"buffer.memory",
       [&](const std::string& v) -> std::optional<std::string> {
         const auto n = parse_integer<std::int64_t>(v);
         if (!n) return "not an integer";
         if (*n < 0) return "must be >= 0";
         c.buffer_memory = *n;
         return std::nullopt;
       }},
      {"max.block.ms", ms_key(c.max_block, long_max)},
      {"compression.type",
       [&](const std::string& raw) -> std::optional<std::string> {
         const std::string v = trim(raw);
         if (v == "none")
           c.compression_type = compression::none;
         else if (v == "gzip")
           c.compression_type = compression::gzip;
         else if (v == "snappy")
           c.compression_type = compression::snappy;
         else if (v == "lz4")
           c.compression_type = compression::lz4;
         else if (v == "zstd")
           c.compression_type = compression::zstd;
         else
           return "must be none, gzip, snappy, lz4 or zstd";
         return std::nullopt;
       }},
      {"retries", int32_key(c.retries, 0)},
      {"retry.backoff.ms", ms_key(c.retry_backoff, long_max)},
      {"retry.backoff.max.ms", ms_key(c.retry_backoff_max, long_max)},
      {"delivery.timeout.ms", ms_key(c.delivery_timeout)},
      {"request.timeout.ms", ms_key(c.request_timeout)},
      {"max.in.flight.requests.per.connection",
       int32_key(c.max_in_flight_requests_per_connection, 1)},
      {"max.request.size", int32_key(c.max_request_size, 0)},
      {"metadata.max.age.ms", ms_key(c.metadata_max_age, long_max)},
      {"partitioner",
       [&](const std::string& raw) -> std::optional<std::string> {
         const std::string v = trim(raw);
         if (v == "default" || v == "sticky" ||
             v == "org.apache.kafka.clients.producer.internals.DefaultPartitioner" ||
             v == "org.apache.kafka.clients.producer.UniformStickyPartitioner")
           c.partitioner = partitioner_kind::sticky;
         else if (v == "round_robin" ||
                  v == "org.apache.kafka.clients.producer.RoundRobinPartitioner")
           c.partitioner = partitioner_kind::round_robin;
         else
           return "must be default, sticky or round_robin (a user-defined partitioner is set in "
                  "the typed config)";
         return std::nullopt;
       }},
      {"send.buffer.bytes", int32_key(c.send_buffer_bytes, -1)},
      {"receive.buffer.bytes", int32_key(c.receive_buffer_bytes, -1)},
  };
  for (const auto& [key, value] : settings) {
    if (key == "interceptor.classes" || key == "key.serializer" || key == "value.serializer")
      return fail(std::move(c), key, value,
                  "classes cannot be named in C++: set producer_config::interceptors, or use "
                  "kwire::typed_producer with serializers (kwire/producer/serializer.hpp)");
    std::string lookup = key == "partitioner.class" ? "partitioner" : key;
    const auto it = keys.find(lookup);
    if (it == keys.end()) return fail(std::move(c), key, value, "unknown configuration key");
    if (auto reason = it->second(value)) return fail(std::move(c), key, value, *reason);
  }
  if (!settings.count("bootstrap.servers"))
    return fail(std::move(c), "bootstrap.servers", "", "is required");
  return validate_config(std::move(c));
}

}  // namespace kwire
