#pragma once

#include "app/config.hpp"
#include "notify/config.hpp"

namespace railwatch::app {

/// The notifier's configuration from railwatch's ([notify.email], [notify.webhook],
/// [notify.admin]; everything else at the notifier's defaults). The secrets are copied in: keep
/// the result no longer than needed and never print it.
notify::NotifyConfig NotifyConfigFrom(const Config& config);

}  // namespace railwatch::app
