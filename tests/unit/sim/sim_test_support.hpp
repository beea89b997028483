#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.hpp"
#include "sim/connection_reset.hpp"
#include "sim/simulator.hpp"
#include "sim/world.hpp"
#include "util/clock.hpp"

/// Helpers for the Simulator's unit tests: requests without sockets, a FakeClock, a recording
/// connection resetter.
namespace railwatch::sim::testing {

using json = nlohmann::json;

/// A POST /graphql/v2 with a Bearer token ("" for none).
inline net::ServerRequest Gql(const std::string& query, json variables = json::object(),
                              const std::string& token = "sim-account-token") {
    net::ServerRequest req;
    req.method = "POST";
    req.path = "/graphql/v2";
    req.has_query = true;
    req.query = "source=test";
    req.remote_addr = "127.0.0.1";
    if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
    req.body = json{{"query", query}, {"variables", variables}}.dump();
    return req;
}

/// The same with a Project-Access-Token instead.
inline net::ServerRequest ProjectGql(const std::string& query, json variables = json::object(),
                                     std::string token = "sim-project-token") {
    net::ServerRequest req = Gql(query, std::move(variables), "");
    req.headers.emplace_back("Project-Access-Token", std::move(token));
    return req;
}

inline net::ServerRequest Control(std::string method, std::string path, std::string body = "",
                                  std::vector<std::pair<std::string, std::string>> params = {}) {
    net::ServerRequest req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    req.params = std::move(params);
    return req;
}

inline std::string Header(const net::ServerResponse& res, std::string_view name) {
    for (const auto& [k, v] : res.headers)
        if (k == name) return v;
    return "";
}

inline bool HasHeader(const net::ServerResponse& res, std::string_view name) {
    for (const auto& [k, v] : res.headers)
        if (k == name) return true;
    return false;
}

/// Records the requests whose connection the simulator asked to reset.
class RecordingResetter final : public ConnectionResetter {
  public:
    bool Reset(const net::ServerRequest& req) override {
        std::lock_guard lock(mutex_);
        resets_.push_back(req.path);
        return true;
    }
    std::size_t Count() const {
        std::lock_guard lock(mutex_);
        return resets_.size();
    }

  private:
    mutable std::mutex mutex_;
    std::vector<std::string> resets_;
};

/// A Simulator on a FakeClock with limits off and time 60× faster.
class SimulatorTest : public ::testing::Test {
  protected:
    virtual SimConfig Config() {
        SimConfig c;
        c.rate_limit = {.rps = 0, .rph = 0, .edge_rps = 0};
        c.time_scale = 60;
        return c;
    }
    void SetUp() override { sim_ = std::make_unique<Simulator>(Config(), clock_, &resetter_); }

    std::vector<std::string> Create(const json& spec) {
        auto res = sim_->HandleControl(Control("POST", "/_sim/deployments", spec.dump()));
        EXPECT_EQ(res.status, 201) << res.body;
        return json::parse(res.body)["ids"].get<std::vector<std::string>>();
    }
    json Configure(const json& settings) {
        auto res = sim_->HandleControl(Control("POST", "/_sim/config", settings.dump()));
        EXPECT_EQ(res.status, 200) << res.body;
        return json::parse(res.body);
    }
    json Query(const std::string& q, const json& vars = json::object(), int expect_status = 200) {
        auto res = sim_->HandleGraphql(Gql(q, vars));
        EXPECT_EQ(res.status, expect_status) << res.body;
        return json::parse(res.body);
    }
    json Send(const net::ServerRequest& req, int expect_status = 200) {
        auto res = sim_->HandleGraphql(req);
        EXPECT_EQ(res.status, expect_status) << res.body;
        return json::parse(res.body);
    }
    json Truth(const std::string& id) { return sim_->Truth({id})["deployments"][0]; }

    util::FakeClock clock_;
    RecordingResetter resetter_;
    std::unique_ptr<Simulator> sim_;
};

}  // namespace railwatch::sim::testing
