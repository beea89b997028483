#include "notify/email_channel.hpp"

#include <fmt/format.h>

#include "notify/email_message.hpp"
#include "notify/payload.hpp"

namespace railwatch::notify {

EmailChannel::EmailChannel(EmailConfig config, MailTransport& transport)
    : config_(std::move(config)), transport_(transport) {}

std::string_view EmailChannel::name() const {
    return core::kEmailChannel;
}

DeliveryOutcome EmailChannel::Deliver(const store::OutboxRow& row) {
    auto payload = DecodePayload(row.message.payload);
    if (!payload) return DeliveryOutcome::Permanent(CleanText(payload.error().message, 1000));
    if (!IsPlausibleEmail(payload->recipient)) {
        return DeliveryOutcome::Permanent(
            fmt::format("\"{}\" is not an email address; fix the user's email or [notify.admin] emails",
                        CleanText(payload->recipient, 254)));
    }
    MailEnvelope envelope;
    envelope.from = config_.from;
    envelope.recipients = {payload->recipient};
    envelope.data = BuildMimeMessage(RenderEmail(payload->event), config_.from, payload->recipient,
                                     MessageIdFor(row.message.dedup_key, config_.from), row.message.created_at,
                                     core::ToString(payload->event.type));
    return transport_.Send(envelope);
}

}  // namespace railwatch::notify
