// The follow-up job queue under a wave of failures (docs/PERFORMANCE.md, "The follow-up job
// queue"): N classification jobs queued at once; each is taken once and queued again for later
// (as Monitor::RunJob did for every job the budget could not pay, before JobQueue::Defer held
// the kind instead). JobQueue against the structure it replaced: a deque scanned whole at every
// take (and at every job's end, for the instance's other jobs). Reported: time per take; the
// monitor holds its mutex meanwhile.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "monitor/job_queue.hpp"

namespace railwatch::monitor {
namespace {

using core::Timestamp;

std::vector<Job> FailedWave(int count) {
    std::vector<Job> jobs;
    jobs.reserve(static_cast<std::size_t>(count));
    for (int n = 0; n < count; ++n) {
        jobs.emplace_back(JobKind::kClassify, "00000000-0000-4000-8000-" + std::to_string(100000000000LL + n), "dep",
                          Timestamp{});
    }
    return jobs;
}

void ReportTakes(benchmark::State& state, std::int64_t takes) {
    state.counters["ns_per_take"] =
        benchmark::Counter(static_cast<double>(takes), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void JobQueueDrainBehindSpentBudget(benchmark::State& state) {
    const auto wave = FailedWave(static_cast<int>(state.range(0)));
    const std::set<std::string> busy;
    std::int64_t takes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        JobQueue q;
        for (const Job& job : wave)
            q.Push(job);
        state.ResumeTiming();
        while (auto job = q.TakeDue(Timestamp{}, busy)) {
            const bool others = q.HasJobOf(job->instance_id);
            benchmark::DoNotOptimize(others);
            job->not_before = Timestamp{} + core::Seconds(60);
            q.Push(std::move(*job));
            ++takes;
        }
    }
    ReportTakes(state, takes);
}

// The replaced structure: Monitor::TakeDueJob's scan of a deque for the most urgent due job of
// an instance not busy (one kind here, so the scan stops at none), and FinishJob's scan for
// another job of the same instance.
void DequeScanDrainBehindSpentBudget(benchmark::State& state) {
    const auto wave = FailedWave(static_cast<int>(state.range(0)));
    const std::set<std::string> busy;
    std::int64_t takes = 0;
    for (auto _ : state) {
        state.PauseTiming();
        std::deque<Job> jobs(wave.begin(), wave.end());
        state.ResumeTiming();
        const Timestamp now{};
        while (true) {
            auto best = jobs.end();
            for (auto it = jobs.begin(); it != jobs.end(); ++it) {
                if (it->not_before > now || busy.contains(it->instance_id)) continue;
                if (best == jobs.end() || it->kind < best->kind) best = it;
                if (best->kind == JobKind::kRedeploy) break;
            }
            if (best == jobs.end()) break;
            Job job = std::move(*best);
            jobs.erase(best);
            const bool others =
                std::any_of(jobs.begin(), jobs.end(), [&](const Job& j) { return j.instance_id == job.instance_id; });
            benchmark::DoNotOptimize(others);
            job.not_before = Timestamp{} + core::Seconds(60);
            jobs.push_back(std::move(job));
            ++takes;
        }
    }
    ReportTakes(state, takes);
}

BENCHMARK(JobQueueDrainBehindSpentBudget)->Arg(1000)->Arg(20000)->Unit(benchmark::kMillisecond);
BENCHMARK(DequeScanDrainBehindSpentBudget)->Arg(1000)->Arg(20000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace railwatch::monitor
