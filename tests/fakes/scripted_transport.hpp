#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "core/time.hpp"
#include "net/http_transport.hpp"
#include "util/clock.hpp"

/// Test doubles for the outgoing-HTTP seam and for waiting.
namespace railwatch::fakes {

/// An HttpTransport that answers from a script, inline (the completion runs inside Submit), and
/// records every request. Answers come from the queue filled by Push*, or from the handler when
/// the queue is empty; with neither, a request fails with kOther "no scripted answer".
/// Hold(true) parks requests instead, for cancellation tests (ReleaseAll answers them).
/// Thread-safe.
class ScriptedTransport final : public net::HttpTransport {
  public:
    using Handler = std::function<net::HttpResponse(const net::HttpRequest&)>;

    net::RequestId Submit(net::HttpRequest request, net::Completion done) override;
    void Cancel(net::RequestId id) override;

    /// Queues an HTTP answer.
    void PushResponse(int status, std::string body, net::HttpHeaders headers = {});
    /// Queues a transport failure.
    void PushError(core::TransportErrorKind kind, std::string message = "scripted failure");
    /// Answers requests when the queue is empty.
    void SetHandler(Handler handler);
    /// The same with a handler that answers every request with `status` and no body.
    void AnswerEvery(int status);
    /// Parks requests until ReleaseAll.
    void Hold(bool hold);
    /// Answers every parked request (from the queue or handler).
    void ReleaseAll();
    /// Answers the `count` oldest parked requests (as many as are parked), oldest first.
    void ReleaseFirst(std::size_t count);

    std::vector<net::HttpRequest> requests() const;
    std::size_t request_count() const;
    std::size_t cancelled() const;

  private:
    net::HttpResponse Next(const net::HttpRequest& request);

    mutable std::mutex mutex_;
    std::deque<net::HttpResponse> queue_;
    Handler handler_;
    bool hold_ = false;
    struct Parked {
        net::RequestId id;
        net::HttpRequest request;
        net::Completion done;
    };
    std::vector<Parked> parked_;
    std::vector<net::HttpRequest> requests_;
    net::RequestId next_id_ = 1;
    std::size_t cancelled_ = 0;
};

}  // namespace railwatch::fakes
