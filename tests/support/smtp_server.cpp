#include "smtp_server.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace railwatch::test {
namespace {

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace

std::string SmtpMessage::Header(std::string_view name) const {
    const std::string head = data.substr(0, data.find("\r\n\r\n"));
    const std::string wanted = Lower(name) + ":";
    std::istringstream lines(head);
    std::string line;
    std::string value;
    bool in_header = false;
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (in_header && !line.empty() && (line[0] == ' ' || line[0] == '\t')) {
            value += line;
            continue;
        }
        if (in_header) break;
        if (Lower(line.substr(0, wanted.size())) == wanted) {
            in_header = true;
            value = line.substr(wanted.size());
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
        }
    }
    return value;
}

std::string SmtpServer::Python() {
    if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
    return "python3";
}

util::Result<std::unique_ptr<SmtpServer>> SmtpServer::Start(SmtpServerOptions options) {
    std::unique_ptr<SmtpServer> server(new SmtpServer());
    server->options_ = std::move(options);
    server->dir_ = std::make_unique<TempDir>("railwatch-smtp-");
    if (auto started = server->Launch(0); !started) return tl::unexpected(started.error());
    return server;
}

util::Result<void> SmtpServer::Launch(int port) {
    const std::string port_file = dir_->File("port");
    std::filesystem::remove(port_file);
    std::vector<std::string> argv = {Python(),      std::string(RAILWATCH_SOURCE_DIR) + "/tests/support/smtp_server.py",
                                     "--port",      std::to_string(port),
                                     "--port-file", port_file,
                                     "--messages",  dir_->File("messages.jsonl"),
                                     "--commands",  dir_->File("commands.log")};
    if (!options_.tls_cert.empty()) {
        argv.insert(argv.end(), {"--tls-cert", options_.tls_cert, "--tls-key", options_.tls_key});
    }
    if (!options_.auth.empty()) argv.insert(argv.end(), {"--auth", options_.auth});
    for (const std::string& address : options_.reject)
        argv.insert(argv.end(), {"--reject", address});
    process_.emplace(ChildProcess::Spawn(argv, dir_->File("server.log")));

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        if (std::filesystem::exists(port_file)) {
            port_ = std::stoi(ReadFile(port_file));
            return util::Ok();
        }
        if (const pid_t pid = process_->pid(); ::kill(pid, 0) != 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const ExitStatus status = process_->Wait(std::chrono::seconds(1));
    process_.reset();
    return util::Fail(util::ErrorCode::kUnavailable, "the test SMTP server (" + Python() +
                                                         " with aiosmtpd) did not start (" + status.Describe() +
                                                         "); install python3-aiosmtpd. Its output:\n" + LogTail());
}

SmtpServer::~SmtpServer() {
    Stop();
}

void SmtpServer::Stop() {
    if (!process_) return;
    process_->Signal(SIGTERM);
    process_->Wait(std::chrono::seconds(10));
    process_.reset();
}

util::Result<void> SmtpServer::Restart() {
    Stop();
    return Launch(port_);
}

std::string SmtpServer::Url(std::string_view scheme) const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_);
}

std::vector<SmtpMessage> SmtpServer::Messages() const {
    std::vector<SmtpMessage> out;
    std::istringstream lines(ReadFile(dir_->File("messages.jsonl")));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        try {
            const auto doc = nlohmann::json::parse(line);
            SmtpMessage m;
            m.mail_from = doc.at("mail_from").get<std::string>();
            m.rcpt_tos = doc.at("rcpt_tos").get<std::vector<std::string>>();
            m.data = doc.at("data").get<std::string>();
            m.tls = doc.at("tls").get<bool>();
            if (!doc.at("auth_user").is_null()) m.auth_user = doc.at("auth_user").get<std::string>();
            out.push_back(std::move(m));
        } catch (const nlohmann::json::exception&) {
            // A line being written right now; the next read will see it whole.
        }
    }
    return out;
}

std::vector<std::string> SmtpServer::Commands() const {
    std::vector<std::string> out;
    std::istringstream lines(ReadFile(dir_->File("commands.log")));
    std::string line;
    while (std::getline(lines, line)) {
        if (!line.empty()) out.push_back(line);
    }
    return out;
}

std::string SmtpServer::LogTail() const {
    const std::string log = ReadFile(dir_->File("server.log"));
    return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

util::Result<std::unique_ptr<TestCertificates>> TestCertificates::Create(const std::vector<std::string>& extra_names) {
    std::unique_ptr<TestCertificates> certs(new TestCertificates());
    certs->dir_ = std::make_unique<TempDir>("railwatch-certs-");
    const TempDir& dir = *certs->dir_;
    {
        std::ofstream ext(dir.File("server.ext"));
        ext << "subjectAltName=DNS:localhost,IP:127.0.0.1";
        for (const std::string& name : extra_names)
            ext << ",DNS:" << name;
        ext << "\n"
               "basicConstraints=CA:FALSE\n"
               "keyUsage=critical,digitalSignature,keyEncipherment\n"
               "extendedKeyUsage=serverAuth\n";
    }
    const std::vector<std::vector<std::string>> steps = {
        {"openssl",
         "req",
         "-x509",
         "-newkey",
         "ec",
         "-pkeyopt",
         "ec_paramgen_curve:prime256v1",
         "-nodes",
         "-keyout",
         dir.File("ca.key"),
         "-out",
         dir.File("ca.crt"),
         "-days",
         "2",
         "-subj",
         "/CN=railwatch test CA",
         "-addext",
         "basicConstraints=critical,CA:TRUE",
         "-addext",
         "keyUsage=critical,keyCertSign,cRLSign"},
        {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         dir.File("server.key"), "-out", dir.File("server.csr"), "-subj", "/CN=localhost"},
        {"openssl", "x509", "-req", "-in", dir.File("server.csr"), "-CA", dir.File("ca.crt"), "-CAkey",
         dir.File("ca.key"), "-CAcreateserial", "-out", dir.File("server.crt"), "-days", "2", "-extfile",
         dir.File("server.ext")},
    };
    for (const auto& step : steps) {
        const CommandResult result = RunCommand(step, std::chrono::seconds(60));
        if (!result.status.Ok()) {
            return util::Fail(util::ErrorCode::kUnavailable,
                              "openssl " + step[1] + " failed (" + result.status.Describe() +
                                  "); install the openssl package. Output:\n" + result.output);
        }
    }
    return certs;
}

}  // namespace railwatch::test
