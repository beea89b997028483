#include "app/engine.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <array>

#include "app/monitor_engine.hpp"
#include "app/root.hpp"
#include "util/ids.hpp"

namespace railwatch::app {

namespace {

// Unique per process sharing a store: the schedule's leases name it.
std::string WorkerId() {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    return fmt::format("{}-{}-{}", host[0] != '\0' ? host.data() : "railwatch", ::getpid(), util::NewId("w"));
}

}  // namespace

util::Result<std::unique_ptr<Engine>> MakeEngine(const EngineDeps& deps) {
    return std::unique_ptr<Engine>(std::make_unique<MonitorEngine>(deps, WorkerId()));
}

}  // namespace railwatch::app
