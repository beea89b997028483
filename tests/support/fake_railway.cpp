#include "fake_railway.hpp"

#include <nlohmann/json.hpp>

namespace railwatch::test {
namespace {

using nlohmann::json;

std::string Timestamp(int second) {
    char buffer[64];
    std::snprintf(buffer, sizeof(buffer), "2026-01-01T00:%02d:%02d.000000000Z", (second / 60) % 60, second % 60);
    return buffer;
}

json DeploymentJson(const std::string& id, const std::string& status) {
    return {{"id", id},
            {"status", status},
            {"statusUpdatedAt", "2026-01-01T00:00:05.000Z"},
            {"createdAt", "2026-01-01T00:00:00.000Z"},
            {"updatedAt", "2026-01-01T00:00:05.000Z"},
            {"url", nullptr},
            {"staticUrl", "web-" + id + ".up.railway.app"},
            {"deploymentStopped", false},
            {"canRedeploy", true},
            {"instances", json::array()},
            {"serviceId", "svc-" + id},
            {"environmentId", "env-1"},
            {"projectId", "prj-1"}};
}

json LogsJson(const std::vector<std::string>& messages, const json& start_date) {
    json lines = json::array();
    std::string start = start_date.is_string() ? start_date.get<std::string>() : "";
    for (std::size_t i = 0; i < messages.size(); ++i) {
        const std::string ts = Timestamp(static_cast<int>(i));
        if (!start.empty() && ts < start) continue;  // same format: lexical order is time order
        lines.push_back({{"timestamp", ts}, {"message", messages[i]}, {"severity", "info"}});
    }
    return lines;
}

// An error as Railway sends it: INTERNAL_SERVER_ERROR and a traceId whatever the message, and
// the path of the field that failed (none for a whole-request failure).
json RailwayError(const std::string& message, const std::string& path) {
    json error = {{"message", message},
                  {"extensions", {{"code", "INTERNAL_SERVER_ERROR"}, {"traceId", "fake-trace-" + path}}}};
    if (!path.empty()) error["path"] = json::array({path});
    return error;
}

}  // namespace

FakeRailway::FakeRailway(std::string account_token, std::string project_token)
    : account_token_(std::move(account_token)),
      project_token_(std::move(project_token)),
      server_([this](const LoopbackRequest& request) { return Handle(request); }) {}

void FakeRailway::AddDeployment(const std::string& id, FakeDeployment deployment) {
    std::lock_guard lock(mutex_);
    deployments_[id] = std::move(deployment);
}

void FakeRailway::AddSuccessfulDeployments(int count) {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < count; ++i)
        deployments_["dep-" + std::to_string(i)] = FakeDeployment{{"SUCCESS"}, {}, {}};
}

void FakeRailway::SetFaults(FakeFaults faults) {
    std::lock_guard lock(mutex_);
    faults_config_ = faults;
    random_.seed(faults.seed);
}

void FakeRailway::SetRateLimit(int per_window, int retry_after_s) {
    std::lock_guard lock(mutex_);
    rate_limit_ = per_window;
    retry_after_s_ = retry_after_s;
}

int FakeRailway::status_queries(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = queries_.find(id);
    return it == queries_.end() ? 0 : it->second;
}

LoopbackReply FakeRailway::Handle(const LoopbackRequest& request) {
    ++requests_;
    if (request.target.find("source=railwatch") == std::string::npos) all_had_source_ = false;
    if (request.Header("User-Agent").rfind("railwatch/", 0) != 0) all_had_user_agent_ = false;

    std::unique_lock lock(mutex_);
    // Faults first: they model the network and the edge, before Railway sees the request.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const double draw = unit(random_);
    const FakeFaults& f = faults_config_;
    if (draw < f.http5xx) {
        ++faults_;
        static constexpr int kCodes[] = {500, 502, 503};
        const int code = kCodes[next_5xx_++ % 3];
        LoopbackReply reply;
        reply.status = code;
        reply.body = code == 502
                         ? "<html><head><title>502 Bad Gateway</title></head></html>"
                         : R"({"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]})";
        return reply;
    }
    if (draw < f.http5xx + f.hang) {
        ++faults_;
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kHang;
        reply.delay = f.hang_for;
        return reply;
    }
    if (draw < f.http5xx + f.hang + f.reset) {
        ++faults_;
        LoopbackReply reply;
        reply.action = LoopbackReply::Action::kReset;
        return reply;
    }

    const auto with_limits = [&](LoopbackReply reply) {
        reply.headers.emplace_back("X-RateLimit-Limit", std::to_string(rate_limit_));
        reply.headers.emplace_back("X-RateLimit-Remaining", std::to_string(std::max(0, rate_limit_ - rate_used_)));
        reply.headers.emplace_back("X-RateLimit-Reset", "3600");
        return reply;
    };
    if (rate_used_ >= rate_limit_) {
        LoopbackReply reply = LoopbackReply::Json(429, "");
        reply.headers.emplace_back("Retry-After", std::to_string(retry_after_s_));
        return with_limits(std::move(reply));
    }
    ++rate_used_;

    const std::string bearer = request.Header("Authorization");
    const std::string project = request.Header("Project-Access-Token");
    const bool authorized = (!bearer.empty() && bearer == "Bearer " + account_token_) ||
                            (bearer.empty() && !project.empty() && project == project_token_);
    if (!authorized) {
        return with_limits(LoopbackReply::Json(
            200, json{{"data", nullptr}, {"errors", json::array({RailwayError("Not Authorized", "")})}}.dump()));
    }

    const json body = json::parse(request.body, nullptr, false);
    if (!body.is_object() || !body.contains("query")) {
        return with_limits(LoopbackReply::Json(
            400,
            R"({"errors":[{"message":"Must provide query string.","extensions":{"code":"GRAPHQL_PARSE_FAILED"}}]})"));
    }
    const std::string operation = body.value("operationName", "");
    const json variables = body.value("variables", json::object());

    if (operation == "DeploymentStatuses" || operation == "DeploymentPoll") {  // the full and the poll selection
        json data = json::object();
        json errors = json::array();
        for (const auto& [name, value] : variables.items()) {
            const std::string alias = "d" + name.substr(2);
            const std::string id = value.get<std::string>();
            ++aliases_;
            ++queries_[id];
            auto it = deployments_.find(id);
            if (it == deployments_.end()) {
                errors.push_back(RailwayError("Deployment not found", alias));
                continue;
            }
            const int n = queries_[id];
            const auto& statuses = it->second.statuses;
            const std::string status =
                statuses.empty() ? "SUCCESS" : statuses[std::min<std::size_t>(n - 1, statuses.size() - 1)];
            data[alias] = DeploymentJson(id, status);
        }
        // Railway's null propagation: `deployment` is non-null, so one error nulls all of data.
        json answer = {{"data", errors.empty() ? data : json(nullptr)}};
        if (!errors.empty()) answer["errors"] = errors;
        return with_limits(LoopbackReply::Json(200, answer.dump()));
    }
    if (operation == "DeploymentLogs" || operation == "BuildLogs") {
        const std::string id = variables.value("deploymentId", "");
        auto it = deployments_.find(id);
        const std::string field = operation == "BuildLogs" ? "buildLogs" : "deploymentLogs";
        if (it == deployments_.end()) {
            return with_limits(LoopbackReply::Json(
                200, json{{"data", nullptr}, {"errors", json::array({RailwayError("Deployment not found", field)})}}
                         .dump()));
        }
        const auto& messages = operation == "BuildLogs" ? it->second.build_logs : it->second.deploy_logs;
        json start = variables.contains("startDate") ? variables["startDate"] : json();
        return with_limits(LoopbackReply::Json(200, json{{"data", {{field, LogsJson(messages, start)}}}}.dump()));
    }
    if (operation == "DeploymentEvents") {
        return with_limits(LoopbackReply::Json(200, R"({"data":{"deploymentEvents":{"edges":[]}}})"));
    }
    return with_limits(
        LoopbackReply::Json(400, json{{"errors",
                                       {{{"message", "Unknown operation " + operation + " (not served by the fake)"},
                                         {"extensions", {{"code", "GRAPHQL_VALIDATION_FAILED"}}}}}}}
                                     .dump()));
}

}  // namespace railwatch::test
