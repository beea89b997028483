#include "net/http_transport.hpp"

#include <gtest/gtest.h>

namespace railwatch::net {
namespace {

TEST(HttpTransport, FindsHeadersCaseInsensitively) {
    HttpHeaders headers = {{"X-RateLimit-Remaining", "42"}, {"content-type", "application/json"}};
    EXPECT_EQ(FindHeader(headers, "x-ratelimit-remaining").value_or(""), "42");
    EXPECT_EQ(FindHeader(headers, "Content-Type").value_or(""), "application/json");
    EXPECT_FALSE(FindHeader(headers, "Retry-After").has_value());
}

TEST(HttpTransport, UrlForMessagesDropsQueryAndFragment) {
    EXPECT_EQ(UrlForMessages("https://backboard.railway.com/graphql/v2?source=railwatch&token=secret"),
              "https://backboard.railway.com/graphql/v2");
    EXPECT_EQ(UrlForMessages("http://h/p#frag"), "http://h/p");
    EXPECT_EQ(UrlForMessages("http://h/p"), "http://h/p");
}

TEST(HttpTransport, ResponseAnsweredOnlyWithoutTransportError) {
    HttpResponse ok;
    ok.status = 503;
    EXPECT_TRUE(ok.Answered());
    HttpResponse failed;
    failed.error = core::TransportErrorKind::kReset;
    EXPECT_FALSE(failed.Answered());
}

}  // namespace
}  // namespace railwatch::net
