#include "core/log_kind.hpp"

namespace railwatch::core {

std::string_view ToString(LogKind kind) {
    return kind == LogKind::kBuild ? "build" : "deploy";
}

std::optional<LogKind> ParseLogKind(std::string_view text) {
    if (text == "build") return LogKind::kBuild;
    if (text == "deploy") return LogKind::kDeploy;
    return std::nullopt;
}

}  // namespace railwatch::core
