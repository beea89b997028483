#include "sim/graphql/json_writer.hpp"

#include <fmt/format.h>

namespace railwatch::sim::graphql {

void AppendError(std::string& out, const GraphqlError& error) {
    out += "{\"message\":";
    AppendJsonString(out, error.message);
    if (!error.locations.empty()) {
        out += ",\"locations\":[";
        for (std::size_t i = 0; i < error.locations.size(); ++i) {
            if (i > 0) out += ',';
            out += fmt::format("{{\"line\":{},\"column\":{}}}", error.locations[i].line, error.locations[i].column);
        }
        out += ']';
    }
    if (!error.path.empty()) {
        out += ",\"path\":[";
        for (std::size_t i = 0; i < error.path.size(); ++i) {
            if (i > 0) out += ',';
            if (const auto* key = std::get_if<std::string>(&error.path[i])) {
                AppendJsonString(out, *key);
            } else {
                out += std::to_string(std::get<int>(error.path[i]));
            }
        }
        out += ']';
    }
    if (!error.code.empty() || !error.trace_id.empty()) {
        out += ",\"extensions\":{";
        if (!error.code.empty()) {
            out += "\"code\":";
            AppendJsonString(out, error.code);
        }
        if (!error.trace_id.empty()) {
            if (!error.code.empty()) out += ',';
            out += "\"traceId\":";
            AppendJsonString(out, error.trace_id);
        }
        out += '}';
    }
    out += '}';
}

std::string ErrorsBody(const std::vector<GraphqlError>& errors, bool with_null_data) {
    std::string out = with_null_data ? "{\"data\":null,\"errors\":[" : "{\"errors\":[";
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (i > 0) out += ',';
        AppendError(out, errors[i]);
    }
    out += "]}";
    return out;
}

}  // namespace railwatch::sim::graphql
