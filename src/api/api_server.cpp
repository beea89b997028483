#include "api/api_server.hpp"

namespace railwatch::api {
namespace {

net::HttpServerOptions ServerOptions(const ApiServerOptions& o, std::size_t max_body_bytes) {
    net::HttpServerOptions options;
    options.host = o.host;
    options.port = o.port;
    options.threads = o.threads;
    options.max_body_bytes = max_body_bytes;
    return options;
}

}  // namespace

ApiServer::ApiServer(const RestApi& api, EventHub* hub, const ApiServerOptions& options, std::size_t max_body_bytes)
    : hub_(hub), server_(ServerOptions(options, max_body_bytes)) {
    const auto handle = [&api](const net::ServerRequest& req, net::ServerResponse& res) { res = api.Handle(req); };
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
        server_.Route(method, ".*", handle);
    server_.SetNotFoundHandler(handle);
}

ApiServer::~ApiServer() {
    Stop();
}

util::Result<int> ApiServer::Start() {
    return server_.Start();
}

void ApiServer::Stop() {
    if (hub_ != nullptr) hub_->Stop();
    server_.Stop();
}

}  // namespace railwatch::api
