#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace spdlog {
class logger;
}

/// Start/stop order of a service's components: started in the order added, stopped in reverse,
/// each Stop exactly once.
///
///   Lifecycle life(logger);
///   life.Add("store writer", [&] { return writer.Start(); }, [&] { writer.Stop(); });
///   life.Add("monitor", ...);
///   if (auto started = life.Start(); !started) { ...; return 1; }   // already stopped again
///   stop.Wait...;  life.Stop();
namespace railwatch::app {

/// Starts and stops components in order. Not thread-safe: one owner (the thread that runs
/// the service) calls Add, Start and Stop.
class Lifecycle {
  public:
    /// Starts the component; an error (or an exception, caught and turned into kInternal) means it
    /// did not start and holds nothing that Stop would have to release.
    using StartFn = std::function<util::Result<void>()>;
    /// Stops the component; must not throw (an exception is caught and logged).
    using StopFn = std::function<void()>;

    /// `log` (optional, not owned, must outlive the lifecycle) receives one line per start and stop.
    explicit Lifecycle(spdlog::logger* log = nullptr) : log_(log) {}
    /// Stops what is still running (Stop()).
    ~Lifecycle();

    Lifecycle(const Lifecycle&) = delete;
    Lifecycle& operator=(const Lifecycle&) = delete;

    /// Appends a component. `start` may be empty (nothing to start) and so may `stop`.
    /// Components added after Start() are not started by it.
    void Add(std::string name, StartFn start, StopFn stop);

    /// Starts every component in the order added. When one fails, the ones already started are
    /// stopped in reverse order (each exactly once) and the error names the failed component;
    /// the failed one is not stopped (its Start cleans up after itself). Called at most once.
    util::Result<void> Start();

    /// Stops every started component in reverse order, each exactly once; later calls do nothing.
    void Stop();

    /// Names of the components running now, in start order.
    std::vector<std::string> Running() const;

  private:
    struct Component {
        std::string name;
        StartFn start;
        StopFn stop;
        bool running = false;
    };

    void StopRunning();

    spdlog::logger* log_;
    std::vector<Component> components_;
    bool started_ = false;
};

}  // namespace railwatch::app
