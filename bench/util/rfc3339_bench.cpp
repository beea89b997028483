// Cost of reading RFC 3339 timestamps: every status check parses three (createdAt, updatedAt,
// statusUpdatedAt), every log line one.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "util/rfc3339.hpp"

namespace railwatch::util {
namespace {

// 1,024 distinct times over a few days, as Railway's answers carry them.
std::vector<std::string> Texts(TimePrecision precision) {
    std::vector<std::string> out;
    core::Timestamp t = *ParseRfc3339("2026-12-07T08:00:00Z");
    for (int i = 0; i < 1024; ++i) {
        out.push_back(FormatRfc3339(t, precision));
        t += core::Duration(317'000'123'457);  // 317 s and a fraction: 3.8 days in all
    }
    return out;
}

void BM_ParseRfc3339(benchmark::State& state) {
    const std::vector<std::string> texts = Texts(static_cast<TimePrecision>(state.range(0)));
    std::size_t k = 0;
    for (auto _ : state) {
        auto t = ParseRfc3339(texts[k++ & 1023]);
        benchmark::DoNotOptimize(t);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseRfc3339)
    ->Arg(static_cast<int>(TimePrecision::kSeconds))
    ->Arg(static_cast<int>(TimePrecision::kMillis))
    ->Arg(static_cast<int>(TimePrecision::kNanos));

}  // namespace
}  // namespace railwatch::util
