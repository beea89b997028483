#include "monitor/monitor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/deployment_event.hpp"
#include "core/health.hpp"
#include "core/progress.hpp"
#include "core/sanitize.hpp"
#include "core/stats.hpp"
#include "monitor/hash_filter.hpp"
#include "railway/response.hpp"
#include "util/ids.hpp"
#include "util/thread_name.hpp"

namespace railwatch::monitor {
namespace {

using core::DeploymentStatus;
using core::Duration;
using core::Timestamp;

// Evidence kept on an instance (error_stack) and per log line: the store's field limit is 1 MiB,
// far more than a person reads.
constexpr std::size_t kMaxEvidenceBytes = std::size_t{8} * 1024;
constexpr std::size_t kMaxLogLineBytes = std::size_t{16} * 1024;
// Log lines read back as classification evidence.
constexpr int kEvidenceLines = 200;
// Steps asked for per deployment, and log lines per page.
constexpr int kStepsAsked = 100;
constexpr int kLogPage = 500;
// Instances whose last FollowLogs is remembered before the old ones are dropped.
constexpr std::size_t kMaxLogFollows = 4096;
// The most rows one store call for the kept schedule names (the store takes up to 10,000).
constexpr std::size_t kMaxStoreBatch = 5000;
// Calls `fn` with consecutive parts of `items`, kMaxStoreBatch at most each (`items` itself when
// it fits: no copy on the round's path); stops at the first part `fn` returns false for.
template <typename T, typename Fn>
void ForEachStoreBatch(const std::vector<T>& items, Fn fn) {
    if (items.size() <= kMaxStoreBatch) {
        if (!items.empty()) fn(items);
        return;
    }
    for (std::size_t at = 0; at < items.size(); at += kMaxStoreBatch) {
        const std::vector<T> part(
            items.begin() + static_cast<std::ptrdiff_t>(at),
            items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), at + kMaxStoreBatch)));
        if (!fn(part)) return;
    }
}
// The longest a worker with nothing queued sleeps before looking again.
constexpr Duration kWorkerIdle = core::Seconds(3600);
// What a reader's log follow reserves of the side budget: the one request a collection sends,
// steps and lines together.
constexpr double kFollowLogsCost = 1;
// The most phase changes' log collections queued a second, on average over half a minute
// (collections_bucket_): a fleet that deploys at once (thousands of phase changes a second at
// 100,000 instances) must not read and store logs faster than the store writes its transitions;
// 8 is about what the reserve allowed in that flood when each collection was charged 3. A
// collection not queued loses no line: the next collection, the failure's or a reader's reads on
// from the instance's cursors.
constexpr double kCollectionsPerSecond = 8;
// What a classification reserves: the most it sends (its phase read; for a quota check the
// token's and the workspace's reads), settled against what it sent once it is done. The largest
// reservation of failure work, and so what work that is not (SideWork) leaves in a bucket.
constexpr double kClassifyCost = 3;

// How many items ahead of its work a poll's loops start loading what the items' checks read: at
// 100,000 instances each line is a cache miss, and loads asked for early overlap.
constexpr std::size_t kPrefetchDistance = 6;

// The item kPrefetchDistance after item k, whose lines a loop over `items` starts loading at k;
// null near the end.
template <typename T>
const T* Ahead(const std::vector<T>& items, std::size_t k) {
    return k + kPrefetchDistance < items.size() ? &items[k + kPrefetchDistance] : nullptr;
}

// Starts loading the fields a check reads of a row (its first ones: store::Instance,
// InstanceState), without waiting for them: one prefetch per 64-byte cache line they span.
void PrefetchCheckFields(const store::Instance& row) {
    constexpr std::ptrdiff_t kCacheLine = 64;
    const char* const first = reinterpret_cast<const char*>(&row);
    const char* const last = reinterpret_cast<const char*>(&row.state.deployment_status + 1) - 1;
    for (const char* line = first; line < last; line += kCacheLine)
        __builtin_prefetch(line);
    __builtin_prefetch(last);
}

// What the decision reads of the row; `deployment_id` is the row's deployment id (or a view of a
// copy of it).
core::StoredCheckState StoredOf(const store::Instance& instance, std::optional<std::string_view> deployment_id) {
    const store::InstanceState& s = instance.state;
    core::StoredCheckState out;
    out.status = s.status;
    out.deployment_id = deployment_id;
    out.deployment_status = s.deployment_status;
    out.progress = s.progress;
    out.needs_attention = s.needs_attention;
    out.deployment_started_at = s.deployment_started_at;
    out.deployment_updated_at = s.deployment_updated_at;
    out.deployment_completed_at = s.deployment_completed_at;
    return out;
}

core::StoredCheckState StoredOf(const store::Instance& instance) {
    return StoredOf(instance, instance.state.deployment_id);
}

// What the check decides on, from a full read (Deployment) or a poll (PolledStatus) of `id`.
template <typename Read>
core::ObservedDeployment ObservedOf(const Read& read, std::string_view id) {
    core::ObservedDeployment out;
    out.id = id;
    out.status = read.status;
    out.created_at = read.created_at;
    out.updated_at = read.updated_at;
    out.status_updated_at = read.status_updated_at;
    out.deployment_stopped = read.deployment_stopped;
    return out;
}

core::ObservedDeployment ObservedOf(const railway::Deployment& d) {
    return ObservedOf(d, d.id);
}

// The state a transition decision leaves the instance in.
store::InstanceState StateAfter(const store::InstanceState& before, const core::CheckDecision& d,
                                const std::string& deployment_id) {
    store::InstanceState s = before;
    s.status = d.status;
    s.deployment_id = deployment_id;
    s.deployment_status = d.to_status;
    s.progress = d.progress;
    s.deployment_started_at = d.started_at;
    s.deployment_updated_at = d.updated_at;
    s.deployment_completed_at = d.completed_at;
    if (d.clear_error) {
        s.error_type.reset();
        s.error_message.reset();
        s.error_stack.reset();
        s.needs_attention = false;
        s.attention_reason.reset();
    }
    if (d.error_message) {
        s.error_type.reset();
        s.error_message = d.error_message;
        s.error_stack.reset();
    }
    // Health from the deployment's new state until a probe says more (monitor/prober.hpp): the
    // last probe's verdict was about the state before. Unknown (in progress) is stored as none.
    core::HealthInput health;
    health.instance_status = s.status;
    health.deployment_status = core::ParseDeploymentStatus(d.to_status);
    const core::HealthStatus verdict = core::EvaluateHealth(health, core::HealthPolicy{}, d.at).status;
    if (verdict == core::HealthStatus::kUnknown) {
        s.health.reset();
    } else {
        s.health = std::string(core::ToString(verdict));
    }
    return s;
}

// Whether a check with this verdict writes the instance's row (HandleDecision).
bool Writes(core::CheckVerdict verdict) {
    return verdict == core::CheckVerdict::kTransition || verdict == core::CheckVerdict::kAttention ||
           verdict == core::CheckVerdict::kEnded;
}

DeploymentStatus PhaseOf(const store::InstanceState& state) {
    return state.deployment_status ? core::RailwayStatus::Parse(*state.deployment_status).value
                                   : DeploymentStatus::kUnknown;
}

std::string WithSuggestion(const std::string& reason, const std::string& suggestion) {
    return suggestion.empty() ? reason : reason + ": " + suggestion;
}

// A step as the store keeps it (Timeline::SaveSteps).
store::DeploymentStepRecord RecordOf(const std::string& deployment_id, const railway::DeploymentEvent& event) {
    return store::DeploymentStepRecord{deployment_id, core::SanitizeText(event.step, 64), event.created_at,
                                       event.completed_at,
                                       core::SanitizeText(event.error.empty() ? event.reason : event.error, 4096)};
}

// A kept step as progress reads it; none for a step this version does not know (it has no band
// and no row of the step list) or one without its start.
std::optional<core::DeploymentStep> StepOf(const store::DeploymentStepRecord& record) {
    const auto step = core::ParseDeploymentEventStep(record.step);
    if (!step || !record.created_at) return std::nullopt;
    return core::DeploymentStep{*step, *record.created_at, record.completed_at, record.error};
}

// Typical time per Railway step from the instance's earlier deployments whose steps are kept: the
// medians of each finished step's createdAt → completedAt.
std::map<core::DeploymentEventStep, Duration> TypicalStepDurations(
    const std::vector<store::DeploymentStepRecord>& records, const std::string& current_deployment) {
    std::map<core::DeploymentEventStep, std::vector<Duration>> spans;
    for (const store::DeploymentStepRecord& record : records) {
        if (record.deployment_id == current_deployment) continue;
        const auto step = StepOf(record);
        if (step && step->completed_at && *step->completed_at >= step->created_at)
            spans[step->step].push_back(*step->completed_at - step->created_at);
    }
    std::map<core::DeploymentEventStep, Duration> out;
    for (auto& [step, values] : spans) {
        if (auto median = core::Median(std::move(values))) out[step] = *median;
    }
    return out;
}

// Typical time per phase from the instance's earlier deployments: the medians of how long each
// status lasted (the time to the next event of the same deployment).
core::HistoricalDurations TypicalDurations(const std::vector<store::TimelineEvent>& events,
                                           const std::string& current_deployment) {
    std::map<DeploymentStatus, std::vector<Duration>> spans;
    for (std::size_t i = 0; i + 1 < events.size(); ++i) {
        const auto& a = events[i];
        const auto& b = events[i + 1];
        if (a.deployment_id == current_deployment || a.deployment_id != b.deployment_id) continue;
        if (a.to_status == b.to_status) continue;  // a reaction or attention row, not a new phase
        spans[core::RailwayStatus::Parse(a.to_status).value].push_back(b.at - a.at);
    }
    core::HistoricalDurations out;
    for (auto& [status, values] : spans) {
        if (auto median = core::Median(std::move(values))) out.phases[status] = *median;
    }
    return out;
}

// A row that records a decision about the current status (a reaction, an attention flag) keeps
// the status: its time must differ from the status row's, which the store treats as its key.
Timestamp RowTime(const store::InstanceState& state, Timestamp now) {
    if (state.deployment_updated_at && now <= *state.deployment_updated_at) {
        return *state.deployment_updated_at + core::Millis(1);
    }
    return now;
}

// A row that records a decision about the instance's current status (a reaction, an attention
// flag): the status kept, dated by RowTime, with the state as read (the caller changes it).
store::Transition DecisionRow(const store::Instance& instance, const std::string& deployment_id, std::string source,
                              Timestamp now) {
    store::Transition t;
    t.instance_id = instance.id;
    t.deployment_id = deployment_id;
    t.from_status = instance.state.deployment_status;
    t.to_status = instance.state.deployment_status.value_or("UNKNOWN");
    t.at = RowTime(instance.state, now);
    t.source = std::move(source);
    t.state = instance.state;
    return t;
}

util::Error ErrorOf(const railway::ApiError& error) {
    return error.ToError();
}

}  // namespace

Monitor::Monitor(railway::RailwayApi& api, store::Instances& instances, store::Schedule& schedule,
                 store::Timeline& timeline, store::Logs& logs, const util::Clock& clock, EventSink& sink,
                 MonitorOptions options, OutboxPlanner planner)
    : api_(api),
      instances_(instances),
      schedule_(schedule),
      timeline_(timeline),
      logs_(logs),
      clock_(clock),
      sink_(sink),
      options_(std::move(options)),
      planner_(std::move(planner)) {
    for (std::size_t i = 0; i < std::max<std::size_t>(options_.poll_threads, 1); ++i)
        poll_wakeups_.push_back(std::make_unique<util::Wakeup>());
    for (std::size_t i = 0; i < std::max<std::size_t>(options_.workers, 1); ++i)
        worker_wakeups_.push_back(std::make_unique<util::Wakeup>());
    Replan();
}

Monitor::~Monitor() {
    Stop();
}

bool Monitor::NeedsVerdictAgain(const store::Instance& instance) const {
    // Jobs live in memory: a process that died after writing a failure but before its
    // classification, or before a planned redeploy ran, left the failure without its answer.
    const store::InstanceState& s = instance.state;
    if (!s.deployment_id || !core::IsFailed(PhaseOf(s)) || s.needs_attention) return false;
    if (!s.error_type) return true;
    // Classified NETWORK with redeploys left: the redeploy was planned; planning again queues it
    // (a NETWORK failure with redeploys left notifies nobody, so nothing is told twice).
    return *s.error_type == core::ErrorClass::kNetwork && s.retry_count < options_.reactions.max_redeploys;
}

util::Result<void> Monitor::Start() {
    // A process restarted under its worker id after a crash takes back its earlier life's claims
    // now instead of when their leases end (MonitorOptions::worker_id says why ids must differ).
    if (auto dropped = schedule_.DropLeases(options_.worker_id, clock_.Now()); !dropped) {
        return util::Fail(dropped.error().code,
                          "taking back this worker's earlier claims failed: " + dropped.error().message);
    }
    // The fleet as stored: what the budget plan starts from (rounds keep it current).
    store::InstanceQuery query;
    query.limit = 1000;
    for (;;) {
        auto page = instances_.ListInstances(query);
        if (!page)
            return util::Fail(page.error().code, "reading the monitored instances failed: " + page.error().message);
        for (const store::Instance& instance : page->items) {
            if (!instance.monitoring || instance.deleted_at) continue;
            NoteFleet(instance, PhaseOf(instance.state));
            if (NeedsVerdictAgain(instance)) {
                Enqueue(Job{JobKind::kClassify, instance.id, *instance.state.deployment_id, clock_.Now()});
            }
        }
        if (page->next_cursor.empty()) break;
        query.cursor = page->next_cursor;
    }
    Replan();
    for (std::size_t i = 0; i < poll_wakeups_.size(); ++i)
        pollers_.emplace_back([this, i] { PollLoop(i); });
    for (std::size_t i = 0; i < worker_wakeups_.size(); ++i)
        workers_.emplace_back([this, i] { WorkerLoop(i); });
    scheduler_ = std::thread([this] { SchedulerLoop(); });
    if (prober_) prober_->Start();
    return {};
}

void Monitor::EnableProbes(store::HealthChecks& health, net::HttpTransport& http, ProberOptions options) {
    if (prober_ || options.interval <= Duration::zero()) return;
    // Looking a probe URL up is side work: from the reserve, like log collection.
    prober_ = std::make_unique<Prober>(api_, instances_, health, http, clock_, sink_, options, [this](Timestamp now) {
        Timestamp retry_at = Timestamp::max();
        return TakeSideBudget(1, SideWork::kBestEffort, now, &retry_at) != SidePayer::kNone;
    });
}

std::size_t Monitor::RunProbesForTest() {
    return prober_ ? prober_->RunForTest() : 0;
}

void Monitor::Stop() {
    scheduler_wakeup_.Stop();
    for (auto& wakeup : poll_wakeups_)
        wakeup->Stop();
    for (auto& wakeup : worker_wakeups_)
        wakeup->Stop();
    if (scheduler_.joinable()) scheduler_.join();
    for (std::thread& thread : pollers_)
        if (thread.joinable()) thread.join();
    for (std::thread& thread : workers_)
        if (thread.joinable()) thread.join();
    if (prober_) prober_->Stop();  // after the pollers, which offer it instances
    {
        // Batches no poller took: given back below with their due times, like the rest.
        std::lock_guard lock(mutex_);
        poll_queue_.clear();
        kept_.ForEach([](Kept& kept) { kept.Land(); });
    }
    // Whoever runs next (this worker restarted, another process) takes the kept instances at
    // their due times, not when the leases end.
    ReleaseKept();
}

// --- scheduler -------------------------------------------------------------------------------

void Monitor::SchedulerLoop() {
    util::NameThisThread("rw-scheduler");
    // The budget's pace after the last round's claims; min(): none. (Not an optional: GCC 12's
    // -Wmaybe-uninitialized misreads one here in the sanitizer builds.)
    Timestamp next_round_at = Timestamp::min();
    Timestamp last_round{};
    bool backlog = false;  // the last round took all it was allowed: more may be due
    while (!scheduler_wakeup_.Stopped()) {
        // The wait below is measured from here, not from where the sleep begins: time that passes
        // in between (a busy lock; a test moving its clock) is not waited again, which would
        // oversleep a due time computed from `now`. Steady time first: time passing between the
        // two reads then makes the wait end early (the loop looks again), never late.
        const util::SteadyTime steady_now = clock_.Steady();
        const Timestamp now = clock_.Now();
        bool room = false;
        bool due_soon = false;
        {
            std::lock_guard lock(mutex_);
            scheduler_wakes_at_ = Timestamp::min();  // awake: the schedule is read below, before any wait
            room = PollRoom();
            // The first due check starts a round, which takes what falls due within the window
            // along: rounds come at most once per window, each with a batch worth its request.
            due_soon = (!due_.empty() && *due_.begin() <= now) || kept_.Earliest().value_or(Timestamp::max()) <= now;
        }
        const bool paced = now < next_round_at;
        if (room && !paced && (backlog || due_soon || now - last_round >= options_.max_idle_wait)) {
            last_round = now;
            std::size_t limit = 0;
            std::size_t requests = 0;
            const std::size_t claimed = RunRound(now, /*inline_polls=*/false, &limit, &requests);
            std::lock_guard lock(mutex_);
            // The requests just sent spend the budget for a while: the next round waits that long
            // even when more is due (a backlog drains at the budget's pace, with no 429). By
            // requests, not checks: a round of a few due instances costs a whole request, and
            // paced as a fraction of one, rounds of sparse due times spent more than the budget
            // (three serves sharing a 1/s token: 1.15 a second, 1.05 paced by requests).
            const double per_second = plan_.budget_requests_per_second;
            next_round_at = Timestamp::min();
            if (requests > 0 && per_second > 0) {
                next_round_at = now + std::chrono::duration_cast<Duration>(
                                          std::chrono::duration<double>(static_cast<double>(requests) / per_second));
            }
            backlog = claimed > 0 && claimed >= limit;
            continue;
        }
        // Without room, the poller whose batch makes room wakes this loop (PollLoop); with room,
        // a due time placed before this wait ends does (PollLoop; Discover and DoRedeploy after
        // their writes).
        Duration wait = options_.max_idle_wait;
        {
            std::lock_guard lock(mutex_);
            if (room) {
                wait -= now - last_round;
                // A backlog is drained at the budget's pace: the next round comes when the pace
                // allows, not after the idle wait (a backlog's due times were erased above).
                if (backlog && paced) wait = std::min(wait, next_round_at - now);
                if (!due_.empty()) wait = std::min(wait, *due_.begin() - now);
                if (const auto earliest = kept_.Earliest()) wait = std::min(wait, *earliest - now);
            }
            if (paced) wait = std::max(wait, next_round_at - now);
            // Without room nothing due can be answered before room comes, which is told.
            scheduler_wakes_at_ = room ? now + wait : Timestamp::min();
        }
        clock_.WaitUntil(steady_now + wait, scheduler_wakeup_);
    }
}

void Monitor::PollLoop(std::size_t index) {
    util::NameThisThread("rw-poll-" + std::to_string(index));
    util::Wakeup& wakeup = *poll_wakeups_[index];
    while (!wakeup.Stopped()) {
        std::optional<PollWork> batch;
        {
            std::lock_guard lock(mutex_);
            std::erase(idle_pollers_, index);  // listed still if it woke by itself (a timeout)
            if (!poll_queue_.empty()) {
                batch = std::move(poll_queue_.front());
                poll_queue_.pop_front();
            } else {
                // Idle from here: a round wakes it (its wakeup remembers a notice that comes
                // before the wait begins).
                idle_pollers_.push_back(index);
            }
        }
        if (!batch) {
            clock_.WaitFor(kWorkerIdle, wakeup);
            continue;
        }
        const std::optional<Timestamp> next = PollBatch(*batch);
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            const bool had_room = PollRoom();
            polls_pending_ -= Slots(*batch);
            // The scheduler is woken when this poll makes room for a round (once, as the queue
            // falls to half: the other polls' ends find it awake or with room already), or when
            // the poll scheduled a check earlier than the scheduler's wait ends.
            wake = (!had_room && PollRoom()) || (next && DueBeforeSchedulerWakes(*next));
        }
        if (wake) scheduler_wakeup_.Notify();
    }
}

std::size_t Monitor::RunRoundForTest() {
    return RunRound(clock_.Now(), /*inline_polls=*/true);
}

std::size_t Monitor::RunRound(Timestamp now, bool inline_polls, std::size_t* limit_out, std::size_t* requests_out) {
    Replan();
    const std::size_t batch = BatchSize();  // distinct deployments per status request
    std::size_t limit = 0;
    bool noted_due = false;
    std::size_t per_poll = 1;  // status requests per poll (below)
    {
        std::lock_guard lock(mutex_);
        if (poll_trouble_at_ == Timestamp::min() || now - poll_trouble_at_ >= options_.poll_trouble_pause)
            per_poll = std::max<std::size_t>(options_.requests_per_poll, 1);
        // The due times noted so far, up to the window, are this round's to answer: its claim
        // (below, after this) reads their rows, written before they were noted; or, without room
        // in the budget, the idle wait's claim. One noted from here on is the next round's.
        const auto answered = due_.upper_bound(now + options_.batch_window);
        noted_due = answered != due_.begin();
        due_.erase(due_.begin(), answered);
        limit = std::min(options_.max_claim, core::ChecksAllowed(plan_, batch, core::Seconds(1)));
        // Whole batches: a round of 111 checks would cost three requests (50, 50, 11) where two
        // carry 100 and the next round, paced by what was claimed, takes the rest.
        if (limit > batch) limit -= limit % batch;
        if (!inline_polls) {
            // Claim no more than the pollers take soon: a claim waiting in the queue holds its
            // lease and is checked late. Two requests per poller keep each one busy.
            const std::size_t most = 2 * poll_wakeups_.size();
            const std::size_t room = polls_pending_ >= most ? 0 : most - polls_pending_;
            limit = std::min(limit, room * batch);
        }
    }
    if (limit_out != nullptr) *limit_out = limit;
    if (requests_out != nullptr) *requests_out = 0;
    if (options_.keep_claims) KeepClaims(now);
    if (limit == 0) return 0;
    // Before the claim: a change committed after the feed's read comes with the next round's.
    if (options_.keep_claims && !FollowChanges()) return 0;
    // First instances nobody holds (new, turned on, asked to be checked now, or left by a worker
    // that stopped; earliest due first, up to this process's share), then this process's own
    // schedule. That order: at full capacity, the kept ones (due again soon after each check)
    // would otherwise take every round and a new instance would never be claimed.
    // With kept claims the claim query runs when this process was told of due work (an instance
    // added, turned on, asked to be checked now), when the last one was cut short by its limit,
    // and otherwise every max_idle_wait (what other processes added, handed over or left
    // behind): kept instances are not in its way (the store holds them as due when their leases
    // end), but an empty claim is still a write transaction.
    std::vector<PollItem> taken;
    // Per-check claims: the claimed rows, which the round's batches point into and share.
    std::shared_ptr<std::vector<store::Instance>> claimed_rows;
    std::size_t claim_limit = limit;
    bool look = false;
    {
        std::lock_guard lock(mutex_);
        claim_limit = kept_.size() >= claim_cap_ ? 0 : std::min(claim_limit, claim_cap_ - kept_.size());
        look = !options_.keep_claims || claim_backlog_ || now >= last_claim_at_ + options_.max_idle_wait || noted_due;
    }
    if (claim_limit > 0 && look) {
        auto claimed = options_.keep_claims
                           ? schedule_.KeepDueInstances(options_.worker_id, now + options_.batch_window, options_.lease,
                                                        static_cast<int>(claim_limit))
                           : schedule_.ClaimDueInstances(options_.worker_id, now + options_.batch_window,
                                                         options_.lease, static_cast<int>(claim_limit));
        last_claim_at_ = now;
        claim_backlog_ = claimed && claimed->size() >= claim_limit;
        if (claimed && !options_.keep_claims) {
            claimed_rows = std::make_shared<std::vector<store::Instance>>(std::move(*claimed));
            taken.reserve(claimed_rows->size());
            for (store::Instance& instance : *claimed_rows)
                taken.push_back(PollItem{&instance});
        } else if (claimed) {
            std::lock_guard lock(mutex_);
            for (store::Instance& instance : *claimed) {
                auto [entry, added] = kept_.Add(instance.id);
                if (!added) {
                    // Kept here already: its lease was dropped (turned on again, a check asked
                    // for) and this claim took it back. A check in flight answers for it.
                    if (entry->in_flight || entry->moving > 0) continue;  // (a job's move schedules it)
                    kept_.Unschedule(*entry);
                }
                entry->due = instance.state.next_check_at.value_or(now);
                entry->in_flight = true;
                entry->SetRow(std::move(instance));  // the claim's row is fresher than any kept one
                taken.push_back(PollItem{&entry->Row(), entry});
            }
        }
    }
    if (options_.keep_claims && taken.size() < limit)
        TakeKeptDue(now + options_.batch_window, limit - taken.size(), taken);
    if (taken.empty()) return 0;
    const std::size_t count = taken.size();

    // Batches of at most batch_size distinct deployments (instances sharing one share its alias).
    // The rows stay where they are (the kept entries, or claimed_rows): batches point at them.
    // Instances of one deployment are made neighbours by sorting on a hash of its id (a kept
    // entry's, taken when its row was set; else read once per row, not at every comparison), ids
    // compared only where hashes are equal; those without one first.
    std::vector<std::pair<std::size_t, PollItem>> keyed;
    keyed.reserve(taken.size());
    for (const PollItem& item : taken) {
        keyed.emplace_back(
            item.kept != nullptr ? item.kept->RowDeploymentKey() : Kept::DeploymentKey(item.row->state.deployment_id),
            item);
    }
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        return a.first != 0 && *a.second.row->state.deployment_id < *b.second.row->state.deployment_id;
    });
    // In that order into requests of batch_size distinct deployments, and requests into polls of
    // up to requests_per_poll (one while polls have had trouble lately: a request that hangs or is
    // retried then holds only its own batch): a deployment that differs from the one before it is
    // asked for (those without one, first, ask for none) and starts a new request when this one
    // is full, and a new poll when that one is.
    const std::size_t per_batch = batch;
    std::vector<PollWork> polls;
    std::size_t distinct = 0;
    std::size_t requests = 0;  // requests that ask Railway (not one of instances without a deployment)
    for (std::size_t k = 0; k < keyed.size(); ++k) {
        const auto& [key, item] = keyed[k];
        const bool asks = key != 0 && (k == 0 || keyed[k - 1].first != key ||
                                       keyed[k - 1].second.row->state.deployment_id != item.row->state.deployment_id);
        if (polls.empty() || (asks && distinct == per_batch && polls.back().requests == per_poll)) {
            polls.emplace_back().rows = claimed_rows;
            polls.back().items.reserve(per_batch * per_poll);
            distinct = 0;
        } else if (asks && distinct == per_batch) {
            distinct = 0;  // the next request of this poll
        }
        if (asks && distinct++ == 0) {
            ++requests;
            ++polls.back().requests;
        }
        polls.back().items.push_back(item);
    }
    if (requests_out != nullptr) *requests_out = requests;
    if (inline_polls) {
        for (auto& poll : polls)
            PollBatch(poll);
        return count;
    }
    // One idle poller woken per poll; busy ones take the rest from the queue when they finish.
    std::vector<std::size_t> wake;
    {
        std::lock_guard lock(mutex_);
        for (auto& poll : polls) {
            polls_pending_ += Slots(poll);
            poll_queue_.push_back(std::move(poll));
        }
        while (wake.size() < polls.size() && !idle_pollers_.empty()) {
            wake.push_back(idle_pollers_.back());
            idle_pollers_.pop_back();
        }
    }
    for (const std::size_t index : wake)
        poll_wakeups_[index]->Notify();
    return count;
}

std::optional<Timestamp> Monitor::PollBatch(const PollWork& work) {
    const std::vector<PollItem>& batch = work.items;
    // One poll for every distinct deployment of the batch (the client answers each id on its own,
    // in the order asked). Instances of one deployment are neighbours (RunRound): each asks with
    // the one before it; `asked[k]` is item k's id's place (none: no deployment yet). The ids are
    // views of the rows (a kept entry's copy of its row's id: Kept::RowDeploymentId), which are
    // this poller's while the batch is in flight.
    constexpr std::size_t kNotAsked = std::numeric_limits<std::size_t>::max();
    std::vector<std::string_view> ids;
    std::vector<std::size_t> asked(batch.size(), kNotAsked);
    ids.reserve(batch.size());
    for (std::size_t k = 0; k < batch.size(); ++k) {
        if (const PollItem* ahead = Ahead(batch, k); ahead != nullptr && ahead->kept != nullptr)
            ahead->kept->PrefetchRowDeploymentId();
        const PollItem& item = batch[k];
        const std::optional<std::string_view> id = item.kept != nullptr
                                                       ? item.kept->RowDeploymentId()
                                                       : std::optional<std::string_view>(item.row->state.deployment_id);
        if (!id) continue;
        if (ids.empty() || ids.back() != *id) ids.emplace_back(*id);
        asked[k] = ids.size() - 1;
    }
    std::vector<railway::ApiResult<railway::PolledStatus>> results;
    const auto asked_at = clock_.Steady();
    if (!ids.empty()) results = api_.PollStatuses(ids);
    if (results.size() != ids.size()) {
        // Against RailwayApi's contract (one result per id, in order): which answer is whose is
        // unknown, so every id of the batch gets an error (checked again at its next interval)
        // and none is decided on a guess.
        const railway::ErrorContext context{"status check", "", railway::TokenKind::kAccount, ""};
        const std::size_t answered = results.size();
        results.assign(ids.size(),
                       tl::unexpected(railway::MalformedAnswer(
                           fmt::format("the client answered {} of {} deployments", answered, ids.size()), 0, context)));
    }
    CheckBatchReport report;
    report.request_time = clock_.Steady() - asked_at;
    bool troubled = report.request_time >= options_.slow_poll;
    // The answers are as of now, not as of the claim: a slow call (retries) must not shorten
    // the next intervals or date transitions early.
    const Timestamp now = clock_.Now();

    bool offered = false;                          // probes offered to the prober (woken once)
    std::vector<PendingWrite> writes;              // the batch's transitions, written together below
    std::vector<store::InstanceRelease> releases;  // per-check claims: given back to the store
    std::vector<Landing> landings;                 // kept claims: kept for the next check
    if (options_.keep_claims) {
        landings.reserve(batch.size());
    } else {
        releases.reserve(batch.size());
    }
    for (std::size_t k = 0; k < batch.size(); ++k) {
        if (const PollItem* ahead = Ahead(batch, k); ahead != nullptr) {
            PrefetchCheckFields(*ahead->row);
            if (ahead->kept != nullptr) ahead->kept->PrefetchFleet();
        }
        const PollItem& item = batch[k];
        const store::Instance& instance = *item.row;
        const std::size_t writes_before = writes.size();
        std::optional<Timestamp> next;
        bool wrote = false;  // the check wrote the row (or tried to): read it again before the next
        if (asked[k] == kNotAsked) {
            // Added without a deployment and not resolved yet: find the service's latest one.
            Enqueue(Job{JobKind::kDiscover, instance.id, "", now});
            next = NextCheck(instance, PhaseOf(instance.state), now);
        } else if (const auto& result = results[asked[k]]; result.has_value()) {
            const std::string& deployment_id = *instance.state.deployment_id;
            // Both ids the decision compares are the view asked with (equal to the row's): the
            // row's string is not read unless the check writes.
            const std::string_view asked_id = ids[asked[k]];
            const core::ObservedDeployment observed = ObservedOf(*result, asked_id);
            auto decision = core::DecideOnAnswer(StoredOf(instance, asked_id), observed, options_.check, now);
            if (core::IsStall(decision) && RailwayIncident(now)) {
                // A stall while Railway reports an incident: likely theirs, and said so.
                decision = core::DecideOnAnswer(StoredOf(instance, asked_id), observed, options_.check, now, true);
            }
            NoteCheck(report, instance, decision, now);
            next = HandleDecision(instance, decision, deployment_id, now, item.kept, writes);
            wrote = Writes(decision.verdict);
            if (decision.verdict != core::CheckVerdict::kTransition && core::IsStable(decision.interval_status)) {
                // A newer deployment may have started; or, for a SKIPPED / REMOVED one, the
                // discovery its transition queued may have died with an earlier process.
                NoteSettled(instance, deployment_id, result->created_at, now);
            }
            if (prober_ && core::IsSucceeded(decision.interval_status)) {  // the prober skips SLEEPING
                // The batch's probes are sent together (one wake of the prober, below).
                if (decision.verdict == core::CheckVerdict::kTransition) {
                    store::Instance after = instance;
                    after.state = StateAfter(instance.state, decision, deployment_id);
                    offered = prober_->Offer(after, /*wake=*/false) || offered;
                } else {
                    offered = prober_->Offer(instance, /*wake=*/false) || offered;
                }
            }
        } else if (result.error().code == util::ErrorCode::kCancelled) {
            next = instance.state.next_check_at.value_or(now);  // shutting down: leave it as it was
        } else {
            const core::ObservedError error{result.error().kind == core::ApiFailureKind::kNotFound,
                                            result.error().message};
            const auto decision = core::DecideOnError(StoredOf(instance), error, now);
            ++report.errors;
            troubled = troubled || !error.not_found;  // (a deployment deleted on Railway is an answer)
            NoteCheck(report, instance, decision, now);
            next = HandleDecision(instance, decision, *instance.state.deployment_id, now, item.kept, writes);
            wrote = Writes(decision.verdict);
        }
        if (options_.keep_claims) {
            landings.push_back(
                Landing{item.kept, next, wrote, writes.size() > writes_before ? writes_before : kNoWrite});
        } else {
            // Released to the store with the deployment asked about: a job that moved the row
            // meanwhile keeps its due time. Kept ones: KeepChecked (MoveHold).
            releases.push_back(store::InstanceRelease{instance.id, next, instance.state.deployment_id});
        }
    }
    if (offered) prober_->Wake();
    if (troubled) {
        std::lock_guard lock(mutex_);
        poll_trouble_at_ = now;  // the next polls send one request each for a while (RunRound)
    }
    // Written before the checked instances go back to the schedule (as each was before its check
    // ended): a row read for the next check holds its transition.
    WriteAll(writes);
    std::optional<Timestamp> earliest;
    if (options_.keep_claims) {
        earliest = KeepChecked(landings, writes);
    } else {
        // Each checked instance given back with its next check, in one transaction.
        std::erase_if(releases, [](const store::InstanceRelease& r) { return !r.next_check_at; });
        if (!releases.empty()) (void)schedule_.ReleaseInstances(options_.worker_id, releases);
        for (const store::InstanceRelease& release : releases) {
            NoteDue(*release.next_check_at);
            earliest = std::min(earliest.value_or(Timestamp::max()), *release.next_check_at);
        }
    }
    if (report.checked > 0) sink_.OnChecks(report);
    return earliest;
}

void Monitor::NoteCheck(CheckBatchReport& report, const store::Instance& instance, const core::CheckDecision& decision,
                        Timestamp now) {
    ++report.checked;
    if (decision.verdict == core::CheckVerdict::kTransition) ++report.transitions;
    // A batch window checks some instances a little early: that is no delay.
    const Timestamp due = instance.state.next_check_at.value_or(now);
    report.delays.push_back(std::max(now - due, Duration::zero()));
}

std::optional<Timestamp> Monitor::HandleDecision(const store::Instance& instance, const core::CheckDecision& decision,
                                                 const std::string& deployment_id, Timestamp now, Kept* kept,
                                                 std::vector<PendingWrite>& writes) {
    switch (decision.verdict) {
        case core::CheckVerdict::kConfirmStall:
            ConfirmStallLater(instance.id, deployment_id, now);  // its log may show it alive
            [[fallthrough]];
        case core::CheckVerdict::kUnchanged:
        case core::CheckVerdict::kRetry: {
            NoteFleet(instance, decision.interval_status, kept);
            return NextCheck(instance, decision.interval_status, now);
        }
        case core::CheckVerdict::kTransition: {
            const Timestamp next = NextCheck(instance, decision.interval_status, now);
            store::Transition t;
            t.instance_id = instance.id;
            t.deployment_id = deployment_id;
            t.from_status = decision.from_status;
            t.to_status = decision.to_status;
            t.at = decision.at;
            t.source = "poll";
            t.state = StateAfter(instance.state, decision, deployment_id);
            t.state.next_check_at = next;
            t.only_if_following = true;  // a job may have moved the instance on since the row was read
            // Not written (a store error): nothing follows, and the next check tries again.
            writes.push_back(Prepare(instance, std::move(t), "status"));
            const bool succeeded = decision.clear_error && decision.completed_at;
            writes.back().then = [this, &instance, status = decision.interval_status, follow_up = decision.follow_up,
                                  succeeded, deployment_id, now, kept] {
                NoteFleet(instance, status, kept);
                EnqueueFollowUp(follow_up, instance.id, deployment_id, now);
                if (succeeded) Forget(instance.id, deployment_id);
            };
            return next;
        }
        case core::CheckVerdict::kAttention: {
            const Timestamp next = NextCheck(instance, decision.interval_status, now);
            store::Transition t = DecisionRow(instance, deployment_id, "attention", now);
            t.state.needs_attention = true;
            t.state.attention_reason = decision.reason;
            t.state.next_check_at = next;
            t.only_if_following = true;
            writes.push_back(Prepare(instance, std::move(t), decision.timed_out ? "timeout" : "attention"));
            NoteFleet(instance, decision.interval_status, kept);
            return next;
        }
        case core::CheckVerdict::kEnded: {
            store::InstanceState state = instance.state;
            state.error_message = core::SanitizeText(decision.reason, kMaxEvidenceBytes);
            state.next_check_at.reset();
            if (!instances_.SaveState(instance.id, state)) return NextCheck(instance, decision.interval_status, now);
            (void)instances_.SetMonitoring(instance.id, false, std::nullopt, now);
            NoteFleet(instance, std::nullopt, kept);
            if (auto after = instances_.GetInstance(instance.id)) sink_.OnInstance(*after);
            return std::nullopt;  // monitoring is off: nothing to release
        }
    }
    return NextCheck(instance, decision.interval_status, now);
}

util::Result<store::TransitionResult> Monitor::Write(const store::Instance& before, store::Transition transition,
                                                     const std::string& kind, std::vector<core::Action> actions,
                                                     std::optional<core::Classification> classification) {
    const PendingWrite write =
        Prepare(before, std::move(transition), kind, std::move(actions), std::move(classification));
    auto result = timeline_.ApplyTransition(write.transition);
    Announce(write.after, write.transition, result);
    return result;
}

Monitor::PendingWrite Monitor::Prepare(const store::Instance& before, store::Transition transition,
                                       const std::string& kind, std::vector<core::Action> actions,
                                       std::optional<core::Classification> classification) {
    store::Instance after = before;
    after.state = transition.state;
    after.state.deployment_id = transition.deployment_id;
    if (planner_) {
        // Lent to the planner and taken back, not copied: a copy of the instance and one of the
        // transition (each with a state of a dozen strings) per transition, on the poller.
        ChangeToPlan change{std::move(after), std::move(transition), kind, std::move(actions),
                            std::move(classification)};
        std::vector<store::OutboxMessage> rows = planner_(change);
        after = std::move(change.instance);
        transition = std::move(change.transition);
        transition.outbox = std::move(rows);
    }
    // Kept here: the store holds it as due when its lease ends (KeepDueInstances), out of the
    // claim query's way; the due time is kept in memory (and is what the events carry).
    auto& next = transition.state.next_check_at;
    if (options_.keep_claims && next && before.lease_owner == options_.worker_id && before.lease_until &&
        *before.lease_until > *next)
        next = before.lease_until;
    return PendingWrite{std::move(after), std::move(transition), {}, std::nullopt};
}

void Monitor::Announce(const store::Instance& after, const store::Transition& t,
                       const util::Result<store::TransitionResult>& result) {
    if (!result || !result->applied) return;
    // The prober judges rows whose deployment is SUCCESS (Prober::Offer): one in flight for this
    // instance reports the row stored now, not the one it was offered.
    if (prober_ && t.from_status == "SUCCESS") prober_->Superseded(t.instance_id);
    const store::TimelineEvent event{result->event_id, t.instance_id, t.deployment_id, t.from_status,
                                     t.to_status,      t.at,          t.source};
    sink_.OnTransition(after, event);
    sink_.OnInstance(after);
}

void Monitor::WriteAll(std::vector<PendingWrite>& writes) {
    if (writes.empty()) return;
    std::vector<store::Transition> transitions;
    transitions.reserve(writes.size());
    for (PendingWrite& write : writes)
        transitions.push_back(std::move(write.transition));
    const auto results = timeline_.ApplyTransitions(transitions);
    // Against the contract (one result per transition): nothing is known written, so nothing
    // follows, and each instance's next check decides again.
    if (results.size() != writes.size()) return;
    for (std::size_t i = 0; i < writes.size(); ++i) {
        if (results[i] && results[i]->applied) writes[i].change_position = results[i]->change_position;
        Announce(writes[i].after, transitions[i], results[i]);
        // Superseded: the answer was about a deployment the instance has left; nothing follows.
        if (results[i] && !results[i]->superseded && writes[i].then) writes[i].then();
    }
}

Duration Monitor::ConfiguredInterval(const store::Instance& instance, DeploymentStatus status) const {
    // The instance's own interval, for every status; without one, its status's.
    if (instance.check_interval_s) {
        return std::max(core::Seconds(*instance.check_interval_s), options_.intervals.min_interval);
    }
    return core::BaseCheckInterval(options_.intervals, status);
}

Timestamp Monitor::NextCheck(const store::Instance& instance, DeploymentStatus status, Timestamp now) {
    double stretch = 1.0;
    double unit = 0;
    {
        std::lock_guard lock(mutex_);
        stretch = StretchOf(status);
        unit = random_.NextUnit();
    }
    return now + core::JitteredInterval(options_.intervals,
                                        core::StretchInterval(ConfiguredInterval(instance, status), stretch), unit);
}

double Monitor::StretchOf(DeploymentStatus status) const {
    return core::IsStable(status) ? plan_.stable_stretch : plan_.in_progress_stretch;
}

std::optional<Duration> Monitor::CheckInterval(const store::Instance& instance) const {
    if (!instance.monitoring) return std::nullopt;
    const DeploymentStatus status = PhaseOf(instance.state);
    double stretch = 1.0;
    {
        std::lock_guard lock(mutex_);
        stretch = StretchOf(status);
    }
    return core::StretchInterval(ConfiguredInterval(instance, status), stretch);
}

void Monitor::NoteFleet(const store::Instance& instance, std::optional<DeploymentStatus> status, Kept* kept) {
    FleetEntry entry;
    if (status) entry = FleetEntry{*status, ConfiguredInterval(instance, *status)};
    std::lock_guard lock(mutex_);
    // Every change of an id's fleet_ entry comes here and is told to its kept entry, if any: so
    // Kept::fleet, when set, is what fleet_ holds.
    if (kept == nullptr) kept = kept_.Find(instance.id);
    if (kept != nullptr) {
        if (status && kept->fleet.known && kept->fleet.status == entry.status && kept->fleet.interval == entry.interval)
            return;  // fleet_ holds it so
        CountKept(kept->fleet, -1);
        kept->fleet = {status.has_value(), entry.status, entry.interval};
        CountKept(kept->fleet, +1);
    }
    const auto found = fleet_.find(instance.id);
    if (found != fleet_.end()) {
        const auto group = fleet_groups_.find({found->second.status, found->second.interval.count()});
        if (--group->second == 0) fleet_groups_.erase(group);
    }
    if (status) {
        ++fleet_groups_[{entry.status, entry.interval.count()}];
        if (found != fleet_.end()) {
            found->second = entry;
        } else {
            fleet_.emplace(instance.id, entry);
        }
    } else if (found != fleet_.end()) {
        fleet_.erase(found);
    }
}

void Monitor::CountKept(const Kept::FleetNote& note, int delta) {
    if (!note.known) return;
    const auto key = std::make_pair(note.status, note.interval.count());
    if (delta > 0) {
        ++kept_groups_[key];
    } else if (const auto group = kept_groups_.find(key); group != kept_groups_.end() && --group->second == 0) {
        kept_groups_.erase(group);
    }
}

void Monitor::ForgetKept(Kept& kept) {
    CountKept(kept.fleet, -1);
    own_changes_.erase(kept.id);
    kept_.Forget(kept);
}

const Monitor::FleetGroups& Monitor::PlannedFleet() const {
    // Alone, this process follows every monitored instance it knows of; beside other live
    // workers, the ones it keeps: those it polls, with its share of the budget.
    return options_.keep_claims && budget_parts_ > 1 ? kept_groups_ : fleet_groups_;
}

std::size_t Monitor::BatchSize() const {
    const std::size_t own = std::max<std::size_t>(options_.batch_size, 1);
    const std::size_t client = api_.StatusBatchSize();
    return client == 0 ? own : std::min(own, client);
}

void Monitor::Replan() {
    std::lock_guard lock(mutex_);
    core::BudgetPlanInput input;
    // Checks come on average this share of their interval apart (the jitter only shortens).
    const double mean = core::MeanJitterFactor(options_.intervals);
    const auto on_average = [mean](Duration interval) {
        return Duration(static_cast<Duration::rep>(static_cast<double>(interval.count()) * mean));
    };
    for (const auto& [key, count] : PlannedFleet())
        input.groups.push_back({key.first, on_average(Duration(key.second)), count});
    input.batch_size = BatchSize();
    input.requests_per_hour = options_.requests_per_hour / budget_parts_;
    input.requests_per_second = options_.requests_per_second / budget_parts_;
    input.reserve_fraction = options_.reserve_fraction;
    input.default_interval = on_average(options_.intervals.fallback);
    plan_ = core::PlanBudget(input);
}

bool Monitor::RailwayIncident(Timestamp now) {
    {
        std::lock_guard lock(mutex_);
        if (platform_.read_at && now - *platform_.read_at < core::Seconds(60)) return platform_.incident.has_value();
        platform_.read_at = now;  // one reader a minute; the others go on with the last answer
    }
    Timestamp retry_at = Timestamp::max();
    if (TakeSideBudget(1, SideWork::kFailure, now, &retry_at) == SidePayer::kNone) {
        std::lock_guard lock(mutex_);
        return platform_.incident.has_value();
    }
    const auto status = api_.GetPlatformStatus();
    std::lock_guard lock(mutex_);
    if (status) {
        if (!status->incident_message.empty()) {
            platform_.incident = status->incident_message;
        } else if (!status->maintenance_message.empty()) {
            platform_.incident = "maintenance: " + status->maintenance_message;
        } else if (!status->is_stable) {
            platform_.incident = "Railway reports its platform unstable";
        } else {
            platform_.incident.reset();
        }
    }
    return platform_.incident.has_value();
}

std::optional<std::string> Monitor::PlatformIncident() const {
    std::lock_guard lock(mutex_);
    return platform_.incident;
}

void Monitor::NoteDue(Timestamp at) {
    std::lock_guard lock(mutex_);
    due_.insert(at);
}

Monitor::MoveHold::MoveHold(Monitor& monitor, std::string instance_id, Timestamp at)
    : monitor_(monitor), instance_id_(std::move(instance_id)), at_(at) {
    monitor_.HoldForMove(instance_id_);
}

Monitor::MoveHold::~MoveHold() {
    monitor_.EndMove(instance_id_, at_);
}

void Monitor::HoldForMove(const std::string& instance_id) {
    std::lock_guard lock(mutex_);
    Kept* const found = kept_.Find(instance_id);
    if (found == nullptr) return;  // not kept here: EndMove notes the due time
    ++found->moving;
    if (!found->in_flight) kept_.Unschedule(*found);  // one in flight lands unscheduled (KeepChecked)
}

void Monitor::EndMove(const std::string& instance_id, Timestamp at) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (Kept* const found = kept_.Find(instance_id); found == nullptr) {
            due_.insert(at);  // a claim finds it then (here or in another process)
        } else {
            Kept& kept = *found;
            if (kept.moving > 0) --kept.moving;
            // Its row is read again before the next check: the kept one (or one a feed read begun
            // before the write brings: FollowChanges) names the deployment left behind.
            kept.landed = ++lands_;
            if (kept.in_flight) {
                kept.rescheduled = at;  // its landing (or TakeKeptDue) drops the row and schedules it
            } else {
                kept.ClearRow();
                kept.due = at;
                if (kept.moving == 0) kept_.Schedule(kept);
            }
        }
        wake = DueBeforeSchedulerWakes(at);
    }
    if (wake) scheduler_wakeup_.Notify();
}

// --- kept claims -----------------------------------------------------------------------------

void Monitor::KeepClaims(Timestamp now) {
    const Duration beat = std::max<Duration>(options_.lease / 3, core::Seconds(1));
    if (now >= next_heartbeat_at_) {
        next_heartbeat_at_ = now + beat;
        auto loads = schedule_.Heartbeat(options_.worker_id, now, options_.lease);
        if (loads) {
            leases_valid_until_ = now + options_.lease;
            GiveBackForgotten();
            // Each live worker's share of the monitored fleet. One holding more than its share
            // plus some slack (a batch, or a tenth of the share: shares must not flap) hands the
            // surplus back, latest due first, with the due times. While a worker holds less than
            // its share minus the slack (one that has just started), the others claim no more
            // than their share: else the busy ones, whose schedulers wake often, would take
            // everything before the idle one looks.
            const std::size_t workers = std::max<std::size_t>(loads->workers.size(), 1);
            const std::size_t fleet = static_cast<std::size_t>(std::max(loads->monitored, 0));
            const std::size_t share = (fleet + workers - 1) / workers;
            const std::size_t slack = std::max<std::size_t>(BatchSize(), share / 10);
            std::vector<store::InstanceRelease> surplus;
            bool share_changed = false;
            {
                std::lock_guard lock(mutex_);
                // The live workers share the token's budget as they share the fleet: each plans
                // with, and its client sends within, an equal part of it.
                share_changed = budget_parts_ != static_cast<int>(workers);
                budget_parts_ = static_cast<int>(workers);
                const bool starved = std::any_of(loads->workers.begin(), loads->workers.end(), [&](const auto& w) {
                    return static_cast<std::size_t>(std::max(w.held, 0)) + slack < share;
                });
                claim_cap_ = workers == 1 ? std::numeric_limits<std::size_t>::max() : starved ? share : share + slack;
                if (kept_.size() > share + slack) {
                    std::size_t give = kept_.size() - share;
                    for (Kept* kept : kept_.Latest(give)) {
                        surplus.push_back(store::InstanceRelease{kept->id, kept->due});
                        ForgetKept(*kept);
                    }
                }
            }
            ForEachStoreBatch(surplus, [&](const std::vector<store::InstanceRelease>& part) {
                (void)schedule_.ReleaseInstances(options_.worker_id, part);  // a failure: the leases expire
                return true;
            });
            if (share_changed) {
                api_.ShareBudget(static_cast<int>(workers));
                Replan();  // the plan and Capacity() at once; the next round claims within it
            }
        } else if (now >= leases_valid_until_ - beat) {
            // No heartbeat for two thirds of a lease (the store is unreachable): the leases may
            // end before the next one, and another worker take the instances. Forget them, and
            // give them back with their due times once the store answers: if it answers before
            // this worker's row is gone, the leases are still held (by a worker that no longer
            // checks them), and no claim would ever take them.
            std::lock_guard lock(mutex_);
            kept_.ForEach([this](Kept& kept) {
                if (kept.in_flight) return;
                given_up_.push_back(store::InstanceRelease{kept.id, kept.due});
                ForgetKept(kept);
            });
        }
    }
}

bool Monitor::StillKept(const store::Instance& row) const {
    return row.lease_owner == options_.worker_id && row.monitoring && !row.deleted_at;
}

bool Monitor::FollowChanges() {
    std::uint64_t lands_before = 0;
    store::HeldChanges held;
    {
        std::lock_guard lock(mutex_);
        lands_before = lands_;
        held = own_changes_;
    }
    auto changes = instances_.ChangedInstances(change_position_, held);
    if (!changes) return false;
    change_position_ = changes->next;
    std::lock_guard lock(mutex_);
    // The feed has moved past these writes: it does not bring them again.
    std::erase_if(own_changes_, [&](const auto& own) { return own.second < changes->next; });
    for (store::Instance& row : changes->instances) {
        Kept* const found = kept_.Find(row.id);
        if (found == nullptr) continue;
        Kept& kept = *found;
        if (kept.in_flight) {
            kept.changed = true;  // its check's answer lands with a stale row: read it again
        } else if (!StillKept(row)) {
            ForgetKept(kept);  // lost to another worker, turned off or deleted
        } else if (kept.landed > lands_before) {
            // Landed after this read began: its check may have written the row since. Read again.
            kept.ClearRow();
        } else {
            kept.SetRow(std::move(row));
        }
    }
    return true;
}

void Monitor::TakeKeptDue(Timestamp until, std::size_t limit, std::vector<PollItem>& out) {
    std::vector<Kept*> unread;  // kept without a row: read from the store
    {
        std::lock_guard lock(mutex_);
        // Taken first, then read: the order hands out entries without reading them, and the
        // entries' lines (at 100,000 each a cache miss, more than one) are loaded a few ahead.
        std::vector<Kept*> due;
        due.reserve(std::min(limit, kept_.size()));
        for (std::size_t taken = 0; taken < limit; ++taken) {
            Kept* const entry = kept_.TakeEarliest(until);
            if (entry == nullptr) break;
            due.push_back(entry);
        }
        out.reserve(out.size() + due.size());
        for (std::size_t k = 0; k < due.size(); ++k) {
            if (Kept* const* ahead = Ahead(due, k); ahead != nullptr) (*ahead)->PrefetchForRound();
            Kept* const entry = due[k];
            entry->in_flight = true;
            if (!entry->HasRow()) {
                unread.push_back(entry);
                continue;
            }
            // The due time is the kept one (the stored one is the lease's end), and the lease as the
            // heartbeats renewed it (a kept row is this worker's: FollowChanges drops any other).
            store::Instance& row = entry->Row();
            row.state.next_check_at = entry->due;
            row.lease_until = std::max(row.lease_until.value_or(Timestamp::min()), leases_valid_until_);
            out.push_back(PollItem{&row, entry});
        }
    }
    if (unread.empty()) return;
    // Read fresh: a worker job, the API or another process may have changed the row since the
    // last check (a new deployment, monitoring off, the lease dropped and taken elsewhere). The
    // entries are in flight: only this round and their answers touch them (no lookup by id).
    std::vector<std::string> ids;
    ids.reserve(unread.size());
    for (const Kept* entry : unread)
        ids.push_back(entry->id);
    std::vector<store::Instance> rows;
    rows.reserve(ids.size());
    bool failed = false;
    ForEachStoreBatch(ids, [&](const std::vector<std::string>& part) {
        auto read = instances_.GetInstances(part);
        failed = !read;
        if (read) {
            for (store::Instance& row : *read)
                rows.push_back(std::move(row));
        }
        return !failed;
    });
    std::lock_guard lock(mutex_);
    if (failed) {  // the store is unreachable: put them back as they were; the next round tries
        for (Kept* entry : unread) {
            entry->changed = false;
            entry->Land();
            if (entry->moving == 0) kept_.Schedule(*entry);
        }
        return;
    }
    std::size_t next = 0;  // the rows come in the order asked, unknown ids left out
    for (std::size_t k = 0; k < unread.size(); ++k) {
        Kept& entry = *unread[k];
        store::Instance* row = next < rows.size() && rows[next].id == ids[k] ? &rows[next++] : nullptr;
        entry.changed = false;  // read after any change the feed saw
        if (row != nullptr && (entry.rescheduled || entry.moving > 0)) {
            // A job moves it on (MoveHold): the row read may name the deployment left behind.
            // Its check waits for the job's due time (scheduled now, or when the move ends).
            entry.Land();
            if (entry.moving == 0) kept_.Schedule(entry);
        } else if (row != nullptr && StillKept(*row)) {
            // The due time is the kept one (the stored one is the lease's end).
            row->state.next_check_at = entry.due;
            entry.SetRow(std::move(*row));
            out.push_back(PollItem{&entry.Row(), &entry});
        } else {
            ForgetKept(entry);  // lost, turned off or deleted
        }
    }
}

std::optional<Timestamp> Monitor::KeepChecked(const std::vector<Landing>& landings, std::vector<PendingWrite>& writes) {
    std::vector<store::InstanceRelease> ended;
    std::optional<Timestamp> earliest;
    {
        std::lock_guard lock(mutex_);
        for (std::size_t k = 0; k < landings.size(); ++k) {
            if (const Landing* ahead = Ahead(landings, k); ahead != nullptr) __builtin_prefetch(ahead->kept);
            const Landing& landing = landings[k];
            Kept& entry = *landing.kept;  // in flight: forgotten by this answer only
            if (!landing.next) {          // monitoring ended: let go of the lease too
                ended.push_back(store::InstanceRelease{entry.id, std::nullopt});
                ForgetKept(entry);
                continue;
            }
            // The row checked stays kept for the next check unless the check wrote it, it changed
            // meanwhile (the feed) or a job moved it on: then it is read again. A write the store
            // placed in its change feed is kept as written instead, and the feed asked to leave
            // that change out (FollowChanges): a later change of the row still comes.
            if (entry.changed || entry.rescheduled) {
                entry.ClearRow();
            } else if (landing.wrote) {
                PendingWrite* write = landing.write == kNoWrite ? nullptr : &writes[landing.write];
                if (write != nullptr && write->change_position) {
                    entry.SetRow(std::move(write->after));  // the write's last use
                    own_changes_[entry.id] = *write->change_position;
                } else {
                    entry.ClearRow();
                }
            }
            // With a row or without (its check wrote it): a feed read begun before now may hold
            // the row from before that write, and must not become the kept row (FollowChanges).
            entry.landed = ++lands_;
            entry.changed = false;
            entry.Land(landing.next);
            if (entry.moving > 0) continue;  // a job moves it on: its move's end schedules it
            kept_.Schedule(entry);
            earliest = std::min(earliest.value_or(Timestamp::max()), entry.due);
        }
    }
    // A failure: the lease expires (a heartbeat renews only what monitoring still covers: harmless).
    if (!ended.empty()) (void)schedule_.ReleaseInstances(options_.worker_id, ended);
    return earliest;
}

// Under mutex_: the forgotten instances to give back, each once (one may have been forgotten,
// claimed again and forgotten again), none this worker has claimed again and keeps now.
void Monitor::TakeGivenUp(std::vector<store::InstanceRelease>& out) {
    std::set<std::string> seen;
    for (store::InstanceRelease& release : std::exchange(given_up_, {})) {
        if (kept_.Find(release.id) == nullptr && seen.insert(release.id).second) out.push_back(std::move(release));
    }
}

void Monitor::GiveBackForgotten() {
    std::vector<store::InstanceRelease> releases;
    {
        std::lock_guard lock(mutex_);
        TakeGivenUp(releases);
    }
    std::vector<store::InstanceRelease> failed;
    ForEachStoreBatch(releases, [&](const std::vector<store::InstanceRelease>& part) {
        // Those another worker took meanwhile are reported lost: nothing to do for them.
        if (!schedule_.ReleaseInstances(options_.worker_id, part))
            failed.insert(failed.end(), part.begin(), part.end());
        return true;
    });
    if (failed.empty()) return;
    std::lock_guard lock(mutex_);  // the next heartbeat tries again
    given_up_.insert(given_up_.end(), failed.begin(), failed.end());
}

void Monitor::ReleaseKept() {
    std::vector<store::InstanceRelease> releases;
    {
        std::lock_guard lock(mutex_);
        TakeGivenUp(releases);
        kept_.ForEach([&](const Kept& kept) { releases.push_back(store::InstanceRelease{kept.id, kept.due}); });
        kept_.Clear();
        kept_groups_.clear();
        own_changes_.clear();
    }
    ForEachStoreBatch(releases, [&](const std::vector<store::InstanceRelease>& part) {
        (void)schedule_.ReleaseInstances(options_.worker_id, part);  // a failure: the leases expire
        return true;
    });
}

double Monitor::NextUnit() {
    std::lock_guard lock(mutex_);
    return random_.NextUnit();
}

// --- worker ----------------------------------------------------------------------------------

void Monitor::EnqueueFollowUp(const core::FollowUp& follow_up, const std::string& instance_id,
                              const std::string& deployment_id, Timestamp now) {
    if (follow_up.classify_failure) Enqueue(Job{JobKind::kClassify, instance_id, deployment_id, now});
    if (follow_up.discover_latest) Enqueue(Job{JobKind::kDiscover, instance_id, deployment_id, now});
    if (follow_up.collect_logs && AdmitCollection(now))
        Enqueue(Job{JobKind::kCollectLogs, instance_id, deployment_id, now});
}

bool Monitor::AdmitCollection(Timestamp now) {
    // Best effort within the reserve (CollectLogs): queued only where the reserve could pay a
    // request now, so a flood of phase changes wakes no worker for a job that would find no
    // budget; and no more than kCollectionsPerSecond.
    std::lock_guard lock(mutex_);
    if (!reserve_bucket_.Holds(plan_.reserve_requests_per_second, 1, kClassifyCost, now)) return false;
    Timestamp unused{};
    return collections_bucket_.Take(kCollectionsPerSecond, 1, 0, now, &unused);
}

void Monitor::Enqueue(Job job) {
    util::Wakeup* wake = nullptr;
    {
        std::lock_guard lock(mutex_);
        jobs_.Push(std::move(job));
        wake = TakeIdleWorker();
    }
    if (wake != nullptr) wake->Notify();
}

// One idle worker, no longer counted idle: the time keeper first (it waits for the earliest job's
// time, which a new job may move), else any. Null when every worker is busy (each looks for the
// next job when it finishes). Under mutex_.
util::Wakeup* Monitor::TakeIdleWorker() {
    if (idle_workers_.empty()) return nullptr;
    std::size_t index = idle_workers_.back();
    if (timekeeper_) {
        index = *timekeeper_;
        timekeeper_.reset();
    }
    std::erase(idle_workers_, index);
    return worker_wakeups_[index].get();
}

std::optional<Job> Monitor::TakeDueJob(Timestamp now) {
    std::lock_guard lock(mutex_);
    auto job = jobs_.TakeDue(now, busy_instances_);
    if (job) busy_instances_.insert(job->instance_id);
    return job;
}

void Monitor::FinishJob(const Job& job) {
    util::Wakeup* wake = nullptr;
    {
        std::lock_guard lock(mutex_);
        busy_instances_.erase(job.instance_id);
        // A job of the same instance may have waited for this one: this worker takes it next if
        // it is due; if not, the time keeper's wait did not count it.
        if (jobs_.HasJobOf(job.instance_id)) wake = TakeIdleWorker();
    }
    if (wake != nullptr) wake->Notify();
}

// Idle workers wait to be woken for a job, one per job (Enqueue), not all at once; one of them,
// the time keeper, waits only until the earliest job not yet due (a backoff, a budget's retry).
// When the time keeper wakes it hands that role to another idle worker if jobs remain, so a job
// that falls due while the others are busy or asleep still runs at its time. (Waking every
// worker for every job cost ~3,500 wake-ups a second at 100,000 instances: 8 workers, a tenth
// of serve's CPU.)
void Monitor::WorkerLoop(std::size_t index) {
    util::NameThisThread("rw-job-" + std::to_string(index));
    util::Wakeup& wakeup = *worker_wakeups_[index];
    while (!wakeup.Stopped()) {
        const util::SteadyTime steady_now = clock_.Steady();  // the wait's start (SchedulerLoop)
        const Timestamp now = clock_.Now();
        if (auto job = TakeDueJob(now)) {
            RunJob(*job);
            FinishJob(*job);
            continue;
        }
        Duration wait = kWorkerIdle;
        bool keeps_time = false;
        {
            std::lock_guard lock(mutex_);
            if (!timekeeper_) {
                timekeeper_ = index;
                keeps_time = true;
                // A job whose instance is busy waits for FinishJob's notification, not for its time.
                if (const auto next = jobs_.NextDue(busy_instances_)) wait = std::min(wait, *next - now);
            }
            idle_workers_.push_back(index);
        }
        clock_.WaitUntil(steady_now + wait, wakeup);
        util::Wakeup* hand_over = nullptr;
        {
            std::lock_guard lock(mutex_);
            std::erase(idle_workers_, index);  // still listed when its deadline ended the wait
            if (timekeeper_ == index) timekeeper_.reset();
            // This worker may be busy with the job it woke for: another keeps the time of the rest.
            if (keeps_time && !timekeeper_ && jobs_.size() > 1) hand_over = TakeIdleWorker();
        }
        if (hand_over != nullptr) hand_over->Notify();
    }
}

std::size_t Monitor::RunWorkForTest() {
    std::size_t ran = 0;
    while (auto job = TakeDueJob(clock_.Now())) {
        RunJob(*job);
        FinishJob(*job);
        ++ran;
    }
    return ran;
}

namespace {
// What a side bucket refilled at `rate` holds: `burst_seconds` of the rate (side work may burst a
// little, never take what polling needs), and at least two classifications' reservations: work
// that leaves one (SideWork) can still run.
double SideCapacity(double rate, double burst_seconds) {
    return rate > 0 ? std::max(rate * burst_seconds, 2 * kClassifyCost) : 0.0;
}
}  // namespace

bool Monitor::SideBucket::Holds(double rate, double requests, double floor, Timestamp now) {
    Timestamp unused{};
    if (!Take(rate, requests, floor, now, &unused)) return false;
    tokens += requests;
    return true;
}

void Monitor::SideBucket::GiveBack(double rate, double requests) {
    if (requests > 0) tokens = std::min(SideCapacity(rate, burst_seconds), tokens + requests);
}

bool Monitor::SideBucket::Take(double rate, double requests, double floor, Timestamp now, Timestamp* retry_at) {
    const double capacity = SideCapacity(rate, burst_seconds);
    if (!refilled_at) tokens = capacity;
    if (refilled_at && now > *refilled_at)
        tokens = std::min(capacity, tokens + rate * core::ToSecondsF(now - *refilled_at));
    refilled_at = std::max(now, refilled_at.value_or(now));
    if (tokens - requests >= floor) {
        tokens -= requests;
        return true;
    }
    const double missing_s = rate > 0 && requests + floor <= capacity ? (requests + floor - tokens) / rate : 3600.0;
    *retry_at = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(missing_s));
    return false;
}

Monitor::SidePayer Monitor::TakeSideBudget(double requests, SideWork work, Timestamp now, Timestamp* retry_at) {
    // Failure work may empty a bucket; the rest leaves what a classification reserves, so a
    // failure's evidence or redeploy is never starved by log reads that take each request as it
    // refills (a redeploy waiting for two while phases change).
    const double floor = work == SideWork::kFailure ? 0.0 : kClassifyCost;
    std::lock_guard lock(mutex_);
    // The plan's reserve: this process's share of the token (Replan), as polling's budget is.
    if (reserve_bucket_.Take(plan_.reserve_requests_per_second, requests, floor, now, retry_at))
        return SidePayer::kReserve;
    if (work == SideWork::kBestEffort) return SidePayer::kNone;
    // What polling leaves unused at its planned intervals answers failures (evidence, redeploys,
    // discovery) and readers beyond the reserve: a small fleet's failures are explained at once.
    // Log collection on phase changes stays within the reserve, so it never floods a big budget.
    Timestamp unused_at{};
    if (unused_bucket_.Take(UnusedRate(), requests, floor, now, &unused_at)) return SidePayer::kUnused;
    *retry_at = std::min(*retry_at, unused_at);
    return SidePayer::kNone;
}

double Monitor::UnusedRate() const {
    return std::max(0.0, plan_.budget_requests_per_second - plan_.planned_requests_per_second);
}

void Monitor::GiveBackSideBudget(SidePayer payer, double requests) {
    std::lock_guard lock(mutex_);
    if (payer == SidePayer::kReserve) reserve_bucket_.GiveBack(plan_.reserve_requests_per_second, requests);
    if (payer == SidePayer::kUnused) unused_bucket_.GiveBack(UnusedRate(), requests);
}

void Monitor::RunJob(const Job& job) {
    // What each job asks of Railway at most (status reads excluded): failure evidence is waited
    // for; log collection on a phase change is best effort and dropped when the reserve is spent.
    double cost = 1;
    switch (job.kind) {
        case JobKind::kClassify:
            cost = kClassifyCost;
            break;
        case JobKind::kRedeploy:
            cost = 2;  // the mutation, the new deployment's status
            break;
        case JobKind::kDiscover:
        case JobKind::kReadEnvironment:
        case JobKind::kConfirmStall:  // one request for those due (the platform's status is paid apart)
            cost = 1;
            break;
        case JobKind::kCollectLogs:
            cost = 0;  // the request of those read together (CollectLogs), or a reader's (prepaid)
            break;
    }
    // Best effort, within the reserve only: environment reads (and log collection, above).
    const bool best_effort = job.kind == JobKind::kReadEnvironment;
    SidePayer payer = SidePayer::kNone;
    if (!job.user_requested && cost > 0) {
        const Timestamp now = clock_.Now();
        Timestamp retry_at{};
        payer = TakeSideBudget(cost, best_effort ? SideWork::kBestEffort : SideWork::kFailure, now, &retry_at);
        if (payer == SidePayer::kNone) {
            if (job.kind == JobKind::kReadEnvironment) {
                std::lock_guard lock(discovery_mutex_);
                environments_[job.deployment_id].queued = false;  // the next settled check asks again
            }
            if (!best_effort) {
                std::lock_guard lock(mutex_);
                jobs_.Defer(job, retry_at);  // its kind waits with it: none could be paid sooner
            }
            return;
        }
    }
    switch (job.kind) {
        case JobKind::kClassify: {
            // Settled against what it sent: usually its phase read alone, so a burst of failures
            // on a small budget is explained as fast as their reads allow, not a reservation each.
            const int sent = Classify(job);
            GiveBackSideBudget(payer, cost - sent);
            return;
        }
        case JobKind::kRedeploy:
            (void)DoRedeploy(job);
            return;
        case JobKind::kDiscover:
            Discover(job);
            return;
        case JobKind::kReadEnvironment:
            ReadEnvironment(job);
            return;
        case JobKind::kConfirmStall:
            ConfirmStalls(job);
            return;
        case JobKind::kCollectLogs:
            CollectLogs(job);
            return;
    }
}

void Monitor::ConfirmStallLater(const std::string& instance_id, const std::string& deployment_id, Timestamp now) {
    {
        std::lock_guard lock(mutex_);
        StallCheck& check = stall_checks_[instance_id];
        if (check.deployment_id != deployment_id)
            check = StallCheck{deployment_id, false, Timestamp::min(), std::nullopt};
        if (check.pending || now < check.quiet_until) return;
        check.pending = true;
    }
    Enqueue(Job{JobKind::kConfirmStall, instance_id, deployment_id, now});
}

void Monitor::SettleStall(const Job& job, Timestamp quiet_until, std::optional<Timestamp> last_line) {
    std::lock_guard lock(mutex_);
    if (const auto it = stall_checks_.find(job.instance_id);
        it != stall_checks_.end() && it->second.deployment_id == job.deployment_id) {
        it->second.pending = false;
        it->second.quiet_until = quiet_until;
        if (last_line && (!it->second.last_line || *last_line > *it->second.last_line))
            it->second.last_line = last_line;
    }
}

void Monitor::ConfirmStalls(const Job& first) {
    // The other confirmations due now go in the same request (its budget paid by `first`'s job):
    // as many as one request carries, so that the job is charged what it sends (one a request
    // while Railway seems to charge each root field).
    const std::vector<Job> jobs = WithOthersDue(first, railway::LogsSincePerRequest(api_.StatusBatchSize()));
    struct Asked {
        const Job* job;
        store::Instance instance;
        DeploymentStatus phase;
        std::optional<Timestamp> newest;  // the newest line known: stored, or seen by an earlier ask
    };
    std::vector<Asked> asked;
    std::vector<railway::LogsSinceAsk> asks;
    const Timestamp now = clock_.Now();
    // Alive (or moved on): not asked again before its deadline runs out after the sign.
    const auto quiet_until = [&](const core::StuckVerdict& stall) {
        return stall.deadline ? now + (*stall.deadline - stall.idle) : Timestamp::max();
    };
    for (const Job& job : jobs) {
        auto instance = instances_.GetInstance(job.instance_id);
        if (!instance || instance->deleted_at || !instance->monitoring || instance->state.needs_attention ||
            instance->state.deployment_id != job.deployment_id) {
            SettleStall(job, Timestamp::min(), std::nullopt);
            continue;
        }
        std::optional<Timestamp> newest;
        {
            std::lock_guard lock(mutex_);
            if (const auto it = stall_checks_.find(job.instance_id);
                it != stall_checks_.end() && it->second.deployment_id == job.deployment_id)
                newest = it->second.last_line;
        }
        for (const core::LogKind kind : {core::LogKind::kBuild, core::LogKind::kDeploy}) {
            const auto at = logs_.LatestLogTimestamp(instance->id, job.deployment_id, kind);
            if (at && *at && (!newest || **at > *newest)) newest = **at;
        }
        const DeploymentStatus phase = PhaseOf(instance->state);
        const core::StuckVerdict stall =
            core::CheckStall(StoredOf(*instance), phase, std::nullopt, newest, options_.check, now, false);
        if (!stall.stuck) {
            SettleStall(job, quiet_until(stall), std::nullopt);
            continue;
        }
        // Has the phase's log grown since the last sign of life?
        asks.push_back({job.deployment_id, core::ReachedDeploy(phase) ? core::LogKind::kDeploy : core::LogKind::kBuild,
                        now - stall.idle});
        asked.push_back({&job, std::move(*instance), phase, newest});
    }
    const auto answers =
        asks.empty() ? std::vector<railway::ApiResult<std::optional<Timestamp>>>{} : api_.GetLogsSince(asks);
    for (std::size_t k = 0; k < asked.size(); ++k) {
        Asked& a = asked[k];
        // No answer: the check's verdict stands (no sign of life known), as for a silent log.
        std::optional<Timestamp> line;
        if (k < answers.size() && answers[k] && *answers[k]) line = *answers[k];
        if (line && (!a.newest || *line > *a.newest)) a.newest = line;
        const core::StoredCheckState stored = StoredOf(a.instance);
        core::StuckVerdict stall =
            core::CheckStall(stored, a.phase, std::nullopt, a.newest, options_.check, now, false);
        if (!stall.stuck) {
            SettleStall(*a.job, quiet_until(stall), line);
            continue;
        }
        if (RailwayIncident(now))
            stall = core::CheckStall(stored, a.phase, std::nullopt, a.newest, options_.check, now, true);
        store::Transition t = DecisionRow(a.instance, a.job->deployment_id, "attention", now);
        t.state.needs_attention = true;
        t.state.attention_reason = stall.reason;
        t.keep_schedule = true;      // a job holds no claim: the schedule is the checker's
        t.only_if_unchanged = true;  // a check that saw it move on meanwhile wins
        (void)Write(a.instance, t, "attention");
        SettleStall(*a.job, Timestamp::min(), std::nullopt);
    }
    FinishOthers(jobs);
}

std::vector<Job> Monitor::WithOthersDue(const Job& first, std::size_t most) {
    std::vector<Job> jobs{first};
    std::lock_guard lock(mutex_);
    for (Job& more : jobs_.TakeDueOf(first.kind, clock_.Now(), busy_instances_, most > 0 ? most - 1 : 0)) {
        busy_instances_.insert(more.instance_id);
        jobs.push_back(std::move(more));
    }
    return jobs;
}

void Monitor::FinishOthers(const std::vector<Job>& jobs) {
    for (std::size_t k = 1; k < jobs.size(); ++k)
        FinishJob(jobs[k]);
}

void Monitor::CollectLogs(const Job& first) {
    // The others due now go in the same request.
    const std::vector<Job> jobs = WithOthersDue(first, railway::PhaseChangesPerRequest(api_.StatusBatchSize()));
    // Charged the request it sends, from the reserve and best effort (dropped when the reserve
    // cannot pay: the next collection reads on from the cursors), unless a reader paid it.
    Timestamp retry_at{};
    if (std::none_of(jobs.begin(), jobs.end(), [](const Job& job) { return job.prepaid; }) &&
        TakeSideBudget(1, SideWork::kBestEffort, clock_.Now(), &retry_at) == SidePayer::kNone) {
        FinishOthers(jobs);
        return;
    }
    // A phase change: new log lines, and the steps that make progress step-aware.
    std::vector<std::pair<store::Instance, const Job*>> found;
    for (const Job& job : jobs) {
        auto instance = instances_.GetInstance(job.instance_id);
        if (instance && instance->state.deployment_id == job.deployment_id)
            found.emplace_back(std::move(*instance), &job);
    }
    std::vector<PhaseRead> reads;
    reads.reserve(found.size());
    for (const auto& [instance, job] : found)
        reads.push_back({instance, job->deployment_id, core::ReachedDeploy(PhaseOf(instance.state))});
    if (!reads.empty()) (void)ReadPhases(reads);
    FinishOthers(jobs);
}

std::optional<std::vector<railway::DeploymentEvent>> Monitor::ReadPhase(const store::Instance& instance,
                                                                        const std::string& deployment_id,
                                                                        bool deploy_logs) {
    const PhaseRead read{instance, deployment_id, deploy_logs};
    return std::move(ReadPhases(std::span(&read, 1)).front());
}

std::vector<std::optional<std::vector<railway::DeploymentEvent>>> Monitor::ReadPhases(
    std::span<const PhaseRead> reads) {
    std::vector<railway::PhaseChangeAsk> asks;
    asks.reserve(reads.size());
    {
        std::lock_guard lock(mutex_);
        for (const PhaseRead& read : reads) {
            railway::PhaseChangeAsk& ask = asks.emplace_back();
            ask.deployment_id = read.deployment_id;
            if (read.deploy_logs) ask.deploy_cursor.emplace();
            // None kept for this deployment (its first read, or after a restart): Railway's newest
            // page, whose lines already stored are dropped as repeats.
            if (const auto kept = phase_reads_.find(read.instance.id);
                kept != phase_reads_.end() && kept->second.deployment_id == read.deployment_id) {
                ask.build_cursor = kept->second.build;
                if (read.deploy_logs) ask.deploy_cursor = kept->second.deploy;
            }
        }
    }
    std::vector<railway::PhaseChangeReads> answers = api_.GetPhaseChanges(asks, kStepsAsked, kLogPage);
    std::vector<std::optional<std::vector<railway::DeploymentEvent>>> out(reads.size());
    for (std::size_t k = 0; k < reads.size() && k < answers.size(); ++k)
        out[k] = StorePhaseRead(reads[k], asks[k], answers[k]);
    return out;
}

std::optional<std::vector<railway::DeploymentEvent>> Monitor::StorePhaseRead(const PhaseRead& read,
                                                                             railway::PhaseChangeAsk& ask,
                                                                             railway::PhaseChangeReads& reads) {
    const store::Instance& instance = read.instance;
    const std::string& deployment_id = read.deployment_id;
    // The entry of this deployment, begun again where the instance kept another's (it moved on).
    const auto kept_reads = [&]() -> PhaseReads& {
        PhaseReads& kept = phase_reads_[instance.id];
        if (kept.deployment_id != deployment_id) kept = PhaseReads{deployment_id, {}, {}, {}};
        return kept;
    };
    // Both kinds' new lines in one append (one write transaction), build lines first: the order
    // two appends gave them. A kind's cursor moves only once its lines are stored: a failed write
    // fetches them again.
    const auto has_lines = [](const railway::ApiResult<std::vector<railway::LogLine>>& lines) {
        return lines && !lines->empty();
    };
    const bool build_lines = has_lines(reads.build_logs);
    const bool deploy_lines = reads.deploy_logs && ask.deploy_cursor && has_lines(*reads.deploy_logs);
    std::vector<store::LogLine> rows;
    const auto add_lines = [&](core::LogKind kind, const std::vector<railway::LogLine>& lines) {
        for (const railway::LogLine& line : lines) {
            rows.push_back(store::LogLine{instance.id, deployment_id, kind, line.timestamp,
                                          core::SanitizeText(line.severity, 64),
                                          core::SanitizeText(line.message, kMaxLogLineBytes)});
        }
    };
    if (build_lines) add_lines(core::LogKind::kBuild, *reads.build_logs);
    if (deploy_lines) add_lines(core::LogKind::kDeploy, **reads.deploy_logs);
    if (!rows.empty()) {
        if (const auto appended = logs_.AppendLogs(rows, options_.max_logs)) {
            {
                std::lock_guard lock(mutex_);
                PhaseReads& kept = kept_reads();
                if (build_lines) kept.build = std::move(ask.build_cursor);
                if (deploy_lines) kept.deploy = std::move(*ask.deploy_cursor);
            }
            if (appended->inserted > 0) sink_.OnLogLines(instance.id, rows);
        }
    }
    if (!reads.events) return std::nullopt;
    // The steps stored (for the step list after the deployment is done with, for every process,
    // and for the typical time of each step) when they changed since the last read stored them.
    std::vector<store::DeploymentStepRecord> steps;
    steps.reserve(reads.events->size());
    for (const railway::DeploymentEvent& event : *reads.events) {
        if (!event.step.empty()) steps.push_back(RecordOf(deployment_id, event));  // a nameless one says nothing
    }
    bool changed = false;
    {
        std::lock_guard lock(mutex_);
        const auto kept = phase_reads_.find(instance.id);
        changed =
            kept == phase_reads_.end() || kept->second.deployment_id != deployment_id || kept->second.steps != steps;
    }
    if (changed && timeline_.SaveSteps(instance.id, deployment_id, steps, clock_.Now())) {
        std::lock_guard lock(mutex_);
        kept_reads().steps = std::move(steps);
    }
    return std::move(*reads.events);
}

std::size_t Monitor::PhaseReadsKeptForTest() const {
    std::lock_guard lock(mutex_);
    return phase_reads_.size();
}

void Monitor::Forget(const std::string& instance_id, const std::string& deployment_id) {
    std::lock_guard lock(mutex_);
    if (const auto kept = phase_reads_.find(instance_id);
        kept != phase_reads_.end() && kept->second.deployment_id == deployment_id)
        phase_reads_.erase(kept);
    if (const auto stall = stall_checks_.find(instance_id);
        stall != stall_checks_.end() && stall->second.deployment_id == deployment_id)
        stall_checks_.erase(stall);
}

int Monitor::Classify(const Job& job) {
    auto instance = instances_.GetInstance(job.instance_id);
    if (!instance || instance->deleted_at || instance->state.deployment_id != job.deployment_id) return 0;
    const DeploymentStatus status = PhaseOf(instance->state);
    // The failure is over (the deployment restarted since): a verdict now would mark a running
    // deployment failed, and redeploy it; the next failure gets its own.
    if (!core::IsFailed(status)) return 0;

    core::FailureEvidence evidence;
    evidence.status = status;
    // A FAILED deployment may have failed in its deploy phase (a healthcheck): the container's
    // output in the deploy logs then holds the cause, and the healthcheck only the symptom.
    if (auto events = ReadPhase(*instance, job.deployment_id, core::ReachedDeploy(status) || core::IsFailed(status))) {
        for (const railway::DeploymentEvent& event : *events) {
            const std::string& error = event.error.empty() ? event.reason : event.error;
            if (error.empty()) continue;
            evidence.event_errors.push_back(error);
            evidence.failed_step = core::ParseDeploymentEventStep(event.step);
        }
    }
    if (auto lines = logs_.RecentLogs(instance->id, kEvidenceLines)) {
        for (const store::LogLine& line : *lines) {
            if (line.deployment_id == job.deployment_id) evidence.log_lines.push_back(line.message);
        }
    }
    const core::Classification verdict = core::ClassifyDeploymentFailure(evidence);
    const int sent = 1 + React(*instance, verdict, clock_.Now(), evidence.log_lines);
    Forget(instance->id, job.deployment_id);
    return sent;
}

int Monitor::React(store::Instance instance, const core::Classification& verdict, Timestamp now,
                   std::span<const std::string> log_lines) {
    core::ReactionInput input;
    input.error_class = verdict.error_class;
    input.message = verdict.reason;
    input.context = verdict.evidence;
    input.next_step = core::FailureNextStep(verdict.error_class, verdict.reason, verdict.evidence, log_lines);
    input.retry_count = instance.state.retry_count;
    input.elapsed = instance.state.deployment_started_at ? now - *instance.state.deployment_started_at : Duration{};
    input.unit_random = NextUnit();
    std::vector<core::Action> actions;
    int sent = 0;
    // Actions that need an answer first (token, quota) are asked once each, then planned again.
    for (int pass = 0; pass < 3; ++pass) {
        actions = core::PlanReactions(input, options_.reactions);
        bool again = false;
        for (const core::Action& action : actions) {
            if (action.kind == core::ActionKind::kValidateToken && !input.token_valid) {
                input.token_valid = api_.ValidateToken().has_value();
                ++sent;
                again = true;
            } else if (action.kind == core::ActionKind::kCheckQuota && !input.quota_exceeded) {
                bool exceeded = false;
                ++sent;
                if (auto token = api_.ValidateToken(); token && !token->workspaces.empty()) {
                    ++sent;
                    if (auto usage = api_.GetWorkspaceUsage(token->workspaces.front().id)) {
                        exceeded = usage->is_over_limit;
                    }
                }
                input.quota_exceeded = exceeded;
                again = true;
            }
        }
        if (!again) break;
    }

    store::InstanceState state = instance.state;
    state.error_type = verdict.error_class;
    const std::string reason =
        verdict.reason.empty() ? state.error_message.value_or("deployment failed") : verdict.reason;
    state.error_message = core::SanitizeText(reason, kMaxEvidenceBytes);
    if (!verdict.evidence.empty()) state.error_stack = core::SanitizeText(verdict.evidence, kMaxEvidenceBytes);
    for (const core::Action& action : actions) {
        if (action.kind == core::ActionKind::kRecord && !action.suggestion.empty()) {
            state.error_message = core::SanitizeText(WithSuggestion(reason, action.suggestion), kMaxEvidenceBytes);
        } else if (action.kind == core::ActionKind::kFlagAttention) {
            state.needs_attention = true;
            state.attention_reason = core::SanitizeText(WithSuggestion(action.reason, action.suggestion), 4096);
        }
    }
    store::Transition t = DecisionRow(instance, *instance.state.deployment_id, "reaction", now);
    t.state = state;
    t.keep_schedule = true;  // a job holds no claim: the schedule is the checker's
    // Decided on the row read before the evidence's requests: a check that recorded a newer status
    // meanwhile (the deployment restarted, or crashed again) wins, and what follows that status
    // was planned with it (a failure's own classification); this verdict is dropped, redeploy and all.
    t.only_if_unchanged = true;
    const auto written = Write(instance, t, "reaction", actions, verdict);
    if (written && written->superseded) return sent;
    for (const core::Action& action : actions) {
        if (action.kind == core::ActionKind::kRedeploy)
            Enqueue(Job{JobKind::kRedeploy, instance.id, *instance.state.deployment_id, now + action.delay});
    }

    // A crash loop over the timeline is flagged once, on top of the class's own reactions.
    if (!core::IsFailed(PhaseOf(state)) || !core::ReachedDeploy(PhaseOf(state)) || state.needs_attention) return sent;
    auto events = timeline_.ListEvents(instance.id, 500);
    if (!events) return sent;
    std::vector<core::StatusChange> history;
    for (const store::TimelineEvent& e : *events) {
        if (e.from_status != e.to_status) history.push_back({e.at, core::RailwayStatus::Parse(e.to_status).value});
    }
    const core::CrashLoopVerdict loop = core::DetectCrashLoop(history, options_.crash_loop, now);
    if (!loop.looping) return sent;
    instance.state = state;
    store::Transition flag = t;
    flag.at = t.at + core::Millis(1);  // its own row: the reaction above holds t.at
    flag.source = "attention";
    flag.state.needs_attention = true;
    flag.state.attention_reason = loop.reason;
    (void)Write(instance, flag, "crash_loop");
    return sent;
}

util::Result<void> Monitor::DoRedeploy(const Job& job) {
    auto instance = instances_.GetInstance(job.instance_id);
    if (!instance) return tl::unexpected(instance.error());
    const store::Instance& before = *instance;
    if (before.deleted_at) return util::Fail(util::ErrorCode::kConflict, "instance " + before.id + " is deleted");
    if (!job.user_requested) {
        // The failure this redeploy was planned for may be over (a newer deployment, a person's
        // redeploy), and the limit holds whatever was queued.
        if (before.state.deployment_id != job.deployment_id || !before.monitoring) return {};
        if (before.state.retry_count >= options_.reactions.max_redeploys) return {};
    }
    const Timestamp now = clock_.Now();
    auto redeployed = api_.Redeploy(job.deployment_id);
    store::Transition t;
    t.instance_id = before.id;
    t.from_status = before.state.deployment_status;
    t.at = now;
    t.source = job.user_requested ? "user" : "reaction";
    t.state = before.state;
    if (!redeployed) {
        if (job.user_requested) return tl::unexpected(ErrorOf(redeployed.error()));
        // The attempt counts whatever became of it: at most max_redeploys requests per failure.
        t.deployment_id = job.deployment_id;
        t.at = RowTime(before.state, now);
        t.to_status = before.state.deployment_status.value_or("UNKNOWN");
        ++t.state.retry_count;
        t.keep_schedule = true;
        t.only_if_unchanged = true;  // read before the request (React's comment)
        const auto written = Write(before, t, "reaction");
        // Not counted: the failure's next check plans again. Or its status changed meanwhile (a
        // restart): the failure is over, and a deployment the lost answer may have started is
        // found as any newer one (NoteSettled).
        if (!written || written->superseded) return {};
        // The answer may be lost after Railway ran it (a reset, a malformed answer): a deployment
        // it did start is found and followed as this redeploy; none found means trying again.
        Job discover{JobKind::kDiscover, before.id, job.deployment_id, now};
        discover.after_failed_redeploy = true;
        discover.failure = redeployed.error().message;
        Enqueue(std::move(discover));
        return {};
    }
    if (!job.user_requested) ++t.state.retry_count;
    t.deployment_id = *redeployed;
    t.state.next_check_at = now;  // follow the new deployment at once
    // The new deployment's own status starts its timeline; without an answer the next poll
    // records it (from no status). With an answer, that read was the first check: the next one
    // comes after the status's interval, as after a poll (a check "at once" would ask again for
    // what was just read, from whichever process claims it first).
    auto fresh = api_.GetDeployment(*redeployed);
    // The read is as of its answer: slow calls (a busy Railway, retries) must not date the next
    // check from before them, or it would come right after the read.
    const Timestamp read_at = clock_.Now();
    Timestamp next = read_at;
    if (!fresh) {
        t.state.deployment_id = *redeployed;
        t.state.deployment_status.reset();
        t.state.deployment_started_at = now;
        t.state.deployment_completed_at.reset();
        const MoveHold hold(*this, before.id, next);  // over the write (MoveHold's comment)
        if (auto saved = instances_.SaveState(before.id, t.state); !saved) return saved;
    } else {
        const auto decision = core::DecideOnAnswer(StoredOf(before), ObservedOf(*fresh), options_.check, read_at);
        t.to_status = decision.to_status;
        t.at = decision.at;
        store::InstanceState state = StateAfter(t.state, decision, *redeployed);
        next = NextCheck(before, decision.interval_status, read_at);
        state.next_check_at = next;
        t.state = state;
        {
            const MoveHold hold(*this, before.id, next);
            if (auto written = Write(before, t, "reaction"); !written) return tl::unexpected(written.error());
        }
        EnqueueFollowUp(decision.follow_up, before.id, *redeployed, now);
    }
    return {};
}

void Monitor::Discover(const Job& job) {
    auto instance = instances_.GetInstance(job.instance_id);
    if (!instance || instance->deleted_at || !instance->monitoring) return;
    if (instance->state.deployment_id.value_or("") != job.deployment_id) return;
    auto latest = api_.GetLatestDeployment(instance->service_id, instance->environment_id);
    const Timestamp now = clock_.Now();
    if (!latest || !*latest || instance->state.deployment_id == (*latest)->id) {
        if (job.after_failed_redeploy) RetryFailedRedeploy(*instance, job, now);
        return;
    }
    const auto decision = core::DecideOnAnswer(StoredOf(*instance), ObservedOf(**latest), options_.check, now);
    store::Transition t;
    t.instance_id = instance->id;
    t.deployment_id = (*latest)->id;
    t.from_status = instance->state.deployment_status;
    t.to_status = decision.to_status;
    t.at = decision.at;
    t.source = "discovery";
    t.state = StateAfter(instance->state, decision, (*latest)->id);
    t.state.next_check_at = NextCheck(*instance, decision.interval_status, now);
    {
        const MoveHold hold(*this, instance->id, *t.state.next_check_at);  // over the write (MoveHold's comment)
        if (!Write(*instance, t, "status")) return;
    }
    EnqueueFollowUp(decision.follow_up, instance->id, t.deployment_id, now);
}

namespace {

// Pages (of 100 deployments) one list read may take; more new deployments than that since the
// last read, and the environment is read whole instead.
constexpr std::size_t kListPages = 5;

}  // namespace

void Monitor::NoteSettled(const store::Instance& instance, const std::string& deployment_id,
                          std::optional<Timestamp> created_at, Timestamp now) {
    if (options_.discovery_interval <= Duration::zero()) return;
    bool behind = false;
    bool read = false;
    {
        std::lock_guard lock(discovery_mutex_);
        EnvironmentWatch& env = environments_[instance.environment_id];
        // Compared before assigned: noted again at each settled check, most often unchanged (an
        // entry built and moved in would allocate its strings each time).
        auto [entry, last] = env.instances.equal_range(instance.service_id);
        while (entry != last && entry->second.instance_id != instance.id)
            ++entry;
        bool changed = true;
        if (entry == last) {
            entry = env.instances.emplace(instance.service_id, NotedInstance{instance.id, deployment_id, created_at});
            if (env.filter.Outgrown(env.instances.size())) {
                env.filter.Fill(env.instances);
            } else {
                env.filter.Add(env.instances.hash_function()(instance.service_id));
            }
        } else if (entry->second.deployment_id != deployment_id) {
            entry->second.deployment_id = deployment_id;
            entry->second.created_at = created_at;
        } else {
            changed = false;
        }
        entry->second.generation = env.generation;
        // New here, or following another deployment: a list read may have found a newer one of
        // its service while it was in progress or not yet noted.
        if (changed && !env.listed.empty()) {
            const auto listed = env.listed.find(instance.service_id);
            behind = listed != env.listed.end() && listed->second.Ahead(entry->second);
        }
        read = !env.queued && (!env.read_at || now - *env.read_at >= options_.discovery_interval);
        if (read) env.queued = true;
    }
    if (behind) Enqueue(Job{JobKind::kDiscover, instance.id, deployment_id, now});
    if (read) Enqueue(Job{JobKind::kReadEnvironment, "env:" + instance.environment_id, instance.environment_id, now});
}

void Monitor::ReadEnvironment(const Job& job) {
    const std::string& environment_id = job.deployment_id;
    EnvironmentWatch* env = nullptr;  // never erased: the pointer stays valid
    bool whole = false;
    bool lists = false;
    std::optional<Timestamp> newest;
    {
        std::lock_guard lock(discovery_mutex_);
        env = &environments_[environment_id];
        const Duration whole_every = options_.discovery_whole_read_interval;
        lists = lists_usable_ && whole_every > Duration::zero();
        whole = !lists || env->whole_owed || !env->whole_read_at || clock_.Now() - *env->whole_read_at >= whole_every;
        newest = env->newest;
    }
    // The prober waits for a URL the whole read brings (a lookup was not possible): not for 5
    // minutes. (Its own lock, not discovery_mutex_.)
    whole = whole || (prober_ && prober_->AwaitsTargets(environment_id));
    Behind behind;
    if (lists) {
        // Without a read before, one page tells where the next list starts (the whole read that
        // follows covers what came before it). Then those created after the last read's newest:
        // one Railway dated at or before it but listed only after that read (its write not
        // visible yet, or of the very same millisecond) is left to the next whole read. An overlap
        // would read every deployment it spans again at each list, and a fleet created within it
        // (the engine bench's) would never fit the pages.
        auto listed = api_.ListDeploymentsSince(environment_id, newest, newest ? kListPages : 1);
        std::lock_guard lock(discovery_mutex_);
        if (!listed) {
            // Refused for good (the document, the token): whole reads from now on. Otherwise the
            // next read lists again, an interval later.
            if (!listed.error().retryable) lists_usable_ = false;
            whole = whole || !lists_usable_;
        } else {
            if (!listed->newest_first) lists_usable_ = false;  // cannot be cut at a time: never again
            // Cut short: `newest` moves past what it left out, so reads are whole until one ends.
            if (!listed->complete) whole = env->whole_owed = true;
            // The answer's newest, even when older than the last (its newest deleted since).
            if (listed->newest_first && listed->newest) env->newest = listed->newest;
            NoteListed(*env, listed->deployments, behind);
        }
    }
    if (whole) ReadWholeEnvironment(environment_id, *env, behind);
    const Timestamp now = clock_.Now();
    {
        std::lock_guard lock(discovery_mutex_);
        env->queued = false;
        env->read_at = now;  // also after a failed read: the next one comes an interval later
    }
    // Discovery reads the service's latest deployment and follows it (as for a REMOVED one). An
    // instance found behind twice (a service on two pages of a list that changed meanwhile, a list
    // and the whole read) queues two jobs; the second finds its instance moved on and asks Railway
    // nothing (Discover), as does one for an instance that moved on since it was noted.
    for (auto& [instance_id, deployment_id] : behind)
        Enqueue(Job{JobKind::kDiscover, instance_id, deployment_id, now});
}

void Monitor::NoteListed(EnvironmentWatch& env, std::vector<railway::ListedDeployment>& deployments, Behind& behind) {
    // Newest first: a service's first deployment in the answer is its newest, and stands unless
    // what stands is newer (compared by creation time).
    std::unordered_set<std::string_view> seen;
    for (railway::ListedDeployment& deployment : deployments) {
        if (deployment.service_id.empty() || !seen.insert(deployment.service_id).second) continue;
        auto [at, added] = env.listed.try_emplace(deployment.service_id);
        ListedService& service = at->second;
        if (!added && (service.deployment_id == deployment.id || service.created_at > deployment.created_at))
            continue;  // listed before, or older than what stands
        service = ListedService{std::move(deployment.id), deployment.created_at, env.generation};
        if (!env.filter.MayHold(env.instances.hash_function()(at->first))) continue;
        const auto [first, last] = env.instances.equal_range(at->first);
        for (auto it = first; it != last; ++it) {
            if (service.Ahead(it->second)) behind.emplace_back(it->second.instance_id, it->second.deployment_id);
        }
    }
}

void Monitor::ReadWholeEnvironment(const std::string& environment_id, EnvironmentWatch& env, Behind& behind) {
    // Each page is compared with the noted instances as it comes, so that an environment of many
    // services is never held whole; the lock is taken per page (the pollers note instances
    // meanwhile). Most services of a page are not noted (in progress, or followed by no instance
    // here), and a look-up the map does not find still walks its nodes (at 100,000 services a
    // cache miss or more each, ~3 % of serve's CPU: docs/PERFORMANCE.md): the filter tells nearly
    // all of them apart first. A failed read is tried again an interval later; the pages read
    // before it count.
    const auto read =
        api_.ReadEnvironmentServices(environment_id, [&](std::span<const railway::ServiceLatestDeployment> page) {
            {
                std::lock_guard lock(discovery_mutex_);
                const auto hash = env.instances.hash_function();
                for (const railway::ServiceLatestDeployment& service : page) {
                    if (!service.latest_id || !env.filter.MayHold(hash(service.service_id))) continue;
                    const auto [first, last] = env.instances.equal_range(service.service_id);
                    for (auto it = first; it != last; ++it) {
                        const NotedInstance& noted = it->second;
                        if (noted.deployment_id != *service.latest_id)
                            behind.emplace_back(noted.instance_id, noted.deployment_id);
                    }
                }
            }
            if (prober_) prober_->NoteTargets(environment_id, page);  // no lookup of their URLs
        });
    if (!read) return;
    std::lock_guard lock(discovery_mutex_);
    // Dropped: instances not noted since the whole read before (deleted, moved on, checked by
    // another process now), and what lists found before that.
    std::erase_if(env.instances, [&](const auto& entry) { return entry.second.generation < env.generation; });
    std::erase_if(env.listed, [&](const auto& entry) { return entry.second.generation < env.generation; });
    env.filter.Fill(env.instances);
    ++env.generation;
    env.whole_read_at = clock_.Now();
    env.whole_owed = false;
}

void Monitor::RetryFailedRedeploy(const store::Instance& instance, const Job& job, Timestamp now) {
    if (auto delay = core::PlanRedeployRetry(instance.state.retry_count, options_.reactions, NextUnit())) {
        Enqueue(Job{JobKind::kRedeploy, instance.id, job.deployment_id, now + *delay});
        return;
    }
    store::Transition t = DecisionRow(instance, job.deployment_id, "reaction", now);
    t.at += core::Millis(1);     // its own row: the failed attempt's row may hold `now` already
    t.only_if_unchanged = true;  // read before the discovery's request (React's comment)
    t.state.needs_attention = true;
    t.state.attention_reason = core::SanitizeText(
        fmt::format("the automatic redeploy failed {} times, last: {}; redeploy it from the dashboard or the API "
                    "once Railway answers",
                    instance.state.retry_count, job.failure),
        4096);
    t.keep_schedule = true;
    (void)Write(instance, t, "redeploy_failed");
}

// --- operations ------------------------------------------------------------------------------

util::Result<store::Instance> Monitor::AddInstance(const AddInstanceRequest& request) {
    if (request.service_id.empty()) return util::Fail(util::ErrorCode::kInvalidArgument, "serviceId is required");
    if (request.environment_id.empty()) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "environmentId is required");
    }
    if (request.check_interval_s && *request.check_interval_s < 1) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "checkIntervalSeconds must be at least 1");
    }
    if (request.deployment_id && request.deployment_id->empty()) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "deploymentId must not be empty when given");
    }
    std::string deployment_id;
    if (request.deployment_id) {
        deployment_id = *request.deployment_id;
    } else {
        auto latest = api_.GetLatestDeployment(request.service_id, request.environment_id);
        if (!latest) return tl::unexpected(ErrorOf(latest.error()));
        if (!*latest) {
            return util::Fail(util::ErrorCode::kNotFound, "Railway has no deployment of service " + request.service_id +
                                                              " in environment " + request.environment_id +
                                                              ": deploy it first, or pass deploymentId");
        }
        deployment_id = (*latest)->id;
    }
    const Timestamp now = clock_.Now();
    store::Instance instance;
    instance.id = util::NewId("ins");
    instance.user_id = request.user_id;
    instance.project_name = request.project_name;
    instance.service_id = request.service_id;
    instance.environment_id = request.environment_id;
    instance.state.deployment_id = deployment_id;
    instance.state.next_check_at = now;  // the first check at once
    instance.monitoring = true;
    instance.check_interval_s = request.check_interval_s;
    instance.created_at = now;
    if (auto created = instances_.CreateInstance(instance); !created) return tl::unexpected(created.error());
    auto stored = instances_.GetInstance(instance.id);
    if (!stored) return stored;
    NoteFleet(*stored, DeploymentStatus::kInitializing);
    NoteDue(now);
    scheduler_wakeup_.Notify();
    sink_.OnInstance(*stored);
    return stored;
}

util::Result<store::Instance> Monitor::DeleteInstance(const std::string& id) {
    if (auto deleted = instances_.DeleteInstance(id, clock_.Now()); !deleted) return tl::unexpected(deleted.error());
    auto stored = instances_.GetInstance(id);
    if (!stored) return stored;
    NoteFleet(*stored, std::nullopt);
    {
        std::lock_guard lock(mutex_);
        phase_reads_.erase(id);
        stall_checks_.erase(id);
    }
    sink_.OnInstance(*stored);
    return stored;
}

util::Result<store::Instance> Monitor::SetMonitoring(const std::string& id, bool enabled,
                                                     std::optional<int> check_interval_s) {
    if (check_interval_s && *check_interval_s < 0) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "checkIntervalSeconds must be at least 1 (0: none)");
    }
    const Timestamp now = clock_.Now();
    if (auto set = instances_.SetMonitoring(id, enabled, check_interval_s, now); !set) {
        return tl::unexpected(set.error());
    }
    auto stored = instances_.GetInstance(id);
    if (!stored) return stored;
    NoteFleet(*stored, enabled ? std::optional(PhaseOf(stored->state)) : std::nullopt);
    if (enabled) {
        NoteDue(now);
        scheduler_wakeup_.Notify();
    }
    sink_.OnInstance(*stored);
    return stored;
}

util::Result<void> Monitor::Redeploy(const std::string& id) {
    auto instance = instances_.GetInstance(id);
    if (!instance) return tl::unexpected(instance.error());
    if (instance->deleted_at) {
        return util::Fail(util::ErrorCode::kConflict, "instance " + id + " is deleted: add it again to redeploy");
    }
    if (!instance->state.deployment_id) {
        return util::Fail(util::ErrorCode::kConflict,
                          "instance " + id + " has no deployment yet: wait for its first check, then redeploy");
    }
    return DoRedeploy(Job{JobKind::kRedeploy, id, *instance->state.deployment_id, clock_.Now(), true});
}

util::Result<int> Monitor::CheckDeploymentNow(const std::string& deployment_id) {
    auto found = instances_.FindInstancesByDeployment(deployment_id);
    if (!found) return tl::unexpected(found.error());
    const Timestamp now = clock_.Now();
    int woken = 0;
    for (const store::Instance& instance : *found) {
        if (instance.deleted_at || !instance.monitoring) continue;
        if (instances_.SetMonitoring(instance.id, true, std::nullopt, now)) ++woken;
    }
    if (woken > 0) {
        NoteDue(now);
        scheduler_wakeup_.Notify();
    }
    return woken;
}

util::Result<bool> Monitor::FollowLogs(const std::string& id) {
    const util::SteadyTime steady = clock_.Steady();
    const auto asked_lately = [&] {
        const auto asked = log_follows_.find(id);
        return asked != log_follows_.end() && steady - asked->second < kLogFollowInterval;
    };
    {
        // Asked within the interval (a stream every 5 s, `logs --follow` every 2 s): no store read.
        std::lock_guard lock(mutex_);
        if (asked_lately()) return false;
    }
    auto instance = instances_.GetInstance(id);
    if (!instance) return tl::unexpected(instance.error());
    if (instance->deleted_at || !instance->state.deployment_id) return false;
    if (!core::LogsMayGrow(PhaseOf(instance->state))) return false;
    const std::string& deployment_id = *instance->state.deployment_id;
    {
        std::lock_guard lock(mutex_);
        if (asked_lately()) return false;  // another reader's ask meanwhile
        // Bounded by the instances followed within the interval: the others can go.
        if (log_follows_.size() >= kMaxLogFollows) {
            std::erase_if(log_follows_,
                          [steady](const auto& entry) { return steady - entry.second >= kLogFollowInterval; });
        }
        log_follows_[id] = steady;
    }
    // A person is waiting for these lines: the reserve, and beyond it what polling leaves unused
    // (as failure work), never polling's own budget.
    const Timestamp now = clock_.Now();
    Timestamp retry_at{};
    if (TakeSideBudget(kFollowLogsCost, SideWork::kReader, now, &retry_at) == SidePayer::kNone) return false;
    Job job{JobKind::kCollectLogs, id, deployment_id, now};
    job.prepaid = true;
    Enqueue(std::move(job));
    return true;
}

util::Result<ProgressReport> Monitor::Progress(const std::string& id) {
    auto instance = instances_.GetInstance(id);
    if (!instance) return tl::unexpected(instance.error());
    ProgressReport report;
    report.instance_id = id;
    report.progress = instance->state.progress;
    const std::string deployment_id = instance->state.deployment_id.value_or("");
    core::ProgressInput input;
    input.deployment_id = deployment_id;
    input.status = PhaseOf(instance->state);
    input.previous = core::PreviousProgress{deployment_id, static_cast<double>(instance->state.progress)};
    std::vector<core::StatusEntry> entered;  // the current deployment's statuses, oldest first
    if (auto events = timeline_.ListEvents(id, 1000)) {
        for (auto it = events->rbegin(); it != events->rend(); ++it) {
            if (it->deployment_id == deployment_id && it->from_status != it->to_status) {
                input.status_since = it->at;
                break;
            }
        }
        for (const store::TimelineEvent& event : *events) {
            if (event.deployment_id == deployment_id)
                entered.push_back(core::StatusEntry{core::RailwayStatus::Parse(event.to_status).value, event.at});
        }
        input.typical = TypicalDurations(*events, deployment_id);
    }
    if (auto records = timeline_.ListSteps(id)) {
        for (const store::DeploymentStepRecord& record : *records) {
            if (record.deployment_id != deployment_id) continue;
            if (auto step = StepOf(record)) input.steps.push_back(std::move(*step));
        }
        input.typical.steps = TypicalStepDurations(*records, deployment_id);
    }
    report.steps = core::DeploymentSteps(entered, input.steps, input.typical);
    if (!instance->state.deployment_status) {
        report.phase = "queued";
        return report;
    }
    const core::Progress progress = core::ComputeProgress(input, clock_.Now());
    report.progress = std::clamp(static_cast<int>(progress.percent), 0, 100);
    report.phase = progress.phase;
    report.step_aware = progress.step_aware;
    if (progress.eta) report.eta_seconds = core::ToSeconds(*progress.eta);
    return report;
}

CapacityReport Monitor::Capacity() const {
    std::lock_guard lock(mutex_);
    CapacityReport report;
    report.requests_per_hour = plan_.budget_requests_per_hour;
    report.requests_per_second = plan_.budget_requests_per_second;
    report.shared_by = budget_parts_;
    report.batch_size = BatchSize();
    report.monitored = plan_.monitored;
    report.capacity = plan_.capacity;
    report.stretch = plan_.stable_stretch;
    for (const auto& [key, count] : PlannedFleet())
        report.by_status[std::string(core::ToString(key.first))] += count;
    for (const DeploymentStatus status : core::kAllDeploymentStatuses) {
        const double stretch = StretchOf(status);
        report.effective_interval_s.emplace_back(
            std::string(core::ToString(status)),
            core::ToSecondsF(core::StretchInterval(core::BaseCheckInterval(options_.intervals, status), stretch)));
    }
    return report;
}

}  // namespace railwatch::monitor
