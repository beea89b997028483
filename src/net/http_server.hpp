#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/result.hpp"

/// A small HTTP/1.1 server seam over cpp-httplib (which stays out of this header): routes,
/// plain request/response structs, an explicit worker pool, a request size limit, bind to
/// host:port (port 0 → the OS picks, the real port is reported) and a cooperative stop.
/// Used by `railwatch sim` and, later, by the REST API.
namespace railwatch::net {

/// One header, name as sent (look-ups are case-insensitive).
using ServerHeader = std::pair<std::string, std::string>;

/// An incoming request. Owned by the server for the duration of the handler call.
struct ServerRequest {
    std::string method;      ///< "GET", "POST", ...
    std::string path;        ///< without the query string, e.g. "/graphql/v2"
    std::string query;       ///< the raw query string without '?', empty when none was sent
    bool has_query = false;  ///< true when the request target contained a '?' (even "?")
    std::vector<ServerHeader> headers;
    std::vector<std::pair<std::string, std::string>> params;  ///< decoded query parameters
    std::vector<std::string> matches;  ///< regex captures of the route pattern ([0] = whole path)
    std::string body;
    std::string remote_addr;
    int remote_port = 0;
    int local_port = 0;  ///< the server's port this connection came in on

    /// First header with this name (case-insensitive), nullopt if absent.
    std::optional<std::string_view> Header(std::string_view name) const;
    /// First query parameter with this name, nullopt if absent.
    std::optional<std::string_view> Param(std::string_view name) const;
};

/// Writes one chunk of a streamed response; returns false once the client is gone.
using ChunkWriter = std::function<bool(std::string_view)>;

/// What the handler answers.
struct ServerResponse {
    /// How the connection ends.
    enum class Action {
        kRespond,  ///< send status, headers and body (the normal case)
        /// End the exchange without a complete answer: the body never arrives and the connection
        /// is closed (the status line and headers may reach the client first). A handler that
        /// wants a TCP reset instead does it itself on the connection (local_port/remote_port)
        /// before returning this.
        kAbort,
    };

    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<ServerHeader> headers;
    Action action = Action::kRespond;
    /// When set, the body is streamed with chunked encoding instead of `body`: the function is
    /// called repeatedly with a writer until it returns false, the writer fails (client gone) or
    /// the server stops. Used for Server-Sent Events.
    ///
    /// Text answers are compressed (gzip / br) when the client accepts it, except streams and
    /// answers whose handler set `Content-Encoding` itself: those are sent as they are.
    std::function<bool(const ChunkWriter&)> stream;

    void SetHeader(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

/// Handles one request. Called on a pool thread; must be thread-safe with respect to other
/// handlers. Exceptions escaping a handler become a 500 with a JSON error body.
using ServerHandler = std::function<void(const ServerRequest&, ServerResponse&)>;

struct HttpServerOptions {
    std::string host = "127.0.0.1";
    int port = 0;  ///< 0 → the OS picks a free port
    /// Workers kept (≥ 1). A worker holds a connection while it is open (keep-alive included);
    /// when a new connection finds none idle, another starts, up to `max_threads`, so that busy
    /// keep-alive clients cannot lock the others out. Beyond that, connections wait in order.
    std::size_t threads = 4;
    std::size_t max_threads = 0;                            ///< the most workers; 0: 4 × threads, at least 64
    std::size_t max_body_bytes = std::size_t{1024} * 1024;  ///< larger bodies get 413
    std::chrono::milliseconds read_timeout{5000};           ///< per read on a connection
    std::chrono::milliseconds write_timeout{5000};
    std::chrono::seconds keep_alive_timeout{5};
    std::size_t keep_alive_max_requests = 1000;  ///< requests per connection before it is closed
};

/// The server. Register routes, then Start(); Stop() (or the destructor) stops it. Route() must
/// not be called after Start(). Start/Stop are not meant to be called concurrently with each
/// other; everything else is thread-safe.
class HttpServer {
  public:
    explicit HttpServer(HttpServerOptions options);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// Adds a route. `pattern` is an ECMAScript regex matched against the whole path (captures
    /// land in ServerRequest::matches). Routes are tried in the order added.
    void Route(const std::string& method, const std::string& pattern, ServerHandler handler);
    /// Handles requests that match no route (default: 404 with a JSON error).
    void SetNotFoundHandler(ServerHandler handler);

    /// Binds and starts serving on a background thread. Returns the real port.
    /// Errors: kUnavailable when the address cannot be bound (in use, bad host, no permission).
    util::Result<int> Start();

    /// Stops accepting, ends streamed responses at their next chunk, waits for running handlers
    /// and joins the accept thread. Handlers that wait for something must be woken by their owner
    /// first (e.g. a util::Wakeup stopped before this call). Idempotent.
    void Stop();

    /// The port the server is bound to (0 before Start).
    int Port() const;
    const std::string& Host() const;
    /// "http://HOST:PORT".
    std::string BaseUrl() const;

    /// True once Stop() has been called.
    bool StopRequested() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace railwatch::net
