#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "notify/channel.hpp"
#include "notify/config.hpp"

/// The outgoing-mail seam: the email channel hands finished messages to a MailTransport. The real
/// one speaks SMTP through libcurl (its own easy handles, not net::HttpTransport); unit tests use
/// a fake (tests/unit/notify).
namespace railwatch::notify {

/// One message and its envelope.
struct MailEnvelope {
    std::string from;                     ///< MAIL FROM
    std::vector<std::string> recipients;  ///< RCPT TO, one or more
    std::string data;                     ///< the RFC 5322 message, CRLF line ends
};

/// Sends one message per call. Implementations are thread-safe. Send blocks until the server
/// accepted (250 after DATA) or refused the message, or the timeout passed.
class MailTransport {
  public:
    virtual ~MailTransport() = default;  ///< Sends nothing more.
    /// accepted only after the server's 250 for the message; otherwise a retryable or permanent
    /// failure (core::ClassifySmtpReply) whose detail never contains the password.
    virtual DeliveryOutcome Send(const MailEnvelope& envelope) = 0;
};

/// SMTP over libcurl: `smtp://` with STARTTLS required (CURLUSESSL_ALL: a server whose EHLO
/// offers no STARTTLS gets no AUTH and no message) or, for loopback relays only, plain; or
/// `smtps://` (implicit TLS). Certificates are always verified (the system store, or ca_file).
/// Keeps a pool of idle easy handles so that connections are reused between messages.
/// Thread-safe; the destructor frees every handle (no Send may be running).
class CurlMailTransport final : public MailTransport {
  public:
    /// kInvalidArgument when the URL is not smtp:// or smtps://, or starttls = "off" names a host
    /// that is not loopback (ValidateNotifyConfig gives the same answer).
    static util::Result<std::unique_ptr<CurlMailTransport>> Create(EmailConfig config);
    ~CurlMailTransport() override;

    CurlMailTransport(const CurlMailTransport&) = delete;
    CurlMailTransport& operator=(const CurlMailTransport&) = delete;

    DeliveryOutcome Send(const MailEnvelope& envelope) override;

  private:
    explicit CurlMailTransport(EmailConfig config);
    void* TakeHandle();
    void GiveBack(void* handle);

    EmailConfig config_;
    std::string redacted_url_;
    std::mutex mutex_;
    std::vector<void*> idle_;  // CURL*, guarded by mutex_
};

}  // namespace railwatch::notify
