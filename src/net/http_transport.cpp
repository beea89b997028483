#include "net/http_transport.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <memory>

namespace railwatch::net {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (EqualsIgnoreCase(key, name)) return std::string_view(value);
    }
    return std::nullopt;
}

std::string UrlForMessages(std::string_view url) {
    const auto cut = url.find_first_of("?#");
    std::string out(url.substr(0, cut));
    // User info ("user:password@") is a credential too.
    if (const auto scheme = out.find("://"); scheme != std::string::npos) {
        const auto authority_end = out.find('/', scheme + 3);
        const auto at = out.rfind('@', authority_end == std::string::npos ? std::string::npos : authority_end);
        if (at != std::string::npos && at > scheme) out.erase(scheme + 3, at + 1 - (scheme + 3));
    }
    return out;
}

bool IsLoopbackHost(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    std::string text(host);
    for (char& c : text)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (text == "localhost" || text == "localhost.") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return false;
}

std::string_view DescribeTransportError(core::TransportErrorKind kind) {
    switch (kind) {
        case core::TransportErrorKind::kNone:
            return "none";
        case core::TransportErrorKind::kDns:
            return "DNS lookup failed";
        case core::TransportErrorKind::kConnect:
            return "could not connect";
        case core::TransportErrorKind::kReset:
            return "connection reset";
        case core::TransportErrorKind::kTls:
            return "TLS failure";
        case core::TransportErrorKind::kTimeout:
            return "timed out";
        case core::TransportErrorKind::kCancelled:
            return "cancelled";
        case core::TransportErrorKind::kOther:
            return "transport error";
    }
    return "transport error";
}

std::optional<UrlParts> ParseUrl(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) return std::nullopt;
    UrlParts parts;
    parts.scheme = std::string(url.substr(0, scheme_end));
    for (char& c : parts.scheme)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    std::string_view rest = url.substr(scheme_end + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
        parts.userinfo = std::string(rest.substr(0, at));
        rest.remove_prefix(at + 1);
    }
    std::string_view port_text;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        parts.host = std::string(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port_text = rest.substr(1);
        }
    } else {
        const auto colon = rest.rfind(':');
        parts.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
    }
    if (parts.host.empty()) return std::nullopt;
    if (!port_text.empty()) {
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), parts.port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || parts.port < 1 || parts.port > 65535) {
            return std::nullopt;
        }
    }
    return parts;
}

std::string OriginForMessages(std::string_view url) {
    std::string out = UrlForMessages(url);
    const auto scheme = out.find("://");
    if (scheme == std::string::npos) return "(a URL without a scheme)";
    if (const auto path = out.find('/', scheme + 3); path != std::string::npos) out.resize(path);
    return out;
}

std::optional<std::string_view> HttpResponse::Header(std::string_view name) const {
    return FindHeader(headers, name);
}

void HttpTransport::SubmitAll(std::span<Submission> submissions) {
    for (Submission& s : submissions)
        s.id = Submit(std::move(s.request), std::move(s.done));
}

std::future<HttpResponse> HttpTransport::Send(HttpRequest request) {
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    Submit(std::move(request), [promise](HttpResponse response) { promise->set_value(std::move(response)); });
    return future;
}

}  // namespace railwatch::net
