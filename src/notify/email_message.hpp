#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/notify_event.hpp"
#include "core/time.hpp"

/// Notification emails: subject, plain-text and HTML bodies rendered from templates, assembled
/// into one RFC 5322 message (multipart/alternative, UTF-8, base64 bodies). Pure and thread-safe.
namespace railwatch::notify {

/// The rendered parts of one email.
struct EmailContent {
    std::string subject;  ///< one line, UTF-8 (encoded as RFC 2047 words when not ASCII)
    std::string text;     ///< text/plain body
    std::string html;     ///< text/html body
};

/// Renders the subject "[railwatch] <title>: <project or instance>", and both bodies from the
/// templates kTextTemplate / kHtmlTemplate (every value HTML-escaped in the HTML one).
EmailContent RenderEmail(const core::NotifyEvent& event);

/// Replaces every "{{name}}" in `tmpl` with values.at(name) (unknown names: empty). Values are
/// inserted as they are; escape them first where the output language needs it.
std::string RenderTemplate(std::string_view tmpl, const std::map<std::string, std::string>& values);

/// The Message-ID of a delivery, "<rw.<32 hex of SHA-256(dedup_key)>@<domain of from>>": every
/// retry of the same outbox row carries the same id, so a receiver (or a person) recognises it.
std::string MessageIdFor(std::string_view dedup_key, std::string_view from);

/// An RFC 5322 date in UTC: "Thu, 01 Jan 2026 00:00:00 +0000".
std::string FormatRfc5322Date(core::Timestamp t);

/// A header value as RFC 2047 encoded words ("=?UTF-8?B?…?=", folded) when it holds anything
/// but printable ASCII; otherwise unchanged. CR and LF never survive (no header injection).
std::string EncodeHeaderValue(std::string_view value);

/// The whole message, CRLF line ends: From, To, Subject, Date, Message-ID, MIME-Version,
/// Auto-Submitted: auto-generated, X-Railwatch-Event, then multipart/alternative with the text
/// and HTML parts, each base64 in lines of 76. `from` and `to` must be plausible addresses.
std::string BuildMimeMessage(const EmailContent& content, std::string_view from, std::string_view to,
                             std::string_view message_id, core::Timestamp date, std::string_view event_type);

}  // namespace railwatch::notify
