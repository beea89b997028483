#include "postgres_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "child_process.hpp"

namespace railwatch::test {
namespace {

namespace fs = std::filesystem;
using util::ErrorCode;

std::string Trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
        s.pop_back();
    return s;
}

std::string FindBindir() {
    try {
        const auto r = RunCommand({"pg_config", "--bindir"}, std::chrono::seconds(10));
        std::string dir = Trim(r.output);
        if (r.status.Ok() && fs::exists(fs::path(dir) / "initdb")) return dir;
    } catch (const std::exception&) {
        // fall through to the Debian layout
    }
    if (fs::exists("/usr/lib/postgresql/15/bin/initdb")) return "/usr/lib/postgresql/15/bin";
    std::vector<fs::path> candidates;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        if (fs::exists(entry.path() / "bin" / "initdb")) candidates.push_back(entry.path() / "bin");
    }
    std::sort(candidates.begin(), candidates.end());
    return candidates.empty() ? std::string() : candidates.back().string();
}

}  // namespace

int FreeLoopbackPort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        socklen_t len = sizeof addr;
        if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
}

util::Result<std::unique_ptr<PostgresCluster>> PostgresCluster::Start() {
    std::unique_ptr<PostgresCluster> cluster(new PostgresCluster());
    if (auto r = cluster->Init(); !r) return tl::unexpected(r.error());
    if (auto r = cluster->StartWatchdog(); !r) return tl::unexpected(r.error());
    // The port was free a moment ago; another process may take it first, so try a few.
    util::Result<void> started;
    for (int attempt = 0; attempt < 3; ++attempt) {
        cluster->port_ = FreeLoopbackPort();
        started = cluster->StartServer();
        if (started) return cluster;
    }
    return tl::unexpected(started.error());
}

util::Result<void> PostgresCluster::Init() {
    bindir_ = FindBindir();
    if (bindir_.empty()) {
        return util::Fail(ErrorCode::kUnavailable,
                          "PostgreSQL server binaries not found (no initdb in `pg_config --bindir` or "
                          "/usr/lib/postgresql/*/bin): install Debian's postgresql-15 package");
    }
    dir_ = std::make_unique<TempDir>("railwatch-pg-");
    as_postgres_user_ = geteuid() == 0;
    if (as_postgres_user_) {
        const passwd* pw = getpwnam("postgres");
        if (pw == nullptr) {
            return util::Fail(ErrorCode::kUnavailable,
                              "running as root but there is no `postgres` system user for initdb: install "
                              "postgresql-15 (it creates the user) or run the tests as a normal user");
        }
        if (chown(dir_->path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
            return util::Fail(ErrorCode::kIo, "cannot chown " + dir_->path().string() + " to postgres");
        }
    }
    std::vector<std::string> argv;
    if (as_postgres_user_) argv = {"runuser", "-u", "postgres", "--"};
    for (const std::string& a : {Tool("initdb"), std::string("-D"), dir_->File("data"), std::string("-U"),
                                 std::string("postgres"), std::string("--auth=trust"), std::string("--encoding=UTF8"),
                                 std::string("--no-locale"), std::string("--no-sync")})
        argv.push_back(a);
    const auto r = RunCommand(argv, std::chrono::seconds(120));
    if (!r.status.Ok()) {
        return util::Fail(ErrorCode::kUnavailable, "initdb " + r.status.Describe() + ":\n" + r.output);
    }
    return util::Ok();
}

std::string PostgresCluster::Tool(std::string_view name) const {
    return (fs::path(bindir_) / name).string();
}

util::Result<void> PostgresCluster::StartServer() {
    std::vector<std::string> argv;
    if (as_postgres_user_) argv = {"runuser", "-u", "postgres", "--"};
    const std::string options = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) +
                                " -c unix_socket_directories=" + dir_->path().string() +
                                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                                " -c max_connections=100 -c shared_buffers=64MB";
    for (const std::string& a :
         {Tool("pg_ctl"), std::string("-D"), dir_->File("data"), std::string("-l"), dir_->File("server.log"),
          std::string("-w"), std::string("-t"), std::string("60"), std::string("-o"), options, std::string("start")})
        argv.push_back(a);
    const auto r = RunCommand(argv, std::chrono::seconds(90));
    if (!r.status.Ok()) {
        return util::Fail(ErrorCode::kUnavailable,
                          "pg_ctl start " + r.status.Describe() + ":\n" + r.output + "\nserver log:\n" + LogTail());
    }
    running_ = true;
    return util::Ok();
}

std::vector<std::string> PostgresCluster::StopCommand() const {
    std::vector<std::string> argv;
    if (as_postgres_user_) argv = {"runuser", "-u", "postgres", "--"};
    for (const std::string& a : {Tool("pg_ctl"), std::string("-D"), dir_->File("data"), std::string("-m"),
                                 std::string("immediate"), std::string("-w"), std::string("stop")})
        argv.push_back(a);
    return argv;
}

// The watchdog is `sh` reading one line from the pipe: "done" (the destructor has cleaned up)
// → exit; end of file (this process died) → stop the server and delete the directory. Double
// fork + setsid: reparented to init and in its own session. Between fork and exec only
// async-signal-safe calls (the test may have threads).
util::Result<void> PostgresCluster::StartWatchdog() {
    static constexpr const char* kScript =
        "dir=$1; shift; if IFS= read -r line && [ \"$line\" = done ]; then exit 0; fi; "
        "\"$@\" >/dev/null 2>&1; rm -rf \"$dir\"";
    std::vector<std::string> args = {"/bin/sh", "-c", kScript, "railwatch-pg-watchdog", dir_->path().string()};
    for (auto& a : StopCommand())
        args.push_back(std::move(a));
    std::vector<char*> argv;
    argv.reserve(args.size());
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return util::Fail(ErrorCode::kIo, "cannot create the watchdog's pipe");
    const pid_t child = fork();
    if (child < 0) {
        close(fds[0]);
        close(fds[1]);
        return util::Fail(ErrorCode::kIo, "cannot fork the watchdog");
    }
    if (child == 0) {
        setsid();
        const pid_t watchdog = fork();
        if (watchdog != 0) _exit(watchdog < 0 ? 1 : 0);
        const int devnull = open("/dev/null", O_RDWR);
        // dup2 clears close-on-exec on the copies; everything else is closed, the write end
        // included, so that only the test process holds it.
        if (dup2(fds[0], 0) < 0 || devnull < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0) _exit(1);
        close_range(3, ~0U, 0);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        close(fds[1]);
        return util::Fail(ErrorCode::kIo, "cannot start the watchdog");
    }
    watchdog_fd_ = fds[1];
    return util::Ok();
}

PostgresCluster::~PostgresCluster() {
    if (running_) {
        try {
            RunCommand(StopCommand(), std::chrono::seconds(60));
        } catch (const std::exception&) {
            // Nothing more to do in a destructor; the temp dir is still removed below.
        }
    }
    if (watchdog_fd_ >= 0) {
        // Cleaned up here: the watchdog may go. (If this write fails, it stops an already
        // stopped server and removes a directory TempDir removes too: harmless.)
        [[maybe_unused]] const auto written = write(watchdog_fd_, "done\n", 5);
        close(watchdog_fd_);
    }
    // dir_ (and the data in it) is removed by TempDir's destructor.
}

std::string PostgresCluster::directory() const {
    return dir_->path().string();
}

std::string PostgresCluster::Url(std::string_view database) const {
    return "postgresql://postgres@" + host_ + ":" + std::to_string(port_) + "/" + std::string(database);
}

util::Result<std::string> PostgresCluster::Psql(std::string_view sql, std::string_view database) {
    const auto r =
        RunCommand({Tool("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host_, "-p",
                    std::to_string(port_), "-U", "postgres", "-d", std::string(database), "-c", std::string(sql)},
                   std::chrono::seconds(60));
    if (!r.status.Ok()) return util::Fail(ErrorCode::kUnavailable, "psql " + r.status.Describe() + ": " + r.output);
    return r.output;
}

util::Result<void> PostgresCluster::CreateDatabase(std::string_view name) {
    const bool valid = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!valid) return util::Fail(ErrorCode::kInvalidArgument, "database name must be [a-z0-9_]+");
    // template0 + FILE_COPY: about twice as fast as the default WAL_LOG copy of template1.
    auto r = Psql("CREATE DATABASE " + std::string(name) + " TEMPLATE template0 STRATEGY FILE_COPY");
    if (!r) return tl::unexpected(r.error());
    return util::Ok();
}

util::Result<void> PostgresCluster::Stop() {
    std::vector<std::string> argv;
    if (as_postgres_user_) argv = {"runuser", "-u", "postgres", "--"};
    for (const std::string& a : {Tool("pg_ctl"), std::string("-D"), dir_->File("data"), std::string("-m"),
                                 std::string("fast"), std::string("-w"), std::string("stop")})
        argv.push_back(a);
    const auto r = RunCommand(argv, std::chrono::seconds(60));
    if (!r.status.Ok())
        return util::Fail(ErrorCode::kUnavailable, "pg_ctl stop " + r.status.Describe() + ": " + r.output);
    running_ = false;
    return util::Ok();
}

util::Result<void> PostgresCluster::Restart() {
    return StartServer();
}

namespace {

// Fields of /proc/PID/stat after the command (which may hold spaces): field 4 is the parent,
// 14..17 utime, stime, cutime, cstime in clock ticks.
struct ProcStat {
    long parent = 0;
    long long ticks = 0;           // utime + stime
    long long children_ticks = 0;  // cutime + cstime (reaped children)
};

std::optional<ProcStat> ReadProcStat(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/stat");
    std::string text;
    if (!std::getline(in, text)) return std::nullopt;
    const auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(text.substr(close + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;)
        f.push_back(field);
    if (f.size() < 15) return std::nullopt;  // f[0] is field 3 (state)
    try {
        return ProcStat{std::stol(f[1]), std::stoll(f[11]) + std::stoll(f[12]), std::stoll(f[13]) + std::stoll(f[14])};
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

}  // namespace

std::optional<double> PostgresCluster::ServerCpuSeconds() const {
    if (!running_) return std::nullopt;
    std::ifstream pidfile(dir_->File("data") + "/postmaster.pid");
    std::string postmaster;
    if (!std::getline(pidfile, postmaster)) return std::nullopt;
    const auto main = ReadProcStat(postmaster);
    if (!main) return std::nullopt;
    long long ticks = main->ticks + main->children_ticks;
    const long parent = std::stol(postmaster);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        if (const auto child = ReadProcStat(name); child && child->parent == parent) ticks += child->ticks;
    }
    return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string PostgresCluster::LogTail() const {
    std::ifstream in(dir_->File("server.log"));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
        if (lines.size() > 40) lines.erase(lines.begin());
    }
    std::ostringstream out;
    for (const auto& l : lines)
        out << l << '\n';
    return out.str();
}

}  // namespace railwatch::test
