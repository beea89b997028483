#pragma once

#include <string_view>

#include "app/engine.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"

/// PLACEHOLDER, NOT THE MONITORING ENGINE. Until monitor::Monitor is merged, `serve` runs this
/// stand-in so that the REST API, the stream and the dashboard can be wired and tested end to
/// end. It writes what the API asks for straight through the store (an added instance is stored
/// with its first check due now, a deleted one is marked DELETED, monitoring flags are saved, a
/// webhook makes the matching instances due now) and tells the EventSink. It never talks to
/// Railway: nothing is polled, no status ever changes, redeploys are refused (503), and an
/// instance added without a deployment id keeps none.
namespace railwatch::app {

/// Thread-safe: every method from any thread (the store is).
class PlaceholderEngine final : public Engine {
  public:
    /// `store`, `clock` and `events` must outlive the engine. `default_interval_s`: the interval
    /// of instances added without one.
    PlaceholderEngine(store::Store& store, const util::Clock& clock, monitor::EventSink& events,
                      int default_interval_s);

    util::Result<void> Start() override { return util::Ok(); }
    void Stop() override {}
    std::string_view Describe() const override {
        return "placeholder engine (stores API changes only; polls nothing: the monitoring engine is not merged yet)";
    }

    util::Result<store::Instance> AddInstance(const monitor::AddInstanceRequest& request) override;
    util::Result<store::Instance> DeleteInstance(const std::string& id) override;
    util::Result<store::Instance> SetMonitoring(const std::string& id, bool enabled,
                                                std::optional<int> check_interval_s) override;
    util::Result<void> Redeploy(const std::string& id) override;
    util::Result<int> CheckDeploymentNow(const std::string& deployment_id) override;
    util::Result<monitor::ProgressReport> Progress(const std::string& id) override;
    monitor::CapacityReport Capacity() const override;

  private:
    /// Reads the instance back and tells the sink.
    util::Result<store::Instance> Changed(const std::string& id);

    store::Store& store_;
    const util::Clock& clock_;
    monitor::EventSink& events_;
    int default_interval_s_;
};

}  // namespace railwatch::app
