#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/event_hub.hpp"
#include "api/router.hpp"
#include "core/detect.hpp"
#include "core/stats_history.hpp"
#include "monitor/operations.hpp"
#include "net/http_server.hpp"
#include "store/health_checks.hpp"
#include "store/inbox.hpp"
#include "store/instances.hpp"
#include "store/logs.hpp"
#include "store/outbox.hpp"
#include "store/queries.hpp"
#include "store/schema.hpp"
#include "store/timeline.hpp"
#include "store/users.hpp"
#include "util/clock.hpp"
#include "util/metrics.hpp"

/// railwatch's REST API (`/api/v1`, docs/API.md), `/healthz`, `/readyz`, `/metrics` and the
/// dashboard's files, as plain request → response functions: no sockets here (ApiServer puts
/// them on HTTP). Reads come straight from the store's roles; every change goes through
/// monitor::Operations.
namespace railwatch::api {

/// The store roles the API reads (a store::Store& converts to each). Not owned; they must outlive
/// the API.
struct StoreRoles {
    store::Schema& schema;
    store::Users& users;
    store::Instances& instances;
    store::Timeline& timeline;
    store::Logs& logs;
    store::HealthChecks& health;
    store::Queries& queries;
    store::Inbox& inbox;
    store::Outbox& outbox;
};

/// What the API asks of the process's notifier after it changed the outbox or an endpoint flag
/// (app::Service implements it over notify::Notifier). Thread-safety: both calls from any thread.
class DeliveryControl {
  public:
    virtual ~DeliveryControl() = default;
    /// Rows are due now (a replayed delivery): the dispatcher looks at once instead of at its next
    /// poll. Never blocks on a delivery.
    virtual void WakeDispatcher() = 0;
    /// The store no longer holds endpoint `key` disabled: the running channel of that endpoint
    /// (if any) forgets the 410 it remembered, so that its next rows are sent again.
    virtual void EndpointEnabled(const std::string& key) = 0;
};

struct RestApiOptions {
    /// The bearer token /api/* requires; empty: no authentication.
    std::string api_token;
    /// Larger request bodies get 413.
    std::size_t max_body_bytes = std::size_t{64} * 1024;
    /// The shared secret `POST /api/v1/hooks/railway` requires in `webhook_secret_header`;
    /// empty: none. That route does not take the bearer token (Railway cannot send one).
    std::string webhook_secret;
    std::string webhook_secret_header = "X-Webhook-Secret";
    /// The notifier to tell about replays and re-enabled endpoints; not owned, must outlive the
    /// API. Null: replayed rows wait for the dispatcher's next poll, and a re-enabled endpoint is
    /// used again after the next restart.
    DeliveryControl* deliveries = nullptr;
    /// The Railway request budget for GET /stats (app::Engine::Budget); called once per request
    /// from any thread. Empty, or nullopt: `budget` is null.
    std::function<std::optional<core::BudgetStatus>()> budget;
    /// Deployment checks per minute for GET /stats (app::Engine::ChecksPerMinute); called once per
    /// request from any thread. Empty: `checksPerMinute` is null.
    std::function<double()> checks_per_minute;
    /// The stall deadlines GET /attention judges with: the engine's (app::MonitorSettings::
    /// StuckPolicy), so that the list and the engine's flags agree.
    core::StuckPolicy stuck_policy;
};

/// Thread-safety: Handle from any number of threads at once (the roles, the operations and the
/// hub are thread-safe). Construct once; routes are fixed at construction.
class RestApi {
  public:
    /// Everything referenced must outlive the API. `metrics` may be null (no /metrics
    /// content but the API's own is then unavailable: /metrics answers 404); `hub` may be null
    /// (/api/v1/stream answers 503).
    RestApi(StoreRoles store, monitor::Operations& operations, const util::Clock& clock, util::MetricsRegistry* metrics,
            EventHub* hub, RestApiOptions options);

    /// Answers one request: the route's answer, a dashboard file, or a JSON error.
    net::ServerResponse Handle(const net::ServerRequest& req) const;

    /// Every route (method and pattern), in the order docs/API.md lists them.
    std::vector<RouteInfo> Routes() const { return router_.Routes(); }

  private:
    using Handler = net::ServerResponse (RestApi::*)(const net::ServerRequest&, const PathParams&) const;
    void Add(std::string method, std::string pattern, Handler handler);

    net::ServerResponse CreateUser(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse ListUsers(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse CreateInstance(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse ListInstances(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse GetInstance(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse DeleteInstance(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse SetMonitoring(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Progress(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Logs(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Health(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse HealthChecks(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Events(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Redeploy(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Stats(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse StatsHistory(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Attention(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Notifications(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse MarkRead(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Deliveries(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse ReplayDelivery(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse EnableEndpoint(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Stream(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse RailwayHook(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Healthz(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Readyz(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Metrics(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Badge(const net::ServerRequest& req, const PathParams& p) const;
    net::ServerResponse Failure(const net::ServerRequest& req, const PathParams& p) const;

    /// The instance object with its recent checks (one extra store read).
    nlohmann::json InstanceWithChecks(const store::Instance& instance) const;

    StoreRoles store_;
    monitor::Operations& operations_;
    const util::Clock& clock_;
    util::MetricsRegistry* metrics_;
    EventHub* hub_;
    RestApiOptions options_;
    Router router_;
    util::CounterFamily* requests_ = nullptr;
};

}  // namespace railwatch::api
