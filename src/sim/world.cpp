#include "sim/world.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "sim/split_mix.hpp"

namespace railwatch::sim {
namespace {

using core::DeploymentStatus;

constexpr std::string_view kServiceNames[] = {"api", "web", "worker", "billing", "auth", "search", "cron", "gateway"};

bool InProgress(DeploymentStatus s) {
    return s == DeploymentStatus::kQueued || s == DeploymentStatus::kWaiting || s == DeploymentStatus::kNeedsApproval ||
           s == DeploymentStatus::kInitializing || s == DeploymentStatus::kBuilding ||
           s == DeploymentStatus::kDeploying;
}

util::Result<void> NotFound() {
    return util::Fail(util::ErrorCode::kNotFound, "Deployment not found");
}

/// Drops planned entries after `now` and appends `entries`.
void Replan(SimDeployment& d, core::Timestamp now, std::vector<TimelineEntry> entries) {
    std::erase_if(d.timeline, [now](const TimelineEntry& e) { return e.at > now; });
    for (auto& e : entries) {
        if (!d.timeline.empty() && e.at <= d.timeline.back().at)
            e.at = d.timeline.back().at + std::chrono::milliseconds(1);
        d.timeline.push_back(e);
    }
}

}  // namespace

World::World(std::uint64_t seed, Durations durations, double time_scale)
    : seed_(seed), durations_(durations), time_scale_(time_scale) {}

std::string World::NewUuid() {
    const std::uint64_t a = SplitMix(seed_ * 0x100000001B3ULL + (++counter_));
    const std::uint64_t b = SplitMix(a ^ 0xA5A5A5A5A5A5A5A5ULL);
    return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", static_cast<std::uint32_t>(a >> 32),
                       static_cast<unsigned>((a >> 16) & 0xFFFF), static_cast<unsigned>(a & 0xFFF),
                       static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3FFF)), b & 0xFFFFFFFFFFFFULL);
}

std::size_t World::ServiceFor(const CreateSpec& spec, std::string_view environment_id) {
    if (!spec.service_id.empty()) {
        const auto it = service_by_id_.find(spec.service_id);
        if (it != service_by_id_.end()) {
            if (spec.health) services_[it->second].health = *spec.health;
            return it->second;
        }
    }
    SimService s;
    s.id = spec.service_id.empty() ? NewUuid() : spec.service_id;
    s.name =
        !spec.service_name.empty()
            ? spec.service_name
            : fmt::format("{}-{}", kServiceNames[services_.size() % std::size(kServiceNames)], services_.size() + 1);
    s.environment_id = std::string(environment_id);
    s.environments.push_back(s.environment_id);
    s.health = spec.health.value_or(HealthMode::kHealthy);
    service_by_id_.emplace(s.id, services_.size());
    services_.push_back(std::move(s));
    return services_.size() - 1;
}

util::Result<std::vector<std::string>> World::Create(const CreateSpec& spec, core::Timestamp now) {
    if (spec.count < 1) return util::Fail(util::ErrorCode::kInvalidArgument, "\"count\" must be at least 1");
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(spec.count));
    double total_weight = 0;
    for (const auto& [k, w] : spec.mix)
        total_weight += w;
    const std::string environment = spec.environment_id.empty() ? std::string(kEnvironmentId) : spec.environment_id;
    for (int i = 0; i < spec.count; ++i) {
        Kind kind = spec.kind.value_or(Kind::kSuccess);
        if (!spec.mix.empty()) {
            // Deterministic draw from the mix (seed + creation counter).
            const double u = static_cast<double>(SplitMix(seed_ ^ (counter_ * 0x9E37ULL + 17)) >> 11) *
                             (1.0 / 9007199254740992.0) * total_weight;
            double acc = 0;
            kind = spec.mix.back().first;
            for (const auto& [k, w] : spec.mix) {
                acc += w;
                if (u < acc) {
                    kind = k;
                    break;
                }
            }
        }
        const Reason reason = KindFails(kind) ? spec.reason.value_or(DefaultReason(kind)) : Reason::kNone;
        const std::size_t service = ServiceFor(spec, environment);
        const SimDeployment* d =
            AddDeployment(kind, reason, service, environment, spec.redeploy_kind.value_or(Kind::kSuccess), false, now);
        ids.push_back(d->id);
    }
    return ids;
}

const SimDeployment* World::AddDeployment(Kind kind, Reason reason, std::size_t service, std::string environment_id,
                                          Kind redeploy_kind, bool redeploy, core::Timestamp now) {
    SimDeployment d;
    d.id = NewUuid();
    d.seed = SplitMix(seed_ ^ SplitMix(counter_));
    d.kind = kind;
    d.reason = reason;
    d.service = service;
    d.environment_id = std::move(environment_id);
    d.created_at = now;
    d.timeline = PlanTimeline(kind, reason, now, durations_, time_scale_, d.seed);
    d.redeploy_kind = redeploy_kind;
    d.redeploy = redeploy;
    d.number = deployments_.size();
    by_id_.emplace(d.id, deployments_.size());
    SimService& s = services_[service];
    s.deployments.push_back(deployments_.size());
    if (!HasInstance(s, d.environment_id)) s.environments.push_back(d.environment_id);
    deployments_.push_back(std::move(d));
    Touch(deployments_.back());
    Supersede(deployments_.back());
    return &deployments_.back();
}

void World::Supersede(const SimDeployment& newer) {
    const auto first_success = std::find_if(newer.timeline.begin(), newer.timeline.end(), [](const TimelineEntry& e) {
        return e.status == DeploymentStatus::kSuccess;
    });
    if (first_success == newer.timeline.end()) return;
    const core::Timestamp at = first_success->at;
    for (std::size_t index : services_[newer.service].deployments) {
        SimDeployment& old = deployments_[index];
        if (old.number >= newer.number || old.environment_id != newer.environment_id || old.Deleted()) continue;
        const DeploymentStatus s = old.StatusAt(at);
        if (s != DeploymentStatus::kSuccess && s != DeploymentStatus::kCrashed && s != DeploymentStatus::kSleeping)
            continue;
        const core::Duration removing =
            std::max(core::Duration(std::chrono::milliseconds(1)),
                     core::Duration(static_cast<long long>(durations_.removing_s / time_scale_ * 1e9)));
        Replan(old, at, {{DeploymentStatus::kRemoving, at}, {DeploymentStatus::kRemoved, at + removing}});
        Touch(old);
    }
}

void World::Touch(SimDeployment& d) {
    ++d.version;
    if (tracking_) touched_.push_back(d.number);
}

void World::SetChangeTracking(bool on) {
    tracking_ = on;
    if (!on) touched_.clear();
}

std::vector<std::size_t> World::TakeTouched() {
    return std::exchange(touched_, {});
}

bool World::HasEnvironment(std::string_view environment_id) const {
    if (environment_id == kEnvironmentId) return true;
    return std::any_of(services_.begin(), services_.end(),
                       [&](const SimService& s) { return HasInstance(s, environment_id); });
}

bool World::HasInstance(const SimService& service, std::string_view environment_id) {
    return std::find(service.environments.begin(), service.environments.end(), environment_id) !=
           service.environments.end();
}

std::size_t World::Delete(const std::vector<std::string>& ids, core::Timestamp now,
                          std::vector<std::string>& not_deleted) {
    std::size_t deleted = 0;
    for (const auto& id : ids) {
        SimDeployment* d = Mutable(id);
        if (d == nullptr) {
            not_deleted.push_back(id);
            continue;
        }
        d->deleted_at = now;
        Touch(*d);
        ++deleted;
    }
    return deleted;
}

const SimDeployment* World::Find(std::string_view id) const {
    const SimDeployment* d = FindIncludingDeleted(id);
    return d == nullptr || d->Deleted() ? nullptr : d;
}

const SimDeployment* World::FindIncludingDeleted(std::string_view id) const {
    const auto it = by_id_.find(std::string(id));
    return it == by_id_.end() ? nullptr : &deployments_[it->second];
}

SimDeployment* World::Mutable(std::string_view id) {
    const auto it = by_id_.find(std::string(id));
    if (it == by_id_.end() || deployments_[it->second].Deleted()) return nullptr;
    return &deployments_[it->second];
}

const SimService* World::FindService(std::string_view id) const {
    const auto it = service_by_id_.find(std::string(id));
    return it == service_by_id_.end() ? nullptr : &services_[it->second];
}

std::vector<const SimDeployment*> World::List(const DeploymentFilter& filter, core::Timestamp now) const {
    std::vector<const SimDeployment*> out;
    if (!filter.project_id.empty() && filter.project_id != kProjectId) return out;
    auto consider = [&](const SimDeployment& d) {
        if (d.Deleted()) return;
        if (!filter.environment_id.empty() && d.environment_id != filter.environment_id) return;
        if (!filter.service_id.empty() && services_[d.service].id != filter.service_id) return;
        if (!filter.status_in.empty() || !filter.status_not_in.empty()) {
            const DeploymentStatus s = d.StatusAt(now);
            if (!filter.status_in.empty() &&
                std::find(filter.status_in.begin(), filter.status_in.end(), s) == filter.status_in.end())
                return;
            if (std::find(filter.status_not_in.begin(), filter.status_not_in.end(), s) != filter.status_not_in.end())
                return;
        }
        out.push_back(&d);
    };
    if (!filter.service_id.empty()) {
        const SimService* s = FindService(filter.service_id);
        if (s == nullptr) return out;
        for (std::size_t index : s->deployments)
            consider(deployments_[index]);
    } else {
        for (const auto& d : deployments_)
            consider(d);
    }
    std::sort(out.begin(), out.end(), [](const SimDeployment* a, const SimDeployment* b) {
        if (a->created_at != b->created_at) return a->created_at > b->created_at;
        return a->number > b->number;
    });
    return out;
}

const SimDeployment* World::Latest(std::string_view service_id, std::string_view environment_id) const {
    const SimService* s = FindService(service_id);
    if (s == nullptr) return nullptr;
    for (auto it = s->deployments.rbegin(); it != s->deployments.rend(); ++it) {
        const SimDeployment& d = deployments_[*it];
        if (d.environment_id == environment_id && !d.Deleted()) return &d;
    }
    return nullptr;
}

util::Result<const SimDeployment*> World::Redeploy(std::string_view id, core::Timestamp now) {
    const SimDeployment* old = Find(id);
    if (old == nullptr) return util::Fail(util::ErrorCode::kNotFound, "Deployment not found");
    const Kind kind = old->redeploy_kind;
    const Reason reason =
        KindFails(kind) ? (old->reason != Reason::kNone ? old->reason : DefaultReason(kind)) : Reason::kNone;
    const std::size_t service = old->service;
    std::string environment = old->environment_id;
    const Kind next_redeploy_kind = old->redeploy_kind;
    return AddDeployment(kind, reason, service, std::move(environment), next_redeploy_kind, true, now);
}

util::Result<void> World::Restart(std::string_view id, core::Timestamp now) {
    SimDeployment* d = Mutable(id);
    if (d == nullptr) return NotFound();
    const DeploymentStatus s = d->StatusAt(now);
    if (s != DeploymentStatus::kSuccess && s != DeploymentStatus::kCrashed && s != DeploymentStatus::kSleeping) {
        return util::Fail(util::ErrorCode::kConflict,
                          fmt::format("Cannot restart a deployment that is {}", core::ToString(s)));
    }
    const auto restart = core::Duration(static_cast<long long>(durations_.restart_delay_s / time_scale_ * 1e9));
    std::vector<TimelineEntry> next{{DeploymentStatus::kSuccess, now + restart}};
    if (d->kind == Kind::kCrashAfterSuccess || d->kind == Kind::kCrashLoop) {
        const double uptime = d->kind == Kind::kCrashLoop ? durations_.crash_loop_uptime_s : durations_.crash_after_s;
        next.push_back({DeploymentStatus::kCrashed,
                        now + restart + core::Duration(static_cast<long long>(uptime / time_scale_ * 1e9))});
    }
    if (s == DeploymentStatus::kSuccess) next.erase(next.begin());  // already running: only the crash is replanned
    if (next.empty()) {
        std::erase_if(d->timeline, [now](const TimelineEntry& e) { return e.at > now; });
    } else {
        Replan(*d, now, std::move(next));
    }
    Touch(*d);
    return util::Ok();
}

util::Result<void> World::Cancel(std::string_view id, core::Timestamp now) {
    SimDeployment* d = Mutable(id);
    if (d == nullptr) return NotFound();
    const DeploymentStatus s = d->StatusAt(now);
    if (!InProgress(s)) {
        return util::Fail(util::ErrorCode::kConflict,
                          fmt::format("Cannot cancel a deployment that is {}", core::ToString(s)));
    }
    Replan(*d, now, {{DeploymentStatus::kRemoved, now}});
    Touch(*d);
    return util::Ok();
}

util::Result<void> World::Remove(std::string_view id, core::Timestamp now) {
    SimDeployment* d = Mutable(id);
    if (d == nullptr) return NotFound();
    const DeploymentStatus s = d->StatusAt(now);
    if (s == DeploymentStatus::kRemoved || s == DeploymentStatus::kRemoving) return util::Ok();
    const auto removing = core::Duration(static_cast<long long>(durations_.removing_s / time_scale_ * 1e9));
    Replan(*d, now, {{DeploymentStatus::kRemoving, now}, {DeploymentStatus::kRemoved, now + removing}});
    Touch(*d);
    return util::Ok();
}

util::Result<void> World::Approve(std::string_view id, core::Timestamp now) {
    SimDeployment* d = Mutable(id);
    if (d == nullptr) return NotFound();
    if (d->StatusAt(now) != DeploymentStatus::kNeedsApproval) {
        return util::Fail(util::ErrorCode::kConflict, "Deployment does not need approval");
    }
    Replan(*d, now, PlanAfterApproval(now, durations_, time_scale_, d->seed));
    d->kind = Kind::kSuccess;
    Touch(*d);
    Supersede(*d);
    return util::Ok();
}

util::Result<void> World::SetHealth(std::string_view service_id, HealthMode mode) {
    const auto it = service_by_id_.find(std::string(service_id));
    if (it == service_by_id_.end())
        return util::Fail(util::ErrorCode::kNotFound, fmt::format("no service \"{}\" in the simulator", service_id));
    services_[it->second].health = mode;
    return util::Ok();
}

LifecycleFacts World::FactsOf(const SimDeployment& d) const {
    return LifecycleFacts{d.id, services_[d.service].name, d.kind, d.reason, d.seed, d.timeline};
}

}  // namespace railwatch::sim
