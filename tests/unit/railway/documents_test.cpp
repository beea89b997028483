#include "railway/documents.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/scripted_transport.hpp"
#include "railway/client.hpp"

namespace railwatch::railway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::size_t Count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
        ++n;
    return n;
}

TEST(Documents, BatchHasOneAliasAndVariablePerDeployment) {
    const std::string doc = documents::DeploymentStatusBatch(3);
    EXPECT_THAT(doc, HasSubstr("query DeploymentStatuses($id0: String!, $id1: String!, $id2: String!)"));
    EXPECT_THAT(doc, HasSubstr("d2: deployment(id: $id2) { ...DeploymentStatusFields }"));
    EXPECT_EQ(Count(doc, ": deployment(id:"), 3u);
    EXPECT_EQ(Count(documents::DeploymentStatusBatch(50), ": deployment(id:"), 50u);
    EXPECT_THAT(doc, HasSubstr("fragment DeploymentStatusFields on Deployment"));
}

TEST(Documents, StatusSelectionHasEveryFieldTheIssueAsksFor) {
    for (const char* field :
         {"id", "status", "statusUpdatedAt", "createdAt", "updatedAt", "url", "staticUrl", "deploymentStopped",
          "canRedeploy", "instances { status }", "serviceId", "environmentId", "projectId"}) {
        EXPECT_THAT(std::string(documents::kDeploymentStatusFragment), HasSubstr(field));
    }
}

TEST(Documents, AllDocumentsListsEveryOperationAndEachBatchSize) {
    const auto all = documents::AllDocuments({1, 2, 50});
    EXPECT_EQ(all.size(), 31u);
    EXPECT_EQ(all[0].name, "DeploymentStatuses[1]");
    EXPECT_EQ(all[1].name, "DeploymentPoll[1]");
    EXPECT_EQ(all[2].name, "LogsSince[1]");
    EXPECT_EQ(all[3].name, "PhaseChanges[1]");
    EXPECT_EQ(all[8].name, "DeploymentStatuses[50]");
    EXPECT_EQ(all[9].name, "DeploymentPoll[50]");
    EXPECT_EQ(all[9].query, documents::DeploymentPollBatch(50));
    EXPECT_EQ(all[10].name, "LogsSince[50]");
    EXPECT_EQ(all[11].name, "PhaseChanges[16]");  // the most a request carries
}

// A flood of phase changes' reads: each deployment's steps and build log, and its deploy log
// where asked, each log from its own start date.
TEST(Documents, PhaseChangesAskEachDeploymentsStepsAndLogsFromTheirOwnStarts) {
    const std::string doc = documents::PhaseChangeBatch({true, false});
    EXPECT_EQ(Count(doc, ": deploymentEvents(id:"), 2u);
    EXPECT_EQ(Count(doc, ": buildLogs(deploymentId:"), 2u);
    EXPECT_EQ(Count(doc, ": deploymentLogs(deploymentId:"), 1u);
    EXPECT_THAT(doc, HasSubstr("query PhaseChanges($first: Int, $limit: Int, $id0: String!, $bs0: DateTime, "
                               "$ds0: DateTime, $id1: String!, $bs1: DateTime) {"));
    EXPECT_THAT(doc, HasSubstr(" e1: deploymentEvents(id: $id1, first: $first) {"));
    EXPECT_THAT(doc, HasSubstr(" b1: buildLogs(deploymentId: $id1, limit: $limit, startDate: $bs1) {"));
    EXPECT_THAT(doc, HasSubstr(" d0: deploymentLogs(deploymentId: $id0, limit: $limit, startDate: $ds0) {"));
    EXPECT_THAT(doc, Not(HasSubstr("$ds1")));
}

// A stall's confirmations: one alias per deployment, each of its phase's log kind, read from its
// own start date.
TEST(Documents, LogsSinceAsksEachDeploymentsLogFromItsOwnStart) {
    const std::string doc = documents::LogsSinceBatch({true, false, true});
    EXPECT_EQ(Count(doc, ": buildLogs(deploymentId:"), 2u);
    EXPECT_EQ(Count(doc, ": deploymentLogs(deploymentId:"), 1u);
    EXPECT_THAT(doc, HasSubstr("query LogsSince($limit: Int, $id0: String!, $since0: DateTime, $id1: String!"));
    EXPECT_THAT(doc, HasSubstr(" l1: deploymentLogs(deploymentId: $id1, limit: $limit, startDate: $since1) {"));
    EXPECT_THAT(doc, HasSubstr(" l2: buildLogs(deploymentId: $id2, limit: $limit, startDate: $since2) {"));
}

// A document for any count is cut from the pieces made for the most a request carries: the same
// text as the pieces made for that count alone, with exactly its aliases.
TEST(Documents, EveryCountIsCutFromTheLargestDocumentsPieces) {
    const documents::AliasBatchParts largest = documents::DeploymentPollBatchParts(500);
    for (const std::size_t n : {1u, 2u, 37u, 399u, 400u, 500u}) {
        const std::string doc = largest.Document(n);
        EXPECT_EQ(doc, documents::DeploymentPollBatchParts(n).Document(n)) << n;
        EXPECT_EQ(largest.Size(n), doc.size()) << n;
        EXPECT_EQ(Count(doc, ": deployment(id:"), n);
        EXPECT_EQ(Count(doc, ": String!"), n);
        const std::string last = "$id" + std::to_string(n - 1) + ": String!) {";
        EXPECT_THAT(doc, HasSubstr(last)) << n;
        EXPECT_THAT(doc, HasSubstr(" d" + std::to_string(n - 1) + ": deployment(id: $id" + std::to_string(n - 1) +
                                   ") { ...DeploymentPollFields } } fragment"))
            << n;
    }
    EXPECT_EQ(documents::DeploymentStatusBatchParts(500).Document(3), documents::DeploymentStatusBatch(3));
}

// The poll asks for what the check decides on and nothing it would parse and drop.
TEST(Documents, PollBatchSelectsTheStatusAndItsTimesOnly) {
    const std::string doc = documents::DeploymentPollBatch(2);
    EXPECT_THAT(doc, HasSubstr("query DeploymentPoll($id0: String!, $id1: String!)"));
    EXPECT_THAT(doc, HasSubstr("d1: deployment(id: $id1) { ...DeploymentPollFields }"));
    EXPECT_EQ(Count(doc, ": deployment(id:"), 2u);
    EXPECT_THAT(doc, ::testing::EndsWith("fragment DeploymentPollFields on Deployment { status statusUpdatedAt "
                                         "createdAt updatedAt deploymentStopped }"));
    for (const char* field : {"url", "serviceId", "instances", "canRedeploy", " id "})
        EXPECT_EQ(std::string(documents::kDeploymentPollFragment).find(field), std::string::npos) << field;
}

// The phase change's parts are the single documents' roots with their selections, aliased.
TEST(Documents, PhaseChangeAsksTheStepsAndTheLogsAsTheirOwnDocumentsDo) {
    const std::string full(documents::kPhaseChange);
    EXPECT_THAT(full, HasSubstr("events: deploymentEvents(id: $id, first: $first) { edges { node { step"));
    EXPECT_THAT(full, HasSubstr("build: buildLogs(deploymentId: $id, limit: $limit, startDate: $buildStart) "
                                "{ timestamp message severity attributes { key value } }"));
    EXPECT_THAT(full, HasSubstr("deploy: deploymentLogs(deploymentId: $id, limit: $limit, startDate: $deployStart)"));
    const std::string build(documents::kPhaseChangeBuild);
    EXPECT_THAT(build, HasSubstr("build: buildLogs("));
    EXPECT_EQ(build.find("deploymentLogs"), std::string::npos);
    EXPECT_EQ(build.find("deployStart"), std::string::npos);
    // The steps' selection is the one GetDeploymentEvents sends.
    const std::string events(documents::kDeploymentEvents);
    const auto selection = events.substr(events.find("{ edges"));
    EXPECT_THAT(full, HasSubstr(selection.substr(0, selection.size() - 2)));
}

TEST(Documents, LogQueriesSelectAttributesAndTakeAnEndDate) {
    for (std::string_view doc : {documents::kDeploymentLogs, documents::kBuildLogs}) {
        EXPECT_THAT(std::string(doc), HasSubstr("attributes { key value }"));
        EXPECT_THAT(std::string(doc), HasSubstr("endDate: $endDate"));
    }
}

// A client that only builds request bodies (nothing is sent).
struct BodyBuilder {
    util::FakeClock clock;
    RequestBudget budget{clock, {}};
    core::SequenceRandom random{{0.0}};
    fakes::ScriptedTransport transport;
    RailwayClient client{transport, clock, budget, random, {TokenKind::kAccount, "t"}, {}};
};

TEST(Documents, BatchBodyIsJsonWithEscapedIds) {
    BodyBuilder builder;
    const std::vector<std::string> ids = {"plain", "quo\"te\\back\nnl"};
    const auto body = nlohmann::json::parse(builder.client.BuildStatusBatchBody(ids));
    EXPECT_EQ(body["operationName"], "DeploymentStatuses");
    EXPECT_EQ(body["variables"]["id0"], "plain");
    EXPECT_EQ(body["variables"]["id1"], "quo\"te\\back\nnl");
    EXPECT_EQ(body["query"], documents::DeploymentStatusBatch(2));
}

// Every id gets the variable its alias asks with ($id0 .. $idN-1, written by hand per id), several
// digits long too, and nothing else is in the variables.
TEST(Documents, BatchBodyGivesEveryIdItsOwnVariable) {
    BodyBuilder builder;
    std::vector<std::string> ids;
    ids.reserve(123);
    for (int i = 0; i < 123; ++i)
        ids.push_back("dep-" + std::to_string(i));
    const auto body = nlohmann::json::parse(builder.client.BuildStatusBatchBody(ids));
    ASSERT_EQ(body["variables"].size(), ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        EXPECT_EQ(body["variables"]["id" + std::to_string(i)], ids[i]) << i;
    EXPECT_EQ(body["query"], documents::DeploymentStatusBatch(ids.size()));
}

}  // namespace
}  // namespace railwatch::railway
