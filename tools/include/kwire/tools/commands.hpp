// Entry points of the `kwire` subcommands. Each takes its own argv (argv[0]
// is the subcommand's name) and returns the process exit code.
#pragma once

namespace kwire::tools {

/// `kwire schema [--json]`: the API list, or every definition as JSON.
int run_schema(int argc, char** argv);

/// `kwire decode --requests FILE [--responses FILE]`: frames as JSON lines.
int run_decode(int argc, char** argv);

/// `kwire mock`: a mock cluster on loopback until a signal or the end of standard input.
int run_mock(int argc, char** argv);

/// `kwire produce --bootstrap B --topic T`: standard input's lines as records, like `kcat -P`.
int run_produce(int argc, char** argv);

/// `kwire perf --records N --record-size S [--bootstrap B]`: throughput and latency, JSON last.
int run_perf(int argc, char** argv);

/// `kwire sim --seed S --runs N [--trace]`: simulated runs under faults, each checked; JSON last.
int run_sim(int argc, char** argv);

/// `kwire demo`: card payments through injected faults on the embedded mock, read back and checked.
int run_demo(int argc, char** argv);

}  // namespace kwire::tools
