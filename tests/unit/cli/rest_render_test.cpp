#include "cli/rest_render.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "util/rfc3339.hpp"

namespace railwatch::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

core::Timestamp At(const char* text) {
    return *util::ParseRfc3339(text);
}

std::vector<std::string> Lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

json Instance(std::string id, std::string status) {
    return {{"id", id},
            {"projectName", "shop"},
            {"status", status},
            {"deploymentStatus", status == "RUNNING" ? json("SUCCESS") : json(nullptr)},
            {"progress", status == "RUNNING" ? 100 : 40},
            {"health", "UNKNOWN"},
            {"errorType", nullptr},
            {"errorMessage", nullptr},
            {"createdAt", "2026-01-01T00:00:00.000Z"}};
}

TEST(FormatAge, UsesTheLargestWholeUnit) {
    EXPECT_EQ(FormatAge(core::Seconds(0)), "0s");
    EXPECT_EQ(FormatAge(core::Seconds(59)), "59s");
    EXPECT_EQ(FormatAge(core::Seconds(60)), "1m");
    EXPECT_EQ(FormatAge(core::Seconds(3599)), "59m");
    EXPECT_EQ(FormatAge(core::Seconds(7200)), "2h");
    EXPECT_EQ(FormatAge(core::Seconds(3 * 86400 + 5)), "3d");
    EXPECT_EQ(FormatAge(core::Seconds(-30)), "0s");
}

TEST(OneLine, TurnsControlCharactersIntoSpacesSoEscapesCannotReachTheTerminal) {
    EXPECT_EQ(OneLine("a\nb\tc\033[2J\x7f"), "a b c [2J ");
}

TEST(OneLine, CutsLongTextOnACharacterBoundaryWithAnEllipsis) {
    EXPECT_EQ(OneLine("abcdef", 4), "abc…");
    EXPECT_EQ(OneLine("abcd", 4), "abcd");
    EXPECT_EQ(OneLine("ééééé", 3), "éé…");
}

TEST(RenderTable, AlignsColumnsWithSpacesAndNoTrailingBlanks) {
    const std::string table = RenderTable({"ID", "NAME", "X"}, {{"a", "long name", ""}, {"bbbb", "n", "1"}});
    EXPECT_EQ(table,
              "ID    NAME       X\n"
              "a     long name\n"
              "bbbb  n          1\n");
    EXPECT_EQ(table.find('\t'), std::string::npos);
}

TEST(RenderTable, CountsUtf8CharactersNotBytesForWidths) {
    const auto lines = Lines(RenderTable({"A", "B"}, {{"é", "x"}, {"ab", "y"}}));
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[1], "é   x");
    EXPECT_EQ(lines[2], "ab  y");
}

TEST(RenderInstances, ShowsTheKubectlStyleColumnsAndAges) {
    json failed = Instance("ins_b", "FAILED");
    failed["errorType"] = "BUILD_ERROR";
    failed["errorMessage"] = "npm ERR! code ELIFECYCLE\nexit 1";
    const std::string table =
        RenderInstances(json{{"items", {Instance("ins_a", "RUNNING"), failed}}}, At("2026-01-01T00:05:30Z"));
    const auto lines = Lines(table);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_THAT(lines[0], HasSubstr("ID"));
    for (const char* column : {"PROJECT", "STATUS", "DEPLOYMENT STATUS", "PROGRESS", "HEALTH", "ERROR", "AGE"})
        EXPECT_THAT(lines[0], HasSubstr(column));
    EXPECT_THAT(lines[1], HasSubstr("ins_a"));
    EXPECT_THAT(lines[1], HasSubstr("SUCCESS"));
    EXPECT_THAT(lines[1], HasSubstr("100%"));
    EXPECT_THAT(lines[1], HasSubstr("5m"));
    EXPECT_THAT(lines[2], HasSubstr("BUILD_ERROR: npm ERR! code ELIFECYCLE exit 1"));
    // Columns line up: the STATUS header starts where each row's status does.
    EXPECT_EQ(lines[0].find("STATUS"), lines[1].find("RUNNING"));
    EXPECT_EQ(lines[0].find("STATUS"), lines[2].find("FAILED"));
}

TEST(RenderInstances, SaysSoWhenThereAreNone) {
    EXPECT_EQ(RenderInstances(json{{"items", json::array()}}, At("2026-01-01T00:00:00Z")), "No instances.\n");
}

TEST(RenderInstances, ShowsADashForMissingOrMalformedFields) {
    const std::string table =
        RenderInstances(json{{"items", {{{"id", "ins_z"}, {"progress", "lots"}}}}}, At("2026-01-01T00:00:00Z"));
    const auto lines = Lines(table);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[1], HasSubstr("ins_z  -"));
}

TEST(RenderInstance, ShowsEveryFieldAsAlignedLabelValueLines) {
    json i = Instance("ins_a", "RUNNING");
    i["deploymentId"] = "dep-1";
    i["checkIntervalSeconds"] = 30;
    i["railwayUrl"] = "https://railway.com/project/p/service/s?environmentId=e&id=dep-1";
    const std::string text = RenderInstance(i, At("2026-01-01T01:00:00Z"));
    EXPECT_THAT(text, HasSubstr("ID:"));
    EXPECT_THAT(text, HasSubstr("Deployment:            dep-1\n"));
    EXPECT_THAT(text, HasSubstr("Check interval:        30s\n"));
    EXPECT_THAT(text, HasSubstr("Created:               2026-01-01T00:00:00.000Z (1h ago)\n"));
    EXPECT_THAT(text, HasSubstr("Railway:"));
    EXPECT_THAT(text, Not(HasSubstr("Deleted:")));
    EXPECT_THAT(text, Not(HasSubstr("Next step:")));             // no failure given
    EXPECT_THAT(text, HasSubstr("Checked every:         -\n"));  // the server said nothing (not monitored)
    i["checkIntervalSeconds"] = nullptr;                         // none of its own
    i["effectiveIntervalSeconds"] = 75.0;                        // the engine's: its status's, stretched
    const std::string per_status = RenderInstance(i, At("2026-01-01T01:00:00Z"));
    EXPECT_THAT(per_status, HasSubstr("Check interval:        per status (the server's [monitor.intervals])\n"));
    EXPECT_THAT(per_status, HasSubstr("Checked every:         1m 15s\n"));
    for (const auto& [seconds, shown] : std::vector<std::pair<double, std::string>>{{7.5, "7.5s"},
                                                                                    {0.667, "0.7s"},
                                                                                    {9.96, "10s"},
                                                                                    {5.0, "5s"},
                                                                                    {59.6, "1m"},
                                                                                    {3600.0, "1h"},
                                                                                    {7500.0, "2h 5m"}}) {
        i["effectiveIntervalSeconds"] = seconds;
        EXPECT_THAT(RenderInstance(i, At("2026-01-01T01:00:00Z")), HasSubstr("Checked every:         " + shown + "\n"))
            << seconds;
    }
}

// GET …/progress's step list on one line after the percent; "-" without one.
TEST(RenderInstance, ShowsTheStepListOnOneLine) {
    const json i = Instance("ins_s", "FAILED");
    const json progress = json::parse(R"({"steps":[
        {"name":"QUEUED","label":"Queued","state":"done","durationSeconds":4.0},
        {"name":"INITIALIZING","label":"Initializing","state":"done","durationSeconds":null},
        {"name":"BUILDING","label":"Building","state":"failed","durationSeconds":95.0},
        {"name":"DEPLOYING","label":"Deploying","state":"skipped","durationSeconds":null},
        {"name":"FAILED","label":"Failed","state":"failed","durationSeconds":null}]})");
    EXPECT_THAT(RenderInstance(i, At("2026-01-01T01:00:00Z"), nullptr, progress),
                HasSubstr("Steps:                 Queued 4s → Initializing → Building (failed, 1m 35s) → Deploying "
                          "(skipped) → Failed (failed)\n"));
    const json building = json::parse(R"({"steps":[{"label":"Building","state":"active","durationSeconds":null},
        {"label":"Deploying","state":"pending","durationSeconds":null}]})");
    EXPECT_THAT(RenderInstance(i, At("2026-01-01T01:00:00Z"), nullptr, building),
                HasSubstr("Steps:                 Building (now) → Deploying (to come)\n"));
    EXPECT_THAT(RenderInstance(i, At("2026-01-01T01:00:00Z")), HasSubstr("Steps:                 -\n"));
    // Railway's step that runs or failed, named.
    const json substeps = json::parse(R"({"steps":[
        {"label":"Building","state":"failed","durationSeconds":95.0,"substeps":[
            {"label":"snapshotting code","state":"done"},{"label":"building image","state":"failed"}]},
        {"label":"Deploying","state":"active","durationSeconds":null,"substeps":[
            {"label":"creating container","state":"done"},{"label":"healthcheck","state":"active"}]}]})");
    EXPECT_THAT(RenderInstance(i, At("2026-01-01T01:00:00Z"), nullptr, substeps),
                HasSubstr("Steps:                 Building (failed at building image, 1m 35s) → Deploying (now: "
                          "healthcheck)\n"));
}

// A failure's deciding line and next step follow the error, on one line each whatever the server
// sent; a failure without a deciding line shows "-" for it.
TEST(RenderInstance, ShowsTheFailuresDecidingLineAndNextStepAfterTheError) {
    json i = Instance("ins_f", "FAILED");
    i["errorType"] = "CONFIGURATION";
    i["errorMessage"] = "missing environment variable";
    const json failure = {{"errorType", "CONFIGURATION"},
                          {"decidingLine", {{"kind", "deploy"}, {"message", "Error: DATABASE_URL is not set\x1b[2J"}}},
                          {"nextStep", "Set DATABASE_URL in the service's variables, then redeploy."}};
    const std::string text = RenderInstance(i, At("2026-01-01T01:00:00Z"), failure);
    EXPECT_THAT(text, HasSubstr("Error:                 missing environment variable\n"
                                "Deciding line:         [deploy] Error: DATABASE_URL is not set [2J\n"
                                "Next step:             Set DATABASE_URL in the service's variables, then redeploy.\n"
                                "Needs attention:"));
    json without_line = failure;
    without_line["decidingLine"] = nullptr;
    EXPECT_THAT(RenderInstance(i, At("2026-01-01T01:00:00Z"), without_line), HasSubstr("Deciding line:         -\n"));
}

TEST(RenderRedeploy, SaysWhenItWasRequestedAndHowToFollowIt) {
    EXPECT_EQ(RenderRedeploy(json{{"instanceId", "ins_r"}, {"requestedAt", "2026-01-01T00:00:00.000Z"}}),
              "Redeploy of ins_r requested at 2026-01-01T00:00:00.000Z; `railwatch instances show ins_r` shows the new "
              "deployment once Railway has started it.\n");
}

TEST(RenderLogs, PrintsOneLinePerLogLineOldestFirst) {
    const json answer = {
        {"items",
         {{{"timestamp", "2026-01-01T00:00:01Z"}, {"severity", "info"}, {"message", "first"}, {"kind", "build"}},
          {{"timestamp", "2026-01-01T00:00:02Z"},
           {"severity", "error"},
           {"message", "second\r"},
           {"kind", "deploy"}}}}};
    const auto lines = Lines(RenderLogs(answer));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0], "2026-01-01T00:00:01Z  build   info   first");
    EXPECT_EQ(lines[1], "2026-01-01T00:00:02Z  deploy  error  second ");
    EXPECT_EQ(RenderLogs(json{{"items", json::array()}}), "No log lines for this deployment yet.\n");
}

TEST(RenderHealth, ListsEveryReasonOnItsOwnLine) {
    const json health = {{"instanceId", "ins_a"},
                         {"status", "UNHEALTHY"},
                         {"uptimeSeconds", 0},
                         {"lastCheckedAt", "2026-01-01T00:00:00.000Z"},
                         {"uptimePercent", 97.5},
                         {"uptimeWindowSeconds", 86400},
                         {"reasons", {"last probe failed: HTTP 503", "deployment failed: OOM"}}};
    const std::string text = RenderHealth(health, At("2026-01-01T00:00:10Z"));
    EXPECT_THAT(text, HasSubstr("Health:        UNHEALTHY\n"));
    EXPECT_THAT(text, HasSubstr("Uptime:        97.5% over the last 1d\n"));
    EXPECT_THAT(text, HasSubstr("Reasons:       last probe failed: HTTP 503\n               deployment failed: OOM\n"));
    EXPECT_THAT(text, HasSubstr("(10s ago)"));
    EXPECT_THAT(text, Not(HasSubstr("Last probe")));      // none in the answer
    EXPECT_THAT(text, HasSubstr("Up for:        0s\n"));  // an answer from before upSince
}

// A deployment that is not running is not "up for 0s".
TEST(RenderHealth, SaysNotRunningWithoutUpSince) {
    json health = {{"instanceId", "ins_a"},
                   {"status", "UNHEALTHY"},
                   {"uptimeSeconds", 0},
                   {"upSince", nullptr},
                   {"lastCheckedAt", nullptr},
                   {"uptimePercent", nullptr},
                   {"reasons", {"deployment failed: OOM"}},
                   {"uptimeWindowSeconds", 86400}};
    EXPECT_THAT(RenderHealth(health, At("2026-01-01T00:10:00Z")), HasSubstr("Up for:        - (not running)\n"));
    health["upSince"] = "2026-01-01T00:00:00.000Z";
    health["uptimeSeconds"] = 600;
    EXPECT_THAT(RenderHealth(health, At("2026-01-01T00:10:00Z")), HasSubstr("Up for:        10m\n"));
}

TEST(RenderHealth, ShowsTheLastProbe) {
    json health = {{"instanceId", "ins_a"},    {"status", "DEGRADED"}, {"uptimeSeconds", 60},
                   {"lastCheckedAt", nullptr}, {"uptimePercent", 50},  {"uptimeWindowSeconds", 86400},
                   {"reasons", json::array()}};
    health["probe"] = {
        {"at", "2026-01-01T00:00:05.000Z"}, {"ok", true}, {"httpStatus", 200}, {"latencyMs", 35}, {"error", nullptr}};
    EXPECT_THAT(RenderHealth(health, At("2026-01-01T00:00:10Z")), HasSubstr("Last probe:    HTTP 200 in 35 ms at "));
    health["probe"] = {{"at", "2026-01-01T00:00:05.000Z"},
                       {"ok", false},
                       {"httpStatus", 0},
                       {"latencyMs", nullptr},
                       {"error", "timeout"}};
    EXPECT_THAT(RenderHealth(health, At("2026-01-01T00:00:10Z")), HasSubstr("Last probe:    failed: timeout at "));
    health["probe"]["httpStatus"] = 503;
    health["probe"]["error"] = nullptr;
    EXPECT_THAT(RenderHealth(health, At("2026-01-01T00:00:10Z")), HasSubstr("Last probe:    failed: HTTP 503 at "));
}

TEST(RenderStats, ShowsTheFleetFiguresAndCapacity) {
    const json stats = {{"totalInstances", 5},
                        {"runningInstances", 3},
                        {"failedInstances", 1},
                        {"pendingInstances", 1},
                        {"errorRate", 0.25},
                        {"avgDeploymentSeconds", 95.0},
                        {"byStatus", {{"RUNNING", 3}, {"FAILED", 1}}},
                        {"needsAttention", 1},
                        {"capacity", {{"monitored", 5}, {"capacity", 142}, {"requestsPerHour", 800.0}}}};
    const std::string text = RenderStats(stats);
    EXPECT_THAT(text, HasSubstr("Instances:             5\n"));
    EXPECT_THAT(text, HasSubstr("Error rate:            25.0%\n"));
    EXPECT_THAT(text, HasSubstr("Avg deployment time:   1m 35s\n"));
    EXPECT_THAT(text, HasSubstr("FAILED 1  RUNNING 3"));
    EXPECT_THAT(text, HasSubstr("5 of a capacity of 142 (800 Railway requests/hour)"));
    // Deleted instances are not in the total; the engine may still watch some (Monitored).
    json with_deleted = stats;
    with_deleted["byStatus"]["DELETED"] = 2;
    with_deleted["capacity"]["monitored"] = 6;
    const std::string deleted_text = RenderStats(with_deleted);
    EXPECT_THAT(deleted_text, HasSubstr("Instances:             5 (and 2 deleted)\n"));
    EXPECT_THAT(deleted_text, HasSubstr("Monitored:             6 of a capacity of 142"));
}

TEST(RenderAttention, ShowsKindAgeUserAndReason) {
    json item = Instance("ins_a", "FAILED");
    item["attentionKind"] = "failed";
    item["attentionSince"] = "2026-01-01T00:00:00.000Z";
    item["attentionReason"] = "the deployment failed: out of memory";
    item["user"] = {{"id", "usr_1"}, {"email", "ana@example.com"}};
    const auto lines = Lines(RenderAttention(json{{"items", {item}}}, At("2026-01-01T02:00:00Z")));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_THAT(lines[0], HasSubstr("KIND"));
    EXPECT_THAT(lines[1], HasSubstr("failed"));
    EXPECT_THAT(lines[1], HasSubstr("2h"));
    EXPECT_THAT(lines[1], HasSubstr("ana@example.com"));
    EXPECT_THAT(lines[1], HasSubstr("out of memory"));
    EXPECT_EQ(RenderAttention(json{{"items", json::array()}}, At("2026-01-01T00:00:00Z")),
              "Nothing needs attention.\n");
}

TEST(RenderNotifications, ShowsReadStateAndTheUnreadCount) {
    const json answer = {{"items",
                          {{{"id", "ntf_1"},
                            {"createdAt", "2026-01-01T00:00:00.000Z"},
                            {"type", "deployment_failed"},
                            {"readAt", nullptr},
                            {"instanceId", "ins_a"},
                            {"title", "shop failed"}},
                           {{"id", "ntf_2"},
                            {"createdAt", "2026-01-01T00:00:00.000Z"},
                            {"type", "deployment_succeeded"},
                            {"readAt", "2026-01-01T00:01:00.000Z"},
                            {"instanceId", "ins_b"},
                            {"title", "shop is up"}}}},
                         {"unreadCount", 1}};
    const auto lines = Lines(RenderNotifications(answer, At("2026-01-01T00:00:30Z")));
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_THAT(lines[1], HasSubstr("ntf_1"));
    EXPECT_THAT(lines[1], HasSubstr("  no  "));
    EXPECT_THAT(lines[2], HasSubstr("  yes  "));
    EXPECT_EQ(lines[3], "1 unread.");
    EXPECT_EQ(RenderNotifications(json{{"items", json::array()}}, At("2026-01-01T00:00:00Z")), "No notifications.\n");
}

}  // namespace
}  // namespace railwatch::cli
