#pragma once

#include <memory>

#include "store/sql/database.hpp"
#include "store/store.hpp"

/// The Store, written once against the Driver seam: every query, validation and invariant lives
/// here, so both backends behave the same by construction. One class; its methods are defined in
/// one file per role (users.cpp, instances.cpp, schedule.cpp, timeline.cpp, logs.cpp,
/// health_checks.cpp, outbox.cpp, inbox.cpp, queries.cpp, schema.cpp), with the shared row
/// mapping in rows.cpp and the input checks in checks.cpp. Internal to src/store.
namespace railwatch::store::sql {

/// Thread-safe as Store requires (the driver serialises what must be serialised). Every
/// closure handed to Driver::Write resets what it reports at its start: the SQLite driver may
/// run it again after a rollback caused by another request of its batch.
class SqlStore final : public Store {
  public:
    explicit SqlStore(std::unique_ptr<Driver> driver) : driver_(std::move(driver)) {}

    Backend backend() const override { return driver_->backend(); }
    std::string Describe() const override { return driver_->Describe(); }

    // Schema (schema.cpp)
    util::Result<std::vector<AppliedMigration>> Migrate() override;
    util::Result<int> SchemaVersion() override;

    // Users (users.cpp)
    util::Result<void> CreateUser(const User& user) override;
    util::Result<User> GetUser(const std::string& id) override;
    util::Result<std::vector<User>> ListUsers() override;

    // Instances (instances.cpp)
    util::Result<void> CreateInstance(const Instance& instance) override;
    util::Result<Instance> GetInstance(const std::string& id) override;
    util::Result<std::vector<Instance>> FindInstancesByDeployment(const std::string& deployment_id) override;
    util::Result<std::vector<Instance>> GetInstances(const std::vector<std::string>& ids) override;
    using Instances::ChangedInstances;
    util::Result<InstanceChanges> ChangedInstances(std::optional<std::int64_t> since, const HeldChanges& held) override;
    util::Result<InstancePage> ListInstances(const InstanceQuery& query) override;
    util::Result<void> SaveState(const std::string& id, const InstanceState& state) override;
    util::Result<void> SetMonitoring(const std::string& id, bool enabled, std::optional<int> check_interval_s,
                                     Timestamp next_check_at) override;
    util::Result<void> DeleteInstance(const std::string& id, Timestamp at) override;

    // Schedule (schedule.cpp)
    util::Result<std::vector<Instance>> ClaimDueInstances(const std::string& owner, Timestamp now, Duration lease,
                                                          int limit) override;
    util::Result<void> ReleaseInstance(const std::string& id, const std::string& owner,
                                       std::optional<Timestamp> next_check_at) override;
    util::Result<ReleaseReport> ReleaseInstances(const std::string& owner,
                                                 const std::vector<InstanceRelease>& releases) override;
    util::Result<int> DropLeases(const std::string& owner, Timestamp now) override;
    util::Result<std::vector<Instance>> KeepDueInstances(const std::string& owner, Timestamp now, Duration lease,
                                                         int limit) override;
    util::Result<ScheduleLoad> Heartbeat(const std::string& owner, Timestamp now, Duration lease) override;

    // Timeline (timeline.cpp)
    util::Result<TransitionResult> ApplyTransition(const Transition& transition) override;
    std::vector<util::Result<TransitionResult>> ApplyTransitions(std::span<const Transition> transitions) override;
    util::Result<std::vector<TimelineEvent>> ListEvents(const std::string& instance_id, int limit) override;
    util::Result<void> SaveSteps(const std::string& instance_id, const std::string& deployment_id,
                                 std::span<const DeploymentStepRecord> steps, Timestamp at) override;
    util::Result<std::vector<DeploymentStepRecord>> ListSteps(const std::string& instance_id) override;

    // Logs (logs.cpp)
    util::Result<LogAppendResult> AppendLogs(const std::vector<LogLine>& lines, int max_logs) override;
    util::Result<std::vector<LogLine>> RecentLogs(const std::string& instance_id, int limit,
                                                  std::optional<LogKind> kind) override;
    util::Result<std::optional<Timestamp>> LatestLogTimestamp(const std::string& instance_id,
                                                              const std::string& deployment_id, LogKind kind) override;

    // HealthChecks (health_checks.cpp)
    util::Result<std::int64_t> RecordHealthCheck(const HealthCheck& check) override;
    std::vector<util::Result<std::int64_t>> RecordProbes(std::span<const ProbeRecord> records) override;
    util::Result<std::vector<HealthCheck>> RecentHealthChecks(const std::string& instance_id, int limit) override;
    util::Result<std::vector<std::vector<CheckSummary>>> RecentCheckSummariesOf(
        std::span<const std::string> instance_ids, int limit) override;
    util::Result<UptimeSummary> Uptime(const std::string& instance_id, Timestamp since) override;

    // Outbox (outbox.cpp)
    util::Result<int> EnqueueOutbox(const std::vector<OutboxMessage>& messages) override;
    util::Result<std::vector<OutboxRow>> ClaimOutbox(const std::string& owner, Timestamp now, Duration lease,
                                                     int limit) override;
    util::Result<void> MarkOutboxSent(const std::string& id, const std::string& owner, Timestamp at) override;
    util::Result<void> MarkOutboxFailed(const std::string& id, const std::string& owner, const std::string& error,
                                        std::optional<Timestamp> retry_at) override;
    util::Result<std::vector<util::Result<void>>> CompleteOutbox(
        const std::vector<OutboxCompletion>& completions) override;
    util::Result<OutboxRow> ReplayOutbox(const std::string& id, Timestamp next_attempt_at) override;
    util::Result<std::optional<Timestamp>> NextOutboxDue(Timestamp now) override;
    using Outbox::ListDeliveries;
    util::Result<DeliveryPage> ListDeliveries(const DeliveryQuery& query) override;
    util::Result<void> DisableEndpoint(const DisabledEndpoint& endpoint) override;
    util::Result<bool> EnableEndpoint(const std::string& key) override;
    util::Result<std::vector<DisabledEndpoint>> ListDisabledEndpoints() override;

    // Inbox (inbox.cpp)
    util::Result<bool> AddNotification(const Notification& notification) override;
    util::Result<std::vector<Notification>> ListNotifications(const NotificationQuery& query) override;
    util::Result<void> MarkNotificationRead(const std::string& id, Timestamp at) override;

    // Queries (queries.cpp)
    util::Result<std::vector<AttentionCandidate>> ListAttentionCandidates() override;
    util::Result<core::FleetCounts> CountFleet() override;
    util::Result<std::vector<core::FinishedDeployment>> ListFinishedDeployments(Timestamp from,
                                                                                Timestamp until) override;
    util::Result<std::vector<core::EngineMinute>> ListEngineMinutes(Timestamp from, Timestamp until) override;

    // EngineMinutes (queries.cpp)
    util::Result<void> RecordEngineMinutes(const std::string& worker_id, const std::vector<core::EngineMinute>& minutes,
                                           Timestamp rotate_before) override;

  private:
    util::Result<LogAppendResult> AppendLogsPerRow(const std::vector<LogLine>& lines, int max_logs);
    util::Result<LogAppendResult> AppendLogsInSets(const std::vector<LogLine>& lines, int max_logs);
    // `park`: KeepDueInstances rather than ClaimDueInstances.
    util::Result<std::vector<Instance>> ClaimDue(const std::string& owner, Timestamp now, Duration lease, int limit,
                                                 bool park);
    // Kept leases (schedule.cpp): the owner's leases held while it lives; gone workers' let go.
    static void HoldLeases(Tx& tx, const std::string& owner);
    static void ForgetGoneWorkers(Tx& tx, Timestamp now);
    util::Result<ReleaseReport> ReleaseInstancesPerRow(const std::string& owner,
                                                       const std::vector<InstanceRelease>& releases);
    util::Result<ReleaseReport> ReleaseInstancesInSets(const std::string& owner,
                                                       const std::vector<InstanceRelease>& releases);

    std::unique_ptr<Driver> driver_;
};

/// Makes the store over `driver`.
std::unique_ptr<Store> MakeSqlStore(std::unique_ptr<Driver> driver);

}  // namespace railwatch::store::sql
