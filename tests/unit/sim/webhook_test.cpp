// Railway-style project webhooks: every status change reported once, in time order, with
// Railway's payload; the sender posts them when they are due, off the request path.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "fakes/scripted_transport.hpp"
#include "sim/simulator.hpp"
#include "sim/webhook_sender.hpp"
#include "sim_test_support.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::Control;
using testing::Gql;
using testing::SimulatorTest;

std::vector<json> Bodies(const WebhookBatch& batch) {
    std::vector<json> out;
    for (const auto& b : batch.bodies)
        out.push_back(json::parse(b));
    return out;
}

std::vector<std::string> Planned(const json& truth) {
    std::vector<std::string> out;
    for (const auto& e : truth["plannedTimeline"])
        out.push_back(e["status"]);
    return out;
}

TEST_F(SimulatorTest, NoWebhooksUntilAUrlIsSetAndNoneForChangesBeforeThat) {
    const std::string early = Create({{"kind", "success"}})[0];
    EXPECT_TRUE(sim_->TakeWebhooks().url.empty());
    EXPECT_TRUE(sim_->TakeWebhooks().bodies.empty());
    clock_.Advance(2s);  // some of `early`'s changes happen while webhooks are off
    Configure({{"webhookUrl", "http://127.0.0.1:9/hooks"}});
    const WebhookBatch batch = sim_->TakeWebhooks();
    EXPECT_EQ(batch.url, "http://127.0.0.1:9/hooks");
    EXPECT_TRUE(batch.secret_header.first.empty());
    EXPECT_TRUE(batch.bodies.empty());
    ASSERT_TRUE(batch.next_at.has_value());
    EXPECT_GT(*batch.next_at, clock_.Now());
    clock_.Advance(1h);
    const auto later = Bodies(sim_->TakeWebhooks());
    ASSERT_FALSE(later.empty());
    EXPECT_EQ(later.back()["details"]["status"], "SUCCESS");
    EXPECT_NE(later.front()["details"]["status"], "INITIALIZING");
    Configure({{"webhookUrl", ""}});
    Create({{"kind", "success"}});
    clock_.Advance(1h);
    EXPECT_TRUE(sim_->TakeWebhooks().bodies.empty());
}

TEST_F(SimulatorTest, EveryStatusChangeIsReportedOnceInTimeOrderWithRailwaysPayload) {
    Configure({{"webhookUrl", "http://127.0.0.1:9/hooks"}, {"webhookSecret", "s3cret"}});
    const std::string ok = Create({{"kind", "success"}, {"serviceId", "svc-a"}, {"serviceName", "api"}})[0];
    const std::string bad = Create({{"kind", "build_failed"}, {"serviceId", "svc-b"}})[0];
    const WebhookBatch first = sim_->TakeWebhooks();
    EXPECT_EQ(first.secret_header, (net::ServerHeader{"X-Webhook-Secret", "s3cret"}));
    const auto created = Bodies(first);
    ASSERT_EQ(created.size(), 2u);
    const json& init = created[0];
    EXPECT_EQ(init["type"], "Deployment.initializing");
    EXPECT_EQ(init["details"]["id"], ok);
    EXPECT_EQ(init["details"]["status"], "INITIALIZING");
    EXPECT_EQ(init["resource"]["deployment"]["id"], ok);
    EXPECT_EQ(init["resource"]["service"], (json{{"id", "svc-a"}, {"name", "api"}}));
    EXPECT_EQ(init["resource"]["environment"]["id"], World::kEnvironmentId);
    EXPECT_EQ(init["resource"]["environment"]["isEphemeral"], false);
    EXPECT_EQ(init["resource"]["project"]["id"], World::kProjectId);
    EXPECT_EQ(init["resource"]["workspace"]["id"], World::kWorkspaceId);
    EXPECT_EQ(init["severity"], "INFO");
    EXPECT_TRUE(init["timestamp"].is_string());
    EXPECT_EQ(created[1]["details"]["id"], bad);

    std::map<std::string, std::vector<std::string>> seen{{ok, {"INITIALIZING"}}, {bad, {"INITIALIZING"}}};
    std::string last_time;
    for (int step = 0; step < 400; ++step) {  // 400 × 50 ms: past every planned change
        clock_.Advance(50ms);
        for (const auto& b : Bodies(sim_->TakeWebhooks())) {
            seen[b["details"]["id"]].push_back(b["details"]["status"]);
            EXPECT_GE(b["timestamp"].get<std::string>(), last_time);
            last_time = b["timestamp"];
            if (b["details"]["status"] == "FAILED") {
                EXPECT_EQ(b["type"], "Deployment.failed");
                EXPECT_EQ(b["severity"], "WARNING");
            }
        }
    }
    EXPECT_EQ(seen[ok], Planned(Truth(ok)));
    EXPECT_EQ(seen[bad], Planned(Truth(bad)));
    EXPECT_EQ(seen[bad].back(), "FAILED");
    EXPECT_FALSE(sim_->TakeWebhooks().next_at.has_value());
}

TEST_F(SimulatorTest, WebhooksFollowMutationsAndStopForDeletedDeployments) {
    Configure({{"webhookUrl", "http://127.0.0.1:9/hooks"}});
    const auto ids = Create({{"count", 2}, {"kind", "stuck_deploying"}});
    clock_.Advance(1s);  // building
    (void)sim_->TakeWebhooks();
    const json cancelled = Query(R"(mutation C($id: String!) { deploymentCancel(id: $id) })", {{"id", ids[0]}});
    ASSERT_EQ(cancelled["data"]["deploymentCancel"], true) << cancelled.dump();
    const auto now = Bodies(sim_->TakeWebhooks());
    ASSERT_EQ(now.size(), 1u);  // REMOVED at once, at the same instant as the earlier take
    EXPECT_EQ(now[0]["details"]["id"], ids[0]);
    EXPECT_EQ(now[0]["type"], "Deployment.removed");
    ASSERT_EQ(sim_->HandleControl(Control("POST", "/_sim/deployments/delete", json{{"ids", {ids[1]}}}.dump())).status,
              200);
    clock_.Advance(1h);
    for (const auto& b : Bodies(sim_->TakeWebhooks()))
        EXPECT_NE(b["details"]["id"], ids[1]);
}

/// Waits (real time, bounded) until `done` holds; the sender runs on its own thread.
template <typename Done>
bool Eventually(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

TEST(WebhookSender, PostsEachStatusChangeWhenItIsDueAndCountsTheOutcomes) {
    util::FakeClock clock(util::FakeClock::DefaultStart(), util::FakeClock::WaitMode::kBlock);
    SimConfig config;
    config.time_scale = 60;
    config.rate_limit = {.rps = 0, .rph = 0, .edge_rps = 0};
    config.webhook.url = "http://127.0.0.1:9/hooks";
    config.webhook.secret = "s3cret";
    config.webhook.secret_header = "X-Railwatch-Secret";
    Simulator sim(config, clock);
    fakes::ScriptedTransport transport;
    transport.SetHandler([](const net::HttpRequest& req) {
        net::HttpResponse res;
        res.status = json::parse(req.body)["details"]["status"] == "FAILED" ? 500 : 204;
        return res;
    });
    const auto created = sim.HandleControl(Control("POST", "/_sim/deployments", R"({"kind":"build_failed"})"));
    ASSERT_EQ(created.status, 201);
    const std::string id = json::parse(created.body)["ids"][0];
    const std::size_t planned = sim.Truth({id})["deployments"][0]["plannedTimeline"].size();
    ASSERT_GE(planned, 3u);

    WebhookSender sender(sim, transport, clock);
    sender.Start();
    ASSERT_TRUE(Eventually([&] { return transport.request_count() == 1 && clock.Waiters() == 1; }));
    const net::HttpRequest first = transport.requests()[0];
    EXPECT_EQ(first.method, "POST");
    EXPECT_EQ(first.url, "http://127.0.0.1:9/hooks");
    EXPECT_EQ(net::FindHeader(first.headers, "X-Railwatch-Secret").value_or(""), "s3cret");
    EXPECT_EQ(net::FindHeader(first.headers, "Content-Type").value_or(""), "application/json");
    EXPECT_EQ(json::parse(first.body)["details"]["status"], "INITIALIZING");

    clock.Advance(1h);
    ASSERT_TRUE(Eventually([&] { return transport.request_count() == planned; }));
    ASSERT_TRUE(Eventually([&] { return clock.Waiters() == 1; }));
    EXPECT_EQ(json::parse(transport.requests().back().body)["details"]["status"], "FAILED");
    sender.Stop();
    const json stats = sim.Stats()["webhooks"];
    EXPECT_EQ(stats["sent"], planned);
    EXPECT_EQ(stats["delivered"], planned - 1);
    EXPECT_EQ(stats["failed"], 1);
    EXPECT_EQ(stats["dropped"], 0);
}

}  // namespace
}  // namespace railwatch::sim
