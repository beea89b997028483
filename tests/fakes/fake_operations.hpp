#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "monitor/operations.hpp"
#include "store/instances.hpp"
#include "util/clock.hpp"
#include "util/ids.hpp"

/// A monitor::Operations for tests of the layers above the engine (the REST API): it writes
/// through a real store::Instances (so the API's reads see the change) and records every call;
/// a test can make the next call of a kind fail. Header-only: only the tests that use it link
/// the store and the monitor. Thread-safe.
namespace railwatch::fakes {

class FakeOperations final : public monitor::Operations {
  public:
    /// `instances` and `clock` must outlive the fake.
    FakeOperations(store::Instances& instances, const util::Clock& clock) : instances_(instances), clock_(clock) {}

    /// The next call named `call` ("AddInstance", "DeleteInstance", "SetMonitoring", "Redeploy",
    /// "CheckDeploymentNow", "Progress", "FollowLogs") fails with `error` (once).
    void FailNext(const std::string& call, util::Error error) {
        std::lock_guard lock(mutex_);
        failures_[call] = std::move(error);
    }
    /// Every call so far: name and its main argument (an id, or the service id for AddInstance).
    std::vector<std::pair<std::string, std::string>> Calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }
    /// What Progress answers (instance_id is filled in).
    void SetProgress(monitor::ProgressReport report) {
        std::lock_guard lock(mutex_);
        progress_ = std::move(report);
    }
    /// What CheckDeploymentNow answers when it does not fail.
    void SetWoken(int woken) {
        std::lock_guard lock(mutex_);
        woken_ = woken;
    }

    util::Result<store::Instance> AddInstance(const monitor::AddInstanceRequest& request) override {
        if (auto failed = Record("AddInstance", request.service_id)) return tl::unexpected(*failed);
        store::Instance instance;
        instance.id = util::NewId("ins");
        instance.user_id = request.user_id;
        instance.project_name = request.project_name;
        instance.service_id = request.service_id;
        instance.environment_id = request.environment_id;
        instance.state.deployment_id = request.deployment_id;
        instance.state.next_check_at = clock_.Now();
        instance.check_interval_s = request.check_interval_s;
        instance.created_at = clock_.Now();
        if (auto created = instances_.CreateInstance(instance); !created) return tl::unexpected(created.error());
        return instances_.GetInstance(instance.id);
    }

    util::Result<store::Instance> DeleteInstance(const std::string& id) override {
        if (auto failed = Record("DeleteInstance", id)) return tl::unexpected(*failed);
        if (auto deleted = instances_.DeleteInstance(id, clock_.Now()); !deleted)
            return tl::unexpected(deleted.error());
        return instances_.GetInstance(id);
    }

    util::Result<store::Instance> SetMonitoring(const std::string& id, bool enabled,
                                                std::optional<int> check_interval_s) override {
        if (auto failed = Record("SetMonitoring", id)) return tl::unexpected(*failed);
        if (auto set = instances_.SetMonitoring(id, enabled, check_interval_s, clock_.Now()); !set)
            return tl::unexpected(set.error());
        return instances_.GetInstance(id);
    }

    util::Result<void> Redeploy(const std::string& id) override {
        if (auto failed = Record("Redeploy", id)) return tl::unexpected(*failed);
        return util::Ok();
    }

    util::Result<int> CheckDeploymentNow(const std::string& deployment_id) override {
        if (auto failed = Record("CheckDeploymentNow", deployment_id)) return tl::unexpected(*failed);
        std::lock_guard lock(mutex_);
        return woken_;
    }

    util::Result<monitor::ProgressReport> Progress(const std::string& id) override {
        if (auto failed = Record("Progress", id)) return tl::unexpected(*failed);
        std::lock_guard lock(mutex_);
        monitor::ProgressReport report = progress_;
        report.instance_id = id;
        return report;
    }

    util::Result<bool> FollowLogs(const std::string& id) override {
        if (auto failed = Record("FollowLogs", id)) return tl::unexpected(*failed);
        return true;
    }

    /// What PlatformIncident answers (none by default).
    void SetPlatformIncident(std::optional<std::string> incident) {
        std::lock_guard lock(mutex_);
        incident_ = std::move(incident);
    }
    std::optional<std::string> PlatformIncident() const override {
        std::lock_guard lock(mutex_);
        return incident_;
    }

    monitor::CapacityReport Capacity() const override {
        monitor::CapacityReport report;
        report.requests_per_hour = 1000;
        report.requests_per_second = 10;
        report.monitored = 1;
        report.capacity = 16;
        report.batch_size = 25;
        report.effective_interval_s = {{"SUCCESS", 60.0}};
        return report;
    }

    /// The instance's own interval, else 7.5 s (as if its status's were stretched), when
    /// monitored; none when not.
    std::optional<core::Duration> CheckInterval(const store::Instance& instance) const override {
        if (!instance.monitoring) return std::nullopt;
        return instance.check_interval_s ? core::Seconds(*instance.check_interval_s) : core::Millis(7500);
    }

  private:
    std::optional<util::Error> Record(const std::string& call, const std::string& arg) {
        std::lock_guard lock(mutex_);
        calls_.emplace_back(call, arg);
        auto it = failures_.find(call);
        if (it == failures_.end()) return std::nullopt;
        util::Error error = std::move(it->second);
        failures_.erase(it);
        return error;
    }

    store::Instances& instances_;
    const util::Clock& clock_;
    mutable std::mutex mutex_;
    std::optional<std::string> incident_;  // guarded by mutex_
    std::map<std::string, util::Error> failures_;
    std::vector<std::pair<std::string, std::string>> calls_;
    monitor::ProgressReport progress_ = [] {
        monitor::ProgressReport report;
        report.progress = 40;
        report.phase = "building";
        report.eta_seconds = 90;
        return report;
    }();
    int woken_ = 1;
};

}  // namespace railwatch::fakes
