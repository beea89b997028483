#include "api/render.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace railwatch::api {
namespace {

using nlohmann::json;

core::Timestamp At(long long seconds, long long millis = 0) {
    using namespace std::chrono;
    return core::Timestamp(sys_days{year{2026} / March / 4}) + core::Seconds(seconds) + core::Millis(millis);
}

std::string Tree(const store::Instance& i, const std::vector<store::HealthCheck>& checks,
                 std::optional<core::Duration> interval = std::nullopt) {
    return InstanceJson(i, checks, interval).dump(-1, ' ', false, json::error_handler_t::replace);
}

// The list route renders from the store's summaries of the checks the tree gets whole.
std::string Direct(const store::Instance& i, const std::vector<store::HealthCheck>& checks,
                   std::optional<core::Duration> interval = std::nullopt) {
    std::vector<store::CheckSummary> summaries;
    summaries.reserve(checks.size());
    for (const store::HealthCheck& c : checks)
        summaries.push_back({c.at, c.ok, c.latency_ms});
    std::string out = "prefix:";
    AppendInstanceJson(out, i, summaries, interval);
    EXPECT_EQ(out.rfind("prefix:", 0), 0u) << "appends, keeps what was there";
    return out.substr(7);
}

TEST(RenderTest, DirectInstanceTextEqualsTheTreeWithEveryOptionalFieldMissing) {
    store::Instance i;
    i.id = "ins_min";
    i.service_id = "svc";
    i.environment_id = "env";
    i.created_at = At(0);
    EXPECT_EQ(Direct(i, {}), Tree(i, {}));
    EXPECT_EQ(json::parse(Direct(i, {}))["health"], "UNKNOWN");
}

TEST(RenderTest, DirectInstanceTextEqualsTheTreeWithEveryFieldSetAndTextNeedingEscapes) {
    store::Instance i;
    i.id = "ins_full";
    i.user_id = "usr_ana";
    i.project_name = "checkout \"eu\" \\ prod\n\ttab \x01 caf\xc3\xa9 \xe2\x9c\x93";
    i.project_id = "prj-1";
    i.service_id = "svc-1";
    i.environment_id = "env-1";
    i.monitoring = false;
    i.check_interval_s = 45;
    i.created_at = At(10, 123);
    i.deleted_at = At(99, 1);
    store::InstanceState& s = i.state;
    s.status = core::InstanceStatus::kFailed;
    s.deployment_id = "dep-1";
    s.deployment_status = "FAILED";
    s.progress = 100;
    s.health = "UNHEALTHY";
    s.error_type = core::ErrorClass::kResource;
    s.error_message = "FATAL ERROR: Reached heap limit\r\n";
    s.retry_count = 2;
    s.needs_attention = true;
    s.attention_reason = "crashed";
    s.deployment_started_at = At(11);
    s.deployment_updated_at = At(12, 500);
    s.deployment_completed_at = At(13);
    std::vector<store::HealthCheck> checks;
    for (int n = 3; n > 0; --n) {  // newest first, as the store returns them
        checks.push_back(store::HealthCheck{n, i.id, At(20 + n), n != 2, 200, n == 1 ? std::nullopt : std::optional(n),
                                            std::nullopt});
    }
    EXPECT_EQ(Direct(i, checks), Tree(i, checks));
    const json parsed = json::parse(Direct(i, checks));
    EXPECT_EQ(parsed["railwayUrl"], "https://railway.com/project/prj-1/service/svc-1?environmentId=env-1&id=dep-1");
    ASSERT_EQ(parsed["recentChecks"].size(), 3u);
    EXPECT_EQ(parsed["recentChecks"][0]["at"], "2026-03-04T00:00:21.000Z");  // oldest first
}

// The interval the engine checks at, in seconds to the millisecond: whole, fractional, rounded.
TEST(RenderTest, DirectInstanceTextEqualsTheTreeWithEachEffectiveInterval) {
    store::Instance i;
    i.id = "ins_interval";
    i.service_id = "svc";
    i.environment_id = "env";
    i.created_at = At(0);
    const std::vector<std::pair<core::Duration, double>> cases = {
        {core::Seconds(30), 30.0},
        {core::Millis(7500), 7.5},
        {std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(2.0 / 3.0)), 0.667},
        {std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(307.894736842)), 307.895},
        {core::Seconds(86400) * 40, 3456000.0},
    };
    for (const auto& [interval, seconds] : cases) {
        EXPECT_EQ(Direct(i, {}, interval), Tree(i, {}, interval));
        EXPECT_EQ(json::parse(Direct(i, {}, interval))["effectiveIntervalSeconds"].get<double>(), seconds);
    }
    EXPECT_TRUE(json::parse(Direct(i, {}))["effectiveIntervalSeconds"].is_null());
}

TEST(RenderTest, DirectInstanceTextLeavesTheRailwayLinkOutForIdsItCannotLinkSafely) {
    store::Instance i;
    i.id = "ins_odd";
    i.project_id = "prj/../x";
    i.service_id = "svc";
    i.environment_id = "env";
    i.state.deployment_id = "dep";
    EXPECT_EQ(Direct(i, {}), Tree(i, {}));
    EXPECT_TRUE(json::parse(Direct(i, {}))["railwayUrl"].is_null());
}

}  // namespace
}  // namespace railwatch::api
