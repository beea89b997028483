#include "core/reactions.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace railwatch::core {
namespace {

using std::chrono::minutes;

std::vector<ActionKind> Kinds(const std::vector<Action>& actions) {
    std::vector<ActionKind> kinds;
    kinds.reserve(actions.size());
    for (const Action& a : actions)
        kinds.push_back(a.kind);
    return kinds;
}

const Action* Find(const std::vector<Action>& actions, ActionKind kind) {
    for (const Action& a : actions) {
        if (a.kind == kind) return &a;
    }
    return nullptr;
}

ReactionInput For(ErrorClass error_class, std::string message = "boom") {
    ReactionInput in;
    in.error_class = error_class;
    in.message = std::move(message);
    return in;
}

using K = ActionKind;

TEST(Reactions, ConfigurationNotifiesAdminAndFlagsAttentionWithTheReason) {
    const auto actions = PlanReactions(For(ErrorClass::kConfiguration, "missing environment variable"), {});
    EXPECT_EQ(Kinds(actions), (std::vector<K>{K::kRecord, K::kNotifyAdmin, K::kFlagAttention, K::kNotifyUser}));
    EXPECT_EQ(actions[0].type, "CONFIGURATION_ERROR");
    EXPECT_EQ(actions[1].type, "CONFIGURATION_ERROR");
    EXPECT_NE(actions[1].suggestion.find("environment variables"), std::string::npos);
    EXPECT_EQ(actions[2].reason, "configuration error: missing environment variable");
}

TEST(Reactions, NetworkRedeploysAtMostThreeTimesThenNotifiesAdmin) {
    ReactionPolicy policy;
    for (int retry = 0; retry < 3; ++retry) {
        ReactionInput in = For(ErrorClass::kNetwork, "ETIMEDOUT");
        in.retry_count = retry;
        in.unit_random = 0.5;
        const auto actions = PlanReactions(in, policy);
        EXPECT_EQ(Kinds(actions), (std::vector<K>{K::kRecord, K::kRedeploy})) << retry;
        const Action* redeploy = Find(actions, K::kRedeploy);
        ASSERT_NE(redeploy, nullptr);
        // Full jitter under 1 s, 2 s, 4 s; with u = 0.5 exactly half.
        EXPECT_EQ(redeploy->delay, std::chrono::milliseconds(500 << retry));
        EXPECT_NE(redeploy->reason.find(std::to_string(retry + 1) + " of 3"), std::string::npos);
    }
    ReactionInput exhausted = For(ErrorClass::kNetwork, "ETIMEDOUT");
    exhausted.retry_count = 3;
    const auto actions = PlanReactions(exhausted, policy);
    EXPECT_EQ(Kinds(actions), (std::vector<K>{K::kRecord, K::kNotifyAdmin, K::kNotifyUser}));
    EXPECT_EQ(actions[1].type, "NETWORK_ERROR_MAX_RETRIES");
    EXPECT_EQ(Find(actions, K::kRedeploy), nullptr);
}

TEST(Reactions, RedeployDelayStaysWithinBackoffBoundsForAnyDraw) {
    for (int i = 0; i < 100; ++i) {
        ReactionInput in = For(ErrorClass::kNetwork);
        in.retry_count = 2;
        in.unit_random = i / 100.0;
        const auto actions = PlanReactions(in, {});
        const Action* redeploy = Find(actions, K::kRedeploy);
        ASSERT_NE(redeploy, nullptr);
        EXPECT_GE(redeploy->delay, Duration::zero());
        EXPECT_LT(redeploy->delay, Seconds(4));
    }
}

TEST(Reactions, MaxRedeploysIsConfigurable) {
    ReactionPolicy policy;
    policy.max_redeploys = 0;
    EXPECT_EQ(Find(PlanReactions(For(ErrorClass::kNetwork), policy), K::kRedeploy), nullptr);
    policy.max_redeploys = 5;
    ReactionInput in = For(ErrorClass::kNetwork);
    in.retry_count = 4;
    EXPECT_NE(Find(PlanReactions(in, policy), K::kRedeploy), nullptr);
}

TEST(Reactions, AuthenticationValidatesTheTokenThenNotifiesIfInvalid) {
    ReactionInput in = For(ErrorClass::kAuthentication, "Not Authorized");
    EXPECT_EQ(Kinds(PlanReactions(in, {})), (std::vector<K>{K::kRecord, K::kValidateToken}));
    in.token_valid = false;
    const auto invalid = PlanReactions(in, {});
    EXPECT_EQ(Kinds(invalid), (std::vector<K>{K::kRecord, K::kNotifyAdmin, K::kNotifyUser}));
    EXPECT_NE(invalid[1].suggestion.find("token"), std::string::npos);
    in.token_valid = true;
    EXPECT_EQ(Kinds(PlanReactions(in, {})), (std::vector<K>{K::kRecord, K::kNotifyUser}));
}

TEST(Reactions, ResourceChecksTheQuotaThenNotifiesIfExceeded) {
    ReactionInput in = For(ErrorClass::kResource, "usage limit reached");
    EXPECT_EQ(Kinds(PlanReactions(in, {})), (std::vector<K>{K::kRecord, K::kCheckQuota}));
    in.quota_exceeded = true;
    const auto exceeded = PlanReactions(in, {});
    EXPECT_EQ(Kinds(exceeded), (std::vector<K>{K::kRecord, K::kNotifyAdmin, K::kNotifyUser}));
    EXPECT_EQ(exceeded[1].type, "RESOURCE_QUOTA_EXCEEDED");
    in.quota_exceeded = false;
    EXPECT_EQ(Kinds(PlanReactions(in, {})), (std::vector<K>{K::kRecord, K::kNotifyUser}));
}

TEST(Reactions, TimeoutNotifiesAdminOnlyAfterTenMinutes) {
    ReactionInput in = For(ErrorClass::kTimeout, "healthcheck");
    in.elapsed = minutes(10);
    EXPECT_EQ(Find(PlanReactions(in, {}), K::kNotifyAdmin), nullptr);
    in.elapsed = minutes(10) + Seconds(1);
    const auto actions = PlanReactions(in, {});
    const Action* notify = Find(actions, K::kNotifyAdmin);
    ASSERT_NE(notify, nullptr);
    EXPECT_EQ(notify->type, "DEPLOYMENT_TIMEOUT");
    EXPECT_NE(notify->reason.find("601 s"), std::string::npos);
    ReactionPolicy policy;
    policy.timeout_notify_after = minutes(2);
    in.elapsed = minutes(3);
    EXPECT_NE(Find(PlanReactions(in, policy), K::kNotifyAdmin), nullptr);
}

TEST(Reactions, UnknownKeepsMessageAndContextAndNotifiesAdmin) {
    ReactionInput in = For(ErrorClass::kUnknown, "segfault");
    in.context = "at main.cpp:12\nlast log: starting";
    const auto actions = PlanReactions(in, {});
    EXPECT_EQ(Kinds(actions), (std::vector<K>{K::kRecord, K::kNotifyAdmin, K::kNotifyUser}));
    EXPECT_EQ(actions[0].reason, "Unknown error: segfault\nat main.cpp:12\nlast log: starting");
    EXPECT_EQ(actions[1].type, "UNKNOWN_ERROR");
}

TEST(Reactions, ApiOnlyFailuresDoNotNotifyTheUser) {
    for (ErrorClass c : kAllErrorClasses) {
        ReactionInput in = For(c);
        in.deployment_failed = false;
        in.retry_count = 3;
        in.token_valid = false;
        in.quota_exceeded = true;
        EXPECT_EQ(Find(PlanReactions(in, {}), K::kNotifyUser), nullptr) << ToString(c);
    }
    ReactionPolicy quiet;
    quiet.notify_user = false;
    EXPECT_EQ(Find(PlanReactions(For(ErrorClass::kConfiguration), quiet), K::kNotifyUser), nullptr);
}

TEST(Reactions, EveryClassStartsWithARecordAndEveryActionKindIsReachable) {
    std::set<ActionKind> seen;
    for (ErrorClass c : kAllErrorClasses) {
        for (std::optional<bool> answer :
             {std::optional<bool>{}, std::optional<bool>{true}, std::optional<bool>{false}}) {
            for (int retry : {0, 3}) {
                ReactionInput in = For(c);
                in.token_valid = answer;
                in.quota_exceeded = answer;
                in.retry_count = retry;
                in.elapsed = minutes(30);
                const auto actions = PlanReactions(in, {});
                ASSERT_FALSE(actions.empty());
                EXPECT_EQ(actions.front().kind, K::kRecord);
                for (const Action& a : actions)
                    seen.insert(a.kind);
            }
        }
    }
    EXPECT_EQ(seen.size(), 7u);
}

TEST(ActionKind, HasDistinctNames) {
    std::set<std::string_view> names;
    for (K k : {K::kRedeploy, K::kNotifyAdmin, K::kNotifyUser, K::kFlagAttention, K::kValidateToken, K::kCheckQuota,
                K::kRecord}) {
        names.insert(ToString(k));
    }
    EXPECT_EQ(names.size(), 7u);
}

}  // namespace
}  // namespace railwatch::core

namespace railwatch::core {
namespace {

TEST(RedeployRetry, TriesAgainWithGrowingBackoffUntilTheAttemptsAreSpent) {
    ReactionPolicy policy;
    policy.max_redeploys = 3;
    policy.redeploy_backoff.base = Seconds(10);
    policy.redeploy_backoff.cap = Seconds(300);
    policy.redeploy_backoff.factor = 2;
    // Full jitter with the top draw: the ceilings themselves.
    const auto first = PlanRedeployRetry(1, policy, 0.999999);
    const auto second = PlanRedeployRetry(2, policy, 0.999999);
    ASSERT_TRUE(first && second);
    EXPECT_GT(*second, *first);
    EXPECT_LE(*second, Seconds(300));
    EXPECT_FALSE(PlanRedeployRetry(3, policy, 0.5).has_value());  // three attempts made: a person looks
    EXPECT_FALSE(PlanRedeployRetry(4, policy, 0.5).has_value());
}

}  // namespace
}  // namespace railwatch::core
