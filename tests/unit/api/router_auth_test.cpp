#include <gtest/gtest.h>

#include "api/auth.hpp"
#include "api/router.hpp"

namespace railwatch::api {
namespace {

net::ServerResponse Named(std::string name) {
    net::ServerResponse res;
    res.body = std::move(name);
    return res;
}

TEST(Router, MatchesMethodAndPathAndCapturesIdSegments) {
    Router router;
    router.Add("GET", "/api/v1/instances", [](const auto&, const auto&) { return Named("list"); });
    router.Add("GET", "/api/v1/instances/{id}", [](const auto&, const auto& p) { return Named("get " + p.at("id")); });
    router.Add("DELETE", "/api/v1/instances/{id}", [](const auto&, const auto&) { return Named("delete"); });
    router.Add("GET", "/api/v1/instances/{id}/logs", [](const auto&, const auto&) { return Named("logs"); });

    net::ServerRequest req;
    auto m = router.Match("GET", "/api/v1/instances/ins_1");
    ASSERT_NE(m.handler, nullptr);
    EXPECT_EQ((*m.handler)(req, m.params).body, "get ins_1");
    EXPECT_EQ(m.route->pattern, "/api/v1/instances/{id}");
    m = router.Match("DELETE", "/api/v1/instances/ins_1");
    ASSERT_NE(m.handler, nullptr);
    EXPECT_EQ((*m.handler)(req, m.params).body, "delete");
    m = router.Match("GET", "/api/v1/instances/ins_1/logs");
    ASSERT_NE(m.handler, nullptr);
    EXPECT_EQ(m.params.at("id"), "ins_1");
}

TEST(Router, ReportsAKnownPathWithAnotherMethodAndRejectsNearMisses) {
    Router router;
    router.Add("GET", "/api/v1/instances/{id}", [](const auto&, const auto&) { return Named("get"); });
    auto m = router.Match("PUT", "/api/v1/instances/x");
    EXPECT_EQ(m.handler, nullptr);
    EXPECT_TRUE(m.path_known);
    EXPECT_EQ(router.Match("GET", "/api/v1/instances/").handler, nullptr);
    EXPECT_EQ(router.Match("GET", "/api/v1/instances/x/y").handler, nullptr);
    EXPECT_EQ(router.Match("GET", "/api/v1/instance/x").handler, nullptr);
    EXPECT_FALSE(router.Match("GET", "/api/v1/instance/x").path_known);
    EXPECT_NE(router.Match("HEAD", "/api/v1/instances/x").handler, nullptr);
}

TEST(Auth, ConstantTimeEqualsComparesWholeStrings) {
    EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
    EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
    EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
    EXPECT_FALSE(ConstantTimeEquals("", "x"));
    EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(Auth, BearerNeedsTheSchemeAndTheExactTokenWhenOneIsSet) {
    EXPECT_TRUE(BearerAuthorized(std::nullopt, ""));
    EXPECT_FALSE(BearerAuthorized(std::nullopt, "tok"));
    EXPECT_TRUE(BearerAuthorized("Bearer tok", "tok"));
    EXPECT_TRUE(BearerAuthorized("BEARER tok", "tok"));
    EXPECT_FALSE(BearerAuthorized("Basic tok", "tok"));
    EXPECT_FALSE(BearerAuthorized("tok", "tok"));
    EXPECT_FALSE(BearerAuthorized("Bearer tok2", "tok"));
    EXPECT_FALSE(BearerAuthorized("Bearer ", "tok"));
}

}  // namespace
}  // namespace railwatch::api
