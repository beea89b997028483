#include "support/sim_process.hpp"

#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace railwatch::test {

using namespace std::chrono_literals;

SimProcess::SimProcess(std::vector<std::string> args) : dir_("railwatch-sim-it-") {
    std::vector<std::string> argv{RAILWATCH_BINARY, "sim", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    log_ = dir_.File("sim.log");
    child_ = std::make_unique<ChildProcess>(ChildProcess::Spawn(argv, log_));
    const std::regex ready("railwatch sim listening on http://127\\.0\\.0\\.1:([0-9]+)");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline && child_->running()) {
        std::smatch m;
        const std::string text = Log();
        if (std::regex_search(text, m, ready)) {
            port_ = std::stoi(m[1]);
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
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
    std::ifstream in(log_);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
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
