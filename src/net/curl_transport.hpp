#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "net/http_transport.hpp"
#include "net/submission_queue.hpp"

/// The production HttpTransport: libcurl's multi interface driven by one worker thread.
namespace railwatch::net {

/// Tuning for CurlTransport. The defaults suit the Railway API (one host, HTTP/2 when offered).
struct CurlTransportOptions {
    /// Connections open at once to one host (CURLMOPT_MAX_HOST_CONNECTIONS); with HTTP/2 one
    /// connection carries many requests, so a small number is enough.
    long max_host_connections = 4;
    /// Connections open at once in total (CURLMOPT_MAX_TOTAL_CONNECTIONS).
    long max_total_connections = 16;
    /// Upper bound on connection set-up; a request's own timeout applies when it is shorter.
    core::Duration connect_timeout = core::Seconds(10);
    /// Sent as User-Agent unless the request sets one itself; empty means libcurl's default.
    std::string user_agent;
    /// A CA bundle file to verify servers with; empty means the system's default store.
    std::string ca_file;
};

/// libcurl multi on one worker thread (its socket interface on epoll, woken through an eventfd): a
/// wake runs only the transfers whose sockets are ready or whose timer is due; connection reuse,
/// HTTP/2 over TLS when the server offers it (CURL_HTTP_VERSION_2TLS, multiplexed), a per-host
/// connection cap, a per-request timeout, cancellation and TLS verification that cannot be turned
/// off. Redirects are not followed. A request with `idempotent == false` gets a fresh connection
/// that is closed after it (CURLOPT_FRESH_CONNECT + CURLOPT_FORBID_REUSE), so libcurl never
/// re-sends it on its own.
///
/// Thread-safety: Submit/Cancel from any thread. Completions run on the worker thread; a
/// completion may call Submit or Cancel. The destructor cancels everything outstanding (each
/// completion still runs, with kCancelled), joins the worker and frees every curl handle; it must
/// not be called from a completion.
class CurlTransport final : public HttpTransport {
  public:
    explicit CurlTransport(CurlTransportOptions options = {});
    ~CurlTransport() override;

    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;

    RequestId Submit(HttpRequest request, Completion done) override;
    /// All queued under one lock, the worker woken once.
    void SubmitAll(std::span<Submission> submissions) override;
    void Cancel(RequestId id) override;

    /// Number of requests submitted and not yet completed (for tests and metrics).
    std::size_t InFlight() const;

  private:
    struct Transfer;

    void Run();
    void Wake();  // wakes the worker (thread-safe)
    void CloseFds();

    CurlTransportOptions options_;
    void* multi_ = nullptr;  // CURLM*, owned; only the worker touches it after construction
    int epoll_fd_ = -1;      // the worker's: libcurl's sockets (CURLMOPT_SOCKETFUNCTION) and wake_fd_
    int wake_fd_ = -1;       // an eventfd in the worker's epoll set, written by Wake
    SubmissionQueue queue_;
    std::atomic<std::size_t> in_flight_{0};
    std::thread worker_;
};

}  // namespace railwatch::net
