#include "app/engine.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>

#include "app/monitor_engine.hpp"
#include "app/root.hpp"

namespace railwatch::app {

namespace {

// The schedule's leases name the process: [monitor] worker_id, else host name and listen
// address — the same after a restart (the engine then takes back what its crashed life had
// claimed), and different for two processes listening on one host.
std::string WorkerId(const Config& config) {
    if (!config.monitor.worker_id.empty()) return config.monitor.worker_id;
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    return fmt::format("{}-{}", host[0] != '\0' ? host.data() : "railwatch", config.server.listen);
}

}  // namespace

util::Result<std::unique_ptr<Engine>> MakeEngine(const EngineDeps& deps) {
    return std::unique_ptr<Engine>(std::make_unique<MonitorEngine>(deps, WorkerId(deps.root.config())));
}

}  // namespace railwatch::app
