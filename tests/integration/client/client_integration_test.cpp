// The Railway client with the real libcurl transport against loopback servers: the 10,000-status
// run with injected faults, and each transport failure mode of CurlTransport.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "net/curl_transport.hpp"
#include "railway/client.hpp"
#include "support/fake_railway.hpp"
#include "support/loopback_http.hpp"
#include "util/random.hpp"

namespace railwatch {
namespace {

using core::TransportErrorKind;
using test::LoopbackReply;
using test::LoopbackRequest;

net::HttpRequest Post(const std::string& url, core::Duration timeout = core::Seconds(5)) {
    net::HttpRequest request;
    request.url = url;
    request.body = R"({"query":"{ x }"})";
    request.headers = {{"Content-Type", "application/json"}};
    request.timeout = timeout;
    return request;
}

TEST(ClientAtScale, TenThousandStatusesInAboutTwoHundredRequestsSurviveInjectedFaults) {
    test::FakeRailway railway;
    railway.AddSuccessfulDeployments(10'000);
    test::FakeFaults faults;
    faults.http5xx = 0.04;
    faults.hang = 0.03;
    faults.reset = 0.03;
    faults.hang_for = std::chrono::milliseconds(3000);
    faults.seed = 7;
    railway.SetFaults(faults);

    util::SystemClock clock;
    railway::RequestBudget budget(clock, {100'000, 1'000});
    util::SystemRandom random;
    std::vector<std::string> log;
    std::mutex log_mutex;
    railway::ClientConfig config;
    config.api_url = railway.Url();
    config.batch_size = 50;
    config.max_in_flight = 4;
    // Short enough that the injected hangs (3 s) end as timeouts, long enough that a busy machine
    // (ctest -j2 beside other builds) does not turn ordinary answers into timeouts often.
    config.request_timeout = core::Millis(1500);
    config.max_attempts = 10;
    {
        net::CurlTransport transport;
        railway::RailwayClient client(transport, clock, budget, random,
                                      {railway::TokenKind::kAccount, "test-account-token"}, config,
                                      [&](std::string_view line) {
                                          std::lock_guard lock(log_mutex);
                                          log.emplace_back(line);
                                      });
        std::vector<std::string> ids;
        ids.reserve(10'000);
        for (int i = 0; i < 10'000; ++i)
            ids.push_back("dep-" + std::to_string(i));

        const auto results = client.GetDeployments(ids);
        ASSERT_EQ(results.size(), ids.size());
        for (std::size_t i = 0; i < results.size(); ++i) {
            ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
            EXPECT_EQ(results[i].result->id, ids[i]);
            EXPECT_EQ(results[i].result->status.value, core::DeploymentStatus::kSuccess);
        }
        EXPECT_EQ(transport.InFlight(), 0u);
    }
    // What holds however busy the machine is. Timing decides how many attempts fail (a slow
    // answer becomes a timeout), so the counts are bounds, not exact figures:
    const long long sent = budget.Snapshot().requests_sent;
    const auto retries = static_cast<long long>(std::count_if(
        log.begin(), log.end(), [](const std::string& line) { return line.find("retrying in") != std::string::npos; }));
    // - every request railwatch sent was a batch's last attempt (200 batches of 50) or a retry it logged;
    EXPECT_EQ(sent, 200 + retries);
    // - every batch got one answer (a late answer to a request railwatch gave up on is extra);
    EXPECT_GE(railway.requests() - railway.faults_injected(), 200u);
    EXPECT_GE(railway.status_aliases_answered(), 10'000u);
    // - the faults were retried, not fatal; and retries stay well within max_attempts per batch:
    //   about 10% of requests fail by injection, so even a machine that doubles that needs far
    //   fewer than 200 retries (libcurl may re-send a read once on a dead kept-alive connection,
    //   so the server may count up to twice what was sent).
    EXPECT_GT(railway.faults_injected(), 5u);
    EXPECT_LE(sent, 400);
    EXPECT_LE(railway.requests(), static_cast<std::size_t>(2 * sent));
    EXPECT_TRUE(railway.all_requests_had_source());
    EXPECT_TRUE(railway.all_requests_had_user_agent());
    std::cout << "[ client ] requests " << railway.requests() << ", faults " << railway.faults_injected()
              << ", connections " << railway.connections() << ", sent " << sent << ", retries " << retries << "\n";
}

TEST(ClientAtScale, UnknownIdsInABatchGetTheirOwnErrorAndTheRestTheirStatus) {
    test::FakeRailway railway;
    railway.AddSuccessfulDeployments(100);
    util::SystemClock clock;
    railway::RequestBudget budget(clock, {100'000, 1'000});
    util::SystemRandom random;
    railway::ClientConfig config;
    config.api_url = railway.Url();
    config.batch_size = 50;
    net::CurlTransport transport;
    railway::RailwayClient client(transport, clock, budget, random,
                                  {railway::TokenKind::kAccount, "test-account-token"}, config);
    std::vector<std::string> ids;
    ids.reserve(100);
    for (int i = 0; i < 100; ++i)
        ids.push_back(i % 25 == 3 ? "missing-" + std::to_string(i) : "dep-" + std::to_string(i));
    const auto results = client.GetDeployments(ids);
    // Two batches of 50 with two unknown ids each, then the 96 others in two batches.
    EXPECT_EQ(budget.Snapshot().requests_sent, 4);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i].starts_with("missing-")) {
            ASSERT_FALSE(results[i].result);
            EXPECT_EQ(results[i].result.error().code, util::ErrorCode::kNotFound);
            EXPECT_THAT(results[i].result.error().message, ::testing::HasSubstr("Railway traceId fake-trace-d"));
        } else {
            ASSERT_TRUE(results[i].result) << results[i].result.error().message;
        }
    }
}

TEST(ClientAtScale, WrongTokenEndsWithAnAuthenticationErrorWithoutTheToken) {
    test::FakeRailway railway;
    railway.AddSuccessfulDeployments(1);
    util::SystemClock clock;
    railway::RequestBudget budget(clock, {});
    util::SystemRandom random;
    railway::ClientConfig config;
    config.api_url = railway.Url();
    net::CurlTransport transport;
    railway::RailwayClient client(transport, clock, budget, random,
                                  {railway::TokenKind::kProject, "wrong-project-token-XYZ"}, config);
    auto d = client.GetDeployment("dep-0");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_THAT(d.error().message, ::testing::Not(::testing::HasSubstr("wrong-project-token-XYZ")));
    EXPECT_EQ(railway.requests(), 1u);
}

TEST(CurlTransport, ReusesConnectionsAndReturnsHeadersAndBody) {
    test::LoopbackHttpServer server([](const LoopbackRequest& r) {
        LoopbackReply reply = LoopbackReply::Json(200, R"({"ok":true,"echo":)" + nlohmann::json(r.body).dump() + "}");
        reply.headers.emplace_back("X-RateLimit-Remaining", "99");
        return reply;
    });
    net::CurlTransport transport;
    for (int i = 0; i < 20; ++i) {
        auto response = transport.Send(Post(server.Url("/graphql/v2"))).get();
        ASSERT_TRUE(response.Answered()) << response.error_message;
        EXPECT_EQ(response.status, 200);
        EXPECT_EQ(response.Header("x-ratelimit-remaining").value_or(""), "99");
        EXPECT_THAT(response.body, ::testing::HasSubstr("{ x }"));
    }
    EXPECT_EQ(server.connections_accepted(), 1u);  // sequential requests share one connection
}

TEST(CurlTransport, CapsConnectionsPerHost) {
    test::LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply = LoopbackReply::Json(200, "{}");
        reply.delay = std::chrono::milliseconds(50);
        return reply;
    });
    net::CurlTransportOptions options;
    options.max_host_connections = 2;
    net::CurlTransport transport(options);
    std::vector<std::future<net::HttpResponse>> futures;
    futures.reserve(12);
    for (int i = 0; i < 12; ++i)
        futures.push_back(transport.Send(Post(server.Url("/"))));
    for (auto& f : futures)
        EXPECT_EQ(f.get().status, 200);
    EXPECT_LE(server.connections_accepted(), 2u);
}

TEST(CurlTransport, TimeoutIsReportedAsTimeout) {
    test::LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kHang;
        reply.delay = std::chrono::milliseconds(3000);
        return reply;
    });
    net::CurlTransport transport;
    auto response = transport.Send(Post(server.Url("/"), core::Millis(200))).get();
    EXPECT_EQ(response.error, TransportErrorKind::kTimeout) << response.error_message;
    EXPECT_THAT(response.error_message, ::testing::HasSubstr("timed out"));
}

TEST(CurlTransport, ResetIsReportedAsReset) {
    test::LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kReset;
        return reply;
    });
    net::CurlTransport transport;
    auto response = transport.Send(Post(server.Url("/"))).get();
    EXPECT_EQ(response.error, TransportErrorKind::kReset) << response.error_message;
}

TEST(CurlTransport, RefusedConnectionIsReportedAsConnect) {
    // A port that was just free: bind, read the port, close.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    net::CurlTransport transport;
    auto response =
        transport.Send(Post("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/?token=secret")).get();
    EXPECT_EQ(response.error, TransportErrorKind::kConnect) << response.error_message;
    EXPECT_THAT(response.error_message, ::testing::Not(::testing::HasSubstr("secret")));
}

TEST(CurlTransport, UnresolvableHostIsReportedAsDns) {
    net::CurlTransport transport;
    auto response = transport.Send(Post("http://nonexistent.invalid/graphql/v2", core::Seconds(10))).get();
    EXPECT_EQ(response.error, TransportErrorKind::kDns) << response.error_message;
}

TEST(CurlTransport, TlsFailureIsReportedAsTls) {
    // A peer that answers a TLS ClientHello with plain HTTP: the handshake fails, and the transport
    // says TLS (never a silent downgrade to plain text).
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    std::thread peer([listener] {
        const int fd = ::accept(listener, nullptr, nullptr);
        if (fd < 0) return;
        const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        (void)!::write(fd, reply, sizeof(reply) - 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ::close(fd);
    });
    net::CurlTransport transport;
    auto response =
        transport.Send(Post("https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", core::Seconds(5))).get();
    peer.join();
    ::close(listener);
    EXPECT_EQ(response.error, TransportErrorKind::kTls) << response.error_message;
}

TEST(CurlTransport, CancelAndShutdownCompleteEveryRequestAsCancelled) {
    test::LoopbackHttpServer server([](const LoopbackRequest&) {
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kHang;
        reply.delay = std::chrono::milliseconds(5000);
        return reply;
    });
    std::future<net::HttpResponse> cancelled;
    std::vector<std::future<net::HttpResponse>> at_shutdown;
    {
        net::CurlTransport transport;
        auto promise = std::make_shared<std::promise<net::HttpResponse>>();
        cancelled = promise->get_future();
        const auto id = transport.Submit(Post(server.Url("/"), core::Seconds(30)),
                                         [promise](net::HttpResponse r) { promise->set_value(std::move(r)); });
        for (int i = 0; i < 3; ++i)
            at_shutdown.push_back(transport.Send(Post(server.Url("/"), core::Seconds(30))));
        while (server.requests_received() < 2)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        transport.Cancel(id);
        EXPECT_EQ(cancelled.get().error, TransportErrorKind::kCancelled);
    }  // destructor: the other three end as cancelled, no handle leaks (checked under ASan)
    for (auto& f : at_shutdown)
        EXPECT_EQ(f.get().error, TransportErrorKind::kCancelled);
}

}  // namespace
}  // namespace railwatch
