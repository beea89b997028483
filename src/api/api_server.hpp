#pragma once

#include <cstddef>
#include <string>

#include "api/event_hub.hpp"
#include "api/rest_api.hpp"
#include "net/http_server.hpp"
#include "util/result.hpp"

/// The REST API on HTTP: a thin adapter that hands every request to RestApi::Handle.
namespace railwatch::api {

struct ApiServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080;  ///< 0 → the OS picks
    /// Workers kept (each connection holds one while it is open; more start while connections
    /// wait, net::HttpServerOptions::max_threads); an open event stream holds one for its whole
    /// life, so this must exceed the hub's max_clients by the workers other requests need.
    std::size_t threads = 8;
};

/// Owns the HTTP server; the RestApi and the EventHub are the caller's and must outlive it.
/// Start() once, Stop() (or the destructor) once; Stop stops the hub first so that its streams
/// end, then the server.
class ApiServer {
  public:
    ApiServer(const RestApi& api, EventHub* hub, const ApiServerOptions& options, std::size_t max_body_bytes);
    ~ApiServer();
    ApiServer(const ApiServer&) = delete;
    ApiServer& operator=(const ApiServer&) = delete;

    /// Binds and serves. Errors: kUnavailable when the address cannot be bound.
    util::Result<int> Start();
    /// Ends the event streams, then stops the server (waiting for running handlers). Idempotent.
    void Stop();
    /// "http://HOST:PORT" with the real port.
    std::string BaseUrl() const { return server_.BaseUrl(); }
    int Port() const { return server_.Port(); }

  private:
    EventHub* hub_;
    net::HttpServer server_;
};

}  // namespace railwatch::api
