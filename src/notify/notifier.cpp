#include "notify/notifier.hpp"

namespace railwatch::notify {

DispatcherOptions DispatcherOptionsFrom(const NotifyConfig& config) {
    DispatcherOptions options;
    options.concurrency = config.dispatch.concurrency;
    options.poll_interval = config.dispatch.poll_interval;
    options.lease = config.dispatch.lease;
    options.retry = config.retry;
    return options;
}

Notifier::Notifier(const NotifyConfig& config, OutboxStore& outbox, const util::Clock& clock)
    : planner_(config), outbox_(outbox), clock_(clock) {}

util::Result<std::unique_ptr<Notifier>> Notifier::Create(const NotifyConfig& config, OutboxStore& outbox,
                                                         InboxStore& inbox, net::HttpTransport& http,
                                                         const util::Clock& clock, EndpointStore* endpoints,
                                                         ReminderSource* reminders) {
    if (auto valid = ValidateNotifyConfig(config); !valid) return tl::unexpected(valid.error());
    std::unique_ptr<Notifier> notifier(new Notifier(config, outbox, clock));
    std::vector<Channel*> channels;
    if (config.email.enabled()) {
        auto mail = CurlMailTransport::Create(config.email);
        if (!mail) return tl::unexpected(mail.error());
        notifier->mail_ = std::move(*mail);
        notifier->email_ = std::make_unique<EmailChannel>(config.email, *notifier->mail_);
        channels.push_back(notifier->email_.get());
    }
    if (config.webhook.enabled()) {
        auto webhook = WebhookChannel::Create(config.webhook, http, clock, endpoints);
        if (!webhook) return tl::unexpected(webhook.error());
        notifier->webhook_ = std::move(*webhook);
        channels.push_back(notifier->webhook_.get());
    }
    notifier->in_app_ = std::make_unique<InAppChannel>(inbox);
    channels.push_back(notifier->in_app_.get());
    notifier->dispatcher_ = std::make_unique<Dispatcher>(outbox, channels, clock, DispatcherOptionsFrom(config));
    if (reminders != nullptr) {
        auto sweep = std::make_unique<ReminderSweep>(notifier->planner_, config.reminders, *reminders, outbox, clock);
        if (sweep->enabled()) notifier->reminders_ = std::move(sweep);
    }
    return notifier;
}

Notifier::~Notifier() {
    Stop();
}

util::Result<int> Notifier::Enqueue(const core::NotifyEvent& event) {
    const PlannedOutbox planned = planner_.Plan(event, clock_.Now());
    if (planned.messages.empty()) return 0;
    auto added = outbox_.EnqueueOutbox(planned.messages);
    if (added && *added > 0) dispatcher_->Notify();
    return added;
}

void Notifier::EndpointEnabled(const std::string& key) {
    if (webhook_ && webhook_->endpoint_key() == key) webhook_->Enable();
}

void Notifier::Start() {
    dispatcher_->Start();
    if (reminders_) reminders_->Start([this] { dispatcher_->Notify(); });
}

void Notifier::Stop() {
    if (reminders_) reminders_->Stop();
    if (dispatcher_) dispatcher_->Stop();
}

void Notifier::Notify() {
    dispatcher_->Notify();
}

}  // namespace railwatch::notify
