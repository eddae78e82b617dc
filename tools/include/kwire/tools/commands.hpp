// The `kwire` subcommands: each one's options as plain values, and the entry
// point that runs it. main.cc reads the command line into these (with CLI11,
// in that one translation unit) and refuses bad usage with exit code 2
// before a command runs; each run_* returns the process exit code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kwire/protocol/frame.hpp"

namespace kwire::tools {

/// `kwire schema [--json]`.
struct schema_options {
  bool json = false;  ///< every definition as one JSON array, not the API list
};
/// The API list, or every definition as JSON.
int run_schema(const schema_options& options);

/// `kwire decode --requests FILE [--responses FILE] [--redact] [--max-frame-size BYTES]`.
struct decode_options {
  std::string requests;   ///< path, or "-" for standard input
  std::string responses;  ///< empty: print the requests
  bool redact = false;
  std::size_t max_frame_size = default_max_frame_size;
};
/// Frames as JSON lines.
int run_decode(const decode_options& options);

/// A `kwire mock --topic NAME:PARTITIONS[:REPLICAS]`.
struct topic_spec {
  std::string name;
  std::int32_t partitions = 1;
  std::int16_t replicas = -1;  ///< -1: every broker
};

/// `kwire mock`.
struct mock_options {
  int brokers = 3;
  std::vector<topic_spec> topics;
  std::uint16_t first_port =
      0;  ///< 0: ephemeral ports; else brokers on first_port, first_port + 1, ...
  std::string host = "127.0.0.1";  ///< to listen on: a literal or a name
  std::string advertised_host;     ///< told to clients; empty: host (see tcp_server_options)
  std::uint16_t advertised_first_port = 0;  ///< 0: the ports bound
  std::int32_t partitions = 1;              ///< of auto-created topics
  std::uint64_t seed = 1;
  std::string faults_path;  ///< empty: no rules at start
  bool http = false;        ///< serve the control API on http_host:http_port
  std::string http_host = "127.0.0.1";
  std::uint16_t http_port = 0;
  std::string http_token;
  bool quiet = false;
  bool advertise_all_apis = false;  ///< ApiVersions lists every API the codec knows, served or not
  /// End of standard input: "auto" (exit when it is a pipe or a socket that
  /// closes; a terminal, a file or /dev/null is not watched), "exit", "ignore".
  std::string stdin_eof = "auto";
  std::string ready_file;  ///< written once listening: bootstrap line, HTTP address line
  std::int64_t connections_max_idle_ms = 600000;  ///< 0: never close idle connections
  std::int32_t max_connections = 0;               ///< per broker; 0: no limit
};
/// A mock cluster until SIGINT or SIGTERM, or the end of a watched standard input.
int run_mock(const mock_options& options);

/// `kwire produce --bootstrap B --topic T`.
struct produce_options {
  std::map<std::string, std::string> settings;  ///< bootstrap.servers and every -X
  std::string topic;
  std::string key_separator;  ///< empty: null keys
  std::optional<std::int32_t> partition;
};
/// Standard input's lines as records, like `kcat -P`.
int run_produce(const produce_options& options);

/// `kwire perf --records N --record-size S [--bootstrap B]`.
struct perf_options {
  std::map<std::string, std::string> settings;  ///< without bootstrap.servers: an embedded mock
  std::string topic = "kwire-perf";
  std::int64_t records = 0;
  std::int64_t record_size = 0;
  std::int32_t partitions = 6;  ///< of the embedded mock's topic
  std::int64_t throughput = 0;  ///< records a second; 0: as fast as send() takes them
  bool progress = true;
};
/// Throughput and latency, JSON last.
int run_perf(const perf_options& options);

/// `kwire sim [--workload producer|consumers] --seed S --runs N [--trace] [--exclude F,...]`.
struct sim_options {
  std::string workload = "producer";  ///< "producer", or "consumers" (a consumer group too)
  std::uint64_t seed = 1;
  std::int64_t runs = 1;
  bool trace = false;
  std::vector<std::string> excluded;  ///< fault type names, each one checked
  std::string exclude_text;           ///< as given, for the replay command
};
/// Simulated runs under faults, each checked; JSON last. Runs the
/// consumers workload through run_sim_consumers.
int run_sim(const sim_options& options);
/// The consumers workload of `kwire sim` (sim_consumers_command.cc).
int run_sim_consumers(const sim_options& options);

/// `kwire demo`.
struct demo_options {
  std::int64_t payments = 1000000;
  std::int64_t cards = 10000;
  std::int32_t partitions = 12;
  std::uint64_t seed = 1;
  std::map<std::string, std::string> settings;  ///< -X overrides of the demo's producer settings
};
/// Card payments through injected faults on the embedded mock, read back and checked.
int run_demo(const demo_options& options);

}  // namespace kwire::tools
