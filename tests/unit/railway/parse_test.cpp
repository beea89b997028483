// Parsing of answers read in place (simdjson): a deployment's steps (ParseDeploymentEvents).
#include "railway/parse.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace railwatch::railway {
namespace {

// The steps of `json` (a deploymentEvents connection) as ParseDeploymentEvents reads them.
util::Result<std::vector<DeploymentEvent>> Steps(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element element;
    if (parser.parse(json).get(element) != simdjson::SUCCESS) ADD_FAILURE() << "not JSON: " << json;
    return ParseDeploymentEvents(element);
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

}  // namespace
}  // namespace railwatch::railway
