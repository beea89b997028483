#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::test {

/// A real `railwatch sim` process (RAILWATCH_BINARY) on 127.0.0.1 with an OS-chosen port, its
/// output in a log file in its own temporary directory. The constructor returns once the process
/// printed its ready line (port() > 0) or after 30 s without one (port() == 0; Log() says why).
/// The destructor sends SIGTERM and waits (SIGKILL after 10 s). Not thread-safe.
class SimProcess {
  public:
    /// Starts `railwatch sim --listen 127.0.0.1:0 <args...>`.
    explicit SimProcess(std::vector<std::string> args);
    ~SimProcess();
    SimProcess(const SimProcess&) = delete;
    SimProcess& operator=(const SimProcess&) = delete;

    /// The port it listens on; 0 when it never became ready.
    int port() const { return port_; }
    /// `http://127.0.0.1:PORT`.
    std::string BaseUrl() const;
    /// The GraphQL endpoint, `http://127.0.0.1:PORT/graphql/v2`.
    std::string GraphqlUrl() const;
    /// Everything the process printed so far.
    std::string Log() const;
    /// A file in the process's own temporary directory.
    std::string File(std::string_view name) const { return dir_.File(name); }

    /// POSTs `body` (JSON) to the control API path (e.g. "/_sim/config") and returns the answer's
    /// body; when the request fails, an empty string and a test failure (ADD_FAILURE) saying
    /// which call, why and after how long, with the end of the simulator's log.
    std::string Post(const std::string& path, const std::string& body) const;
    /// GETs a control API path and returns the body; empty (and a test failure) as Post.
    std::string Get(const std::string& path) const;

  private:
    TempDir dir_;
    std::string log_;
    std::unique_ptr<ChildProcess> child_;
    int port_ = 0;
};

}  // namespace railwatch::test
