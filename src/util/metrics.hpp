#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/// Metrics any module may own (counters, gauges, histograms with label sets) and their rendering
/// as Prometheus text exposition 0.0.4 (docs/CONFIG.md, "Metrics"). The composition root owns the
/// one MetricsRegistry of a process and hands it to the components that register families; the
/// API serves Render() at /metrics.
///
///   MetricsRegistry registry;
///   Counter& sent = registry.AddCounter("railwatch_x_total", "What it counts", {"kind"}).WithLabels({"a"});
///   sent.Increment();                      // hot path: one relaxed atomic add, no lock
///   std::string text = registry.Render();  // HELP/TYPE once per family, families sorted by name
namespace railwatch::util {

/// The Content-Type of Render()'s output.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

/// A count that only goes up (events, requests, errors). Thread-safe; Increment is one relaxed
/// atomic add. Owned by its family; references stay valid for the registry's lifetime.
class Counter {
  public:
    void Increment(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    // Own cache line: counters of different series incremented by different threads must not
    // share one (false sharing would make unrelated increments contend).
    alignas(64) std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down (queue length, instances per status). Thread-safe; Set is one
/// atomic store, Add a compare-and-swap loop.
class Gauge {
  public:
    void Set(double value) { value_.store(value, std::memory_order_relaxed); }
    void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
    double Value() const { return value_.load(std::memory_order_relaxed); }

  private:
    alignas(64) std::atomic<double> value_{0};
};

/// Observations counted into fixed buckets (upper bounds, inclusive), plus their sum and count.
/// Thread-safe; Observe is a binary search over the bounds, one atomic add to a bucket and one
/// compare-and-swap on the sum.
class Histogram {
  public:
    /// `bounds` are strictly increasing and finite (MetricsRegistry::AddHistogram checks them)
    /// and must outlive the histogram.
    explicit Histogram(std::span<const double> bounds);

    /// Counts `value` in the first bucket whose bound is ≥ it (NaN counts in +Inf only).
    void Observe(double value);

    /// A consistent-enough reading: `cumulative[i]` counts observations ≤ bounds[i], the last entry
    /// (+Inf) counts all of them and is the count, so +Inf == count by construction. `sum` may lag
    /// the buckets by observations in progress.
    struct Reading {
        std::vector<std::uint64_t> cumulative;  ///< one per bound, then +Inf
        double sum = 0;
        std::uint64_t Count() const { return cumulative.empty() ? 0 : cumulative.back(); }
    };
    Reading Read() const;

  private:
    std::span<const double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
    alignas(64) std::atomic<double> sum_{0};
};

/// Bounds for latencies in seconds, 5 ms to 10 s (Prometheus client libraries' defaults).
std::vector<double> DefaultLatencyBuckets();

/// One sample a callback family reports at scrape time: label values (one per label name, in
/// order) and the value.
struct MetricSample {
    std::vector<std::string> label_values;
    double value = 0;
};

/// Reads the current samples of a callback family. Runs on the thread that renders, under the
/// family's lock: it must be thread-safe, quick, and must not call back into the registry.
using SampleCallback = std::function<std::vector<MetricSample>()>;

class MetricsRegistry;

namespace metrics_detail {

/// What every family shares: name, help, type, label names, and how it renders.
class FamilyBase {
  public:
    FamilyBase(std::string name, std::string help, std::string_view type, std::vector<std::string> label_names);
    virtual ~FamilyBase() = default;
    FamilyBase(const FamilyBase&) = delete;
    FamilyBase& operator=(const FamilyBase&) = delete;

    const std::string& name() const { return name_; }
    /// Appends the family (HELP, TYPE, samples) to `out`.
    void Render(std::string& out) const;

  protected:
    /// Appends the samples (no HELP/TYPE).
    virtual void RenderSamples(std::string& out) const = 0;
    /// The label pairs of a series, rendered once (`a="x",b="y"`, escaped); checks the count
    /// and repairs invalid UTF-8. Throws std::invalid_argument when the count is wrong.
    std::string LabelText(std::span<const std::string> values) const;
    /// LabelText for string_views.
    std::string LabelText(std::span<const std::string_view> values) const;

    std::string name_;
    std::string help_;
    std::string_view type_;
    std::vector<std::string> label_names_;
};

/// The series of one family, by label values, created on first use.
template <typename Metric>
class SeriesMap {
  public:
    template <typename Make>
    Metric& Find(std::string key, Make&& make) {
        std::lock_guard lock(mutex_);
        auto it = series_.find(key);
        if (it == series_.end()) it = series_.emplace(std::move(key), make()).first;
        return *it->second;
    }
    template <typename Visit>
    void ForEach(Visit&& visit) const {
        std::lock_guard lock(mutex_);
        for (const auto& [labels, metric] : series_)
            visit(labels, *metric);
    }

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<Metric>> series_;  // by rendered label text; guarded by mutex_
};

}  // namespace metrics_detail

/// A family of counters or gauges sharing a name and label names; one series per set of label
/// values. Thread-safe. WithLabels takes a lock: look a series up once and keep the reference
/// (it stays valid as long as the registry).
template <typename Metric>
class MetricFamily final : public metrics_detail::FamilyBase {
  public:
    using FamilyBase::FamilyBase;

    /// The series with these label values (one per label name, in order), created at 0 on first
    /// use. Throws std::invalid_argument when the number of values is wrong (a programming error).
    Metric& WithLabels(std::initializer_list<std::string_view> values) {
        return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
    }
    Metric& WithLabels(std::span<const std::string_view> values) {
        return series_.Find(LabelText(values), [] { return std::make_unique<Metric>(); });
    }
    Metric& WithLabels(const std::vector<std::string>& values) {
        return series_.Find(LabelText(std::span<const std::string>(values)), [] { return std::make_unique<Metric>(); });
    }
    /// The one series of a family without labels.
    Metric& Get() { return WithLabels(std::span<const std::string_view>()); }

  private:
    void RenderSamples(std::string& out) const override;

    metrics_detail::SeriesMap<Metric> series_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;

/// A family of histograms sharing a name, label names and bucket bounds. Thread-safe; see
/// MetricFamily for WithLabels.
class HistogramFamily final : public metrics_detail::FamilyBase {
  public:
    HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                    std::vector<double> bounds);

    Histogram& WithLabels(std::initializer_list<std::string_view> values) {
        return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
    }
    Histogram& WithLabels(std::span<const std::string_view> values);
    Histogram& WithLabels(const std::vector<std::string>& values);
    Histogram& Get() { return WithLabels(std::span<const std::string_view>()); }

    const std::vector<double>& bounds() const { return bounds_; }

  private:
    void RenderSamples(std::string& out) const override;

    std::vector<double> bounds_;
    std::vector<std::string> bound_text_;  // `le` values, formatted once
    metrics_detail::SeriesMap<Histogram> series_;
};

/// A family whose samples a callback reports at scrape time (a queue length another object
/// owns, a budget's remaining requests). The callback is dropped when its MetricCallback handle
/// goes away; the family then renders without samples.
class CallbackFamily final : public metrics_detail::FamilyBase {
  public:
    using FamilyBase::FamilyBase;

  private:
    friend class MetricCallback;
    friend class MetricsRegistry;
    void RenderSamples(std::string& out) const override;
    void Reset(SampleCallback callback);

    mutable std::mutex mutex_;  // held while the callback runs, so dropping it waits for a render
    SampleCallback callback_;   // guarded by mutex_
};

/// Keeps a callback family's callback registered; dropping (or destroying) the handle removes
/// the callback, waiting for a render that is running it. Keep it next to what the callback
/// reads, declared after it, so the callback never outlives its data. Move-only.
class [[nodiscard]] MetricCallback {
  public:
    MetricCallback() = default;
    explicit MetricCallback(CallbackFamily* family) : family_(family) {}
    MetricCallback(MetricCallback&& other) noexcept;
    MetricCallback& operator=(MetricCallback&& other) noexcept;
    MetricCallback(const MetricCallback&) = delete;
    MetricCallback& operator=(const MetricCallback&) = delete;
    ~MetricCallback();

    /// Removes the callback now (idempotent).
    void Reset();

  private:
    CallbackFamily* family_ = nullptr;
};

/// The metric families of one process. Thread-safe: families may be added and rendered from any
/// thread; families are never removed, so references to them and their series stay valid for
/// the registry's lifetime (the registry must outlive every component that holds one).
///
/// Registration errors are programming errors and throw std::invalid_argument: a name that is
/// not `[a-zA-Z_:][a-zA-Z0-9_:]*` or is already taken (a histogram also takes NAME_bucket,
/// NAME_sum and NAME_count), a label name that is not `[a-zA-Z_][a-zA-Z0-9_]*`, starts with
/// "__", repeats, or is "le" on a histogram, a counter whose name does not end in `_total`, and
/// histogram bounds that are not finite and strictly increasing.
class MetricsRegistry {
  public:
    MetricsRegistry() = default;
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    CounterFamily& AddCounter(std::string name, std::string help, std::vector<std::string> label_names = {});
    GaugeFamily& AddGauge(std::string name, std::string help, std::vector<std::string> label_names = {});
    /// `bounds`: the upper bounds of the buckets, without +Inf (added on rendering).
    HistogramFamily& AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                  std::vector<std::string> label_names = {});
    /// A gauge family whose samples `callback` reports at each render.
    MetricCallback AddCallbackGauge(std::string name, std::string help, std::vector<std::string> label_names,
                                    SampleCallback callback);
    /// A gauge without labels whose value `read` returns at each render.
    MetricCallback AddCallbackGauge(std::string name, std::string help, std::function<double()> read);
    /// A counter family whose samples `callback` reports at each render (a count another object
    /// keeps, such as requests sent); the values must never go down.
    MetricCallback AddCallbackCounter(std::string name, std::string help, std::vector<std::string> label_names,
                                      SampleCallback callback);

    /// Every family in Prometheus text exposition 0.0.4: families sorted by name, each with
    /// `# HELP` and `# TYPE` once and then its samples (series sorted by label values); numbers
    /// in shortest round-trip form; ends with a newline. Runs the callbacks.
    std::string Render() const;

  private:
    // Checks the names, reserves the family's sample names and stores what `make(label_names)`
    // builds. Throws std::invalid_argument (see the class comment).
    template <typename Family, typename Make>
    Family& Add(std::string_view type, const std::string& name, std::vector<std::string> label_names, Make&& make);

    mutable std::mutex mutex_;
    std::map<std::string, std::unique_ptr<metrics_detail::FamilyBase>, std::less<>> families_;  // guarded by mutex_
    std::map<std::string, std::string, std::less<>> sample_names_;  // sample name → family; guarded by mutex_
};

/// `value` as Prometheus writes numbers: shortest round-trip decimal ("0.1", "1e-05", "42"),
/// "+Inf", "-Inf" or "NaN". Locale-free.
std::string FormatMetricValue(double value);

/// A label value escaped for the text format: `\` → `\\`, `"` → `\"`, newline → `\n`.
std::string EscapeLabelValue(std::string_view value);

}  // namespace railwatch::util
