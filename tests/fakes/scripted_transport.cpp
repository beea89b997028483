#include "scripted_transport.hpp"

#include <algorithm>
#include <limits>

namespace railwatch::fakes {

net::RequestId ScriptedTransport::Submit(net::HttpRequest request, net::Completion done) {
    std::unique_lock lock(mutex_);
    const net::RequestId id = next_id_++;
    requests_.push_back(request);
    if (hold_) {
        parked_.push_back({id, std::move(request), std::move(done)});
        return id;
    }
    net::HttpResponse response = Next(request);
    lock.unlock();
    done(std::move(response));
    return id;
}

void ScriptedTransport::Cancel(net::RequestId id) {
    std::unique_lock lock(mutex_);
    for (auto it = parked_.begin(); it != parked_.end(); ++it) {
        if (it->id != id) continue;
        auto done = std::move(it->done);
        parked_.erase(it);
        ++cancelled_;
        lock.unlock();
        net::HttpResponse response;
        response.error = core::TransportErrorKind::kCancelled;
        response.error_message = "cancelled";
        done(std::move(response));
        return;
    }
}

net::HttpResponse ScriptedTransport::Next(const net::HttpRequest& request) {
    if (!queue_.empty()) {
        net::HttpResponse response = std::move(queue_.front());
        queue_.pop_front();
        return response;
    }
    if (handler_) return handler_(request);
    net::HttpResponse response;
    response.error = core::TransportErrorKind::kOther;
    response.error_message = "no scripted answer";
    return response;
}

void ScriptedTransport::PushResponse(int status, std::string body, net::HttpHeaders headers) {
    net::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(response));
}

void ScriptedTransport::PushError(core::TransportErrorKind kind, std::string message) {
    net::HttpResponse response;
    response.error = kind;
    response.error_message = std::move(message);
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(response));
}

void ScriptedTransport::SetHandler(Handler handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
}

void ScriptedTransport::Hold(bool hold) {
    std::lock_guard lock(mutex_);
    hold_ = hold;
}

void ScriptedTransport::AnswerEvery(int status) {
    SetHandler([status](const net::HttpRequest&) {
        net::HttpResponse r;
        r.status = status;
        return r;
    });
}

void ScriptedTransport::ReleaseAll() {
    ReleaseFirst(std::numeric_limits<std::size_t>::max());
}

void ScriptedTransport::ReleaseFirst(std::size_t count) {
    std::vector<std::pair<net::Completion, net::HttpResponse>> answers;
    {
        std::lock_guard lock(mutex_);
        const std::size_t n = std::min(count, parked_.size());
        for (std::size_t k = 0; k < n; ++k)
            answers.emplace_back(std::move(parked_[k].done), Next(parked_[k].request));
        parked_.erase(parked_.begin(), parked_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (auto& [done, response] : answers)
        done(std::move(response));
}

std::vector<net::HttpRequest> ScriptedTransport::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::size_t ScriptedTransport::request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
}

std::size_t ScriptedTransport::cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
}

}  // namespace railwatch::fakes
