#include "support/sim_process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <fstream>

#include "support/ready_line.hpp"

namespace railwatch::test {

using namespace std::chrono_literals;

SimProcess::SimProcess(std::vector<std::string> args) : dir_("railwatch-sim-it-") {
    std::vector<std::string> argv{RAILWATCH_BINARY, "sim", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    log_ = dir_.File("sim.log");
    child_ = std::make_unique<ChildProcess>(ChildProcess::Spawn(argv, log_));
    port_ = WaitForReadyPort(*child_, log_, "railwatch sim listening on http://127\\.0\\.0\\.1:([0-9]+)");
}

SimProcess::~SimProcess() {
    if (child_ && child_->running()) {
        child_->Signal(SIGTERM);
        (void)child_->Wait(10s);
    }
}

std::string SimProcess::BaseUrl() const {
    return "http://127.0.0.1:" + std::to_string(port_);
}

std::string SimProcess::GraphqlUrl() const {
    return BaseUrl() + "/graphql/v2";
}

std::string SimProcess::Log() const {
    return ReadWholeFile(log_);
}

namespace {

// The process's state as /proc/PID/stat says (R running, S sleeping, Z exited, not reaped, ...).
std::string ProcessState(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (pid <= 0 || !std::getline(stat, line)) return "gone";
    const auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() ? "unknown" : line.substr(close + 2, 1);
}

// A control call that got no answer fails the calling test here, saying which call, why
// (httplib's error), after how long, and what the simulator printed last; the caller's parse of
// the empty body then fails on its own instead of being the only trace.
std::string AnswerOf(const httplib::Result& answer, const std::string& call,
                     std::chrono::steady_clock::time_point started, const SimProcess& sim, pid_t pid) {
    if (answer) return answer->body;
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    std::string log = sim.Log();
    constexpr std::size_t kTail = 2000;
    if (log.size() > kTail) log = "..." + log.substr(log.size() - kTail);
    ADD_FAILURE() << "the simulator's control API gave no answer to " << call << " after " << waited.count()
                  << " ms: " << httplib::to_string(answer.error())
                  << "; the simulator's process state: " << ProcessState(pid) << "; its log ends:\n"
                  << log;
    return {};
}

}  // namespace

std::string SimProcess::Post(const std::string& path, const std::string& body) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    const auto started = std::chrono::steady_clock::now();
    const auto answer = client.Post(path, body, "application/json");
    return AnswerOf(answer, "POST " + path, started, *this, child_ ? child_->pid() : -1);
}

std::string SimProcess::Get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    const auto started = std::chrono::steady_clock::now();
    const auto answer = client.Get(path);
    return AnswerOf(answer, "GET " + path, started, *this, child_ ? child_->pid() : -1);
}

}  // namespace railwatch::test
