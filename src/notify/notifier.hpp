#pragma once

#include <memory>
#include <vector>

#include "net/http_transport.hpp"
#include "notify/config.hpp"
#include "notify/dispatcher.hpp"
#include "notify/email_channel.hpp"
#include "notify/in_app_channel.hpp"
#include "notify/mail_transport.hpp"
#include "notify/outbox_store.hpp"
#include "notify/planner.hpp"
#include "notify/reminders.hpp"
#include "notify/webhook_channel.hpp"
#include "util/clock.hpp"

/// The notifier as one object for the composition root: from a NotifyConfig it builds the planner,
/// the channels that are configured (email when [notify.email] has an SMTP URL, the webhook when
/// [notify.webhook] has a URL, the in-app inbox always), the dispatcher and, when
/// [notify.reminders] asks for them and a ReminderSource is given, the reminder sweep.
///
///   StoreAdapter adapter(store, store);       // store::Outbox, store::Inbox
///   auto notifier = Notifier::Create(app::NotifyConfigFrom(config), adapter, adapter, http, clock,
///                                    &adapter);                                    // app/
///   notifier->Start();                        // the dispatcher's threads
///   transition.outbox = notifier->planner().Plan(event, now).messages;          // monitor/
///   store.ApplyTransition(transition); notifier->Notify();
///   notifier->Enqueue(event);                 // an event outside a transition
///   notifier->Stop();                         // at shutdown, before the transport goes
namespace railwatch::notify {

/// Thread-safe like its parts. The stores, the HTTP transport and the clock must outlive it.
class Notifier {
  public:
    /// kInvalidArgument (ValidateNotifyConfig's message) when the configuration is unusable.
    /// `endpoints` (optional) keeps a webhook endpoint's 410 across restarts (WebhookChannel).
    /// `reminders` (optional, must outlive the notifier) is what the reminder sweep reads; without
    /// it no reminders are sent.
    static util::Result<std::unique_ptr<Notifier>> Create(const NotifyConfig& config, OutboxStore& outbox,
                                                          InboxStore& inbox, net::HttpTransport& http,
                                                          const util::Clock& clock, EndpointStore* endpoints = nullptr,
                                                          ReminderSource* reminders = nullptr);
    /// Stops the dispatcher.
    ~Notifier();

    Notifier(const Notifier&) = delete;
    Notifier& operator=(const Notifier&) = delete;

    /// The planner producers use to turn events into outbox rows (for Transition.outbox).
    const OutboxPlanner& planner() const { return planner_; }
    /// The dispatcher (Stats, SetListener before Start, RunOnce in tools).
    Dispatcher& dispatcher() { return *dispatcher_; }
    /// The reminder sweep; nullptr when reminders are off or no ReminderSource was given.
    ReminderSweep* reminders() { return reminders_.get(); }

    /// Plans `event` now, stores its rows (a dedup key already stored is skipped) and wakes the
    /// dispatcher. Returns how many rows were new.
    util::Result<int> Enqueue(const core::NotifyEvent& event);

    /// The endpoint store no longer holds endpoint `key` disabled: the webhook channel, when `key`
    /// is its endpoint, sends again (WebhookChannel::Enable). Other keys are ignored.
    void EndpointEnabled(const std::string& key);

    /// Dispatcher::Start / Stop / Notify; Start and Stop also start and stop the reminder sweep
    /// (which wakes the dispatcher when it stored reminders).
    void Start();
    void Stop();
    void Notify();

  private:
    Notifier(const NotifyConfig& config, OutboxStore& outbox, const util::Clock& clock);

    OutboxPlanner planner_;
    OutboxStore& outbox_;
    const util::Clock& clock_;
    std::unique_ptr<CurlMailTransport> mail_;
    std::unique_ptr<EmailChannel> email_;
    std::unique_ptr<WebhookChannel> webhook_;
    std::unique_ptr<InAppChannel> in_app_;
    std::unique_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<ReminderSweep> reminders_;
};

/// The dispatcher options a NotifyConfig asks for ([notify.dispatch], [notify.retry]).
DispatcherOptions DispatcherOptionsFrom(const NotifyConfig& config);

}  // namespace railwatch::notify
