#include <cstdio>
#include <cstring>
#include <iostream>

#include "kwire/protocol/api.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {

int run_schema(int argc, char** argv) {
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << "usage: kwire schema [--json]\n"
                   "  Without options: one line per API (key, name, versions, first flexible version).\n"
                   "  --json: every request and response definition the codec was generated from,\n"
                   "          as one JSON array in the shape of Kafka's message definitions.\n";
      return 0;
    } else {
      std::cerr << "kwire schema: unknown option '" << argv[i] << "'\n";
      return 2;
    }
  }
  if (json) {
    const auto text = schema_json();
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  std::printf("%-5s %-36s %-9s %s\n", "key", "name", "versions", "flexible");
  for (const auto& api : all_apis()) {
    char versions[16];
    std::snprintf(versions, sizeof versions, "%d-%d", api.min_version, api.max_version);
    char flexible[16] = "none";
    if (api.first_flexible_version >= 0) {
      std::snprintf(flexible, sizeof flexible, "%d+", api.first_flexible_version);
    }
    std::printf("%-5d %-36.*s %-9s %s\n", api.key, static_cast<int>(api.name.size()),
                api.name.data(), versions, flexible);
  }
  return 0;
}

}  // namespace kwire::tools
