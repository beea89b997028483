// The engine against the real `railwatch sim` process over loopback (RailwayClient + CurlTransport),
// on a real SQLite file: 100 deployments of every lifecycle kind are followed to the simulator's
// ground truth (`GET /_sim/truth`).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/forwarding_railway_api.hpp"
#include "monitor/monitor.hpp"
#include "net/curl_transport.hpp"
#include "railway/budget.hpp"
#include "railway/client.hpp"
#include "store/store.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"
#include "util/rfc3339.hpp"

namespace railwatch {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

using test::SimProcess;

class NullSink final : public monitor::EventSink {
  public:
    void OnInstance(const store::Instance&) override {}
    void OnTransition(const store::Instance&, const store::TimelineEvent&) override { ++transitions; }
    void OnHealth(const store::Instance&, const store::HealthCheck&) override {}
    std::atomic<int> transitions{0};
};

/// Counts the engine's status calls on their way to the real client.
class CountingApi final : public fakes::ForwardingRailwayApi {
  public:
    using ForwardingRailwayApi::ForwardingRailwayApi;
    std::atomic<long long> status_calls{0};
    std::atomic<long long> status_ids{0};

    std::vector<railway::DeploymentResult> GetDeployments(std::span<const std::string> ids) override {
        ++status_calls;
        status_ids += static_cast<long long>(ids.size());
        return ForwardingRailwayApi::GetDeployments(ids);
    }
    std::vector<railway::ApiResult<railway::PolledStatus>> PollStatuses(
        std::span<const std::string_view> ids) override {
        ++status_calls;
        status_ids += static_cast<long long>(ids.size());
        return ForwardingRailwayApi::PollStatuses(ids);
    }
};

json Call(httplib::Client& http, const std::string& method, const std::string& path, const json& body = {}) {
    auto answer = method == "GET" ? http.Get(path) : http.Post(path, body.dump(), "application/json");
    if (!answer) throw std::runtime_error(method + " " + path + " failed: " + httplib::to_string(answer.error()));
    if (answer->status >= 300) throw std::runtime_error(method + " " + path + ": " + answer->body);
    return json::parse(answer->body);
}

/// What the engine runs on against one simulator: a real SQLite file, the system clock, the real
/// RailwayClient over a CurlTransport, with budgets far above what the tests use.
struct EngineRig {
    EngineRig(int sim_port, const std::string& name, std::uint64_t seed, std::size_t batch_size = 50,
              railway::BudgetConfig limits = {100000, 25})
        : dir("railwatch-engine-" + name + "-"),
          opened(store::OpenStore("sqlite:" + dir.File(name + ".db"))),
          budget(clock, limits),
          random(seed),
          client(transport, clock, budget, random,
                 railway::Credentials{railway::TokenKind::kAccount, "sim-account-token"},
                 Config(sim_port, batch_size)) {}

    static railway::ClientConfig Config(int sim_port, std::size_t batch_size = 50) {
        railway::ClientConfig config;
        config.api_url = "http://127.0.0.1:" + std::to_string(sim_port) + "/graphql/v2";
        config.batch_size = batch_size;
        config.request_timeout = core::Seconds(10);
        return config;
    }
    /// Every status checked each `interval`, Pro-like budget, short waits.
    static monitor::MonitorOptions FastOptions(const std::string& worker_id,
                                               core::Duration interval = core::Seconds(1)) {
        monitor::MonitorOptions options;
        options.worker_id = worker_id;
        for (const auto status : core::kAllDeploymentStatuses)
            options.intervals.per_status[status] = interval;
        options.intervals.fallback = interval;
        options.requests_per_hour = 100000;
        options.requests_per_second = 25;
        options.max_idle_wait = core::Millis(500);
        options.batch_window = core::Millis(500);
        options.lease = core::Seconds(30);
        return options;
    }
    /// FastOptions with a stall deadline of `stuck_after` (and no timeout within a test).
    static monitor::MonitorOptions StallOptions(const std::string& worker_id, core::Duration stuck_after) {
        monitor::MonitorOptions options = FastOptions(worker_id);
        options.check.stuck.default_deadline = stuck_after;
        options.check.timeout_after = core::Seconds(3600);
        return options;
    }
    store::Store& db() { return **opened; }

    test::TempDir dir;
    util::Result<std::unique_ptr<store::Store>> opened;
    util::SystemClock clock;
    railway::RequestBudget budget;
    util::SystemRandom random;
    net::CurlTransport transport;
    railway::RailwayClient client;
};

/// Adds an instance for each of `deployment_ids` (service and environment from the simulator's
/// truth), in that order; returns their ids.
std::vector<std::string> AddInstances(httplib::Client& http, monitor::Monitor& engine,
                                      const std::vector<std::string>& deployment_ids) {
    const json truth = Call(http, "GET", "/_sim/truth");
    std::map<std::string, json> by_id;
    for (const auto& d : truth["deployments"])
        by_id[d["id"]] = d;
    std::vector<std::string> out;
    for (const std::string& id : deployment_ids) {
        monitor::AddInstanceRequest request;
        request.service_id = by_id.at(id)["serviceId"];
        request.environment_id = by_id.at(id)["environmentId"];
        request.deployment_id = id;
        auto added = engine.AddInstance(request);
        if (!added) throw std::runtime_error(added.error().ToString());
        out.push_back(added->id);
    }
    return out;
}

/// What a run measured.
struct RunFigures {
    long long requests = 0;  ///< GraphQL requests the simulator received
    long long checks = 0;    ///< deployment ids the engine asked about
    long long refusals = 0;  ///< documents the simulator refused for their root fields
    int missing = 0;         ///< true transitions that lasted two intervals, not in the timeline
};

/// Follows 100 deployments of every kind (10 of them transient NETWORK failures) with the engine
/// until the store agrees with the simulator's truth, then checks the timeline, classification,
/// redeploys and rate limits. `faults`: the simulator's fault rates (empty: none); `delete_count`:
/// succeeding deployments deleted on the simulator two seconds into the run; `errors`: the
/// simulator's error settings (empty: its defaults); `batch_size`: the client's; `max_missing`:
/// true transitions that lasted two check intervals allowed to be missing from the timeline.
void FollowFleet(const json& faults, int delete_count, RunFigures* figures, const json& errors = json::object(),
                 std::size_t batch_size = 50, int max_missing = 0) {
    SimProcess sim({"--time-scale", "60", "--seed", "7"});
    ASSERT_NE(sim.port(), 0) << "the simulator did not start";
    httplib::Client http("127.0.0.1", sim.port());

    // Pro-like limits. The client's per-second bucket holds a full second of tokens and refills
    // while they are spent, so it can send up to twice its rate within one second: it is given half
    // of what the simulator enforces per second.
    (void)Call(http, "POST", "/_sim/config", {{"rateLimit", {{"rps", 50}, {"rph", 100000}}}});
    if (!faults.empty()) (void)Call(http, "POST", "/_sim/config", {{"faults", faults}});
    if (!errors.empty()) (void)Call(http, "POST", "/_sim/config", {{"errors", errors}});
    std::vector<std::string> ids;
    const json mix = {{"success", 3},    {"build_failed", 1},    {"deploy_failed", 1},   {"crash_after_success", 1},
                      {"crash_loop", 1}, {"stuck_deploying", 1}, {"waiting_skipped", 1}, {"removed", 1},
                      {"sleeping", 1},   {"needs_approval", 1}};
    const json mixed = Call(http, "POST", "/_sim/deployments", {{"count", 90}, {"mix", mix}});
    for (const auto& id : mixed.at("ids"))
        ids.push_back(id);
    // A transient failure (NETWORK): the policy redeploys it, at most 3 times (it fails again).
    const json transient =
        Call(http, "POST", "/_sim/deployments", {{"count", 10}, {"kind", "build_failed"}, {"reason", "etimedout"}});
    for (const auto& id : transient.at("ids"))
        ids.push_back(id);
    ASSERT_EQ(ids.size(), 100u);

    EngineRig rig(sim.port(), "store", 7, batch_size);
    ASSERT_TRUE(rig.opened) << rig.opened.error().ToString();
    store::Store& db = rig.db();
    monitor::MonitorOptions options = EngineRig::FastOptions("it");
    options.reactions.redeploy_backoff.base = core::Millis(100);
    options.reactions.redeploy_backoff.cap = core::Millis(500);
    NullSink sink;
    CountingApi counting(rig.client);
    monitor::Monitor engine(counting, db, db, db, db, rig.clock, sink, options);
    ASSERT_TRUE(engine.Start());

    const json truth0 = Call(http, "GET", "/_sim/truth");
    std::map<std::string, json> by_id;
    for (const auto& d : truth0["deployments"])
        by_id[d["id"]] = d;
    const std::vector<std::string> instances = AddInstances(http, engine, ids);

    // Deleted on Railway while followed: their monitoring ends; nobody else notices.
    std::set<std::string> deleted_instances;
    if (delete_count > 0) {
        std::this_thread::sleep_for(2s);
        json doomed = json::array();
        for (std::size_t i = 0; i < ids.size() && static_cast<int>(doomed.size()) < delete_count; ++i) {
            if (by_id[ids[i]]["kind"] == "success") {
                doomed.push_back(ids[i]);
                deleted_instances.insert(instances[i]);
            }
        }
        const json answer = Call(http, "POST", "/_sim/deployments/delete", {{"ids", doomed}});
        ASSERT_EQ(answer.value("deleted", 0), delete_count);
    }

    // Until every instance's followed deployment has reached its final status in the sim and the
    // store agrees (real time, generous bound).
    std::vector<std::string> disagreements;
    const auto deadline = std::chrono::steady_clock::now() + 150s;
    for (;;) {
        const json truth = Call(http, "GET", "/_sim/truth");
        by_id.clear();
        for (const auto& d : truth["deployments"])
            by_id[d["id"]] = d;
        disagreements.clear();
        for (const std::string& id : instances) {
            const auto instance = db.GetInstance(id);
            ASSERT_TRUE(instance);
            if (deleted_instances.count(id)) {
                if (instance->monitoring) disagreements.push_back(id + " (deleted on Railway) is still monitored");
                continue;
            }
            const std::string followed = instance->state.deployment_id.value_or("");
            const json& t = by_id[followed];
            if (!t.is_object()) {  // a deployment newer than the truth just read
                disagreements.push_back(id + " follows " + followed + ", not in the truth yet");
                continue;
            }
            const std::string stored = instance->state.deployment_status.value_or("(none)");
            const bool settled = t.value("currentStatus", "") == t.value("finalStatus", "?");
            const bool redeploy_due =
                instance->state.error_type == core::ErrorClass::kNetwork && instance->state.retry_count < 3;
            const bool unclassified =
                core::IsFailed(core::RailwayStatus::Parse(stored).value) && !instance->state.error_type;
            if (!settled || stored != t.value("currentStatus", "") || redeploy_due || unclassified) {
                disagreements.push_back(id + " follows " + followed + " (" + t.value("kind", "?") + "): stored " +
                                        stored + ", sim " + t.value("currentStatus", "?") + ", monitoring " +
                                        (instance->monitoring ? "on" : "off") + ", retries " +
                                        std::to_string(instance->state.retry_count) + ", error " +
                                        instance->state.error_message.value_or("none"));
            }
        }
        if (disagreements.empty() || std::chrono::steady_clock::now() > deadline) break;
        std::this_thread::sleep_for(500ms);
    }
    engine.Stop();
    EXPECT_TRUE(disagreements.empty()) << disagreements.size() << " not converged, first: " << disagreements.front();

    // Every true transition that lasted two check intervals (2 s) is in the timeline, and every
    // failure is classified; never more than 3 automatic redeploys.
    int missing = 0;
    int classified = 0;
    int failed = 0;
    std::string first_missing;
    for (const std::string& id : instances) {
        const auto instance = *db.GetInstance(id);
        EXPECT_LE(instance.state.retry_count, 3) << id;
        if (deleted_instances.count(id)) {
            EXPECT_FALSE(instance.monitoring) << id;
            EXPECT_THAT(instance.state.error_message.value_or(""), ::testing::HasSubstr("no longer knows")) << id;
            continue;
        }
        const auto events = *db.ListEvents(id, 1000);
        std::set<std::pair<std::string, std::string>> seen;  // (deployment, status)
        for (const auto& e : events)
            seen.insert({e.deployment_id, e.to_status});
        const json& t = by_id[*instance.state.deployment_id];
        const auto& timeline = t["timeline"];
        for (std::size_t i = 0; i < timeline.size(); ++i) {
            const auto at = util::ParseRfc3339(timeline[i]["at"].get<std::string>());
            const auto until = i + 1 < timeline.size() ? util::ParseRfc3339(timeline[i + 1]["at"].get<std::string>())
                                                       : util::ParseRfc3339(truth0["now"].get<std::string>());
            if (!at || !until) continue;
            const bool lasted = i + 1 == timeline.size() || *until - *at >= core::Seconds(2);
            const std::string status = timeline[i]["status"];
            if (lasted && !seen.count({*instance.state.deployment_id, status})) {
                ++missing;
                if (first_missing.empty()) first_missing = id + " " + status;
            }
        }
        if (core::IsFailed(core::RailwayStatus::Parse(instance.state.deployment_status.value_or("")).value)) {
            ++failed;
            if (instance.state.error_type) ++classified;
        }
    }
    EXPECT_LE(missing, max_missing) << "first: " << first_missing;
    figures->missing = missing;
    EXPECT_GT(failed, 0);
    EXPECT_EQ(classified, failed);
    const json stats = Call(http, "GET", "/_sim/stats");
    EXPECT_EQ(stats.value("rateLimited", -1), 0);
    figures->requests = stats.value("total", 0);
    figures->refusals = stats.value("rootFieldRefusals", 0);
    figures->checks = counting.status_ids.load();
    const int redeploys = stats["rootFields"].value("deploymentRedeploy", 0);
    EXPECT_GT(redeploys, 0);
    EXPECT_LE(redeploys, 30);  // 10 NETWORK failures, at most 3 each
    // Batched: rounds take what falls due within the batch window, so checks share requests. (Side
    // work, evidence and logs, is budgeted on its own and may use what polling leaves unused.)
    EXPECT_LE(counting.status_calls.load() * 10, counting.status_ids.load());
    std::cout << "engine-sim (faults " << faults.dump() << ", " << delete_count
              << " deleted) root fields: " << stats["rootFields"].dump() << "\n";
    std::cout << "engine-sim: " << counting.status_calls.load() << " status calls for " << counting.status_ids.load()
              << " ids\n";
    std::cout << "engine-sim: " << sink.transitions.load() << " transitions, " << stats.value("total", 0)
              << " GraphQL requests, " << redeploys << " redeploys, " << failed << " failed (" << classified
              << " classified)\n";
}

TEST(EngineSim, FollowsAHundredDeploymentsOfEveryKindToTheSimulatorsTruth) {
    RunFigures figures;
    FollowFleet(json::object(), 0, &figures);
}

// 10 deployments deleted on Railway mid-run: their monitoring ends with Railway's reason, the
// others reach the same final states. (With injected faults as well, one or two NETWORK failures
// whose redeploy failed ended neither redeployed nor flagged in each of three runs: the cause is
// not found yet, see docs/ENGINE.md.)
TEST(EngineSim, DeletedDeploymentsEndTheirMonitoringAndBlindNoOne) {
    RunFigures figures;
    FollowFleet(json::object(), 10, &figures);
}

// The same with a server that sends its errors without `path`: an answer with a deleted id then
// names no alias, and the client finds the deleted id by asking in halves. Before, every id of
// that request took the deleted one's "not found" and ended its monitoring. Finding each one
// costs about two requests per halving (~14 for a batch of 50), all ten at once here against the
// client's 25 requests a second: checks wait for the budget for a few seconds, and a status that
// lasted two 1 s intervals may pass unseen (0–2 in the runs of 2026-12-03), hence the allowance.
TEST(EngineSim, DeletedDeploymentsWhoseErrorsComeWithoutAPathEndOnlyTheirOwnMonitoring) {
    RunFigures figures;
    FollowFleet(json::object(), 10, &figures, {{"paths", false}}, 50, 5);
    std::cout << "engine-sim (errors without path): " << figures.missing
              << " true transitions of two intervals not in the timeline\n";
}

// A Railway that refuses documents of more than 30 root fields (as a complexity limit: HTTP 400,
// GRAPHQL_VALIDATION_FAILED): with 100 per request configured, the engine follows the same fleet
// to the same truth; the client learns a size Railway answers from the first refusals.
TEST(EngineSim, ARailwayThatRefusesMoreThanThirtyAliasesIsFollowedAllTheSame) {
    RunFigures figures;
    FollowFleet(json::object(), 0, &figures, {{"maxRootFields", 30}, {"tooManyRootFields", "complexity"}}, 100);
    EXPECT_GT(figures.refusals, 0);
    EXPECT_LE(figures.refusals, 24) << "refused requests in the whole run (the first polls, before a size is learnt)";
}

// A Railway that charges each root field (the simulator's `rateLimit.cost` "rootField", Hobby's 10
// a second, its headers describing the second, as examples/railway-unknowns.json sets it): a poll
// of more than 10 deployments in one request never fits a second and got 429 on every attempt
// (before this was handled: 10 429s in this run, the 12 first checks lost, and `serve` with 12
// instances due together answered none of them). Now the first poll's two 429s teach the client,
// requests carry one deployment each within the budget, and every deployment is followed to its
// final status with no 429 after (those of requests in flight when it learnt aside). The 12 are
// added before the engine starts, so its first poll carries them all, and the answers say how much
// of the second was left, so whether a 429 had room is Railway's word, not the process's own count
// at that moment: added while the engine ran and with headers of the hour, one run in a loaded
// `make test` followed every deployment and learnt nothing (its rounds fell otherwise).
TEST(EngineSim, ARailwayThatChargesEachRootFieldIsFollowedAllTheSame) {
    SimProcess sim({"--time-scale", "60", "--seed", "11"});
    ASSERT_NE(sim.port(), 0) << "the simulator did not start";
    httplib::Client http("127.0.0.1", sim.port());
    (void)Call(http, "POST", "/_sim/config",
               {{"rateLimit", {{"rps", 10}, {"rph", 100000}, {"headerWindow", "second"}, {"cost", "rootField"}}}});
    const json mix = {{"success", 6},
                      {"build_failed", 2},
                      {"deploy_failed", 1},
                      {"crash_after_success", 1},
                      {"stuck_initializing", 1},
                      {"removed", 1}};
    std::vector<std::string> ids = Call(http, "POST", "/_sim/deployments", {{"count", 12}, {"mix", mix}})["ids"];
    ASSERT_EQ(ids.size(), 12u);

    // Half the simulator's second, as the other tests; 12 deployments every 3 s fit in it.
    EngineRig rig(sim.port(), "per-field", 11, railway::ClientConfig{}.batch_size, {100000, 5});
    ASSERT_TRUE(rig.opened) << rig.opened.error().ToString();
    store::Store& db = rig.db();
    monitor::MonitorOptions options = EngineRig::FastOptions("per-field", core::Seconds(3));
    options.requests_per_second = 5;
    NullSink sink;
    monitor::Monitor engine(rig.client, db, db, db, db, rig.clock, sink, options);
    const std::vector<std::string> instances = AddInstances(http, engine, ids);
    ASSERT_TRUE(engine.Start());

    std::vector<std::string> behind;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    // The simulator's 429s once the lesson has settled: learnt (status requests of one deployment)
    // and 2 s more, past the Retry-After of any request in flight when it was learnt.
    std::optional<std::chrono::steady_clock::time_point> learnt_at;
    std::optional<int> limited_after_lesson;
    for (;;) {
        if (!learnt_at && rig.client.StatusBatchSize() == 1u) learnt_at = std::chrono::steady_clock::now();
        if (learnt_at && !limited_after_lesson && std::chrono::steady_clock::now() - *learnt_at >= 2s)
            limited_after_lesson = Call(http, "GET", "/_sim/stats").value("rateLimited", -1);
        const json now = Call(http, "GET", "/_sim/truth");
        std::map<std::string, json> truth;
        for (const auto& d : now["deployments"])
            truth[d["id"]] = d;
        behind.clear();
        for (const std::string& id : instances) {
            const auto instance = db.GetInstance(id);
            ASSERT_TRUE(instance);
            const std::string followed = instance->state.deployment_id.value_or("");
            const json& t = truth[followed];
            const std::string stored = instance->state.deployment_status.value_or("(none)");
            if (!t.is_object()) {
                behind.push_back(id + " follows " + followed + ", not in the truth");
            } else if (t.value("currentStatus", "") != t.value("finalStatus", "?") ||
                       stored != t.value("finalStatus", "?")) {
                behind.push_back(followed + " (" + t.value("kind", "?") + "): stored " + stored + ", sim " +
                                 t.value("currentStatus", "?"));
            }
        }
        // Done when every one is at its final status and the lesson, once learnt, has settled.
        if ((behind.empty() && (!learnt_at || limited_after_lesson)) || std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(500ms);
    }
    const json stats = Call(http, "GET", "/_sim/stats");
    engine.Stop();
    EXPECT_TRUE(behind.empty()) << behind.size() << " not at their final status, first: " << behind.front();
    EXPECT_EQ(rig.client.StatusBatchSize(), 1u);
    // Two 429s teach the client; requests of several root fields already in flight then may get
    // theirs too (2–5 seen). After that, none.
    EXPECT_GE(stats.value("rateLimited", -1), 2);
    ASSERT_TRUE(limited_after_lesson.has_value()) << "the lesson was not learnt 2 s before the end";
    EXPECT_EQ(stats.value("rateLimited", -1), *limited_after_lesson) << "429s after the lesson: " << stats.dump();
    std::cout << "engine-sim (charged per root field): " << stats.value("total", 0) << " requests, "
              << stats.value("rateLimited", 0) << " of them 429, root fields " << stats["rootFields"].dump() << "\n";
}

/// Keeps the last health check and verdict per instance, as the prober reports them.
class HealthSink final : public monitor::EventSink {
  public:
    void OnInstance(const store::Instance&) override {}
    void OnTransition(const store::Instance&, const store::TimelineEvent&) override {}
    void OnHealth(const store::Instance& instance, const store::HealthCheck&) override {
        std::lock_guard lock(mutex_);
        ++reports_[instance.id];
    }
    int Reports(const std::string& id) {
        std::lock_guard lock(mutex_);
        return reports_[id];
    }

  private:
    std::mutex mutex_;
    std::map<std::string, int> reports_;
};

// Running services are probed over real HTTP at the domain and healthcheck path the simulator's
// serviceInstance names (its health server on loopback), each judged by what it answers: 200 →
// HEALTHY, 503 → UNHEALTHY after the failure threshold, slower than the slow threshold →
// DEGRADED, no answer within the probe timeout → a "timeout" failure. Meanwhile status checks go on.
TEST(EngineSim, RunningServicesAreProbedAtTheirDomainsAndJudgedByWhatTheyAnswer) {
    SimProcess sim({"--time-scale", "60", "--seed", "11"});
    ASSERT_NE(sim.port(), 0) << "the simulator did not start";
    httplib::Client http("127.0.0.1", sim.port());
    (void)Call(http, "POST", "/_sim/config", {{"slowHealthMs", 800}});
    std::map<std::string, std::string> deployment_of;  // health mode -> deployment id
    for (const char* mode : {"healthy", "failing", "slow"}) {
        const json made =
            Call(http, "POST", "/_sim/deployments", {{"count", 1}, {"kind", "success"}, {"health", mode}});
        deployment_of[mode] = made.at("ids").at(0);
    }

    EngineRig rig(sim.port(), "probes", 11);
    ASSERT_TRUE(rig.opened) << rig.opened.error().ToString();
    store::Store& db = rig.db();
    net::CurlTransport probe_transport;
    HealthSink sink;
    monitor::Monitor engine(rig.client, db, db, db, db, rig.clock, sink, EngineRig::FastOptions("probes"));
    monitor::ProberOptions probes;
    probes.interval = core::Seconds(1);
    probes.timeout = core::Seconds(5);
    probes.policy.failure_threshold = 2;
    probes.policy.slow_threshold = core::Millis(400);
    engine.EnableProbes(db, probe_transport, probes);
    ASSERT_TRUE(engine.Start());

    std::map<std::string, std::string> instance_of;  // health mode -> instance id
    for (const auto& [mode, deployment] : deployment_of)
        instance_of[mode] = AddInstances(http, engine, {deployment}).at(0);
    const std::map<std::string, std::string> expected = {
        {"healthy", "HEALTHY"}, {"failing", "UNHEALTHY"}, {"slow", "DEGRADED"}};
    std::map<std::string, std::string> seen;
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (seen != expected && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
        for (const auto& [mode, id] : instance_of)
            seen[mode] = db.GetInstance(id)->state.health.value_or("(none)");
    }
    // A probe timeout shorter than the slow service's answer: a failure named "timeout".
    const long long status_reads_before = Call(http, "GET", "/_sim/stats")["rootFields"].value("deployment", 0);
    (void)Call(http, "POST", "/_sim/config", {{"slowHealthMs", 6000}});
    const std::string slow = instance_of["slow"];
    std::optional<store::HealthCheck> timed_out;
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (!timed_out && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(200ms);
        const auto recent = db.RecentHealthChecks(slow, 3);
        ASSERT_TRUE(recent) << recent.error().ToString();
        for (const auto& check : *recent)
            if (!check.ok) timed_out = check;
    }
    // While that probe hung for 5 s, status checks (every second) went on.
    const long long status_reads_during =
        Call(http, "GET", "/_sim/stats")["rootFields"].value("deployment", 0) - status_reads_before;
    engine.Stop();

    EXPECT_EQ(seen, expected);
    const auto healthy = *db.RecentHealthChecks(instance_of["healthy"], 100);
    ASSERT_FALSE(healthy.empty());
    EXPECT_TRUE(healthy.front().ok);
    EXPECT_EQ(healthy.front().http_status, 200);
    const auto failing = *db.RecentHealthChecks(instance_of["failing"], 100);
    ASSERT_GE(failing.size(), 2u);
    EXPECT_EQ(failing.front().http_status, 503);
    EXPECT_EQ(failing.front().error, "HTTP 503");
    ASSERT_TRUE(timed_out.has_value()) << "no probe of the slow service timed out";
    EXPECT_EQ(timed_out->error, "timeout");
    EXPECT_GE(sink.Reports(instance_of["healthy"]), 1);
    // The deployments themselves stayed RUNNING: a failing probe is health, not a status change.
    for (const auto& [mode, id] : instance_of)
        EXPECT_EQ(db.GetInstance(id)->state.status, core::InstanceStatus::kRunning) << mode;
    EXPECT_GE(status_reads_during, 6) << "status checks stalled while a probe hung";
    const json stats = Call(http, "GET", "/_sim/stats");
    std::cout << "engine-sim probes: root fields " << stats["rootFields"].dump() << "\n";
    // One serviceInstance lookup per service while its answer is fresh (10 minutes).
    EXPECT_LE(stats["rootFields"].value("serviceInstance", 0), 3);
}

// Whether Railway moves a deployment's updatedAt while it builds is not documented; the simulator
// answers both ways (errors.updatedAt). With "status" it keeps updatedAt at the status change:
// through a build of ~20 s whose log grows every second or so, a stall deadline of 8 s is passed
// in every status check — yet the build is alive, and its log says so. The engine confirms each
// stall against the log before it flags it. Either way the builds run to SUCCESS unflagged, and a
// stall without a log to look at (stuck_initializing) is flagged.
class StallLogTest : public ::testing::TestWithParam<const char*> {};

TEST_P(StallLogTest, ABuildWhoseLogGrowsIsNotFlaggedAsStuck) {
    SimProcess sim({"--time-scale", "10", "--seed", "17"});
    ASSERT_NE(sim.port(), 0) << "the simulator did not start";
    httplib::Client http("127.0.0.1", sim.port());
    (void)Call(http, "POST", "/_sim/config", {{"errors", {{"updatedAt", GetParam()}}}});
    const json alive = Call(http, "POST", "/_sim/deployments", {{"count", 2}, {"kind", "success"}});
    const json silent = Call(http, "POST", "/_sim/deployments", {{"count", 1}, {"kind", "stuck_initializing"}});
    std::vector<std::string> deployments = alive.at("ids");
    deployments.push_back(silent.at("ids").at(0));

    EngineRig rig(sim.port(), "stall-log", 17);
    ASSERT_TRUE(rig.opened) << rig.opened.error().ToString();
    store::Store& db = rig.db();
    NullSink sink;
    monitor::Monitor engine(rig.client, db, db, db, db, rig.clock, sink,
                            EngineRig::StallOptions("stall-log", core::Seconds(8)));
    ASSERT_TRUE(engine.Start());
    const std::vector<std::string> instances = AddInstances(http, engine, deployments);
    ASSERT_EQ(instances.size(), 3u);

    // Until both builds ran to SUCCESS (200 s of simulated build, ~20 s here) and the silent one
    // was flagged.
    const auto deadline = std::chrono::steady_clock::now() + 150s;
    bool done = false;
    while (!done && std::chrono::steady_clock::now() < deadline) {
        const auto a = db.GetInstance(instances[0]);
        const auto b = db.GetInstance(instances[1]);
        const auto c = db.GetInstance(instances[2]);
        ASSERT_TRUE(a && b && c);
        done = a->state.deployment_status == "SUCCESS" && b->state.deployment_status == "SUCCESS" &&
               c->state.needs_attention;
        if (!done) std::this_thread::sleep_for(250ms);
    }
    engine.Stop();
    ASSERT_TRUE(done) << "the builds did not finish, or the silent one was not flagged, within 150 s";
    for (std::size_t i = 0; i < 2; ++i) {
        const auto instance = db.GetInstance(instances[i]);
        ASSERT_TRUE(instance);
        EXPECT_FALSE(instance->state.needs_attention) << instance->state.attention_reason.value_or("");
        const auto events = *db.ListEvents(instances[i], 1000);
        EXPECT_EQ(std::count_if(events.begin(), events.end(), [](const auto& e) { return e.source == "attention"; }), 0)
            << "a growing build was flagged as stuck";
        // It was alive by its log, not by a status change within the deadline: its build took
        // longer than the deadline.
        const auto building =
            std::find_if(events.begin(), events.end(), [](const auto& e) { return e.to_status == "BUILDING"; });
        const auto deploying =
            std::find_if(events.begin(), events.end(), [](const auto& e) { return e.to_status == "DEPLOYING"; });
        ASSERT_TRUE(building != events.end() && deploying != events.end());
        EXPECT_GT(deploying->at - building->at, core::Seconds(10));
    }
    const auto flagged = db.GetInstance(instances[2]);
    ASSERT_TRUE(flagged);
    EXPECT_THAT(flagged->state.attention_reason.value_or(""), ::testing::HasSubstr("no progress in INITIALIZING"));
}

INSTANTIATE_TEST_SUITE_P(EngineSim, StallLogTest, ::testing::Values("status", "logs"),
                         [](const auto& info) { return std::string("UpdatedAtFollows_") + info.param; });

// Deployments stalled in DEPLOYING past the stuck deadline are flagged once; while the simulator
// reports an incident (platformStatus), the flag says the stall is likely Railway's, and the
// engine reads platformStatus only when a stall is about to be flagged.
TEST(EngineSim, StallsDuringARailwayIncidentAreFlaggedAsLikelyRailways) {
    SimProcess sim({"--time-scale", "60", "--seed", "13"});
    ASSERT_NE(sim.port(), 0) << "the simulator did not start";
    httplib::Client http("127.0.0.1", sim.port());
    (void)Call(http, "POST", "/_sim/config", {{"incident", "Deploys are slower than usual"}});
    const std::vector<std::string> deployments =
        Call(http, "POST", "/_sim/deployments", {{"count", 3}, {"kind", "stuck_deploying"}}).at("ids");

    EngineRig rig(sim.port(), "incident", 13);
    ASSERT_TRUE(rig.opened) << rig.opened.error().ToString();
    store::Store& db = rig.db();
    NullSink sink;
    monitor::Monitor engine(rig.client, db, db, db, db, rig.clock, sink,
                            EngineRig::StallOptions("incident", core::Seconds(3)));
    ASSERT_TRUE(engine.Start());
    const std::vector<std::string> instances = AddInstances(http, engine, deployments);

    std::vector<std::string> reasons;
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
        reasons.clear();
        for (const std::string& id : instances) {
            const auto instance = db.GetInstance(id);
            ASSERT_TRUE(instance) << instance.error().ToString();
            if (instance->state.needs_attention) reasons.push_back(instance->state.attention_reason.value_or(""));
        }
        if (reasons.size() == instances.size()) break;
        std::this_thread::sleep_for(200ms);
    }
    const auto incident = engine.PlatformIncident();
    engine.Stop();
    ASSERT_EQ(reasons.size(), instances.size()) << "not every stall was flagged";
    for (const std::string& reason : reasons)
        EXPECT_THAT(reason, ::testing::HasSubstr("likely theirs"));
    EXPECT_TRUE(incident.has_value());
    const json stats = Call(http, "GET", "/_sim/stats");
    std::cout << "engine-sim incident: root fields " << stats["rootFields"].dump() << "\n";
    // At most once a minute, and only for stalls: within this run, at most two reads.
    EXPECT_GE(stats["rootFields"].value("platformStatus", 0), 1);
    EXPECT_LE(stats["rootFields"].value("platformStatus", 0), 2);
}

// A push to a watched service whose deployment runs: the new deployment fails to build while the
// old one keeps running (Railway removes the old one only when a new one succeeds), so nothing
// about the followed deployment changes. An environment read finds the new one; it is followed
// to its failure and classified. In both orders Railway may list deployments in: newest first,
// the list of what is new since the first (whole) read finds it; oldest first, the list is seen
// not to be newest first and a whole read finds it.
class EngineSimPush : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineSimPush, AFailedPushToAWatchedServiceIsFollowedWhileTheOldDeploymentRuns) {
    const bool newest_first = GetParam() == "newestFirst";
    SimProcess sim({"--time-scale", "60", "--seed", "17"});
    ASSERT_NE(sim.port(), 0) << "the simulator did not start";
    httplib::Client http("127.0.0.1", sim.port());
    Call(http, "POST", "/_sim/config", {{"errors", {{"deploymentOrder", GetParam()}}}});
    const std::string first = Call(http, "POST", "/_sim/deployments", {{"kind", "success"}}).at("ids").at(0);

    EngineRig rig(sim.port(), "push", 17);
    ASSERT_TRUE(rig.opened) << rig.opened.error().ToString();
    store::Store& db = rig.db();
    monitor::MonitorOptions options = EngineRig::FastOptions("push");
    options.discovery_interval = core::Seconds(2);
    NullSink sink;
    monitor::Monitor engine(rig.client, db, db, db, db, rig.clock, sink, options);
    ASSERT_TRUE(engine.Start());
    const std::string instance = AddInstances(http, engine, {first}).at(0);
    const auto wait_for = [&](const std::function<bool(const store::Instance&)>& done) {
        const auto deadline = std::chrono::steady_clock::now() + 90s;
        while (std::chrono::steady_clock::now() < deadline) {
            const auto stored = db.GetInstance(instance);
            if (stored && done(*stored)) return true;
            std::this_thread::sleep_for(200ms);
        }
        return false;
    };
    ASSERT_TRUE(wait_for([](const store::Instance& i) { return i.state.deployment_status == "SUCCESS"; }));

    // The push comes after the environment's first read (whole), so that the next reads find it.
    const auto read_whole = [&] { return Call(http, "GET", "/_sim/stats")["rootFields"].value("environment", 0); };
    for (int wait = 0; wait < 300 && read_whole() < 1; ++wait)
        std::this_thread::sleep_for(100ms);
    ASSERT_EQ(read_whole(), 1) << "no environment read";
    const json truth = Call(http, "GET", "/_sim/truth?id=" + first);
    const std::string service = truth["deployments"][0]["serviceId"];
    const std::string pushed = Call(http, "POST", "/_sim/deployments",
                                    {{"kind", "build_failed"}, {"reason", "npm_elifecycle"}, {"serviceId", service}})
                                   .at("ids")
                                   .at(0);
    const bool followed = wait_for([&](const store::Instance& i) {
        return i.state.deployment_id == pushed && i.state.deployment_status == "FAILED" && i.state.error_type;
    });
    engine.Stop();
    const auto stored = *db.GetInstance(instance);
    ASSERT_TRUE(followed) << Call(http, "GET", "/_sim/stats")["rootFields"].dump() << " still follows "
                          << stored.state.deployment_id.value_or("?") << " in "
                          << stored.state.deployment_status.value_or("?");
    EXPECT_EQ(stored.state.status, core::InstanceStatus::kFailed);
    EXPECT_EQ(stored.state.error_type, core::ErrorClass::kConfiguration);  // npm ELIFECYCLE: a build error
    // The old deployment still runs on the simulator: it was never removed.
    EXPECT_EQ(Call(http, "GET", "/_sim/truth?id=" + first)["deployments"][0]["currentStatus"], "SUCCESS");
    const json stats = Call(http, "GET", "/_sim/stats");
    std::cout << "engine-sim push (" << GetParam() << "): root fields " << stats["rootFields"].dump() << "\n";
    EXPECT_GE(stats["rootFields"].value("deployments", 0), newest_first ? 2 : 1);
    if (newest_first) {
        EXPECT_EQ(stats["rootFields"].value("environment", 0), 1);  // the first read's only
    } else {
        EXPECT_GE(stats["rootFields"].value("environment", 0), 2);  // the lists given up
    }
}

INSTANTIATE_TEST_SUITE_P(PlausibleOrders, EngineSimPush, ::testing::Values("newestFirst", "oldestFirst"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace railwatch
