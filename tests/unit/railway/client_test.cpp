#include "railway/client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/scripted_transport.hpp"
#include "railway_answers.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

using core::TransportErrorKind;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "tok_SUPERSECRET_0123456789";

using answers::DeploymentNode;

std::string CanRedeployAnswer(const std::string& id, bool can, const std::string& status = "SUCCESS") {
    return json{{"data", {{"deployment", {{"id", id}, {"status", status}, {"canRedeploy", can}}}}}}.dump();
}

class ClientTest : public ::testing::Test {
  protected:
    void Make(const Credentials& credentials = {TokenKind::kAccount, kToken}, ClientConfig config = {}) {
        config.api_url = "https://backboard.railway.com/graphql/v2";
        client_ = std::make_unique<RailwayClient>(transport_, clock_, budget_, random_, credentials, config,
                                                  [this](std::string_view line) { logs_.emplace_back(line); });
    }

    void ExpectNoSecret(const ApiError& error) {
        EXPECT_THAT(error.message, Not(HasSubstr(kToken)));
        for (const auto& e : error.failure.graphql_errors)
            EXPECT_THAT(e.message, Not(HasSubstr(kToken)));
        for (const auto& line : logs_)
            EXPECT_THAT(line, Not(HasSubstr(kToken)));
    }

    // GetPhaseChanges of one deployment, its cursors read back from the ask.
    PhaseChangeReads ReadPhase(const std::string& id, LogCursor& build, LogCursor* deploy, int limit = 500) {
        PhaseChangeAsk ask{id, build, deploy ? std::optional<LogCursor>(*deploy) : std::nullopt};
        auto reads = client_->GetPhaseChanges(std::span(&ask, 1), 100, limit);
        build = ask.build_cursor;
        if (deploy) *deploy = *ask.deploy_cursor;
        return std::move(reads.at(0));
    }

    util::FakeClock clock_;
    fakes::ScriptedTransport transport_;
    core::SequenceRandom random_{{0.5}};
    RequestBudget budget_{clock_, BudgetConfig{1000, 10}};
    std::vector<std::string> logs_;
    std::unique_ptr<RailwayClient> client_;
};

TEST_F(ClientTest, SendsAccountTokenAsBearerWithSourceQueryAndUserAgent) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "SUCCESS"); });
    ASSERT_TRUE(client_->GetDeployment("dep-1"));
    const auto requests = transport_.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].url, "https://backboard.railway.com/graphql/v2?source=railwatch");
    EXPECT_EQ(net::FindHeader(requests[0].headers, "Authorization").value_or(""), std::string("Bearer ") + kToken);
    EXPECT_FALSE(net::FindHeader(requests[0].headers, "Project-Access-Token").has_value());
    EXPECT_THAT(std::string(net::FindHeader(requests[0].headers, "User-Agent").value_or("")), HasSubstr("railwatch/"));
    EXPECT_EQ(net::FindHeader(requests[0].headers, "Content-Type").value_or(""), "application/json");
}

TEST_F(ClientTest, SendsProjectTokenAsProjectAccessToken) {
    Make({TokenKind::kProject, kToken});
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "SUCCESS"); });
    ASSERT_TRUE(client_->GetDeployment("dep-1"));
    const auto request = transport_.requests().at(0);
    EXPECT_EQ(net::FindHeader(request.headers, "Project-Access-Token").value_or(""), kToken);
    EXPECT_FALSE(net::FindHeader(request.headers, "Authorization").has_value());
}

TEST_F(ClientTest, BatchesFourHundredAliasesPerRequestByDefaultAndMapsEveryField) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "BUILDING"); });
    std::vector<std::string> ids;
    ids.reserve(960);
    for (int i = 0; i < 960; ++i)
        ids.push_back("dep-" + std::to_string(i));
    const auto results = client_->GetDeployments(ids);
    ASSERT_EQ(results.size(), 960u);
    ASSERT_EQ(transport_.request_count(), 3u);  // 400 + 400 + 160
    const json first = json::parse(transport_.requests()[0].body);
    EXPECT_EQ(first["variables"].size(), 400u);
    EXPECT_THAT(first["query"].get<std::string>(), HasSubstr("d399: deployment(id: $id399)"));
    EXPECT_EQ(json::parse(transport_.requests()[2].body)["variables"].size(), 160u);
    EXPECT_EQ(client_->StatusBatchSize(), 400u);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        ASSERT_TRUE(results[i].result) << results[i].result.error().message;
        EXPECT_EQ(results[i].deployment_id, ids[i]);
        EXPECT_EQ(results[i].result->id, ids[i]);
        EXPECT_EQ(results[i].result->status.value, core::DeploymentStatus::kBuilding);
    }
    const Deployment& d = *results[0].result;
    EXPECT_EQ(d.url.value_or(""), "app.up.railway.app");
    EXPECT_FALSE(d.static_url.has_value());
    EXPECT_TRUE(d.can_redeploy);
    ASSERT_EQ(d.instances.size(), 1u);
    EXPECT_EQ(d.instances[0].status, "RUNNING");
    EXPECT_EQ(d.service_id.value_or(""), "svc");
    EXPECT_EQ(d.project_id, "prj");
    ASSERT_TRUE(d.status_updated_at.has_value());
}

TEST_F(ClientTest, BatchSizeIsConfigurable) {
    ClientConfig config;
    config.batch_size = 7;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "SUCCESS"); });
    std::vector<std::string> ids(15, "x");
    for (int i = 0; i < 15; ++i)
        ids[i] = "dep-" + std::to_string(i);
    client_->GetDeployments(ids);
    EXPECT_EQ(transport_.request_count(), 3u);
}

TEST_F(ClientTest, KeepsUnknownStatusRaw) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "HIBERNATING"); });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_TRUE(d);
    EXPECT_EQ(d->status.value, core::DeploymentStatus::kUnknown);
    EXPECT_EQ(d->status.raw, "HIBERNATING");
}

TEST_F(ClientTest, PartialBatchErrorsGiveOneResultPerDeployment) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& r) {
        return answers::StatusAnswer(r, "SUCCESS", {{"dep-3", "Deployment not found"}}, answers::Nulling::kPartial);
    });
    std::vector<std::string> ids = {"dep-0", "dep-1", "dep-2", "dep-3", "dep-4"};
    const auto results = client_->GetDeployments(ids);
    ASSERT_EQ(results.size(), 5u);
    EXPECT_EQ(transport_.request_count(), 1u);
    for (int i : {0, 1, 2, 4})
        EXPECT_TRUE(results[i].result) << i;
    ASSERT_FALSE(results[3].result);
    EXPECT_EQ(results[3].result.error().code, util::ErrorCode::kNotFound);
    EXPECT_THAT(results[3].result.error().message, HasSubstr("dep-3"));
    EXPECT_THAT(results[3].result.error().message, HasSubstr("Deployment not found"));
    EXPECT_FALSE(results[3].result.error().retryable);
}

TEST_F(ClientTest, AsksAgainForAliasesNulledByAnotherAliasError) {
    Make();
    // Railway's null propagation: one failing non-null field nulls all of `data`.
    transport_.SetHandler([](const net::HttpRequest& r) {
        return answers::StatusAnswer(r, "DEPLOYING", {{"dep-1", "Not Authorized"}});
    });
    std::vector<std::string> ids = {"dep-0", "dep-1", "dep-2"};
    const auto results = client_->GetDeployments(ids);
    EXPECT_EQ(transport_.request_count(), 2u);  // second request without dep-1
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["variables"].size(), 2u);
    ASSERT_TRUE(results[0].result);
    ASSERT_TRUE(results[2].result);
    EXPECT_EQ(results[2].result->status.value, core::DeploymentStatus::kDeploying);
    ASSERT_FALSE(results[1].result);
    EXPECT_EQ(results[1].result.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_EQ(results[1].result.error().error_class, core::ErrorClass::kAuthentication);
}

TEST_F(ClientTest, RetriesServerErrorsWithBackoffThenSucceeds) {
    Make();
    transport_.PushResponse(502, "<html><title>502 Bad Gateway</title></html>");
    transport_.PushResponse(500, R"({"errors":[{"message":"boom","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]})");
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "SUCCESS"); });
    const auto start = clock_.Steady();
    auto d = client_->GetDeployment("dep-1");
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ(transport_.request_count(), 3u);
    // Full jitter with unit 0.5: 0.5 * 500 ms, then 0.5 * 1 s.
    EXPECT_EQ(clock_.Steady() - start, core::Millis(250) + core::Millis(500));
    ASSERT_EQ(logs_.size(), 2u);
    EXPECT_THAT(logs_[0], HasSubstr("HTTP 502"));
    EXPECT_THAT(logs_[0], HasSubstr("attempt 1/5"));
}

TEST_F(ClientTest, EveryTransportErrorKindIsRetriedAndReportedWithItsOwnCode) {
    struct Case {
        TransportErrorKind kind;
        util::ErrorCode code;
        bool retried;
        core::ErrorClass error_class;
        const char* words;
    };
    const Case cases[] = {
        {TransportErrorKind::kDns, util::ErrorCode::kUnavailable, true, core::ErrorClass::kNetwork, "resolve"},
        {TransportErrorKind::kConnect, util::ErrorCode::kUnavailable, true, core::ErrorClass::kNetwork, "connect"},
        {TransportErrorKind::kReset, util::ErrorCode::kUnavailable, true, core::ErrorClass::kNetwork, "broke"},
        {TransportErrorKind::kTimeout, util::ErrorCode::kTimeout, true, core::ErrorClass::kNetwork, "in time"},
        {TransportErrorKind::kTls, util::ErrorCode::kUnavailable, false, core::ErrorClass::kConfiguration, "TLS"},
        {TransportErrorKind::kOther, util::ErrorCode::kUnavailable, true, core::ErrorClass::kUnknown, "failed"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(std::string(core::ToString(c.kind)));
        fakes::ScriptedTransport transport;
        util::FakeClock clock;
        RequestBudget budget(clock, {1000, 10});
        std::vector<std::string> logs;
        ClientConfig config;
        config.max_attempts = 3;
        RailwayClient client(transport, clock, budget, random_, {TokenKind::kAccount, kToken}, config,
                             [&](std::string_view l) { logs.emplace_back(l); });
        transport.SetHandler([&](const net::HttpRequest&) {
            net::HttpResponse r;
            r.error = c.kind;
            r.error_message = std::string("scripted ") + std::string(core::ToString(c.kind));
            return r;
        });
        auto d = client.GetDeployment("dep-1");
        ASSERT_FALSE(d);
        EXPECT_EQ(d.error().code, c.code);
        EXPECT_EQ(d.error().failure.transport, c.kind);
        EXPECT_EQ(d.error().error_class, c.error_class);
        EXPECT_EQ(transport.request_count(), c.retried ? 3u : 1u);
        EXPECT_EQ(d.error().attempts, c.retried ? 3 : 1);
        EXPECT_THAT(d.error().message, HasSubstr(c.words));
        EXPECT_THAT(d.error().message, HasSubstr("dep-1"));
        EXPECT_THAT(d.error().message, Not(HasSubstr(kToken)));
        for (const auto& l : logs)
            EXPECT_THAT(l, Not(HasSubstr(kToken)));
    }
}

TEST_F(ClientTest, HonoursRetryAfterOn429AndPausesTheBudget) {
    Make();
    transport_.PushResponse(429, "", {{"Retry-After", "7"}});
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "SUCCESS"); });
    const auto start = clock_.Steady();
    auto d = client_->GetDeployment("dep-1");
    ASSERT_TRUE(d);
    EXPECT_GE(clock_.Steady() - start, core::Seconds(7));
    EXPECT_LT(clock_.Steady() - start, core::Seconds(8));
    EXPECT_EQ(budget_.Snapshot().rate_limited, 1);
    ASSERT_FALSE(logs_.empty());
    EXPECT_THAT(logs_[0], HasSubstr("429"));
}

TEST_F(ClientTest, RateLimitedToTheEndIsReportedAsRateLimited) {
    ClientConfig config;
    config.max_attempts = 2;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{429, {{"Retry-After", "2"}}, "", TransportErrorKind::kNone, ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, util::ErrorCode::kRateLimited);
    EXPECT_EQ(d.error().error_class, core::ErrorClass::kResource);
    EXPECT_THAT(d.error().message, HasSubstr("rate limit"));
    EXPECT_EQ(d.error().retry_after, core::Seconds(2));
}

TEST_F(ClientTest, ReadsRateLimitHeadersIntoTheBudget) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& r) {
        net::HttpResponse response = answers::StatusAnswer(r, "SUCCESS");
        response.headers = {
            {"X-RateLimit-Limit", "10000"}, {"X-RateLimit-Remaining", "9876"}, {"X-RateLimit-Reset", "1767229200"}};
        return response;
    });
    ASSERT_TRUE(client_->GetDeployment("dep-1"));
    const auto snapshot = budget_.Snapshot();
    EXPECT_EQ(snapshot.hour_limit, 10000);
    EXPECT_EQ(snapshot.server_remaining, 9876);
    EXPECT_NEAR(snapshot.hour_remaining, 9876, 1e-6);
    ASSERT_TRUE(snapshot.server_reset.has_value());
    EXPECT_EQ(*snapshot.server_reset, core::Timestamp(std::chrono::seconds(1767229200)));
}

TEST_F(ClientTest, WaitsForTheBudgetInsteadOfExceedingIt) {
    ClientConfig config;
    config.batch_size = 1;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.SetHandler([](const net::HttpRequest& r) { return answers::StatusAnswer(r, "SUCCESS"); });
    std::vector<std::string> ids;
    ids.reserve(25);
    for (int i = 0; i < 25; ++i)
        ids.push_back("dep-" + std::to_string(i));
    const auto start = clock_.Steady();
    const auto results = client_->GetDeployments(ids);
    for (const auto& r : results)
        EXPECT_TRUE(r.result);
    // 10 per second: 10 at once, 10 more once their second has passed (RequestBudget::
    // kOneSecondWindow), the last 5 after the next.
    EXPECT_GE(clock_.Steady() - start, 2 * RequestBudget::kOneSecondWindow);
    EXPECT_LE(clock_.Steady() - start, 2 * RequestBudget::kOneSecondWindow + core::Millis(100));
}

TEST_F(ClientTest, NotAuthorizedIsAnAuthenticationErrorThatIsNotRetried) {
    Make();
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{
            200, {}, R"({"data":null,"errors":[{"message":"Not Authorized"}]})", TransportErrorKind::kNone, ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(transport_.request_count(), 1u);
    EXPECT_EQ(d.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_EQ(d.error().error_class, core::ErrorClass::kAuthentication);
    EXPECT_THAT(d.error().message, HasSubstr("RAILWAY_API_TOKEN"));
    ExpectNoSecret(d.error());
}

TEST_F(ClientTest, ProjectTokenNotFoundNamesRailwayToken) {
    Make({TokenKind::kProject, kToken});
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{200,
                                 {},
                                 R"({"data":null,"errors":[{"message":"Project Token not found"}]})",
                                 TransportErrorKind::kNone,
                                 ""};
    });
    auto info = client_->ValidateToken();
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_THAT(info.error().message, HasSubstr("RAILWAY_TOKEN"));
    EXPECT_THAT(json::parse(transport_.requests()[0].body)["query"].get<std::string>(), HasSubstr("projectToken"));
}

TEST_F(ClientTest, ValidationErrorIsReportedAsABugAndNotRetried) {
    Make();
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{
            400,
            {},
            R"({"errors":[{"message":"Cannot query field \"nope\" on type \"Deployment\".","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]})",
            TransportErrorKind::kNone,
            ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(transport_.request_count(), 1u);
    EXPECT_EQ(d.error().code, util::ErrorCode::kInvalidArgument);
    EXPECT_EQ(d.error().failure.http_status, 400);
    ASSERT_EQ(d.error().failure.graphql_errors.size(), 1u);
    EXPECT_EQ(d.error().failure.graphql_errors[0].code, "GRAPHQL_VALIDATION_FAILED");
    EXPECT_THAT(d.error().message, HasSubstr("railwatch bug"));
}

TEST_F(ClientTest, HtmlFromTheEdgeIsRateLimitingAndRetried) {
    ClientConfig config;
    config.max_attempts = 2;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{403,
                                 {},
                                 "<!DOCTYPE html><html><head><title>Access denied | backboard.railway.com used "
                                 "Cloudflare to restrict access</title></head></html>",
                                 TransportErrorKind::kNone,
                                 ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(transport_.request_count(), 2u);
    EXPECT_EQ(d.error().code, util::ErrorCode::kRateLimited);
    EXPECT_TRUE(d.error().failure.malformed_body);
    EXPECT_THAT(d.error().message, HasSubstr("Access denied"));
}

TEST_F(ClientTest, EdgeRefusalsInARowPauseLongerEachTimeAndAnAnswerResetsThePause) {
    ClientConfig config;
    config.max_attempts = 5;
    Make({TokenKind::kAccount, kToken}, config);
    std::vector<core::Duration> sent_at;
    int refusals_left = 3;
    transport_.SetHandler([&](const net::HttpRequest& r) {
        sent_at.push_back(clock_.Steady().time_since_epoch());
        if (refusals_left-- > 0) {
            return net::HttpResponse{
                403, {}, "<html><title>Access denied | used Cloudflare</title></html>", TransportErrorKind::kNone, ""};
        }
        return answers::StatusAnswer(r, "SUCCESS");
    });
    ASSERT_TRUE(client_->GetDeployment("dep-1"));
    ASSERT_EQ(sent_at.size(), 4u);
    // 1 s, 2 s, 4 s: a block that lasts is asked less and less often.
    EXPECT_GE(sent_at[1] - sent_at[0], core::Seconds(1));
    EXPECT_GE(sent_at[2] - sent_at[1], core::Seconds(2));
    EXPECT_GE(sent_at[3] - sent_at[2], core::Seconds(4));
    EXPECT_LT(sent_at[3] - sent_at[2], core::Seconds(8));

    // The edge answered normally in between: one more stray page costs a second again, not 8.
    refusals_left = 1;
    sent_at.clear();
    ASSERT_TRUE(client_->GetDeployment("dep-2"));
    ASSERT_EQ(sent_at.size(), 2u);
    EXPECT_GE(sent_at[1] - sent_at[0], core::Seconds(1));
    EXPECT_LT(sent_at[1] - sent_at[0], core::Seconds(2));
}

TEST_F(ClientTest, MalformedJsonIsAParseErrorAfterRetries) {
    ClientConfig config;
    config.max_attempts = 2;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{200, {}, "{\"data\": {\"d0\": ", TransportErrorKind::kNone, ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(transport_.request_count(), 2u);
    EXPECT_EQ(d.error().code, util::ErrorCode::kParse);
    EXPECT_TRUE(d.error().failure.malformed_body);
}

TEST_F(ClientTest, UnexpectedShapeIsAParseErrorNamingTheField) {
    Make();
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{200, {}, R"({"data":{"d0":{"id":"dep-1"}}})", TransportErrorKind::kNone, ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, util::ErrorCode::kParse);
    EXPECT_THAT(d.error().message, HasSubstr("Deployment.status"));
}

TEST_F(ClientTest, OtherGraphqlErrorKeepsRailwaysMessage) {
    Make();
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{
            200, {}, R"({"data":null,"errors":[{"message":"Something odd happened"}]})", TransportErrorKind::kNone, ""};
    });
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, util::ErrorCode::kInternal);
    EXPECT_THAT(d.error().message, HasSubstr("Something odd happened"));
}

TEST_F(ClientTest, NoSecretInErrorsEvenWhenTheServerEchoesTheToken) {
    Make();
    const std::string echoed = std::string("invalid token ") + kToken;
    transport_.PushResponse(500, "upstream said: " + echoed);
    transport_.PushError(TransportErrorKind::kConnect, "connect failed for " + std::string(kToken));
    transport_.PushResponse(200, json{{"data", nullptr}, {"errors", {{{"message", echoed}}}}}.dump());
    auto d = client_->GetDeployment("dep-1");
    ASSERT_FALSE(d);
    EXPECT_THAT(d.error().message, HasSubstr("[redacted]"));
    ExpectNoSecret(d.error());
    EXPECT_GE(logs_.size(), 2u);
}

TEST_F(ClientTest, MutationsAreNotRetriedAfterAServerError) {
    Make();
    transport_.PushResponse(503, "");
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{200, {}, R"({"data":{"deploymentRestart":true}})", TransportErrorKind::kNone, ""};
    });
    auto restarted = client_->Restart("dep-1");
    ASSERT_FALSE(restarted);
    EXPECT_EQ(transport_.request_count(), 1u);
    EXPECT_EQ(restarted.error().code, util::ErrorCode::kUnavailable);
}

TEST_F(ClientTest, MutationsAreRetriedWhenTheySurelyDidNotRun) {
    Make();
    transport_.PushResponse(200, CanRedeployAnswer("dep-1", true));
    transport_.PushError(TransportErrorKind::kConnect, "refused");
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{200,
                                 {},
                                 R"({"data":{"deploymentRedeploy":{"id":"new","status":"QUEUED"}}})",
                                 TransportErrorKind::kNone,
                                 ""};
    });
    auto id = client_->Redeploy("dep-1");
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(*id, "new");
    EXPECT_EQ(transport_.request_count(), 3u);
}

TEST_F(ClientTest, RedeployReadsCanRedeployFirstThenSendsTheMutationOnItsOwnConnection) {
    Make();
    transport_.PushResponse(200, CanRedeployAnswer("dep-1", true));
    transport_.PushResponse(200, R"({"data":{"deploymentRedeploy":{"id":"dep-2","status":"INITIALIZING"}}})");
    auto id = client_->Redeploy("dep-1");
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(*id, "dep-2");
    const auto requests = transport_.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(answers::OperationOf(requests[0]), "DeploymentCanRedeploy");
    EXPECT_THAT(json::parse(requests[0].body)["query"].get<std::string>(), HasSubstr("canRedeploy"));
    EXPECT_TRUE(requests[0].idempotent);
    EXPECT_EQ(answers::OperationOf(requests[1]), "DeploymentRedeploy");
    EXPECT_FALSE(requests[1].idempotent);
}

TEST_F(ClientTest, RedeployIsNotSentWhenRailwaySaysItCannotBeRedeployed) {
    Make();
    transport_.PushResponse(200, CanRedeployAnswer("dep-1", false, "REMOVED"));
    auto id = client_->Redeploy("dep-1");
    ASSERT_FALSE(id);
    EXPECT_EQ(transport_.request_count(), 1u);  // the read only: no mutation
    EXPECT_EQ(id.error().code, util::ErrorCode::kConflict);
    EXPECT_EQ(id.error().kind, core::ApiFailureKind::kPrecondition);
    EXPECT_FALSE(id.error().retryable);
    EXPECT_THAT(id.error().message, HasSubstr("canRedeploy is false"));
    EXPECT_THAT(id.error().message, HasSubstr("REMOVED"));
    EXPECT_THAT(id.error().message, HasSubstr("redeploy the service's latest deployment instead"));
}

TEST_F(ClientTest, MutationsAreMarkedNonIdempotentAndReadsIdempotent) {
    Make();
    transport_.PushResponse(200, R"({"data":{"deploymentRestart":true}})");
    transport_.PushResponse(200, R"({"data":{"deploymentCancel":true}})");
    transport_.PushResponse(200, R"({"data":{"platformStatus":{"isStable":true}}})");
    ASSERT_TRUE(client_->Restart("dep-1"));
    ASSERT_TRUE(client_->CancelDeployment("dep-1"));
    ASSERT_TRUE(client_->GetPlatformStatus());
    const auto requests = transport_.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_FALSE(requests[0].idempotent);
    EXPECT_FALSE(requests[1].idempotent);
    EXPECT_TRUE(requests[2].idempotent);
}

TEST_F(ClientTest, RestartAndCancelReturnRailwaysBoolean) {
    Make();
    transport_.PushResponse(200, R"({"data":{"deploymentRestart":true}})");
    transport_.PushResponse(200, R"({"data":{"deploymentCancel":false}})");
    auto restarted = client_->Restart("dep-1");
    auto cancelled = client_->CancelDeployment("dep-1");
    ASSERT_TRUE(restarted);
    ASSERT_TRUE(cancelled);
    EXPECT_TRUE(*restarted);
    EXPECT_FALSE(*cancelled);
    EXPECT_EQ(json::parse(transport_.requests()[0].body)["variables"]["id"], "dep-1");
}

TEST_F(ClientTest, FetchesLogsIncrementallyDroppingTheOverlapAtStartDate) {
    Make();
    transport_.PushResponse(200, R"({"data":{"deploymentLogs":[
        {"timestamp":"2026-01-01T00:00:01.000000001Z","message":"one","severity":"info","attributes":[]},
        {"timestamp":"2026-01-01T00:00:02Z","message":"two","severity":"info","attributes":[]},
        {"timestamp":"2026-01-01T00:00:03Z","message":"three","severity":"error","attributes":[]}]}})");
    transport_.PushResponse(200, R"({"data":{"deploymentLogs":[
        {"timestamp":"2026-01-01T00:00:03Z","message":"three","severity":"error","attributes":[]},
        {"timestamp":"2026-01-01T00:00:03Z","message":"three-b","severity":"error","attributes":[]},
        {"timestamp":"2026-01-01T00:00:04Z","message":"four","severity":"info","attributes":[]}]}})");
    LogCursor cursor;
    auto first = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 500);
    ASSERT_TRUE(first) << first.error().message;
    ASSERT_EQ(first->size(), 3u);
    EXPECT_EQ((*first)[0].message, "one");
    EXPECT_EQ((*first)[2].message, "three");
    EXPECT_EQ(cursor.last_raw, "2026-01-01T00:00:03Z");
    auto second = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 500);
    ASSERT_TRUE(second);
    ASSERT_EQ(second->size(), 2u);
    EXPECT_EQ((*second)[0].message, "three-b");
    EXPECT_EQ((*second)[1].message, "four");
    const json body = json::parse(transport_.requests()[1].body);
    EXPECT_EQ(body["variables"]["startDate"], "2026-01-01T00:00:03Z");
    EXPECT_FALSE(body["variables"].contains("endDate"));
    EXPECT_EQ(body["operationName"], "DeploymentLogs");
}

TEST_F(ClientTest, BuildLogsUseTheBuildLogsQuery) {
    Make();
    transport_.PushResponse(200, R"({"data":{"buildLogs":[]}})");
    LogCursor cursor;
    auto lines = client_->GetNewLogs(LogKind::kBuild, "dep-1", cursor);
    ASSERT_TRUE(lines);
    EXPECT_TRUE(lines->empty());
    EXPECT_EQ(json::parse(transport_.requests()[0].body)["operationName"], "BuildLogs");
    EXPECT_FALSE(json::parse(transport_.requests()[0].body)["variables"].contains("startDate"));
}

// A phase change's reads (steps, build and deploy logs) go in one request with aliased roots.
constexpr const char* kStepsJson = R"({"edges":[{"node":{"step":"BUILD_IMAGE","createdAt":"2026-01-01T00:00:00Z",
    "completedAt":null,"payload":{"error":"npm ERR! missing script: build"}}}]})";

std::string LogJson(const std::string& at, const std::string& message) {
    return json{{"timestamp", at}, {"message", message}, {"severity", "info"}, {"attributes", json::array()}}.dump();
}

// The answer of a log query (`field`: buildLogs or deploymentLogs) with one line.
std::string OneLineAnswer(const std::string& field, const std::string& at, const std::string& message) {
    return R"({"data":{")" + field + R"(":[)" + LogJson(at, message) + "]}}";
}

TEST_F(ClientTest, APhaseChangeReadsTheStepsAndBothLogsInOneRequest) {
    Make();
    transport_.PushResponse(200, std::string(R"({"data":{"events":)") + kStepsJson + R"(,"build":[)" +
                                     LogJson("2026-01-01T00:00:02Z", "b-two") + "," +
                                     LogJson("2026-01-01T00:00:03Z", "b-three") + R"(],"deploy":[)" +
                                     LogJson("2026-01-01T00:00:05Z", "d-five") + "]}}");
    LogCursor build;
    build.last = *util::ParseRfc3339("2026-01-01T00:00:02Z");
    build.last_raw = "2026-01-01T00:00:02Z";
    build.messages_at_last = {"b-two"};
    LogCursor deploy;
    const PhaseChangeReads reads = ReadPhase("dep-1", build, &deploy);
    ASSERT_EQ(transport_.request_count(), 1u);
    const json body = json::parse(transport_.requests()[0].body);
    EXPECT_EQ(body["operationName"], "PhaseChange");
    EXPECT_EQ(body["variables"]["id"], "dep-1");
    EXPECT_EQ(body["variables"]["buildStart"], "2026-01-01T00:00:02Z");
    EXPECT_FALSE(body["variables"].contains("deployStart"));  // an empty cursor asks from the start
    ASSERT_TRUE(reads.events) << reads.events.error().message;
    ASSERT_EQ(reads.events->size(), 1u);
    EXPECT_EQ((*reads.events)[0].error, "npm ERR! missing script: build");
    ASSERT_TRUE(reads.build_logs);
    ASSERT_EQ(reads.build_logs->size(), 1u);  // b-two was seen already
    EXPECT_EQ((*reads.build_logs)[0].message, "b-three");
    EXPECT_EQ(build.last_raw, "2026-01-01T00:00:03Z");
    ASSERT_TRUE(reads.deploy_logs && *reads.deploy_logs);
    ASSERT_EQ((*reads.deploy_logs)->size(), 1u);
    EXPECT_EQ(deploy.last_raw, "2026-01-01T00:00:05Z");

    // Without a deploy cursor: the build-only document, and no deploy part.
    transport_.PushResponse(200, std::string(R"({"data":{"events":)") + kStepsJson + R"(,"build":[]}})");
    const PhaseChangeReads build_only = ReadPhase("dep-1", build, nullptr);
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["operationName"], "PhaseChangeBuild");
    EXPECT_FALSE(build_only.deploy_logs.has_value());
    ASSERT_TRUE(build_only.build_logs);
    EXPECT_TRUE(build_only.build_logs->empty());
}

// A flood of phase changes: several deployments' steps and first pages in one request, each log
// from its own cursor, the deploy log only where asked; each part's cursor moves with its lines.
TEST_F(ClientTest, PhaseChangesReadSeveralDeploymentsInOneRequest) {
    Make();
    transport_.PushResponse(200, std::string(R"({"data":{"e0":)") + kStepsJson + R"(,"b0":[)" +
                                     LogJson("2026-01-01T00:00:02Z", "b-two") + "," +
                                     LogJson("2026-01-01T00:00:03Z", "b-three") + R"(],"d0":[)" +
                                     LogJson("2026-01-01T00:00:05Z", "d-five") + R"(],"e1":{"edges":[]},"b1":[)" +
                                     LogJson("2026-01-01T00:00:04Z", "other") + "]}}");
    std::vector<PhaseChangeAsk> asks(2);
    asks[0].deployment_id = "dep-1";
    asks[0].build_cursor.last = *util::ParseRfc3339("2026-01-01T00:00:02Z");
    asks[0].build_cursor.last_raw = "2026-01-01T00:00:02Z";
    asks[0].build_cursor.messages_at_last = {"b-two"};
    asks[0].deploy_cursor.emplace();
    asks[1].deployment_id = "dep-2";
    const std::vector<PhaseChangeReads> reads = client_->GetPhaseChanges(asks, 100, 500);
    ASSERT_EQ(transport_.request_count(), 1u);
    const json body = json::parse(transport_.requests()[0].body);
    EXPECT_EQ(body["operationName"], "PhaseChanges");
    EXPECT_THAT(body["query"].get<std::string>(), HasSubstr("d0: deploymentLogs(deploymentId: $id0"));
    EXPECT_THAT(body["query"].get<std::string>(), Not(HasSubstr(" d1: ")));
    EXPECT_EQ(body["variables"]["id0"], "dep-1");
    EXPECT_EQ(body["variables"]["id1"], "dep-2");
    EXPECT_EQ(body["variables"]["bs0"], "2026-01-01T00:00:02Z");
    EXPECT_FALSE(body["variables"].contains("ds0"));  // an empty cursor asks from the start
    EXPECT_FALSE(body["variables"].contains("bs1"));
    ASSERT_EQ(reads.size(), 2u);
    ASSERT_TRUE(reads[0].events) << reads[0].events.error().message;
    ASSERT_EQ(reads[0].events->size(), 1u);
    ASSERT_TRUE(reads[0].build_logs);
    ASSERT_EQ(reads[0].build_logs->size(), 1u);  // b-two was seen already
    EXPECT_EQ((*reads[0].build_logs)[0].message, "b-three");
    EXPECT_EQ(asks[0].build_cursor.last_raw, "2026-01-01T00:00:03Z");
    ASSERT_TRUE(reads[0].deploy_logs && *reads[0].deploy_logs);
    EXPECT_EQ(asks[0].deploy_cursor->last_raw, "2026-01-01T00:00:05Z");
    ASSERT_TRUE(reads[1].events);
    EXPECT_TRUE(reads[1].events->empty());
    ASSERT_TRUE(reads[1].build_logs);
    ASSERT_EQ(reads[1].build_logs->size(), 1u);
    EXPECT_EQ((*reads[1].build_logs)[0].message, "other");
    EXPECT_EQ(asks[1].build_cursor.last_raw, "2026-01-01T00:00:04Z");
    EXPECT_FALSE(reads[1].deploy_logs.has_value());
}

// Railway documents no limit on aliases: a request refused as a whole for what may be its size
// asks each deployment alone (one request each, steps and logs together); a refused token is every
// part's answer, not asked again.
TEST_F(ClientTest, PhaseChangesRefusedWholeAskEachDeploymentAloneUnlessTheTokenWasRefused) {
    Make();
    std::vector<PhaseChangeAsk> asks(2);
    asks[0].deployment_id = "dep-1";
    asks[1].deployment_id = "dep-2";
    transport_.PushResponse(
        400, R"({"errors":[{"message":"Query is too complex","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]})");
    transport_.PushResponse(200, std::string(R"({"data":{"events":{"edges":[]},"build":[)") +
                                     LogJson("2026-01-01T00:00:03Z", "one") + "]}}");
    transport_.PushResponse(200, R"({"data":{"events":{"edges":[]},"build":[]}})");
    const auto reads = client_->GetPhaseChanges(asks, 100, 500);
    ASSERT_EQ(transport_.request_count(), 3u);
    const json first = json::parse(transport_.requests()[1].body);
    EXPECT_EQ(first["operationName"], "PhaseChangeBuild");
    EXPECT_EQ(first["variables"]["id"], "dep-1");
    EXPECT_EQ(json::parse(transport_.requests()[2].body)["variables"]["id"], "dep-2");
    ASSERT_EQ(reads.size(), 2u);
    ASSERT_TRUE(reads[0].build_logs && reads[1].build_logs);
    EXPECT_EQ(reads[0].build_logs->size(), 1u);
    EXPECT_EQ(asks[0].build_cursor.last_raw, "2026-01-01T00:00:03Z");
    EXPECT_TRUE(reads[1].build_logs->empty());

    transport_.PushResponse(200, answers::WholeFailure("Not Authorized", "t2"));
    const auto refused = client_->GetPhaseChanges(asks, 100, 500);
    EXPECT_EQ(transport_.request_count(), 4u);
    for (const PhaseChangeReads& read : refused) {
        ASSERT_FALSE(read.events);
        EXPECT_EQ(read.events.error().code, util::ErrorCode::kUnauthenticated);
        ASSERT_FALSE(read.build_logs);
    }
}

// A stall's confirmations: several deployments' logs asked in one request, each from its last
// sign of life; a line logged at that sign itself (Railway's start date includes it) is none.
TEST_F(ClientTest, LogsSinceAsksSeveralDeploymentsInOneRequestAndCountsOnlyLaterLines) {
    Make();
    transport_.PushResponse(200, std::string(R"({"data":{"l0":[)") + LogJson("2026-01-01T00:00:02Z", "seen") + "," +
                                     LogJson("2026-01-01T00:00:07Z", "new") + R"(],"l1":[)" +
                                     LogJson("2026-01-01T00:00:05Z", "at the sign") + "]}}");
    const std::vector<LogsSinceAsk> asks = {{"dep-1", LogKind::kBuild, *util::ParseRfc3339("2026-01-01T00:00:02Z")},
                                            {"dep-2", LogKind::kDeploy, *util::ParseRfc3339("2026-01-01T00:00:05Z")}};
    const auto answers = client_->GetLogsSince(asks);
    ASSERT_EQ(transport_.request_count(), 1u);
    const json body = json::parse(transport_.requests()[0].body);
    EXPECT_EQ(body["operationName"], "LogsSince");
    EXPECT_THAT(body["query"].get<std::string>(), HasSubstr("l1: deploymentLogs(deploymentId: $id1"));
    EXPECT_EQ(body["variables"]["id0"], "dep-1");
    EXPECT_EQ(body["variables"]["since0"], "2026-01-01T00:00:02.000Z");
    EXPECT_EQ(body["variables"]["since1"], "2026-01-01T00:00:05.000Z");
    ASSERT_EQ(answers.size(), 2u);
    ASSERT_TRUE(answers[0]) << answers[0].error().message;
    EXPECT_EQ(*answers[0], util::ParseRfc3339("2026-01-01T00:00:07Z").value());
    ASSERT_TRUE(answers[1]) << answers[1].error().message;
    EXPECT_FALSE(answers[1]->has_value());
}

// The start date goes in milliseconds, truncated (any DateTime parser reads it, and it is never
// after the since); the lines Railway sends from there are compared with the exact since.
TEST_F(ClientTest, LogsSinceSendsMillisecondsAndComparesTheExactSince) {
    Make();
    transport_.PushResponse(200, std::string(R"({"data":{"buildLogs":[)") +
                                     LogJson("2026-01-01T00:00:02.000500Z", "before the sign") + "," +
                                     LogJson("2026-01-01T00:00:02.000900Z", "after it") + "]}}");
    const std::vector<LogsSinceAsk> asks = {
        {"dep-1", LogKind::kBuild, *util::ParseRfc3339("2026-01-01T00:00:02.000700Z")}};
    const auto answers = client_->GetLogsSince(asks);
    ASSERT_EQ(transport_.request_count(), 1u);
    EXPECT_EQ(json::parse(transport_.requests()[0].body)["variables"]["startDate"], "2026-01-01T00:00:02.000Z");
    ASSERT_TRUE(answers[0]) << answers[0].error().message;
    EXPECT_EQ(*answers[0], util::ParseRfc3339("2026-01-01T00:00:02.000900Z").value());
}

// One deployment's error nulls the shared answer (GraphQL null propagation): it keeps its error,
// the other is asked alone.
TEST_F(ClientTest, LogsSincePartsNulledByAnotherPartsErrorAreAskedAlone) {
    Make();
    transport_.PushResponse(200, R"({"data":null,"errors":[{"message":"Deployment not found","path":["l0"],
              "extensions":{"code":"INTERNAL_SERVER_ERROR","traceId":"t1"}}]})");
    transport_.PushResponse(200, OneLineAnswer("deploymentLogs", "2026-01-01T00:00:09Z", "d"));
    const std::vector<LogsSinceAsk> asks = {{"gone", LogKind::kBuild, *util::ParseRfc3339("2026-01-01T00:00:00Z")},
                                            {"dep-2", LogKind::kDeploy, *util::ParseRfc3339("2026-01-01T00:00:00Z")}};
    const auto answers = client_->GetLogsSince(asks);
    ASSERT_EQ(answers.size(), 2u);
    ASSERT_FALSE(answers[0]);
    EXPECT_EQ(answers[0].error().code, util::ErrorCode::kNotFound);
    EXPECT_THAT(answers[0].error().message, HasSubstr("gone"));
    ASSERT_TRUE(answers[1]) << answers[1].error().message;
    EXPECT_EQ(*answers[1], util::ParseRfc3339("2026-01-01T00:00:09Z").value());
    ASSERT_EQ(transport_.request_count(), 2u);
    const json alone = json::parse(transport_.requests()[1].body);
    EXPECT_EQ(alone["operationName"], "DeploymentLogs");
    EXPECT_EQ(alone["variables"]["deploymentId"], "dep-2");
    EXPECT_EQ(alone["variables"]["startDate"], "2026-01-01T00:00:00.000Z");
}

// Railway documents no limit on aliases: a request refused as a whole for what may be its size
// asks each deployment alone; a refused token is every part's answer, not asked again.
TEST_F(ClientTest, LogsSinceRefusedWholeAsksEachAloneUnlessTheTokenWasRefused) {
    Make();
    const std::vector<LogsSinceAsk> asks = {{"dep-1", LogKind::kBuild, *util::ParseRfc3339("2026-01-01T00:00:00Z")},
                                            {"dep-2", LogKind::kBuild, *util::ParseRfc3339("2026-01-01T00:00:00Z")}};
    transport_.PushResponse(
        400, R"({"errors":[{"message":"Query is too complex","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]})");
    transport_.PushResponse(200, OneLineAnswer("buildLogs", "2026-01-01T00:00:03Z", "one"));
    transport_.PushResponse(200, R"({"data":{"buildLogs":[]}})");
    const auto answers = client_->GetLogsSince(asks);
    ASSERT_EQ(transport_.request_count(), 3u);
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["operationName"], "BuildLogs");
    EXPECT_EQ(json::parse(transport_.requests()[2].body)["variables"]["deploymentId"], "dep-2");
    ASSERT_TRUE(answers[0] && answers[1]);
    EXPECT_EQ(*answers[0], util::ParseRfc3339("2026-01-01T00:00:03Z").value());
    EXPECT_FALSE(answers[1]->has_value());

    transport_.PushResponse(200, answers::WholeFailure("Not Authorized", "t2"));
    const auto refused = client_->GetLogsSince(asks);
    EXPECT_EQ(transport_.request_count(), 4u);
    for (const auto& answer : refused) {
        ASSERT_FALSE(answer);
        EXPECT_EQ(answer.error().code, util::ErrorCode::kUnauthenticated);
    }
}

TEST_F(ClientTest, APhaseChangesFullFirstPageIsPagedOnWithTheLogQuery) {
    Make();
    // A page of 2 (the limit) comes back full: the pager goes on from its newest line.
    transport_.PushResponse(200, std::string(R"({"data":{"events":{"edges":[]},"build":[)") +
                                     LogJson("2026-01-01T00:00:01Z", "one") + "," +
                                     LogJson("2026-01-01T00:00:02Z", "two") + "]}}");
    transport_.PushResponse(200, std::string(R"({"data":{"buildLogs":[)") + LogJson("2026-01-01T00:00:02Z", "two") +
                                     "," + LogJson("2026-01-01T00:00:03Z", "three") + "]}}");
    transport_.PushResponse(200, OneLineAnswer("buildLogs", "2026-01-01T00:00:03Z", "three"));
    LogCursor build;  // "one" seen: each full page starts where the lines known end
    build.last = *util::ParseRfc3339("2026-01-01T00:00:01Z");
    build.last_raw = "2026-01-01T00:00:01Z";
    build.messages_at_last = {"one"};
    const PhaseChangeReads reads = ReadPhase("dep-1", build, nullptr, 2);
    ASSERT_TRUE(reads.build_logs) << reads.build_logs.error().message;
    std::vector<std::string> messages;
    for (const auto& line : *reads.build_logs)
        messages.push_back(line.message);
    EXPECT_THAT(messages, ::testing::ElementsAre("two", "three"));
    EXPECT_EQ(build.last_raw, "2026-01-01T00:00:03Z");
    ASSERT_EQ(transport_.request_count(), 3u);
    const json second = json::parse(transport_.requests()[1].body);
    EXPECT_EQ(second["operationName"], "BuildLogs");
    EXPECT_EQ(second["variables"]["startDate"], "2026-01-01T00:00:02Z");
}

TEST_F(ClientTest, APhaseChangesPartsNulledByAnotherPartsErrorAreAskedAlone) {
    Make();
    // deploymentEvents failed: Railway names it by path, and null propagation nulls `data`.
    transport_.PushResponse(200, R"({"data":null,"errors":[{"message":"Deployment not found","path":["events"],
              "extensions":{"code":"INTERNAL_SERVER_ERROR","traceId":"t1"}}]})");
    transport_.PushResponse(200, OneLineAnswer("buildLogs", "2026-01-01T00:00:01Z", "b"));
    transport_.PushResponse(200, OneLineAnswer("deploymentLogs", "2026-01-01T00:00:01Z", "d"));
    LogCursor build;
    LogCursor deploy;
    const PhaseChangeReads reads = ReadPhase("dep-1", build, &deploy);
    ASSERT_FALSE(reads.events);
    EXPECT_EQ(reads.events.error().code, util::ErrorCode::kNotFound);
    ASSERT_TRUE(reads.build_logs) << reads.build_logs.error().message;
    ASSERT_EQ(reads.build_logs->size(), 1u);
    ASSERT_TRUE(reads.deploy_logs && *reads.deploy_logs);
    ASSERT_EQ((*reads.deploy_logs)->size(), 1u);
    ASSERT_EQ(transport_.request_count(), 3u);
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["operationName"], "BuildLogs");
    EXPECT_EQ(json::parse(transport_.requests()[2].body)["operationName"], "DeploymentLogs");
}

// A request that keeps failing for a reason that may pass (its retries spent) must not cost a
// failure's evidence: each part is then asked on its own, with retries of its own.
TEST_F(ClientTest, APhaseChangeThatFailsWholeForAPassingReasonAsksEachPartAlone) {
    ClientConfig config;
    config.max_attempts = 2;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.PushResponse(503, "upstream unavailable");
    transport_.PushResponse(503, "upstream unavailable");
    transport_.PushResponse(200, std::string(R"({"data":{"deploymentEvents":)") + kStepsJson + "}}");
    transport_.PushResponse(200, OneLineAnswer("buildLogs", "2026-01-01T00:00:01Z", "b"));
    transport_.PushResponse(200, OneLineAnswer("deploymentLogs", "2026-01-01T00:00:02Z", "d"));
    LogCursor build;
    LogCursor deploy;
    const PhaseChangeReads reads = ReadPhase("dep-1", build, &deploy);
    ASSERT_EQ(transport_.request_count(), 5u);
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["operationName"], "PhaseChange");
    EXPECT_EQ(json::parse(transport_.requests()[2].body)["operationName"], "DeploymentEvents");
    ASSERT_TRUE(reads.events) << reads.events.error().message;
    EXPECT_EQ(reads.events->size(), 1u);
    ASSERT_TRUE(reads.build_logs);
    EXPECT_EQ(reads.build_logs->size(), 1u);
    ASSERT_TRUE(reads.deploy_logs && *reads.deploy_logs);
    EXPECT_EQ((*reads.deploy_logs)->size(), 1u);
    EXPECT_EQ(deploy.last_raw, "2026-01-01T00:00:02Z");
}

TEST_F(ClientTest, APhaseChangeThatFailsWholeFailsEveryPartWithoutAskingAgain) {
    Make();
    transport_.PushResponse(200, answers::WholeFailure("Not Authorized", "t2"));
    LogCursor build;
    LogCursor deploy;
    const PhaseChangeReads reads = ReadPhase("dep-1", build, &deploy);
    EXPECT_EQ(transport_.request_count(), 1u);
    ASSERT_FALSE(reads.events);
    EXPECT_EQ(reads.events.error().code, util::ErrorCode::kUnauthenticated);
    ASSERT_FALSE(reads.build_logs);
    EXPECT_EQ(reads.build_logs.error().code, util::ErrorCode::kUnauthenticated);
    ASSERT_TRUE(reads.deploy_logs);
    ASSERT_FALSE(*reads.deploy_logs);
    EXPECT_FALSE(build.last.has_value());  // no cursor moved
    ExpectNoSecret(reads.events.error());
}

TEST_F(ClientTest, LatestDeploymentAndEventsAndServiceInstance) {
    Make();
    transport_.PushResponse(
        200, json{{"data", {{"serviceInstance", {{"latestDeployment", DeploymentNode("dep-9", "QUEUED")}}}}}}.dump());
    transport_.PushResponse(200, R"({"data":{"serviceInstance":{"latestDeployment":null}}})");
    transport_.PushResponse(200, R"({"data":{"deploymentEvents":{"edges":[
        {"node":{"step":"BUILD_IMAGE","createdAt":"2026-01-01T00:00:00Z","completedAt":"2026-01-01T00:01:00Z","payload":null}},
        {"node":{"step":"HEALTHCHECK","createdAt":"2026-01-01T00:01:00Z","completedAt":null,
                 "payload":{"attempt":3,"maxAttempts":10,"error":"service unavailable","durationMs":1500}}}]}}})");
    transport_.PushResponse(200,
                            R"({"data":{"serviceInstance":{"id":"si","serviceName":"web","healthcheckPath":"/health",
        "healthcheckTimeout":300,"numReplicas":2,"restartPolicyType":"ON_FAILURE","restartPolicyMaxRetries":10,
        "domains":{"serviceDomains":[{"domain":"web.up.railway.app"}],"customDomains":[{"domain":"example.com"}]}}}})");
    auto latest = client_->GetLatestDeployment("svc", "env");
    ASSERT_TRUE(latest);
    ASSERT_TRUE(latest->has_value());
    EXPECT_EQ((*latest)->id, "dep-9");
    auto none = client_->GetLatestDeployment("svc", "env");
    ASSERT_TRUE(none);
    EXPECT_FALSE(none->has_value());
    auto events = client_->GetDeploymentEvents("dep-9");
    ASSERT_TRUE(events);
    ASSERT_EQ(events->size(), 2u);
    EXPECT_EQ((*events)[1].step, "HEALTHCHECK");
    EXPECT_EQ((*events)[1].attempt, 3);
    EXPECT_EQ((*events)[1].error, "service unavailable");
    auto instance = client_->GetServiceInstance("svc", "env");
    ASSERT_TRUE(instance);
    EXPECT_EQ(instance->healthcheck_path.value_or(""), "/health");
    EXPECT_EQ(instance->num_replicas, 2);
    EXPECT_EQ(instance->domains.size(), 2u);
}

TEST_F(ClientTest, TokenValidationPlatformStatusAndUsage) {
    Make();
    transport_.PushResponse(200, R"({"data":{"me":{"id":"u1","email":"a@b.c"}}})");
    transport_.PushResponse(
        200,
        R"({"data":{"platformStatus":{"isStable":false,"incident":{"status":"INVESTIGATING","message":"API degraded"},"maintenance":null}}})");
    transport_.PushResponse(
        200,
        R"({"data":{"workspace":{"id":"ws","plan":"HOBBY","customer":{"currentUsage":4.5,"state":"ACTIVE","usageLimit":{"softLimit":5,"hardLimit":10,"isOverLimit":false}}}}})");
    auto me = client_->ValidateToken();
    ASSERT_TRUE(me);
    EXPECT_EQ(me->scope, TokenScope::kAccount);
    EXPECT_EQ(me->user_id, "u1");
    auto platform = client_->GetPlatformStatus();
    ASSERT_TRUE(platform);
    EXPECT_FALSE(platform->is_stable);
    EXPECT_EQ(platform->incident_message, "API degraded");
    auto usage = client_->GetWorkspaceUsage("ws");
    ASSERT_TRUE(usage);
    EXPECT_EQ(usage->plan, "HOBBY");
    EXPECT_EQ(usage->hard_limit_dollars, 10);
    EXPECT_DOUBLE_EQ(usage->current_usage_dollars, 4.5);
}

TEST_F(ClientTest, WholeRequestNotAuthorizedCarriesRailwaysTraceId) {
    Make();
    transport_.PushResponse(200, answers::WholeFailure("Not Authorized", "abc123"));
    auto platform = client_->GetPlatformStatus();
    ASSERT_FALSE(platform);
    EXPECT_EQ(platform.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_EQ(platform.error().trace_id, "abc123");
    EXPECT_THAT(platform.error().message, HasSubstr("Not Authorized"));
    EXPECT_THAT(platform.error().message, HasSubstr("(Railway traceId abc123)"));
    EXPECT_THAT(platform.error().message, HasSubstr("RAILWAY_API_TOKEN"));
}

TEST_F(ClientTest, ProblemProcessingRequestWithInternalServerErrorIsAnInvalidArgumentAndNotRetried) {
    Make();
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{
            200, {}, answers::WholeFailure("Problem processing request", "t-1"), TransportErrorKind::kNone, ""};
    });
    LogCursor cursor;
    cursor.last = core::Timestamp(std::chrono::seconds(1'000'000));
    cursor.last_raw = "1970-01-12T13:46:40Z";
    auto lines = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor);
    ASSERT_FALSE(lines);
    EXPECT_EQ(transport_.request_count(), 1u);
    EXPECT_EQ(lines.error().code, util::ErrorCode::kInvalidArgument);
    EXPECT_EQ(lines.error().error_class, core::ErrorClass::kConfiguration);
    EXPECT_FALSE(lines.error().retryable);
    EXPECT_THAT(lines.error().message, HasSubstr("(Railway traceId t-1)"));
}

TEST_F(ClientTest, ATokenStraddlingTheExcerptBoundaryIsStillRedacted) {
    Make();
    // Railway's message is cut at 200 characters in the error message: put the token across the cut.
    const std::string message = std::string(195, 'x') + kToken + " trailing words";
    transport_.PushResponse(200, json{{"data", nullptr}, {"errors", {{{"message", message}}}}}.dump());
    auto d = client_->GetPlatformStatus();
    ASSERT_FALSE(d);
    EXPECT_THAT(d.error().message, Not(HasSubstr(std::string(kToken).substr(0, 5))));
    ExpectNoSecret(d.error());
}

TEST_F(ClientTest, AccountTokenIsValidatedWithMe) {
    Make();
    transport_.PushResponse(200, R"({"data":{"me":{"id":"u1","email":"a@b.c","name":"Ada"}}})");
    auto info = client_->ValidateToken();
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->scope, TokenScope::kAccount);
    EXPECT_EQ(info->user_id, "u1");
    EXPECT_EQ(info->user_name, "Ada");
    EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(ClientTest, WorkspaceTokenIsRefusedByMeAndFoundByApiToken) {
    Make();
    transport_.PushResponse(200, answers::FieldFailure("me", "Not Authorized", "t-me"));
    transport_.PushResponse(200, R"({"data":{"apiToken":{"workspaces":[{"id":"ws-1","name":"Acme"}]}}})");
    auto info = client_->ValidateToken();
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->scope, TokenScope::kWorkspace);
    ASSERT_EQ(info->workspaces.size(), 1u);
    EXPECT_EQ(info->workspaces[0].id, "ws-1");
    EXPECT_EQ(info->workspaces[0].name, "Acme");
    const auto requests = transport_.requests();
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(answers::OperationOf(requests[0]), "Me");
    EXPECT_THAT(json::parse(requests[1].body)["query"].get<std::string>(),
                HasSubstr("apiToken { workspaces { id name } }"));
}

TEST_F(ClientTest, BearerTokenRefusedAsAccountAndAsWorkspaceTokenIsInvalidAndSaysWhatToDo) {
    Make();
    transport_.PushResponse(200, answers::FieldFailure("me", "Not Authorized", "t-me"));
    transport_.PushResponse(200, answers::FieldFailure("apiToken", "Not Authorized", "t-api"));
    auto info = client_->ValidateToken();
    ASSERT_FALSE(info);
    EXPECT_EQ(transport_.request_count(), 2u);
    EXPECT_EQ(info.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_EQ(info.error().error_class, core::ErrorClass::kAuthentication);
    EXPECT_EQ(info.error().attempts, 2);
    EXPECT_THAT(info.error().message, HasSubstr("RAILWAY_API_TOKEN"));
    EXPECT_THAT(info.error().message, HasSubstr("https://railway.com/account/tokens"));
    EXPECT_THAT(info.error().message, HasSubstr("(Railway traceId t-api)"));
    ExpectNoSecret(info.error());
}

TEST_F(ClientTest, ATransientFailureOfMeIsNotTakenForARefusal) {
    ClientConfig config;
    config.max_attempts = 2;
    Make({TokenKind::kAccount, kToken}, config);
    transport_.SetHandler([](const net::HttpRequest&) {
        return net::HttpResponse{503, {}, "", TransportErrorKind::kNone, ""};
    });
    auto info = client_->ValidateToken();
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, util::ErrorCode::kUnavailable);
    for (const auto& request : transport_.requests())
        EXPECT_EQ(answers::OperationOf(request), "Me");
}

TEST_F(ClientTest, ProjectTokenIsValidatedWithProjectToken) {
    Make({TokenKind::kProject, kToken});
    transport_.PushResponse(200, R"({"data":{"projectToken":{"projectId":"p1","environmentId":"e1"}}})");
    auto info = client_->ValidateToken();
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->scope, TokenScope::kProject);
    EXPECT_EQ(info->project_id, "p1");
    EXPECT_EQ(info->environment_id, "e1");
}

TEST_F(ClientTest, EnvironmentLatestDeploymentsComeInOneRequest) {
    Make();
    json answer = json::parse(R"({"data":{"environment":{"serviceInstances":{"edges":[
        {"node":{"serviceId":"svc-a","latestDeployment":null}},
        {"node":{"serviceId":"svc-b","latestDeployment":null}}],
        "pageInfo":{"hasNextPage":false,"endCursor":"c1"}}}}})");
    answer["data"]["environment"]["serviceInstances"]["edges"][0]["node"]["latestDeployment"] = {{"id", "dep-a"}};
    transport_.PushResponse(200, answer.dump());
    auto services = client_->GetEnvironmentLatestDeployments("env-1");
    ASSERT_TRUE(services) << services.error().message;
    EXPECT_EQ(transport_.request_count(), 1u);
    ASSERT_EQ(services->size(), 2u);
    EXPECT_EQ((*services)[0].service_id, "svc-a");
    EXPECT_EQ((*services)[1].service_id, "svc-b");
    EXPECT_EQ((*services)[0].latest_id, "dep-a");
    EXPECT_FALSE((*services)[1].latest_id.has_value());
    const json body = json::parse(transport_.requests()[0].body);
    EXPECT_EQ(body["variables"]["environmentId"], "env-1");
    EXPECT_EQ(body["variables"]["first"], 500);  // ClientConfig::environment_page_size
    EXPECT_THAT(body["query"].get<std::string>(), HasSubstr("serviceInstances(first: $first, after: $after)"));
    // Only the latest deployment's id: what discovery compares (an environment may hold many).
    EXPECT_THAT(body["query"].get<std::string>(), HasSubstr("latestDeployment { id } healthcheckPath"));
}

// Each service's probe target comes with it, so that the prober needs no request of its own.
TEST_F(ClientTest, EnvironmentLatestDeploymentsCarryEachServicesProbeTarget) {
    Make();
    transport_.PushResponse(200, R"({"data":{"environment":{"serviceInstances":{"edges":[
        {"node":{"serviceId":"svc-a","latestDeployment":null,"healthcheckPath":"/ready",
          "domains":{"serviceDomains":[{"domain":""},{"domain":"web.up.railway.app"}],
                     "customDomains":[{"domain":"www.example.com"}]}}},
        {"node":{"serviceId":"svc-b","latestDeployment":null,"healthcheckPath":null,
          "domains":{"serviceDomains":[],"customDomains":[{"domain":"api.example.com"}]}}},
        {"node":{"serviceId":"svc-c","latestDeployment":null,
          "domains":{"serviceDomains":[],"customDomains":[]}}},
        {"node":{"serviceId":"svc-d","latestDeployment":null,"healthcheckPath":7,
          "domains":"none"}}],
        "pageInfo":{"hasNextPage":false,"endCursor":"c1"}}}}})");
    auto services = client_->GetEnvironmentLatestDeployments("env-1");
    ASSERT_TRUE(services) << services.error().message;
    ASSERT_EQ(services->size(), 4u);
    EXPECT_EQ((*services)[0].first_domain, "web.up.railway.app");
    EXPECT_EQ((*services)[0].healthcheck_path, "/ready");
    EXPECT_EQ((*services)[1].first_domain, "api.example.com");
    EXPECT_EQ((*services)[1].healthcheck_path, std::nullopt);
    EXPECT_EQ((*services)[2].first_domain, std::nullopt);
    // Odd shapes are no target, not a failed read.
    EXPECT_EQ((*services)[3].first_domain, std::nullopt);
    EXPECT_EQ((*services)[3].healthcheck_path, std::nullopt);
    EXPECT_THAT(json::parse(transport_.requests()[0].body)["query"].get<std::string>(),
                HasSubstr("domains { serviceDomains { domain } customDomains { domain } }"));
}

// Railway documents no limit on a connection's `first`: should it refuse ours, the page is asked
// again without it, and every later read goes without it. A refusal of something else (the
// token) is not asked again.
TEST_F(ClientTest, ARefusedEnvironmentPageSizeIsAskedAgainWithoutItAndNotSentAgain) {
    Make();
    const std::string refused = R"({"data":null,"errors":[{"message":"Problem processing request",
        "path":["environment","serviceInstances"],"extensions":{"code":"BAD_USER_INPUT"}}]})";
    const std::string page = R"({"data":{"environment":{"serviceInstances":{"edges":[
        {"node":{"serviceId":"svc-a","serviceName":"web","latestDeployment":null}}],
        "pageInfo":{"hasNextPage":false,"endCursor":"c1"}}}}})";
    transport_.PushResponse(200, refused);
    transport_.PushResponse(200, page);
    auto services = client_->GetEnvironmentLatestDeployments("env-1");
    ASSERT_TRUE(services) << services.error().message;
    ASSERT_EQ(services->size(), 1u);
    ASSERT_EQ(transport_.request_count(), 2u);
    EXPECT_EQ(json::parse(transport_.requests()[0].body)["variables"]["first"], 500);
    EXPECT_FALSE(json::parse(transport_.requests()[1].body)["variables"].contains("first"));
    transport_.PushResponse(200, page);
    ASSERT_TRUE(client_->GetEnvironmentLatestDeployments("env-1"));
    ASSERT_EQ(transport_.request_count(), 3u);
    EXPECT_FALSE(json::parse(transport_.requests()[2].body)["variables"].contains("first"));
}

TEST_F(ClientTest, AnEnvironmentReadRefusedForItsTokenIsNotAskedAgainWithoutAPageSize) {
    Make();
    transport_.PushResponse(200, R"({"data":null,"errors":[{"message":"Not Authorized",
        "path":["environment"],"extensions":{"code":"FORBIDDEN"}}]})");
    auto services = client_->GetEnvironmentLatestDeployments("env-1");
    ASSERT_FALSE(services);
    EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(ClientTest, EnvironmentLatestDeploymentsFollowTheNextPage) {
    Make();
    const auto page = [](const std::string& service, bool next) {
        json answer = json::parse(R"({"data":{"environment":{"serviceInstances":{"edges":[{"node":{}}],
            "pageInfo":{}}}}})");
        json& connection = answer["data"]["environment"]["serviceInstances"];
        connection["edges"][0]["node"] = {{"serviceId", service}, {"serviceName", service}};
        connection["pageInfo"] = {{"hasNextPage", next}, {"endCursor", "after-" + service}};
        return answer.dump();
    };
    transport_.PushResponse(200, page("svc-a", true));
    transport_.PushResponse(200, page("svc-b", false));
    auto services = client_->GetEnvironmentLatestDeployments("env-1");
    ASSERT_TRUE(services) << services.error().message;
    ASSERT_EQ(services->size(), 2u);
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["variables"]["after"], "after-svc-a");
}

// A malformed environment answer is an error that says what is wrong, never a partial list.
TEST_F(ClientTest, AMalformedEnvironmentAnswerSaysWhatIsWrong) {
    Make();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"data":{"environment":{"serviceInstances":{"edges":[{"node":{"serviceName":"web"}}]}}}})",
         "ServiceInstance.serviceId is missing or not a string"},
        {R"({"data":{"environment":{"serviceInstances":{"edges":[{"node":{"serviceId":7}}]}}}})",
         "ServiceInstance.serviceId is missing or not a string"},
        {R"({"data":{"environment":{"serviceInstances":{"pageInfo":{}}}}})", "serviceInstances.edges is missing"},
        {R"({"data":{"environment":{"serviceInstances":[]}}})", "serviceInstances is not an object"},
        {R"({"data":{"environment":{}}})", "environment.serviceInstances is missing"},
        {R"({"data":{"environment":{"serviceInstances":{"edges":[{"cursor":"c"}]}}}})",
         "serviceInstances.edges[].node is missing"},
        {R"({"data":{"environment":{"serviceInstances":{"edges":[{"node":{"serviceId":"s",
            "latestDeployment":{"status":"SUCCESS"}}}]}}}})",
         "ServiceInstance.latestDeployment.id is missing or not a string"},
        {R"({"data":{"environment":{"serviceInstances":{"edges":[{"node":{"serviceId":"s",
            "latestDeployment":{"id":7}}}]}}}})",
         "ServiceInstance.latestDeployment.id is missing or not a string"},
    };
    for (const auto& [answer, what] : cases) {
        transport_.PushResponse(200, answer);
        auto services = client_->GetEnvironmentLatestDeployments("env-1");
        ASSERT_FALSE(services) << answer;
        EXPECT_THAT(services.error().message, HasSubstr(what)) << answer;
    }
}

TEST_F(ClientTest, ListDeploymentsAsksForTheEnvironmentAndOptionalServiceNewestFirst) {
    Make();
    json older = DeploymentNode("dep-old", "REMOVED");
    older["createdAt"] = "2025-12-01T00:00:00Z";
    json newer = DeploymentNode("dep-new", "SUCCESS");
    newer["createdAt"] = "2026-01-02T00:00:00Z";
    const std::string answer =
        json{{"data", {{"deployments", {{"edges", {{{"node", older}}, {{"node", newer}}}}}}}}}.dump();
    transport_.PushResponse(200, answer);
    transport_.PushResponse(200, answer);
    auto all = client_->ListDeployments("env-1", std::nullopt, 5);
    auto one_service = client_->ListDeployments("env-1", std::string("svc-1"), 5);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_TRUE(one_service);
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ((*all)[0].id, "dep-new");
    const json first = json::parse(transport_.requests()[0].body)["variables"];
    EXPECT_EQ(first["environmentId"], "env-1");
    EXPECT_EQ(first["first"], 5);
    EXPECT_FALSE(first.contains("serviceId"));
    EXPECT_EQ(json::parse(transport_.requests()[1].body)["variables"]["serviceId"], "svc-1");
}

TEST_F(ClientTest, StopCancelsInFlightRequests) {
    Make();
    transport_.Hold(true);
    std::thread stopper([&] {
        while (transport_.request_count() == 0)
            std::this_thread::yield();
        client_->Stop();
    });
    auto d = client_->GetDeployment("dep-1");
    stopper.join();
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, util::ErrorCode::kCancelled);
    EXPECT_EQ(transport_.cancelled(), 1u);
}

}  // namespace
}  // namespace railwatch::railway
