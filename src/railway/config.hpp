#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "net/http_transport.hpp"
#include "railway/budget.hpp"
#include "util/result.hpp"

/// How railwatch reaches Railway: endpoint, credentials, batching and retry limits.
namespace railwatch::railway {

inline constexpr std::string_view kDefaultApiUrl = "https://backboard.railway.com/graphql/v2";
/// The most deployments one status request may ask for (`[railway] batch_size`). Railway documents
/// no limit on aliases or complexity; a size it refuses is halved (docs/CLIENT.md, "A request
/// refused as a whole"), so the bound is only against a document of unreasonable size.
inline constexpr std::size_t kMaxBatchSize = 500;
/// Deployments per status request unless configured: one request checks 400, and a size Railway
/// refuses, or fails every time after retries, is halved and learnt (docs/CLIENT.md).
inline constexpr std::size_t kDefaultBatchSize = 400;

/// Which kind of token, which decides the header it travels in (the Railway CLI's convention).
enum class TokenKind {
    kAccount,  ///< RAILWAY_API_TOKEN: account or workspace token → `Authorization: Bearer`
    kProject,  ///< RAILWAY_TOKEN: project token → `Project-Access-Token`
};

/// A token and its kind. The token is a secret: never format it into a message or a log line.
struct Credentials {
    TokenKind kind = TokenKind::kAccount;
    std::string token;

    /// The header that carries the token.
    net::HttpHeader AuthHeader() const;
    /// The environment variable a user sets for this kind ("RAILWAY_API_TOKEN" / "RAILWAY_TOKEN").
    std::string_view EnvName() const;
    /// A description safe to show: "project token from RAILWAY_TOKEN".
    std::string Describe() const;
};

/// Looks a variable up; nullopt when unset. Lets tests supply an environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The process environment (getenv).
EnvLookup ProcessEnvironment();

/// Credentials as the Railway CLI reads them: RAILWAY_TOKEN (project token) wins over
/// RAILWAY_API_TOKEN (account/workspace token); empty values count as unset.
/// Errors: kUnauthenticated when neither is set, with what to do.
util::Result<Credentials> CredentialsFromEnvironment(const EnvLookup& env);

/// RAILWAY_API_URL when set and non-empty, else `fallback`.
std::string ApiUrlFromEnvironment(const EnvLookup& env, std::string_view fallback = kDefaultApiUrl);

/// The endpoint with `source=railwatch` in its query (Railway's edge applies a stricter limit to
/// requests without a query string). An existing `source=` is kept.
std::string EndpointWithSource(std::string_view api_url);

/// Checks that `api_url` is an http(s) URL, and that a plain-http URL points at this machine
/// (127.0.0.0/8, ::1, localhost): anywhere else the token would travel in clear text. Errors
/// (kInvalidArgument) quote the URL (without its query) and say what to set instead.
util::Result<void> ValidateApiUrl(std::string_view api_url);

/// Everything the client needs besides its collaborators.
struct ClientConfig {
    std::string api_url = std::string(kDefaultApiUrl);
    /// Aliases per status request (1..kMaxBatchSize; fewer once Railway refuses or fails more).
    std::size_t batch_size = kDefaultBatchSize;
    std::size_t max_in_flight = 4;  ///< concurrent requests of one batched call
    core::Duration request_timeout = core::Seconds(30);
    int max_attempts = 5;            ///< per request, first try included (reads)
    int max_mutation_attempts = 3;   ///< mutations: retried only when surely not executed
    std::size_t max_log_pages = 10;  ///< requests one GetNewLogs call may send (1..100)
    /// Services asked per `serviceInstances` page (its `first`), so that an answer, and the memory
    /// to read it, stays bounded however many services an environment has (1..1000).
    std::size_t environment_page_size = 500;
    std::size_t max_environment_pages = 400;  ///< `serviceInstances` pages one environment read may fetch
    std::string user_agent;                   ///< empty: "railwatch/<version>"
    /// Retry delays (full jitter, core::NextRetryDelay): the first retry waits up to
    /// retry_base_delay, each later one up to `retry_factor` times more, never above retry_max_delay.
    core::Duration retry_base_delay = core::Millis(500);
    core::Duration retry_max_delay = core::Seconds(30);
    double retry_factor = 2.0;

    /// This config with every limit clamped to what the client supports (batch_size 1..kMaxBatchSize,
    /// max_in_flight ≥ 1, attempts ≥ 1, log pages 1..100, environment pages and their size 1..1000).
    ClientConfig Normalized() &&;
};

/// "railwatch/<version>".
std::string DefaultUserAgent();

}  // namespace railwatch::railway
