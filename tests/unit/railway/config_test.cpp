#include "railway/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace railwatch::railway {
namespace {

using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars) {
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

}  // namespace
}  // namespace railwatch::railway
