#include "support/sim_process.hpp"

#include <httplib.h>
#include <signal.h>

#include <chrono>

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

std::string SimProcess::Post(const std::string& path, const std::string& body) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    const auto answer = client.Post(path, body, "application/json");
    return answer ? answer->body : std::string();
}

std::string SimProcess::Get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(30, 0);
    const auto answer = client.Get(path);
    return answer ? answer->body : std::string();
}

}  // namespace railwatch::test
