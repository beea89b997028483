#include "api/static_assets.hpp"

#include <string>
#include <string_view>

#include "net/http_transport.hpp"
#include "web/embedded_assets.hpp"

namespace railwatch::api {
namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
    std::size_t start = 0;
    while (start <= if_none_match.size()) {
        const std::size_t comma = if_none_match.find(',', start);
        const std::size_t stop = comma == std::string_view::npos ? if_none_match.size() : comma;
        std::string_view tag = Trim(if_none_match.substr(start, stop - start));
        if (tag == "*") return true;
        // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
        if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
        if (tag == etag) return true;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return false;
}

bool AcceptsGzip(std::string_view accept_encoding) {
    std::size_t start = 0;
    while (start <= accept_encoding.size()) {
        const std::size_t comma = accept_encoding.find(',', start);
        const std::size_t stop = comma == std::string_view::npos ? accept_encoding.size() : comma;
        std::string_view item = Trim(accept_encoding.substr(start, stop - start));
        std::string_view coding = item;
        std::string_view params;
        if (const std::size_t semi = item.find(';'); semi != std::string_view::npos) {
            coding = Trim(item.substr(0, semi));
            params = Trim(item.substr(semi + 1));
        }
        if (net::EqualsIgnoreCase(coding, "gzip") || coding == "*") {
            // q=0, q=0.0, q=0.00 ... refuse it.
            bool refused = false;
            if (params.size() >= 3 && (params[0] == 'q' || params[0] == 'Q') && params[1] == '=') {
                std::string_view q = params.substr(2);
                refused = !q.empty() && q.find_first_not_of("0.") == std::string_view::npos;
            }
            if (net::EqualsIgnoreCase(coding, "gzip")) return !refused;
            if (!refused) return true;
        }
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return false;
}

std::optional<net::ServerResponse> ServeAsset(const net::ServerRequest& req) {
    if (req.method != "GET" && req.method != "HEAD") return std::nullopt;
    const web::Asset* asset = web::FindAsset(req.path);
    if (asset == nullptr) return std::nullopt;

    const bool gzip = !asset->gzip_bytes.empty() && AcceptsGzip(req.Header("Accept-Encoding").value_or(""));
    const std::string_view etag = gzip ? asset->gzip_etag : asset->etag;

    net::ServerResponse res;
    res.content_type = std::string(asset->content_type);
    res.SetHeader("ETag", std::string(etag));
    res.SetHeader("Cache-Control", "no-cache");
    res.SetHeader("Vary", "Accept-Encoding");
    res.SetHeader("X-Content-Type-Options", "nosniff");
    res.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
    if (auto inm = req.Header("If-None-Match"); inm && IfNoneMatchMatches(*inm, etag)) {
        res.status = 304;
        return res;
    }
    res.status = 200;
    if (gzip) res.SetHeader("Content-Encoding", "gzip");
    res.body = std::string(gzip ? asset->gzip_bytes : asset->bytes);
    return res;
}

}  // namespace railwatch::api
