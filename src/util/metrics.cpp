#include "util/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace railwatch::util {
namespace {

bool ValidMetricName(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

bool ValidLabelName(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return 1;
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((b0 & 0xE0) == 0xC0) {
        n = 2;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4;
        cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

// The text format is UTF-8: a label value that is not (it came from outside) gets U+FFFD for
// each bad byte instead of making the whole exposition unreadable.
std::string RepairUtf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = Utf8SequenceLength(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s, i, n);
            i += n;
        }
    }
    return out;
}

std::string EscapeHelp(std::string_view help) {
    std::string out;
    out.reserve(help.size());
    for (char c : RepairUtf8(help)) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void AppendUnsigned(std::string& out, std::uint64_t value) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void AppendDouble(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        char buffer[32];
        const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
        out.append(buffer, result.ptr);
    }
}

// NAME{LABELS} or NAME when there are no labels; `extra` is appended inside the braces
// (a histogram's le="…").
void AppendSeriesName(std::string& out, std::string_view name, std::string_view suffix, std::string_view labels,
                      std::string_view extra = {}) {
    out += name;
    out += suffix;
    if (labels.empty() && extra.empty()) return;
    out.push_back('{');
    out += labels;
    if (!labels.empty() && !extra.empty()) out.push_back(',');
    out += extra;
    out.push_back('}');
}

std::vector<std::string> CheckLabelNames(std::string_view family, std::vector<std::string> names, bool histogram) {
    std::set<std::string_view> seen;
    for (const auto& label : names) {
        if (!ValidLabelName(label) || label.starts_with("__")) {
            throw std::invalid_argument("metric " + std::string(family) + ": label name \"" + label +
                                        "\" must match [a-zA-Z_][a-zA-Z0-9_]* and not start with \"__\"");
        }
        if (histogram && label == "le") {
            throw std::invalid_argument("metric " + std::string(family) +
                                        ": a histogram may not have a label named \"le\"");
        }
        if (!seen.insert(label).second) {
            throw std::invalid_argument("metric " + std::string(family) + ": label \"" + label + "\" appears twice");
        }
    }
    return names;
}

}  // namespace

std::string FormatMetricValue(double value) {
    std::string out;
    AppendDouble(out, value);
    return out;
}

std::string EscapeLabelValue(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 2);
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::vector<double> DefaultLatencyBuckets() {
    return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// --- Histogram ------------------------------------------------------------------------------

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds), buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds.size() + 1)) {}

void Histogram::Observe(double value) {
    // lower_bound: the first bound ≥ value, since a bucket's bound is inclusive ("le"). NaN
    // compares false everywhere; send it to +Inf explicitly, as the Go client does.
    const std::size_t index =
        std::isnan(value)
            ? bounds_.size()
            : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    buckets_[index].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Reading Histogram::Read() const {
    Reading reading;
    reading.cumulative.reserve(bounds_.size() + 1);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        running += buckets_[i].load(std::memory_order_relaxed);
        reading.cumulative.push_back(running);
    }
    reading.sum = sum_.load(std::memory_order_relaxed);
    return reading;
}

// --- families -------------------------------------------------------------------------------

namespace metrics_detail {

FamilyBase::FamilyBase(std::string name, std::string help, std::string_view type, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), type_(type), label_names_(std::move(label_names)) {
    help_ = EscapeHelp(help_);
}

void FamilyBase::Render(std::string& out) const {
    out += "# HELP ";
    out += name_;
    out.push_back(' ');
    out += help_;
    out += "\n# TYPE ";
    out += name_;
    out.push_back(' ');
    out += type_;
    out.push_back('\n');
    RenderSamples(out);
}

std::string FamilyBase::LabelText(std::span<const std::string> values) const {
    std::vector<std::string_view> views(values.begin(), values.end());
    return LabelText(std::span<const std::string_view>(views));
}

std::string FamilyBase::LabelText(std::span<const std::string_view> values) const {
    if (values.size() != label_names_.size()) {
        throw std::invalid_argument("metric " + name_ + ": " + std::to_string(values.size()) + " label values for " +
                                    std::to_string(label_names_.size()) + " label names");
    }
    std::string text;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) text.push_back(',');
        text += label_names_[i];
        text += "=\"";
        text += EscapeLabelValue(RepairUtf8(values[i]));
        text.push_back('"');
    }
    return text;
}

}  // namespace metrics_detail

template <typename Metric>
void MetricFamily<Metric>::RenderSamples(std::string& out) const {
    series_.ForEach([&](const std::string& labels, const Metric& metric) {
        AppendSeriesName(out, name_, {}, labels);
        out.push_back(' ');
        if constexpr (std::is_same_v<Metric, Counter>) {
            AppendUnsigned(out, metric.Value());
        } else {
            AppendDouble(out, metric.Value());
        }
        out.push_back('\n');
    });
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;

HistogramFamily::HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                                 std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), "histogram", std::move(label_names)), bounds_(std::move(bounds)) {
    for (double bound : bounds_)
        bound_text_.push_back("le=\"" + FormatMetricValue(bound) + "\"");
    bound_text_.push_back("le=\"+Inf\"");
}

Histogram& HistogramFamily::WithLabels(std::span<const std::string_view> values) {
    return series_.Find(LabelText(values), [this] { return std::make_unique<Histogram>(bounds_); });
}

Histogram& HistogramFamily::WithLabels(const std::vector<std::string>& values) {
    return series_.Find(LabelText(std::span<const std::string>(values)),
                        [this] { return std::make_unique<Histogram>(bounds_); });
}

void HistogramFamily::RenderSamples(std::string& out) const {
    series_.ForEach([&](const std::string& labels, const Histogram& histogram) {
        const Histogram::Reading reading = histogram.Read();
        for (std::size_t i = 0; i < reading.cumulative.size(); ++i) {
            AppendSeriesName(out, name_, "_bucket", labels, bound_text_[i]);
            out.push_back(' ');
            AppendUnsigned(out, reading.cumulative[i]);
            out.push_back('\n');
        }
        AppendSeriesName(out, name_, "_sum", labels);
        out.push_back(' ');
        AppendDouble(out, reading.sum);
        out.push_back('\n');
        AppendSeriesName(out, name_, "_count", labels);
        out.push_back(' ');
        AppendUnsigned(out, reading.Count());
        out.push_back('\n');
    });
}

void CallbackFamily::RenderSamples(std::string& out) const {
    std::vector<std::pair<std::string, double>> samples;
    {
        std::lock_guard lock(mutex_);
        if (!callback_) return;
        for (auto& sample : callback_()) {
            samples.emplace_back(LabelText(std::span<const std::string>(sample.label_values)), sample.value);
        }
    }
    // Same order as the other families (by label text), whatever order the callback used.
    std::sort(samples.begin(), samples.end());
    for (const auto& [labels, value] : samples) {
        AppendSeriesName(out, name_, {}, labels);
        out.push_back(' ');
        AppendDouble(out, value);
        out.push_back('\n');
    }
}

void CallbackFamily::Reset(SampleCallback callback) {
    std::lock_guard lock(mutex_);
    callback_ = std::move(callback);
}

MetricCallback::MetricCallback(MetricCallback&& other) noexcept : family_(std::exchange(other.family_, nullptr)) {}

MetricCallback& MetricCallback::operator=(MetricCallback&& other) noexcept {
    if (this != &other) {
        Reset();
        family_ = std::exchange(other.family_, nullptr);
    }
    return *this;
}

MetricCallback::~MetricCallback() {
    Reset();
}

void MetricCallback::Reset() {
    if (family_ != nullptr) std::exchange(family_, nullptr)->Reset(nullptr);
}

// --- registry -------------------------------------------------------------------------------

template <typename Family, typename Make>
Family& MetricsRegistry::Add(std::string_view type, const std::string& name, std::vector<std::string> label_names,
                             Make&& make) {
    if (!ValidMetricName(name)) {
        throw std::invalid_argument("metric name \"" + name + "\" must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    }
    if (type == "counter" && !name.ends_with("_total")) {
        throw std::invalid_argument("counter " + name + ": a counter's name ends in _total");
    }
    const bool histogram = type == "histogram";
    label_names = CheckLabelNames(name, std::move(label_names), histogram);
    std::vector<std::string> samples = {name};
    if (histogram) samples = {name + "_bucket", name + "_sum", name + "_count"};

    std::lock_guard lock(mutex_);
    if (families_.contains(name)) throw std::invalid_argument("metric " + name + " is registered twice");
    for (const auto& sample : samples) {
        if (auto it = sample_names_.find(sample); it != sample_names_.end()) {
            throw std::invalid_argument(
                fmt::format("metric {}: the name {} is taken by family {}", name, sample, it->second));
        }
    }
    std::unique_ptr<Family> family = make(std::move(label_names));
    Family& ref = *family;
    families_.emplace(name, std::move(family));
    for (auto& sample : samples)
        sample_names_.emplace(std::move(sample), name);
    return ref;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help, std::vector<std::string> label_names) {
    const bool labelled = !label_names.empty();
    auto& family = Add<CounterFamily>("counter", name, std::move(label_names), [&](std::vector<std::string> labels) {
        return std::make_unique<CounterFamily>(name, std::move(help), "counter", std::move(labels));
    });
    // A family without labels has exactly one series; create it so that it shows 0 before the
    // first increment (an absent series and a zero count mean different things to a query).
    if (!labelled) family.Get();
    return family;
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help, std::vector<std::string> label_names) {
    const bool labelled = !label_names.empty();
    auto& family = Add<GaugeFamily>("gauge", name, std::move(label_names), [&](std::vector<std::string> labels) {
        return std::make_unique<GaugeFamily>(name, std::move(help), "gauge", std::move(labels));
    });
    if (!labelled) family.Get();
    return family;
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help, std::vector<double> bounds,
                                               std::vector<std::string> label_names) {
    if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();  // +Inf is implied
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
            throw std::invalid_argument("histogram " + name + ": bucket bounds must be finite and strictly increasing");
        }
    }
    const bool labelled = !label_names.empty();
    auto& family =
        Add<HistogramFamily>("histogram", name, std::move(label_names), [&](std::vector<std::string> labels) {
            return std::make_unique<HistogramFamily>(name, std::move(help), std::move(labels), std::move(bounds));
        });
    if (!labelled) family.Get();
    return family;
}

MetricCallback MetricsRegistry::AddCallbackGauge(std::string name, std::string help,
                                                 std::vector<std::string> label_names, SampleCallback callback) {
    auto& family = Add<CallbackFamily>("gauge", name, std::move(label_names), [&](std::vector<std::string> labels) {
        return std::make_unique<CallbackFamily>(name, std::move(help), "gauge", std::move(labels));
    });
    family.Reset(std::move(callback));
    return MetricCallback(&family);
}

MetricCallback MetricsRegistry::AddCallbackGauge(std::string name, std::string help, std::function<double()> read) {
    return AddCallbackGauge(std::move(name), std::move(help), {}, [read = std::move(read)] {
        return std::vector<MetricSample>{MetricSample{{}, read()}};
    });
}

MetricCallback MetricsRegistry::AddCallbackCounter(std::string name, std::string help,
                                                   std::vector<std::string> label_names, SampleCallback callback) {
    auto& family = Add<CallbackFamily>("counter", name, std::move(label_names), [&](std::vector<std::string> labels) {
        return std::make_unique<CallbackFamily>(name, std::move(help), "counter", std::move(labels));
    });
    family.Reset(std::move(callback));
    return MetricCallback(&family);
}

std::string MetricsRegistry::Render() const {
    std::vector<const metrics_detail::FamilyBase*> families;
    {
        std::lock_guard lock(mutex_);
        families.reserve(families_.size());
        for (const auto& [name, family] : families_)
            families.push_back(family.get());
    }
    // Families are never removed, so rendering outside the registry lock is safe and keeps
    // registration (and callbacks that might register) from waiting on a slow scrape.
    std::string out;
    for (const auto* family : families)
        family->Render(out);
    return out;
}

}  // namespace railwatch::util
