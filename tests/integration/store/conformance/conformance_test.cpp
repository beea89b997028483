// The store conformance suite: every test runs against every backend (see conformance.hpp).

#include "conformance/conformance.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace railwatch::store::test {
namespace {

using core::InstanceStatus;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using util::ErrorCode;

Timestamp T(long long seconds) {
    using namespace std::chrono;
    return Timestamp(sys_days{year{2026} / January / 1}) + core::Seconds(seconds);
}

User MakeUser(const std::string& id) {
    return User{id, id + "@example.com", "Name " + id, "hobby", T(0)};
}

Instance MakeInstance(const std::string& id, Timestamp created = T(0)) {
    Instance i;
    i.id = id;
    i.service_id = "svc-" + id;
    i.environment_id = "env-1";
    i.created_at = created;
    i.state.next_check_at = created;
    return i;
}

// An instance whose deployment `deployment` runs (what the prober probes).
Instance MakeRunning(const std::string& id, const std::string& deployment = "d-run") {
    Instance i = MakeInstance(id);
    i.state.status = InstanceStatus::kRunning;
    i.state.deployment_id = deployment;
    i.state.deployment_status = "SUCCESS";
    return i;
}

// A probe's outcome for RecordProbes: a verdict on deployment "d-run" while SUCCESS.
ProbeRecord Probe(HealthCheck check, std::string health, std::optional<Timestamp> keep_since = std::nullopt,
                  std::string deployment = "d-run") {
    return ProbeRecord{std::move(check), std::move(health), std::move(deployment), "SUCCESS", keep_since};
}

// One record stored alone: RecordProbes' result for it.
util::Result<std::int64_t> RecordProbe(Store& store, const ProbeRecord& record) {
    return std::move(store.RecordProbes(std::span(&record, 1)).front());
}

OutboxMessage MakeOutbox(const std::string& key, Timestamp at = T(0)) {
    return OutboxMessage{"out-" + key, "email", key, R"({"to":"a@example.com"})", at, std::nullopt};
}

Transition MakeTransition(const std::string& instance, const std::string& deployment, std::string to, Timestamp at,
                          const std::vector<std::string>& outbox_keys = {}) {
    Transition t;
    t.instance_id = instance;
    t.deployment_id = deployment;
    t.to_status = std::move(to);
    t.at = at;
    t.source = "poll";
    t.state.status = InstanceStatus::kDeploying;
    t.state.deployment_status = t.to_status;
    t.state.deployment_updated_at = at;
    for (const auto& key : outbox_keys)
        t.outbox.push_back(MakeOutbox(key, at));
    return t;
}

LogLine MakeLog(const std::string& instance, int n, LogKind kind = LogKind::kDeploy, std::string deployment = "dep-1") {
    return LogLine{instance, std::move(deployment), kind, T(n), "info", "line " + std::to_string(n)};
}

// The largest limit a read accepts.
constexpr int kMaxRecent = 10000;

template <typename T>
T Must(util::Result<T> r) {
    if (!r) ADD_FAILURE() << "unexpected error: " << r.error().ToString();
    if constexpr (std::is_void_v<T>) {
        return;
    } else {
        return r ? std::move(*r) : T{};
    }
}

void ExpectCode(const util::Error& e, ErrorCode code) {
    EXPECT_EQ(e.code, code) << e.ToString();
}

// --- schema -----------------------------------------------------------------------------

TEST_P(StoreConformance, FreshDatabaseIsMigratedToTheLatestVersion) {
    EXPECT_EQ(Must(store_->SchemaVersion()), 16);
    EXPECT_TRUE(Must(store_->Migrate()).empty());
}

TEST_P(StoreConformance, MigrateReportsWhatItAppliedOnAnEmptyDatabase) {
    const std::string url = GetParam().fresh_url("empty");
    StoreOptions options;
    options.migrate = false;
    auto store = Must(OpenStore(url, options));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(Must(store->SchemaVersion()), 0);
    const auto applied = Must(store->Migrate());
    ASSERT_EQ(applied.size(), 16u);
    EXPECT_EQ(applied[0].version, 1);
    EXPECT_EQ(applied[0].name, "initial schema");
    EXPECT_EQ(applied[1].version, 2);
    EXPECT_EQ(applied[1].name, "lease table, log_lines without foreign key");
    EXPECT_EQ(applied[2].version, 3);
    EXPECT_EQ(applied[2].name, "log rotation lower bound");
    EXPECT_EQ(applied[3].version, 4);
    EXPECT_EQ(applied[3].name, "open outbox index, disabled endpoints");
    EXPECT_EQ(applied[4].version, 5);
    EXPECT_EQ(applied[4].name, "narrow log dedup index (PostgreSQL)");
    EXPECT_EQ(applied[5].version, 6);
    EXPECT_EQ(applied[5].name, "stats history: event error class, engine minutes");
    EXPECT_EQ(applied[6].version, 7);
    EXPECT_EQ(applied[6].name, "covering index for recent health checks");
    EXPECT_EQ(applied[7].version, 8);
    EXPECT_EQ(applied[7].name, "schedule workers");
    EXPECT_EQ(applied[8].version, 9);
    EXPECT_EQ(applied[8].name, "change feed of instance rows");
    EXPECT_EQ(applied[9].version, 10);
    EXPECT_EQ(applied[9].name, "kept leases held while their owner lives");
    EXPECT_EQ(applied[10].version, 11);
    EXPECT_EQ(applied[10].name, "change feed as a log (SQLite)");
    EXPECT_EQ(applied[11].version, 12);
    EXPECT_EQ(applied[11].name, "no index on instance status");
    EXPECT_EQ(applied[12].version, 13);
    EXPECT_EQ(applied[12].name, "deployments found through their followers (SQLite)");
    EXPECT_EQ(applied[13].version, 14);
    EXPECT_EQ(applied[13].name, "partial index for the count of monitored instances");
    EXPECT_EQ(applied[14].version, 15);
    EXPECT_EQ(applied[14].name, "no interval of its own stored as 0");
    EXPECT_EQ(applied[15].version, 16);
    EXPECT_EQ(applied[15].name, "Railway's steps of recent deployments");
    EXPECT_EQ(Must(store->SchemaVersion()), 16);
    EXPECT_TRUE(Must(store->Migrate()).empty());
}

TEST_P(StoreConformance, ConcurrentMigrationsApplyEachVersionOnce) {
    const std::string url = GetParam().fresh_url("race");
    StoreOptions options;
    options.migrate = false;
    auto a = Must(OpenStore(url, options));
    auto b = Must(OpenStore(url, options));
    ASSERT_TRUE(a && b);
    util::Result<std::vector<AppliedMigration>> ra, rb;
    std::thread ta([&] { ra = a->Migrate(); });
    std::thread tb([&] { rb = b->Migrate(); });
    ta.join();
    tb.join();
    ASSERT_TRUE(ra) << ra.error().ToString();
    ASSERT_TRUE(rb) << rb.error().ToString();
    EXPECT_EQ(ra->size() + rb->size(), 16u);  // one of them applied every version
    EXPECT_EQ(Must(a->SchemaVersion()), 16);
}

TEST_P(StoreConformance, BackendAndDescriptionMatchTheUrl) {
    const auto d = store_->Describe();
    if (store_->backend() == Backend::kSqlite) {
        EXPECT_TRUE(d.starts_with("sqlite:")) << d;
    } else {
        EXPECT_TRUE(d.starts_with("postgres")) << d;
    }
}

// --- users ------------------------------------------------------------------------------

TEST_P(StoreConformance, CreatedUserReadsBackEqual) {
    const User u = MakeUser("u1");
    Must(store_->CreateUser(u));
    EXPECT_EQ(Must(store_->GetUser("u1")), u);
}

TEST_P(StoreConformance, DuplicateUserIdIsAConflict) {
    Must(store_->CreateUser(MakeUser("u1")));
    User again = MakeUser("u1");
    again.email = "other@example.com";
    const auto r = store_->CreateUser(again);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kConflict);
    EXPECT_THAT(r.error().message, HasSubstr("u1"));
}

TEST_P(StoreConformance, DuplicateUserEmailIsAConflict) {
    Must(store_->CreateUser(MakeUser("u1")));
    User other = MakeUser("u2");
    other.email = "u1@example.com";
    const auto r = store_->CreateUser(other);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kConflict);
}

TEST_P(StoreConformance, MissingUserIsNotFound) {
    const auto r = store_->GetUser("nobody");
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
    EXPECT_THAT(r.error().message, HasSubstr("nobody"));
}

TEST_P(StoreConformance, ListUsersReturnsEveryUserInCreationOrder) {
    User b = MakeUser("b");
    b.created_at = T(2);
    User a = MakeUser("a");
    a.created_at = T(1);
    Must(store_->CreateUser(b));
    Must(store_->CreateUser(a));
    const auto users = Must(store_->ListUsers());
    ASSERT_EQ(users.size(), 2u);
    EXPECT_EQ(users[0].id, "a");
    EXPECT_EQ(users[1].id, "b");
}

TEST_P(StoreConformance, UserWithEmptyEmailIsRejected) {
    User u = MakeUser("u1");
    u.email.clear();
    const auto r = store_->CreateUser(u);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("email"));
}

// --- instances --------------------------------------------------------------------------

TEST_P(StoreConformance, InstanceRoundTripsEveryField) {
    Must(store_->CreateUser(MakeUser("u1")));
    Instance i = MakeInstance("i1", T(10));
    i.user_id = "u1";
    i.project_name = "shop";
    i.project_id = "proj-1";
    i.monitoring = true;
    i.check_interval_s = 15;
    auto& s = i.state;
    s.status = InstanceStatus::kFailed;
    s.deployment_id = "dep-9";
    s.deployment_status = "CRASHED";
    s.progress = 100;
    s.health = "UNHEALTHY";
    s.error_type = core::ErrorClass::kResource;
    s.error_message = "out of memory";
    s.error_stack = "at main()\nat start()";
    s.retry_count = 2;
    s.needs_attention = true;
    s.attention_reason = "crash loop";
    s.deployment_started_at = T(11);
    s.deployment_updated_at = T(12) + std::chrono::nanoseconds(123456789);
    s.deployment_completed_at = T(13);
    s.next_check_at = T(14);
    Must(store_->CreateInstance(i));
    EXPECT_EQ(Must(store_->GetInstance("i1")), i);
}

TEST_P(StoreConformance, InstanceWithoutOptionalFieldsReadsBackNulls) {
    Instance i = MakeInstance("i1");
    i.state.next_check_at.reset();
    Must(store_->CreateInstance(i));
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_EQ(got, i);
    EXPECT_FALSE(got.user_id);
    EXPECT_FALSE(got.state.deployment_status);
    EXPECT_FALSE(got.state.error_type);
    EXPECT_FALSE(got.lease_owner);
}

TEST_P(StoreConformance, DuplicateInstanceIdIsAConflict) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    const auto r = store_->CreateInstance(MakeInstance("i1"));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kConflict);
}

TEST_P(StoreConformance, InstanceOfUnknownUserIsNotFoundAndNotStored) {
    Instance i = MakeInstance("i1");
    i.user_id = "ghost";
    const auto r = store_->CreateInstance(i);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
    EXPECT_THAT(r.error().message, HasSubstr("ghost"));
    EXPECT_FALSE(store_->GetInstance("i1"));
}

TEST_P(StoreConformance, MissingInstanceIsNotFound) {
    const auto r = store_->GetInstance("nope");
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ListInstancesIsNewestFirst) {
    Must(store_->CreateInstance(MakeInstance("a", T(1))));
    Must(store_->CreateInstance(MakeInstance("b", T(3))));
    Must(store_->CreateInstance(MakeInstance("c", T(2))));
    const auto page = Must(store_->ListInstances({}));
    std::vector<std::string> ids;
    for (const auto& i : page.items)
        ids.push_back(i.id);
    EXPECT_THAT(ids, ElementsAre("b", "c", "a"));
    EXPECT_TRUE(page.next_cursor.empty());
}

TEST_P(StoreConformance, ListInstancesFiltersByStatus) {
    Instance running = MakeInstance("run");
    running.state.status = InstanceStatus::kRunning;
    Instance failed = MakeInstance("fail");
    failed.state.status = InstanceStatus::kFailed;
    Must(store_->CreateInstance(running));
    Must(store_->CreateInstance(failed));
    InstanceQuery q;
    q.statuses = {InstanceStatus::kFailed};
    const auto page = Must(store_->ListInstances(q));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].id, "fail");
}

TEST_P(StoreConformance, ListInstancesFiltersByListsAndTextAndCountsTheTotalWhenAsked) {
    Instance a = MakeInstance("a", T(1));
    a.project_name = "Checkout-API";
    a.state.status = InstanceStatus::kFailed;
    a.state.health = "UNHEALTHY";
    a.state.error_type = core::ErrorClass::kNetwork;
    Instance b = MakeInstance("b", T(2));
    b.project_name = "billing";
    b.state.status = InstanceStatus::kRunning;
    b.state.health = "HEALTHY";
    Instance c = MakeInstance("c", T(3));
    c.state.status = InstanceStatus::kDeploying;
    c.state.deployment_id = "dep-50%_off";
    for (const Instance& i : {a, b, c})
        Must(store_->CreateInstance(i));
    Must(store_->DeleteInstance("c", T(4)));
    const auto ids = [&](const InstanceQuery& q) {
        std::vector<std::string> out;
        for (const auto& i : Must(store_->ListInstances(q)).items)
            out.push_back(i.id);
        return out;
    };
    using V = std::vector<std::string>;
    InstanceQuery q;
    q.statuses = {InstanceStatus::kFailed, InstanceStatus::kRunning, InstanceStatus::kDeleted};
    EXPECT_EQ(ids(q), (V{"c", "b", "a"}));
    q = {};
    q.health = {"HEALTHY", "UNKNOWN"};
    EXPECT_EQ(ids(q), (V{"b"})) << "c is deleted; UNKNOWN matches a null health";
    q.statuses = {InstanceStatus::kDeleted};
    EXPECT_EQ(ids(q), (V{"c"}));
    q = {};
    q.error_types = {core::ErrorClass::kNetwork, core::ErrorClass::kTimeout};
    EXPECT_EQ(ids(q), (V{"a"}));
    q = {};
    q.text = "CHECKOUT";
    EXPECT_EQ(ids(q), (V{"a"})) << "project name, ignoring case";
    q.text = "svc-b";
    EXPECT_EQ(ids(q), (V{"b"})) << "service id";
    q.statuses = {InstanceStatus::kDeleted};
    q.text = "50%_o";
    EXPECT_EQ(ids(q), (V{"c"})) << "deployment id, % and _ as plain characters";
    q.text = "5%_o";
    EXPECT_EQ(ids(q), V{}) << "% is no wildcard";
    q = {};
    q.text = "zzz";
    q.with_total = true;
    EXPECT_EQ(Must(store_->ListInstances(q)).total_count, 0);
    q = {};
    q.limit = 1;
    EXPECT_FALSE(Must(store_->ListInstances(q)).total_count.has_value()) << "counted only when asked";
    q.with_total = true;
    const auto page = Must(store_->ListInstances(q));
    EXPECT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.total_count, 2) << "every match, not only this page; deleted left out";
}

TEST_P(StoreConformance, ListInstancesFiltersByNeedsAttention) {
    Instance flagged = MakeInstance("flagged");
    flagged.state.needs_attention = true;
    Must(store_->CreateInstance(flagged));
    Must(store_->CreateInstance(MakeInstance("calm")));
    InstanceQuery q;
    q.needs_attention = true;
    auto page = Must(store_->ListInstances(q));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].id, "flagged");
    q.needs_attention = false;
    page = Must(store_->ListInstances(q));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].id, "calm");
}

TEST_P(StoreConformance, ListInstancesLeavesOutDeletedUnlessAskedFor) {
    Must(store_->CreateInstance(MakeInstance("keep")));
    Must(store_->CreateInstance(MakeInstance("gone")));
    Must(store_->DeleteInstance("gone", T(5)));
    auto page = Must(store_->ListInstances({}));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].id, "keep");
    InstanceQuery q;
    q.statuses = {InstanceStatus::kDeleted};
    page = Must(store_->ListInstances(q));
    ASSERT_EQ(page.items.size(), 1u);
    EXPECT_EQ(page.items[0].id, "gone");
}

TEST_P(StoreConformance, CursorPagesVisitEveryInstanceExactlyOnce) {
    std::set<std::string> created;
    for (int n = 0; n < 25; ++n) {
        // Several instances share a created_at so that the id breaks ties.
        const std::string id = "inst-" + std::to_string(n);
        Must(store_->CreateInstance(MakeInstance(id, T(n / 3))));
        created.insert(id);
    }
    std::vector<std::string> seen;
    InstanceQuery q;
    q.limit = 7;
    int pages = 0;
    do {
        const auto page = Must(store_->ListInstances(q));
        for (const auto& i : page.items)
            seen.push_back(i.id);
        q.cursor = page.next_cursor;
        ASSERT_LT(++pages, 10);
    } while (!q.cursor.empty());
    EXPECT_EQ(pages, 4);
    EXPECT_EQ(seen.size(), 25u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), created);
}

TEST_P(StoreConformance, ForeignCursorIsRejectedWithAdvice) {
    InstanceQuery q;
    q.cursor = "not-a-cursor";
    const auto r = store_->ListInstances(q);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("without a cursor"));
}

TEST_P(StoreConformance, OutOfRangeLimitIsRejected) {
    InstanceQuery q;
    q.limit = 0;
    auto r = store_->ListInstances(q);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    q.limit = 1'000'000;
    r = store_->ListInstances(q);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, SaveStateChangesOnlyTheStateColumns) {
    Instance i = MakeInstance("i1");
    i.check_interval_s = 42;
    Must(store_->CreateInstance(i));
    InstanceState s;
    s.status = InstanceStatus::kRunning;
    s.deployment_id = "dep-2";
    s.deployment_status = "SUCCESS";
    s.progress = 100;
    s.next_check_at = T(60);
    Must(store_->SaveState("i1", s));
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_EQ(got.state, s);
    EXPECT_EQ(got.check_interval_s, 42);
    EXPECT_EQ(got.service_id, i.service_id);
}

TEST_P(StoreConformance, SaveStateOfMissingInstanceIsNotFound) {
    const auto r = store_->SaveState("nope", InstanceState{});
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, TurningMonitoringOffClearsScheduleAndLease) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(30), 10)).size(), 1u);
    Must(store_->SetMonitoring("i1", false, std::nullopt, T(1)));
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_FALSE(got.monitoring);
    EXPECT_FALSE(got.state.next_check_at);
    EXPECT_FALSE(got.lease_owner);
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w2", T(100), core::Seconds(30), 10)).empty());
}

TEST_P(StoreConformance, DroppingAnOwnersLeasesMakesItsClaimsDueAgainAndSparesOthers) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->CreateInstance(MakeInstance("i2")));
    ASSERT_EQ(Must(store_->ClaimDueInstances("dead", T(1), core::Seconds(120), 1)).size(), 1u);
    ASSERT_EQ(Must(store_->ClaimDueInstances("alive", T(1), core::Seconds(120), 1)).size(), 1u);
    EXPECT_TRUE(Must(store_->ClaimDueInstances("dead", T(2), core::Seconds(120), 10)).empty());
    EXPECT_EQ(Must(store_->DropLeases("dead", T(2))), 1);
    // Due at once again (its next check time was never moved), long before the lease would end;
    // the other owner's claim stands.
    const auto again = Must(store_->ClaimDueInstances("dead", T(2), core::Seconds(120), 10));
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(Must(store_->DropLeases("nobody", T(2))), 0);
    EXPECT_FALSE(store_->DropLeases("", T(2)));
}

TEST_P(StoreConformance, TurningMonitoringOnSchedulesTheNextCheck) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->SetMonitoring("i1", false, std::nullopt, T(0)));
    Must(store_->SetMonitoring("i1", true, 20, T(50)));
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_TRUE(got.monitoring);
    EXPECT_EQ(got.check_interval_s, 20);
    EXPECT_EQ(got.state.next_check_at, T(50));
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w", T(49), core::Seconds(5), 10)).empty());
    EXPECT_EQ(Must(store_->ClaimDueInstances("w", T(50), core::Seconds(5), 10)).size(), 1u);
}

TEST_P(StoreConformance, MonitoringADeletedInstanceIsAConflict) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->DeleteInstance("i1", T(1)));
    const auto r = store_->SetMonitoring("i1", true, std::nullopt, T(2));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kConflict);
    const auto missing = store_->SetMonitoring("nope", true, std::nullopt, T(2));
    ASSERT_FALSE(missing);
    ExpectCode(missing.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, DeletedInstanceKeepsItsHistory) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "BUILDING", T(1))));
    Must(store_->DeleteInstance("i1", T(7)));
    Must(store_->DeleteInstance("i1", T(9)));  // a second delete keeps the first time
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_EQ(got.state.status, InstanceStatus::kDeleted);
    EXPECT_FALSE(got.monitoring);
    EXPECT_EQ(got.deleted_at, T(7));
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 1u);
    const auto missing = store_->DeleteInstance("nope", T(1));
    ASSERT_FALSE(missing);
    ExpectCode(missing.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, InstancesAreFoundByTheirDeployment) {
    Instance a = MakeInstance("a");
    a.state.deployment_id = "dep-x";
    Instance b = MakeInstance("b");
    b.state.deployment_id = "dep-y";
    Must(store_->CreateInstance(a));
    Must(store_->CreateInstance(b));
    const auto found = Must(store_->FindInstancesByDeployment("dep-x"));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].id, "a");
    EXPECT_TRUE(Must(store_->FindInstancesByDeployment("dep-z")).empty());
}

// --- transitions ------------------------------------------------------------------------

TEST_P(StoreConformance, TransitionWritesEventStateAndOutboxTogether) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Transition t = MakeTransition("i1", "dep-1", "FAILED", T(5), {"k1", "k2"});
    t.from_status = "DEPLOYING";
    t.state.status = InstanceStatus::kFailed;
    t.state.error_type = core::ErrorClass::kConfiguration;
    t.state.error_message = "missing env";
    const auto r = Must(store_->ApplyTransition(t));
    EXPECT_TRUE(r.applied);
    EXPECT_GT(r.event_id, 0);
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_EQ(got.state.status, InstanceStatus::kFailed);
    EXPECT_EQ(got.state.deployment_id, "dep-1");
    EXPECT_EQ(got.state.deployment_status, "FAILED");
    EXPECT_EQ(got.state.error_message, "missing env");
    const auto events = Must(store_->ListEvents("i1", 10));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].id, r.event_id);
    EXPECT_EQ(events[0].from_status, "DEPLOYING");
    EXPECT_EQ(events[0].to_status, "FAILED");
    EXPECT_EQ(events[0].at, T(5));
    EXPECT_EQ(events[0].source, "poll");
    EXPECT_EQ(Must(store_->ListDeliveries(OutboxStatus::kPending, 10)).size(), 2u);
}

TEST_P(StoreConformance, ATransitionThatKeepsTheScheduleLeavesTheStoredNextCheckAsItIs) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    // The checker set the next check at T(40) after the reaction had read the instance with its
    // earlier due time T(10): the reaction's write must not put T(10) back.
    Instance read_earlier = Must(store_->GetInstance("i1"));
    read_earlier.state.next_check_at = T(10);
    Must(store_->SaveState("i1", read_earlier.state));
    InstanceState checked = read_earlier.state;
    checked.next_check_at = T(40);
    Must(store_->SaveState("i1", checked));
    Transition t = MakeTransition("i1", "dep-1", "FAILED", T(5), {"k1"});
    t.state = read_earlier.state;
    t.state.status = InstanceStatus::kFailed;
    t.state.error_message = "classified";
    t.keep_schedule = true;
    ASSERT_TRUE(Must(store_->ApplyTransition(t)).applied);
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_EQ(got.state.next_check_at, T(40));
    EXPECT_EQ(got.state.error_message, "classified");
    EXPECT_EQ(got.state.status, InstanceStatus::kFailed);
    // Without the flag the transition's own due time is written (the checker's case).
    Transition own = MakeTransition("i1", "dep-1", "SUCCESS", T(6), {"k2"});
    own.state = got.state;
    own.state.next_check_at = T(70);
    ASSERT_TRUE(Must(store_->ApplyTransition(own)).applied);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.next_check_at, T(70));
}

// The store sets only the indexed columns (status, deployment, schedule) whose value changes
// (SQLite rewrites an index entry for every column set): each mix of changed and unchanged
// ones must read back, and be found through its index, as written.
TEST_P(StoreConformance, EveryMixOfChangedIndexedColumnsIsWrittenAndFoundByThem) {
    for (int changed = 0; changed < 8; ++changed) {
        SCOPED_TRACE("changed indexed columns " + std::to_string(changed));
        for (const bool keep_schedule : {false, true}) {
            const std::string id = "m" + std::to_string(changed) + (keep_schedule ? "k" : "");
            Instance i = MakeInstance(id);
            i.state.deployment_id = "dep-a-" + id;
            i.state.next_check_at = T(100);
            Must(store_->CreateInstance(i));
            Transition t = MakeTransition(id, (changed & 2) != 0 ? "dep-b-" + id : "dep-a-" + id, "BUILDING", T(1));
            t.state.status = (changed & 1) != 0 ? InstanceStatus::kDeploying : InstanceStatus::kInitializing;
            t.state.next_check_at = (changed & 4) != 0 ? T(200) : T(100);
            t.state.progress = 10 + changed;  // a column without an index: changed every time
            t.keep_schedule = keep_schedule;
            ASSERT_TRUE(Must(store_->ApplyTransition(t)).applied);
            const Instance got = Must(store_->GetInstance(id));
            EXPECT_EQ(got.state.status, t.state.status);
            EXPECT_EQ(got.state.deployment_id, t.deployment_id);
            EXPECT_EQ(got.state.next_check_at, keep_schedule ? T(100) : *t.state.next_check_at);
            EXPECT_EQ(got.state.progress, 10 + changed);
            const auto by_deployment = Must(store_->FindInstancesByDeployment(t.deployment_id));
            ASSERT_EQ(by_deployment.size(), 1u);
            EXPECT_EQ(by_deployment[0].id, id);
            if ((changed & 2) != 0) {
                EXPECT_TRUE(Must(store_->FindInstancesByDeployment("dep-a-" + id)).empty());
            }
            InstanceQuery q;
            q.statuses = {t.state.status};
            q.text = id;
            const auto page = Must(store_->ListInstances(q));
            EXPECT_TRUE(
                std::any_of(page.items.begin(), page.items.end(), [&](const Instance& row) { return row.id == id; }));
            // SaveState takes the same path: back to the instance's first state.
            Must(store_->SaveState(id, i.state));
            const Instance saved = Must(store_->GetInstance(id));
            EXPECT_EQ(saved.state.status, i.state.status);
            EXPECT_EQ(saved.state.deployment_id, i.state.deployment_id);
            EXPECT_EQ(saved.state.next_check_at, T(100));
            ASSERT_EQ(Must(store_->FindInstancesByDeployment("dep-a-" + id)).size(), 1u);
        }
    }
}

TEST_P(StoreConformance, SameTransitionTwiceIsRecordedOnce) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Transition t = MakeTransition("i1", "dep-1", "SUCCESS", T(5), {"k1"});
    t.state.retry_count = 1;
    const auto first = Must(store_->ApplyTransition(t));
    // A replay (e.g. after a crash between commit and acknowledgement) with other state must
    // not change anything.
    t.state.retry_count = 7;
    t.outbox = {MakeOutbox("k-other")};
    const auto second = Must(store_->ApplyTransition(t));
    EXPECT_TRUE(first.applied);
    EXPECT_FALSE(second.applied);
    EXPECT_EQ(second.event_id, first.event_id);
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 1u);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.retry_count, 1);
    EXPECT_EQ(Must(store_->ListDeliveries(std::nullopt, 10)).size(), 1u);
}

TEST_P(StoreConformance, TransitionOfUnknownInstanceWritesNothing) {
    const auto r = store_->ApplyTransition(MakeTransition("ghost", "dep-1", "SUCCESS", T(1), {"k1"}));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
    EXPECT_TRUE(Must(store_->ListDeliveries(std::nullopt, 10)).empty());
}

TEST_P(StoreConformance, TransitionWithABadOutboxRowWritesNothing) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Transition t = MakeTransition("i1", "dep-1", "SUCCESS", T(1), {"k1"});
    t.outbox.push_back(MakeOutbox("k2"));
    t.outbox.back().payload = std::string("bad \xff payload");
    const auto r = store_->ApplyTransition(t);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("payload"));
    EXPECT_TRUE(Must(store_->ListEvents("i1", 10)).empty());
    EXPECT_TRUE(Must(store_->ListDeliveries(std::nullopt, 10)).empty());
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.status, InstanceStatus::kInitializing);
}

TEST_P(StoreConformance, TransitionsGivenTogetherAreEachAppliedOrRefusedOnTheirOwn) {
    for (const char* id : {"i1", "i2", "i3"})
        Must(store_->CreateInstance(MakeInstance(id)));
    std::vector<Transition> batch;
    batch.push_back(MakeTransition("i1", "dep-1", "BUILDING", T(1), {"k1"}));
    batch.push_back(MakeTransition("ghost", "dep-9", "SUCCESS", T(1), {"k-ghost"}));  // no such instance
    batch.push_back(MakeTransition("i2", "dep-2", "SUCCESS", T(1), {"k2"}));
    batch.back().outbox.back().payload = std::string("bad \xff payload");  // refused before any write
    batch.push_back(MakeTransition("i3", "dep-3", "FAILED", T(2), {"k3"}));
    batch.back().state.status = InstanceStatus::kFailed;
    batch.push_back(MakeTransition("i1", "dep-1", "BUILDING", T(1), {"k1-again"}));  // the first one again
    const auto results = store_->ApplyTransitions(batch);
    ASSERT_EQ(results.size(), batch.size());
    ASSERT_TRUE(results[0]) << results[0].error().message;
    EXPECT_TRUE(results[0]->applied);
    ASSERT_FALSE(results[1]);
    ExpectCode(results[1].error(), ErrorCode::kNotFound);
    ASSERT_FALSE(results[2]);
    ExpectCode(results[2].error(), ErrorCode::kInvalidArgument);
    ASSERT_TRUE(results[3]) << results[3].error().message;
    EXPECT_TRUE(results[3]->applied);
    ASSERT_TRUE(results[4]) << results[4].error().message;
    EXPECT_FALSE(results[4]->applied);
    EXPECT_EQ(results[4]->event_id, results[0]->event_id);
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 1u);
    EXPECT_TRUE(Must(store_->ListEvents("i2", 10)).empty());
    EXPECT_EQ(Must(store_->ListEvents("i3", 10)).size(), 1u);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "BUILDING");
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.status, InstanceStatus::kInitializing);
    EXPECT_EQ(Must(store_->GetInstance("i3")).state.status, InstanceStatus::kFailed);
    std::vector<std::string> keys;
    for (const auto& row : Must(store_->ListDeliveries(std::nullopt, 10)))
        keys.push_back(row.message.dedup_key);
    EXPECT_THAT(keys, UnorderedElementsAre("k1", "k3"));
    EXPECT_TRUE(store_->ApplyTransitions({}).empty());
}

// A check's answer about a deployment the instance has left (a job wrote a newer one meanwhile)
// must not put the older one back: written only while the instance still follows it.
// A check's transition (only_if_following) writes the due time it carries whether or not the
// stored one is the same, is recorded once, and once the instance follows another deployment,
// changes nothing even when it was recorded before.
TEST_P(StoreConformance, ACheckTransitionWritesItsDueTimeOnceAndNotAfterTheInstanceMovedOn) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Transition first = MakeTransition("i1", "d1", "BUILDING", T(1));
    first.state.next_check_at = T(100);
    Must(store_->ApplyTransition(first));
    Transition same_due = MakeTransition("i1", "d1", "DEPLOYING", T(2));
    same_due.state.next_check_at = T(100);
    same_due.state.progress = 60;
    same_due.only_if_following = true;
    const TransitionResult a = Must(store_->ApplyTransition(same_due));
    EXPECT_TRUE(a.applied);
    Instance now = Must(store_->GetInstance("i1"));
    EXPECT_EQ(now.state.deployment_status, "DEPLOYING");
    EXPECT_EQ(now.state.progress, 60);
    EXPECT_EQ(now.state.next_check_at, T(100));
    Transition new_due = MakeTransition("i1", "d1", "SUCCESS", T(3));
    new_due.state.status = InstanceStatus::kRunning;
    new_due.state.next_check_at = T(200);
    new_due.only_if_following = true;
    const TransitionResult b = Must(store_->ApplyTransition(new_due));
    EXPECT_TRUE(b.applied);
    now = Must(store_->GetInstance("i1"));
    EXPECT_EQ(now.state.status, InstanceStatus::kRunning);
    EXPECT_EQ(now.state.deployment_status, "SUCCESS");
    EXPECT_EQ(now.state.next_check_at, T(200));
    // Due instances are found by the due time written.
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w", T(150), core::Seconds(60), 10)).empty());
    EXPECT_EQ(Must(store_->ClaimDueInstances("w", T(200), core::Seconds(60), 10)).size(), 1u);
    // Again: recorded before, nothing changes.
    const TransitionResult again = Must(store_->ApplyTransition(new_due));
    EXPECT_FALSE(again.applied);
    EXPECT_FALSE(again.superseded);
    EXPECT_EQ(again.event_id, b.event_id);
    // Moved on to d2: the same answer about d1 again is superseded, recorded before or not.
    Must(store_->ApplyTransition(MakeTransition("i1", "d2", "QUEUED", T(4))));
    const TransitionResult late = Must(store_->ApplyTransition(new_due));
    EXPECT_TRUE(late.superseded);
    EXPECT_FALSE(late.applied);
    Transition unseen = MakeTransition("i1", "d1", "CRASHED", T(5), {"k-unseen"});
    unseen.only_if_following = true;
    EXPECT_TRUE(Must(store_->ApplyTransition(unseen)).superseded);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_id, "d2");
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 4u);
    EXPECT_TRUE(Must(store_->ListDeliveries(std::nullopt, 10)).empty());
}

TEST_P(StoreConformance, AnAnswerAboutADeploymentTheInstanceLeftIsNotWrittenWhenItMustFollowIt) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ApplyTransition(MakeTransition("i1", "dep-1", "FAILED", T(1))));
    Must(store_->ApplyTransition(MakeTransition("i1", "dep-2", "QUEUED", T(2))));  // a redeploy moved it on
    Transition stale = MakeTransition("i1", "dep-1", "REMOVED", T(3), {"k-stale"});
    stale.only_if_following = true;
    const TransitionResult refused = Must(store_->ApplyTransition(stale));
    EXPECT_TRUE(refused.superseded);
    EXPECT_FALSE(refused.applied);
    EXPECT_EQ(refused.event_id, 0);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_id, "dep-2");
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "QUEUED");
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 2u);
    EXPECT_TRUE(Must(store_->ListDeliveries(std::nullopt, 10)).empty());
    // Without the condition (a job's own write) it is written as before.
    stale.only_if_following = false;
    stale.outbox.clear();
    const TransitionResult forced = Must(store_->ApplyTransition(stale));
    EXPECT_TRUE(forced.applied);
    EXPECT_FALSE(forced.superseded);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_id, "dep-1");
    // About the deployment it follows: written as any other, in a batch beside a superseded one.
    std::vector<Transition> batch;
    batch.push_back(MakeTransition("i1", "dep-1", "SUCCESS", T(4), {"k-current"}));
    batch.push_back(MakeTransition("i1", "dep-2", "BUILDING", T(5), {"k-old"}));
    batch.push_back(MakeTransition("ghost", "dep-1", "SUCCESS", T(4)));
    for (Transition& t : batch)
        t.only_if_following = true;
    const auto results = store_->ApplyTransitions(batch);
    ASSERT_EQ(results.size(), 3u);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    EXPECT_TRUE(results[0]->applied);
    EXPECT_FALSE(results[0]->superseded);
    ASSERT_TRUE(results[1]) << results[1].error().message;
    EXPECT_TRUE(results[1]->superseded);
    ASSERT_FALSE(results[2]);
    ExpectCode(results[2].error(), ErrorCode::kNotFound);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "SUCCESS");
    std::vector<std::string> keys;
    for (const auto& row : Must(store_->ListDeliveries(std::nullopt, 10)))
        keys.push_back(row.message.dedup_key);
    EXPECT_THAT(keys, UnorderedElementsAre("k-current"));
}

// A check's answer recorded before, replayed after a write from an older copy of the row put an
// older status back (a job's write without only_if_unchanged): the answer is newer than the row
// (Railway's updatedAt), so its state is written again; alone and in a poll's batch. An answer
// older than the row (a late one) and a job's replay mend nothing.
TEST_P(StoreConformance, ACheckAnswerRecordedBeforeMendsARowAnOlderCopyOverwrote) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "SUCCESS", T(1))));
    Transition crashed = MakeTransition("i1", "d1", "CRASHED", T(3));
    crashed.state.status = InstanceStatus::kFailed;
    crashed.only_if_following = true;
    const TransitionResult first = Must(store_->ApplyTransition(crashed));
    ASSERT_TRUE(first.applied);
    const auto overwrite = [&](Timestamp at) {
        Transition old_copy = MakeTransition("i1", "d1", "SUCCESS", at);
        old_copy.from_status = "SUCCESS";
        old_copy.source = "reaction";
        old_copy.keep_schedule = true;
        old_copy.state.status = InstanceStatus::kRunning;
        old_copy.state.deployment_updated_at = T(1);  // the copy read before the crash was recorded
        ASSERT_TRUE(Must(store_->ApplyTransition(old_copy)).applied);
        ASSERT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "SUCCESS");
    };
    overwrite(T(4));
    const TransitionResult again = Must(store_->ApplyTransition(crashed));
    EXPECT_FALSE(again.applied);
    EXPECT_FALSE(again.superseded);
    EXPECT_EQ(again.event_id, first.event_id);
    Instance now = Must(store_->GetInstance("i1"));
    EXPECT_EQ(now.state.deployment_status, "CRASHED");
    EXPECT_EQ(now.state.status, InstanceStatus::kFailed);
    EXPECT_EQ(now.state.deployment_updated_at, T(3));
    // In a batch beside another instance's check (SQLite writes those together).
    overwrite(T(5));
    Must(store_->CreateInstance(MakeInstance("i2")));
    Must(store_->ApplyTransition(MakeTransition("i2", "d2", "BUILDING", T(1))));
    std::vector<Transition> batch{crashed, MakeTransition("i2", "d2", "DEPLOYING", T(5))};
    batch.back().only_if_following = true;
    const auto results = store_->ApplyTransitions(batch);
    ASSERT_EQ(results.size(), 2u);
    ASSERT_TRUE(results[0] && results[1]);
    EXPECT_FALSE(results[0]->applied);
    EXPECT_TRUE(results[1]->applied);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "CRASHED");
    // A job's replay (not a check's) mends nothing.
    overwrite(T(6));
    Transition replayed_by_a_job = crashed;
    replayed_by_a_job.only_if_following = false;
    EXPECT_FALSE(Must(store_->ApplyTransition(replayed_by_a_job)).applied);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "SUCCESS");
    // A newer answer recorded since: the late one (older than the row) changes nothing.
    Transition restarted = MakeTransition("i1", "d1", "SUCCESS", T(7));
    restarted.state.status = InstanceStatus::kRunning;
    restarted.only_if_following = true;
    ASSERT_TRUE(Must(store_->ApplyTransition(restarted)).applied);
    EXPECT_FALSE(Must(store_->ApplyTransition(crashed)).applied);
    now = Must(store_->GetInstance("i1"));
    EXPECT_EQ(now.state.deployment_status, "SUCCESS");
    EXPECT_EQ(now.state.deployment_updated_at, T(7));
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 6u);
}

// A job decides on a row it read before slow calls (a failure's classification): when a check
// recorded a newer status of the deployment meanwhile, the job's write (only_if_unchanged) must
// not put the older status back; decided from the status stored, it is written.
TEST_P(StoreConformance, AJobsWriteDecidedFromAnOlderStatusIsNotWrittenOverANewerOne) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "CRASHED", T(1))));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "SUCCESS", T(2))));  // restarted meanwhile
    const auto reaction_from = [](std::optional<std::string> status, Timestamp at, std::string key) {
        Transition t = MakeTransition("i1", "d1", status.value_or("UNKNOWN"), at, {std::move(key)});
        t.from_status = std::move(status);
        t.source = "reaction";
        t.keep_schedule = true;
        t.only_if_unchanged = true;
        t.state.deployment_status = t.from_status;
        t.state.error_message = "decided from " + t.to_status;
        return t;
    };
    const TransitionResult stale = Must(store_->ApplyTransition(reaction_from("CRASHED", T(3), "k-stale")));
    EXPECT_TRUE(stale.superseded);
    EXPECT_FALSE(stale.applied);
    EXPECT_EQ(stale.event_id, 0);
    Instance now = Must(store_->GetInstance("i1"));
    EXPECT_EQ(now.state.deployment_status, "SUCCESS");
    EXPECT_FALSE(now.state.error_message.has_value());
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 2u);
    EXPECT_TRUE(Must(store_->ListDeliveries(std::nullopt, 10)).empty());
    // Also when the writer holds the schedule, in a batch beside checks' transitions (which SQLite
    // writes together without a read).
    std::vector<Transition> batch;
    batch.push_back(reaction_from("CRASHED", T(4), "k-stale-2"));
    batch.back().keep_schedule = false;
    batch.back().only_if_following = true;
    for (const std::string id : {"i2", "i3"}) {
        Must(store_->CreateInstance(MakeInstance(id)));
        Must(store_->ApplyTransition(MakeTransition(id, "d-" + id, "BUILDING", T(1))));
        batch.push_back(MakeTransition(id, "d-" + id, "DEPLOYING", T(4)));
        batch.back().only_if_following = true;
    }
    const auto results = store_->ApplyTransitions(batch);
    ASSERT_EQ(results.size(), 3u);
    ASSERT_TRUE(results[0] && results[1] && results[2]);
    EXPECT_TRUE(results[0]->superseded);
    EXPECT_TRUE(results[1]->applied);
    EXPECT_TRUE(results[2]->applied);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "SUCCESS");
    EXPECT_TRUE(Must(store_->ListDeliveries(std::nullopt, 10)).empty());
    // Decided from the status stored: written, with its outbox row.
    const TransitionResult current = Must(store_->ApplyTransition(reaction_from("SUCCESS", T(5), "k-current")));
    EXPECT_TRUE(current.applied);
    EXPECT_FALSE(current.superseded);
    now = Must(store_->GetInstance("i1"));
    EXPECT_EQ(now.state.deployment_status, "SUCCESS");
    EXPECT_EQ(now.state.error_message, "decided from SUCCESS");
    EXPECT_EQ(Must(store_->ListDeliveries(std::nullopt, 10)).size(), 1u);
    // Another deployment followed: superseded as well.
    Must(store_->ApplyTransition(MakeTransition("i1", "d9", "QUEUED", T(6))));
    EXPECT_TRUE(Must(store_->ApplyTransition(reaction_from("QUEUED", T(7), "k-moved"))).superseded);
}

// A poll's check transitions given together (SQLite writes them in multi-row statements, more
// than one statement's worth here) end each as it ends given alone: the same outcome, state,
// events, outbox rows and change positions, whatever each one meets (the due time stored or
// another, recorded before, the instance moved on, nothing to change), with a transition that is
// not a check's and a repeat among them.
TEST_P(StoreConformance, CheckTransitionsGivenTogetherEndEachAsGivenAlone) {
    constexpr int kInstances = 150;
    constexpr int kKinds = 7;
    // The same fleet twice, `prefix` "a" and "b": each instance follows d1, due at T(100).
    const auto transitions = [&](const std::string& prefix) {
        std::vector<Transition> out;
        for (int k = 0; k < kInstances; ++k) {
            const std::string id = prefix + std::to_string(k);
            const int kind = k % kKinds;
            Transition t = MakeTransition(id, "d1", "DEPLOYING", T(3));
            t.only_if_following = true;
            t.state.next_check_at = T(100);
            t.state.progress = 60;
            if (kind == 1) t.state.next_check_at = T(200);                   // a new due time
            if (kind == 4) t.outbox.push_back(MakeOutbox("k-" + id, T(3)));  // a message
            if (kind == 6) {  // the state stored already: an event, no change
                t.to_status = "BUILDING";
                t.state.deployment_status = "BUILDING";
                t.state.deployment_updated_at = T(1);
                t.state.progress = 0;
            }
            out.push_back(std::move(t));
        }
        out.push_back(out[7]);                                                // a repeat: recorded by the first
        Transition job = MakeTransition(prefix + "3", "d3", "QUEUED", T(4));  // a job's, not a check's
        out.push_back(std::move(job));
        return out;
    };
    const auto prepare = [&](const std::string& prefix, const std::vector<Transition>& batch) {
        for (int k = 0; k < kInstances; ++k) {
            const std::string id = prefix + std::to_string(k);
            Must(store_->CreateInstance(MakeInstance(id)));
            Transition first = MakeTransition(id, "d1", "BUILDING", T(1));
            first.state.next_check_at = T(100);
            Must(store_->ApplyTransition(first));
            const int kind = k % kKinds;
            if (kind == 2 || kind == 5) Must(store_->ApplyTransition(batch[static_cast<std::size_t>(k)]));
            if (kind == 3 || kind == 5) Must(store_->ApplyTransition(MakeTransition(id, "d2", "QUEUED", T(2))));
        }
    };
    const std::vector<Transition> together = transitions("a");
    const std::vector<Transition> alone = transitions("b");
    prepare("a", together);
    prepare("b", alone);
    const std::int64_t start = Must(store_->ChangedInstances(std::nullopt)).next;
    const auto a = store_->ApplyTransitions(together);
    std::vector<util::Result<TransitionResult>> b;
    b.reserve(alone.size());
    for (const Transition& t : alone)
        b.push_back(store_->ApplyTransition(t));
    ASSERT_EQ(a.size(), together.size());
    std::map<std::string, int> outcomes;
    HeldChanges held;
    for (std::size_t i = 0; i < a.size(); ++i) {
        SCOPED_TRACE(together[i].instance_id + " (transition " + std::to_string(i) + ")");
        ASSERT_TRUE(a[i]) << a[i].error().message;
        ASSERT_TRUE(b[i]) << b[i].error().message;
        EXPECT_EQ(a[i]->applied, b[i]->applied);
        EXPECT_EQ(a[i]->superseded, b[i]->superseded);
        EXPECT_EQ(a[i]->event_id != 0, b[i]->event_id != 0);
        EXPECT_EQ(a[i]->change_position.has_value(), b[i]->change_position.has_value());
        if (a[i]->change_position) held[together[i].instance_id] = *a[i]->change_position;
        ++outcomes[a[i]->superseded ? "superseded" : a[i]->applied ? "applied" : "recorded before"];
    }
    // Of 150 checks, kinds 0, 1 and 2 have 22 each, the others 21: kinds 0, 1, 4, 6 and the job's
    // applied; kind 2 and the repeat recorded before; kinds 3 and 5 superseded.
    EXPECT_EQ(outcomes["applied"], 22 + 22 + 21 + 21 + 1);
    EXPECT_EQ(outcomes["recorded before"], 22 + 1);
    EXPECT_EQ(outcomes["superseded"], 21 + 21);
    // The repeat names the first one's event.
    EXPECT_EQ(a[kInstances]->event_id, a[7]->event_id);
    const auto events = [&](const std::string& id) {
        std::vector<std::string> out;
        for (const TimelineEvent& e : Must(store_->ListEvents(id, 10)))
            out.push_back(e.deployment_id + " " + e.to_status);
        return out;
    };
    for (int k = 0; k < kInstances; ++k) {
        SCOPED_TRACE(k);
        const Instance x = Must(store_->GetInstance("a" + std::to_string(k)));
        const Instance y = Must(store_->GetInstance("b" + std::to_string(k)));
        EXPECT_EQ(x.state.status, y.state.status);
        EXPECT_EQ(x.state.deployment_id, y.state.deployment_id);
        EXPECT_EQ(x.state.deployment_status, y.state.deployment_status);
        EXPECT_EQ(x.state.progress, y.state.progress);
        EXPECT_EQ(x.state.next_check_at, y.state.next_check_at);
        EXPECT_EQ(x.state.deployment_updated_at, y.state.deployment_updated_at);
        EXPECT_EQ(events(x.id), events(y.id));
    }
    EXPECT_EQ(Must(store_->GetInstance("a1")).state.next_check_at, T(200));
    EXPECT_EQ(Must(store_->GetInstance("a3")).state.deployment_id, "d3");
    std::vector<std::string> keys;
    for (const auto& row : Must(store_->ListDeliveries(std::nullopt, 1000)))
        keys.push_back(row.message.dedup_key);
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> expected;
    for (int k = 4; k < kInstances; k += kKinds) {
        expected.push_back("k-a" + std::to_string(k));
        expected.push_back("k-b" + std::to_string(k));
    }
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(keys, expected);
    // Where the backend gives positions (kinds 0, 1, 4 and the job's: kind 6 changed nothing), the
    // rows held as their write left them are left out of the feed, and only they.
    if (!held.empty()) {
        EXPECT_EQ(held.size(), 22u + 22 + 21 + 1);
        std::set<std::string> changed;
        for (const Instance& instance : Must(store_->ChangedInstances(start, held)).instances)
            changed.insert(instance.id);
        for (const auto& [id, position] : held)
            EXPECT_EQ(changed.count(id), 0u) << id;
        EXPECT_EQ(changed.count("b0"), 1u);
    }
}

TEST_P(StoreConformance, UnknownRailwayStatusIsKeptVerbatim) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Transition t = MakeTransition("i1", "dep-1", "HIBERNATING_V2", T(1));
    Must(store_->ApplyTransition(t));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.deployment_status, "HIBERNATING_V2");
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).at(0).to_status, "HIBERNATING_V2");
}

TEST_P(StoreConformance, EventsAreOldestFirstAndTheLimitKeepsTheNewest) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    const std::vector<std::string> statuses = {"QUEUED", "BUILDING", "DEPLOYING", "SUCCESS", "CRASHED"};
    for (std::size_t k = 0; k < statuses.size(); ++k)
        Must(store_->ApplyTransition(MakeTransition("i1", "d1", statuses[k], T(static_cast<long long>(k)))));
    const auto events = Must(store_->ListEvents("i1", 3));
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].to_status, "DEPLOYING");
    EXPECT_EQ(events[2].to_status, "CRASHED");
}

TEST_P(StoreConformance, OutboxDedupKeyHoldsAcrossTransitions) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "FAILED", T(1), {"notify-d1-failed"})));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "CRASHED", T(2), {"notify-d1-failed"})));
    EXPECT_EQ(Must(store_->ListEvents("i1", 10)).size(), 2u);
    EXPECT_EQ(Must(store_->ListDeliveries(std::nullopt, 10)).size(), 1u);
}

TEST_P(StoreConformance, ConcurrentTransitionsAreAllRecorded) {
    constexpr int kThreads = 6;
    constexpr int kPerThread = 40;
    for (int t = 0; t < kThreads; ++t)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(t))));
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    threads.reserve(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            const std::string id = "i" + std::to_string(t);
            for (int n = 0; n < kPerThread; ++n) {
                auto tr = MakeTransition(id, "d", "S" + std::to_string(n), T(n), {id + "-" + std::to_string(n)});
                tr.state.retry_count = n;
                if (!store_->ApplyTransition(tr)) ++failures;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    EXPECT_EQ(failures.load(), 0);
    for (int t = 0; t < kThreads; ++t) {
        const std::string id = "i" + std::to_string(t);
        EXPECT_EQ(Must(store_->ListEvents(id, 1000)).size(), static_cast<std::size_t>(kPerThread));
        EXPECT_EQ(Must(store_->GetInstance(id)).state.retry_count, kPerThread - 1);
    }
    EXPECT_EQ(Must(store_->ListDeliveries(std::nullopt, 1000)).size(), static_cast<std::size_t>(kThreads * kPerThread));
}

// --- logs -------------------------------------------------------------------------------

TEST_P(StoreConformance, LogsComeBackOldestFirst) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    const auto r = Must(store_->AppendLogs({MakeLog("i1", 1), MakeLog("i1", 2), MakeLog("i1", 3)}));
    EXPECT_EQ(r.inserted, 3);
    EXPECT_EQ(r.duplicates, 0);
    const auto lines = Must(store_->RecentLogs("i1", 10));
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0], MakeLog("i1", 1));
    EXPECT_EQ(lines[2], MakeLog("i1", 3));
}

TEST_P(StoreConformance, DuplicateLogLinesAreDropped) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->AppendLogs({MakeLog("i1", 1), MakeLog("i1", 2)}));
    // Railway returns the boundary line again on an incremental fetch; a batch may repeat too.
    const auto r = Must(store_->AppendLogs({MakeLog("i1", 2), MakeLog("i1", 3), MakeLog("i1", 3)}));
    EXPECT_EQ(r.inserted, 1);
    EXPECT_EQ(r.duplicates, 2);
    EXPECT_EQ(Must(store_->RecentLogs("i1", 10)).size(), 3u);
}

TEST_P(StoreConformance, SameMessageAtAnotherTimeOrKindIsNotADuplicate) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    LogLine a = MakeLog("i1", 1);
    LogLine b = a;
    b.timestamp = T(2);
    LogLine c = a;
    c.kind = LogKind::kBuild;
    LogLine d = a;
    d.deployment_id = "dep-2";
    const auto r = Must(store_->AppendLogs({a, b, c, d}));
    EXPECT_EQ(r.inserted, 4);
}

TEST_P(StoreConformance, RotationKeepsTheNewestMaxLogsLines) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    std::vector<LogLine> batch;
    batch.reserve(30);
    for (int n = 0; n < 30; ++n)
        batch.push_back(MakeLog("i1", n));
    auto r = Must(store_->AppendLogs(batch, 10));
    EXPECT_EQ(r.inserted, 30);
    EXPECT_EQ(r.rotated, 20);
    r = Must(store_->AppendLogs({MakeLog("i1", 30), MakeLog("i1", 31)}, 10));
    EXPECT_EQ(r.rotated, 2);
    const auto lines = Must(store_->RecentLogs("i1", 100));
    ASSERT_EQ(lines.size(), 10u);
    EXPECT_EQ(lines.front().message, "line 22");
    EXPECT_EQ(lines.back().message, "line 31");
}

TEST_P(StoreConformance, OneBatchOverManyInstancesNumbersAndRotatesEachOnItsOwn) {
    constexpr int kInstances = 50;
    for (int k = 0; k < kInstances; ++k)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(k))));
    Must(store_->AppendLogs({MakeLog("i7", 0)}, 2));  // one instance starts with a line
    std::vector<LogLine> batch;
    for (int n = 1; n <= 3; ++n) {
        for (int k = kInstances - 1; k >= 0; --k)  // interleaved, instances in reverse order
            batch.push_back(MakeLog("i" + std::to_string(k), n));
    }
    batch.push_back(MakeLog("i7", 0));  // a duplicate of a stored line
    batch.push_back(MakeLog("i9", 2));  // a duplicate within the batch
    const auto r = Must(store_->AppendLogs(batch, 2));
    EXPECT_EQ(r.inserted, 3 * kInstances);
    EXPECT_EQ(r.duplicates, 2);
    EXPECT_EQ(r.rotated, kInstances + 1);  // each instance drops one new line; i7 also its old one
    for (int k = 0; k < kInstances; ++k) {
        const auto lines = Must(store_->RecentLogs("i" + std::to_string(k), 10));
        ASSERT_EQ(lines.size(), 2u) << k;
        EXPECT_EQ(lines[0].message, "line 2") << k;
        EXPECT_EQ(lines[1].message, "line 3") << k;
    }
}

TEST_P(StoreConformance, RotationFollowsAChangedMaxLogs) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    std::vector<LogLine> batch;
    batch.reserve(10);
    for (int n = 0; n < 10; ++n)
        batch.push_back(MakeLog("i1", n));
    EXPECT_EQ(Must(store_->AppendLogs(batch, 8)).rotated, 2);
    // A smaller max_logs deletes down to it with the next append ...
    auto r = Must(store_->AppendLogs({MakeLog("i1", 10)}, 3));
    EXPECT_EQ(r.rotated, 6);
    auto lines = Must(store_->RecentLogs("i1", 100));
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines.front().message, "line 8");
    // ... a larger one keeps what is there and lets it grow.
    r = Must(store_->AppendLogs({MakeLog("i1", 11), MakeLog("i1", 12)}, 100));
    EXPECT_EQ(r.rotated, 0);
    EXPECT_EQ(Must(store_->RecentLogs("i1", 100)).size(), 5u);
    // A batch larger than max_logs keeps only its own newest lines.
    batch.clear();
    for (int n = 20; n < 30; ++n)
        batch.push_back(MakeLog("i1", n));
    r = Must(store_->AppendLogs(batch, 4));
    EXPECT_EQ(r.inserted, 10);
    EXPECT_EQ(r.rotated, 11);
    lines = Must(store_->RecentLogs("i1", 100));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines.front().message, "line 26");
    EXPECT_EQ(lines.back().message, "line 29");
}

TEST_P(StoreConformance, RotationIsPerInstance) {
    Must(store_->CreateInstance(MakeInstance("a")));
    Must(store_->CreateInstance(MakeInstance("b")));
    std::vector<LogLine> batch;
    for (int n = 0; n < 8; ++n) {
        batch.push_back(MakeLog("a", n));
        batch.push_back(MakeLog("b", n));
    }
    Must(store_->AppendLogs(batch, 5));
    Must(store_->AppendLogs({MakeLog("a", 100)}, 5));
    EXPECT_EQ(Must(store_->RecentLogs("a", 100)).size(), 5u);
    const auto b = Must(store_->RecentLogs("b", 100));
    ASSERT_EQ(b.size(), 5u);
    EXPECT_EQ(b.front().message, "line 3");
}

// Several writers append distinct lines for ONE instance at the same time, through two stores
// on the same database (as two processes would: separate connections, and on SQLite a second
// writer). No line may be lost or numbered twice; then, with rotation on, exactly the newest
// max_logs stay: for each writer, a suffix of what it sent.
TEST_P(StoreConformance, ConcurrentAppendsForOneInstanceLoseNoLine) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    auto other = OpenAgain();
    ASSERT_NE(other, nullptr);
    constexpr int kWriters = 6;
    constexpr int kBatches = 20;
    constexpr int kPerBatch = 25;
    auto line = [](int round, int w, int b, int n) {
        LogLine l = MakeLog("i1", 0);
        l.timestamp = T(round * 1'000'000 + w * 10'000 + b * 100 + n);
        l.message = "r" + std::to_string(round) + " w" + std::to_string(w) + " b" + std::to_string(b) + " n" +
                    std::to_string(n);
        return l;
    };
    auto run_round = [&](int round, int max_logs, std::atomic<int>& inserted, std::atomic<int>& rotated) {
        std::atomic<int> failures{0};
        std::vector<std::thread> threads;
        threads.reserve(kWriters);
        for (int w = 0; w < kWriters; ++w) {
            threads.emplace_back([&, w] {
                Store& s = w % 2 == 0 ? *store_ : *other;
                for (int b = 0; b < kBatches; ++b) {
                    std::vector<LogLine> batch;
                    batch.reserve(kPerBatch);
                    for (int n = 0; n < kPerBatch; ++n)
                        batch.push_back(line(round, w, b, n));
                    const auto r = s.AppendLogs(batch, max_logs);
                    if (!r) {
                        ADD_FAILURE() << r.error().ToString();
                        ++failures;
                        return;
                    }
                    EXPECT_EQ(r->inserted, kPerBatch) << "writer " << w << " batch " << b;
                    EXPECT_EQ(r->duplicates, 0) << "writer " << w << " batch " << b;
                    inserted += r->inserted;
                    rotated += r->rotated;
                }
            });
        }
        for (auto& t : threads)
            t.join();
        return failures.load();
    };
    constexpr int kTotal = kWriters * kBatches * kPerBatch;  // 3,000 per round

    // Round 1, no rotation: every line is there, once.
    std::atomic<int> inserted{0}, rotated{0};
    ASSERT_EQ(run_round(1, 1'000'000, inserted, rotated), 0);
    EXPECT_EQ(inserted.load(), kTotal);
    EXPECT_EQ(rotated.load(), 0);
    std::map<std::string, int> stored;
    for (const auto& l : Must(store_->RecentLogs("i1", kMaxRecent)))
        ++stored[l.message];
    EXPECT_EQ(stored.size(), static_cast<std::size_t>(kTotal));
    for (int w = 0; w < kWriters; ++w) {
        for (int b = 0; b < kBatches; ++b) {
            for (int n = 0; n < kPerBatch; ++n) {
                const auto it = stored.find(line(1, w, b, n).message);
                ASSERT_NE(it, stored.end()) << line(1, w, b, n).message << " was lost";
                EXPECT_EQ(it->second, 1);
            }
        }
    }

    // Round 2 with max_logs = 500: 500 lines stay, and for each writer they are the newest it sent.
    constexpr int kMaxLogs = 500;
    inserted = 0;
    rotated = 0;
    ASSERT_EQ(run_round(2, kMaxLogs, inserted, rotated), 0);
    EXPECT_EQ(inserted.load(), kTotal);
    EXPECT_EQ(rotated.load(), 2 * kTotal - kMaxLogs);
    const auto kept = Must(store_->RecentLogs("i1", kMaxRecent));
    ASSERT_EQ(kept.size(), static_cast<std::size_t>(kMaxLogs));
    std::map<int, std::vector<int>> per_writer;  // writer → indexes of its kept lines
    for (const auto& l : kept) {
        ASSERT_EQ(l.message.rfind("r2 ", 0), 0u) << l.message << " is older than every round-2 line";
        int w = 0, b = 0, n = 0;
        ASSERT_EQ(std::sscanf(l.message.c_str(), "r2 w%d b%d n%d", &w, &b, &n), 3);
        per_writer[w].push_back(b * kPerBatch + n);
    }
    for (auto& [w, indexes] : per_writer) {
        std::sort(indexes.begin(), indexes.end());
        const int sent = kBatches * kPerBatch;
        EXPECT_EQ(indexes.back(), sent - 1) << "writer " << w << " lost its newest line";
        EXPECT_EQ(indexes.back() - indexes.front() + 1, static_cast<int>(indexes.size()))
            << "writer " << w << " kept lines that are not its newest";
    }
}

TEST_P(StoreConformance, RecentLogsFiltersByKindAndLimit) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->AppendLogs({MakeLog("i1", 1, LogKind::kBuild), MakeLog("i1", 2, LogKind::kDeploy),
                             MakeLog("i1", 3, LogKind::kBuild), MakeLog("i1", 4, LogKind::kBuild)}));
    const auto build = Must(store_->RecentLogs("i1", 2, LogKind::kBuild));
    ASSERT_EQ(build.size(), 2u);
    EXPECT_EQ(build[0].message, "line 3");
    EXPECT_EQ(build[1].message, "line 4");
    const auto deploy = Must(store_->RecentLogs("i1", 10, LogKind::kDeploy));
    ASSERT_EQ(deploy.size(), 1u);
    EXPECT_EQ(deploy[0].kind, LogKind::kDeploy);
}

TEST_P(StoreConformance, LogBatchNamingAnUnknownInstanceWritesNothing) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    const auto r = store_->AppendLogs({MakeLog("i1", 1), MakeLog("ghost", 2)});
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
    EXPECT_TRUE(Must(store_->RecentLogs("i1", 10)).empty());
}

TEST_P(StoreConformance, LatestLogTimestampFollowsDeploymentAndKind) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    EXPECT_FALSE(Must(store_->LatestLogTimestamp("i1", "dep-1", LogKind::kDeploy)));
    Must(store_->AppendLogs({MakeLog("i1", 5), MakeLog("i1", 9), MakeLog("i1", 20, LogKind::kBuild)}));
    EXPECT_EQ(Must(store_->LatestLogTimestamp("i1", "dep-1", LogKind::kDeploy)), T(9));
    EXPECT_EQ(Must(store_->LatestLogTimestamp("i1", "dep-1", LogKind::kBuild)), T(20));
    EXPECT_FALSE(Must(store_->LatestLogTimestamp("i1", "dep-2", LogKind::kDeploy)));
}

TEST_P(StoreConformance, LogLineWithInvalidUtf8IsRejectedByIndexAndNothingIsWritten) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    LogLine bad = MakeLog("i1", 2);
    bad.message = "broken \xc3\x28 sequence";
    const auto r = store_->AppendLogs({MakeLog("i1", 1), bad});
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("log line 1 message"));
    EXPECT_THAT(r.error().message, HasSubstr("UTF-8"));
    EXPECT_TRUE(Must(store_->RecentLogs("i1", 10)).empty());
}

TEST_P(StoreConformance, LogTimestampsKeepNanoseconds) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    LogLine l = MakeLog("i1", 1);
    l.timestamp += std::chrono::nanoseconds(987654321);
    Must(store_->AppendLogs({l}));
    EXPECT_EQ(Must(store_->RecentLogs("i1", 1)).at(0).timestamp, l.timestamp);
}

// --- health -----------------------------------------------------------------------------

TEST_P(StoreConformance, HealthChecksComeBackNewestFirst) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    HealthCheck ok{0, "i1", T(1), true, 200, 35, std::nullopt};
    HealthCheck bad{0, "i1", T(2), false, std::nullopt, std::nullopt, "connection refused"};
    ok.id = Must(store_->RecordHealthCheck(ok));
    bad.id = Must(store_->RecordHealthCheck(bad));
    EXPECT_NE(ok.id, bad.id);
    const auto checks = Must(store_->RecentHealthChecks("i1", 10));
    ASSERT_EQ(checks.size(), 2u);
    EXPECT_EQ(checks[0], bad);
    EXPECT_EQ(checks[1], ok);
}

// The summaries of each instance are those of its RecentHealthChecks, field for field.
std::vector<CheckSummary> SummariesOf(const std::vector<HealthCheck>& checks) {
    std::vector<CheckSummary> out;
    out.reserve(checks.size());
    for (const HealthCheck& c : checks)
        out.push_back({c.at, c.ok, c.latency_ms});
    return out;
}

TEST_P(StoreConformance, CheckSummariesOfSeveralInstancesComeBackPerIdInOneRead) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->CreateInstance(MakeInstance("i2")));
    Must(store_->CreateInstance(MakeInstance("i3")));
    for (int n = 0; n < 5; ++n)
        Must(store_->RecordHealthCheck(HealthCheck{0, "i1", T(n), true, 200, 10 + n, std::nullopt}));
    Must(store_->RecordHealthCheck(HealthCheck{0, "i3", T(7), false, 503, std::nullopt, "bad gateway"}));
    const std::vector<std::string> ids = {"i3", "i2", "i1", "unknown"};
    const auto lists = Must(store_->RecentCheckSummariesOf(ids, 3));
    ASSERT_EQ(lists.size(), 4u);
    EXPECT_EQ(lists[0], SummariesOf(Must(store_->RecentHealthChecks("i3", 3))));
    ASSERT_EQ(lists[0].size(), 1u);
    EXPECT_FALSE(lists[0][0].ok);
    EXPECT_EQ(lists[0][0].latency_ms, std::nullopt);
    EXPECT_TRUE(lists[1].empty());
    EXPECT_EQ(lists[2], SummariesOf(Must(store_->RecentHealthChecks("i1", 3))));
    ASSERT_EQ(lists[2].size(), 3u);
    EXPECT_EQ(lists[2][0].at, T(4));
    EXPECT_EQ(lists[2][0].latency_ms, 14);
    EXPECT_TRUE(lists[3].empty());
    EXPECT_TRUE(Must(store_->RecentCheckSummariesOf({}, 3)).empty());
    const auto bad_limit = store_->RecentCheckSummariesOf(ids, 0);
    ASSERT_FALSE(bad_limit);
    ExpectCode(bad_limit.error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, UptimeCountsChecksInTheWindow) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    for (int n = 0; n < 10; ++n)
        Must(store_->RecordHealthCheck(HealthCheck{0, "i1", T(n), n != 3 && n != 8, 200, 10, std::nullopt}));
    const auto all = Must(store_->Uptime("i1", T(0)));
    EXPECT_EQ(all.checks, 10);
    EXPECT_EQ(all.ok, 8);
    EXPECT_EQ(all.last_checked_at, T(9));
    EXPECT_EQ(all.last_failure_at, T(8));
    EXPECT_DOUBLE_EQ(all.Ratio(), 0.8);
    const auto recent = Must(store_->Uptime("i1", T(5)));
    EXPECT_EQ(recent.checks, 5);
    EXPECT_EQ(recent.ok, 4);
    const auto none = Must(store_->Uptime("i1", T(100)));
    EXPECT_EQ(none.checks, 0);
    EXPECT_DOUBLE_EQ(none.Ratio(), 1.0);
}

TEST_P(StoreConformance, HealthCheckOfUnknownInstanceIsNotFound) {
    const auto r = store_->RecordHealthCheck(HealthCheck{0, "ghost", T(1), true, 200, 1, std::nullopt});
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
}

// A probe's outcome: the check stored, the instance's health set (its other columns as they
// were), the instance's checks before keep_since deleted (others' kept), in one call.
TEST_P(StoreConformance, RecordProbeStoresTheCheckSetsHealthAndRotatesOldChecks) {
    Must(store_->CreateInstance(MakeRunning("i1")));
    Must(store_->CreateInstance(MakeRunning("i2")));
    for (int n = 0; n < 3; ++n)
        Must(store_->RecordHealthCheck(HealthCheck{0, "i1", T(n), true, 200, 5, std::nullopt}));
    Must(store_->RecordHealthCheck(HealthCheck{0, "i2", T(0), true, 200, 5, std::nullopt}));
    const Instance before = Must(store_->GetInstance("i1"));

    HealthCheck probe{0, "i1", T(10), false, 503, 12, std::string("HTTP 503")};
    probe.id = Must(RecordProbe(*store_, Probe(probe, "UNHEALTHY", T(2))));
    EXPECT_GT(probe.id, 0);

    // T(0) and T(1) are gone, T(2) (at keep_since) and the new one stay; i2's old check stays.
    EXPECT_THAT(Must(store_->RecentHealthChecks("i1", 10)), ElementsAre(probe, Field(&HealthCheck::at, T(2))));
    EXPECT_EQ(Must(store_->RecentHealthChecks("i2", 10)).size(), 1u);
    Instance after = Must(store_->GetInstance("i1"));
    EXPECT_EQ(after.state.health, "UNHEALTHY");
    after.state.health = before.state.health;
    EXPECT_EQ(after, before);  // nothing else changed

    probe.ok = true;
    Must(RecordProbe(*store_, Probe(probe, "HEALTHY", T(0))));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.health, "HEALTHY");

    // The same health again (the row has nothing to write): the check is stored all the same.
    probe.at = T(11);
    const auto again = RecordProbe(*store_, Probe(probe, "HEALTHY", T(0)));
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(Must(store_->RecentHealthChecks("i1", 1)).front().id, *again);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.health, "HEALTHY");
}

// A record without keep_since stores its check and deletes none of the old ones (the prober
// rotates an instance's checks now and then, not with every result).
TEST_P(StoreConformance, RecordProbesWithoutKeepSinceDeletesNothing) {
    Must(store_->CreateInstance(MakeRunning("i1")));
    Must(store_->RecordHealthCheck(HealthCheck{0, "i1", T(0), true, 200, 5, std::nullopt}));
    const std::vector<ProbeRecord> records = {
        Probe(HealthCheck{0, "i1", T(10), true, 200, 6, std::nullopt}, "HEALTHY")};
    const auto results = store_->RecordProbes(records);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    EXPECT_THAT(Must(store_->RecentHealthChecks("i1", 10)),
                ElementsAre(Field(&HealthCheck::at, T(10)), Field(&HealthCheck::at, T(0))));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.health, "HEALTHY");
}

// A verdict on a deployment the instance no longer runs as probed — it failed, a new one started,
// or it went to sleep since the probe was sent — stores the check but leaves the health the
// transition set: a probe of what
// ran before must not undo it (the instance would show HEALTHY while it crashed, and no later probe
// would come to put it right).
TEST_P(StoreConformance, RecordProbeLeavesTheHealthOfAnInstanceThatNoLongerRunsTheDeploymentProbed) {
    Must(store_->CreateInstance(MakeRunning("i1")));
    Transition crashed = MakeTransition("i1", "d-run", "CRASHED", T(5));
    crashed.state.status = InstanceStatus::kFailed;
    crashed.state.health = "UNHEALTHY";
    Must(store_->ApplyTransition(crashed));
    HealthCheck late{0, "i1", T(4), true, 200, 9, std::nullopt};  // sent before the crash was seen
    late.id = Must(RecordProbe(*store_, Probe(late, "HEALTHY")));
    EXPECT_THAT(Must(store_->RecentHealthChecks("i1", 10)), ElementsAre(late));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.health, "UNHEALTHY");

    Must(store_->CreateInstance(MakeRunning("i2", "d-new")));  // runs another deployment than the one probed
    Must(RecordProbe(*store_, Probe(HealthCheck{0, "i2", T(6), false, 503, 9, std::string("HTTP 503")}, "UNHEALTHY")));
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.health, std::nullopt);
    Must(RecordProbe(*store_, Probe(HealthCheck{0, "i2", T(7), false, 503, 9, std::string("HTTP 503")}, "UNHEALTHY",
                                    std::nullopt, "d-new")));
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.health, "UNHEALTHY");  // its own deployment's verdict

    Instance asleep = MakeRunning("i3");  // the deployment probed went to sleep since (still RUNNING)
    asleep.state.deployment_status = "SLEEPING";
    asleep.state.health = "HEALTHY";
    Must(store_->CreateInstance(asleep));
    Must(RecordProbe(*store_, Probe(HealthCheck{0, "i3", T(8), false, 502, 9, std::string("HTTP 502")}, "DEGRADED")));
    EXPECT_EQ(Must(store_->GetInstance("i3")).state.health, "HEALTHY");
}

TEST_P(StoreConformance, RecordProbeRefusesUnknownInstancesAndEmptyHealthWritingNothing) {
    const auto ghost =
        RecordProbe(*store_, Probe(HealthCheck{0, "ghost", T(1), true, 200, 1, std::nullopt}, "HEALTHY"));
    ASSERT_FALSE(ghost);
    ExpectCode(ghost.error(), ErrorCode::kNotFound);
    Must(store_->CreateInstance(MakeRunning("i1")));
    const auto empty = RecordProbe(*store_, Probe(HealthCheck{0, "i1", T(1), true, 200, 1, std::nullopt}, ""));
    ASSERT_FALSE(empty);
    ExpectCode(empty.error(), ErrorCode::kInvalidArgument);
    const auto no_deployment =
        RecordProbe(*store_, Probe(HealthCheck{0, "i1", T(1), true, 200, 1, std::nullopt}, "HEALTHY", T(0), ""));
    ASSERT_FALSE(no_deployment);
    ExpectCode(no_deployment.error(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Must(store_->RecentHealthChecks("i1", 10)).empty());
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.health, std::nullopt);
}

// Several probes' outcomes in one call (the prober stores a batch of results together): each as
// it is stored alone (RecordProbe, above), a result per record in order; an unknown instance or an empty health
// fails only its own record, writing nothing of it.
TEST_P(StoreConformance, RecordProbesStoresEachAsRecordProbeAndFailsOnlyTheBadOnes) {
    Must(store_->CreateInstance(MakeRunning("i1")));
    Must(store_->CreateInstance(MakeRunning("i2")));
    Must(store_->RecordHealthCheck(HealthCheck{0, "i1", T(0), true, 200, 5, std::nullopt}));
    const std::vector<ProbeRecord> records = {
        Probe(HealthCheck{0, "i1", T(10), false, 503, 12, std::string("HTTP 503")}, "UNHEALTHY", T(1)),
        Probe(HealthCheck{0, "ghost", T(10), true, 200, 3, std::nullopt}, "HEALTHY", T(0)),
        Probe(HealthCheck{0, "i2", T(11), true, 200, 7, std::nullopt}, "HEALTHY", T(0)),
        Probe(HealthCheck{0, "i2", T(12), true, 200, 8, std::nullopt}, "", T(0)),
    };
    const auto results = store_->RecordProbes(records);
    ASSERT_EQ(results.size(), 4u);
    ASSERT_TRUE(results[0]) << results[0].error().message;
    ASSERT_FALSE(results[1]);
    ExpectCode(results[1].error(), ErrorCode::kNotFound);
    ASSERT_TRUE(results[2]) << results[2].error().message;
    ASSERT_FALSE(results[3]);
    ExpectCode(results[3].error(), ErrorCode::kInvalidArgument);
    EXPECT_NE(*results[0], *results[2]);

    HealthCheck first = records[0].check;
    first.id = *results[0];
    EXPECT_THAT(Must(store_->RecentHealthChecks("i1", 10)), ElementsAre(first));  // T(0) rotated out
    HealthCheck third = records[2].check;
    third.id = *results[2];
    EXPECT_THAT(Must(store_->RecentHealthChecks("i2", 10)), ElementsAre(third));  // not the refused T(12)
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.health, "UNHEALTHY");
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.health, "HEALTHY");
    EXPECT_TRUE(store_->RecordProbes({}).empty());
}

// --- notifications ----------------------------------------------------------------------

Notification MakeNotification(const std::string& id, const std::string& user, Timestamp at) {
    return Notification{id,           user, "deployment_failed", "Deploy failed", "dep-1 crashed", R"({"d":1})",
                        std::nullopt, at};
}

TEST_P(StoreConformance, NotificationsListNewestFirst) {
    Must(store_->CreateUser(MakeUser("u1")));
    const auto a = MakeNotification("n1", "u1", T(1));
    const auto b = MakeNotification("n2", "u1", T(2));
    EXPECT_TRUE(Must(store_->AddNotification(a)));
    EXPECT_TRUE(Must(store_->AddNotification(b)));
    EXPECT_THAT(Must(store_->ListNotifications({})), ElementsAre(b, a));
}

TEST_P(StoreConformance, AddingANotificationTwiceKeepsOne) {
    Must(store_->CreateUser(MakeUser("u1")));
    EXPECT_TRUE(Must(store_->AddNotification(MakeNotification("n1", "u1", T(1)))));
    EXPECT_FALSE(Must(store_->AddNotification(MakeNotification("n1", "u1", T(1)))));
    EXPECT_EQ(Must(store_->ListNotifications({})).size(), 1u);
}

TEST_P(StoreConformance, MarkingReadRemovesFromTheUnreadInbox) {
    Must(store_->CreateUser(MakeUser("u1")));
    Must(store_->AddNotification(MakeNotification("n1", "u1", T(1))));
    Must(store_->AddNotification(MakeNotification("n2", "u1", T(2))));
    Must(store_->MarkNotificationRead("n1", T(10)));
    NotificationQuery q;
    q.unread_only = true;
    const auto unread = Must(store_->ListNotifications(q));
    ASSERT_EQ(unread.size(), 1u);
    EXPECT_EQ(unread[0].id, "n2");
}

TEST_P(StoreConformance, MarkingReadTwiceKeepsTheFirstTime) {
    Must(store_->CreateUser(MakeUser("u1")));
    Must(store_->AddNotification(MakeNotification("n1", "u1", T(1))));
    Must(store_->MarkNotificationRead("n1", T(10)));
    Must(store_->MarkNotificationRead("n1", T(20)));
    EXPECT_EQ(Must(store_->ListNotifications({})).at(0).read_at, T(10));
}

TEST_P(StoreConformance, MarkingAnUnknownNotificationIsNotFound) {
    const auto r = store_->MarkNotificationRead("nope", T(1));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, NotificationForUnknownUserIsNotFound) {
    const auto r = store_->AddNotification(MakeNotification("n1", "ghost", T(1)));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, NotificationsFilterByUser) {
    Must(store_->CreateUser(MakeUser("u1")));
    Must(store_->CreateUser(MakeUser("u2")));
    Must(store_->AddNotification(MakeNotification("n1", "u1", T(1))));
    Must(store_->AddNotification(MakeNotification("n2", "u2", T(2))));
    NotificationQuery q;
    q.user_id = "u2";
    const auto got = Must(store_->ListNotifications(q));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].id, "n2");
}

// --- outbox -----------------------------------------------------------------------------

TEST_P(StoreConformance, EnqueueSkipsKnownDedupKeys) {
    EXPECT_EQ(Must(store_->EnqueueOutbox({MakeOutbox("a"), MakeOutbox("b")})), 2);
    OutboxMessage again = MakeOutbox("a");
    again.id = "out-a-2";
    EXPECT_EQ(Must(store_->EnqueueOutbox({again, MakeOutbox("c")})), 1);
    EXPECT_EQ(Must(store_->ListDeliveries(std::nullopt, 10)).size(), 3u);
}

TEST_P(StoreConformance, ClaimOutboxTakesOnlyDueRowsAndLeasesThem) {
    OutboxMessage later = MakeOutbox("later");
    later.next_attempt_at = T(100);
    Must(store_->EnqueueOutbox({MakeOutbox("now"), later}));
    const auto claimed = Must(store_->ClaimOutbox("n1", T(10), core::Seconds(30), 10));
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].message.dedup_key, "now");
    EXPECT_EQ(claimed[0].lease_owner, "n1");
    EXPECT_EQ(claimed[0].lease_until, T(40));
    EXPECT_EQ(claimed[0].attempts, 1);
}

TEST_P(StoreConformance, LeasedOutboxRowIsNotClaimedAgainUntilTheLeaseExpires) {
    Must(store_->EnqueueOutbox({MakeOutbox("a")}));
    ASSERT_EQ(Must(store_->ClaimOutbox("n1", T(10), core::Seconds(30), 10)).size(), 1u);
    EXPECT_TRUE(Must(store_->ClaimOutbox("n2", T(39), core::Seconds(30), 10)).empty());
    const auto retaken = Must(store_->ClaimOutbox("n2", T(40), core::Seconds(30), 10));
    ASSERT_EQ(retaken.size(), 1u);
    EXPECT_EQ(retaken[0].attempts, 2);
    // The first worker lost it: its report is refused.
    const auto late = store_->MarkOutboxSent("out-a", "n1", T(41));
    ASSERT_FALSE(late);
    ExpectCode(late.error(), ErrorCode::kConflict);
    Must(store_->MarkOutboxSent("out-a", "n2", T(42)));
}

TEST_P(StoreConformance, SentOutboxRowIsNotClaimedAgain) {
    Must(store_->EnqueueOutbox({MakeOutbox("a")}));
    Must(store_->ClaimOutbox("n1", T(1), core::Seconds(30), 10));
    Must(store_->MarkOutboxSent("out-a", "n1", T(2)));
    EXPECT_TRUE(Must(store_->ClaimOutbox("n1", T(1000), core::Seconds(30), 10)).empty());
    const auto sent = Must(store_->ListDeliveries(OutboxStatus::kSent, 10));
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].sent_at, T(2));
    EXPECT_FALSE(sent[0].lease_owner);
}

TEST_P(StoreConformance, FailedOutboxRowRetriesThenDies) {
    Must(store_->EnqueueOutbox({MakeOutbox("a")}));
    Must(store_->ClaimOutbox("n1", T(1), core::Seconds(30), 10));
    Must(store_->MarkOutboxFailed("out-a", "n1", "SMTP 451 try later", T(60)));
    auto failed = Must(store_->ListDeliveries(OutboxStatus::kFailed, 10));
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].last_error, "SMTP 451 try later");
    EXPECT_EQ(failed[0].next_attempt_at, T(60));
    EXPECT_TRUE(Must(store_->ClaimOutbox("n1", T(59), core::Seconds(30), 10)).empty());
    ASSERT_EQ(Must(store_->ClaimOutbox("n1", T(60), core::Seconds(30), 10)).size(), 1u);
    Must(store_->MarkOutboxFailed("out-a", "n1", "550 no such user", std::nullopt));
    const auto dead = Must(store_->ListDeliveries(OutboxStatus::kDead, 10));
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].attempts, 2);
    EXPECT_TRUE(Must(store_->ClaimOutbox("n1", T(10000), core::Seconds(30), 10)).empty());
}

TEST_P(StoreConformance, ReportingAnUnknownOutboxRowIsNotFound) {
    const auto r = store_->MarkOutboxSent("nope", "n1", T(1));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, DeliveriesFilterByStatus) {
    Must(store_->EnqueueOutbox({MakeOutbox("a", T(1)), MakeOutbox("b", T(2))}));
    Must(store_->ClaimOutbox("n1", T(5), core::Seconds(30), 1));
    Must(store_->MarkOutboxSent("out-a", "n1", T(6)));
    EXPECT_EQ(Must(store_->ListDeliveries(OutboxStatus::kSent, 10)).size(), 1u);
    const auto pending = Must(store_->ListDeliveries(OutboxStatus::kPending, 10));
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].message.id, "out-b");
    const auto all = Must(store_->ListDeliveries(std::nullopt, 10));
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].message.id, "out-b");  // newest first
}

TEST_P(StoreConformance, DeliveriesPageWithACursorWithoutGapsOrRepeats) {
    std::vector<OutboxMessage> rows;
    rows.reserve(7);
    for (int n = 0; n < 7; ++n)
        rows.push_back(MakeOutbox("k" + std::to_string(n), T(n / 2)));  // equal created_at in pairs
    Must(store_->EnqueueOutbox(rows));
    Must(store_->ClaimOutbox("n1", T(10), core::Seconds(30), 1));
    Must(store_->MarkOutboxSent("out-k0", "n1", T(11)));
    std::vector<std::string> seen;
    DeliveryQuery q;
    q.limit = 3;
    for (int page = 0; page < 10; ++page) {
        const auto got = Must(store_->ListDeliveries(q));
        for (const auto& r : got.items)
            seen.push_back(r.message.id);
        if (got.next_cursor.empty()) break;
        q.cursor = got.next_cursor;
    }
    EXPECT_THAT(seen, ElementsAre("out-k6", "out-k5", "out-k4", "out-k3", "out-k2", "out-k1", "out-k0"));
    DeliveryQuery pending;
    pending.status = OutboxStatus::kPending;
    pending.limit = 6;
    const auto all_pending = Must(store_->ListDeliveries(pending));
    EXPECT_EQ(all_pending.items.size(), 6u);
    EXPECT_TRUE(all_pending.next_cursor.empty());
    DeliveryQuery bad;
    bad.cursor = "not-a-cursor";
    const auto r = store_->ListDeliveries(bad);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, ReplayGivesADeadRowOneMoreLifeOnce) {
    Must(store_->EnqueueOutbox({MakeOutbox("a")}));
    Must(store_->ClaimOutbox("n1", T(1), core::Seconds(30), 10));
    Must(store_->MarkOutboxFailed("out-a", "n1", "HTTP 500", std::nullopt));
    const OutboxRow replayed = Must(store_->ReplayOutbox("out-a", T(100)));
    EXPECT_EQ(replayed.message.id, "out-a");
    EXPECT_EQ(replayed.status, OutboxStatus::kPending);
    EXPECT_EQ(replayed.attempts, 0);
    EXPECT_EQ(replayed.next_attempt_at, T(100));
    EXPECT_EQ(replayed.last_error, "HTTP 500");
    const auto pending = Must(store_->ListDeliveries(OutboxStatus::kPending, 10));
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].attempts, 0);
    EXPECT_EQ(pending[0].next_attempt_at, T(100));
    EXPECT_EQ(pending[0].last_error, "HTTP 500");  // kept until the next attempt records its own
    EXPECT_FALSE(pending[0].lease_owner);
    // A second replay (a double click) does nothing: the row is pending, not dead.
    const auto again = store_->ReplayOutbox("out-a", T(100));
    ASSERT_FALSE(again);
    ExpectCode(again.error(), ErrorCode::kConflict);
    EXPECT_TRUE(Must(store_->ClaimOutbox("n1", T(99), core::Seconds(30), 10)).empty());
    const auto claimed = Must(store_->ClaimOutbox("n1", T(100), core::Seconds(30), 10));
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].attempts, 1);
    Must(store_->MarkOutboxSent("out-a", "n1", T(101)));
    const auto sent = store_->ReplayOutbox("out-a", T(200));
    ASSERT_FALSE(sent);
    ExpectCode(sent.error(), ErrorCode::kConflict);
    const auto unknown = store_->ReplayOutbox("nope", T(1));
    ASSERT_FALSE(unknown);
    ExpectCode(unknown.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, NextOutboxDueIsTheEarliestClaimableTime) {
    EXPECT_FALSE(Must(store_->NextOutboxDue(T(0))));
    OutboxMessage a = MakeOutbox("a");
    a.next_attempt_at = T(50);
    OutboxMessage b = MakeOutbox("b");
    b.next_attempt_at = T(80);
    Must(store_->EnqueueOutbox({a, b}));
    EXPECT_EQ(Must(store_->NextOutboxDue(T(0))), T(50));
    // A live lease delays its row to the lease's end; an expired one does not.
    ASSERT_EQ(Must(store_->ClaimOutbox("n1", T(50), core::Seconds(100), 1)).size(), 1u);
    EXPECT_EQ(Must(store_->NextOutboxDue(T(60))), T(80));
    EXPECT_EQ(Must(store_->NextOutboxDue(T(151))), T(50));
    Must(store_->MarkOutboxFailed("out-a", "n1", "HTTP 503", T(70)));
    EXPECT_EQ(Must(store_->NextOutboxDue(T(60))), T(70));
    // Sent and dead rows are never due.
    ASSERT_EQ(Must(store_->ClaimOutbox("n1", T(100), core::Seconds(30), 10)).size(), 2u);
    Must(store_->MarkOutboxSent("out-a", "n1", T(101)));
    Must(store_->MarkOutboxFailed("out-b", "n1", "HTTP 410", std::nullopt));
    EXPECT_FALSE(Must(store_->NextOutboxDue(T(200))));
}

TEST_P(StoreConformance, CompleteOutboxRecordsABatchCheckingEachLease) {
    Must(store_->EnqueueOutbox({MakeOutbox("a"), MakeOutbox("b"), MakeOutbox("c"), MakeOutbox("d")}));
    ASSERT_EQ(Must(store_->ClaimOutbox("n1", T(1), core::Seconds(30), 3)).size(), 3u);  // a, b, c
    ASSERT_EQ(Must(store_->ClaimOutbox("n2", T(1), core::Seconds(30), 3)).size(), 1u);  // d
    const std::vector<OutboxCompletion> batch = {
        {"out-a", "n1", OutboxStatus::kSent, T(2), "", std::nullopt},
        {"out-b", "n1", OutboxStatus::kFailed, {}, "HTTP 503", T(60)},
        {"out-c", "n1", OutboxStatus::kDead, {}, "HTTP 410 Gone", std::nullopt},
        {"out-d", "n1", OutboxStatus::kSent, T(2), "", std::nullopt},  // n2 holds it
        {"out-x", "n1", OutboxStatus::kSent, T(2), "", std::nullopt},
    };
    const auto results = Must(store_->CompleteOutbox(batch));
    ASSERT_EQ(results.size(), 5u);
    EXPECT_TRUE(results[0]);
    EXPECT_TRUE(results[1]);
    EXPECT_TRUE(results[2]);
    ASSERT_FALSE(results[3]);
    ExpectCode(results[3].error(), ErrorCode::kConflict);
    ASSERT_FALSE(results[4]);
    ExpectCode(results[4].error(), ErrorCode::kNotFound);
    const auto sent = Must(store_->ListDeliveries(OutboxStatus::kSent, 10));
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].sent_at, T(2));
    const auto failed = Must(store_->ListDeliveries(OutboxStatus::kFailed, 10));
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].next_attempt_at, T(60));
    EXPECT_EQ(failed[0].last_error, "HTTP 503");
    const auto dead = Must(store_->ListDeliveries(OutboxStatus::kDead, 10));
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].last_error, "HTTP 410 Gone");
    // The row whose lease was lost is untouched and still n2's.
    Must(store_->MarkOutboxSent("out-d", "n2", T(3)));
    EXPECT_TRUE(Must(store_->CompleteOutbox({})).empty());
}

TEST_P(StoreConformance, MalformedCompletionWritesNothing) {
    Must(store_->EnqueueOutbox({MakeOutbox("a"), MakeOutbox("b")}));
    ASSERT_EQ(Must(store_->ClaimOutbox("n1", T(1), core::Seconds(30), 10)).size(), 2u);
    const auto r = store_->CompleteOutbox({{"out-a", "n1", OutboxStatus::kSent, T(2), "", std::nullopt},
                                           {"out-b", "n1", OutboxStatus::kFailed, {}, "HTTP 503", std::nullopt}});
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Must(store_->ListDeliveries(OutboxStatus::kSent, 10)).empty());
}

TEST_P(StoreConformance, DisabledEndpointsLastUntilEnabledAndShowInDeliveries) {
    EXPECT_TRUE(Must(store_->ListDisabledEndpoints()).empty());
    const DisabledEndpoint gone{"webhook:abc", "webhook", "HTTP 410 Gone from https://hooks.example.com", T(5)};
    Must(store_->DisableEndpoint(gone));
    DisabledEndpoint later = gone;
    later.reason = "again";
    later.disabled_at = T(9);
    Must(store_->DisableEndpoint(later));  // the first time and reason stay
    EXPECT_THAT(Must(store_->ListDisabledEndpoints()), ElementsAre(gone));
    const auto page = Must(store_->ListDeliveries(DeliveryQuery{}));
    EXPECT_THAT(page.disabled_endpoints, ElementsAre(gone));
    EXPECT_TRUE(Must(store_->EnableEndpoint("webhook:abc")));
    EXPECT_FALSE(Must(store_->EnableEndpoint("webhook:abc")));
    EXPECT_TRUE(Must(store_->ListDisabledEndpoints()).empty());
    const auto empty_key = store_->DisableEndpoint(DisabledEndpoint{"", "webhook", "x", T(1)});
    ASSERT_FALSE(empty_key);
    ExpectCode(empty_key.error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, DisabledEndpointSurvivesAReopen) {
    const std::string url = GetParam().fresh_url("endpoints");
    const DisabledEndpoint gone{"webhook:abc", "webhook", "HTTP 410 Gone", T(5)};
    {
        auto first = Must(OpenStore(url));
        ASSERT_NE(first, nullptr);
        Must(first->DisableEndpoint(gone));
    }
    auto second = Must(OpenStore(url));
    ASSERT_NE(second, nullptr);
    EXPECT_THAT(Must(second->ListDisabledEndpoints()), ElementsAre(gone));
}

TEST_P(StoreConformance, ConcurrentOutboxClaimsGiveEachRowToOneWorker) {
    std::vector<OutboxMessage> rows;
    rows.reserve(200);
    for (int n = 0; n < 200; ++n)
        rows.push_back(MakeOutbox("k" + std::to_string(n)));
    Must(store_->EnqueueOutbox(rows));
    std::mutex mutex;
    std::multiset<std::string> claimed;
    std::vector<std::thread> workers;
    workers.reserve(4);
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            for (int round = 0; round < 100; ++round) {
                auto got = store_->ClaimOutbox("w" + std::to_string(w), T(1), core::Seconds(60), 7);
                if (!got || got->empty()) break;
                std::lock_guard lock(mutex);
                for (const auto& r : *got)
                    claimed.insert(r.message.id);
            }
        });
    }
    for (auto& w : workers)
        w.join();
    EXPECT_EQ(claimed.size(), 200u);
    EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 200u);
}

// --- schedule ---------------------------------------------------------------------------

TEST_P(StoreConformance, ClaimTakesOnlyDueMonitoredLiveInstances) {
    Must(store_->CreateInstance(MakeInstance("due", T(0))));
    Instance later = MakeInstance("later");
    later.state.next_check_at = T(100);
    Must(store_->CreateInstance(later));
    Instance off = MakeInstance("off");
    off.monitoring = false;
    Must(store_->CreateInstance(off));
    Must(store_->CreateInstance(MakeInstance("deleted")));
    Must(store_->DeleteInstance("deleted", T(0)));
    Instance unscheduled = MakeInstance("unscheduled");
    unscheduled.state.next_check_at.reset();
    Must(store_->CreateInstance(unscheduled));
    const auto claimed = Must(store_->ClaimDueInstances("w1", T(10), core::Seconds(30), 100));
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].id, "due");
    EXPECT_EQ(claimed[0].lease_owner, "w1");
    EXPECT_EQ(claimed[0].lease_until, T(40));
}

TEST_P(StoreConformance, LeasedInstanceIsNotClaimedAgainWhileTheLeaseLives) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(30), 10)).size(), 1u);
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w2", T(30), core::Seconds(30), 10)).empty());
    const auto retaken = Must(store_->ClaimDueInstances("w2", T(31), core::Seconds(30), 10));
    ASSERT_EQ(retaken.size(), 1u);
    EXPECT_EQ(retaken[0].lease_owner, "w2");
}

TEST_P(StoreConformance, ReleasingSetsTheNextCheckAndFreesTheInstance) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(30), 10));
    Must(store_->ReleaseInstance("i1", "w1", T(20)));
    const Instance got = Must(store_->GetInstance("i1"));
    EXPECT_FALSE(got.lease_owner);
    EXPECT_FALSE(got.lease_until);
    EXPECT_EQ(got.state.next_check_at, T(20));
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w2", T(19), core::Seconds(30), 10)).empty());
    EXPECT_EQ(Must(store_->ClaimDueInstances("w2", T(20), core::Seconds(30), 10)).size(), 1u);
}

TEST_P(StoreConformance, ReleaseByAWorkerThatLostTheLeaseIsAConflict) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(5), 10));
    Must(store_->ClaimDueInstances("w2", T(10), core::Seconds(5), 10));
    const auto r = store_->ReleaseInstance("i1", "w1", T(100));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kConflict);
    EXPECT_THAT(r.error().message, HasSubstr("w1"));
    EXPECT_EQ(Must(store_->GetInstance("i1")).lease_owner, "w2");
    const auto missing = store_->ReleaseInstance("nope", "w1", T(1));
    ASSERT_FALSE(missing);
    ExpectCode(missing.error(), ErrorCode::kNotFound);
}

TEST_P(StoreConformance, ClaimHonoursTheLimitEarliestDueFirst) {
    for (int n = 0; n < 10; ++n) {
        Instance i = MakeInstance("i" + std::to_string(n));
        i.state.next_check_at = T(10 - n);
        Must(store_->CreateInstance(i));
    }
    const auto claimed = Must(store_->ClaimDueInstances("w", T(100), core::Seconds(30), 3));
    ASSERT_EQ(claimed.size(), 3u);
    EXPECT_EQ(claimed[0].id, "i9");
    EXPECT_EQ(claimed[1].id, "i8");
    EXPECT_EQ(claimed[2].id, "i7");
}

TEST_P(StoreConformance, ConcurrentClaimsGiveEachInstanceToOneWorker) {
    for (int n = 0; n < 120; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    std::mutex mutex;
    std::multiset<std::string> claimed;
    std::vector<std::thread> workers;
    workers.reserve(4);
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            for (int round = 0; round < 100; ++round) {
                auto got = store_->ClaimDueInstances("w" + std::to_string(w), T(1), core::Seconds(60), 9);
                if (!got || got->empty()) break;
                std::lock_guard lock(mutex);
                for (const auto& i : *got)
                    claimed.insert(i.id);
            }
        });
    }
    for (auto& w : workers)
        w.join();
    EXPECT_EQ(claimed.size(), 120u);
    EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), 120u);
}

TEST_P(StoreConformance, BatchedReleaseGivesBackHeldInstancesAndReportsLostOnes) {
    for (int n = 0; n < 5; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(5), 10)).size(), 5u);
    // w1's leases expire at T(6); w2 takes over i0 and i1 at T(10).
    const auto taken = Must(store_->ClaimDueInstances("w2", T(10), core::Seconds(60), 2));
    ASSERT_EQ(taken.size(), 2u);
    const auto report = Must(store_->ReleaseInstances(
        "w1", {{"i0", T(100)}, {"i1", T(100)}, {"i2", T(200)}, {"i3", std::nullopt}, {"i4", T(300)}, {"ghost", T(1)}}));
    EXPECT_EQ(report.released, 3);
    EXPECT_THAT(report.lost, ElementsAre("i0", "i1", "ghost"));
    const Instance i2 = Must(store_->GetInstance("i2"));
    EXPECT_EQ(i2.state.next_check_at, T(200));
    EXPECT_FALSE(i2.lease_owner);
    EXPECT_FALSE(Must(store_->GetInstance("i3")).state.next_check_at);
    EXPECT_EQ(Must(store_->GetInstance("i4")).state.next_check_at, T(300));
    // The lost rows are untouched: still w2's, still due at T(0).
    const Instance i0 = Must(store_->GetInstance("i0"));
    EXPECT_EQ(i0.lease_owner, "w2");
    EXPECT_EQ(i0.state.next_check_at, T(0));
    // Released ones are claimable at their new time, not before (i0 and i1 are, once w2's
    // lease expires: w1's release did not touch them).
    const auto early = Must(store_->ClaimDueInstances("w3", T(199), core::Seconds(5), 10));
    ASSERT_EQ(early.size(), 2u);
    EXPECT_EQ(early[0].id, "i0");
    EXPECT_EQ(early[1].id, "i1");
    const auto again = Must(store_->ClaimDueInstances("w3", T(200), core::Seconds(5), 10));
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].id, "i2");
}

// A release names the deployment its check asked about: when a job moved the row to another
// deployment meanwhile (a redeploy, with its own next check), the lease goes back but the job's
// next check stays; a release for the deployment the row follows writes its own.
TEST_P(StoreConformance, BatchedReleaseLeavesTheNextCheckOfARowMovedToAnotherDeployment) {
    for (const std::string id : {"i1", "i2"}) {
        Instance i = MakeInstance(id);
        i.state.deployment_id = "d1";
        Must(store_->CreateInstance(i));
    }
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(60), 10)).size(), 2u);
    InstanceState moved = Must(store_->GetInstance("i1")).state;
    moved.deployment_id = "d2";
    moved.next_check_at = T(300);
    Must(store_->SaveState("i1", moved));
    const auto report = Must(store_->ReleaseInstances("w1", {{"i1", T(100), "d1"}, {"i2", T(100), "d1"}}));
    EXPECT_EQ(report.released, 2);
    EXPECT_TRUE(report.lost.empty());
    const Instance i1 = Must(store_->GetInstance("i1"));
    EXPECT_FALSE(i1.lease_owner);
    EXPECT_EQ(i1.state.next_check_at, T(300));
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.next_check_at, T(100));
}

TEST_P(StoreConformance, BatchedReleaseOfNothingHeldReleasesNothing) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    EXPECT_EQ(Must(store_->ReleaseInstances("w1", {})).released, 0);
    const auto report = Must(store_->ReleaseInstances("w1", {{"i1", T(50)}}));  // never claimed
    EXPECT_EQ(report.released, 0);
    EXPECT_THAT(report.lost, ElementsAre("i1"));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.next_check_at, T(0));
}

TEST_P(StoreConformance, BatchedReleaseWithARepeatedIdIsRejectedAndChangesNothing) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->CreateInstance(MakeInstance("i2")));
    Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(30), 10));
    const auto r = store_->ReleaseInstances("w1", {{"i1", T(5)}, {"i2", T(5)}, {"i1", T(6)}});
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("i1"));
    EXPECT_EQ(Must(store_->GetInstance("i1")).lease_owner, "w1");
    EXPECT_EQ(Must(store_->GetInstance("i2")).lease_owner, "w1");
    const auto bad_owner = store_->ReleaseInstances("", {{"i1", T(5)}});
    ASSERT_FALSE(bad_owner);
    ExpectCode(bad_owner.error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, BatchedReleaseReportsAnInstanceDeletedMeanwhileAsLost) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->CreateInstance(MakeInstance("i2")));
    Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(30), 10));
    Must(store_->DeleteInstance("i2", T(2)));  // drops its lease: w1's result for it is void
    const auto report = Must(store_->ReleaseInstances("w1", {{"i1", T(40)}, {"i2", T(40)}}));
    EXPECT_EQ(report.released, 1);
    EXPECT_THAT(report.lost, ElementsAre("i2"));
    EXPECT_FALSE(Must(store_->GetInstance("i2")).state.next_check_at);
}

// Kept claims: a worker keeps what it claimed (KeepDueInstances: held while the worker lives,
// stored as due then) and stays alive by its heartbeat (one row: Heartbeat).
TEST_P(StoreConformance, HeartbeatRenewsAnOwnersLeasesAndListsTheLiveWorkersWithWhatTheyHold) {
    for (int n = 0; n < 5; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(10), 3)).size(), 3u);  // until T(11)
    ASSERT_EQ(Must(store_->ClaimDueInstances("w2", T(1), core::Seconds(10), 2)).size(), 2u);
    EXPECT_THAT(Must(store_->Heartbeat("w1", T(5), core::Seconds(30))).workers, ElementsAre(WorkerLoad{"w1", 3}));
    EXPECT_EQ(Must(store_->GetInstance("i0")).lease_until, kHeldWhileOwnerLives);  // w1 lives till T(35)
    EXPECT_EQ(Must(store_->GetInstance("i4")).lease_until, T(11));                 // w2's: untouched
    // w2 beats too (alive till T(25)); at T(20) its leases live, w1's too.
    EXPECT_THAT(Must(store_->Heartbeat("w2", T(15), core::Seconds(10))).workers,
                ElementsAre(WorkerLoad{"w1", 3}, WorkerLoad{"w2", 2}));
    // Nobody can claim a renewed instance: w1's lease from T(1) would have ended at T(11).
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w3", T(20), core::Seconds(10), 10)).empty());
    // w2 stops beating: at T(30) its row and its leases are gone from the loads, and another worker
    // takes its instances; w1's stay w1's.
    EXPECT_THAT(Must(store_->Heartbeat("w3", T(30), core::Seconds(10))).workers,
                ElementsAre(WorkerLoad{"w1", 3}, WorkerLoad{"w3", 0}));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w3", T(30), core::Seconds(10), 10)).size(), 2u);
    const ScheduleLoad load = Must(store_->Heartbeat("w3", T(31), core::Seconds(10)));
    EXPECT_THAT(load.workers, ElementsAre(WorkerLoad{"w1", 3}, WorkerLoad{"w3", 2}));
    EXPECT_EQ(load.monitored, 5);
    Must(store_->SetMonitoring("i0", false, std::nullopt, T(31)));
    Must(store_->DeleteInstance("i1", T(31)));
    EXPECT_EQ(Must(store_->Heartbeat("w3", T(32), core::Seconds(10))).monitored, 3);
    const auto bad = store_->Heartbeat("", T(1), core::Seconds(10));
    ASSERT_FALSE(bad);
    ExpectCode(bad.error(), ErrorCode::kInvalidArgument);
    ExpectCode(store_->Heartbeat("w1", T(1), core::Seconds(0)).error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, AnExpiredLeaseNobodyTookIsRenewedByItsOwnersHeartbeat) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(5), 10)).size(), 1u);
    // Expired at T(6), but still w1's: a late heartbeat (a slow database) keeps it.
    Must(store_->Heartbeat("w1", T(8), core::Seconds(10)));
    EXPECT_EQ(Must(store_->GetInstance("i1")).lease_until, kHeldWhileOwnerLives);
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w2", T(9), core::Seconds(5), 10)).empty());
}

// A kept lease lives as long as its keeper's heartbeats: beyond its claim's lease while they
// come, and no longer than the last one's lease when they stop. Then the first claim or heartbeat
// of anyone makes the keeper's instances due at its own `now` and claimable, the keeper's own
// included; a worker that is alive loses nothing.
TEST_P(StoreConformance, AKeptLeaseLivesWhileItsKeeperBeatsAndIsFreedByWhoeverComesAfterItStops) {
    for (int n = 0; n < 3; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    ASSERT_EQ(Must(store_->KeepDueInstances("w1", T(1), core::Seconds(30), 2)).size(), 2u);   // i0, i1
    ASSERT_EQ(Must(store_->KeepDueInstances("w2", T(1), core::Seconds(30), 10)).size(), 1u);  // i2
    // The claim alone keeps w1 alive till T(31); its beats till T(90) then.
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w3", T(30), core::Seconds(30), 10)).empty());
    for (int at = 20; at <= 60; at += 20)
        Must(store_->Heartbeat("w1", T(at), core::Seconds(30)));
    // w2 never beat: gone since T(31). w1's heartbeat at T(40) freed i2 (due then), not w1's own.
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.next_check_at, T(40));
    EXPECT_EQ(Must(store_->GetInstance("i2")).lease_until, T(40));  // expired, still naming w2
    EXPECT_EQ(Must(store_->GetInstance("i0")).state.next_check_at, kHeldWhileOwnerLives);
    const ScheduleLoad load = Must(store_->Heartbeat("w3", T(80), core::Seconds(30)));
    EXPECT_THAT(load.workers, ElementsAre(WorkerLoad{"w1", 2}, WorkerLoad{"w3", 0}));
    const auto taken = Must(store_->ClaimDueInstances("w3", T(80), core::Seconds(30), 10));
    ASSERT_EQ(taken.size(), 1u);
    EXPECT_EQ(taken[0].id, "i2");
    // w1 stops beating after T(60): alive till T(90). At T(89) nobody takes its instances; at T(90)
    // the claim itself frees them, due then.
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w3", T(89), core::Seconds(30), 10)).empty());
    const auto freed = Must(store_->ClaimDueInstances("w3", T(90), core::Seconds(30), 10));
    ASSERT_EQ(freed.size(), 2u);
    EXPECT_EQ(freed[0].id, "i0");
    EXPECT_EQ(freed[0].state.next_check_at, T(90));
    EXPECT_EQ(freed[1].id, "i1");
    EXPECT_THAT(Must(store_->Heartbeat("w3", T(91), core::Seconds(30))).workers, ElementsAre(WorkerLoad{"w3", 3}));
}

// A keeper whose row was forgotten (stalled past its lease) and that comes back holds again what
// nobody took meanwhile, and not what another worker did.
TEST_P(StoreConformance, AKeeperBackFromAStallHoldsAgainWhatNobodyTookMeanwhile) {
    for (int n = 0; n < 2; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    ASSERT_EQ(Must(store_->KeepDueInstances("w1", T(1), core::Seconds(30), 10)).size(), 2u);
    Must(store_->Heartbeat("w2", T(40), core::Seconds(30)));  // w1 gone since T(31): freed
    ASSERT_EQ(Must(store_->KeepDueInstances("w2", T(41), core::Seconds(30), 1)).size(), 1u);  // i0
    EXPECT_THAT(Must(store_->Heartbeat("w1", T(42), core::Seconds(30))).workers,
                ElementsAre(WorkerLoad{"w1", 1}, WorkerLoad{"w2", 1}));
    EXPECT_EQ(Must(store_->GetInstance("i0")).lease_owner, "w2");
    EXPECT_EQ(Must(store_->GetInstance("i1")).lease_owner, "w1");
    EXPECT_EQ(Must(store_->GetInstance("i1")).lease_until, kHeldWhileOwnerLives);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.next_check_at, kHeldWhileOwnerLives);
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w3", T(50), core::Seconds(30), 10)).empty());
}

TEST_P(StoreConformance, AKeptClaimIsStoredAsDueWhenItsKeeperIsGoneAndReturnedWithItsDueTime) {
    for (int n = 0; n < 3; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    Must(store_->SetMonitoring("i2", true, std::nullopt, T(500)));  // due after the lease would end
    const auto kept = Must(store_->KeepDueInstances("w1", T(10), core::Seconds(60), 10));
    ASSERT_EQ(kept.size(), 2u);  // i2 is not due
    for (const Instance& got : kept) {
        EXPECT_EQ(got.state.next_check_at, T(0)) << got.id;  // the due time the claim found
        EXPECT_EQ(got.lease_owner, "w1");
        EXPECT_EQ(got.lease_until, kHeldWhileOwnerLives);
    }
    // Stored: held while w1 lives (till T(70) without a heartbeat).
    EXPECT_EQ(Must(store_->GetInstance("i0")).state.next_check_at, kHeldWhileOwnerLives);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.next_check_at, kHeldWhileOwnerLives);
    // Out of everyone's claims till then (w1's own included), then due for whoever comes.
    EXPECT_TRUE(Must(store_->ClaimDueInstances("w2", T(69), core::Seconds(60), 10)).empty());
    const auto after = Must(store_->ClaimDueInstances("w2", T(70), core::Seconds(60), 10));
    ASSERT_EQ(after.size(), 2u);  // i2 is due at T(500)
    EXPECT_EQ(after[0].state.next_check_at, T(70));
    // The plain claim leaves the stored time alone: the time w1 was found gone.
    EXPECT_EQ(Must(store_->GetInstance("i0")).state.next_check_at, T(70));
    ExpectCode(store_->KeepDueInstances("", T(1), core::Seconds(60), 10).error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, AHeartbeatKeepsItsOwnersInstancesOutOfTheClaimsTillItIsGone) {
    for (int n = 0; n < 3; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    ASSERT_EQ(Must(store_->KeepDueInstances("w1", T(1), core::Seconds(30), 2)).size(), 2u);  // i0, i1: w1 till T(31)
    Must(store_->ReleaseInstances("w1", {{"i1", T(5)}}));                                    // let go of i1
    Must(store_->Heartbeat("w1", T(20), core::Seconds(30)));                                 // alive till T(50)
    EXPECT_EQ(Must(store_->GetInstance("i0")).state.next_check_at, kHeldWhileOwnerLives);
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.next_check_at, T(5));  // not w1's any more
    EXPECT_EQ(Must(store_->GetInstance("i2")).state.next_check_at, T(0));  // never claimed
    // Nobody takes i0 before T(50); i1 and i2 are free.
    const auto other = Must(store_->ClaimDueInstances("w2", T(40), core::Seconds(30), 10));
    ASSERT_EQ(other.size(), 2u);
    EXPECT_EQ(other[0].id, "i2");
    EXPECT_EQ(other[1].id, "i1");
    // Turned off: no stored time, and a heartbeat does not give it one.
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(49), core::Seconds(30), 10)).size(), 0u);  // i0 still w1's
    Must(store_->SetMonitoring("i0", false, std::nullopt, T(45)));
    Must(store_->Heartbeat("w1", T(46), core::Seconds(30)));
    EXPECT_FALSE(Must(store_->GetInstance("i0")).state.next_check_at);
}

TEST_P(StoreConformance, DroppingAKeepersLeasesMakesItsInstancesDueNowNotWhenTheLeasesEnd) {
    Must(store_->CreateInstance(MakeInstance("i0")));
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->SetMonitoring("i1", true, std::nullopt, T(400)));
    ASSERT_EQ(Must(store_->KeepDueInstances("w1", T(1), core::Seconds(120), 10)).size(), 1u);  // i0, until T(121)
    // The process restarts under its id at T(30): i0 is due at once, not at T(121); i1, never
    // w1's, keeps its own time.
    EXPECT_EQ(Must(store_->DropLeases("w1", T(30))), 1);
    EXPECT_EQ(Must(store_->GetInstance("i0")).state.next_check_at, T(30));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.next_check_at, T(400));
    const auto again = Must(store_->ClaimDueInstances("w1", T(30), core::Seconds(120), 10));
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].id, "i0");
}

TEST_P(StoreConformance, GetInstancesReadsManyInTheOrderAskedWithTheirLeases) {
    for (int n = 0; n < 3; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    Must(store_->DeleteInstance("i2", T(1)));
    ASSERT_EQ(Must(store_->ClaimDueInstances("w1", T(1), core::Seconds(5), 1)).size(), 1u);  // i0
    const auto got = Must(store_->GetInstances({"i2", "ghost", "i0", "i1"}));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].id, "i2");
    EXPECT_TRUE(got[0].deleted_at);
    EXPECT_EQ(got[1].id, "i0");
    EXPECT_EQ(got[1].lease_owner, "w1");
    EXPECT_EQ(got[2].id, "i1");
    EXPECT_FALSE(got[2].lease_owner);
    EXPECT_TRUE(Must(store_->GetInstances({})).empty());
    const auto repeated = store_->GetInstances({"i0", "i0"});
    ASSERT_FALSE(repeated);
    ExpectCode(repeated.error(), ErrorCode::kInvalidArgument);
}

// --- change feed ---------------------------------------------------------------------------

// The ids ChangedInstances reports from `position` on, which it moves to the next position.
std::vector<std::string> ChangedIds(Store& store, std::int64_t& position) {
    const auto changes = Must(store.ChangedInstances(position));
    position = changes.next;
    std::vector<std::string> ids;
    for (const Instance& instance : changes.instances)
        ids.push_back(instance.id);
    return ids;
}

TEST_P(StoreConformance, ChangedInstancesReportsEveryChangeButTheSchedulesAndTheLogCounters) {
    for (int n = 0; n < 5; ++n)
        Must(store_->CreateInstance(n == 3 ? MakeRunning("i3") : MakeInstance("i" + std::to_string(n))));
    const auto start = Must(store_->ChangedInstances(std::nullopt));
    EXPECT_TRUE(start.instances.empty());  // only the position
    std::int64_t at = start.next;
    EXPECT_TRUE(ChangedIds(*store_, at).empty());
    // Leases taken by a claim are a change; their renewal, the parked schedule, log appends,
    // a release by the owner and a state written with the values it had are none.
    ASSERT_EQ(Must(store_->KeepDueInstances("w1", T(1), core::Seconds(60), 10)).size(), 5u);
    EXPECT_THAT(ChangedIds(*store_, at), ElementsAre("i0", "i1", "i2", "i3", "i4"));
    Must(store_->Heartbeat("w1", T(2), core::Seconds(60)));
    Must(store_->AppendLogs({MakeLog("i0", 1), MakeLog("i0", 2)}));
    auto i1 = Must(store_->GetInstance("i1"));
    Must(store_->SaveState("i1", i1.state));
    EXPECT_TRUE(ChangedIds(*store_, at).empty());
    // State, a transition, a new health: changes. The same health again: none.
    i1.state.progress = 40;
    Must(store_->SaveState("i1", i1.state));
    Must(store_->ApplyTransition(MakeTransition("i2", "d1", "BUILDING", T(3))));
    Must(RecordProbe(*store_, Probe(HealthCheck{0, "i3", T(3), true, 200, 10, std::nullopt}, "HEALTHY")));
    EXPECT_THAT(ChangedIds(*store_, at), ElementsAre("i1", "i2", "i3"));
    Must(RecordProbe(*store_, Probe(HealthCheck{0, "i3", T(4), true, 200, 12, std::nullopt}, "HEALTHY")));
    EXPECT_TRUE(ChangedIds(*store_, at).empty());
    // Monitoring turned off, a deletion: changes, the rows as they are now.
    Must(store_->SetMonitoring("i4", false, std::nullopt, T(4)));
    Must(store_->DeleteInstance("i0", T(4)));
    auto changes = Must(store_->ChangedInstances(at));
    at = changes.next;
    ASSERT_EQ(changes.instances.size(), 2u);
    EXPECT_EQ(changes.instances[0].id, "i0");
    EXPECT_TRUE(changes.instances[0].deleted_at);
    EXPECT_EQ(changes.instances[1].id, "i4");
    EXPECT_FALSE(changes.instances[1].monitoring);
    EXPECT_FALSE(changes.instances[1].lease_owner);
    // Given back by its owner: no change; claimed by another worker then: a change.
    ASSERT_TRUE(Must(store_->ReleaseInstances("w1", {{"i2", T(5)}})).lost.empty());
    EXPECT_TRUE(ChangedIds(*store_, at).empty());
    ASSERT_EQ(Must(store_->KeepDueInstances("w2", T(6), core::Seconds(60), 1)).size(), 1u);
    EXPECT_THAT(ChangedIds(*store_, at), ElementsAre("i2"));
    // w1's leases end at T(62): another worker taking them over is a change of each (the two due
    // first; w2's own lease of i2, which ended at T(66), comes next).
    ASSERT_EQ(Must(store_->KeepDueInstances("w2", T(100), core::Seconds(60), 2)).size(), 2u);
    changes = Must(store_->ChangedInstances(at));
    ASSERT_EQ(changes.instances.size(), 2u);
    EXPECT_EQ(changes.instances[0].id, "i1");
    EXPECT_EQ(changes.instances[0].lease_owner, "w2");
    EXPECT_EQ(changes.instances[1].id, "i3");
    EXPECT_EQ(changes.instances[1].lease_owner, "w2");
    ExpectCode(store_->ChangedInstances(-1).error(), ErrorCode::kInvalidArgument);
}

// A row the caller holds as its own transition wrote it (the write's change position) is left
// out of the feed until someone changes it again; a position that is not the row's newest change
// holds nothing. On a backend that gives no positions, `held` changes nothing.
TEST_P(StoreConformance, ChangedInstancesLeavesOutARowHeldAsItsOwnWriteWroteIt) {
    for (int n = 0; n < 2; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    const std::int64_t start = Must(store_->ChangedInstances(std::nullopt)).next;
    const auto written = Must(store_->ApplyTransition(MakeTransition("i0", "d1", "BUILDING", T(3))));
    ASSERT_TRUE(written.applied);
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "BUILDING", T(3))));
    const std::int64_t position = written.change_position.value_or(-1);
    const auto ids = [&](const HeldChanges& held) {
        std::vector<std::string> out;
        for (const Instance& instance : Must(store_->ChangedInstances(start, held)).instances)
            out.push_back(instance.id);
        std::sort(out.begin(), out.end());
        return out;
    };
    EXPECT_THAT(ids({}), ElementsAre("i0", "i1"));
    EXPECT_THAT(ids({{"i0", position + 1}}), ElementsAre("i0", "i1"));
    if (written.change_position) {
        EXPECT_THAT(ids({{"i0", position}}), ElementsAre("i1"));
        // Recorded before (the same event again): nothing written, no position.
        const auto again = Must(store_->ApplyTransition(MakeTransition("i0", "d1", "BUILDING", T(3))));
        EXPECT_FALSE(again.applied);
        EXPECT_FALSE(again.change_position);
    } else {
        EXPECT_THAT(ids({{"i0", position}}), ElementsAre("i0", "i1"));
    }
    // Changed again by another writer: it comes, held or not, with the row as it is now.
    auto row = Must(store_->GetInstance("i0"));
    row.state.progress = 77;
    Must(store_->SaveState("i0", row.state));
    const auto changes = Must(store_->ChangedInstances(start, {{"i0", position}}));
    const auto found = std::find_if(changes.instances.begin(), changes.instances.end(),
                                    [](const Instance& i) { return i.id == "i0"; });
    ASSERT_NE(found, changes.instances.end());
    EXPECT_EQ(found->state.progress, 77);
}

// Writers commit while a reader follows the feed (on PostgreSQL transactions commit out of the
// order of their ids): after the writers stop, the reader's copies equal the stored rows.
TEST_P(StoreConformance, ChangedInstancesNeverMissesAChangeCommittedDuringARead) {
    constexpr int kInstances = 8;
    constexpr int kWrites = 100;
    for (int n = 0; n < kInstances; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    std::int64_t at = Must(store_->ChangedInstances(std::nullopt)).next;
    std::map<std::string, int> seen;  // progress as the reader last saw it
    std::atomic<int> writing{4};
    std::vector<std::thread> writers;
    writers.reserve(4);
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&, w] {
            auto store = OpenAgain();  // its own connections, as another process would have
            for (int k = 1; k <= kWrites; ++k) {
                for (int n = w; n < kInstances; n += 4) {
                    InstanceState state;
                    state.progress = k;
                    Must(store->SaveState("i" + std::to_string(n), state));
                }
            }
            --writing;
        });
    }
    const auto follow = [&] {
        const auto changes = Must(store_->ChangedInstances(at));
        for (const Instance& instance : changes.instances)
            seen[instance.id] = instance.state.progress;
        at = changes.next;
    };
    int reads = 0;
    while (writing.load() > 0 && reads < 100000) {
        follow();
        ++reads;
    }
    for (std::thread& t : writers)
        t.join();
    follow();
    for (int n = 0; n < kInstances; ++n)
        EXPECT_EQ(seen["i" + std::to_string(n)], kWrites) << "i" << n;
    EXPECT_GT(reads, 1);
}

// Workers claim and give back in batches at the same time: each instance is claimed once per
// due time and every release lands.
TEST_P(StoreConformance, ConcurrentClaimsAndBatchedReleasesLoseNothing) {
    constexpr int kInstances = 200;
    for (int n = 0; n < kInstances; ++n)
        Must(store_->CreateInstance(MakeInstance("i" + std::to_string(n))));
    std::mutex mutex;
    std::multiset<std::string> claimed;
    std::atomic<int> released{0}, lost{0}, failures{0};
    std::vector<std::thread> workers;
    workers.reserve(4);
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            const std::string owner = "w" + std::to_string(w);
            for (int round = 0; round < 100; ++round) {
                auto got = store_->ClaimDueInstances(owner, T(1), core::Seconds(60), 15);
                if (!got) ++failures;
                if (!got || got->empty()) break;
                std::vector<InstanceRelease> batch;
                {
                    std::lock_guard lock(mutex);
                    for (const auto& i : *got) {
                        claimed.insert(i.id);
                        batch.push_back({i.id, T(1000)});
                    }
                }
                const auto report = store_->ReleaseInstances(owner, batch);
                if (!report) {
                    ADD_FAILURE() << report.error().ToString();
                    ++failures;
                    break;
                }
                released += report->released;
                lost += static_cast<int>(report->lost.size());
            }
        });
    }
    for (auto& w : workers)
        w.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kInstances));
    EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(), static_cast<std::size_t>(kInstances));
    EXPECT_EQ(released.load(), kInstances);
    EXPECT_EQ(lost.load(), 0);
    EXPECT_TRUE(Must(store_->ClaimDueInstances("late", T(999), core::Seconds(60), 1000)).empty());
    EXPECT_EQ(Must(store_->ClaimDueInstances("late", T(1000), core::Seconds(60), 1000)).size(),
              static_cast<std::size_t>(kInstances));
}

// --- Railway's steps ------------------------------------------------------------------------

DeploymentStepRecord Step(std::string step, int created, std::optional<int> completed = std::nullopt,
                          std::string error = {}) {
    return DeploymentStepRecord{"", std::move(step), T(created),
                                completed ? std::optional<Timestamp>(T(*completed)) : std::nullopt, std::move(error)};
}

// A deployment's steps are replaced as a whole, kept in their order, unknown names and missing
// times as given; another instance's are its own.
using Steps = std::vector<DeploymentStepRecord>;

TEST_P(StoreConformance, StepsOfADeploymentAreReplacedAsAWholeAndListedInOrder) {
    Must(store_->CreateInstance(MakeInstance("i")));
    Must(store_->CreateInstance(MakeInstance("other")));
    std::vector<DeploymentStepRecord> steps = {Step("SNAPSHOT_CODE", 10, 12), Step("BUILD_IMAGE", 12)};
    Must(store_->SaveSteps("i", "dep-1", steps, T(20)));
    Must(store_->SaveSteps("other", "dep-1", Steps{Step("SNAPSHOT_CODE", 11, 13)}, T(20)));
    auto listed = Must(store_->ListSteps("i"));
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0], (DeploymentStepRecord{"dep-1", "SNAPSHOT_CODE", T(10), T(12), ""}));
    EXPECT_EQ(listed[1], (DeploymentStepRecord{"dep-1", "BUILD_IMAGE", T(12), std::nullopt, ""}));
    steps = {Step("SNAPSHOT_CODE", 10, 12), Step("BUILD_IMAGE", 12, 70, "exit code 1"), Step("A_NEW_STEP", 0)};
    steps[2].created_at.reset();
    Must(store_->SaveSteps("i", "dep-1", steps, T(80)));
    listed = Must(store_->ListSteps("i"));
    ASSERT_EQ(listed.size(), 3u);
    EXPECT_EQ(listed[1], (DeploymentStepRecord{"dep-1", "BUILD_IMAGE", T(12), T(70), "exit code 1"}));
    EXPECT_EQ(listed[2], (DeploymentStepRecord{"dep-1", "A_NEW_STEP", std::nullopt, std::nullopt, ""}));
    Must(store_->SaveSteps("i", "dep-1", Steps{}, T(90)));  // none: forgotten
    EXPECT_TRUE(Must(store_->ListSteps("i")).empty());
    EXPECT_EQ(Must(store_->ListSteps("other")).size(), 1u);
    EXPECT_TRUE(Must(store_->ListSteps("nobody")).empty());
}

// The steps of the instance's kStepDeploymentsKept deployments saved last are kept, oldest first.
TEST_P(StoreConformance, StepsAreKeptForTheNewestDeploymentsOfAnInstance) {
    Must(store_->CreateInstance(MakeInstance("i")));
    const int kept = Timeline::kStepDeploymentsKept;
    for (int d = 0; d < kept + 5; ++d) {
        Must(store_->SaveSteps("i", "dep-" + std::to_string(100 + d),
                               Steps{Step("SNAPSHOT_CODE", d * 10, d * 10 + 1), Step("BUILD_IMAGE", d * 10 + 1)},
                               T(d * 10)));
    }
    // Saved again later: dep-100 is among the newest now, dep-105 (saved longest ago) goes next.
    Must(store_->SaveSteps("i", "dep-100", Steps{Step("SNAPSHOT_CODE", 0, 1)}, T(1000)));
    const auto listed = Must(store_->ListSteps("i"));
    ASSERT_EQ(listed.size(), static_cast<std::size_t>((kept - 1) * 2 + 1));
    EXPECT_EQ(listed.front().deployment_id, "dep-106");
    EXPECT_EQ(listed[1].deployment_id, "dep-106");
    EXPECT_EQ(listed[1].step, "BUILD_IMAGE");
    EXPECT_EQ(listed.back().deployment_id, "dep-100");
}

TEST_P(StoreConformance, StepsRefuseBadInputAndUnknownInstancesWritingNothing) {
    Must(store_->CreateInstance(MakeInstance("i")));
    auto bad = store_->SaveSteps("nobody", "dep-1", Steps{Step("SNAPSHOT_CODE", 1)}, T(2));
    ASSERT_FALSE(bad);
    ExpectCode(bad.error(), ErrorCode::kNotFound);
    bad = store_->SaveSteps("i", "", Steps{Step("SNAPSHOT_CODE", 1)}, T(2));
    ASSERT_FALSE(bad);
    ExpectCode(bad.error(), ErrorCode::kInvalidArgument);
    bad = store_->SaveSteps("i", "dep-1", Steps{Step("SNAPSHOT_CODE", 1), Step("", 2)}, T(2));
    ASSERT_FALSE(bad);
    ExpectCode(bad.error(), ErrorCode::kInvalidArgument);
    bad = store_->SaveSteps("i", "dep-1", Steps{Step("BUILD_IMAGE", 1, 2, std::string("bad\xff utf-8"))}, T(2));
    ASSERT_FALSE(bad);
    ExpectCode(bad.error(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Must(store_->ListSteps("i")).empty());
}

// --- attention and stats ----------------------------------------------------------------

TEST_P(StoreConformance, AttentionListsFlaggedAndStuckInstancesWithTheirUser) {
    Must(store_->CreateUser(MakeUser("u1")));
    Instance flagged = MakeInstance("flagged", T(0));
    flagged.user_id = "u1";
    flagged.state.status = InstanceStatus::kFailed;
    flagged.state.needs_attention = true;
    flagged.state.attention_reason = "redeploys exhausted";
    Instance stuck = MakeInstance("stuck", T(0));
    stuck.state.status = InstanceStatus::kDeploying;
    stuck.state.deployment_updated_at = T(100);
    Instance moving = MakeInstance("moving", T(0));
    moving.state.status = InstanceStatus::kDeploying;
    moving.state.deployment_updated_at = T(650);
    Instance fine = MakeInstance("fine", T(0));
    fine.state.status = InstanceStatus::kRunning;
    for (const auto& i : {flagged, stuck, moving, fine})
        Must(store_->CreateInstance(i));
    AttentionQuery q;
    q.now = T(1000);  // the default policy: 600 s per phase
    const auto items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].instance.id, "flagged");
    ASSERT_TRUE(items[0].user);
    EXPECT_EQ(items[0].user->email, "u1@example.com");
    EXPECT_TRUE(items[0].verdict.flagged);
    EXPECT_FALSE(items[0].verdict.stuck.stuck);
    EXPECT_EQ(items[0].verdict.reason, "redeploys exhausted");
    EXPECT_EQ(items[1].instance.id, "stuck");
    EXPECT_FALSE(items[1].user);
    EXPECT_TRUE(items[1].verdict.stuck.stuck);
    EXPECT_EQ(items[1].verdict.idle_since, T(100));
}

TEST_P(StoreConformance, AttentionLeavesOutDeletedInstances) {
    Instance flagged = MakeInstance("flagged");
    flagged.state.needs_attention = true;
    Must(store_->CreateInstance(flagged));
    Must(store_->DeleteInstance("flagged", T(1)));
    AttentionQuery q;
    q.now = T(10000);
    EXPECT_TRUE(Must(ListAttention(*store_, q)).empty());
    EXPECT_TRUE(Must(store_->ListAttentionCandidates()).empty());
}

// A deployment that entered DEPLOYING recently is not stuck however old the instance is; a
// log line is a sign of life; without either, the phase's deadline counts from the transition.
// A status entered again (DEPLOYING after a restart, if Railway shows one so) began again: the
// stall is measured from that entry, not from the deployment's first time in it; a decision row
// that kept the status does not move it.
TEST_P(StoreConformance, AttentionMeasuresAStatusEnteredAgainFromItsLatestEntry) {
    Must(store_->CreateInstance(MakeInstance("restarted", T(0))));
    for (const auto& [status, at] : {std::pair{"DEPLOYING", 100}, {"SUCCESS", 200}, {"DEPLOYING", 900}}) {
        Transition t = MakeTransition("restarted", "dep-1", status, T(at));
        t.state.deployment_updated_at.reset();
        Must(store_->ApplyTransition(t));
    }
    Transition kept = MakeTransition("restarted", "dep-1", "DEPLOYING", T(950));
    kept.from_status = "DEPLOYING";
    kept.source = "reaction";
    kept.state.deployment_updated_at.reset();
    Must(store_->ApplyTransition(kept));
    const auto candidates = Must(store_->ListAttentionCandidates());
    ASSERT_EQ(candidates.size(), 1u);
    EXPECT_EQ(candidates[0].status_entered_at, T(900));
    AttentionQuery q;
    q.now = T(1000);
    EXPECT_TRUE(Must(ListAttention(*store_, q)).empty()) << "deploying for 100 s, not 900";
}

TEST_P(StoreConformance, AttentionMeasuresStuckFromTheTimelineAndTheLogs) {
    auto deploying = [&](const std::string& id, Timestamp entered) {
        Must(store_->CreateInstance(MakeInstance(id, T(0))));
        Transition t = MakeTransition(id, "dep-" + id, "BUILDING", T(0));
        t.state.deployment_updated_at.reset();
        Must(store_->ApplyTransition(t));
        t = MakeTransition(id, "dep-" + id, "DEPLOYING", entered);
        t.state.deployment_updated_at.reset();
        Must(store_->ApplyTransition(t));
    };
    deploying("recent", T(500));
    deploying("logging", T(100));
    deploying("silent", T(100));
    Must(store_->AppendLogs({MakeLog("logging", 900, LogKind::kDeploy, "dep-logging"),
                             MakeLog("logging", 50, LogKind::kBuild, "dep-logging"),
                             MakeLog("silent", 950, LogKind::kDeploy, "another-deployment")}));
    AttentionQuery q;
    q.now = T(1000);
    auto items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].instance.id, "silent");
    EXPECT_EQ(items[0].verdict.stuck.phase, core::DeploymentStatus::kDeploying);
    EXPECT_EQ(items[0].verdict.idle_since, T(100));
    q.now = T(1501);
    items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 3u);
    EXPECT_EQ(items[0].instance.id, "silent");
    EXPECT_EQ(items[1].instance.id, "recent");
    EXPECT_EQ(items[2].instance.id, "logging");
    EXPECT_EQ(items[2].verdict.idle_since, T(900));
    // The raw facts behind it.
    const auto candidates = Must(store_->ListAttentionCandidates());
    ASSERT_EQ(candidates.size(), 3u);
    EXPECT_EQ(candidates[0].instance.id, "logging");
    EXPECT_EQ(candidates[0].status_entered_at, T(100));
    EXPECT_EQ(candidates[0].last_log_at, T(900));
    EXPECT_FALSE(candidates[2].last_log_at);  // "silent": its only line is of another deployment
    EXPECT_FALSE(candidates[0].decided_at);
}

// A row that keeps the status (a reaction, the engine's attention flag) does not move when the
// status began; it is when the flag was set. Rows of another source or deployment are not.
TEST_P(StoreConformance, AttentionCandidatesKnowWhenTheStatusBeganAndWhenTheFlagWasSet) {
    Must(store_->CreateInstance(MakeInstance("i", T(0))));
    Must(store_->ApplyTransition(MakeTransition("i", "dep-old", "SUCCESS", T(10))));
    Transition old_reaction = MakeTransition("i", "dep-old", "SUCCESS", T(20));
    old_reaction.source = "reaction";
    Must(store_->ApplyTransition(old_reaction));
    Transition t = MakeTransition("i", "dep-1", "BUILDING", T(100));
    t.from_status = "SUCCESS";
    Must(store_->ApplyTransition(t));
    auto candidates = Must(store_->ListAttentionCandidates());
    ASSERT_EQ(candidates.size(), 1u);
    EXPECT_EQ(candidates[0].status_entered_at, T(100));
    EXPECT_FALSE(candidates[0].decided_at);  // the old deployment's decision is not this one's
    Transition flag = MakeTransition("i", "dep-1", "BUILDING", T(800));
    flag.from_status = "BUILDING";
    flag.source = "attention";
    flag.state.needs_attention = true;
    flag.state.attention_reason = "no progress in BUILDING for 700 s (deadline 600 s)";
    flag.state.deployment_updated_at = T(100);
    Must(store_->ApplyTransition(flag));
    Transition later = flag;  // a poll's row that kept the status
    later.at = T(900);
    later.source = "poll";
    Must(store_->ApplyTransition(later));
    candidates = Must(store_->ListAttentionCandidates());
    ASSERT_EQ(candidates.size(), 1u);
    EXPECT_EQ(candidates[0].status_entered_at, T(100));
    EXPECT_EQ(candidates[0].decided_at, T(800));
    AttentionQuery q;
    q.now = T(1000);
    auto items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].verdict.since, T(800));
    // A reaction row is a decision too.
    Transition reaction = flag;
    reaction.at = T(950);
    reaction.source = "reaction";
    Must(store_->ApplyTransition(reaction));
    candidates = Must(store_->ListAttentionCandidates());
    ASSERT_EQ(candidates.size(), 1u);
    EXPECT_EQ(candidates[0].decided_at, T(950));
}

TEST_P(StoreConformance, AttentionFollowsThePolicyAndListsRailwayStallsApart) {
    Instance approval = MakeInstance("approval", T(0));
    approval.state.status = InstanceStatus::kInitializing;
    approval.state.deployment_status = "NEEDS_APPROVAL";
    Instance stalled = MakeInstance("stalled", T(0));
    stalled.state.status = InstanceStatus::kDeploying;
    stalled.state.deployment_status = "BUILDING";
    Instance flagged = MakeInstance("flagged", T(3000));
    flagged.state.status = InstanceStatus::kFailed;
    flagged.state.needs_attention = true;
    for (const auto& i : {approval, stalled, flagged})
        Must(store_->CreateInstance(i));
    AttentionQuery q;
    q.now = T(4000);
    auto items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 2u);  // waiting for approval is what NEEDS_APPROVAL is for
    EXPECT_EQ(items[0].instance.id, "stalled");
    EXPECT_EQ(items[1].instance.id, "flagged");
    q.stuck_policy.per_phase[core::DeploymentStatus::kNeedsApproval] = core::Seconds(3600);
    q.stuck_policy.per_phase[core::DeploymentStatus::kBuilding] = core::Seconds(7200);
    items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 2u);
    // Oldest first by when each started needing attention: the flag (no decision row: its
    // creation, T(3000)) before the approval's wait ran past its hour (T(3600)).
    EXPECT_EQ(items[0].instance.id, "flagged");
    EXPECT_EQ(items[0].verdict.since, T(3000));
    EXPECT_EQ(items[1].instance.id, "approval");
    EXPECT_EQ(items[1].verdict.since, T(3600));
    // During a Railway incident the stall is listed after what the user can act on.
    q.stuck_policy = {};
    q.platform_incident = true;
    items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].instance.id, "flagged");
    EXPECT_FALSE(items[0].verdict.platform_suspected);
    EXPECT_EQ(items[1].instance.id, "stalled");
    EXPECT_TRUE(items[1].verdict.platform_suspected);
    // The limit applies to what the rule lists, not to the candidates.
    q.limit = 1;
    items = Must(ListAttention(*store_, q));
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].instance.id, "flagged");
    q.limit = 0;
    const auto bad = ListAttention(*store_, q);
    ASSERT_FALSE(bad);
    ExpectCode(bad.error(), ErrorCode::kInvalidArgument);
}

TEST_P(StoreConformance, StatsOfAnEmptyStoreAreZero) {
    const core::FleetStats s = Must(GetFleetStats(*store_));
    EXPECT_EQ(s.counts.total, 0u);
    EXPECT_EQ(s.counts.deployments_seen, 0u);
    EXPECT_FALSE(s.avg_deployment_seconds);
    EXPECT_DOUBLE_EQ(s.error_rate, 0.0);
}

TEST_P(StoreConformance, StatsCountInstancesAndDeploymentsFromEvents) {
    Instance running = MakeInstance("run");
    running.state.status = InstanceStatus::kRunning;
    Instance failed = MakeInstance("fail");
    failed.state.status = InstanceStatus::kFailed;
    failed.state.needs_attention = true;
    Instance pending = MakeInstance("pend");
    Must(store_->CreateInstance(running));
    Must(store_->CreateInstance(failed));
    Must(store_->CreateInstance(pending));
    Must(store_->CreateInstance(MakeInstance("gone")));
    // d1: 100 s to SUCCESS; d2: 50 s to SUCCESS; d3 fails; d4 still building; d5 (of an
    // instance deleted since) crashes after its SUCCESS: finished, failed and succeeded.
    Must(store_->ApplyTransition(MakeTransition("gone", "d5", "DEPLOYING", T(0))));
    Must(store_->ApplyTransition(MakeTransition("gone", "d5", "SUCCESS", T(30))));
    Must(store_->ApplyTransition(MakeTransition("gone", "d5", "CRASHED", T(40))));
    Must(store_->DeleteInstance("gone", T(41)));
    Must(store_->ApplyTransition(MakeTransition("run", "d1", "BUILDING", T(0))));
    Must(store_->ApplyTransition(MakeTransition("run", "d1", "SUCCESS", T(100))));
    Must(store_->ApplyTransition(MakeTransition("run", "d2", "BUILDING", T(200))));
    Must(store_->ApplyTransition(MakeTransition("run", "d2", "SUCCESS", T(250))));
    Must(store_->ApplyTransition(MakeTransition("fail", "d3", "BUILDING", T(0))));
    Must(store_->ApplyTransition(MakeTransition("fail", "d3", "FAILED", T(30))));
    Must(store_->ApplyTransition(MakeTransition("pend", "d4", "BUILDING", T(0))));
    // The transitions moved statuses; put them back for the instance counts.
    InstanceState s;
    s.status = InstanceStatus::kRunning;
    s.health = "HEALTHY";
    Must(store_->SaveState("run", s));
    s.status = InstanceStatus::kFailed;
    s.health = std::nullopt;
    s.needs_attention = true;
    s.error_type = core::ErrorClass::kConfiguration;
    Must(store_->SaveState("fail", s));
    const core::FleetCounts c = Must(store_->CountFleet());
    std::vector<core::Duration> times = c.succeeded_times;
    std::sort(times.begin(), times.end());
    EXPECT_EQ(times, (std::vector<core::Duration>{core::Seconds(30), core::Seconds(50), core::Seconds(100)}));
    // Not DELETED only: "gone" is left out of both.
    EXPECT_EQ(c.by_health, (std::map<std::string, std::size_t>{{"HEALTHY", 1}, {"UNKNOWN", 2}}));
    EXPECT_EQ(c.by_error_type, (std::map<std::string, std::size_t>{{"CONFIGURATION", 1}}));
    EXPECT_EQ(c.total, 3u);
    EXPECT_EQ(c.running, 1u);
    EXPECT_EQ(c.failed, 1u);
    EXPECT_EQ(c.initializing, 0u);
    EXPECT_EQ(c.deploying, 1u);  // "pend": its BUILDING transition set DEPLOYING
    EXPECT_EQ(c.deleted, 1u);
    EXPECT_EQ(c.flagged, 1u);
    EXPECT_EQ(c.deployments_seen, 5u);
    EXPECT_EQ(c.deployments_finished, 4u);
    EXPECT_EQ(c.deployments_failed, 2u);
    EXPECT_EQ(c.deployments_succeeded, 3u);
    EXPECT_EQ(c.succeeded_time_total, core::Seconds(180));
    const core::FleetStats st = Must(GetFleetStats(*store_));
    EXPECT_EQ(st.pending, 1u);
    ASSERT_TRUE(st.avg_deployment_seconds);
    EXPECT_DOUBLE_EQ(*st.avg_deployment_seconds, 60.0);
    ASSERT_TRUE(st.p50_deployment_seconds);
    EXPECT_DOUBLE_EQ(*st.p50_deployment_seconds, 50.0);
    EXPECT_DOUBLE_EQ(st.error_rate, 2.0 / 4.0);
}

TEST_P(StoreConformance, FinishedDeploymentsOfAWindowCarryTheirStartFailureAndVerdictClass) {
    Must(store_->CreateInstance(MakeInstance("a")));
    Must(store_->CreateInstance(MakeInstance("b")));
    // d1 succeeds in the window; d2 fails in it and its verdict (a reaction event) classifies it,
    // then "b" moves on to d3 with the error cleared: d2 keeps its class. d4 finishes after the
    // window, d5 never finishes, d6 finished (SUCCESS) before the window and crashes in it.
    Must(store_->ApplyTransition(MakeTransition("a", "d1", "BUILDING", T(0))));
    Must(store_->ApplyTransition(MakeTransition("a", "d1", "SUCCESS", T(100))));
    Must(store_->ApplyTransition(MakeTransition("b", "d2", "BUILDING", T(50))));
    Must(store_->ApplyTransition(MakeTransition("b", "d2", "FAILED", T(130))));
    Transition verdict = MakeTransition("b", "d2", "FAILED", T(131));
    verdict.from_status = "FAILED";
    verdict.source = "reaction";
    verdict.state.error_type = core::ErrorClass::kConfiguration;
    Must(store_->ApplyTransition(verdict));
    Must(store_->ApplyTransition(MakeTransition("b", "d3", "BUILDING", T(140))));
    Must(store_->ApplyTransition(MakeTransition("a", "d4", "BUILDING", T(150))));
    Must(store_->ApplyTransition(MakeTransition("a", "d4", "SUCCESS", T(300))));
    Must(store_->ApplyTransition(MakeTransition("a", "d5", "BUILDING", T(160))));
    Must(store_->ApplyTransition(MakeTransition("a", "d6", "BUILDING", T(5))));
    Must(store_->ApplyTransition(MakeTransition("a", "d6", "SUCCESS", T(10))));
    Must(store_->ApplyTransition(MakeTransition("a", "d6", "CRASHED", T(150))));

    const auto found = Must(store_->ListFinishedDeployments(T(60), T(200)));
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].started_at, T(0));
    EXPECT_EQ(found[0].finished_at, T(100));
    EXPECT_FALSE(found[0].failed);
    EXPECT_FALSE(found[0].error_class);
    EXPECT_EQ(found[1].started_at, T(50));
    EXPECT_EQ(found[1].finished_at, T(130));
    EXPECT_TRUE(found[1].failed);
    EXPECT_EQ(found[1].error_class, core::ErrorClass::kConfiguration);
    // The window's end is exclusive, its start inclusive.
    EXPECT_TRUE(Must(store_->ListFinishedDeployments(T(101), T(130))).empty());
    EXPECT_EQ(Must(store_->ListFinishedDeployments(T(100), T(101))).size(), 1u);
    // d6: its finish is its first SUCCESS; it counts as failed (it crashed later).
    const auto early = Must(store_->ListFinishedDeployments(T(0), T(60)));
    ASSERT_EQ(early.size(), 1u);
    EXPECT_EQ(early[0].finished_at, T(10));
    EXPECT_TRUE(early[0].failed);
}

// A deployment two instances follow (two users watching one service) is one deployment: its first
// event and its first finish are the earliest either recorded, its class the newest either gave, and
// it finishes in the window where the first of them saw it finish. An instance created following a
// deployment finds its events as one that moved to it.
TEST_P(StoreConformance, ADeploymentTwoInstancesFollowIsOneFinishedDeployment) {
    Must(store_->CreateInstance(MakeInstance("a")));
    Must(store_->CreateInstance(MakeInstance("b")));
    Instance c = MakeInstance("c");
    c.state.deployment_id = "d3";
    Must(store_->CreateInstance(c));
    Must(store_->ApplyTransition(MakeTransition("b", "d0", "SUCCESS", T(1))));
    Must(store_->ApplyTransition(MakeTransition("a", "d1", "BUILDING", T(20))));
    Must(store_->ApplyTransition(MakeTransition("b", "d1", "BUILDING", T(40))));
    Must(store_->ApplyTransition(MakeTransition("b", "d1", "FAILED", T(118))));
    Must(store_->ApplyTransition(MakeTransition("a", "d1", "FAILED", T(125))));
    Transition verdict = MakeTransition("a", "d1", "FAILED", T(126));
    verdict.from_status = "FAILED";
    verdict.source = "reaction";
    verdict.state.error_type = core::ErrorClass::kConfiguration;
    Must(store_->ApplyTransition(verdict));
    // d2: "b" sees it finish at 140, "a" only at 150.
    Must(store_->ApplyTransition(MakeTransition("b", "d2", "BUILDING", T(130))));
    Must(store_->ApplyTransition(MakeTransition("a", "d2", "BUILDING", T(135))));
    Must(store_->ApplyTransition(MakeTransition("b", "d2", "SUCCESS", T(140))));
    Must(store_->ApplyTransition(MakeTransition("a", "d2", "SUCCESS", T(150))));
    // d3: "c" was created following it.
    Must(store_->ApplyTransition(MakeTransition("c", "d3", "BUILDING", T(100))));
    Must(store_->ApplyTransition(MakeTransition("c", "d3", "CRASHED", T(142))));

    const auto found = Must(store_->ListFinishedDeployments(T(100), T(145)));
    ASSERT_EQ(found.size(), 3u);
    EXPECT_EQ(found[0].started_at, T(20));
    EXPECT_EQ(found[0].finished_at, T(118));
    EXPECT_TRUE(found[0].failed);
    EXPECT_EQ(found[0].error_class, core::ErrorClass::kConfiguration);
    EXPECT_EQ(found[1].started_at, T(130));
    EXPECT_EQ(found[1].finished_at, T(140));
    EXPECT_FALSE(found[1].failed);
    EXPECT_FALSE(found[1].error_class);
    EXPECT_EQ(found[2].started_at, T(100));
    EXPECT_EQ(found[2].finished_at, T(142));
    EXPECT_TRUE(found[2].failed);
    // The later sightings of a finish are not finishes.
    EXPECT_TRUE(Must(store_->ListFinishedDeployments(T(145), T(200))).empty());
    EXPECT_TRUE(Must(store_->ListFinishedDeployments(T(119), T(130))).empty());
    // Every deployment counted once in the totals as well: d0 to d3, all finished, d1 and d3 failed.
    const core::FleetCounts counts = Must(store_->CountFleet());
    EXPECT_EQ(counts.deployments_seen, 4u);
    EXPECT_EQ(counts.deployments_finished, 4u);
    EXPECT_EQ(counts.deployments_failed, 2u);
}

TEST_P(StoreConformance, EngineMinutesAddUpPerWorkerKeepTheLatestBudgetAndRotate) {
    const Timestamp m0 = T(600);
    const Timestamp m1 = T(660);
    auto minute = [](Timestamp at, long long checks, long long requests, std::optional<long long> budget,
                     std::optional<Timestamp> seen) {
        return core::EngineMinute{at, checks, requests, budget, seen};
    };
    Must(store_->RecordEngineMinutes("w1", {minute(m0, 3, 2, 900, m0 + core::Seconds(10))}, T(0)));
    Must(store_->RecordEngineMinutes(
        "w1", {minute(m0, 4, 1, 880, m0 + core::Seconds(50)), minute(m1, 1, 1, std::nullopt, std::nullopt)}, T(0)));
    // Seen earlier than the stored budget: the counts add, the budget stays.
    Must(store_->RecordEngineMinutes("w1", {minute(m0, 0, 0, 950, m0 + core::Seconds(5))}, T(0)));
    // Another process, from another connection, writes its own row of the same minute.
    auto other = OpenAgain();
    ASSERT_NE(other, nullptr);
    Must(other->RecordEngineMinutes("w2", {minute(m0, 10, 5, std::nullopt, std::nullopt)}, T(0)));

    const auto rows = Must(store_->ListEngineMinutes(m0, m1 + core::Seconds(60)));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].minute, m0);  // w1
    EXPECT_EQ(rows[0].checks, 7);
    EXPECT_EQ(rows[0].api_requests, 3);
    EXPECT_EQ(rows[0].budget_remaining, 880);
    EXPECT_EQ(rows[0].budget_seen_at, m0 + core::Seconds(50));
    EXPECT_EQ(rows[1].minute, m0);  // w2
    EXPECT_EQ(rows[1].checks, 10);
    EXPECT_FALSE(rows[1].budget_remaining);
    EXPECT_EQ(rows[2].minute, m1);
    EXPECT_EQ(rows[2].checks, 1);
    EXPECT_EQ(Must(store_->ListEngineMinutes(m1, m1 + core::Seconds(60))).size(), 1u);

    // Rotation drops every process's rows before the bound.
    Must(store_->RecordEngineMinutes("w1", {}, m1));
    const auto kept = Must(store_->ListEngineMinutes(T(0), T(100000)));
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].minute, m1);
}

TEST_P(StoreConformance, EngineMinuteNotOnAWholeMinuteIsRejectedAndNothingIsWritten) {
    const auto r = store_->RecordEngineMinutes(
        "w1", {core::EngineMinute{T(60), 1, 0, std::nullopt, std::nullopt}, core::EngineMinute{T(61), 1, 0, {}, {}}},
        T(0));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_TRUE(Must(store_->ListEngineMinutes(T(0), T(1000))).empty());
}

// --- bad input --------------------------------------------------------------------------

TEST_P(StoreConformance, VeryLongTextIsStoredVerbatim) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    std::string big;
    for (int n = 0; big.size() < 900'000; ++n)
        big += "line " + std::to_string(n) + " ünïcödé ✓ 𝄞\n";
    InstanceState s;
    s.error_stack = big;
    Must(store_->SaveState("i1", s));
    EXPECT_EQ(Must(store_->GetInstance("i1")).state.error_stack, big);
    LogLine l = MakeLog("i1", 1);
    l.message = big;
    Must(store_->AppendLogs({l}));
    EXPECT_EQ(Must(store_->RecentLogs("i1", 1)).at(0).message, big);
}

TEST_P(StoreConformance, TextOverTheLimitIsRejectedWithTheFieldName) {
    Must(store_->CreateInstance(MakeInstance("i1")));
    InstanceState s;
    s.error_message = std::string(kMaxTextBytes + 1, 'x');
    const auto r = store_->SaveState("i1", s);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("error_message"));
    EXPECT_THAT(r.error().message, HasSubstr("at most"));
    EXPECT_FALSE(Must(store_->GetInstance("i1")).state.error_message);
}

TEST_P(StoreConformance, InvalidUtf8IsRejectedAndNothingIsStored) {
    for (const std::string& bad : {std::string("\xff"), std::string("ab\xc0\xaf"), std::string("\xed\xa0\x80"),
                                   std::string("trunc \xe2\x82"), std::string("\xf5\x80\x80\x80")}) {
        Instance i = MakeInstance("i1");
        i.project_name = bad;
        const auto r = store_->CreateInstance(i);
        ASSERT_FALSE(r);
        ExpectCode(r.error(), ErrorCode::kInvalidArgument);
        EXPECT_THAT(r.error().message, HasSubstr("project_name"));
        EXPECT_THAT(r.error().message, HasSubstr("UTF-8"));
    }
    EXPECT_FALSE(store_->GetInstance("i1"));
}

TEST_P(StoreConformance, NulBytesAreRejectedWithTheirOffset) {
    Must(store_->CreateUser(MakeUser("u1")));
    Notification n = MakeNotification("n1", "u1", T(1));
    n.message = std::string("before\0after", 12);
    const auto r = store_->AddNotification(n);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("NUL byte at offset 6"));
    EXPECT_TRUE(Must(store_->ListNotifications({})).empty());
}

TEST_P(StoreConformance, SqlMetacharactersAreStoredVerbatim) {
    const std::string nasty = "'; DROP TABLE instances; -- \" ` \\ % _ $1 ?1 :name @x /* */ \t\r\n";
    Must(store_->CreateUser(User{"u'1", "o'brien@example.com", nasty, "pro", T(0)}));
    Instance i = MakeInstance("i'; DROP TABLE users; --");
    i.user_id = "u'1";
    i.project_name = nasty;
    i.state.error_message = nasty;
    Must(store_->CreateInstance(i));
    EXPECT_EQ(Must(store_->GetInstance(i.id)), i);
    EXPECT_EQ(Must(store_->GetUser("u'1")).name, nasty);
    LogLine l = MakeLog(i.id, 1);
    l.message = nasty;
    Must(store_->AppendLogs({l}));
    EXPECT_EQ(Must(store_->RecentLogs(i.id, 1)).at(0).message, nasty);
    EXPECT_EQ(Must(store_->ListUsers()).size(), 1u);
}

TEST_P(StoreConformance, MultilingualTextRoundTrips) {
    const std::string text = "Ошибка 部署失败 ❌ 🚀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 عربى ä\u00a0\u200b";
    Must(store_->CreateInstance(MakeInstance("i1")));
    InstanceState s;
    s.error_message = text;
    s.attention_reason = text;
    Must(store_->SaveState("i1", s));
    const auto got = Must(store_->GetInstance("i1"));
    EXPECT_EQ(got.state.error_message, text);
    EXPECT_EQ(got.state.attention_reason, text);
}

TEST_P(StoreConformance, OutOfRangeNumbersAreRejected) {
    Instance i = MakeInstance("i1");
    i.state.progress = 101;
    auto r = store_->CreateInstance(i);
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("progress"));
    i.state.progress = 0;
    i.check_interval_s = 0;
    r = store_->CreateInstance(i);
    ASSERT_FALSE(r);
    EXPECT_THAT(r.error().message, HasSubstr("check_interval_s"));
    EXPECT_FALSE(store_->GetInstance("i1"));
}

TEST_P(StoreConformance, EmptyIdsAreRejected) {
    const auto r = store_->CreateInstance(MakeInstance(""));
    ASSERT_FALSE(r);
    ExpectCode(r.error(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("instance id is empty"));
}

TEST_P(StoreConformance, ASecondStoreOnTheSameDatabaseSeesCommittedWrites) {
    auto other = OpenAgain();
    ASSERT_NE(other, nullptr);
    Must(store_->CreateInstance(MakeInstance("i1")));
    Must(store_->ApplyTransition(MakeTransition("i1", "d1", "SUCCESS", T(1), {"k"})));
    EXPECT_EQ(Must(other->GetInstance("i1")).state.deployment_status, "SUCCESS");
    EXPECT_EQ(Must(other->ClaimOutbox("o", T(2), core::Seconds(5), 10)).size(), 1u);
    EXPECT_TRUE(Must(store_->ClaimOutbox("s", T(3), core::Seconds(5), 10)).empty());
}

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) {
    return info.param.name;
}

void StoreConformance::SetUp() {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    url_ = GetParam().fresh_url(test->name());
    auto opened = OpenStore(url_);
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(*opened);
}

std::unique_ptr<Store> StoreConformance::OpenAgain(bool migrate) const {
    StoreOptions options;
    options.migrate = migrate;
    auto opened = OpenStore(url_, options);
    EXPECT_TRUE(opened) << opened.error().ToString();
    return opened ? std::move(*opened) : nullptr;
}

}  // namespace railwatch::store::test
