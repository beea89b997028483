#include "store/sql/checks.hpp"

#include <fmt/format.h>

#include "store/text.hpp"

namespace railwatch::store::sql {

using util::ErrorCode;
using util::Fail;

void Checker::Text(std::string_view field, std::string_view value, std::size_t max) {
    if (!result_) return;
    result_ = ValidateText(field, value, max);
}

void Checker::OptText(std::string_view field, const std::optional<std::string>& value, std::size_t max) {
    if (value) Text(field, *value, max);
}

void Checker::Id(std::string_view field, std::string_view value) {
    if (!result_) return;
    if (value.empty()) {
        result_ = Fail(ErrorCode::kInvalidArgument, fmt::format("{} is empty: give a non-empty id", field));
        return;
    }
    Text(field, value, kMaxIdBytes);
}

void Checker::OptId(std::string_view field, const std::optional<std::string>& value) {
    if (value) Id(field, *value);
}

void Checker::Limit(int limit) {
    if (!result_) return;
    if (limit < 1 || limit > kMaxLimit) {
        result_ =
            Fail(ErrorCode::kInvalidArgument, fmt::format("limit {} is out of range: use 1..{}", limit, kMaxLimit));
    }
}

void Checker::That(bool ok, std::string message) {
    if (result_ && !ok) result_ = Fail(ErrorCode::kInvalidArgument, std::move(message));
}

void CheckState(Checker& c, const InstanceState& s) {
    c.OptId("deployment_id", s.deployment_id);
    c.OptText("deployment_status", s.deployment_status, kMaxIdBytes);
    c.OptText("health", s.health, kMaxIdBytes);
    c.OptText("error_message", s.error_message);
    c.OptText("error_stack", s.error_stack);
    c.OptText("attention_reason", s.attention_reason);
    c.That(s.progress >= 0 && s.progress <= 100, fmt::format("progress {} is out of range: use 0..100", s.progress));
    c.That(s.retry_count >= 0, fmt::format("retry_count {} is negative", s.retry_count));
}

void CheckOutbox(Checker& c, const OutboxMessage& m) {
    c.Id("outbox id", m.id);
    c.Id("outbox channel", m.channel);
    c.Id("outbox dedup_key", m.dedup_key);
    c.Text("outbox payload", m.payload);
}

}  // namespace railwatch::store::sql
