#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error_class.hpp"
#include "core/retry.hpp"
#include "core/time.hpp"

/// What to do about an error, per class, as data (the seed's six handlers). The monitor executes
/// the actions; some need an answer first (validate the token, check the quota) and then call
/// PlanReactions again with that answer.
///
///   PlanReactions(input, policy) -> std::vector<Action>, always starting with kRecord
///
///   class           actions
///   NETWORK         Redeploy (jittered backoff) while retry_count < 3, then NotifyAdmin
///   CONFIGURATION   NotifyAdmin + FlagAttention (with the reason)
///   AUTHENTICATION  ValidateToken; once known invalid: NotifyAdmin
///   RESOURCE        CheckQuota; once known exceeded: NotifyAdmin
///   TIMEOUT         NotifyAdmin when the deployment has run longer than 10 minutes
///   UNKNOWN         Record with message and context + NotifyAdmin
///   (+ NotifyUser for a failed deployment once nothing automatic is left to try)
///
/// Pure and thread-safe.
namespace railwatch::core {

enum class ActionKind {
    kRedeploy,       ///< redeploy the deployment after `delay`
    kNotifyAdmin,    ///< notify the configured admins (`type`, `reason`, `suggestion`)
    kNotifyUser,     ///< notify the instance's user (email + in-app)
    kFlagAttention,  ///< set needs_attention with `reason` as attention_reason
    kValidateToken,  ///< check the Railway token (me / projectToken query), then plan again
    kCheckQuota,     ///< check the workspace's usage limit, then plan again
    kRecord,         ///< store error type and message (and context) on the instance
};

std::string_view ToString(ActionKind kind);

struct Action {
    ActionKind kind = ActionKind::kRecord;
    std::string type;        ///< notification / record type, e.g. "NETWORK_ERROR_MAX_RETRIES"
    std::string reason;      ///< what happened, for people
    std::string suggestion;  ///< what a person should do (the seed's `action` field); may be empty
    Duration delay{};        ///< kRedeploy only: wait this long first

    friend bool operator==(const Action&, const Action&) = default;
};

struct ReactionInput {
    ErrorClass error_class = ErrorClass::kUnknown;
    std::string message;  ///< the error message (Classification::reason or the raw error)
    std::string context;  ///< evidence, stack, log excerpt: kept for UNKNOWN errors
    /// What a person can do about this failure: the suggestion of the notifications about it
    /// (admin and user). Empty: FailureNextStep(error_class, message, context), without the
    /// deployment's lines (the engine passes the step made with them).
    std::string next_step;
    int retry_count = 0;                 ///< redeploys already made for this failure
    Duration elapsed{};                  ///< how long the deployment has been running (TIMEOUT)
    std::optional<bool> token_valid;     ///< the answer to kValidateToken, once known
    std::optional<bool> quota_exceeded;  ///< the answer to kCheckQuota, once known
    bool deployment_failed = true;       ///< false when only a Railway API call failed (no user impact)
    double unit_random = 0.5;            ///< one draw from a RandomSource, for the redeploy's jitter
};

struct ReactionPolicy {
    int max_redeploys = 3;
    Duration timeout_notify_after = std::chrono::minutes(10);
    /// Delay before redeploy n+1: full jitter under min(cap, base * factor^n).
    BackoffPolicy redeploy_backoff{};
    bool notify_user = true;  ///< add kNotifyUser for failed deployments
};

std::vector<Action> PlanReactions(const ReactionInput& input, const ReactionPolicy& policy);

/// After an automatic redeploy whose request failed and that Railway did not start (no new
/// deployment found): the delay before trying again, or nullopt when `attempts_made` (failed
/// attempts included) reached policy.max_redeploys and a person must look. Pure.
std::optional<Duration> PlanRedeployRetry(int attempts_made, const ReactionPolicy& policy, double unit_random);

}  // namespace railwatch::core
