#pragma once

#include <string>

#include "notify/channel.hpp"
#include "notify/config.hpp"
#include "notify/mail_transport.hpp"

/// The email channel: renders the row's event into a multipart/alternative message (text + HTML,
/// notify/email_message.hpp) addressed to the row's recipient and hands it to a MailTransport.
/// The Message-ID derives from the dedup key and the Date from the row's creation, so every retry
/// sends the same message.
namespace railwatch::notify {

/// Thread-safe. The transport must outlive the channel.
class EmailChannel final : public Channel {
  public:
    EmailChannel(EmailConfig config, MailTransport& transport);

    std::string_view name() const override;
    /// Permanent for an unreadable payload or a recipient that is not an address; otherwise what
    /// the transport says.
    DeliveryOutcome Deliver(const store::OutboxRow& row) override;
    core::Duration MaxDeliveryTime() const override { return config_.timeout; }

  private:
    EmailConfig config_;
    MailTransport& transport_;
};

}  // namespace railwatch::notify
