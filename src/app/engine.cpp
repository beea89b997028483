#include "app/engine.hpp"

#include "app/placeholder_engine.hpp"
#include "app/root.hpp"

namespace railwatch::app {

util::Result<std::unique_ptr<Engine>> MakeEngine(const EngineDeps& deps) {
    // The real engine (monitor::Monitor) plugs in here at merge time.
    return std::unique_ptr<Engine>(std::make_unique<PlaceholderEngine>(
        deps.root.store(), deps.root.clock(), deps.events, deps.root.config().monitor.intervals.default_s));
}

}  // namespace railwatch::app
