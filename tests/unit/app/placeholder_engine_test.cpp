#include "app/placeholder_engine.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"

namespace railwatch::app {
namespace {

/// Records what the engine tells the layers above it.
class RecordingSink final : public monitor::EventSink {
  public:
    void OnInstance(const store::Instance& instance) override { instances.push_back(instance); }
    void OnTransition(const store::Instance&, const store::TimelineEvent&) override {}
    void OnHealth(const store::Instance&, const store::HealthCheck&) override {}
    std::vector<store::Instance> instances;
};

class PlaceholderEngineTest : public ::testing::Test {
  protected:
    railwatch::test::TempDir dir_{"railwatch-placeholder-"};
    util::FakeClock clock_;
    std::unique_ptr<store::Store> store_ = store::OpenStore("sqlite:" + dir_.File("rw.db")).value();
    RecordingSink sink_;
    PlaceholderEngine engine_{*store_, clock_, sink_, 30};
};

TEST_F(PlaceholderEngineTest, AddInstanceStoresItDueNowAndTellsTheSink) {
    monitor::AddInstanceRequest request;
    request.service_id = "svc";
    request.environment_id = "env";
    request.deployment_id = "dep";
    auto added = engine_.AddInstance(request);
    ASSERT_TRUE(added) << added.error().ToString();
    EXPECT_EQ(added->state.next_check_at, clock_.Now());
    EXPECT_EQ(added->check_interval_s, 30);
    ASSERT_EQ(sink_.instances.size(), 1u);
    EXPECT_EQ(sink_.instances[0].id, added->id);
    EXPECT_EQ(store_->GetInstance(added->id)->service_id, "svc");
}

TEST_F(PlaceholderEngineTest, RejectsBadRequestsAndUnknownUsers) {
    monitor::AddInstanceRequest request;
    request.environment_id = "env";
    EXPECT_EQ(engine_.AddInstance(request).error().code, util::ErrorCode::kInvalidArgument);
    request.service_id = "svc";
    request.check_interval_s = 0;
    EXPECT_EQ(engine_.AddInstance(request).error().code, util::ErrorCode::kInvalidArgument);
    request.check_interval_s = std::nullopt;
    request.user_id = "usr_nobody";
    EXPECT_EQ(engine_.AddInstance(request).error().code, util::ErrorCode::kNotFound);
    EXPECT_TRUE(sink_.instances.empty());
}

TEST_F(PlaceholderEngineTest, AWebhookMakesTheMonitoredInstancesOfItsDeploymentDueNow) {
    monitor::AddInstanceRequest request;
    request.service_id = "svc";
    request.environment_id = "env";
    request.deployment_id = "dep";
    const std::string a = engine_.AddInstance(request)->id;
    const std::string b = engine_.AddInstance(request)->id;
    ASSERT_TRUE(engine_.SetMonitoring(b, false, std::nullopt));
    clock_.Advance(core::Seconds(60));
    auto woken = engine_.CheckDeploymentNow("dep");
    ASSERT_TRUE(woken);
    EXPECT_EQ(*woken, 1);
    EXPECT_EQ(store_->GetInstance(a)->state.next_check_at, clock_.Now());
    EXPECT_EQ(*engine_.CheckDeploymentNow("dep-unknown"), 0);
}

TEST_F(PlaceholderEngineTest, RefusesRedeploysItCannotDoAndDeletesForHistory) {
    monitor::AddInstanceRequest request;
    request.service_id = "svc";
    request.environment_id = "env";
    const std::string id = engine_.AddInstance(request)->id;
    EXPECT_EQ(engine_.Redeploy(id).error().code, util::ErrorCode::kUnavailable);
    EXPECT_EQ(engine_.Redeploy("ins_missing").error().code, util::ErrorCode::kNotFound);
    auto deleted = engine_.DeleteInstance(id);
    ASSERT_TRUE(deleted);
    EXPECT_EQ(deleted->state.status, core::InstanceStatus::kDeleted);
    EXPECT_TRUE(deleted->deleted_at.has_value());
}

}  // namespace
}  // namespace railwatch::app
