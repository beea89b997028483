#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "app/engine.hpp"
#include "app/engine_history.hpp"
#include "app/engine_metrics.hpp"
#include "core/notify_event.hpp"
#include "monitor/monitor.hpp"
#include "net/probe_transport.hpp"

namespace railwatch::app {

/// The monitoring engine `serve` runs: monitor::Monitor built from the configuration, with the
/// notifier's planner turning its changes into outbox rows (written in the change's own
/// transaction), and its metrics (EngineMetrics, also counting the notifier's deliveries) in the
/// root's registry — so one MonitorEngine per Root. Thread-safety as monitor::Monitor.
class MonitorEngine final : public Engine {
  public:
    /// Builds the engine from `deps` (nothing starts yet). `worker_id` names this process in the
    /// schedule's leases; it must differ between processes sharing a store.
    MonitorEngine(const EngineDeps& deps, std::string worker_id);
    /// Stops the monitor first: its threads report to the metrics, which go before it.
    ~MonitorEngine() override;

    /// Starts the monitor, then the history's writer.
    util::Result<void> Start() override;
    /// Stops the monitor (after its in-flight writes), then the history (with its last write).
    void Stop() override;
    std::optional<core::BudgetStatus> Budget() const override { return history_->Budget(); }
    double ChecksPerMinute() const override { return history_->ChecksPerMinute(); }
    std::string_view Describe() const override { return description_; }

    util::Result<store::Instance> AddInstance(const monitor::AddInstanceRequest& request) override {
        return monitor_->AddInstance(request);
    }
    util::Result<store::Instance> DeleteInstance(const std::string& id) override {
        return monitor_->DeleteInstance(id);
    }
    util::Result<store::Instance> SetMonitoring(const std::string& id, bool enabled,
                                                std::optional<int> check_interval_s) override {
        return monitor_->SetMonitoring(id, enabled, check_interval_s);
    }
    util::Result<void> Redeploy(const std::string& id) override { return monitor_->Redeploy(id); }
    util::Result<int> CheckDeploymentNow(const std::string& deployment_id) override {
        return monitor_->CheckDeploymentNow(deployment_id);
    }
    util::Result<monitor::ProgressReport> Progress(const std::string& id) override { return monitor_->Progress(id); }
    util::Result<bool> FollowLogs(const std::string& id) override { return monitor_->FollowLogs(id); }
    monitor::CapacityReport Capacity() const override { return monitor_->Capacity(); }
    std::optional<core::Duration> CheckInterval(const store::Instance& instance) const override {
        return monitor_->CheckInterval(instance);
    }
    std::optional<std::string> PlatformIncident() const override { return monitor_->PlatformIncident(); }

  private:
    /// Forwards the engine's changes to the real sink and, once a change that planned outbox rows
    /// is durable, wakes the notifier's dispatcher, so that a new notification does not wait for
    /// the dispatcher's poll. Thread-safe.
    class WakingSink final : public monitor::EventSink {
      public:
        WakingSink(monitor::EventSink& inner, notify::Notifier* notifier) : inner_(inner), notifier_(notifier) {}
        /// The planner produced rows; they are written with the change being recorded.
        void RowsPlanned() { rows_planned_.store(true); }
        void OnInstance(const store::Instance& instance) override;
        void OnTransition(const store::Instance& instance, const store::TimelineEvent& event) override;
        void OnHealth(const store::Instance& instance, const store::HealthCheck& check) override;
        void OnChecks(const monitor::CheckBatchReport& report) override;
        void OnLogLines(const std::string& instance_id, std::span<const store::LogLine> lines) override {
            inner_.OnLogLines(instance_id, lines);
        }
        /// Where checks and transitions are counted; set once, before the engine starts.
        void SetMetrics(EngineMetrics* metrics) { metrics_ = metrics; }
        /// Where checks are counted per minute; set once, before the engine starts.
        void SetHistory(EngineHistory* history) { history_ = history; }

      private:
        void Wake();

        monitor::EventSink& inner_;
        notify::Notifier* notifier_;
        EngineMetrics* metrics_ = nullptr;
        EngineHistory* history_ = nullptr;
        std::atomic<bool> rows_planned_{false};
    };

    std::string description_;
    WakingSink sink_;
    std::unique_ptr<EngineHistory> history_;                // the monitor reports to it: declared before it
    std::unique_ptr<net::ProbeTransport> probe_transport_;  // the monitor's prober sends on it: before it
    std::unique_ptr<monitor::Monitor> monitor_;
    std::unique_ptr<EngineMetrics> metrics_;  // reads monitor_ and probe_transport_ at scrape time: after them
};

/// The notification events one engine change stands for (pure): a reaction's notices
/// (core::EventTypeForAction; a crashed deployment's user notice is "deployment crashed"), a
/// recovery (a deployment that runs again after a failure), an attention flag (kind "crash_loop": a crash
/// loop; "attention": a stall or a deployment past its timeout). Users are filled in by the caller.
std::vector<core::NotifyEvent> NotifyEventsFor(const monitor::ChangeToPlan& change);

/// The prober's settings from [monitor.health].
monitor::ProberOptions ProberOptionsFrom(const HealthProbeSettings& settings);
/// The probes' transport's options from [monitor.health] (its connection caps and set-up
/// timeout) and the environment's proxies (Root::probe_proxies). Pure.
net::ProbeTransportOptions ProbeTransportOptionsFrom(const HealthProbeSettings& settings, net::ProbeProxies proxies);

/// The monitor's settings from the configuration.
monitor::MonitorOptions MonitorOptionsFrom(const Config& config, std::string worker_id);

}  // namespace railwatch::app
