#pragma once

#include <string>
#include <string_view>

#include "store/model.hpp"

/// The status badge of one instance (`GET /badge/{id}.svg`, docs/API.md): a Shields-style SVG
/// that people put in a README. It shows the status and nothing else about the instance.
namespace railwatch::api {

/// What a badge says and in which colour.
struct BadgeText {
    std::string message;  ///< e.g. "Online", "Failed", "Building"
    std::string colour;   ///< "#RRGGBB"
};

/// The badge text of an instance state: Railway's deployment status in the Railway CLI's words
/// (core::StatusLabel) while it is known, else railwatch's own status ("Running", "Deleted", ...).
/// The colour follows core's status groups: green for the succeeded group (SUCCESS, and SLEEPING,
/// which core counts as succeeded), red for FAILED / CRASHED, amber while pending or in progress,
/// grey otherwise (skipped, removing, removed, deleted, unknown). Pure.
BadgeText BadgeFor(const store::InstanceState& state);

/// A flat Shields-style badge, `label` on grey at the left, `message` on `colour` at the right,
/// with the text also in `<title>` and `aria-label` (never colour alone). Text is XML-escaped;
/// widths are estimated from the character count (no font metrics). Pure.
std::string BadgeSvg(std::string_view label, std::string_view message, std::string_view colour);

/// A strong ETag for a badge body (a quoted 64-bit FNV-1a hash of it). Pure.
std::string BadgeEtag(std::string_view svg);

}  // namespace railwatch::api
