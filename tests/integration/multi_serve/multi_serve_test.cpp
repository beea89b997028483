// [engine] acceptance: "3 `serve` processes on one PostgreSQL, one killed mid-run: every deployment
// still followed, none checked by two workers for one due time."
//
// Three real `railwatch serve` processes (worker ids a, b, c, a 10 s lease) share one database on
// a PostgreSQL cluster started by the test and one real `railwatch sim`. Each reaches the sim with
// its own query string (`/graphql/v2?w=a`), and the sim records every `deployment(id)` field with
// its time and query string (GET /_sim/queries): who checked which deployment when. One serve is
// killed with SIGKILL mid-run; the other two finish the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support/postgres_cluster.hpp"
#include "support/serve_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kAccountToken = "multi-serve-account-token";
constexpr int kDeployments = 300;
constexpr int kLeaseSeconds = 10;  // [monitor] lease_seconds
// The engine's own knobs (MonitorOptions, not configurable): a round claims what falls due within
// batch_window after now, and an idle scheduler looks at the schedule at least every max_idle_wait.
constexpr double kBatchWindowSeconds = 2;
constexpr double kMaxIdleWaitSeconds = 5;
constexpr double kJitter = 0.1;  // core::IntervalPolicy::jitter_fraction

// Check intervals of the run (seconds).
const std::map<std::string, int>& Intervals() {
    static const std::map<std::string, int> intervals = {{"INITIALIZING", 4}, {"BUILDING", 4}, {"DEPLOYING", 4},
                                                         {"SUCCESS", 5},      {"FAILED", 5},   {"CRASHED", 5},
                                                         {"default", 4}};
    return intervals;
}

double IntervalOf(const std::string& status) {
    const auto it = Intervals().find(status);
    return it == Intervals().end() ? Intervals().at("default") : it->second;
}

double ShortestInterval() {
    int shortest = Intervals().begin()->second;
    for (const auto& [status, seconds] : Intervals())
        shortest = std::min(shortest, seconds);
    return shortest;
}

double LongestInterval() {
    int longest = 0;
    for (const auto& [status, seconds] : Intervals())
        longest = std::max(longest, seconds);
    return longest;
}

// The token's limits as configured in each serve ([railway] requests_per_hour, _per_second).
struct Limits {
    int per_hour = 1000000;
    int per_second = 1000;
};

std::string ConfigText(const std::string& worker_id, const Limits& limits) {
    std::string text = "[railway]\nrequests_per_hour = " + std::to_string(limits.per_hour) +
                       "\nrequests_per_second = " + std::to_string(limits.per_second) +
                       "\nbatch_size = 50\n\n"
                       "[monitor]\nworker_id = \"" +
                       worker_id + "\"\nlease_seconds = " + std::to_string(kLeaseSeconds) +
                       "\nstuck_after_seconds = 600\ntimeout_after_seconds = 600\n\n[monitor.intervals]\n";
    for (const auto& [status, seconds] : Intervals())
        text += status + " = " + std::to_string(seconds) + "\n";
    return text;
}

// Lifecycle kinds with the failure reasons each can carry.
const std::vector<std::pair<std::string, std::vector<std::string>>>& Kinds() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
        {"success", {}},
        {"build_failed", {"npm_elifecycle", "etimedout"}},
        {"deploy_failed", {"healthcheck", "missing_env"}},
        {"crash_after_success", {"oom"}},
        {"crash_loop", {"missing_env"}},
        {"stuck_initializing", {}},
        {"stuck_deploying", {}},
        {"needs_approval", {}},
        {"waiting_skipped", {}},
        {"removed", {}},
        {"sleeping", {}},
    };
    return kinds;
}

double SecondsBetween(core::Timestamp from, core::Timestamp to) {
    return std::chrono::duration<double>(to - from).count();
}

core::Timestamp ParseTime(const json& text) {
    const auto t = util::ParseRfc3339(text.get<std::string>());
    return t ? *t : core::Timestamp{};
}

core::Timestamp Now() {
    return std::chrono::time_point_cast<core::Duration>(std::chrono::system_clock::now());
}

// The worker a query string names: "w=a&source=railwatch" -> "a".
std::string WorkerOf(const std::string& query) {
    const std::size_t at = query.find("w=");
    if (at == std::string::npos) return "?";
    return query.substr(at + 2,
                        query.find('&', at) == std::string::npos ? std::string::npos : query.find('&', at) - at - 2);
}

struct Query {
    core::Timestamp at;
    std::string worker;
};

class MultiServeRun {
  public:
    explicit MultiServeRun(Limits limits = {}) : dir_("railwatch-multi-serve-"), limits_(limits) {}

    std::string problem;

    bool Start() {
        auto cluster = PostgresCluster::Start();
        if (!cluster) return Fail("PostgreSQL did not start: " + cluster.error().message);
        cluster_ = std::move(*cluster);
        if (auto db = cluster_->CreateDatabase("multi_serve"); !db) return Fail(db.error().message);
        sim_ = std::make_unique<SimProcess>(
            std::vector<std::string>{"--account-token", kAccountToken, "--time-scale", "10", "--seed", "17"});
        if (sim_->port() == 0) return Fail("railwatch sim did not start:\n" + sim_->Log());
        const json limits_off =
            json::parse(sim_->Post("/_sim/config", R"({"rateLimit":{"rps":0,"rph":0,"edgeRps":0}})"), nullptr, false);
        if (limits_off.is_discarded() || limits_off.contains("error")) return Fail("the sim refused its settings");
        // One after the other: the first one creates the schema.
        for (const std::string worker : {"a", "b", "c"}) {
            const std::string config = dir_.File("railwatch-" + worker + ".toml");
            std::ofstream(config) << ConfigText("worker-" + worker, limits_);
            ServeOptions options;
            options.db_url = cluster_->Url("multi_serve");
            options.railway_url = sim_->GraphqlUrl() + "?w=" + worker;
            options.config_file = config;
            options.log_file = dir_.File("serve-" + worker + ".log");
            options.env = {std::string("RAILWAY_API_TOKEN=") + kAccountToken};
            serves_[worker] = std::make_unique<ServeProcess>(options);
            if (!serves_[worker]->Start())
                return Fail("railwatch serve " + worker + " did not start:\n" + serves_[worker]->Log());
        }
        return true;
    }

    // Creates the fleet in the sim and adds it through serve a's REST API (one user per instance).
    bool AddFleet() {
        std::vector<std::pair<std::string, std::string>> specs;
        for (const auto& [kind, reasons] : Kinds()) {
            if (reasons.empty()) specs.emplace_back(kind, "");
            for (const auto& reason : reasons)
                specs.emplace_back(kind, reason);
        }
        std::vector<std::string> ids;
        const int n = static_cast<int>(specs.size());
        for (int i = 0; i < n; ++i) {
            json spec = {{"count", kDeployments / n + (i < kDeployments % n ? 1 : 0)},
                         {"kind", specs[static_cast<std::size_t>(i)].first}};
            if (!specs[static_cast<std::size_t>(i)].second.empty())
                spec["reason"] = specs[static_cast<std::size_t>(i)].second;
            const json created = json::parse(sim_->Post("/_sim/deployments", spec.dump()), nullptr, false);
            if (created.is_discarded() || !created.contains("ids"))
                return Fail("the sim did not create " + spec.dump());
            for (const auto& id : created["ids"])
                ids.push_back(id.get<std::string>());
        }
        created_ = Truth(ids);
        if (created_.size() != ids.size()) return Fail("the sim's truth misses created deployments");
        ServeProcess& api = serve("a");
        for (const auto& [id, truth] : created_) {
            const auto user = api.Post("/api/v1/users", {{"email", "owner-" + id + "@example.com"}});
            if (user.status != 201) return Fail("POST /api/v1/users answered " + user.raw);
            const json body = {{"serviceId", truth["serviceId"]},
                               {"userId", user.body["id"]},
                               {"environmentId", truth["environmentId"]},
                               {"deploymentId", id},
                               {"projectName", "multi-serve"}};
            ServeProcess::Reply reply;
            for (int attempt = 0; attempt < 5 && reply.status != 201; ++attempt) {
                reply = api.Post("/api/v1/instances", body);
                if (reply.status != 201) std::this_thread::sleep_for(200ms);
            }
            if (reply.status != 201) return Fail("POST /api/v1/instances answered " + reply.raw);
            instance_of_[id] = reply.body["id"].get<std::string>();
        }
        return true;
    }

    ServeProcess& serve(const std::string& worker) { return *serves_.at(worker); }
    SimProcess& sim() { return *sim_; }
    const std::map<std::string, json>& created() const { return created_; }
    const std::map<std::string, std::string>& instance_of() const { return instance_of_; }

    std::map<std::string, json> Truth(const std::vector<std::string>& ids) const {
        std::map<std::string, json> out;
        for (std::size_t start = 0; start < ids.size(); start += 100) {
            std::string list;
            for (std::size_t i = start; i < std::min(ids.size(), start + 100); ++i)
                list += (list.empty() ? "" : ",") + ids[i];
            const json truth = json::parse(sim_->Get("/_sim/truth?id=" + list), nullptr, false);
            if (truth.is_discarded() || !truth.contains("deployments")) continue;
            for (const auto& d : truth["deployments"])
                out[d["id"].get<std::string>()] = d;
        }
        return out;
    }

    // Every instance, through `api` (DELETED ones too: a REMOVED deployment's instance is).
    std::vector<json> Instances(ServeProcess& api) const {
        std::vector<json> all;
        for (const std::string filter : {"", "&status=DELETED"}) {
            std::string cursor;
            for (int page = 0; page < 100; ++page) {
                const auto reply =
                    api.Get("/api/v1/instances?limit=500" + filter + (cursor.empty() ? "" : "&cursor=" + cursor));
                if (reply.status != 200 || !reply.body.contains("items")) {
                    ADD_FAILURE() << "GET /api/v1/instances answered " << reply.status << ": " << reply.raw;
                    break;
                }
                for (const auto& item : reply.body["items"])
                    all.push_back(item);
                if (!reply.body["nextCursor"].is_string()) break;
                cursor = reply.body["nextCursor"].get<std::string>();
            }
        }
        return all;
    }

    std::vector<json> Events(ServeProcess& api, const std::string& instance_id) const {
        const auto reply = api.Get("/api/v1/instances/" + instance_id + "/events");
        std::vector<json> out;
        if (reply.status == 200 && reply.body.contains("items")) {
            for (const auto& item : reply.body["items"])
                out.push_back(item);
        }
        return out;
    }

    using Row = std::tuple<std::string, std::string, std::string, std::string>;  // instance, deployment, to, at
    std::set<Row> Timeline(ServeProcess& api) const {
        std::set<Row> rows;
        for (const auto& [deployment_id, instance_id] : instance_of_) {
            for (const auto& e : Events(api, instance_id)) {
                rows.insert({instance_id, e["deploymentId"].get<std::string>(), e["to"].get<std::string>(),
                             e["at"].get<std::string>()});
            }
        }
        return rows;
    }

    // Waits until every instance shows the final status of the deployment it follows (once the
    // sim has it final), or `limit` passes; the instances still open.
    std::vector<std::string> AwaitConvergence(ServeProcess& api, std::chrono::seconds limit) const {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            std::vector<std::string> open;
            const auto instances = Instances(api);
            std::vector<std::string> followed;
            for (const auto& instance : instances) {
                if (instance["deploymentId"].is_string())
                    followed.push_back(instance["deploymentId"].get<std::string>());
            }
            const auto truth = Truth(followed);
            for (const auto& instance : instances) {
                const auto t = instance["deploymentId"].is_string()
                                   ? truth.find(instance["deploymentId"].get<std::string>())
                                   : truth.end();
                if (t == truth.end()) {
                    open.push_back(instance["id"].get<std::string>());
                    continue;
                }
                const bool settled = t->second["finalAt"].is_string() && ParseTime(t->second["finalAt"]) <= Now();
                if (!settled || instance["deploymentStatus"] != t->second["finalStatus"])
                    open.push_back(instance["id"].get<std::string>() + " (" + t->first + ")");
            }
            if (instances.size() != created_.size())
                open.push_back("instances listed: " + std::to_string(instances.size()));
            if (open.empty() || std::chrono::steady_clock::now() >= deadline) return open;
            std::this_thread::sleep_for(2s);
        }
    }

    // The sim's record of the engine's status checks (the DeploymentPoll operation, and
    // DeploymentStatuses: a worker's redeploy also reads `canRedeploy` through deployment(id),
    // which is no check, and then the new deployment's status, which is its first check): per
    // deployment id, oldest first.
    std::map<std::string, std::vector<Query>> Queries() const {
        std::map<std::string, std::vector<Query>> out;
        const json all = json::parse(sim_->Get("/_sim/queries"), nullptr, false);
        if (all.is_discarded() || !all.contains("deployments")) {
            ADD_FAILURE() << "GET /_sim/queries did not answer";
            return out;
        }
        EXPECT_EQ(all["dropped"], 0);
        for (const auto& [id, list] : all["deployments"].items()) {
            for (const auto& q : list) {
                if (q["operation"] == "DeploymentPoll" || q["operation"] == "DeploymentStatuses")
                    out[id].push_back(Query{ParseTime(q["at"]), WorkerOf(q["query"].get<std::string>())});
            }
            std::stable_sort(out[id].begin(), out[id].end(),
                             [](const Query& x, const Query& y) { return x.at < y.at; });
        }
        return out;
    }

  private:
    bool Fail(std::string why) {
        problem = std::move(why);
        return false;
    }

    TempDir dir_;
    Limits limits_;
    std::unique_ptr<PostgresCluster> cluster_;
    std::unique_ptr<SimProcess> sim_;
    std::map<std::string, std::unique_ptr<ServeProcess>> serves_;
    std::map<std::string, json> created_;
    std::map<std::string, std::string> instance_of_;
};

TEST(MultiServe, ThreeServesOnOnePostgresOneKilledFollowEveryDeploymentAndCheckNoneTwiceForOneDueTime) {
    MultiServeRun run;
    ASSERT_TRUE(run.Start()) << run.problem;
    ASSERT_TRUE(run.AddFleet()) << run.problem;

    // Mid-run (the fleet's builds take ~20 s at time scale 10), once c has done its share (a
    // worker keeps what it checked: its scheduler wakes for the due times it set, the others look
    // every max_idle_wait): serve c dies.
    std::mt19937 random(std::random_device{}());
    const auto earliest = std::chrono::steady_clock::now() +
                          std::chrono::milliseconds(std::uniform_int_distribution<int>(3000, 8000)(random));
    for (const auto give_up = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < give_up;
         std::this_thread::sleep_for(500ms)) {
        int by_c = 0;
        for (const auto& [id, list] : run.Queries()) {
            by_c += static_cast<int>(
                std::count_if(list.begin(), list.end(), [](const Query& q) { return q.worker == "c"; }));
        }
        if (by_c >= 200 && std::chrono::steady_clock::now() >= earliest) break;
    }
    const auto recorded = run.Timeline(run.serve("a"));
    run.serve("c").Kill();
    const core::Timestamp killed_at = Now();
    std::printf("serve c killed; %zu timeline rows recorded before\n", recorded.size());

    const auto open = run.AwaitConvergence(run.serve("a"), 300s);
    EXPECT_TRUE(open.empty()) << open.size() << " instances did not reach the sim's final status, e.g. "
                              << open.front();
    // A few more intervals, so that the survivors' steady checks are in the record too.
    std::this_thread::sleep_for(std::chrono::seconds(static_cast<int>(2 * LongestInterval())));

    // No transition lost: every row written before the kill is still there (both survivors read
    // the same store), and every true status that lasted two intervals plus the lease (the time a
    // dead worker's claims wait) after the instance was added is in its timeline.
    const auto after = run.Timeline(run.serve("b"));
    std::vector<MultiServeRun::Row> lost;
    std::set_difference(recorded.begin(), recorded.end(), after.begin(), after.end(), std::back_inserter(lost));
    EXPECT_TRUE(lost.empty()) << lost.size() << " timeline rows recorded before the kill are gone";
    int due = 0, seen = 0;
    std::vector<std::string> missing;
    std::map<std::string, json> instances;
    std::set<std::string> followed;  // deployments an instance still monitors
    for (const auto& instance : run.Instances(run.serve("b"))) {
        instances[instance["id"].get<std::string>()] = instance;
        if (instance["monitoring"] == true && instance["deploymentId"].is_string())
            followed.insert(instance["deploymentId"].get<std::string>());
    }
    for (const auto& [deployment_id, truth] : run.created()) {
        const std::string instance_id = run.instance_of().at(deployment_id);
        ASSERT_TRUE(instances.contains(instance_id)) << instance_id;
        const core::Timestamp added = ParseTime(instances[instance_id]["createdAt"]);
        const auto& timeline = truth["plannedTimeline"];
        for (std::size_t i = 0; i + 1 < timeline.size(); ++i) {
            const std::string status = timeline[i]["status"].get<std::string>();
            const core::Timestamp end = ParseTime(timeline[i + 1]["at"]);
            const double lasted =
                std::min(SecondsBetween(ParseTime(timeline[i]["at"]), end), SecondsBetween(added, end));
            if (lasted < 2.5 * IntervalOf(status) + kLeaseSeconds) continue;
            ++due;
            const auto row = after.lower_bound({instance_id, deployment_id, status, ""});
            if (row != after.end() && std::get<0>(*row) == instance_id && std::get<1>(*row) == deployment_id &&
                std::get<2>(*row) == status) {
                ++seen;
            } else if (missing.size() < 5) {
                missing.push_back(instance_id + " " + deployment_id + " " + status);
            }
        }
    }
    EXPECT_EQ(seen, due) << ::testing::PrintToString(missing);
    EXPECT_GT(due, 0);

    // At most one outbox row per event and channel.
    const auto deliveries = run.serve("a").Get("/api/v1/deliveries?limit=1000");
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

    // None checked by two workers for one due time. A worker checks an instance at q1, then sets
    // its next check at (answer time >= q1) + interval x (1 - jitter) at the earliest; the next
    // claim, by any worker, takes it no earlier than batch_window before that. So two checks of
    // one deployment by two different workers are at least this far apart, unless both claimed
    // one due time.
    const double bound_s = ShortestInterval() * (1 - kJitter) - kBatchWindowSeconds;
    ASSERT_GT(bound_s, 1.0);
    const auto queries = run.Queries();
    std::map<std::string, int> per_worker;
    int cross_pairs = 0, close_cross = 0, close_same = 0, handovers = 0;
    std::vector<std::string> doubles;
    double resumed_max_s = 0;
    int held_by_c = 0;
    for (const auto& [id, list] : queries) {
        bool handover_used = false;
        for (std::size_t i = 0; i < list.size(); ++i) {
            ++per_worker[list[i].worker];
            if (i == 0) continue;
            const Query& x = list[i - 1];
            const Query& y = list[i];
            const double gap = SecondsBetween(x.at, y.at);
            if (x.worker == y.worker) {
                if (gap < bound_s && ++close_same <= 5)
                    std::printf("one worker, %.3f s apart: %s by %s\n", gap, id.c_str(), x.worker.c_str());
                continue;
            }
            ++cross_pairs;
            if (gap >= bound_s) continue;
            // The one allowed exception: c's last check of an id before it died, then the first
            // check by a survivor once c's lease ended — once per id.
            const bool handover = x.worker == "c" && x.at <= killed_at && y.at > killed_at && !handover_used;
            if (handover) {
                handover_used = true;
                ++handovers;
                continue;
            }
            ++close_cross;
            if (doubles.size() < 10)
                doubles.push_back(id + ": " + x.worker + " then " + y.worker + " " + std::to_string(gap) + " s apart");
        }
        // The schedule resumes: every deployment still followed is checked again after the kill
        // within the lease + one interval (+ the idle scheduler's look at the schedule) — c's
        // (those it checked last, or held) by a survivor.
        if (!followed.contains(id)) continue;  // its instance moved on (a redeploy) or stopped
        const auto first_after =
            std::find_if(list.begin(), list.end(), [&](const Query& q) { return q.at > killed_at; });
        if (first_after == list.begin()) continue;  // first checked after the kill
        if (std::prev(first_after)->worker == "c") ++held_by_c;
        ASSERT_NE(first_after, list.end()) << id << " was never checked again after the kill";
        resumed_max_s = std::max(resumed_max_s, SecondsBetween(killed_at, first_after->at));
    }
    // None, by two workers or by one (docs/ENGINE.md: a reaction's write used to put a served due
    // time back; reactions now leave the schedule alone; on a busy machine a redeploy's read of
    // the new deployment was followed by a kept check dated from before it, or taken while the
    // redeploy wrote the row: unit_monitor's RescheduleDuringCheck.*, KeptACheckTaken* and ASlowRedeploy* tests).
    EXPECT_EQ(close_cross, 0) << "checked by two workers for one due time: " << ::testing::PrintToString(doubles);
    EXPECT_EQ(close_same, 0) << "checked twice by one worker for one due time (printed above)";
    for (const std::string worker : {"a", "b", "c"}) {
        EXPECT_GT(per_worker[worker], 0) << "worker " << worker << " checked nothing: the run proves nothing\n"
                                         << run.serve(worker).Log();
    }
    EXPECT_GT(cross_pairs, 0) << "no deployment was checked by two workers: the run proves nothing";
    const double resume_bound_s = kLeaseSeconds + LongestInterval() * (1 + kJitter) + kMaxIdleWaitSeconds + 10;
    EXPECT_LE(resumed_max_s, resume_bound_s);
    std::printf(
        "queries: %d by a, %d by b, %d by c (killed); %d consecutive checks of one id by two workers, %d closer than "
        "%.1f s (%d c -> survivor handovers allowed); %d by one worker closer than that\n",
        per_worker["a"], per_worker["b"], per_worker["c"], cross_pairs, close_cross, bound_s, handovers, close_same);
    std::printf(
        "resume: every deployment followed checked again by %.1f s after the kill (bound %.1f s); %d of them last "
        "checked by c\n",
        resumed_max_s, resume_bound_s, held_by_c);
    std::printf("transitions: %d of %d that lasted two intervals + the lease recorded; %zu rows, %zu outbox rows\n",
                seen, due, after.size(), deliveries.body["items"].size());
    for (const std::string worker : {"a", "b"})
        EXPECT_TRUE(run.serve(worker).running()) << "serve " << worker << " died:\n" << run.serve(worker).Log();
}

// Three processes sending with one token share its budget (docs/ENGINE.md, "Budget"): each
// plans with and sends within a third of it, so together they stay within the pro-rated limit —
// where each alone would spend what the whole token allows. The fleet needs more than the token
// allows (300 deployments every 4-5 s in batches of 50 is ~1.4 requests a second; the token
// allows 1 a second pro-rated, 0.8 of it for polling), and a third of it (100 deployments) needs
// less than the whole token's polling budget: without sharing, three processes sent 2.6 requests
// a second (the fleet's checks and their side work).
TEST(MultiServe, ThreeServesSendingWithOneTokenStayWithinItsBudgetTogether) {
    const Limits limits{3600, 10};  // 1 request a second pro-rated
    MultiServeRun run(limits);
    ASSERT_TRUE(run.Start()) << run.problem;
    ASSERT_TRUE(run.AddFleet()) << run.problem;
    // Each live worker's heartbeat (a third of the lease) tells it how many share the token.
    for (const auto give_up = std::chrono::steady_clock::now() + 30s;; std::this_thread::sleep_for(500ms)) {
        bool all = true;
        for (const std::string worker : {"a", "b", "c"}) {
            const auto stats = run.serve(worker).Get("/api/v1/stats");
            all = all && stats.status == 200 && stats.body["capacity"]["sharedBy"] == 3;
        }
        if (all) break;
        ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the serves do not see each other";
    }
    for (const std::string worker : {"a", "b", "c"}) {
        const auto stats = run.serve(worker).Get("/api/v1/stats");
        // A third of what the pro-rated limit leaves polling (0.8 of 1 a second).
        EXPECT_NEAR(stats.body["capacity"]["requestsPerSecond"].get<double>(), 0.8 / 3, 1e-6) << stats.raw;
    }
    const auto requests = [&run] {
        const json stats = json::parse(run.sim().Get("/_sim/stats"), nullptr, false);
        return stats.is_discarded() || !stats.contains("total") ? -1LL : stats["total"].get<long long>();
    };
    const long long before = requests();
    ASSERT_GE(before, 0);
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(60s);
    const long long sent = requests() - before;
    const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The pro-rated limit over the window, and what each process may send beyond its pace at the
    // window's start: each of its two side-work buckets holds at most one job's reservation (5,
    // more than 5 s of its rate here), and a round's request may go before the pace holds the
    // next. Without the share three processes sent 157 (2.6 a second).
    const double allowed = 1.0 * elapsed_s + 3 * (5 + 5 + 1);
    std::printf("three serves sharing one token: %lld requests in %.0f s (%.2f a second; allowed %.0f)\n", sent,
                elapsed_s, static_cast<double>(sent) / elapsed_s, allowed);
    EXPECT_LE(static_cast<double>(sent), allowed);
    EXPECT_GE(static_cast<double>(sent), 0.5 * elapsed_s) << "the serves hardly polled: the run proves nothing";
    for (const std::string worker : {"a", "b", "c"})
        EXPECT_TRUE(run.serve(worker).running()) << "serve " << worker << " died:\n" << run.serve(worker).Log();
}

}  // namespace
}  // namespace railwatch::test
