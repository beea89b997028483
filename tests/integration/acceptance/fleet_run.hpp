#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/serve_process.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::test {

/// One acceptance run: a simulator with a fleet of every lifecycle kind, `serve` following it
/// through the REST API, and the checks of the [engine] acceptance against the sim's truth.
class FleetRun {
  public:
    struct Options {
        int deployments = 1000;
        double time_scale = 20;     ///< the sim's: a 200 s build takes 10 s
        nlohmann::json sim_config;  ///< merged into /_sim/config after the fleet is created
    };
    explicit FleetRun(Options options);

    /// Starts the sim and serve; false (with the reason in `problem`) when either did not start.
    bool Start();
    /// Creates the fleet in the sim and adds one instance per deployment through POST /instances.
    bool AddFleet();
    /// Waits until every instance's deploymentStatus equals the sim's final status of the
    /// deployment it follows, or `limit` passes. Returns the instances that did not converge.
    std::vector<std::string> AwaitConvergence(std::chrono::seconds limit);

    /// Every instance (GET /instances, all pages).
    std::vector<nlohmann::json> Instances() const;
    /// The sim's truth for these deployment ids.
    std::map<std::string, nlohmann::json> Truth(const std::vector<std::string>& ids) const;
    /// The in-app notifications of the user owning the instance that follows `deployment_id`.
    std::vector<nlohmann::json> Notifications(const std::string& deployment_id) const;
    /// GET /instances/{id}/events items.
    std::vector<nlohmann::json> Events(const std::string& instance_id) const;

    SimProcess& sim() { return *sim_; }
    ServeProcess& serve() { return *serve_; }
    const std::map<std::string, nlohmann::json>& created() const { return created_; }       ///< by deployment id
    const std::map<std::string, std::string>& instance_of() const { return instance_of_; }  ///< deployment → instance
    std::string problem;

    /// The configured check interval of a Railway status, seconds (the config file's).
    static double IntervalOf(const std::string& status);

  private:
    Options options_;
    TempDir dir_;
    std::unique_ptr<SimProcess> sim_;
    std::unique_ptr<ServeProcess> serve_;
    std::map<std::string, nlohmann::json> created_;
    std::map<std::string, std::string> instance_of_;
    std::map<std::string, std::string> user_of_;  ///< deployment → user
};

}  // namespace railwatch::test
