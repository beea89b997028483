#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "net/http_server.hpp"
#include "sim/config.hpp"
#include "sim/simulator.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

/// `railwatch sim` on HTTP: the API server (POST /graphql/v2 and /_sim/*) and a second loopback
/// server for the simulated services' health endpoints (/s/<serviceId>/health), which the
/// deployments' `url` and the service instances' domains point at.
namespace railwatch::sim {

struct SimServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;             ///< 0 → the OS picks
    std::size_t threads = 8;  ///< API worker pool (hang faults hold a worker each)
    std::size_t health_threads = 4;
};

/// Owns a Simulator and its two servers. Start() once, Stop() (or the destructor) once.
class SimServer {
  public:
    SimServer(SimConfig config, const util::Clock& clock, SimServerOptions options);
    ~SimServer();
    SimServer(const SimServer&) = delete;
    SimServer& operator=(const SimServer&) = delete;

    /// Starts the health server, then the API server, then creates the scenario's deployments.
    /// Errors: kUnavailable (cannot bind), kInvalidArgument (bad scenario deployments).
    util::Result<void> Start();
    /// Stops both servers; hanging and slow requests are woken. Idempotent.
    void Stop();

    int Port() const;
    /// "http://HOST:PORT" of the API.
    std::string BaseUrl() const;
    /// "http://127.0.0.1:PORT" of the health server.
    std::string HealthBaseUrl() const;

    Simulator& Sim() { return *simulator_; }

  private:
    std::unique_ptr<Simulator> simulator_;
    net::HttpServer api_;
    net::HttpServer health_;
};

}  // namespace railwatch::sim
