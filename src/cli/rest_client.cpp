#include "cli/rest_client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

namespace railwatch::cli {
namespace {

using nlohmann::json;
using util::ErrorCode;

constexpr int kMaxPageSize = 500;

bool StartsWith(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

/// The API's `error.message` of an error answer, if it sent one.
std::optional<std::string> ApiMessage(const json& body) {
    if (!body.is_object()) return std::nullopt;
    auto error = body.find("error");
    if (error == body.end() || !error->is_object()) return std::nullopt;
    auto message = error->find("message");
    if (message == error->end() || !message->is_string()) return std::nullopt;
    return message->get<std::string>();
}

ErrorCode CodeForStatus(int status) {
    switch (status) {
        case 400:
        case 413:
        case 422:
            return ErrorCode::kInvalidArgument;
        case 401:
            return ErrorCode::kUnauthenticated;
        case 404:
            return ErrorCode::kNotFound;
        case 409:
            return ErrorCode::kConflict;
        case 429:
            return ErrorCode::kRateLimited;
        case 503:
            return ErrorCode::kUnavailable;
        default:
            return ErrorCode::kInternal;
    }
}

}  // namespace

util::Result<ServerConfig> ServerConfigFrom(const railway::EnvLookup& env, std::string_view server_flag) {
    ServerConfig config;
    std::string source = "--server";
    if (!server_flag.empty()) {
        config.base_url = std::string(server_flag);
    } else if (auto from_env = env("RAILWATCH_SERVER"); from_env && !from_env->empty()) {
        config.base_url = *from_env;
        source = "RAILWATCH_SERVER";
    } else {
        config.base_url = std::string(kDefaultServerUrl);
    }
    const bool http = StartsWith(config.base_url, "http://") || StartsWith(config.base_url, "https://");
    const bool blank = std::any_of(config.base_url.begin(), config.base_url.end(),
                                   [](char c) { return static_cast<unsigned char>(c) <= ' '; });
    const std::size_t host_start = config.base_url.find("://") + 3;
    if (!http || blank || host_start >= config.base_url.size() || config.base_url[host_start] == '/') {
        // The value itself is not shown: a URL may carry a password in its user info.
        return util::Fail(ErrorCode::kInvalidArgument,
                          fmt::format("{} is not an http:// or https:// URL; set it to the address `railwatch serve` "
                                      "listens on, e.g. {}",
                                      source, kDefaultServerUrl));
    }
    while (!config.base_url.empty() && config.base_url.back() == '/')
        config.base_url.pop_back();
    if (auto token = env("RAILWATCH_API_TOKEN")) config.api_token = *token;
    return config;
}

std::string PercentEncode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        }
    }
    return out;
}

int ExitCodeFor(const util::Error& error) {
    switch (error.code) {
        case ErrorCode::kUnavailable:
        case ErrorCode::kTimeout:
        case ErrorCode::kUnauthenticated:
        case ErrorCode::kParse:
        case ErrorCode::kInternal:
            return kExitApiUnreachable;
        default:
            return 1;
    }
}

RestClient::RestClient(net::HttpTransport& transport, ServerConfig config)
    : transport_(transport), config_(std::move(config)) {}

util::Result<json> RestClient::Call(std::string method, const std::string& path_and_query,
                                    const std::optional<json>& body, const std::optional<std::string>& instance_id) {
    net::HttpRequest request;
    request.method = std::move(method);
    request.url = config_.base_url + path_and_query;
    request.timeout = config_.timeout;
    request.idempotent = request.method == "GET";
    request.headers.emplace_back("Accept", "application/json");
    if (!config_.api_token.empty()) request.headers.emplace_back("Authorization", "Bearer " + config_.api_token);
    if (body) {
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = body->dump();
    }
    const net::HttpResponse response = transport_.Send(std::move(request)).get();
    const std::string server = net::OriginForMessages(config_.base_url);

    if (!response.Answered()) {
        const bool timeout = response.error == core::TransportErrorKind::kTimeout;
        return util::Fail(timeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
                          fmt::format("cannot reach the railwatch server at {} ({}); is `railwatch serve` running? set "
                                      "RAILWATCH_SERVER (or --server) to the address it listens on",
                                      server, timeout ? "no answer in time" : response.error_message));
    }
    const json parsed = json::parse(response.body, nullptr, false);
    if (response.status == 401) {
        const std::string what = config_.api_token.empty()
                                     ? "the server needs an API token and RAILWATCH_API_TOKEN is not set"
                                     : "the server rejected the token in RAILWATCH_API_TOKEN";
        return util::Fail(ErrorCode::kUnauthenticated,
                          fmt::format("{} (HTTP 401 from {}); set RAILWATCH_API_TOKEN to the token `railwatch serve` "
                                      "was started with",
                                      what, server));
    }
    if (response.status == 404 && instance_id) {
        return util::Fail(ErrorCode::kNotFound,
                          fmt::format("no instance {}; see `railwatch instances list`", *instance_id));
    }
    if (response.status < 200 || response.status >= 300) {
        if (auto message = ApiMessage(parsed)) {
            return util::Fail(CodeForStatus(response.status),
                              fmt::format("{} (HTTP {} from {})", *message, response.status, server));
        }
        return util::Fail(response.status >= 500 ? ErrorCode::kInternal : CodeForStatus(response.status),
                          fmt::format("the server at {} answered HTTP {} without an API error; is RAILWATCH_SERVER "
                                      "the address of `railwatch serve`?",
                                      server, response.status));
    }
    if (parsed.is_discarded() || !parsed.is_object()) {
        return util::Fail(ErrorCode::kParse, fmt::format("the server at {} did not answer with the API's JSON; is "
                                                         "RAILWATCH_SERVER the address of `railwatch serve`?",
                                                         server));
    }
    return parsed;
}

util::Result<json> RestClient::AddInstance(const NewInstance& instance) {
    json body = {{"serviceId", instance.service_id}, {"environmentId", instance.environment_id}};
    if (!instance.deployment_id.empty()) body["deploymentId"] = instance.deployment_id;
    if (!instance.project_name.empty()) body["projectName"] = instance.project_name;
    if (!instance.user_id.empty()) body["userId"] = instance.user_id;
    if (instance.check_interval_s > 0) body["checkIntervalSeconds"] = instance.check_interval_s;
    return Call("POST", "/api/v1/instances", body, std::nullopt);
}

util::Result<json> RestClient::ListInstances(const InstanceFilter& filter, int page_size) {
    std::string query = fmt::format("?limit={}", std::clamp(page_size, 1, kMaxPageSize));
    if (!filter.status.empty()) query += "&status=" + PercentEncode(filter.status);
    if (filter.needs_attention) query += "&needsAttention=true";

    json items = json::array();
    std::string cursor;
    std::set<std::string> seen_cursors;
    while (true) {
        const std::string page_query = cursor.empty() ? query : query + "&cursor=" + PercentEncode(cursor);
        auto page = Call("GET", "/api/v1/instances" + page_query, std::nullopt, std::nullopt);
        if (!page) return page;
        auto page_items = page->find("items");
        if (page_items == page->end() || !page_items->is_array())
            return util::Fail(ErrorCode::kParse, "the server's instance list has no `items` array");
        for (auto& item : *page_items)
            items.push_back(std::move(item));
        auto next = page->find("nextCursor");
        if (next == page->end() || !next->is_string() || next->get<std::string>().empty()) break;
        cursor = next->get<std::string>();
        // A server that hands out a cursor twice would otherwise keep this loop going for ever.
        if (!seen_cursors.insert(cursor).second)
            return util::Fail(ErrorCode::kInternal, "the server handed out the same page cursor twice");
    }
    return json{{"items", std::move(items)}, {"nextCursor", nullptr}};
}

util::Result<json> RestClient::GetInstance(const std::string& id) {
    return Call("GET", "/api/v1/instances/" + PercentEncode(id), std::nullopt, id);
}

util::Result<json> RestClient::DeleteInstance(const std::string& id) {
    return Call("DELETE", "/api/v1/instances/" + PercentEncode(id), std::nullopt, id);
}

util::Result<json> RestClient::SetMonitoring(const std::string& id, bool enabled, std::optional<int> check_interval_s) {
    json body = {{"enabled", enabled}};
    if (check_interval_s)
        body["checkIntervalSeconds"] = *check_interval_s > 0 ? json(*check_interval_s) : json(nullptr);
    return Call("PUT", "/api/v1/instances/" + PercentEncode(id) + "/monitoring", body, id);
}

util::Result<json> RestClient::Redeploy(const std::string& id) {
    return Call("POST", "/api/v1/instances/" + PercentEncode(id) + "/redeploy", json::object(), id);
}

util::Result<json> RestClient::Failure(const std::string& id) {
    return Call("GET", "/api/v1/instances/" + PercentEncode(id) + "/failure", std::nullopt, id);
}

util::Result<json> RestClient::Progress(const std::string& id) {
    return Call("GET", "/api/v1/instances/" + PercentEncode(id) + "/progress", std::nullopt, id);
}

util::Result<json> RestClient::Logs(const std::string& id, int limit) {
    return Call("GET", fmt::format("/api/v1/instances/{}/logs?limit={}", PercentEncode(id), limit), std::nullopt, id);
}

util::Result<json> RestClient::Health(const std::string& id) {
    return Call("GET", "/api/v1/instances/" + PercentEncode(id) + "/health", std::nullopt, id);
}

util::Result<json> RestClient::Stats() {
    return Call("GET", "/api/v1/stats", std::nullopt, std::nullopt);
}

util::Result<json> RestClient::Attention() {
    return Call("GET", "/api/v1/attention", std::nullopt, std::nullopt);
}

util::Result<json> RestClient::Notifications(const std::string& user_id) {
    const std::string query = user_id.empty() ? std::string() : "?userId=" + PercentEncode(user_id);
    return Call("GET", "/api/v1/notifications" + query, std::nullopt, std::nullopt);
}

}  // namespace railwatch::cli
