// Status checks per second per core for the client's CPU work: building a batched request body,
// parsing Railway's JSON answer and mapping every alias to a Deployment (no network); and the same
// for the monitor's poll (the poll's selection, each alias to a PolledStatus); and a page of an
// environment's services as the discovery read gets it (the whole call through the client).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "fakes/scripted_transport.hpp"
#include "railway/client.hpp"
#include "railway/status_batch.hpp"
#include "util/random.hpp"

namespace railwatch::railway {
namespace {

std::string Answer(std::size_t n) {
    nlohmann::json data = nlohmann::json::object();
    for (std::size_t i = 0; i < n; ++i) {
        data["d" + std::to_string(i)] = {{"id", "3f2a9c1e-5b7d-4e8f-9a0b-" + std::to_string(100000000000 + i)},
                                         {"status", i % 3 == 0 ? "BUILDING" : "SUCCESS"},
                                         {"statusUpdatedAt", "2026-11-29T02:36:45.123Z"},
                                         {"createdAt", "2026-11-29T02:30:00.000Z"},
                                         {"updatedAt", "2026-11-29T02:36:45.123Z"},
                                         {"url", "web-production-1234.up.railway.app"},
                                         {"staticUrl", "web-production-1234.up.railway.app"},
                                         {"deploymentStopped", false},
                                         {"canRedeploy", true},
                                         {"instances", nlohmann::json::array({{{"status", "RUNNING"}}})},
                                         {"serviceId", "a1b2c3d4-0000-4000-8000-000000000001"},
                                         {"environmentId", "a1b2c3d4-0000-4000-8000-000000000002"},
                                         {"projectId", "a1b2c3d4-0000-4000-8000-000000000003"}};
    }
    return nlohmann::json{{"data", data}}.dump();
}

// Builds the request body of `n` ids, interprets the answer and reads every alias, per iteration.
// `Read(client, ids, envelope, context)` builds the body and reads the answer with one selection.
template <typename Read>
void RunStatusBench(benchmark::State& state, const std::string& answer, Read read) {
    const auto n = static_cast<std::size_t>(state.range(0));
    util::SystemClock clock;
    RequestBudget budget(clock, {});
    util::SystemRandom random;
    fakes::ScriptedTransport transport;  // not asked: the benchmark reads the answer itself
    ClientConfig config;
    config.batch_size = n;
    RailwayClient client(transport, clock, budget, random, {TokenKind::kAccount, "t"}, config);
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < n; ++i)
        ids.push_back("3f2a9c1e-5b7d-4e8f-9a0b-" + std::to_string(100000000000 + i));
    net::HttpResponse response;
    response.status = 200;
    response.body = answer;
    const ErrorContext context{"bench", "http://x", TokenKind::kAccount, "t"};
    for (auto _ : state) {
        if (!read(client, ids, response, context)) state.SkipWithError("mapping lost deployments");
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
    state.counters["status_checks_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
    state.counters["requests_per_status_check"] = 1.0 / static_cast<double>(n);
    state.counters["answer_bytes"] = static_cast<double>(response.body.size());
}

// The full selection (GetDeployments): each alias to a Deployment.
void BM_StatusCheck(benchmark::State& state) {
    RunStatusBench(state, Answer(static_cast<std::size_t>(state.range(0))),
                   [](RailwayClient& client, const std::vector<std::string>& ids, const net::HttpResponse& response,
                      const ErrorContext& context) {
                       std::string body = client.BuildStatusBatchBody(ids);
                       benchmark::DoNotOptimize(body);
                       auto envelope = InterpretResponse(response, context);
                       auto readings = ReadStatusBatch(*envelope, ids, context);
                       benchmark::DoNotOptimize(readings);
                       return readings.size() == ids.size() && readings.back().result.has_value();
                   });
}
BENCHMARK(BM_StatusCheck)->Arg(1)->Arg(10)->Arg(50)->Arg(100);

std::string PollAnswer(std::size_t n) {
    nlohmann::json data = nlohmann::json::object();
    for (std::size_t i = 0; i < n; ++i) {
        data["d" + std::to_string(i)] = {{"status", i % 3 == 0 ? "BUILDING" : "SUCCESS"},
                                         {"statusUpdatedAt", "2026-11-29T02:36:45.123Z"},
                                         {"createdAt", "2026-11-29T02:30:00.000Z"},
                                         {"updatedAt", "2026-11-29T02:36:45.123Z"},
                                         {"deploymentStopped", false}};
    }
    return nlohmann::json{{"data", data}}.dump();
}

// The poll's selection (PollStatuses): each alias to a PolledStatus.
void BM_Poll(benchmark::State& state) {
    RunStatusBench(state, PollAnswer(static_cast<std::size_t>(state.range(0))),
                   [](RailwayClient& client, const std::vector<std::string>& ids, const net::HttpResponse& response,
                      const ErrorContext& context) {
                       const std::vector<std::string_view> views(ids.begin(), ids.end());
                       std::string body = client.BuildPollBody(views);
                       benchmark::DoNotOptimize(body);
                       auto envelope = InterpretResponse(response, context);
                       auto readings = ReadPollBatch(*envelope, views, context);
                       benchmark::DoNotOptimize(readings);
                       return readings.size() == ids.size() && readings.back().result.has_value();
                   });
}
BENCHMARK(BM_Poll)->Arg(1)->Arg(10)->Arg(50)->Arg(100);

// One page of `n` services of an environment, as the simulator answers it (a service domain
// each, no health-check path, no custom domain).
std::string EnvironmentPage(std::size_t n) {
    nlohmann::json edges = nlohmann::json::array();
    for (std::size_t i = 0; i < n; ++i) {
        const std::string suffix = std::to_string(100000000000 + i);
        edges.push_back(
            {{"node",
              {{"serviceId", "a1b2c3d4-0000-4000-8000-" + suffix},
               {"latestDeployment", {{"id", "3f2a9c1e-5b7d-4e8f-9a0b-" + suffix}}},
               {"healthcheckPath", nullptr},
               {"domains",
                {{"serviceDomains", nlohmann::json::array({{{"domain", "127.0.0.1:8081/s/a1b2c3d4-" + suffix}}})},
                 {"customDomains", nlohmann::json::array()}}}}}});
    }
    return nlohmann::json{
        {"data",
         {{"environment",
           {{"serviceInstances", {{"edges", edges}, {"pageInfo", {{"hasNextPage", false}, {"endCursor", "c"}}}}}}}}}}
        .dump();
}

// The discovery read of one page (RailwayClient::ReadEnvironmentServices): the request, the
// answer's envelope, every service to a ServiceLatestDeployment.
void BM_EnvironmentPage(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    util::SystemClock clock;
    RequestBudget budget(clock, {.requests_per_hour = 1'000'000'000, .requests_per_second = 1'000'000'000});
    util::SystemRandom random;
    fakes::ScriptedTransport transport;  // the same page for every request, on the caller's thread
    transport.SetHandler([page = EnvironmentPage(n)](const net::HttpRequest&) {
        net::HttpResponse response;
        response.status = 200;
        response.body = page;
        return response;
    });
    ClientConfig config;
    config.environment_page_size = n;
    RailwayClient client(transport, clock, budget, random, {TokenKind::kAccount, "t"}, config);
    std::size_t services = 0;
    for (auto _ : state) {
        const auto read = client.ReadEnvironmentServices(
            "e1", [&](std::span<const ServiceLatestDeployment> page) { services += page.size(); });
        if (!read) state.SkipWithError(read.error().message.c_str());
    }
    if (services != state.iterations() * n) state.SkipWithError("services lost");
    state.SetItemsProcessed(static_cast<std::int64_t>(services));
}
BENCHMARK(BM_EnvironmentPage)->Arg(500);

}  // namespace
}  // namespace railwatch::railway

BENCHMARK_MAIN();
