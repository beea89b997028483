#include "app/engine_metrics.hpp"

#include <string>

#include "core/time.hpp"
#include "net/probe_transport.hpp"

namespace railwatch::app {

namespace {

// The families that show the capacity report (railwatch_instances, railwatch_engine_capacity,
// railwatch_engine_effective_interval_seconds): each reads it once per scrape.
constexpr int kCapacityFamilies = 3;

// How late checks run, seconds: from "on time" to "five minutes behind".
std::vector<double> DelayBuckets() {
    return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
}

std::string_view OutcomeOf(const notify::DeliveryReport& report) {
    if (report.lease_lost) return "lease_lost";
    if (report.dead) return "dead";
    if (report.retry_at) return "retry";
    return "sent";
}

}  // namespace

EngineMetrics::EngineMetrics(util::MetricsRegistry& registry, std::function<monitor::CapacityReport()> capacity)
    : registry_(registry),
      capacity_(std::move(capacity)),
      checks_(registry.AddCounter("railwatch_checks_total", "Deployment status checks answered").Get()),
      check_errors_(registry
                        .AddCounter("railwatch_check_errors_total",
                                    "Status checks answered with an error (the deployment's own or the request's)")
                        .Get()),
      request_seconds_(registry
                           .AddHistogram("railwatch_check_request_seconds",
                                         "Time of one batched status request to Railway, retries included",
                                         util::DefaultLatencyBuckets())
                           .Get()),
      delay_seconds_(registry
                         .AddHistogram("railwatch_check_delay_seconds",
                                       "How long after its due time each instance was checked", DelayBuckets())
                         .Get()),
      transitions_(registry.AddCounter("railwatch_transitions_total",
                                       "Status transitions recorded, by the Railway status entered", {"to_status"})),
      probes_(registry.AddCounter("railwatch_probes_total", "HTTP health probes of running services, by result",
                                  {"result"})),
      probe_seconds_(registry
                         .AddHistogram("railwatch_probe_seconds", "Time of one answered health probe",
                                       util::DefaultLatencyBuckets())
                         .Get()),
      deliveries_(registry.AddCounter("railwatch_deliveries_total",
                                      "Notification delivery attempts, by channel and outcome "
                                      "(sent, retry, dead, lease_lost)",
                                      {"channel", "outcome"})),
      delivery_seconds_(registry.AddHistogram("railwatch_delivery_seconds", "Time of one delivery attempt",
                                              util::DefaultLatencyBuckets(), {"channel"})) {
    // One capacity report per scrape, not per family: each report walks the engine's fleet under
    // the monitor's lock, which the engine's own threads need.
    callbacks_.push_back(registry_.AddCallbackGauge("railwatch_instances",
                                                    "Instances the engine follows, by the Railway status it last saw",
                                                    {"deployment_status"}, [this] {
                                                        const auto report = CapacityForScrape();
                                                        std::vector<util::MetricSample> samples;
                                                        for (const auto& [status, count] : report->by_status)
                                                            samples.push_back({{status}, static_cast<double>(count)});
                                                        return samples;
                                                    }));
    callbacks_.push_back(registry_.AddCallbackGauge("railwatch_engine_capacity", "The fleet against the token's budget",
                                                    {"measure"}, [this] {
                                                        const auto report = CapacityForScrape();
                                                        return std::vector<util::MetricSample>{
                                                            {{"monitored"}, static_cast<double>(report->monitored)},
                                                            {{"capacity"}, static_cast<double>(report->capacity)},
                                                            {{"stretch"}, report->stretch},
                                                            {{"requests_per_hour"}, report->requests_per_hour},
                                                            {{"requests_per_second"}, report->requests_per_second},
                                                            {{"shared_by"}, static_cast<double>(report->shared_by)},
                                                            {{"batch_size"}, static_cast<double>(report->batch_size)},
                                                        };
                                                    }));
    callbacks_.push_back(registry_.AddCallbackGauge(
        "railwatch_engine_effective_interval_seconds",
        "The check interval per Railway status after the budget's stretching", {"deployment_status"}, [this] {
            const auto report = CapacityForScrape();
            std::vector<util::MetricSample> samples;
            for (const auto& [status, seconds] : report->effective_interval_s)
                samples.push_back({{status}, seconds});
            return samples;
        }));
}

std::shared_ptr<const monitor::CapacityReport> EngineMetrics::CapacityForScrape() {
    std::lock_guard lock(capacity_mutex_);
    if (capacity_reads_left_ == 0 || !capacity_report_) {
        capacity_report_ = std::make_shared<const monitor::CapacityReport>(capacity_());
        capacity_reads_left_ = kCapacityFamilies;
    }
    --capacity_reads_left_;
    return capacity_report_;
}

void EngineMetrics::OnChecks(const monitor::CheckBatchReport& report) {
    checks_.Increment(report.checked);
    if (report.errors > 0) check_errors_.Increment(report.errors);
    request_seconds_.Observe(core::ToSecondsF(report.request_time));
    for (const core::Duration delay : report.delays)
        delay_seconds_.Observe(core::ToSecondsF(delay));
}

void EngineMetrics::OnTransition(const store::TimelineEvent& event) {
    transitions_.WithLabels({event.to_status}).Increment();
}

void EngineMetrics::OnHealth(const store::HealthCheck& check) {
    probes_.WithLabels({check.ok ? "ok" : "failed"}).Increment();
    if (check.latency_ms) probe_seconds_.Observe(static_cast<double>(*check.latency_ms) / 1000.0);
}

void EngineMetrics::OnDelivery(const notify::DeliveryReport& report) {
    deliveries_.WithLabels({std::string_view(report.channel), OutcomeOf(report)}).Increment();
    delivery_seconds_.WithLabels({report.channel}).Observe(core::ToSecondsF(report.latency));
}

void EngineMetrics::WatchProbeTransport(std::function<net::ProbeTransportStats()> stats) {
    callbacks_.push_back(registry_.AddCallbackCounter(
        "railwatch_probe_transport_total",
        "What the health probes' connections did: connections opened, TLS handshakes and of them "
        "resumed sessions, requests sent on a kept connection, host name lookups, requests sent again "
        "after a kept connection closed under them",
        {"event"}, [stats] {
            const net::ProbeTransportStats s = stats();
            return std::vector<util::MetricSample>{
                {{"connect"}, static_cast<double>(s.connects)},
                {{"tls_handshake"}, static_cast<double>(s.tls_handshakes)},
                {{"tls_resumed"}, static_cast<double>(s.tls_resumed)},
                {{"reused"}, static_cast<double>(s.reused)},
                {{"lookup"}, static_cast<double>(s.lookups)},
                {{"resent"}, static_cast<double>(s.resent)},
            };
        }));
    callbacks_.push_back(registry_.AddCallbackGauge(
        "railwatch_probe_transport_held",
        "What the health probes' transport holds now: hosts (scheme://host:port with a connection open or a "
        "request waiting) and host names (being looked up, or with addresses not expired)",
        {"kind"}, [stats = std::move(stats)] {
            const net::ProbeTransportStats s = stats();
            return std::vector<util::MetricSample>{
                {{"host"}, static_cast<double>(s.hosts_held)},
                {{"name"}, static_cast<double>(s.names_held)},
            };
        }));
}

}  // namespace railwatch::app
