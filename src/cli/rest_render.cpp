#include "cli/rest_render.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "util/rfc3339.hpp"

namespace railwatch::cli {
namespace {

using nlohmann::json;

constexpr std::size_t kErrorWidth = 48;
constexpr std::size_t kReasonWidth = 60;
constexpr std::size_t kTitleWidth = 60;

/// UTF-8 characters in `text` (bytes that do not continue a sequence).
std::size_t Width(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// The field `name` of `object` as display text: strings as they are, numbers and booleans
/// printed, null / absent / anything else "-".
std::string Text(const json& object, std::string_view name, std::size_t max_width = 0) {
    if (!object.is_object()) return "-";
    auto it = object.find(name);
    if (it == object.end()) return "-";
    if (it->is_string()) return it->get<std::string>().empty() ? "-" : OneLine(it->get<std::string>(), max_width);
    if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
    if (it->is_number_integer()) return std::to_string(it->get<long long>());
    if (it->is_number_float()) {
        const double value = it->get<double>();
        // 800.0 requests per hour reads better as 800.
        if (value == static_cast<double>(static_cast<long long>(value)))
            return std::to_string(static_cast<long long>(value));
        return fmt::format("{:.2f}", value);
    }
    return "-";
}

/// A number field, or nullopt when absent or not a number.
std::optional<double> Number(const json& object, std::string_view name) {
    if (!object.is_object()) return std::nullopt;
    auto it = object.find(name);
    if (it == object.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

/// The age of the RFC 3339 time in `object[name]`, "-" when absent or unreadable.
std::string Age(const json& object, std::string_view name, core::Timestamp now) {
    if (!object.is_object()) return "-";
    auto it = object.find(name);
    if (it == object.end() || !it->is_string()) return "-";
    auto at = util::ParseRfc3339(it->get<std::string>());
    if (!at) return "-";
    return FormatAge(now - *at);
}

/// "2026-01-01T00:00:00Z (5m ago)", or "-".
std::string TimeAndAge(const json& object, std::string_view name, core::Timestamp now) {
    const std::string age = Age(object, name, now);
    if (age == "-") return Text(object, name);
    return fmt::format("{} ({} ago)", Text(object, name), age);
}

std::string Percent(const json& object, std::string_view name) {
    auto value = Number(object, name);
    return value ? fmt::format("{}%", static_cast<long long>(*value)) : "-";
}

std::string Seconds(std::optional<double> seconds) {
    if (!seconds) return "-";
    return FormatAge(std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(*seconds)));
}

/// A duration exactly enough to compare (an interval between checks, a mean): "7.5s", "30s",
/// "1m 15s", "2h 5m"; "-" for none.
std::string PreciseSeconds(std::optional<double> seconds) {
    if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "-";
    if (*seconds < 9.95 && std::abs(*seconds - std::round(*seconds)) >= 0.05) return fmt::format("{:.1f}s", *seconds);
    const long long s = std::llround(*seconds);
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return s % 60 == 0 ? fmt::format("{}m", s / 60) : fmt::format("{}m {}s", s / 60, s % 60);
    return s % 3600 / 60 == 0 ? fmt::format("{}h", s / 3600) : fmt::format("{}h {}m", s / 3600, s % 3600 / 60);
}

/// The instance's own interval, or (null) the per-status intervals of the server's config.
std::string CheckInterval(const json& instance) {
    if (instance.is_object() && instance.contains("checkIntervalSeconds") && instance["checkIntervalSeconds"].is_null())
        return "per status (the server's [monitor.intervals])";
    return Seconds(Number(instance, "checkIntervalSeconds"));
}

/// "Label:  value" lines with the values aligned.
std::string RenderFields(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::size_t width = 0;
    for (const auto& [label, value] : fields)
        width = std::max(width, Width(label) + 1);
    std::string out;
    for (const auto& [label, value] : fields) {
        // A line without a label continues the one above (a list of reasons): no colon.
        const std::string padded =
            label.empty() ? std::string(width, ' ') : label + ":" + std::string(width - Width(label) - 1, ' ');
        out += fmt::format("{}  {}\n", padded, value);
    }
    return out;
}

const json& Items(const json& answer) {
    static const json kEmpty = json::array();
    if (answer.is_array()) return answer;
    if (!answer.is_object()) return kEmpty;
    auto it = answer.find("items");
    return it != answer.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace

std::string FormatAge(core::Duration age) {
    const long long s = std::max<long long>(0, core::ToSeconds(age));
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m", s / 60);
    if (s < 86400) return fmt::format("{}h", s / 3600);
    return fmt::format("{}d", s / 86400);
}

std::string OneLine(std::string_view text, std::size_t max_width) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        out.push_back(byte < 0x20 || byte == 0x7f ? ' ' : c);
    }
    if (max_width == 0 || Width(out) <= max_width) return out;
    // Keep max_width - 1 characters, cut on a character boundary, then the ellipsis.
    std::size_t kept = 0;
    std::size_t end = 0;
    for (; end < out.size(); ++end) {
        if ((static_cast<unsigned char>(out[end]) & 0xC0) != 0x80) {
            if (kept == max_width - 1) break;
            ++kept;
        }
    }
    return out.substr(0, end) + "…";
}

std::string RenderTable(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths(headers.size(), 0);
    for (std::size_t i = 0; i < headers.size(); ++i)
        widths[i] = Width(headers[i]);
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < headers.size() && i < row.size(); ++i)
            widths[i] = std::max(widths[i], Width(row[i]));
    }
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t i = 0; i < headers.size(); ++i) {
            const std::string cell = i < cells.size() ? cells[i] : std::string();
            out += cell;
            if (i + 1 < headers.size()) out += std::string(widths[i] - Width(cell) + 2, ' ');
        }
        while (!out.empty() && out.back() == ' ')
            out.pop_back();
        return out + "\n";
    };
    std::string out = line(headers);
    for (const auto& row : rows)
        out += line(row);
    return out;
}

std::string RenderInstances(const json& items, core::Timestamp now) {
    const json& list = Items(items);
    if (list.empty()) return "No instances.\n";
    std::vector<std::vector<std::string>> rows;
    rows.reserve(list.size());
    for (const json& i : list) {
        rows.push_back({Text(i, "id"), Text(i, "projectName"), Text(i, "status"), Text(i, "deploymentStatus"),
                        Percent(i, "progress"), Text(i, "health"),
                        Text(i, "errorType") == "-"
                            ? Text(i, "errorMessage", kErrorWidth)
                            : Text(i, "errorType") + ": " + Text(i, "errorMessage", kErrorWidth),
                        Age(i, "createdAt", now)});
    }
    return RenderTable({"ID", "PROJECT", "STATUS", "DEPLOYMENT STATUS", "PROGRESS", "HEALTH", "ERROR", "AGE"}, rows);
}

// The label of the first of Railway's steps under `step` in `state` ("building image"), or "".
std::string SubstepIn(const json& step, std::string_view state) {
    if (!step.contains("substeps") || !step["substeps"].is_array()) return "";
    for (const json& sub : step["substeps"]) {
        if (Text(sub, "state") == state) return OneLine(Text(sub, "label"));
    }
    return "";
}

// The step list of GET …/progress on one line: each status with what became of it, and the one
// of Railway's steps under it that runs or failed ("Building (failed at building image, 1m 35s)").
std::string StepsLine(const json& progress) {
    if (!progress.is_object() || !progress.contains("steps") || !progress["steps"].is_array() ||
        progress["steps"].empty())
        return "-";
    std::string out;
    for (const json& step : progress["steps"]) {
        if (!out.empty()) out += " → ";
        out += OneLine(Text(step, "label"));
        const std::string state = Text(step, "state");
        const std::string took = PreciseSeconds(Number(step, "durationSeconds"));
        const std::string sub = state == "active" || state == "failed" ? SubstepIn(step, state) : "";
        if (state == "done") {
            if (took != "-") out += " " + took;
        } else if (state == "active") {
            out += sub.empty() ? " (now)" : " (now: " + sub + ")";
        } else if (state == "failed") {
            const std::string where = sub.empty() ? "failed" : "failed at " + sub;
            out += took != "-" ? " (" + where + ", " + took + ")" : " (" + where + ")";
        } else if (state == "pending") {
            out += " (to come)";
        } else {
            out += " (" + OneLine(state) + ")";
        }
    }
    return out;
}

std::string RenderInstance(const json& i, core::Timestamp now, const json& failure, const json& progress) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"ID", Text(i, "id")},
        {"Project", Text(i, "projectName")},
        {"Service", Text(i, "serviceId")},
        {"Environment", Text(i, "environmentId")},
        {"Deployment", Text(i, "deploymentId")},
        {"Status", Text(i, "status")},
        {"Deployment status", Text(i, "deploymentStatus")},
        {"Progress", Percent(i, "progress")},
        {"Steps", StepsLine(progress)},
        {"Health", Text(i, "health")},
        {"Error type", Text(i, "errorType")},
        {"Error", Text(i, "errorMessage")},
    };
    if (failure.is_object()) {
        const json& line = failure.contains("decidingLine") ? failure["decidingLine"] : json();
        fields.emplace_back("Deciding line",
                            line.is_object() ? fmt::format("[{}] {}", Text(line, "kind"), Text(line, "message")) : "-");
        fields.emplace_back("Next step", Text(failure, "nextStep"));
    }
    fields.insert(fields.end(), {
                                    {"Needs attention", Text(i, "needsAttention")},
                                    {"Attention reason", Text(i, "attentionReason")},
                                    {"Retries", Text(i, "retryCount")},
                                    {"Monitoring", Text(i, "monitoring")},
                                    {"Check interval", CheckInterval(i)},
                                    {"Checked every", PreciseSeconds(Number(i, "effectiveIntervalSeconds"))},
                                    {"User", Text(i, "userId")},
                                    {"Created", TimeAndAge(i, "createdAt", now)},
                                    {"Deployment started", TimeAndAge(i, "deploymentStartedAt", now)},
                                    {"Deployment updated", TimeAndAge(i, "deploymentUpdatedAt", now)},
                                    {"Deployment completed", TimeAndAge(i, "deploymentCompletedAt", now)},
                                });
    if (Text(i, "deletedAt") != "-") fields.emplace_back("Deleted", TimeAndAge(i, "deletedAt", now));
    if (Text(i, "railwayUrl") != "-") fields.emplace_back("Railway", Text(i, "railwayUrl"));
    return RenderFields(fields);
}

std::string RenderRedeploy(const json& answer) {
    return fmt::format(
        "Redeploy of {} requested at {}; `railwatch instances show {}` shows the new deployment once Railway has "
        "started it.\n",
        Text(answer, "instanceId"), Text(answer, "requestedAt"), Text(answer, "instanceId"));
}

std::string RenderLogLine(const json& line) {
    return fmt::format("{}  {:<6}  {:<5}  {}\n", Text(line, "timestamp"), Text(line, "kind"), Text(line, "severity"),
                       line.is_object() && line.contains("message") && line["message"].is_string()
                           ? OneLine(line["message"].get<std::string>())
                           : std::string());
}

std::string RenderLogs(const json& answer) {
    const json& list = Items(answer);
    if (list.empty()) return "No log lines for this deployment yet.\n";
    std::string out;
    for (const json& line : list)
        out += RenderLogLine(line);
    return out;
}

std::string RenderHealth(const json& h, core::Timestamp now) {
    const auto uptime_percent = Number(h, "uptimePercent");
    const auto window = Number(h, "uptimeWindowSeconds");
    std::vector<std::pair<std::string, std::string>> fields = {
        {"Instance", Text(h, "instanceId")},
        {"Health", Text(h, "status")},
        {"Up for", h.is_object() && h.contains("upSince") && h["upSince"].is_null()
                       ? std::string("- (not running)")
                       : Seconds(Number(h, "uptimeSeconds"))},
        {"Last checked", TimeAndAge(h, "lastCheckedAt", now)},
        {"Uptime", uptime_percent ? fmt::format("{:.1f}% over the last {}", *uptime_percent, Seconds(window))
                                  : std::string("- (no probes yet)")},
    };
    if (const json probe = h.is_object() && h.contains("probe") ? h["probe"] : json(); probe.is_object()) {
        // "HTTP 200 in 35 ms (12s ago)", "failed: timeout (12s ago)"
        const auto status = Number(probe, "httpStatus");
        const auto latency = Number(probe, "latencyMs");
        std::string what;
        if (probe.value("ok", false)) {
            what = fmt::format("HTTP {:.0f}", status.value_or(0));
            if (latency) what += fmt::format(" in {:.0f} ms", *latency);
        } else {
            const std::string error = Text(probe, "error");
            what = "failed: " + (error != "-" ? error : fmt::format("HTTP {:.0f}", status.value_or(0)));
        }
        fields.emplace_back("Last probe", what + " at " + TimeAndAge(probe, "at", now));
    }
    const json reasons = h.is_object() && h.contains("reasons") && h["reasons"].is_array() ? h["reasons"] : json();
    if (reasons.empty()) {
        fields.emplace_back("Reasons", "-");
    } else {
        bool first = true;
        for (const json& reason : reasons) {
            fields.emplace_back(first ? "Reasons" : "", reason.is_string() ? OneLine(reason.get<std::string>()) : "-");
            first = false;
        }
    }
    return RenderFields(fields);
}

std::string RenderStats(const json& s) {
    const auto rate = Number(s, "errorRate");
    // totalInstances leaves deleted ones out; "Monitored" below counts those still watched (a
    // removed deployment's, until its service deploys again): say how many there are.
    std::string instances = Text(s, "totalInstances");
    if (s.is_object() && s.contains("byStatus") && s["byStatus"].is_object()) {
        if (const auto deleted = Number(s["byStatus"], "DELETED"); deleted && *deleted > 0)
            instances += fmt::format(" (and {} deleted)", static_cast<long long>(*deleted));
    }
    std::vector<std::pair<std::string, std::string>> fields = {
        {"Instances", instances},
        {"Running", Text(s, "runningInstances")},
        {"Failed", Text(s, "failedInstances")},
        {"Pending", Text(s, "pendingInstances")},
        {"Needs attention", Text(s, "needsAttention")},
        {"Deployments finished", Text(s, "deploymentsFinished")},
        {"Deployments failed", Text(s, "deploymentsFailed")},
        {"Error rate", rate ? fmt::format("{:.1f}%", *rate * 100.0) : std::string("-")},
        {"Avg deployment time", PreciseSeconds(Number(s, "avgDeploymentSeconds"))},
    };
    if (s.is_object() && s.contains("byStatus") && s["byStatus"].is_object()) {
        std::string by_status;
        for (const auto& [status, count] : s["byStatus"].items()) {
            if (!by_status.empty()) by_status += "  ";
            by_status += fmt::format("{} {}", OneLine(status), count.is_number() ? count.dump() : "-");
        }
        fields.emplace_back("By status", by_status);
    }
    if (s.is_object() && s.contains("capacity") && s["capacity"].is_object()) {
        const json& c = s["capacity"];
        fields.emplace_back("Monitored",
                            fmt::format("{} of a capacity of {} ({} Railway requests/hour)", Text(c, "monitored"),
                                        Text(c, "capacity"), Text(c, "requestsPerHour")));
    }
    fields.emplace_back("Generated", Text(s, "generatedAt"));
    return RenderFields(fields);
}

std::string RenderAttention(const json& answer, core::Timestamp now) {
    const json& list = Items(answer);
    if (list.empty()) return "Nothing needs attention.\n";
    std::vector<std::vector<std::string>> rows;
    rows.reserve(list.size());
    for (const json& i : list) {
        const json user = i.is_object() && i.contains("user") ? i["user"] : json();
        rows.push_back({Text(i, "id"), Text(i, "projectName"), Text(i, "status"), Text(i, "attentionKind"),
                        Age(i, "attentionSince", now), Text(user, "email"), Text(i, "attentionReason", kReasonWidth)});
    }
    return RenderTable({"ID", "PROJECT", "STATUS", "KIND", "SINCE", "USER", "REASON"}, rows);
}

std::string RenderNotifications(const json& answer, core::Timestamp now) {
    const json& list = Items(answer);
    if (list.empty()) return "No notifications.\n";
    std::vector<std::vector<std::string>> rows;
    rows.reserve(list.size());
    for (const json& n : list) {
        const bool read = n.is_object() && n.contains("readAt") && n["readAt"].is_string();
        rows.push_back({Text(n, "id"), Age(n, "createdAt", now), Text(n, "type"), read ? "yes" : "no",
                        Text(n, "instanceId"), Text(n, "title", kTitleWidth)});
    }
    std::string out = RenderTable({"ID", "AGE", "TYPE", "READ", "INSTANCE", "TITLE"}, rows);
    out += fmt::format("{} unread.\n", Text(answer, "unreadCount"));
    return out;
}

}  // namespace railwatch::cli
