#include "notify/payload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "util/rfc3339.hpp"

namespace railwatch::notify {
namespace {

using nlohmann::json;

json NullIfEmpty(const std::string& text) {
    return text.empty() ? json(nullptr) : json(text);
}

json EventObject(const core::NotifyEvent& e, bool with_email) {
    json links = json::array();
    for (const auto& link : e.links)
        links.push_back({{"title", link.title}, {"url", link.url}});
    json user = nullptr;
    if (e.user) {
        user = {{"id", e.user->id}, {"name", NullIfEmpty(e.user->name)}};
        if (with_email) user["email"] = NullIfEmpty(e.user->email);
    }
    return json{
        {"id", e.id},
        {"type", core::ToString(e.type)},
        {"title", core::TitleOf(e)},
        {"message", e.message},
        {"at", util::FormatRfc3339(e.at, util::TimePrecision::kNanos)},
        {"instance",
         {{"id", NullIfEmpty(e.instance_id)},
          {"project_name", NullIfEmpty(e.project_name)},
          {"service_id", NullIfEmpty(e.service_id)},
          {"environment_id", NullIfEmpty(e.environment_id)}}},
        {"deployment_id", NullIfEmpty(e.deployment_id)},
        {"error_class", e.error_class ? json(core::ToString(*e.error_class)) : json(nullptr)},
        {"evidence", NullIfEmpty(e.evidence)},
        {"next_step", NullIfEmpty(e.next_step)},
        {"links", std::move(links)},
        {"reminder", e.reminder},
        {"user", std::move(user)},
    };
}

std::string Text(const json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) return {};
    return it->get<std::string>();
}

}  // namespace

std::string EncodePayload(const OutboxPayload& payload) {
    json doc = EventObject(payload.event, true);
    // The stored title is the configured one; TitleOf (with "Reminder: ") is derived again on read.
    doc["title"] = NullIfEmpty(payload.event.title);
    return json{{"version", kPayloadVersion},
                {"route", core::ToString(payload.route)},
                {"recipient", payload.recipient},
                {"event", std::move(doc)}}
        .dump(-1, ' ', false, json::error_handler_t::replace);
}

util::Result<OutboxPayload> DecodePayload(std::string_view text) {
    try {
        const json doc = json::parse(text);
        const int version = doc.at("version").get<int>();
        if (version != kPayloadVersion) {
            return util::Fail(util::ErrorCode::kParse,
                              fmt::format("outbox payload version {} is not supported (this railwatch reads version "
                                          "{}); deliver it with a newer railwatch",
                                          version, kPayloadVersion));
        }
        OutboxPayload payload;
        const auto route = core::ParseNotifyRoute(doc.at("route").get<std::string>());
        if (!route) return util::Fail(util::ErrorCode::kParse, "outbox payload names an unknown route");
        payload.route = *route;
        payload.recipient = doc.at("recipient").get<std::string>();
        const json& e = doc.at("event");
        core::NotifyEvent& event = payload.event;
        event.id = e.at("id").get<std::string>();
        const auto type = core::ParseNotifyEventType(e.at("type").get<std::string>());
        if (!type) return util::Fail(util::ErrorCode::kParse, "outbox payload names an unknown event type");
        event.type = *type;
        auto at = util::ParseRfc3339(e.at("at").get<std::string>());
        if (!at) return util::Fail(util::ErrorCode::kParse, "outbox payload: " + at.error().message);
        event.at = *at;
        const json& instance = e.at("instance");
        event.instance_id = Text(instance, "id");
        event.project_name = Text(instance, "project_name");
        event.service_id = Text(instance, "service_id");
        event.environment_id = Text(instance, "environment_id");
        event.deployment_id = Text(e, "deployment_id");
        if (const std::string error_class = Text(e, "error_class"); !error_class.empty()) {
            event.error_class = core::ParseErrorClass(error_class);
            if (!event.error_class) return util::Fail(util::ErrorCode::kParse, "outbox payload: unknown error class");
        }
        event.title = Text(e, "title");
        event.message = Text(e, "message");
        event.evidence = Text(e, "evidence");
        event.next_step = Text(e, "next_step");
        for (const json& link : e.at("links"))
            event.links.push_back(core::NotifyLink{Text(link, "title"), Text(link, "url")});
        event.reminder = e.value("reminder", 0);
        if (const auto user = e.find("user"); user != e.end() && !user->is_null()) {
            event.user = core::NotifyUser{Text(*user, "id"), Text(*user, "email"), Text(*user, "name")};
        }
        return payload;
    } catch (const json::exception& error) {
        return util::Fail(util::ErrorCode::kParse,
                          fmt::format("the outbox payload is not valid notification JSON ({})", error.what()));
    }
}

std::vector<std::pair<std::string, std::string>> EventFacts(const core::NotifyEvent& event) {
    std::vector<std::pair<std::string, std::string>> facts;
    const auto add = [&](const char* label, const std::string& value) {
        if (!value.empty()) facts.emplace_back(label, value);
    };
    add("Project", event.project_name);
    add("Service", event.service_id);
    add("Environment", event.environment_id);
    add("Instance", event.instance_id);
    add("Deployment", event.deployment_id);
    if (event.error_class) add("Error class", std::string(core::ToString(*event.error_class)));
    if (event.reminder > 0) add("Reminder", std::to_string(event.reminder));
    return facts;
}

std::string TruncateText(std::string_view text, std::size_t max_bytes) {
    static constexpr std::string_view kEllipsis = "\u2026";
    if (text.size() <= max_bytes) return std::string(text);
    if (max_bytes < kEllipsis.size()) return core::Utf8Prefix(text, max_bytes);
    return core::Utf8Prefix(text, max_bytes - kEllipsis.size()) + std::string(kEllipsis);
}

std::string CleanText(std::string_view text, std::size_t max_bytes) {
    std::string out;
    out.reserve(std::min(text.size(), max_bytes + 8));
    std::size_t i = 0;
    while (i < text.size() && out.size() <= max_bytes) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            out += (b < 0x20 || b == 0x7f) ? ' ' : static_cast<char>(b);
            ++i;
            continue;
        }
        // Length of the sequence from its lead byte; reject overlong leads, surrogates and > U+10FFFF.
        std::size_t length = 0;
        if (b >= 0xC2 && b <= 0xDF) {
            length = 2;
        } else if (b >= 0xE0 && b <= 0xEF) {
            length = 3;
        } else if (b >= 0xF0 && b <= 0xF4) {
            length = 4;
        }
        bool valid = length != 0 && i + length <= text.size();
        for (std::size_t k = 1; valid && k < length; ++k) {
            valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
        }
        if (valid && length >= 3) {
            const auto b1 = static_cast<unsigned char>(text[i + 1]);
            if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 >= 0xA0) || (b == 0xF0 && b1 < 0x90) ||
                (b == 0xF4 && b1 >= 0x90)) {
                valid = false;
            }
        }
        if (valid) {
            out.append(text.substr(i, length));
            i += length;
        } else {
            out += '?';
            ++i;
        }
    }
    return TruncateText(out, max_bytes);
}

std::string EventDataJson(const core::NotifyEvent& event) {
    return EventObject(event, false).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace railwatch::notify
