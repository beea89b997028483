// load_seed_instances: fills a store with N instances (and K health checks each) through the
// store API, for the API load run (scripts/load-api.sh, docs/PERFORMANCE.md). Many threads call
// CreateInstance / RecordHealthCheck at once, so that the SQLite writer groups them into large
// transactions (StoreOptions::max_batch) instead of committing row by row.
//
//   build/bench/load_seed_instances --db sqlite:/tmp/load.db --count 100000 --checks 3
//
// The instances are not monitored (monitoring = false, no next check): the load run measures the
// API's read path, and 100,000 due instances would make the engine poll whatever Railway URL the
// server is given. Their state is a realistic mix (running, failed with an error, deploying, ...)
// so that rendering does the work a real fleet asks of it.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "common/parallel_writes.hpp"
#include "store/store.hpp"

namespace {

using namespace railwatch;
using store::Timestamp;

Timestamp Base() {
    using namespace std::chrono;
    return Timestamp(sys_days{year{2026} / January / 1});
}

store::Instance MakeInstance(int n) {
    store::Instance i;
    i.id = fmt::format("ins_load{:06d}", n);
    i.project_name = fmt::format("project-{}", n % 97);
    i.project_id = fmt::format("prj-{:04d}", n % 97);
    i.service_id = fmt::format("svc-{:06d}", n);
    i.environment_id = "env-production";
    i.monitoring = false;
    // No interval of its own: the per-status intervals.
    i.created_at = Base() + core::Seconds(n);
    store::InstanceState& s = i.state;
    s.deployment_id = fmt::format("dep-{:06d}", n);
    s.deployment_started_at = i.created_at;
    s.deployment_updated_at = i.created_at + core::Seconds(240);
    switch (n % 20) {
        case 0:
        case 1:
            s.status = core::InstanceStatus::kFailed;
            s.deployment_status = "FAILED";
            s.progress = 100;
            s.error_type = core::ErrorClass::kConfiguration;
            s.error_message = "Error: Missing required environment variable: DATABASE_URL";
            s.needs_attention = true;
            s.attention_reason = "FAILED";
            s.deployment_completed_at = s.deployment_updated_at;
            break;
        case 2:
            s.status = core::InstanceStatus::kDeploying;
            s.deployment_status = "BUILDING";
            s.progress = 40;
            break;
        case 3:
            s.status = core::InstanceStatus::kInitializing;
            s.deployment_status = "INITIALIZING";
            s.progress = 5;
            break;
        default:
            s.status = core::InstanceStatus::kRunning;
            s.deployment_status = "SUCCESS";
            s.progress = 100;
            s.health = n % 50 == 7 ? "UNHEALTHY" : "HEALTHY";
            s.deployment_completed_at = s.deployment_updated_at;
            break;
    }
    return i;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Fills a store with instances for the API load run (docs/PERFORMANCE.md)"};
    std::string url;
    int count = 100000;
    int checks = 3;
    int threads = 32;
    app.add_option("--db", url, "Store URL (sqlite:PATH or postgresql://...)")->required();
    app.add_option("--count", count, "Instances to add")->check(CLI::Range(1, 10'000'000));
    app.add_option("--checks", checks, "Health checks per instance")->check(CLI::Range(0, 1000));
    app.add_option("--threads", threads, "Callers at once (the SQLite writer groups them)")->check(CLI::Range(1, 512));
    CLI11_PARSE(app, argc, argv);

    store::StoreOptions options;
    options.connections = 2;
    auto opened = store::OpenStore(url, options);
    if (!opened) {
        std::fprintf(stderr, "load_seed_instances: %s\n", opened.error().ToString().c_str());
        return 1;
    }
    store::Store& st = **opened;
    const auto start = std::chrono::steady_clock::now();
    const bool ok = bench::WriteInParallel(
        "load_seed_instances", threads, static_cast<std::size_t>(count), [&](std::size_t index) -> util::Result<void> {
            const int n = static_cast<int>(index);
            const store::Instance instance = MakeInstance(n);
            if (auto created = st.CreateInstance(instance); !created) return created;
            for (int k = 0; k < checks; ++k) {
                store::HealthCheck check;
                check.instance_id = instance.id;
                check.at = instance.created_at + core::Seconds(300 + 30 * k);
                check.ok = !instance.state.health || *instance.state.health == "HEALTHY";
                check.http_status = check.ok ? 200 : 503;
                check.latency_ms = 20 + (n + k) % 80;
                if (auto recorded = st.RecordHealthCheck(check); !recorded) return tl::unexpected(recorded.error());
            }
            return {};
        });
    if (!ok) return 1;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("seeded %d instances with %d health checks each in %.1f s\n", count, checks, seconds);
    return 0;
}
