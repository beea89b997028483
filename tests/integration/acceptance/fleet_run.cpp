#include "fleet_run.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <thread>

#include "util/rfc3339.hpp"

namespace railwatch::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kAccountToken = "engine-it-account-token";

// Check intervals of the run (seconds): short, so a run takes minutes, not hours.
const std::map<std::string, double>& Intervals() {
    static const std::map<std::string, double> intervals = {{"INITIALIZING", 1}, {"BUILDING", 1}, {"DEPLOYING", 1},
                                                            {"SUCCESS", 2},      {"FAILED", 2},   {"CRASHED", 2},
                                                            {"default", 1}};
    return intervals;
}

std::string ConfigText() {
    std::string text =
        "[railway]\nrequests_per_hour = 1000000\nrequests_per_second = 1000\nbatch_size = 50\n\n"
        "[monitor]\nstuck_after_seconds = 30\ntimeout_after_seconds = 600\n\n[monitor.intervals]\n";
    for (const auto& [status, seconds] : Intervals())
        text += status + " = " + std::to_string(static_cast<int>(seconds)) + "\n";
    return text;
}

// Lifecycle kinds with the failure reasons each can carry (none for the kinds that do not fail).
const std::vector<std::pair<std::string, std::vector<std::string>>>& Kinds() {
    static const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
        {"success", {}},
        {"build_failed", {"npm_elifecycle", "missing_env", "etimedout", "python_settings"}},
        {"deploy_failed", {"healthcheck", "missing_env", "oom", "etimedout", "python_settings"}},
        {"crash_after_success", {"oom", "missing_env", "etimedout"}},
        {"crash_loop", {"missing_env", "oom"}},
        {"stuck_initializing", {}},
        {"stuck_deploying", {}},
        {"needs_approval", {}},
        {"waiting_skipped", {}},
        {"removed", {}},
        {"sleeping", {}},
    };
    return kinds;
}

std::string UrlEncode(const std::string& text) {
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

}  // namespace

double FleetRun::IntervalOf(const std::string& status) {
    const auto it = Intervals().find(status);
    return it == Intervals().end() ? Intervals().at("default") : it->second;
}

FleetRun::FleetRun(Options options) : options_(std::move(options)), dir_("railwatch-engine-it-") {}

bool FleetRun::Start() {
    sim_ = std::make_unique<SimProcess>(std::vector<std::string>{"--account-token", kAccountToken, "--time-scale",
                                                                 std::to_string(options_.time_scale), "--seed", "9"});
    if (sim_->port() == 0) {
        problem = "railwatch sim did not start:\n" + sim_->Log();
        return false;
    }
    const json limits_off =
        json::parse(sim_->Post("/_sim/config", R"({"rateLimit":{"rps":0,"rph":0,"edgeRps":0}})"), nullptr, false);
    if (limits_off.is_discarded() || limits_off.contains("error")) {
        problem = "the sim refused its settings: " + limits_off.dump();
        return false;
    }
    const std::string config = dir_.File("railwatch.toml");
    std::ofstream(config) << ConfigText();
    ServeOptions serve;
    serve.db_url = "sqlite:" + dir_.File("railwatch.db");
    serve.railway_url = sim_->GraphqlUrl();
    serve.config_file = config;
    serve.log_file = dir_.File("serve.log");
    serve.env = {std::string("RAILWAY_API_TOKEN=") + kAccountToken};
    serve_ = std::make_unique<ServeProcess>(serve);
    if (!serve_->Start()) {
        problem = "railwatch serve did not start:\n" + serve_->Log();
        return false;
    }
    return true;
}

bool FleetRun::AddFleet() {
    // One create call per (kind, reason), as evenly as the count allows.
    std::vector<std::pair<std::string, std::string>> specs;
    for (const auto& [kind, reasons] : Kinds()) {
        if (reasons.empty()) specs.emplace_back(kind, "");
        for (const auto& reason : reasons)
            specs.emplace_back(kind, reason);
    }
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const int count = options_.deployments / static_cast<int>(specs.size()) +
                          (static_cast<int>(i) < options_.deployments % static_cast<int>(specs.size()) ? 1 : 0);
        if (count == 0) continue;
        json spec = {{"count", count}, {"kind", specs[i].first}};
        if (!specs[i].second.empty()) spec["reason"] = specs[i].second;
        const json created = json::parse(sim_->Post("/_sim/deployments", spec.dump()), nullptr, false);
        if (created.is_discarded() || !created.contains("ids")) {
            problem = "the sim did not create " + spec.dump() + ": " + created.dump();
            return false;
        }
        for (const auto& id : created["ids"])
            ids.push_back(id.get<std::string>());
    }
    for (const auto& [id, truth] : Truth(ids))
        created_[id] = truth;
    if (created_.size() != ids.size()) {
        problem = "the sim's truth misses created deployments";
        return false;
    }
    if (!options_.sim_config.is_null()) {
        const json answer = json::parse(sim_->Post("/_sim/config", options_.sim_config.dump()), nullptr, false);
        if (answer.is_discarded() || answer.contains("error")) {
            problem = "the sim refused " + options_.sim_config.dump() + ": " + answer.dump();
            return false;
        }
    }
    for (const auto& [id, truth] : created_) {
        // One user per instance: its in-app inbox then holds exactly that instance's notices.
        const auto user = serve_->Post("/api/v1/users", {{"email", "owner-" + id + "@example.com"}});
        if (user.status != 201) {
            problem = "POST /api/v1/users answered " + std::to_string(user.status) + ": " + user.raw;
            return false;
        }
        user_of_[id] = user.body["id"].get<std::string>();
        const json body = {{"serviceId", truth["serviceId"]},
                           {"userId", user_of_[id]},
                           {"environmentId", truth["environmentId"]},
                           {"deploymentId", id},
                           {"projectName", "acceptance"}};
        // The API may answer 503 while Railway or the store is briefly unavailable: retry a few times.
        ServeProcess::Reply reply;
        for (int attempt = 0; attempt < 5 && reply.status != 201; ++attempt) {
            reply = serve_->Post("/api/v1/instances", body);
            if (reply.status != 201) std::this_thread::sleep_for(200ms);
        }
        if (reply.status != 201) {
            problem = "POST /api/v1/instances answered " + std::to_string(reply.status) + ": " + reply.raw;
            return false;
        }
        instance_of_[id] = reply.body["id"].get<std::string>();
    }
    return true;
}

std::vector<json> FleetRun::Instances() const {
    std::vector<json> all;
    // The default list leaves DELETED instances out (a REMOVED deployment's among them): ask for
    // those separately.
    for (const std::string filter : {"", "&status=DELETED"}) {
        std::string cursor;
        for (int page = 0; page < 1000; ++page) {
            const auto reply = serve_->Get("/api/v1/instances?limit=500" + filter +
                                           (cursor.empty() ? "" : "&cursor=" + UrlEncode(cursor)));
            if (reply.status != 200 || !reply.body.contains("items")) {
                ADD_FAILURE() << "GET /api/v1/instances answered " << reply.status << ": " << reply.raw.substr(0, 500);
                break;
            }
            for (const auto& item : reply.body["items"])
                all.push_back(item);
            if (!reply.body.contains("nextCursor") || !reply.body["nextCursor"].is_string()) break;
            cursor = reply.body["nextCursor"].get<std::string>();
        }
    }
    return all;
}

std::map<std::string, json> FleetRun::Truth(const std::vector<std::string>& ids) const {
    std::map<std::string, json> out;
    for (std::size_t start = 0; start < ids.size(); start += 100) {
        std::string query;
        for (std::size_t i = start; i < std::min(ids.size(), start + 100); ++i)
            query += (query.empty() ? "" : ",") + ids[i];
        const json truth = json::parse(sim_->Get("/_sim/truth?id=" + query), nullptr, false);
        if (truth.is_discarded() || !truth.contains("deployments")) continue;
        for (const auto& d : truth["deployments"])
            out[d["id"].get<std::string>()] = d;
    }
    return out;
}

std::vector<json> FleetRun::Notifications(const std::string& deployment_id) const {
    const auto reply = serve_->Get("/api/v1/notifications?limit=1000&userId=" + user_of_.at(deployment_id));
    std::vector<json> out;
    if (reply.status == 200 && reply.body.contains("items")) {
        for (const auto& item : reply.body["items"])
            out.push_back(item);
    }
    return out;
}

std::vector<json> FleetRun::Events(const std::string& instance_id) const {
    const auto reply = serve_->Get("/api/v1/instances/" + instance_id + "/events");
    std::vector<json> out;
    if (reply.status == 200 && reply.body.contains("items")) {
        for (const auto& item : reply.body["items"])
            out.push_back(item);
    }
    return out;
}

std::vector<std::string> FleetRun::AwaitConvergence(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::vector<std::string> open;
    while (true) {
        open.clear();
        const auto instances = Instances();
        std::vector<std::string> followed;
        for (const auto& instance : instances)
            if (instance["deploymentId"].is_string()) followed.push_back(instance["deploymentId"].get<std::string>());
        const auto truth = Truth(followed);
        const auto now = std::chrono::system_clock::now();
        for (const auto& instance : instances) {
            const std::string id = instance["id"].get<std::string>();
            if (!instance["deploymentId"].is_string()) {
                open.push_back(id);
                continue;
            }
            const auto t = truth.find(instance["deploymentId"].get<std::string>());
            if (t == truth.end()) {
                open.push_back(id);
                continue;
            }
            if (t->second["deleted"].get<bool>()) continue;  // its monitoring ends; checked by the test
            // Converged: the sim will not change this deployment any more and serve shows its final status.
            const auto final_at = t->second["finalAt"].is_string()
                                      ? util::ParseRfc3339(t->second["finalAt"].get<std::string>())
                                      : util::Result<core::Timestamp>(core::Timestamp{});
            const bool settled = final_at && *final_at <= now;
            const bool same =
                instance["deploymentStatus"].is_string() && instance["deploymentStatus"] == t->second["finalStatus"];
            if (!settled || !same) open.push_back(id);
        }
        if (open.empty() || std::chrono::steady_clock::now() >= deadline) return open;
        std::this_thread::sleep_for(2s);
    }
}

}  // namespace railwatch::test
