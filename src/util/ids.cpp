#include "util/ids.hpp"

#include <random>

namespace railwatch::util {

std::string NewId(std::string_view prefix) {
    static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";
    thread_local std::mt19937_64 generator{[] {
        std::random_device device;
        std::seed_seq seq{device(), device(), device(), device()};
        return std::mt19937_64(seq);
    }()};
    std::string id(prefix);
    id += '_';
    std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
    for (int i = 0; i < 20; ++i)
        id += kAlphabet[pick(generator)];
    return id;
}

}  // namespace railwatch::util
