#include "notify/in_app_channel.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify_fakes.hpp"
#include "test_rows.hpp"

namespace railwatch::notify {
namespace {

using core::DeliveryVerdict;
using test::RowFor;
using test::SampleEvent;

TEST(InAppChannel, StoresTheEventInTheUsersInboxUnderAnIdDerivedFromTheDedupKey) {
    test::FakeOutboxStore inbox;
    inbox.AddUser("usr_1");
    InAppChannel channel(inbox);
    const store::OutboxRow row = RowFor(SampleEvent(), core::NotifyRoute::kUserInApp, "usr_1");
    EXPECT_TRUE(channel.Deliver(row).accepted());
    const auto stored = inbox.Inbox();
    ASSERT_EQ(stored.size(), 1u);
    const store::Notification& n = stored.begin()->second;
    EXPECT_EQ(n.id, InAppNotificationId(row.message.dedup_key));
    EXPECT_EQ(stored.begin()->first, n.id);
    EXPECT_EQ(n.user_id, "usr_1");
    EXPECT_EQ(n.type, "deployment_failed");
    EXPECT_EQ(n.title, "Deployment failed");
    EXPECT_EQ(n.message, "missing environment variable DATABASE_URL");
    EXPECT_EQ(n.created_at, row.message.created_at);
    EXPECT_EQ(nlohmann::json::parse(n.data)["next_step"], "set DATABASE_URL in the service's variables");
}

TEST(InAppChannel, DeliveringTheSameRowAgainAddsNothing) {
    test::FakeOutboxStore inbox;
    inbox.AddUser("usr_1");
    InAppChannel channel(inbox);
    const store::OutboxRow row = RowFor(SampleEvent(), core::NotifyRoute::kUserInApp, "usr_1");
    EXPECT_TRUE(channel.Deliver(row).accepted());
    const DeliveryOutcome again = channel.Deliver(row);
    EXPECT_TRUE(again.accepted());
    EXPECT_NE(again.detail.find("already"), std::string::npos);
    EXPECT_EQ(inbox.Inbox().size(), 1u);
}

TEST(InAppChannel, AnUnknownUserIsPermanentAndAnUnavailableStoreIsRetried) {
    test::FakeOutboxStore inbox;
    InAppChannel channel(inbox);
    const store::OutboxRow row = RowFor(SampleEvent(), core::NotifyRoute::kUserInApp, "usr_gone");
    const DeliveryOutcome missing = channel.Deliver(row);
    EXPECT_EQ(missing.verdict, DeliveryVerdict::kPermanent);
    EXPECT_NE(missing.detail.find("usr_gone"), std::string::npos);
    inbox.AddUser("usr_gone");
    inbox.SetInboxUnavailable(true);
    EXPECT_EQ(channel.Deliver(row).verdict, DeliveryVerdict::kRetry);
}

TEST(InAppNotificationId, IsStablePerKeyDistinctAcrossKeysAndUrlSafe) {
    const std::string id = InAppNotificationId("evt|in_app|usr_1");
    EXPECT_EQ(id, InAppNotificationId("evt|in_app|usr_1"));
    EXPECT_NE(id, InAppNotificationId("evt|in_app|usr_2"));
    EXPECT_EQ(id.rfind("ntf_", 0), 0u);
    EXPECT_EQ(id.find_first_not_of("ntf_0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace railwatch::notify
