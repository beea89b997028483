#pragma once

#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// The people notifications go to.
///
/// Thread-safety: every method from any thread at once. Errors: kInvalidArgument for bad text
/// (not UTF-8, NUL, too long, empty id or email) before anything is written; kUnavailable / kIo
/// when the database cannot be reached. A failed call changes nothing.
class Users {
  public:
    virtual ~Users() = default;

    /// Adds a user. Not idempotent: kConflict when the id or the email exists already.
    virtual util::Result<void> CreateUser(const User& user) = 0;
    /// kNotFound for an unknown id.
    virtual util::Result<User> GetUser(const std::string& id) = 0;
    /// Every user, oldest first (created_at, then id).
    virtual util::Result<std::vector<User>> ListUsers() = 0;
};

}  // namespace railwatch::store
