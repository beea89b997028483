#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli/rest_client.hpp"
#include "core/time.hpp"
#include "util/clock.hpp"
#include "util/result.hpp"

/// `railwatch logs ID --follow`: the server's event stream carries no log lines yet (docs/API.md,
/// "Stream"), so the logs route is polled and only the lines not shown before are printed.
namespace railwatch::cli {

/// Picks the new lines out of successive answers of `GET /instances/{id}/logs` (each the newest
/// lines of the instance's current deployment, oldest first). A line is new when its timestamp is
/// later than the latest one returned so far, or equal to it and not returned yet (same kind,
/// severity and message). When the answer's deploymentId changes (a redeploy), every line of the
/// new deployment is new. Lines whose timestamp cannot be read are returned only from the first
/// answer of a deployment. Pure; not thread-safe.
class LogFollower {
  public:
    /// The lines of `answer` not returned before, oldest first.
    std::vector<nlohmann::json> Take(const nlohmann::json& answer);
    /// The deployment of the last answer (nullopt before the first, or when the server sent null).
    const std::optional<std::string>& deployment_id() const { return deployment_id_; }
    /// Whether the last Take switched to another deployment than the one before (false on the first).
    bool deployment_changed() const { return deployment_changed_; }

  private:
    bool started_ = false;
    bool deployment_changed_ = false;
    std::optional<std::string> deployment_id_;
    std::optional<core::Timestamp> last_at_;
    std::set<std::string> at_last_;  // identities of the lines returned at last_at_
};

/// What FollowLogs reports to its caller.
struct FollowSink {
    /// One new line (the API's item) of deployment `deployment_id` (empty when unknown).
    std::function<void(const nlohmann::json& line, const std::string& deployment_id)> on_line;
    /// The instance moved to another deployment; its lines follow. May be empty.
    std::function<void(const std::string& deployment_id)> on_deployment;
};

/// How FollowLogs polls.
struct FollowOptions {
    int initial_limit = 100;  ///< lines shown from before the follow starts (1..1000)
    int poll_limit = 1000;    ///< lines asked for by every later poll (the route's maximum)
    core::Duration interval = core::Seconds(2);
};

/// Shows the last `initial_limit` lines of instance `id`, then asks again every `interval` and
/// reports the lines not shown yet, until `wakeup` is stopped (then Ok). A failed request ends it
/// with that error. Lines that arrive faster than `poll_limit` per interval are partly skipped.
/// Waits through `clock` (a FakeClock in tests). Runs on the calling thread; `wakeup.Stop()` may
/// come from any thread and ends the wait at once (a request in flight is finished first).
util::Result<void> FollowLogs(RestClient& client, const util::Clock& clock, util::Wakeup& wakeup, const std::string& id,
                              const FollowOptions& options, const FollowSink& sink);

}  // namespace railwatch::cli
