// `kwire schema`: the API list, or every definition the codec was generated from.
#include <cstdio>
#include <iostream>

#include "kwire/protocol/api.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {

int run_schema(const schema_options& options) {
  const bool json = options.json;
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
