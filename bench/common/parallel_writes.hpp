#pragma once

// Shared by the seeding helpers of bench/ (load_seed_instances, engine_seed_instances): store
// writes spread over callers so that the store's writer groups them into transactions.

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <thread>
#include <vector>

#include "util/result.hpp"

namespace railwatch::bench {

/// Calls `write(n)` for every n in [0, count) from `threads` threads, each taking the next n.
/// Stops every thread at the first error, which it prints as "<program>: <error>". Returns
/// whether every write succeeded. `write` must be callable from several threads at once.
inline bool WriteInParallel(const char* program, int threads, std::size_t count,
                            const std::function<util::Result<void>(std::size_t)>& write) {
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> workers;
    workers.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (std::size_t n = next++; n < count && !failed; n = next++) {
                if (auto written = write(n); !written) {
                    std::fprintf(stderr, "%s: %s\n", program, written.error().ToString().c_str());
                    failed = true;
                    return;
                }
            }
        });
    }
    for (auto& w : workers)
        w.join();
    return !failed;
}

}  // namespace railwatch::bench
