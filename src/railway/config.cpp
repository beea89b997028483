#include "railway/config.hpp"

#include <fmt/format.h>

#include <cstdlib>

namespace railwatch::railway {

net::HttpHeader Credentials::AuthHeader() const {
    if (kind == TokenKind::kProject) return {"Project-Access-Token", token};
    return {"Authorization", "Bearer " + token};
}

std::string_view Credentials::EnvName() const {
    return kind == TokenKind::kProject ? "RAILWAY_TOKEN" : "RAILWAY_API_TOKEN";
}

std::string Credentials::Describe() const {
    return kind == TokenKind::kProject ? "project token from RAILWAY_TOKEN"
                                       : "account/workspace token from RAILWAY_API_TOKEN";
}

EnvLookup ProcessEnvironment() {
    return [](std::string_view name) -> std::optional<std::string> {
        const std::string key(name);
        const char* value = std::getenv(key.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

util::Result<Credentials> CredentialsFromEnvironment(const EnvLookup& env) {
    if (auto project = env("RAILWAY_TOKEN"); project && !project->empty()) {
        return Credentials{TokenKind::kProject, *project};
    }
    if (auto account = env("RAILWAY_API_TOKEN"); account && !account->empty()) {
        return Credentials{TokenKind::kAccount, *account};
    }
    return util::Fail(util::ErrorCode::kUnauthenticated,
                      "no Railway token: set RAILWAY_API_TOKEN (account or workspace token, from "
                      "https://railway.com/account/tokens) or RAILWAY_TOKEN (project token, from the project's "
                      "settings → Tokens)");
}

std::string ApiUrlFromEnvironment(const EnvLookup& env, std::string_view fallback) {
    if (auto url = env("RAILWAY_API_URL"); url && !url->empty()) return *url;
    return std::string(fallback);
}

std::string EndpointWithSource(std::string_view api_url) {
    const auto hash = api_url.find('#');
    std::string base(api_url.substr(0, hash));
    const auto query = base.find('?');
    if (query == std::string::npos) return base + "?source=railwatch";
    const std::string_view q = std::string_view(base).substr(query + 1);
    if (q.starts_with("source=") || q.find("&source=") != std::string_view::npos) return base;
    if (q.empty()) return base + "source=railwatch";
    return base + "&source=railwatch";
}

util::Result<void> ValidateApiUrl(std::string_view api_url) {
    const bool http = api_url.starts_with("http://") || api_url.starts_with("https://");
    const auto host_start = api_url.find("://");
    if (!http || host_start == std::string_view::npos || api_url.size() <= host_start + 3) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("Railway API URL \"{}\" is not an http(s) URL; set RAILWAY_API_URL to e.g. {}",
                                      api_url, kDefaultApiUrl));
    }
    return util::Ok();
}

std::string DefaultUserAgent() {
    return fmt::format("railwatch/{}", RAILWATCH_CLIENT_VERSION);
}

}  // namespace railwatch::railway
