#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/detect.hpp"
#include "core/error_class.hpp"
#include "core/log_kind.hpp"
#include "core/time.hpp"

/// The records the store reads and writes (docs/STORE.md has the tables behind them).
/// Plain data: no I/O, safe to copy between threads. Every text field must be valid UTF-8 without
/// NUL bytes and at most kMaxTextBytes long; the store rejects anything else with kInvalidArgument
/// naming the field, before it touches the database.
namespace railwatch::store {

using core::Duration;
using core::Timestamp;

/// The longest text the store accepts in one field (1 MiB).
inline constexpr std::size_t kMaxTextBytes = 1 << 20;

/// How many log lines per instance rotation keeps unless told otherwise.
inline constexpr int kDefaultMaxLogs = 1000;

/// A person who receives notifications.
struct User {
    std::string id;
    std::string email;  ///< unique
    std::string name;
    std::string plan;  ///< free text ("free", "hobby", "pro"), may be empty
    Timestamp created_at{};

    friend bool operator==(const User&, const User&) = default;
};

/// The deployment-state columns of an instance: what a transition (or a plain state save)
/// writes. Monitoring settings, ids and deletion are changed by their own calls.
struct InstanceState {
    // What every check reads comes first, together (a check at 100,000 instances finds the row
    // out of cache: fewer lines touched, fewer misses); the rest after.
    core::InstanceStatus status = core::InstanceStatus::kInitializing;
    int progress = 0;  ///< 0..100
    bool needs_attention = false;
    std::optional<Timestamp> deployment_started_at;
    std::optional<Timestamp> deployment_updated_at;
    std::optional<Timestamp> deployment_completed_at;
    std::optional<Timestamp> next_check_at;  ///< null = not scheduled
    std::optional<std::string> deployment_id;
    std::optional<std::string> deployment_status;  ///< Railway's raw string, unknown values kept
    std::optional<std::string> health;             ///< e.g. "HEALTHY", "UNHEALTHY"; null = not probed yet
    std::optional<core::ErrorClass> error_type;
    std::optional<std::string> error_message;
    std::optional<std::string> error_stack;
    int retry_count = 0;
    std::optional<std::string> attention_reason;

    friend bool operator==(const InstanceState&, const InstanceState&) = default;
};

/// One monitored Railway service deployment (the architecture sketch's `instances` row).
struct Instance {
    // The interval, the lease's end and the state first: what a round and a check read and write
    // (InstanceState).
    /// The instance's own interval between checks, for every status; none: the per-status
    /// intervals of [monitor.intervals] apply (stored as 0).
    std::optional<int> check_interval_s;
    bool monitoring = true;
    std::optional<Timestamp> lease_until;  ///< when lease_owner's lease ends
    InstanceState state;
    std::string id;
    std::optional<std::string> user_id;  ///< must name an existing user when set
    std::optional<std::string> project_name;
    std::optional<std::string> project_id;
    std::string service_id;
    std::string environment_id;
    std::optional<std::string> lease_owner;  ///< scheduler worker holding the instance
    Timestamp created_at{};
    std::optional<Timestamp> deleted_at;

    friend bool operator==(const Instance&, const Instance&) = default;
};

/// A row of the status timeline: the instance's deployment entered `to_status` at `at`. (Not to be
/// confused with a Railway `DeploymentEvent`, one step of a deployment such as BUILD_IMAGE.)
struct TimelineEvent {
    std::int64_t id = 0;  ///< assigned by the store
    std::string instance_id;
    std::string deployment_id;
    std::optional<std::string> from_status;  ///< Railway's raw string; null for the first event
    std::string to_status;                   ///< Railway's raw string
    Timestamp at{};
    std::string source;  ///< "poll", "webhook", "user", ...

    friend bool operator==(const TimelineEvent&, const TimelineEvent&) = default;
};

/// One of Railway's steps of a deployment (a `deploymentEvents` row such as BUILD_IMAGE), as the
/// engine last read it (Timeline::SaveSteps).
struct DeploymentStepRecord {
    std::string deployment_id;
    std::string step;  ///< Railway's spelling, kept verbatim (a step railwatch does not know too)
    std::optional<Timestamp> created_at;
    std::optional<Timestamp> completed_at;
    std::string error;  ///< the step's error (or reason); empty: none

    friend bool operator==(const DeploymentStepRecord&, const DeploymentStepRecord&) = default;
};

/// Outbox delivery state.
enum class OutboxStatus { kPending, kSent, kFailed, kDead };
std::string_view ToString(OutboxStatus status);
std::optional<OutboxStatus> ParseOutboxStatus(std::string_view text);

/// A notification to deliver, as the producer hands it to the store.
struct OutboxMessage {
    std::string id;         ///< unique row id (util::NewId("out"))
    std::string channel;    ///< "email", "webhook", "in_app", ...
    std::string dedup_key;  ///< unique: the same key enqueued twice is stored once
    std::string payload;    ///< channel-specific, usually JSON
    Timestamp created_at{};
    std::optional<Timestamp> next_attempt_at;  ///< null = created_at

    friend bool operator==(const OutboxMessage&, const OutboxMessage&) = default;
};

/// An outbox row as stored.
struct OutboxRow {
    OutboxMessage message;
    OutboxStatus status = OutboxStatus::kPending;
    int attempts = 0;  ///< delivery attempts started (incremented by each claim)
    Timestamp next_attempt_at{};
    std::optional<std::string> last_error;
    std::optional<std::string> lease_owner;
    std::optional<Timestamp> lease_until;
    std::optional<Timestamp> sent_at;

    friend bool operator==(const OutboxRow&, const OutboxRow&) = default;
};

/// One delivery outcome for Outbox::CompleteOutbox: what MarkOutboxSent (status kSent) or
/// MarkOutboxFailed (kFailed with retry_at, kDead) would record.
struct OutboxCompletion {
    std::string id;                             ///< the outbox row
    std::string owner;                          ///< the lease owner that delivered it
    OutboxStatus status = OutboxStatus::kSent;  ///< kSent, kFailed or kDead (kPending is refused)
    Timestamp sent_at{};                        ///< kSent: when the receiver accepted
    std::string error;                          ///< kFailed / kDead: the attempt's error
    std::optional<Timestamp> retry_at;          ///< kFailed: the next attempt (required)

    friend bool operator==(const OutboxCompletion&, const OutboxCompletion&) = default;
};

/// A delivery endpoint (e.g. a webhook URL) that the receiver asked to stop using (HTTP 410
/// Gone). Kept across restarts until enabled again.
struct DisabledEndpoint {
    /// The notifier's opaque key for the endpoint (never the URL itself: webhook URLs may carry
    /// a secret in their path).
    std::string key;
    std::string channel;  ///< "webhook", ...
    std::string reason;   ///< for people; contains no secret
    Timestamp disabled_at{};

    friend bool operator==(const DisabledEndpoint&, const DisabledEndpoint&) = default;
};

/// Filter and page for Outbox::ListDeliveries. Newest first (created_at, then id, descending).
struct DeliveryQuery {
    std::optional<OutboxStatus> status;  ///< only this status; all when nullopt
    int limit = 100;                     ///< 1..1000
    std::string cursor;                  ///< empty = first page; otherwise a next_cursor from a previous page
};

/// One page of deliveries, with the endpoints disabled at the time of the read.
struct DeliveryPage {
    std::vector<OutboxRow> items;
    std::string next_cursor;                           ///< empty when this is the last page
    std::vector<DisabledEndpoint> disabled_endpoints;  ///< every disabled endpoint, oldest first
};

/// A status change of one instance: the event row, the instance's new state and the outbox rows
/// it causes, written in one transaction. Idempotent: a transition with the same
/// (instance_id, deployment_id, to_status, at) as a recorded one is not applied again.
struct Transition {
    std::string instance_id;
    std::string deployment_id;
    std::optional<std::string> from_status;
    std::string to_status;
    Timestamp at{};
    std::string source = "poll";
    InstanceState state;  ///< the instance's state after the change (deployment_id is set from above)
    std::vector<OutboxMessage> outbox;
    /// true: the stored next_check_at stays as it is and state.next_check_at is ignored. For
    /// writers that hold no claim on the instance (the monitor's reactions, run seconds after
    /// the check): the schedule belongs to whoever checks it, and a copy read earlier would put
    /// an already served due time back (another process would check the instance again at once).
    bool keep_schedule = false;
    /// true: written only while the instance still follows `deployment_id`. For a check's answer
    /// about the deployment it asked after: a job that moved the instance on meanwhile (a
    /// redeploy, a discovered newer deployment) wrote the newer one, which an answer about the
    /// older one must not put back. When the instance follows another deployment (or none),
    /// nothing is written and the result says `superseded`.
    bool only_if_following = false;
    /// true: written only while the instance still follows `deployment_id` and still shows
    /// `from_status` as its deployment's status (none: none stored); otherwise nothing is written
    /// and the result says `superseded`. For a job that decides on a row it read before slow
    /// calls (a failure's classification, a redeploy's request): a check that recorded a newer
    /// status meanwhile (the deployment restarted, or crashed again) must not be undone by the
    /// job's older copy — the next checks would not put it right, their transition being recorded.
    bool only_if_unchanged = false;
};

/// What ApplyTransition did.
struct TransitionResult {
    bool applied = false;       ///< false: nothing changed (recorded before, or superseded)
    std::int64_t event_id = 0;  ///< the event row (the earlier one when recorded before; 0 when superseded)
    /// only_if_following and the instance follows another deployment now: nothing was written.
    bool superseded = false;
    /// Where this write's change of the row entered the change feed (Instances::ChangedInstances),
    /// when the backend tells (SQLite) and the write changed a column the feed follows: a caller
    /// that keeps the row as written passes it in HeldChanges and is not handed the row again.
    std::optional<std::int64_t> change_position;
};

using core::LogKind;
using core::ParseLogKind;
using core::ToString;

/// One build or deploy log line.
struct LogLine {
    std::string instance_id;
    std::string deployment_id;
    LogKind kind = LogKind::kDeploy;
    Timestamp timestamp{};
    std::string severity;  ///< "info", "error", ... as Railway sends it
    std::string message;

    friend bool operator==(const LogLine&, const LogLine&) = default;
};

/// What AppendLogs did.
struct LogAppendResult {
    int inserted = 0;
    int duplicates = 0;  ///< lines already stored (same instance, deployment, kind, ts, message)
    int rotated = 0;     ///< old lines deleted to keep max_logs per instance
};

/// One health probe result.
struct HealthCheck {
    std::int64_t id = 0;  ///< assigned by the store
    std::string instance_id;
    Timestamp at{};
    bool ok = false;
    std::optional<int> http_status;
    std::optional<int> latency_ms;
    std::optional<std::string> error;

    friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

/// What a list of instances shows of one health check (`recentChecks` in docs/API.md): the
/// columns the store reads from its covering index alone, without the check's row.
struct CheckSummary {
    Timestamp at{};
    bool ok = false;
    std::optional<int> latency_ms;

    friend bool operator==(const CheckSummary&, const CheckSummary&) = default;
};

/// Rolled-up health over a window.
struct UptimeSummary {
    int checks = 0;
    int ok = 0;
    std::optional<Timestamp> last_checked_at;
    std::optional<Timestamp> last_failure_at;
    /// ok / checks, 1.0 when there were no checks.
    double Ratio() const { return checks == 0 ? 1.0 : static_cast<double>(ok) / checks; }
};

/// An in-app inbox entry.
struct Notification {
    std::string id;
    std::string user_id;  ///< must name an existing user
    std::string type;     ///< "deployment_failed", "attention", ...
    std::string title;
    std::string message;
    std::string data = "{}";  ///< JSON
    std::optional<Timestamp> read_at;
    Timestamp created_at{};

    friend bool operator==(const Notification&, const Notification&) = default;
};

/// Filter and page for ListInstances. Newest first (created_at, then id, descending). Filters
/// combine with AND; a list matches when any of its values does.
struct InstanceQuery {
    /// Only these statuses; empty: every status but DELETED.
    std::vector<core::InstanceStatus> statuses;
    /// Only these health values ("HEALTHY", ...; "UNKNOWN" also matches an instance never
    /// probed); empty: any. Values must not contain ','.
    std::vector<std::string> health;
    /// Only these error classes; empty: any (instances without a class included).
    std::vector<core::ErrorClass> error_types;
    std::optional<bool> needs_attention;
    /// A substring of id, project name, service id, deployment id or environment id, compared
    /// without regard to ASCII case; empty: no text filter.
    std::string text;
    int limit = 50;      ///< 1..1000
    std::string cursor;  ///< empty = first page; otherwise a next_cursor from a previous page
    /// Also count every instance matching the filters (InstancePage::total_count): one more
    /// query over every matching row, so only when the caller shows the figure.
    bool with_total = false;
};

struct InstancePage {
    std::vector<Instance> items;
    std::string next_cursor;  ///< empty when this is the last page
    /// Every instance matching the filters (not only this page), exact; only with `with_total`.
    std::optional<std::int64_t> total_count;
};

/// Rows a caller of Instances::ChangedInstances holds as they were written: instance id → the
/// change-feed position of that write (TransitionResult::change_position).
using HeldChanges = std::unordered_map<std::string, std::int64_t>;

/// What Instances::ChangedInstances answers: the instances changed since a position in the
/// store's change feed, and the position to ask from next.
struct InstanceChanges {
    /// Their rows as stored now (lease included), ordered by id; may include rows that did not
    /// change since (a reader may see a change twice, never miss one).
    std::vector<Instance> instances;
    std::int64_t next = 0;  ///< pass it to the next call
};

/// What ListAttention (store/queries.hpp) asks.
struct AttentionQuery {
    Timestamp now{};
    /// Per-phase deadlines (core::StuckPolicy): an instance longer than this in its phase without
    /// a sign of life is stuck. Default: 600 s, none for NEEDS_APPROVAL.
    core::StuckPolicy stuck_policy;
    /// Railway reports an incident now: stalls are then marked platform_suspected.
    bool platform_incident = false;
    int limit = 100;  ///< 1..10000
};

/// An instance the attention rule must look at (Queries::ListAttentionCandidates): not deleted,
/// and flagged or not finished (INITIALIZING / DEPLOYING), with the timeline and log facts the
/// rule needs. Raw facts only; core::DecideAttention decides.
struct AttentionCandidate {
    Instance instance;
    std::optional<User> user;
    /// The first timeline event of the instance's current deployment in its current status since
    /// the deployment was last in another one (when that status began: a later row that kept it, a
    /// decision, does not move it; a status entered again, after a restart, began again); null
    /// without a deployment or without such an event.
    std::optional<Timestamp> status_entered_at;
    /// The newest stored log line (build or deploy) of the current deployment.
    std::optional<Timestamp> last_log_at;
    /// The newest row recording a decision about the current deployment (source "attention" or
    /// "reaction"): when a flagged instance's flag was set.
    std::optional<Timestamp> decided_at;
};

/// An instance that needs a person, with its owner when it has one and the verdict that lists it.
struct AttentionItem {
    Instance instance;
    std::optional<User> user;
    core::AttentionVerdict verdict;  ///< verdict.flagged, verdict.stuck.stuck, verdict.platform_suspected, reason
};

/// One claimed instance to give back (Schedule::ReleaseInstances).
struct InstanceRelease {
    InstanceRelease() = default;
    InstanceRelease(std::string id_, std::optional<Timestamp> next_check_at_,
                    std::optional<std::string> deployment_id_ = std::nullopt)
        : id(std::move(id_)), next_check_at(next_check_at_), deployment_id(std::move(deployment_id_)) {}

    std::string id;
    std::optional<Timestamp> next_check_at;  ///< null = not scheduled
    /// The deployment the check was about (none: whatever the row follows). When the row follows
    /// another deployment by now (a redeploy or a discovery wrote it meanwhile), the lease is
    /// still given back but next_check_at is left as that write set it: the check's is stale.
    std::optional<std::string> deployment_id;

    friend bool operator==(const InstanceRelease&, const InstanceRelease&) = default;
};

/// What a batched release did.
struct ReleaseReport {
    int released = 0;  ///< instances given back with their next_check_at
    std::vector<std::string>
        lost;  ///< ids the owner did not hold (lease expired and taken, or no such instance), in request order
};

/// A live scheduling worker and how many instances it holds claimed (Schedule::Heartbeat).
struct WorkerLoad {
    std::string owner;
    int held = 0;  ///< live leases

    friend bool operator==(const WorkerLoad&, const WorkerLoad&) = default;
};

/// What Schedule::Heartbeat sees: the live workers and the fleet they share.
struct ScheduleLoad {
    std::vector<WorkerLoad> workers;  ///< live workers (the caller included), by owner
    int monitored = 0;                ///< monitored, not deleted instances
};

/// Which notifications to list. Newest first.
struct NotificationQuery {
    std::optional<std::string> user_id;
    bool unread_only = false;
    int limit = 100;
};

/// A migration that Migrate() applied.
struct AppliedMigration {
    int version = 0;
    std::string name;
};

}  // namespace railwatch::store
