#include "util/random.hpp"

namespace railwatch::util {

SystemRandom::SystemRandom()
    : generator_([] {
          std::random_device device;
          std::seed_seq seq{device(), device(), device(), device()};
          return std::mt19937_64(seq);
      }()) {}

SystemRandom::SystemRandom(std::uint64_t seed) : generator_(seed) {}

double SystemRandom::NextUnit() {
    const double value = unit_(generator_);
    // uniform_real_distribution may return its upper bound through rounding; keep [0, 1).
    return value < 1.0 ? value : 0.0;
}

}  // namespace railwatch::util
