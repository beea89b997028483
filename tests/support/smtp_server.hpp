#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "child_process.hpp"
#include "temp_dir.hpp"
#include "util/result.hpp"

/// A real SMTP server on 127.0.0.1 for tests: Debian's python3-aiosmtpd running
/// tests/support/smtp_server.py as a child process, plain or with STARTTLS (a certificate made by
/// TestCertificates), optionally advertising AUTH. It records every message and every command the
/// client sent (AUTH with its mechanism only), so a test can prove what a client did and did not
/// send. Not thread-safe; one owner. Stopped (SIGTERM, then SIGKILL) by the destructor.
namespace railwatch::test {

/// How to run the server.
struct SmtpServerOptions {
    std::string tls_cert;             ///< PEM certificate: offer STARTTLS (and require it before MAIL)
    std::string tls_key;              ///< its PEM key
    std::string auth;                 ///< "user:password": advertise AUTH PLAIN/LOGIN, even without TLS
    std::vector<std::string> reject;  ///< addresses whose RCPT TO gets 550
};

/// One message the server accepted.
struct SmtpMessage {
    std::string mail_from;
    std::vector<std::string> rcpt_tos;
    std::string data;  ///< the message as received (CRLF line ends, dot-unstuffed)
    bool tls = false;  ///< it came over TLS
    std::optional<std::string> auth_user;

    /// The first header `name` (case-insensitive) of `data`, unfolded; empty when absent.
    std::string Header(std::string_view name) const;
};

class SmtpServer {
  public:
    /// Starts the server and waits (at most 30 s) until it listens. kUnavailable with the
    /// server's output when python3 or aiosmtpd is missing or it fails to start.
    static util::Result<std::unique_ptr<SmtpServer>> Start(SmtpServerOptions options = {});
    ~SmtpServer();

    SmtpServer(const SmtpServer&) = delete;
    SmtpServer& operator=(const SmtpServer&) = delete;

    int port() const { return port_; }
    /// "<scheme>://127.0.0.1:<port>".
    std::string Url(std::string_view scheme = "smtp") const;

    /// Messages accepted so far (read from the server's log file), oldest first.
    std::vector<SmtpMessage> Messages() const;
    /// Commands received so far: "EHLO", "STARTTLS", "AUTH PLAIN", "MAIL", …
    std::vector<std::string> Commands() const;

    /// Stops the server (connections are refused afterwards).
    void Stop();
    /// Starts it again on the same port, keeping what it recorded.
    util::Result<void> Restart();

    /// The Python interpreter the server runs with: Debian's /usr/bin/python3 (where
    /// python3-aiosmtpd installs) when present, else python3 from PATH.
    static std::string Python();

  private:
    SmtpServer() = default;
    util::Result<void> Launch(int port);
    std::string LogTail() const;

    SmtpServerOptions options_;
    std::unique_ptr<TempDir> dir_;
    std::optional<ChildProcess> process_;
    int port_ = 0;
};

/// A throw-away certificate authority and a server certificate it signed, for "localhost",
/// 127.0.0.1 and `extra_names` (DNS names, "*.probes.localhost" allowed), made with the `openssl`
/// command in a temp dir (removed with the object).
class TestCertificates {
  public:
    /// kUnavailable with openssl's output when a step fails.
    static util::Result<std::unique_ptr<TestCertificates>> Create(const std::vector<std::string>& extra_names = {});

    std::string ca_cert() const { return dir_->File("ca.crt"); }
    std::string server_cert() const { return dir_->File("server.crt"); }
    std::string server_key() const { return dir_->File("server.key"); }

  private:
    TestCertificates() = default;
    std::unique_ptr<TempDir> dir_;
};

}  // namespace railwatch::test
