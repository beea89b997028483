// Which notices an engine change stands for (app::NotifyEventsFor): one event per notice, with
// stable ids, never a notice for a plain failure row (its reaction row tells the user).
#include "app/monitor_engine.hpp"

#include <gtest/gtest.h>

namespace railwatch::app {
namespace {

using core::NotifyEventType;

monitor::ChangeToPlan Change(std::string kind, std::optional<std::string> from, std::string to) {
    monitor::ChangeToPlan change;
    change.kind = std::move(kind);
    change.instance.id = "ins_1";
    change.instance.service_id = "svc";
    change.instance.environment_id = "env";
    change.transition.instance_id = "ins_1";
    change.transition.deployment_id = "dep_1";
    change.transition.from_status = std::move(from);
    change.transition.to_status = std::move(to);
    change.transition.at = core::Timestamp{} + core::Seconds(1'800'000'000);
    return change;
}

std::vector<NotifyEventType> Types(const monitor::ChangeToPlan& change) {
    std::vector<NotifyEventType> types;
    for (const auto& event : NotifyEventsFor(change))
        types.push_back(event.type);
    return types;
}

TEST(NotifyEventsFor, AStatusRowNotifiesOnlyARecovery) {
    EXPECT_TRUE(Types(Change("status", "BUILDING", "FAILED")).empty());
    EXPECT_TRUE(Types(Change("status", "DEPLOYING", "SUCCESS")).empty());
    EXPECT_EQ(Types(Change("status", "CRASHED", "SUCCESS")),
              std::vector<NotifyEventType>{NotifyEventType::kDeploymentRecovered});
}

TEST(NotifyEventsFor, AReactionSendsItsNoticesAndACrashIsToldAsACrash) {
    auto change = Change("reaction", "CRASHED", "CRASHED");
    core::Action user;
    user.kind = core::ActionKind::kNotifyUser;
    core::Action admin;
    admin.kind = core::ActionKind::kNotifyAdmin;
    admin.type = "CONFIGURATION_ERROR";
    admin.reason = "missing environment variable";
    admin.suggestion = "set DATABASE_URL in the service's variables";
    core::Action record;  // kRecord notifies nobody
    change.actions = {record, user, admin};
    const auto events = NotifyEventsFor(change);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].type, NotifyEventType::kDeploymentCrashed);
    EXPECT_EQ(events[1].type, NotifyEventType::kConfigurationError);
    EXPECT_EQ(events[1].next_step, "set DATABASE_URL in the service's variables");
    EXPECT_NE(events[0].id, events[1].id);
    EXPECT_EQ(NotifyEventsFor(change)[1].id, events[1].id);  // the same change, the same ids
}

TEST(NotifyEventsFor, AttentionIsAStallAndACrashLoopRowIsACrashLoop) {
    auto stuck = Change("attention", "DEPLOYING", "DEPLOYING");
    stuck.transition.state.needs_attention = true;
    stuck.transition.state.attention_reason = "no progress for 10 minutes";
    EXPECT_EQ(Types(stuck), std::vector<NotifyEventType>{NotifyEventType::kDeploymentStuck});
    auto loop = Change("crash_loop", "CRASHED", "CRASHED");
    loop.transition.state.needs_attention = true;
    EXPECT_EQ(Types(loop), std::vector<NotifyEventType>{NotifyEventType::kCrashLoop});
    loop.transition.state.needs_attention = false;  // nothing flagged: nothing to tell
    EXPECT_TRUE(Types(loop).empty());
}

TEST(NotifyEventsFor, ADeploymentPastItsTimeLimitIsATimeoutNoticeNotAStall) {
    auto late = Change("timeout", "BUILDING", "BUILDING");
    late.transition.state.needs_attention = true;
    late.transition.state.attention_reason = "the deployment has been in progress for 11 min";
    EXPECT_EQ(Types(late), std::vector<NotifyEventType>{NotifyEventType::kTimeoutError});
}

TEST(NotifyEventsFor, RedeploysRailwayRefusedAreTheNetworkNoticeWithTheLastError) {
    auto failed = Change("redeploy_failed", "FAILED", "FAILED");
    failed.transition.state.needs_attention = true;
    failed.transition.state.attention_reason = "the automatic redeploy failed 3 times, last: HTTP 503";
    const auto events = NotifyEventsFor(failed);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].type, NotifyEventType::kNetworkError);
    EXPECT_EQ(events[0].message, "the automatic redeploy failed 3 times, last: HTTP 503");
}

}  // namespace
}  // namespace railwatch::app
