// [engine] acceptance: the real `railwatch serve` follows 1,000 deployments of every lifecycle kind
// in the real `railwatch sim`, added through the REST API, and ends with the sim's ground truth —
// once without faults, once with 20 % injected API faults and ids deleted mid-run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <thread>
#include <tuple>

#include "fleet_run.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// What the scenario intends for each failure reason (docs/SIMULATOR.md, interface.md).
std::string IntendedClass(const std::string& reason) {
    static const std::map<std::string, std::string> classes = {
        {"missing_env", "CONFIGURATION"},    {"oom", "RESOURCE"},
        {"healthcheck", "TIMEOUT"},          {"etimedout", "NETWORK"},
        {"npm_elifecycle", "CONFIGURATION"}, {"python_settings", "CONFIGURATION"}};
    return classes.at(reason);
}

double Seconds(const std::string& from, const std::string& to) {
    const auto a = util::ParseRfc3339(from);
    const auto b = util::ParseRfc3339(to);
    if (!a || !b) return 0;
    return std::chrono::duration<double>(*b - *a).count();
}

int RequestsSoFar(FleetRun& run) {
    const json stats = json::parse(run.sim().Get("/_sim/stats"), nullptr, false);
    return stats.is_discarded() ? -1 : stats["total"].get<int>();
}

/// A deployment Railway reports FAILED or CRASHED whose instance is still monitored and has no
/// class yet (SKIPPED and REMOVED deployments are not failures to classify).
bool AwaitsVerdict(const json& instance) {
    const bool failed = instance["deploymentStatus"] == "FAILED" || instance["deploymentStatus"] == "CRASHED";
    return failed && instance["monitoring"] == true && !instance["errorType"].is_string() &&
           instance["needsAttention"] != true;
}

/// Classification follows a failure on the engine's workers: waits (≤ 120 s) until no instance
/// awaits its verdict.
void AwaitVerdicts(FleetRun& run) {
    for (const auto deadline = std::chrono::steady_clock::now() + 120s; std::chrono::steady_clock::now() < deadline;
         std::this_thread::sleep_for(1s)) {
        const auto listed = run.Instances();
        if (std::none_of(listed.begin(), listed.end(), AwaitsVerdict)) return;
    }
}

/// What a person needs to see why instances did not converge: for the first few, the instance as
/// listed, its timeline, the sim's truth of every deployment of its service and what the sim was
/// asked about the deployment it follows.
std::string DescribeOpen(FleetRun& run, const std::vector<std::string>& open) {
    std::string out;
    std::map<std::string, json> listed;
    for (const auto& instance : run.Instances())
        listed[instance["id"].get<std::string>()] = instance;
    const json everything = json::parse(run.sim().Get("/_sim/truth"), nullptr, false);
    for (std::size_t i = 0; i < open.size() && i < 3; ++i) {
        const json& instance = listed[open[i]];
        out += "instance " + instance.dump() + "\n";
        for (const auto& e : run.Events(open[i]))
            out += "  event " + e.dump() + "\n";
        if (!everything.is_discarded() && everything.contains("deployments")) {
            for (const auto& d : everything["deployments"])
                if (d["serviceId"] == instance["serviceId"]) out += "  truth " + d.dump() + "\n";
        }
        if (instance["deploymentId"].is_string()) {
            const std::string id = instance["deploymentId"].get<std::string>();
            const json asked = json::parse(run.sim().Get("/_sim/queries?id=" + id), nullptr, false);
            out += "  asked about " + id + ":";
            if (!asked.is_discarded() && asked["deployments"].contains(id)) {
                for (const auto& q : asked["deployments"][id])
                    out += " " + q["at"].get<std::string>() + " " + q["operation"].get<std::string>() + ";";
            }
            out += "\n";
        }
    }
    return out;
}

/// The checks both runs share. Returns the GraphQL requests the sim received.
/// Both runs hold the final states, the classification and the reactions to the acceptance's bar;
/// `full` (the fault-free run) also every transition that lasted two intervals, which the fault
/// run prints: a check lost to a fault can miss a short phase.
int CheckRun(FleetRun& run, const std::set<std::string>& deleted, bool full) {
    const auto open = run.AwaitConvergence(300s);
    EXPECT_TRUE(open.empty()) << open.size() << " instances did not reach the sim's final status:\n"
                              << DescribeOpen(run, open);
    AwaitVerdicts(run);
    const int requests = RequestsSoFar(run);

    const auto instances = run.Instances();
    EXPECT_EQ(instances.size(), run.created().size());
    std::map<std::string, json> by_id;
    for (const auto& instance : instances)
        by_id[instance["id"].get<std::string>()] = instance;

    std::map<std::string, int> breakdown;
    int failures = 0, classified = 0, network = 0, network_redeployed = 0;
    int transitions_due = 0, transitions_seen = 0;
    std::vector<std::string> missing_examples, class_examples;
    for (const auto& created : run.created()) {
        // (not a structured binding: a lambda below captures the deployment id)
        const std::string& deployment_id = created.first;
        const json& truth = created.second;
        const std::string instance_id = run.instance_of().at(deployment_id);
        const auto found = by_id.find(instance_id);
        if (found == by_id.end()) {
            ADD_FAILURE() << "instance " << instance_id << " (deployment " << deployment_id << ") is not listed";
            continue;
        }
        const json& instance = found->second;
        const auto events = run.Events(instance_id);
        std::set<std::string> followed;
        for (const auto& e : events)
            followed.insert(e["deploymentId"].get<std::string>());
        const int redeploys = static_cast<int>(followed.size()) - 1;
        EXPECT_LE(redeploys, 3) << instance_id << " followed " << followed.size() << " deployments";

        if (deleted.count(deployment_id) != 0) {
            EXPECT_EQ(instance["monitoring"], false) << instance.dump();
            continue;
        }
        // Every true transition of the original deployment that lasted two check intervals (with
        // room for the jitter) after the instance was added is in its timeline.
        const auto& timeline = truth["plannedTimeline"];
        const std::string added = instance["createdAt"].get<std::string>();
        for (std::size_t i = 0; i + 1 < timeline.size(); ++i) {
            const std::string status = timeline[i]["status"].get<std::string>();
            const std::string end = timeline[i + 1]["at"].get<std::string>();
            const double lasted = Seconds(timeline[i]["at"].get<std::string>(), end);
            const double visible = std::min(lasted, Seconds(added, end));
            if (visible < 2.5 * FleetRun::IntervalOf(status)) continue;
            ++transitions_due;
            const bool seen = std::any_of(events.begin(), events.end(), [&](const json& e) {
                return e["deploymentId"] == deployment_id && e["to"] == status;
            });
            if (seen) {
                ++transitions_seen;
            } else if (missing_examples.size() < 5) {
                missing_examples.push_back(instance_id + " " + deployment_id + " " + status);
            }
        }
        if (!truth["reason"].is_string()) continue;
        ++failures;
        const std::string intended = IntendedClass(truth["reason"].get<std::string>());
        // What the user was told (the in-app notice of the failure), else what the instance shows.
        std::set<std::string> told;
        for (const auto& n : run.Notifications(deployment_id))
            if (n["errorType"].is_string()) told.insert(n["errorType"].get<std::string>());
        // A network failure is redeployed before anyone is told (the policy): a redeploy that then
        // succeeded leaves no notice, and the redeploy itself is the policy's answer to NETWORK.
        std::string got = told.count(intended) != 0           ? intended
                          : !told.empty()                     ? *told.begin()
                          : instance["errorType"].is_string() ? instance["errorType"].get<std::string>()
                          : redeploys > 0                     ? "NETWORK"
                                                              : "";
        breakdown[truth["kind"].get<std::string>() + "/" + truth["reason"].get<std::string>() + " -> " +
                  (got.empty() ? "none" : got)]++;
        if (got == intended) {
            ++classified;
        } else if (class_examples.size() < 5) {
            class_examples.push_back(instance_id + " " + truth["kind"].get<std::string>() + "/" +
                                     truth["reason"].get<std::string>() + ": " + got + " (intended " + intended + ")");
        }
        if (intended == "NETWORK") {
            ++network;
            if (redeploys >= 1) ++network_redeployed;
        }
        if (full && intended == "CONFIGURATION") {
            EXPECT_EQ(redeploys, 0) << instance_id << ": configuration is not retried";
        }
    }
    // Under faults too: a failed request delays a verdict or a redeploy, it never loses one.
    EXPECT_GE(classified * 100, failures * 95)
        << classified << " of " << failures << " failures classified as intended; e.g. "
        << ::testing::PrintToString(class_examples);
    EXPECT_GE(network_redeployed * 100, network * 95)
        << network_redeployed << " of " << network << " network failures redeployed";
    if (full) {
        EXPECT_EQ(transitions_seen, transitions_due) << ::testing::PrintToString(missing_examples);
    }
    std::printf(
        "run: %d of %d transitions that lasted two intervals recorded; %d of %d network failures "
        "redeployed\n",
        transitions_seen, transitions_due, network_redeployed, network);
    for (const auto& [what, count] : breakdown)
        std::printf("  %-50s %d\n", what.c_str(), count);
    ::testing::Test::RecordProperty("requests", requests);
    ::testing::Test::RecordProperty("failures", failures);
    ::testing::Test::RecordProperty("transitions_checked", transitions_due);
    std::printf("run: %d requests, %d failures (%d classified as intended), %d transitions checked\n", requests,
                failures, classified, transitions_due);
    return requests;
}

int g_fault_free_requests = 0;

TEST(EngineAcceptance, FollowsAThousandDeploymentsOfEveryKindToTheSimulatorsTruth) {
    FleetRun run({});
    ASSERT_TRUE(run.Start()) << run.problem;
    ASSERT_TRUE(run.AddFleet()) << run.problem;
    g_fault_free_requests = CheckRun(run, {}, true);
    EXPECT_GT(g_fault_free_requests, 0);
}

TEST(EngineAcceptance, TheSameUnderTwentyPercentApiFaultsAndIdsDeletedMidRun) {
    FleetRun::Options options;
    options.sim_config = {{"faults",
                           {{"http500", 0.05},
                            {"http503", 0.04},
                            {"hang", 0.02},
                            {"hangMs", 3000},
                            {"reset", 0.04},
                            {"malformedJson", 0.03},
                            {"html403", 0.02}}}};
    FleetRun run(options);
    ASSERT_TRUE(run.Start()) << run.problem;
    ASSERT_TRUE(run.AddFleet()) << run.problem;

    // Ten deployments still building disappear from Railway.
    std::this_thread::sleep_for(3s);
    std::vector<std::string> doomed;
    for (const auto& [id, truth] : run.created())
        if (truth["kind"] == "success" && doomed.size() < 10) doomed.push_back(id);
    const json deleted =
        json::parse(run.sim().Post("/_sim/deployments/delete", json{{"ids", doomed}}.dump()), nullptr, false);
    ASSERT_EQ(deleted["deleted"], 10) << deleted.dump();

    const int requests = CheckRun(run, std::set<std::string>(doomed.begin(), doomed.end()), false);
    const json stats = json::parse(run.sim().Get("/_sim/stats"), nullptr, false);
    EXPECT_GT(stats["faults"].size(), 0u) << "no fault was injected: " << stats.dump();
    EXPECT_TRUE(run.serve().running()) << "serve crashed:\n" << run.serve().Log();
    // RAILWATCH_ACCEPTANCE_LOG=FILE keeps serve's log of the fault run for a look at what it did.
    if (const char* keep = std::getenv("RAILWATCH_ACCEPTANCE_LOG")) std::ofstream(keep) << run.serve().Log();
    if (g_fault_free_requests > 0) {
        EXPECT_LE(requests * 2, g_fault_free_requests * 3)
            << requests << " requests with faults, " << g_fault_free_requests << " without";
    }
}

// SIGKILL `serve` three times at random points of a run and restart it each time (same database,
// same worker id): nothing it had recorded is lost, no outbox row is written twice, checks resume
// at once, and the fleet still ends at the sim's truth with every failure answered.
TEST(EngineAcceptance, ThreeSigkillsLoseNoTransitionAndWriteNoOutboxRowTwice) {
    FleetRun::Options options;
    options.deployments = 300;
    FleetRun run(options);
    ASSERT_TRUE(run.Start()) << run.problem;
    ASSERT_TRUE(run.AddFleet()) << run.problem;

    using Row = std::tuple<std::string, std::string, std::string, std::string>;  // instance, deployment, to, at
    const auto timeline = [&] {
        std::set<Row> rows;
        for (const auto& [deployment_id, instance_id] : run.instance_of()) {
            for (const auto& e : run.Events(instance_id)) {
                rows.insert({instance_id, e["deploymentId"].get<std::string>(), e["to"].get<std::string>(),
                             e["at"].get<std::string>()});
            }
        }
        return rows;
    };
    const auto status_requests = [&] {
        const json stats = json::parse(run.sim().Get("/_sim/stats"), nullptr, false);
        return stats.is_discarded() ? -1 : stats["rootFields"].value("deployment", 0);
    };
    std::mt19937 random(std::random_device{}());
    std::set<Row> recorded;
    for (int kill = 1; kill <= 3; ++kill) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(1000, 6000)(random)));
        const auto before = timeline();
        recorded.insert(before.begin(), before.end());
        run.serve().Kill();
        const int requests_at_kill = status_requests();
        ASSERT_TRUE(run.serve().Start()) << "restart " << kill << ":\n" << run.serve().Log();
        const auto ready = std::chrono::steady_clock::now();
        // Resumed: status checks go out again right after the ready line (intervals are 1-2 s).
        while (status_requests() <= requests_at_kill && std::chrono::steady_clock::now() - ready < 30s)
            std::this_thread::sleep_for(50ms);
        const double resumed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - ready).count();
        std::printf("kill %d: %zu timeline rows recorded before it; checks resumed %.2f s after the restart\n", kill,
                    before.size(), resumed_s);
        EXPECT_LT(resumed_s, 2 * FleetRun::IntervalOf("SUCCESS")) << "restart " << kill;
    }

    const auto open = run.AwaitConvergence(300s);
    EXPECT_TRUE(open.empty()) << open.size() << " instances did not reach the sim's final status, e.g. "
                              << open.front();
    const auto after = timeline();
    std::vector<Row> lost;
    std::set_difference(recorded.begin(), recorded.end(), after.begin(), after.end(), std::back_inserter(lost));
    EXPECT_TRUE(lost.empty()) << lost.size() << " timeline rows recorded before a kill are gone";

    // One outbox row per event and channel (each instance has its own user and no other channel).
    const auto deliveries = run.serve().Get("/api/v1/deliveries?limit=1000");
    ASSERT_EQ(deliveries.status, 200) << deliveries.raw;
    ASSERT_LT(deliveries.body["items"].size(), 1000u) << "more rows than one page: the check would miss some";
    std::map<std::pair<std::string, std::string>, int> per_event;
    for (const auto& row : deliveries.body["items"]) {
        if (row["eventId"].is_string())
            ++per_event[{row["eventId"].get<std::string>(), row["channel"].get<std::string>()}];
    }
    EXPECT_FALSE(per_event.empty());
    for (const auto& [key, count] : per_event)
        EXPECT_EQ(count, 1) << "event " << key.first << " has " << count << " " << key.second << " rows";

    // Failures whose verdict or redeploy was queued when a kill came are answered after the restart.
    AwaitVerdicts(run);
    for (const auto& instance : run.Instances())
        EXPECT_FALSE(AwaitsVerdict(instance)) << instance.dump();
    std::printf("sigkills: %zu timeline rows in all, %zu outbox rows\n", after.size(), deliveries.body["items"].size());
}

}  // namespace
}  // namespace railwatch::test
