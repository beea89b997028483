#pragma once

#include <atomic>
#include <mutex>
#include <span>
#include <vector>

#include "net/http_transport.hpp"

namespace railwatch::net {

/// What a transport with a worker thread of its own hands over to it: requests and cancellations,
/// under one lock, each request given its id. Once stopped, requests are refused: completed at
/// once (on the caller's thread) with kCancelled, never queued. Thread-safe.
class SubmissionQueue {
  public:
    struct Pending {
        RequestId id;
        HttpRequest request;
        Completion done;
    };

    /// Sets each submission's id and queues it, or refuses it after Stop. Returns how many were
    /// queued (the worker is to be woken when any was).
    std::size_t Add(std::span<HttpTransport::Submission> submissions);
    void Cancel(RequestId id);
    /// From now on Add refuses; the worker's next Take says it is stopping.
    void Stop();

    struct Taken {
        std::vector<Pending> pending;
        std::vector<RequestId> cancels;
        bool stopping = false;
    };
    /// Everything queued since the last Take (the worker's).
    Taken Take();

  private:
    std::mutex mutex_;
    std::vector<Pending> pending_;    // guarded by mutex_
    std::vector<RequestId> cancels_;  // guarded by mutex_
    bool stopping_ = false;           // guarded by mutex_
    std::atomic<RequestId> next_id_{1};
};

}  // namespace railwatch::net
