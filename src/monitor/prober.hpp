#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "core/health.hpp"
#include "core/time.hpp"
#include "monitor/hash_filter.hpp"
#include "monitor/operations.hpp"
#include "net/http_transport.hpp"
#include "railway/railway_api.hpp"
#include "store/health_checks.hpp"
#include "store/instances.hpp"
#include "util/clock.hpp"

/// The health prober (docs/ENGINE.md, "Health"): HTTP probes of running services at their public
/// domain and healthcheck path, judged with core::UpdateProbe / core::EvaluateHealth, stored with
/// the instance's health (store::HealthChecks::RecordProbes, the results that arrived together in one
/// write) and reported to the EventSink.
namespace railwatch::monitor {

/// The [monitor.health] settings.
struct ProberOptions {
    /// Between two probes of one instance; zero turns probing off. An instance is probed when a
    /// status check finds its deployment SUCCESS and its last probe started at least 4/5 of this
    /// ago (status checks come at a jittered interval), so a stretched SUCCESS interval also
    /// stretches the probes.
    core::Duration interval = core::Seconds(60);
    /// Bounds one probe (connect + answer); no answer by then is a failed probe ("timeout").
    core::Duration timeout = core::Seconds(10);
    core::HealthPolicy policy;  ///< failure / success thresholds, the slow threshold
    /// How long a service's probe URL (looked up with one Railway request) is used before it is
    /// looked up again, so that a new domain or healthcheck path is picked up.
    core::Duration target_ttl = core::Seconds(600);
    /// Probe results older than this are deleted, per instance, with one of its results at most
    /// every `rotate_every` (so a result is gone at most that long after it passed `keep`).
    core::Duration keep = core::Seconds(7LL * 86400);
    /// See `keep`: a deletion with every result would cost the store a statement per probe.
    core::Duration rotate_every = core::Seconds(3600);
    /// Probes in flight at once (offered and not answered: looked up, sent, waiting for the
    /// answer; a result waiting to be stored holds no place). An offer beyond this waits for a
    /// place (a poll of a settled fleet offers hundreds at once), up to `max_waiting` offers; one
    /// beyond those is declined (the next status check offers the instance again).
    std::size_t max_in_flight = 256;
    /// Offers waiting for a place in flight, each holding a copy of its instance (~1 KB).
    std::size_t max_waiting = 16384;
    /// How long a probe's result may wait for the others in flight before it is stored: the
    /// results that arrive meanwhile are stored in one write, not one each as they arrive, and
    /// probes offered meanwhile are sent at once without ending the wait. A result is stored at
    /// once when no other probe is in flight, and when the prober stops. A result is shown
    /// (stored, reported) at most this late.
    core::Duration gather = core::Seconds(1);
};

/// Takes one Railway request from the side-work budget at `now`; false when none is left (the
/// lookup waits for the instance's next offer). Called on the prober's thread.
using ProbeBudget = std::function<bool(core::Timestamp now)>;

/// The URL a service is probed at: its first domain (service domains, then custom ones) with its
/// healthcheck path ("/" without one). `https://`, except for a loopback host (127.0.0.1,
/// localhost, [::1]: the simulator), which is probed over `http://`. A domain that already carries
/// a path (the simulator's `127.0.0.1:P/s/<id>`) keeps it, the healthcheck path appended.
/// nullopt when the service has no domain (a worker without public networking: not probed). Pure.
std::optional<std::string> ProbeUrl(const railway::ServiceInstanceInfo& info);
/// The same for one (non-empty) domain and the service's healthcheck path. Pure.
std::string ProbeUrl(std::string_view domain, const std::optional<std::string>& healthcheck_path);

/// Probes running instances. Threads: one, which looks URLs up (Railway, budgeted) and stores
/// results; the probes themselves are asynchronous requests on the HttpTransport, so a slow or
/// hanging service holds no thread, and status polling never waits for a probe.
/// Thread-safety: Offer from any thread. Start and Stop at most once each, Stop after Start (the
/// destructor stops).
class Prober {
  public:
    /// References must outlive the prober. `budget` may be empty (lookups unbudgeted).
    Prober(railway::RailwayApi& api, store::Instances& instances, store::HealthChecks& health, net::HttpTransport& http,
           const util::Clock& clock, EventSink& sink, ProberOptions options, ProbeBudget budget = {});
    ~Prober();
    Prober(const Prober&) = delete;
    Prober& operator=(const Prober&) = delete;

    void Start();
    /// Stops the thread, which first stores the results waiting (ProberOptions::gather) and sends
    /// no more probes, then cancels the probes in flight and waits for their completions (their
    /// results are dropped). Idempotent.
    void Stop();

    /// Offers an instance whose status check just found it: probed when it is RUNNING with a
    /// SUCCESS deployment (never SLEEPING: a probe would wake a serverless service), monitoring,
    /// not being probed already, and due (see ProberOptions::interval). Never blocks on the
    /// network or the store. Returns whether a probe was queued (to be sent now, or when a place
    /// in flight frees: ProberOptions::max_waiting). Now and then (every
    /// max(10 intervals, target_ttl)) it forgets instances not probed for that long (deleted,
    /// turned off, failed: their thresholds are replayed from the store if they come back),
    /// expired service URLs and services waited for, so that a long-running process does not keep
    /// every instance it ever probed. `wake` false leaves the prober's thread asleep: the caller
    /// offers more and then calls Wake once, so that they are sent together (a poll's probes).
    bool Offer(const store::Instance& instance, bool wake = true);
    /// Wakes the prober's thread for the probes offered with `wake` false. Thread-safe.
    void Wake();
    /// Says that a transition of `instance_id` was written (Monitor::Announce, for a row that was a
    /// probe's candidate): a probe of it in flight judged the row as offered, which may not be the
    /// row stored now, so its result reports the instance as read back from the store rather than
    /// as offered (Finish). Never blocks on the network or the store; thread-safe.
    void Superseded(const std::string& instance_id);

    /// The services of `environment_id` as an environment read found them, each with its probe
    /// target (Monitor's discovery read, every discovery interval): the targets of services the
    /// prober holds a URL for, or has been waiting for since a lookup was not possible (offered
    /// while max_in_flight probes were busy, no budget left, no answer), are set from it as a
    /// lookup would set them; no others are kept. So while
    /// discovery reads an environment, its services' URLs stay fresh without a `serviceInstance`
    /// request each per target_ttl, and a fleet that settles at once waits for the next read
    /// rather than for the lookups' budget. Never blocks on the network or the store; thread-safe.
    void NoteTargets(const std::string& environment_id, std::span<const railway::ServiceLatestDeployment> services);
    /// Whether the prober waits for the URL of a service of `environment_id` (a lookup was not
    /// possible): discovery then reads that environment whole at its next read, which brings it.
    /// Never blocks on the network or the store; thread-safe.
    bool AwaitsTargets(const std::string& environment_id) const;

    /// Runs queued work on the calling thread until none is left; for tests whose transport
    /// completes requests inline. Returns how many tasks ran. Not to be mixed with Start().
    std::size_t RunForTest();

    /// Instances and services the prober holds state for (what Offer prunes: see there).
    std::size_t KnownForTest() const;

  private:
    // The instance as offered, shared by every step of its probe (the task, the answer's
    // completion, the judged result) rather than copied into each.
    using Offered = std::shared_ptr<const store::Instance>;
    struct Task {
        Offered instance;
        std::optional<store::HealthCheck> result;  // none: look the URL up and send the probe
    };
    struct Target {
        std::optional<std::string> url;  // none: the service has no domain (or is not known yet)
        core::Timestamp at{};            // when looked up or read; not known yet: when first waited for
        // False while waited for: a lookup was not possible (no budget, no answer, the prober full)
        // and an environment read may bring it (NoteTargets).
        bool known = false;
    };
    struct InstanceProbe {
        std::optional<core::Timestamp> last_started;
        std::optional<core::Timestamp> rotated_at;  // its results' last rotation (ProberOptions::keep)
        bool busy = false;
        bool superseded = false;  // a transition was written while busy (Superseded)
        bool seeded = false;      // state replayed from the stored checks
        core::ProbeState state;
        std::string deployment;  // the deployment `state` counts the probes of
    };

    // A probe's result judged, to be stored with the others taken together (RunAll).
    struct Judged {
        Offered instance;
        store::HealthCheck check;
        core::ProbeState state;
        std::string health;
        bool rotate = false;  // its older results are deleted with it (ProberOptions::rotate_every)
    };

    void Loop();
    // Stores the results among `tasks` in one write (a fleet's probes cost a write per batch of
    // results, not a transaction each), then sends the probes among them together.
    void RunAll(std::deque<Task> tasks);
    // The probe of `instance` at its URL (TargetOf); none when there is nothing to send (then Done).
    std::optional<net::HttpRequest> ProbeRequest(const store::Instance& instance);
    // What a probe's answer does: queued as a task with its result (stored by RunAll), or Done.
    net::Completion OnAnswer(Offered instance, core::Timestamp at, util::SteadyTime started);
    Judged Evaluate(Offered instance, store::HealthCheck check);
    void Finish(Judged& judged, util::Result<std::int64_t> stored);
    std::optional<Target> TargetOf(const store::Instance& instance);
    // Notes that `instance`'s service is waited for (Target::known false) unless targets_ holds it
    // already (a read refreshes what it holds). mutex_ held.
    void Want(const store::Instance& instance, core::Timestamp now);
    // Holds `target` for the instance's service (replacing one held when `replace`). mutex_ held.
    void Hold(const store::Instance& instance, Target target, bool replace);
    // The target held for the instance's service in its environment, or null. mutex_ held.
    Target* HeldTarget(const store::Instance& instance);
    void ForgetIdle(core::Timestamp now);  // mutex_ held
    // The instance may be probed again; `sent`: a probe went out (else the next offer may come at once).
    void Done(const std::string& instance_id, bool sent);
    // A place in flight was freed (in_flight_ counted down): the first offer waiting takes it.
    // Returns whether one did (the thread is to be woken to send it). mutex_ held.
    bool Admit();

    railway::RailwayApi& api_;
    store::Instances& instances_;
    store::HealthChecks& health_;
    net::HttpTransport& http_;
    const util::Clock& clock_;
    EventSink& sink_;
    const ProberOptions options_;
    const ProbeBudget budget_;

    std::thread thread_;
    util::Wakeup wakeup_;

    mutable std::mutex mutex_;  // guards everything below
    std::condition_variable http_done_;
    bool started_ = false;
    bool stopping_ = false;
    std::deque<Task> tasks_;
    // When the oldest result among tasks_ was queued (none: no result waits): results wait for
    // the others in flight at most options_.gather from then.
    std::optional<util::SteadyTime> results_since_;
    std::unordered_map<std::string, InstanceProbe> probes_;  // by instance id
    // By environment id, then service id: an environment read looks its environment up once and
    // each service of each page in that environment's few targets (one map of every
    // "service/environment" key cost a cache miss or more per service: ~4 % of serve's CPU at
    // 100,000 instances; an ordered one ~5 %, comparing long keys). std::hash<std::string>: the
    // nodes keep their hash codes (with a noexcept hash of its own, libstdc++ keeps none and
    // hashed every key of a bucket again at each look-up).
    template <typename T>
    using ById = std::unordered_map<std::string, T>;
    // An environment's targets, and a filter of their service ids: a read's services are nearly all
    // not held (a few hundred targets among 100,000 services), and a look-up that finds nothing
    // still walks a bucket's nodes (~2 % of serve's CPU at 100,000 instances: docs/PERFORMANCE.md).
    // Every held id is in the filter (Hold adds it; ForgetIdle fills it again after erasing).
    struct EnvironmentTargets {
        ById<Target> services;
        HashFilter filter;
        std::size_t waited = 0;  // services not known (Target::known false)
    };
    ById<EnvironmentTargets> targets_;
    std::size_t in_flight_ = 0;         // probes offered and not answered (ProberOptions::max_in_flight)
    std::deque<Offered> waiting_;       // offers waiting for a place in flight, first come first
    core::Timestamp next_forget_at_{};  // ForgetIdle's next pass
    // Probes sent and not completed, by instance id (0 while Submit is under way).
    std::unordered_map<std::string, net::RequestId> requests_;
    // Completions past their request's removal from requests_ and still touching the prober: Stop
    // waits for none (a completion's last step, under the mutex, counts itself out).
    std::size_t completing_ = 0;
};

}  // namespace railwatch::monitor
