#pragma once

#include <string>
#include <string_view>

/// Identifiers railwatch makes itself (instances, users, notifications, outbox rows).
namespace railwatch::util {

/// A random identifier: `prefix` + "_" + 20 lowercase base32 characters (100 bits of entropy)
/// drawn from a per-thread generator seeded by std::random_device. Thread-safe. Not a secret:
/// do not use for tokens.
std::string NewId(std::string_view prefix);

}  // namespace railwatch::util
