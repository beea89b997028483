#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "monitor/operations.hpp"
#include "notify/dispatcher.hpp"
#include "util/metrics.hpp"

namespace railwatch::net {
struct ProbeTransportStats;
}

/// The engine's and the notifier's Prometheus families (docs/API.md, "Metrics"): what the monitor
/// reports after each batch of checks and each transition, the fleet and its capacity read at
/// scrape time, and each delivery attempt. Nothing here reads the store: a scrape costs one walk
/// over the engine's in-memory fleet (one capacity report shared by the three families that show
/// it), however large the database.
namespace railwatch::app {

/// Registers its families on construction (once per registry: a second EngineMetrics on the same
/// registry throws std::invalid_argument, as the registry does for a name taken). Thread-safe.
class EngineMetrics {
  public:
    /// `capacity` is read at each scrape; it must stay callable until the EngineMetrics is
    /// destroyed (declare the EngineMetrics after what it reads).
    EngineMetrics(util::MetricsRegistry& registry, std::function<monitor::CapacityReport()> capacity);

    /// One batch of checks: checks, errors, the request's time and each instance's delay.
    void OnChecks(const monitor::CheckBatchReport& report);
    /// One recorded transition to Railway status `to_status`.
    void OnTransition(const store::TimelineEvent& event);
    /// One health probe, after its result was stored.
    void OnHealth(const store::HealthCheck& check);
    /// One delivery attempt, after its outcome was recorded (a notify::DeliveryListener).
    void OnDelivery(const notify::DeliveryReport& report);
    /// Adds the health probes' transport's counts (railwatch_probe_transport_total) and what it
    /// holds (railwatch_probe_transport_held), read from `stats` at each scrape; `stats` must stay
    /// callable until the EngineMetrics is destroyed. Called once, while the engine is set up (not
    /// thread-safe).
    void WatchProbeTransport(std::function<net::ProbeTransportStats()> stats);

  private:
    /// A capacity report for one family's samples. The three families of a scrape share one
    /// report: a report serves three reads, then the next read takes a new one. Scrapes running
    /// at once may share a report taken during either; every read sees one taken during a scrape
    /// in progress, never an older one.
    std::shared_ptr<const monitor::CapacityReport> CapacityForScrape();

    util::MetricsRegistry& registry_;
    std::function<monitor::CapacityReport()> capacity_;
    std::mutex capacity_mutex_;
    std::shared_ptr<const monitor::CapacityReport> capacity_report_;  // guarded by capacity_mutex_
    int capacity_reads_left_ = 0;                                     // guarded by capacity_mutex_
    util::Counter& checks_;
    util::Counter& check_errors_;
    util::Histogram& request_seconds_;
    util::Histogram& delay_seconds_;
    util::CounterFamily& transitions_;
    util::CounterFamily& probes_;
    util::Histogram& probe_seconds_;
    util::CounterFamily& deliveries_;
    util::HistogramFamily& delivery_seconds_;
    std::vector<util::MetricCallback> callbacks_;
};

}  // namespace railwatch::app
