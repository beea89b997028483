#pragma once

#include <string>
#include <vector>

#include "store/model.hpp"
#include "util/result.hpp"

namespace railwatch::store {

/// The in-app inbox: notifications a user reads in the dashboard.
///
/// Thread-safety: every method from any thread and process at once. Errors: kInvalidArgument for
/// bad input before anything is written; kNotFound for an unknown user or notification;
/// kUnavailable / kIo when the database cannot be reached. A failed call changes nothing.
class Inbox {
  public:
    virtual ~Inbox() = default;

    /// Idempotent: returns false (and changes nothing) when a notification with this id exists.
    virtual util::Result<bool> AddNotification(const Notification& notification) = 0;
    /// Newest first, filtered by the query.
    virtual util::Result<std::vector<Notification>> ListNotifications(const NotificationQuery& query) = 0;
    /// Sets read_at once. Idempotent: later calls keep the first time.
    virtual util::Result<void> MarkNotificationRead(const std::string& id, Timestamp at) = 0;
};

}  // namespace railwatch::store
