#pragma once

#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "sim/sim_state.hpp"

/// The simulator's control API under /_sim/ (JSON, no auth; docs/SIMULATOR.md, "Control API"):
/// create and delete deployments, read the ground truth and the counters, change settings at run
/// time, start over, set a service's health. Internal to src/sim; Simulator is the entry point.
namespace railwatch::sim {

/// The /_sim/ calls over the shared SimState.
class ControlApi {
  public:
    /// `state` must outlive the API.
    explicit ControlApi(SimState& state) : state_(state) {}

    /// Answers one /_sim/ request. Thread-safe.
    net::ServerResponse Handle(const net::ServerRequest& req);

    /// The /_sim/truth document for `ids` (all deployments when empty); unknown ids are listed
    /// under "unknown". Thread-safe.
    nlohmann::json Truth(const std::vector<std::string>& ids) const;

    /// Creates the scenario's deployments at the current time. Errors: kInvalidArgument.
    util::Result<void> CreateScenarioDeployments();

  private:
    net::ServerResponse Create(const net::ServerRequest& req);
    net::ServerResponse Delete(const net::ServerRequest& req);
    net::ServerResponse Configure(const net::ServerRequest& req);
    net::ServerResponse SetHealth(const net::ServerRequest& req);
    void Reset();

    SimState& state_;
};

}  // namespace railwatch::sim
