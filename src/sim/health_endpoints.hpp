#pragma once

#include "net/http_server.hpp"
#include "sim/sim_state.hpp"

/// The simulated services' own endpoints (GET /s/<serviceId>[/path] on the health server), which
/// the deployments' `url` and the service domains point at. Internal to src/sim; Simulator is
/// the entry point.
namespace railwatch::sim {

/// The services' /s/<serviceId> endpoints over the shared SimState.
class HealthEndpoints {
  public:
    /// `state` must outlive the endpoints.
    explicit HealthEndpoints(SimState& state) : state_(state) {}

    /// 404 for an unknown service; 502 unless one of its deployments is SUCCESS; then by the
    /// service's health mode: 200, 200 after slowHealthMs, or 503. Thread-safe.
    net::ServerResponse Handle(const net::ServerRequest& req);

  private:
    SimState& state_;
};

}  // namespace railwatch::sim
