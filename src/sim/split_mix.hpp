#pragma once

#include <cstdint>

namespace railwatch::sim {

/// SplitMix64's output function: a well-spread 64-bit hash of `x`, the simulator's source of
/// reproducible pseudo-random numbers from a seed and a counter. Pure; thread-safe.
constexpr std::uint64_t SplitMix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

}  // namespace railwatch::sim
