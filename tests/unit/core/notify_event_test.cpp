#include "core/notify_event.hpp"

#include <gtest/gtest.h>

#include <set>

namespace railwatch::core {
namespace {

TEST(NotifyEventType, EveryTypeHasAUniqueNameThatParsesBack) {
    std::set<std::string_view> names;
    for (const NotifyEventType type : kAllNotifyEventTypes) {
        const std::string_view name = ToString(type);
        EXPECT_TRUE(names.insert(name).second) << name;
        EXPECT_EQ(ParseNotifyEventType(name), type) << name;
        EXPECT_FALSE(DefaultTitle(type).empty()) << name;
    }
    EXPECT_EQ(names.size(), 13u);
    EXPECT_FALSE(ParseNotifyEventType("DEPLOYMENT_FAILED"));
    EXPECT_FALSE(ParseNotifyEventType(""));
}

TEST(NotifyEventType, DeploymentEventsAreForTheUserAndNoticesForAdmins) {
    EXPECT_EQ(AudienceOf(NotifyEventType::kDeploymentFailed), Audience::kUser);
    EXPECT_EQ(AudienceOf(NotifyEventType::kCrashLoop), Audience::kUser);
    EXPECT_EQ(AudienceOf(NotifyEventType::kDeploymentRecovered), Audience::kUser);
    EXPECT_EQ(AudienceOf(NotifyEventType::kConfigurationError), Audience::kAdmin);
    EXPECT_EQ(AudienceOf(NotifyEventType::kTokenInvalid), Audience::kAdmin);
    EXPECT_EQ(AudienceOf(NotifyEventType::kQuotaExceeded), Audience::kAdmin);
}

TEST(NotifyEventType, OnlyRecoveryIsNotAProblem) {
    for (const NotifyEventType type : kAllNotifyEventTypes) {
        EXPECT_EQ(IsProblem(type), type != NotifyEventType::kDeploymentRecovered) << ToString(type);
    }
}

TEST(NotifyEventType, AdminNoticesNameTheirErrorClass) {
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kConfigurationError), ErrorClass::kConfiguration);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kNetworkError), ErrorClass::kNetwork);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kAuthenticationError), ErrorClass::kAuthentication);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kTokenInvalid), ErrorClass::kAuthentication);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kResourceError), ErrorClass::kResource);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kQuotaExceeded), ErrorClass::kResource);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kTimeoutError), ErrorClass::kTimeout);
    EXPECT_EQ(ErrorClassOf(NotifyEventType::kUnknownError), ErrorClass::kUnknown);
    EXPECT_FALSE(ErrorClassOf(NotifyEventType::kDeploymentFailed));
}

// Every notifying action of the reaction table maps to a notice: run PlanReactions for each
// class with the answers that make it notify, and check the type of each notice.
ReactionInput Input(ErrorClass error_class) {
    ReactionInput input;
    input.error_class = error_class;
    input.message = "x";
    return input;
}

Action AdminAction(std::string type, ActionKind kind = ActionKind::kNotifyAdmin) {
    Action action;
    action.kind = kind;
    action.type = std::move(type);
    return action;
}

// Every notifying action of the reaction table maps to a notice: run PlanReactions for each
// class with the answers that make it notify, and check the type of each notice.
TEST(EventTypeForAction, EveryNotifyingReactionMapsToItsNotice) {
    const ReactionPolicy policy;
    const auto admin_type = [&](const ReactionInput& input) -> std::optional<NotifyEventType> {
        for (const Action& action : PlanReactions(input, policy)) {
            if (action.kind == ActionKind::kNotifyAdmin) return EventTypeForAction(action);
        }
        return std::nullopt;
    };
    EXPECT_EQ(admin_type(Input(ErrorClass::kConfiguration)), NotifyEventType::kConfigurationError);
    ReactionInput network = Input(ErrorClass::kNetwork);
    network.retry_count = 3;
    EXPECT_EQ(admin_type(network), NotifyEventType::kNetworkError);
    ReactionInput auth = Input(ErrorClass::kAuthentication);
    auth.token_valid = false;
    EXPECT_EQ(admin_type(auth), NotifyEventType::kTokenInvalid);
    ReactionInput resource = Input(ErrorClass::kResource);
    resource.quota_exceeded = true;
    EXPECT_EQ(admin_type(resource), NotifyEventType::kQuotaExceeded);
    ReactionInput timeout = Input(ErrorClass::kTimeout);
    timeout.elapsed = std::chrono::minutes(11);
    EXPECT_EQ(admin_type(timeout), NotifyEventType::kTimeoutError);
    EXPECT_EQ(admin_type(Input(ErrorClass::kUnknown)), NotifyEventType::kUnknownError);

    bool saw_user_notice = false;
    for (const Action& action : PlanReactions(Input(ErrorClass::kConfiguration), policy)) {
        if (action.kind == ActionKind::kNotifyUser) {
            saw_user_notice = true;
            EXPECT_EQ(EventTypeForAction(action), NotifyEventType::kDeploymentFailed);
        }
        if (action.kind == ActionKind::kFlagAttention || action.kind == ActionKind::kRecord) {
            EXPECT_FALSE(EventTypeForAction(action));
        }
    }
    EXPECT_TRUE(saw_user_notice);
}

TEST(EventTypeForAction, OtherClassTypesMapByPrefixAndUnknownTypesStillReachAdmins) {
    EXPECT_EQ(EventTypeForAction(AdminAction("AUTHENTICATION_SERVICE")), NotifyEventType::kAuthenticationError);
    EXPECT_EQ(EventTypeForAction(AdminAction("RESOURCE_ERROR")), NotifyEventType::kResourceError);
    EXPECT_EQ(EventTypeForAction(AdminAction("SOMETHING_NEW")), NotifyEventType::kUnknownError);
    EXPECT_FALSE(EventTypeForAction(AdminAction("NETWORK_ERROR", ActionKind::kRedeploy)));
}

TEST(MakeEventId, SameOccurrenceSameIdAndAnyDifferenceChangesIt) {
    const Timestamp at = Timestamp(Seconds(1'800'000'000));
    const std::string id = MakeEventId(NotifyEventType::kDeploymentFailed, "ins_1", "dep-1", at);
    EXPECT_EQ(id, MakeEventId(NotifyEventType::kDeploymentFailed, "ins_1", "dep-1", at));
    EXPECT_EQ(id, "deployment_failed:ins_1:dep-1:1800000000000000000");
    EXPECT_NE(id, MakeEventId(NotifyEventType::kDeploymentCrashed, "ins_1", "dep-1", at));
    EXPECT_NE(id, MakeEventId(NotifyEventType::kDeploymentFailed, "ins_2", "dep-1", at));
    EXPECT_NE(id, MakeEventId(NotifyEventType::kDeploymentFailed, "ins_1", "dep-2", at));
    EXPECT_NE(id, MakeEventId(NotifyEventType::kDeploymentFailed, "ins_1", "dep-1", at + Millis(1)));
}

TEST(MakeEventId, LongIdsAreShortenedStablyAndStayDistinct) {
    const Timestamp at = Timestamp(Seconds(1));
    const std::string long_a(300, 'a');
    std::string long_b = long_a;
    long_b.back() = 'b';
    const std::string a = MakeEventId(NotifyEventType::kCrashLoop, long_a, "d", at);
    const std::string b = MakeEventId(NotifyEventType::kCrashLoop, long_b, "d", at);
    EXPECT_LE(a.size(), 160u);
    EXPECT_EQ(a, MakeEventId(NotifyEventType::kCrashLoop, long_a, "d", at));
    EXPECT_NE(a, b);
}

TEST(Utf8Prefix, NeverCutsACharacterInTwo) {
    const std::string text = "ab\u00e9\u4e2d";  // 2 + 2 + 3 bytes
    EXPECT_EQ(Utf8Prefix(text, 3), "ab");
    EXPECT_EQ(Utf8Prefix(text, 4), "ab\u00e9");
    EXPECT_EQ(Utf8Prefix(text, 6), "ab\u00e9");
    EXPECT_EQ(Utf8Prefix(text, 7), text);
    EXPECT_EQ(Utf8Prefix(text, 100), text);
}

TEST(StableHash128, IsFixedAcrossBuilds) {
    // FNV-1a 64 of "" is its offset basis; these values pin the function so keys stay stable.
    EXPECT_EQ(StableHash128(""), "cbf29ce4842223256c62272e07bb0142");
    EXPECT_EQ(StableHash128("a").size(), 32u);
    EXPECT_NE(StableHash128("a"), StableHash128("b"));
}

TEST(TitleOf, UsesTheDefaultAndMarksReminders) {
    NotifyEvent event;
    event.type = NotifyEventType::kCrashLoop;
    EXPECT_EQ(TitleOf(event), "Deployment is crash-looping");
    event.title = "api crash-looping";
    event.reminder = 2;
    EXPECT_EQ(TitleOf(event), "Reminder: api crash-looping");
}

}  // namespace
}  // namespace railwatch::core
