#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "core/stats_history.hpp"
#include "monitor/operations.hpp"
#include "util/result.hpp"

namespace railwatch::notify {
class Notifier;
}

/// The monitoring engine as `serve` runs it: monitor::Operations plus start and stop. MakeEngine
/// is the one place that chooses the implementation (app/monitor_engine.hpp: monitor::Monitor).
namespace railwatch::app {

class Root;

/// Thread-safety: the Operations methods from any thread at once (monitor/operations.hpp); Start
/// and Stop from the owning thread, each once.
class Engine : public monitor::Operations {
  public:
    /// Starts the engine's threads. Errors: whatever keeps it from running (the store, Railway).
    virtual util::Result<void> Start() = 0;
    /// Stops the threads after their in-flight writes. Idempotent.
    virtual void Stop() = 0;
    /// What this engine is, for the start-up log ("monitoring engine (worker host-123-w…)").
    virtual std::string_view Describe() const = 0;
    /// The Railway request budget as GET /stats shows it; nullopt before the first Railway
    /// request. Any thread.
    virtual std::optional<core::BudgetStatus> Budget() const = 0;
    /// Deployment status checks per minute over the last 5 minutes, as GET /stats shows it. Any
    /// thread.
    virtual double ChecksPerMinute() const = 0;
};

/// What an engine is built from. Everything referenced must outlive the engine.
struct EngineDeps {
    Root& root;                  ///< config, clock, store, Railway client, metrics
    monitor::EventSink& events;  ///< receives every change once it is durable
    notify::Notifier* notifier;  ///< plans outbox rows for transitions; may be null
    /// Told each delivery attempt's row as recorded (the event stream's `delivery` events), on
    /// the notifier's threads; may be empty.
    std::function<void(const store::OutboxRow&)> deliveries = {};
};

/// Builds the engine `serve` runs: monitor::Monitor with a worker id unique to this process
/// (host, pid, random), its changes' notifications planned by `deps.notifier`. Errors: none yet
/// (the engine reports trouble when it starts).
util::Result<std::unique_ptr<Engine>> MakeEngine(const EngineDeps& deps);

}  // namespace railwatch::app
