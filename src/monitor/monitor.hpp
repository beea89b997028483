#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/budget_plan.hpp"
#include "core/check_decision.hpp"
#include "core/classify.hpp"
#include "core/detect.hpp"
#include "core/interval.hpp"
#include "core/reactions.hpp"
#include "core/time.hpp"
#include "monitor/hash_filter.hpp"
#include "monitor/job_queue.hpp"
#include "monitor/kept_schedule.hpp"
#include "monitor/operations.hpp"
#include "monitor/prober.hpp"
#include "net/http_transport.hpp"
#include "railway/config.hpp"
#include "railway/railway_api.hpp"
#include "store/health_checks.hpp"
#include "store/instances.hpp"
#include "store/logs.hpp"
#include "store/schedule.hpp"
#include "store/timeline.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

/// The monitoring engine (docs/ENGINE.md): follows every monitored instance's deployment on
/// Railway, within the token's budget, and records what it learns. Implements monitor::Operations.
namespace railwatch::monitor {

/// The [monitor] settings and the engine's own knobs.
struct MonitorOptions {
    /// Names this process in the schedule's leases: unique among processes sharing a store, and
    /// the same after a restart — Start() drops the leases this id holds (a crashed earlier life's
    /// claims), so two running processes with one id would take each other's claims.
    std::string worker_id = "monitor";
    core::IntervalPolicy intervals;  ///< [monitor.intervals]
    core::CheckSettings check;       ///< stuck_after_seconds, timeout_after_seconds
    core::ReactionPolicy reactions;  ///< at most 3 automatic redeploys, backoff
    core::CrashLoopPolicy crash_loop;
    int max_logs = 1000;  ///< log lines kept per instance
    /// Ids per status request (the client's railway.batch_size) and the token's limits.
    std::size_t batch_size = railway::kDefaultBatchSize;
    double requests_per_hour = 1000;
    double requests_per_second = 10;
    double reserve_fraction = 0.2;  ///< share of the budget kept for side work
    /// How long a claim holds an instance: longer than one round can take. With `keep_claims`,
    /// the leases are renewed every third of this; a process that dies leaves its instances to
    /// the others after at most this long.
    core::Duration lease = core::Seconds(120);
    /// Keep what a round claimed from check to check (docs/ENGINE.md, "Scheduling: kept claims"):
    /// due times in memory, a check that changes nothing writes no row, leases are renewed in bulk
    /// every third of `lease`, and the store holds each kept instance as due when its lease ends.
    /// Off: each check claims and releases its row (docs/PERFORMANCE.md, "Kept claims", compares).
    bool keep_claims = true;
    /// A round also claims instances due within this window after now, checking them a little
    /// early: instances due at scattered times (jitter) then share one batched request instead of
    /// each costing one. 0 claims only what is due. Keep it well below the lease and the shortest
    /// interval.
    core::Duration batch_window = core::Seconds(2);
    /// The most instances one round claims (also bounded by the budget).
    std::size_t max_claim = 5000;
    /// The longest the scheduler sleeps without looking at the schedule: instances scheduled by
    /// other processes, or whose lease expired, are found within this time.
    core::Duration max_idle_wait = core::Seconds(5);
    /// Threads sending status requests. A slow or retried request holds only its own poller's
    /// work; the others' answers are written as they come. At least 1.
    std::size_t poll_threads = 4;
    /// Status requests (of `batch_size` deployments each) one poller sends together while Railway
    /// answers well: they are in flight at once, and their answers are judged and written together
    /// (one hand-off, one wake-up, one store transaction instead of one each). After a poll with an
    /// error answer or slower than `slow_poll`, each poll sends one request for `poll_trouble_pause`,
    /// so that a request that hangs or is retried holds only its own batch. At least 1.
    std::size_t requests_per_poll = 4;
    core::Duration slow_poll = core::Seconds(3);
    core::Duration poll_trouble_pause = core::Seconds(60);
    /// Side-work threads (evidence, reactions, logs, discovery). Jobs of one instance never run at
    /// the same time. At least 1.
    std::size_t workers = 8;
    /// How often the latest deployment of each service is read for an environment whose followed
    /// deployments this process found settled (core::IsStable: SUCCESS, SLEEPING, FAILED,
    /// CRASHED, SKIPPED, REMOVED): one
    /// `environment(id){serviceInstances{latestDeployment}}` request per environment, from the
    /// reserve, so that a new deployment of a watched service (a push, a redeploy from Railway's
    /// dashboard) is followed while the old one still runs, and a REMOVED one's replacement is
    /// found even when the discovery its transition queued was lost (a killed process). Zero:
    /// never (a new deployment is then found only by the transition to SKIPPED, REMOVING or
    /// REMOVED).
    core::Duration discovery_interval = core::Seconds(60);
    /// How often a discovery read is whole (every service's latest deployment and probe target,
    /// one request per page of services) rather than a list of the deployments created since the
    /// environment's last read (`deployments(input: {environmentId})` newest first, usually one
    /// request however many services the environment has). Also whole: the first read, a list
    /// that cannot be cut (more pages of new deployments than a read lists, an answer that is not
    /// newest first: from then on every read is whole), a list Railway refuses for good. The
    /// whole read keeps the prober's URLs fresh (below ProberOptions::target_ttl, 600 s) and is
    /// the safety net of the lists. Zero: every read is whole.
    core::Duration discovery_whole_read_interval = core::Seconds(300);
};

/// What an outbox planner is asked: a change about to be written (a status transition, a
/// reaction, an attention flag), with what the engine decided about it.
struct ChangeToPlan {
    store::Instance instance;      ///< the instance with its state after the change
    store::Transition transition;  ///< the row about to be written (outbox still empty)
    /// "status", "reaction", "attention" (stuck), "timeout" (in progress past
    /// timeout_after_seconds), "crash_loop", "redeploy_failed"
    /// (automatic redeploys spent without Railway starting one; the instance needs attention)
    std::string kind;
    std::vector<core::Action> actions;                   ///< reactions planned (kind "reaction")
    std::optional<core::Classification> classification;  ///< the failure's verdict, when known
};

/// Returns the outbox rows a change causes; they are written in the same transaction as the
/// change. Must be pure or at least fast and non-blocking; called from the engine's threads.
using OutboxPlanner = std::function<std::vector<store::OutboxMessage>(const ChangeToPlan&)>;

/// The engine. Threads: one scheduler (takes what is due, claimed or kept, and cuts it into batches),
/// `poll_threads` pollers (one poll of up to `requests_per_poll` batched status requests each,
/// written as it completes) and
/// `workers` side-work threads (evidence, classification, reactions, log collection, discovery).
/// Thread-safety: every Operations method from any thread.
/// Start() and Stop() are each called at most once, Stop() after Start() (the destructor stops).
class Monitor final : public Operations {
  public:
    /// References must outlive the monitor. `planner` may be empty (no notifications).
    Monitor(railway::RailwayApi& api, store::Instances& instances, store::Schedule& schedule, store::Timeline& timeline,
            store::Logs& logs, const util::Clock& clock, EventSink& sink, MonitorOptions options,
            OutboxPlanner planner = {});
    ~Monitor() override;
    Monitor(const Monitor&) = delete;
    Monitor& operator=(const Monitor&) = delete;

    /// Takes back this worker id's earlier claims, reads the fleet (for the budget plan), queues
    /// the classification again for failures a previous process left without a verdict or with a
    /// planned redeploy not yet made, and starts the threads. kUnavailable when the store cannot be
    /// read (no thread is started then).
    util::Result<void> Start();
    /// Stops the threads and waits for them, then gives every instance this process keeps back to
    /// the store with its due time (ReleaseInstances; should the store fail, the leases expire).
    /// A thread inside a Railway call finishes that call first: stop the RailwayApi before this
    /// to end it at once. Idempotent; also run by the destructor, started or not.
    void Stop();

    /// Probes running instances' services over HTTP (monitor/prober.hpp), offered each one whose
    /// status check finds it SUCCESS. Called at most once, before Start(); an `options.interval`
    /// of zero leaves probing off. References must outlive the monitor.
    void EnableProbes(store::HealthChecks& health, net::HttpTransport& http, ProberOptions options);
    /// Runs the prober's queued work on the calling thread (Prober::RunForTest); 0 without probes.
    std::size_t RunProbesForTest();

    /// Runs one scheduling round now on the calling thread (claims what is due, checks, writes):
    /// what the scheduler thread does each time it wakes. Returns how many instances it checked.
    /// For tests and tools; not to be mixed with a started scheduler.
    std::size_t RunRoundForTest();
    /// Runs queued follow-up jobs on the calling thread until none is due; returns how many ran.
    std::size_t RunWorkForTest();
    /// How many instances' phase reads (log cursors, steps) the monitor keeps.
    std::size_t PhaseReadsKeptForTest() const;

    util::Result<store::Instance> AddInstance(const AddInstanceRequest& request) override;
    util::Result<store::Instance> DeleteInstance(const std::string& id) override;
    util::Result<store::Instance> SetMonitoring(const std::string& id, bool enabled,
                                                std::optional<int> check_interval_s) override;
    util::Result<void> Redeploy(const std::string& id) override;
    util::Result<int> CheckDeploymentNow(const std::string& deployment_id) override;
    util::Result<ProgressReport> Progress(const std::string& id) override;
    util::Result<bool> FollowLogs(const std::string& id) override;
    CapacityReport Capacity() const override;
    std::optional<core::Duration> CheckInterval(const store::Instance& instance) const override;
    std::optional<std::string> PlatformIncident() const override;

  private:
    // Instances counted by (status, interval): what the budget plan reads.
    using FleetGroups = std::map<std::pair<core::DeploymentStatus, core::Duration::rep>, std::size_t>;
    struct FleetEntry {
        core::DeploymentStatus status = core::DeploymentStatus::kUnknown;
        core::Duration interval{};
    };
    // A claimed instance on its way through a round and a poller: its row and its kept entry
    // (kept claims; null otherwise). The row is the kept entry's (Kept::row, the poller's alone
    // while in flight) or one of the round's claimed rows (PollWork::rows): rows are not moved
    // on their way. The entry stays valid meanwhile: an entry in flight is forgotten by its own
    // answer only (KeepChecked), so its answer lands with no lookup by id.
    struct PollItem {
        store::Instance* row = nullptr;
        Kept* kept = nullptr;
    };
    // One poll for a poller: the items of up to requests_per_poll status requests.
    struct PollWork {
        std::vector<PollItem> items;
        std::shared_ptr<std::vector<store::Instance>> rows;  // per-check claims: the rows items point into
        std::size_t requests = 0;                            // status requests it sends (0: none asks)
    };

    // Distinct deployments per status request: options_.batch_size, or fewer when the client
    // learned that Railway refuses bigger requests (RailwayApi::StatusBatchSize).
    std::size_t BatchSize() const;
    // A stored failure whose verdict or planned redeploy may have died with an earlier process.
    bool NeedsVerdictAgain(const store::Instance& instance) const;
    void SchedulerLoop();
    void PollLoop(std::size_t index);
    void WorkerLoop(std::size_t index);
    // Claims what is due and checks it: on the calling thread (`inline_polls`) or by handing the
    // batches to the pollers. Returns how many instances it claimed; `limit` (when given) is told
    // how many it was allowed to claim, `requests` how many status requests its batches send.
    std::size_t RunRound(core::Timestamp now, bool inline_polls, std::size_t* limit = nullptr,
                         std::size_t* requests = nullptr);
    // The status requests of one poll (at most requests_per_poll × batch_size distinct
    // deployments, sent together), their answers judged and written, the instances released.
    // Returns the earliest next check it scheduled.
    std::optional<core::Timestamp> PollBatch(const PollWork& work);
    // Under mutex_: whether the queue has room for a round (RunRound fills it up again). Room
    // comes when half the queue is done, not at each finished batch: a round then hands over
    // several batches, and the scheduler wakes once for them (docs/ENGINE.md, "Threads").
    bool PollRoom() const { return polls_pending_ <= poll_wakeups_.size(); }
    // What a poll counts for in polls_pending_: its requests (one for a poll that asks none).
    static std::size_t Slots(const PollWork& work) { return std::max<std::size_t>(work.requests, 1); }
    // Under mutex_: whether a check due at `at` is earlier than the scheduler's wait ends.
    bool DueBeforeSchedulerWakes(core::Timestamp at) const { return at < scheduler_wakes_at_; }
    // Counts one answered check of `instance` into `report`.
    static void NoteCheck(CheckBatchReport& report, const store::Instance& instance,
                          const core::CheckDecision& decision, core::Timestamp now);
    void RunJob(const Job& job);
    void FinishJob(const Job& job);  // the job's instance may run another job
    util::Wakeup* TakeIdleWorker();
    void Enqueue(Job job);
    void EnqueueFollowUp(const core::FollowUp& follow_up, const std::string& instance_id,
                         const std::string& deployment_id, core::Timestamp now);
    std::optional<Job> TakeDueJob(core::Timestamp now);
    // A token bucket for side work (guarded by mutex_).
    struct SideBucket {
        double burst_seconds = 5;  // it holds this much of its rate (at least two classifications)
        double tokens = 0;
        std::optional<core::Timestamp> refilled_at;
        // Takes `requests` at `rate` per second where `floor` stays; false (nothing taken) when it
        // holds fewer, with `retry_at` the moment it will.
        bool Take(double rate, double requests, double floor, core::Timestamp now, core::Timestamp* retry_at);
        // Puts back `requests` taken and not sent (never past the bucket's capacity at `rate`).
        void GiveBack(double rate, double requests);
        // Whether Take would give `requests` now (nothing taken).
        bool Holds(double rate, double requests, double floor, core::Timestamp now);
    };
    // Who spends side work's budget. Failure work (evidence, redeploys, discovery, a stall's
    // confirmation, the platform's status) draws on the reserve, then on what polling leaves
    // unused, and may empty them; a reader's log follow draws on both, best effort (a phase
    // change's log collection, environment reads, probe URLs) on the reserve only, and both
    // leave a classification's reservation in each.
    enum class SideWork { kFailure, kReader, kBestEffort };
    // Which bucket paid a take of side work's budget: what a job reserved and did not send goes
    // back there (GiveBackSideBudget).
    enum class SidePayer { kNone, kReserve, kUnused };
    // Takes `requests` of side work's budget for `work`; kNone (nothing taken) when neither bucket
    // it may draw on can give them, with `retry_at` the earlier moment one will.
    SidePayer TakeSideBudget(double requests, SideWork work, core::Timestamp now, core::Timestamp* retry_at);
    // Gives `requests` of a take back to the bucket that paid it (nothing for kNone).
    void GiveBackSideBudget(SidePayer payer, double requests);
    // What polling leaves unused of its budget at its planned intervals, a second (mutex_ held).
    double UnusedRate() const;
    // Whether a phase change's log collection is queued: the reserve could pay its request now
    // (above what a classification reserves), and fewer than kCollectionsPerSecond were.
    bool AdmitCollection(core::Timestamp now);

    // A write decided in a poll batch: the batch's writes are made together once all its answers
    // are decided (WriteAll), so that they share one store transaction.
    struct PendingWrite {
        store::Instance after;  // the instance as written, for the sink
        store::Transition transition;
        std::function<void()> then;  // after it was written (applied, or recorded before); may be empty
        // Applied, where its change entered the store's change feed (WriteAll; when the store tells).
        std::optional<std::int64_t> change_position;
    };
    // Per answer (poller threads). `kept`: the instance's kept entry (null: per-check claims).
    // The transition it decides goes to `writes`, with what follows it; `instance` and `kept`
    // must outlive those writes.
    std::optional<core::Timestamp> HandleDecision(const store::Instance& instance, const core::CheckDecision& decision,
                                                  const std::string& deployment_id, core::Timestamp now, Kept* kept,
                                                  std::vector<PendingWrite>& writes);
    // Jobs (worker thread). Returns the requests it sent Railway (a phase read counted as one).
    int Classify(const Job& job);
    // Drops the instance's phase reads of `deployment_id` (done with: succeeded, classified), not
    // those of a deployment it has moved on to since.
    void Forget(const std::string& instance_id, const std::string& deployment_id);
    // `log_lines`: the deployment's lines the verdict was made from (its next step reads them).
    // Returns the requests it sent Railway (the token's and the quota's reads).
    int React(store::Instance instance, const core::Classification& verdict, core::Timestamp now,
              std::span<const std::string> log_lines = {});
    util::Result<void> DoRedeploy(const Job& job);
    void Discover(const Job& job);
    // Notes an instance whose followed deployment (created at `created_at`, when Railway said) is
    // settled, for its environment's reads; discovery at once when a list read since found a
    // newer deployment of its service.
    void NoteSettled(const store::Instance& instance, const std::string& deployment_id,
                     std::optional<core::Timestamp> created_at, core::Timestamp now);
    // Reads what is new in an environment (a list since the last read, or the whole environment);
    // discovery for the noted instances that follow another deployment than their service's latest.
    void ReadEnvironment(const Job& job);
    struct EnvironmentWatch;
    using Behind = std::vector<std::pair<std::string, std::string>>;  // (instance, the deployment it follows)
    // What a list read found, kept by service and compared with the noted instances; those behind
    // added to `behind`. discovery_mutex_ held.
    void NoteListed(EnvironmentWatch& env, std::vector<railway::ListedDeployment>& deployments, Behind& behind);
    // The environment's whole read (ReadEnvironmentServices), compared page by page, the instances
    // behind added to `behind`; read to its end, it drops what was not noted since the whole read
    // before; a read that fails is whole again at the next read.
    void ReadWholeEnvironment(const std::string& environment_id, EnvironmentWatch& env, Behind& behind);
    // No deployment came of a failed automatic redeploy: try again after a backoff, or flag the
    // instance once the attempts are spent.
    void RetryFailedRedeploy(const store::Instance& instance, const Job& job, core::Timestamp now);
    // A check's kConfirmStall (a stall in a phase that logs, outside an incident): confirmed against the
    // deployment's log lines by a job (ConfirmStalls) before it is flagged, once at a time, and not
    // again before the deadline a sign of life it found gives. Railway's updatedAt may stand still
    // through a long build whose log keeps growing.
    // `first` with the other jobs of its kind due now, `most` in all (JobQueue::TakeDueOf), their
    // instances busy until FinishOthers (`first`'s: RunJob's caller finishes it).
    std::vector<Job> WithOthersDue(const Job& first, std::size_t most);
    void FinishOthers(const std::vector<Job>& jobs);
    void ConfirmStallLater(const std::string& instance_id, const std::string& deployment_id, core::Timestamp now);
    // The job, with the other confirmations due now (as many as one request carries, up to
    // railway::kMaxLogsSincePerRequest: a wave of stalls costs no request each): the stall checked again with the
    // newest line known (stored, or seen by an earlier confirmation) as a sign of life; where it still stands, Railway
    // asked whether the phase's log has grown since the last sign (RailwayApi::GetLogsSince), and the stall flagged as
    // the check would have (source "attention", the deployment_stuck notice) when it has not.
    void ConfirmStalls(const Job& first);
    // A confirmation done with: pending no more, quiet until `quiet_until` (min(): none), and the
    // newest line Railway showed kept (the next confirmation asks from there).
    void SettleStall(const Job& job, core::Timestamp quiet_until, std::optional<core::Timestamp> last_line);
    // The job, with the other log collections due now (phase changes', readers'; as many as one
    // request carries, up to railway::kMaxPhaseChangesPerRequest: a flood of phase changes costs
    // no request each): each deployment's steps and new lines read (ReadPhases).
    void CollectLogs(const Job& first);
    // One deployment's phase read: the instance read before it, and whether its deploy log is read.
    struct PhaseRead {
        const store::Instance& instance;
        const std::string& deployment_id;
        bool deploy_logs = false;
    };
    // The steps (kept for progress, and returned when read) and the new build (and deploy) log
    // lines (stored) of each deployment, as many in one request as the client can
    // (GetPhaseChanges); in the order of `reads`.
    std::vector<std::optional<std::vector<railway::DeploymentEvent>>> ReadPhases(std::span<const PhaseRead> reads);
    // ReadPhases of one.
    std::optional<std::vector<railway::DeploymentEvent>> ReadPhase(const store::Instance& instance,
                                                                   const std::string& deployment_id, bool deploy_logs);
    // One read's answer: its lines stored and its cursors kept once they are, its steps kept.
    std::optional<std::vector<railway::DeploymentEvent>> StorePhaseRead(const PhaseRead& read,
                                                                        railway::PhaseChangeAsk& ask,
                                                                        railway::PhaseChangeReads& reads);

    util::Result<store::TransitionResult> Write(const store::Instance& before, store::Transition transition,
                                                const std::string& kind, std::vector<core::Action> actions = {},
                                                std::optional<core::Classification> classification = std::nullopt);
    // Write's halves. Prepare: the transition's outbox rows planned, its due time parked where
    // the store must hold it (kept claims); the instance as it will be written.
    PendingWrite Prepare(const store::Instance& before, store::Transition transition, const std::string& kind,
                         std::vector<core::Action> actions = {},
                         std::optional<core::Classification> classification = std::nullopt);
    // Announce: an applied transition told to the sink, with the instance as written.
    void Announce(const store::Instance& after, const store::Transition& transition,
                  const util::Result<store::TransitionResult>& result);
    // The poll batch's writes in one store call (Timeline::ApplyTransitions), each announced and
    // followed by its `then` when written.
    void WriteAll(std::vector<PendingWrite>& writes);
    // Whether Railway reports an incident or maintenance now: platformStatus, read at most once
    // a minute (from the side budget; the last answer while none is left or Railway fails).
    bool RailwayIncident(core::Timestamp now);
    core::Timestamp NextCheck(const store::Instance& instance, core::DeploymentStatus status, core::Timestamp now);
    core::Duration ConfiguredInterval(const store::Instance& instance, core::DeploymentStatus status) const;
    // The plan's stretch of `status`'s interval (stable ones are stretched first). Under mutex_.
    double StretchOf(core::DeploymentStatus status) const;
    // The instance's (status, interval) in fleet_ (none: not monitored). With a kept entry (given,
    // or found by id) whose Kept::fleet says fleet_ holds that already, no map is touched.
    void NoteFleet(const store::Instance& instance, std::optional<core::DeploymentStatus> status, Kept* kept = nullptr);
    // kept_groups_ with a kept entry's note added (+1) or taken away (-1); mutex_ held.
    void CountKept(const Kept::FleetNote& note, int delta);
    // Forgets a kept entry and its note in kept_groups_; mutex_ held.
    void ForgetKept(Kept& kept);
    // The fleet the budget plan counts (fleet_groups_ or kept_groups_); mutex_ held.
    const FleetGroups& PlannedFleet() const;
    void Replan();
    void NoteDue(core::Timestamp at);
    // A job that moves an instance on to another deployment (a redeploy, a discovery) holds its
    // kept entry out of the rounds from before its write until after it: a round in between
    // would check the deployment the kept row (or a read before the write) still names, and that
    // answer would set the next check at the old deployment's interval. Held, the entry is not
    // taken; a check in flight lands without being scheduled. When the hold ends (after the
    // write, made or failed), the entry is due at `at` with its row read again; not kept here, a
    // claim may find it then; the scheduler is woken if it would sleep past `at`.
    class MoveHold {
      public:
        MoveHold(Monitor& monitor, std::string instance_id, core::Timestamp at);
        ~MoveHold();
        MoveHold(const MoveHold&) = delete;
        MoveHold& operator=(const MoveHold&) = delete;

      private:
        Monitor& monitor_;
        std::string instance_id_;
        core::Timestamp at_;
    };
    void HoldForMove(const std::string& instance_id);
    void EndMove(const std::string& instance_id, core::Timestamp at);

    // Kept claims (docs/ENGINE.md, "Scheduling: kept claims"). The round's heartbeat, when due:
    // leases renewed, the surplus over this process's share handed back to the other workers.
    void KeepClaims(core::Timestamp now);
    // Reads the store's change feed since the last round (Instances::ChangedInstances): kept rows
    // that changed are taken as read, or dropped where this process lost them. False when the
    // store did not answer: the round then takes nothing (a kept row could be stale).
    bool FollowChanges();
    // Whether a row read from the store is still this worker's to keep: its lease, monitored,
    // not deleted.
    bool StillKept(const store::Instance& row) const;
    // The kept instances due by `until`, at most `limit`: their kept rows, or (where none is
    // kept) rows read from the store, those this process lost meanwhile dropped. The round's
    // share of its own schedule.
    // Appended to `out`.
    void TakeKeptDue(core::Timestamp until, std::size_t limit, std::vector<PollItem>& out);
    static constexpr std::size_t kNoWrite = std::numeric_limits<std::size_t>::max();  // Landing::write
    // A kept instance's answer: its next due time (none: no longer kept) and whether its check
    // wrote the row (then it is read again before the next check, unless kept as written).
    struct Landing {
        Kept* kept = nullptr;
        std::optional<core::Timestamp> next;
        bool wrote = false;
        // The check's write, its place in the poll's writes (kNoWrite: none): applied with a
        // change position, its row is kept as written and the feed does not hand it back
        // (own_changes_).
        std::size_t write = kNoWrite;
    };
    // Lands a poll's kept checks (`writes`: the poll's, written; a kept row takes its write's
    // `after`); returns the earliest next check it scheduled.
    std::optional<core::Timestamp> KeepChecked(const std::vector<Landing>& landings, std::vector<PendingWrite>& writes);
    // Gives every kept instance back with its due time (Stop), and those forgotten (given_up_).
    void ReleaseKept();
    // Gives the kept instances forgotten while the heartbeats failed back (a heartbeat passed).
    void GiveBackForgotten();
    void TakeGivenUp(std::vector<store::InstanceRelease>& out);
    double NextUnit();

    railway::RailwayApi& api_;
    store::Instances& instances_;
    store::Schedule& schedule_;
    store::Timeline& timeline_;
    store::Logs& logs_;
    const util::Clock& clock_;
    EventSink& sink_;
    const MonitorOptions options_;
    const OutboxPlanner planner_;

    util::Wakeup scheduler_wakeup_;
    std::vector<std::unique_ptr<util::Wakeup>> poll_wakeups_;    // one per poller
    std::vector<std::unique_ptr<util::Wakeup>> worker_wakeups_;  // one per worker
    std::thread scheduler_;
    std::vector<std::thread> pollers_;
    std::vector<std::thread> workers_;

    mutable std::mutex mutex_;  // guards everything below
    std::unordered_map<std::string, FleetEntry> fleet_;
    // fleet_ counted by (status, interval), kept with it: what Replan and Capacity read, so a
    // round does not walk the whole fleet (a third of serve's CPU at 100,000 instances).
    FleetGroups fleet_groups_;
    // The kept entries' fleet notes (Kept::fleet) counted the same way: the fleet this process
    // polls, which it plans for beside other live workers (PlannedFleet).
    FleetGroups kept_groups_;
    core::BudgetPlan plan_;
    // Processes sharing the token's budget: the live workers of the last heartbeat (kept claims;
    // 1 without). The plan and the side work's buckets use 1/budget_parts_ of the limits.
    int budget_parts_ = 1;
    std::multiset<core::Timestamp> due_;  // next checks of instances not kept here (may be stale)
    // The instances this process holds claimed between checks, with their due times: a check
    // that changes nothing writes no row (the leases are held while this worker lives).
    KeptSchedule kept_;
    std::size_t claim_cap_ =
        std::numeric_limits<std::size_t>::max();  // kept instances past which this process claims no more
    core::Timestamp next_heartbeat_at_ = core::Timestamp::min();  // read and set by rounds only
    core::Timestamp last_claim_at_ = core::Timestamp::min();      // read and set by rounds only
    bool claim_backlog_ = false;  // the last claim took all it was allowed (rounds only)
    core::Timestamp leases_valid_until_ = core::Timestamp::min();  // the last heartbeat's lease end
    // Kept instances forgotten while the heartbeats failed, with their due times: given back when
    // the store answers again (GiveBackForgotten), or at Stop.
    std::vector<store::InstanceRelease> given_up_;
    std::optional<std::int64_t> change_position_;  // the change feed's position (rounds only)
    std::uint64_t lands_ = 0;                      // kept checks landed so far (FollowChanges)
    // Kept rows held as this process's checks wrote them: id → the change-feed position of that
    // write; FollowChanges asks the feed to leave them out unless changed since, and drops those
    // the feed has moved past.
    store::HeldChanges own_changes_;
    JobQueue jobs_;
    std::vector<std::size_t> idle_workers_;  // workers waiting for a job (WorkerLoop)
    std::optional<std::size_t> timekeeper_;  // the idle worker that waits for the earliest job's time
    std::set<std::string> busy_instances_;   // instances a worker runs a job for
    std::deque<PollWork> poll_queue_;        // claimed polls no poller took yet
    std::vector<std::size_t> idle_pollers_;  // pollers that found the queue empty and wait (by index)
    std::size_t polls_pending_ = 0;          // status requests queued or being sent (PollWork::requests)
    // The last poll with an error answer or slower than slow_poll: one request per poll until
    // poll_trouble_pause after it (min(): none yet).
    core::Timestamp poll_trouble_at_ = core::Timestamp::min();
    // When the scheduler's wait ends: a due time placed earlier than this must wake it. min()
    // while no due time needs to: it is awake (or not started) and reads the schedule before it
    // waits again, or it waits for room in the poll queue, which the poller making room tells.
    core::Timestamp scheduler_wakes_at_ = core::Timestamp::min();
    // What the last phase reads of an instance's deployment left (ReadPhase): where each kind's
    // lines go on, and the steps last stored (Timeline::SaveSteps: an unchanged list is not
    // written again). Per instance, not per deployment: each instance keeps its own copy of a
    // deployment's lines, so two following one read them each from its own cursor. One entry per
    // instance, of the deployment it follows; dropped when that one is done with.
    struct PhaseReads {
        std::string deployment_id;
        railway::LogCursor build;
        railway::LogCursor deploy;
        std::vector<store::DeploymentStepRecord> steps;
    };
    std::unordered_map<std::string, PhaseReads> phase_reads_;  // by instance id
    // Stalls being confirmed against the logs (ConfirmStallLater), by instance id: of which
    // deployment, whether a job is queued, and until when a sign of life keeps it from being
    // stuck. Dropped with the deployment (Forget) and the instance.
    struct StallCheck {
        std::string deployment_id;
        bool pending = false;
        core::Timestamp quiet_until = core::Timestamp::min();
        std::optional<core::Timestamp> last_line;  // the newest line a confirmation saw, not stored
    };
    std::unordered_map<std::string, StallCheck> stall_checks_;
    // When each followed instance's logs were last asked for (FollowLogs); pruned as it grows.
    std::unordered_map<std::string, util::SteadyTime> log_follows_;
    SideBucket reserve_bucket_;
    SideBucket unused_bucket_;
    // Phase changes' log collections admitted (kCollectionsPerSecond): a poll round finds a wave's
    // phase changes at once, so it holds half a minute of the rate.
    SideBucket collections_bucket_{30, 0, std::nullopt};
    util::SystemRandom random_;
    std::unique_ptr<Prober> prober_;  // set before Start(), or never
    struct PlatformView {
        std::optional<core::Timestamp> read_at;
        std::optional<std::string> incident;  // Railway's message; none: stable
    };
    PlatformView platform_;  // guarded by mutex_
    // An instance noted for its environment's reads (NoteSettled).
    struct NotedInstance {
        std::string instance_id;
        std::string deployment_id;                  // the deployment it follows
        std::optional<core::Timestamp> created_at;  // that deployment's, when Railway said
        std::uint32_t generation = 0;               // EnvironmentWatch::generation when last noted
    };
    // The newest deployment of a service the list reads found.
    struct ListedService {
        std::string deployment_id;
        core::Timestamp created_at{};
        std::uint32_t generation = 0;  // EnvironmentWatch::generation when listed

        // Whether `noted` follows an older deployment than this one. Of two deployments of one
        // time either may be the newer: the discovery asks Railway which.
        bool Ahead(const NotedInstance& noted) const {
            return deployment_id != noted.deployment_id && (!noted.created_at || created_at >= *noted.created_at);
        }
    };
    struct EnvironmentWatch {
        // The instances found settled, by service (a read looks up each service it reads): noted
        // at every settled check (most of the checks of a settled fleet) and kept across reads,
        // so that a check that finds nothing new changes nothing here; an instance not noted since
        // the whole read before is dropped at the next (deleted, moved on, another process's).
        std::unordered_multimap<std::string, NotedInstance> instances;
        HashFilter filter;  // of the services of `instances` (most services read are not held)
        // By service: what the list reads found since the whole read before the last, so that an
        // instance noted later (in progress then, or not yet settled) is compared on noting.
        std::unordered_map<std::string, ListedService> listed;
        std::uint32_t generation = 0;                  // whole reads so far
        std::optional<core::Timestamp> newest;         // the newest createdAt a read listed (Railway's clock)
        std::optional<core::Timestamp> whole_read_at;  // the last whole read that reached its end
        std::optional<core::Timestamp> read_at;
        bool queued = false;
        // A list was cut short (more new deployments than its pages) and `newest` moved past what
        // it left out: every read is whole until one reaches its end.
        bool whole_owed = false;
    };
    // Guards environments_ and lists_usable_; never held while Railway is asked or with mutex_.
    std::mutex discovery_mutex_;
    bool lists_usable_ = true;  // false once a list was not newest first or refused for good
    std::unordered_map<std::string, EnvironmentWatch> environments_;  // by environment id; never erased
};

}  // namespace railwatch::monitor
