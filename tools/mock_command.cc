// `kwire mock`: a mock Kafka cluster on loopback, for tests in any language.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/fault_json.hpp"
#include "kwire/mockbroker/http_api.hpp"
#include "kwire/mockbroker/http_server.hpp"
#include "kwire/mockbroker/tcp_server.hpp"
#include "kwire/tools/commands.hpp"
#include "kwire/tools/options.hpp"

namespace kwire::tools {
namespace {

constexpr const char* mock_usage =
    "usage: kwire mock [--brokers N] [--topic NAME:PARTITIONS[:REPLICAS]]... [--port P]\n"
    "                  [--host ADDRESS] [--partitions N] [--seed S] [--faults FILE]\n"
    "                  [--http HOST:PORT [--http-token TOKEN]] [--quiet]\n"
    "  Starts a mock Kafka cluster and prints its bootstrap list (host:port,...) as the\n"
    "  first line of standard output; serves until SIGINT or SIGTERM, or until standard\n"
    "  input closes, then exits 0.\n"
    "  --brokers N        brokers, ids 1..N (default 3)\n"
    "  --topic T:P[:R]    create topic T with P partitions and R replicas (default: all brokers)\n"
    "  --port P           first broker listens on P, the next on P+1, ... (default: ephemeral)\n"
    "  --host ADDRESS     address to listen on (default 127.0.0.1)\n"
    "  --partitions N     partitions of auto-created topics (default 1)\n"
    "  --seed S           seed of the random source behind probabilistic faults (default 1)\n"
    "  --faults FILE      fault rules as JSON: one rule, an array of rules, or {\"faults\": [...]};\n"
    "                     e.g. {\"api\": \"Produce\", \"error\": \"NOT_LEADER_OR_FOLLOWER\", \"count\": 3}\n"
    "                     (the format is described in the README)\n"
    "  --http HOST:PORT   serve the HTTP control API there (port 0: ephemeral) and print its\n"
    "                     address as the second line of standard output; e.g. 127.0.0.1:0\n"
    "  --http-token T     the API wants `Authorization: Bearer T` on every request\n"
    "  --quiet            do not log closed connections to standard error\n";

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct topic_spec {
  std::string name;
  std::int32_t partitions = 1;
  std::int16_t replicas = -1;
};

// --http: "HOST:PORT", "[IPv6]:PORT", ":PORT" or "PORT"; the host defaults to loopback.
bool parse_http_address(const std::string& text, std::string& host, std::uint16_t& port) {
  std::string port_text = text;
  host = "127.0.0.1";
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (const auto colon = text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  long long n = 0;
  if (host.empty() || !parse_integer(port_text, 0, 65535, n)) return false;
  port = static_cast<std::uint16_t>(n);
  return true;
}

// Creates the --topic topics and adds the --faults rules: at start, and again
// on a fresh cluster when the HTTP API resets it. "" or what went wrong.
std::string apply_initial_state(mock::cluster& cluster, const std::vector<topic_spec>& topics,
                                const std::vector<mock::fault_rule>& faults) {
  for (const auto& t : topics) {
    mock::topic_config tc;
    tc.partitions = t.partitions;
    if (t.replicas > 0) {
      if (t.replicas > cluster.config().broker_count) {
        return "--topic " + t.name + ": " + std::to_string(t.replicas) + " replicas but only " +
               std::to_string(cluster.config().broker_count) + " brokers";
      }
      tc.replication_factor = t.replicas;
    }
    const auto err = cluster.create_topic(t.name, tc);
    if (err != kafka_error::none) {
      return "--topic " + t.name + ": " + std::string(kafka_error_name(static_cast<std::int16_t>(err)));
    }
  }
  for (const auto& rule : faults) cluster.add_fault(rule);
  return {};
}

}  // namespace

int run_mock(int argc, char** argv) {
  mock::cluster_config config;
  std::vector<topic_spec> topics;
  long long first_port = 0;
  std::string host = "127.0.0.1";
  bool quiet = false;
  std::string faults_path;
  bool http = false;
  std::string http_host, http_token;
  std::uint16_t http_port = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "kwire mock: " << arg << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    long long n = 0;
    if (arg == "--brokers") {
      const auto v = value();
      if (!parse_integer(v, 1, 64, n)) {
        std::cerr << "kwire mock: --brokers: '" << v << "' is not a number from 1 to 64\n";
        return 2;
      }
      config.broker_count = static_cast<int>(n);
    } else if (arg == "--partitions") {
      const auto v = value();
      if (!parse_integer(v, 1, 100000, n)) {
        std::cerr << "kwire mock: --partitions: '" << v << "' is not a number from 1 to 100000\n";
        return 2;
      }
      config.default_partitions = static_cast<std::int32_t>(n);
    } else if (arg == "--seed") {
      const auto v = value();
      if (!parse_integer(v, 0, INT64_MAX, n)) {
        std::cerr << "kwire mock: --seed: '" << v << "' is not a non-negative number\n";
        return 2;
      }
      config.seed = static_cast<std::uint64_t>(n);
    } else if (arg == "--port") {
      const auto v = value();
      if (!parse_integer(v, 1, 65535, first_port)) {
        std::cerr << "kwire mock: --port: '" << v << "' is not a port number\n";
        return 2;
      }
    } else if (arg == "--host") {
      host = value();
    } else if (arg == "--topic") {
      const auto v = value();
      topic_spec t;
      const auto c1 = v.find(':');
      t.name = v.substr(0, c1);
      bool ok = !t.name.empty() && c1 != std::string::npos;
      if (ok) {
        const auto c2 = v.find(':', c1 + 1);
        ok = parse_integer(v.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1), 1, 100000, n);
        t.partitions = static_cast<std::int32_t>(n);
        if (ok && c2 != std::string::npos) {
          ok = parse_integer(v.substr(c2 + 1), 1, 64, n);
          t.replicas = static_cast<std::int16_t>(n);
        }
      }
      if (!ok) {
        std::cerr << "kwire mock: --topic: '" << v << "' is not NAME:PARTITIONS[:REPLICAS]\n";
        return 2;
      }
      topics.push_back(t);
    } else if (arg == "--faults") {
      faults_path = value();
    } else if (arg == "--http") {
      const auto v = value();
      if (!parse_http_address(v, http_host, http_port)) {
        std::cerr << "kwire mock: --http: '" << v << "' is not HOST:PORT (e.g. 127.0.0.1:0)\n";
        return 2;
      }
      http = true;
    } else if (arg == "--http-token") {
      http_token = value();
      if (http_token.empty()) {
        std::cerr << "kwire mock: --http-token: the token is empty\n";
        return 2;
      }
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << mock_usage;
      return 0;
    } else {
      std::cerr << "kwire mock: unknown option '" << arg << "'\n" << mock_usage;
      return 2;
    }
  }

  if (!http_token.empty() && !http) {
    std::cerr << "kwire mock: --http-token needs --http\n";
    return 2;
  }
  std::vector<mock::fault_rule> initial_faults;
  if (!faults_path.empty()) {
    std::ifstream in(faults_path);
    if (!in) {
      std::cerr << "kwire mock: --faults: cannot read '" << faults_path << "': " << std::strerror(errno) << "\n";
      return 2;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = mock::parse_fault_rules(text);
    if (!parsed.ok()) {
      std::cerr << "kwire mock: --faults " << faults_path << ": " << parsed.error << "\n";
      return 2;
    }
    initial_faults = std::move(parsed.rules);
  }
  mock::cluster cluster(config);
  if (const auto error = apply_initial_state(cluster, topics, initial_faults); !error.empty()) {
    std::cerr << "kwire mock: " << error << "\n";
    return 2;
  }
  mock::tcp_server_options options;
  options.bind_host = host;
  if (first_port > 0) {
    for (int b = 0; b < config.broker_count; ++b) options.ports.push_back(static_cast<std::uint16_t>(first_port + b));
  }
  if (!quiet) options.log = [](std::string_view line) { std::cerr << "kwire mock: " << line << "\n"; };
  std::unique_ptr<mock::tcp_server> server;
  try {
    server = std::make_unique<mock::tcp_server>(cluster, options);
  } catch (const std::system_error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  // POST /reset rebuilds the cluster and applies the same topics and rules.
  mock::control_api api([&topics, &initial_faults](mock::cluster& c) { apply_initial_state(c, topics, initial_faults); });
  std::unique_ptr<mock::http_server> http_server;
  if (http) {
    mock::http_server_options http_options;
    http_options.bind_host = http_host;
    http_options.port = http_port;
    http_options.token = http_token;
    http_options.log = options.log;
    try {
      http_server = std::make_unique<mock::http_server>(*server, api, http_options);
    } catch (const std::system_error& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  server->start();
  if (http_server) http_server->start();
  std::cout << server->bootstrap_servers() << std::endl;
  if (http_server) std::cout << http_server->address() << std::endl;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // Serve until a signal, or until standard input reaches its end (a test
  // harness that dies takes the mock with it).
  bool stdin_open = true;
  while (!stop_requested) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = stdin_open ? ::poll(&p, 1, 200) : (::usleep(200000), 0);
    if (ready > 0) {
      char buf[4096];
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n == 0) break;  // end of input
      if (n < 0 && errno != EINTR) stdin_open = false;
    } else if (ready < 0 && errno != EINTR) {
      stdin_open = false;
    }
  }
  if (http_server) http_server->stop();  // first: it reaches the cluster through the TCP front
  server->stop();
  return 0;
}

}  // namespace kwire::tools
