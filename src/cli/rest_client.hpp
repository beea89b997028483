#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "net/http_transport.hpp"
#include "railway/config.hpp"
#include "util/result.hpp"

/// The HTTP/JSON side of the REST client subcommands (`railwatch instances|logs|health|stats|
/// attention|notifications`, docs/CLI.md): where the server is, how to call it, and what a failed
/// call says. No terminal output here; rendering lives in cli/rest_render.hpp.
namespace railwatch::cli {

/// Where `railwatch serve` is when neither --server nor RAILWATCH_SERVER says otherwise.
inline constexpr std::string_view kDefaultServerUrl = "http://127.0.0.1:8080";

/// Exit code when the server cannot be talked to: unreachable, too slow, the token missing or
/// rejected (401), or an answer that is not the API's JSON (also a 5xx). Same number as `watch`
/// uses for "authentication or API error".
inline constexpr int kExitApiUnreachable = 3;

/// How the REST client reaches the server.
struct ServerConfig {
    std::string base_url;                        ///< "http(s)://host[:port][/prefix]", without a trailing slash
    std::string api_token;                       ///< sent as `Authorization: Bearer`; empty: no header. Never printed.
    core::Duration timeout = core::Seconds(30);  ///< per request, connect included
};

/// The server's address from `server_flag` (when not empty), else RAILWATCH_SERVER (when set and
/// not empty), else kDefaultServerUrl; the token from RAILWATCH_API_TOKEN. Pure apart from `env`.
/// Errors: kInvalidArgument when the address is not an http:// or https:// URL (the message names
/// where it came from and shows an example).
util::Result<ServerConfig> ServerConfigFrom(const railway::EnvLookup& env, std::string_view server_flag);

/// `text` with every byte but the RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~) percent-encoded:
/// safe as one path segment or one query value. Pure.
std::string PercentEncode(std::string_view text);

/// The exit code for a failed call: kExitApiUnreachable for kUnavailable, kTimeout,
/// kUnauthenticated, kParse and kInternal (the server could not be talked to properly), 1 for
/// everything else (the server answered and refused: 400, 404, 409, 422, 429). Pure.
int ExitCodeFor(const util::Error& error);

/// Filters of `GET /api/v1/instances` (docs/API.md).
struct InstanceFilter {
    std::string status;            ///< one status (INITIALIZING, …); empty: every one but DELETED
    bool needs_attention = false;  ///< only instances flagged for attention
};

/// What `POST /api/v1/instances` is sent; empty optional fields are left out.
struct NewInstance {
    std::string service_id;
    std::string environment_id;
    std::string deployment_id;
    std::string project_name;
    std::string user_id;
    int check_interval_s = 0;  ///< the instance's own interval; 0: none (each status's)
};

/// Synchronous calls to the REST API over a net::HttpTransport. Every method returns the answer's
/// JSON document as the API sent it (ListInstances merges its pages into one), or an error whose
/// message says what was wrong and what to do:
/// - the server not reachable: kUnavailable (kTimeout when it did not answer in time), naming the
///   address and pointing at `railwatch serve` and RAILWATCH_SERVER;
/// - 401: kUnauthenticated, pointing at RAILWATCH_API_TOKEN;
/// - 404 on an instance's route: kNotFound, "no instance ID; see `railwatch instances list`";
/// - any other error answer: the API's own message, the code following the status (400/422
///   kInvalidArgument, 404 kNotFound, 409 kConflict, 429 kRateLimited, 503 kUnavailable, else
///   kInternal); an answer that is not JSON: kParse.
/// Messages show the server as scheme://host:port only and never contain the token.
/// Thread-safety: one caller at a time. Must not be called from a completion of `transport`.
/// `transport` must outlive the client.
class RestClient {
  public:
    RestClient(net::HttpTransport& transport, ServerConfig config);

    /// POST /api/v1/instances → the new instance.
    util::Result<nlohmann::json> AddInstance(const NewInstance& instance);
    /// GET /api/v1/instances, following nextCursor to the last page → `{items, nextCursor: null}`.
    /// `page_size` (1..500) is the limit asked for per page.
    util::Result<nlohmann::json> ListInstances(const InstanceFilter& filter, int page_size = 500);
    /// GET /api/v1/instances/{id}.
    util::Result<nlohmann::json> GetInstance(const std::string& id);
    /// DELETE /api/v1/instances/{id} → the instance, now DELETED.
    util::Result<nlohmann::json> DeleteInstance(const std::string& id);
    /// PUT /api/v1/instances/{id}/monitoring → the instance. `check_interval_s`: ≥ 1 sets its own
    /// interval, 0 removes it (sent as null), none leaves it as it is.
    util::Result<nlohmann::json> SetMonitoring(const std::string& id, bool enabled,
                                               std::optional<int> check_interval_s);
    /// POST /api/v1/instances/{id}/redeploy → `{instanceId, requestedAt}`.
    util::Result<nlohmann::json> Redeploy(const std::string& id);
    /// GET /api/v1/instances/{id}/failure → `{instanceId, failure}` (failure null unless failed).
    util::Result<nlohmann::json> Failure(const std::string& id);
    /// GET /api/v1/instances/{id}/progress → `{instanceId, progress, phase, etaSeconds, steps, …}`.
    util::Result<nlohmann::json> Progress(const std::string& id);
    /// GET /api/v1/instances/{id}/logs?limit= → `{instanceId, deploymentId, items}`, newest last.
    util::Result<nlohmann::json> Logs(const std::string& id, int limit);
    /// GET /api/v1/instances/{id}/health.
    util::Result<nlohmann::json> Health(const std::string& id);
    /// GET /api/v1/stats.
    util::Result<nlohmann::json> Stats();
    /// GET /api/v1/attention.
    util::Result<nlohmann::json> Attention();
    /// GET /api/v1/notifications[?userId=].
    util::Result<nlohmann::json> Notifications(const std::string& user_id);

  private:
    /// One exchange. `instance_id`, when set, turns a 404 into the "no instance" message.
    util::Result<nlohmann::json> Call(std::string method, const std::string& path_and_query,
                                      const std::optional<nlohmann::json>& body,
                                      const std::optional<std::string>& instance_id);

    net::HttpTransport& transport_;
    ServerConfig config_;
};

}  // namespace railwatch::cli
