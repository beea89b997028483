#pragma once

#include <memory>

#include "app/config.hpp"
#include "net/curl_transport.hpp"
#include "net/http_transport.hpp"
#include "net/probe_transport.hpp"
#include "railway/budget.hpp"
#include "railway/client.hpp"
#include "railway/railway_api.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"
#include "util/metrics.hpp"
#include "util/random.hpp"

namespace spdlog {
class logger;
}

/// The composition root: the one place that knows every concrete type. From a Config it builds
/// what exists today — the system clock, the metrics registry, the store, the libcurl transport,
/// the Railway request budget and client — owns them in dependency order, and hands them to
/// commands through narrow interfaces (railway::RailwayApi, store::Store, net::HttpTransport).
/// `serve` adds the monitor, the notifier and the API server on top of it.
namespace railwatch::app {

/// Which parts a command needs (migrate needs only the store; watch-like commands only Railway).
struct RootParts {
    bool store = true;    ///< open the store (applying migrations unless options say otherwise)
    bool railway = true;  ///< the Railway client; needs a token (RAILWAY_TOKEN or RAILWAY_API_TOKEN)
    bool http = true;     ///< the outgoing HTTP transport (implied by railway)
};

/// How Root::Build builds the parts.
struct RootOptions {
    RootParts parts;
    /// The process's logger (SetupLogging); nullptr: log nothing.
    std::shared_ptr<spdlog::logger> logger;
    store::StoreOptions store;
    net::CurlTransportOptions transport;  ///< user_agent defaults to "railwatch/<version>"
    /// The proxies health probes go through (net::ProbeProxiesFromEnvironment); none by default.
    /// Railway's requests and webhooks go through libcurl, which reads the same variables itself.
    net::ProbeProxies probe_proxies;
};

/// Owns the process's long-lived objects. Built once at start-up by the thread that runs the
/// command; the accessors may then be used from any thread (each object documents its own
/// thread-safety). Destroying it stops the Railway client, then releases everything in reverse
/// order of construction (client, budget, transport — joining its worker — then the store);
/// components that hold references into it (monitor, notifier, API) must be stopped first.
class Root {
  public:
    /// Builds the parts `options.parts` asks for from `config`. Errors: the store's (kUnavailable,
    /// kIo, kInvalidArgument) when it cannot be opened, kUnauthenticated when Railway is asked
    /// for and no token is set. Messages never contain secrets.
    static util::Result<std::unique_ptr<Root>> Build(Config config, RootOptions options = {});

    ~Root();
    Root(const Root&) = delete;
    Root& operator=(const Root&) = delete;

    const Config& config() const { return config_; }
    const net::ProbeProxies& probe_proxies() const { return probe_proxies_; }
    const util::Clock& clock() const { return clock_; }
    spdlog::logger& logger() const { return *logger_; }
    const std::shared_ptr<spdlog::logger>& shared_logger() const { return logger_; }
    /// The process's metrics; the API renders it at /metrics.
    util::MetricsRegistry& metrics() { return metrics_; }

    /// The store. Only when built with parts.store (otherwise the process aborts: a wiring bug).
    store::Store& store();
    /// What the monitor asks of Railway. Only when built with parts.railway.
    railway::RailwayApi& railway();
    /// The Railway request budget. Only when built with parts.railway.
    railway::RequestBudget& budget();
    /// Outgoing HTTP (webhooks share it with the Railway client). Only with parts.http or railway.
    net::HttpTransport& http();

    /// Makes running and later Railway calls end soon with kCancelled (shutdown). Idempotent,
    /// thread-safe.
    void StopRailway();

  private:
    Root(Config config, std::shared_ptr<spdlog::logger> logger);

    // Declaration order is construction order; destruction runs the other way, so each object
    // outlives everything that uses it.
    Config config_;
    net::ProbeProxies probe_proxies_;
    util::SystemClock clock_;
    util::MetricsRegistry metrics_;
    std::shared_ptr<spdlog::logger> logger_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<net::CurlTransport> transport_;
    std::unique_ptr<railway::RequestBudget> budget_;
    util::SystemRandom random_;
    std::unique_ptr<railway::RailwayClient> client_;
    std::vector<util::MetricCallback> metric_callbacks_;  // read budget_ and transport_: dropped first
};

}  // namespace railwatch::app
