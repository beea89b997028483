#pragma once

#include "net/http_server.hpp"

/// The simulator's socket-level faults: breaking a client's connection with a TCP reset, as a
/// crashed peer or a load balancer dropping the flow would. HttpServer stays generic (it only
/// knows how to abort an exchange); this is where the simulator reaches under it.
namespace railwatch::sim {

/// Breaks the connection a request came on. Implementations are thread-safe.
class ConnectionResetter {
  public:
    virtual ~ConnectionResetter() = default;
    /// Sends a TCP reset on `req`'s connection, so that nothing more reaches the client. Called on
    /// the thread that handles `req`, before the handler returns ServerResponse::Action::kAbort.
    /// Returns false when the connection could not be found (the abort still breaks it).
    virtual bool Reset(const net::ServerRequest& req) = 0;
};

/// The real thing for connections served by net::HttpServer in this process: finds the socket
/// whose local and peer ports are the request's among this process's descriptors (cpp-httplib
/// does not hand it to handlers; a scan of /proc/self/fd is fine for a rare fault) and resets it
/// without closing the descriptor, which the server still owns.
class TcpConnectionResetter final : public ConnectionResetter {
  public:
    bool Reset(const net::ServerRequest& req) override;
};

}  // namespace railwatch::sim
