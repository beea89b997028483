#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

/// How the REST client subcommands show the API's answers to a person (docs/CLI.md): aligned
/// columns separated by spaces (never tabs), kubectl-style, the same on a terminal and in a pipe.
/// Every function here is pure: it takes the API's JSON and `now` (for ages) and returns the text
/// to print, ending in a newline. Values the server sent are put on one line (control characters
/// become spaces, so a message cannot move the cursor or inject escape sequences); missing or
/// null values show as "-". Malformed fields never throw; they show as "-".
namespace railwatch::cli {

/// A duration the way kubectl shows ages: "45s", "12m", "5h", "3d" (whole units, rounded down);
/// "0s" for a negative duration (a clock behind the server's).
std::string FormatAge(core::Duration age);

/// `text` on one line: every control character (below 0x20, and 0x7f) becomes a space. When
/// `max_width` > 0 and the text is wider (in UTF-8 characters), it is cut to `max_width` characters,
/// the last one "…".
std::string OneLine(std::string_view text, std::size_t max_width = 0);

/// `headers` and `rows` as left-aligned columns, two spaces apart, no trailing spaces. Widths
/// count UTF-8 characters, not bytes. A row shorter than the header gets empty cells.
std::string RenderTable(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

/// `instances list`: ID, PROJECT, STATUS, DEPLOYMENT STATUS, PROGRESS, HEALTH, ERROR, AGE for
/// each item of `items` (an array of instances); "No instances." for none.
std::string RenderInstances(const nlohmann::json& items, core::Timestamp now);

/// `instances show` / `add` / `rm` / `monitoring`: one instance as "Field:  value" lines. With the
/// `failure` of `GET …/failure` (an object; null or absent: none), also the log line that decided
/// it and the next step, after the error; with the `progress` of `GET …/progress`, its step list
/// after the percent ("Queued 4s → Building (now) → Deploying (to come) → …").
std::string RenderInstance(const nlohmann::json& instance, core::Timestamp now, const nlohmann::json& failure = nullptr,
                           const nlohmann::json& progress = nullptr);

/// `instances redeploy`: the answer of `POST …/redeploy` as one sentence.
std::string RenderRedeploy(const nlohmann::json& answer);

/// One log line `{timestamp, severity, message, kind}` as "TIMESTAMP  KIND  SEVERITY  MESSAGE".
std::string RenderLogLine(const nlohmann::json& line);

/// `logs`: every line of the answer's `items`, oldest first; "No log lines for this deployment
/// yet." for none.
std::string RenderLogs(const nlohmann::json& answer);

/// `health`: the answer of /instances/{id}/health as "Field:  value" lines, reasons listed.
std::string RenderHealth(const nlohmann::json& health, core::Timestamp now);

/// `stats`: the fleet figures, counts by status and the engine's capacity.
std::string RenderStats(const nlohmann::json& stats);

/// `attention`: ID, PROJECT, STATUS, KIND, SINCE, USER, REASON for each item of the answer;
/// "Nothing needs attention." for none.
std::string RenderAttention(const nlohmann::json& answer, core::Timestamp now);

/// `notifications`: ID, AGE, TYPE, READ, INSTANCE, TITLE per item, then "N unread."; "No
/// notifications." for none.
std::string RenderNotifications(const nlohmann::json& answer, core::Timestamp now);

}  // namespace railwatch::cli
