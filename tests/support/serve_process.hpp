#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace railwatch::test {

/// What a `railwatch serve` process is started with.
struct ServeOptions {
    std::string db_url;       ///< --db (e.g. "sqlite:/tmp/x/railwatch.db" or a postgresql:// URL)
    std::string railway_url;  ///< --railway-url (the simulator's GraphQL endpoint)
    std::string config_file;  ///< --config; empty: none
    std::string log_file;     ///< where stdout/stderr go (appended: restarts keep one log)
    /// Environment entries (NAME=value) on top of a minimal PATH; RAILWAY_API_TOKEN et al.
    std::vector<std::string> env;
};

/// A real `railwatch serve` process (RAILWATCH_BINARY) listening on 127.0.0.1 with an OS-chosen
/// port. Start() returns once its ready line ("railwatch listening on http://127.0.0.1:PORT")
/// appeared (true) or after 60 s / when it died (false; Log() says why). The destructor sends
/// SIGTERM and waits (SIGKILL after 15 s). Not thread-safe.
class ServeProcess {
  public:
    explicit ServeProcess(ServeOptions options) : options_(std::move(options)) {}
    ~ServeProcess();
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    bool Start();
    /// SIGKILL, reaped: the crash a restart must survive.
    void Kill();
    /// SIGTERM and wait at most 15 s; the exit status.
    ExitStatus Terminate();
    bool running() const { return child_ != nullptr && child_->running(); }

    int port() const { return port_; }
    std::string Log() const;

    /// One request to the REST API; `status` 0 when the connection failed.
    struct Reply {
        int status = 0;
        nlohmann::json body;  ///< discarded (is_discarded()) when not JSON
        std::string raw;
    };
    Reply Get(const std::string& path) const;
    Reply Post(const std::string& path, const nlohmann::json& body) const;
    Reply Put(const std::string& path, const nlohmann::json& body) const;
    Reply Delete(const std::string& path) const;

  private:
    ServeOptions options_;
    std::unique_ptr<ChildProcess> child_;
    int port_ = 0;
};

}  // namespace railwatch::test
