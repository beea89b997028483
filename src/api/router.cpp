#include "api/router.hpp"

namespace railwatch::api {

std::vector<std::string_view> SplitPath(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start < path.size()) {
        if (path[start] == '/') {
            ++start;
            continue;
        }
        const std::size_t end = path.find('/', start);
        const std::size_t stop = end == std::string_view::npos ? path.size() : end;
        out.push_back(path.substr(start, stop - start));
        start = stop;
    }
    // A trailing slash names another resource ("/api/v1/instances/" is not the collection):
    // keep it visible as an empty last segment so that it matches nothing.
    if (path.size() > 1 && path.back() == '/') out.emplace_back();
    return out;
}

void Router::Add(std::string method, std::string pattern, RouteHandler handler) {
    Route route;
    for (std::string_view segment : SplitPath(pattern))
        route.segments.emplace_back(segment);
    route.info = RouteInfo{std::move(method), std::move(pattern)};
    route.handler = std::move(handler);
    routes_.push_back(std::move(route));
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
    RouteMatch result;
    const std::vector<std::string_view> parts = SplitPath(path);
    for (const Route& route : routes_) {
        if (route.segments.size() != parts.size()) continue;
        PathParams params;
        bool ok = true;
        for (std::size_t i = 0; i < parts.size() && ok; ++i) {
            const std::string& want = route.segments[i];
            const std::size_t close = !want.empty() && want.front() == '{' ? want.find('}') : std::string::npos;
            if (close != std::string::npos && close > 1) {
                // "{id}.svg": the literal after the brace must end the segment, and the captured
                // part must not be empty.
                const std::string_view suffix = std::string_view(want).substr(close + 1);
                if (parts[i].size() <= suffix.size() || !parts[i].ends_with(suffix)) {
                    ok = false;
                } else {
                    params.emplace(want.substr(1, close - 1),
                                   std::string(parts[i].substr(0, parts[i].size() - suffix.size())));
                }
            } else {
                ok = want == parts[i];
            }
        }
        if (!ok) continue;
        result.path_known = true;
        // HEAD is answered by the GET route (the adapter drops the body).
        if (route.info.method == method || (method == "HEAD" && route.info.method == "GET")) {
            result.handler = &route.handler;
            result.route = &route.info;
            result.params = std::move(params);
            return result;
        }
    }
    return result;
}

std::vector<RouteInfo> Router::Routes() const {
    std::vector<RouteInfo> out;
    out.reserve(routes_.size());
    for (const Route& route : routes_)
        out.push_back(route.info);
    return out;
}

}  // namespace railwatch::api
