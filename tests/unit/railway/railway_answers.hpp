#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "net/http_transport.hpp"

/// Answers shaped the way real Railway sends them (FACTS.md §6), for the client's unit tests
/// with the scripted transport.
namespace railwatch::railway::answers {

/// A deployment node with the whole status selection.
inline nlohmann::json DeploymentNode(const std::string& id, const std::string& status) {
    return {{"id", id},
            {"status", status},
            {"statusUpdatedAt", "2026-01-01T00:00:05.123Z"},
            {"createdAt", "2026-01-01T00:00:00Z"},
            {"updatedAt", "2026-01-01T00:00:05Z"},
            {"url", "app.up.railway.app"},
            {"staticUrl", nullptr},
            {"deploymentStopped", false},
            {"canRedeploy", true},
            {"instances", nlohmann::json::array({{{"status", "RUNNING"}}})},
            {"serviceId", "svc"},
            {"environmentId", "env"},
            {"projectId", "prj"}};
}

/// The traceId Railway's answers carry in these tests.
inline std::string TraceFor(const std::string& id) {
    return "trace-" + id;
}

/// One GraphQL error as Railway sends it: `extensions.code` INTERNAL_SERVER_ERROR whatever the
/// message, a traceId, and a path when `path` is not empty.
inline nlohmann::json RailwayError(const std::string& message, const std::string& path, const std::string& trace_id) {
    nlohmann::json error = {{"message", message},
                            {"locations", {{{"line", 1}, {"column", 2}}}},
                            {"extensions", {{"code", "INTERNAL_SERVER_ERROR"}, {"traceId", trace_id}}}};
    if (!path.empty()) error["path"] = nlohmann::json::array({path});
    return error;
}

/// The ids of a status request, alias by alias ("d0" → id).
inline std::map<std::string, std::string> AliasesOf(const net::HttpRequest& request) {
    std::map<std::string, std::string> out;
    const nlohmann::json body = nlohmann::json::parse(request.body);
    for (const auto& [name, value] : body["variables"].items())
        out["d" + name.substr(2)] = value.get<std::string>();
    return out;
}

/// How an answer treats `data` when some alias fails.
enum class Nulling {
    kAll,      ///< `data: null` (GraphQL null propagation: `deployment(id)` is non-null)
    kPartial,  ///< data for the others, `null` for the failing aliases
};

/// Answers a status batch: every id gets `status`, except the ids in `failing` (id → message),
/// which get a Railway error with their alias as path. With `name_one_error_only`, only the first
/// failing alias is named (a server that stops at the first error).
inline net::HttpResponse StatusAnswer(const net::HttpRequest& request, const std::string& status,
                                      const std::map<std::string, std::string>& failing = {},
                                      Nulling nulling = Nulling::kAll, bool name_one_error_only = false) {
    nlohmann::json data = nlohmann::json::object();
    nlohmann::json errors = nlohmann::json::array();
    for (const auto& [alias, id] : AliasesOf(request)) {
        if (auto it = failing.find(id); it != failing.end()) {
            if (!name_one_error_only || errors.empty()) errors.push_back(RailwayError(it->second, alias, TraceFor(id)));
            data[alias] = nullptr;
        } else {
            data[alias] = DeploymentNode(id, status);
        }
    }
    nlohmann::json answer = {{"data", errors.empty() || nulling == Nulling::kPartial ? data : nlohmann::json()}};
    if (!errors.empty()) answer["errors"] = errors;
    net::HttpResponse response;
    response.status = 200;
    response.body = answer.dump();
    return response;
}

/// A whole-request failure (no path), e.g. "Not Authorized" for a bad token.
/// An answer of `status` with `body` as it is.
inline net::HttpResponse Answer(int status, std::string body) {
    net::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    return response;
}

inline std::string WholeFailure(const std::string& message, const std::string& trace_id) {
    return nlohmann::json{{"data", nullptr}, {"errors", {RailwayError(message, "", trace_id)}}}.dump();
}

/// A root-field failure (path = the field), e.g. `me` refused.
inline std::string FieldFailure(const std::string& field, const std::string& message, const std::string& trace_id) {
    return nlohmann::json{{"data", nullptr}, {"errors", {RailwayError(message, field, trace_id)}}}.dump();
}

/// The operationName of a request.
inline std::string OperationOf(const net::HttpRequest& request) {
    return nlohmann::json::parse(request.body).value("operationName", "");
}

}  // namespace railwatch::railway::answers
