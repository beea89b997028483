#include "sim/sim_server.hpp"

namespace railwatch::sim {
namespace {

net::HttpServerOptions ApiOptions(const SimServerOptions& o) {
    net::HttpServerOptions options;
    options.host = o.host;
    options.port = o.port;
    options.threads = o.threads;
    options.max_body_bytes = std::size_t{1024} * 1024;
    return options;
}

net::HttpServerOptions HealthOptions(const SimServerOptions& o) {
    net::HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = o.health_threads;
    options.max_body_bytes = std::size_t{64} * 1024;
    return options;
}

}  // namespace

SimServer::SimServer(SimConfig config, const util::Clock& clock, const SimServerOptions& options)
    : simulator_(std::make_unique<Simulator>(std::move(config), clock, &resetter_)),
      api_(ApiOptions(options)),
      health_(HealthOptions(options)),
      sender_(*simulator_, transport_, clock) {
    Simulator* sim = simulator_.get();
    api_.Route("POST", "/graphql/v2",
               [sim](const net::ServerRequest& req, net::ServerResponse& res) { res = sim->HandleGraphql(req); });
    api_.Route("GET", "/_sim/.*",
               [sim](const net::ServerRequest& req, net::ServerResponse& res) { res = sim->HandleControl(req); });
    api_.Route("POST", "/_sim/.*",
               [sim](const net::ServerRequest& req, net::ServerResponse& res) { res = sim->HandleControl(req); });
    api_.Route("GET", "/healthz",
               [](const net::ServerRequest&, net::ServerResponse& res) { res.body = R"({"ok":true})"; });
    health_.Route("GET", "/s/.*",
                  [sim](const net::ServerRequest& req, net::ServerResponse& res) { res = sim->HandleHealth(req); });
}

SimServer::~SimServer() {
    Stop();
}

util::Result<void> SimServer::Start() {
    auto health_port = health_.Start();
    if (!health_port) return tl::unexpected(health_port.error());
    simulator_->SetHealthBaseUrl(health_.BaseUrl());
    auto port = api_.Start();
    if (!port) {
        health_.Stop();
        return tl::unexpected(port.error());
    }
    auto created = simulator_->CreateScenarioDeployments();
    if (!created) {
        Stop();
        return created;
    }
    sender_.Start();
    return util::Ok();
}

void SimServer::Stop() {
    simulator_->Stop();
    api_.Stop();
    health_.Stop();
    sender_.Stop();
}

int SimServer::Port() const {
    return api_.Port();
}

std::string SimServer::BaseUrl() const {
    return api_.BaseUrl();
}

std::string SimServer::HealthBaseUrl() const {
    return health_.BaseUrl();
}

}  // namespace railwatch::sim
