// The `kwire` command line: one program, one subcommand per job.
#include <cstring>
#include <iostream>
#include <string_view>

#include "kwire/tools/commands.hpp"

namespace {

struct command {
  std::string_view name;
  std::string_view summary;
  int (*run)(int argc, char** argv);
};

constexpr command commands[] = {
    {"schema", "print the API list, or every definition as JSON (--json)", kwire::tools::run_schema},
    {"mock", "serve a mock Kafka cluster on loopback (prints its bootstrap list first)", kwire::tools::run_mock},
    {"decode", "print size-prefixed request or response frames as JSON lines", kwire::tools::run_decode},
    {"produce", "send standard input's lines to a topic, like kcat -P", kwire::tools::run_produce},
    {"demo", "the card-payment case: 1,000,000 payments through faults on the embedded mock, checked", kwire::tools::run_demo},
    {"perf", "measure the producer's throughput and latency (embedded mock without --bootstrap)", kwire::tools::run_perf},
    {"sim", "seeded fault-injection simulations of the producer against the mock, checked (JSON last)", kwire::tools::run_sim},
};

void usage(std::ostream& os) {
  os << "usage: kwire <command> [options]\n\ncommands:\n";
  for (const auto& c : commands) os << "  " << c.name << "\t" << c.summary << "\n";
  os << "\n'kwire <command> --help' describes one command.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : commands) {
    if (c.name == argv[1]) return c.run(argc - 1, argv + 1);
  }
  std::cerr << "kwire: unknown command '" << argv[1] << "'\n";
  usage(std::cerr);
  return 2;
}
