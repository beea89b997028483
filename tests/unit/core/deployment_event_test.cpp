#include "core/deployment_event.hpp"

#include <gtest/gtest.h>

#include <set>

namespace railwatch::core {
namespace {

TEST(DeploymentEventStep, RoundTripsAllTenRailwaySpellingsInLifecycleOrder) {
    const char* names[] = {"SNAPSHOT_CODE",      "WAIT_FOR_DEPENDENCIES", "BUILD_IMAGE",      "PUBLISH_IMAGE",
                           "PRE_DEPLOY_COMMAND", "MIGRATE_VOLUMES",       "CREATE_CONTAINER", "CONFIGURE_NETWORK",
                           "HEALTHCHECK",        "DRAIN_INSTANCES"};
    std::set<std::string_view> labels;
    for (int i = 0; i < 10; ++i) {
        const auto step = ParseDeploymentEventStep(names[i]);
        ASSERT_TRUE(step) << names[i];
        EXPECT_EQ(*step, kAllDeploymentEventSteps[static_cast<std::size_t>(i)]);
        EXPECT_EQ(ToString(*step), names[i]);
        EXPECT_EQ(StepIndex(*step), i);
        labels.insert(Label(*step));
    }
    EXPECT_EQ(labels.size(), 10u);
}

TEST(DeploymentEventStep, RejectsUnknownSpellings) {
    EXPECT_FALSE(ParseDeploymentEventStep("healthcheck"));
    EXPECT_FALSE(ParseDeploymentEventStep(""));
    EXPECT_FALSE(ParseDeploymentEventStep("DEPLOY"));
}

}  // namespace
}  // namespace railwatch::core
