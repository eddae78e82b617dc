// Partitioners: where a record goes when it names no partition.
//
// The default is Java's: murmur2 of the key bytes for keyed records (the same
// function as librdkafka's murmur2_random partitioner), a uniform sticky
// partition for null keys. Partitioners are called from the core only (one
// thread); they need not be thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <string_view>

#include "kwire/protocol/record_batch.hpp"

namespace kwire {

/// Java's Utils.murmur2: MurmurHash2, 32-bit, seed 0x9747b28c, as a signed int.
std::int32_t murmur2(bytes_view data) noexcept;

/// Java's Utils.toPositive: clears the sign bit (not abs()).
inline std::int32_t to_positive(std::int32_t v) noexcept { return v & 0x7fffffff; }

/// The partition Java's default partitioner picks for a non-null key.
inline std::int32_t murmur2_partition(bytes_view key, std::int32_t num_partitions) noexcept {
  return to_positive(murmur2(key)) % num_partitions;
}

/// The interface for user-defined partitioners.
class partitioner {
 public:
  virtual ~partitioner() = default;
  /// The partition for a record, in [0, num_partitions). `key` is null for
  /// records without a key.
  virtual std::int32_t partition(std::string_view topic, const nullable_bytes_view& key,
                                 std::int32_t num_partitions) = 0;
  /// Told when a batch for `partition` of `topic` is closed (sent or full).
  virtual void on_batch_complete(std::string_view topic, std::int32_t partition,
                                 std::int32_t num_partitions) {
    (void)topic, (void)partition, (void)num_partitions;
  }
};

/// Java's default: murmur2 for keys; for null keys one partition per topic,
/// kept until a batch for it completes, then another chosen uniformly at
/// random among the others (seeded, so runs replay).
class sticky_partitioner final : public partitioner {
 public:
  explicit sticky_partitioner(std::uint64_t seed = 0) : random_(seed) {}
  std::int32_t partition(std::string_view topic, const nullable_bytes_view& key,
                         std::int32_t num_partitions) override;
  void on_batch_complete(std::string_view topic, std::int32_t partition,
                         std::int32_t num_partitions) override;

 private:
  std::int32_t pick(std::int32_t num_partitions, std::int32_t avoid);
  std::map<std::string, std::int32_t, std::less<>> sticky_;
  std::mt19937_64 random_;
};

/// Java's RoundRobinPartitioner: each topic's records go to partitions in
/// turn, keys ignored.
class round_robin_partitioner final : public partitioner {
 public:
  std::int32_t partition(std::string_view topic, const nullable_bytes_view& key,
                         std::int32_t num_partitions) override;

 private:
  std::map<std::string, std::uint32_t, std::less<>> next_;
};

}  // namespace kwire
