// The `kwire` command line: one program, one subcommand per job. Options are
// read here, with CLI11, for every subcommand (the one translation unit that
// includes it: it compiles slowly), so that each gets the same --help, the
// same errors naming the option, and exit code 2 for any usage error; the
// subcommands themselves take plain option structs (commands.hpp).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "kwire/sim/scenario.hpp"
#include "kwire/tools/commands.hpp"
#include "kwire/version.hpp"

namespace kwire::tools {
namespace {

// ---- values -------------------------------------------------------------------------

// A whole decimal number within [lo, hi]. CLI11's own conversion reads "010"
// as octal and lets an out-of-range number saturate, so numbers are read here.
bool parse_integer(const std::string& text, long long lo, long long hi, long long& out) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) return false;
  out = v;
  return true;
}

// An option that takes a whole number within [lo, hi]; stored in `out` as Int.
template <class Int>
CLI::Option* add_number(CLI::App& app, const std::string& name, Int& out, long long lo,
                        long long hi, const std::string& help, bool show_default = true) {
  auto* option = app.add_option_function<std::string>(
      name,
      [&out](const std::string& v) {
        long long n = 0;
        parse_integer(v, LLONG_MIN, LLONG_MAX, n);  // checked below before this runs
        out = static_cast<Int>(n);
      },
      help);
  option->type_name("N")->check(CLI::Validator(
      [lo, hi](std::string& v) -> std::string {
        long long n = 0;
        if (parse_integer(v, lo, hi, n)) return {};
        return "'" + v + "' is not a whole number from " + std::to_string(lo) + " to " +
               std::to_string(hi);
      },
      ""));
  if (show_default) option->default_str(std::to_string(out));
  return option;
}

// `-X key=value`, repeatable: any producer setting by the Java producer's name.
CLI::Option* add_settings(CLI::App& app, std::map<std::string, std::string>& settings) {
  auto* option = app.add_option_function<std::vector<std::string>>(
      "-X",
      [&settings](const std::vector<std::string>& all) {
        for (const auto& text : all) {
          const auto eq = text.find('=');
          settings[text.substr(0, eq)] = text.substr(eq + 1);
        }
      },
      "any producer setting by the Java producer's name (e.g. -X linger.ms=5); repeatable");
  option->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0) return "wants key=value, got '" + v + "'";
            return {};
          },
          ""));
  return option;
}

CLI::Validator not_empty(const std::string& what) {
  return CLI::Validator(
      [what](std::string& v) { return v.empty() ? what + " is empty" : std::string(); }, "");
}

// --topic NAME:PARTITIONS[:REPLICAS]
bool parse_topic_spec(const std::string& v, topic_spec& t) {
  const auto c1 = v.find(':');
  if (c1 == 0 || c1 == std::string::npos) return false;
  t.name = v.substr(0, c1);
  const auto c2 = v.find(':', c1 + 1);
  long long n = 0;
  if (!parse_integer(v.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1), 1,
                     100000, n)) {
    return false;
  }
  t.partitions = static_cast<std::int32_t>(n);
  if (c2 == std::string::npos) return true;
  if (!parse_integer(v.substr(c2 + 1), 1, 64, n)) return false;
  t.replicas = static_cast<std::int16_t>(n);
  return true;
}

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

// "a,b,c" as its comma-separated parts (an empty text is one empty part).
std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto comma = text.find(','); comma != std::string::npos; comma = text.find(',', start)) {
    parts.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  parts.push_back(text.substr(start));
  return parts;
}

// A usage error found after parsing (options that only fail together); the
// message names the option.
[[noreturn]] void refuse(const std::string& message) { throw CLI::ValidationError(message); }

// ---- subcommands ----------------------------------------------------------------------

// A subcommand: its parser and what runs it once parsed (options live in the closure).
struct command {
  CLI::App* app;
  std::function<int()> run;
};

command add_schema(CLI::App& app) {
  auto o = std::make_shared<schema_options>();
  auto* sub =
      app.add_subcommand("schema", "print the API list, or every definition as JSON (--json)");
  sub->add_flag("--json", o->json,
                "every request and response definition the codec was generated from, as one JSON "
                "array in the "
                "shape of Kafka's message definitions");
  sub->footer("Without options: one line per API (key, name, versions, first flexible version).");
  return {sub, [o] { return run_schema(*o); }};
}

command add_decode(CLI::App& app) {
  auto o = std::make_shared<decode_options>();
  auto* sub =
      app.add_subcommand("decode", "print size-prefixed request or response frames as JSON lines");
  sub->add_option("--requests", o->requests, "what a client sent ('-' reads standard input)")
      ->type_name("FILE")
      ->required();
  sub->add_option("--responses", o->responses,
                  "what the broker answered; each response is matched to its request by "
                  "correlation id, which "
                  "gives its API and version. With this option only the responses are printed.")
      ->type_name("FILE");
  sub->add_flag("--redact", o->redact,
                "print record keys, values and header values as {\"redacted\": SIZE}");
  add_number(*sub, "--max-frame-size", o->max_frame_size, 1, INT32_MAX,
             "refuse frames above this size in bytes");
  sub->footer(
      "Reads a stream of size-prefixed Kafka frames and prints one JSON object per frame.\n"
      "Keys and values that are valid UTF-8 print as strings, others as {\"base64\": \"...\"}.\n"
      "A malformed frame prints {\"frame\": N, \"offset\": BYTE, \"error\": \"...\"} and decoding\n"
      "goes on with the next frame; a size prefix that cannot be trusted ends the stream.");
  return {sub, [o] {
            if (o->requests == "-" && o->responses == "-") {
              refuse("only one of --requests and --responses can read standard input (-)");
            }
            return run_decode(*o);
          }};
}

command add_mock(CLI::App& app) {
  auto o = std::make_shared<mock_options>();
  auto* sub = app.add_subcommand(
      "mock", "serve a mock Kafka cluster on loopback (prints its bootstrap list first)");
  add_number(*sub, "--brokers", o->brokers, 1, 64, "brokers, ids 1..N");
  sub->add_option_function<std::vector<std::string>>(
         "--topic",
         [o](const std::vector<std::string>& all) {
           for (const auto& v : all) parse_topic_spec(v, o->topics.emplace_back());
         },
         "create topic NAME with PARTITIONS partitions and REPLICAS replicas (default: all "
         "brokers); repeatable")
      ->type_name("NAME:PARTITIONS[:REPLICAS]")
      ->allow_extra_args(false)
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            topic_spec t;
            if (parse_topic_spec(v, t)) return {};
            return "'" + v +
                   "' is not NAME:PARTITIONS[:REPLICAS] (partitions 1 to 100000, replicas 1 to 64)";
          },
          ""));
  add_number(*sub, "--port", o->first_port, 1, 65535,
             "first broker listens on P, the next on P+1, ... (default: ephemeral ports)", false);
  sub->add_option("--host", o->host, "address or host name to listen on (IPv6: ::1)")
      ->type_name("HOST")
      ->capture_default_str();
  sub->add_option("--advertised-host", o->advertised_host,
                  "host that Metadata and FindCoordinator tell clients (default: --host, or "
                  "127.0.0.1 when --host is 0.0.0.0 or ::)")
      ->type_name("HOST")
      ->check(not_empty("the advertised host"));
  add_number(*sub, "--advertised-port", o->advertised_first_port, 1, 65535,
             "first broker is advertised on P, the next on P+1, ... (default: the ports bound)",
             false);
  sub->add_option("--stdin-eof", o->stdin_eof,
                  "exit when standard input ends: auto (only when it is a pipe or a socket), "
                  "exit, ignore")
      ->check(CLI::IsMember({"auto", "exit", "ignore"}))
      ->capture_default_str();
  add_number(*sub, "--connections-max-idle-ms", o->connections_max_idle_ms, 0, INT32_MAX,
             "close a connection with no traffic and no response owed for this long, a "
             "half-sent frame included (0: never)");
  add_number(*sub, "--max-connections", o->max_connections, 0, 1000000,
             "connections per broker at most; more are closed at once, logged (0: no limit)");
  sub->add_option(
         "--ready-file", o->ready_file,
         "once listening, write the bootstrap list and the HTTP address there (atomically)")
      ->type_name("PATH")
      ->check(not_empty("the ready file"));
  add_number(*sub, "--partitions", o->partitions, 1, 100000, "partitions of auto-created topics");
  add_number(*sub, "--seed", o->seed, 0, LLONG_MAX,
             "seed of the random source behind probabilistic faults");
  sub->add_option(
         "--faults", o->faults_path,
         "fault rules as JSON: one rule, an array of rules, or {\"faults\": [...]}; e.g. {\"api\": "
         "\"Produce\", \"error\": \"NOT_LEADER_OR_FOLLOWER\", \"count\": 3} (the format is "
         "described in "
         "the README)")
      ->type_name("FILE");
  auto* http = sub->add_option_function<std::string>(
                      "--http",
                      [o](const std::string& v) {
                        o->http = parse_http_address(v, o->http_host, o->http_port);
                      },
                      "serve the HTTP control API there (port 0: ephemeral) and print its address "
                      "as the second "
                      "line of standard output; e.g. 127.0.0.1:0")
                   ->type_name("HOST:PORT")
                   ->check(CLI::Validator(
                       [](std::string& v) -> std::string {
                         std::string host;
                         std::uint16_t port = 0;
                         if (parse_http_address(v, host, port)) return {};
                         return "'" + v + "' is not HOST:PORT (e.g. 127.0.0.1:0)";
                       },
                       ""));
  sub->add_option("--http-token", o->http_token,
                  "the API wants `Authorization: Bearer TOKEN` on every request")
      ->type_name("TOKEN")
      ->check(not_empty("the token"))
      ->needs(http);
  sub->add_flag("--quiet", o->quiet, "do not log closed connections to standard error");
  sub->add_flag(
      "--advertise-all-apis", o->advertise_all_apis,
      "ApiVersions lists every API the codec knows (for codec tests); unserved ones still close");
  sub->footer(
      "Starts a mock Kafka cluster and prints its bootstrap list (host:port,...) as the first "
      "line\n"
      "of standard output; serves until SIGINT or SIGTERM, or until standard input (a pipe or a\n"
      "socket) closes, then exits 0.");
  return {sub, [o] {
            if (o->first_port > 0 && o->first_port + o->brokers - 1 > 65535) {
              refuse("--port: " + std::to_string(o->first_port) + " with --brokers " +
                     std::to_string(o->brokers) + " puts the last broker on port " +
                     std::to_string(o->first_port + o->brokers - 1) + ", above 65535");
            }
            if (o->advertised_first_port > 0 && o->advertised_first_port + o->brokers - 1 > 65535) {
              refuse("--advertised-port: " + std::to_string(o->advertised_first_port) +
                     " with --brokers " + std::to_string(o->brokers) +
                     " puts the last broker on port " +
                     std::to_string(o->advertised_first_port + o->brokers - 1) + ", above 65535");
            }
            return run_mock(*o);
          }};
}

command add_produce(CLI::App& app) {
  auto o = std::make_shared<produce_options>();
  auto bootstrap = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("produce", "send standard input's lines to a topic, like kcat -P");
  sub->add_option("--bootstrap", *bootstrap, "bootstrap.servers")->type_name("HOST:PORT[,...]");
  sub->add_option("--topic", o->topic, "the topic to write to")
      ->type_name("T")
      ->required()
      ->check(not_empty("the topic"));
  sub->add_option("--key-separator", o->key_separator,
                  "the line's text before the first C is the key, after it the value; a line "
                  "without C has a "
                  "null key")
      ->type_name("C")
      ->check(not_empty("the separator"));
  auto partition = std::make_shared<std::int32_t>(0);
  add_number(*sub, "--partition", *partition, 0, INT32_MAX,
             "write every record to partition P (default: the partitioner)", false);
  add_settings(*sub, o->settings);
  sub->footer(
      "Sends each line of standard input as one record's value (without its newline), waits\n"
      "until every record is acknowledged or has failed, then exits 0 if all were delivered,\n"
      "1 otherwise (with a count on standard error), 2 on a usage error.");
  return {sub, [o, bootstrap, partition, sub] {
            if (sub->count("--partition") > 0) o->partition = *partition;
            if (!bootstrap->empty()) o->settings["bootstrap.servers"] = *bootstrap;
            if (o->settings.find("bootstrap.servers") == o->settings.end()) {
              refuse("--bootstrap is required (or -X bootstrap.servers=...)");
            }
            return run_produce(*o);
          }};
}

command add_perf(CLI::App& app) {
  auto o = std::make_shared<perf_options>();
  auto bootstrap = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "perf", "measure the producer's throughput and latency (embedded mock without --bootstrap)");
  sub->add_option("--bootstrap", *bootstrap,
                  "a cluster to write to; without it, an embedded 3-broker mock cluster on "
                  "loopback (the topic "
                  "is created with --partitions)")
      ->type_name("HOST:PORT[,...]");
  sub->add_option("--topic", o->topic, "the topic to write to")
      ->type_name("T")
      ->capture_default_str();
  add_number(*sub, "--records", o->records, 1, 1LL << 32, "records to send", false)->required();
  add_number(*sub, "--record-size", o->record_size, 0, 64LL << 20, "bytes of each record's value",
             false)
      ->required();
  add_number(*sub, "--partitions", o->partitions, 1, 10000,
             "partitions of the embedded mock's topic");
  add_number(*sub, "--throughput", o->throughput, 1, 1LL << 40,
             "offer at most R records a second (as Java's perf test); default: as fast as send() "
             "takes them, "
             "where latency is mostly time queued in buffer.memory",
             false);
  sub->add_flag("--no-progress{false}", o->progress, "no progress bar on standard error");
  add_settings(*sub, o->settings);
  sub->footer(
      "Sends N records of S bytes (null keys) as fast as the producer takes them and measures\n"
      "each one from send to acknowledgement. The last line of standard output is one JSON\n"
      "object: records, seconds, records_per_sec, mb_per_sec, latency_ms {p50, p99, p999, max},\n"
      "delivered, failed. Latency is sampled as Java's perf test does: every record up to\n"
      "500,000, else every (N / 500,000)-th record.\n"
      "Exits 0 when every record was delivered, 1 otherwise, 2 on a usage error.");
  return {sub, [o, bootstrap] {
            if (!bootstrap->empty()) o->settings["bootstrap.servers"] = *bootstrap;
            return run_perf(*o);
          }};
}

command add_sim(CLI::App& app) {
  auto o = std::make_shared<sim_options>();
  std::string types;
  for (int i = 0; i < sim::fault_type_count; ++i) {
    types += (i ? ", " : "") + std::string(sim::fault_type_name(static_cast<sim::fault_type>(i)));
  }
  auto* sub = app.add_subcommand(
      "sim",
      "seeded fault-injection simulations of the producer against the mock, checked (JSON last)");
  sub->add_option("--workload", o->workload,
                  "producer (the default): the producer alone; consumers: a consumer group reads "
                  "what it writes")
      ->check(CLI::IsMember({"producer", "consumers"}));
  add_number(*sub, "--seed", o->seed, 0, LLONG_MAX, "first seed");
  add_number(*sub, "--runs", o->runs, 1, 1'000'000'000LL, "number of runs (run i uses seed S+i)");
  sub->add_flag(
      "--trace", o->trace,
      "print each run's scenario and every request, response, fault and report in virtual time");
  sub->add_option_function<std::string>(
         "--exclude",
         [o](const std::string& v) {
           o->exclude_text = v;
           o->excluded = split_commas(v);
         },
         "never draw these fault types (comma-separated): " + types)
      ->type_name("FAULT[,FAULT...]")
      ->check(CLI::Validator(
          [types](std::string& v) -> std::string {
            for (const auto& name : split_commas(v)) {
              bool known = false;
              for (int i = 0; i < sim::fault_type_count; ++i) {
                known = known || sim::fault_type_name(static_cast<sim::fault_type>(i)) == name;
              }
              if (!known) return "'" + name + "' is not a fault type (" + types + ")";
            }
            return {};
          },
          ""));
  sub->footer(
      "Runs N simulated scenarios: a 3-broker mock cluster and the producer core in virtual time,\n"
      "with a workload and a fault schedule drawn from the seed, then checks the partition logs\n"
      "against the delivery reports. Each violation prints its seed and the command that replays\n"
      "it with a trace. The last line of standard output is one JSON object: runs, violations,\n"
      "lost, duplicated, reordered, unexpected_failures, records, acked, failed, virtual_seconds,\n"
      "wall_seconds, runs_per_second, digest (FNV-1a 64 of every run's requests and responses:\n"
      "the same arguments give the same digest).\n"
      "With --workload consumers, members of a consumer group (written with the codec) read the\n"
      "topic while members join, crash, restart and leave, the coordinator moves and group\n"
      "errors fire; once the group settles every member stops cleanly and a second checker\n"
      "reads the logs, the committed offsets and what each member processed. Its JSON adds\n"
      "consumed, reconsumed, generations, members, crashes, restarts, clean_leaves,\n"
      "commits_acked, commits_refused, rebalance_notices, coordinator_changes, not_settled.\n"
      "Exits 0 without violations, 1 with any, 2 on a usage error.");
  return {sub, [o] { return run_sim(*o); }};
}

command add_demo(CLI::App& app) {
  auto o = std::make_shared<demo_options>();
  auto* sub = app.add_subcommand(
      "demo",
      "the card-payment case: 1,000,000 payments through faults on the embedded mock, checked");
  add_number(*sub, "--payments", o->payments, 1, 100000000, "payments to send");
  add_number(*sub, "--cards", o->cards, 1, 100000000, "distinct card numbers");
  add_number(*sub, "--partitions", o->partitions, 1, 1000, "partitions of the payments topic");
  add_number(*sub, "--seed", o->seed, 0, 1LL << 62, "seeds the fault schedule and the producer");
  add_settings(*sub, o->settings);
  sub->footer(
      "The card-payment case: a 3-broker mock cluster on loopback, an idempotent producer\n"
      "(acks=all) sending N payments keyed by card number while the cluster injects errors,\n"
      "lost acknowledgements and latency and moves every leader halfway through; then the\n"
      "partition logs are read back. Prints payments acknowledged, lost, duplicated and out\n"
      "of order per card, records per second and latency; the last line of standard output\n"
      "is the same as one JSON object. Exits 0 when nothing was lost, duplicated, reordered\n"
      "or failed, 1 otherwise, 2 on a usage error.");
  return {sub, [o] { return run_demo(*o); }};
}

// Exit code 2 and one line naming what is wrong, then where to look.
int usage_error(const CLI::App& app, const std::string& what) {
  const auto chosen = app.get_subcommands();
  const std::string name = chosen.empty() ? "kwire" : "kwire " + chosen.front()->get_name();
  std::cerr << name << ": " << what << "\nRun '" << name << " --help' for the options.\n";
  return 2;
}

}  // namespace
}  // namespace kwire::tools

int main(int argc, char** argv) {
  using namespace kwire::tools;
  CLI::App app("kwire: a toolkit for the Kafka wire protocol", "kwire");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(kwire::version), "print kwire's version and exit");
  app.get_formatter()->column_width(34);
  app.footer("'kwire <command> --help' describes one command.");
  const std::vector<command> commands = {add_schema(app),  add_mock(app), add_decode(app),
                                         add_produce(app), add_demo(app), add_perf(app),
                                         add_sim(app)};
  // CLI11 would call an unknown command a missing one.
  const auto known = [&](const std::string& name) {
    return std::any_of(commands.begin(), commands.end(),
                       [&](const command& c) { return c.app->get_name() == name; });
  };
  if (argc >= 2 && argv[1][0] != '-' && !known(argv[1])) {
    return usage_error(app, std::string("unknown command '") + argv[1] + "'");
  }
  try {
    app.parse(argc, argv);
    for (const auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // the chosen subcommand's help, on standard output, exit 0
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);  // the version, on standard output, exit 0
  } catch (const CLI::ParseError& e) {
    if (argc < 2) {
      std::cerr << app.help();
      return 2;
    }
    return usage_error(app, e.what());
  }
  return 2;
}
