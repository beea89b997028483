// Cost of the core decisions the monitor makes per check or per failure.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/classify.hpp"
#include "core/progress.hpp"
#include "core/retry.hpp"

namespace railwatch::core {
namespace {

// A failed deployment with `n` log lines of ordinary output and one cause near the start: the
// worst case, since every line is matched against the whole table.
FailureEvidence Evidence(int n) {
    FailureEvidence e;
    e.status = DeploymentStatus::kCrashed;
    e.log_lines.push_back("Error: connect ECONNREFUSED 10.0.0.3:5432");
    for (int i = 0; i < n; ++i) {
        e.log_lines.push_back("2026-01-01T00:00:00.000Z info: GET /api/items/" + std::to_string(i) +
                              " 200 12ms user-agent=Mozilla/5.0 (X11; Linux x86_64)");
    }
    return e;
}

void BM_ClassifyDeploymentFailure(benchmark::State& state) {
    const FailureEvidence e = Evidence(static_cast<int>(state.range(0)));
    for (auto _ : state)
        benchmark::DoNotOptimize(ClassifyDeploymentFailure(e));
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ClassifyDeploymentFailure)->Arg(100)->Arg(1000);

void BM_ClassifyMessage(benchmark::State& state) {
    const std::string line = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory";
    for (auto _ : state)
        benchmark::DoNotOptimize(ClassifyMessage(line));
}
BENCHMARK(BM_ClassifyMessage);

void BM_ComputeProgressWithSteps(benchmark::State& state) {
    const Timestamp t0{};
    ProgressInput in;
    in.deployment_id = "d";
    in.status = DeploymentStatus::kDeploying;
    in.status_since = t0;
    for (DeploymentEventStep step : kAllDeploymentEventSteps) {
        in.steps.push_back(
            {step, t0, step == DeploymentEventStep::kHealthcheck ? std::nullopt : std::optional<Timestamp>(t0), ""});
        in.typical.steps[step] = Seconds(10);
    }
    for (auto _ : state)
        benchmark::DoNotOptimize(ComputeProgress(in, t0 + Seconds(5)));
}
BENCHMARK(BM_ComputeProgressWithSteps);

void BM_NextRetryDelay(benchmark::State& state) {
    BackoffPolicy policy;
    policy.max_attempts = 100;
    int attempt = 1;
    for (auto _ : state) {
        benchmark::DoNotOptimize(NextRetryDelay(policy, attempt, 0.37, Seconds(1)));
        attempt = attempt % 99 + 1;
    }
}
BENCHMARK(BM_NextRetryDelay);

}  // namespace
}  // namespace railwatch::core

BENCHMARK_MAIN();
