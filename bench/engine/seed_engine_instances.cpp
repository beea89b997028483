// engine_seed_instances: stores one MONITORED instance per simulator deployment, for the engine
// benchmark (scripts/bench-engine.sh, docs/PERFORMANCE.md "Engine"). The deployments come from a
// tab-separated file written by the benchmark driver from the simulator's /_sim/truth:
//
//   <deployment id> TAB <service id> TAB <environment id> TAB <Railway status now>
//
//   build/bench/engine_seed_instances --db sqlite:/tmp/engine.db --input deployments.tsv
//       --spread-seconds 10
//
// Each instance already holds the deployment's current status, so the engine's first check of it
// is not a transition (only real changes during the run are); its first check is spread evenly
// over --spread-seconds from now, so the run starts near its steady state instead of with the
// whole fleet due at once. No instance has an interval of its own: the engine uses the per-status
// table. Many threads call CreateInstance at once so that
// the SQLite writer groups them into large transactions (StoreOptions::max_batch).

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/parallel_writes.hpp"
#include "core/deployment_status.hpp"
#include "store/store.hpp"

namespace {

using namespace railwatch;

struct Row {
    std::string deployment_id;
    std::string service_id;
    std::string environment_id;
    std::string status;
};

util::Result<std::vector<Row>> ReadRows(const std::string& path) {
    std::ifstream in(path);
    if (!in) return util::Fail(util::ErrorCode::kNotFound, fmt::format("cannot open {}", path));
    std::vector<Row> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::istringstream fields(line);
        Row row;
        if (!std::getline(fields, row.deployment_id, '\t') || !std::getline(fields, row.service_id, '\t') ||
            !std::getline(fields, row.environment_id, '\t') || !std::getline(fields, row.status, '\t')) {
            return util::Fail(util::ErrorCode::kInvalidArgument,
                              fmt::format("{}:{}: expected 4 tab-separated fields", path, rows.size() + 1));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

store::Instance MakeInstance(const Row& row, std::size_t n, std::size_t count, double spread_s, store::Timestamp now) {
    store::Instance i;
    i.id = fmt::format("ins_eng{:07d}", n);
    i.service_id = row.service_id;
    i.environment_id = row.environment_id;
    i.monitoring = true;
    i.created_at = now;
    store::InstanceState& s = i.state;
    s.deployment_id = row.deployment_id;
    s.deployment_status = row.status;
    const auto status = core::ParseDeploymentStatus(row.status);
    const auto instance_status = status ? core::ToInstanceStatus(*status) : std::nullopt;
    s.status = instance_status.value_or(core::InstanceStatus::kInitializing);
    s.deployment_started_at = now;
    s.deployment_updated_at = now;
    const auto offset = std::chrono::duration<double>(spread_s * static_cast<double>(n) / static_cast<double>(count));
    s.next_check_at = now + std::chrono::duration_cast<core::Duration>(offset);
    return i;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Stores a monitored instance per simulator deployment for the engine benchmark (docs/PERFORMANCE.md)"};
    std::string url;
    std::string input;
    double spread_s = 10;
    int threads = 32;
    app.add_option("--db", url, "Store URL (sqlite:PATH or postgresql://...)")->required();
    app.add_option("--input", input, "Tab-separated deployments: id, service id, environment id, status")->required();
    app.add_option("--spread-seconds", spread_s, "First checks spread evenly over this many seconds from now")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--threads", threads, "Callers at once (the SQLite writer groups them)")->check(CLI::Range(1, 512));
    CLI11_PARSE(app, argc, argv);

    auto rows = ReadRows(input);
    if (!rows) {
        std::fprintf(stderr, "engine_seed_instances: %s\n", rows.error().ToString().c_str());
        return 1;
    }
    store::StoreOptions options;
    options.connections = 2;
    auto opened = store::OpenStore(url, options);
    if (!opened) {
        std::fprintf(stderr, "engine_seed_instances: %s\n", opened.error().ToString().c_str());
        return 1;
    }
    store::Store& st = **opened;
    const auto start = std::chrono::steady_clock::now();
    const store::Timestamp now = std::chrono::time_point_cast<core::Duration>(std::chrono::system_clock::now());
    const bool ok = bench::WriteInParallel("engine_seed_instances", threads, rows->size(), [&](std::size_t n) {
        return st.CreateInstance(MakeInstance((*rows)[n], n, rows->size(), spread_s, now));
    });
    if (!ok) return 1;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("seeded %zu monitored instances in %.1f s\n", rows->size(), seconds);
    return 0;
}
