// Cost of updating metrics on hot paths (increments from several threads) and of rendering
// /metrics for a large registry.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "util/metrics.hpp"

namespace railwatch::util {
namespace {

// One counter series shared by every benchmark thread: the worst case, every increment contends
// for the same cache line.
void BM_CounterIncrementShared(benchmark::State& state) {
    static MetricsRegistry registry;
    static Counter& counter = registry.AddCounter("bench_shared_total", "x").Get();
    for (auto _ : state)
        counter.Increment();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrementShared)->Threads(1)->Threads(2)->UseRealTime();

// Each thread increments its own series of one family (what per-label counters look like).
void BM_CounterIncrementPerThreadSeries(benchmark::State& state) {
    static MetricsRegistry registry;
    static CounterFamily& family = registry.AddCounter("bench_per_thread_total", "x", {"thread"});
    Counter& counter = family.WithLabels({std::to_string(state.thread_index())});
    for (auto _ : state)
        counter.Increment();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CounterIncrementPerThreadSeries)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
    static MetricsRegistry registry;
    static Histogram& histogram = registry.AddHistogram("bench_latency_seconds", "x", DefaultLatencyBuckets()).Get();
    double value = 0.0;
    for (auto _ : state) {
        histogram.Observe(value);
        value = value > 10 ? 0.0 : value + 0.37;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

// /metrics with 1,000 series: 600 counters, 300 gauges and 100 histogram series counted as one
// series each (every histogram series also renders 11 buckets, _sum and _count).
void BM_Render1000Series(benchmark::State& state) {
    MetricsRegistry registry;
    auto& counters = registry.AddCounter("railwatch_checks_total", "Checks by instance", {"instance", "outcome"});
    for (int i = 0; i < 300; ++i) {
        counters.WithLabels({"ins_" + std::to_string(i), "ok"}).Increment(static_cast<std::uint64_t>(i) * 7);
        counters.WithLabels({"ins_" + std::to_string(i), "error"}).Increment(static_cast<std::uint64_t>(i));
    }
    auto& gauges = registry.AddGauge("railwatch_progress_ratio", "Progress by instance", {"instance"});
    for (int i = 0; i < 300; ++i)
        gauges.WithLabels({"ins_" + std::to_string(i)}).Set(i / 300.0);
    auto& histograms =
        registry.AddHistogram("railwatch_check_seconds", "Latency", DefaultLatencyBuckets(), {"instance"});
    for (int i = 0; i < 100; ++i)
        histograms.WithLabels({"ins_" + std::to_string(i)}).Observe(i / 50.0);
    std::size_t bytes = 0;
    for (auto _ : state) {
        const std::string text = registry.Render();
        bytes = text.size();
        benchmark::DoNotOptimize(text.data());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Render1000Series)->Unit(benchmark::kMicrosecond);

// 1,000 counter series of one family: the plain case.
void BM_Render1000Counters(benchmark::State& state) {
    MetricsRegistry registry;
    auto& counters = registry.AddCounter("railwatch_events_total", "Events by instance", {"instance"});
    for (int i = 0; i < 1000; ++i)
        counters.WithLabels({"ins_" + std::to_string(i)}).Increment(static_cast<std::uint64_t>(i));
    for (auto _ : state)
        benchmark::DoNotOptimize(registry.Render());
    state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Render1000Counters)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace railwatch::util

BENCHMARK_MAIN();
