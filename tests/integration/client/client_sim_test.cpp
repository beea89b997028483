// The real RailwayClient (libcurl transport) against the real `railwatch sim` binary answering as
// Railway does: a status batch with one deployment Railway no longer knows. Railway's answer for
// such an id is not documented (the message varies, every error carries
// extensions.code INTERNAL_SERVER_ERROR and a traceId, and `deployment(id)` is non-null so the
// whole `data` becomes null): the client must be right for every plausible answer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "net/curl_transport.hpp"
#include "railway/client.hpp"
#include "support/sim_process.hpp"
#include "util/random.hpp"

namespace railwatch {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kAccountToken = "client-sim-account-token";

/// (message the sim gives an unknown deployment, "first" or "all" sibling errors)
class OneGoneIdInABatch : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
  protected:
    static void SetUpTestSuite() {
        sim_ = new test::SimProcess({"--account-token", kAccountToken, "--seed", "5"});
        ASSERT_GT(sim_->port(), 0) << "railwatch sim did not start:\n" << sim_->Log();
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }

    static json Control(const std::string& path, const json& body) {
        const std::string answer = sim_->Post(path, body.dump());
        return json::parse(answer, nullptr, false);
    }
    static int RequestsSoFar() {
        const json stats = json::parse(sim_->Get("/_sim/stats"), nullptr, false);
        return stats.is_discarded() ? -1 : stats["total"].get<int>();
    }

    static test::SimProcess* sim_;
};

test::SimProcess* OneGoneIdInABatch::sim_ = nullptr;

TEST_P(OneGoneIdInABatch, GetsTheOther49StatusesInAtMostTwoRequestsAndReportsTheGoneOneWithItsTraceId) {
    const auto& [message, siblings] = GetParam();
    const json configured =
        Control("/_sim/config", {{"rateLimit", {{"rps", 0}, {"rph", 0}}},
                                 {"errors", {{"unknownDeployment", message}, {"siblingErrors", siblings}}}});
    ASSERT_FALSE(configured.is_discarded() || configured.contains("error")) << configured.dump();

    const json created = Control("/_sim/deployments", {{"count", 50}, {"kind", "success"}});
    ASSERT_EQ(created["ids"].size(), 50u) << created.dump();
    std::vector<std::string> ids = created["ids"].get<std::vector<std::string>>();
    const std::string gone = ids[17];  // somewhere in the middle of the batch
    const json deleted = Control("/_sim/deployments/delete", {{"ids", {gone}}});
    ASSERT_EQ(deleted["deleted"], 1) << deleted.dump();

    util::SystemClock clock;
    railway::RequestBudget budget(clock, {100'000, 1'000});
    util::SystemRandom random;
    railway::ClientConfig config;
    config.api_url = sim_->GraphqlUrl();
    config.batch_size = 50;
    net::CurlTransport transport;
    railway::RailwayClient client(transport, clock, budget, random, {railway::TokenKind::kAccount, kAccountToken},
                                  config);

    const int before = RequestsSoFar();
    const auto results = client.GetDeployments(ids);
    const int sent = RequestsSoFar() - before;

    ASSERT_EQ(results.size(), 50u);
    int statuses = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        EXPECT_EQ(results[i].deployment_id, ids[i]);
        if (ids[i] == gone) continue;
        ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
        EXPECT_EQ(results[i].result->id, ids[i]);
        ++statuses;
    }
    EXPECT_EQ(statuses, 49);
    EXPECT_LE(sent, 2) << "requests the sim received for one batch of 50";
    EXPECT_GE(sent, 1);

    const auto& failed = results[17].result;
    ASSERT_FALSE(failed) << "the deleted deployment got a status";
    EXPECT_THAT(failed.error().message, HasSubstr(message));
    EXPECT_FALSE(failed.error().trace_id.empty()) << failed.error().message;
    EXPECT_THAT(failed.error().message, HasSubstr(failed.error().trace_id));
    EXPECT_THAT(failed.error().message, ::testing::Not(HasSubstr(kAccountToken)));
}

INSTANTIATE_TEST_SUITE_P(RailwayShapedErrors, OneGoneIdInABatch,
                         ::testing::Combine(::testing::Values("Deployment not found", "Not Authorized",
                                                              "Problem processing request"),
                                            ::testing::Values("first", "all")),
                         [](const auto& info) {
                             std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
                             for (char& c : name)
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             return name;
                         });

}  // namespace
}  // namespace railwatch
