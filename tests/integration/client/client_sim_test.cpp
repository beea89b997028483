// The real RailwayClient (libcurl transport) against the real `railwatch sim` binary answering as
// Railway does: a status batch with one deployment Railway no longer knows. Railway's answer for
// such an id is not documented (the message varies, every error carries
// extensions.code INTERNAL_SERVER_ERROR and a traceId, and `deployment(id)` is non-null so the
// whole `data` becomes null): the client must be right for every plausible answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <tuple>

#include "net/curl_transport.hpp"
#include "railway/client.hpp"
#include "support/sim_process.hpp"
#include "util/random.hpp"

namespace railwatch {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAccountToken = "client-sim-account-token";

/// One simulator per test suite (of parameters `P`), and the calls the tests make to it.
template <typename P>
class SimSuite : public ::testing::TestWithParam<P> {
  protected:
    static void SetUpTestSuite() {
        sim_ = new test::SimProcess({"--account-token", kAccountToken, "--seed", "5"});
        ASSERT_GT(sim_->port(), 0) << "railwatch sim did not start:\n" << sim_->Log();
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }

    static json Control(const std::string& path, const json& body) {
        const std::string answer = sim_->Post(path, body.dump());
        return json::parse(answer, nullptr, false);
    }
    // The simulator's counters (GET /_sim/stats; discarded when unreadable).
    static json Stats() { return json::parse(sim_->Get("/_sim/stats"), nullptr, false); }
    static int RequestsSoFar() {
        const json stats = Stats();
        return stats.is_discarded() ? -1 : stats["total"].get<int>();
    }

    // A client of the simulator with `batch_size`, and what it needs.
    struct Client {
        explicit Client(std::size_t batch_size) : Client(Config(batch_size)) {}
        explicit Client(const railway::ClientConfig& config, railway::BudgetConfig limits = {100'000, 1'000})
            : budget(clock, limits),
              client(transport, clock, budget, random, {railway::TokenKind::kAccount, kAccountToken}, config) {}
        static railway::ClientConfig Config(std::size_t batch_size) {
            railway::ClientConfig config;
            config.api_url = sim_->GraphqlUrl();
            config.batch_size = batch_size;
            return config;
        }
        util::SystemClock clock;
        railway::RequestBudget budget;
        util::SystemRandom random;
        net::CurlTransport transport;
        railway::RailwayClient client;
    };

    // `count` new deployments of `kind`.
    static std::vector<std::string> Create(int count, const std::string& kind) {
        const json created = Control("/_sim/deployments", {{"count", count}, {"kind", kind}});
        EXPECT_EQ(created["ids"].size(), static_cast<std::size_t>(count)) << created.dump();
        return created.contains("ids") ? created["ids"].get<std::vector<std::string>>() : std::vector<std::string>{};
    }

    static test::SimProcess* sim_;
};

template <typename P>
test::SimProcess* SimSuite<P>::sim_ = nullptr;

/// (message the sim gives an unknown deployment, "first" or "all" sibling errors)
class OneGoneIdInABatch : public SimSuite<std::tuple<std::string, std::string>> {};

TEST_P(OneGoneIdInABatch, GetsTheOther49StatusesInAtMostTwoRequestsAndReportsTheGoneOneWithItsTraceId) {
    const auto& [message, siblings] = GetParam();
    const json configured =
        Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}}},
                                 {"errors", {{"unknownDeployment", message}, {"siblingErrors", siblings}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();

    const std::vector<std::string> ids = Create(50, "success");
    ASSERT_EQ(ids.size(), 50u);
    const std::string& gone = ids[17];  // somewhere in the middle of the batch
    const json deleted = Control("/_sim/deployments/delete", {{"ids", {gone}}});
    ASSERT_EQ(deleted["deleted"], 1) << deleted.dump();

    Client c(50);
    const int before = RequestsSoFar();
    const auto results = c.client.GetDeployments(ids);
    const int sent = RequestsSoFar() - before;

    ASSERT_EQ(results.size(), 50u);
    int statuses = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        EXPECT_EQ(results[i].deployment_id, ids[i]);
        if (ids[i] == gone) continue;
        ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
        EXPECT_EQ(results[i].result->id, ids[i]);
        ++statuses;
    }
    EXPECT_EQ(statuses, 49);
    EXPECT_LE(sent, 2) << "requests the sim received for one batch of 50";
    EXPECT_GE(sent, 1);

    const auto& failed = results[17].result;
    ASSERT_FALSE(failed) << "the deleted deployment got a status";
    EXPECT_THAT(failed.error().message, HasSubstr(message));
    EXPECT_FALSE(failed.error().trace_id.empty()) << failed.error().message;
    EXPECT_THAT(failed.error().message, HasSubstr(failed.error().trace_id));
    EXPECT_THAT(failed.error().message, ::testing::Not(HasSubstr(kAccountToken)));
}

INSTANTIATE_TEST_SUITE_P(RailwayShapedErrors, OneGoneIdInABatch,
                         ::testing::Combine(::testing::Values("Deployment not found", "Not Authorized",
                                                              "Problem processing request"),
                                            ::testing::Values("first", "all")),
                         [](const auto& info) {
                             std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

/// A server that sends its errors without `path` names no alias: the batch is asked in halves
/// until the gone id is alone, and the others get their statuses.
class OneGoneIdWithoutAPath : public SimSuite<std::string> {};

TEST_P(OneGoneIdWithoutAPath, IsFoundByHalvingAndTheOthersGetTheirStatuses) {
    const json configured = Control(
        "/_sim/config",
        {{"rateLimit", {{"rps", 0}, {"rph", 0}}}, {"errors", {{"unknownDeployment", GetParam()}, {"paths", false}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
    const std::vector<std::string> ids = Create(100, "success");
    ASSERT_EQ(ids.size(), 100u);
    const std::string& gone = ids[63];
    ASSERT_EQ(Control("/_sim/deployments/delete", {{"ids", {gone}}})["deleted"], 1);

    Client c(100);
    const int before = RequestsSoFar();
    const auto results = c.client.GetDeployments(ids);
    const int sent = RequestsSoFar() - before;
    ASSERT_EQ(results.size(), 100u);
    for (std::size_t i = 0; i < results.size(); ++i) {
        if (ids[i] == gone) {
            ASSERT_FALSE(results[i].result) << "the deleted deployment got a status";
            EXPECT_THAT(results[i].result.error().message, HasSubstr(GetParam()));
        } else {
            ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
            EXPECT_EQ(results[i].result->id, ids[i]);
        }
    }
    EXPECT_LE(sent, 15) << "the first request and two per halving (100 → 50 → … → 1)";
    EXPECT_EQ(c.client.StatusBatchSize(), 100u) << "a bad id is not a size limit";
}

INSTANTIATE_TEST_SUITE_P(RailwayShapedErrors, OneGoneIdWithoutAPath,
                         ::testing::Values("Deployment not found", "Not Authorized", "Problem processing request"),
                         [](const auto& info) {
                             std::string name = info.param;
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

/// Larger requests than the default, as `[railway] batch_size` allows (up to 500): 1,000 statuses in
/// two requests, each the simulator's truth for its own id (finished and stuck deployments
/// interleaved, so an answer given to the wrong id shows).
class LargeBatches : public SimSuite<int> {};

TEST_F(LargeBatches, FiveHundredDeploymentsARequestEachAnsweredForItsOwnId) {
    const json configured = Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
    const auto truth = [] {
        std::map<std::string, std::string> status;
        const json all = json::parse(sim_->Get("/_sim/truth"), nullptr, false);
        for (const auto& d : all["deployments"])
            status[d["id"].get<std::string>()] = d["currentStatus"].get<std::string>();
        return status;
    };
    // Deployments that succeed within milliseconds (a 10,000 times faster clock), then ones that stay
    // INITIALIZING at the suite's own pace.
    Control("/_sim/config", {{"timeScale", 10000}});
    const std::vector<std::string> finished = Create(500, "success");
    Control("/_sim/config", {{"timeScale", configured["timeScale"]}});
    const std::vector<std::string> stuck = Create(500, "stuck_initializing");
    ASSERT_EQ(finished.size() + stuck.size(), 1000u);
    for (int wait = 0; wait < 100; ++wait) {  // up to 10 s for the fast ones to finish
        const auto now = truth();
        if (std::all_of(finished.begin(), finished.end(), [&](const std::string& id) {
                const auto it = now.find(id);
                return it != now.end() && it->second == "SUCCESS";
            }))
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < 500; ++i) {
        ids.push_back(finished[i]);
        ids.push_back(stuck[i]);
    }

    Client c(500);
    const auto before_truth = truth();
    const int before = RequestsSoFar();
    const std::vector<std::string_view> asked(ids.begin(), ids.end());
    const auto results = c.client.PollStatuses(asked);
    EXPECT_EQ(RequestsSoFar() - before, 2);
    const auto after_truth = truth();
    ASSERT_EQ(results.size(), ids.size());
    std::set<std::string> seen;
    std::size_t compared = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i]) << ids[i] << ": " << results[i].error().message;
        seen.insert(results[i]->status.raw);
        const auto was = before_truth.find(ids[i]);
        const auto is = after_truth.find(ids[i]);
        ASSERT_TRUE(was != before_truth.end() && is != after_truth.end()) << ids[i];
        if (was->second != is->second) continue;  // moved on while asked: either answer is true
        EXPECT_EQ(results[i]->status.raw, is->second) << ids[i];
        ++compared;
    }
    EXPECT_GE(compared, 900u);
    EXPECT_TRUE(seen.contains("SUCCESS") && seen.size() >= 2) << "finished and stuck deployments answered";
    EXPECT_EQ(c.client.StatusBatchSize(), 500u);
}

/// A simulator that refuses, or fails, documents of more than 30 root fields in the way the
/// parameter names.
class OverThirtyRootFields : public SimSuite<std::string> {
  protected:
    /// Sets the limit (with `faults`), asks for 100 new deployments with `config`, and expects
    /// every status, a learnt size of 25, `over_limit` documents over the limit and `requests`
    /// requests in all; then 60 more deployments in 25 + 25 + 10 with none over it.
    static void ExpectEveryStatusAndALearntSizeOf25(const railway::ClientConfig& config, const json& faults,
                                                    int over_limit, int requests) {
        const json configured =
            Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}}},
                                     {"faults", faults},
                                     {"errors", {{"maxRootFields", 30}, {"tooManyRootFields", GetParam()}}}});
        ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
        const std::vector<std::string> ids = Create(100, "success");
        ASSERT_EQ(ids.size(), 100u);

        Client c(config);
        const json stats_before = Stats();
        const auto results = c.client.GetDeployments(ids);
        for (std::size_t i = 0; i < results.size(); ++i) {
            ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
            EXPECT_EQ(results[i].result->id, ids[i]);
        }
        EXPECT_EQ(c.client.StatusBatchSize(), 25u);
        const json stats_after = Stats();
        EXPECT_EQ(stats_after["rootFieldRefusals"].get<int>() - stats_before["rootFieldRefusals"].get<int>(),
                  over_limit);
        EXPECT_EQ(stats_after["total"].get<int>() - stats_before["total"].get<int>(), requests);

        const auto later = c.client.GetDeployments(Create(60, "success"));
        for (const auto& r : later)
            EXPECT_TRUE(r.result) << r.deployment_id;
        const json stats_later = Stats();
        EXPECT_EQ(stats_later["rootFieldRefusals"], stats_after["rootFieldRefusals"]);
        EXPECT_EQ(stats_later["total"].get<int>() - stats_after["total"].get<int>(), 3);  // 25 + 25 + 10
        Control("/_sim/config", {{"errors", {{"maxRootFields", 0}}}, {"faults", {{"hangMs", 30000}}}});
    }

    /// `count` deployments that build within the second (a 200 s build at 600×), their build log
    /// growing, a second into their build, with documents of more than 30 root fields refused as the
    /// parameter names ("none": not refused); `prior` the configuration before (StopRefusing).
    static void StartBuilding(std::size_t count, json& prior, std::vector<std::string>& ids) {
        const bool refused = GetParam() != "none";
        prior = Control("/_sim/config", json::object());
        ASSERT_TRUE(prior.contains("timeScale")) << prior.dump();
        const json configured = Control(
            "/_sim/config",
            {{"rateLimit", {{"rps", 0}, {"rph", 0}}},
             {"timeScale", 600},
             {"errors",
              {{"maxRootFields", refused ? 30 : 0}, {"tooManyRootFields", refused ? GetParam() : "complexity"}}}});
        ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
        ids = Create(static_cast<int>(count), "success");
        ASSERT_EQ(ids.size(), count);
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }

    static void StopRefusing(const json& prior) {
        Control("/_sim/config", {{"errors", {{"maxRootFields", 0}}}, {"timeScale", prior["timeScale"]}});
    }
};

/// Railway documents no limit on aliases, a document's size or its complexity (FACTS §7): the
/// simulator refuses documents of more than 30 root fields in each plausible way, and the client
/// finds a size it answers, gets every status, and asks no more than that from then on.
class RefusedForItsSize : public OverThirtyRootFields {};

TEST_P(RefusedForItsSize, TheClientLearnsASizeRailwayAnswersAndGetsEveryStatus) {
    // 100 refused, then both halves of 50; then 25 + 25 answered, and the other 50 as 25 + 25.
    ExpectEveryStatusAndALearntSizeOf25(Client::Config(100), json::object(), 3, 7);
}

INSTANTIATE_TEST_SUITE_P(PlausibleRefusals, RefusedForItsSize,
                         ::testing::Values("complexity", "payloadTooLarge", "noPath"),
                         [](const auto& info) { return info.param; });

/// A stall's confirmations (GetLogsSince) against the real simulator: 40 building deployments'
/// logs in one request, each from its own since; and where the simulator refuses a document of
/// more than 30 root fields, in each plausible way, every deployment asked alone and answered.
class LogsSinceOverThirtyRootFields : public OverThirtyRootFields {};

TEST_P(LogsSinceOverThirtyRootFields, EveryDeploymentIsAnsweredInOneRequestOrAloneWhenRefused) {
    const bool refused = GetParam() != "none";
    json prior;
    std::vector<std::string> ids;
    StartBuilding(40, prior, ids);
    if (HasFatalFailure()) return;
    // Half asked from the start (lines since), half from a day ahead (none since).
    const core::Timestamp ahead =
        std::chrono::time_point_cast<core::Duration>(std::chrono::system_clock::now()) + core::Seconds(86400);
    std::vector<railway::LogsSinceAsk> asks;
    for (std::size_t i = 0; i < ids.size(); ++i)
        asks.push_back({ids[i], core::LogKind::kBuild, i % 2 == 0 ? core::Timestamp{} : ahead});
    Client c(Client::Config(100));
    const json before = Stats();
    const auto answers = c.client.GetLogsSince(asks);
    const json after = Stats();
    ASSERT_EQ(answers.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ASSERT_TRUE(answers[i]) << ids[i] << ": " << answers[i].error().message;
        EXPECT_EQ(answers[i]->has_value(), i % 2 == 0) << ids[i];
    }
    EXPECT_EQ(after["rootFieldRefusals"].get<int>() - before["rootFieldRefusals"].get<int>(), refused ? 1 : 0);
    EXPECT_EQ(after["total"].get<int>() - before["total"].get<int>(), refused ? 41 : 1);
    StopRefusing(prior);
}

INSTANTIATE_TEST_SUITE_P(PlausibleRefusals, LogsSinceOverThirtyRootFields,
                         ::testing::Values("none", "complexity", "payloadTooLarge", "noPath"),
                         [](const auto& info) { return info.param; });

/// Phase changes' reads (GetPhaseChanges) against the real simulator: 16 building deployments'
/// steps and logs in one request (half of them with their deploy logs); and where the simulator
/// refuses a document of more than 30 root fields, in each plausible way, every deployment asked
/// alone (steps and logs in one request) and answered.
class PhaseChangesOverThirtyRootFields : public OverThirtyRootFields {};

TEST_P(PhaseChangesOverThirtyRootFields, EveryDeploymentIsAnsweredInOneRequestOrAloneWhenRefused) {
    const bool refused = GetParam() != "none";
    json prior;
    std::vector<std::string> ids;
    StartBuilding(railway::kMaxPhaseChangesPerRequest, prior, ids);
    if (HasFatalFailure()) return;
    std::vector<railway::PhaseChangeAsk> asks(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        asks[i].deployment_id = ids[i];
        if (i % 2 == 0) asks[i].deploy_cursor.emplace();
    }
    Client c(Client::Config(100));
    const json before = Stats();
    const auto reads = c.client.GetPhaseChanges(asks, 100, 500);
    const json after = Stats();
    ASSERT_EQ(reads.size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ASSERT_TRUE(reads[i].events) << ids[i] << ": " << reads[i].events.error().message;
        EXPECT_FALSE(reads[i].events->empty()) << ids[i] << ": no steps";
        ASSERT_TRUE(reads[i].build_logs) << ids[i] << ": " << reads[i].build_logs.error().message;
        EXPECT_FALSE(reads[i].build_logs->empty()) << ids[i] << ": no build lines";
        EXPECT_TRUE(asks[i].build_cursor.last.has_value()) << ids[i];
        ASSERT_EQ(reads[i].deploy_logs.has_value(), i % 2 == 0) << ids[i];
        if (reads[i].deploy_logs) {
            EXPECT_TRUE(*reads[i].deploy_logs) << ids[i];
        }
    }
    EXPECT_EQ(after["rootFieldRefusals"].get<int>() - before["rootFieldRefusals"].get<int>(), refused ? 1 : 0);
    EXPECT_EQ(after["total"].get<int>() - before["total"].get<int>(), refused ? 17 : 1);
    StopRefusing(prior);
}

INSTANTIATE_TEST_SUITE_P(PlausibleRefusals, PhaseChangesOverThirtyRootFields,
                         ::testing::Values("none", "complexity", "payloadTooLarge", "noPath"),
                         [](const auto& info) { return info.param; });

/// Or a server that does not refuse a document of more than 30 root fields but fails it every
/// time, in the ways a client retries: HTTP 503 from its proxy, or no answer at all. After their
/// retries such requests are halved like refused ones; the client gets every status, and once
/// two of them failed that way with their halves answered it asks no more than 25 at a time.
class FailedAtItsSize : public OverThirtyRootFields {};

TEST_P(FailedAtItsSize, TheClientHalvesThemAfterTheirRetriesAndLearnsASizeRailwayAnswers) {
    railway::ClientConfig config = Client::Config(100);
    config.max_attempts = 2;
    config.request_timeout = core::Millis(300);  // before the simulator's 600 ms without an answer
    config.retry_base_delay = core::Millis(10);
    config.retry_max_delay = core::Millis(20);
    // Each failing request twice: 100; both halves of 50; then 25 + 25 answered, and the other
    // 50 failing again before its 25 + 25.
    ExpectEveryStatusAndALearntSizeOf25(config, {{"hangMs", 600}}, 8, 12);
}

INSTANTIATE_TEST_SUITE_P(PlausibleFailures, FailedAtItsSize, ::testing::Values("serverError", "timeout"),
                         [](const auto& info) { return info.param; });

/// Railway documents its limits in requests, but its schema speaks of points: a server may charge
/// each root field. The simulator does (`rateLimit.cost` "rootField", 20 a second), describing
/// the window the parameter names in its headers: a status request of 40 deployments never fits
/// a second. The client learns from its two 429s, asks one deployment per request from then on,
/// and gets every status. With the hour in the headers the client keeps its own 10 a second and
/// meets no 429 after those two. With the second, the headers set its per-second limit to the
/// simulator's 20 and what remains of each window (less what the client has in flight), but the
/// client's bucket refills continuously where the simulator's window restarts at once: now and
/// then a request of one lands in a window already used up (0–1 429s a run of their own, each
/// retried after Retry-After and teaching nothing; 1–2 before requests in flight were counted).
class ChargedPerRootField : public SimSuite<std::string> {};

TEST_P(ChargedPerRootField, TheClientLearnsItFromTwo429sAndAsksOneDeploymentPerRequest) {
    const json configured =
        Control("/_sim/config",
                {{"rateLimit", {{"rps", 20}, {"rph", 100000}, {"cost", "rootField"}, {"headerWindow", GetParam()}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
    const std::vector<std::string> ids = Create(40, "success");
    ASSERT_EQ(ids.size(), 40u);

    Client c(Client::Config(400), {100'000, 10});  // half the simulator's second, as a process would
    const json before = Stats();
    const auto results = c.client.GetDeployments(ids);
    for (std::size_t i = 0; i < results.size(); ++i) {
        ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
        EXPECT_EQ(results[i].result->id, ids[i]);
    }
    EXPECT_EQ(c.client.StatusBatchSize(), 1u);
    EXPECT_TRUE(c.client.Budget().priced_per_root_field);
    const json after = Stats();
    const int refused = after["rateLimited"].get<int>() - before["rateLimited"].get<int>();
    const int requests = after["total"].get<int>() - before["total"].get<int>();

    const auto later = c.client.GetDeployments(Create(20, "success"));
    for (const auto& r : later)
        EXPECT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
    const json later_stats = Stats();
    const int later_refused = later_stats["rateLimited"].get<int>() - after["rateLimited"].get<int>();
    const int later_requests = later_stats["total"].get<int>() - after["total"].get<int>();
    std::cout << "charged per root field, headers of the " << GetParam() << ": " << refused << " 429s in " << requests
              << " requests, then " << later_refused << " in " << later_requests << "\n";
    if (GetParam() == "hour") {
        EXPECT_EQ(refused, 2);
        EXPECT_EQ(requests, 2 + 40);
        EXPECT_EQ(later_refused, 0);
        EXPECT_EQ(later_requests, 20);
    } else {
        EXPECT_GE(refused, 2);
        EXPECT_LE(refused + later_refused, 2 + 3);
        EXPECT_EQ(requests + later_requests, 2 + 40 + 20 + (refused - 2) + later_refused);
    }
    Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}, {"cost", "request"}, {"headerWindow", "hour"}}}});
}

INSTANTIATE_TEST_SUITE_P(HeaderWindows, ChargedPerRootField, ::testing::Values("second", "hour"),
                         [](const auto& info) { return info.param; });

/// Railway documents neither a default page size nor a limit for `serviceInstances(first:)`: the
/// simulator pages an environment's services at 3 and answers a larger `first` in each plausible
/// way (fewer with hasNextPage, or a refusal). The client asks 5 a page and gets every service
/// either way; after a refusal it stops sending `first`.
// A budget set to exactly the simulator's per-second limit, with the answers' headers describing
// the hour (so nothing corrects the per-second bucket): requests of one deployment each, as many
// as three seconds hold, all answered without a 429. A bucket alone sent the limit at once and
// its refill within the same second: the simulator's window (from its first request) refused
// those (docs/CLIENT.md, "Rate-limit headers").
class AtThePerSecondLimit : public SimSuite<int> {};

TEST_F(AtThePerSecondLimit, NoSecondTakesMoreThanTheLimitAndNoRequestIsRefused) {
    constexpr int kPerSecond = 10;
    const json configured =
        Control("/_sim/config", {{"rateLimit", {{"rps", kPerSecond}, {"rph", 100000}, {"headerWindow", "hour"}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
    const std::vector<std::string> ids = Create(3 * kPerSecond, "success");
    ASSERT_EQ(ids.size(), static_cast<std::size_t>(3 * kPerSecond));

    Client c(Client::Config(1), {100'000, kPerSecond});
    const json before = Stats();
    const auto started = std::chrono::steady_clock::now();
    const auto results = c.client.GetDeployments(ids);
    const auto took = std::chrono::steady_clock::now() - started;
    for (std::size_t i = 0; i < results.size(); ++i)
        ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
    const json after = Stats();
    const int refused = after["rateLimited"].get<int>() - before["rateLimited"].get<int>();
    const int requests = after["total"].get<int>() - before["total"].get<int>();
    std::cout << requests << " requests at " << kPerSecond << " a second: " << refused << " 429s, "
              << std::chrono::duration<double>(took).count() << " s\n";
    EXPECT_EQ(refused, 0);
    EXPECT_EQ(requests, 3 * kPerSecond);
    // The third second's requests waited for two windows to pass (not for the bucket's refill).
    EXPECT_GE(took, 2 * railway::RequestBudget::kOneSecondWindow);
    Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}, {"headerWindow", "hour"}}}});
}

class EnvironmentPagesOfThree : public SimSuite<std::string> {};

TEST_P(EnvironmentPagesOfThree, EveryServiceIsReadAndARefusedPageSizeIsNotSentAgain) {
    const std::string environment = "env-pages-" + GetParam();
    const json created =
        Control("/_sim/deployments", {{"count", 7}, {"kind", "success"}, {"environmentId", environment}});
    ASSERT_EQ(created["ids"].size(), 7u) << created.dump();
    const json configured = Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}}},
                                                     {"errors", {{"maxPageSize", 3}, {"largePage", GetParam()}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
    railway::ClientConfig config = Client::Config(50);
    config.environment_page_size = 5;
    Client c(config);

    const int before = RequestsSoFar();
    const auto services = c.client.GetEnvironmentLatestDeployments(environment);
    ASSERT_TRUE(services) << services.error().message;
    std::set<std::string> latest;
    for (const auto& service : *services) {
        ASSERT_TRUE(service.latest_id) << service.service_id;
        latest.insert(*service.latest_id);
    }
    EXPECT_EQ(latest, created["ids"].get<std::set<std::string>>());
    // Pages of 3 + 3 + 1; a refusal of 5 costs one request more.
    EXPECT_EQ(RequestsSoFar() - before, GetParam() == "refuse" ? 4 : 3);
    const int second = RequestsSoFar();
    const auto again = c.client.GetEnvironmentLatestDeployments(environment);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->size(), 7u);
    EXPECT_EQ(RequestsSoFar() - second, 3);
    // Each service's probe target, as its own `serviceInstance` would say it.
    for (const auto& service : *services) {
        const auto info = c.client.GetServiceInstance(service.service_id, environment);
        ASSERT_TRUE(info) << info.error().message;
        ASSERT_FALSE(info->domains.empty()) << service.service_id;
        EXPECT_EQ(service.first_domain, info->domains.front()) << service.service_id;
        EXPECT_EQ(service.healthcheck_path, info->healthcheck_path) << service.service_id;
    }
    Control("/_sim/config", {{"errors", {{"maxPageSize", 0}, {"largePage", "clamp"}}}});
}

INSTANTIATE_TEST_SUITE_P(PlausibleLimits, EnvironmentPagesOfThree, ::testing::Values("clamp", "refuse"),
                         [](const auto& info) { return info.param; });

// Discovery's list since a time (RailwayClient::ListDeploymentsSince) against both orders Railway
// may list deployments in (FACTS §3: not documented): newest first, the list is cut at `since`
// and read in pages of 100; oldest first, the first page shows the order and the list is never
// taken for complete — the caller reads the environment whole.
class DeploymentsSince : public SimSuite<std::string> {};

TEST_P(DeploymentsSince, AreCutAtTheTimeWhenNewestFirstAndNeverTakenForCompleteOtherwise) {
    const bool newest_first = GetParam() == "newestFirst";
    const std::string environment = "env-since-" + GetParam();
    std::set<std::string> created;
    const auto create = [&](int count) {
        const json answer =
            Control("/_sim/deployments", {{"count", count}, {"kind", "success"}, {"environmentId", environment}});
        EXPECT_EQ(answer["ids"].size(), static_cast<std::size_t>(count)) << answer.dump();
        auto ids = answer["ids"].get<std::vector<std::string>>();
        created.insert(ids.begin(), ids.end());
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // each call its own creation time
        return ids;
    };
    for (int batch = 0; batch < 4; ++batch)
        create(30);
    const std::vector<std::string> newer = create(3);
    const json configured = Control(
        "/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}}}, {"errors", {{"deploymentOrder", GetParam()}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();
    Client c(Client::Config(50));

    // Everything, no time given: 123 deployments are two pages newest first; oldest first, the
    // first page's times rise (four creation times among its 100).
    int before = RequestsSoFar();
    const auto all = c.client.ListDeploymentsSince(environment, std::nullopt, 5);
    ASSERT_TRUE(all) << all.error().message;
    EXPECT_EQ(RequestsSoFar() - before, newest_first ? 2 : 1);
    EXPECT_EQ(all->newest_first, newest_first);
    EXPECT_EQ(all->complete, newest_first);
    if (!newest_first) {
        EXPECT_TRUE(all->deployments.empty());
        const auto since = c.client.ListDeploymentsSince(environment, core::Timestamp{}, 5);
        ASSERT_TRUE(since) << since.error().message;
        EXPECT_FALSE(since->newest_first);
        EXPECT_FALSE(since->complete);
        Control("/_sim/config", {{"errors", {{"deploymentOrder", "newestFirst"}}}});
        return;
    }
    ASSERT_EQ(all->deployments.size(), 123u);
    std::set<std::string> listed;
    for (const auto& d : all->deployments)
        listed.insert(d.id);
    EXPECT_EQ(listed, created);
    ASSERT_TRUE(all->newest);
    EXPECT_EQ(*all->newest, all->deployments.front().created_at);

    // After the older ones' newest time: one request, cut there — the newer three.
    const core::Timestamp older_newest = all->deployments[newer.size()].created_at;
    before = RequestsSoFar();
    const auto since = c.client.ListDeploymentsSince(environment, older_newest, 5);
    ASSERT_TRUE(since) << since.error().message;
    EXPECT_EQ(RequestsSoFar() - before, 1);
    EXPECT_TRUE(since->complete);
    listed.clear();
    for (const auto& d : since->deployments) {
        listed.insert(d.id);
        EXPECT_FALSE(d.service_id.empty()) << d.id;
    }
    EXPECT_EQ(listed, std::set<std::string>(newer.begin(), newer.end()));
    // After the newest: nothing new, one request, complete.
    const auto nothing = c.client.ListDeploymentsSince(environment, *all->newest, 5);
    ASSERT_TRUE(nothing) << nothing.error().message;
    EXPECT_TRUE(nothing->complete);
    EXPECT_TRUE(nothing->deployments.empty());
    // After a time later than the list's newest (as if the newest were deleted since): not
    // complete, for nothing tells what else changed.
    const auto later = c.client.ListDeploymentsSince(environment, *all->newest + std::chrono::milliseconds(1), 5);
    ASSERT_TRUE(later) << later.error().message;
    EXPECT_FALSE(later->complete);
    // A page limit the new deployments do not fit in: not complete (the caller reads whole).
    const auto cut = c.client.ListDeploymentsSince(environment, std::nullopt, 1);
    ASSERT_TRUE(cut) << cut.error().message;
    EXPECT_FALSE(cut->complete);
}

INSTANTIATE_TEST_SUITE_P(PlausibleOrders, DeploymentsSince, ::testing::Values("newestFirst", "oldestFirst"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace railwatch
