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
///   ClassifyApiFailure(ApiFailure)             -> ApiClassification (class, kind, retryable)
///   IsRetryableApiFailure(ApiFailure)          -> bool
///   ApiMessageRules(), ApiCodeRules()          -> the API rule tables (for docs and tests)
///   ClassifyDeploymentFailure(FailureEvidence) -> Classification
///   ClassifyMessage(text)                      -> Classification (kUnknown when nothing matches)
///   MessageRules()                             -> the static rule table (for docs and tests)
///   FailureNextStep(class, reason, evidence)   -> what a person can do about it
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

/// One entry of a GraphQL `errors` array: the facts classification reads. Never holds a secret.
struct GraphqlErrorFacts {
    std::string message;    ///< errors[].message
    std::string code;       ///< errors[].extensions.code; empty when absent
    std::string path_head;  ///< first element of errors[].path ("d3", "deployment"); empty when absent
    std::string trace_id;   ///< errors[].extensions.traceId; empty when absent
};

/// Everything known about one failed API call (or one failed alias of a batch). Never holds a
/// secret.
struct ApiFailure {
    TransportErrorKind transport = TransportErrorKind::kNone;
    int http_status = 0;                            ///< 0 when no HTTP response arrived
    std::vector<GraphqlErrorFacts> graphql_errors;  ///< the answer's errors, in order
    bool malformed_body = false;                    ///< body was not the JSON we expected (HTML, garbage)
    bool edge_page = false;                         ///< the body is an HTML page from Railway's edge (Cloudflare)
    /// Non-empty when railwatch did not send a request because a check it made first failed
    /// (e.g. "canRedeploy is false"): says what failed.
    std::string precondition;
};

/// What a failed API call means for the code that made it: the branch it takes. The caller maps
/// it to its own error codes (railway/response.cpp maps it to util::ErrorCode).
enum class ApiFailureKind {
    kAuth,             ///< the token is refused (invalid, expired, not allowed here)
    kNotFound,         ///< Railway does not know the id
    kInvalidArgument,  ///< Railway rejected an argument ("Problem processing request", BAD_USER_INPUT)
    kBadDocument,      ///< Railway rejected railwatch's GraphQL document (a railwatch bug)
    kEndpoint,         ///< the URL does not lead to a GraphQL API (3xx, 404, 501, 505)
    kPrecondition,     ///< not sent: a check made first says the call cannot succeed
    kRateLimited,      ///< 429, the edge's HTML refusal, or a rate-limit message
    kUnavailable,      ///< transport trouble, 5xx, Railway's internal errors
    kTimeout,          ///< no answer in time (transport deadline, HTTP 408)
    kMalformed,        ///< an answer railwatch cannot read (not JSON, missing fields)
    kCancelled,        ///< cancelled locally (shutdown)
    kUnknown,          ///< nothing recognised
};

/// "auth", "not_found", ... (stable, lower case: for docs and logs).
std::string_view ToString(ApiFailureKind kind);

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

/// The verdict on a failed API call: the class and whether repeating the call may help
/// (Classification), plus the branch the caller takes (`kind`) and which GraphQL error decided.
struct ApiClassification : Classification {
    ApiFailureKind kind = ApiFailureKind::kUnknown;
    /// Index into ApiFailure::graphql_errors of the error whose message or code decided; -1 when
    /// no GraphQL error did (transport, HTTP status, body).
    int deciding_error = -1;
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

/// One row of the API message table: a GraphQL error whose lower-cased message contains
/// `pattern` ('*' as in MessageRule) is of `error_class` and `kind`.
struct ApiMessageRule {
    std::string_view pattern;  ///< lower case
    ErrorClass error_class;
    ApiFailureKind kind;
    bool retryable;
    std::string_view reason;
};

/// One row of the API code table: a GraphQL error whose `extensions.code` equals `code`
/// (case-insensitive). Consulted only when no error's message is in the message table: Railway
/// puts INTERNAL_SERVER_ERROR on every error, "Not Authorized" included.
struct ApiCodeRule {
    std::string_view code;  ///< lower case
    ErrorClass error_class;
    ApiFailureKind kind;
    bool retryable;
    std::string_view reason;
};

/// The API message table, in priority order (the first matching row wins).
std::span<const ApiMessageRule> ApiMessageRules();
/// The API code table.
std::span<const ApiCodeRule> ApiCodeRules();

/// Classifies a failed Railway API call: the one place that decides an API failure's class,
/// kind and retryability (docs/ERRORS.md lists the order). Order: precondition, transport error,
/// HTTP 429 / edge refusal (HTML), HTTP 401/403, HTTP 408/5xx, GraphQL messages (every error's,
/// in order), GraphQL codes, other HTTP status, malformed body, message table.
ApiClassification ClassifyApiFailure(const ApiFailure& failure);

/// Same as ClassifyApiFailure(failure).retryable. Note: whether a *write* may be repeated is the
/// caller's decision (Railway advises retrying mutations only when no answer arrived, or on 429).
bool IsRetryableApiFailure(const ApiFailure& failure);

/// Classifies a failed deployment from its evidence. The best match is chosen by: strong rules
/// over weak ones, then event errors over log lines, then newer over older. With no match, a
/// failed HEALTHCHECK step is TIMEOUT, a failed BUILD_IMAGE step CONFIGURATION, else UNKNOWN.
Classification ClassifyDeploymentFailure(const FailureEvidence& evidence);

/// Classifies one free-text message (a log line or an error string); kUnknown when nothing matches.
Classification ClassifyMessage(std::string_view message);

/// What a person can do about a failed deployment: a sentence or two ending in the thing to do
/// ("Set DATABASE_URL in the service's variables on Railway, then redeploy."). The step of the
/// rule whose reason is `reason` (Classification::reason, as stored), made specific with what
/// `evidence` (the deciding line) and the deployment's `log_lines` name: the variable, the address
/// the app listens on, the package, the command, the host it could not reach; where they name
/// nothing, the rule's general step, and for a reason of no rule the step of `error_class`.
/// docs/ERRORS.md lists the steps. Pure: the engine's notifications and the API's failure view
/// get the same sentence from the same evidence.
std::string FailureNextStep(ErrorClass error_class, std::string_view reason, std::string_view evidence,
                            std::span<const std::string> log_lines = {});

/// The reasons FailureNextStep has a step of its own for, in its order (for docs and tests).
std::vector<std::string_view> NextStepReasons();

}  // namespace railwatch::core
