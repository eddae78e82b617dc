// `kwire mock`: a mock Kafka cluster on loopback (or any address), for
// tests in any language: it serves until SIGINT or SIGTERM, or until a
// harness that holds its standard input (a pipe or a socket) goes away.
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "kwire/mockbroker/cluster.hpp"
#include "kwire/mockbroker/fault_json.hpp"
#include "kwire/mockbroker/http_api.hpp"
#include "kwire/mockbroker/http_server.hpp"
#include "kwire/mockbroker/tcp_server.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {
namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }

// Creates the --topic topics and adds the --faults rules: at start, and again
// on a fresh cluster when the HTTP API resets it. "" or what went wrong.
std::string apply_initial_state(mockbroker::cluster& cluster, const std::vector<topic_spec>& topics,
                                const std::vector<mockbroker::fault_rule>& faults) {
  for (const auto& t : topics) {
    mockbroker::topic_config tc;
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
      return "--topic " + t.name + ": " +
             std::string(kafka_error_name(static_cast<std::int16_t>(err)));
    }
  }
  for (const auto& rule : faults) cluster.add_fault(rule);
  return {};
}

/// Does `mode` ask to exit when standard input ends? "auto": only when it
/// is a pipe or a socket, whose end means the harness that holds it is gone;
/// never a terminal, a regular file, /dev/null or /dev/zero, which either
/// end at once or never and would be read in a busy loop.
bool watch_stdin(const std::string& mode) {
  if (mode == "exit") return true;
  if (mode == "ignore") return false;
  struct stat st {};
  if (::fstat(STDIN_FILENO, &st) != 0) return false;
  return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode);
}

/// Returns at SIGINT or SIGTERM, or when a watched standard input ends
/// (what arrives on it is read and dropped).
void serve_until_stopped(bool stdin_watched) {
  while (!stop_requested) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&p, stdin_watched ? 1 : 0, 200);
    if (ready > 0) {
      char buf[4096];
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n == 0) return;  // end of input
      if (n < 0 && errno != EINTR) stdin_watched = false;
    } else if (ready < 0 && errno != EINTR) {
      stdin_watched = false;
    }
  }
}

/// A server holds a descriptor per connection: take the hard limit (often
/// far above the soft 1024), as Kafka's start scripts advise.
void raise_open_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

/// Writes `text` to `path` through a temporary file renamed over it, so a
/// harness polling for the file never reads half of it. "" or what failed.
std::string write_ready_file(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    if (!out || !(out << text) || !out.flush()) return std::strerror(errno);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string error = std::strerror(errno);
    std::remove(temporary.c_str());
    return error;
  }
  return {};
}

}  // namespace

int run_mock(const mock_options& given) {
  mockbroker::cluster_config config;
  config.broker_count = given.brokers;
  config.default_partitions = given.partitions;
  config.seed = given.seed;
  config.advertise_all_apis = given.advertise_all_apis;
  const auto& topics = given.topics;
  const auto& faults_path = given.faults_path;
  std::vector<mockbroker::fault_rule> initial_faults;
  if (!faults_path.empty()) {
    std::ifstream in(faults_path);
    if (!in) {
      std::cerr << "kwire mock: --faults: cannot read '" << faults_path
                << "': " << std::strerror(errno) << "\n";
      return 2;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto parsed = mockbroker::parse_fault_rules(text);
    if (!parsed.ok()) {
      std::cerr << "kwire mock: --faults " << faults_path << ": " << parsed.error << "\n";
      return 2;
    }
    initial_faults = std::move(parsed.rules);
  }
  mockbroker::cluster cluster(config);
  if (const auto error = apply_initial_state(cluster, topics, initial_faults); !error.empty()) {
    std::cerr << "kwire mock: " << error << "\n";
    return 2;
  }
  mockbroker::tcp_server_options options;
  options.bind_host = given.host;
  options.advertised_host = given.advertised_host;
  // main.cc checked that the last broker's ports are at most 65535.
  for (int b = 0; b < config.broker_count; ++b) {
    if (given.first_port > 0)
      options.ports.push_back(static_cast<std::uint16_t>(given.first_port + b));
    if (given.advertised_first_port > 0)
      options.advertised_ports.push_back(
          static_cast<std::uint16_t>(given.advertised_first_port + b));
  }
  options.idle_timeout = std::chrono::milliseconds(given.connections_max_idle_ms);
  options.max_connections_per_broker = static_cast<std::size_t>(given.max_connections);
  if (!given.quiet)
    options.log = [](std::string_view line) { std::cerr << "kwire mock: " << line << "\n"; };
  raise_open_file_limit();
  std::unique_ptr<mockbroker::tcp_server> server;
  try {
    server = std::make_unique<mockbroker::tcp_server>(cluster, options);
  } catch (const std::system_error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  // POST /reset rebuilds the cluster and applies the same topics and rules.
  mockbroker::control_api api([&topics, &initial_faults](mockbroker::cluster& c) {
    apply_initial_state(c, topics, initial_faults);
  });
  std::unique_ptr<mockbroker::http_server> http_server;
  if (given.http) {
    mockbroker::http_server_options http_options;
    http_options.bind_host = given.http_host;
    http_options.port = given.http_port;
    http_options.token = given.http_token;
    http_options.log = options.log;
    try {
      http_server = std::make_unique<mockbroker::http_server>(*server, api, http_options);
    } catch (const std::system_error& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  server->start();
  if (http_server) http_server->start();
  std::string ready = server->bootstrap_servers() + "\n";
  if (http_server) ready += http_server->address() + "\n";
  std::cout << ready << std::flush;
  int status = 0;
  if (!given.ready_file.empty()) {
    if (const auto error = write_ready_file(given.ready_file, ready); !error.empty()) {
      std::cerr << "kwire mock: --ready-file " << given.ready_file << ": " << error << "\n";
      stop_requested = 1;
      status = 1;
    }
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  serve_until_stopped(watch_stdin(given.stdin_eof));
  if (http_server) http_server->stop();  // first: it reaches the cluster through the TCP front
  // Owed responses go out first, within the second a supervisor waits after SIGTERM.
  server->stop(std::chrono::milliseconds(500));
  return status;
}

}  // namespace kwire::tools
