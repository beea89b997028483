#include "util/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <thread>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::util {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Metrics, RendersEveryTypeExactlyAsTheTextFormatSays) {
    MetricsRegistry registry;
    auto& checks = registry.AddCounter("railwatch_checks_total", "Status checks made", {"outcome"});
    checks.WithLabels({"ok"}).Increment(41);
    checks.WithLabels({"ok"}).Increment();
    checks.WithLabels({"error"}).Increment();
    registry.AddGauge("railwatch_queue_length", "Instances waiting").Get().Set(3.5);
    auto& latency = registry.AddHistogram("railwatch_check_seconds", "Check latency", {0.25, 1, 2.5});
    latency.Get().Observe(0.0625);
    latency.Get().Observe(0.25);  // bounds are inclusive
    latency.Get().Observe(2);
    latency.Get().Observe(30);
    auto callback = registry.AddCallbackGauge("railwatch_budget_remaining", "Requests left", {"window"}, [] {
        return std::vector<MetricSample>{{{"second"}, 10}, {{"hour"}, 999.5}};
    });

    EXPECT_EQ(registry.Render(),
              "# HELP railwatch_budget_remaining Requests left\n"
              "# TYPE railwatch_budget_remaining gauge\n"
              "railwatch_budget_remaining{window=\"hour\"} 999.5\n"
              "railwatch_budget_remaining{window=\"second\"} 10\n"
              "# HELP railwatch_check_seconds Check latency\n"
              "# TYPE railwatch_check_seconds histogram\n"
              "railwatch_check_seconds_bucket{le=\"0.25\"} 2\n"
              "railwatch_check_seconds_bucket{le=\"1\"} 2\n"
              "railwatch_check_seconds_bucket{le=\"2.5\"} 3\n"
              "railwatch_check_seconds_bucket{le=\"+Inf\"} 4\n"
              "railwatch_check_seconds_sum 32.3125\n"
              "railwatch_check_seconds_count 4\n"
              "# HELP railwatch_checks_total Status checks made\n"
              "# TYPE railwatch_checks_total counter\n"
              "railwatch_checks_total{outcome=\"error\"} 1\n"
              "railwatch_checks_total{outcome=\"ok\"} 42\n"
              "# HELP railwatch_queue_length Instances waiting\n"
              "# TYPE railwatch_queue_length gauge\n"
              "railwatch_queue_length 3.5\n");
}

TEST(Metrics, HistogramWithLabelsPutsLeLastAndInfEqualsCount) {
    MetricsRegistry registry;
    auto& h = registry.AddHistogram("rw_latency_seconds", "x", {1, 2}, {"kind"});
    for (double v : {0.5, 1.5, 1.5, 7.0})
        h.WithLabels({"build"}).Observe(v);
    const std::string text = registry.Render();
    EXPECT_THAT(text, HasSubstr("rw_latency_seconds_bucket{kind=\"build\",le=\"1\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("rw_latency_seconds_bucket{kind=\"build\",le=\"2\"} 3\n"));
    EXPECT_THAT(text, HasSubstr("rw_latency_seconds_bucket{kind=\"build\",le=\"+Inf\"} 4\n"));
    EXPECT_THAT(text, HasSubstr("rw_latency_seconds_count{kind=\"build\"} 4\n"));
    EXPECT_THAT(text, HasSubstr("rw_latency_seconds_sum{kind=\"build\"} 10.5\n"));
    const auto reading = h.WithLabels({"build"}).Read();
    EXPECT_EQ(reading.Count(), 4u);
}

TEST(Metrics, EscapesBackslashQuoteAndNewlineInLabelValuesAndHelp) {
    MetricsRegistry registry;
    registry.AddGauge("rw_g", "line one\nback\\slash", {"v"}).WithLabels({"a\\b\"c\nd"}).Set(1);
    EXPECT_EQ(registry.Render(),
              "# HELP rw_g line one\\nback\\\\slash\n"
              "# TYPE rw_g gauge\n"
              "rw_g{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Metrics, InvalidUtf8InALabelValueBecomesReplacementCharacters) {
    MetricsRegistry registry;
    registry.AddGauge("rw_g", "x", {"v"}).WithLabels({std::string_view("ok\xC3\xA9\xFF\xC0\xAF", 7)}).Set(1);
    EXPECT_THAT(registry.Render(), HasSubstr("rw_g{v=\"ok\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n"));
}

TEST(Metrics, NumbersAreShortestRoundTripAndLocaleFree) {
    EXPECT_EQ(FormatMetricValue(0.1), "0.1");
    EXPECT_EQ(FormatMetricValue(42), "42");
    EXPECT_EQ(FormatMetricValue(-3.25), "-3.25");
    EXPECT_EQ(FormatMetricValue(1e-5), "1e-05");
    EXPECT_EQ(FormatMetricValue(1.0 / 3), "0.3333333333333333");
    EXPECT_EQ(FormatMetricValue(1e21), "1e+21");
    EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
    EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
    const double awkward = 0.1 + 0.2;
    EXPECT_EQ(std::stod(FormatMetricValue(awkward)), awkward);
}

TEST(Metrics, FamiliesWithoutLabelsShowZeroBeforeTheFirstUpdate) {
    MetricsRegistry registry;
    registry.AddCounter("rw_events_total", "x");
    registry.AddCounter("rw_labelled_total", "y", {"k"});
    const std::string text = registry.Render();
    EXPECT_THAT(text, HasSubstr("\nrw_events_total 0\n"));
    // A labelled family has no series until one is used; HELP and TYPE still appear once.
    EXPECT_THAT(text, HasSubstr("# TYPE rw_labelled_total counter\n"));
    EXPECT_THAT(text, Not(HasSubstr("rw_labelled_total{")));
}

TEST(Metrics, RegistrationMistakesThrow) {
    MetricsRegistry registry;
    EXPECT_THROW(registry.AddCounter("rw_requests", "no _total"), std::invalid_argument);
    EXPECT_THROW(registry.AddGauge("9bad", "x"), std::invalid_argument);
    EXPECT_THROW(registry.AddGauge("rw-dash", "x"), std::invalid_argument);
    EXPECT_THROW(registry.AddGauge("rw_g", "x", {"bad-label"}), std::invalid_argument);
    EXPECT_THROW(registry.AddGauge("rw_g", "x", {"__reserved"}), std::invalid_argument);
    EXPECT_THROW(registry.AddGauge("rw_g", "x", {"a", "a"}), std::invalid_argument);
    EXPECT_THROW(registry.AddHistogram("rw_h", "x", {1, 2}, {"le"}), std::invalid_argument);
    EXPECT_THROW(registry.AddHistogram("rw_h", "x", {2, 1}), std::invalid_argument);
    EXPECT_THROW(registry.AddHistogram("rw_h", "x", {1, std::nan("")}), std::invalid_argument);
    registry.AddGauge("rw_g", "x");
    EXPECT_THROW(registry.AddGauge("rw_g", "again"), std::invalid_argument);
    registry.AddHistogram("rw_h", "x", {1});
    EXPECT_THROW(registry.AddGauge("rw_h_count", "collides with the histogram's samples"), std::invalid_argument);
    auto& family = registry.AddCounter("rw_c_total", "x", {"a", "b"});
    EXPECT_THROW(family.WithLabels({"only one"}), std::invalid_argument);
}

TEST(Metrics, SameLabelValuesGiveTheSameSeries) {
    MetricsRegistry registry;
    auto& family = registry.AddCounter("rw_c_total", "x", {"a"});
    Counter& first = family.WithLabels({"v"});
    Counter& again = family.WithLabels(std::vector<std::string>{"v"});
    EXPECT_EQ(&first, &again);
    EXPECT_NE(&first, &family.WithLabels({"w"}));
}

TEST(Metrics, DroppingACallbackHandleRemovesItsSamples) {
    MetricsRegistry registry;
    double value = 7;
    {
        auto handle = registry.AddCallbackGauge("rw_cb", "x", [&value] { return value; });
        EXPECT_THAT(registry.Render(), HasSubstr("\nrw_cb 7\n"));
        value = 8;
        EXPECT_THAT(registry.Render(), HasSubstr("\nrw_cb 8\n"));
    }
    const std::string text = registry.Render();
    EXPECT_THAT(text, HasSubstr("# TYPE rw_cb gauge\n"));
    EXPECT_THAT(text, Not(HasSubstr("\nrw_cb ")));
}

TEST(Metrics, CallbackCountersRenderAsCounters) {
    MetricsRegistry registry;
    auto handle = registry.AddCallbackCounter("rw_sent_total", "x", {}, [] {
        return std::vector<MetricSample>{{{}, 12}};
    });
    EXPECT_THAT(registry.Render(), HasSubstr("# TYPE rw_sent_total counter\nrw_sent_total 12\n"));
}

TEST(Metrics, ConcurrentUpdatesAreAllCounted) {
    MetricsRegistry registry;
    Counter& counter = registry.AddCounter("rw_c_total", "x").Get();
    Gauge& gauge = registry.AddGauge("rw_g", "x").Get();
    Histogram& histogram = registry.AddHistogram("rw_h", "x", {0.5}).Get();
    constexpr int kPerThread = 100'000;
    auto work = [&] {
        for (int i = 0; i < kPerThread; ++i) {
            counter.Increment();
            gauge.Add(1);
            histogram.Observe(i % 2 == 0 ? 0.25 : 1.0);
        }
    };
    std::thread a(work);
    std::thread b(work);
    a.join();
    b.join();
    EXPECT_EQ(counter.Value(), 2u * kPerThread);
    EXPECT_EQ(gauge.Value(), 2.0 * kPerThread);
    const auto reading = histogram.Read();
    EXPECT_EQ(reading.Count(), 2u * kPerThread);
    EXPECT_EQ(reading.cumulative[0], static_cast<std::uint64_t>(kPerThread));
    EXPECT_EQ(reading.sum, kPerThread * 0.25 + kPerThread * 1.0);
}

TEST(Metrics, PromtoolAcceptsARegistryWithEveryTypeAndAwkwardLabels) {
    MetricsRegistry registry;
    auto& counter =
        registry.AddCounter("railwatch_notifications_total", "Notifications sent, by channel", {"channel", "note"});
    counter.WithLabels({"email", ""}).Increment(3);
    counter.WithLabels({"webhook", "quote \" backslash \\ newline \n end"}).Increment();
    counter.WithLabels({"in_app", "unicode: é ✓ 🚀"}).Increment(2);
    counter.WithLabels({"slack", std::string_view("bad utf8 \xFF", 10)}).Increment();
    registry.AddGauge("railwatch_instances", "Instances by status", {"status"}).WithLabels({"RUNNING"}).Set(12);
    registry.AddGauge("railwatch_temperature_celsius", "A negative, fractional gauge").Get().Set(-0.125);
    auto& latency = registry.AddHistogram("railwatch_check_duration_seconds", "Status check latency",
                                          DefaultLatencyBuckets(), {"operation"});
    for (double v : {0.001, 0.02, 0.3, 4.0, 12.0})
        latency.WithLabels({"status"}).Observe(v);
    latency.WithLabels({"logs {with} braces, and = signs"}).Observe(0.2);
    auto gauge_cb =
        registry.AddCallbackGauge("railwatch_budget_remaining", "Requests left, per window", {"window"}, [] {
            return std::vector<MetricSample>{{{"hour"}, 950}, {{"second"}, 9.5}};
        });
    auto counter_cb = registry.AddCallbackCounter("railwatch_rate_limited_total", "429 answers", {}, [] {
        return std::vector<MetricSample>{{{}, 4}};
    });

    test::TempDir dir;
    const std::string file = dir.File("metrics.txt");
    std::ofstream(file, std::ios::binary) << registry.Render();
    const auto result = test::RunCommand({"sh", "-c", "promtool check metrics < '" + file + "'"});
    ASSERT_FALSE(result.status.timed_out);
    EXPECT_TRUE(result.status.Ok()) << result.status.Describe() << "\n"
                                    << result.output << "\n(promtool is Debian's `prometheus` package; "
                                    << "scripts/install-deps.sh installs it)";
    EXPECT_EQ(result.output, "");
}

}  // namespace
}  // namespace railwatch::util
