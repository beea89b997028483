#include "notify/email_message.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "notify/payload.hpp"
#include "notify/signing.hpp"
#include "util/base64.hpp"
#include "util/markup.hpp"

namespace railwatch::notify {
namespace {

// The bodies' templates. {{facts}}, {{details}} and {{links}} are blocks rendered by the code
// below (lists of varying length); every other value is one escaped field.
constexpr std::string_view kTextTemplate =
    "{{title}}\n"
    "\n"
    "{{message}}\n"
    "\n"
    "{{facts}}"
    "{{details}}"
    "{{links}}"
    "\n"
    "-- \n"
    "Sent by railwatch (event {{event_id}}, {{at}}).\n";

constexpr std::string_view kHtmlTemplate =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>{{title}}</title></head>\n"
    "<body style=\"font-family: sans-serif; color: #1f2328;\">\n"
    "<h2 style=\"color: {{color}};\">{{title}}</h2>\n"
    "<p>{{message}}</p>\n"
    "{{facts}}"
    "{{details}}"
    "{{links}}"
    "<p style=\"color: #656d76; font-size: small;\">Sent by railwatch (event {{event_id}}, {{at}}).</p>\n"
    "</body></html>\n";

constexpr std::size_t kSubjectBytes = 200;
constexpr std::size_t kBase64LineChars = 76;
// Bytes of UTF-8 per encoded word: 45 bytes → 60 base64 characters + 12 of "=?UTF-8?B??=".
constexpr std::size_t kEncodedWordBytes = 45;

std::string FactsText(const core::NotifyEvent& event) {
    std::string out;
    for (const auto& [label, value] : EventFacts(event))
        out.append(label).append(": ").append(value).append("\n");
    return out;
}

std::string DetailsText(const core::NotifyEvent& event) {
    std::string out;
    if (!event.evidence.empty()) out += "\nEvidence:\n  " + event.evidence + "\n";
    if (!event.next_step.empty()) out += "\nNext step: " + event.next_step + "\n";
    return out;
}

std::string LinksText(const core::NotifyEvent& event) {
    if (event.links.empty()) return {};
    std::string out = "\n";
    for (const auto& link : event.links)
        out += (link.title.empty() ? std::string("Link") : link.title) + ": " + link.url + "\n";
    return out;
}

std::string FactsHtml(const core::NotifyEvent& event) {
    const auto facts = EventFacts(event);
    if (facts.empty()) return {};
    std::string out = "<table style=\"border-collapse: collapse;\">\n";
    for (const auto& [label, value] : facts) {
        out += "<tr><th style=\"text-align: left; padding-right: 1em;\">" + util::EscapeMarkup(label) + "</th><td>" +
               util::EscapeMarkup(value) + "</td></tr>\n";
    }
    return out + "</table>\n";
}

std::string DetailsHtml(const core::NotifyEvent& event) {
    std::string out;
    if (!event.evidence.empty()) {
        out += "<p><strong>Evidence</strong></p>\n<pre style=\"background: #f6f8fa; padding: 0.5em;\">" +
               util::EscapeMarkup(event.evidence) + "</pre>\n";
    }
    if (!event.next_step.empty())
        out += "<p><strong>Next step:</strong> " + util::EscapeMarkup(event.next_step) + "</p>\n";
    return out;
}

std::string LinksHtml(const core::NotifyEvent& event) {
    if (event.links.empty()) return {};
    std::string out = "<ul>\n";
    for (const auto& link : event.links) {
        out += "<li><a href=\"" + util::EscapeMarkup(link.url) + "\">" +
               util::EscapeMarkup(link.title.empty() ? link.url : link.title) + "</a></li>\n";
    }
    return out + "</ul>\n";
}

std::string Base64Lines(std::string_view bytes) {
    const std::string encoded = util::Base64Encode(bytes);
    std::string out;
    out.reserve(encoded.size() + encoded.size() / kBase64LineChars * 2 + 2);
    for (std::size_t at = 0; at < encoded.size(); at += kBase64LineChars) {
        out.append(encoded, at, kBase64LineChars);
        out += "\r\n";
    }
    return out;
}

// LF (or CRLF) line ends to CRLF, as SMTP requires.
std::string Crlf(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 40);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
        out += text[i];
    }
    return out;
}

std::string OneLine(std::string_view text) {
    return CleanText(text, kSubjectBytes * 2);
}

}  // namespace

std::string RenderTemplate(std::string_view tmpl, const std::map<std::string, std::string>& values) {
    std::string out;
    out.reserve(tmpl.size() * 2);
    std::size_t at = 0;
    while (at < tmpl.size()) {
        const auto open = tmpl.find("{{", at);
        if (open == std::string_view::npos) break;
        const auto close = tmpl.find("}}", open + 2);
        if (close == std::string_view::npos) break;
        out.append(tmpl.substr(at, open - at));
        const std::string name(tmpl.substr(open + 2, close - open - 2));
        if (const auto it = values.find(name); it != values.end()) out += it->second;
        at = close + 2;
    }
    out.append(tmpl.substr(std::min(at, tmpl.size())));
    return out;
}

EmailContent RenderEmail(const core::NotifyEvent& event) {
    const std::string title = core::TitleOf(event);
    const std::string& subject_object = !event.project_name.empty() ? event.project_name : event.instance_id;
    EmailContent content;
    content.subject =
        TruncateText(OneLine("[railwatch] " + title + (subject_object.empty() ? std::string() : ": " + subject_object)),
                     kSubjectBytes);
    const std::string at = FormatRfc5322Date(event.at);
    content.text = RenderTemplate(kTextTemplate, {{"title", title},
                                                  {"message", event.message},
                                                  {"facts", FactsText(event)},
                                                  {"details", DetailsText(event)},
                                                  {"links", LinksText(event)},
                                                  {"event_id", event.id},
                                                  {"at", at}});
    content.html = RenderTemplate(kHtmlTemplate, {{"title", util::EscapeMarkup(title)},
                                                  {"color", core::IsProblem(event.type) ? "#cf222e" : "#1a7f37"},
                                                  {"message", util::EscapeMarkup(event.message)},
                                                  {"facts", FactsHtml(event)},
                                                  {"details", DetailsHtml(event)},
                                                  {"links", LinksHtml(event)},
                                                  {"event_id", util::EscapeMarkup(event.id)},
                                                  {"at", util::EscapeMarkup(at)}});
    return content;
}

std::string MessageIdFor(std::string_view dedup_key, std::string_view from) {
    std::string_view domain = "railwatch.invalid";
    if (const auto at = from.rfind('@'); at != std::string_view::npos && at + 1 < from.size()) {
        domain = from.substr(at + 1);
    }
    return "<rw." + Sha256Hex(dedup_key).substr(0, 32) + "@" + std::string(domain) + ">";
}

std::string FormatRfc5322Date(core::Timestamp t) {
    static constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto days = std::chrono::floor<std::chrono::days>(t);
    const std::chrono::year_month_day ymd(days);
    const std::chrono::hh_mm_ss time(std::chrono::floor<std::chrono::seconds>(t - days));
    const std::chrono::weekday weekday(days);
    return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} +0000", kDays[weekday.c_encoding()],
                       static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                       static_cast<int>(ymd.year()), time.hours().count(), time.minutes().count(),
                       time.seconds().count());
}

std::string EncodeHeaderValue(std::string_view value) {
    std::string clean = CleanText(value, 998);
    const bool ascii =
        std::all_of(clean.begin(), clean.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) return clean;
    std::string out;
    std::size_t at = 0;
    while (at < clean.size()) {
        const std::string chunk = core::Utf8Prefix(std::string_view(clean).substr(at), kEncodedWordBytes);
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + util::Base64Encode(chunk) + "?=";
        at += chunk.empty() ? 1 : chunk.size();
    }
    return out;
}

std::string BuildMimeMessage(const EmailContent& content, std::string_view from, std::string_view to,
                             std::string_view message_id, core::Timestamp date, std::string_view event_type) {
    const std::string boundary = "=_railwatch_" + Sha256Hex(message_id).substr(0, 24);
    std::string out;
    out.reserve(content.text.size() * 2 + content.html.size() * 2 + 1024);
    out += "From: " + CleanText(from, 254) + "\r\n";
    out += "To: " + CleanText(to, 254) + "\r\n";
    out += "Subject: " + EncodeHeaderValue(content.subject) + "\r\n";
    out += "Date: " + FormatRfc5322Date(date) + "\r\n";
    out += "Message-ID: " + CleanText(message_id, 300) + "\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Auto-Submitted: auto-generated\r\n";
    out += "X-Railwatch-Event: " + CleanText(event_type, 64) + "\r\n";
    out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n";
    out += "\r\n";
    out += "This is a multipart message in MIME format.\r\n";
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    out += Base64Lines(Crlf(content.text));
    out += "\r\n--" + boundary + "\r\n";
    out += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    out += Base64Lines(Crlf(content.html));
    out += "\r\n--" + boundary + "--\r\n";
    return out;
}

}  // namespace railwatch::notify
