// The engine's and notifier's metric families (app::EngineMetrics): what each report adds, and
// the fleet read at scrape time.
#include "app/engine_metrics.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "net/probe_transport.hpp"

namespace railwatch::app {
namespace {

bool Has(const std::string& text, const std::string& line) {
    return text.find(line + "\n") != std::string::npos;
}

monitor::CapacityReport SampleCapacity() {
    monitor::CapacityReport report;
    report.monitored = 3;
    report.capacity = 900;
    report.stretch = 1.5;
    report.requests_per_hour = 1000;
    report.requests_per_second = 10;
    report.shared_by = 2;
    report.batch_size = 25;
    report.effective_interval_s = {{"BUILDING", 5}, {"SUCCESS", 90}};
    report.by_status = {{"BUILDING", 1}, {"SUCCESS", 2}};
    return report;
}

TEST(EngineMetrics, CountsChecksErrorsAndDelaysOfEachBatch) {
    util::MetricsRegistry registry;
    EngineMetrics metrics(registry, [] { return SampleCapacity(); });
    monitor::CheckBatchReport batch;
    batch.checked = 3;
    batch.errors = 1;
    batch.request_time = core::Millis(40);
    batch.delays = {core::Millis(0), core::Millis(300), core::Seconds(7)};
    metrics.OnChecks(batch);
    metrics.OnChecks(batch);

    const std::string text = registry.Render();
    EXPECT_TRUE(Has(text, "railwatch_checks_total 6")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_errors_total 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_request_seconds_count 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_request_seconds_bucket{le=\"0.05\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_delay_seconds_count 6")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_delay_seconds_bucket{le=\"0.05\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_delay_seconds_bucket{le=\"0.5\"} 4")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_delay_seconds_bucket{le=\"5\"} 4")) << text;
    EXPECT_TRUE(Has(text, "railwatch_check_delay_seconds_bucket{le=\"10\"} 6")) << text;
}

TEST(EngineMetrics, CountsTransitionsByStatusProbesByResultAndDeliveriesByOutcome) {
    util::MetricsRegistry registry;
    EngineMetrics metrics(registry, [] { return SampleCapacity(); });
    store::TimelineEvent event;
    event.to_status = "FAILED";
    metrics.OnTransition(event);
    metrics.OnTransition(event);
    event.to_status = "SUCCESS";
    metrics.OnTransition(event);

    notify::DeliveryReport sent;
    sent.channel = "webhook";
    sent.latency = core::Millis(20);
    notify::DeliveryReport retry = sent;
    retry.retry_at = core::Timestamp{};
    notify::DeliveryReport dead = sent;
    dead.channel = "email";
    dead.dead = true;
    notify::DeliveryReport lost = sent;
    lost.lease_lost = true;
    for (const auto* report : {&sent, &sent, &retry, &dead, &lost})
        metrics.OnDelivery(*report);

    store::HealthCheck passed;
    passed.ok = true;
    passed.latency_ms = 120;
    store::HealthCheck timed_out;  // no answer: no latency to observe
    timed_out.error = "timeout";
    for (const auto* check : {&passed, &passed, &timed_out})
        metrics.OnHealth(*check);

    const std::string text = registry.Render();
    EXPECT_TRUE(Has(text, "railwatch_probes_total{result=\"ok\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probes_total{result=\"failed\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_seconds_count 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_transitions_total{to_status=\"FAILED\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_transitions_total{to_status=\"SUCCESS\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_deliveries_total{channel=\"webhook\",outcome=\"sent\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_deliveries_total{channel=\"webhook\",outcome=\"retry\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_deliveries_total{channel=\"email\",outcome=\"dead\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_deliveries_total{channel=\"webhook\",outcome=\"lease_lost\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_delivery_seconds_count{channel=\"webhook\"} 4")) << text;
}

TEST(EngineMetrics, ReadsTheFleetAndItsCapacityAtEachScrape) {
    util::MetricsRegistry registry;
    std::atomic<int> reads{0};
    monitor::CapacityReport capacity = SampleCapacity();
    EngineMetrics metrics(registry, [&] {
        ++reads;
        return capacity;
    });
    std::string text = registry.Render();
    EXPECT_TRUE(Has(text, "railwatch_instances{deployment_status=\"BUILDING\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_instances{deployment_status=\"SUCCESS\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"monitored\"} 3")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"capacity\"} 900")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"stretch\"} 1.5")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"shared_by\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"batch_size\"} 25")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_effective_interval_seconds{deployment_status=\"SUCCESS\"} 90")) << text;
    EXPECT_EQ(reads.load(), 1);  // one fleet walk per scrape, shared by the three families

    capacity.by_status["SUCCESS"] = 5;
    capacity.stretch = 2;
    text = registry.Render();
    EXPECT_TRUE(Has(text, "railwatch_instances{deployment_status=\"SUCCESS\"} 5")) << text;
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"stretch\"} 2")) << text;
    EXPECT_EQ(reads.load(), 2);
}

TEST(EngineMetrics, ConcurrentScrapesTakeOneReportEachAndLeaveNoneHalfUsed) {
    util::MetricsRegistry registry;
    std::atomic<int> reads{0};
    EngineMetrics metrics(registry, [&] {
        monitor::CapacityReport report = SampleCapacity();
        report.monitored = ++reads;
        return report;
    });
    std::vector<std::thread> scrapers;
    scrapers.reserve(4);
    for (int t = 0; t < 4; ++t) {
        scrapers.emplace_back([&] {
            for (int n = 0; n < 50; ++n)
                registry.Render();
        });
    }
    for (auto& t : scrapers)
        t.join();
    const int reads_before = reads.load();
    EXPECT_EQ(reads_before, 4 * 50);
    // Once every scrape is over, no report is left half used: the next scrape takes a new one.
    const std::string text = registry.Render();
    EXPECT_EQ(reads.load(), reads_before + 1);
    EXPECT_TRUE(Has(text, "railwatch_engine_capacity{measure=\"monitored\"} " + std::to_string(reads_before + 1)))
        << text;
}

TEST(EngineMetrics, ReadsTheProbeTransportsCountsAtEachScrapeOnceWatched) {
    util::MetricsRegistry registry;
    EngineMetrics metrics(registry, [] { return SampleCapacity(); });
    EXPECT_EQ(registry.Render().find("railwatch_probe_transport"), std::string::npos);  // probes off
    net::ProbeTransportStats stats;
    stats.connects = 3;
    stats.tls_handshakes = 2;
    stats.tls_resumed = 1;
    stats.reused = 40;
    stats.lookups = 5;
    metrics.WatchProbeTransport([&stats] { return stats; });
    std::string text = registry.Render();
    EXPECT_TRUE(Has(text, "# TYPE railwatch_probe_transport_total counter")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"connect\"} 3")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"tls_handshake\"} 2")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"tls_resumed\"} 1")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"reused\"} 40")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"lookup\"} 5")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"resent\"} 0")) << text;
    EXPECT_TRUE(Has(text, "# TYPE railwatch_probe_transport_held gauge")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_held{kind=\"host\"} 0")) << text;
    stats.resent = 7;
    stats.hosts_held = 12;
    stats.names_held = 4;
    text = registry.Render();
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_total{event=\"resent\"} 7")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_held{kind=\"host\"} 12")) << text;
    EXPECT_TRUE(Has(text, "railwatch_probe_transport_held{kind=\"name\"} 4")) << text;
}

TEST(EngineMetrics, ASecondSetOnOneRegistryIsRefused) {
    util::MetricsRegistry registry;
    EngineMetrics first(registry, [] { return SampleCapacity(); });
    EXPECT_THROW(EngineMetrics(registry, [] { return SampleCapacity(); }), std::invalid_argument);
}

}  // namespace
}  // namespace railwatch::app
