// The engine's own CPU per status check, without HTTP (docs/PERFORMANCE.md, "Engine"): Monitor
// rounds with kept claims, as serve runs them, over a SQLite store of N monitored instances, with
// a RailwayApi that answers every poll at once with the status the store holds (a check that
// changes nothing). What is measured is the scheduler's and the pollers' work per check: taking
// the due instances from the kept schedule, batching them, judging each answer and scheduling
// the next check. Not in it: building the request body and parsing the answer (bench_railway),
// HTTP and the kernel (the engine bench), store writes (nothing changes). The rounds run on the
// benchmark's thread (RunRoundForTest); the clock is a fake one, moved one second per iteration.

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../common/parallel_writes.hpp"
#include "fakes/fake_railway_api.hpp"
#include "fakes/forwarding_railway_api.hpp"
#include "monitor/monitor.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"

namespace railwatch::monitor {
namespace {

using core::Timestamp;

// Polls answered from memory, every deployment BUILDING since `since`; everything else as
// `others` answers it (nothing else is asked while nothing changes).
class PollOnlyApi final : public fakes::ForwardingRailwayApi {
  public:
    PollOnlyApi(railway::RailwayApi& others, Timestamp since) : ForwardingRailwayApi(others), since_(since) {}

    std::vector<railway::ApiResult<railway::PolledStatus>> PollStatuses(
        std::span<const std::string_view> ids) override {
        ++polls_;
        std::vector<railway::ApiResult<railway::PolledStatus>> out;
        out.reserve(ids.size());
        for (std::size_t k = 0; k < ids.size(); ++k) {
            railway::PolledStatus polled;
            polled.status = core::RailwayStatus::Of(core::DeploymentStatus::kBuilding);
            polled.status_updated_at = since_;
            polled.created_at = since_;
            polled.updated_at = since_;
            out.emplace_back(std::move(polled));
        }
        return out;
    }
    std::size_t polls() const { return polls_; }

  private:
    Timestamp since_;
    std::size_t polls_ = 0;
};

class NullSink final : public EventSink {
  public:
    void OnInstance(const store::Instance&) override {}
    void OnTransition(const store::Instance&, const store::TimelineEvent&) override { ++transitions; }
    void OnHealth(const store::Instance&, const store::HealthCheck&) override {}
    std::size_t transitions = 0;
};

// N instances, each with its own BUILDING deployment checked every 10 s (± 10 % jitter), first
// checks spread over 10 s.
bool Seed(store::Store& store, std::size_t count, Timestamp now) {
    return bench::WriteInParallel("bench_monitor", 16, count, [&](std::size_t n) {
        store::Instance i;
        i.id = fmt::format("ins_round{:07d}", n);
        i.service_id = fmt::format("svc-{:07d}", n);
        i.environment_id = "env";
        i.monitoring = true;
        i.check_interval_s = 10;
        i.created_at = now;
        i.state.deployment_id = fmt::format("3f2a9c1e-5b7d-4e8f-9a0b-{:012d}", n);
        i.state.deployment_status = "BUILDING";
        i.state.status = core::InstanceStatus::kInitializing;
        i.state.deployment_started_at = now;
        i.state.deployment_updated_at = now;
        i.state.next_check_at =
            now + std::chrono::milliseconds(10'000 * static_cast<std::int64_t>(n) / static_cast<std::int64_t>(count));
        return store.CreateInstance(i);
    });
}

std::chrono::nanoseconds ProcessCpu() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec);
}

void MonitorRoundSteadyState(benchmark::State& state) {
    const auto count = static_cast<std::size_t>(state.range(0));
    test::TempDir dir("railwatch-bench-round-");
    auto opened = store::OpenStore("sqlite:" + dir.File("round.db"));
    if (!opened) {
        state.SkipWithError(opened.error().ToString().c_str());
        return;
    }
    store::Store& store = **opened;
    util::FakeClock clock;
    if (!Seed(store, count, clock.Now())) {
        state.SkipWithError("seeding the store failed");
        return;
    }
    fakes::FakeRailwayApi others;
    PollOnlyApi api(others, clock.Now());
    NullSink sink;
    MonitorOptions options;
    options.worker_id = "bench";
    options.keep_claims = true;
    options.requests_per_hour = 1'000'000'000;
    options.requests_per_second = 1'000'000;
    Monitor monitor(api, store, store, store, store, clock, sink, options);
    // Every instance claimed and checked once (the claims read and write rows: not measured).
    std::size_t warm = 0;
    for (int second = 0; second < 12; ++second) {
        while (const std::size_t n = monitor.RunRoundForTest())
            warm += n;
        clock.Advance(core::Seconds(1));
    }
    if (warm < count) {
        state.SkipWithError(fmt::format("only {} of {} instances were checked in the warm-up", warm, count).c_str());
        return;
    }
    std::size_t checks = 0;
    const std::size_t polls_before = api.polls();
    const auto cpu_before = ProcessCpu();
    for (auto _ : state) {
        clock.Advance(core::Seconds(1));
        while (const std::size_t n = monitor.RunRoundForTest())
            checks += n;
    }
    const auto cpu = ProcessCpu() - cpu_before;
    if (sink.transitions != 0) state.SkipWithError("a check changed something: the bench measures unchanged checks");
    state.SetItemsProcessed(static_cast<std::int64_t>(checks));
    state.counters["checks_per_iteration"] =
        static_cast<double>(checks) / static_cast<double>(std::max<std::int64_t>(state.iterations(), 1));
    state.counters["cpu_us_per_check"] =
        std::chrono::duration<double, std::micro>(cpu).count() / static_cast<double>(std::max<std::size_t>(checks, 1));
    state.counters["checks_per_poll"] =
        static_cast<double>(checks) / static_cast<double>(std::max<std::size_t>(api.polls() - polls_before, 1));
}

BENCHMARK(MonitorRoundSteadyState)->Arg(2000)->Arg(100000)->MeasureProcessCPUTime()->UseRealTime()->Iterations(100);

}  // namespace
}  // namespace railwatch::monitor
