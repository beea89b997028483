#include "railway/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace railwatch::railway {
namespace {

using ::testing::HasSubstr;

EnvLookup Env(const std::map<std::string, std::string>& vars) {
    return [vars](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

TEST(Credentials, ProjectTokenWinsWhenBothAreSet) {
    auto c = CredentialsFromEnvironment(Env({{"RAILWAY_TOKEN", "proj"}, {"RAILWAY_API_TOKEN", "acct"}}));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, TokenKind::kProject);
    EXPECT_EQ(c->token, "proj");
    EXPECT_EQ(c->AuthHeader(), net::HttpHeader("Project-Access-Token", "proj"));
}

TEST(Credentials, AccountTokenTravelsAsBearer) {
    auto c = CredentialsFromEnvironment(Env({{"RAILWAY_API_TOKEN", "acct"}}));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, TokenKind::kAccount);
    EXPECT_EQ(c->AuthHeader(), net::HttpHeader("Authorization", "Bearer acct"));
}

TEST(Credentials, EmptyProjectTokenFallsBackToAccountToken) {
    auto c = CredentialsFromEnvironment(Env({{"RAILWAY_TOKEN", ""}, {"RAILWAY_API_TOKEN", "acct"}}));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->kind, TokenKind::kAccount);
}

TEST(Credentials, NoTokenSaysWhichVariablesToSet) {
    auto c = CredentialsFromEnvironment(Env({{"RAILWAY_API_TOKEN", ""}}));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_THAT(c.error().message, HasSubstr("RAILWAY_API_TOKEN"));
    EXPECT_THAT(c.error().message, HasSubstr("RAILWAY_TOKEN"));
}

TEST(Credentials, DescribeNeverShowsTheToken) {
    Credentials c{TokenKind::kProject, "s3cr3t"};
    EXPECT_THAT(c.Describe(), ::testing::Not(HasSubstr("s3cr3t")));
    EXPECT_EQ(c.EnvName(), "RAILWAY_TOKEN");
}

TEST(Endpoint, AddsSourceQueryOnce) {
    EXPECT_EQ(EndpointWithSource("https://backboard.railway.com/graphql/v2"),
              "https://backboard.railway.com/graphql/v2?source=railwatch");
    EXPECT_EQ(EndpointWithSource("http://127.0.0.1:1/graphql/v2?x=1"),
              "http://127.0.0.1:1/graphql/v2?x=1&source=railwatch");
    EXPECT_EQ(EndpointWithSource("http://h/g?source=other"), "http://h/g?source=other");
    EXPECT_EQ(EndpointWithSource("http://h/g?"), "http://h/g?source=railwatch");
}

TEST(Endpoint, ApiUrlFromEnvironmentOrDefault) {
    EXPECT_EQ(ApiUrlFromEnvironment(Env({})), kDefaultApiUrl);
    EXPECT_EQ(ApiUrlFromEnvironment(Env({{"RAILWAY_API_URL", "http://127.0.0.1:9/graphql/v2"}})),
              "http://127.0.0.1:9/graphql/v2");
    EXPECT_TRUE(ValidateApiUrl("https://backboard.railway.com/graphql/v2"));
    auto bad = ValidateApiUrl("backboard.railway.com");
    ASSERT_FALSE(bad);
    EXPECT_THAT(bad.error().message, HasSubstr("RAILWAY_API_URL"));
}

TEST(Endpoint, PlainHttpIsRefusedUnlessItStaysOnThisMachine) {
    for (const char* url :
         {"http://127.0.0.1:7070/graphql/v2", "http://127.8.9.10/graphql/v2", "http://localhost:7070/graphql/v2",
          "http://LOCALHOST/graphql/v2", "http://[::1]:7070/graphql/v2", "http://user@127.0.0.1:1/x",
          "https://backboard.railway.com/graphql/v2", "https://10.0.0.5/graphql/v2"}) {
        EXPECT_TRUE(ValidateApiUrl(url)) << url;
    }
    for (const char* url :
         {"http://backboard.railway.com/graphql/v2", "http://10.0.0.5:7070/graphql/v2", "http://128.0.0.1/graphql/v2",
          "http://localhost.evil.com/graphql/v2", "http://127.0.0.1.evil.com/graphql/v2", "http://[::2]/graphql/v2",
          "http://127.0.0.1@evil.com/graphql/v2"}) {
        auto refused = ValidateApiUrl(url);
        ASSERT_FALSE(refused) << url;
        EXPECT_EQ(refused.error().code, util::ErrorCode::kInvalidArgument);
        EXPECT_THAT(refused.error().message, HasSubstr("token would travel in clear text"));
        EXPECT_THAT(refused.error().message, HasSubstr("https://"));
    }
}

TEST(Endpoint, RefusalsDoNotQuoteTheQueryString) {
    auto refused = ValidateApiUrl("http://example.com/graphql/v2?token=s3cr3t-value");
    ASSERT_FALSE(refused);
    EXPECT_THAT(refused.error().message, ::testing::Not(HasSubstr("s3cr3t")));
}

}  // namespace
}  // namespace railwatch::railway
