// Writes the seed corpus of fuzz_message: for every API, direction and
// version, one message with random field values (fixed seed), prefixed with
// the three selector bytes fuzz_message reads. Usage: make_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "kwire/protocol/api.hpp"
#include "random_fill.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  std::mt19937_64 rng(1);
  const auto apis = kwire::all_apis();
  int written = 0;
  for (std::size_t i = 0; i < apis.size(); ++i) {
    const auto& api = apis[i];
    for (int direction = 0; direction < 2; ++direction) {
      const auto& ops = direction ? *api.response : *api.request;
      for (int v = api.min_version; v <= api.max_version; ++v) {
        kwire::any_message m(ops);
        kwire::testing::random_fill(ops, m.get(), static_cast<std::int16_t>(v), rng);
        std::vector<std::uint8_t> out = {static_cast<std::uint8_t>(i),
                                         static_cast<std::uint8_t>(v - api.min_version),
                                         static_cast<std::uint8_t>(direction)};
        kwire::writer w(out);
        m.encode(w, static_cast<std::int16_t>(v));
        char name[96];
        std::snprintf(name, sizeof name, "%s-v%d", std::string(ops.name).c_str(), v);
        std::ofstream(dir / name, std::ios::binary)
            .write(reinterpret_cast<const char*>(out.data()),
                   static_cast<std::streamsize>(out.size()));
        ++written;
      }
    }
  }
  std::printf("wrote %d seeds to %s\n", written, dir.string().c_str());
  return 0;
}
