#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace railwatch::monitor {

/// A bit per hash value, set for each key of a set kept beside it: a key whose bit is clear is
/// surely not in the set, so a look-up that would walk the set's nodes only to find nothing (in a
/// hash map of 100,000 keys, a cache miss or more) is skipped. At kBitsPerKey bits per key held,
/// about one key in 64 that is not held passes anyway (and is looked up). A key is taken out only
/// by filling the filter again from the set: a bit left set costs a look-up,
/// never a miss (Fill). Hashes are the set's own (its hash_function()), so both agree on every key.
///
/// Thread-safety: none; the owner guards it with its set.
class HashFilter {
  public:
    static constexpr std::size_t kBitsPerKey = 64;
    static constexpr std::size_t kMinBits = 4096;

    HashFilter() { Reset(0); }

    /// Clears every bit, sized for `keys` keys.
    void Reset(std::size_t keys) {
        bits_ = std::bit_ceil(std::max(keys * kBitsPerKey, kMinBits));
        words_.assign(bits_ / 64, 0);
    }
    /// Reset for the keys of `map` (a hash map, or multimap, of the kept set) and each of them
    /// added, hashed by the map's own hash_function().
    template <typename Map>
    void Fill(const Map& map) {
        Reset(map.size());
        for (const auto& entry : map)
            Add(map.hash_function()(entry.first));
    }
    /// Whether `keys` keys are more than it was sized for (Fill it again).
    bool Outgrown(std::size_t keys) const { return keys * kBitsPerKey > bits_; }

    void Add(std::size_t hash) {
        const std::size_t b = hash & (bits_ - 1);
        words_[b / 64] |= std::uint64_t{1} << (b % 64);
    }
    /// False: no key of this hash was added since the last Reset.
    bool MayHold(std::size_t hash) const {
        const std::size_t b = hash & (bits_ - 1);
        return (words_[b / 64] >> (b % 64) & 1) != 0;
    }

  private:
    std::size_t bits_ = 0;  // a power of two
    std::vector<std::uint64_t> words_;
};

}  // namespace railwatch::monitor
