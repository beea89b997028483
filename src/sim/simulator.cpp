#include "sim/simulator.hpp"

#include <mutex>
#include <shared_mutex>

#include "sim/control_api.hpp"
#include "sim/graphql_pipeline.hpp"
#include "sim/health_endpoints.hpp"
#include "sim/sim_state.hpp"
#include "sim/status_feed.hpp"

namespace railwatch::sim {

Simulator::Simulator(SimConfig config, const util::Clock& clock, ConnectionResetter* resetter)
    : state_(std::make_unique<SimState>(std::move(config), clock, resetter)),
      graphql_(std::make_unique<GraphqlPipeline>(*state_)),
      control_(std::make_unique<ControlApi>(*state_)),
      health_(std::make_unique<HealthEndpoints>(*state_)) {}

Simulator::~Simulator() = default;

util::Result<void> Simulator::CreateScenarioDeployments() {
    return control_->CreateScenarioDeployments();
}

void Simulator::Stop() {
    state_->stop.Stop();
    state_->webhook_changes.Stop();
}

void Simulator::SetHealthBaseUrl(std::string url) {
    std::unique_lock lock(state_->mutex);
    state_->health_base_url = std::move(url);
}

net::ServerResponse Simulator::HandleGraphql(const net::ServerRequest& req) {
    return graphql_->Handle(req);
}

net::ServerResponse Simulator::HandleControl(const net::ServerRequest& req) {
    return control_->Handle(req);
}

net::ServerResponse Simulator::HandleHealth(const net::ServerRequest& req) {
    return health_->Handle(req);
}

nlohmann::json Simulator::Stats() const {
    return state_->counters.ToJson();
}

nlohmann::json Simulator::Truth(const std::vector<std::string>& ids) const {
    return control_->Truth(ids);
}

WebhookBatch Simulator::TakeWebhooks() {
    WebhookBatch batch;
    std::unique_lock lock(state_->mutex);
    const WebhookConfig& target = state_->config.webhook;
    if (target.url.empty()) return batch;
    batch.url = target.url;
    if (!target.secret.empty()) batch.secret_header = {target.secret_header, target.secret};
    World& world = *state_->world;
    for (const StatusChange& change : state_->feed.Take(world, state_->clock.Now()))
        batch.bodies.push_back(WebhookBody(world, change));
    batch.next_at = state_->feed.NextAt(world);
    return batch;
}

util::Wakeup& Simulator::WebhookWakeup() {
    return state_->webhook_changes;
}

void Simulator::RecordWebhook(WebhookOutcome outcome) {
    state_->counters.Update([outcome](SimCounters::Values& c) {
        switch (outcome) {
            case WebhookOutcome::kDelivered:
                ++c.webhooks_sent;
                ++c.webhooks_delivered;
                break;
            case WebhookOutcome::kFailed:
                ++c.webhooks_sent;
                ++c.webhooks_failed;
                break;
            case WebhookOutcome::kDropped:
                ++c.webhooks_dropped;
                break;
        }
    });
}

}  // namespace railwatch::sim
