#include "kwire/producer/partitioner.hpp"

namespace kwire {

std::int32_t murmur2(bytes_view data) noexcept {
  const std::uint32_t seed = 0x9747b28cu;
  const std::uint32_t m = 0x5bd1e995u;
  const int r = 24;
  const std::size_t length = data.size();
  std::uint32_t h = seed ^ static_cast<std::uint32_t>(length);
  const std::size_t length4 = length / 4;
  for (std::size_t i = 0; i < length4; ++i) {
    const std::size_t i4 = i * 4;
    // Little-endian 4-byte groups, as Java assembles them from signed bytes masked to 0xff.
    std::uint32_t k = static_cast<std::uint32_t>(data[i4]) |
                      (static_cast<std::uint32_t>(data[i4 + 1]) << 8) |
                      (static_cast<std::uint32_t>(data[i4 + 2]) << 16) |
                      (static_cast<std::uint32_t>(data[i4 + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = length4 * 4;
  switch (length % 4) {
    case 3:
      h ^= static_cast<std::uint32_t>(data[tail + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<std::uint32_t>(data[tail + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<std::uint32_t>(data[tail]);
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

std::int32_t sticky_partitioner::pick(std::int32_t num_partitions, std::int32_t avoid) {
  if (num_partitions <= 1) return 0;
  if (avoid < 0 || avoid >= num_partitions)
    return static_cast<std::int32_t>(random_() % static_cast<std::uint64_t>(num_partitions));
  // Uniform among the other partitions.
  const auto r =
      static_cast<std::int32_t>(random_() % static_cast<std::uint64_t>(num_partitions - 1));
  return r >= avoid ? r + 1 : r;
}

std::int32_t sticky_partitioner::partition(std::string_view topic, const nullable_bytes_view& key,
                                           std::int32_t num_partitions) {
  if (key) return murmur2_partition(*key, num_partitions);
  auto it = sticky_.find(topic);
  if (it == sticky_.end()) it = sticky_.emplace(std::string(topic), pick(num_partitions, -1)).first;
  if (it->second >= num_partitions) it->second = pick(num_partitions, -1);
  return it->second;
}

void sticky_partitioner::on_batch_complete(std::string_view topic, std::int32_t partition,
                                           std::int32_t num_partitions) {
  auto it = sticky_.find(topic);
  if (it != sticky_.end() && it->second == partition) it->second = pick(num_partitions, partition);
}

std::int32_t round_robin_partitioner::partition(std::string_view topic, const nullable_bytes_view&,
                                                std::int32_t num_partitions) {
  auto it = next_.find(topic);
  if (it == next_.end()) it = next_.emplace(std::string(topic), 0u).first;
  return static_cast<std::int32_t>(it->second++ % static_cast<std::uint32_t>(num_partitions));
}

}  // namespace kwire
