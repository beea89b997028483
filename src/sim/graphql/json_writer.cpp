#include "sim/graphql/json_writer.hpp"

#include <fmt/format.h>

namespace railwatch::sim::graphql {

void AppendJsonString(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run_start, i - run_start);
        run_start = i + 1;
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                out += "\\u00";
                out += kHex[c >> 4];
                out += kHex[c & 0xF];
        }
    }
    out.append(s.data() + run_start, s.size() - run_start);
    out += '"';
}

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
    if (!error.code.empty()) {
        out += ",\"extensions\":{\"code\":";
        AppendJsonString(out, error.code);
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
