#include "cli/rest_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "fakes/scripted_transport.hpp"

namespace railwatch::cli {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "secret-api-token-42";

railway::EnvLookup Env(std::map<std::string, std::string> values) {
    return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
        auto it = values.find(std::string(name));
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

ServerConfig Config(std::string token = kToken) {
    ServerConfig config;
    config.base_url = "http://127.0.0.1:8080";
    config.api_token = std::move(token);
    return config;
}

std::string Header(const net::HttpRequest& request, std::string_view name) {
    auto value = net::FindHeader(request.headers, name);
    return value ? std::string(*value) : std::string();
}

TEST(ServerConfigFrom, DefaultsToLoopback8080AndReadsTheTokenFromTheEnvironment) {
    auto config = ServerConfigFrom(Env({{"RAILWATCH_API_TOKEN", kToken}}), "");
    ASSERT_TRUE(config);
    EXPECT_EQ(config->base_url, "http://127.0.0.1:8080");
    EXPECT_EQ(config->api_token, kToken);
}

TEST(ServerConfigFrom, TheFlagBeatsTheEnvironmentAndTrailingSlashesAreDropped) {
    auto from_env = ServerConfigFrom(Env({{"RAILWATCH_SERVER", "https://rw.example.com/"}}), "");
    ASSERT_TRUE(from_env);
    EXPECT_EQ(from_env->base_url, "https://rw.example.com");
    auto from_flag = ServerConfigFrom(Env({{"RAILWATCH_SERVER", "https://rw.example.com"}}), "http://10.0.0.1:9000");
    ASSERT_TRUE(from_flag);
    EXPECT_EQ(from_flag->base_url, "http://10.0.0.1:9000");
}

TEST(ServerConfigFrom, RejectsAnAddressThatIsNotAnHttpUrlWithoutEchoingIt) {
    auto bad = ServerConfigFrom(Env({{"RAILWATCH_SERVER", "ftp://user:pw@host"}}), "");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, util::ErrorCode::kInvalidArgument);
    EXPECT_THAT(bad.error().message, HasSubstr("RAILWATCH_SERVER"));
    EXPECT_THAT(bad.error().message, Not(HasSubstr("pw")));
    EXPECT_FALSE(ServerConfigFrom(Env({}), "127.0.0.1:8080"));
    EXPECT_FALSE(ServerConfigFrom(Env({}), "http://"));
}

TEST(PercentEncode, KeepsUnreservedCharactersAndEncodesTheRest) {
    EXPECT_EQ(PercentEncode("ins_AZ09-.~"), "ins_AZ09-.~");
    EXPECT_EQ(PercentEncode("a/b?c&d=e f"), "a%2Fb%3Fc%26d%3De%20f");
}

TEST(ExitCodeFor, ThreeWhenTheServerCannotBeTalkedToOneWhenItRefused) {
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kUnavailable, ""}), 3);
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kUnauthenticated, ""}), 3);
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kTimeout, ""}), 3);
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kParse, ""}), 3);
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kNotFound, ""}), 1);
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kInvalidArgument, ""}), 1);
    EXPECT_EQ(ExitCodeFor({util::ErrorCode::kConflict, ""}), 1);
}

TEST(RestClient, SendsTheBearerTokenAndReturnsTheAnswer) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(200, R"({"totalInstances":3})");
    RestClient client(transport, Config());
    auto stats = client.Stats();
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ((*stats)["totalInstances"], 3);
    const auto requests = transport.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].method, "GET");
    EXPECT_EQ(requests[0].url, "http://127.0.0.1:8080/api/v1/stats");
    EXPECT_EQ(Header(requests[0], "Authorization"), std::string("Bearer ") + kToken);
}

TEST(RestClient, SendsNoAuthorizationHeaderWithoutAToken) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(200, R"({"items":[]})");
    RestClient client(transport, Config(""));
    ASSERT_TRUE(client.Attention());
    EXPECT_EQ(Header(transport.requests()[0], "Authorization"), "");
}

TEST(RestClient, AddInstancePostsOnlyTheFieldsGiven) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(201, R"({"id":"ins_1","status":"INITIALIZING"})");
    RestClient client(transport, Config());
    NewInstance instance;
    instance.service_id = "svc";
    instance.environment_id = "env";
    instance.project_name = "shop";
    auto added = client.AddInstance(instance);
    ASSERT_TRUE(added);
    EXPECT_EQ((*added)["id"], "ins_1");
    const auto request = transport.requests().at(0);
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, "http://127.0.0.1:8080/api/v1/instances");
    EXPECT_FALSE(request.idempotent);
    EXPECT_EQ(json::parse(request.body),
              json({{"serviceId", "svc"}, {"environmentId", "env"}, {"projectName", "shop"}}));
    instance.check_interval_s = 20;
    transport.PushResponse(201, R"({"id":"ins_2"})");
    ASSERT_TRUE(client.AddInstance(instance));
    EXPECT_EQ(json::parse(transport.requests().at(1).body)["checkIntervalSeconds"], 20);
    EXPECT_EQ(Header(request, "Content-Type"), "application/json");
}

TEST(RestClient, ListInstancesFollowsNextCursorUntilTheLastPage) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(200, R"({"items":[{"id":"a"},{"id":"b"}],"nextCursor":"c/1"})");
    transport.PushResponse(200, R"({"items":[{"id":"c"}],"nextCursor":"c2"})");
    transport.PushResponse(200, R"({"items":[],"nextCursor":null})");
    RestClient client(transport, Config());
    InstanceFilter filter;
    filter.status = "FAILED";
    filter.needs_attention = true;
    auto all = client.ListInstances(filter, 2);
    ASSERT_TRUE(all) << all.error().message;
    ASSERT_EQ((*all)["items"].size(), 3u);
    EXPECT_EQ((*all)["items"][2]["id"], "c");
    EXPECT_TRUE((*all)["nextCursor"].is_null());
    const auto requests = transport.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].url, "http://127.0.0.1:8080/api/v1/instances?limit=2&status=FAILED&needsAttention=true");
    EXPECT_EQ(requests[1].url,
              "http://127.0.0.1:8080/api/v1/instances?limit=2&status=FAILED&needsAttention=true&cursor=c%2F1");
    EXPECT_THAT(requests[2].url, HasSubstr("&cursor=c2"));
}

TEST(RestClient, ListInstancesStopsOnACursorHandedOutTwice) {
    fakes::ScriptedTransport transport;
    transport.SetHandler([](const net::HttpRequest&) {
        net::HttpResponse response;
        response.status = 200;
        response.body = R"({"items":[{"id":"a"}],"nextCursor":"same"})";
        return response;
    });
    RestClient client(transport, Config());
    auto all = client.ListInstances({});
    ASSERT_FALSE(all);
    EXPECT_LE(transport.request_count(), 3u);
}

TEST(RestClient, UnreachableServerSaysToStartServeOrSetRailwatchServer) {
    fakes::ScriptedTransport transport;
    transport.PushError(core::TransportErrorKind::kConnect, "connection refused");
    RestClient client(transport, Config());
    auto stats = client.Stats();
    ASSERT_FALSE(stats);
    EXPECT_EQ(stats.error().code, util::ErrorCode::kUnavailable);
    EXPECT_THAT(stats.error().message, HasSubstr("http://127.0.0.1:8080"));
    EXPECT_THAT(stats.error().message, HasSubstr("railwatch serve"));
    EXPECT_THAT(stats.error().message, HasSubstr("RAILWATCH_SERVER"));
    EXPECT_EQ(ExitCodeFor(stats.error()), 3);
}

TEST(RestClient, UnauthorizedSaysToSetTheTokenAndNeverShowsIt) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(401, R"({"error":{"code":"unauthorized","message":"the API token was rejected"}})");
    transport.PushResponse(401, R"({"error":{"code":"unauthorized","message":"this API needs a token"}})");
    RestClient with_token(transport, Config());
    auto rejected = with_token.Stats();
    ASSERT_FALSE(rejected);
    EXPECT_EQ(rejected.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_THAT(rejected.error().message, HasSubstr("rejected the token in RAILWATCH_API_TOKEN"));
    EXPECT_THAT(rejected.error().message, Not(HasSubstr(kToken)));
    RestClient without_token(transport, Config(""));
    auto missing = without_token.Stats();
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error().message, HasSubstr("RAILWATCH_API_TOKEN is not set"));
}

TEST(RestClient, NotFoundOnAnInstanceNamesItAndPointsAtTheList) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(404, R"({"error":{"code":"not_found","message":"no instance ins_x"}})");
    RestClient client(transport, Config());
    auto shown = client.GetInstance("ins/x");
    ASSERT_FALSE(shown);
    EXPECT_EQ(shown.error().code, util::ErrorCode::kNotFound);
    EXPECT_EQ(shown.error().message, "no instance ins/x; see `railwatch instances list`");
    EXPECT_EQ(transport.requests()[0].url, "http://127.0.0.1:8080/api/v1/instances/ins%2Fx");
    EXPECT_EQ(ExitCodeFor(shown.error()), 1);
}

TEST(RestClient, OtherErrorsCarryTheApisOwnMessage) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(
        404,
        R"({"error":{"code":"not_found","message":"Railway has no deployment for service svc; deploy it first"}})");
    transport.PushResponse(400, R"({"error":{"code":"bad_request","message":"query parameter `limit` is bad"}})");
    RestClient client(transport, Config());
    auto added = client.AddInstance({"svc", "env", "", "", ""});
    ASSERT_FALSE(added);
    EXPECT_THAT(added.error().message, HasSubstr("Railway has no deployment for service svc; deploy it first"));
    EXPECT_THAT(added.error().message, HasSubstr("HTTP 404"));
    auto logs = client.Logs("ins_1", 5);
    ASSERT_FALSE(logs);
    EXPECT_EQ(logs.error().code, util::ErrorCode::kInvalidArgument);
    EXPECT_THAT(logs.error().message, HasSubstr("query parameter `limit` is bad"));
}

TEST(RestClient, AnAnswerThatIsNotTheApisJsonIsAnApiError) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(200, "<html>hello</html>");
    transport.PushResponse(502, "Bad Gateway");
    RestClient client(transport, Config());
    auto html = client.Stats();
    ASSERT_FALSE(html);
    EXPECT_EQ(html.error().code, util::ErrorCode::kParse);
    EXPECT_EQ(ExitCodeFor(html.error()), 3);
    auto gateway = client.Stats();
    ASSERT_FALSE(gateway);
    EXPECT_THAT(gateway.error().message, HasSubstr("HTTP 502"));
    EXPECT_EQ(ExitCodeFor(gateway.error()), 3);
}

TEST(RestClient, NotificationsPassTheUserAsAQueryParameter) {
    fakes::ScriptedTransport transport;
    transport.PushResponse(200, R"({"items":[],"unreadCount":0})");
    transport.PushResponse(200, R"({"items":[],"unreadCount":0})");
    RestClient client(transport, Config());
    ASSERT_TRUE(client.Notifications(""));
    ASSERT_TRUE(client.Notifications("usr a"));
    EXPECT_EQ(transport.requests()[0].url, "http://127.0.0.1:8080/api/v1/notifications");
    EXPECT_EQ(transport.requests()[1].url, "http://127.0.0.1:8080/api/v1/notifications?userId=usr%20a");
}

// PUT …/monitoring: an interval sets it, 0 is sent as null (removed), none leaves it out; the
// redeploy and the failure read name their instance.
TEST(RestClient, MonitoringRedeployAndFailureCallTheInstancesRoutes) {
    fakes::ScriptedTransport transport;
    for (int i = 0; i < 3; ++i)
        transport.PushResponse(200, R"({"id":"ins a","monitoring":true})");
    transport.PushResponse(202, R"({"instanceId":"ins a","requestedAt":"2026-01-01T00:00:00.000Z"})");
    transport.PushResponse(200, R"({"instanceId":"ins a","failure":null})");
    RestClient client(transport, Config());
    ASSERT_TRUE(client.SetMonitoring("ins a", true, 45));
    ASSERT_TRUE(client.SetMonitoring("ins a", true, 0));
    ASSERT_TRUE(client.SetMonitoring("ins a", false, std::nullopt));
    ASSERT_TRUE(client.Redeploy("ins a"));
    ASSERT_TRUE(client.Failure("ins a"));
    const auto& requests = transport.requests();
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(requests[i].method, "PUT");
        EXPECT_EQ(requests[i].url, "http://127.0.0.1:8080/api/v1/instances/ins%20a/monitoring");
    }
    EXPECT_EQ(json::parse(requests[0].body), json({{"enabled", true}, {"checkIntervalSeconds", 45}}));
    EXPECT_EQ(json::parse(requests[1].body), json({{"enabled", true}, {"checkIntervalSeconds", nullptr}}));
    EXPECT_EQ(json::parse(requests[2].body), json({{"enabled", false}}));
    EXPECT_EQ(requests[3].method, "POST");
    EXPECT_EQ(requests[3].url, "http://127.0.0.1:8080/api/v1/instances/ins%20a/redeploy");
    EXPECT_FALSE(requests[3].idempotent);
    EXPECT_EQ(requests[4].method, "GET");
    EXPECT_EQ(requests[4].url, "http://127.0.0.1:8080/api/v1/instances/ins%20a/failure");
}

}  // namespace
}  // namespace railwatch::cli
