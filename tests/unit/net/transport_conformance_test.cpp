// What every HttpTransport does with GET requests (the health probes' shape), run on each
// implementation: CurlTransport (Railway's API, webhooks) and ProbeTransport (health probes),
// against real servers on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "net/curl_transport.hpp"
#include "net/http_transport.hpp"
#include "net/probe_transport.hpp"
#include "support/loopback_http.hpp"

namespace railwatch::net {
namespace {

using test::LoopbackHttpServer;
using test::LoopbackReply;
using test::LoopbackRequest;

struct Implementation {
    std::string name;
    std::function<std::unique_ptr<HttpTransport>()> make;
};

std::string NameOf(const testing::TestParamInfo<Implementation>& info) {
    return info.param.name;
}

HttpRequest Get(const std::string& url, core::Duration timeout = core::Seconds(20)) {
    HttpRequest request;
    request.method = "GET";
    request.url = url;
    request.timeout = timeout;
    return request;
}

// A server on 127.0.0.1 that reads each connection's first request head and answers with
// `answer` (raw bytes), then closes the connection.
class RawServer {
  public:
    explicit RawServer(std::string answer) : answer_(std::move(answer)) {
        listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof addr;
        if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listen_fd_, 64) != 0 ||
            ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
            throw std::runtime_error("no loopback port to listen on");
        }
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { Serve(); });
    }
    ~RawServer() {
        ::shutdown(listen_fd_, SHUT_RDWR);
        ::close(listen_fd_);
        thread_.join();
    }
    std::string Url(const std::string& path = "/health") const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }

  private:
    void Serve() {
        for (;;) {
            const int fd = ::accept(listen_fd_, nullptr, nullptr);
            if (fd < 0) return;
            std::string request;
            char chunk[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::read(fd, chunk, sizeof chunk);
                if (n <= 0) break;
                request.append(chunk, static_cast<std::size_t>(n));
            }
            std::size_t sent = 0;
            while (sent < answer_.size()) {
                const ssize_t n = ::send(fd, answer_.data() + sent, answer_.size() - sent, MSG_NOSIGNAL);
                if (n <= 0) break;
                sent += static_cast<std::size_t>(n);
            }
            ::close(fd);
        }
    }

    std::string answer_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

class TransportConformance : public testing::TestWithParam<Implementation> {
  protected:
    std::unique_ptr<HttpTransport> transport_ = GetParam().make();
};

TEST_P(TransportConformance, AGetIsAnsweredWithItsStatusHeadersAndBody) {
    LoopbackHttpServer server([](const LoopbackRequest& request) {
        LoopbackReply reply = LoopbackReply::Json(request.target == "/missing?x=1" ? 404 : 200, R"({"up":true})");
        reply.headers.push_back({"X-Served-By", "loopback"});
        return reply;
    });
    const HttpResponse ok = transport_->Send(Get(server.Url("/health"))).get();
    ASSERT_TRUE(ok.Answered()) << ok.error_message;
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, R"({"up":true})");
    EXPECT_EQ(ok.Header("x-served-by").value_or(""), "loopback");
    const HttpResponse missing = transport_->Send(Get(server.Url("/missing?x=1#fragment"))).get();
    ASSERT_TRUE(missing.Answered()) << missing.error_message;
    EXPECT_EQ(missing.status, 404);
}

TEST_P(TransportConformance, ChunkedAndCloseFramedBodiesAreReadWhole) {
    RawServer chunked(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n");
    const HttpResponse a = transport_->Send(Get(chunked.Url())).get();
    ASSERT_TRUE(a.Answered()) << a.error_message;
    EXPECT_EQ(a.body, "hello, world");
    RawServer until_close("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
    const HttpResponse b = transport_->Send(Get(until_close.Url())).get();
    ASSERT_TRUE(b.Answered()) << b.error_message;
    EXPECT_EQ(b.body, "until the end");
}

TEST_P(TransportConformance, ADiscardedBodyLeavesOnlyTheStatus) {
    const std::string page(300'000, 'p');
    RawServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: " + std::to_string(page.size()) + "\r\n\r\n" +
                     page);
    HttpRequest request = Get(server.Url());
    request.discard_body = true;
    request.max_response_bytes = 1000;  // (does not apply to a discarded body)
    const HttpResponse response = transport_->Send(request).get();
    ASSERT_TRUE(response.Answered()) << response.error_message;
    EXPECT_EQ(response.status, 503);
    EXPECT_TRUE(response.body.empty());
}

TEST_P(TransportConformance, AKeptBodyLongerThanTheLimitFails) {
    for (const std::string framing : {"Content-Length: 5000\r\n", "Transfer-Encoding: chunked\r\n"}) {
        const std::string body = framing.starts_with("Content") ? std::string(5000, 'x')
                                                                : "1388\r\n" + std::string(5000, 'x') + "\r\n0\r\n\r\n";
        RawServer server("HTTP/1.1 200 OK\r\n" + framing + "\r\n" + body);
        HttpRequest request = Get(server.Url());
        request.max_response_bytes = 4096;
        const HttpResponse response = transport_->Send(request).get();
        EXPECT_EQ(response.error, core::TransportErrorKind::kOther) << framing;
        EXPECT_NE(response.error_message.find("larger than 4096 bytes"), std::string::npos) << response.error_message;
    }
}

TEST_P(TransportConformance, AConnectionRefusedFailsAsConnect) {
    int port = 0;
    {
        LoopbackHttpServer gone([](const LoopbackRequest&) { return LoopbackReply::Json(200, "{}"); });
        port = gone.port();
    }
    const HttpResponse response =
        transport_->Send(Get("http://127.0.0.1:" + std::to_string(port) + "/secret-path?token=abc")).get();
    EXPECT_EQ(response.error, core::TransportErrorKind::kConnect) << response.error_message;
    EXPECT_EQ(response.status, 0);
    EXPECT_NE(response.error_message.find("http://127.0.0.1:" + std::to_string(port)), std::string::npos);
    EXPECT_EQ(response.error_message.find("secret-path"), std::string::npos) << response.error_message;
    EXPECT_EQ(response.error_message.find("token"), std::string::npos) << response.error_message;
}

TEST_P(TransportConformance, AServerThatSaysNothingTimesOutAtTheRequestsTimeout) {
    LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kHang;
        reply.delay = std::chrono::milliseconds(10'000);
        return reply;
    });
    const auto started = std::chrono::steady_clock::now();
    const HttpResponse response = transport_->Send(Get(server.Url("/slow"), core::Millis(300))).get();
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(response.error, core::TransportErrorKind::kTimeout) << response.error_message;
    EXPECT_GE(took, std::chrono::milliseconds(290));
    EXPECT_LT(took, std::chrono::milliseconds(5000));
}

TEST_P(TransportConformance, AResetWithoutAnAnswerFailsAsReset) {
    LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kReset;
        return reply;
    });
    const HttpResponse response = transport_->Send(Get(server.Url("/"))).get();
    EXPECT_EQ(response.error, core::TransportErrorKind::kReset) << response.error_message;
}

TEST_P(TransportConformance, AConnectionIsKeptForTheNextRequest) {
    LoopbackHttpServer server([](const LoopbackRequest&) { return LoopbackReply::Json(200, "{}"); });
    for (int k = 0; k < 5; ++k) {
        const HttpResponse response = transport_->Send(Get(server.Url("/health"))).get();
        ASSERT_EQ(response.status, 200) << response.error_message;
    }
    EXPECT_EQ(server.connections_accepted(), 1u);
}

// A kept connection the server closes as the next request arrives: the read is sent once more, on
// a new connection, and answered.
TEST_P(TransportConformance, AReadOnAKeptConnectionTheServerDroppedIsSentAgain) {
    std::atomic<int> seen{0};
    LoopbackHttpServer server([&](const LoopbackRequest&) {
        if (++seen == 2) {
            LoopbackReply reply;
            reply.action = LoopbackReply::Action::kClose;
            return reply;
        }
        return LoopbackReply::Json(200, "{}");
    });
    ASSERT_EQ(transport_->Send(Get(server.Url("/a"))).get().status, 200);
    const HttpResponse second = transport_->Send(Get(server.Url("/b"))).get();
    EXPECT_EQ(second.status, 200) << second.error_message;
    EXPECT_EQ(seen.load(), 3);
    EXPECT_EQ(server.connections_accepted(), 2u);
}

// A request that is not idempotent goes on a connection of its own and is never sent twice.
TEST_P(TransportConformance, ARequestWithEffectsIsSentAtMostOnce) {
    std::atomic<int> seen{0};
    LoopbackHttpServer server([&](const LoopbackRequest&) {
        if (++seen >= 2) {
            LoopbackReply reply;
            reply.action = LoopbackReply::Action::kClose;
            return reply;
        }
        return LoopbackReply::Json(200, "{}");
    });
    ASSERT_EQ(transport_->Send(Get(server.Url("/a"))).get().status, 200);
    HttpRequest once = Get(server.Url("/b"));
    once.idempotent = false;
    const HttpResponse response = transport_->Send(once).get();
    EXPECT_FALSE(response.Answered());
    EXPECT_EQ(seen.load(), 2);
    EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST_P(TransportConformance, ManyRequestsTogetherAreEachCompletedOnceUnderTheirOwnIds) {
    LoopbackHttpServer server([](const LoopbackRequest& request) { return LoopbackReply::Json(200, request.target); });
    constexpr int kCount = 60;
    std::mutex mutex;
    std::condition_variable all_done;
    std::vector<int> completions(kCount, 0);
    std::vector<std::string> bodies(kCount);
    int left = kCount;
    std::vector<HttpTransport::Submission> batch;
    batch.reserve(kCount);
    for (int k = 0; k < kCount; ++k) {
        batch.push_back({Get(server.Url("/s/" + std::to_string(k))), [&, k](const HttpResponse& response) {
                             std::lock_guard lock(mutex);
                             ++completions[k];
                             bodies[k] = response.body;
                             if (--left == 0) all_done.notify_all();
                         }});
    }
    transport_->SubmitAll(batch);
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(30), [&] { return left == 0; }));
    }
    std::set<RequestId> ids;
    for (int k = 0; k < kCount; ++k) {
        EXPECT_EQ(completions[k], 1) << k;
        EXPECT_EQ(bodies[k], "/s/" + std::to_string(k));
        ids.insert(batch[k].id);
    }
    EXPECT_EQ(ids.size(), static_cast<std::size_t>(kCount));
    EXPECT_LE(server.connections_accepted(), 16u);  // the per-host cap of both as made here
}

TEST_P(TransportConformance, CancelAndShutdownCompleteEachRequestOnceAsCancelled) {
    LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kHang;
        reply.delay = std::chrono::milliseconds(10'000);
        return reply;
    });
    std::promise<HttpResponse> cancelled;
    const RequestId id = transport_->Submit(Get(server.Url("/one")),
                                            [&](HttpResponse response) { cancelled.set_value(std::move(response)); });
    std::atomic<int> at_shutdown{0};
    std::atomic<int> shutdown_kind_ok{0};
    for (int k = 0; k < 3; ++k) {
        transport_->Submit(Get(server.Url("/left")), [&](const HttpResponse& response) {
            ++at_shutdown;
            if (response.error == core::TransportErrorKind::kCancelled) ++shutdown_kind_ok;
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // (all sent and waiting)
    transport_->Cancel(id);
    const HttpResponse response = cancelled.get_future().get();
    EXPECT_EQ(response.error, core::TransportErrorKind::kCancelled);
    transport_.reset();
    EXPECT_EQ(at_shutdown.load(), 3);
    EXPECT_EQ(shutdown_kind_ok.load(), 3);
}

INSTANTIATE_TEST_SUITE_P(Transports, TransportConformance,
                         testing::Values(Implementation{"Curl",
                                                        [] {
                                                            CurlTransportOptions options;
                                                            options.max_host_connections = 16;
                                                            options.max_total_connections = 256;
                                                            return std::make_unique<CurlTransport>(options);
                                                        }},
                                         Implementation{"Probe", [] { return std::make_unique<ProbeTransport>(); }}),
                         NameOf);

}  // namespace
}  // namespace railwatch::net
