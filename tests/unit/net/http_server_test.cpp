#include "net/http_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "util/clock.hpp"

namespace railwatch::net {
namespace {

using namespace std::chrono_literals;

TEST(HttpServer, ServesRoutesOnAnOsChosenPortWithHeadersParamsAndCaptures) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 2});
    server.Route("POST", "/echo/([a-z]+)", [](const ServerRequest& req, ServerResponse& res) {
        res.status = 201;
        res.body = req.matches.at(1) + "|" + req.body + "|" + std::string(req.Header("x-test").value_or("")) + "|" +
                   std::string(req.Param("q").value_or("")) + "|" + (req.has_query ? "q" : "-");
        res.content_type = "text/plain";
        res.SetHeader("X-Answer", "42");
    });
    auto port = server.Start();
    ASSERT_TRUE(port) << port.error().message;
    EXPECT_GT(*port, 0);
    EXPECT_EQ(server.BaseUrl(), "http://127.0.0.1:" + std::to_string(*port));

    httplib::Client client("127.0.0.1", *port);
    auto res = client.Post("/echo/abc?q=1", {{"X-Test", "yes"}}, "body", "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 201);
    EXPECT_EQ(res->body, "abc|body|yes|1|q");
    EXPECT_EQ(res->get_header_value("X-Answer"), "42");

    auto missing = client.Get("/nope");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_NE(missing->body.find("not_found"), std::string::npos);
    server.Stop();
}

TEST(HttpServer, RejectsBodiesOverTheLimitAndTurnsHandlerExceptionsInto500) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 1, .max_body_bytes = 16});
    server.Route("POST", "/x", [](const ServerRequest&, ServerResponse& res) { res.body = "ok"; });
    server.Route("GET", "/throw", [](const ServerRequest&, ServerResponse&) { throw std::runtime_error("boom"); });
    auto port = server.Start();
    ASSERT_TRUE(port);
    httplib::Client client("127.0.0.1", *port);
    auto big = client.Post("/x", std::string(100, 'a'), "text/plain");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->status, 413);
    auto thrown = client.Get("/throw");
    ASSERT_TRUE(thrown);
    EXPECT_EQ(thrown->status, 500);
    EXPECT_EQ(thrown->body.find("boom"), std::string::npos);
}

TEST(HttpServer, AbortActionEndsTheExchangeWithoutAnAnswerAndTellsTheHandlerItsPorts) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 1});
    std::atomic<int> local_port{0};
    std::atomic<int> remote_port{0};
    server.Route("GET", "/abort", [&](const ServerRequest& req, ServerResponse& res) {
        local_port = req.local_port;
        remote_port = req.remote_port;
        res.body = "never sent";
        res.action = ServerResponse::Action::kAbort;
    });
    server.Route("GET", "/ok", [](const ServerRequest&, ServerResponse& res) { res.body = "ok"; });
    auto port = server.Start();
    ASSERT_TRUE(port);
    httplib::Client client("127.0.0.1", *port);
    auto res = client.Get("/abort");
    EXPECT_FALSE(res);
    EXPECT_EQ(local_port.load(), *port);
    EXPECT_GT(remote_port.load(), 0);
    // The server goes on serving new connections.
    httplib::Client again("127.0.0.1", *port);
    auto ok = again.Get("/ok");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->body, "ok");
}

TEST(HttpServer, FailsToBindAPortInUseWithAnActionableError) {
    HttpServer first({.host = "127.0.0.1", .port = 0});
    auto port = first.Start();
    ASSERT_TRUE(port);
    HttpServer second({.host = "127.0.0.1", .port = *port});
    auto again = second.Start();
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, util::ErrorCode::kUnavailable);
    EXPECT_NE(again.error().message.find(std::to_string(*port)), std::string::npos);
}

TEST(HttpServer, StreamsChunksUntilTheProducerEnds) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 2});
    server.Route("GET", "/stream", [](const ServerRequest&, ServerResponse& res) {
        auto sent = std::make_shared<int>(0);
        res.content_type = "text/event-stream";
        res.stream = [sent](const ChunkWriter& write) {
            if (*sent == 3) return false;
            ++*sent;
            return write("data: " + std::to_string(*sent) + "\n\n");
        };
    });
    auto port = server.Start();
    ASSERT_TRUE(port);
    httplib::Client client("127.0.0.1", *port);
    auto stream = client.Get("/stream");
    ASSERT_TRUE(stream);
    EXPECT_EQ(stream->body, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
}

TEST(HttpServer, StopEndsAStreamThatWouldNeverEnd) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 2});
    std::atomic<int> chunks{0};
    util::SystemClock clock;
    util::Wakeup wakeup;  // never notified: each chunk waits 20 ms of real time
    server.Route("GET", "/forever", [&](const ServerRequest&, ServerResponse& res) {
        res.content_type = "text/event-stream";
        res.stream = [&](const ChunkWriter& write) {
            clock.WaitFor(core::Millis(20), wakeup);
            ++chunks;
            return write(": keep-alive\n\n");
        };
    });
    auto port = server.Start();
    ASSERT_TRUE(port);
    std::thread reader([&] {
        httplib::Client c("127.0.0.1", *port);
        c.set_read_timeout(30, 0);
        (void)c.Get("/forever");
    });
    const auto wait_until = std::chrono::steady_clock::now() + 10s;
    while (chunks < 3 && std::chrono::steady_clock::now() < wait_until)
        std::this_thread::yield();
    EXPECT_GE(chunks.load(), 3);
    const auto start = std::chrono::steady_clock::now();
    server.Stop();
    reader.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    EXPECT_TRUE(server.StopRequested());
}

// Clients that each keep one connection alive with a GET /x every 100 ms (so each holds a worker
// for as long as it runs), until Stop.
class BusyKeepAliveClients {
  public:
    BusyKeepAliveClients(int port, int count) {
        for (int i = 0; i < count; ++i) {
            threads_.emplace_back([this, port] {
                httplib::Client c("127.0.0.1", port);
                c.set_keep_alive(true);
                while (!stop_) {
                    if (auto r = c.Get("/x"); r && r->status == 200) ++answered_;
                    std::this_thread::sleep_for(100ms);
                }
            });
        }
    }
    ~BusyKeepAliveClients() { Stop(); }
    BusyKeepAliveClients(const BusyKeepAliveClients&) = delete;
    BusyKeepAliveClients& operator=(const BusyKeepAliveClients&) = delete;

    // Whether they got `answers` answers in all within 10 s.
    bool Going(int answers) const {
        const auto until = std::chrono::steady_clock::now() + 10s;
        while (answered_ < answers && std::chrono::steady_clock::now() < until)
            std::this_thread::sleep_for(10ms);
        return answered_ >= answers;
    }
    // Ends every client (and its connection).
    void Stop() {
        stop_ = true;
        for (std::thread& thread : threads_) {
            if (thread.joinable()) thread.join();
        }
    }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<int> answered_{0};
    std::vector<std::thread> threads_;
};

// Two kept workers, two clients keeping their connections busy: a third client still gets its
// answer at once, because a worker is started for it. With a fixed pool of two it waits until one
// of them stops (here: never within its 3 s read timeout).
TEST(HttpServer, BusyKeepAliveClientsDoNotLockAnotherClientOut) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 2});
    server.Route("GET", "/x", [](const ServerRequest&, ServerResponse& res) { res.body = "ok"; });
    auto port = server.Start();
    ASSERT_TRUE(port);
    BusyKeepAliveClients busy(*port, 2);
    ASSERT_TRUE(busy.Going(4)) << "the keep-alive clients never got going";

    httplib::Client third("127.0.0.1", *port);
    third.set_read_timeout(3, 0);
    const auto asked = std::chrono::steady_clock::now();
    const auto answer = third.Get("/x");
    const auto waited = std::chrono::steady_clock::now() - asked;
    busy.Stop();
    ASSERT_TRUE(answer) << httplib::to_string(answer.error());
    EXPECT_EQ(answer->body, "ok");
    EXPECT_LT(waited, 2s);
    server.Stop();
}

// At max_threads, a new connection waits for a worker: here until the kept-alive client stops.
TEST(HttpServer, ConnectionsBeyondMaxThreadsWaitForAWorker) {
    HttpServer server({.host = "127.0.0.1", .port = 0, .threads = 1, .max_threads = 1});
    server.Route("GET", "/x", [](const ServerRequest&, ServerResponse& res) { res.body = "ok"; });
    auto port = server.Start();
    ASSERT_TRUE(port);
    BusyKeepAliveClients busy(*port, 1);
    ASSERT_TRUE(busy.Going(2));
    std::atomic<bool> got{false};
    std::thread second([&] {
        httplib::Client c("127.0.0.1", *port);
        c.set_read_timeout(10, 0);
        const auto r = c.Get("/x");
        got = r && r->body == "ok";
    });
    std::this_thread::sleep_for(1s);
    EXPECT_FALSE(got.load()) << "answered while the only worker was held";
    busy.Stop();  // its connection ends with it: the worker takes the next one
    second.join();
    EXPECT_TRUE(got.load());
    server.Stop();
}

}  // namespace
}  // namespace railwatch::net
