#pragma once

#include <optional>

#include "net/http_server.hpp"

/// The dashboard's embedded files (web/embedded_assets.hpp) as HTTP answers, with the caching,
/// compression and security headers docs/DASHBOARD.md ("Serving the assets") asks for.
namespace railwatch::api {

/// The Content-Security-Policy every dashboard answer carries.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// The answer for a GET or HEAD of a dashboard path, or nullopt when `req.path` is not one
/// (FindAsset says so). 304 when If-None-Match names the representation's ETag; the gzip
/// variant when Accept-Encoding allows it. Thread-safe (the assets are immutable).
std::optional<net::ServerResponse> ServeAsset(const net::ServerRequest& req);

/// True when an If-None-Match value names `etag` (or is "*"); weak comparison (RFC 9110
/// §13.1.2: W/"x" matches "x"). Pure.
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

/// True when an Accept-Encoding value allows gzip (a `gzip` coding without `q=0`).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace railwatch::api
