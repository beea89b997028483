#include "notify/webhook_format.hpp"

#include <nlohmann/json.hpp>

#include "notify/payload.hpp"
#include "util/json.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::notify {
namespace {

using nlohmann::json;

// Limits of the receiving services (Slack Block Kit, Discord embeds).
constexpr std::size_t kSlackHeaderBytes = 150;
constexpr std::size_t kSlackTextBytes = 3000;
constexpr std::size_t kSlackFallbackBytes = 3000;
constexpr std::size_t kSlackFieldBytes = 2000;
// Discord caps an embed at 6,000 characters in total (and 25 fields); these shares keep the
// worst case (title + description + 7 facts + evidence + next step + 3 links) under it.
constexpr std::size_t kDiscordContentBytes = 2000;
constexpr std::size_t kDiscordTitleBytes = 256;
constexpr std::size_t kDiscordDescriptionBytes = 1500;
constexpr std::size_t kDiscordFieldNameBytes = 40;
constexpr std::size_t kDiscordFactBytes = 200;
constexpr std::size_t kDiscordEvidenceBytes = 1000;
constexpr std::size_t kDiscordNextStepBytes = 500;
constexpr std::size_t kDiscordLinkBytes = 300;
constexpr std::size_t kDiscordMaxLinks = 3;
constexpr int kDiscordProblemColor = 0xD93F3F;
constexpr int kDiscordResolvedColor = 0x2EA043;

std::string Dump(const json& doc) {
    return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Slack mrkdwn: &, < and > are control characters (links, mentions such as <!channel>).
std::string SlackEscape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string NoCodeFence(std::string text) {
    for (std::size_t at = text.find("```"); at != std::string::npos; at = text.find("```", at))
        text.replace(at, 3, "'''");
    return text;
}

std::string Standard(const core::NotifyEvent& event) {
    // Assembled around EventDataJson rather than parsing it back into a tree: this runs once per
    // delivery.
    std::string body = "{\"type\":";
    util::AppendJsonString(body, core::ToString(event.type));
    body += ",\"timestamp\":";
    util::AppendJsonString(body, util::FormatRfc3339(event.at, util::TimePrecision::kMillis));
    body += ",\"data\":";
    body += EventDataJson(event);
    body += '}';
    return body;
}

std::string Slack(const core::NotifyEvent& event) {
    const std::string title = core::TitleOf(event);
    json blocks = json::array();
    blocks.push_back(
        {{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", TruncateText(title, kSlackHeaderBytes)}}}});
    if (!event.message.empty()) {
        blocks.push_back(
            {{"type", "section"},
             {"text", {{"type", "mrkdwn"}, {"text", TruncateText(SlackEscape(event.message), kSlackTextBytes)}}}});
    }
    json fields = json::array();
    for (const auto& [label, value] : EventFacts(event)) {
        fields.push_back(
            {{"type", "mrkdwn"}, {"text", TruncateText("*" + label + "*\n" + SlackEscape(value), kSlackFieldBytes)}});
    }
    if (!fields.empty()) blocks.push_back({{"type", "section"}, {"fields", std::move(fields)}});
    if (!event.evidence.empty()) {
        const std::string text =
            "*Evidence*\n```" + TruncateText(NoCodeFence(SlackEscape(event.evidence)), kSlackTextBytes - 32) + "```";
        blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", text}}}});
    }
    if (!event.next_step.empty()) {
        blocks.push_back({{"type", "section"},
                          {"text",
                           {{"type", "mrkdwn"},
                            {"text", TruncateText("*Next step*\n" + SlackEscape(event.next_step), kSlackTextBytes)}}}});
    }
    if (!event.links.empty()) {
        std::string links;
        for (const auto& link : event.links) {
            if (!links.empty()) links += "  \u00b7  ";
            links += "<" + SlackEscape(link.url) + "|" + SlackEscape(link.title.empty() ? link.url : link.title) + ">";
        }
        blocks.push_back(
            {{"type", "context"},
             {"elements", json::array({{{"type", "mrkdwn"}, {"text", TruncateText(links, kSlackTextBytes)}}})}});
    }
    std::string fallback = title;
    if (!event.message.empty()) fallback += ": " + event.message;
    return Dump(
        json{{"text", TruncateText(SlackEscape(fallback), kSlackFallbackBytes)}, {"blocks", std::move(blocks)}});
}

std::string Discord(const core::NotifyEvent& event) {
    const std::string title = core::TitleOf(event);
    json fields = json::array();
    for (const auto& [label, value] : EventFacts(event)) {
        fields.push_back({{"name", TruncateText(label, kDiscordFieldNameBytes)},
                          {"value", TruncateText(value, kDiscordFactBytes)},
                          {"inline", true}});
    }
    if (!event.evidence.empty()) {
        fields.push_back({{"name", "Evidence"},
                          {"value", "```" + TruncateText(NoCodeFence(event.evidence), kDiscordEvidenceBytes) + "```"},
                          {"inline", false}});
    }
    if (!event.next_step.empty()) {
        fields.push_back({{"name", "Next step"},
                          {"value", TruncateText(event.next_step, kDiscordNextStepBytes)},
                          {"inline", false}});
    }
    for (std::size_t i = 0; i < event.links.size() && i < kDiscordMaxLinks; ++i) {
        const auto& link = event.links[i];
        fields.push_back({{"name", TruncateText(link.title.empty() ? "Link" : link.title, kDiscordFieldNameBytes)},
                          {"value", TruncateText(link.url, kDiscordLinkBytes)},
                          {"inline", false}});
    }
    json embed = {{"title", TruncateText(title, kDiscordTitleBytes)},
                  {"description", TruncateText(event.message, kDiscordDescriptionBytes)},
                  {"color", core::IsProblem(event.type) ? kDiscordProblemColor : kDiscordResolvedColor},
                  {"timestamp", util::FormatRfc3339(event.at, util::TimePrecision::kMillis)},
                  {"fields", std::move(fields)}};
    if (!event.links.empty()) embed["url"] = event.links.front().url;
    return Dump(json{{"content", TruncateText("**" + title + "**", kDiscordContentBytes)},
                     {"embeds", json::array({std::move(embed)})},
                     {"allowed_mentions", {{"parse", json::array()}}}});
}

}  // namespace

std::string RenderWebhookBody(const core::NotifyEvent& event, WebhookFormat format) {
    switch (format) {
        case WebhookFormat::kSlack:
            return Slack(event);
        case WebhookFormat::kDiscord:
            return Discord(event);
        case WebhookFormat::kStandard:
            break;
    }
    return Standard(event);
}

}  // namespace railwatch::notify
