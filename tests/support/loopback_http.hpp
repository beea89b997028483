#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

/// A small HTTP/1.1 server on 127.0.0.1 (OS-chosen port) for tests that need a real peer and
/// full control over how it misbehaves: answer, answer late, hang, reset the connection (RST),
/// or close it without an answer. Generic: it knows nothing about Railway (see fake_railway.hpp).
namespace railwatch::test {

/// A request as received. Header names are kept as sent.
struct LoopbackRequest {
    std::string method;
    std::string target;  ///< path and query, e.g. "/graphql/v2?source=railwatch"
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// Case-insensitive header lookup; empty when absent.
    std::string Header(std::string_view name) const;
};

/// What the server does with a request.
struct LoopbackReply {
    enum class Action {
        kRespond,  ///< send the answer (after `delay`)
        kHang,     ///< read the request, then say nothing until `delay` passes or the server stops; then close
        kReset,    ///< close the connection with a TCP RST, no answer
        kClose,    ///< close the connection cleanly, no answer
    };
    Action action = Action::kRespond;
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds delay{0};

    static LoopbackReply Json(int status, std::string body);
};

/// Called for each request, possibly from several connection threads at once: must be thread-safe.
using LoopbackHandler = std::function<LoopbackReply(const LoopbackRequest&)>;

/// Listens on 127.0.0.1 at a free port from the moment it is constructed; one thread accepts and
/// one thread serves each connection (keep-alive). The destructor stops everything and joins.
class LoopbackHttpServer {
  public:
    explicit LoopbackHttpServer(LoopbackHandler handler);
    ~LoopbackHttpServer();

    LoopbackHttpServer(const LoopbackHttpServer&) = delete;
    LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

    int port() const { return port_; }
    /// "http://127.0.0.1:<port>" + path.
    std::string Url(std::string_view path) const;

    std::size_t connections_accepted() const { return connections_.load(); }
    std::size_t requests_received() const { return requests_.load(); }

  private:
    void AcceptLoop();
    void Serve(int fd);

    LoopbackHandler handler_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> connections_{0};
    std::atomic<std::size_t> requests_{0};
    std::mutex threads_mutex_;
    std::list<std::thread> threads_;  // guarded by threads_mutex_
    std::thread acceptor_;
};

}  // namespace railwatch::test
