// ProbeTransport's own behaviour beyond the transports' shared suite (transport_conformance_test):
// TLS verified and resumed per host, names looked up and cached, connection caps, idle
// connections the server closed, hostile answers. Real servers on loopback.
#include "net/probe_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_http.hpp"
#include "support/smtp_server.hpp"

namespace railwatch::net {
namespace {

using test::LoopbackHttpServer;
using test::LoopbackReply;
using test::LoopbackRequest;

HttpRequest Get(const std::string& url, core::Duration timeout = core::Seconds(20)) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.timeout = timeout;
    request.discard_body = true;
    return request;
}

// A socket listening on 127.0.0.1 at a port the system chose (`port`); -1 when none could be made.
int ListenOnLoopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        if (fd >= 0) ::close(fd);
        return -1;
    }
    port = ntohs(addr.sin_port);
    return fd;
}

// An HTTPS server on 127.0.0.1 with a certificate for localhost and *.probes.localhost, signed by
// a CA of the test's own.
class TlsServer {
  public:
    TlsServer() {
        auto certs = test::TestCertificates::Create({"*.probes.localhost"});
        if (!certs) throw std::runtime_error(certs.error().message);
        certs_ = std::move(*certs);
        server_ = std::make_unique<httplib::SSLServer>(certs_->server_cert().c_str(), certs_->server_key().c_str());
        server_->Get("/.*", [](const httplib::Request& request, httplib::Response& response) {
            response.set_content("up at " + request.get_header_value("Host"), "text/plain");
        });
        port_ = server_->bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server_->listen_after_bind(); });
        for (int n = 0; n < 500 && !server_->is_running(); ++n)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~TlsServer() {
        server_->stop();
        thread_.join();
    }
    std::string Url(const std::string& host) const {
        return "https://" + host + ":" + std::to_string(port_) + "/health";
    }
    std::string ca_file() const { return certs_->ca_cert(); }
    int port() const { return port_; }

  private:
    std::unique_ptr<test::TestCertificates> certs_;
    std::unique_ptr<httplib::SSLServer> server_;
    int port_ = 0;
    std::thread thread_;
};

// A blocking connection to 127.0.0.1:`port`; -1 when refused.
int ConnectToLoopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    if (fd >= 0) ::close(fd);
    return -1;
}

// An HTTP proxy on 127.0.0.1 for the tests (every test host is a loopback name): CONNECT
// host:port opens a tunnel to 127.0.0.1:port; a request naming an absolute URL is passed on to
// 127.0.0.1 at the URL's port as it came. With `refuse`, every request is answered 407. Keeps
// each request's head.
class TestProxy {
  public:
    explicit TestProxy(bool refuse = false) : refuse_(refuse) {
        listen_fd_ = ListenOnLoopback(port_);
        if (listen_fd_ < 0) throw std::runtime_error("the test proxy could not listen");
        acceptor_ = std::thread([this] {
            for (;;) {
                const int fd = ::accept(listen_fd_, nullptr, nullptr);
                if (fd < 0) return;  // shut down
                std::lock_guard lock(mutex_);
                handlers_.emplace_back([this, fd] { Handle(fd); });
            }
        });
    }
    ~TestProxy() {
        ::shutdown(listen_fd_, SHUT_RDWR);
        acceptor_.join();
        ::close(listen_fd_);
        for (std::thread& handler : handlers_)
            handler.join();
    }
    int port() const { return port_; }
    std::vector<std::string> heads() const {
        std::lock_guard lock(mutex_);
        return heads_;
    }

  private:
    void Handle(int client) {
        std::string head;
        char buffer[4096];
        while (head.find("\r\n\r\n") == std::string::npos) {
            const long n = ::recv(client, buffer, sizeof buffer, 0);
            if (n <= 0) return (void)::close(client);
            head.append(buffer, static_cast<std::size_t>(n));
        }
        {
            std::lock_guard lock(mutex_);
            heads_.push_back(head.substr(0, head.find("\r\n\r\n")));
        }
        const std::string line = head.substr(0, head.find("\r\n"));
        const bool tunnel = line.starts_with("CONNECT ");
        std::string authority = tunnel ? line.substr(8) : line.substr(line.find("://") + 3);
        authority = authority.substr(0, authority.find_first_of("/ "));
        const int upstream = refuse_ ? -1 : ConnectToLoopback(std::stoi(authority.substr(authority.rfind(':') + 1)));
        if (upstream < 0) {
            const std::string refusal = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
            ::send(client, refusal.data(), refusal.size(), MSG_NOSIGNAL);
            return (void)::close(client);
        }
        if (tunnel) {
            // In two parts, the first longer than the CONNECT request: the transport reads an answer
            // that comes in pieces.
            const std::string part =
                "HTTP/1.1 200 Connection established\r\nVia: 1.1 " + std::string(400, 'p') + "\r\n";
            ::send(client, part.data(), part.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            ::send(client, "\r\n", 2, MSG_NOSIGNAL);
        } else {
            ::send(upstream, head.data(), head.size(), MSG_NOSIGNAL);
        }
        // Bytes both ways until either side closes (or 10 s pass without any).
        pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
        for (bool open = true; open && ::poll(fds, 2, 10'000) > 0;) {
            for (int side = 0; side < 2 && open; ++side) {
                if (fds[side].revents == 0) continue;
                const long n = ::recv(fds[side].fd, buffer, sizeof buffer, 0);
                open = n > 0 && ::send(fds[1 - side].fd, buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL) == n;
            }
        }
        ::close(upstream);
        ::close(client);
    }

    bool refuse_;
    int port_ = 0;
    int listen_fd_ = -1;
    std::thread acceptor_;
    mutable std::mutex mutex_;
    std::vector<std::thread> handlers_;  // guarded by mutex_ until the acceptor ends
    std::vector<std::string> heads_;     // guarded by mutex_
};

TEST(ProbeTransport, VerifiesTheServerOverTlsAndResumesItsSessionOnTheNextConnection) {
    TlsServer server;
    ProbeTransportOptions options;
    options.ca_file = server.ca_file();
    ProbeTransport transport(options);
    for (int k = 0; k < 3; ++k) {
        HttpRequest request = Get(server.Url("localhost"));
        request.discard_body = false;
        request.idempotent = false;  // a connection of its own each: a handshake each
        const HttpResponse response = transport.Send(request).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
        EXPECT_EQ(response.body, "up at localhost:" + std::to_string(server.port()));
    }
    const ProbeTransportStats stats = transport.Stats();
    EXPECT_EQ(stats.tls_handshakes, 3u);
    EXPECT_EQ(stats.tls_resumed, 2u);  // the first made the session the others resumed
    EXPECT_EQ(stats.lookups, 0u);      // (localhost: loopback without a lookup)
}

// An IPv6 literal is written in brackets where a host is written with its port: the Host header
// (and the connection's key), as the URL names it.
TEST(ProbeTransport, SendsAnIpv6LiteralsHostInBrackets) {
    httplib::Server server;
    server.Get("/.*", [](const httplib::Request& request, httplib::Response& response) {
        response.set_content("up at " + request.get_header_value("Host"), "text/plain");
    });
    const int port = server.bind_to_any_port("::1");
    if (port <= 0) GTEST_SKIP() << "no IPv6 loopback here";
    std::thread thread([&] { server.listen_after_bind(); });
    for (int n = 0; n < 500 && !server.is_running(); ++n)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    {
        ProbeTransport transport;
        for (int k = 0; k < 2; ++k) {
            HttpRequest request = Get("http://[::1]:" + std::to_string(port) + "/health");
            request.discard_body = false;
            const HttpResponse response = transport.Send(request).get();
            EXPECT_EQ(response.status, 200) << response.error_message;
            EXPECT_EQ(response.body, "up at [::1]:" + std::to_string(port));
        }
        EXPECT_EQ(transport.Stats().connects, 1u);  // the second probe on the first's connection
    }                                               // (its kept connection closed before the server stops)
    server.stop();
    thread.join();
}

TEST(ProbeTransport, EachHostHasItsOwnConnectionsAndSessions) {
    TlsServer server;
    ProbeTransportOptions options;
    options.ca_file = server.ca_file();
    ProbeTransport transport(options);
    for (const std::string host : {"s1.probes.localhost", "s2.probes.localhost", "s1.probes.localhost"}) {
        const HttpResponse response = transport.Send(Get(server.Url(host))).get();
        ASSERT_EQ(response.status, 200) << host << ": " << response.error_message;
    }
    const ProbeTransportStats stats = transport.Stats();
    EXPECT_EQ(stats.tls_handshakes, 2u);  // s1 once (kept for its second probe), s2 once
    EXPECT_EQ(stats.tls_resumed, 0u);     // no host was met twice on a new connection
    EXPECT_EQ(stats.reused, 1u);
}

TEST(ProbeTransport, ACertificateNotSignedByATrustedAuthorityOrForAnotherNameFailsAsTls) {
    TlsServer server;
    {
        ProbeTransport system_store;  // the system's CAs: the test's own is not among them
        const HttpResponse response = system_store.Send(Get(server.Url("localhost"))).get();
        EXPECT_EQ(response.error, core::TransportErrorKind::kTls) << response.error_message;
        EXPECT_NE(response.error_message.find("certificate"), std::string::npos) << response.error_message;
    }
    ProbeTransportOptions options;
    options.ca_file = server.ca_file();
    ProbeTransport transport(options);
    const HttpResponse other_name = transport.Send(Get(server.Url("elsewhere.localhost"))).get();
    EXPECT_EQ(other_name.error, core::TransportErrorKind::kTls) << other_name.error_message;
    EXPECT_NE(other_name.error_message.find("hostname mismatch"), std::string::npos) << other_name.error_message;
}

TEST(ProbeTransport, AnUnreadableCaFileIsRefusedAtConstruction) {
    ProbeTransportOptions options;
    options.ca_file = "/nonexistent/ca.pem";
    EXPECT_THROW(ProbeTransport{options}, std::runtime_error);
}

// This machine's name when it resolves to a loopback address (in /etc/hosts on Debian): a name
// the transport must look up, answered without a network; else nullopt, with `why`.
std::optional<std::string> LoopbackHostName(std::string& why) {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0) {
        why = "this machine has no name";
        return std::nullopt;
    }
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(name, nullptr, &hints, &found) != 0) {
        why = "this machine's name does not resolve";
        return std::nullopt;
    }
    const bool loopback = (ntohl(reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr) >> 24) == 127;
    ::freeaddrinfo(found);
    if (!loopback) {
        why = "this machine's name is not a loopback address";
        return std::nullopt;
    }
    return std::string(name);
}

// The machine's own name (in /etc/hosts on Debian): looked up once on the resolver thread, then
// taken from the cache.
TEST(ProbeTransport, AHostNameIsLookedUpOnceAndCached) {
    std::string why;
    const std::optional<std::string> name = LoopbackHostName(why);
    if (!name) GTEST_SKIP() << why;
    LoopbackHttpServer server([](const LoopbackRequest&) { return LoopbackReply::Json(200, "{}"); });
    ProbeTransport transport;
    for (int k = 0; k < 3; ++k) {
        HttpRequest request = Get("http://" + *name + ":" + std::to_string(server.port()) + "/health");
        request.idempotent = false;  // a new connection each: each needs the addresses
        const HttpResponse response = transport.Send(request).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
    }
    EXPECT_EQ(transport.Stats().lookups, 1u);
    EXPECT_EQ(transport.Stats().connects, 3u);
}

// What the transport holds follows the hosts it probes now: a host is forgotten once its last
// connection closes (kept ones at idle_timeout, one of its own after its answer), a name once its
// addresses expire. (Services come and go, and change domains: a long-running serve must not hold
// an entry for every host it ever probed.)
TEST(ProbeTransport, HostsAndNamesNoLongerProbedAreForgotten) {
    LoopbackHttpServer server([](const LoopbackRequest&) { return LoopbackReply::Json(200, "{}"); });
    const auto held_within = [](ProbeTransport& transport, auto field, std::uint64_t want) {
        for (int k = 0; k < 1000 && transport.Stats().*field != want; ++k)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return transport.Stats().*field;
    };
    ProbeTransportOptions options;
    options.idle_timeout = core::Seconds(2);
    ProbeTransport transport(options);
    for (const bool kept : {true, false}) {
        std::vector<std::future<HttpResponse>> answers;
        for (int k = 0; k < 20; ++k) {
            HttpRequest request = Get("http://" + std::string(kept ? "kept" : "own") + std::to_string(k) +
                                      ".localhost:" + std::to_string(server.port()) + "/health");
            request.idempotent = kept;  // (not idempotent: a connection of its own, closed after its answer)
            answers.push_back(transport.Send(request));
        }
        for (auto& answer : answers) {
            const HttpResponse response = answer.get();
            ASSERT_EQ(response.status, 200) << response.error_message;
        }
        if (kept) {
            EXPECT_EQ(transport.Stats().hosts_held, 20u);  // each with its idle connection
        }
        EXPECT_EQ(held_within(transport, &ProbeTransportStats::hosts_held, 0), 0u) << (kept ? "kept" : "own");
    }
    EXPECT_EQ(transport.Stats().connects, 40u);

    std::string why;
    const std::optional<std::string> name = LoopbackHostName(why);
    if (!name) GTEST_SKIP() << why;
    for (const bool expiring : {false, true}) {
        ProbeTransportOptions names_options;
        names_options.dns_ttl = expiring ? core::Millis(50) : core::Seconds(300);
        ProbeTransport names(names_options);
        const HttpResponse response =
            names.Send(Get("http://" + *name + ":" + std::to_string(server.port()) + "/health")).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
        if (expiring) {
            EXPECT_EQ(held_within(names, &ProbeTransportStats::names_held, 0), 0u);
            EXPECT_EQ(names.Stats().hosts_held, 1u);  // (its connection is kept: the host is not forgotten)
        } else {
            EXPECT_EQ(names.Stats().names_held, 1u);  // looked up when the request started, kept for its TTL
        }
    }
}

TEST(ProbeTransport, ANameThatDoesNotResolveFailsAsDns) {
    const std::string name = "no-such-host.invalid";
    addrinfo* found = nullptr;
    const auto started = std::chrono::steady_clock::now();
    const int rc = ::getaddrinfo(name.c_str(), nullptr, nullptr, &found);
    if (rc == 0) ::freeaddrinfo(found);
    if (rc == 0 || std::chrono::steady_clock::now() - started > std::chrono::seconds(2))
        GTEST_SKIP() << "this machine's resolver answers .invalid names, or slowly";
    ProbeTransport transport;
    const HttpResponse response = transport.Send(Get("http://" + name + "/health", core::Seconds(10))).get();
    EXPECT_EQ(response.error, core::TransportErrorKind::kDns) << response.error_message;
    EXPECT_NE(response.error_message.find(name), std::string::npos);
}

// No more connections than the caps allow, per host and in total; every request still answered.
TEST(ProbeTransport, ConnectionsStayWithinTheHostAndTotalCaps) {
    std::atomic<int> now{0};
    std::atomic<int> most{0};
    LoopbackHttpServer server([&](const LoopbackRequest&) {
        const int at = ++now;
        for (int seen = most.load(); at > seen && !most.compare_exchange_weak(seen, at);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        --now;
        return LoopbackReply::Json(200, "{}");
    });
    for (const auto& [per_host, total, hosts] : {std::tuple{2, 100, 1}, std::tuple{100, 3, 5}}) {
        ProbeTransportOptions options;
        options.max_host_connections = static_cast<std::size_t>(per_host);
        options.max_total_connections = static_cast<std::size_t>(total);
        ProbeTransport transport(options);
        most = 0;
        std::mutex mutex;
        std::condition_variable done;
        int left = 30;
        int answered = 0;
        std::vector<HttpTransport::Submission> batch;
        for (int k = 0; k < 30; ++k) {
            const std::string host = "h" + std::to_string(k % hosts) + ".localhost";
            batch.push_back(
                {Get("http://" + host + ":" + std::to_string(server.port()) + "/"), [&](const HttpResponse& r) {
                     std::lock_guard lock(mutex);
                     answered += r.status == 200 ? 1 : 0;
                     if (--left == 0) done.notify_all();
                 }});
        }
        transport.SubmitAll(batch);
        std::unique_lock lock(mutex);
        ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(30), [&] { return left == 0; }));
        EXPECT_EQ(answered, 30);
        EXPECT_LE(most.load(), std::min(per_host * hosts, total)) << per_host << " per host, " << total << " in all";
        EXPECT_GE(most.load(), 2);
    }
}

// At the host's cap, a request that needs a connection of its own waits for the one open to come
// free, which is then closed to make room for it (not given to it, nor kept while it waits).
TEST(ProbeTransport, ARequestWithEffectsWaitingAtTheCapGetsANewConnectionWhenOneComesFree) {
    LoopbackHttpServer server([](const LoopbackRequest& request) {
        LoopbackReply reply = LoopbackReply::Json(200, request.target);
        reply.delay = std::chrono::milliseconds(request.target == "/slow" ? 200 : 0);
        return reply;
    });
    ProbeTransportOptions options;
    options.max_host_connections = 1;
    ProbeTransport transport(options);
    auto slow = transport.Send(Get(server.Url("/slow")));
    HttpRequest once = Get(server.Url("/once"));
    once.idempotent = false;
    once.discard_body = false;
    auto second = transport.Send(once);
    EXPECT_EQ(slow.get().status, 200);
    const HttpResponse answer = second.get();
    EXPECT_EQ(answer.status, 200) << answer.error_message;
    EXPECT_EQ(answer.body, "/once");
    EXPECT_EQ(server.connections_accepted(), 2u);
    EXPECT_EQ(transport.Stats().reused, 0u);
}

// A server that closes a kept connection while it is idle: the transport drops it when it
// happens, and the next request opens a new one without a failed send first.
TEST(ProbeTransport, AnIdleConnectionTheServerClosedIsDroppedBeforeItIsUsed) {
    int port = 0;
    const int listen_fd = ListenOnLoopback(port);
    ASSERT_GE(listen_fd, 0);
    // Answers each connection's one request as if it would keep it, then closes it 50 ms later.
    std::thread closer([listen_fd] {
        for (int k = 0; k < 2; ++k) {
            const int fd = ::accept(listen_fd, nullptr, nullptr);
            if (fd < 0) return;
            char buffer[4096];
            std::string request;
            while (request.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::read(fd, buffer, sizeof buffer);
                if (n <= 0) break;
                request.append(buffer, static_cast<std::size_t>(n));
            }
            const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
            (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            ::close(fd);
        }
    });
    ProbeTransport transport;
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
    ASSERT_EQ(transport.Send(Get(url)).get().status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const HttpResponse second = transport.Send(Get(url)).get();
    EXPECT_EQ(second.status, 200) << second.error_message;
    EXPECT_EQ(transport.Stats().resent, 0u);
    EXPECT_EQ(transport.Stats().reused, 0u);
    EXPECT_EQ(transport.Stats().connects, 2u);
    closer.join();
    ::close(listen_fd);
}

// Answers no client should trust fail with a message, never an answer; an interim answer is
// skipped.
TEST(ProbeTransport, MalformedAnswersFailAndAnInterimAnswerIsSkipped) {
    struct Case {
        std::string answer;
        std::string expected;  // in the error message; empty: answered 200
    };
    const std::vector<Case> cases = {
        {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", ""},
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP/1.x"},
        {"HTTP/1.1 2x0 OK\r\n\r\n", "status line is malformed"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", "Content-Length is malformed"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "Content-Length is malformed"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk's size is malformed"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n0\r\n\r\n", "does not end where"},
        {"HTTP/1.1 200 OK\r\nX-Long: " + std::string(70'000, 'a') + "\r\n\r\n", "head is longer than"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "closed before the answer was complete"},
        {"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"},
    };
    ProbeTransport transport;
    for (const Case& c : cases) {
        int port = 0;
        const int listen_fd = ListenOnLoopback(port);
        ASSERT_GE(listen_fd, 0);
        std::thread server([&] {
            const int fd = ::accept(listen_fd, nullptr, nullptr);
            if (fd < 0) return;
            char buffer[4096];
            (void)::read(fd, buffer, sizeof buffer);
            std::size_t sent = 0;
            while (sent < c.answer.size()) {
                const ssize_t n = ::send(fd, c.answer.data() + sent, c.answer.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            ::shutdown(fd, SHUT_WR);
            while (::read(fd, buffer, sizeof buffer) > 0) {
            }
            ::close(fd);
        });
        const HttpResponse response =
            transport.Send(Get("http://127.0.0.1:" + std::to_string(port) + "/", core::Seconds(10))).get();
        server.join();
        ::close(listen_fd);
        if (c.expected.empty()) {
            EXPECT_EQ(response.status, 200) << response.error_message;
        } else {
            EXPECT_FALSE(response.Answered()) << c.expected;
            EXPECT_NE(response.error_message.find(c.expected), std::string::npos)
                << c.expected << " — got: " << response.error_message;
        }
    }
}

TEST(ProbeTransport, URLsItCannotSendAndHeadersThatWouldSplitTheRequestAreRefused) {
    ProbeTransport transport;
    for (const std::string url : {"ftp://example.com/", "http://user:pw@127.0.0.1/", "http://127.0.0.1:99999/",
                                  "http:///nohost", "http://127.0.0.1/a b"}) {
        const HttpResponse response = transport.Send(Get(url)).get();
        EXPECT_EQ(response.error, core::TransportErrorKind::kOther) << url;
        EXPECT_EQ(response.error_message.find("pw"), std::string::npos) << response.error_message;
    }
    HttpRequest split = Get("http://127.0.0.1:1/");
    split.headers = {{"X-Evil", "a\r\nHost: elsewhere"}};
    EXPECT_EQ(transport.Send(split).get().error, core::TransportErrorKind::kOther);
}

// Through a proxy: a TLS host through a CONNECT tunnel (kept for the next request, the host's
// certificate verified through it), a plain one by its absolute URL; the proxy's credentials on
// what it reads; no name looked up (the proxy is an address, the hosts are the proxy's to reach).
TEST(ProbeTransport, GoesThroughAProxyByTunnelForTlsAndByAbsoluteUrlForPlainHttp) {
    TlsServer tls;
    LoopbackHttpServer plain([](const LoopbackRequest& request) { return LoopbackReply::Json(200, request.target); });
    TestProxy proxy;
    ProbeTransportOptions options;
    options.ca_file = tls.ca_file();
    options.proxies.https = ProbeProxy{"127.0.0.1", static_cast<std::uint16_t>(proxy.port()), "Basic dXNlcjpwQHNz"};
    options.proxies.http = ProbeProxy{"127.0.0.1", static_cast<std::uint16_t>(proxy.port()), ""};
    ProbeTransport transport(options);
    const std::string tls_authority = "api.probes.localhost:" + std::to_string(tls.port());
    for (int k = 0; k < 2; ++k) {
        HttpRequest request = Get(tls.Url("api.probes.localhost"));
        request.discard_body = false;
        const HttpResponse response = transport.Send(request).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
        EXPECT_EQ(response.body, "up at " + tls_authority);
    }
    const std::string plain_url = "http://web.probes.localhost:" + std::to_string(plain.port()) + "/health";
    HttpRequest request = Get(plain_url);
    request.discard_body = false;
    const HttpResponse response = transport.Send(request).get();
    ASSERT_EQ(response.status, 200) << response.error_message;
    const std::vector<std::string> heads = proxy.heads();
    ASSERT_EQ(heads.size(), 2u);  // one tunnel, kept for the second TLS request
    EXPECT_TRUE(heads[0].starts_with("CONNECT " + tls_authority + " HTTP/1.1\r\nHost: " + tls_authority + "\r\n"))
        << heads[0];
    EXPECT_NE(heads[0].find("\r\nProxy-Authorization: Basic dXNlcjpwQHNz"), std::string::npos) << heads[0];
    EXPECT_TRUE(heads[1].starts_with("GET " + plain_url + " HTTP/1.1\r\n")) << heads[1];
    EXPECT_EQ(heads[1].find("Proxy-Authorization"), std::string::npos) << heads[1];
    const ProbeTransportStats stats = transport.Stats();
    EXPECT_EQ(stats.lookups, 0u);
    EXPECT_EQ(stats.tls_handshakes, 1u);
    EXPECT_EQ(stats.reused, 1u);
}

// Hosts in no_proxy (and their subdomains) go direct; a proxy that refuses the tunnel, or one that
// cannot be reached, fails the probe as a connection failure that says so.
TEST(ProbeTransport, HostsInNoProxyGoDirectAndAProxyThatRefusesOrIsGoneFailsTheConnection) {
    TlsServer tls;
    LoopbackHttpServer plain([](const LoopbackRequest&) { return LoopbackReply::Json(200, "{}"); });
    TestProxy refusing(/*refuse=*/true);
    ProbeTransportOptions options;
    options.ca_file = tls.ca_file();
    options.proxies.https = ProbeProxy{"127.0.0.1", static_cast<std::uint16_t>(refusing.port()), ""};
    options.proxies.http = options.proxies.https;
    options.proxies.no_proxy = {"direct.probes.localhost", "near.localhost", "127.0.0.0/8"};
    ProbeTransport transport(options);
    EXPECT_EQ(transport.Send(Get(tls.Url("direct.probes.localhost"))).get().status, 200);
    EXPECT_EQ(transport.Send(Get("http://a.near.localhost:" + std::to_string(plain.port()) + "/")).get().status, 200);
    EXPECT_EQ(transport.Send(Get("http://127.0.0.1:" + std::to_string(plain.port()) + "/")).get().status, 200);
    EXPECT_TRUE(refusing.heads().empty());
    const HttpResponse refused = transport.Send(Get(tls.Url("api.probes.localhost"))).get();
    EXPECT_EQ(refused.error, core::TransportErrorKind::kConnect) << refused.error_message;
    EXPECT_NE(refused.error_message.find("refused the tunnel to api.probes.localhost:" + std::to_string(tls.port()) +
                                         ": HTTP/1.1 407 Proxy Authentication Required"),
              std::string::npos)
        << refused.error_message;
    EXPECT_EQ(refusing.heads().size(), 1u);

    int gone_port = 0;
    ::close(ListenOnLoopback(gone_port));  // a port nothing listens on now
    ProbeTransportOptions gone_options = options;
    gone_options.proxies.https->port = static_cast<std::uint16_t>(gone_port);
    ProbeTransport gone(gone_options);
    const HttpResponse unreachable = gone.Send(Get(tls.Url("api.probes.localhost"))).get();
    EXPECT_EQ(unreachable.error, core::TransportErrorKind::kConnect) << unreachable.error_message;
    EXPECT_NE(unreachable.error_message.find("to the proxy 127.0.0.1:" + std::to_string(gone_port)), std::string::npos)
        << unreachable.error_message;
}

// The environment's proxies as libcurl reads them.
// As libcurl 7.86 and later decide for Railway's requests: names by domain, addresses by address
// or CIDR range, never a name for an address.
TEST(NoProxyCovers, NamesTheirDomainsAndAddressesTheirRanges) {
    const std::vector<std::string> list = {"example.com",   "10.0.0.0/8",  "192.168.1.7", "fd00::/8", "::1",
                                           "172.16.0.0/12", "127.0.0.0/0", "8.8.8.8/33",  "1.2.3.4/x"};
    for (const auto& [host, covered] : std::vector<std::pair<std::string, bool>>{
             {"example.com", true},
             {"www.example.com", true},
             {"WWW.Example.COM", true},
             {"www.example.com.", true},  // (the root's dot)
             {"notexample.com", false},
             {"example.com.evil", false},
             {"10.1.2.3", true},
             {"11.1.2.3", false},
             {"192.168.1.7", true},
             {"192.168.1.8", false},
             {"172.31.255.255", true},  // 172.16/12 ends at 172.31
             {"172.32.0.1", false},
             {"fd12:3456::1", true},
             {"fe80::1", false},
             {"::1", true},
             {"::2", false},
             {"127.0.0.1", false},  // "/0": the whole address compared, as libcurl
             {"127.0.0.0", true},
             {"8.8.8.8", false},  // a prefix longer than the address matches nothing
             {"1.2.3.4", false},  // nor a prefix that is not a number
         }) {
        EXPECT_EQ(NoProxyCovers(list, host), covered) << host;
    }
    EXPECT_FALSE(NoProxyCovers({"10.0.0.0/8"}, "10.example.com"));  // a name is not in an address range
    EXPECT_FALSE(NoProxyCovers({"localhost"}, "127.0.0.1"));        // an address is not covered by a name
    EXPECT_TRUE(NoProxyCovers({"*"}, "10.1.2.3"));
    EXPECT_TRUE(NoProxyCovers({"*"}, "anything.example"));
    EXPECT_FALSE(NoProxyCovers({}, "example.com"));
}

TEST(ProbeProxies, AreReadFromTheEnvironmentAsLibcurlReadsThem) {
    const auto from = [](const std::map<std::string, std::string, std::less<>>& vars) {
        return ProbeProxiesFromEnvironment([vars](std::string_view name) -> std::optional<std::string> {
            const auto found = vars.find(name);
            return found == vars.end() ? std::nullopt : std::optional(found->second);
        });
    };
    EXPECT_EQ(from({}).value(), ProbeProxies{});
    const auto read = from({{"HTTPS_PROXY", "proxy.corp:3128"},
                            {"http_proxy", "http://u%40corp:p%3Ass@10.0.0.1"},
                            {"NO_PROXY", " .internal.example, Localhost ,,[::1],10.0.0.0/8,example.org.,*"}});
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(read->https, (ProbeProxy{"proxy.corp", 3128, ""}));
    EXPECT_EQ(read->http, (ProbeProxy{"10.0.0.1", 1080, "Basic dUBjb3JwOnA6c3M="}));  // "u@corp:p:ss"
    EXPECT_EQ(read->no_proxy,
              (std::vector<std::string>{"internal.example", "localhost", "::1", "10.0.0.0/8", "example.org", "*"}));
    // Lower case first; HTTP_PROXY in upper case is not read (as libcurl); all_proxy for the rest.
    const auto cases = from({{"https_proxy", "a:1"}, {"HTTPS_PROXY", "b:2"}, {"HTTP_PROXY", "c:3"}});
    ASSERT_TRUE(cases);
    EXPECT_EQ(cases->https->host, "a");
    EXPECT_FALSE(cases->http.has_value());
    const auto all = from({{"ALL_PROXY", "http://d:4"}, {"https_proxy", " "}});
    ASSERT_TRUE(all);
    EXPECT_EQ(all->https, (ProbeProxy{"d", 4, ""}));
    EXPECT_EQ(all->http, (ProbeProxy{"d", 4, ""}));
    // A proxy the probes cannot use: the error names the variable, never the value.
    for (const std::string value :
         {"socks5://user:secret@h:1080", "https://user:secret@h:443", "http://user:secret@"}) {
        const auto refused = from({{"https_proxy", value}});
        ASSERT_FALSE(refused) << value;
        EXPECT_EQ(refused.error().code, util::ErrorCode::kInvalidArgument);
        EXPECT_NE(refused.error().message.find("$https_proxy"), std::string::npos) << refused.error().message;
        EXPECT_EQ(refused.error().message.find("secret"), std::string::npos) << refused.error().message;
    }
}

}  // namespace
}  // namespace railwatch::net
