// The health prober against FakeRailwayApi, a ScriptedTransport (answers inline), a FakeClock and a
// real SQLite store in a temp dir; every step runs on the test thread (Prober::RunForTest). The
// prober against the real simulator's services over loopback: tests/integration/engine.
#include "monitor/prober.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "fakes/fake_railway_api.hpp"
#include "fakes/scripted_transport.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::monitor {
namespace {

using fakes::FakeRailwayApi;
using fakes::ScriptedTransport;
using ::testing::ElementsAre;
using util::FakeClock;

class HealthSink final : public EventSink {
  public:
    void OnInstance(const store::Instance& instance) override {
        std::lock_guard lock(mutex_);
        instances.push_back(instance);
    }
    void OnTransition(const store::Instance&, const store::TimelineEvent&) override {}
    void OnHealth(const store::Instance& instance, const store::HealthCheck& check) override {
        std::lock_guard lock(mutex_);
        health.push_back(instance.state.health.value_or("(none)"));
        checks.push_back(check);
    }

    std::mutex mutex_;
    std::vector<store::Instance> instances;
    std::vector<std::string> health;
    std::vector<store::HealthCheck> checks;
};

railway::ServiceInstanceInfo Info(std::vector<std::string> domains, std::optional<std::string> path) {
    railway::ServiceInstanceInfo info;
    info.domains = std::move(domains);
    info.healthcheck_path = std::move(path);
    return info;
}

TEST(ProbeUrl, IsTheFirstDomainWithTheHealthcheckPathOverHttps) {
    EXPECT_EQ(ProbeUrl(Info({"web-production.up.railway.app", "example.com"}, "/health")),
              "https://web-production.up.railway.app/health");
    EXPECT_EQ(ProbeUrl(Info({"example.com"}, std::nullopt)), "https://example.com/");
    EXPECT_EQ(ProbeUrl(Info({"example.com/"}, "healthz")), "https://example.com/healthz");
    EXPECT_EQ(ProbeUrl(Info({}, "/health")), std::nullopt);
    EXPECT_EQ(ProbeUrl(Info({""}, "/health")), std::nullopt);
}

TEST(ProbeUrl, LoopbackHostsAreProbedOverHttpAndKeepTheirPath) {
    // The simulator's service domain: a loopback host with a path of its own.
    EXPECT_EQ(ProbeUrl(Info({"127.0.0.1:4100/s/svc-1"}, "/health")), "http://127.0.0.1:4100/s/svc-1/health");
    EXPECT_EQ(ProbeUrl(Info({"localhost:8080"}, "/")), "http://localhost:8080/");
    EXPECT_EQ(ProbeUrl(Info({"[::1]:8080"}, "/up")), "http://[::1]:8080/up");
    // A name that only starts like a loopback host is not one.
    EXPECT_EQ(ProbeUrl(Info({"localhost.example.com"}, "/up")), "https://localhost.example.com/up");
}

class ProberTest : public ::testing::Test {
  protected:
    ProberTest() {
        auto opened = store::OpenStore("sqlite:" + dir_.File("prober.db"));
        if (!opened) throw std::runtime_error(opened.error().ToString());
        store_ = std::move(*opened);
        api_.SetServiceInstance("svc", "env", Info({"web.up.railway.app"}, "/health"));
        options_.interval = core::Seconds(60);
        options_.policy.failure_threshold = 3;
        options_.policy.success_threshold = 2;
        options_.policy.slow_threshold = core::Millis(500);
    }

    std::unique_ptr<Prober> Make(ProbeBudget budget = {}) {
        return std::make_unique<Prober>(api_, *store_, *store_, http_, clock_, sink_, options_, std::move(budget));
    }

    // A RUNNING instance with a SUCCESS deployment, stored.
    store::Instance Running(const std::string& id, const std::string& service = "svc") {
        store::Instance instance;
        instance.id = id;
        instance.service_id = service;
        instance.environment_id = "env";
        instance.created_at = clock_.Now();
        instance.state.status = core::InstanceStatus::kRunning;
        instance.state.deployment_id = "dep-" + id;
        instance.state.deployment_status = "SUCCESS";
        instance.state.deployment_completed_at = clock_.Now();
        if (auto created = store_->CreateInstance(instance); !created)
            throw std::runtime_error(created.error().ToString());
        return instance;
    }

    std::optional<std::string> StoredHealth(const std::string& id) { return store_->GetInstance(id)->state.health; }

    // A status check's transition of `id` to `deployment` at `to_status`, now, from its stored
    // state (the caller sets what else the new status implies).
    store::Transition TransitionOf(const std::string& id, const std::string& deployment, const std::string& to_status) {
        store::Transition t;
        t.instance_id = id;
        t.deployment_id = deployment;
        t.from_status = store_->GetInstance(id)->state.deployment_status;
        t.to_status = to_status;
        t.at = clock_.Now();
        t.state = store_->GetInstance(id)->state;
        t.state.deployment_status = to_status;
        return t;
    }

    // `id`'s deployment crashed, written as a status check writes it (FAILED, UNHEALTHY).
    bool ApplyCrash(const std::string& id) {
        store::Transition crashed = TransitionOf(id, "dep-" + id, "CRASHED");
        crashed.state.status = core::InstanceStatus::kFailed;
        crashed.state.health = "UNHEALTHY";
        return static_cast<bool>(store_->ApplyTransition(crashed));
    }

    // Runs `prober`'s queued work until `id` has `count` stored results (at most ~1 s); returns
    // how many it has.
    std::size_t AwaitResults(Prober& prober, const std::string& id, int count) {
        for (int n = 0; n < 200 && store_->RecentHealthChecks(id, count)->size() < static_cast<std::size_t>(count);
             ++n) {
            prober.RunForTest();
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return store_->RecentHealthChecks(id, 10)->size();
    }

    // A RUNNING instance `id` of a service of its own, svc-`id` at `id`.up.railway.app, stored.
    void RunningOwnService(const std::string& id) {
        Running(id, "svc-" + id);
        api_.SetServiceInstance("svc-" + id, "env", Info({id + ".up.railway.app"}, "/"));
    }

    // i1, i2 and i3, each of its own service (RunningOwnService).
    void RunningThree() {
        for (const char* id : {"i1", "i2", "i3"})
            RunningOwnService(id);
    }

    // Starts the prober's thread and, once it waits (the clock in kBlock mode), offers it i1, i2
    // and i3 as a poll does (without waking it, then one Wake); returns whether their three
    // probes were sent (the transport may park them).
    bool StartWithThreeInFlight(Prober& prober) {
        prober.Start();
        if (!clock_.AwaitWaiters(1)) return false;  // else its first look may take one offer alone
        for (const char* id : {"i1", "i2", "i3"})
            if (!prober.Offer(*store_->GetInstance(id), /*wake=*/false)) return false;
        prober.Wake();
        for (int n = 0; n < 2000 && http_.request_count() < 3; ++n)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return http_.request_count() == 3;
    }

    // i1, i2 and i3 sent together by the prober's thread (StartWithThreeInFlight), results waiting
    // up to `gather`; then i1's and i2's answers in, i3's held. The prober stores through `health`;
    // nullptr when the three were not sent.
    std::unique_ptr<Prober> StartWithTwoAnsweredOneHanging(store::HealthChecks& health, core::Duration gather) {
        RunningThree();
        clock_.SetWaitMode(FakeClock::WaitMode::kBlock);
        options_.gather = gather;
        http_.Hold(true);
        http_.AnswerEvery(200);
        auto prober = std::make_unique<Prober>(api_, *store_, health, http_, clock_, sink_, options_);
        if (!StartWithThreeInFlight(*prober)) return nullptr;
        http_.ReleaseFirst(2);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // time for a thread that would not wait
        return prober;
    }

    // Offers `instance` as stored now and runs what that queued; returns whether it was probed.
    bool Probe(Prober& prober, const std::string& id) {
        const bool offered = prober.Offer(*store_->GetInstance(id));
        prober.RunForTest();
        return offered;
    }

    test::TempDir dir_{"railwatch-prober-"};
    std::unique_ptr<store::Store> store_;
    FakeRailwayApi api_;
    ScriptedTransport http_;
    FakeClock clock_;
    HealthSink sink_;
    ProberOptions options_;
};

TEST_F(ProberTest, ARunningServiceIsProbedAtItsDomainAndTheResultStoredWithItsHealth) {
    Running("i1");
    auto prober = Make();
    http_.PushResponse(200, "ok");
    ASSERT_TRUE(Probe(*prober, "i1"));

    ASSERT_EQ(http_.request_count(), 1u);
    EXPECT_EQ(http_.requests()[0].method, "GET");
    EXPECT_EQ(http_.requests()[0].url, "https://web.up.railway.app/health");
    EXPECT_EQ(http_.requests()[0].timeout, options_.timeout);
    const auto checks = *store_->RecentHealthChecks("i1", 10);
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_TRUE(checks[0].ok);
    EXPECT_EQ(checks[0].http_status, 200);
    EXPECT_EQ(checks[0].latency_ms, 0);  // the fake clock does not move
    EXPECT_EQ(checks[0].at, clock_.Now());
    EXPECT_EQ(StoredHealth("i1"), "HEALTHY");
    EXPECT_THAT(sink_.health, ElementsAre("HEALTHY"));
    EXPECT_EQ(sink_.checks.at(0).id, checks[0].id);
    ASSERT_EQ(sink_.instances.size(), 1u);  // its health changed from none
    EXPECT_EQ(sink_.instances[0].state.health, "HEALTHY");
}

TEST_F(ProberTest, FailuresInARowMakeItUnhealthyAndSuccessesInARowBringItBack) {
    Running("i1");
    auto prober = Make();
    std::vector<std::string> seen;
    const auto step = [&](int status) {
        http_.PushResponse(status, "");
        EXPECT_TRUE(Probe(*prober, "i1"));
        seen.push_back(StoredHealth("i1").value_or("(none)"));
        clock_.Advance(options_.interval);
    };
    step(200);
    step(503);
    step(502);
    step(500);  // the third failure in a row
    step(200);  // one success: not yet recovered
    step(204);
    EXPECT_THAT(seen, ElementsAre("HEALTHY", "DEGRADED", "DEGRADED", "UNHEALTHY", "UNHEALTHY", "HEALTHY"));
    const auto checks = *store_->RecentHealthChecks("i1", 10);
    ASSERT_EQ(checks.size(), 6u);
    EXPECT_EQ(checks[2].error, "HTTP 500");
    EXPECT_FALSE(checks[2].ok);
    // One lookup of the URL: it is kept for target_ttl (10 minutes > 5 probe intervals).
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 1);
}

// The deployment crashes while its probe is in flight: the crash's transition sets UNHEALTHY, and
// the probe's late success — a verdict on what ran before — is stored as a check but does not make
// the failed instance HEALTHY again (no later probe would come to put it right: it no longer runs).
// What the prober reports is the instance as stored.
TEST_F(ProberTest, AProbeAnsweredAfterTheDeploymentFailedLeavesTheHealthTheFailureSet) {
    Running("i1");
    auto prober = Make();
    http_.Hold(true);
    http_.AnswerEvery(200);
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i1")));
    prober->RunForTest();  // sent, its answer held
    ASSERT_EQ(http_.request_count(), 1u);
    ASSERT_TRUE(ApplyCrash("i1"));
    http_.ReleaseFirst(1);
    ASSERT_EQ(AwaitResults(*prober, "i1", 1), 1u);
    EXPECT_TRUE((*store_->RecentHealthChecks("i1", 1))[0].ok);  // the probe's own outcome is kept
    EXPECT_EQ(StoredHealth("i1"), "UNHEALTHY");
    std::lock_guard lock(sink_.mutex_);
    EXPECT_THAT(sink_.health, ElementsAre("UNHEALTHY"));
    ASSERT_EQ(sink_.instances.size(), 1u);
    EXPECT_EQ(sink_.instances[0].state.health, "UNHEALTHY");
    EXPECT_EQ(sink_.instances[0].state.status, core::InstanceStatus::kFailed);
}

// As above, but the probe's verdict is the health the offered row already showed (HEALTHY): what
// the prober reports must still be the instance as stored (UNHEALTHY, failed), not the row it was
// offered — the monitor says a transition was written (Superseded), as Monitor::Announce does.
TEST_F(ProberTest, AProbeWhoseVerdictEqualsTheOfferedHealthReportsTheRowATransitionWroteMeanwhile) {
    Running("i1");
    auto prober = Make();
    http_.PushResponse(200, "");
    ASSERT_TRUE(Probe(*prober, "i1"));
    ASSERT_EQ(StoredHealth("i1"), "HEALTHY");
    clock_.Advance(options_.interval);
    http_.Hold(true);
    http_.AnswerEvery(200);
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i1")));  // offered HEALTHY
    prober->RunForTest();                                    // sent, its answer held
    ASSERT_EQ(http_.request_count(), 2u);
    ASSERT_TRUE(ApplyCrash("i1"));
    prober->Superseded("i1");
    http_.ReleaseFirst(1);
    ASSERT_EQ(AwaitResults(*prober, "i1", 2), 2u);
    EXPECT_EQ(StoredHealth("i1"), "UNHEALTHY");
    std::lock_guard lock(sink_.mutex_);
    EXPECT_THAT(sink_.health, ElementsAre("HEALTHY", "UNHEALTHY"));
    ASSERT_FALSE(sink_.instances.empty());
    EXPECT_EQ(sink_.instances.back().state.health, "UNHEALTHY");
    EXPECT_EQ(sink_.instances.back().state.status, core::InstanceStatus::kFailed);
}

// The thresholds count the probes of one deployment: after a deployment probed UNHEALTHY, the fix
// that replaces it is probed at once (not an interval after the last probe of the one before) and
// is HEALTHY at its first passing probe (not after success_threshold of them), and a restart
// replays only the new deployment's results (its one failure: DEGRADED, not a fourth in a row).
TEST_F(ProberTest, ANewDeploymentIsJudgedByItsOwnProbesNotTheFailuresOfTheOneBefore) {
    Running("i1");
    auto prober = Make();
    for (int k = 0; k < 3; ++k) {
        if (k > 0) clock_.Advance(options_.interval);
        http_.PushResponse(503, "");
        ASSERT_TRUE(Probe(*prober, "i1"));
    }
    ASSERT_EQ(StoredHealth("i1"), "UNHEALTHY");
    clock_.Advance(core::Seconds(1));
    store::Transition fixed = TransitionOf("i1", "dep-i1-fix", "SUCCESS");  // a new deployment, live now
    fixed.state.deployment_completed_at = clock_.Now();
    fixed.state.health = "HEALTHY";
    ASSERT_TRUE(store_->ApplyTransition(fixed));
    clock_.Advance(core::Seconds(1));  // two seconds after the last probe
    http_.PushResponse(200, "");
    ASSERT_TRUE(Probe(*prober, "i1"));  // at once: its first probe, not an interval after the last one's
    EXPECT_EQ(StoredHealth("i1"), "HEALTHY");

    clock_.Advance(options_.interval);
    auto restarted = Make();  // no memory but the store
    http_.PushResponse(503, "");
    ASSERT_TRUE(Probe(*restarted, "i1"));
    EXPECT_EQ(StoredHealth("i1"), "DEGRADED");
}

TEST_F(ProberTest, AnUnansweredProbeIsAFailureWithItsReasonAndNoLatency) {
    Running("i1");
    auto prober = Make();
    http_.PushError(core::TransportErrorKind::kTimeout, "timed out after 10000 ms");
    ASSERT_TRUE(Probe(*prober, "i1"));
    http_.PushError(core::TransportErrorKind::kConnect, "connection refused");
    clock_.Advance(options_.interval);
    ASSERT_TRUE(Probe(*prober, "i1"));
    const auto checks = *store_->RecentHealthChecks("i1", 10);
    ASSERT_EQ(checks.size(), 2u);
    EXPECT_EQ(checks[1].error, "timeout");
    EXPECT_EQ(checks[0].error, "connection refused");
    EXPECT_EQ(checks[0].latency_ms, std::nullopt);
    EXPECT_EQ(checks[0].http_status, std::nullopt);
    EXPECT_EQ(StoredHealth("i1"), "DEGRADED");  // 2 failures, the threshold is 3
}

TEST_F(ProberTest, OnlyRunningMonitoredServicesWithASuccessDeploymentAreProbedAndAtMostOncePerInterval) {
    auto running = Running("i1");
    auto prober = Make();
    http_.AnswerEvery(200);
    store::Instance sleeping = running;
    sleeping.state.deployment_status = "SLEEPING";  // a probe would wake a serverless service
    store::Instance building = running;
    building.state.status = core::InstanceStatus::kDeploying;
    building.state.deployment_status = "BUILDING";
    store::Instance off = running;
    off.monitoring = false;
    EXPECT_FALSE(prober->Offer(sleeping));
    EXPECT_FALSE(prober->Offer(building));
    EXPECT_FALSE(prober->Offer(off));
    EXPECT_EQ(prober->RunForTest(), 0u);

    EXPECT_TRUE(Probe(*prober, "i1"));
    clock_.Advance(core::Seconds(47));  // less than 4/5 of the interval
    EXPECT_FALSE(Probe(*prober, "i1"));
    clock_.Advance(core::Seconds(1));  // 48 s: a status check's jitter may come this early
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(http_.request_count(), 2u);
}

// A long-running prober forgets what it has not used for max(10 intervals, target_ttl): an
// instance no longer offered (deleted, turned off) and an expired service URL. One that comes
// back is probed as a new one.
TEST_F(ProberTest, InstancesNotProbedForLongAreForgotten) {
    http_.AnswerEvery(200);
    Running("i1");
    Running("i2");
    auto prober = Make();
    ASSERT_TRUE(Probe(*prober, "i1"));
    ASSERT_TRUE(Probe(*prober, "i2"));
    EXPECT_EQ(prober->KnownForTest(), 3u);  // two instances, one service URL
    for (int n = 1; n < 10; ++n) {          // i1 goes on being probed, i2 is not offered again
        clock_.Advance(options_.interval);
        ASSERT_TRUE(Probe(*prober, "i1"));
    }
    EXPECT_EQ(prober->KnownForTest(), 3u);  // 540 s: nothing is old enough yet
    clock_.Advance(options_.interval);      // 600 s = max(10 × 60 s, target_ttl 600 s)
    ASSERT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(prober->KnownForTest(), 2u);  // i1, and its URL looked up again (it had expired)
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 2);
    ASSERT_TRUE(Probe(*prober, "i2"));  // back: probed at once
    EXPECT_EQ(prober->KnownForTest(), 3u);
    EXPECT_EQ(http_.request_count(), 13u);
}

TEST_F(ProberTest, AServiceWithoutADomainIsNotProbedAndItsHealthStaysAsItWas) {
    api_.SetServiceInstance("worker", "env", Info({}, "/health"));
    Running("i1", "worker");
    auto prober = Make();
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(http_.request_count(), 0u);
    EXPECT_TRUE(store_->RecentHealthChecks("i1", 10)->empty());
    EXPECT_EQ(StoredHealth("i1"), std::nullopt);
    EXPECT_TRUE(sink_.health.empty());
    // Offered again at its next status check, it costs no new lookup while the answer is fresh.
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 1);
}

TEST_F(ProberTest, WithoutBudgetNothingIsLookedUpAndTheNextOfferTriesAgain) {
    Running("i1");
    bool allowed = false;
    auto prober = Make([&](core::Timestamp) { return allowed; });
    http_.PushResponse(200, "");
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 0);
    EXPECT_EQ(http_.request_count(), 0u);
    allowed = true;
    clock_.Advance(core::Seconds(1));  // the next status check, well within the interval
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(http_.request_count(), 1u);
    EXPECT_EQ(StoredHealth("i1"), "HEALTHY");
}

// An environment read (Monitor's discovery) carries each service's target: a URL the prober holds
// is kept fresh by it, so it is not looked up again when target_ttl has passed.
TEST_F(ProberTest, AnEnvironmentReadKeepsAKnownURLFreshWithoutALookup) {
    http_.AnswerEvery(200);
    Running("i1");
    auto prober = Make();
    ASSERT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 1);
    clock_.Advance(core::Seconds(540));
    const std::vector<railway::ServiceLatestDeployment> read = {
        {"svc", "d1", "web.up.railway.app", "/health2"}, {"svc-other", "d2", "other.up.railway.app", std::nullopt}};
    prober->NoteTargets("env", read);
    EXPECT_EQ(prober->KnownForTest(), 2u);  // the instance and its service: not every service read
    clock_.Advance(core::Seconds(120));     // 660 s after the lookup, 120 s after the read
    ASSERT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 1);
    ASSERT_EQ(http_.request_count(), 2u);
    EXPECT_EQ(http_.requests()[1].url, "https://web.up.railway.app/health2");
    // A read of another environment's services sets nothing here.
    prober->NoteTargets("env-2", std::vector<railway::ServiceLatestDeployment>{{"svc", "d1", "x.example.com", "/"}});
    clock_.Advance(options_.interval);
    ASSERT_TRUE(Probe(*prober, "i1"));
    EXPECT_EQ(http_.requests().back().url, "https://web.up.railway.app/health2");
}

// A fleet that settles at once outruns the lookups' budget: a service that could not be looked up
// is set by the next environment read, and one without a domain there is not probed.
TEST_F(ProberTest, ServicesWaitingForALookupAreSetByTheNextEnvironmentRead) {
    http_.AnswerEvery(200);
    Running("i1");
    Running("i2", "worker");
    auto prober = Make([](core::Timestamp) { return false; });
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_TRUE(Probe(*prober, "i2"));
    EXPECT_EQ(http_.request_count(), 0u);
    prober->NoteTargets("env", std::vector<railway::ServiceLatestDeployment>{
                                   {"svc", "d1", "127.0.0.1:4100/s/svc", "/health"},
                                   {"worker", "d2", std::nullopt, std::nullopt},
                                   {"svc-other", "d3", "other.up.railway.app", std::nullopt}});
    EXPECT_EQ(prober->KnownForTest(), 4u);  // two instances, two services; not svc-other
    clock_.Advance(core::Seconds(1));
    EXPECT_TRUE(Probe(*prober, "i1"));
    EXPECT_TRUE(Probe(*prober, "i2"));
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 0);
    ASSERT_EQ(http_.request_count(), 1u);
    EXPECT_EQ(http_.requests()[0].url, "http://127.0.0.1:4100/s/svc/health");
    EXPECT_EQ(StoredHealth("i1"), "HEALTHY");
    EXPECT_EQ(StoredHealth("i2"), std::nullopt);
}

// An environment read looks each of its services up among the targets held only when the
// targets' filter lets it pass: every target held must pass, however many were added since the
// filter was sized (here 200 against its first 64), and after forgotten ones were taken out.
TEST_F(ProberTest, AnEnvironmentReadFindsEveryHeldTargetAsTheyGrowAndAreForgotten) {
    http_.AnswerEvery(200);
    auto prober = Make([](core::Timestamp) { return false; });  // no lookups: only reads give URLs
    const auto read_of = [](const std::vector<std::string>& ids) {
        std::vector<railway::ServiceLatestDeployment> read;
        read.reserve(1000);
        for (int other = 0; other < 1000; ++other)  // services no instance here follows
            read.push_back({"other-" + std::to_string(other), "d", "other.example.com", std::nullopt});
        for (const std::string& id : ids)
            read.push_back({"svc-" + id, "d-" + id, id + ".up.railway.app", "/up"});
        return read;
    };
    std::vector<std::string> first;
    for (int n = 0; n < 200; ++n) {
        first.push_back("a" + std::to_string(n));
        Running(first.back(), "svc-" + first.back());
        ASSERT_TRUE(Probe(*prober, first.back()));  // waits for its URL
    }
    EXPECT_EQ(http_.request_count(), 0u);
    EXPECT_TRUE(prober->AwaitsTargets("env"));  // discovery's next read is whole
    EXPECT_FALSE(prober->AwaitsTargets("env-2"));
    prober->NoteTargets("env", read_of(first));
    EXPECT_FALSE(prober->AwaitsTargets("env"));
    clock_.Advance(core::Seconds(1));
    for (const std::string& id : first)
        ASSERT_TRUE(Probe(*prober, id));
    EXPECT_EQ(http_.request_count(), first.size());
    EXPECT_EQ(http_.requests().back().url, "https://a199.up.railway.app/up");

    // 300 s on, 50 more wait; 300 s later the first 200's URLs have expired and are forgotten
    // (the filter filled again with the 50 alone), and a read sets the 50.
    clock_.Advance(core::Seconds(299));
    std::vector<std::string> second;
    for (int n = 0; n < 50; ++n) {
        second.push_back("b" + std::to_string(n));
        Running(second.back(), "svc-" + second.back());
        ASSERT_TRUE(Probe(*prober, second.back()));
    }
    clock_.Advance(core::Seconds(300));
    ASSERT_TRUE(Probe(*prober, "a0"));  // forgets what is idle; a0's URL expired: it waits again
    EXPECT_EQ(http_.request_count(), first.size());
    EXPECT_TRUE(prober->AwaitsTargets("env"));
    std::vector<std::string> both = first;
    both.insert(both.end(), second.begin(), second.end());
    prober->NoteTargets("env", read_of(both));
    EXPECT_FALSE(prober->AwaitsTargets("env"));
    clock_.Advance(core::Seconds(1));
    for (const std::string& id : second)
        ASSERT_TRUE(Probe(*prober, id));
    EXPECT_EQ(http_.request_count(), first.size() + second.size());
    EXPECT_EQ(http_.requests().back().url, "https://b49.up.railway.app/up");
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 0);
}

// A URL looked up once and gone stale (past target_ttl, before the prober forgets idle targets)
// that cannot be looked up again is waited for like one never known: discovery's next
// environment read is whole and brings it.
TEST_F(ProberTest, AStaleURLThatCannotBeLookedUpIsWaitedForLikeOneNeverKnown) {
    http_.AnswerEvery(200);
    options_.interval = core::Seconds(120);  // forgets idle targets every 1,200 s, after target_ttl
    bool lookups = true;
    auto prober = Make([&](core::Timestamp) { return lookups; });
    Running("i1");
    ASSERT_TRUE(Probe(*prober, "i1"));  // looked up: known
    EXPECT_EQ(http_.request_count(), 1u);
    EXPECT_FALSE(prober->AwaitsTargets("env"));
    lookups = false;
    clock_.Advance(options_.target_ttl + core::Seconds(100));
    ASSERT_TRUE(Probe(*prober, "i1"));  // stale, no lookup possible: not probed, waited for
    EXPECT_EQ(http_.request_count(), 1u);
    EXPECT_TRUE(prober->AwaitsTargets("env"));
    prober->NoteTargets(
        "env", std::vector<railway::ServiceLatestDeployment>{{"svc", "dep-i1", "web2.up.railway.app", std::nullopt}});
    EXPECT_FALSE(prober->AwaitsTargets("env"));
    clock_.Advance(options_.interval);
    ASSERT_TRUE(Probe(*prober, "i1"));
    ASSERT_EQ(http_.request_count(), 2u);
    EXPECT_EQ(http_.requests().back().url, "https://web2.up.railway.app/");
}

// An instance offered while every place in flight is taken waits for one, and for its URL if it
// has none: a fresh URL it has stays known (no lookup again, and discovery is not told to read
// its environment whole).
TEST_F(ProberTest, AnOfferWhileTheProberIsFullLeavesAFreshURLKnown) {
    http_.AnswerEvery(200);
    options_.max_in_flight = 1;
    api_.SetServiceInstance("svc-2", "env", Info({"two.up.railway.app"}, "/"));
    auto prober = Make([](core::Timestamp) { return true; });
    Running("i1");
    Running("i2", "svc-2");
    ASSERT_TRUE(Probe(*prober, "i1"));  // each looked up once
    ASSERT_TRUE(Probe(*prober, "i2"));
    ASSERT_EQ(api_.CallCount("GetServiceInstance"), 2);
    clock_.Advance(options_.interval);
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i1")));
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i2")));  // no room: waits for a place
    EXPECT_FALSE(prober->AwaitsTargets("env"));
    prober->RunForTest();
    EXPECT_EQ(http_.request_count(), 4u);
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 2);
}

TEST_F(ProberTest, ThresholdsCountTheStoredResultsOfAnEarlierProcess) {
    Running("i1");
    {
        auto first = Make();
        http_.PushResponse(503, "");
        ASSERT_TRUE(Probe(*first, "i1"));
        clock_.Advance(options_.interval);
        http_.PushResponse(503, "");
        ASSERT_TRUE(Probe(*first, "i1"));
    }
    EXPECT_EQ(StoredHealth("i1"), "DEGRADED");
    clock_.Advance(options_.interval);
    auto second = Make();  // a restart: no memory but the store
    http_.PushResponse(503, "");
    ASSERT_TRUE(Probe(*second, "i1"));
    EXPECT_EQ(StoredHealth("i1"), "UNHEALTHY");  // the third failure in a row
}

// Old results are deleted with a new one at most every rotate_every, not with each.
TEST_F(ProberTest, OldResultsAreDeletedWithANewOneAtMostEveryRotationInterval) {
    Running("i1");
    options_.keep = core::Seconds(150);
    options_.rotate_every = core::Seconds(120);
    auto prober = Make();
    http_.AnswerEvery(200);
    std::vector<std::size_t> kept;
    for (int n = 0; n < 5; ++n) {
        ASSERT_TRUE(Probe(*prober, "i1"));
        kept.push_back(store_->RecentHealthChecks("i1", 10)->size());
        clock_.Advance(options_.interval);
    }
    // Probes at 0, 60, 120, 180, 240 s, rotating at 0, 120 and 240 s: at 180 s the one of 0 s is
    // past keep (older than 30 s) and still there; at 240 s those before 90 s are gone.
    EXPECT_THAT(kept, ElementsAre(1u, 2u, 3u, 4u, 3u));
}

// The store's HealthChecks, counting how the prober stores results.
class CountingHealth final : public store::HealthChecks {
  public:
    explicit CountingHealth(store::HealthChecks& inner) : inner_(inner) {}
    util::Result<std::int64_t> RecordHealthCheck(const store::HealthCheck& check) override {
        return inner_.RecordHealthCheck(check);
    }
    std::vector<util::Result<std::int64_t>> RecordProbes(std::span<const store::ProbeRecord> records) override {
        {
            std::lock_guard lock(mutex_);
            batch_sizes_.push_back(records.size());
            for (const store::ProbeRecord& record : records)
                rotating_.push_back(record.keep_since.has_value());
            if (failing_writes_ > 0) {
                --failing_writes_;
                return std::vector<util::Result<std::int64_t>>(
                    records.size(), tl::unexpected(util::Error(util::ErrorCode::kUnavailable, "store down")));
            }
        }
        return inner_.RecordProbes(records);
    }
    util::Result<std::vector<store::HealthCheck>> RecentHealthChecks(const std::string& id, int limit) override {
        return inner_.RecentHealthChecks(id, limit);
    }
    util::Result<std::vector<std::vector<store::CheckSummary>>> RecentCheckSummariesOf(std::span<const std::string> ids,
                                                                                       int limit) override {
        return inner_.RecentCheckSummariesOf(ids, limit);
    }
    util::Result<store::UptimeSummary> Uptime(const std::string& id, store::Timestamp since) override {
        return inner_.Uptime(id, since);
    }

    // The records of each RecordProbes call (one write each), in order.
    std::vector<std::size_t> Batches() const {
        std::lock_guard lock(mutex_);
        return batch_sizes_;
    }

    // Whether each record written (or tried) deleted older results, in order.
    std::vector<bool> Rotating() const {
        std::lock_guard lock(mutex_);
        return rotating_;
    }
    // The next `count` RecordProbes calls fail as a store that is down, writing nothing.
    void FailWrites(int count) {
        std::lock_guard lock(mutex_);
        failing_writes_ = count;
    }

  private:
    store::HealthChecks& inner_;
    mutable std::mutex mutex_;
    // Guarded by mutex_ (the prober's thread writes them).
    std::vector<std::size_t> batch_sizes_;
    std::vector<bool> rotating_;
    int failing_writes_ = 0;
};

// A write that fails rotated nothing: the next result deletes the old ones, not one a whole
// rotation interval later.
TEST_F(ProberTest, AFailedWriteLeavesTheRotationToTheNextResult) {
    Running("i1");
    options_.rotate_every = core::Seconds(3600);
    CountingHealth health(*store_);
    Prober prober(api_, *store_, health, http_, clock_, sink_, options_);
    http_.AnswerEvery(200);
    health.FailWrites(1);
    for (int n = 0; n < 3; ++n) {
        ASSERT_TRUE(Probe(prober, "i1"));
        clock_.Advance(options_.interval);
    }
    EXPECT_THAT(health.Rotating(), ElementsAre(true, true, false));  // the failed one, its retry, then not for an hour
    EXPECT_EQ(store_->RecentHealthChecks("i1", 10)->size(), 2u);
}

// Results that complete together are stored in one write (a fleet's probes would otherwise cost
// the store a transaction each), and each still gets its own health and event.
TEST_F(ProberTest, ResultsThatCompleteTogetherAreStoredInOneWrite) {
    RunningThree();
    CountingHealth health(*store_);
    Prober prober(api_, *store_, health, http_, clock_, sink_, options_);
    http_.PushResponse(200, "");
    http_.PushResponse(503, "");
    http_.PushResponse(200, "");
    for (const char* id : {"i1", "i2", "i3"})
        ASSERT_TRUE(prober.Offer(*store_->GetInstance(id)));
    EXPECT_EQ(prober.RunForTest(), 6u);  // three sends, then their three results
    EXPECT_THAT(health.Batches(), ElementsAre(3u));
    EXPECT_EQ(http_.request_count(), 3u);
    for (const char* id : {"i1", "i2", "i3"})
        EXPECT_EQ(store_->RecentHealthChecks(id, 10)->size(), 1u) << id;
    EXPECT_EQ(sink_.checks.size(), 3u);  // an event per result
    EXPECT_EQ(store_->RecentHealthChecks("i2", 1)->front().http_status, 503);
}

// An offer while max_in_flight probes are busy waits for a place (a poll of a settled fleet offers
// hundreds at once; declined, they waited for their next status check), and its service's URL may
// come with an environment read meanwhile: its probe then needs no lookup.
TEST_F(ProberTest, AnOfferWhileTheProberIsFullWaitsForAPlaceAndGetsItsURLFromAnEnvironmentRead) {
    options_.max_in_flight = 1;
    Running("i1");
    Running("i2", "svc-2");
    auto prober = Make();
    http_.Hold(true);
    ASSERT_TRUE(Probe(*prober, "i1"));  // in flight, parked in the transport
    ASSERT_TRUE(Probe(*prober, "i2"));  // waits for i1's place
    EXPECT_EQ(http_.request_count(), 1u);
    prober->NoteTargets("env",
                        std::vector<railway::ServiceLatestDeployment>{{"svc-2", "d2", "two.up.railway.app", "/up"}});
    http_.Hold(false);
    http_.PushResponse(200, "");
    http_.PushResponse(200, "");
    http_.ReleaseAll();  // i1's answer frees its place, which i2 takes
    prober->RunForTest();
    ASSERT_EQ(http_.request_count(), 2u);
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 1);  // i1's only
    EXPECT_EQ(http_.requests().back().url, "https://two.up.railway.app/up");
    EXPECT_EQ(StoredHealth("i1"), "HEALTHY");
    EXPECT_EQ(StoredHealth("i2"), "HEALTHY");
}

// Offers wait for a place first come first, at most max_waiting of them; one beyond is declined
// and its next status check offers it again.
TEST_F(ProberTest, OffersWaitFirstComeFirstUpToMaxWaitingAndTheRestAreDeclined) {
    options_.max_in_flight = 1;
    options_.max_waiting = 2;
    for (const char* id : {"i1", "i2", "i3", "i4"})
        RunningOwnService(id);
    auto prober = Make();
    http_.AnswerEvery(200);
    http_.Hold(true);
    ASSERT_TRUE(Probe(*prober, "i1"));
    EXPECT_TRUE(Probe(*prober, "i3"));
    EXPECT_TRUE(Probe(*prober, "i2"));
    EXPECT_FALSE(Probe(*prober, "i4"));  // i3 and i2 wait already
    EXPECT_EQ(http_.request_count(), 1u);
    for (int n = 0; n < 2; ++n) {
        http_.ReleaseAll();  // the one in flight answers and the first waiting takes its place
        prober->RunForTest();
    }
    ASSERT_EQ(http_.request_count(), 3u);
    EXPECT_EQ(http_.requests()[1].url, "https://i3.up.railway.app/");
    EXPECT_EQ(http_.requests()[2].url, "https://i2.up.railway.app/");
    http_.ReleaseAll();
    prober->RunForTest();
    EXPECT_EQ(http_.request_count(), 3u);  // i4 was not kept
    EXPECT_TRUE(Probe(*prober, "i4"));     // offered again, with room now
    EXPECT_EQ(http_.request_count(), 4u);
    EXPECT_EQ(http_.requests()[3].url, "https://i4.up.railway.app/");
}

// Counts how probes reach the transport: a SubmitAll of several, or a Submit each.
class CountingTransport final : public net::HttpTransport {
  public:
    explicit CountingTransport(net::HttpTransport& inner) : inner_(inner) {}
    net::RequestId Submit(net::HttpRequest request, net::Completion done) override {
        sizes.push_back(1);
        return inner_.Submit(std::move(request), std::move(done));
    }
    void SubmitAll(std::span<Submission> submissions) override {
        sizes.push_back(submissions.size());
        for (Submission& s : submissions)
            s.id = inner_.Submit(std::move(s.request), std::move(s.done));
    }
    void Cancel(net::RequestId id) override { inner_.Cancel(id); }

    std::vector<std::size_t> sizes;

  private:
    net::HttpTransport& inner_;
};

// The probes offered together go to the transport together (its thread woken once, not once a
// probe), each timed from then: a lookup of another one of the batch is not its latency.
TEST_F(ProberTest, ProbesOfferedTogetherAreSentTogetherAndTimedFromTheirSending) {
    RunningThree();
    CountingTransport http(http_);
    Prober prober(api_, *store_, *store_, http, clock_, sink_, options_, [&](core::Timestamp) {
        clock_.Advance(core::Millis(300));  // each lookup takes 300 ms
        return true;
    });
    http_.SetHandler([&](const net::HttpRequest&) {
        clock_.Advance(core::Millis(20));
        net::HttpResponse r;
        r.status = 200;
        return r;
    });
    for (const char* id : {"i1", "i2", "i3"})
        ASSERT_TRUE(prober.Offer(*store_->GetInstance(id)));
    prober.RunForTest();
    EXPECT_THAT(http.sizes, ElementsAre(3u));
    for (const char* id : {"i1", "i2", "i3"}) {
        const auto checks = *store_->RecentHealthChecks(id, 10);
        ASSERT_EQ(checks.size(), 1u) << id;
        EXPECT_LE(checks[0].latency_ms, 60) << id;  // its own answer's time, not the lookups'
    }
}

// Waits (bounded) until `done` holds; returns it.
bool Eventually(const std::function<bool()>& done) {
    for (int n = 0; n < 2000 && !done(); ++n)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return done();
}

// A poll's probes go out together, and their answers, coming one by one, are stored together: a
// result waits for the others in flight, and the last answer wakes the thread at once (the clock
// does not move here: only that ends the wait).
TEST_F(ProberTest, ResultsOfProbesInFlightTogetherAreStoredInOneWrite) {
    RunningThree();
    clock_.SetWaitMode(FakeClock::WaitMode::kBlock);
    options_.gather = core::Seconds(3600);
    CountingHealth health(*store_);
    CountingTransport http(http_);
    http_.Hold(true);
    http_.AnswerEvery(200);
    Prober prober(api_, *store_, health, http, clock_, sink_, options_);
    ASSERT_TRUE(StartWithThreeInFlight(prober));
    EXPECT_THAT(http.sizes, ElementsAre(3u));
    for (int n = 0; n < 3; ++n) {
        http_.ReleaseFirst(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // time for a thread that would not wait
    }
    EXPECT_TRUE(Eventually([&] { return StoredHealth("i3").has_value(); }));
    prober.Stop();
    EXPECT_THAT(health.Batches(), ElementsAre(3u));
    for (const char* id : {"i1", "i2", "i3"})
        EXPECT_EQ(store_->RecentHealthChecks(id, 10)->size(), 1u) << id;
}

// A result waits for the others in flight at most `gather`: a probe that hangs does not hold the
// answered ones.
TEST_F(ProberTest, AResultWaitsForAHangingProbeAtMostTheGatherTime) {
    CountingHealth health(*store_);
    const auto prober = StartWithTwoAnsweredOneHanging(health, core::Millis(100));
    ASSERT_NE(prober, nullptr);
    EXPECT_TRUE(health.Batches().empty());  // waiting for i3 (the clock has not moved)
    clock_.Advance(core::Millis(100));
    EXPECT_TRUE(Eventually([&] { return StoredHealth("i2").has_value(); }));
    EXPECT_THAT(health.Batches(), ElementsAre(2u));
    EXPECT_FALSE(StoredHealth("i3").has_value());
    prober->Stop();
}

// An offer goes out at once and leaves the results waiting: the polls offer probes many times a
// second, and results stored with each offer would make a write of every few.
TEST_F(ProberTest, AnOfferIsSentAtOnceWhileTheResultsWaitingGoOnWaiting) {
    CountingHealth health(*store_);
    const auto prober = StartWithTwoAnsweredOneHanging(health, core::Seconds(1));
    ASSERT_NE(prober, nullptr);
    RunningOwnService("i4");
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i4")));
    EXPECT_TRUE(Eventually([&] { return http_.request_count() == 4; }));  // sent without waiting
    std::this_thread::sleep_for(std::chrono::milliseconds(50));           // time for a thread that would store
    EXPECT_TRUE(health.Batches().empty());
    clock_.Advance(core::Seconds(1));
    EXPECT_TRUE(Eventually([&] { return StoredHealth("i2").has_value(); }));
    EXPECT_THAT(health.Batches(), ElementsAre(2u));
    EXPECT_TRUE(StoredHealth("i1").has_value());
    prober->Stop();
}

// max_in_flight counts probes sent and not answered: results waiting to be stored (up to
// `gather`) hold no place, or a second of a large fleet's results would turn its offers away.
TEST_F(ProberTest, ResultsWaitingToBeStoredHoldNoPlaceInFlight) {
    options_.max_in_flight = 3;
    options_.max_waiting = 0;  // an offer beyond max_in_flight is declined at once
    CountingHealth health(*store_);
    const auto prober = StartWithTwoAnsweredOneHanging(health, core::Seconds(3600));
    ASSERT_NE(prober, nullptr);
    RunningOwnService("i4");
    RunningOwnService("i5");
    Running("i6", "svc-i6");
    EXPECT_TRUE(prober->Offer(*store_->GetInstance("i4")));  // i3 alone is in flight
    EXPECT_TRUE(prober->Offer(*store_->GetInstance("i5")));
    EXPECT_FALSE(prober->Offer(*store_->GetInstance("i6")));  // i3, i4 and i5: full
    EXPECT_TRUE(health.Batches().empty());                    // i1's and i2's results still wait
    prober->Stop();
}

// Results waiting for the others in flight are stored when the prober stops, not dropped; the
// probe still in flight is cancelled and stores nothing.
TEST_F(ProberTest, StopStoresTheResultsWaitingAndCancelsTheRest) {
    CountingHealth health(*store_);
    const auto prober = StartWithTwoAnsweredOneHanging(health, core::Seconds(3600));
    ASSERT_NE(prober, nullptr);
    EXPECT_TRUE(health.Batches().empty());
    prober->Stop();
    EXPECT_THAT(health.Batches(), ElementsAre(2u));
    EXPECT_EQ(store_->RecentHealthChecks("i1", 10)->size(), 1u);
    EXPECT_EQ(store_->RecentHealthChecks("i2", 10)->size(), 1u);
    EXPECT_TRUE(store_->RecentHealthChecks("i3", 10)->empty());
    EXPECT_EQ(http_.cancelled(), 1u);
}

// Stop waits for the prober's thread, so a batch of sends stops at the next one: a large batch
// whose URL lookups wait on Railway would otherwise hold Stop for every lookup.
TEST_F(ProberTest, AStopDuringABatchOfSendsSendsNoMore) {
    Running("i1");
    Running("i2", "svc-2");
    api_.SetServiceInstance("svc-2", "env", Info({"two.up.railway.app"}, "/"));
    std::unique_ptr<Prober> prober;
    int lookups = 0;
    prober = Make([&](core::Timestamp) {
        if (++lookups == 1) prober->Stop();  // as if a signal came while the first lookup ran
        return true;
    });
    http_.PushResponse(200, "");
    http_.PushResponse(200, "");
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i1")));
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i2")));
    prober->RunForTest();
    EXPECT_EQ(lookups, 1);
    EXPECT_EQ(http_.request_count(), 1u);                        // the first probe went out; the second was not sent
    EXPECT_TRUE(store_->RecentHealthChecks("i1", 10)->empty());  // stopped: its result is dropped
}

TEST_F(ProberTest, StopCancelsProbesInFlightAndStoresNothingOfThem) {
    Running("i1");
    auto prober = Make();
    http_.Hold(true);
    ASSERT_TRUE(Probe(*prober, "i1"));  // looked up and sent: parked in the transport
    EXPECT_EQ(http_.request_count(), 1u);
    prober->Stop();
    EXPECT_EQ(http_.cancelled(), 1u);
    EXPECT_TRUE(store_->RecentHealthChecks("i1", 10)->empty());
    EXPECT_FALSE(prober->Offer(*store_->GetInstance("i1")));
}

TEST_F(ProberTest, TheThreadProbesWhatIsOffered) {
    Running("i1");
    clock_.SetWaitMode(FakeClock::WaitMode::kBlock);  // the thread's idle wait does not move time
    auto prober = Make();
    http_.PushResponse(200, "");
    prober->Start();
    ASSERT_TRUE(prober->Offer(*store_->GetInstance("i1")));
    for (int n = 0; n < 2000 && StoredHealth("i1") != "HEALTHY"; ++n)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    prober->Stop();
    EXPECT_EQ(StoredHealth("i1"), "HEALTHY");
}

}  // namespace
}  // namespace railwatch::monitor
