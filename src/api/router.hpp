#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_server.hpp"

/// A small router: method + path pattern, where a segment written `{name}` matches any one
/// non-empty segment and captures it ("/api/v1/instances/{id}/logs"), and `{name}.ext` matches a
/// segment ending in ".ext" and captures the non-empty rest ("/badge/{id}.svg").
namespace railwatch::api {

/// The captured `{name}` segments of a matched route.
using PathParams = std::map<std::string, std::string, std::less<>>;

/// Answers one routed request.
using RouteHandler = std::function<net::ServerResponse(const net::ServerRequest&, const PathParams&)>;

/// One route as listed in docs/API.md (method and pattern, e.g. "GET", "/api/v1/instances/{id}").
struct RouteInfo {
    std::string method;
    std::string pattern;
};

/// What Match found.
struct RouteMatch {
    const RouteHandler* handler = nullptr;  ///< null: no route for this method and path
    const RouteInfo* route = nullptr;       ///< the matched route (with handler)
    PathParams params;
    bool path_known = false;  ///< some route has this path (with another method)
};

/// Routes are added once at construction of the owner, then only matched: Add is not
/// thread-safe, Match is (it only reads).
class Router {
  public:
    /// Adds a route. `pattern` starts with '/'; later routes never shadow earlier ones with the
    /// same method and pattern (the first added wins).
    void Add(std::string method, std::string pattern, RouteHandler handler);

    /// The route for `method` and `path` (path without the query string).
    RouteMatch Match(std::string_view method, std::string_view path) const;

    /// Every route in the order added.
    std::vector<RouteInfo> Routes() const;

  private:
    struct Route {
        RouteInfo info;
        std::vector<std::string> segments;
        RouteHandler handler;
    };
    std::vector<Route> routes_;
};

/// `path` split at '/', without the empty first segment ("/a/b" -> {"a", "b"}; "/" -> {}).
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace railwatch::api
