#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "net/curl_transport.hpp"
#include "net/http_server.hpp"
#include "sim/config.hpp"
#include "sim/connection_reset.hpp"
#include "sim/simulator.hpp"
#include "sim/webhook_sender.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

/// `railwatch sim` on HTTP: the API server (POST /graphql/v2 and /_sim/*), a second loopback
/// server for the simulated services' health endpoints (/s/<serviceId>/health), which the
/// deployments' `url` and the service instances' domains point at, and the webhook sender.
/// A thin adapter: the request logic is the Simulator's.
namespace railwatch::sim {

struct SimServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;             ///< 0 → the OS picks
    std::size_t threads = 8;  ///< API workers kept (hang faults hold a worker each; more start while connections wait)
    std::size_t health_threads = 4;
};

/// Owns a Simulator, its two servers and its webhook sender. Start() once, Stop() (or the
/// destructor) once.
class SimServer {
  public:
    SimServer(SimConfig config, const util::Clock& clock, const SimServerOptions& options);
    ~SimServer();
    SimServer(const SimServer&) = delete;
    SimServer& operator=(const SimServer&) = delete;

    /// Starts the health server, then the API server, then creates the scenario's deployments
    /// and starts the webhook sender. Errors: kUnavailable (cannot bind), kInvalidArgument (bad
    /// scenario deployments).
    util::Result<void> Start();
    /// Stops both servers and the webhook sender; hanging and slow requests are woken.
    /// Idempotent.
    void Stop();

    int Port() const;
    /// "http://HOST:PORT" of the API.
    std::string BaseUrl() const;
    /// "http://127.0.0.1:PORT" of the health server.
    std::string HealthBaseUrl() const;

    Simulator& Sim() { return *simulator_; }

  private:
    // Declaration order is destruction order reversed: the sender stops before the transport
    // goes (whose last completions still count into the simulator), the simulator goes last but
    // for the resetter it uses.
    TcpConnectionResetter resetter_;
    std::unique_ptr<Simulator> simulator_;
    net::HttpServer api_;
    net::HttpServer health_;
    net::CurlTransport transport_;
    WebhookSender sender_;
};

}  // namespace railwatch::sim
