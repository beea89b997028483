#include "net/submission_queue.hpp"

#include <utility>

namespace railwatch::net {

std::size_t SubmissionQueue::Add(std::span<HttpTransport::Submission> submissions) {
    std::vector<Completion> refused;
    {
        std::lock_guard lock(mutex_);
        for (HttpTransport::Submission& s : submissions) {
            s.id = next_id_.fetch_add(1);
            if (stopping_) {
                refused.push_back(std::move(s.done));
                continue;
            }
            pending_.push_back(Pending{s.id, std::move(s.request), std::move(s.done)});
        }
    }
    for (Completion& done : refused) {
        HttpResponse response;
        response.error = core::TransportErrorKind::kCancelled;
        response.error_message = "request not sent: the HTTP transport is shutting down";
        done(std::move(response));
    }
    return submissions.size() - refused.size();
}

void SubmissionQueue::Cancel(RequestId id) {
    std::lock_guard lock(mutex_);
    cancels_.push_back(id);
}

void SubmissionQueue::Stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
}

SubmissionQueue::Taken SubmissionQueue::Take() {
    Taken taken;
    std::lock_guard lock(mutex_);
    taken.pending.swap(pending_);
    taken.cancels.swap(cancels_);
    taken.stopping = stopping_;
    return taken;
}

}  // namespace railwatch::net
