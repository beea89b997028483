// docs/SIMULATOR.md and examples/ stay true to the code: the scenario shown in the doc parses to
// the defaults, and every example scenario parses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/config.hpp"
#include "sim/world.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;

std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

/// The first ```json block after `heading` in docs/SIMULATOR.md.
std::string JsonBlockAfter(const std::string& doc, const std::string& heading) {
    const auto at = doc.find(heading);
    if (at == std::string::npos) return "";
    const auto open = doc.find("```json\n", at);
    if (open == std::string::npos) return "";
    const auto start = open + 8;
    return doc.substr(start, doc.find("```", start) - start);
}

TEST(SimDocs, ScenarioExampleParsesToTheDefaults) {
    const std::string doc = ReadFile(std::filesystem::path(RAILWATCH_SOURCE_DIR) / "docs/SIMULATOR.md");
    const std::string block = JsonBlockAfter(doc, "## Scenario files");
    ASSERT_FALSE(block.empty()) << "no ```json block under \"## Scenario files\"";
    auto parsed = ParseScenario(block);
    ASSERT_TRUE(parsed) << parsed.error().message;
    const SimConfig defaults;
    EXPECT_EQ(RuntimeSettingsJson(*parsed), RuntimeSettingsJson(defaults));
    EXPECT_EQ(parsed->seed, defaults.seed);
    EXPECT_EQ(parsed->account_token, defaults.account_token);
    EXPECT_EQ(parsed->workspace_token, defaults.workspace_token);
    EXPECT_EQ(parsed->project_token, defaults.project_token);
    EXPECT_EQ(parsed->project_token_environment_id, World::kEnvironmentId);  // what "" stands for
    const Durations& d = parsed->durations;
    const Durations& e = defaults.durations;
    const std::pair<double, double> durations[] = {{d.queued_fraction, e.queued_fraction},
                                                   {d.queued_s, e.queued_s},
                                                   {d.waiting_s, e.waiting_s},
                                                   {d.initializing_s, e.initializing_s},
                                                   {d.building_s, e.building_s},
                                                   {d.deploying_s, e.deploying_s},
                                                   {d.healthcheck_timeout_s, e.healthcheck_timeout_s},
                                                   {d.crash_after_s, e.crash_after_s},
                                                   {d.crash_loop_uptime_s, e.crash_loop_uptime_s},
                                                   {d.restart_delay_s, e.restart_delay_s},
                                                   {d.sleep_after_s, e.sleep_after_s},
                                                   {d.remove_after_s, e.remove_after_s},
                                                   {d.removing_s, e.removing_s},
                                                   {d.jitter, e.jitter}};
    for (const auto& [doc_value, default_value] : durations)
        EXPECT_DOUBLE_EQ(doc_value, default_value);
    EXPECT_EQ(d.crash_loop_restarts, e.crash_loop_restarts);
    EXPECT_EQ(parsed->slow_health_ms, defaults.slow_health_ms);
    EXPECT_EQ(parsed->plan, defaults.plan);
    EXPECT_DOUBLE_EQ(parsed->current_usage, defaults.current_usage);
    EXPECT_EQ(parsed->usage_soft_limit, defaults.usage_soft_limit);
    EXPECT_EQ(parsed->usage_hard_limit, defaults.usage_hard_limit);
    EXPECT_TRUE(parsed->deployments.empty());
}

TEST(SimDocs, EveryExampleScenarioParses) {
    int examples = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(RAILWATCH_SOURCE_DIR) / "examples")) {
        if (entry.path().extension() != ".json") continue;
        auto parsed = LoadScenarioFile(entry.path().string());
        EXPECT_TRUE(parsed) << entry.path() << ": " << parsed.error().message;
        if (parsed) {
            EXPECT_FALSE(parsed->deployments.empty()) << entry.path();
        }
        ++examples;
    }
    EXPECT_GE(examples, 4);
}

}  // namespace
}  // namespace railwatch::sim
