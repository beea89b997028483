#include "store/model.hpp"

#include "store/store.hpp"

namespace railwatch::store {

std::string_view ToString(OutboxStatus status) {
    switch (status) {
        case OutboxStatus::kPending:
            return "pending";
        case OutboxStatus::kSent:
            return "sent";
        case OutboxStatus::kFailed:
            return "failed";
        case OutboxStatus::kDead:
            return "dead";
    }
    return "pending";
}

std::optional<OutboxStatus> ParseOutboxStatus(std::string_view text) {
    for (const auto s : {OutboxStatus::kPending, OutboxStatus::kSent, OutboxStatus::kFailed, OutboxStatus::kDead}) {
        if (ToString(s) == text) return s;
    }
    return std::nullopt;
}

std::string_view ToString(Backend backend) {
    return backend == Backend::kSqlite ? "sqlite" : "postgresql";
}

}  // namespace railwatch::store
