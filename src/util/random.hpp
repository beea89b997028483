#pragma once

#include <cstdint>
#include <random>

#include "core/retry.hpp"

/// The real source of randomness for the core's jittered decisions (backoff, check intervals).
namespace railwatch::util {

/// Uniform numbers in [0, 1) from a 64-bit Mersenne Twister seeded by std::random_device, or by
/// a fixed seed for reproducible runs (the simulator, benchmarks). Not thread-safe: give each
/// thread its own.
class SystemRandom final : public core::RandomSource {
  public:
    SystemRandom();
    explicit SystemRandom(std::uint64_t seed);
    double NextUnit() override;

  private:
    std::mt19937_64 generator_;
    std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

}  // namespace railwatch::util
