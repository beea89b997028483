#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/retry.hpp"
#include "net/http_transport.hpp"
#include "railway/api_error.hpp"
#include "railway/budget.hpp"
#include "railway/config.hpp"
#include "railway/response.hpp"
#include "util/clock.hpp"

/// The call engine under RailwayClient: sends GraphQL requests and drives each to a final
/// outcome (answer or ApiError), knowing nothing about what the requests mean.
namespace railwatch::railway {

/// Receives the client's log lines (retries, rate-limit pauses). Lines never contain the token.
using LogSink = std::function<void(std::string_view line)>;

/// One request for the engine.
struct CallRequest {
    std::string operation;  ///< for messages: "status check of 50 deployments"
    std::string body;       ///< the JSON body (operationName, query, variables)
    /// A mutation: sent on a connection of its own (never re-sent by the transport) and retried
    /// only when Railway surely did not run it (DNS or connect failure, 429).
    bool mutation = false;
    core::Duration delay{0};  ///< wait this long before the first attempt
    /// Root fields (aliases) the document asks for: what the request costs the budget once
    /// Railway seems to charge each (RequestBudget::TryAcquire, Observe).
    int root_fields = 1;
};

/// The final outcome of one CallRequest.
struct CallOutcome {
    ApiResult<Envelope> result;  ///< on failure, `attempts` is set on the error too
    int attempts = 0;            ///< requests sent
};

/// Runs calls: at most `max_in_flight` requests at once, each first takes a token from the
/// RequestBudget, transient failures are retried with exponential backoff and full jitter
/// (core::NextRetryDelay, base 500 ms, cap 30 s; a 429's Retry-After is honoured and pauses the
/// budget), and Stop() cancels everything. A 429 that teaches the budget that Railway charges
/// each root field (RequestBudget::Observe) ends its request's retries when it has several: it
/// would cost as much again; the caller asks in smaller requests (StatusChecker does).
///
/// Thread-safety: every method may be called from several threads at once. The transport, clock,
/// budget and random source must outlive the engine; the engine must outlive its calls. Waits go
/// through the clock, so a FakeClock runs them at once.
class CallEngine {
  public:
    CallEngine(net::HttpTransport& transport, const util::Clock& clock, RequestBudget& budget,
               core::RandomSource& random, Credentials credentials, ClientConfig config, LogSink log);

    /// Runs every call to its final outcome; returns one outcome per call, in order. Blocks.
    std::vector<CallOutcome> Execute(std::vector<CallRequest> calls);
    /// Execute with one call.
    CallOutcome ExecuteOne(CallRequest call);

    /// Makes every running and future call end soon with kCancelled (in-flight requests are
    /// cancelled, waits are cut short). Irreversible.
    void Stop();

    /// The context error messages are worded in: `operation`, the endpoint, the token to redact.
    ErrorContext Context(std::string operation) const;
    /// The delay before attempt `attempts_made + 1` (full jitter; at least `retry_after`).
    core::Duration RetryDelay(int attempts_made, std::optional<core::Duration> retry_after = std::nullopt);
    /// Sends a line to the log sink, token redacted.
    void Log(const std::string& line) const;

    /// The configuration, limits clamped (ClientConfig::Normalized).
    const ClientConfig& config() const { return config_; }
    /// Which kind of token the requests carry.
    TokenKind token_kind() const { return credentials_.kind; }
    /// The budget every request takes a token from (not owned).
    RequestBudget& budget() const { return budget_; }
    /// The clock its waits go through (not owned).
    const util::Clock& clock() const { return clock_; }

  private:
    struct Call;
    struct Inbox;

    net::HttpRequest Request(const Call& call) const;
    bool MayRetry(const Call& call, const ApiError& error) const;
    // Notes whether an answer was the edge's refusal page; for one, sets the pause every request
    // waits: 1 s for the first in a row, doubling while the edge keeps refusing, at most 60 s.
    void NoteEdgeAnswer(ApiResult<Envelope>& outcome);

    net::HttpTransport& transport_;
    const util::Clock& clock_;
    RequestBudget& budget_;
    core::RandomSource& random_;
    Credentials credentials_;
    ClientConfig config_;
    LogSink log_;
    std::string endpoint_;           // with ?source=railwatch
    std::string endpoint_for_text_;  // without the query
    std::string user_agent_;

    mutable std::mutex mutex_;
    bool stopped_ = false;            // guarded by mutex_
    std::vector<Inbox*> active_;      // inboxes of running Execute calls; guarded by mutex_
    int edge_refusals_in_a_row_ = 0;  // guarded by mutex_
};

}  // namespace railwatch::railway
