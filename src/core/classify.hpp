#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/deployment_event.hpp"
#include "core/deployment_status.hpp"
#include "core/error_class.hpp"

/// Error classification: from how a Railway API call failed, or from the evidence a failed
/// deployment left (log lines, deployment-event errors), to one of the six error classes.
/// Pure and table-driven; the rules are listed in docs/ERRORS.md.
///
///   ClassifyApiFailure(ApiFailure)             -> Classification (+ retryable: retry the call?)
///   IsRetryableApiFailure(ApiFailure)          -> bool
///   ClassifyDeploymentFailure(FailureEvidence) -> Classification
///   ClassifyMessage(text)                      -> Classification (kUnknown when nothing matches)
///   MessageRules()                             -> the static rule table (for docs and tests)
///
/// Matching is ASCII case-insensitive. All functions are pure and thread-safe.
namespace railwatch::core {

/// How an HTTP exchange failed below HTTP (filled by the transport; kNone when a response came).
enum class TransportErrorKind {
    kNone,
    kDns,        ///< host name did not resolve
    kConnect,    ///< connection refused or unreachable
    kReset,      ///< connection reset / closed mid-exchange
    kTls,        ///< TLS handshake or certificate verification failed
    kTimeout,    ///< no complete answer before the request's deadline
    kCancelled,  ///< cancelled locally (shutdown)
    kOther,      ///< anything else the transport reports
};

std::string_view ToString(TransportErrorKind kind);

/// Everything known about one failed API call. Never holds a secret.
struct ApiFailure {
    TransportErrorKind transport = TransportErrorKind::kNone;
    int http_status = 0;                        ///< 0 when no HTTP response arrived
    std::vector<std::string> graphql_messages;  ///< errors[].message, in order
    std::string graphql_code;                   ///< errors[0].extensions.code, if any
    bool malformed_body = false;                ///< body was not the JSON we expected (HTML, garbage)
};

/// Evidence left by a failed, crashed or stalled deployment.
struct FailureEvidence {
    DeploymentStatus status = DeploymentStatus::kUnknown;
    std::vector<std::string> event_errors;  ///< deploymentEvents payload.error / reason, newest last
    std::vector<std::string> log_lines;     ///< build or deploy log messages, newest last
    /// The deployment step that failed, when deploymentEvents say so. A failed HEALTHCHECK turns
    /// "service unavailable" evidence into TIMEOUT and is itself TIMEOUT evidence.
    std::optional<DeploymentEventStep> failed_step;
};

/// The verdict: a class, a short reason a person can read, and the text that decided it.
struct Classification {
    ErrorClass error_class = ErrorClass::kUnknown;
    std::string reason;    ///< e.g. "missing environment variable", "Railway rejected the token"
    std::string evidence;  ///< the matching message or log line (truncated), empty if none
    /// API failures only: true when repeating the same call later may succeed (transport
    /// trouble, 5xx, 429 / edge rate limit). Always false for deployment evidence.
    bool retryable = false;
};

/// How much a rule says about the root cause. A strong match anywhere in the evidence beats a weak
/// one: "npm ERR! code ELIFECYCLE" (weak: a script failed) says less than the "JavaScript heap out
/// of memory" (strong) printed just before it.
enum class RuleStrength { kStrong, kWeak };

/// One row of the message table: if the lower-cased text contains `pattern` the text is of
/// `error_class`. In `pattern`, '*' matches any run of characters ("environment variable*not set"),
/// and a leading '<' makes the pattern start a word ("<enotfound" does not match "modulenotfound").
struct MessageRule {
    std::string_view pattern;  ///< lower case
    ErrorClass error_class;
    std::string_view reason;
    RuleStrength strength;
    /// True for "service unavailable"-like rules: during a HEALTHCHECK they mean the app never
    /// answered the healthcheck in time, so the verdict becomes TIMEOUT instead of NETWORK.
    bool timeout_in_healthcheck = false;
};

/// The static rule table used for log lines, event errors and free text, in priority order
/// (within one strength, the first matching row wins).
std::span<const MessageRule> MessageRules();

/// Classifies a failed Railway API call. Order: transport error, HTTP 429 / edge refusal (HTML),
/// HTTP 401/403, GraphQL messages, GraphQL code, other HTTP status, malformed body, message table.
Classification ClassifyApiFailure(const ApiFailure& failure);

/// Same as ClassifyApiFailure(failure).retryable. Note: whether a *write* may be repeated is the
/// caller's decision (Railway advises retrying mutations only when no answer arrived, or on 429).
bool IsRetryableApiFailure(const ApiFailure& failure);

/// Classifies a failed deployment from its evidence. The best match is chosen by: strong rules
/// over weak ones, then event errors over log lines, then newer over older. With no match, a
/// failed HEALTHCHECK step is TIMEOUT, a failed BUILD_IMAGE step CONFIGURATION, else UNKNOWN.
Classification ClassifyDeploymentFailure(const FailureEvidence& evidence);

/// Classifies one free-text message (a log line or an error string); kUnknown when nothing matches.
Classification ClassifyMessage(std::string_view message);

}  // namespace railwatch::core
