#include "monitor/prober.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/deployment_status.hpp"
#include "net/http_transport.hpp"
#include "util/thread_name.hpp"

namespace railwatch::monitor {
namespace {

// The deployment a probe of `instance` judges: the one it runs (a RUNNING instance follows one).
std::string_view ProbedDeployment(const store::Instance& instance) {
    return instance.state.deployment_id ? std::string_view(*instance.state.deployment_id) : std::string_view();
}

// What one answer says, in the words a health check keeps.
void Judge(const net::HttpResponse& response, store::HealthCheck& check) {
    if (!response.Answered()) {
        check.ok = false;
        check.error = response.error == core::TransportErrorKind::kTimeout
                          ? std::string("timeout")
                          : (response.error_message.empty() ? std::string("no answer") : response.error_message);
        return;
    }
    check.http_status = response.status;
    // As Kubernetes' httpGet probes: 200..399 is success.
    check.ok = response.status >= 200 && response.status < 400;
    if (!check.ok) check.error = fmt::format("HTTP {}", response.status);
}

}  // namespace

std::string ProbeUrl(std::string_view domain, const std::optional<std::string>& healthcheck_path) {
    std::string_view rest = domain;
    if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) rest.remove_prefix(scheme + 3);
    const std::string_view host_port = rest.substr(0, rest.find('/'));
    std::string_view host = host_port;
    if (!host.empty() && host.front() == '[') {
        host = host.substr(0, host.find(']') + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }
    std::string url = (net::IsLoopbackHost(host) ? "http://" : "https://") + std::string(rest);
    while (!url.empty() && url.back() == '/')
        url.pop_back();
    std::string path = healthcheck_path.value_or("/");
    if (path.empty() || path.front() != '/') path.insert(path.begin(), '/');
    return url + path;
}

std::optional<std::string> ProbeUrl(const railway::ServiceInstanceInfo& info) {
    for (const std::string& domain : info.domains) {
        if (!domain.empty()) return ProbeUrl(domain, info.healthcheck_path);
    }
    return std::nullopt;
}

Prober::Prober(railway::RailwayApi& api, store::Instances& instances, store::HealthChecks& health,
               net::HttpTransport& http, const util::Clock& clock, EventSink& sink, ProberOptions options,
               ProbeBudget budget)
    : api_(api),
      instances_(instances),
      health_(health),
      http_(http),
      clock_(clock),
      sink_(sink),
      options_(options),
      budget_(std::move(budget)) {}

Prober::~Prober() {
    Stop();
}

void Prober::Start() {
    std::lock_guard lock(mutex_);
    if (started_ || stopping_) return;
    started_ = true;
    thread_ = std::thread([this] { Loop(); });
}

void Prober::Stop() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        stopping_ = true;
    }
    wakeup_.Stop();
    if (thread_.joinable()) thread_.join();
    // The thread is gone, so every probe in flight has its request id: cancel them (outside the
    // lock: a completion may run inline) and wait for their completions.
    std::vector<net::RequestId> ids;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [instance_id, id] : requests_)
            ids.push_back(id);
    }
    for (net::RequestId id : ids)
        http_.Cancel(id);
    std::unique_lock lock(mutex_);
    http_done_.wait(lock, [this] { return requests_.empty() && completing_ == 0; });
    tasks_.clear();
    waiting_.clear();
}

bool Prober::Offer(const store::Instance& instance, bool wake) {
    if (options_.interval <= core::Duration::zero()) return false;
    if (!instance.monitoring || instance.state.status != core::InstanceStatus::kRunning ||
        instance.state.deployment_status != "SUCCESS")
        return false;
    const core::Timestamp now = clock_.Now();
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return false;
        ForgetIdle(now);
        if (const auto found = probes_.find(instance.id); found != probes_.end()) {
            const InstanceProbe& probe = found->second;
            if (probe.busy) return false;
            // A deployment not probed yet is probed at once, however recently the one before it
            // was (a fix that went live is judged by its own probe, not in up to an interval).
            const bool new_deployment = probe.seeded && probe.deployment != ProbedDeployment(instance);
            if (!new_deployment && probe.last_started && now - *probe.last_started < options_.interval * 4 / 5)
                return false;
        }
        const bool room = in_flight_ < options_.max_in_flight;
        if (!room) {
            // Its URL may come with an environment read while it waits (NoteTargets): a fleet that
            // settles at once needs no lookup each.
            Want(instance, now);
            if (waiting_.size() >= options_.max_waiting) return false;
        }
        InstanceProbe& probe = probes_[instance.id];
        probe.busy = true;
        probe.superseded = false;
        probe.last_started = now;
        auto offered = std::make_shared<const store::Instance>(instance);
        if (!room) {
            waiting_.push_back(std::move(offered));
            return true;  // sent when an answer frees a place (Admit)
        }
        ++in_flight_;
        tasks_.push_back(Task{std::move(offered), std::nullopt});
    }
    if (wake) wakeup_.Notify();
    return true;
}

void Prober::Wake() {
    wakeup_.Notify();
}

void Prober::Superseded(const std::string& instance_id) {
    std::lock_guard lock(mutex_);
    if (const auto found = probes_.find(instance_id); found != probes_.end() && found->second.busy)
        found->second.superseded = true;
}

void Prober::ForgetIdle(core::Timestamp now) {
    const core::Duration idle = std::max(options_.interval * 10, options_.target_ttl);
    if (now < next_forget_at_) return;
    next_forget_at_ = now + idle;
    std::erase_if(probes_, [&](const auto& entry) {
        const InstanceProbe& probe = entry.second;
        return !probe.busy && (!probe.last_started || now - *probe.last_started >= idle);
    });
    for (auto environment = targets_.begin(); environment != targets_.end();) {
        EnvironmentTargets& held = environment->second;
        const std::size_t erased = std::erase_if(held.services, [&](const auto& entry) {
            const Target& target = entry.second;
            const bool forget = now - target.at >= (target.known ? options_.target_ttl : idle);
            if (forget && !target.known) --held.waited;
            return forget;
        });
        if (held.services.empty()) {
            environment = targets_.erase(environment);
            continue;
        }
        if (erased > 0) held.filter.Fill(held.services);
        ++environment;
    }
}

void Prober::NoteTargets(const std::string& environment_id,
                         std::span<const railway::ServiceLatestDeployment> services) {
    const core::Timestamp now = clock_.Now();
    // A lock per chunk: Offer (the pollers) does not wait for a whole environment of services.
    constexpr std::size_t kPerLock = 1024;
    for (std::size_t begin = 0; begin < services.size(); begin += kPerLock) {
        std::lock_guard lock(mutex_);
        const auto environment = targets_.find(environment_id);
        if (environment == targets_.end()) return;  // none of its services held or waited for
        EnvironmentTargets& held = environment->second;
        for (const auto& service : services.subspan(begin, std::min(kPerLock, services.size() - begin))) {
            if (!held.filter.MayHold(held.services.hash_function()(service.service_id))) continue;
            const auto found = held.services.find(service.service_id);
            if (found == held.services.end()) continue;  // neither held nor waited for
            if (!found->second.known) --held.waited;
            found->second =
                Target{service.first_domain ? std::optional(ProbeUrl(*service.first_domain, service.healthcheck_path))
                                            : std::nullopt,
                       now, true};
        }
    }
}

bool Prober::AwaitsTargets(const std::string& environment_id) const {
    std::lock_guard lock(mutex_);
    const auto environment = targets_.find(environment_id);
    return environment != targets_.end() && environment->second.waited > 0;
}

std::size_t Prober::KnownForTest() const {
    std::lock_guard lock(mutex_);
    std::size_t targets = 0;
    for (const auto& [environment, held] : targets_)
        targets += held.services.size();
    return probes_.size() + targets;
}

std::size_t Prober::RunForTest() {
    std::size_t ran = 0;
    for (;;) {
        std::deque<Task> tasks;
        {
            std::lock_guard lock(mutex_);
            tasks.swap(tasks_);
            results_since_.reset();
        }
        if (tasks.empty()) return ran;
        ran += tasks.size();
        RunAll(std::move(tasks));
    }
}

void Prober::Loop() {
    util::NameThisThread("rw-prober");
    for (;;) {
        std::deque<Task> tasks;
        core::Duration idle = core::Seconds(60);
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            stopping = stopping_;
            // Results wait for the others in flight (OnAnswer wakes the thread when the last one
            // comes), at most options_.gather from the oldest, or until the prober stops (RunAll
            // then sends no more probes); offers are sent at once and leave the results waiting (a
            // poll offers probes many times a second: were the results stored with each, every
            // store would hold a few).
            const util::SteadyTime now = clock_.Steady();
            if (stopping || (results_since_ && (requests_.empty() || now - *results_since_ >= options_.gather))) {
                tasks.swap(tasks_);
                results_since_.reset();
            } else {
                std::deque<Task> results;
                for (Task& task : tasks_)
                    (task.result ? results : tasks).push_back(std::move(task));
                tasks_.swap(results);
                if (results_since_) idle = options_.gather - (now - *results_since_);
            }
        }
        const bool ran = !tasks.empty();
        if (ran) RunAll(std::move(tasks));
        if (stopping) return;
        if (ran) continue;
        // Woken by Offer (Wake) and by completions; the minute bound only guards against a lost
        // wakeup. Stopped, the next turn stores the results waiting and returns.
        (void)clock_.WaitFor(idle, wakeup_);
    }
}

void Prober::RunAll(std::deque<Task> tasks) {
    // The results first (they are ready; a send may wait on a URL lookup), all in one write.
    std::vector<Judged> judged;
    for (Task& task : tasks) {
        if (task.result) judged.push_back(Evaluate(std::move(task.instance), std::move(*task.result)));
    }
    if (!judged.empty()) {
        const core::Timestamp keep_since = clock_.Now() - options_.keep;
        std::vector<store::ProbeRecord> records;
        records.reserve(judged.size());
        for (const Judged& j : judged) {
            // (the deployment judged: a transition since keeps the health it set)
            records.push_back({j.check, j.health, std::string(ProbedDeployment(*j.instance)),
                               j.instance->state.deployment_status.value_or(""),
                               j.rotate ? std::optional(keep_since) : std::nullopt});
        }
        auto stored = health_.RecordProbes(records);
        for (std::size_t k = 0; k < judged.size(); ++k)
            Finish(judged[k], std::move(stored[k]));
    }
    // Then the probes, each after its URL's lookup, sent together (the transport's thread woken
    // once); once stopping, the rest are not looked up (Stop waits for this thread: it must not
    // wait for every lookup of a large batch).
    std::vector<net::HttpTransport::Submission> probes;
    std::vector<Offered*> probed;  // the instance of each of `probes`
    for (Task& task : tasks) {
        if (task.result) continue;
        bool stopping = false;
        {
            std::lock_guard lock(mutex_);
            stopping = stopping_;
        }
        if (stopping) {
            Done(task.instance->id, /*sent=*/false);
            continue;
        }
        if (auto request = ProbeRequest(*task.instance)) {
            probes.push_back({std::move(*request), {}});
            probed.push_back(&task.instance);
        }
    }
    if (probes.empty()) return;
    // Timed from here: the lookup of another probe of the batch is not this one's latency.
    const core::Timestamp at = clock_.Now();
    const util::SteadyTime started = clock_.Steady();
    {
        std::lock_guard lock(mutex_);
        for (std::size_t k = 0; k < probes.size(); ++k) {
            probes[k].done = OnAnswer(*probed[k], at, started);
            requests_[(*probed[k])->id] = 0;
        }
    }
    http_.SubmitAll(probes);
    // A completion that ran already (inline) took its entry out: only those still there get an id.
    std::lock_guard lock(mutex_);
    for (std::size_t k = 0; k < probes.size(); ++k)
        if (auto found = requests_.find((*probed[k])->id); found != requests_.end()) found->second = probes[k].id;
}

void Prober::Done(const std::string& instance_id, bool sent) {
    std::lock_guard lock(mutex_);
    auto found = probes_.find(instance_id);
    if (found == probes_.end() || !found->second.busy) return;
    found->second.busy = false;
    if (!sent) {
        found->second.last_started.reset();
        --in_flight_;   // never sent: no answer counts it out (OnAnswer)
        (void)Admit();  // (called on the prober's thread, which looks at tasks_ again next)
    }
}

bool Prober::Admit() {
    if (stopping_ || waiting_.empty() || in_flight_ >= options_.max_in_flight) return false;
    ++in_flight_;
    tasks_.push_back(Task{std::move(waiting_.front()), std::nullopt});
    waiting_.pop_front();
    return true;
}

void Prober::Want(const store::Instance& instance, core::Timestamp now) {
    // Held, known and stale (TargetOf): waited for from now, as one never held. A fresh one stays
    // (Offer wants every instance it cannot send at once).
    if (const Target* held = HeldTarget(instance);
        held != nullptr && held->known && now - held->at >= options_.target_ttl) {
        Hold(instance, Target{std::nullopt, now, false}, /*replace=*/true);
        return;
    }
    Hold(instance, Target{std::nullopt, now, false}, /*replace=*/false);
}

void Prober::Hold(const store::Instance& instance, Target target, bool replace) {
    EnvironmentTargets& held = targets_[instance.environment_id];
    const auto [at, added] = held.services.try_emplace(instance.service_id, target);
    if (!added) {
        if (replace) {
            held.waited -= static_cast<std::size_t>(!at->second.known);
            held.waited += static_cast<std::size_t>(!target.known);
            at->second = std::move(target);
        }
        return;
    }
    held.waited += static_cast<std::size_t>(!target.known);
    if (held.filter.Outgrown(held.services.size())) {
        held.filter.Fill(held.services);
    } else {
        held.filter.Add(held.services.hash_function()(instance.service_id));
    }
}

Prober::Target* Prober::HeldTarget(const store::Instance& instance) {
    const auto environment = targets_.find(instance.environment_id);
    if (environment == targets_.end()) return nullptr;
    const auto found = environment->second.services.find(instance.service_id);
    return found == environment->second.services.end() ? nullptr : &found->second;
}

std::optional<Prober::Target> Prober::TargetOf(const store::Instance& instance) {
    const core::Timestamp now = clock_.Now();
    {
        std::lock_guard lock(mutex_);
        const Target* held = HeldTarget(instance);
        if (held != nullptr && held->known && now - held->at < options_.target_ttl) return *held;
    }
    // Not known now: the next offer asks again, and an environment read may answer first.
    const auto wait = [&]() -> std::optional<Target> {
        std::lock_guard lock(mutex_);
        Want(instance, now);
        return std::nullopt;
    };
    if (budget_ && !budget_(now)) return wait();  // no request left now
    auto info = api_.GetServiceInstance(instance.service_id, instance.environment_id);
    if (!info) return wait();  // Railway did not answer
    const Target target{ProbeUrl(*info), now, true};
    std::lock_guard lock(mutex_);
    Hold(instance, target, /*replace=*/true);
    return target;
}

std::optional<net::HttpRequest> Prober::ProbeRequest(const store::Instance& instance) {
    const auto target = TargetOf(instance);
    if (!target || !target->url) {
        // Not known now, or no public domain: nothing to probe (health stays with the deployment).
        // Nothing was sent, so the next status check may offer it again (a fresh answer is kept
        // for target_ttl: that costs no request).
        Done(instance.id, /*sent=*/false);
        return std::nullopt;
    }
    net::HttpRequest request;
    request.method = "GET";
    request.url = *target->url;
    request.timeout = options_.timeout;
    request.discard_body = true;  // the status and the time are the probe's answer, whatever the page's size
    return request;
}

net::Completion Prober::OnAnswer(Offered instance, core::Timestamp at, util::SteadyTime started) {
    return [this, instance = std::move(instance), at, started](const net::HttpResponse& answer) {
        store::HealthCheck check;
        check.instance_id = instance->id;
        check.at = at;
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Steady() - started);
        Judge(answer, check);
        if (answer.Answered()) check.latency_ms = static_cast<int>(std::min<long long>(took.count(), 1 << 30));
        const bool cancelled = answer.error == core::TransportErrorKind::kCancelled;
        bool queued = false;
        bool wake = false;
        {
            std::lock_guard lock(mutex_);
            requests_.erase(instance->id);
            --in_flight_;   // answered (or cancelled): its result may still wait, not its place
            ++completing_;  // Stop waits for this completion to end, not only for its request
            wake = Admit();
            if (!stopping_ && !cancelled) {
                tasks_.push_back(Task{instance, std::move(check)});
                queued = true;
                // Stored with the others in flight: the first result wakes the thread to start
                // its wait of at most options_.gather (Loop), the last one in flight ends it.
                const bool first = !results_since_;
                if (first) results_since_ = clock_.Steady();
                wake = wake || first || requests_.empty();
            }
        }
        if (!queued) Done(instance->id, /*sent=*/true);
        if (wake) wakeup_.Notify();
        // Notified under the lock: once it is released, Stop may return and the prober be
        // destroyed, so nothing of it is touched after this.
        std::lock_guard lock(mutex_);
        --completing_;
        http_done_.notify_all();
    };
}

Prober::Judged Prober::Evaluate(Offered offered, store::HealthCheck check) {
    const store::Instance& instance = *offered;
    const core::Timestamp now = clock_.Now();
    core::ProbeResult result;
    result.at = check.at;
    result.ok = check.ok;
    result.http_status = check.http_status.value_or(0);
    result.latency = core::Millis(check.latency_ms.value_or(0));
    result.error = check.error.value_or("");

    bool seeded = false;
    bool rotate = false;
    {
        std::lock_guard lock(mutex_);
        InstanceProbe& probe = probes_[instance.id];
        // The thresholds count the probes of one deployment: a new one (a fix pushed after
        // failing probes) starts from its own results, not from the failures of the one before.
        seeded = probe.seeded && probe.deployment == ProbedDeployment(instance);
        // (marked when the write that rotates succeeds: Finish)
        rotate = !probe.rotated_at || now - *probe.rotated_at >= options_.rotate_every;
    }
    core::ProbeState state;
    if (!seeded) {
        // Another process (or this one before a restart) may have probed it: go on from the
        // stored results, oldest first, so that thresholds count across restarts — those of this
        // deployment (from when it went live on: earlier ones probed the deployment before it).
        const int depth = std::max(1, options_.policy.failure_threshold + options_.policy.success_threshold);
        if (auto stored = health_.RecentHealthChecks(instance.id, depth)) {
            for (auto it = stored->rbegin(); it != stored->rend(); ++it) {
                if (instance.state.deployment_completed_at && it->at < *instance.state.deployment_completed_at)
                    continue;
                core::ProbeResult past;
                past.at = it->at;
                past.ok = it->ok;
                past.http_status = it->http_status.value_or(0);
                past.latency = core::Millis(it->latency_ms.value_or(0));
                state = core::UpdateProbe(state, past, options_.policy);
            }
        }
    } else {
        std::lock_guard lock(mutex_);
        state = probes_[instance.id].state;
    }
    state = core::UpdateProbe(state, result, options_.policy);

    core::HealthInput input;
    input.instance_status = instance.state.status;
    if (instance.state.deployment_status)
        input.deployment_status = core::ParseDeploymentStatus(*instance.state.deployment_status);
    input.probe = state;
    input.active_since = instance.state.deployment_completed_at;
    input.last_checked_at = check.at;
    const core::Health verdict = core::EvaluateHealth(input, options_.policy, now);
    return Judged{std::move(offered), std::move(check), state, std::string(core::ToString(verdict.status)), rotate};
}

void Prober::Finish(Judged& judged, util::Result<std::int64_t> stored) {
    const store::Instance& instance = *judged.instance;
    bool superseded = false;  // the row offered may not be the row stored now
    {
        std::lock_guard lock(mutex_);
        InstanceProbe& probe = probes_[instance.id];
        superseded = std::exchange(probe.superseded, false);
        probe.state = judged.state;
        probe.seeded = true;
        probe.deployment = std::string(ProbedDeployment(instance));
        // A failed write rotated nothing: the next result tries again.
        if (judged.rotate && stored) probe.rotated_at = clock_.Now();
    }
    Done(instance.id, /*sent=*/true);
    if (!stored) return;  // not stored (the instance is gone, or the store is down): nothing to report
    judged.check.id = *stored;
    if (instance.state.health == judged.health && !superseded) {
        sink_.OnHealth(instance, judged.check);
        return;
    }
    // The health shown may have changed: report the instance as stored now — with the verdict's
    // health, or the one a transition set since the status check that offered it (the store then
    // kept it: RecordProbes), which may differ even where the verdict equals the offered row's.
    if (auto current = instances_.GetInstance(instance.id)) {
        sink_.OnHealth(*current, judged.check);
        sink_.OnInstance(*current);
        return;
    }
    store::Instance after = instance;  // (not read back: the verdict, as written unless a transition came)
    after.state.health = judged.health;
    sink_.OnHealth(after, judged.check);
}

}  // namespace railwatch::monitor
