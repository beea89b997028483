#include "core/notify_event.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace railwatch::core {
namespace {

constexpr std::size_t kMaxEventIdBytes = 160;
constexpr std::size_t kEventIdPrefixBytes = 120;

std::uint64_t Fnv1a64(std::string_view text, std::uint64_t basis) {
    constexpr std::uint64_t kPrime = 0x100000001b3ULL;
    std::uint64_t h = basis;
    for (const char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= kPrime;
    }
    return h;
}

}  // namespace

std::string_view ToString(NotifyEventType type) {
    switch (type) {
        case NotifyEventType::kDeploymentFailed:
            return "deployment_failed";
        case NotifyEventType::kDeploymentCrashed:
            return "deployment_crashed";
        case NotifyEventType::kCrashLoop:
            return "crash_loop";
        case NotifyEventType::kDeploymentStuck:
            return "deployment_stuck";
        case NotifyEventType::kDeploymentRecovered:
            return "deployment_recovered";
        case NotifyEventType::kConfigurationError:
            return "configuration_error";
        case NotifyEventType::kNetworkError:
            return "network_error";
        case NotifyEventType::kAuthenticationError:
            return "authentication_error";
        case NotifyEventType::kResourceError:
            return "resource_error";
        case NotifyEventType::kTimeoutError:
            return "timeout_error";
        case NotifyEventType::kUnknownError:
            return "unknown_error";
        case NotifyEventType::kTokenInvalid:
            return "token_invalid";
        case NotifyEventType::kQuotaExceeded:
            return "quota_exceeded";
    }
    return "unknown_error";
}

std::optional<NotifyEventType> ParseNotifyEventType(std::string_view text) {
    for (const NotifyEventType type : kAllNotifyEventTypes) {
        if (ToString(type) == text) return type;
    }
    return std::nullopt;
}

Audience AudienceOf(NotifyEventType type) {
    switch (type) {
        case NotifyEventType::kDeploymentFailed:
        case NotifyEventType::kDeploymentCrashed:
        case NotifyEventType::kCrashLoop:
        case NotifyEventType::kDeploymentStuck:
        case NotifyEventType::kDeploymentRecovered:
            return Audience::kUser;
        default:
            return Audience::kAdmin;
    }
}

bool IsProblem(NotifyEventType type) {
    return type != NotifyEventType::kDeploymentRecovered;
}

std::string_view DefaultTitle(NotifyEventType type) {
    switch (type) {
        case NotifyEventType::kDeploymentFailed:
            return "Deployment failed";
        case NotifyEventType::kDeploymentCrashed:
            return "Deployment crashed";
        case NotifyEventType::kCrashLoop:
            return "Deployment is crash-looping";
        case NotifyEventType::kDeploymentStuck:
            return "Deployment is stuck";
        case NotifyEventType::kDeploymentRecovered:
            return "Deployment recovered";
        case NotifyEventType::kConfigurationError:
            return "Configuration error";
        case NotifyEventType::kNetworkError:
            return "Network error: redeploys used up";
        case NotifyEventType::kAuthenticationError:
            return "Authentication error";
        case NotifyEventType::kResourceError:
            return "Resource error";
        case NotifyEventType::kTimeoutError:
            return "Deployment timed out";
        case NotifyEventType::kUnknownError:
            return "Unknown error";
        case NotifyEventType::kTokenInvalid:
            return "Railway token invalid";
        case NotifyEventType::kQuotaExceeded:
            return "Railway quota exceeded";
    }
    return "Notification";
}

std::optional<ErrorClass> ErrorClassOf(NotifyEventType type) {
    switch (type) {
        case NotifyEventType::kConfigurationError:
            return ErrorClass::kConfiguration;
        case NotifyEventType::kNetworkError:
            return ErrorClass::kNetwork;
        case NotifyEventType::kAuthenticationError:
        case NotifyEventType::kTokenInvalid:
            return ErrorClass::kAuthentication;
        case NotifyEventType::kResourceError:
        case NotifyEventType::kQuotaExceeded:
            return ErrorClass::kResource;
        case NotifyEventType::kTimeoutError:
            return ErrorClass::kTimeout;
        case NotifyEventType::kUnknownError:
            return ErrorClass::kUnknown;
        default:
            return std::nullopt;
    }
}

std::optional<NotifyEventType> EventTypeForAction(const Action& action) {
    if (action.kind == ActionKind::kNotifyUser) return NotifyEventType::kDeploymentFailed;
    if (action.kind != ActionKind::kNotifyAdmin) return std::nullopt;
    const std::string_view type = action.type;
    if (type == "AUTHENTICATION_ERROR") return NotifyEventType::kTokenInvalid;
    if (type == "RESOURCE_QUOTA_EXCEEDED") return NotifyEventType::kQuotaExceeded;
    if (type == "DEPLOYMENT_TIMEOUT") return NotifyEventType::kTimeoutError;
    // Any other "<CLASS>_…" type: the class's own notice (NETWORK_ERROR_MAX_RETRIES included).
    for (const ErrorClass error_class : kAllErrorClasses) {
        const std::string_view prefix = ToString(error_class);
        if (type.starts_with(prefix) && (type.size() == prefix.size() || type[prefix.size()] == '_')) {
            switch (error_class) {
                case ErrorClass::kConfiguration:
                    return NotifyEventType::kConfigurationError;
                case ErrorClass::kNetwork:
                    return NotifyEventType::kNetworkError;
                case ErrorClass::kAuthentication:
                    return NotifyEventType::kAuthenticationError;
                case ErrorClass::kResource:
                    return NotifyEventType::kResourceError;
                case ErrorClass::kTimeout:
                    return NotifyEventType::kTimeoutError;
                case ErrorClass::kUnknown:
                    return NotifyEventType::kUnknownError;
            }
        }
    }
    // An admin notice of a type we do not know yet must still reach the admins.
    return NotifyEventType::kUnknownError;
}

std::string TitleOf(const NotifyEvent& event) {
    std::string title = event.title.empty() ? std::string(DefaultTitle(event.type)) : event.title;
    if (event.reminder > 0) title = "Reminder: " + title;
    return title;
}

std::string Utf8Prefix(std::string_view text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return std::string(text);
    std::size_t end = max_bytes;
    // Back up over continuation bytes (10xxxxxx) so that no character is cut in two.
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return std::string(text.substr(0, end));
}

std::string StableHash128(std::string_view text) {
    return fmt::format("{:016x}{:016x}", Fnv1a64(text, 0xcbf29ce484222325ULL), Fnv1a64(text, 0x6c62272e07bb0142ULL));
}

std::string MakeEventId(NotifyEventType type, std::string_view instance_id, std::string_view deployment_id,
                        Timestamp at) {
    std::string id =
        fmt::format("{}:{}:{}:{}", ToString(type), instance_id, deployment_id, at.time_since_epoch().count());
    if (id.size() <= kMaxEventIdBytes) return id;
    const std::string hash = StableHash128(id);
    return Utf8Prefix(id, kEventIdPrefixBytes) + "~" + hash;
}

}  // namespace railwatch::core
