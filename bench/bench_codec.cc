// Codec speed, each figure beside memcpy of the same number of bytes in the
// same run: ProduceRequest v3 and v11 carrying one 1 MiB batch (opaque bytes),
// and a Metadata response with 1,000 partitions. bench/ratios.py turns the
// JSON output into ratios to memcpy.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "kwire/protocol/messages/metadata.hpp"
#include "kwire/protocol/messages/produce.hpp"

namespace {

kwire::produce_request make_produce(std::size_t batch_bytes) {
  kwire::produce_request req;
  req.acks = -1;
  req.timeout_ms = 30000;
  auto& topic = req.topic_data.emplace_back();
  topic.name = "payments";
  auto& part = topic.partition_data.emplace_back();
  part.index = 0;
  std::vector<std::uint8_t> batch(batch_bytes);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<std::uint8_t>(i * 131);
  part.records = kwire::record_set(std::move(batch));
  return req;
}

kwire::metadata_response make_metadata(int topics, int partitions_each) {
  kwire::metadata_response resp;
  for (int b = 0; b < 3; ++b) {
    auto& broker = resp.brokers.emplace_back();
    broker.node_id = b;
    broker.host = "broker-" + std::to_string(b) + ".kafka.internal";
    broker.port = 9092;
    broker.rack = "rack-" + std::to_string(b);
  }
  resp.cluster_id = "kwire-bench-cluster";
  resp.controller_id = 0;
  for (int t = 0; t < topics; ++t) {
    auto& topic = resp.topics.emplace_back();
    topic.name = "topic-" + std::to_string(t);
    topic.topic_id[15] = static_cast<std::uint8_t>(t);
    for (int p = 0; p < partitions_each; ++p) {
      auto& part = topic.partitions.emplace_back();
      part.partition_index = p;
      part.leader_id = p % 3;
      part.leader_epoch = 7;
      part.replica_nodes = {p % 3, (p + 1) % 3, (p + 2) % 3};
      part.isr_nodes = part.replica_nodes;
    }
  }
  return resp;
}

template <class Message>
void encode_loop(benchmark::State& state, const Message& m, std::int16_t version) {
  std::vector<std::uint8_t> out;
  out.reserve(m.encoded_size(version));
  for (auto _ : state) {
    out.clear();
    kwire::writer w(out);
    m.encode(w, version);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * out.size()));
  state.counters["bytes"] = static_cast<double>(out.size());
}

template <class Message>
void decode_loop(benchmark::State& state, const Message& m, std::int16_t version) {
  std::vector<std::uint8_t> bytes;
  kwire::writer w(bytes);
  m.encode(w, version);
  for (auto _ : state) {
    kwire::reader r(bytes);
    auto res = Message::decode(r, version);
    if (!res) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(res);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.counters["bytes"] = static_cast<double>(bytes.size());
}

void memcpy_loop(benchmark::State& state, std::size_t n) {
  std::vector<std::uint8_t> src(n, 7), dst(n);
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["bytes"] = static_cast<double>(n);
}

const kwire::produce_request& produce_1mib() {
  static const auto m = make_produce(1 << 20);
  return m;
}
const kwire::metadata_response& metadata_1000() {
  static const auto m = make_metadata(10, 100);
  return m;
}

void BM_memcpy_produce_v3(benchmark::State& s) { memcpy_loop(s, produce_1mib().encoded_size(3)); }
void BM_encode_produce_v3(benchmark::State& s) { encode_loop(s, produce_1mib(), 3); }
void BM_decode_produce_v3(benchmark::State& s) { decode_loop(s, produce_1mib(), 3); }
void BM_memcpy_produce_v11(benchmark::State& s) { memcpy_loop(s, produce_1mib().encoded_size(11)); }
void BM_encode_produce_v11(benchmark::State& s) { encode_loop(s, produce_1mib(), 11); }
void BM_decode_produce_v11(benchmark::State& s) { decode_loop(s, produce_1mib(), 11); }
void BM_memcpy_metadata_v12(benchmark::State& s) {
  memcpy_loop(s, metadata_1000().encoded_size(12));
}
void BM_encode_metadata_v12(benchmark::State& s) { encode_loop(s, metadata_1000(), 12); }
void BM_decode_metadata_v12(benchmark::State& s) { decode_loop(s, metadata_1000(), 12); }

}  // namespace

BENCHMARK(BM_memcpy_produce_v3);
BENCHMARK(BM_encode_produce_v3);
BENCHMARK(BM_decode_produce_v3);
BENCHMARK(BM_memcpy_produce_v11);
BENCHMARK(BM_encode_produce_v11);
BENCHMARK(BM_decode_produce_v11);
BENCHMARK(BM_memcpy_metadata_v12);
BENCHMARK(BM_encode_metadata_v12);
BENCHMARK(BM_decode_metadata_v12);

BENCHMARK_MAIN();
