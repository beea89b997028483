#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "temp_dir.hpp"
#include "util/result.hpp"

/// A throw-away PostgreSQL server for tests: `initdb` in a temp dir, `pg_ctl start` listening
/// on 127.0.0.1 only at a free port (unix socket in the temp dir), trust authentication for
/// the `postgres` user, fsync off. Stopped and deleted by the destructor, also when a test fails.
///
/// The server binaries come from Debian's postgresql-NN package: the folder `pg_config
/// --bindir` names, else /usr/lib/postgresql/<newest>/bin. initdb refuses to run as root, so
/// when the test runs as root the directory is chowned to the `postgres` system user and every
/// server command runs through `runuser -u postgres --`.
///
/// If the test process dies without running the destructor (SIGKILL from a ctest timeout, an
/// abort), a watchdog process started with the cluster stops the server and deletes its directory:
/// it waits on a pipe whose write end only this process holds, and the kernel closes that end when
/// the process dies. The watchdog is detached (its own session, reparented to init), so that
/// killing the test's process group or process tree does not take it along.
///
/// Typical use: one cluster per test binary (a ::testing::Environment), a fresh database per
/// test (CreateDatabase). Not thread-safe; create and use it from the test's main thread.
namespace railwatch::test {

class PostgresCluster {
  public:
    /// initdb + start. Errors (kUnavailable) carry the command's output so a failing set-up
    /// says why.
    static util::Result<std::unique_ptr<PostgresCluster>> Start();

    ~PostgresCluster();
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

    const std::string& host() const { return host_; }
    /// The directory holding the cluster's data, socket and log (removed with the cluster).
    std::string directory() const;
    int port() const { return port_; }
    bool running() const { return running_; }

    /// postgresql://postgres@127.0.0.1:PORT/DATABASE
    std::string Url(std::string_view database) const;

    /// CREATE DATABASE `name` (letters, digits and '_' only).
    util::Result<void> CreateDatabase(std::string_view name);
    /// Runs SQL with psql against `database`; returns psql's output (unaligned, tuples only).
    util::Result<std::string> Psql(std::string_view sql, std::string_view database = "postgres");

    /// Stops the server now (fast shutdown); the data stays.
    util::Result<void> Stop();
    /// Starts it again on the same port.
    util::Result<void> Restart();

    /// The last lines of the server log, for failure messages.
    std::string LogTail() const;

    /// CPU seconds (user + system) the server has used so far: the postmaster and its live
    /// children (connection backends, background workers) plus the children it has reaped
    /// (Linux /proc). For benchmarks: server work independent of how busy the machine is.
    /// nullopt when the server is not running or /proc cannot be read.
    std::optional<double> ServerCpuSeconds() const;

  private:
    PostgresCluster() = default;
    util::Result<void> Init();
    util::Result<void> StartServer();
    util::Result<void> StartWatchdog();
    /// The pg_ctl command line stopping the server now (-m immediate), as root through runuser.
    std::vector<std::string> StopCommand() const;
    std::string Tool(std::string_view name) const;

    std::unique_ptr<TempDir> dir_;
    std::string bindir_;
    std::string host_ = "127.0.0.1";
    int port_ = 0;
    bool as_postgres_user_ = false;
    bool running_ = false;
    int watchdog_fd_ = -1;  ///< write end of the watchdog's pipe; -1 without a watchdog
};

/// A port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close).
int FreeLoopbackPort();

}  // namespace railwatch::test
