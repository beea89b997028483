// The engine against FakeRailwayApi, a FakeClock and a real SQLite store in a temp dir. Most tests
// drive the scheduler's rounds and the worker's jobs on the test thread (RunRoundForTest,
// RunWorkForTest) so that every step is deterministic; the threaded loop is tested on its own
// with the clock in kBlock mode.
#include "monitor/monitor.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "fakes/fake_railway_api.hpp"
#include "fakes/scripted_transport.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "util/rfc3339.hpp"
#include "util/thread_name.hpp"

namespace railwatch::monitor {
namespace {

using fakes::FakeRailwayApi;
using railway::ApiResult;
using railway::Deployment;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using util::FakeClock;

class RecordingSink final : public EventSink {
  public:
    void OnInstance(const store::Instance& instance) override {
        std::lock_guard lock(mutex_);
        instances_.push_back(instance);
    }
    /// Every instance the sink was told of, in order.
    std::vector<store::Instance> Instances() const {
        std::lock_guard lock(mutex_);
        return instances_;
    }
    void OnTransition(const store::Instance&, const store::TimelineEvent& event) override {
        std::function<void(const store::TimelineEvent&)> hook;
        {
            std::lock_guard lock(mutex_);
            transitions_.push_back(event);
            changed_.notify_all();
            hook = std::exchange(on_transition_, nullptr);
        }
        if (hook) hook(event);
    }
    /// Runs `hook` once, at the next transition (outside the lock: it may call the monitor).
    void OnNextTransition(std::function<void(const store::TimelineEvent&)> hook) {
        std::lock_guard lock(mutex_);
        on_transition_ = std::move(hook);
    }
    /// Blocks (real time, bounded) until `n` transitions arrived; returns whether they did.
    bool AwaitTransitions(std::size_t n) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return transitions_.size() >= n; });
    }
    void OnHealth(const store::Instance& instance, const store::HealthCheck&) override {
        std::lock_guard lock(mutex_);
        health_.push_back(instance.state.health.value_or("(none)"));
    }
    /// The instance's health each health event carried, in order.
    std::vector<std::string> Health() const {
        std::lock_guard lock(mutex_);
        return health_;
    }
    void OnLogLines(const std::string& instance_id, std::span<const store::LogLine> lines) override {
        std::lock_guard lock(mutex_);
        for (const store::LogLine& line : lines)
            log_lines_.push_back(instance_id + ": " + line.message);
    }
    /// "instance: message" of every log line told, in order.
    std::vector<std::string> LogLines() const {
        std::lock_guard lock(mutex_);
        return log_lines_;
    }
    void OnChecks(const CheckBatchReport& report) override {
        std::lock_guard lock(mutex_);
        for (const core::Duration delay : report.delays)
            max_delay_ = std::max(max_delay_, delay);
    }
    /// The latest any check ran after its due time, so far.
    core::Duration MaxDelay() const {
        std::lock_guard lock(mutex_);
        return max_delay_;
    }

    std::vector<store::TimelineEvent> Transitions() const {
        std::lock_guard lock(mutex_);
        return transitions_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<store::Instance> instances_;
    std::vector<store::TimelineEvent> transitions_;
    std::vector<std::string> health_;
    std::vector<std::string> log_lines_;
    core::Duration max_delay_{};
    std::function<void(const store::TimelineEvent&)> on_transition_;
};

Deployment Dep(const std::string& id, std::string_view status, core::Timestamp at) {
    Deployment d;
    d.id = id;
    d.status = core::RailwayStatus::Parse(status);
    d.created_at = FakeClock::DefaultStart();
    d.status_updated_at = at;
    d.updated_at = at;
    d.service_id = "svc";
    d.environment_id = "env";
    return d;
}

// A log line the rules class NETWORK: a failure the policy redeploys.
constexpr const char* kNetworkFailure = "Error: connect ECONNREFUSED 10.0.0.7:443";

railway::LogLine Line(core::Timestamp at, std::string message) {
    railway::LogLine line;
    line.timestamp = at;
    line.timestamp_raw = util::FormatRfc3339(at, util::TimePrecision::kNanos);
    line.message = std::move(message);
    line.severity = "error";
    return line;
}

// The ids whose status was read (polls, and the full reads of a redeploy or a push), over every
// call so far.
std::vector<std::string> CheckedIds(const FakeRailwayApi& api) {
    std::vector<std::string> out;
    for (const std::string& call : api.Calls()) {
        const std::size_t open = call.find('(');
        const std::string_view name = std::string_view(call).substr(0, open);
        if (name != "PollStatuses" && name != "GetDeployments") continue;
        std::string inner = call.substr(open + 1, call.size() - open - 2);
        std::size_t start = 0;
        while (start <= inner.size()) {
            const std::size_t comma = inner.find(',', start);
            const std::string id = inner.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (!id.empty()) out.push_back(id);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }
    return out;
}

class MonitorTest : public ::testing::Test {
  protected:
    MonitorTest() {
        auto opened = store::OpenStore("sqlite:" + dir_.File("monitor.db"));
        if (!opened) throw std::runtime_error(opened.error().ToString());
        store_ = std::move(*opened);
        options_.worker_id = "w1";
        options_.requests_per_hour = 100000;
        options_.requests_per_second = 100;
        // These tests read the schedule from the store (Step): each check claims and releases its
        // row. The "Kept" tests keep their claims, as the engine does by default.
        options_.keep_claims = false;
    }

    std::unique_ptr<Monitor> Make(const std::string& worker_id = "w1", const util::Clock* clock = nullptr) {
        MonitorOptions options = options_;
        options.worker_id = worker_id;
        return std::make_unique<Monitor>(api_, *store_, *store_, *store_, *store_, clock ? *clock : clock_, sink_,
                                         options);
    }

    // A monitor on `clock` with one poller and one worker, whose polling may send one request a
    // second (4,500/h less the 20 % reserve).
    std::unique_ptr<Monitor> MakeAtOneRequestASecond(const util::Clock& clock) {
        options_.max_idle_wait = seconds(5);
        options_.poll_threads = 1;
        options_.workers = 1;
        options_.requests_per_hour = 4500;
        options_.requests_per_second = 100;
        options_.batch_size = 100;
        return Make("w1", &clock);
    }

    // Every status (and the fallback) checked every second.
    void CheckEverySecondInEveryStatus() {
        for (const auto status : core::kAllDeploymentStatuses)
            options_.intervals.per_status[status] = seconds(1);
        options_.intervals.fallback = seconds(1);
    }

    // An instance following `deployment_id`, BUILDING since `since` (updatedAt), past its first
    // check and that phase change's log collection.
    store::Instance AddBuildingPastItsCollection(Monitor& monitor, const std::string& deployment_id,
                                                 core::Timestamp since) {
        api_.SetDeployment(Dep(deployment_id, "BUILDING", since));
        store::Instance instance = Add(monitor, deployment_id);
        EXPECT_EQ(monitor.RunRoundForTest(), 1u);  // none -> BUILDING: the phase change's collection
        EXPECT_EQ(monitor.RunWorkForTest(), 1u);
        return instance;
    }

    // 3,600 requests an hour (1 a second: 0.8 for polling, the 20 % reserve 0.2), `batch`
    // deployments a request, each checked every second: any instance needs a request a second,
    // more than polling's share, so polling plans all of it and side work has the reserve alone.
    void SideWorkHasTheReserveAlone(std::size_t batch) {
        options_.requests_per_hour = 3600;
        options_.requests_per_second = 10;
        options_.batch_size = batch;
        CheckEverySecondInEveryStatus();
    }

    // `own`: the instance's own interval (AddInstanceRequest::check_interval_s).
    store::Instance Add(Monitor& monitor, const std::string& deployment_id,
                        std::optional<core::Duration> own = std::nullopt) {
        AddInstanceRequest request;
        request.service_id = "svc";
        request.environment_id = "env";
        request.deployment_id = deployment_id;
        if (own) request.check_interval_s = static_cast<int>(core::ToSeconds(*own));
        auto added = monitor.AddInstance(request);
        if (!added) throw std::runtime_error(added.error().ToString());
        return *added;
    }

    // An instance following d1, which its first check found `status` with `line` in its `kind`
    // logs: the failure's classification job is queued.
    store::Instance AddFailed(Monitor& monitor, const std::string& status, core::LogKind kind,
                              const std::string& line) {
        const auto t0 = clock_.Now();
        api_.SetDeployment(Dep("d1", status, t0));
        api_.AddLogs(kind, "d1", {Line(t0, line)});
        store::Instance instance = Add(monitor, "d1");
        monitor.RunRoundForTest();
        return instance;
    }

    // Runs `meanwhile` once, at the first request a job makes (polls aside): the job has read the
    // instance's row by then and writes after it. The flag says whether it ran.
    std::shared_ptr<bool> AtAJobsFirstRequest(std::function<void()> meanwhile) {
        auto ran = std::make_shared<bool>(false);
        api_.SetCallHook([ran, meanwhile = std::move(meanwhile)](const std::string& call) {
            if (*ran || call == "PollStatuses" || call == "GetDeployments") return;
            *ran = true;
            meanwhile();
        });
        return ran;
    }

    // Instances of svc (following d1) and of svc-other (following o1) in env, both deployments
    // SUCCESS since `at`: two services of one environment for its discovery reads.
    std::pair<store::Instance, store::Instance> AddTwoServices(Monitor& monitor, core::Timestamp at) {
        api_.SetDeployment(Dep("d1", "SUCCESS", at));
        Deployment other = Dep("o1", "SUCCESS", at);
        other.service_id = "svc-other";
        api_.SetDeployment(other);
        const store::Instance a = Add(monitor, "d1");
        AddInstanceRequest request;
        request.service_id = "svc-other";
        request.environment_id = "env";
        request.deployment_id = "o1";
        auto b = monitor.AddInstance(request);
        if (!b) throw std::runtime_error(b.error().ToString());
        return {a, *b};
    }

    // An instance checked every `interval_s` whatever its status (± 10 % jitter).
    store::Instance AddEvery(Monitor& monitor, const std::string& deployment_id, int interval_s) {
        AddInstanceRequest request;
        request.service_id = "svc";
        request.environment_id = "env";
        request.deployment_id = deployment_id;
        request.check_interval_s = interval_s;
        auto added = monitor.AddInstance(request);
        if (!added) throw std::runtime_error(added.error().ToString());
        return *added;
    }

    store::Instance Get(const std::string& id) {
        auto got = store_->GetInstance(id);
        if (!got) throw std::runtime_error(got.error().ToString());
        return *got;
    }

    std::vector<std::string> Statuses(const std::string& id) {
        std::vector<std::string> out;
        const auto events = store_->ListEvents(id, 1000);
        if (!events) throw std::runtime_error(events.error().ToString());
        for (const auto& e : *events)
            out.push_back(e.to_status);
        return out;
    }

    // An instance whose deployment d1 succeeded (checked once); Redeploy answers d1-redeploy-1,
    // QUEUED.
    store::Instance AddSucceededToRedeploy(Monitor& monitor) {
        api_.SetDeployment(Dep("d1", "SUCCESS", clock_.Now()));
        api_.SetDeployment(Dep("d1-redeploy-1", "QUEUED", clock_.Now()));
        auto instance = Add(monitor, "d1");
        monitor.RunRoundForTest();
        return instance;
    }

    // QUEUED's check interval less the jitter: the earliest the check after a QUEUED read comes.
    core::Duration QueuedIntervalLessJitter() const {
        const auto interval = core::BaseCheckInterval(options_.intervals, core::DeploymentStatus::kQueued);
        return std::chrono::duration_cast<core::Duration>(interval * (1 - options_.intervals.jitter_fraction));
    }

    // Moves time to the instance's next check and runs a round and the follow-up work.
    // A push: `id`, created at `at` and in `status` since, becomes svc's latest deployment (what
    // discovery's list, its whole read with `others`' latest besides, and Discover find).
    Deployment Push(const std::string& id, std::string_view status, core::Timestamp at,
                    std::vector<railway::ServiceLatestDeployment> others = {{"svc-other", "o1"}}) {
        Deployment d = Dep(id, status, at);
        d.created_at = at;
        api_.SetDeployment(d);
        api_.SetLatestDeployment("svc", "env", d);
        others.insert(others.begin(), {"svc", id});
        api_.SetEnvironmentServices("env", std::move(others));
        return d;
    }

    // The environment reads made so far: (lists of what is new, whole reads).
    std::pair<int, int> Reads() const {
        return {api_.CallCount("ListDeploymentsSince"), api_.CallCount("ReadEnvironmentServices")};
    }

    // A minute on, one round and its jobs.
    void Minute(Monitor& monitor) {
        clock_.Advance(seconds(60));
        monitor.RunRoundForTest();
        monitor.RunWorkForTest();
    }

    // Two services' instances (svc on d1, svc-other on o1, SUCCESS) through their first checks and
    // their environment's first read (a list and the whole read), discovery once a minute.
    struct TwoWatched {
        std::unique_ptr<Monitor> monitor;
        store::Instance a;  // svc
        store::Instance b;  // svc-other
        core::Timestamp t0;
    };
    TwoWatched WatchTwoThroughTheFirstRead() {
        options_.discovery_interval = seconds(60);
        options_.intervals.jitter_fraction = 0;
        TwoWatched w;
        w.monitor = Make();
        w.t0 = clock_.Now();
        std::tie(w.a, w.b) = AddTwoServices(*w.monitor, w.t0);
        api_.SetEnvironmentServices("env", {{"svc", "d1"}, {"svc-other", "o1"}});
        w.monitor->RunRoundForTest();
        w.monitor->RunWorkForTest();
        Minute(*w.monitor);  // settled: the first read
        return w;
    }

    // One round, its jobs and its probes, at the clock's time.
    static void RunAll(Monitor& monitor) {
        monitor.RunRoundForTest();
        monitor.RunWorkForTest();
        monitor.RunProbesForTest();
    }

    void Step(Monitor& monitor, const std::string& id) {
        const auto next = Get(id).state.next_check_at;
        ASSERT_TRUE(next.has_value());
        if (*next > clock_.Now()) clock_.Advance(*next - clock_.Now());
        monitor.RunRoundForTest();
        monitor.RunWorkForTest();
    }

    test::TempDir dir_{"railwatch-monitor-"};
    std::unique_ptr<store::Store> store_;
    FakeRailwayApi api_;
    FakeClock clock_;
    RecordingSink sink_;
    MonitorOptions options_;
};

TEST_F(MonitorTest, FirstCheckHappensAtOnce) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    const auto instance = Add(*monitor, "d1");
    EXPECT_EQ(instance.state.next_check_at, clock_.Now());
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1"));
    EXPECT_THAT(Statuses(instance.id), ElementsAre("BUILDING"));
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.status, core::InstanceStatus::kDeploying);
    EXPECT_FALSE(stored.lease_owner.has_value());  // released (claim_mode "per_check", the default)
    EXPECT_GT(*stored.state.next_check_at, clock_.Now());
}

TEST_F(MonitorTest, StatusSequenceBecomesTimelineRowsAndSuccessMakesItRunning) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "INITIALIZING", t0), Dep("d1", "BUILDING", t0 + seconds(5)),
                                 Dep("d1", "BUILDING", t0 + seconds(5)), Dep("d1", "DEPLOYING", t0 + seconds(40)),
                                 Dep("d1", "SUCCESS", t0 + seconds(60))});
    const auto instance = Add(*monitor, "d1");
    for (int i = 0; i < 6; ++i)
        Step(*monitor, instance.id);
    EXPECT_THAT(Statuses(instance.id), ElementsAre("INITIALIZING", "BUILDING", "DEPLOYING", "SUCCESS"));
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.status, core::InstanceStatus::kRunning);
    EXPECT_EQ(stored.state.deployment_completed_at, t0 + seconds(60));
    EXPECT_EQ(stored.state.progress, 100);
    EXPECT_TRUE(stored.monitoring);  // still watched: crashes, sleep, removal
    ASSERT_TRUE(stored.state.next_check_at.has_value());
    // SUCCESS is checked at its own interval (60 s ± 10 %).
    EXPECT_GE(*stored.state.next_check_at - clock_.Now(), seconds(54));
    EXPECT_EQ(sink_.Transitions().size(), 4u);
}

// Health follows the deployment on each transition (none while in progress: nothing to judge
// yet; UNHEALTHY once it failed), until a probe says more.
TEST_F(MonitorTest, EachTransitionSetsTheHealthItsNewStatusImplies) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "BUILDING", t0), Dep("d1", "SUCCESS", t0 + seconds(20)),
                                 Dep("d1", "CRASHED", t0 + seconds(90))});
    const auto instance = Add(*monitor, "d1");
    std::vector<std::string> health;
    for (int i = 0; i < 3; ++i) {
        Step(*monitor, instance.id);
        health.push_back(Get(instance.id).state.health.value_or("(none)"));
    }
    EXPECT_THAT(health, ElementsAre("(none)", "HEALTHY", "UNHEALTHY"));
}

// svc's service instance at web.up.railway.app/ready, and `http` answering every probe with `status`.
void ServeProbes(fakes::FakeRailwayApi& api, fakes::ScriptedTransport& http, int status) {
    http.AnswerEvery(status);
    railway::ServiceInstanceInfo info;
    info.domains = {"web.up.railway.app"};
    info.healthcheck_path = "/ready";
    api.SetServiceInstance("svc", "env", info);
}

// With probes on, each status check that finds the deployment SUCCESS offers the instance to the
// prober: its service is probed at its domain and the verdict stored; in-progress ones are not.
TEST_F(MonitorTest, StatusChecksOfRunningInstancesOfferThemToTheProber) {
    fakes::ScriptedTransport http;
    ServeProbes(api_, http, 503);
    auto monitor = Make();
    ProberOptions probes;
    probes.policy.failure_threshold = 1;
    monitor->EnableProbes(*store_, http, probes);
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "DEPLOYING", t0), Dep("d1", "SUCCESS", t0 + seconds(10))});
    const auto instance = Add(*monitor, "d1");
    Step(*monitor, instance.id);
    EXPECT_EQ(monitor->RunProbesForTest(), 0u);  // DEPLOYING: nothing to probe
    Step(*monitor, instance.id);                 // SUCCESS: offered in the same round
    EXPECT_EQ(monitor->RunProbesForTest(), 2u);  // the probe sent, its answer stored
    ASSERT_EQ(http.request_count(), 1u);
    EXPECT_EQ(http.requests()[0].url, "https://web.up.railway.app/ready");
    const auto checks = *store_->RecentHealthChecks(instance.id, 10);
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].http_status, 503);
    EXPECT_EQ(Get(instance.id).state.health, "UNHEALTHY");
    EXPECT_EQ(Get(instance.id).state.status, core::InstanceStatus::kRunning);  // the deployment runs
}

// A probe in flight when the deployment crashes: its verdict (HEALTHY, as the row it was offered
// already said) is reported with the instance as stored after the crash's transition (UNHEALTHY),
// not as offered — the monitor tells the prober of the transition (Announce).
TEST_F(MonitorTest, AProbeAnsweredAfterACrashReportsTheHealthTheCrashSet) {
    fakes::ScriptedTransport http;
    ServeProbes(api_, http, 200);
    options_.intervals.jitter_fraction = 0;
    auto monitor = Make();
    ProberOptions probes;
    // The held probe's answer comes a check interval after it was sent (the test's clock): not slow
    // here, so that its verdict is the HEALTHY the row already shows.
    probes.policy.slow_threshold = core::Seconds(600);
    monitor->EnableProbes(*store_, http, probes);
    const auto t0 = clock_.Now();
    // One answer per check: SUCCESS twice, then CRASHED.
    api_.ScriptDeployment(
        "d1", {Dep("d1", "SUCCESS", t0), Dep("d1", "SUCCESS", t0), Dep("d1", "CRASHED", t0 + seconds(100))});
    const auto instance = Add(*monitor, "d1");
    Step(*monitor, instance.id);  // SUCCESS: probed at once
    monitor->RunProbesForTest();
    ASSERT_EQ(Get(instance.id).state.health, "HEALTHY");
    http.Hold(true);
    Step(*monitor, instance.id);  // SUCCESS a minute on: offered HEALTHY, its probe held in flight
    monitor->RunProbesForTest();
    ASSERT_EQ(http.request_count(), 2u);
    Step(*monitor, instance.id);  // CRASHED: the transition sets UNHEALTHY
    ASSERT_EQ(Get(instance.id).state.deployment_status, "CRASHED");
    http.ReleaseFirst(1);
    for (int n = 0; n < 200 && store_->RecentHealthChecks(instance.id, 2)->size() < 2; ++n) {
        monitor->RunProbesForTest();
        std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_EQ(store_->RecentHealthChecks(instance.id, 10)->size(), 2u);
    EXPECT_EQ(Get(instance.id).state.health, "UNHEALTHY");
    EXPECT_THAT(sink_.Health(), ElementsAre("HEALTHY", "UNHEALTHY"));
}

// The whole environment read that discovery makes anyway (every discovery_whole_read_interval)
// carries each service's domain and healthcheck path: the prober takes its URLs from it instead
// of a `serviceInstance` lookup per target_ttl.
TEST_F(MonitorTest, TheEnvironmentReadGivesTheProberItsServicesURLs) {
    fakes::ScriptedTransport http;
    ServeProbes(api_, http, 200);
    options_.discovery_interval = seconds(60);
    options_.intervals.jitter_fraction = 0;
    auto monitor = Make();
    monitor->EnableProbes(*store_, http, ProberOptions{});
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "SUCCESS", t0));
    api_.SetEnvironmentServices("env", {{"svc", "d1", "web2.up.railway.app", "/v2"}});
    Add(*monitor, "d1");
    RunAll(*monitor);  // SUCCESS: probed at once, its URL looked up
    ASSERT_EQ(http.request_count(), 1u);
    EXPECT_EQ(http.requests()[0].url, "https://web.up.railway.app/ready");
    for (int minute = 1; minute <= 12; ++minute) {  // past target_ttl (600 s)
        clock_.Advance(seconds(60));
        RunAll(*monitor);
    }
    EXPECT_EQ(api_.CallCount("GetServiceInstance"), 1);
    // Whole reads (which carry the URLs) at the first read and every 300 s after; the lists
    // between carry none.
    EXPECT_GE(api_.CallCount("ReadEnvironmentServices"), 3);
    ASSERT_GE(http.request_count(), 12u);
    EXPECT_EQ(http.requests().back().url, "https://web2.up.railway.app/v2");
}

// A service whose URL the prober could not look up (here Railway does not answer the lookup)
// waits for the whole environment read, which carries it: the next discovery read is whole, not
// one discovery_whole_read_interval (300 s) later.
TEST_F(MonitorTest, AURLTheProberWaitsForMakesTheNextEnvironmentReadWhole) {
    fakes::ScriptedTransport http;
    ServeProbes(api_, http, 200);  // svc's lookup answers; svc-other's does not
    options_.discovery_interval = seconds(60);
    options_.intervals.jitter_fraction = 0;
    auto monitor = Make();
    monitor->EnableProbes(*store_, http, ProberOptions{});
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "SUCCESS", t0));
    Deployment other = Dep("o1", "BUILDING", t0);
    other.service_id = "svc-other";
    api_.SetDeployment(other);
    api_.SetEnvironmentServices(
        "env", {{"svc", "d1", "web.up.railway.app", "/ready"}, {"svc-other", "o1", "other.up.railway.app", "/"}});
    Add(*monitor, "d1");
    AddInstanceRequest request;
    request.service_id = "svc-other";
    request.environment_id = "env";
    request.deployment_id = "o1";
    ASSERT_TRUE(monitor->AddInstance(request));
    RunAll(*monitor);  // d1 SUCCESS: probed (its URL looked up); o1 BUILDING
    clock_.Advance(seconds(60));
    RunAll(*monitor);  // d1 settled: the first read (whole)
    ASSERT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);
    other.status = core::RailwayStatus::Parse("SUCCESS");
    api_.SetDeployment(other);
    clock_.Advance(seconds(15));
    RunAll(*monitor);  // o1 SUCCESS: offered; its lookup fails, so the prober waits for its URL
    EXPECT_GE(api_.CallCount("GetServiceInstance"), 2);
    for (int minute = 0; minute < 2 && api_.CallCount("ReadEnvironmentServices") < 2; ++minute) {
        clock_.Advance(seconds(60));
        RunAll(*monitor);
    }
    EXPECT_EQ(api_.CallCount("ReadEnvironmentServices"), 2) << "the read after the wait was not whole";
    EXPECT_LE(clock_.Now() - t0, seconds(200));  // not at 300 s
}

// A stall is flagged once; whether Railway reports an incident then (platformStatus, read at
// most once a minute, only when a stall is about to be flagged) decides whose it likely is.
class StallTest : public MonitorTest, public ::testing::WithParamInterface<bool> {};

TEST_P(StallTest, AStallIsFlaggedAsLikelyRailwaysOnlyWhileRailwayReportsAnIncident) {
    const bool incident = GetParam();
    options_.check.stuck.default_deadline = seconds(600);
    options_.check.timeout_after = seconds(86400);
    railway::PlatformStatus platform;
    platform.is_stable = !incident;
    if (incident) platform.incident_message = "Builds are delayed";
    api_.SetPlatformStatus(platform);
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeployment(Dep("d2", "BUILDING", t0));
    const auto a = Add(*monitor, "d1");
    const auto b = Add(*monitor, "d2");
    monitor->RunRoundForTest();
    EXPECT_EQ(api_.CallCount("GetPlatformStatus"), 0);  // nothing stalls: not read
    clock_.Advance(seconds(700));
    monitor->RunRoundForTest();  // during an incident flagged at once, else confirmed against the log first (a job)
    EXPECT_EQ(Get(a.id).state.needs_attention, incident);
    monitor->RunWorkForTest();
    for (const auto& id : {a.id, b.id}) {
        const auto stored = Get(id);
        ASSERT_TRUE(stored.state.needs_attention) << id;
        EXPECT_EQ(stored.state.attention_reason->find("likely theirs") != std::string::npos, incident)
            << *stored.state.attention_reason;
    }
    EXPECT_EQ(api_.CallCount("GetPlatformStatus"), 1);  // two stalls, one read
    EXPECT_EQ(monitor->PlatformIncident(), incident ? std::optional<std::string>("Builds are delayed") : std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Platform, StallTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "DuringAnIncident" : "WhileStable"; });

// Railway's updatedAt may stand still through a long build whose log keeps growing: a stall is
// confirmed against the deployment's log before it is flagged. Alive, it is not asked about again
// before its deadline runs out after the newest line; once the log is quiet for the deadline, it
// is flagged (once, with the stuck notice's kind). A phase without a log (QUEUED) is flagged at
// once, as before.
TEST_F(MonitorTest, AStallIsConfirmedAgainstTheLogBeforeItIsFlagged) {
    options_.check.stuck.default_deadline = seconds(600);
    options_.check.timeout_after = seconds(86400);
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));  // its updatedAt stays at t0
    api_.SetDeployment(Dep("q1", "QUEUED", t0));
    const auto building = Add(*monitor, "d1");
    const auto queued = Add(*monitor, "q1");
    RunAll(*monitor);
    // A long build: a line every 5 minutes.
    for (int minute = 5; minute <= 15; minute += 5) {
        clock_.Advance(seconds(300));
        api_.AddLogs(core::LogKind::kBuild, "d1",
                     {Line(t0 + seconds(60 * minute), "Compiling crate " + std::to_string(minute))});
        monitor->RunRoundForTest();
        // QUEUED has no log to look at: flagged by the check itself, past its deadline.
        EXPECT_EQ(Get(queued.id).state.needs_attention, minute > 10) << minute;
        monitor->RunWorkForTest();
    }
    EXPECT_FALSE(Get(building.id).state.needs_attention) << "flagged while its build log grew";
    const int reads = api_.CallCount("GetLogsSince");
    EXPECT_GE(reads, 1) << "the log was never asked";
    // Quiet from t0 + 15 min: within its deadline after that line, no read and no flag.
    clock_.Advance(seconds(300));
    RunAll(*monitor);
    EXPECT_FALSE(Get(building.id).state.needs_attention);
    EXPECT_EQ(api_.CallCount("GetLogsSince"), reads) << "asked again before the deadline after its last line";
    clock_.Advance(seconds(301));  // 601 s after the last line
    RunAll(*monitor);
    // Asked from the newest line the last confirmation saw (not stored: no phase change read it),
    // not from the last stored sign: Railway may send a window's first lines.
    const auto calls = api_.Calls();
    const auto last_ask = std::find_if(calls.rbegin(), calls.rend(),
                                       [](const std::string& call) { return call.starts_with("GetLogsSince("); });
    ASSERT_NE(last_ask, calls.rend());
    EXPECT_EQ(*last_ask, "GetLogsSince(build:d1>" + util::FormatRfc3339(t0 + seconds(900)) + ")");
    const auto flagged = Get(building.id);
    ASSERT_TRUE(flagged.state.needs_attention);
    EXPECT_THAT(*flagged.state.attention_reason, ::testing::HasSubstr("no progress in BUILDING"));
    const auto events = store_->ListEvents(building.id, 100);
    ASSERT_TRUE(events);
    EXPECT_EQ(events->back().source, "attention");
    EXPECT_EQ(events->back().to_status, "BUILDING");
    EXPECT_EQ(std::count_if(events->begin(), events->end(), [](const auto& e) { return e.source == "attention"; }), 1);
    clock_.Advance(seconds(900));
    RunAll(*monitor);  // flagged once
    const auto later = store_->ListEvents(building.id, 100);
    ASSERT_TRUE(later);
    EXPECT_EQ(later->size(), events->size());
}

// A wave of stalls outside an incident (several builds whose updatedAt stands still) is confirmed
// with one request for all of them, not one each: the builds whose log grew since their last sign
// of life are left be, the silent ones flagged; a deploying one is asked about its deploy log.
TEST_F(MonitorTest, AWaveOfStallsIsConfirmedWithOneRequest) {
    options_.check.stuck.default_deadline = seconds(600);
    options_.check.timeout_after = seconds(86400);
    auto monitor = Make();
    const auto t0 = clock_.Now();
    std::vector<std::string> ids;
    for (const std::string dep : {"b1", "b2", "b3", "b4"}) {
        api_.SetDeployment(Dep(dep, "BUILDING", t0));
        ids.push_back(Add(*monitor, dep).id);
    }
    api_.SetDeployment(Dep("d5", "DEPLOYING", t0));
    ids.push_back(Add(*monitor, "d5").id);
    RunAll(*monitor);
    const int phase_reads = api_.CallCount("GetPhaseChanges");
    clock_.Advance(seconds(1000));
    api_.AddLogs(core::LogKind::kBuild, "b1", {Line(t0 + seconds(990), "Compiling")});
    api_.AddLogs(core::LogKind::kBuild, "b3", {Line(t0 + seconds(300), "Linking")});  // 700 s ago: silent since
    api_.AddLogs(core::LogKind::kDeploy, "d5", {Line(t0 + seconds(995), "Starting container")});
    monitor->RunRoundForTest();
    for (const auto& id : ids)
        EXPECT_FALSE(Get(id).state.needs_attention) << id << ": flagged before its log was asked";
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);  // one job answered the five
    EXPECT_EQ(api_.CallCount("GetLogsSince"), 1);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), phase_reads);
    const auto calls = api_.Calls();
    const auto asked = std::find_if(calls.begin(), calls.end(),
                                    [](const std::string& call) { return call.starts_with("GetLogsSince("); });
    ASSERT_NE(asked, calls.end());
    for (const std::string part : {"build:b1", "build:b2", "build:b3", "build:b4", "deploy:d5"})
        EXPECT_THAT(*asked, HasSubstr(part));
    EXPECT_FALSE(Get(ids[0]).state.needs_attention) << "b1 logged 10 s ago";
    EXPECT_TRUE(Get(ids[1]).state.needs_attention) << "b2 never logged";
    EXPECT_TRUE(Get(ids[2]).state.needs_attention) << "b3 logged 700 s ago";
    EXPECT_TRUE(Get(ids[3]).state.needs_attention) << "b4 never logged";
    EXPECT_FALSE(Get(ids[4]).state.needs_attention) << "d5's deploy log grew";

    // While status requests carry two (Railway refused more, or charges each root field), a job
    // takes no more than one request carries: it is charged what it sends. b1 and d5 silent since
    // their lines, and a new silent build: three confirmations, two jobs, two requests.
    api_.SetStatusBatchSize(2);
    api_.SetDeployment(Dep("b6", "BUILDING", clock_.Now()));
    const auto b6 = Add(*monitor, "b6");
    RunAll(*monitor);
    clock_.Advance(seconds(1000));
    monitor->RunRoundForTest();
    EXPECT_EQ(monitor->RunWorkForTest(), 2u);
    EXPECT_EQ(api_.CallCount("GetLogsSince"), 3);
    for (const auto& id : {ids[0], ids[4], b6.id})
        EXPECT_TRUE(Get(id).state.needs_attention) << id;
}

// A new deployment of a watched service (a push, a redeploy from Railway's dashboard) while the
// followed one still runs: the environment's first read is whole (and lists where to start); the
// next, a discovery interval later, lists only the deployments created since (one request, no
// whole read), finds it, and the instance follows it; another service's instance is left be.
TEST_F(MonitorTest, ANewDeploymentOfAWatchedServiceIsFoundByOneEnvironmentReadAndFollowed) {
    options_.discovery_interval = seconds(60);
    options_.intervals.jitter_fraction = 0;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    const auto [a, b] = AddTwoServices(*monitor, t0);
    api_.SetEnvironmentServices("env", {{"svc", "d1"}, {"svc-other", "o1"}});

    monitor->RunRoundForTest();  // first checks: transitions to SUCCESS, no read yet
    monitor->RunWorkForTest();
    EXPECT_EQ(api_.CallCount("ReadEnvironmentServices"), 0);
    clock_.Advance(seconds(60));
    monitor->RunRoundForTest();  // settled: one read for the environment of both
    monitor->RunWorkForTest();
    EXPECT_EQ(Reads(), std::pair(1, 1));
    EXPECT_EQ(Get(a.id).state.deployment_id, "d1");

    // A push starts d2 while d1 still runs.
    Push("d2", "BUILDING", t0 + seconds(90));
    clock_.Advance(seconds(30));
    monitor->RunRoundForTest();  // nothing due: no read within the interval
    monitor->RunWorkForTest();
    EXPECT_EQ(api_.CallCount("ListDeploymentsSince"), 1);
    clock_.Advance(seconds(30));
    monitor->RunRoundForTest();
    monitor->RunWorkForTest();
    EXPECT_EQ(Reads(), std::pair(2, 1));                  // the list found it: no whole read
    EXPECT_EQ(api_.CallCount("GetLatestDeployment"), 1);  // the discovery of svc only
    const auto followed = Get(a.id);
    EXPECT_EQ(followed.state.deployment_id, "d2");
    EXPECT_EQ(followed.state.deployment_status, "BUILDING");
    EXPECT_EQ(Get(b.id).state.deployment_id, "o1");
    const auto events = *store_->ListEvents(a.id, 10);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().source, "discovery");  // oldest first
    EXPECT_EQ(events.back().deployment_id, "d2");

    // Reads go on as lists until discovery_whole_read_interval (300 s) after the whole read.
    for (int minute = 0; minute < 5; ++minute)
        Minute(*monitor);
    EXPECT_EQ(api_.CallCount("ReadEnvironmentServices"), 2);
}

// A deployment the list finds while its service's instance is not noted (its followed deployment
// in progress, so not settled): the instance is compared when it is noted, and follows it then —
// not only at the next whole read.
TEST_F(MonitorTest, ANewDeploymentListedWhileTheInstanceWasInProgressIsFollowedWhenItSettles) {
    options_.intervals.per_status[core::DeploymentStatus::kBuilding] = seconds(30);
    auto [monitor, a, b, t0] = WatchTwoThroughTheFirstRead();  // b settles and keeps the reads going
    ASSERT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);

    // d1 is redeployed through railwatch (d1r, BUILDING): a is in progress, not noted.
    Deployment d1r = Dep("d1r", "BUILDING", t0 + seconds(70));
    d1r.created_at = t0 + seconds(70);
    api_.SetDeployment(d1r);
    api_.SetRedeployAnswer("d1", std::string("d1r"));
    ASSERT_TRUE(monitor->Redeploy(a.id)) << "redeploy";
    monitor->RunWorkForTest();
    const std::string followed = *Get(a.id).state.deployment_id;
    // Meanwhile a push creates d3, newer; the next list (b's settled check asks for it) finds it.
    Push("d3", "BUILDING", t0 + seconds(80));
    Minute(*monitor);
    ASSERT_EQ(api_.CallCount("ListDeploymentsSince"), 2);
    EXPECT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);
    EXPECT_EQ(Get(a.id).state.deployment_id, followed);  // still in progress: not noted, not moved
    // The redeploy's deployment settles: noted, compared with what the list found, moved to d3.
    Deployment settled = Dep(followed, "SUCCESS", t0 + seconds(150));
    settled.created_at = t0 + seconds(70);
    api_.SetDeployment(settled);
    for (int step = 0; step < 4 && Get(a.id).state.deployment_id == followed; ++step) {
        clock_.Advance(seconds(30));
        monitor->RunRoundForTest();
        monitor->RunWorkForTest();
    }
    EXPECT_EQ(Get(a.id).state.deployment_id, "d3");
    EXPECT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);  // found without a whole read
}

// Railway's list in another order than newest first (FACTS §3: not documented): it cannot be cut
// at a time, so every read from then on is whole, and discovery still finds a new deployment.
TEST_F(MonitorTest, AListThatIsNotNewestFirstMakesEveryLaterReadWhole) {
    api_.SetListNewestFirst(false);
    auto [monitor, a, b, t0] = WatchTwoThroughTheFirstRead();  // a list (not newest first), the whole read
    EXPECT_EQ(Reads(), std::pair(1, 1));
    Push("d2", "BUILDING", t0 + seconds(90));
    Minute(*monitor);
    EXPECT_EQ(Reads(), std::pair(1, 2));  // never listed again
    EXPECT_EQ(Get(a.id).state.deployment_id, "d2");
    EXPECT_EQ(Get(b.id).state.deployment_id, "o1");
}

// A list that fails: for a reason that may pass (retryable) the read waits for the next interval
// and lists again; refused for good (not retryable: the document, the token) every read from then
// on is whole, and discovery still finds a new deployment.
TEST_F(MonitorTest, AListRefusedForGoodMakesEveryLaterReadWholeAndAPassingFailureDoesNot) {
    std::optional<railway::ApiError> list_error;
    api_.SetCallHook([&](const std::string& call) {
        api_.FailEverything(call == "ListDeploymentsSince" ? list_error : std::nullopt);
    });
    auto [monitor, a, b, t0] = WatchTwoThroughTheFirstRead();
    ASSERT_EQ(Reads(), std::pair(1, 1));

    core::ApiFailure failure;
    failure.http_status = 503;
    list_error = fakes::FakeRailwayApi::MakeError(util::ErrorCode::kUnavailable, "Railway answered 503", failure);
    ASSERT_TRUE(list_error->retryable);
    Minute(*monitor);  // fails, may pass: no whole read now
    EXPECT_EQ(Reads(), std::pair(2, 1));
    failure.http_status = 400;
    list_error = fakes::FakeRailwayApi::MakeError(util::ErrorCode::kInvalidArgument, "Cannot query field", failure);
    ASSERT_FALSE(list_error->retryable);
    Minute(*monitor);  // refused for good: read whole at once
    EXPECT_EQ(Reads(), std::pair(3, 2));

    Push("d2", "BUILDING", t0 + seconds(200));
    Minute(*monitor);
    EXPECT_EQ(Reads(), std::pair(3, 3));  // never listed again
    EXPECT_EQ(Get(a.id).state.deployment_id, "d2");
}

// More new deployments than a list's pages hold: the list moves the newest it starts from past
// those it left out, so reads are whole until one reaches its end — a whole read that fails does
// not leave them to the next due whole read (up to 5 minutes on).
TEST_F(MonitorTest, AListCutShortMakesReadsWholeUntilOneReachesItsEnd) {
    bool whole_fails = false;
    api_.SetCallHook([&](const std::string& call) {
        std::optional<railway::ApiError> error;
        if (whole_fails && call == "ReadEnvironmentServices") {
            error = fakes::FakeRailwayApi::MakeError(util::ErrorCode::kUnavailable, "connection reset");
        }
        api_.FailEverything(error);
    });
    auto [monitor, a, b, t0] = WatchTwoThroughTheFirstRead();
    ASSERT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);

    // Two pushes, svc's the older; a list holds one: it finds svc-other's (built at once, so that
    // its instance settles and keeps the reads going), not svc's.
    api_.SetListLimit(1);
    Push("d2", "BUILDING", t0 + seconds(90));
    Deployment o2 = Dep("o2", "SUCCESS", t0 + seconds(95));
    o2.created_at = t0 + seconds(95);
    o2.service_id = "svc-other";
    api_.SetDeployment(o2);
    api_.SetLatestDeployment("svc-other", "env", o2);
    api_.SetEnvironmentServices("env", {{"svc", "d2"}, {"svc-other", "o2"}});
    whole_fails = true;
    Minute(*monitor);  // the list, cut short, and the whole read, which fails
    EXPECT_EQ(Reads(), std::pair(2, 2));
    EXPECT_EQ(Get(b.id).state.deployment_id, "o2");
    EXPECT_EQ(Get(a.id).state.deployment_id, "d1");
    whole_fails = false;
    Minute(*monitor);  // a list finds nothing newer; the read is whole all the same and finds d2
    EXPECT_EQ(api_.CallCount("ReadEnvironmentServices"), 3);
    EXPECT_EQ(Get(a.id).state.deployment_id, "d2");
    Minute(*monitor);  // that whole read reached its end: lists again
    EXPECT_EQ(Reads(), std::pair(4, 3));
}

// Two instances watching one service, one of them on the service's latest deployment already: the
// read moves the one behind and leaves the other (the noted instances are looked up by service,
// each compared on its own).
TEST_F(MonitorTest, AnEnvironmentReadMovesOnlyTheInstanceOfAServiceThatIsBehind) {
    options_.discovery_interval = seconds(60);
    options_.intervals.jitter_fraction = 0;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "SUCCESS", t0));
    Deployment d2 = Dep("d2", "SUCCESS", t0 + seconds(5));
    d2.created_at = t0 + seconds(5);
    api_.SetDeployment(d2);
    const store::Instance behind = Add(*monitor, "d1");
    const store::Instance current = Add(*monitor, "d2");
    api_.SetLatestDeployment("svc", "env", d2);
    api_.SetEnvironmentServices("env", {{"svc", "d2"}});

    monitor->RunRoundForTest();  // first checks: both SUCCESS
    monitor->RunWorkForTest();
    clock_.Advance(seconds(60));
    monitor->RunRoundForTest();  // settled: both noted, one read
    monitor->RunWorkForTest();
    ASSERT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);
    EXPECT_EQ(api_.CallCount("GetLatestDeployment"), 1);  // the discovery of the one behind only
    EXPECT_EQ(Get(behind.id).state.deployment_id, "d2");
    EXPECT_EQ(Get(current.id).state.deployment_id, "d2");
    const auto discovered = [&](const std::string& id) {
        const auto events = *store_->ListEvents(id, 10);
        return std::count_if(events.begin(), events.end(), [](const auto& e) { return e.source == "discovery"; });
    };
    EXPECT_EQ(discovered(behind.id), 1);
    EXPECT_EQ(discovered(current.id), 0);
}

// An environment read in pages: each page is compared as it comes; a service listed on two pages
// (the list changed between them) is followed once (one discovery), and the pages read before a
// page that fails count — what stood on the unread page waits for the next read.
TEST_F(MonitorTest, AnEnvironmentReadInPagesFollowsAServiceListedTwiceOnceAndKeepsThePagesReadBeforeAFailure) {
    options_.discovery_interval = seconds(60);
    options_.discovery_whole_read_interval = core::Duration::zero();  // every read whole
    options_.intervals.jitter_fraction = 0;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    const auto [a, b] = AddTwoServices(*monitor, t0);
    // `id` of `service` in `status` since `at`, its latest deployment.
    const auto deploy = [&](const std::string& service, const std::string& id, std::string_view status,
                            core::Timestamp at) {
        Deployment d = Dep(id, status, at);
        d.service_id = service;
        api_.SetDeployment(d);
        api_.SetLatestDeployment(service, "env", d);
    };
    deploy("svc", "d2", "BUILDING", t0 + seconds(30));
    deploy("svc-other", "o2", "BUILDING", t0 + seconds(30));
    api_.SetEnvironmentPages("env", {{{"svc", "d2"}}, {{"svc", "d2"}}, {{"svc-other", "o2"}}});
    monitor->RunRoundForTest();  // first checks: SUCCESS, settled
    monitor->RunWorkForTest();
    clock_.Advance(seconds(60));
    monitor->RunRoundForTest();  // one read of the environment of both
    monitor->RunWorkForTest();
    ASSERT_EQ(api_.CallCount("ReadEnvironmentServices"), 1);
    EXPECT_EQ(api_.CallCount("GetLatestDeployment"), 2);  // svc once, svc-other once
    EXPECT_EQ(Get(a.id).state.deployment_id, "d2");
    EXPECT_EQ(Get(b.id).state.deployment_id, "o2");

    // The next read breaks off after its first page: svc's new deployment on it is followed,
    // svc-other's on the unread page is not (yet).
    deploy("svc", "d2", "SUCCESS", t0 + seconds(30));  // both settle (and are noted for the read)
    deploy("svc-other", "o2", "SUCCESS", t0 + seconds(30));
    deploy("svc", "d3", "SUCCESS", t0 + seconds(100));
    deploy("svc-other", "o3", "SUCCESS", t0 + seconds(100));
    api_.SetEnvironmentPages("env", {{{"svc", "d3"}}},
                             fakes::FakeRailwayApi::MakeError(util::ErrorCode::kUnavailable, "Railway broke off"));
    for (int step = 0; step < 6 && api_.CallCount("ReadEnvironmentServices") < 2; ++step) {
        clock_.Advance(seconds(30));
        monitor->RunRoundForTest();
        monitor->RunWorkForTest();
    }
    ASSERT_EQ(api_.CallCount("ReadEnvironmentServices"), 2);
    EXPECT_EQ(Get(a.id).state.deployment_id, "d3");
    EXPECT_EQ(Get(b.id).state.deployment_id, "o2");
}

// Instances due at nearby times share one request: a round also takes what falls due within
// batch_window, a little early.
TEST_F(MonitorTest, InstancesDueWithinTheBatchWindowShareOneRequest) {
    options_.intervals.jitter_fraction = 0;
    options_.batch_window = seconds(2);
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    api_.SetDeployment(Dep("d2", "BUILDING", clock_.Now()));
    AddInstanceRequest request;
    request.service_id = "svc";
    request.environment_id = "env";
    request.deployment_id = "d1";
    request.check_interval_s = 10;
    ASSERT_TRUE(monitor->AddInstance(request));
    request.deployment_id = "d2";
    request.check_interval_s = 11;
    ASSERT_TRUE(monitor->AddInstance(request));
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);
    clock_.Advance(seconds(10));
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);  // d2 is due in 1 s: taken along
    EXPECT_EQ(api_.CallCount("PollStatuses"), 2);

    options_.batch_window = core::Duration{0};
    monitor.reset();  // gives both back with their due times
    auto strict = Make("w2");
    clock_.Advance(seconds(10));  // d1 due now, d2 in 1 s
    EXPECT_EQ(strict->RunRoundForTest(), 1u);
}

// An instance's own interval is told apart from having none: one given exactly the config's
// default is checked at it in every status (here SUCCESS, whose own interval is twice as long);
// one given none follows the per-status table, and still does after a restart with another
// default (before, the stored default was read as "none" only while it equalled the config's).
TEST_F(MonitorTest, AnOwnIntervalEqualToTheDefaultIsKeptAndNoneFollowsTheStatusTable) {
    options_.intervals.jitter_fraction = 0;
    options_.intervals.fallback = seconds(30);
    options_.intervals.per_status[core::DeploymentStatus::kSuccess] = seconds(60);
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "SUCCESS", clock_.Now()));
    api_.SetDeployment(Dep("d2", "SUCCESS", clock_.Now()));
    const store::Instance own = AddEvery(*monitor, "d1", 30);
    const store::Instance none = Add(*monitor, "d2");
    EXPECT_EQ(Get(own.id).check_interval_s, 30);
    EXPECT_EQ(Get(none.id).check_interval_s, std::nullopt);
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);  // the first checks
    clock_.Advance(seconds(30));
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);  // its own 30 s
    clock_.Advance(seconds(30));
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);  // and SUCCESS's 60 s

    monitor.reset();  // gives both back with their due times
    options_.intervals.fallback = seconds(20);
    auto restarted = Make("w2");
    clock_.Advance(seconds(30));
    EXPECT_EQ(restarted->RunRoundForTest(), 1u);
    clock_.Advance(seconds(30));
    EXPECT_EQ(restarted->RunRoundForTest(), 2u);

    // Removed again (0 to SetMonitoring, null in the API): the table applies to it too.
    ASSERT_TRUE(restarted->SetMonitoring(own.id, true, 0));
    EXPECT_EQ(Get(own.id).check_interval_s, std::nullopt);
    EXPECT_EQ(restarted->RunRoundForTest(), 1u);  // turned on: checked at once
    clock_.Advance(seconds(30));
    EXPECT_EQ(restarted->RunRoundForTest(), 0u);
    clock_.Advance(seconds(30));
    EXPECT_EQ(restarted->RunRoundForTest(), 2u);
}

// A batch holds batch_size distinct deployments: instances that follow one deployment share its
// alias and do not count twice.
TEST_F(MonitorTest, InstancesOfOneDeploymentCountOnceInABatch) {
    options_.batch_size = 2;
    auto monitor = Make();
    for (const char* id : {"d1", "d2", "d3"})
        api_.SetDeployment(Dep(id, "BUILDING", clock_.Now()));
    Add(*monitor, "d1");
    Add(*monitor, "d1");
    Add(*monitor, "d2");
    EXPECT_EQ(monitor->RunRoundForTest(), 3u);
    EXPECT_EQ(api_.CallCount("PollStatuses"), 1);  // d1 and d2: one request
    Add(*monitor, "d3");
    Add(*monitor, "d3");
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);  // the new ones (the others are not due)
    EXPECT_EQ(api_.CallCount("PollStatuses"), 2);
}

// How many ids each PollStatuses call since the `from`-th call asked for.
std::vector<std::size_t> IdsPerPoll(const FakeRailwayApi& api, std::size_t from) {
    std::vector<std::size_t> out;
    const auto calls = api.Calls();
    for (std::size_t k = from; k < calls.size(); ++k) {
        if (!calls[k].starts_with("PollStatuses(")) continue;
        out.push_back(static_cast<std::size_t>(std::count(calls[k].begin(), calls[k].end(), ',')) + 1);
    }
    return out;
}

// When the client has learnt that Railway refuses bigger status requests (StatusBatchSize), the
// monitor cuts its requests at that size, not at its own batch_size: each poll then still sends
// requests_per_poll requests, as the budget plan counts them.
TEST_F(MonitorTest, PollsAreCutAtTheSizeTheClientLearnt) {
    options_.batch_size = 4;
    options_.requests_per_poll = 2;
    auto monitor = Make();
    for (int i = 0; i < 6; ++i) {
        const std::string id = "d" + std::to_string(i);
        api_.SetDeployment(Dep(id, "BUILDING", clock_.Now()));
        AddEvery(*monitor, id, 10);
    }
    std::size_t from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 6u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(6u));  // requests of 4 and 2, one poll

    api_.SetStatusBatchSize(2);
    clock_.Advance(seconds(12));
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 6u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(4u, 2u));  // requests of 2: two per poll
    EXPECT_EQ(monitor->Capacity().batch_size, 2u);

    api_.SetStatusBatchSize(50);  // more than the monitor's own: its own holds
    clock_.Advance(seconds(12));
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 6u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(6u));
}

// While polls go well a poll sends requests_per_poll requests together (one PollStatuses of
// their ids; the client cuts them into requests of batch_size): their answers are judged and
// written together. After a poll with an error answer, one request per poll (a request that
// hangs or is retried then holds only its own batch) until poll_trouble_pause has passed.
TEST_F(MonitorTest, RequestsGoTogetherWhilePollsGoWellAndAloneForAWhileAfterTrouble) {
    options_.batch_size = 2;
    options_.requests_per_poll = 2;
    options_.poll_trouble_pause = seconds(60);
    auto monitor = Make();
    for (const char* id : {"d1", "d2", "d3", "d4", "d5"}) {
        api_.SetDeployment(Dep(id, "BUILDING", clock_.Now()));
        AddEvery(*monitor, id, 10);
    }
    std::size_t from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(4u, 1u));  // two requests, then one

    core::ApiFailure failure;
    failure.http_status = 502;
    api_.SetDeploymentError("d3", FakeRailwayApi::MakeError(util::ErrorCode::kUnavailable, "Bad Gateway", failure));
    clock_.Advance(seconds(12));
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(4u, 1u));  // the error is learnt from this poll

    api_.SetDeployment(Dep("d3", "BUILDING", clock_.Now()));
    clock_.Advance(seconds(12));
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(2u, 2u, 1u));  // one request per poll

    clock_.Advance(seconds(12));
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(2u, 2u, 1u));  // 24 s after the trouble

    clock_.Advance(seconds(40));  // 64 s after it
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(4u, 1u));

    // A deployment deleted on Railway is an answer, not trouble.
    core::ApiFailure gone;
    gone.http_status = 200;
    gone.graphql_errors = {{"Deployment not found", "INTERNAL_SERVER_ERROR", "", ""}};
    api_.SetDeploymentError("d2", FakeRailwayApi::MakeError(util::ErrorCode::kNotFound, "Deployment not found", gone));
    clock_.Advance(seconds(12));
    from = api_.Calls().size();
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    clock_.Advance(seconds(12));
    EXPECT_EQ(monitor->RunRoundForTest(), 4u);  // d2's monitoring ended
    EXPECT_THAT(IdsPerPoll(api_, from), ElementsAre(4u, 1u, 4u));
}

TEST_F(MonitorTest, UnchangedChecksWriteNoTimelineRow) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    const auto instance = Add(*monitor, "d1");
    for (int i = 0; i < 5; ++i)
        Step(*monitor, instance.id);
    EXPECT_EQ(CheckedIds(api_).size(), 5u);
    EXPECT_THAT(Statuses(instance.id), ElementsAre("BUILDING"));
}

TEST_F(MonitorTest, NetworkFailureIsClassifiedAndRedeployedAtMostThreeTimes) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "FAILED", t0));
    api_.AddLogs(core::LogKind::kBuild, "d1", {Line(t0, kNetworkFailure)});
    std::string current = "d1";
    for (int n = 1; n <= 3; ++n) {
        current += "-redeploy-1";
        api_.SetDeployment(Dep(current, "FAILED", t0 + seconds(n)));
        api_.AddLogs(core::LogKind::kBuild, current, {Line(t0 + seconds(n), kNetworkFailure)});
    }
    const auto instance = Add(*monitor, "d1");
    for (int i = 0; i < 30; ++i) {
        monitor->RunRoundForTest();
        monitor->RunWorkForTest();
        clock_.Advance(seconds(31));
    }
    EXPECT_EQ(api_.CallCount("Redeploy"), 3);
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.retry_count, 3);
    EXPECT_EQ(stored.state.error_type, core::ErrorClass::kNetwork);
    EXPECT_EQ(stored.state.deployment_id, current);
    ASSERT_TRUE(stored.state.error_stack.has_value());
    EXPECT_THAT(*stored.state.error_stack, HasSubstr("ECONNREFUSED"));
    // Each reaction is in the timeline.
    int reactions = 0;
    const auto events = store_->ListEvents(instance.id, 1000);
    ASSERT_TRUE(events);
    for (const auto& e : *events)
        reactions += e.source == "reaction" ? 1 : 0;
    EXPECT_GE(reactions, 4);
}

// A reaction runs seconds after the check that found the failure, and its requests take time:
// meanwhile the instance was checked again (here, or by another process) and given its next due
// time. The reaction's write must leave that schedule alone; putting back the due time it read
// would have the instance checked again at once.
TEST_F(MonitorTest, AReactionNeverMovesTheScheduleSetByACheckMeanwhile) {
    auto monitor = Make();
    const core::Timestamp checked_meanwhile = clock_.Now() + seconds(3600);
    const auto instance = AddFailed(*monitor, "FAILED", core::LogKind::kBuild, "Error: Cannot find module 'express'");
    const auto moved = AtAJobsFirstRequest([&] {
        store::InstanceState state = Get(instance.id).state;
        state.next_check_at = checked_meanwhile;
        ASSERT_TRUE(store_->SaveState(instance.id, state));
    });
    monitor->RunWorkForTest();
    api_.SetCallHook(nullptr);
    ASSERT_TRUE(*moved);  // the reaction did ask Railway (logs) before writing
    const auto stored = Get(instance.id);
    EXPECT_TRUE(stored.state.error_type.has_value());  // the reaction was written
    EXPECT_EQ(stored.state.next_check_at, checked_meanwhile);
}

// The same race with the status: the deployment crashed, and while its verdict's evidence was
// read it restarted and a check recorded SUCCESS. The verdict, decided on the CRASHED row, must
// not put CRASHED back (the checks after it find their SUCCESS recorded and would never mend the
// row), nor redeploy a deployment that runs again.
TEST_F(MonitorTest, AVerdictNeverPutsBackAStatusACheckRecordedMeanwhileNorRedeploys) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    const auto instance = AddFailed(*monitor, "CRASHED", core::LogKind::kDeploy, kNetworkFailure);
    const auto restarted = AtAJobsFirstRequest([&] {
        store::Transition t;
        t.instance_id = instance.id;
        t.deployment_id = "d1";
        t.from_status = "CRASHED";
        t.to_status = "SUCCESS";
        t.at = t0 + seconds(1);
        t.state = Get(instance.id).state;
        t.state.status = core::InstanceStatus::kRunning;
        t.state.deployment_status = "SUCCESS";
        ASSERT_TRUE(store_->ApplyTransition(t));
    });
    monitor->RunWorkForTest();
    api_.SetCallHook(nullptr);
    ASSERT_TRUE(*restarted);  // the verdict did ask Railway (evidence) before writing
    clock_.Advance(std::chrono::minutes(10));
    monitor->RunWorkForTest();  // a redeploy planned with the verdict would be due by now
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.deployment_status, "SUCCESS");
    EXPECT_EQ(stored.state.status, core::InstanceStatus::kRunning);
    EXPECT_FALSE(stored.state.error_type.has_value());
    EXPECT_EQ(api_.CallCount("Redeploy"), 0);
    const auto events = store_->ListEvents(instance.id, 100);
    ASSERT_TRUE(events);
    for (const auto& e : *events)
        EXPECT_NE(e.source, "reaction") << e.from_status.value_or("none") << " -> " << e.to_status;
}

// The verdict's job comes after a check recorded the restart: the failure is over, and nothing is
// asked, written or redeployed for it.
TEST_F(MonitorTest, AFailureOverBeforeItsVerdictRanGetsNone) {
    auto monitor = Make();
    const auto instance = AddFailed(*monitor, "CRASHED", core::LogKind::kDeploy, kNetworkFailure);
    ASSERT_EQ(Get(instance.id).state.deployment_status, "CRASHED");
    clock_.Advance(seconds(30));
    api_.SetDeployment(Dep("d1", "SUCCESS", clock_.Now()));
    // The check comes before the job: the restart is recorded first.
    monitor->RunRoundForTest();
    ASSERT_EQ(Get(instance.id).state.deployment_status, "SUCCESS");
    const auto calls_before = api_.Calls().size();
    monitor->RunWorkForTest();
    clock_.Advance(std::chrono::minutes(10));
    monitor->RunWorkForTest();
    EXPECT_EQ(api_.Calls().size(), calls_before) << ::testing::PrintToString(api_.Calls());
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.deployment_status, "SUCCESS");
    EXPECT_FALSE(stored.state.error_type.has_value());
    EXPECT_FALSE(stored.state.needs_attention);
}

// A redeploy whose answer is lost may still have run: the instance is flagged for a person and
// the service's latest deployment is looked up; a deployment Railway did start is followed and
// counts as the redeploy.
class FailedRedeploy : public MonitorTest {
  protected:
    std::string Run(bool railway_started_one) {
        monitor_ = Make();
        auto& monitor = monitor_;
        const auto t0 = clock_.Now();
        api_.SetDeployment(Dep("d1", "FAILED", t0));
        api_.AddLogs(core::LogKind::kBuild, "d1", {Line(t0, kNetworkFailure)});
        core::ApiFailure failure;
        failure.malformed_body = true;
        api_.SetRedeployAnswer("d1", tl::unexpected(FakeRailwayApi::MakeError(
                                         util::ErrorCode::kParse, "Railway's answer was not JSON", failure)));
        const auto latest = railway_started_one ? Dep("d2", "BUILDING", t0 + seconds(40)) : Dep("d1", "FAILED", t0);
        api_.SetDeployment(latest);
        api_.SetLatestDeployment("svc", "env", latest);
        const auto instance = Add(*monitor, "d1");
        monitor->RunRoundForTest();
        monitor->RunWorkForTest();  // classified: NETWORK, a redeploy planned after a backoff
        clock_.Advance(seconds(31));
        monitor->RunWorkForTest();  // the redeploy fails, the latest deployment is looked up
        EXPECT_EQ(api_.CallCount("Redeploy"), 1);
        EXPECT_EQ(api_.CallCount("GetLatestDeployment"), 1);
        return instance.id;
    }

    std::unique_ptr<Monitor> monitor_;
};

TEST_F(FailedRedeploy, TriesAgainAfterABackoffAndFlagsAttentionWhenRailwayStartedNothingThreeTimes) {
    const auto id = Run(false);
    auto stored = Get(id);
    // The failed request was an attempt; nothing was started, so it is tried again later.
    EXPECT_EQ(stored.state.retry_count, 1);
    EXPECT_FALSE(stored.state.needs_attention);
    for (int attempt = 2; attempt <= 3; ++attempt) {
        clock_.Advance(std::chrono::minutes(10));
        monitor_->RunWorkForTest();  // the redeploy fails again; discovery finds nothing again
        EXPECT_EQ(api_.CallCount("Redeploy"), attempt);
    }
    clock_.Advance(std::chrono::minutes(10));
    monitor_->RunWorkForTest();
    EXPECT_EQ(api_.CallCount("Redeploy"), 3);  // never a fourth
    stored = Get(id);
    EXPECT_EQ(stored.state.retry_count, 3);
    EXPECT_TRUE(stored.state.needs_attention);
    EXPECT_THAT(stored.state.attention_reason.value_or(""), HasSubstr("failed 3 times"));
    EXPECT_THAT(stored.state.attention_reason.value_or(""), HasSubstr("not JSON"));
    EXPECT_EQ(stored.state.deployment_id, "d1");
}

TEST_F(FailedRedeploy, FollowsTheDeploymentRailwayStartedAndCountsIt) {
    const auto stored = Get(Run(true));
    EXPECT_EQ(stored.state.deployment_id, "d2");
    EXPECT_EQ(stored.state.retry_count, 1);
    const auto events = *store_->ListEvents(stored.id, 100);
    EXPECT_EQ(events.back().source, "discovery");
}

TEST_F(MonitorTest, ConfigurationFailureFlagsAttentionAndIsNotRedeployed) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "CRASHED", t0));
    api_.AddLogs(core::LogKind::kDeploy, "d1",
                 {Line(t0, "booting"), Line(t0 + seconds(1), "Error: environment variable DATABASE_URL is not set")});
    const auto instance = Add(*monitor, "d1");
    monitor->RunRoundForTest();
    monitor->RunWorkForTest();
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.status, core::InstanceStatus::kFailed);
    EXPECT_EQ(stored.state.error_type, core::ErrorClass::kConfiguration);
    EXPECT_TRUE(stored.state.needs_attention);
    ASSERT_TRUE(stored.state.error_stack.has_value());
    EXPECT_THAT(*stored.state.error_stack, HasSubstr("DATABASE_URL"));
    EXPECT_EQ(api_.CallCount("Redeploy"), 0);
    // The evidence was sanitised and stored.
    EXPECT_EQ(store_->RecentLogs(instance.id, 10)->size(), 2u);
}

// Side work (evidence, redeploys, logs) spends the budget's reserve and what polling leaves
// unused. Here polling needs all of its share (three deployments per request, checked every second:
// 1 request a second against 0.8): with 3,600 requests an hour and a 20 % reserve, side work gets
// 0.2 requests a second in a bucket of 6 (a classification and a phase change's log collection).
// A classification reserves 3 requests and is charged what it sent: here each failure is out of
// memory, so its reactions read the token and the workspace's usage besides its phase read — all
// 3. Two fit the bucket; the third waits until the reserve has refilled.
TEST_F(MonitorTest, SideWorkWaitsForTheBudgetsReserve) {
    SideWorkHasTheReserveAlone(3);
    railway::TokenInfo token;
    token.scope = railway::TokenScope::kWorkspace;
    token.workspaces = {railway::TokenWorkspace{"ws1", "team"}};
    api_.SetTokenAnswer(token);
    railway::WorkspaceUsage usage;
    usage.workspace_id = "ws1";
    api_.SetWorkspaceUsage("ws1", usage);
    auto monitor = Make();
    std::vector<std::string> ids;
    for (const std::string dep : {"d1", "d2", "d3"}) {
        api_.SetDeployment(Dep(dep, "CRASHED", clock_.Now()));
        api_.AddLogs(core::LogKind::kDeploy, dep, {Line(clock_.Now(), "fatal: out of memory")});
        ids.push_back(Add(*monitor, dep).id);
    }
    const auto classified = [&] {
        return std::count_if(ids.begin(), ids.end(), [&](const std::string& id) { return Get(id).state.error_type; });
    };
    EXPECT_EQ(monitor->RunRoundForTest(), 3u);
    EXPECT_EQ(monitor->RunWorkForTest(), 3u);  // two ran, one was put back
    EXPECT_EQ(classified(), 2);
    EXPECT_EQ(api_.CallCount("GetWorkspaceUsage"), 2);
    EXPECT_EQ(Get(ids[0]).state.error_type, core::ErrorClass::kResource);
    clock_.Advance(seconds(14));
    monitor->RunWorkForTest();
    EXPECT_EQ(classified(), 2);  // 2.8 of 3 requests refilled
    clock_.Advance(seconds(2));
    monitor->RunWorkForTest();
    EXPECT_EQ(classified(), 3);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 3);
    EXPECT_EQ(api_.CallCount("GetWorkspaceUsage"), 3);
}

// A classification that sent only its phase read (the usual: no token or quota to read) gives
// the other 2 of its reservation back, so a burst of failures on a small budget is explained as
// fast as their reads allow. The bucket of 6 classifies four at once (the fourth finds 3, sends 1);
// the fifth is put back and holds the other two (JobQueue::Defer): they are not each taken, found
// unpaid and put back until the reserve has refilled. After the refill (1 request at 0.2 a second)
// the one put back runs first and the next holds the rest again.
TEST_F(MonitorTest, AnUnpaidClassificationHoldsTheOthersUntilTheReserveRefills) {
    SideWorkHasTheReserveAlone(7);
    auto monitor = Make();
    std::vector<std::string> ids;
    for (const std::string dep : {"d1", "d2", "d3", "d4", "d5", "d6", "d7"}) {
        api_.SetDeployment(Dep(dep, "FAILED", clock_.Now()));
        ids.push_back(Add(*monitor, dep).id);
    }
    const auto classified = [&] {
        return std::count_if(ids.begin(), ids.end(), [&](const std::string& id) { return Get(id).state.error_type; });
    };
    EXPECT_EQ(monitor->RunRoundForTest(), 7u);
    EXPECT_EQ(monitor->RunWorkForTest(), 5u);  // four ran, one was put back; two were not taken
    EXPECT_EQ(classified(), 4);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 4);
    clock_.Advance(seconds(6));
    EXPECT_EQ(monitor->RunWorkForTest(), 2u);  // the one put back ran, the next was put back
    EXPECT_EQ(classified(), 5);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 5);
}

// Log collection on a phase change is best effort within the reserve, charged the request it
// sends: the collections due together share one (MonitorTest.AFloodOfPhaseChangesIsCollectedInOneRequest).
// It is queued only where the reserve could pay a request now and keep what a classification
// reserves, so a flood of phase changes wakes no worker for a job that would find no budget. Here
// the reserve (0.2 requests a second, a bucket of 6) pays for three waves of three phase changes,
// a request each; the fourth wave is not queued.
TEST_F(MonitorTest, PhaseChangeLogCollectionIsQueuedOnlyWhereTheReserveCanPayForIt) {
    SideWorkHasTheReserveAlone(3);
    auto monitor = Make();
    for (int wave = 1; wave <= 4; ++wave) {
        for (int k = 0; k < 3; ++k) {
            const std::string dep = fmt::format("w{}d{}", wave, k);
            api_.SetDeployment(Dep(dep, "BUILDING", clock_.Now()));
            Add(*monitor, dep);
        }
        EXPECT_EQ(monitor->RunRoundForTest(), 3u) << "wave " << wave;  // three phase changes (none -> BUILDING)
        EXPECT_EQ(monitor->RunWorkForTest(), wave <= 3 ? 1u : 0u) << "wave " << wave;
        EXPECT_EQ(api_.CallCount("GetPhaseChanges"), std::min(wave, 3)) << "wave " << wave;
    }
}

// Best-effort side work (here phase changes' log collections) leaves the reserve what a
// classification reserves: a failure that comes with a flood of phase changes is explained at
// once, never starved by reads that take each request as the bucket refills. Polling plans the
// whole budget (3 deployments a request, each a second), so the reserve (0.2 requests a second, a
// bucket of 6) is all side work has: five waves of phase changes, of which three are collected,
// then a failure.
TEST_F(MonitorTest, BestEffortWorkLeavesTheReserveWhatAFailureNeeds) {
    SideWorkHasTheReserveAlone(3);
    auto monitor = Make();
    for (int wave = 1; wave <= 5; ++wave) {
        for (int k = 0; k < 3; ++k) {
            const std::string dep = fmt::format("w{}d{}", wave, k);
            api_.SetDeployment(Dep(dep, "BUILDING", clock_.Now()));
            Add(*monitor, dep);
        }
        monitor->RunRoundForTest();
        monitor->RunWorkForTest();
    }
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 3);
    api_.SetDeployment(Dep("failed", "FAILED", clock_.Now()));
    const auto failed = Add(*monitor, "failed");
    monitor->RunRoundForTest();
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);  // the classification
    EXPECT_TRUE(Get(failed.id).state.error_type.has_value());
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 4);
}

// However large the budget, phase changes' log collections are queued at most
// kCollectionsPerSecond (8) a second on average over half a minute (a poll round finds a wave's
// phase changes at once): a fleet deploying at once must not read and store logs faster than the
// store writes its transitions. 250 phase changes at once: 240 collected (in requests of 16), 10
// not queued; a second later, 8 of the next wave of 20.
TEST_F(MonitorTest, PhaseChangeCollectionsAreQueuedAtMostEightASecond) {
    options_.requests_per_hour = 360000;
    options_.requests_per_second = 100;
    options_.batch_size = 100;
    auto monitor = Make();
    const auto wave = [&](const std::string& name, int count) {
        for (int k = 0; k < count; ++k) {
            const std::string dep = fmt::format("{}{}", name, k);
            api_.SetDeployment(Dep(dep, "BUILDING", clock_.Now()));
            api_.AddLogs(core::LogKind::kBuild, dep, {Line(clock_.Now(), "building " + dep)});
            Add(*monitor, dep);
        }
        EXPECT_EQ(monitor->RunRoundForTest(), static_cast<std::size_t>(count));
        monitor->RunWorkForTest();
    };
    const auto collected = [&] {
        std::size_t parts = 0;
        for (const std::string& call : api_.Calls())
            if (call.starts_with("GetPhaseChanges(")) parts += 1 + std::count(call.begin(), call.end(), ',');
        return parts;
    };
    wave("a", 250);
    EXPECT_EQ(collected(), 240u);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 15);  // 16 each
    clock_.Advance(seconds(1));
    wave("b", 20);
    EXPECT_EQ(collected(), 248u);
}

// A reader's follow is charged the one request it sends (a phase change's collection three: it
// comes in floods, and nobody waits for it): on a reserve of 0.2 requests a second (one a follow
// interval) a reader gets every fetch it asks for at the interval, still above what a
// classification reserves, and a failure meanwhile is explained at once.
TEST_F(MonitorTest, AReaderIsChargedTheRequestAFollowSends) {
    using core::LogKind;
    SideWorkHasTheReserveAlone(2);
    auto monitor = Make();
    const auto t0 = clock_.Now();
    const store::Instance building = AddBuildingPastItsCollection(*monitor, "d1", t0);
    int fetches = 1;
    for (int i = 1; i <= 4; ++i) {
        clock_.Advance(kLogFollowInterval);
        api_.AddLogs(LogKind::kBuild, "d1", {Line(t0 + seconds(i), "step " + std::to_string(i))});
        EXPECT_EQ(monitor->FollowLogs(building.id), true) << "follow " << i;
        EXPECT_EQ(monitor->RunWorkForTest(), 1u);
        EXPECT_EQ(api_.CallCount("GetPhaseChanges"), ++fetches);
    }
    EXPECT_EQ(store_->RecentLogs(building.id, 10)->size(), 4u);
    api_.SetDeployment(Dep("d2", "FAILED", clock_.Now()));
    const auto failed = Add(*monitor, "d2");
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);
    EXPECT_TRUE(Get(failed.id).state.error_type.has_value());
}

// Without a reader, a building deployment's lines are fetched at its phase changes only; a reader
// following them (FollowLogs: GET …/logs, an instance's stream) gets them while it builds, fetched
// at most once per kLogFollowInterval per instance, each line stored once and told to the sink.
TEST_F(MonitorTest, FollowedLogsAreFetchedWhileTheDeploymentBuildsAtMostOncePerInterval) {
    using core::LogKind;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    const store::Instance instance = AddBuildingPastItsCollection(*monitor, "d1", t0);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 1);
    api_.AddLogs(LogKind::kBuild, "d1", {Line(t0 + seconds(1), "step 1")});
    clock_.Advance(seconds(20));
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);  // still BUILDING: nothing fetched
    EXPECT_EQ(monitor->RunWorkForTest(), 0u);
    const auto stored = [&] {
        std::vector<std::string> messages;
        // Held here: a range-for over *RecentLogs(...) would read a Result already destroyed.
        const auto lines = store_->RecentLogs(instance.id, 100);
        for (const store::LogLine& line : lines.value())
            messages.push_back(line.message);
        return messages;
    };
    EXPECT_TRUE(stored().empty());

    EXPECT_EQ(monitor->FollowLogs(instance.id), true);
    EXPECT_EQ(monitor->FollowLogs(instance.id), false);  // within the interval
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 2);
    EXPECT_THAT(stored(), ElementsAre("step 1"));
    EXPECT_THAT(sink_.LogLines(), ElementsAre(instance.id + ": step 1"));

    api_.AddLogs(LogKind::kBuild, "d1", {Line(t0 + seconds(2), "step 2")});
    clock_.Advance(kLogFollowInterval - seconds(1));
    EXPECT_EQ(monitor->FollowLogs(instance.id), false);
    clock_.Advance(seconds(1));
    EXPECT_EQ(monitor->FollowLogs(instance.id), true);
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);
    EXPECT_THAT(stored(), ElementsAre("step 1", "step 2"));
    EXPECT_THAT(sink_.LogLines(), ElementsAre(instance.id + ": step 1", instance.id + ": step 2"));
    clock_.Advance(kLogFollowInterval);
    EXPECT_EQ(monitor->FollowLogs(instance.id), true);  // nothing new: nothing told
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);
    EXPECT_EQ(sink_.LogLines().size(), 2u);

    EXPECT_EQ(monitor->FollowLogs("ins_nope").error().code, util::ErrorCode::kNotFound);
    ASSERT_TRUE(monitor->DeleteInstance(instance.id));
    clock_.Advance(kLogFollowInterval);
    EXPECT_EQ(monitor->FollowLogs(instance.id), false);  // deleted: nothing to follow
}

// A fleet deploying changes phase in waves: the log collections its phase changes queue are read
// in one request (as many as one carries), each instance's lines stored from its own cursor. While
// status requests carry six root fields (Railway refused more, or charges each root field), a
// request carries two deployments (three root fields each) and a job takes no more.
TEST_F(MonitorTest, AFloodOfPhaseChangesIsCollectedInOneRequest) {
    options_.requests_per_hour = 360000;
    options_.requests_per_second = 100;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    const std::vector<std::string> deps = {"d1", "d2", "d3", "d4", "d5"};
    std::vector<std::string> ids;
    for (const std::string& dep : deps) {
        api_.SetDeployment(Dep(dep, "BUILDING", t0));
        api_.AddLogs(core::LogKind::kBuild, dep, {Line(t0 + seconds(1), "building " + dep)});
        ids.push_back(Add(*monitor, dep).id);
    }
    const auto newest_line = [&](std::size_t k) {
        const auto lines = store_->RecentLogs(ids[k], 10);  // held: see FollowedLogsAre…
        return lines && !lines->empty() ? lines->back().message : std::string("none");
    };
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);  // five phase changes (none -> BUILDING)
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);   // one job read the five
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 1);
    for (std::size_t k = 0; k < deps.size(); ++k)
        EXPECT_EQ(newest_line(k), "building " + deps[k]);

    api_.SetStatusBatchSize(6);
    clock_.Advance(seconds(60));
    for (const std::string& dep : deps) {
        api_.SetDeployment(Dep(dep, "DEPLOYING", t0));
        api_.AddLogs(core::LogKind::kDeploy, dep, {Line(t0 + seconds(50), "starting " + dep)});
    }
    EXPECT_EQ(monitor->RunRoundForTest(), 5u);
    EXPECT_EQ(monitor->RunWorkForTest(), 3u);  // two, two and one
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 4);
    for (std::size_t k = 0; k < deps.size(); ++k)
        EXPECT_EQ(newest_line(k), "starting " + deps[k]);
    const auto calls = api_.Calls();
    EXPECT_EQ(std::count_if(calls.begin(), calls.end(),
                            [](const std::string& call) {
                                return call.starts_with("GetPhaseChanges(build+deploy:") &&
                                       std::count(call.begin(), call.end(), ',') == 1;
                            }),
              2);
}

// Two instances may follow one deployment (two people watching one service): each keeps the
// deployment's lines in its own log, read from its own cursor, so one's reads never move the
// other's on; and what the monitor keeps of those reads is one entry per instance, of its current
// deployment, dropped with the instance.
TEST_F(MonitorTest, TwoInstancesOfOneDeploymentEachStoreAllItsLines) {
    using core::LogKind;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.AddLogs(LogKind::kBuild, "d1", {Line(t0 + seconds(1), "step 1")});
    const store::Instance first = Add(*monitor, "d1");
    const store::Instance second = Add(*monitor, "d1");
    const auto stored = [&](const store::Instance& instance) {
        std::vector<std::string> messages;
        const auto lines = store_->RecentLogs(instance.id, 100);  // held: see the test above
        for (const store::LogLine& line : lines.value())
            messages.push_back(line.message);
        return messages;
    };
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);  // none -> BUILDING, twice: two collections
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);   // in one request, each from its own cursor
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), 1);
    EXPECT_THAT(stored(first), ElementsAre("step 1"));
    EXPECT_THAT(stored(second), ElementsAre("step 1"));
    EXPECT_EQ(monitor->PhaseReadsKeptForTest(), 2u);

    api_.AddLogs(LogKind::kBuild, "d1", {Line(t0 + seconds(2), "step 2")});
    clock_.Advance(kLogFollowInterval);
    EXPECT_EQ(monitor->FollowLogs(first.id), true);
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);
    EXPECT_EQ(monitor->FollowLogs(second.id), true);
    EXPECT_EQ(monitor->RunWorkForTest(), 1u);
    EXPECT_THAT(stored(first), ElementsAre("step 1", "step 2"));
    EXPECT_THAT(stored(second), ElementsAre("step 1", "step 2"));

    ASSERT_TRUE(monitor->DeleteInstance(first.id));
    EXPECT_EQ(monitor->PhaseReadsKeptForTest(), 1u);
    api_.SetDeployment(Dep("d1", "SUCCESS", clock_.Now()));
    clock_.Advance(seconds(60));
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);  // succeeded: its reads are done with
    EXPECT_EQ(Get(second.id).state.deployment_status, "SUCCESS");
    EXPECT_EQ(monitor->PhaseReadsKeptForTest(), 0u);
}

// A FAILED deployment's lines cannot grow (its classification read them): a reader's follow
// fetches nothing, however often it asks.
TEST_F(MonitorTest, AFailedDeploymentsLogsAreNotFetchedAgainForAReader) {
    auto monitor = Make();
    const store::Instance instance = AddFailed(*monitor, "FAILED", core::LogKind::kBuild, "npm ERR! code ELIFECYCLE");
    monitor->RunWorkForTest();  // the classification, which read the lines
    const int reads = api_.CallCount("GetPhaseChanges");
    for (int i = 0; i < 3; ++i) {
        clock_.Advance(kLogFollowInterval);
        EXPECT_EQ(monitor->FollowLogs(instance.id), false);
    }
    EXPECT_EQ(monitor->RunWorkForTest(), 0u);
    EXPECT_EQ(api_.CallCount("GetPhaseChanges"), reads);
}

// Records the kinds of each AppendLogs call's lines, in order, and fails the calls while `failing`.
class CountingLogs final : public store::Logs {
  public:
    explicit CountingLogs(store::Logs& inner) : inner_(inner) {}
    std::vector<std::vector<core::LogKind>> calls;
    bool failing = false;

    util::Result<store::LogAppendResult> AppendLogs(const std::vector<store::LogLine>& lines, int max_logs) override {
        auto& kinds = calls.emplace_back();
        for (const auto& line : lines)
            kinds.push_back(line.kind);
        if (failing) return util::Fail(util::ErrorCode::kIo, "disk I/O error (test)");
        return inner_.AppendLogs(lines, max_logs);
    }
    util::Result<std::vector<store::LogLine>> RecentLogs(const std::string& instance_id, int limit,
                                                         std::optional<core::LogKind> kind) override {
        return inner_.RecentLogs(instance_id, limit, kind);
    }
    util::Result<std::optional<core::Timestamp>> LatestLogTimestamp(const std::string& instance_id,
                                                                    const std::string& deployment_id,
                                                                    core::LogKind kind) override {
        return inner_.LatestLogTimestamp(instance_id, deployment_id, kind);
    }

  private:
    store::Logs& inner_;
};

// A phase change's build and deploy lines are stored by one append (one write transaction),
// build lines first; a failed append moves neither kind's cursor: the next read of the phase (here
// the crash's classification) fetches both kinds' lines again, and they are stored then.
TEST_F(MonitorTest, APhaseChangesBuildAndDeployLinesAreStoredInOneAppendAndRefetchedAfterAFailedOne) {
    using core::LogKind;
    CountingLogs logs(*store_);
    Monitor monitor(api_, *store_, *store_, *store_, logs, clock_, sink_, options_);
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "DEPLOYING", t0));
    api_.AddLogs(LogKind::kBuild, "d1", {Line(t0, "built"), Line(t0 + seconds(1), "pushed")});
    api_.AddLogs(LogKind::kDeploy, "d1", {Line(t0 + seconds(2), "listening on 8080")});
    const auto instance = AddEvery(monitor, "d1", 5);
    logs.failing = true;
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // none -> DEPLOYING: a phase change
    ASSERT_EQ(monitor.RunWorkForTest(), 1u);
    ASSERT_EQ(logs.calls.size(), 1u);
    EXPECT_THAT(logs.calls[0], ElementsAre(LogKind::kBuild, LogKind::kBuild, LogKind::kDeploy));
    EXPECT_TRUE(store_->RecentLogs(instance.id, 10)->empty());

    logs.failing = false;
    clock_.Advance(seconds(6));
    api_.SetDeployment(Dep("d1", "CRASHED", clock_.Now()));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // DEPLOYING -> CRASHED: classified from the phase's reads
    ASSERT_EQ(monitor.RunWorkForTest(), 1u);
    ASSERT_EQ(logs.calls.size(), 2u);
    EXPECT_THAT(logs.calls[1], ElementsAre(LogKind::kBuild, LogKind::kBuild, LogKind::kDeploy));
    const auto stored = *store_->RecentLogs(instance.id, 10);
    ASSERT_EQ(stored.size(), 3u);
    EXPECT_EQ(stored[0].message, "built");
    EXPECT_EQ(stored[2].message, "listening on 8080");
}

// A small fleet leaves most of the budget unused: side work may spend it, so two failures are
// explained at once where the reserve alone (0.2 requests a second) would make the second wait.
TEST_F(MonitorTest, SideWorkSpendsWhatPollingLeavesUnused) {
    options_.requests_per_hour = 3600;
    options_.requests_per_second = 10;
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "FAILED", clock_.Now()));
    api_.SetDeployment(Dep("d2", "FAILED", clock_.Now()));
    const auto first = Add(*monitor, "d1");
    const auto second = Add(*monitor, "d2");
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);
    monitor->RunWorkForTest();
    clock_.Advance(seconds(6));  // about 1 request a second refills the bucket's 5 in 5 s
    monitor->RunWorkForTest();
    EXPECT_TRUE(Get(first.id).state.error_type.has_value());
    EXPECT_TRUE(Get(second.id).state.error_type.has_value());
}

TEST_F(MonitorTest, DeletedDeploymentEndsMonitoringAndOthersInTheBatchAreUnaffected) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d2", "BUILDING", clock_.Now()));  // d1 is unknown to the fake: not found
    const auto gone = Add(*monitor, "d1");
    const auto alive = Add(*monitor, "d2");
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);
    EXPECT_EQ(api_.CallCount("PollStatuses"), 1);  // one batch for both
    const auto ended = Get(gone.id);
    EXPECT_FALSE(ended.monitoring);
    EXPECT_FALSE(ended.state.next_check_at.has_value());
    ASSERT_TRUE(ended.state.error_message.has_value());
    EXPECT_THAT(*ended.state.error_message, HasSubstr("no longer knows deployment d1"));
    EXPECT_THAT(*ended.state.error_message, HasSubstr("not found"));
    EXPECT_THAT(Statuses(alive.id), ElementsAre("BUILDING"));
    EXPECT_TRUE(Get(alive.id).monitoring);
    // The ended one is not checked again.
    clock_.Advance(seconds(3600));
    monitor->RunRoundForTest();
    const auto checked = CheckedIds(api_);
    EXPECT_EQ(std::count(checked.begin(), checked.end(), "d1"), 1);
}

// A RailwayApi that answers fewer results than ids breaks its contract: which answer is whose is
// unknown, so no instance of the batch is decided on one; each is checked again at its interval.
TEST_F(MonitorTest, AClientThatAnswersFewerResultsThanAskedDecidesNoneOfTheBatch) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    api_.SetDeployment(Dep("d2", "SUCCESS", clock_.Now()));
    const auto first = Add(*monitor, "d1");
    const auto second = Add(*monitor, "d2");
    api_.BreakPollContract(true);
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);
    EXPECT_EQ(api_.CallCount("PollStatuses"), 1);
    for (const auto& instance : {first, second}) {
        EXPECT_THAT(Statuses(instance.id), ElementsAre()) << instance.id;
        const auto row = Get(instance.id);
        EXPECT_TRUE(row.monitoring);
        EXPECT_TRUE(row.state.next_check_at.has_value());
    }
    api_.BreakPollContract(false);
    clock_.Advance(seconds(3600));
    EXPECT_EQ(monitor->RunRoundForTest(), 2u);
    EXPECT_THAT(Statuses(first.id), ElementsAre("BUILDING"));
    EXPECT_THAT(Statuses(second.id), ElementsAre("SUCCESS"));
}

TEST_F(MonitorTest, RestartResumesFromTheStoredSchedule) {
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "BUILDING", t0), Dep("d1", "DEPLOYING", t0 + seconds(20))});
    std::string id;
    {
        auto first = Make("w1");
        id = Add(*first, "d1").id;
        first->RunRoundForTest();
    }
    auto second = Make("w2");
    EXPECT_EQ(second->RunRoundForTest(), 0u);  // not due yet: the schedule was kept
    Step(*second, id);
    EXPECT_THAT(Statuses(id), ElementsAre("BUILDING", "DEPLOYING"));
}

// More kept instances than the store takes in one call (10,000 releases): stopping gives every
// one of them back, in calls of at most 5,000 (the monitor's store batches).
TEST_F(MonitorTest, KeptClaimsBeyondOneStoreCallAreAllGivenBackAtStop) {
    constexpr int kFleet = 10'050;
    options_.keep_claims = true;
    options_.max_claim = 20'000;
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    std::vector<std::string> ids;
    ids.reserve(kFleet);
    for (int i = 0; i < kFleet; ++i)
        ids.push_back(AddEvery(*monitor, "d1", 3600).id);  // one deployment: one alias for all
    std::size_t checked = 0;
    for (int round = 0; round < 50 && checked < kFleet; ++round) {
        checked += monitor->RunRoundForTest();
        clock_.Advance(seconds(1));
    }
    ASSERT_EQ(checked, static_cast<std::size_t>(kFleet));
    EXPECT_EQ(Get(ids.front()).lease_owner, "w1");
    EXPECT_EQ(Get(ids.back()).lease_owner, "w1");
    monitor.reset();
    int leased = 0;
    for (const std::string& id : ids)
        leased += Get(id).lease_owner.has_value() ? 1 : 0;
    EXPECT_EQ(leased, 0) << "of " << kFleet << " kept instances";
}

// A classified failure's notifications carry its own next step (core::FailureNextStep), made from
// the deployment's lines the verdict was made from: here the address the app listens on, which
// the deciding line ("Application failed to respond") does not name.
TEST_F(MonitorTest, AFailuresNotificationsSuggestItsOwnNextStepFromItsLines) {
    std::vector<core::Action> planned;
    OutboxPlanner planner = [&planned](const ChangeToPlan& change) {
        if (change.kind == "reaction") planned.insert(planned.end(), change.actions.begin(), change.actions.end());
        return std::vector<store::OutboxMessage>{};
    };
    auto monitor =
        std::make_unique<Monitor>(api_, *store_, *store_, *store_, *store_, clock_, sink_, options_, planner);
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "FAILED", t0));
    api_.AddLogs(core::LogKind::kDeploy, "d1",
                 {Line(t0, "Server listening on http://127.0.0.1:3000"),
                  Line(t0 + seconds(1), "Application failed to respond")});
    Add(*monitor, "d1");
    monitor->RunRoundForTest();
    monitor->RunWorkForTest();  // the classification and its reactions
    const std::string step =
        "The app listens on 127.0.0.1:3000, which Railway cannot reach: listen on 0.0.0.0 (every interface) and on "
        "the port in $PORT, then redeploy.";
    std::vector<std::string> suggested;
    for (const core::Action& action : planned) {
        if (action.kind == core::ActionKind::kNotifyAdmin || action.kind == core::ActionKind::kNotifyUser)
            suggested.push_back(action.suggestion);
    }
    EXPECT_THAT(suggested, ElementsAre(step, step));  // the admin's and the user's
}

// The outbox planner is given each transition as it is about to be written: the instance with its
// state after the change and the transition's row. Its rows are written with the transition; the
// sink is then told of that same instance, and (kept claims) the kept row is the one written, so
// the next check finds nothing changed.
TEST_F(MonitorTest, ThePlannerSeesEachTransitionItsRowsAreWrittenWithItAndTheKeptRowIsTheWrittenOne) {
    options_.keep_claims = true;
    struct Seen {
        std::string kind, instance_id, service_id, to_status;
        std::optional<std::string> instance_status, deployment_id;
    };
    std::vector<Seen> seen;
    OutboxPlanner planner = [&seen](const ChangeToPlan& change) {
        seen.push_back(Seen{change.kind, change.instance.id, change.instance.service_id, change.transition.to_status,
                            change.instance.state.deployment_status, change.instance.state.deployment_id});
        store::OutboxMessage row;
        row.id = "out-" + change.transition.to_status;
        row.channel = "in_app";
        row.dedup_key = change.instance.id + "/" + change.transition.to_status;
        row.payload = "{}";
        row.created_at = change.transition.at;
        return std::vector<store::OutboxMessage>{row};
    };
    auto monitor =
        std::make_unique<Monitor>(api_, *store_, *store_, *store_, *store_, clock_, sink_, options_, planner);
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "BUILDING", t0), Dep("d1", "SUCCESS", t0 + seconds(3))});
    const auto id = AddEvery(*monitor, "d1", 5).id;
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);
    clock_.Advance(seconds(5) + milliseconds(600));
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);
    ASSERT_THAT(Statuses(id), ElementsAre("BUILDING", "SUCCESS"));

    ASSERT_EQ(seen.size(), 2u);
    for (std::size_t k = 0; k < seen.size(); ++k) {
        SCOPED_TRACE(seen[k].to_status);
        EXPECT_EQ(seen[k].kind, "status");
        EXPECT_EQ(seen[k].instance_id, id);
        EXPECT_EQ(seen[k].service_id, "svc");
        EXPECT_EQ(seen[k].instance_status, seen[k].to_status);  // the state after the change
        EXPECT_EQ(seen[k].deployment_id, "d1");
    }
    EXPECT_EQ(seen[0].to_status, "BUILDING");
    EXPECT_EQ(seen[1].to_status, "SUCCESS");
    const auto rows = store_->ClaimOutbox("test", clock_.Now(), seconds(30), 10);
    ASSERT_TRUE(rows) << rows.error().ToString();
    std::vector<std::string> row_ids;
    for (const auto& row : *rows)
        row_ids.push_back(row.message.id);
    EXPECT_THAT(row_ids, ::testing::UnorderedElementsAre("out-BUILDING", "out-SUCCESS"));

    const auto told = sink_.Instances();
    ASSERT_FALSE(told.empty());
    EXPECT_EQ(told.back().id, id);
    EXPECT_EQ(told.back().service_id, "svc");
    EXPECT_EQ(told.back().state.deployment_status, "SUCCESS");
    EXPECT_EQ(told.back().state.status, core::InstanceStatus::kRunning);

    // The next check compares the answer with the kept row, the one written: nothing changed.
    const auto calls_before = CheckedIds(api_).size();
    clock_.Advance(seconds(60));
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);
    EXPECT_EQ(CheckedIds(api_).size(), calls_before + 1);
    EXPECT_THAT(Statuses(id), ElementsAre("BUILDING", "SUCCESS"));
    EXPECT_EQ(seen.size(), 2u);
}

// Kept claims (docs/ENGINE.md, "Scheduling: kept claims"): a check that changes nothing writes
// no row; the store holds a kept instance as due when its lease ends (moved on by each
// heartbeat), and gets the due time kept in memory when the monitor stops.
TEST_F(MonitorTest, KeptAnUnchangedCheckWritesNoRowAndTheStoreHoldsItWhileTheWorkerLives) {
    options_.keep_claims = true;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    const auto id = AddEvery(*monitor, "d1", 5).id;
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);  // the transition to BUILDING writes its row
    const auto after_first = Get(id);
    ASSERT_TRUE(after_first.lease_until);
    EXPECT_EQ(after_first.lease_owner, "w1");
    EXPECT_EQ(after_first.state.next_check_at, after_first.lease_until);
    int checks = 1;
    for (int i = 0; i < 4; ++i) {  // 20 s of unchanged checks, each when its due time comes
        clock_.Advance(seconds(5) + std::chrono::milliseconds(600));
        checks += static_cast<int>(monitor->RunRoundForTest());
    }
    EXPECT_EQ(checks, 5);
    // Each ran within a step of the due time it kept (the stored one is 2 minutes away).
    EXPECT_LT(sink_.MaxDelay(), seconds(2));
    EXPECT_EQ(Get(id).state.next_check_at, after_first.state.next_check_at);  // nothing written
    EXPECT_EQ(Get(id).lease_until, after_first.lease_until);
    EXPECT_EQ(Statuses(id).size(), 1u);
    // Held while the worker lives, which its heartbeat (every third of the lease) says: the lease
    // and the stored time stay as they are, past the lease the claim took.
    EXPECT_EQ(after_first.lease_until, store::kHeldWhileOwnerLives);
    clock_.Advance(options_.lease / 3);
    monitor->RunRoundForTest();
    clock_.Advance(options_.lease);
    monitor->RunRoundForTest();
    const auto renewed = Get(id);
    EXPECT_EQ(renewed.lease_owner, "w1");
    EXPECT_EQ(renewed.lease_until, store::kHeldWhileOwnerLives);
    EXPECT_EQ(renewed.state.next_check_at, renewed.lease_until);
    // Another worker's claim does not find it meanwhile.
    auto other = Make("w2");
    EXPECT_EQ(other->RunRoundForTest(), 0u);
    // Stopping gives it back with the due time kept in memory: the other worker takes it then.
    monitor.reset();
    const auto released = Get(id);
    EXPECT_FALSE(released.lease_owner);
    ASSERT_TRUE(released.state.next_check_at);
    const auto due = *released.state.next_check_at;
    EXPECT_LE(due, clock_.Now() + seconds(6));
    EXPECT_LT(due, *renewed.lease_until);
    // It looks at the store again after max_idle_wait (nothing told it of this instance).
    clock_.Advance(std::max(due - clock_.Now(), options_.max_idle_wait));
    EXPECT_EQ(other->RunRoundForTest(), 1u);
}

// What the API or a worker job changes is read fresh at the next kept check: a deployment
// switched by a redeploy written elsewhere, monitoring turned off.
TEST_F(MonitorTest, KeptInstancesAreReadFreshAtEachCheck) {
    options_.keep_claims = true;
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    api_.SetDeployment(Dep("d2", "BUILDING", clock_.Now()));
    const auto a = AddEvery(*monitor, "d1", 5);
    const auto b = AddEvery(*monitor, "d1", 5);
    ASSERT_EQ(monitor->RunRoundForTest(), 2u);
    // Another process's API: b follows d2 now; a is turned off (its lease is dropped).
    auto state = Get(b.id).state;
    state.deployment_id = "d2";
    ASSERT_TRUE(store_->SaveState(b.id, state));
    ASSERT_TRUE(store_->SetMonitoring(a.id, false, std::nullopt, clock_.Now()));
    clock_.Advance(seconds(6));
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);
    const auto ids = CheckedIds(api_);
    EXPECT_THAT(std::vector<std::string>(ids.begin() + 1, ids.end()), ElementsAre("d2"));
    clock_.Advance(seconds(600));
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);  // b only, a stays off
}

// At full capacity the kept instances are due again by every round: a new one is still claimed
// (claims come first), not left waiting behind them (found by integration.acceptance).
TEST_F(MonitorTest, KeptInstancesFillingEveryRoundDoNotStarveANewOne) {
    options_.keep_claims = true;
    options_.max_claim = 2;  // a round takes two
    options_.batch_size = 2;
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    api_.SetDeployment(Dep("d2", "BUILDING", clock_.Now()));
    api_.SetDeployment(Dep("d3", "BUILDING", clock_.Now()));
    AddEvery(*monitor, "d1", 5);
    AddEvery(*monitor, "d2", 5);
    ASSERT_EQ(monitor->RunRoundForTest(), 2u);
    clock_.Advance(seconds(6));  // both kept ones due again
    AddEvery(*monitor, "d3", 5);
    ASSERT_EQ(monitor->RunRoundForTest(), 2u);
    const auto ids = CheckedIds(api_);
    EXPECT_THAT(ids, Contains("d3"));
}

// The store's schedule, whose heartbeats and claims can be made to fail (the store unreachable).
class FlakySchedule final : public store::Schedule {
  public:
    explicit FlakySchedule(store::Schedule& inner) : inner_(inner) {}
    bool down = false;

    util::Result<std::vector<store::Instance>> ClaimDueInstances(const std::string& owner, core::Timestamp now,
                                                                 core::Duration lease, int limit) override {
        if (down) return Down();
        return inner_.ClaimDueInstances(owner, now, lease, limit);
    }
    util::Result<void> ReleaseInstance(const std::string& id, const std::string& owner,
                                       std::optional<core::Timestamp> next_check_at) override {
        if (down) return Down();
        return inner_.ReleaseInstance(id, owner, next_check_at);
    }
    util::Result<store::ReleaseReport> ReleaseInstances(const std::string& owner,
                                                        const std::vector<store::InstanceRelease>& releases) override {
        if (down) return Down();
        return inner_.ReleaseInstances(owner, releases);
    }
    util::Result<int> DropLeases(const std::string& owner, core::Timestamp now) override {
        if (down) return Down();
        return inner_.DropLeases(owner, now);
    }
    util::Result<std::vector<store::Instance>> KeepDueInstances(const std::string& owner, core::Timestamp now,
                                                                core::Duration lease, int limit) override {
        if (down) return Down();
        return inner_.KeepDueInstances(owner, now, lease, limit);
    }
    util::Result<store::ScheduleLoad> Heartbeat(const std::string& owner, core::Timestamp now,
                                                core::Duration lease) override {
        if (down) return Down();
        return inner_.Heartbeat(owner, now, lease);
    }

  private:
    static tl::unexpected<util::Error> Down() {
        return tl::unexpected(util::Error(util::ErrorCode::kUnavailable, "database is down"));
    }
    store::Schedule& inner_;
};

// The heartbeats fail for two thirds of a lease: the worker forgets what it keeps. The store
// answers again before the worker's own row has run out, so its leases are still held; the
// forgotten instances are given back with their due times and checked again (without that they
// stayed held by a worker that no longer checked them, forever: its heartbeats kept them).
TEST_F(MonitorTest, KeptInstancesForgottenWhileTheStoreWasDownAreCheckedAgainWhenItAnswers) {
    options_.keep_claims = true;
    options_.lease = seconds(30);  // heartbeats every 10 s; forgotten after 20 s without one
    FlakySchedule schedule(*store_);
    Monitor monitor(api_, *store_, schedule, *store_, *store_, clock_, sink_, options_);
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    const auto instance = AddEvery(monitor, "d1", 5);
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // kept, held while w1 lives (its heartbeat: till +30 s)
    schedule.down = true;
    for (int i = 0; i < 5; ++i) {  // 25 s: the heartbeats at 10 s and 20 s fail
        clock_.Advance(seconds(5));
        monitor.RunRoundForTest();
    }
    const std::size_t checked_while_down = CheckedIds(api_).size();
    schedule.down = false;  // at 25 s: w1's row lives till 30 s, its lease on the instance too
    std::size_t rounds_to_check = 0;
    for (int i = 1; i <= 12 && rounds_to_check == 0; ++i) {  // a minute at most
        clock_.Advance(seconds(5));
        if (monitor.RunRoundForTest() > 0) rounds_to_check = static_cast<std::size_t>(i);
    }
    EXPECT_GE(rounds_to_check, 1u) << "never checked again after the store came back";
    EXPECT_LE(rounds_to_check, 3u);
    EXPECT_GT(CheckedIds(api_).size(), checked_while_down);
    EXPECT_EQ(Get(instance.id).lease_owner, "w1");  // kept again, by a claim of its own
}

// A job moves an instance on while its check is in flight (here a redeploy's write lands during the
// status request): the check's answer about the deployment left behind must not put it back.
TEST_F(MonitorTest, AnAnswerAboutTheDeploymentAJobLeftDuringTheCheckIsNotWritten) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "FAILED", clock_.Now()));
    const auto instance = Add(*monitor, "d1");
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);  // FAILED written; its follow-ups are not run here
    ASSERT_EQ(Get(instance.id).state.deployment_status, "FAILED");
    const std::size_t announced = sink_.Transitions().size();
    api_.SetDeployment(Dep("d1", "REMOVED", clock_.Now()));  // what the check about d1 will read
    bool moved = false;
    api_.SetCallHook([&](const std::string& call) {
        if (call != "PollStatuses" || moved) return;
        moved = true;
        store::Transition t;  // as a person's redeploy writes it, after the check read the row
        t.instance_id = instance.id;
        t.deployment_id = "d2";
        t.from_status = "FAILED";
        t.to_status = "QUEUED";
        t.at = clock_.Now();
        t.source = "user";
        t.state = Get(instance.id).state;
        t.state.status = core::InstanceStatus::kInitializing;
        t.state.deployment_status = "QUEUED";
        t.keep_schedule = true;
        ASSERT_TRUE(store_->ApplyTransition(t));
    });
    clock_.Advance(seconds(120));
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);
    ASSERT_TRUE(moved);
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.deployment_id, "d2");
    EXPECT_EQ(stored.state.deployment_status, "QUEUED");
    EXPECT_EQ(sink_.Transitions().size(), announced);  // nothing announced about d1
    std::vector<std::string> rows;
    const auto events = store_->ListEvents(instance.id, 100);
    ASSERT_TRUE(events);
    for (const auto& event : *events)
        rows.push_back(event.deployment_id + " " + event.to_status);
    EXPECT_THAT(rows, ElementsAre("d1 FAILED", "d2 QUEUED"));
}

// A timeline that counts the calls and sizes of ApplyTransitions, and fails the transitions of
// one instance (as a store error would) while `failing` names it.
class CountingTimeline final : public store::Timeline {
  public:
    explicit CountingTimeline(store::Timeline& inner) : inner_(inner) {}
    std::vector<std::size_t> batch_sizes;  // one per ApplyTransitions call
    std::size_t single_calls = 0;
    std::string failing;
    std::function<void(const store::Transition&)> before_single;  // runs before each ApplyTransition

    util::Result<store::TransitionResult> ApplyTransition(const store::Transition& transition) override {
        ++single_calls;
        if (before_single) before_single(transition);
        if (transition.instance_id == failing) return Failure();
        return inner_.ApplyTransition(transition);
    }
    std::vector<util::Result<store::TransitionResult>> ApplyTransitions(
        std::span<const store::Transition> transitions) override {
        batch_sizes.push_back(transitions.size());
        std::vector<store::Transition> passed;
        for (const auto& t : transitions) {
            if (t.instance_id != failing) passed.push_back(t);
        }
        auto inner = inner_.ApplyTransitions(passed);
        std::vector<util::Result<store::TransitionResult>> out;
        std::size_t k = 0;
        for (const auto& t : transitions)
            out.push_back(t.instance_id == failing ? Failure() : std::move(inner.at(k++)));
        return out;
    }
    util::Result<std::vector<store::TimelineEvent>> ListEvents(const std::string& instance_id, int limit) override {
        return inner_.ListEvents(instance_id, limit);
    }
    util::Result<void> SaveSteps(const std::string& instance_id, const std::string& deployment_id,
                                 std::span<const store::DeploymentStepRecord> steps, core::Timestamp at) override {
        return inner_.SaveSteps(instance_id, deployment_id, steps, at);
    }
    util::Result<std::vector<store::DeploymentStepRecord>> ListSteps(const std::string& instance_id) override {
        return inner_.ListSteps(instance_id);
    }

  private:
    static util::Result<store::TransitionResult> Failure() {
        return util::Fail(util::ErrorCode::kIo, "disk I/O error (test)");
    }
    store::Timeline& inner_;
};

// A poll batch's transitions reach the store in one call; one that fails fails alone: the
// others are written and announced, it is not, and its next check writes it.
TEST_F(MonitorTest, APollBatchsTransitionsAreWrittenInOneCallAndOneFailingFailsAlone) {
    CountingTimeline timeline(*store_);
    Monitor monitor(api_, *store_, *store_, timeline, *store_, clock_, sink_, options_);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        const std::string dep = "d" + std::to_string(i);
        api_.SetDeployment(Dep(dep, "BUILDING", clock_.Now()));
        ids.push_back(AddEvery(monitor, dep, 5).id);
    }
    ASSERT_EQ(monitor.RunRoundForTest(), 3u);  // the first answers: a transition each
    EXPECT_THAT(timeline.batch_sizes, ElementsAre(3u));
    EXPECT_EQ(timeline.single_calls, 0u);
    EXPECT_EQ(sink_.Transitions().size(), 3u);
    for (int i = 0; i < 3; ++i)
        api_.SetDeployment(Dep("d" + std::to_string(i), "DEPLOYING", clock_.Now()));
    timeline.failing = ids[1];
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 3u);
    EXPECT_THAT(timeline.batch_sizes, ElementsAre(3u, 3u));
    EXPECT_EQ(sink_.Transitions().size(), 5u);  // the two written ones
    EXPECT_EQ(Get(ids[0]).state.deployment_status, "DEPLOYING");
    EXPECT_EQ(Get(ids[1]).state.deployment_status, "BUILDING");
    EXPECT_EQ(Get(ids[2]).state.deployment_status, "DEPLOYING");
    timeline.failing.clear();
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 3u);
    EXPECT_EQ(Get(ids[1]).state.deployment_status, "DEPLOYING");
    EXPECT_THAT(Statuses(ids[1]), ElementsAre("BUILDING", "DEPLOYING"));
    EXPECT_EQ(sink_.Transitions().size(), 6u);
}

// A job moves a kept instance on to a new deployment (here a discovery) while a round runs: the
// round must not check the deployment left behind (the kept row still names it), whose answer
// would set the next check at the old deployment's interval and leave the new one unchecked.
TEST_F(MonitorTest, ARoundDuringAJobsMoveLeavesTheInstanceToTheMove) {
    options_.keep_claims = true;
    options_.discovery_interval = seconds(60);
    options_.intervals.per_status[core::DeploymentStatus::kSuccess] = seconds(600);
    options_.intervals.per_status[core::DeploymentStatus::kBuilding] = seconds(10);
    api_.SetDeployment(Dep("d1", "SUCCESS", clock_.Now()));
    const Deployment d2 = Dep("d2", "BUILDING", clock_.Now());
    api_.SetLatestDeployment("svc", "env", d2);  // what the discovery reads
    api_.SetEnvironmentServices("env", {{"svc", d2.id}});
    api_.SetDeployment(Dep("d2", "DEPLOYING", clock_.Now()));  // what d2's first check reads
    CountingTimeline timeline(*store_);
    Monitor monitor(api_, *store_, *store_, timeline, *store_, clock_, sink_, options_);
    const std::string id = Add(monitor, "d1").id;
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // d1 SUCCESS
    // The discovery's write: the clock passes d2's first check (10 s ± 10 %) and a round runs.
    std::optional<std::size_t> checked_during;
    timeline.before_single = [&](const store::Transition& t) {
        if (t.source != "discovery" || checked_during) return;
        clock_.Advance(seconds(12));
        checked_during = monitor.RunRoundForTest();
    };
    clock_.Advance(seconds(660));              // d1's next check finds it settled
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // ... and queues the environment's read
    monitor.RunWorkForTest();                  // the read, then the discovery of d2
    ASSERT_TRUE(checked_during.has_value()) << "the discovery wrote nothing";
    EXPECT_EQ(*checked_during, 0u) << "a round checked the instance while the job moved it on";
    ASSERT_EQ(Get(id).state.deployment_id, "d2");
    EXPECT_EQ(monitor.RunRoundForTest(), 1u) << "d2's first check did not come at its due time";
    EXPECT_EQ(Get(id).state.deployment_status, "DEPLOYING");
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1", "d2"));
}

// A worker that has just started holds nothing; the one holding everything hands back its surplus
// at its next heartbeat (with the due times), and the newcomer takes it when due: neither checks
// an instance twice for one due time.
TEST_F(MonitorTest, KeptSurplusGoesToAWorkerThatHasJustStarted) {
    options_.keep_claims = true;
    options_.batch_size = 5;
    options_.lease = seconds(30);  // heartbeats every 10 s
    auto a = Make("a");            // SUCCESS: checked every 60 s (± 10 %)
    for (int i = 0; i < 40; ++i) {
        const std::string dep = "d" + std::to_string(i);
        api_.SetDeployment(Dep(dep, "SUCCESS", clock_.Now()));
        Add(*a, dep);
    }
    ASSERT_EQ(a->RunRoundForTest(), 40u);
    auto b = Make("b");
    EXPECT_EQ(b->RunRoundForTest(), 0u);  // b's heartbeat: it is a live worker now, holding nothing
    std::map<std::string, std::size_t> per_worker;
    std::map<std::string, std::vector<core::Timestamp>> checks;  // by deployment: when checked
    std::size_t seen = 0;
    const auto note = [&] {
        const auto ids = CheckedIds(api_);
        for (; seen < ids.size(); ++seen)
            checks[ids[seen]].push_back(clock_.Now());
    };
    note();
    for (int step = 0; step < 30; ++step) {  // 150 s: two more checks of each
        clock_.Advance(seconds(5));
        per_worker["a"] += a->RunRoundForTest();
        note();
        per_worker["b"] += b->RunRoundForTest();
        note();
    }
    EXPECT_GE(per_worker["b"], 20u) << "b took no share";
    EXPECT_GE(per_worker["a"], 20u);
    ASSERT_EQ(checks.size(), 40u);
    for (const auto& [id, times] : checks) {
        EXPECT_GE(times.size(), 3u) << id;
        // The interval's lower bound (54 s) less the batch window (2 s), less a step (5 s).
        for (std::size_t k = 1; k < times.size(); ++k)
            EXPECT_GE(times[k] - times[k - 1], seconds(47)) << id << " checked twice for one due time";
    }
}

TEST_F(MonitorTest, LiveWorkersShareTheTokensBudgetAndEachPlansForWhatItKeeps) {
    options_.keep_claims = true;
    options_.batch_size = 1;       // a share's slack is one instance: a hands two of four over
    options_.lease = seconds(30);  // heartbeats every 10 s
    options_.requests_per_hour = 36000;
    options_.requests_per_second = 10;
    auto a = Make("a");
    for (int i = 0; i < 4; ++i) {
        const std::string dep = "d" + std::to_string(i);
        api_.SetDeployment(Dep(dep, "SUCCESS", clock_.Now()));
        Add(*a, dep);
    }
    a->RunRoundForTest();
    const CapacityReport alone = a->Capacity();
    EXPECT_EQ(alone.shared_by, 1);
    EXPECT_EQ(alone.monitored, 4u);
    EXPECT_NEAR(alone.requests_per_second, 8.0, 1e-9);  // 10/s less the 20 % reserve
    EXPECT_EQ(api_.Budget().parts, 1);

    auto b = Make("b");
    b->RunRoundForTest();  // b's heartbeat: a and b are live
    EXPECT_EQ(b->Capacity().shared_by, 2);
    EXPECT_NEAR(b->Capacity().requests_per_second, alone.requests_per_second / 2, 1e-9);
    EXPECT_EQ(api_.Budget().parts, 2);  // the client sends within the share too
    // a added every instance, so it knows all four; once b has taken its share (a's next
    // heartbeat hands two back, b claims them when due), each plans for those it polls.
    for (int step = 0; step < 16; ++step) {  // 80 s: the handed-over ones' next checks (60 s ± 10 %)
        clock_.Advance(seconds(5));
        a->RunRoundForTest();
        b->RunRoundForTest();
    }
    EXPECT_EQ(a->Capacity().shared_by, 2);
    EXPECT_NEAR(a->Capacity().requests_per_second, alone.requests_per_second / 2, 1e-9);
    EXPECT_NEAR(a->Capacity().requests_per_hour, alone.requests_per_hour / 2, 1e-6);
    // Each plans for what it keeps (two and two, or three and one when a's claim took one of
    // those it handed back first): the fleet once between them.
    EXPECT_GE(b->Capacity().monitored, 1u);
    EXPECT_EQ(a->Capacity().monitored + b->Capacity().monitored, 4u);

    b->Stop();  // gives its instances back; its worker row lives until its lease ends
    b.reset();
    clock_.Advance(seconds(41));
    a->RunRoundForTest();
    EXPECT_EQ(a->Capacity().shared_by, 1);
    EXPECT_NEAR(a->Capacity().requests_per_second, alone.requests_per_second, 1e-9);
    EXPECT_EQ(a->Capacity().monitored, 4u);  // alone: every instance it knows of
    EXPECT_EQ(api_.Budget().parts, 1);
}

TEST_F(MonitorTest, TwoMonitorsNeverCheckOneInstanceTwiceForOneDueTime) {
    auto a = Make("a");
    auto b = Make("b");
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
        const std::string dep = "d" + std::to_string(i);
        api_.SetDeployment(Dep(dep, "BUILDING", clock_.Now()));
        Add(*a, dep);
    }
    std::atomic<std::size_t> checked{0};
    std::thread ta([&] { checked += a->RunRoundForTest(); });
    std::thread tb([&] { checked += b->RunRoundForTest(); });
    ta.join();
    tb.join();
    EXPECT_EQ(checked.load(), 40u);
    auto all = CheckedIds(api_);
    std::set<std::string> unique(all.begin(), all.end());
    EXPECT_EQ(all.size(), 40u);
    EXPECT_EQ(unique.size(), 40u);
}

TEST_F(MonitorTest, PushChecksTheDeploymentNow) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "SUCCESS", clock_.Now()));
    Add(*monitor, "d1");
    monitor->RunRoundForTest();
    EXPECT_EQ(monitor->RunRoundForTest(), 0u);  // next check in a minute
    EXPECT_EQ(*monitor->CheckDeploymentNow("d1"), 1);
    EXPECT_EQ(*monitor->CheckDeploymentNow("unknown"), 0);
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);
}

TEST_F(MonitorTest, RemovedDeploymentIsReplacedByTheServicesNewerOne) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "SUCCESS", t0), Dep("d1", "REMOVED", t0 + seconds(100))});
    api_.SetDeployment(Dep("d2", "BUILDING", t0 + seconds(90)));
    api_.SetLatestDeployment("svc", "env", Dep("d2", "BUILDING", t0 + seconds(90)));
    const auto instance = Add(*monitor, "d1");
    Step(*monitor, instance.id);
    Step(*monitor, instance.id);
    const auto events = *store_->ListEvents(instance.id, 100);
    ASSERT_EQ(events.size(), 3u);
    // d2 was created before d1 was removed: the timeline is in time order.
    const auto d2 = std::find_if(events.begin(), events.end(), [](const auto& e) { return e.deployment_id == "d2"; });
    ASSERT_NE(d2, events.end());
    EXPECT_EQ(d2->source, "discovery");
    EXPECT_EQ(d2->from_status, "REMOVED");
    EXPECT_EQ(d2->to_status, "BUILDING");
    EXPECT_EQ(Get(instance.id).state.deployment_id, "d2");
}

// The process that saw d1 become REMOVED died before its discovery job ran (jobs are not
// persisted): the restarted engine's checks find d1 REMOVED with nothing changed, and the
// environment read finds d2 and follows it.
TEST_F(MonitorTest, ARemovedDeploymentsLostDiscoveryIsRecoveredByTheEnvironmentRead) {
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "REMOVED", t0));
    const Deployment d2 = Dep("d2", "SUCCESS", t0);
    api_.SetDeployment(d2);
    api_.SetLatestDeployment("svc", "env", d2);
    api_.SetEnvironmentServices("env", {{"svc", d2.id}});
    std::string id;
    {
        auto first = Make();
        id = Add(*first, "d1").id;
        first->RunRoundForTest();  // the transition to REMOVED queues a discovery; never run
    }
    EXPECT_EQ(Get(id).state.deployment_status, "REMOVED");
    auto second = Make();  // the restart, with no jobs
    clock_.Advance(seconds(600));
    second->RunRoundForTest();
    second->RunWorkForTest();
    EXPECT_EQ(Get(id).state.deployment_id, "d2");
    EXPECT_EQ(Get(id).state.deployment_status, "SUCCESS");
}

TEST_F(MonitorTest, AddInstanceWithoutDeploymentFollowsTheLatestOne) {
    auto monitor = Make();
    api_.SetLatestDeployment("svc", "env", Dep("d9", "QUEUED", clock_.Now()));
    AddInstanceRequest request;
    request.service_id = "svc";
    request.environment_id = "env";
    EXPECT_EQ(monitor->AddInstance(request)->state.deployment_id, "d9");
    api_.SetLatestDeployment("svc", "other", std::nullopt);
    request.environment_id = "other";
    EXPECT_EQ(monitor->AddInstance(request).error().code, util::ErrorCode::kNotFound);
    request.service_id.clear();
    EXPECT_EQ(monitor->AddInstance(request).error().code, util::ErrorCode::kInvalidArgument);
}

TEST_F(MonitorTest, UserRedeployFollowsTheNewDeploymentWithoutCountingARetry) {
    auto monitor = Make();
    const auto instance = AddSucceededToRedeploy(*monitor);
    ASSERT_TRUE(monitor->Redeploy(instance.id));
    const auto stored = Get(instance.id);
    EXPECT_EQ(stored.state.deployment_id, "d1-redeploy-1");
    EXPECT_EQ(stored.state.retry_count, 0);
    const auto events = *store_->ListEvents(instance.id, 100);
    EXPECT_EQ(events.back().source, "user");
    EXPECT_EQ(events.back().to_status, "QUEUED");
}

TEST_F(MonitorTest, ARedeploysStatusReadIsTheNewDeploymentsFirstCheck) {
    auto monitor = Make();
    const auto instance = AddSucceededToRedeploy(*monitor);
    ASSERT_TRUE(monitor->Redeploy(instance.id));
    // The redeploy read QUEUED already: the next check comes after QUEUED's interval (less the
    // jitter), not at once — another process would otherwise ask again for what was just read.
    const auto stored = Get(instance.id);
    ASSERT_TRUE(stored.state.next_check_at.has_value());
    EXPECT_GE(*stored.state.next_check_at - clock_.Now(), QueuedIntervalLessJitter());
    const auto before = CheckedIds(api_).size();
    EXPECT_EQ(monitor->RunRoundForTest(), 0u);
    EXPECT_EQ(CheckedIds(api_).size(), before);
}

// A job that moves an instance on while a check of it is in flight (the poll saw a failure, the
// redeploy ran before the poll finished its batch) sets the next check, in both claim modes: the
// redeploy read the new deployment, the answer in flight was about the old one. (Found by
// integration.multi_serve on a busy machine: the new deployment was asked again 1.5 s later.)
class RescheduleDuringCheck : public MonitorTest, public ::testing::WithParamInterface<bool> {};

TEST_P(RescheduleDuringCheck, WinsOverTheStaleAnswer) {
    options_.keep_claims = GetParam();
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeployment(Dep("d1-redeploy-1", "QUEUED", t0));
    const auto instance = AddEvery(*monitor, "d1", 5);  // every 5 s ± 10 %
    sink_.OnNextTransition([&](const store::TimelineEvent&) {
        clock_.Advance(seconds(4));  // the redeploy runs 4 s after the poll's answer
        ASSERT_TRUE(monitor->Redeploy(instance.id));
    });
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);  // the first check writes BUILDING; the hook redeploys
    ASSERT_EQ(Get(instance.id).state.deployment_id, "d1-redeploy-1");
    const auto redeployed_at = t0 + seconds(4);
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1-redeploy-1"));  // the poll, the redeploy's read
    // The stale answer would be due again by t0 + 5.5 s; the redeploy's read by t0 + 8.5 s at the
    // earliest. A round at t0 + 6 s takes what is due within the 2 s window: nothing.
    clock_.Advance(t0 + seconds(6) - clock_.Now());
    EXPECT_EQ(monitor->RunRoundForTest(), 0u);
    clock_.Advance(redeployed_at + seconds(6) - clock_.Now());
    EXPECT_EQ(monitor->RunRoundForTest(), 1u);
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1-redeploy-1", "d1-redeploy-1"));
}

INSTANTIATE_TEST_SUITE_P(ClaimModes, RescheduleDuringCheck, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) { return info.param ? "Kept" : "PerCheck"; });

// The store's instances, with a hook run before the next read of kept rows (the change feed, or
// GetInstances: the fresh read of rows not kept).
class HookedInstances final : public store::Instances {
  public:
    explicit HookedInstances(store::Instances& inner) : inner_(inner) {}
    std::function<void()> before_read;
    int get_instances_calls = 0;
    std::size_t feed_rows = 0;              // rows the change feed has handed over
    bool feed_down = false;                 // ChangedInstances fails (the store unreachable)
    std::function<void()> after_feed_read;  // run once, after the next feed read, before its answer

    util::Result<void> CreateInstance(const store::Instance& i) override { return inner_.CreateInstance(i); }
    util::Result<store::Instance> GetInstance(const std::string& id) override { return inner_.GetInstance(id); }
    util::Result<std::vector<store::Instance>> FindInstancesByDeployment(const std::string& id) override {
        return inner_.FindInstancesByDeployment(id);
    }
    util::Result<std::vector<store::Instance>> GetInstances(const std::vector<std::string>& ids) override {
        ++get_instances_calls;
        if (auto hook = std::exchange(before_read, nullptr)) hook();
        return inner_.GetInstances(ids);
    }
    using store::Instances::ChangedInstances;
    util::Result<store::InstanceChanges> ChangedInstances(std::optional<std::int64_t> since,
                                                          const store::HeldChanges& held) override {
        if (auto hook = std::exchange(before_read, nullptr)) hook();
        if (feed_down) return tl::unexpected(util::Error(util::ErrorCode::kUnavailable, "database is down"));
        auto changes = inner_.ChangedInstances(since, held);
        if (changes) feed_rows += changes->instances.size();
        if (auto hook = std::exchange(after_feed_read, nullptr)) hook();
        return changes;
    }
    util::Result<store::InstancePage> ListInstances(const store::InstanceQuery& q) override {
        return inner_.ListInstances(q);
    }
    util::Result<void> SaveState(const std::string& id, const store::InstanceState& state) override {
        return inner_.SaveState(id, state);
    }
    util::Result<void> SetMonitoring(const std::string& id, bool enabled, std::optional<int> interval_s,
                                     core::Timestamp at) override {
        return inner_.SetMonitoring(id, enabled, interval_s, at);
    }
    util::Result<void> DeleteInstance(const std::string& id, core::Timestamp at) override {
        return inner_.DeleteInstance(id, at);
    }

  private:
    store::Instances& inner_;
};

// A monitor with kept claims reading its instances through HookedInstances.
struct HookedMonitor {
    HookedMonitor(railway::RailwayApi& api, store::Store& store, const util::Clock& clock, EventSink& sink,
                  MonitorOptions options)
        : instances(store), monitor(api, instances, store, store, store, clock, sink, KeptClaims(std::move(options))) {}
    static MonitorOptions KeptClaims(MonitorOptions options) {
        options.keep_claims = true;
        return options;
    }
    HookedInstances instances;
    Monitor monitor;
};

// Tests of a HookedMonitor: made on first use, with options_ as they are then.
class HookedMonitorTest : public MonitorTest {
  protected:
    HookedMonitor& Hooked() {
        if (!hooked_) hooked_ = std::make_unique<HookedMonitor>(api_, *store_, clock_, sink_, options_);
        return *hooked_;
    }
    // d1 BUILDING (since `t0`) and an instance of it checked every 5 s, through its first check
    // (claimed and kept; the transition to BUILDING written).
    store::Instance FollowD1(core::Timestamp t0) {
        api_.SetDeployment(Dep("d1", "BUILDING", t0));
        auto instance = AddEvery(Hooked().monitor, "d1", 5);
        EXPECT_EQ(Hooked().monitor.RunRoundForTest(), 1u);
        return instance;
    }

    std::unique_ptr<HookedMonitor> hooked_;
};

// The same while the kept check is being taken: taken for its due time, the row read after the
// redeploy wrote it. The check waits for the redeploy's due time instead of asking at once for
// the deployment the redeploy has just read.
TEST_F(HookedMonitorTest, KeptACheckTakenWhileAJobMovesTheInstanceOnWaitsForTheJobsDueTime) {
    HookedInstances& instances = Hooked().instances;
    Monitor& monitor = Hooked().monitor;
    api_.SetDeployment(Dep("d1-redeploy-1", "QUEUED", clock_.Now()));
    const auto instance = FollowD1(clock_.Now());
    clock_.Advance(seconds(6));  // due again
    instances.before_read = [&] { ASSERT_TRUE(monitor.Redeploy(instance.id)); };
    EXPECT_EQ(monitor.RunRoundForTest(), 0u);
    const auto redeployed_at = clock_.Now();
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1-redeploy-1"));  // the first check, the redeploy's read
    clock_.Advance(seconds(2));
    EXPECT_EQ(monitor.RunRoundForTest(), 0u);  // due 4.5 s after the read at the earliest (window 2 s)
    clock_.Advance(redeployed_at + seconds(6) - clock_.Now());
    EXPECT_EQ(monitor.RunRoundForTest(), 1u);
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1-redeploy-1", "d1-redeploy-1"));
}

// Kept rows (docs/ENGINE.md): a kept check that changes nothing reads no row; one whose check
// wrote its row (a transition) reads it once before its next check.
TEST_F(HookedMonitorTest, KeptChecksThatChangeNothingReadNoRow) {
    HookedInstances& instances = Hooked().instances;
    Monitor& monitor = Hooked().monitor;
    FollowD1(clock_.Now());  // claimed; writes BUILDING
    for (int k = 0; k < 5; ++k) {
        clock_.Advance(seconds(6));
        ASSERT_EQ(monitor.RunRoundForTest(), 1u);
    }
    EXPECT_EQ(CheckedIds(api_).size(), 6u);
    // The transition's row came with the change feed: no check read a row of its own.
    EXPECT_EQ(instances.get_instances_calls, 0);
}

// A kept check that wrote its row keeps it as written: the change feed does not hand that change
// back (the store told its position), and the next check decides from the row as written. A
// change made elsewhere after it still comes with the feed.
TEST_F(HookedMonitorTest, KeptRowsWrittenByTheirOwnCheckAreNotReadBackButLaterChangesAre) {
    HookedInstances& instances = Hooked().instances;
    Monitor& monitor = Hooked().monitor;
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d2", "BUILDING", t0));
    const auto instance = FollowD1(t0);  // claimed; writes BUILDING
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // the claim's lease came with the feed
    api_.SetDeployment(Dep("d1", "DEPLOYING", t0 + seconds(11)));
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // writes DEPLOYING
    const std::size_t rows_before = instances.feed_rows;
    api_.SetDeployment(Dep("d1", "SUCCESS", t0 + seconds(17)));
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);     // writes SUCCESS, from the row DEPLOYING wrote
    EXPECT_EQ(instances.feed_rows, rows_before);  // neither write came back through the feed
    EXPECT_EQ(instances.get_instances_calls, 0);
    const auto transitions = sink_.Transitions();
    ASSERT_EQ(transitions.size(), 3u);
    EXPECT_EQ(transitions[2].from_status, "DEPLOYING");
    EXPECT_EQ(transitions[2].to_status, "SUCCESS");
    EXPECT_EQ(Get(instance.id).state.deployment_status, "SUCCESS");
    // Moved on elsewhere after its own write: the feed brings the row, the check follows it.
    auto row = Get(instance.id);
    row.state.deployment_id = "d2";
    ASSERT_TRUE(store_->SaveState(instance.id, row.state));
    clock_.Advance(seconds(60));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);
    EXPECT_EQ(instances.feed_rows, rows_before + 1);
    EXPECT_EQ(CheckedIds(api_).back(), "d2");
}

// A feed read that began before a check wrote its row (a transition) and is handled after the
// check landed holds the row from before the write: it must not become the kept row. With a
// batch window longer than the interval the same round takes the instance again at once: it reads
// the row instead (with the feed's older row it would decide the same transition again).
TEST_F(HookedMonitorTest, AFeedReadOlderThanAChecksWriteDoesNotBecomeTheKeptRow) {
    options_.batch_window = seconds(10);
    HookedInstances& instances = Hooked().instances;
    Monitor& monitor = Hooked().monitor;
    const auto t0 = clock_.Now();
    const auto instance = FollowD1(t0);  // writes BUILDING
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);  // nothing changes; the feed brought the row
    ASSERT_EQ(instances.get_instances_calls, 0);
    api_.SetDeployment(Dep("d1", "DEPLOYING", t0 + seconds(11)));
    auto row = Get(instance.id);
    row.state.progress = 7;  // a change elsewhere: the next feed read carries the row
    ASSERT_TRUE(store_->SaveState(instance.id, row.state));
    clock_.Advance(seconds(6));
    // This round's feed read (the row with BUILDING) is answered only after another round has
    // checked the instance and written DEPLOYING; then this round takes it again (due within
    // its window).
    instances.after_feed_read = [&] { ASSERT_EQ(monitor.RunRoundForTest(), 1u); };
    EXPECT_EQ(monitor.RunRoundForTest(), 1u);
    EXPECT_EQ(Get(instance.id).state.deployment_status, "DEPLOYING");
    EXPECT_EQ(instances.get_instances_calls, 1);  // read again, not the feed's older row
    EXPECT_EQ(sink_.Transitions().size(), 2u);    // BUILDING, DEPLOYING: none twice
}

// A round whose change feed cannot be read takes no checks (a kept row could be stale), and
// loses none: once the store answers, the check comes, about the change made meanwhile.
TEST_F(HookedMonitorTest, KeptChecksWaitWhileTheChangeFeedCannotBeRead) {
    HookedInstances& instances = Hooked().instances;
    Monitor& monitor = Hooked().monitor;
    api_.SetDeployment(Dep("d2", "BUILDING", clock_.Now()));
    const auto instance = FollowD1(clock_.Now());
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor.RunRoundForTest(), 1u);
    auto row = Get(instance.id);
    row.state.deployment_id = "d2";  // moved on elsewhere while the feed is down
    ASSERT_TRUE(store_->SaveState(instance.id, row.state));
    instances.feed_down = true;
    clock_.Advance(seconds(6));
    EXPECT_EQ(monitor.RunRoundForTest(), 0u);
    EXPECT_EQ(monitor.RunRoundForTest(), 0u);
    instances.feed_down = false;
    EXPECT_EQ(monitor.RunRoundForTest(), 1u);
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1", "d2"));
}

// Another process (or the API) changes a kept row in the store, even while its check is being
// asked: the next round's check follows the change (the feed), not the kept row.
TEST_F(MonitorTest, KeptRowsFollowChangesMadeElsewhere) {
    options_.keep_claims = true;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeployment(Dep("d2", "BUILDING", t0));
    const auto instance = AddEvery(*monitor, "d1", 5);
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);  // writes BUILDING
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);  // nothing changes: kept as it was
    // While the next check of d1 is asked, the row moves on to d2 (as a discovery elsewhere).
    api_.SetCallHook([&](const std::string& call) {
        if (call != "PollStatuses") return;
        api_.SetCallHook(nullptr);
        auto row = Get(instance.id);
        row.state.deployment_id = "d2";
        ASSERT_TRUE(store_->SaveState(instance.id, row.state));
    });
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);
    clock_.Advance(seconds(6));
    ASSERT_EQ(monitor->RunRoundForTest(), 1u);
    EXPECT_THAT(CheckedIds(api_), ElementsAre("d1", "d1", "d1", "d2"));
    // Turned off behind the monitor's back: the kept entry is dropped, no more checks.
    ASSERT_TRUE(store_->SetMonitoring(instance.id, false, std::nullopt, clock_.Now()));
    clock_.Advance(seconds(6));
    EXPECT_EQ(monitor->RunRoundForTest(), 0u);
    EXPECT_EQ(CheckedIds(api_).size(), 4u);
}

// A slow redeploy (a busy Railway, retries) dates the next check from the read's answer, not
// from before the calls: else it comes right after the read (integration.multi_serve, busy).
TEST_F(MonitorTest, ASlowRedeployDatesTheNextCheckFromItsRead) {
    auto monitor = Make();
    const auto instance = AddSucceededToRedeploy(*monitor);
    api_.SetCallHook([&](const std::string& call) {
        if (call == "Redeploy" || call == "GetDeployments") clock_.Advance(seconds(30));
    });
    ASSERT_TRUE(monitor->Redeploy(instance.id));
    const auto read_at = clock_.Now();  // after both calls
    const auto stored = Get(instance.id);
    ASSERT_TRUE(stored.state.next_check_at.has_value());
    EXPECT_GE(*stored.state.next_check_at - read_at, QueuedIntervalLessJitter());
}

TEST_F(MonitorTest, CapacityFollowsTheBudget) {
    options_.requests_per_hour = 1000;
    options_.requests_per_second = 10;
    auto monitor = Make();
    const CapacityReport report = monitor->Capacity();
    EXPECT_NEAR(report.requests_per_second, 1000.0 / 3600 * 0.8, 1e-9);
    // An empty fleet is quoted at the default interval as checks come on average: 95 % of it (the
    // jitter only shortens, core::MeanJitterFactor).
    const double mean_interval_s = core::ToSecondsF(options_.intervals.fallback) * 0.95;
    EXPECT_EQ(report.capacity,
              static_cast<std::size_t>(std::floor(
                  report.requests_per_second * mean_interval_s * static_cast<double>(report.batch_size) + 1e-9)));
    EXPECT_EQ(report.stretch, 1.0);
    EXPECT_EQ(report.effective_interval_s.size(), core::kAllDeploymentStatuses.size());
}

// The interval an instance is checked at (the API's effectiveIntervalSeconds): its status's or its
// own, stretched as the plan stretches its status (stable ones first), none when not monitored.
// Here 60 succeeded deployments checked every 60 s (one per request) need about 1.05 requests a
// second against the budget's 0.8 (3,600 an hour less the reserve): stable intervals are
// stretched, the building one keeps its 10 s.
TEST_F(MonitorTest, CheckIntervalIsTheOwnOrTheStatussIntervalStretchedAsThePlanSays) {
    options_.requests_per_hour = 3600;
    options_.requests_per_second = 10;
    options_.batch_size = 1;
    options_.intervals.per_status[core::DeploymentStatus::kSuccess] = seconds(60);
    options_.intervals.per_status[core::DeploymentStatus::kBuilding] = seconds(10);
    auto monitor = Make();
    api_.SetDeployment(Dep("b", "BUILDING", clock_.Now()));
    const std::string building = Add(*monitor, "b").id;
    // Before the first answer: the fallback interval.
    EXPECT_EQ(monitor->CheckInterval(Get(building)), options_.intervals.fallback);
    std::vector<std::string> succeeded;
    for (int i = 0; i < 60; ++i) {
        const std::string dep = "s" + std::to_string(i);
        api_.SetDeployment(Dep(dep, "SUCCESS", clock_.Now()));
        succeeded.push_back(Add(*monitor, dep).id);
    }
    api_.SetDeployment(Dep("own", "SUCCESS", clock_.Now()));
    const std::string own = Add(*monitor, "own", seconds(20)).id;
    // Until every first check is answered (the plan counts an instance not answered yet as
    // INITIALIZING, at that status's interval).
    const auto planned = [&] { return monitor->Capacity().by_status; };
    const std::map<std::string, std::size_t> answered{{"BUILDING", 1}, {"SUCCESS", 61}};
    for (int step = 0; step < 200 && planned() != answered; ++step) {
        monitor->RunRoundForTest();
        clock_.Advance(seconds(5));
    }
    ASSERT_EQ(planned(), answered);
    const CapacityReport report = monitor->Capacity();
    ASSERT_GT(report.stretch, 1.2);
    EXPECT_EQ(monitor->CheckInterval(Get(building)), seconds(10));
    const auto seconds_of = [&](const std::string& id) { return core::ToSecondsF(*monitor->CheckInterval(Get(id))); };
    EXPECT_NEAR(seconds_of(succeeded[0]), 60 * report.stretch, 1e-3);
    EXPECT_NEAR(seconds_of(own), 20 * report.stretch, 1e-3);
    const auto quoted = std::find_if(report.effective_interval_s.begin(), report.effective_interval_s.end(),
                                     [](const auto& entry) { return entry.first == "SUCCESS"; });
    ASSERT_NE(quoted, report.effective_interval_s.end());
    EXPECT_NEAR(seconds_of(succeeded[0]), quoted->second, 1e-3);  // what /stats quotes for SUCCESS
    ASSERT_TRUE(monitor->SetMonitoring(succeeded[1], false, std::nullopt));
    EXPECT_EQ(monitor->CheckInterval(Get(succeeded[1])), std::nullopt);
}

// A budget far too small for the fleet stretches intervals by millions (here 1 request an hour
// for 500 deployments checked every second): an instance with a day of its own is then checked
// every week at most, not at an interval a nanosecond count cannot hold.
TEST_F(MonitorTest, AStretchByMillionsStopsAtAWeek) {
    options_.requests_per_hour = 1;
    options_.requests_per_second = 10;
    options_.batch_size = 1;
    CheckEverySecondInEveryStatus();
    options_.intervals.min_interval = seconds(1);
    auto monitor = Make();
    for (int i = 0; i < 500; ++i) {
        const std::string dep = "d" + std::to_string(i);
        api_.SetDeployment(Dep(dep, "BUILDING", clock_.Now()));
        Add(*monitor, dep);
    }
    api_.SetDeployment(Dep("daily", "BUILDING", clock_.Now()));
    const std::string daily = Add(*monitor, "daily", seconds(86400)).id;
    monitor->RunRoundForTest();
    ASSERT_GT(monitor->Capacity().stretch, 1e6);
    EXPECT_EQ(monitor->CheckInterval(Get(daily)), seconds(7 * 86400));
    const auto one = monitor->CheckInterval(Get(daily));
    ASSERT_TRUE(one.has_value());
    EXPECT_GT(*one, seconds(0));
}

TEST_F(MonitorTest, FleetCountsFollowEachInstancesStatusAndItsRemoval) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.ScriptDeployment("d1", {Dep("d1", "BUILDING", t0), Dep("d1", "SUCCESS", t0 + seconds(20))});
    api_.SetDeployment(Dep("d2", "BUILDING", t0));
    const auto one = Add(*monitor, "d1");
    const auto two = Add(*monitor, "d2");
    monitor->RunRoundForTest();
    EXPECT_EQ(monitor->Capacity().by_status, (std::map<std::string, std::size_t>{{"BUILDING", 2}}));
    EXPECT_EQ(monitor->Capacity().monitored, 2u);
    Step(*monitor, one.id);  // d1 succeeded: one moves from BUILDING to SUCCESS
    EXPECT_EQ(monitor->Capacity().by_status, (std::map<std::string, std::size_t>{{"BUILDING", 1}, {"SUCCESS", 1}}));
    ASSERT_TRUE(monitor->DeleteInstance(two.id));
    EXPECT_EQ(monitor->Capacity().by_status, (std::map<std::string, std::size_t>{{"SUCCESS", 1}}));
    monitor->RunRoundForTest();  // the budget plan is made again each round
    EXPECT_EQ(monitor->Capacity().monitored, 1u);
}

// Kept claims: a check that leaves an instance's (status, interval) as it was skips the fleet map
// (Kept::fleet); a status change, monitoring off and on again, and a removal still count.
TEST_F(MonitorTest, FleetCountsOfKeptInstancesFollowStatusMonitoringAndRemoval) {
    options_.keep_claims = true;
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeployment(Dep("d2", "BUILDING", t0));
    const auto one = AddEvery(*monitor, "d1", 5);
    const auto two = AddEvery(*monitor, "d2", 5);
    const auto counts = [&] { return monitor->Capacity().by_status; };
    const auto round_after = [&](int s) {
        clock_.Advance(seconds(s));
        monitor->RunRoundForTest();
        monitor->RunWorkForTest();
    };
    round_after(0);
    round_after(6);  // kept: checked again from memory, nothing changed
    EXPECT_EQ(counts(), (std::map<std::string, std::size_t>{{"BUILDING", 2}}));
    ASSERT_TRUE(monitor->SetMonitoring(two.id, false, std::nullopt));
    EXPECT_EQ(counts(), (std::map<std::string, std::size_t>{{"BUILDING", 1}}));
    round_after(6);
    EXPECT_EQ(counts(), (std::map<std::string, std::size_t>{{"BUILDING", 1}}));
    ASSERT_TRUE(monitor->SetMonitoring(two.id, true, std::nullopt));
    round_after(6);
    round_after(6);
    EXPECT_EQ(counts(), (std::map<std::string, std::size_t>{{"BUILDING", 2}}));
    api_.SetDeployment(Dep("d1", "SUCCESS", t0 + seconds(30)));
    round_after(6);
    round_after(6);
    EXPECT_EQ(counts(), (std::map<std::string, std::size_t>{{"BUILDING", 1}, {"SUCCESS", 1}}));
    ASSERT_TRUE(monitor->DeleteInstance(two.id));
    round_after(6);
    EXPECT_EQ(counts(), (std::map<std::string, std::size_t>{{"SUCCESS", 1}}));
    EXPECT_EQ(Get(one.id).state.deployment_status, "SUCCESS");
}

TEST_F(MonitorTest, ProgressReportsPhaseAndPercent) {
    auto monitor = Make();
    api_.SetDeployment(Dep("d1", "BUILDING", clock_.Now()));
    const auto instance = Add(*monitor, "d1");
    EXPECT_EQ(monitor->Progress(instance.id)->phase, "queued");
    monitor->RunRoundForTest();
    const auto progress = *monitor->Progress(instance.id);
    EXPECT_EQ(progress.progress, 40);
    EXPECT_FALSE(progress.phase.empty());
    EXPECT_EQ(monitor->Progress("nope").error().code, util::ErrorCode::kNotFound);
}

// One of Railway's steps of a deployment, as deploymentEvents gives it.
railway::DeploymentEvent StepEvent(std::string step, core::Timestamp created,
                                   std::optional<core::Timestamp> completed = std::nullopt) {
    railway::DeploymentEvent event;
    event.step = std::move(step);
    event.created_at = created;
    event.completed_at = completed;
    return event;
}

// The step list comes from the instance's timeline (the statuses the checks saw, with their times)
// and Railway's steps its phase reads fetched (and stored).
TEST_F(MonitorTest, ProgressListsTheStepsTheTimelineAndRailwaysEventsShow) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeploymentEvents(
        "d1", {StepEvent("SNAPSHOT_CODE", t0, t0 + seconds(2)), StepEvent("BUILD_IMAGE", t0 + seconds(2))});
    const auto instance = Add(*monitor, "d1");
    const auto names = [](const ProgressReport& report) {
        std::vector<std::string> out;
        for (const core::StepRow& row : report.steps)
            out.push_back(row.name + ":" + std::string(core::ToString(row.state)));
        return out;
    };
    // Not checked yet: every row to come.
    EXPECT_EQ(names(*monitor->Progress(instance.id)),
              (std::vector<std::string>{"QUEUED:pending", "INITIALIZING:pending", "BUILDING:pending",
                                        "DEPLOYING:pending", "SUCCESS:pending"}));
    monitor->RunRoundForTest();  // none -> BUILDING: the phase change's read fetches the steps
    monitor->RunWorkForTest();
    auto report = *monitor->Progress(instance.id);
    EXPECT_EQ(names(report), (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:active",
                                                       "DEPLOYING:pending", "SUCCESS:pending"}));
    ASSERT_EQ(report.steps[2].substeps.size(), 2u);
    EXPECT_EQ(report.steps[2].substeps[0].name, "SNAPSHOT_CODE");
    EXPECT_EQ(report.steps[2].substeps[1].state, core::StepState::kActive);
    EXPECT_TRUE(report.step_aware);
    clock_.Advance(seconds(40));
    api_.SetDeployment(Dep("d1", "DEPLOYING", t0 + seconds(40)));  // Railway's updatedAt dates the change
    monitor->RunRoundForTest();
    report = *monitor->Progress(instance.id);
    EXPECT_EQ(names(report), (std::vector<std::string>{"QUEUED:done", "INITIALIZING:done", "BUILDING:done",
                                                       "DEPLOYING:active", "SUCCESS:pending"}));
    ASSERT_TRUE(report.steps[2].started_at && report.steps[2].completed_at);
    EXPECT_EQ(*report.steps[2].completed_at - *report.steps[2].started_at, seconds(40));
}

// Railway's steps are stored (Timeline::SaveSteps): the step list keeps them once the engine is
// done with the deployment, another process (or a restart) sees them, and the instance's earlier
// deployments give each step its typical time.
TEST_F(MonitorTest, StepsOutliveTheFollowAndEarlierDeploymentsGiveEachStepItsMedian) {
    auto monitor = Make();
    const auto t0 = clock_.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeploymentEvents("d1", {StepEvent("SNAPSHOT_CODE", t0, t0 + seconds(2)),
                                    StepEvent("BUILD_IMAGE", t0 + seconds(2), t0 + seconds(30)),
                                    StepEvent("A_NEW_STEP", t0 + seconds(3)),  // unknown here: stored, not listed
                                    StepEvent("", t0 + seconds(4))});          // nameless: left out, the others stored
    const auto instance = Add(*monitor, "d1");
    // An earlier deployment of the instance whose steps were kept.
    const std::vector<store::DeploymentStepRecord> earlier = {
        {"d0", "SNAPSHOT_CODE", t0 - seconds(100), t0 - seconds(96), ""},
        {"d0", "BUILD_IMAGE", t0 - seconds(96), t0 - seconds(36), ""}};
    ASSERT_TRUE(store_->SaveSteps(instance.id, "d0", earlier, t0 - seconds(30)));
    monitor->RunRoundForTest();  // none -> BUILDING: the phase change's read stores the steps
    monitor->RunWorkForTest();
    const auto stored = store_->ListSteps(instance.id);
    ASSERT_TRUE(stored);
    ASSERT_EQ(stored->size(), 5u);
    EXPECT_EQ(stored->back().step, "A_NEW_STEP");
    clock_.Advance(seconds(40));
    api_.SetDeployment(Dep("d1", "SUCCESS", t0 + seconds(40)));
    monitor->RunRoundForTest();  // done with: its phase reads are forgotten
    monitor->RunWorkForTest();
    EXPECT_EQ(monitor->PhaseReadsKeptForTest(), 0u);
    const auto check = [&](Monitor& m) {
        const auto report = m.Progress(instance.id);
        ASSERT_TRUE(report);
        ASSERT_GE(report->steps.size(), 3u);
        const core::StepRow& building = report->steps[2];
        EXPECT_EQ(building.name, "BUILDING");
        ASSERT_EQ(building.substeps.size(), 2u);
        EXPECT_EQ(building.substeps[0].name, "SNAPSHOT_CODE");
        EXPECT_EQ(building.substeps[0].median, seconds(4));
        EXPECT_EQ(building.substeps[1].name, "BUILD_IMAGE");
        EXPECT_EQ(building.substeps[1].state, core::StepState::kDone);
        EXPECT_EQ(building.substeps[1].median, seconds(60));
    };
    check(*monitor);
    auto other = Make("w2");  // another process on the same store: nothing kept in its memory
    check(*other);
}

// The scheduler thread with nothing due sleeps until the next due check or its idle bound, and
// a new instance wakes it at once.
// A status request that hangs (a slow answer, retries) holds only its own batch: the pollers
// write the other batches' answers meanwhile.
TEST_F(MonitorTest, AHangingStatusRequestHoldsOnlyItsOwnBatch) {
    util::SystemClock clock;
    options_.batch_size = 1;  // one deployment per request: two batches
    options_.poll_threads = 2;
    // One request per poll, as after a poll with trouble (RequestsGoTogetherWhilePollsGoWell…).
    options_.requests_per_poll = 1;
    std::mutex mutex;
    std::condition_variable released_cv;
    bool released = false;
    int status_calls = 0;
    api_.SetCallHook([&](const std::string& call) {
        if (call != "PollStatuses") return;
        std::unique_lock lock(mutex);
        if (status_calls++ == 0) released_cv.wait_for(lock, seconds(30), [&] { return released; });
    });
    api_.SetDeployment(Dep("d1", "BUILDING", clock.Now()));
    api_.SetDeployment(Dep("d2", "BUILDING", clock.Now()));
    auto monitor = Make("w1", &clock);
    Add(*monitor, "d1");
    Add(*monitor, "d2");
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(1));  // the other batch, while the first request hangs
    {
        std::lock_guard lock(mutex);
        EXPECT_FALSE(released);
        EXPECT_EQ(sink_.Transitions().size(), 1u);
        released = true;
    }
    released_cv.notify_all();
    ASSERT_TRUE(sink_.AwaitTransitions(2));
    monitor->Stop();
    api_.SetCallHook({});
}

// A process killed mid-round leaves its claims leased; restarted under the same worker id it
// takes them back at once instead of waiting out the lease (120 s).
TEST_F(MonitorTest, ARestartUnderTheSameWorkerIdTakesBackItsCrashedClaimsAtOnce) {
    util::SystemClock clock;
    api_.SetDeployment(Dep("d1", "BUILDING", clock.Now()));
    {
        auto crashed = Make("w1", &clock);
        Add(*crashed, "d1");
    }
    // Its last round claimed d1 and died before releasing it.
    ASSERT_EQ(store_->ClaimDueInstances("w1", clock.Now(), options_.lease, 10)->size(), 1u);
    auto other = Make("w2", &clock);
    EXPECT_EQ(other->RunRoundForTest(), 0u);  // another worker waits for the lease
    auto restarted = Make("w1", &clock);
    ASSERT_TRUE(restarted->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(1));  // checked within seconds, not after the lease
    restarted->Stop();
}

// Jobs live in memory: a failure written just before a crash had its classification queued and
// lost. The restarted engine finds it without a verdict and classifies it.
TEST_F(MonitorTest, ARestartClassifiesAFailureItsCrashedLifeLeftWithoutAVerdict) {
    util::SystemClock clock;
    api_.SetDeployment(Dep("d1", "FAILED", clock.Now()));
    api_.AddLogs(core::LogKind::kBuild, "d1",
                 {Line(clock.Now(), "Error: environment variable DATABASE_URL is not set")});
    std::string id;
    {
        auto crashed = Make("w1", &clock);
        id = Add(*crashed, "d1").id;
        EXPECT_EQ(crashed->RunRoundForTest(), 1u);  // FAILED written; its classification never runs
    }
    ASSERT_FALSE(Get(id).state.error_type.has_value());
    auto restarted = Make("w1", &clock);
    ASSERT_TRUE(restarted->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(2));  // the FAILED row, then the verdict's reaction row
    restarted->Stop();
    EXPECT_EQ(Get(id).state.error_type, core::ErrorClass::kConfiguration);
}

TEST_F(MonitorTest, ABacklogDrainsAtTheBudgetsPaceNotAtTheIdleWait) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    auto monitor = MakeAtOneRequestASecond(clock);  // 50 checks a second
    for (int i = 0; i < 120; ++i) {
        const std::string id = "d" + std::to_string(i);
        api_.SetDeployment(Dep(id, "BUILDING", clock.Now()));
        Add(*monitor, id);
    }
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(50));  // the first round: one second's worth
    ASSERT_TRUE(clock.AwaitWaiters(3));
    // The scheduler sleeps until the pace allows the next round (1 s), not for max_idle_wait.
    for (const auto wait : clock.Waits()) {
        if (wait < seconds(3600)) {
            EXPECT_LE(wait, seconds(1));
        }
    }
    clock.Advance(seconds(1));
    ASSERT_TRUE(sink_.AwaitTransitions(100));
    EXPECT_EQ(CheckedIds(api_).size(), 100u);  // two requests of 50: whole batches
    monitor->Stop();
}

TEST_F(MonitorTest, ARoundOfAFewChecksSpendsAWholeRequestOfTheBudgetsPace) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    auto monitor = MakeAtOneRequestASecond(clock);
    api_.SetDeployment(Dep("d0", "BUILDING", clock.Now()));
    Add(*monitor, "d0");
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(1));  // the first round: one request for one check
    ASSERT_TRUE(clock.AwaitWaiters(3));
    clock.Advance(milliseconds(100));
    // Due at once, but the request just sent spends the budget for a second: paced by checks
    // (1 of the 50 a second), this round would come at once.
    api_.SetDeployment(Dep("d1", "BUILDING", clock.Now()));
    Add(*monitor, "d1");
    std::this_thread::sleep_for(milliseconds(200));  // (real time: a round at once would be done)
    ASSERT_TRUE(clock.AwaitWaiters(3));
    EXPECT_EQ(api_.CallCount("PollStatuses"), 1);
    clock.Advance(milliseconds(900));
    for (int i = 0; i < 1000 && api_.CallCount("PollStatuses") < 2; ++i)
        std::this_thread::sleep_for(milliseconds(10));
    EXPECT_EQ(api_.CallCount("PollStatuses"), 2);
    monitor->Stop();
}

TEST_F(MonitorTest, SchedulerThreadDoesNotSpinWhenNothingIsDueAndWakesForANewInstance) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    options_.max_idle_wait = seconds(5);
    options_.poll_threads = 2;
    options_.workers = 2;
    auto monitor = Make("w1", &clock);
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(clock.AwaitWaiters(5));  // the scheduler, two pollers, two workers
    const std::size_t waits_before = clock.Waits().size();
    EXPECT_LE(waits_before, 5u);
    clock.Advance(seconds(5));
    ASSERT_TRUE(clock.AwaitWaiters(5));
    EXPECT_LE(clock.Waits().size(), waits_before + 1);  // one more round, then asleep again
    for (const auto wait : clock.Waits())
        EXPECT_GT(wait, core::Duration{0});

    api_.SetDeployment(Dep("d1", "BUILDING", clock.Now()));
    AddInstanceRequest request;
    request.service_id = "svc";
    request.environment_id = "env";
    request.deployment_id = "d1";
    const auto added = monitor->AddInstance(request);
    ASSERT_TRUE(added);
    // Checked without the clock moving: the add woke the scheduler.
    ASSERT_TRUE(sink_.AwaitTransitions(1));
    EXPECT_THAT(Statuses(added->id), ElementsAre("BUILDING"));
    monitor->Stop();
}

// A job that moves a kept instance on (here the discovery of a newer deployment) wakes the
// scheduler when the new deployment's first check is due before the scheduler's wait ends: d2 is
// checked at its interval, not at d1's due time or the idle wait.
TEST_F(MonitorTest, ADiscoveredDeploymentIsCheckedAtItsIntervalNotAtTheSchedulersEarlierWait) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    options_.keep_claims = true;
    options_.max_idle_wait = seconds(3600);
    options_.poll_threads = 1;
    options_.workers = 1;
    options_.discovery_interval = seconds(60);
    options_.intervals.per_status[core::DeploymentStatus::kSuccess] = seconds(600);
    options_.intervals.per_status[core::DeploymentStatus::kBuilding] = seconds(10);
    const auto t0 = clock.Now();
    api_.SetDeployment(Dep("d1", "SUCCESS", t0));
    const Deployment d2 = Dep("d2", "BUILDING", t0);
    api_.SetLatestDeployment("svc", "env", d2);  // what the discovery reads
    api_.SetEnvironmentServices("env", {{"svc", d2.id}});
    api_.SetDeployment(Dep("d2", "DEPLOYING", t0));  // what d2's first check reads
    auto monitor = Make("w1", &clock);
    const std::string id = Add(*monitor, "d1").id;
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(1));  // d1 SUCCESS at its first check
    ASSERT_TRUE(clock.AwaitWaiters(3));      // the scheduler, the poller and the worker asleep
    // d1's next check (600 s ± 10 %) finds it settled and reads the environment: d2 is found
    // and followed (BUILDING, next check in 10 s ± 10 %).
    clock.Advance(seconds(660));
    ASSERT_TRUE(sink_.AwaitTransitions(2));
    ASSERT_EQ(Get(id).state.deployment_id, "d2");
    ASSERT_TRUE(clock.AwaitWaiters(3));  // the scheduler, the poller and the worker asleep
    clock.Advance(seconds(12));          // past d2's due time, long before d1's (600 s)
    ASSERT_TRUE(sink_.AwaitTransitions(3));
    EXPECT_EQ(Get(id).state.deployment_status, "DEPLOYING");
    monitor->Stop();
}

// A FakeClock whose time moves on, once, when one named thread next reads the steady time: as
// when a test advances the clock (or a real lock holds the thread) between the moment that thread
// read the time to decide how long to sleep and the moment its sleep begins.
class ClockMovingOnARead final : public util::Clock {
  public:
    explicit ClockMovingOnARead(FakeClock& inner) : inner_(inner) {}

    void MoveOnTheNextSteadyReadOf(std::string thread_name, core::Duration by) {
        std::lock_guard lock(mutex_);
        thread_ = std::move(thread_name);
        by_ = by;
    }
    core::Timestamp Now() const override { return inner_.Now(); }
    util::SteadyTime Steady() const override {
        {
            std::lock_guard lock(mutex_);
            if (by_ && util::ThisThreadName() == thread_) {
                inner_.Advance(*by_);
                by_.reset();
            }
        }
        return inner_.Steady();
    }
    util::WakeReason WaitUntil(util::SteadyTime deadline, util::Wakeup& wakeup) const override {
        return inner_.WaitUntil(deadline, wakeup);
    }

  private:
    FakeClock& inner_;
    mutable std::mutex mutex_;
    std::string thread_;                        // guarded by mutex_
    mutable std::optional<core::Duration> by_;  // guarded by mutex_
};

// The scheduler's sleep ends when the earliest kept check falls due, measured from when it read
// the time to decide that, not from when it went to sleep: time passing in between (here 120 s,
// past d1's check due in 100 s ± 10 %) must not be waited again. Before, its wait began at the
// sleep, and d1's check came 120 s late (here: never, the clock being still) — what made
// ADiscoveredDeployment… above time out now and then under ThreadSanitizer.
TEST_F(MonitorTest, TimePassingWhileTheSchedulerDecidesItsWaitIsNotWaitedAgain) {
    FakeClock fake(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    ClockMovingOnARead clock(fake);
    options_.keep_claims = true;
    options_.max_idle_wait = seconds(3600);
    options_.poll_threads = 1;
    options_.workers = 1;
    options_.discovery_interval = core::Duration::zero();
    options_.intervals.per_status[core::DeploymentStatus::kBuilding] = seconds(100);
    options_.intervals.per_status[core::DeploymentStatus::kSuccess] = seconds(600);
    const auto t0 = fake.Now();
    api_.SetDeployment(Dep("d1", "BUILDING", t0));
    api_.SetDeployment(Dep("d2", "SUCCESS", t0));
    auto monitor = Make("w1", &clock);
    const std::string id = Add(*monitor, "d1").id;
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(1));  // d1 BUILDING; its next check in 100 s ± 10 %
    // The scheduler asleep until that check, not about to wake to learn of it (the poller tells
    // it after writing): a wait of 90–110 s begun, then every thread asleep.
    const auto waits_for_d1 = [&] {
        const auto waits = fake.Waits();
        return std::any_of(waits.begin(), waits.end(), [](auto w) { return w >= seconds(90) && w <= seconds(110); });
    };
    for (int i = 0; i < 2000 && !waits_for_d1(); ++i)
        std::this_thread::sleep_for(milliseconds(10));
    ASSERT_TRUE(waits_for_d1());
    ASSERT_TRUE(fake.AwaitWaiters(3));  // the scheduler, the poller and the worker
    api_.SetDeployment(Dep("d1", "DEPLOYING", t0));
    // A new instance wakes the scheduler (d2: checked at once, unchanged, then in 600 s ± 10 %,
    // so its check wakes nobody); 120 s pass as the scheduler reads the time.
    clock.MoveOnTheNextSteadyReadOf("rw-scheduler", seconds(120));
    Add(*monitor, "d2");
    ASSERT_TRUE(sink_.AwaitTransitions(2));  // d1's check, due 10–30 s before that read
    EXPECT_EQ(Get(id).state.deployment_status, "DEPLOYING");
    monitor->Stop();
}

// Job workers with their own threads: a job planned for later (a redeploy's backoff) runs at its
// time although the worker keeping that time was woken for another job and is still busy with it
// (it hands the role to an idle worker; the others sleep until a job wakes them).
TEST_F(MonitorTest, AJobPlannedForLaterRunsAtItsTimeWhileTheWorkerThatKeptItIsBusy) {
    FakeClock clock(FakeClock::DefaultStart(), FakeClock::WaitMode::kBlock);
    options_.poll_threads = 1;
    options_.workers = 2;
    options_.discovery_interval = core::Duration::zero();  // no environment reads: no other jobs
    // The redeploy comes 0 to 600 s after the verdict (full jitter): well past the round below
    // (< 1 s) but for one run in 600, and before the workers' idle wait (3,600 s) ends.
    options_.reactions.redeploy_backoff.base = seconds(600);
    options_.reactions.redeploy_backoff.cap = seconds(600);
    const auto t0 = clock.Now();
    api_.SetDeployment(Dep("d1", "FAILED", t0));  // NETWORK: redeployed after a backoff
    api_.AddLogs(core::LogKind::kBuild, "d1", {Line(t0, kNetworkFailure)});
    api_.SetDeployment(Dep("d1-redeploy-1", "QUEUED", t0));
    api_.SetDeployment(Dep("d5", "FAILED", t0));  // DEPENDENCY: no redeploy
    api_.AddLogs(core::LogKind::kBuild, "d5", {Line(t0, "Error: Cannot find module 'express'")});
    auto monitor = Make("w1", &clock);
    Add(*monitor, "d1");
    ASSERT_TRUE(monitor->Start());
    ASSERT_TRUE(sink_.AwaitTransitions(2));  // d1 FAILED, then its verdict (the redeploy planned)
    ASSERT_TRUE(clock.AwaitWaiters(4));      // the scheduler, the poller and both workers asleep
    ASSERT_EQ(api_.CallCount("Redeploy"), 0);

    // d5's classification holds its worker (in its first request) until released.
    std::mutex mutex;
    std::condition_variable changed;
    bool holding = false;
    bool released = false;
    bool armed = true;
    api_.SetCallHook([&](const std::string& call) {
        if (call == "PollStatuses" || call == "GetDeployments") return;
        std::unique_lock lock(mutex);
        if (!std::exchange(armed, false)) return;
        holding = true;
        changed.notify_all();
        changed.wait_for(lock, std::chrono::seconds(20), [&] { return released; });
    });
    struct Release {  // whatever happens below, the held worker goes on
        std::mutex& mutex;
        std::condition_variable& changed;
        bool& released;
        ~Release() {
            std::lock_guard lock(mutex);
            released = true;
            changed.notify_all();
        }
    } release{mutex, changed, released};
    Add(*monitor, "d5");
    ASSERT_TRUE(clock.AwaitWaiters(4));
    clock.Advance(seconds(1));  // the round the budget's pace allows: d5 FAILED, its classification queued
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return holding; }))
            << ::testing::PrintToString(api_.Calls());
    }
    ASSERT_TRUE(clock.AwaitWaiters(3));  // the scheduler, the poller and the other worker
    clock.Advance(seconds(600));         // past d1's backoff
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (api_.CallCount("Redeploy") == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(api_.CallCount("Redeploy"), 1) << "the redeploy did not run at its time while a worker was busy";
    {
        std::lock_guard lock(mutex);
        released = true;
        changed.notify_all();
    }
    monitor->Stop();
}

// Kept claims with the engine's own threads (scheduler, pollers, workers) and a real clock: every
// instance is checked, changes reach the timeline while kept, and Stop gives every lease back
// with a stored due time (run under ThreadSanitizer too).
TEST_F(MonitorTest, KeptClaimsWithTheEnginesThreadsFollowAFleetAndGiveItBackAtStop) {
    util::SystemClock clock;
    options_.keep_claims = true;
    options_.poll_threads = 2;
    options_.workers = 2;
    options_.batch_size = 5;
    auto monitor = Make("w1", &clock);
    ASSERT_TRUE(monitor->Start());
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        const std::string dep = "d" + std::to_string(i);
        api_.ScriptDeployment(dep, {Dep(dep, "BUILDING", clock.Now()), Dep(dep, "DEPLOYING", clock.Now())});
        ids.push_back(AddEvery(*monitor, dep, 1).id);
    }
    // Each: BUILDING at its first check, DEPLOYING at its second (about a second later). Status
    // rows only: an instance may also get an attention row (DEPLOYING does not move).
    const auto polled = [&](const std::string& id) {
        std::vector<std::string> out;
        if (const auto events = store_->ListEvents(id, 100)) {
            for (const auto& event : *events)
                if (event.source == "poll") out.push_back(event.to_status);
        }
        return out;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline &&
           !std::all_of(ids.begin(), ids.end(), [&](const std::string& id) { return polled(id).size() >= 2; }))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (const std::string& id : ids)
        EXPECT_EQ(Get(id).lease_owner, "w1") << id << " is kept between checks";
    monitor->Stop();
    for (const std::string& id : ids) {
        const auto stored = Get(id);
        EXPECT_FALSE(stored.lease_owner) << id << " still leased after Stop";
        EXPECT_TRUE(stored.state.next_check_at) << id;
        EXPECT_THAT(polled(id), ElementsAre("BUILDING", "DEPLOYING")) << id;
    }
}

}  // namespace
}  // namespace railwatch::monitor
