#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "sim/config.hpp"
#include "sim/connection_reset.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

/// The Railway simulator's request logic, independent of any socket: the GraphQL endpoint, the
/// `/_sim/` control API and the per-service health endpoints, plus the project webhooks they
/// give rise to. SimServer puts it on HTTP; unit tests call it directly with a FakeClock.
/// Thread-safe: requests may arrive on any number of threads.
namespace railwatch::sim {

struct SimState;
class GraphqlPipeline;
class ControlApi;
class HealthEndpoints;

/// Project-webhook deliveries that are due (see Simulator::TakeWebhooks).
struct WebhookBatch {
    std::string url;                         ///< where to POST; empty when webhooks are off
    net::ServerHeader secret_header;         ///< name and value; the name is empty without a secret
    std::vector<std::string> bodies;         ///< one JSON body per status change, oldest first
    std::optional<core::Timestamp> next_at;  ///< when the next change is due, if one is planned
};

/// How one webhook delivery went (for /_sim/stats).
enum class WebhookOutcome { kDelivered, kFailed, kDropped };

class Simulator {
  public:
    /// `clock` must outlive the simulator; injected latency, hangs and slow health answers wait
    /// on it (a FakeClock moves forward instead of sleeping). `resetter` (may be null; must
    /// outlive the simulator) sends the TCP resets of the `reset` and `hang` faults; without it
    /// those faults only abort the exchange. Deployments of config.deployments are created by
    /// CreateScenarioDeployments(), not here.
    Simulator(SimConfig config, const util::Clock& clock, ConnectionResetter* resetter = nullptr);
    ~Simulator();
    Simulator(const Simulator&) = delete;
    Simulator& operator=(const Simulator&) = delete;

    /// Creates the scenario's deployments at the current time. Errors: kInvalidArgument.
    util::Result<void> CreateScenarioDeployments();

    /// Ends every injected wait now and makes later ones return at once, and stops the webhook
    /// wakeup (server shutdown). Thread-safe; irreversible.
    void Stop();
    /// Where the health server listens ("http://127.0.0.1:PORT"); deployment URLs point there.
    void SetHealthBaseUrl(std::string url);

    /// POST /graphql/v2.
    net::ServerResponse HandleGraphql(const net::ServerRequest& req);
    /// Everything under /_sim/ (docs/SIMULATOR.md, "Control API").
    net::ServerResponse HandleControl(const net::ServerRequest& req);
    /// GET /s/<serviceId>[/path] on the health server.
    net::ServerResponse HandleHealth(const net::ServerRequest& req);

    /// The /_sim/stats document.
    nlohmann::json Stats() const;
    /// The /_sim/truth document for `ids` (all deployments when empty); unknown ids are listed
    /// under "unknown".
    nlohmann::json Truth(const std::vector<std::string>& ids) const;

    /// The project-webhook bodies of every status change up to now not taken yet (none while
    /// webhookUrl is unset), and when the next one is due. For the one webhook sender.
    WebhookBatch TakeWebhooks();
    /// Notified when something may change what TakeWebhooks returns (timelines, the target);
    /// stopped by Stop(). Only the webhook sender waits on it.
    util::Wakeup& WebhookWakeup();
    /// Counts one webhook delivery's outcome. Thread-safe.
    void RecordWebhook(WebhookOutcome outcome);

  private:
    std::unique_ptr<SimState> state_;
    std::unique_ptr<GraphqlPipeline> graphql_;
    std::unique_ptr<ControlApi> control_;
    std::unique_ptr<HealthEndpoints> health_;
};

}  // namespace railwatch::sim
