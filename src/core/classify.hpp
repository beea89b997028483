#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/error_class.hpp"

/// Error classification: from how a Railway API call failed, or from the evidence a failed
/// deployment left (log lines, deployment-event errors), to one of the six error classes.
/// Pure and table-driven; the rules are listed in docs/ERRORS.md.
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
    int http_status = 0;                       ///< 0 when no HTTP response arrived
    std::vector<std::string> graphql_messages;  ///< errors[].message, in order
    std::string graphql_code;                  ///< errors[0].extensions.code, if any
    bool malformed_body = false;               ///< body was not the JSON we expected (HTML, garbage)
};

/// Evidence left by a failed, crashed or stalled deployment.
struct FailureEvidence {
    DeploymentStatus status = DeploymentStatus::kUnknown;
    std::vector<std::string> event_errors;  ///< deploymentEvents payload.error / reason, newest last
    std::vector<std::string> log_lines;     ///< build or deploy log messages, newest last
};

/// The verdict: a class, a short reason a person can read, and the text that decided it.
struct Classification {
    ErrorClass error_class = ErrorClass::kUnknown;
    std::string reason;    ///< e.g. "missing environment variable", "Railway rejected the token"
    std::string evidence;  ///< the matching message or log line (truncated), empty if none
};

/// Classifies a failed Railway API call.
Classification ClassifyApiFailure(const ApiFailure& failure);

/// Classifies a failed deployment from its evidence; newer lines weigh more than older ones, and
/// event errors more than log lines.
Classification ClassifyDeploymentFailure(const FailureEvidence& evidence);

/// Classifies one free-text message (a log line or an error string); kUnknown when nothing matches.
Classification ClassifyMessage(std::string_view message);

}  // namespace railwatch::core
