#include "railway/call_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

namespace railwatch::railway {
namespace {

std::string FormatDelay(core::Duration d) {
    return fmt::format("{:.1f} s", core::ToSecondsF(d));
}

// How long to wait when only in-flight requests remain: their answers wake the wait.
constexpr core::Duration kIdleWait = core::Seconds(3600);
// Pauses after refusal pages from the edge, which names no time to wait (NoteEdgeAnswer).
constexpr core::Duration kFirstEdgePause = core::Seconds(1);
constexpr core::Duration kLongestEdgePause = core::Seconds(60);

}  // namespace

/// One call driven by Execute.
struct CallEngine::Call {
    CallRequest request;
    enum class State { kWaiting, kInFlight, kDone } state = State::kWaiting;
    int attempts = 0;
    util::SteadyTime due{};
    net::RequestId request_id = 0;
    double budget_cost = 0;  // what the budget granted the attempt in flight (BudgetGrant::cost)
    std::optional<ApiResult<Envelope>> outcome;
};

/// Answers that arrived for one Execute, guarded by the engine's mutex.
struct CallEngine::Inbox {
    std::vector<std::pair<std::size_t, net::HttpResponse>> answers;
    std::size_t outstanding = 0;  // submitted, not answered yet
    // Each answer wakes Execute (calls wait to be sent, which an answer may let go); else only the
    // last one, or one that is not a plain 200 (a retry may be due): answers that come together
    // are then taken in one wake-up.
    bool wake_each = true;
    util::Wakeup wakeup;  // notified by the answers above and by Stop()
};

CallEngine::CallEngine(net::HttpTransport& transport, const util::Clock& clock, RequestBudget& budget,
                       core::RandomSource& random, Credentials credentials, ClientConfig config, LogSink log)
    : transport_(transport),
      clock_(clock),
      budget_(budget),
      random_(random),
      credentials_(std::move(credentials)),
      config_(std::move(config).Normalized()),
      log_(std::move(log)),
      endpoint_(EndpointWithSource(config_.api_url)),
      endpoint_for_text_(net::UrlForMessages(config_.api_url)),
      user_agent_(config_.user_agent.empty() ? DefaultUserAgent() : config_.user_agent) {}

void CallEngine::Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (Inbox* inbox : active_)
        inbox->wakeup.Notify();
}

void CallEngine::Log(const std::string& line) const {
    if (log_) log_(Redact(line, credentials_.token));
}

ErrorContext CallEngine::Context(std::string operation) const {
    return ErrorContext{std::move(operation), endpoint_for_text_, credentials_.kind, credentials_.token};
}

core::Duration CallEngine::RetryDelay(int attempts_made, std::optional<core::Duration> retry_after) {
    core::BackoffPolicy policy;
    policy.max_attempts = attempts_made + 1;  // the caller has already decided to retry
    policy.base = config_.retry_base_delay;
    policy.cap = config_.retry_max_delay;
    policy.factor = config_.retry_factor;
    double unit = 0;
    {
        std::lock_guard lock(mutex_);
        unit = random_.NextUnit();
    }
    return core::NextRetryDelay(policy, attempts_made, unit, retry_after).value_or(policy.cap);
}

void CallEngine::NoteEdgeAnswer(ApiResult<Envelope>& outcome) {
    // The edge's page (HTML where JSON was expected, judged a rate limit) carries no Retry-After.
    const bool edge = !outcome && outcome.error().kind == core::ApiFailureKind::kRateLimited &&
                      outcome.error().failure.malformed_body;
    std::lock_guard lock(mutex_);
    if (!edge) {
        edge_refusals_in_a_row_ = 0;
        return;
    }
    const int doublings = std::min(edge_refusals_in_a_row_++, 6);
    outcome.error().retry_after = std::min<core::Duration>(kFirstEdgePause * (1 << doublings), kLongestEdgePause);
}

net::HttpRequest CallEngine::Request(const Call& call) const {
    net::HttpRequest request;
    request.method = "POST";
    request.url = endpoint_;
    request.body = call.request.body;
    request.timeout = config_.request_timeout;
    // A mutation must reach Railway at most once per attempt railwatch decides on.
    request.idempotent = !call.request.mutation;
    request.headers = {{"Content-Type", "application/json"},
                       {"Accept", "application/json"},
                       {"User-Agent", user_agent_},
                       credentials_.AuthHeader()};
    return request;
}

bool CallEngine::MayRetry(const Call& call, const ApiError& error) const {
    if (!error.retryable || error.code == util::ErrorCode::kCancelled) return false;
    const int max_attempts = call.request.mutation ? config_.max_mutation_attempts : config_.max_attempts;
    if (call.attempts >= max_attempts) return false;
    if (!call.request.mutation) return true;
    // Railway may have run a mutation that failed afterwards: repeat only when it surely did not.
    const auto kind = error.failure.transport;
    return kind == core::TransportErrorKind::kDns || kind == core::TransportErrorKind::kConnect ||
           error.failure.http_status == 429;
}

CallOutcome CallEngine::ExecuteOne(CallRequest call) {
    std::vector<CallRequest> calls;
    calls.push_back(std::move(call));
    return std::move(Execute(std::move(calls)).front());
}

std::vector<CallOutcome> CallEngine::Execute(std::vector<CallRequest> requests) {
    std::vector<Call> calls(requests.size());
    const auto start = clock_.Steady();
    for (std::size_t i = 0; i < requests.size(); ++i) {
        calls[i].request = std::move(requests[i]);
        calls[i].due = start + calls[i].request.delay;
    }
    auto inbox = std::make_shared<Inbox>();
    {
        std::lock_guard lock(mutex_);
        active_.push_back(inbox.get());
    }
    struct Deactivate {
        CallEngine& engine;
        Inbox* inbox;
        ~Deactivate() {
            std::lock_guard lock(engine.mutex_);
            engine.active_.erase(std::find(engine.active_.begin(), engine.active_.end(), inbox));
        }
    } deactivate{*this, inbox.get()};
    std::size_t in_flight = 0;
    std::size_t done = 0;

    const auto finish = [&](Call& call, ApiResult<Envelope> outcome) {
        if (!outcome) outcome.error().attempts = call.attempts;
        call.outcome = std::move(outcome);
        call.state = Call::State::kDone;
        ++done;
    };

    while (done < calls.size()) {
        bool stopped = false;
        {
            std::lock_guard lock(mutex_);
            stopped = stopped_;
        }
        const auto now = clock_.Steady();
        if (stopped) {
            for (auto& call : calls) {
                if (call.state == Call::State::kWaiting) {
                    net::HttpResponse cancelled;
                    cancelled.error = core::TransportErrorKind::kCancelled;
                    cancelled.error_message = "railwatch is stopping";
                    finish(call, InterpretResponse(cancelled, Context(call.request.operation)));
                } else if (call.state == Call::State::kInFlight) {
                    transport_.Cancel(call.request_id);
                }
            }
        }

        // Launch what is due, within the in-flight cap and the budget: submitted together below
        // (the transport's thread is woken once for them).
        std::optional<core::Duration> budget_wait;
        std::vector<net::HttpTransport::Submission> launches;
        std::vector<Call*> launched;
        while (!stopped && in_flight < config_.max_in_flight) {
            Call* next = nullptr;
            std::size_t next_index = 0;
            for (std::size_t i = 0; i < calls.size(); ++i) {
                auto& call = calls[i];
                if (call.state != Call::State::kWaiting || call.due > now) continue;
                if (next == nullptr || call.due < next->due) {
                    next = &call;
                    next_index = i;
                }
            }
            if (next == nullptr) break;
            const BudgetGrant grant = budget_.TryAcquire(next->request.root_fields);
            if (!grant.granted) {
                budget_wait = grant.wait;
                break;
            }
            next->state = Call::State::kInFlight;
            next->budget_cost = grant.cost;
            ++next->attempts;
            ++in_flight;
            launched.push_back(next);
            launches.push_back({Request(*next), [this, inbox, next_index](net::HttpResponse response) {
                                    bool wake = false;
                                    {
                                        std::lock_guard lock(mutex_);
                                        --inbox->outstanding;
                                        wake = inbox->wake_each || inbox->outstanding == 0 || !response.Answered() ||
                                               response.status != 200;
                                        inbox->answers.emplace_back(next_index, std::move(response));
                                    }
                                    if (wake) inbox->wakeup.Notify();
                                }});
        }
        if (!launches.empty()) {
            {
                std::lock_guard lock(mutex_);
                inbox->outstanding += launches.size();
            }
            // Submit may complete inline (fakes): the completion takes the mutex, so do not hold it.
            transport_.SubmitAll(launches);
            for (std::size_t k = 0; k < launches.size(); ++k)
                launched[k]->request_id = launches[k].id;
        }

        std::vector<std::pair<std::size_t, net::HttpResponse>> answers;
        {
            std::lock_guard lock(mutex_);
            answers.swap(inbox->answers);
        }
        for (auto& [index, response] : answers) {
            --in_flight;
            Call& call = calls[index];
            bool taught = false;
            if (response.Answered()) {
                taught = budget_.Observe(response.status, response.headers, call.request.root_fields, call.budget_cost);
            } else {
                budget_.Release(call.budget_cost);
            }
            if (taught) {
                Log(fmt::format(
                    "railway: Railway refused requests of several root fields with 429 twice within {} s although, "
                    "counted in requests, there was room (its answer said so, or railwatch had spent less than "
                    "half its requests of the second): it seems to charge each root field (each deployment of a "
                    "status request), not each request. Requests now cost their root fields and status requests "
                    "carry one deployment each, for {} s (then railwatch tries again as configured)",
                    core::ToSeconds(RequestBudget::kUnexplainedWithin),
                    core::ToSeconds(RequestBudget::kPerRootFieldFor)));
            }
            ApiResult<Envelope> outcome = InterpretResponse(response, Context(call.request.operation));
            if (response.Answered()) NoteEdgeAnswer(outcome);
            // A 429 for more root fields than a request may carry now is not sent again as it is.
            const bool too_big = !outcome && response.status == 429 &&
                                 static_cast<std::size_t>(call.request.root_fields) > budget_.MaxRootFieldsPerRequest();
            if (outcome || stopped || too_big || !MayRetry(call, outcome.error())) {
                finish(call, std::move(outcome));
                continue;
            }
            const ApiError& error = outcome.error();
            const core::Duration delay = RetryDelay(call.attempts, error.retry_after);
            if (error.retry_after) budget_.PauseFor(*error.retry_after);
            const int max_attempts = call.request.mutation ? config_.max_mutation_attempts : config_.max_attempts;
            Log(fmt::format("railway: {} (attempt {}/{}); retrying in {}", error.message, call.attempts, max_attempts,
                            FormatDelay(delay)));
            call.state = Call::State::kWaiting;
            call.due = clock_.Steady() + delay;
        }
        if (!answers.empty() || done == calls.size()) continue;

        // Nothing arrived: wait for an answer, the next due call, or the budget.
        const auto now2 = clock_.Steady();
        std::optional<core::Duration> wait;
        for (const auto& call : calls) {
            if (call.state != Call::State::kWaiting) continue;
            const core::Duration until = call.due > now2 ? call.due - now2 : core::Duration{0};
            if (!wait || until < *wait) wait = until;
        }
        if (wait && budget_wait) wait = std::max(*wait, *budget_wait);
        if (wait && *wait <= core::Duration{0} && !budget_wait && in_flight < config_.max_in_flight) continue;
        if (!wait || (in_flight >= config_.max_in_flight && in_flight > 0)) wait = kIdleWait;
        {
            std::lock_guard lock(mutex_);
            inbox->wake_each = std::any_of(calls.begin(), calls.end(),
                                           [](const Call& call) { return call.state == Call::State::kWaiting; });
            // An answer that came since the look above without waking this wait (wake_each was off).
            if (!inbox->answers.empty()) continue;
        }
        clock_.WaitUntil(now2 + *wait, inbox->wakeup);  // from the reading the wait was computed at
    }

    std::vector<CallOutcome> outcomes;
    outcomes.reserve(calls.size());
    for (auto& call : calls)
        outcomes.push_back(CallOutcome{std::move(*call.outcome), call.attempts});
    return outcomes;
}

}  // namespace railwatch::railway
