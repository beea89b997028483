// Parsing of answers: a deployment's steps and a list of deployments read in place (simdjson), and
// the numbers of a side answer read through nlohmann.
#include "railway/parse.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>

namespace railwatch::railway {
namespace {

// `json` parsed by `parse` in place.
template <typename Parse>
auto InPlace(const std::string& json, Parse parse) {
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    if (parser.parse(json).get(element) != simdjson::SUCCESS) ADD_FAILURE() << "not JSON: " << json;
    return parse(element);
}

// The steps of `json` (a deploymentEvents connection) as ParseDeploymentEvents reads them.
util::Result<std::vector<DeploymentEvent>> Steps(const std::string& json) {
    return InPlace(json, ParseDeploymentEvents);
}

TEST(ParseDeploymentEvents, ReadsEveryFieldOfEachStepInOrder) {
    const auto steps = Steps(R"({"edges":[
        {"node":{"step":"BUILD_IMAGE","createdAt":"2026-01-01T00:00:00Z","completedAt":"2026-01-01T00:01:00Z",
                 "payload":null}},
        {"node":{"step":"HEALTHCHECK","createdAt":"2026-01-01T00:01:00Z","completedAt":null,
                 "payload":{"attempt":3,"maxAttempts":10,"durationMs":1500,"error":"service unavailable",
                            "reason":"timeout","detail":"GET /health","skipped":true}}},
        {"node":{"step":"DRAIN","payload":{"attempt":2.9,"maxAttempts":"ten","durationMs":1e300,"error":7,
                                           "skipped":"yes"}}}]})");
    ASSERT_TRUE(steps) << steps.error().message;
    ASSERT_EQ(steps->size(), 3u);
    const DeploymentEvent& build = (*steps)[0];
    EXPECT_EQ(build.step, "BUILD_IMAGE");
    ASSERT_TRUE(build.created_at && build.completed_at);
    EXPECT_EQ(*build.completed_at - *build.created_at, core::Seconds(60));
    EXPECT_FALSE(build.attempt.has_value());
    EXPECT_EQ(build.error, "");
    EXPECT_FALSE(build.skipped);
    const DeploymentEvent& check = (*steps)[1];
    EXPECT_EQ(check.step, "HEALTHCHECK");
    EXPECT_FALSE(check.completed_at.has_value());
    EXPECT_EQ(check.attempt, 3);
    EXPECT_EQ(check.max_attempts, 10);
    EXPECT_EQ(check.duration_ms, 1500);
    EXPECT_EQ(check.error, "service unavailable");
    EXPECT_EQ(check.reason, "timeout");
    EXPECT_EQ(check.detail, "GET /health");
    EXPECT_TRUE(check.skipped);
    // Values of the wrong kind are left out; a fraction is dropped, a number too large clamped.
    const DeploymentEvent& drain = (*steps)[2];
    EXPECT_FALSE(drain.created_at.has_value());
    EXPECT_EQ(drain.attempt, 2);
    EXPECT_FALSE(drain.max_attempts.has_value());
    EXPECT_EQ(drain.duration_ms, std::numeric_limits<long long>::max());
    EXPECT_EQ(drain.error, "");
    EXPECT_FALSE(drain.skipped);
}

TEST(ParseDeploymentEvents, AMalformedConnectionSaysWhatIsWrong) {
    const auto message = [](const std::string& json) {
        const auto steps = Steps(json);
        return steps ? std::string("<parsed>") : steps.error().message;
    };
    EXPECT_EQ(message("[]"), "deploymentEvents is not an object");
    EXPECT_EQ(message(R"({"edges":{}})"), "deploymentEvents.edges is missing");
    EXPECT_EQ(message(R"({"edges":[{"cursor":"c"}]})"), "deploymentEvents.edges[].node is missing");
    EXPECT_EQ(message(R"({"edges":[7]})"), "deploymentEvents.edges[].node is missing");
    EXPECT_EQ(message(R"({"edges":[{"node":"BUILD"}]})"), "deployment event is not an object");
    EXPECT_EQ(message(R"({"edges":[{"node":{"step":null}}]})"), "DeploymentEvent.step is missing or not a string");
    EXPECT_EQ(message(R"({"edges":[]})"), "<parsed>");
}

// A deployments connection: newest first by createdAt, unknown creation times last; a malformed
// one says what is wrong.
TEST(ParseDeploymentList, NewestFirstAndAMalformedListSaysWhatIsWrong) {
    const auto list = InPlace(R"({"edges":[
        {"node":{"id":"old","status":"SUCCESS","createdAt":"2026-01-01T00:00:00Z"}},
        {"node":{"id":"unknown","status":"FAILED"}},
        {"node":{"id":"new","status":"BUILDING","createdAt":"2026-01-02T00:00:00Z"}}]})",
                              ParseDeploymentList);
    ASSERT_TRUE(list) << list.error().message;
    ASSERT_EQ(list->size(), 3u);
    EXPECT_EQ((*list)[0].id, "new");
    EXPECT_EQ((*list)[1].id, "old");
    EXPECT_EQ((*list)[2].id, "unknown");
    EXPECT_EQ((*list)[0].status.value, core::DeploymentStatus::kBuilding);
    const auto message = [](const std::string& json) {
        const auto parsed = InPlace(json, ParseDeploymentList);
        return parsed ? std::string("<parsed>") : parsed.error().message;
    };
    EXPECT_EQ(message("7"), "deployments is not an object");
    EXPECT_EQ(message(R"({"edges":null})"), "deployments.edges is missing");
    EXPECT_EQ(message(R"({"edges":[{}]})"), "deployments.edges[].node is missing");
    EXPECT_EQ(message(R"({"edges":[{"node":[]}]})"), "deployment is not an object");
    EXPECT_EQ(message(R"({"edges":[{"node":{"id":"d"}}]})"), "Deployment.status is missing or not a string");
}

// Numbers beyond a field's range are clamped to it, not cast (undefined for a double), in the
// side answers read through nlohmann as in those read in place.
TEST(ParseServiceInstance, NumbersBeyondAFieldsRangeAreClampedAndAFractionDropped) {
    const auto info = ParseServiceInstance(
        nlohmann::json{{"healthcheckTimeout", 1e300}, {"numReplicas", -5e20}, {"restartPolicyMaxRetries", 3.7}});
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->healthcheck_timeout_s, std::numeric_limits<int>::max());
    EXPECT_EQ(info->num_replicas, std::numeric_limits<int>::min());
    EXPECT_EQ(info->restart_policy_max_retries, 3);
    const auto large = ParseServiceInstance(nlohmann::json{{"numReplicas", 18446744073709551615ull}});
    ASSERT_TRUE(large) << large.error().message;
    EXPECT_EQ(large->num_replicas, std::numeric_limits<int>::max());
}

}  // namespace
}  // namespace railwatch::railway
