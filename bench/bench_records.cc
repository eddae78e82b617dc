// Record batch throughput against memcpy of the same bytes: building a 1 MiB
// batch of 100-byte records with its CRC, parsing it with the CRC checked and
// every record visited, CRC-32C alone, and each codec's compress and
// decompress of the batch's records. Every benchmark reports bytes per
// second over the same 1 MiB, so the ratios to BM_memcpy read off directly.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kwire/protocol/compression.hpp"
#include "kwire/protocol/crc32c.hpp"
#include "kwire/protocol/record_batch.hpp"

namespace {

constexpr std::size_t batch_bytes = std::size_t{1} << 20;
constexpr std::size_t value_size = 100;

// JSON-like 100-byte values: compressible the way event payloads are.
const std::vector<std::string>& values() {
  static const std::vector<std::string> pool = [] {
    std::mt19937 rng(42);
    const char* names[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace"};
    const char* actions[] = {"login", "logout", "purchase", "view", "click", "search"};
    std::vector<std::string> v;
    for (int i = 0; i < 4096; ++i) {
      std::string s = R"({"user":")" + std::string(names[rng() % 7]) + R"(","action":")" +
                      actions[rng() % 6] + R"(","amount":)" + std::to_string(rng() % 100000) +
                      R"(,"ts":)" + std::to_string(1700000000000ull + rng() % 1000000) +
                      R"(,"session":")";
      while (s.size() < value_size - 2) s += static_cast<char>('a' + rng() % 26);
      s += "\"}";
      v.push_back(s);
    }
    return v;
  }();
  return pool;
}

const std::vector<kwire::bytes_view>& value_views() {
  static const std::vector<kwire::bytes_view> views = [] {
    std::vector<kwire::bytes_view> v;
    for (const auto& s : values()) v.push_back(kwire::bytes_of(s));
    return v;
  }();
  return views;
}

// Appends records until the batch reaches batch_bytes, as a producer would.
void fill(kwire::record_batch_builder& builder) {
  const kwire::bytes_view* pool = value_views().data();
  constexpr std::size_t pool_mask = 4095;  // the pool holds 4096 values
  std::size_t i = 0;
  while (builder.size_in_bytes() + value_size + 8 <= batch_bytes) {
    (void)builder.append(1700000000000 + static_cast<std::int64_t>(i), std::nullopt,
                         pool[i & pool_mask]);
    ++i;
  }
}

const std::vector<std::uint8_t>& batch() {
  static const std::vector<std::uint8_t> b = [] {
    kwire::record_batch_builder builder({}, batch_bytes);
    fill(builder);
    return std::move(builder.finish()).value();
  }();
  return b;
}

kwire::bytes_view records_region() {
  return kwire::bytes_view(batch()).subspan(kwire::record_batch_header_size);
}

void BM_memcpy(benchmark::State& state) {
  const auto& src = batch();
  std::vector<std::uint8_t> dst(src.size());
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * src.size()));
}
BENCHMARK(BM_memcpy);

// A fresh buffer for every batch: allocation, page faults and zero-filling included.
void BM_build_batch(benchmark::State& state) {
  std::size_t size = 0, records = 0;
  for (auto _ : state) {
    kwire::record_batch_builder builder({}, batch_bytes);
    fill(builder);
    records = static_cast<std::size_t>(builder.record_count());
    auto out = builder.finish();
    size = out->size();
    benchmark::DoNotOptimize(out->data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.counters["records"] = static_cast<double>(records);
}
BENCHMARK(BM_build_batch);

// The buffer of each finished batch is handed to the next builder, as a
// producer that pools its batch buffers (Java's BufferPool) does.
void BM_build_batch_pooled(benchmark::State& state) {
  std::size_t size = 0;
  std::vector<std::uint8_t> storage;
  for (auto _ : state) {
    kwire::record_batch_builder builder({}, batch_bytes, std::move(storage));
    fill(builder);
    auto out = builder.finish();
    size = out->size();
    benchmark::DoNotOptimize(out->data());
    storage = std::move(out).value();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
}
BENCHMARK(BM_build_batch_pooled);

void BM_parse_batch(benchmark::State& state) {
  const auto& b = batch();
  for (auto _ : state) {
    auto read = kwire::read_record_batch(b);
    auto cursor = read->records();
    std::size_t total = 0;
    for (const kwire::record_view& r : cursor) total += r.value->size() + r.headers.size();
    if (!cursor.ok()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_parse_batch);

void BM_crc32c_hardware(benchmark::State& state) {
  if (!kwire::crc32c_hardware_available()) {
    state.SkipWithError("no CRC-32C instruction on this CPU");
    return;
  }
  const auto& b = batch();
  for (auto _ : state) benchmark::DoNotOptimize(kwire::crc32c_hardware(b));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_crc32c_hardware);

void BM_crc32c_portable(benchmark::State& state) {
  const auto& b = batch();
  for (auto _ : state) benchmark::DoNotOptimize(kwire::crc32c_portable(b));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_crc32c_portable);

void BM_compress(benchmark::State& state) {
  const auto codec = static_cast<kwire::compression>(state.range(0));
  state.SetLabel(std::string(kwire::to_string(codec)));
  const auto in = records_region();
  std::vector<std::uint8_t> out;
  out.reserve(kwire::max_compressed_size(codec, in.size()));
  for (auto _ : state) {
    out.clear();
    if (kwire::compress(codec, in, out)) state.SkipWithError("compress failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(out.size());
}
BENCHMARK(BM_compress)->DenseRange(1, 4)->Unit(benchmark::kMicrosecond);

void BM_decompress(benchmark::State& state) {
  const auto codec = static_cast<kwire::compression>(state.range(0));
  state.SetLabel(std::string(kwire::to_string(codec)));
  const auto in = records_region();
  std::vector<std::uint8_t> packed;
  (void)kwire::compress(codec, in, packed);
  std::vector<std::uint8_t> out;
  out.reserve(in.size() + 1);
  for (auto _ : state) {
    out.clear();
    auto n = kwire::decompress(codec, packed, out);
    if (!n || *n != in.size()) state.SkipWithError("decompress failed");
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in.size()));
  state.counters["ratio"] = static_cast<double>(in.size()) / static_cast<double>(packed.size());
}
BENCHMARK(BM_decompress)->DenseRange(1, 4)->Unit(benchmark::kMicrosecond);

// Parsing a compressed batch end to end: decompress, CRC, every record.
void BM_parse_compressed_batch(benchmark::State& state) {
  const auto codec = static_cast<kwire::compression>(state.range(0));
  state.SetLabel(std::string(kwire::to_string(codec)));
  kwire::batch_builder_options options;
  options.codec = codec;
  kwire::record_batch_builder builder(options, batch_bytes);
  fill(builder);
  const auto b = std::move(builder.finish()).value();
  for (auto _ : state) {
    auto read = kwire::read_record_batch(b);
    auto cursor = read->records();
    std::size_t total = 0;
    for (const kwire::record_view& r : cursor) total += r.value->size();
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * batch().size()));
}
BENCHMARK(BM_parse_compressed_batch)->DenseRange(1, 4)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
