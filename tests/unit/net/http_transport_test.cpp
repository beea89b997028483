#include "net/http_transport.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/curl_transport.hpp"
#include "net/http_server.hpp"

namespace railwatch::net {
namespace {

TEST(HttpTransport, FindsHeadersCaseInsensitively) {
    HttpHeaders headers = {{"X-RateLimit-Remaining", "42"}, {"content-type", "application/json"}};
    EXPECT_EQ(FindHeader(headers, "x-ratelimit-remaining").value_or(""), "42");
    EXPECT_EQ(FindHeader(headers, "Content-Type").value_or(""), "application/json");
    EXPECT_FALSE(FindHeader(headers, "Retry-After").has_value());
}

TEST(HttpTransport, UrlForMessagesDropsQueryAndFragment) {
    EXPECT_EQ(UrlForMessages("https://backboard.railway.com/graphql/v2?source=railwatch&token=secret"),
              "https://backboard.railway.com/graphql/v2");
    EXPECT_EQ(UrlForMessages("http://h/p#frag"), "http://h/p");
    EXPECT_EQ(UrlForMessages("http://h/p"), "http://h/p");
}

TEST(HttpTransport, UrlForMessagesDropsUserInfo) {
    EXPECT_EQ(UrlForMessages("https://user:pa55@h.example:8443/p?q=1"), "https://h.example:8443/p");
    EXPECT_EQ(UrlForMessages("http://h/a@b"), "http://h/a@b");  // an @ in the path is not user info
}

TEST(HttpTransport, OriginForMessagesKeepsOnlySchemeHostAndPort) {
    EXPECT_EQ(OriginForMessages("https://hooks.slack.com/services/T0001/B0002/XXXXSECRET"), "https://hooks.slack.com");
    EXPECT_EQ(OriginForMessages("https://discord.com/api/webhooks/123/tok?wait=true"), "https://discord.com");
    EXPECT_EQ(OriginForMessages("http://user:pw@127.0.0.1:8080/hook#x"), "http://127.0.0.1:8080");
    EXPECT_EQ(OriginForMessages("http://[::1]:9/x"), "http://[::1]:9");
    EXPECT_EQ(OriginForMessages("http://h"), "http://h");
    EXPECT_EQ(OriginForMessages("no scheme/secret"), "(a URL without a scheme)");
}

TEST(HttpTransport, ParseUrlSplitsTheAuthorityAndRefusesWhatIsNotOne) {
    const auto smtp = ParseUrl("SMTP://user:pw@[::1]:25/x");
    ASSERT_TRUE(smtp.has_value());
    EXPECT_EQ(smtp->scheme, "smtp");
    EXPECT_EQ(smtp->userinfo, "user:pw");
    EXPECT_EQ(smtp->host, "::1");
    EXPECT_EQ(smtp->port, 25);
    const auto plain = ParseUrl("https://svc.up.railway.app/health?x=1");
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(plain->host, "svc.up.railway.app");
    EXPECT_EQ(plain->port, 0);
    for (const char* bad : {"no-scheme.example.com", "http://", "http://host:0/", "http://host:65536/",
                            "http://host:8x/", "http://[::1/"})
        EXPECT_FALSE(ParseUrl(bad).has_value()) << bad;
}

TEST(HttpTransport, ResponseAnsweredOnlyWithoutTransportError) {
    HttpResponse ok;
    ok.status = 503;
    EXPECT_TRUE(ok.Answered());
    HttpResponse failed;
    failed.error = core::TransportErrorKind::kReset;
    EXPECT_FALSE(failed.Answered());
}

TEST(HttpTransport, RequestsAreIdempotentUnlessMarkedOtherwise) {
    EXPECT_TRUE(HttpRequest{}.idempotent);
}

// A listening socket on 127.0.0.1 at a port the OS chose (written to `port`).
int ListenOnLoopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 8) != 0) {
        ::close(fd);
        throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return fd;
}

// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers the first request of every connection
// and, on the second request of a connection, reads that request whole and closes the connection
// without answering: what a server does when it drops an idle keep-alive connection just as a
// request arrives on it. It counts every complete request it read, by body.
class DropsSecondRequestServer {
  public:
    DropsSecondRequestServer() {
        listen_fd_ = ListenOnLoopback(port_);
        acceptor_ = std::thread([this] { Accept(); });
    }

    ~DropsSecondRequestServer() {
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        acceptor_.join();
        {
            std::lock_guard lock(mutex_);
            for (int fd : open_)
                ::shutdown(fd, SHUT_RDWR);
        }
        for (auto& t : connections_)
            t.join();
    }

    std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/graphql/v2"; }

    /// How many complete requests carried `body`.
    int Received(const std::string& body) const {
        std::lock_guard lock(mutex_);
        auto it = bodies_.find(body);
        return it == bodies_.end() ? 0 : it->second;
    }

    int connections() const { return accepted_.load(); }

  private:
    void Accept() {
        for (;;) {
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            ++accepted_;
            std::lock_guard lock(mutex_);
            open_.push_back(fd);
            connections_.emplace_back([this, fd] { Serve(fd); });
        }
    }

    // Reads one request (headers, then Content-Length bytes of body); false when the peer left.
    static bool ReadRequest(int fd, std::string& buffer, std::string& body) {
        std::size_t header_end;
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!ReadMore(fd, buffer)) return false;
        }
        std::string head = buffer.substr(0, header_end);
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        std::size_t length = 0;
        if (auto at = head.find("content-length:"); at != std::string::npos) {
            length = std::stoul(head.substr(at + 15));
        }
        while (buffer.size() < header_end + 4 + length) {
            if (!ReadMore(fd, buffer)) return false;
        }
        body = buffer.substr(header_end + 4, length);
        buffer.erase(0, header_end + 4 + length);
        return true;
    }

    static bool ReadMore(int fd, std::string& buffer) {
        char chunk[4096];
        const ssize_t n = ::read(fd, chunk, sizeof(chunk));
        if (n <= 0) return false;
        buffer.append(chunk, static_cast<std::size_t>(n));
        return true;
    }

    void Serve(int fd) {
        std::string buffer;
        for (int index = 1;; ++index) {
            std::string body;
            if (!ReadRequest(fd, buffer, body)) break;
            {
                std::lock_guard lock(mutex_);
                ++bodies_[body];
            }
            if (index >= 2) break;  // read it whole, then close without a word
            const std::string answer =
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
            if (::write(fd, answer.data(), answer.size()) != static_cast<ssize_t>(answer.size())) break;
        }
        std::lock_guard lock(mutex_);
        open_.erase(std::find(open_.begin(), open_.end(), fd));
        ::close(fd);
    }

    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<int> accepted_{0};
    mutable std::mutex mutex_;
    std::map<std::string, int> bodies_;  // guarded by mutex_
    std::vector<int> open_;              // guarded by mutex_
    std::vector<std::thread> connections_;
    std::thread acceptor_;
};

HttpRequest Post(const std::string& url, std::string body, bool idempotent) {
    HttpRequest request;
    request.url = url;
    request.body = std::move(body);
    request.headers = {{"Content-Type", "application/json"}};
    request.timeout = core::Seconds(20);
    request.idempotent = idempotent;
    return request;
}

TEST(CurlTransport, AMutationReachesTheServerExactlyOnceWhenAKeptAliveConnectionDies) {
    DropsSecondRequestServer server;
    CurlTransport transport;
    // A read leaves a kept-alive connection behind.
    ASSERT_EQ(transport.Send(Post(server.Url(), R"({"query":"{ read }"})", true)).get().status, 200);
    // The mutation must not go on that connection: the server would read it and hang up, and
    // libcurl would silently send it again on a new connection.
    const std::string mutation = R"({"query":"mutation { deploymentRedeploy(id: \"d\") { id } }"})";
    const HttpResponse response = transport.Send(Post(server.Url(), mutation, false)).get();
    EXPECT_EQ(server.Received(mutation), 1);
    EXPECT_EQ(response.status, 200) << response.error_message;
}

TEST(CurlTransport, AReadIsSentAgainByTheTransportWhenAKeptAliveConnectionDies) {
    // The server above does make libcurl re-send: a read (idempotent) shows it, so the mutation
    // test would see a second copy if the transport reused the connection for it.
    DropsSecondRequestServer server;
    CurlTransport transport;
    ASSERT_EQ(transport.Send(Post(server.Url(), R"({"query":"{ first }"})", true)).get().status, 200);
    const std::string read = R"({"query":"{ second }"})";
    const HttpResponse response = transport.Send(Post(server.Url(), read, true)).get();
    EXPECT_EQ(server.Received(read), 2);
    EXPECT_EQ(response.status, 200) << response.error_message;
    EXPECT_EQ(server.connections(), 2);
}

// A port on 127.0.0.1 that nobody listens on (bound, then closed).
int ClosedPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

TEST(CurlTransport, AFailedRequestNamesOnlyTheOriginNeverThePathQueryOrUserInfo) {
    CurlTransport transport;
    const std::string origin = "http://127.0.0.1:" + std::to_string(ClosedPort());
    const std::string url =
        "http://hookuser:hookpass@" + origin.substr(7) + "/services/T0001/B0002/SECRETPATH?token=Q1";
    const HttpResponse response = transport.Send(Post(url, "{}", false)).get();
    ASSERT_FALSE(response.Answered());
    EXPECT_NE(response.error_message.find("POST " + origin + " failed"), std::string::npos) << response.error_message;
    for (const std::string secret : {"SECRETPATH", "services", "T0001", "token", "Q1", "hookuser", "hookpass"})
        EXPECT_EQ(response.error_message.find(secret), std::string::npos) << secret << ": " << response.error_message;
}

// The transport hands a finished request's handle to the next request, reset: a failed request's
// or a mutation's settings (a fresh connection, never reused) do not carry over to the reads after
// it, which share a kept-alive connection again (the server drops the second request on a
// connection: the read sent again shows it was reused).
TEST(CurlTransport, AHandleUsedAgainCarriesNoSettingsOfItsLastRequest) {
    DropsSecondRequestServer server;
    CurlTransport transport;
    const HttpResponse failed =
        transport.Send(Post("http://127.0.0.1:" + std::to_string(ClosedPort()) + "/", "{}", true)).get();
    ASSERT_FALSE(failed.Answered());
    ASSERT_EQ(transport.Send(Post(server.Url(), R"({"query":"{ first }"})", true)).get().status, 200);
    const std::string mutation = R"({"query":"mutation { deploymentRestart(id: \"d\") }"})";
    ASSERT_EQ(transport.Send(Post(server.Url(), mutation, false)).get().status, 200);
    EXPECT_EQ(server.Received(mutation), 1);
    ASSERT_EQ(transport.Send(Post(server.Url(), R"({"query":"{ a }"})", true)).get().status, 200);
    const std::string read = R"({"query":"{ b }"})";
    const HttpResponse response = transport.Send(Post(server.Url(), read, true)).get();
    EXPECT_EQ(response.status, 200) << response.error_message;
    EXPECT_EQ(server.Received(read), 2);  // sent on the kept-alive connection, then again
    EXPECT_EQ(server.connections(), 4);   // first, the mutation's own, a (kept), b's second try
}

// A server on 127.0.0.1 that answers every connection's first request with `answer` (raw HTTP)
// and closes it.
class RawAnswerServer {
  public:
    explicit RawAnswerServer(std::string answer) : answer_(std::move(answer)) {
        listen_fd_ = ListenOnLoopback(port_);
        thread_ = std::thread([this] { Serve(); });
    }

    ~RawAnswerServer() {
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        thread_.join();
    }

    std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/graphql/v2"; }

    /// The heads of the requests read so far (request line and headers), oldest first.
    std::vector<std::string> Requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    void Serve() {
        for (;;) {
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            std::string request;
            char chunk[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {  // the test's requests carry no body
                const ssize_t n = ::read(fd, chunk, sizeof(chunk));
                if (n <= 0) break;
                request.append(chunk, static_cast<std::size_t>(n));
            }
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(request.substr(0, request.find("\r\n\r\n")));
            }
            std::size_t sent = 0;
            while (sent < answer_.size()) {
                const ssize_t n = ::write(fd, answer_.data() + sent, answer_.size() - sent);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            ::close(fd);
        }
    }

    std::string answer_;
    int listen_fd_ = -1;
    int port_ = 0;
    mutable std::mutex mutex_;
    std::vector<std::string> requests_;  // guarded by mutex_
    std::thread thread_;
};

HttpRequest Get(const std::string& url) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.timeout = core::Seconds(20);
    return request;
}

// A body whose length the server said arrives in one allocation with room behind it, so a parser
// that reads past the end (simdjson) need not copy it.
TEST(CurlTransport, ABodyOfAKnownLengthIsReadIntoOneBufferWithSlackBehindIt) {
    CurlTransport transport;
    for (const std::size_t size : {1000u, 65536u, 131072u, 200001u}) {
        const std::string body(size, 'b');
        RawAnswerServer server("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" + body);
        const HttpResponse response = transport.Send(Get(server.Url())).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
        EXPECT_EQ(response.body, body);
        EXPECT_GE(response.body.capacity(), size + 64) << size;
    }
}

// Requests handed over together are each sent and completed exactly once, each with an id of its
// own (the transport's thread is woken once for all of them).
TEST(CurlTransport, RequestsSubmittedTogetherAreEachAnsweredOnceUnderTheirOwnIds) {
    RawAnswerServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    CurlTransport transport;
    constexpr int kCount = 5;
    std::mutex mutex;
    std::condition_variable all_done;
    std::vector<int> completions(kCount, 0);
    std::vector<int> statuses(kCount, 0);
    std::vector<HttpTransport::Submission> submissions;
    submissions.reserve(kCount);
    for (int i = 0; i < kCount; ++i) {
        submissions.push_back({Get(server.Url()), [&, i](const HttpResponse& response) {
                                   std::lock_guard lock(mutex);
                                   ++completions[static_cast<std::size_t>(i)];
                                   statuses[static_cast<std::size_t>(i)] = response.status;
                                   all_done.notify_all();
                               }});
    }
    transport.SubmitAll(submissions);
    std::set<RequestId> ids;
    for (const auto& s : submissions)
        ids.insert(s.id);
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kCount));
    std::unique_lock lock(mutex);
    ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(20), [&] {
        return std::all_of(completions.begin(), completions.end(), [](int n) { return n > 0; });
    }));
    for (int i = 0; i < kCount; ++i) {
        EXPECT_EQ(completions[static_cast<std::size_t>(i)], 1) << i;
        EXPECT_EQ(statuses[static_cast<std::size_t>(i)], 200) << i;
    }
}

// The connections a group of requests opened stay open for the next group, however the group's
// answers come in. Each answer here waits for the whole group to arrive (so each request has a
// connection of its own) and for the answer before it to be completed (so the last ones complete
// with few requests left in flight: libcurl's default cache, four connections per request in
// flight, closed one of the eight then, and the second group connected again).
TEST(CurlTransport, ConnectionsAGroupOpenedAreKeptForTheNextGroup) {
    constexpr int kGroup = 8;
    std::mutex mutex;
    std::condition_variable changed;
    int arrived = 0;
    int completed = 0;
    std::set<int> client_ports;
    HttpServerOptions server_options;
    server_options.threads = kGroup;
    HttpServer server(server_options);
    server.Route("GET", "/held", [&](const ServerRequest& req, ServerResponse& res) {
        std::unique_lock lock(mutex);
        client_ports.insert(req.remote_port);
        const int index = arrived++;
        const int group_end = (index / kGroup + 1) * kGroup;
        changed.notify_all();
        changed.wait_for(lock, std::chrono::seconds(10), [&] { return arrived >= group_end && completed == index; });
        res.body = "{}";
    });
    const auto port = server.Start();
    ASSERT_TRUE(port.has_value());
    CurlTransportOptions options;
    options.max_host_connections = 16;
    CurlTransport transport(options);
    for (int group = 1; group <= 2; ++group) {
        std::vector<HttpTransport::Submission> submissions;
        submissions.reserve(kGroup);
        for (int i = 0; i < kGroup; ++i) {
            submissions.push_back(
                {Get("http://127.0.0.1:" + std::to_string(*port) + "/held"), [&](const HttpResponse& response) {
                     EXPECT_EQ(response.status, 200) << response.error_message;
                     std::lock_guard lock(mutex);
                     ++completed;
                     changed.notify_all();
                 }});
        }
        transport.SubmitAll(submissions);
        std::unique_lock lock(mutex);
        ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return completed == group * kGroup; }));
    }
    std::lock_guard lock(mutex);
    EXPECT_EQ(client_ports.size(), static_cast<std::size_t>(kGroup));
}

// A length the server claims beyond the limit reserves nothing and fails as too large before any
// of the body is read (here the server sends only 7 bytes of it), and the process lives.
TEST(CurlTransport, AClaimedLengthBeyondTheLimitIsNotReservedAndFailsAsTooLarge) {
    CurlTransport transport;
    RawAnswerServer server("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n{\"data\"");
    const HttpResponse response = transport.Send(Get(server.Url())).get();
    EXPECT_FALSE(response.Answered());
    EXPECT_NE(response.error_message.find("the answer is larger than 67108864 bytes"), std::string::npos)
        << response.error_message;
}

// An answer longer than the request allows fails as such, whether its length was announced
// (refused before the body is read) or not (reading stops at the limit); one at the limit passes.
TEST(CurlTransport, AnAnswerLongerThanTheLimitFailsAndOneAtTheLimitIsRead) {
    CurlTransport transport;
    const std::string body(1000, 'b');
    const auto limited = [](const std::string& url, std::size_t limit) {
        HttpRequest request = Get(url);
        request.max_response_bytes = limit;
        return request;
    };
    {
        RawAnswerServer announced("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body);
        const HttpResponse response = transport.Send(limited(announced.Url(), 999)).get();
        EXPECT_FALSE(response.Answered());
        EXPECT_EQ(response.error, core::TransportErrorKind::kOther);
        EXPECT_NE(response.error_message.find("the answer is larger than 999 bytes"), std::string::npos)
            << response.error_message;
        EXPECT_TRUE(response.body.empty());
    }
    {
        // No length: the body runs until the server closes the connection.
        RawAnswerServer unannounced("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body);
        const HttpResponse response = transport.Send(limited(unannounced.Url(), 999)).get();
        EXPECT_EQ(response.error, core::TransportErrorKind::kOther);
        EXPECT_NE(response.error_message.find("the answer is larger than 999 bytes"), std::string::npos)
            << response.error_message;
    }
    {
        RawAnswerServer unannounced("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body);
        const HttpResponse response = transport.Send(limited(unannounced.Url(), 1000)).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
        EXPECT_EQ(response.body, body);
    }
    {
        // The default limit (64 MiB) holds any answer of a sane size.
        RawAnswerServer announced("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + body);
        const HttpResponse response = transport.Send(Get(announced.Url())).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
        EXPECT_EQ(response.body, body);
    }
}

// A request that discards its body gets the status of an answer of any length, and no body.
TEST(CurlTransport, ADiscardedBodyIsReadToItsEndAndNotKeptWhateverItsLength) {
    CurlTransport transport;
    RawAnswerServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 200000\r\n\r\n" +
                           std::string(200000, 'p'));
    HttpRequest request = Get(server.Url());
    request.max_response_bytes = 10;
    request.discard_body = true;
    const HttpResponse response = transport.Send(request).get();
    ASSERT_TRUE(response.Answered()) << response.error_message;
    EXPECT_EQ(response.status, 503);
    EXPECT_TRUE(response.body.empty());
}

// Answers are asked for compressed, except those whose body is discarded (a health probe): a
// server would compress a page for nothing, and the transport set up a decoder for it. The same
// handle serves both in turn (curl_easy_reset), so neither request's choice leaks into the other.
TEST(CurlTransport, OnlyARequestThatKeepsItsBodyAsksForACompressedAnswer) {
    CurlTransport transport;
    RawAnswerServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    HttpRequest discarding = Get(server.Url());
    discarding.discard_body = true;
    for (const HttpRequest& request : {Get(server.Url()), discarding, Get(server.Url()), discarding})
        ASSERT_EQ(transport.Send(request).get().status, 200);
    const std::vector<std::string> heads = server.Requests();
    ASSERT_EQ(heads.size(), 4u);
    for (std::size_t k = 0; k < heads.size(); ++k) {
        std::string head = heads[k];
        std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
        const bool asks = head.find("\r\naccept-encoding:") != std::string::npos;
        EXPECT_EQ(asks, k % 2 == 0) << heads[k];
        if (asks) {
            EXPECT_NE(head.find("gzip"), std::string::npos) << heads[k];
        }
    }
}

// The one loopback rule: the API listening without a token, SMTP without STARTTLS, Railway over
// http://, the prober's http:// for the simulator.
TEST(IsLoopbackHost, KnowsLoopbackFromEverythingElse) {
    for (const char* yes : {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "127.255.0.9", "::1", "[::1]"})
        EXPECT_TRUE(IsLoopbackHost(yes)) << yes;
    for (const char* no : {"10.0.0.1", "0.0.0.0", "example.com", "127.0.0.1.nip.io", "127.example.com",
                           "localhost.example.com", "128.0.0.1", "::2", "", "127.0.0"})
        EXPECT_FALSE(IsLoopbackHost(no)) << no;
}

}  // namespace
}  // namespace railwatch::net
