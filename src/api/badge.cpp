#include "api/badge.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

#include "core/deployment_status.hpp"
#include "util/markup.hpp"

namespace railwatch::api {
namespace {

constexpr std::string_view kGreen = "#2e9e44";
constexpr std::string_view kRed = "#d73a31";
constexpr std::string_view kAmber = "#c9820a";
constexpr std::string_view kGrey = "#7a7a7a";
constexpr std::string_view kLabelGrey = "#555555";

/// Roughly Verdana 11 px (what Shields badges use): most characters are 6–7 px wide.
int TextWidth(std::string_view text) {
    int width = 0;
    for (const char c : text) {
        if (c == 'i' || c == 'l' || c == 'I' || c == '.' || c == ',' || c == ' ' || c == '\'') {
            width += 4;
        } else if (c == 'm' || c == 'w' || c == 'M' || c == 'W') {
            width += 10;
        } else if (c >= 'A' && c <= 'Z') {
            width += 8;
        } else {
            width += 7;
        }
    }
    return width;
}

/// railwatch's own word for an instance status, for an instance whose Railway status is unknown.
std::string_view InstanceWord(core::InstanceStatus status) {
    switch (status) {
        case core::InstanceStatus::kInitializing:
            return "Initializing";
        case core::InstanceStatus::kDeploying:
            return "Deploying";
        case core::InstanceStatus::kRunning:
            return "Running";
        case core::InstanceStatus::kFailed:
            return "Failed";
        case core::InstanceStatus::kDeleted:
            return "Deleted";
    }
    return "Unknown";
}

}  // namespace

BadgeText BadgeFor(const store::InstanceState& state) {
    std::optional<core::DeploymentStatus> railway;
    if (state.deployment_status) railway = core::ParseDeploymentStatus(*state.deployment_status);
    if (railway) {
        std::string_view colour = kGrey;
        if (core::IsSucceeded(*railway)) {
            colour = kGreen;
        } else if (core::IsFailed(*railway)) {
            colour = kRed;
        } else if (core::IsInProgress(*railway)) {
            colour = kAmber;
        }
        return {std::string(core::StatusLabel(*railway)), std::string(colour)};
    }
    switch (state.status) {
        case core::InstanceStatus::kRunning:
            return {std::string(InstanceWord(state.status)), std::string(kGreen)};
        case core::InstanceStatus::kFailed:
            return {std::string(InstanceWord(state.status)), std::string(kRed)};
        case core::InstanceStatus::kInitializing:
        case core::InstanceStatus::kDeploying:
            return {std::string(InstanceWord(state.status)), std::string(kAmber)};
        case core::InstanceStatus::kDeleted:
            break;
    }
    return {std::string(InstanceWord(state.status)), std::string(kGrey)};
}

std::string BadgeSvg(std::string_view label, std::string_view message, std::string_view colour) {
    const int left = TextWidth(label) + 12;
    const int right = TextWidth(message) + 12;
    const int width = left + right;
    const std::string l = util::EscapeMarkup(label);
    const std::string m = util::EscapeMarkup(message);
    const std::string c = util::EscapeMarkup(colour);
    // Text is drawn at 10x scale (as Shields does) for crisper sub-pixel placement.
    return fmt::format(
        R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{l}: {m}">)svg"
        R"svg(<title>{l}: {m}</title>)svg"
        R"svg(<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>)svg"
        R"svg(<stop offset="1" stop-opacity=".1"/></linearGradient>)svg"
        R"svg(<clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath>)svg"
        R"svg(<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="{lc}"/>)svg"
        R"svg(<rect x="{lw}" width="{rw}" height="20" fill="{c}"/><rect width="{w}" height="20" fill="url(#s)"/></g>)svg"
        R"svg(<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110">)svg"
        R"svg(<text x="{lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)">{l}</text>)svg"
        R"svg(<text x="{lx}" y="140" transform="scale(.1)">{l}</text>)svg"
        R"svg(<text x="{rx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)">{m}</text>)svg"
        R"svg(<text x="{rx}" y="140" transform="scale(.1)">{m}</text></g></svg>)svg",
        fmt::arg("w", width), fmt::arg("lw", left), fmt::arg("rw", right), fmt::arg("l", l), fmt::arg("m", m),
        fmt::arg("c", c), fmt::arg("lc", kLabelGrey), fmt::arg("lx", left * 5), fmt::arg("rx", left * 10 + right * 5));
}

std::string BadgeEtag(std::string_view svg) {
    std::uint64_t hash = 14695981039346656037ULL;
    for (const char c : svg) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 1099511628211ULL;
    }
    return fmt::format("\"b-{:016x}\"", hash);
}

}  // namespace railwatch::api
