#include "notify/channel.hpp"

namespace railwatch::notify {

DeliveryOutcome DeliveryOutcome::Accepted(std::string detail) {
    return DeliveryOutcome{core::DeliveryVerdict::kAccepted, std::move(detail), std::nullopt};
}

DeliveryOutcome DeliveryOutcome::Retry(std::string detail, std::optional<core::Duration> retry_after) {
    return DeliveryOutcome{core::DeliveryVerdict::kRetry, std::move(detail), retry_after};
}

DeliveryOutcome DeliveryOutcome::Permanent(std::string detail) {
    return DeliveryOutcome{core::DeliveryVerdict::kPermanent, std::move(detail), std::nullopt};
}

}  // namespace railwatch::notify
