#include "core/reactions.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/classify.hpp"

namespace railwatch::core {
namespace {

Action Make(ActionKind kind, std::string type, std::string reason, std::string suggestion = {},
            Duration delay = Duration::zero()) {
    return Action{kind, std::move(type), std::move(reason), std::move(suggestion), delay};
}

}  // namespace

std::string_view ToString(ActionKind kind) {
    switch (kind) {
        case ActionKind::kRedeploy:
            return "redeploy";
        case ActionKind::kNotifyAdmin:
            return "notify_admin";
        case ActionKind::kNotifyUser:
            return "notify_user";
        case ActionKind::kFlagAttention:
            return "flag_attention";
        case ActionKind::kValidateToken:
            return "validate_token";
        case ActionKind::kCheckQuota:
            return "check_quota";
        case ActionKind::kRecord:
            break;
    }
    return "record";
}

std::vector<Action> PlanReactions(const ReactionInput& in, const ReactionPolicy& policy) {
    std::vector<Action> actions;
    const std::string class_name(ToString(in.error_class));
    const std::string type = class_name + "_ERROR";
    const std::string& message = in.message;

    if (in.error_class == ErrorClass::kUnknown) {
        // The seed keeps the message and the stack for a person; we keep message and context.
        std::string record = "Unknown error: " + message;
        if (!in.context.empty()) record += "\n" + in.context;
        actions.push_back(Make(ActionKind::kRecord, type, std::move(record)));
    } else {
        actions.push_back(Make(ActionKind::kRecord, type, message));
    }

    // What to do about it: one table for every place that says so (FailureNextStep), with the
    // deployment's lines where the caller read them.
    const std::string step =
        in.next_step.empty() ? FailureNextStep(in.error_class, in.message, in.context) : in.next_step;
    // True when nothing automatic is left to try, so the user should hear about the failure.
    bool final = true;
    switch (in.error_class) {
        case ErrorClass::kConfiguration:
            actions.push_back(Make(ActionKind::kNotifyAdmin, type, message, step));
            actions.push_back(Make(ActionKind::kFlagAttention, type, "configuration error: " + message));
            break;
        case ErrorClass::kNetwork: {
            const int max_redeploys = std::max(policy.max_redeploys, 0);
            if (in.retry_count < max_redeploys) {
                BackoffPolicy backoff = policy.redeploy_backoff;
                backoff.max_attempts = in.retry_count + 2;  // the budget is max_redeploys, checked above
                const Duration delay =
                    NextRetryDelay(backoff, in.retry_count + 1, in.unit_random).value_or(Duration::zero());
                actions.push_back(Make(
                    ActionKind::kRedeploy, type,
                    fmt::format("network error, redeploy {} of {}: {}", in.retry_count + 1, max_redeploys, message), {},
                    delay));
                final = false;
            } else {
                actions.push_back(Make(ActionKind::kNotifyAdmin, "NETWORK_ERROR_MAX_RETRIES",
                                       fmt::format("network error after {} redeploys: {}", in.retry_count, message),
                                       step));
            }
            break;
        }
        case ErrorClass::kAuthentication:
            if (!in.token_valid) {
                actions.push_back(Make(ActionKind::kValidateToken, type, message));
                final = false;
            } else if (!*in.token_valid) {
                actions.push_back(Make(ActionKind::kNotifyAdmin, type, "the Railway token is invalid: " + message,
                                       "update the Railway API token"));
            }
            break;
        case ErrorClass::kResource:
            if (!in.quota_exceeded) {
                actions.push_back(Make(ActionKind::kCheckQuota, type, message));
                final = false;
            } else if (*in.quota_exceeded) {
                actions.push_back(Make(ActionKind::kNotifyAdmin, "RESOURCE_QUOTA_EXCEEDED",
                                       "resource quota exceeded: " + message,
                                       "remove old instances or upgrade the plan"));
            }
            break;
        case ErrorClass::kTimeout:
            if (in.elapsed > policy.timeout_notify_after) {
                actions.push_back(
                    Make(ActionKind::kNotifyAdmin, "DEPLOYMENT_TIMEOUT",
                         fmt::format("the deployment has run for {} s (limit {} s): {}", ToSeconds(in.elapsed),
                                     ToSeconds(policy.timeout_notify_after), message),
                         step));
            }
            break;
        case ErrorClass::kUnknown:
            actions.push_back(Make(ActionKind::kNotifyAdmin, type, message, step));
            break;
    }

    if (final && in.deployment_failed && policy.notify_user) {
        actions.push_back(Make(ActionKind::kNotifyUser, "DEPLOYMENT_FAILED", "deployment failed: " + message, step));
    }
    return actions;
}

std::optional<Duration> PlanRedeployRetry(int attempts_made, const ReactionPolicy& policy, double unit_random) {
    if (attempts_made >= policy.max_redeploys) return std::nullopt;
    return NextRetryDelay(policy.redeploy_backoff, attempts_made, unit_random).value_or(policy.redeploy_backoff.cap);
}

}  // namespace railwatch::core
