#include "sim/status_feed.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

bool Later(const auto& a, const auto& b) {
    return a.at > b.at || (a.at == b.at && a.deployment > b.deployment);
}

}  // namespace

void StatusFeed::Start(World& world, core::Timestamp since) {
    world.SetChangeTracking(true);
    (void)world.TakeTouched();
    active_ = true;
    reported_.assign(world.Deployments().size(), 0);
    heap_.clear();
    for (const SimDeployment& d : world.Deployments()) {
        if (d.Deleted()) continue;
        std::size_t& reported = reported_[d.number];
        while (reported < d.timeline.size() && d.timeline[reported].at <= since)
            ++reported;
        PushNext(d);
    }
}

void StatusFeed::Stop(World& world) {
    world.SetChangeTracking(false);
    active_ = false;
    reported_.clear();
    heap_.clear();
}

void StatusFeed::PushNext(const SimDeployment& d) {
    const std::size_t reported = reported_[d.number];
    if (reported >= d.timeline.size()) return;
    heap_.push_back(Pending{d.timeline[reported].at, d.number, d.version});
    std::push_heap(heap_.begin(), heap_.end(), [](const Pending& a, const Pending& b) { return Later(a, b); });
}

void StatusFeed::Refresh(World& world) {
    // A touched deployment gets a fresh heap entry; its older ones become stale (version). Its
    // reported prefix stays valid: replanning only changes entries later than now.
    std::vector<std::size_t> touched = world.TakeTouched();
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (std::size_t index : touched) {
        if (index >= reported_.size()) reported_.resize(index + 1, 0);
        const SimDeployment& d = world.Deployments()[index];
        if (!d.Deleted()) PushNext(d);
    }
}

void StatusFeed::PopStale(const World& world) {
    const auto later = [](const Pending& a, const Pending& b) { return Later(a, b); };
    while (!heap_.empty()) {
        const Pending& top = heap_.front();
        const SimDeployment& d = world.Deployments()[top.deployment];
        if (top.version == d.version && !d.Deleted()) return;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        heap_.pop_back();
    }
}

std::vector<StatusChange> StatusFeed::Take(World& world, core::Timestamp now) {
    std::vector<StatusChange> out;
    if (!active_) return out;
    Refresh(world);
    const auto later = [](const Pending& a, const Pending& b) { return Later(a, b); };
    for (PopStale(world); !heap_.empty() && heap_.front().at <= now; PopStale(world)) {
        const std::size_t index = heap_.front().deployment;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        heap_.pop_back();
        const SimDeployment& d = world.Deployments()[index];
        std::size_t& reported = reported_[index];
        while (reported < d.timeline.size() && d.timeline[reported].at <= now) {
            out.push_back(StatusChange{index, d.timeline[reported].status, d.timeline[reported].at});
            ++reported;
        }
        PushNext(d);
    }
    std::sort(out.begin(), out.end(), [](const StatusChange& a, const StatusChange& b) { return Later(b, a); });
    return out;
}

std::optional<core::Timestamp> StatusFeed::NextAt(World& world) {
    if (!active_) return std::nullopt;
    Refresh(world);
    PopStale(world);
    if (heap_.empty()) return std::nullopt;
    return heap_.front().at;
}

std::string WebhookBody(const World& world, const StatusChange& change) {
    const SimDeployment& d = world.Deployments()[change.deployment];
    const SimService& s = world.ServiceOf(d);
    std::string status(core::ToString(change.status));
    std::string lower = status;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool bad =
        change.status == core::DeploymentStatus::kFailed || change.status == core::DeploymentStatus::kCrashed;
    const nlohmann::json body = {
        {"type", "Deployment." + lower},
        {"timestamp", util::FormatRfc3339(change.at, util::TimePrecision::kMillis)},
        {"severity", bad ? "WARNING" : "INFO"},
        {"details",
         {{"id", d.id},
          {"source", "GitHub"},
          {"status", status},
          {"branch", "main"},
          {"commitHash", d.id.substr(0, 8) + d.id.substr(9, 4) + "c0ffee"},
          {"commitAuthor", "Sim Developer"},
          {"commitMessage", "Simulated change #" + std::to_string(d.number + 1)}}},
        {"resource",
         {{"workspace", {{"id", World::kWorkspaceId}, {"name", "Simulated Workspace"}}},
          {"project", {{"id", World::kProjectId}, {"name", "railwatch-sim"}}},
          {"environment",
           {{"id", d.environment_id},
            {"name", d.environment_id == World::kEnvironmentId ? "production" : d.environment_id},
            {"isEphemeral", false}}},
          {"service", {{"id", s.id}, {"name", s.name}}},
          {"deployment", {{"id", d.id}}}}}};
    return body.dump();
}

}  // namespace railwatch::sim
