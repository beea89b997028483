#pragma once

#include "app/config.hpp"
#include "notify/config.hpp"

/// The bridge from the app's configuration ([notify.*] of the TOML file and the secrets read from
/// the environment) to the notifier's plain settings, for whoever builds the notifier (`serve`):
///
///   auto notify_config = app::NotifyConfigFrom(config);
///   notify::StoreAdapter adapter(store, store);
///   auto notifier = notify::Notifier::Create(notify_config, adapter, adapter, http, clock, &adapter);
///   (*notifier)->Start();  ...  (*notifier)->Stop();
namespace railwatch::app {

/// The notifier's settings from a loaded Config. Pure: no I/O. The webhook secret variable may
/// hold two secrets separated by spaces (a rotation); each becomes one signing secret.
/// [notify.routes] replaces the default routes of the types it lists; [[notify.silences]],
/// [notify.retry] schedule_seconds (empty: Standard Webhooks' schedule) and [notify.reminders]
/// types (empty: every problem type) map one to one. Names were checked by LoadConfig; in a
/// Config built in code, an unknown type or route name is skipped. notify::ValidateNotifyConfig
/// checks the result.
notify::NotifyConfig NotifyConfigFrom(const Config& config);

}  // namespace railwatch::app
