#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace railwatch::monitor {

/// The engine's follow-up work (docs/ENGINE.md, "Reactions"), most urgent first:
/// kReadEnvironment's instance_id is "env:" + the environment id (one read per environment at a
/// time), its deployment_id the environment id.
enum class JobKind { kRedeploy, kClassify, kDiscover, kConfirmStall, kReadEnvironment, kCollectLogs };

/// One follow-up job for the monitor's workers.
struct Job {
    Job(JobKind kind_, std::string instance_id_, std::string deployment_id_, core::Timestamp not_before_,
        bool user_requested_ = false)
        : kind(kind_),
          instance_id(std::move(instance_id_)),
          deployment_id(std::move(deployment_id_)),
          not_before(not_before_),
          user_requested(user_requested_) {}
    JobKind kind = JobKind::kClassify;
    std::string instance_id;
    std::string deployment_id;
    core::Timestamp not_before{};
    bool user_requested = false;
    /// Discovery after an automatic redeploy whose request failed (already counted in
    /// retry_count): a new deployment is followed, none means trying again or a person.
    bool after_failed_redeploy = false;
    std::string failure;  ///< that request's error, for the attention reason
    /// A log collection whose request was paid for when it was queued (a reader's follow): a
    /// collection job that carries one pays nothing more.
    bool prepaid = false;
    std::uint64_t order = 0;  ///< its place in the queuing order (set by JobQueue::Push)
};

/// The jobs waiting for a worker. A take gives the job to run now: due (`not_before` reached),
/// not of an instance a worker is busy with (one job per instance at a time: a redeploy must see
/// what its classification wrote), of the most urgent kind (JobKind's order: failures first, a
/// person waits for the verdict and a redeploy for its backoff; then discovery; then a stall's
/// confirmation; log collection on a phase change is best effort and comes last), and of those the one queued first.
///
/// Every operation costs O(log n) plus the jobs of busy instances it passes over (a few: one
/// per worker's instance; NextDue also those of a held kind due before its hold ends), so a wave of failures that
/// queues tens of thousands of jobs behind a spent budget costs each take the same as a short queue (a scan of the
/// whole queue per take made draining n jobs O(n²), under the monitor's lock).
///
/// Not thread-safe: the monitor calls it under its mutex. `now` must not go back between calls
/// (a job found due stays due).
class JobQueue {
  public:
    /// Queues `job` as the newest of its kind.
    void Push(Job job);

    /// Puts back a job taken (TakeDue) that cannot run before `until` (the budget cannot pay
    /// for it sooner): it keeps its place in the queuing order, and no job of its kind is taken
    /// before `until` either, since the budget could not pay for them. Without that hold, a
    /// wave of failures behind a spent budget had every queued job taken, found unpaid and
    /// queued again whenever the budget's refill came due: tens of thousands of takes per
    /// refill, and a worker woken for each.
    void Defer(Job job, core::Timestamp until);

    /// The job to run now (see the class comment), taken out of the queue; none if no job is
    /// due at `now` for an instance outside `busy`.
    std::optional<Job> TakeDue(core::Timestamp now, const std::set<std::string>& busy);

    /// Up to `max` jobs of `kind` due at `now` for instances outside `busy`, taken out of the queue
    /// in queuing order, one per instance; none while the kind is held (Defer). For a worker that
    /// answers several jobs with one request (a stall's confirmations).
    std::vector<Job> TakeDueOf(JobKind kind, core::Timestamp now, const std::set<std::string>& busy, std::size_t max);

    /// When a job of an instance outside `busy` can run next: its `not_before` (for a job a take
    /// found due, a time already past), or the end of its kind's hold if later; the earliest of
    /// them. None without such a job.
    std::optional<core::Timestamp> NextDue(const std::set<std::string>& busy) const;

    /// Whether any job of `instance_id` is queued.
    bool HasJobOf(std::string_view instance_id) const;

    std::size_t size() const { return size_; }

  private:
    static constexpr std::size_t kKinds = static_cast<std::size_t>(JobKind::kCollectLogs) + 1;  // JobKind's last
    // Jobs found due, per kind, by queuing order.
    std::array<std::map<std::uint64_t, Job>, kKinds> due_;
    // Jobs not found due yet, by (not_before, queuing order).
    std::map<std::pair<core::Timestamp, std::uint64_t>, Job> later_;
    std::array<core::Timestamp, kKinds> held_until_{};           // Defer's hold per kind
    std::unordered_map<std::string, std::size_t> per_instance_;  // jobs queued per instance id
    std::uint64_t next_seq_ = 0;
    std::size_t size_ = 0;

    // Queues `job` under its due time and order (both set).
    void Wait(Job job);
    // Takes the job at `it` out of its kind's queue.
    Job Take(std::map<std::uint64_t, Job>& queue, std::map<std::uint64_t, Job>::iterator it);
    void MoveDue(core::Timestamp now);
};

}  // namespace railwatch::monitor
