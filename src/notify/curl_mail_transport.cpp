#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "net/http_transport.hpp"
#include "notify/mail_transport.hpp"
#include "notify/payload.hpp"

namespace railwatch::notify {
namespace {

constexpr std::size_t kMaxDetailBytes = 1000;
constexpr std::size_t kMaxIdleHandles = 64;

void GlobalInitOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("libcurl could not be initialised (curl_global_init failed)");
        }
    });
}

long ClampMillis(core::Duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return static_cast<long>(std::clamp<long long>(ms, 1, 24LL * 3600 * 1000));
}

struct Upload {
    std::string_view data;
    std::size_t offset = 0;

    static size_t Read(char* buffer, size_t size, size_t count, void* user) {
        auto* self = static_cast<Upload*>(user);
        const std::size_t n = std::min(size * count, self->data.size() - self->offset);
        std::memcpy(buffer, self->data.data() + self->offset, n);
        self->offset += n;
        return n;
    }
};

bool IsTlsError(CURLcode code) {
    switch (code) {
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
            return true;
        default:
            return false;
    }
}

}  // namespace

util::Result<std::unique_ptr<CurlMailTransport>> CurlMailTransport::Create(EmailConfig config) {
    const auto url = net::ParseUrl(config.smtp_url);
    if (!url || (url->scheme != "smtp" && url->scheme != "smtps")) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          "[notify.email] smtp_url must look like smtp://host:587 (STARTTLS) or smtps://host:465");
    }
    if (!url->userinfo.empty()) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          "[notify.email] smtp_url must not contain a user name or password");
    }
    if (config.starttls == StartTls::kOff && url->scheme == "smtp" && !net::IsLoopbackHost(url->host)) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("[notify.email] starttls = \"off\" is refused for {}: it is allowed only for a "
                                      "relay on a loopback address",
                                      RedactUrl(config.smtp_url)));
    }
    GlobalInitOnce();
    return std::unique_ptr<CurlMailTransport>(new CurlMailTransport(std::move(config)));
}

CurlMailTransport::CurlMailTransport(EmailConfig config)
    : config_(std::move(config)), redacted_url_(RedactUrl(config_.smtp_url)) {}

CurlMailTransport::~CurlMailTransport() {
    for (void* handle : idle_)
        curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* CurlMailTransport::TakeHandle() {
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            void* handle = idle_.back();
            idle_.pop_back();
            return handle;
        }
    }
    return curl_easy_init();
}

void CurlMailTransport::GiveBack(void* handle) {
    {
        std::lock_guard lock(mutex_);
        if (idle_.size() < kMaxIdleHandles) {
            idle_.push_back(handle);
            return;
        }
    }
    curl_easy_cleanup(static_cast<CURL*>(handle));
}

DeliveryOutcome CurlMailTransport::Send(const MailEnvelope& envelope) {
    if (envelope.recipients.empty()) return DeliveryOutcome::Permanent("the message has no recipient");
    CURL* easy = static_cast<CURL*>(TakeHandle());
    if (easy == nullptr) return DeliveryOutcome::Retry("libcurl could not create a handle (out of memory?)");

    char error_buffer[CURL_ERROR_SIZE] = {};
    Upload upload{envelope.data, 0};
    const std::string mail_from = "<" + envelope.from + ">";
    curl_slist* recipients = nullptr;
    for (const std::string& to : envelope.recipients) {
        if (curl_slist* next = curl_slist_append(recipients, ("<" + to + ">").c_str()); next != nullptr) {
            recipients = next;
        }
    }

    // A pooled handle keeps its connection; every option is set again so nothing leaks between
    // messages (curl_easy_reset keeps the connection cache).
    curl_easy_reset(easy);
    curl_easy_setopt(easy, CURLOPT_URL, config_.smtp_url.c_str());
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &Upload::Read);
    curl_easy_setopt(easy, CURLOPT_READDATA, &upload);
    curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(envelope.data.size()));
    curl_easy_setopt(easy, CURLOPT_USE_SSL,
                     static_cast<long>(config_.starttls == StartTls::kRequired ? CURLUSESSL_ALL : CURLUSESSL_NONE));
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!config_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (!config_.username.empty()) {
        curl_easy_setopt(easy, CURLOPT_USERNAME, config_.username.c_str());
        curl_easy_setopt(easy, CURLOPT_PASSWORD, config_.password.c_str());
    }
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ClampMillis(config_.timeout));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, ClampMillis(std::min(config_.timeout, core::Seconds(10))));
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);

    const CURLcode code = curl_easy_perform(easy);
    long reply = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply);
    // The buffers set above die with this call: unset them before the handle is pooled.
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, nullptr);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, nullptr);
    curl_slist_free_all(recipients);
    GiveBack(easy);

    const std::string detail = error_buffer[0] != '\0' ? std::string(error_buffer) : curl_easy_strerror(code);
    if (code == CURLE_OK) {
        const core::AnswerVerdict verdict = core::ClassifySmtpReply(reply == 0 ? 250 : static_cast<int>(reply));
        return DeliveryOutcome::Accepted(fmt::format("{} from {}", verdict.reason, redacted_url_));
    }
    if (code == CURLE_USE_SSL_FAILED) {
        return DeliveryOutcome::Retry(fmt::format(
            "the SMTP server {} does not offer STARTTLS, so railwatch sent neither credentials nor the message "
            "(starttls = \"required\"). Enable STARTTLS on the server or use an smtps:// URL; for a relay on this "
            "machine only, starttls = \"off\" is allowed",
            redacted_url_));
    }
    if (IsTlsError(code)) {
        return DeliveryOutcome::Retry(CleanText(
            fmt::format("TLS with the SMTP server {} failed: {}. Check that its certificate is valid for that host "
                        "name and issued by a CA in the system store or in [notify.email] ca_file",
                        redacted_url_, detail),
            kMaxDetailBytes));
    }
    if (code == CURLE_LOGIN_DENIED) {
        return DeliveryOutcome::Retry(CleanText(
            fmt::format("the SMTP server {} rejected the login ({}): check [notify.email] username and the password "
                        "in the variable password_env names",
                        redacted_url_, detail),
            kMaxDetailBytes));
    }
    if (reply >= 400) {
        const core::AnswerVerdict verdict = core::ClassifySmtpReply(static_cast<int>(reply));
        const std::string text =
            CleanText(fmt::format("{} from {}: {}", verdict.reason, redacted_url_, detail), kMaxDetailBytes);
        return verdict.verdict == core::DeliveryVerdict::kPermanent ? DeliveryOutcome::Permanent(text)
                                                                    : DeliveryOutcome::Retry(text);
    }
    return DeliveryOutcome::Retry(
        CleanText(fmt::format("sending to the SMTP server {} failed: {}", redacted_url_, detail), kMaxDetailBytes));
}

}  // namespace railwatch::notify
