// The simulation's one random source: xoshiro256** seeded through splitmix64.
//
// Written here rather than taken from <random> so that a seed gives the same
// numbers with every standard library (the distributions of <random> are not
// specified bit for bit). Thread-safety: none; one simulation, one thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kwire::sim {

/// splitmix64: one step. Used to spread a seed over xoshiro's state and to
/// derive independent seeds (cluster, producer) from a run's seed.
constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// xoshiro256** (Blackman and Vigna): small, fast, and good enough for
/// choosing faults. Same seed, same sequence, on every platform.
class random_source {
 public:
  explicit constexpr random_source(std::uint64_t seed) noexcept {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  constexpr std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, bound); 0 when bound is 0. Rejects the few values
  /// that would bias the modulo.
  constexpr std::uint64_t below(std::uint64_t bound) noexcept {
    if (bound == 0) return 0;
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
      const std::uint64_t r = next();
      if (r >= threshold) return r % bound;
    }
  }

  /// Uniform in [lo, hi] (inclusive).
  constexpr std::int64_t between(std::int64_t lo, std::int64_t hi) noexcept {
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  /// True with probability `percent` / 100.
  constexpr bool chance(unsigned percent) noexcept { return below(100) < percent; }

  /// Uniform in [0, 1), from 53 bits.
  constexpr double unit() noexcept {
    return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0);
  }

  /// One element of a non-empty array.
  template <class T, std::size_t N>
  constexpr const T& pick(const T (&items)[N]) noexcept {
    return items[below(N)];
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t s_[4]{};
};

}  // namespace kwire::sim
