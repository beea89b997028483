#include "cli/log_follow.hpp"

#include "util/rfc3339.hpp"

namespace railwatch::cli {
namespace {

using nlohmann::json;

std::string Field(const json& line, const char* name) {
    auto it = line.find(name);
    return it != line.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// What tells two lines with the same timestamp apart.
std::string Identity(const json& line) {
    return Field(line, "kind") + '\x1f' + Field(line, "severity") + '\x1f' + Field(line, "message");
}

}  // namespace

std::vector<json> LogFollower::Take(const json& answer) {
    std::optional<std::string> deployment;
    if (answer.is_object()) {
        auto it = answer.find("deploymentId");
        if (it != answer.end() && it->is_string()) deployment = it->get<std::string>();
    }
    deployment_changed_ = started_ && deployment != deployment_id_;
    const bool fresh = !started_ || deployment_changed_;
    if (fresh) {
        last_at_.reset();
        at_last_.clear();
    }
    started_ = true;
    deployment_id_ = deployment;

    std::vector<json> out;
    const json empty = json::array();
    const json& items =
        answer.is_object() && answer.contains("items") && answer["items"].is_array() ? answer["items"] : empty;
    for (const json& line : items) {
        if (!line.is_object()) continue;
        auto at = util::ParseRfc3339(Field(line, "timestamp"));
        if (!at) {
            if (fresh) out.push_back(line);
            continue;
        }
        if (!last_at_ || *at > *last_at_) {
            last_at_ = *at;
            at_last_ = {Identity(line)};
            out.push_back(line);
        } else if (*at == *last_at_ && at_last_.insert(Identity(line)).second) {
            out.push_back(line);
        }
    }
    return out;
}

util::Result<void> FollowLogs(RestClient& client, const util::Clock& clock, util::Wakeup& wakeup, const std::string& id,
                              const FollowOptions& options, const FollowSink& sink) {
    LogFollower follower;
    int limit = options.initial_limit;
    while (!wakeup.Stopped()) {
        auto answer = client.Logs(id, limit);
        if (!answer) return tl::unexpected(answer.error());
        // A stop during the request: what it brought is still shown, nothing more is asked.
        const std::vector<json> lines = follower.Take(*answer);
        const std::string deployment = follower.deployment_id().value_or("");
        if (follower.deployment_changed() && sink.on_deployment) sink.on_deployment(deployment);
        for (const json& line : lines)
            sink.on_line(line, deployment);
        limit = options.poll_limit;
        if (wakeup.Stopped()) break;
        if (clock.WaitFor(options.interval, wakeup) == util::WakeReason::kStopped) break;
    }
    return util::Ok();
}

}  // namespace railwatch::cli
