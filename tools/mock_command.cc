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
#include "kwire/mockbroker/tcp_server.hpp"
#include "kwire/tools/commands.hpp"
#include "kwire/tools/options.hpp"

namespace kwire::tools {
namespace {

constexpr const char* mock_usage =
    "usage: kwire mock [--brokers N] [--topic NAME:PARTITIONS[:REPLICAS]]... [--port P]\n"
    "                  [--host ADDRESS] [--partitions N] [--seed S] [--faults FILE] [--quiet]\n"
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
    "  --quiet            do not log closed connections to standard error\n";

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

struct topic_spec {
  std::string name;
  std::int32_t partitions = 1;
  std::int16_t replicas = -1;
};

}  // namespace

int run_mock(int argc, char** argv) {
  mock::cluster_config config;
  std::vector<topic_spec> topics;
  long long first_port = 0;
  std::string host = "127.0.0.1";
  bool quiet = false;
  std::string faults_path;
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

  mock::cluster cluster(config);
  for (const auto& t : topics) {
    mock::topic_config tc;
    tc.partitions = t.partitions;
    if (t.replicas > 0) {
      if (t.replicas > config.broker_count) {
        std::cerr << "kwire mock: --topic " << t.name << ": " << t.replicas << " replicas but only "
                  << config.broker_count << " brokers\n";
        return 2;
      }
      tc.replication_factor = t.replicas;
    }
    const auto err = cluster.create_topic(t.name, tc);
    if (err != kafka_error::none) {
      std::cerr << "kwire mock: --topic " << t.name << ": " << kafka_error_name(static_cast<std::int16_t>(err)) << "\n";
      return 2;
    }
  }
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
    for (auto& rule : parsed.rules) cluster.add_fault(std::move(rule));
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
  server->start();
  std::cout << server->bootstrap_servers() << std::endl;

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
  server->stop();
  return 0;
}

}  // namespace kwire::tools
