// Simulator throughput: batched status requests (N aliases of deployment(id){…}) over loopback
// to a SimServer whose HTTP pool has ONE worker thread. items_per_second = deployment fields
// answered per second. Also the in-process cost (no HTTP) for comparison.
#include <benchmark/benchmark.h>
#include <httplib.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/sim_server.hpp"
#include "sim/simulator.hpp"
#include "util/clock.hpp"

namespace railwatch::sim {
namespace {

constexpr int kDeployments = 10000;
constexpr const char* kFields =
    "id status statusUpdatedAt createdAt updatedAt url staticUrl deploymentStopped canRedeploy instances { status } "
    "serviceId environmentId projectId";

SimConfig BenchConfig() {
    SimConfig config;
    config.time_scale = 60;
    config.rate_limit = {0, 0, 0};
    CreateSpec spec;
    spec.count = kDeployments;
    spec.mix = {{Kind::kSuccess, 70}, {Kind::kBuildFailed, 10}, {Kind::kCrashLoop, 10}, {Kind::kStuckDeploying, 10}};
    config.deployments.push_back(spec);
    return config;
}

std::vector<std::string> Ids(SimServer& server) {
    std::vector<std::string> ids;
    const nlohmann::json truth = server.Sim().Truth({});
    for (const auto& d : truth["deployments"])
        ids.push_back(d["id"].get<std::string>());
    return ids;
}

/// Batched documents with distinct ids, as the poller sends them.
std::vector<std::string> Bodies(const std::vector<std::string>& ids, int aliases) {
    std::vector<std::string> bodies;
    for (std::size_t start = 0; start + static_cast<std::size_t>(aliases) <= ids.size();
         start += static_cast<std::size_t>(aliases)) {
        std::string q = "query DeploymentStatuses {";
        for (int i = 0; i < aliases; ++i) {
            q += " d" + std::to_string(i) + ": deployment(id: \"" + ids[start + static_cast<std::size_t>(i)] +
                 "\") { " + kFields + " }";
        }
        q += " }";
        bodies.push_back(nlohmann::json{{"query", q}}.dump());
    }
    return bodies;
}

void BM_BatchedStatusOverLoopback(benchmark::State& state) {
    const int aliases = static_cast<int>(state.range(0));
    util::SystemClock clock;
    SimServerOptions options;
    options.threads = 1;
    SimServer server(BenchConfig(), clock, options);
    if (!server.Start()) {
        state.SkipWithError("cannot start the simulator");
        return;
    }
    const auto bodies = Bodies(Ids(server), aliases);
    if (bodies.empty()) {
        state.SkipWithError("no deployments to ask for");
        return;
    }
    httplib::Client client("127.0.0.1", server.Port());
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);  // as libcurl does by default
    const httplib::Headers headers{{"Authorization", "Bearer sim-account-token"}};
    std::size_t next = 0;
    std::int64_t fields = 0;
    for (auto _ : state) {
        auto res = client.Post("/graphql/v2?source=bench", headers, bodies[next], "application/json");
        next = (next + 1) % bodies.size();
        if (!res || res->status != 200) {
            state.SkipWithError("request failed");
            break;
        }
        benchmark::DoNotOptimize(res->body.data());
        fields += aliases;
    }
    state.SetItemsProcessed(fields);
    state.counters["aliases"] = aliases;
    server.Stop();
}
BENCHMARK(BM_BatchedStatusOverLoopback)->Arg(1)->Arg(50)->Arg(100)->UseRealTime()->MinTime(3.0);

void BM_BatchedStatusInProcess(benchmark::State& state) {
    const int aliases = static_cast<int>(state.range(0));
    util::SystemClock clock;
    Simulator sim(BenchConfig(), clock);
    (void)sim.CreateScenarioDeployments();
    std::vector<std::string> ids;
    const nlohmann::json truth = sim.Truth({});
    for (const auto& d : truth["deployments"])
        ids.push_back(d["id"].get<std::string>());
    const auto bodies = Bodies(ids, aliases);
    net::ServerRequest req;
    req.method = "POST";
    req.path = "/graphql/v2";
    req.has_query = true;
    req.headers.emplace_back("Authorization", "Bearer sim-account-token");
    std::size_t next = 0;
    std::int64_t fields = 0;
    for (auto _ : state) {
        req.body = bodies[next];
        next = (next + 1) % bodies.size();
        auto res = sim.HandleGraphql(req);
        benchmark::DoNotOptimize(res.body.data());
        fields += aliases;
    }
    state.SetItemsProcessed(fields);
}
BENCHMARK(BM_BatchedStatusInProcess)->Arg(50)->MinTime(2.0);

}  // namespace
}  // namespace railwatch::sim

BENCHMARK_MAIN();
