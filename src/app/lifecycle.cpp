#include "app/lifecycle.hpp"

#include <spdlog/logger.h>

#include <exception>

namespace railwatch::app {

Lifecycle::~Lifecycle() {
    StopRunning();
}

void Lifecycle::Add(std::string name, StartFn start, StopFn stop) {
    components_.push_back(Component{std::move(name), std::move(start), std::move(stop), false});
}

util::Result<void> Lifecycle::Start() {
    if (started_) return util::Fail(util::ErrorCode::kInternal, "Lifecycle::Start called twice");
    started_ = true;
    for (auto& component : components_) {
        util::Result<void> result;
        try {
            result = component.start ? component.start() : util::Ok();
        } catch (const std::exception& e) {
            result = util::Fail(util::ErrorCode::kInternal, e.what());
        }
        if (!result) {
            if (log_ != nullptr) log_->error("{} failed to start: {}", component.name, result.error().message);
            StopRunning();
            return util::Fail(result.error().code, "starting " + component.name + " failed: " + result.error().message);
        }
        component.running = true;
        if (log_ != nullptr) log_->info("{} started", component.name);
    }
    return util::Ok();
}

void Lifecycle::Stop() {
    StopRunning();
}

void Lifecycle::StopRunning() {
    for (auto it = components_.rbegin(); it != components_.rend(); ++it) {
        if (!it->running) continue;
        // Cleared before the call: a Stop that throws must not be called again.
        it->running = false;
        try {
            if (it->stop) it->stop();
            if (log_ != nullptr) log_->info("{} stopped", it->name);
        } catch (const std::exception& e) {
            if (log_ != nullptr) log_->error("{} failed to stop cleanly: {}", it->name, e.what());
        }
    }
}

std::vector<std::string> Lifecycle::Running() const {
    std::vector<std::string> out;
    for (const auto& component : components_)
        if (component.running) out.push_back(component.name);
    return out;
}

}  // namespace railwatch::app
