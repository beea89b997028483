#include "support/serve_process.hpp"

#include <httplib.h>
#include <signal.h>

#include <regex>
#include <thread>

#include "support/ready_line.hpp"

namespace railwatch::test {

using namespace std::chrono_literals;

ServeProcess::~ServeProcess() {
    if (running()) (void)Terminate();
}

bool ServeProcess::Start() {
    std::vector<std::string> argv{"/usr/bin/env", "-i", "PATH=/usr/bin:/bin"};
    argv.insert(argv.end(), options_.env.begin(), options_.env.end());
    argv.insert(argv.end(), {RAILWATCH_BINARY, "serve", "--listen", "127.0.0.1:0", "--db", options_.db_url,
                             "--railway-url", options_.railway_url});
    if (!options_.config_file.empty()) argv.insert(argv.end(), {"--config", options_.config_file});
    // A restart appends to the same log: count ready lines so the new one is the one waited for.
    const std::string before = ReadWholeFile(options_.log_file);
    const std::string ready = "railwatch listening on http://127\\.0\\.0\\.1:([0-9]+)";
    child_ = std::make_unique<ChildProcess>(ChildProcess::Spawn(argv, options_.log_file));
    port_ = 0;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string all = ReadWholeFile(options_.log_file);
        const std::string fresh = all.size() > before.size() ? all.substr(before.size()) : std::string();
        std::smatch m;
        if (std::regex_search(fresh, m, std::regex(ready))) {
            port_ = std::stoi(m[1]);
            return true;
        }
        if (::kill(child_->pid(), 0) != 0) return false;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

void ServeProcess::Kill() {
    if (!running()) return;
    child_->Signal(SIGKILL);
    (void)child_->Wait(10s);
}

ExitStatus ServeProcess::Terminate() {
    if (!running()) return {};
    child_->Signal(SIGTERM);
    return child_->Wait(15s);
}

std::string ServeProcess::Log() const {
    return ReadWholeFile(options_.log_file);
}

namespace {

ServeProcess::Reply ToReply(const httplib::Result& result) {
    ServeProcess::Reply reply;
    if (!result) return reply;
    reply.status = result->status;
    reply.raw = result->body;
    reply.body = nlohmann::json::parse(result->body, nullptr, false);
    return reply;
}

httplib::Client ClientFor(int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30, 0);
    client.set_connection_timeout(5, 0);
    return client;
}

}  // namespace

ServeProcess::Reply ServeProcess::Get(const std::string& path) const {
    auto client = ClientFor(port_);
    return ToReply(client.Get(path));
}

ServeProcess::Reply ServeProcess::Post(const std::string& path, const nlohmann::json& body) const {
    auto client = ClientFor(port_);
    return ToReply(client.Post(path, body.dump(), "application/json"));
}

ServeProcess::Reply ServeProcess::Put(const std::string& path, const nlohmann::json& body) const {
    auto client = ClientFor(port_);
    return ToReply(client.Put(path, body.dump(), "application/json"));
}

ServeProcess::Reply ServeProcess::Delete(const std::string& path) const {
    auto client = ClientFor(port_);
    return ToReply(client.Delete(path));
}

}  // namespace railwatch::test
