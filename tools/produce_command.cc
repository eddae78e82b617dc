// `kwire produce`: standard input's lines as records, like `kcat -P`.
#include <atomic>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include "kwire/producer/producer.hpp"
#include "kwire/tools/commands.hpp"

namespace kwire::tools {

int run_produce(const produce_options& options) {
  const auto& settings = options.settings;
  const auto& topic = options.topic;
  const auto& separator = options.key_separator;
  const auto partition = options.partition;
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
    std::cerr << "kwire produce: " << failed.load() << " of " << sent
              << " records failed (first error: " << first_error << ")\n";
    return 1;
  }
  return 0;
}

}  // namespace kwire::tools
