// The simulated account through the API: deleted deployments, the latest deployment of a service
// seen from every query that shows it, environments, and what each kind of token may see.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/simulator.hpp"
#include "sim_test_support.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using testing::Control;
using testing::Gql;
using testing::ProjectGql;
using testing::SimulatorTest;

const std::string kEnv(World::kEnvironmentId);

TEST_F(SimulatorTest, DeletedDeploymentsBecomeUnknownToTheApiButStayInTheTruthMarkedDeleted) {
    const auto ids = Create({{"count", 3}, {"kind", "success"}, {"serviceId", "svc-del"}});
    clock_.Advance(1h);
    auto res = sim_->HandleControl(
        Control("POST", "/_sim/deployments/delete", json{{"ids", {ids[0], ids[2], "never-existed"}}}.dump()));
    ASSERT_EQ(res.status, 200) << res.body;
    const json answer = json::parse(res.body);
    EXPECT_EQ(answer["deleted"], 2);
    EXPECT_EQ(answer["notDeleted"], json::array({"never-existed"}));
    // Deleting again deletes nothing.
    EXPECT_EQ(
        json::parse(sim_->HandleControl(Control("POST", "/_sim/deployments/delete", json{{"ids", {ids[0]}}}.dump()))
                        .body)["deleted"],
        0);

    for (const auto& q : {R"(query Q($id: String!) { deployment(id: $id) { id } })",
                          R"(query Q($id: String!) { deploymentLogs(deploymentId: $id) { message } })",
                          R"(query Q($id: String!) { deploymentEvents(id: $id) { edges { cursor } } })",
                          R"(mutation M($id: String!) { deploymentRestart(id: $id) })"}) {
        const json body = Query(q, {{"id", ids[0]}});
        EXPECT_TRUE(body["data"].is_null()) << q;
        EXPECT_EQ(body["errors"][0]["message"], "Deployment not found") << q;
    }
    Configure({{"errors", {{"unknownDeployment", "Not Authorized"}}}});
    EXPECT_EQ(
        Query(R"(query Q($id: String!) { deployment(id: $id) { id } })", {{"id", ids[2]}})["errors"][0]["message"],
        "Not Authorized");
    EXPECT_EQ(
        Query(R"(query Q($id: String!) { deployment(id: $id) { id } })", {{"id", ids[1]}})["data"]["deployment"]["id"],
        ids[1]);
    const json list = Query(R"({ deployments(input: {serviceId: "svc-del"}) { edges { node { id } } } })");
    ASSERT_EQ(list["data"]["deployments"]["edges"].size(), 1u);
    EXPECT_EQ(list["data"]["deployments"]["edges"][0]["node"]["id"], ids[1]);
    // The newest deployment is gone: the one before it is the latest now.
    const json si = Query(R"(query S($e: String!) { serviceInstance(environmentId: $e, serviceId: "svc-del") {
        latestDeployment { id } } })",
                          {{"e", kEnv}});
    EXPECT_EQ(si["data"]["serviceInstance"]["latestDeployment"]["id"], ids[1]);

    const json truth = sim_->Truth({ids[0], ids[1], "never-existed"});
    ASSERT_EQ(truth["deployments"].size(), 2u);
    EXPECT_EQ(truth["deployments"][0]["deleted"], true);
    EXPECT_TRUE(truth["deployments"][0]["deletedAt"].is_string());
    EXPECT_EQ(truth["deployments"][1]["deleted"], false);
    EXPECT_EQ(truth["unknown"], json::array({"never-existed"}));
    for (const char* bad : {R"({})", R"({"ids":"x"})", R"({"ids":[1]})", R"({"ids":[],"more":1})", "nope"})
        EXPECT_EQ(sim_->HandleControl(Control("POST", "/_sim/deployments/delete", bad)).status, 400) << bad;
}

TEST_F(SimulatorTest, ANewDeploymentOfAnExistingServiceBecomesItsLatestEverywhere) {
    const std::string first = Create({{"kind", "success"}, {"serviceId", "svc-web"}})[0];
    Create({{"kind", "success"}, {"serviceId", "svc-other"}});
    clock_.Advance(1h);
    const std::string second = Create({{"kind", "success"}, {"serviceId", "svc-web"}})[0];

    const std::string instance = R"(query S($e: String!) { serviceInstance(environmentId: $e, serviceId: "svc-web") {
        serviceId latestDeployment { id status } activeDeployments { id } } })";
    const std::string environment = R"(query E($e: String!) { environment(id: $e) {
        serviceInstances { edges { cursor node { serviceId latestDeployment { id status } } } } } })";
    const std::string listing = R"(query L($e: String!) {
        deployments(input: {environmentId: $e, serviceId: "svc-web"}, first: 5) { edges { node { id } } } })";
    auto latest_everywhere = [&](const std::string& expected, const std::vector<std::string>& newest_first) {
        const json si = Query(instance, {{"e", kEnv}})["data"]["serviceInstance"];
        EXPECT_EQ(si["latestDeployment"]["id"], expected);
        const json edges = Query(environment, {{"e", kEnv}})["data"]["environment"]["serviceInstances"]["edges"];
        ASSERT_EQ(edges.size(), 2u);
        EXPECT_EQ(edges[0]["cursor"], "svc-web");
        EXPECT_EQ(edges[0]["node"]["serviceId"], "svc-web");
        EXPECT_EQ(edges[0]["node"]["latestDeployment"]["id"], expected);
        EXPECT_EQ(edges[1]["node"]["serviceId"], "svc-other");
        const json list = Query(listing, {{"e", kEnv}})["data"]["deployments"]["edges"];
        std::vector<std::string> ids;
        for (const auto& e : list)
            ids.push_back(e["node"]["id"]);
        EXPECT_EQ(ids, newest_first);
    };
    latest_everywhere(second, {second, first});
    // While the new one builds, the old one still serves.
    EXPECT_EQ(Query(instance, {{"e", kEnv}})["data"]["serviceInstance"]["activeDeployments"],
              json::parse(R"([{"id":")" + first + R"("}])"));

    const json redeployed =
        Query(R"(mutation R($id: String!) { deploymentRedeploy(id: $id) { id } })", {{"id", second}});
    const std::string third = redeployed["data"]["deploymentRedeploy"]["id"];
    latest_everywhere(third, {third, second, first});
    clock_.Advance(1h);
    const json si = Query(instance, {{"e", kEnv}})["data"]["serviceInstance"];
    EXPECT_EQ(si["latestDeployment"]["status"], "SUCCESS");
    EXPECT_EQ(si["activeDeployments"], json::parse(R"([{"id":")" + third + R"("}])"));
    EXPECT_EQ(Truth(first)["currentStatus"], "REMOVED");
    // first: 1 and the cursor page on.
    const json page = Query(R"(query L($e: String!, $after: String) {
        deployments(input: {environmentId: $e, serviceId: "svc-web"}, first: 1, after: $after) {
          edges { node { id } } pageInfo { hasNextPage endCursor } } })",
                            {{"e", kEnv}, {"after", third}});
    EXPECT_EQ(page["data"]["deployments"]["edges"][0]["node"]["id"], second);
    EXPECT_EQ(page["data"]["deployments"]["pageInfo"]["hasNextPage"], true);
}

TEST_F(SimulatorTest, AServiceHasAnInstanceOnlyInTheEnvironmentsItWasDeployedTo) {
    Create({{"kind", "success"}, {"serviceId", "svc-stage"}, {"environmentId", "env-staging"}});
    const json staging = Query(R"({ environment(id: "env-staging") { name serviceInstances { edges { node {
        serviceId environmentId } } } } })");
    EXPECT_EQ(staging["data"]["environment"]["serviceInstances"]["edges"].size(), 1u);
    EXPECT_EQ(staging["data"]["environment"]["serviceInstances"]["edges"][0]["node"]["environmentId"], "env-staging");
    const json missing = Query(R"(query S($e: String!) { serviceInstance(environmentId: $e, serviceId: "svc-stage") {
        id } })",
                               {{"e", kEnv}});
    EXPECT_TRUE(missing["data"].is_null());
    EXPECT_EQ(missing["errors"][0]["message"], "ServiceInstance not found");
    EXPECT_EQ(Query(R"({ environment(id: "env-nowhere") { id } })")["errors"][0]["message"], "Environment not found");
}

TEST_F(SimulatorTest, AProjectTokenSeesOnlyItsOneEnvironment) {
    const std::string prod = Create({{"kind", "success"}, {"serviceId", "svc-p"}})[0];
    const std::string staging =
        Create({{"kind", "success"}, {"serviceId", "svc-s"}, {"environmentId", "env-staging"}})[0];
    const std::string by_id = R"(query Q($id: String!) { deployment(id: $id) { id environmentId } })";
    EXPECT_EQ(Send(ProjectGql(by_id, {{"id", prod}}))["data"]["deployment"]["id"], prod);
    const json denied = Send(ProjectGql(by_id, {{"id", staging}}));
    EXPECT_TRUE(denied["data"].is_null());
    EXPECT_EQ(denied["errors"][0]["message"], "Not Authorized");
    EXPECT_EQ(denied["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    for (const std::string& q :
         {R"({ deploymentLogs(deploymentId: ")" + staging + R"(") { message } })",
          std::string(R"({ deployments(input: {environmentId: "env-staging"}) { edges { cursor } } })"),
          std::string(R"({ serviceInstance(environmentId: "env-staging", serviceId: "svc-s") { id } })"),
          std::string(R"({ environment(id: "env-staging") { id } })"),
          R"(mutation { deploymentRestart(id: ")" + staging + R"(") })", std::string("{ me { id } }"),
          std::string("{ apiToken { workspaces { id } } }")}) {
        EXPECT_EQ(Send(ProjectGql(q))["errors"][0]["message"], "Not Authorized") << q;
    }
    const json listed = Send(ProjectGql("{ deployments(input: {}) { edges { node { id } } } }"));
    ASSERT_EQ(listed["data"]["deployments"]["edges"].size(), 1u);
    EXPECT_EQ(listed["data"]["deployments"]["edges"][0]["node"]["id"], prod);
    const json token = Send(ProjectGql("{ projectToken { projectId environmentId environment { id } } }"));
    EXPECT_EQ(token["data"]["projectToken"]["projectId"], World::kProjectId);
    EXPECT_EQ(token["data"]["projectToken"]["environmentId"], kEnv);
    // The account token sees both.
    EXPECT_EQ(Query(by_id, {{"id", staging}})["data"]["deployment"]["environmentId"], "env-staging");
}

class StagingProjectTokenTest : public SimulatorTest {
  protected:
    SimConfig Config() override {
        SimConfig c = SimulatorTest::Config();
        c.project_token_environment_id = "env-staging";
        return c;
    }
};

TEST_F(StagingProjectTokenTest, TheProjectTokensEnvironmentIsConfigurable) {
    const std::string prod = Create({{"kind", "success"}})[0];
    const std::string staging = Create({{"kind", "success"}, {"environmentId", "env-staging"}})[0];
    const std::string by_id = R"(query Q($id: String!) { deployment(id: $id) { id } })";
    EXPECT_EQ(Send(ProjectGql(by_id, {{"id", staging}}))["data"]["deployment"]["id"], staging);
    EXPECT_EQ(Send(ProjectGql(by_id, {{"id", prod}}))["errors"][0]["message"], "Not Authorized");
    EXPECT_EQ(Send(ProjectGql("{ projectToken { environmentId } }"))["data"]["projectToken"]["environmentId"],
              "env-staging");
}

TEST_F(SimulatorTest, AWorkspaceTokenIsNotAUserButKnowsItsWorkspace) {
    const std::string id = Create({{"kind", "success"}})[0];
    auto workspace = [](const std::string& q) { return Gql(q, json::object(), "sim-workspace-token"); };
    const json me = Send(workspace("{ me { id } }"));
    EXPECT_TRUE(me["data"].is_null());
    EXPECT_EQ(me["errors"][0]["message"], "Not Authorized");
    EXPECT_EQ(me["errors"][0]["path"], json::array({"me"}));
    const json token = Send(workspace("{ apiToken { workspaces { id name } } }"));
    EXPECT_EQ(token["data"]["apiToken"]["workspaces"][0]["id"], World::kWorkspaceId);
    const std::string own = R"({ workspace(workspaceId: ")" + std::string(World::kWorkspaceId) + R"(") { id plan } })";
    EXPECT_EQ(Send(workspace(own))["data"]["workspace"]["id"], World::kWorkspaceId);
    EXPECT_EQ(Send(workspace(R"({ workspace(workspaceId: "someone-else") { id } })"))["errors"][0]["message"],
              "Not Authorized");
    auto with_id = Gql(R"(query Q($id: String!) { deployment(id: $id) { id } })", {{"id", id}}, "sim-workspace-token");
    EXPECT_EQ(Send(with_id)["data"]["deployment"]["id"], id);
    // The account token is a user.
    EXPECT_EQ(Query("{ me { email } }")["data"]["me"]["email"], "dev@example.com");
    EXPECT_EQ(Query("{ apiToken { workspaces { id } } }")["data"]["apiToken"]["workspaces"].size(), 1u);
}

}  // namespace
}  // namespace railwatch::sim
