#pragma once

#include <optional>
#include <string_view>

/// Which of a deployment's two log streams a line belongs to. Railway keeps them apart
/// (`buildLogs` and `deploymentLogs`); so do the store, the API (`kind=build|deploy`) and the
/// classifier. Pure.
namespace railwatch::core {

enum class LogKind { kBuild, kDeploy };

/// "build" / "deploy": the spelling of the REST API and the store.
std::string_view ToString(LogKind kind);
/// Parses "build" or "deploy"; nullopt for anything else.
std::optional<LogKind> ParseLogKind(std::string_view text);

}  // namespace railwatch::core
