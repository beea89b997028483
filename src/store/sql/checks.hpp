#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "store/model.hpp"
#include "util/result.hpp"

/// Input validation shared by every role of the SQL store: it runs before the database is
/// touched, so bad input writes nothing. Internal to src/store.
namespace railwatch::store::sql {

/// The longest id or short field (status, severity, email, ...) the store accepts.
inline constexpr std::size_t kMaxIdBytes = 256;
/// The largest `limit` a read accepts.
inline constexpr int kMaxLimit = 10000;

/// Collects the first validation failure of a request. Not thread-safe (one per call).
class Checker {
  public:
    /// Valid UTF-8, no NUL, at most `max` bytes.
    void Text(std::string_view field, std::string_view value, std::size_t max = kMaxTextBytes);
    void OptText(std::string_view field, const std::optional<std::string>& value, std::size_t max = kMaxTextBytes);
    /// Non-empty text of at most kMaxIdBytes.
    void Id(std::string_view field, std::string_view value);
    void OptId(std::string_view field, const std::optional<std::string>& value);
    /// 1..kMaxLimit.
    void Limit(int limit);
    /// Fails with `message` unless `ok`.
    void That(bool ok, std::string message);
    /// Ok, or the first failure (kInvalidArgument).
    const util::Result<void>& result() const { return result_; }

  private:
    util::Result<void> result_;
};

/// The fields of an instance's state.
void CheckState(Checker& c, const InstanceState& s);
/// The fields of an outbox message.
void CheckOutbox(Checker& c, const OutboxMessage& m);

}  // namespace railwatch::store::sql
