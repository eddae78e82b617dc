// `kwire produce`: standard input's lines as records, like `kcat -P`.
#include <atomic>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "kwire/producer/producer.hpp"
#include "kwire/tools/commands.hpp"
#include "kwire/tools/options.hpp"

namespace kwire::tools {
namespace {

constexpr const char* produce_usage =
    "usage: kwire produce --bootstrap HOST:PORT[,...] --topic T [--key-separator C] [-X key=value]...\n"
    "  Sends each line of standard input as one record's value (without its newline),\n"
    "  waits until every record is acknowledged or has failed, then exits 0 if all were\n"
    "  delivered, 1 otherwise (with a count on standard error), 2 on a usage error.\n"
    "  --bootstrap B        bootstrap.servers\n"
    "  --topic T            the topic to write to\n"
    "  --key-separator C    the line's text before the first C is the key, after it the value;\n"
    "                       a line without C has a null key\n"
    "  --partition P        write every record to partition P (default: the partitioner)\n"
    "  -X key=value         any producer setting by the Java producer's name (e.g. -X linger.ms=5)\n";

}  // namespace

int run_produce(int argc, char** argv) {
  std::map<std::string, std::string> settings;
  std::string topic;
  std::string separator;
  std::optional<std::int32_t> partition;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << produce_usage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "kwire produce: " << (arg.starts_with("-") ? arg + " needs a value" : "unexpected '" + arg + "'")
                << "\n" << produce_usage;
      return 2;
    }
    const std::string value = argv[++i];
    if (arg == "--bootstrap") {
      settings["bootstrap.servers"] = value;
    } else if (arg == "--topic") {
      topic = value;
    } else if (arg == "--key-separator") {
      if (value.empty()) {
        std::cerr << "kwire produce: --key-separator must not be empty\n";
        return 2;
      }
      separator = value;
    } else if (arg == "--partition") {
      long long p = 0;
      if (!parse_integer(value, 0, INT32_MAX, p)) {
        std::cerr << "kwire produce: --partition: '" << value << "' is not a partition number\n";
        return 2;
      }
      partition = static_cast<std::int32_t>(p);
    } else if (arg == "-X") {
      if (!parse_setting(value, settings)) {
        std::cerr << "kwire produce: -X wants key=value, got '" << value << "'\n";
        return 2;
      }
    } else {
      std::cerr << "kwire produce: unknown option '" << arg << "'\n" << produce_usage;
      return 2;
    }
  }
  if (settings.find("bootstrap.servers") == settings.end() || topic.empty()) {
    std::cerr << "kwire produce: --bootstrap and --topic are required\n" << produce_usage;
    return 2;
  }

  std::optional<producer> p;
  try {
    p.emplace(settings);
  } catch (const std::invalid_argument& e) {
    std::cerr << "kwire produce: " << e.what() << "\n";
    return 2;
  }

  std::atomic<std::uint64_t> failed{0};
  std::mutex first_error_mutex;
  std::string first_error;
  auto on_delivery = [&](const record_metadata&, std::error_code ec) {
    if (!ec) return;
    if (failed.fetch_add(1) == 0) {
      std::lock_guard lock(first_error_mutex);
      first_error = ec.message();
    }
  };

  std::uint64_t sent = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    nullable_bytes_view key;
    std::string_view value = line;
    if (!separator.empty()) {
      const auto at = line.find(separator);
      if (at != std::string::npos) {
        key = bytes_of(std::string_view(line).substr(0, at));
        value = std::string_view(line).substr(at + separator.size());
      }
    }
    p->send({topic, partition, std::nullopt, key, bytes_of(value), {}}, on_delivery);
    ++sent;
  }
  p->flush();
  p->close();
  if (failed > 0) {
    std::lock_guard lock(first_error_mutex);
    std::cerr << "kwire produce: " << failed.load() << " of " << sent << " records failed (first error: "
              << first_error << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace kwire::tools
