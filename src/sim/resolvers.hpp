#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/time.hpp"
#include "sim/config.hpp"
#include "sim/graphql/executor.hpp"
#include "sim/world.hpp"

/// The GraphQL resolvers of the simulator: root objects for queries and mutations over a World.
namespace railwatch::sim {

/// Which token authenticated the request (FACTS §1).
enum class AuthKind {
    kAccount,    ///< personal account token (Bearer): everything, `me` included
    kWorkspace,  ///< workspace token (Bearer): everything in its workspace, but not `me`
    kProject,    ///< project token (Project-Access-Token): one environment of one project
};

/// What one request's resolvers see. The World must stay locked (shared for queries, exclusive
/// for mutations) while the request executes.
struct RequestContext {
    World* world = nullptr;
    core::Timestamp now;
    const SimConfig* config = nullptr;
    AuthKind auth = AuthKind::kAccount;
    std::string project_environment;  ///< the one environment a project token sees (kProject only)
    std::string health_base_url;      ///< "http://127.0.0.1:PORT" of the health server, may be empty
    long long remaining_points = 0;   ///< apiTokenRateLimit.remainingPoints
    core::Timestamp resets_at;        ///< apiTokenRateLimit.resetsAt
    /// Called with the id of every `deployment(id)` root field before it is resolved (known or
    /// not); may be empty. Must be thread-safe: queries run concurrently.
    std::function<void(const std::string& id)> on_deployment_query;
};

/// Root objects; they keep a reference to `ctx`, which must outlive them. Unknown and deleted
/// deployment ids fail with config->errors.unknown_deployment; what a token may not see fails
/// with "Not Authorized".
std::shared_ptr<graphql::Object> MakeQueryRoot(const RequestContext& ctx);
std::shared_ptr<graphql::Object> MakeMutationRoot(const RequestContext& ctx);

/// The URL of a service's app (health endpoint at url + "/health").
std::string ServiceUrl(const RequestContext& ctx, const SimService& service);

}  // namespace railwatch::sim
