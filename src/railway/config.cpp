#include "railway/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "net/http_transport.hpp"

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

namespace {

std::string LowerAscii(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

// The host of an http(s) URL, lower case, without userinfo, port or IPv6 brackets.
std::string UrlHost(std::string_view url) {
    std::string_view rest = url.substr(url.find("://") + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    if (rest.starts_with('[')) return LowerAscii(rest.substr(1, rest.find(']') - 1));
    return LowerAscii(rest.substr(0, rest.find(':')));
}

}  // namespace

util::Result<void> ValidateApiUrl(std::string_view api_url) {
    const std::string shown = net::UrlForMessages(api_url);
    const bool https = api_url.starts_with("https://");
    const bool http = api_url.starts_with("http://");
    if ((!http && !https) || UrlHost(api_url).empty()) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("Railway API URL \"{}\" is not an http(s) URL; set RAILWAY_API_URL to e.g. {}",
                                      shown, kDefaultApiUrl));
    }
    if (http && !net::IsLoopbackHost(UrlHost(api_url))) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("Railway API URL \"{}\" is plain http to another machine: the token would "
                                      "travel in clear text; use https:// (e.g. {}), or http:// only to this machine "
                                      "(127.0.0.1, ::1, localhost, e.g. the bundled simulator)",
                                      shown, kDefaultApiUrl));
    }
    return util::Ok();
}

ClientConfig ClientConfig::Normalized() && {
    batch_size = std::clamp<std::size_t>(batch_size, 1, kMaxBatchSize);
    max_in_flight = std::max<std::size_t>(max_in_flight, 1);
    max_attempts = std::max(max_attempts, 1);
    max_mutation_attempts = std::max(max_mutation_attempts, 1);
    max_log_pages = std::clamp<std::size_t>(max_log_pages, 1, 100);
    environment_page_size = std::clamp<std::size_t>(environment_page_size, 1, 1000);
    max_environment_pages = std::clamp<std::size_t>(max_environment_pages, 1, 1000);
    return std::move(*this);
}

std::string DefaultUserAgent() {
    return fmt::format("railwatch/{}", RAILWATCH_CLIENT_VERSION);
}

}  // namespace railwatch::railway
