// Batch isolation: one bad id never blinds the rest of its batch, against answers shaped like
// real Railway's (HTTP 200, `data: null`, INTERNAL_SERVER_ERROR + traceId on every error).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "fakes/scripted_transport.hpp"
#include "railway/client.hpp"
#include "railway/documents.hpp"
#include "railway_answers.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

using answers::AliasesOf;
using answers::Nulling;
using answers::StatusAnswer;
using answers::TraceFor;
using ::testing::HasSubstr;

constexpr const char* kToken = "tok_SUPERSECRET_0123456789";

std::vector<std::string> Ids(int count, const std::string& prefix = "dep-") {
    std::vector<std::string> ids;
    ids.reserve(count);
    for (int i = 0; i < count; ++i)
        ids.push_back(prefix + std::to_string(i));
    return ids;
}

class StatusBatchTest : public ::testing::Test {
  protected:
    void Make(ClientConfig config = {}) {
        config.api_url = "https://backboard.railway.com/graphql/v2";
        client_ = std::make_unique<RailwayClient>(transport_, clock_, budget_, random_,
                                                  Credentials{TokenKind::kAccount, kToken}, config,
                                                  [this](std::string_view line) { logs_.emplace_back(line); });
    }

    // docs/CLIENT.md's examples: 100 deployments a request (the default is 400).
    static ClientConfig HundredPerRequest(int max_attempts = ClientConfig{}.max_attempts) {
        ClientConfig config;
        config.batch_size = 100;
        config.max_attempts = max_attempts;
        return config;
    }

    // Every request's ids, in order.
    std::vector<std::set<std::string>> RequestedIds() const {
        std::vector<std::set<std::string>> out;
        for (const auto& request : transport_.requests()) {
            std::set<std::string> ids;
            for (const auto& [alias, id] : AliasesOf(request))
                ids.insert(id);
            out.push_back(std::move(ids));
        }
        return out;
    }

    util::FakeClock clock_;
    fakes::ScriptedTransport transport_;
    core::SequenceRandom random_{{0.5}};
    RequestBudget budget_{clock_, BudgetConfig{100'000, 1'000}};
    std::vector<std::string> logs_;
    std::unique_ptr<RailwayClient> client_;
};

struct FinalMessage {
    const char* name;
    const char* message;
    util::ErrorCode code;
    core::ErrorClass error_class;
};

void PrintTo(const FinalMessage& m, std::ostream* os) {
    *os << m.name;
}

class OneFailingIdOfFifty : public StatusBatchTest, public ::testing::WithParamInterface<FinalMessage> {};

TEST_P(OneFailingIdOfFifty, YieldsFortyNineStatusesInAtMostTwoRequestsAndTheMessageWithTraceId) {
    Make();
    const FinalMessage& m = GetParam();
    const auto ids = Ids(50);
    const std::string& bad = ids[17];
    transport_.SetHandler([&](const net::HttpRequest& r) { return StatusAnswer(r, "SUCCESS", {{bad, m.message}}); });

    const auto results = client_->GetDeployments(ids);

    ASSERT_EQ(results.size(), 50u);
    EXPECT_LE(transport_.request_count(), 2u);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] == bad) continue;
        ASSERT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
        EXPECT_EQ(results[i].result->id, ids[i]);
    }
    ASSERT_FALSE(results[17].result);
    const ApiError& error = results[17].result.error();
    EXPECT_EQ(error.code, m.code);
    EXPECT_EQ(error.error_class, m.error_class);
    EXPECT_FALSE(error.retryable);
    EXPECT_THAT(error.message, HasSubstr(m.message));
    EXPECT_THAT(error.message, HasSubstr(bad));
    EXPECT_THAT(error.message, HasSubstr("(Railway traceId " + TraceFor(bad) + ")"));
    EXPECT_EQ(error.trace_id, TraceFor(bad));
    EXPECT_EQ(error.attempts, 1);
    // The failing id is never asked again together with the others.
    const auto requested = RequestedIds();
    for (std::size_t r = 1; r < requested.size(); ++r)
        EXPECT_EQ(requested[r].count(bad), 0u) << "request " << r;
}

INSTANTIATE_TEST_SUITE_P(
    RailwayMessages, OneFailingIdOfFifty,
    ::testing::Values(FinalMessage{"NotFound", "Deployment not found", util::ErrorCode::kNotFound,
                                   core::ErrorClass::kConfiguration},
                      FinalMessage{"NotAuthorized", "Not Authorized", util::ErrorCode::kUnauthenticated,
                                   core::ErrorClass::kAuthentication},
                      FinalMessage{"ProblemProcessing", "Problem processing request", util::ErrorCode::kInvalidArgument,
                                   core::ErrorClass::kConfiguration}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(StatusBatchTest, ErrorsWithPartialDataNeedOneRequest) {
    Make();
    const auto ids = Ids(50);
    transport_.SetHandler([&](const net::HttpRequest& r) {
        return StatusAnswer(r, "BUILDING", {{ids[3], "Deployment not found"}}, Nulling::kPartial);
    });
    const auto results = client_->GetDeployments(ids);
    EXPECT_EQ(transport_.request_count(), 1u);
    for (std::size_t i = 0; i < ids.size(); ++i)
        EXPECT_EQ(results[i].result.has_value(), i != 3) << ids[i];
    EXPECT_EQ(results[3].result.error().code, util::ErrorCode::kNotFound);
}

TEST_F(StatusBatchTest, SeveralFailingIdsAreAllSetAsideAtOnce) {
    Make();
    const auto ids = Ids(50);
    const std::map<std::string, std::string> failing = {
        {ids[0], "Deployment not found"}, {ids[20], "Not Authorized"}, {ids[49], "Problem processing request"}};
    transport_.SetHandler([&](const net::HttpRequest& r) { return StatusAnswer(r, "SUCCESS", failing); });
    const auto results = client_->GetDeployments(ids);
    EXPECT_EQ(transport_.request_count(), 2u);
    EXPECT_EQ(results[0].result.error().code, util::ErrorCode::kNotFound);
    EXPECT_EQ(results[20].result.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_EQ(results[49].result.error().code, util::ErrorCode::kInvalidArgument);
    int ok = 0;
    for (const auto& r : results)
        ok += r.result.has_value() ? 1 : 0;
    EXPECT_EQ(ok, 47);
}

TEST_F(StatusBatchTest, AServerThatNamesOneErrorPerAnswerStillCostsTheOthersNothing) {
    Make();
    const auto ids = Ids(50);
    std::map<std::string, std::string> failing;
    for (int i : {2, 11, 23, 35, 47, 48})
        failing[ids[i]] = "Deployment not found";
    transport_.SetHandler([&](const net::HttpRequest& r) {
        return StatusAnswer(r, "SUCCESS", failing, Nulling::kAll, /*name_one_error_only=*/true);
    });
    const auto results = client_->GetDeployments(ids);
    // One failing id set aside per answer: 6 answers naming one, then one clean answer. More
    // failing ids than max_attempts (5) do not make an innocent id fail.
    EXPECT_EQ(transport_.request_count(), 7u);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (failing.count(ids[i])) {
            ASSERT_FALSE(results[i].result);
            EXPECT_EQ(results[i].result.error().code, util::ErrorCode::kNotFound);
        } else {
            EXPECT_TRUE(results[i].result) << ids[i] << ": " << results[i].result.error().message;
        }
    }
}

TEST_F(StatusBatchTest, AFailingIdInEveryBatchOfTwoHundredCostsOneExtraRequestPerBatch) {
    ClientConfig config;
    config.batch_size = 50;
    Make(config);
    const auto ids = Ids(200);
    std::map<std::string, std::string> failing;
    for (int batch = 0; batch < 4; ++batch)
        failing[ids[batch * 50 + 7]] = batch % 2 == 0 ? "Deployment not found" : "Not Authorized";
    transport_.SetHandler([&](const net::HttpRequest& r) { return StatusAnswer(r, "SUCCESS", failing); });
    const auto results = client_->GetDeployments(ids);
    // 4 batches, then the 196 others in 4 new batches (50, 50, 50, 46).
    EXPECT_EQ(transport_.request_count(), 8u);
    int ok = 0;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (failing.count(ids[i])) {
            EXPECT_FALSE(results[i].result);
            EXPECT_THAT(results[i].result.error().message, HasSubstr(TraceFor(ids[i])));
        } else if (results[i].result) {
            ++ok;
            EXPECT_EQ(results[i].result->id, ids[i]);
        }
    }
    EXPECT_EQ(ok, 196);
}

TEST_F(StatusBatchTest, AnUnrecognisedInternalErrorIsAskedAloneAgainThenReported) {
    ClientConfig config;
    config.max_attempts = 3;
    Make(config);
    const auto ids = Ids(50);
    const std::string& odd = ids[9];
    transport_.SetHandler([&](const net::HttpRequest& r) {
        return StatusAnswer(r, "SUCCESS", {{odd, "Something odd happened"}});
    });
    const auto results = client_->GetDeployments(ids);
    // First batch; then the 49 others in one batch and the odd one alone (same round); then the
    // odd one alone once more: it had 3 answers in all.
    EXPECT_EQ(transport_.request_count(), 4u);
    const auto requested = RequestedIds();
    for (std::size_t r = 1; r < requested.size(); ++r) {
        if (requested[r].count(odd)) {
            EXPECT_EQ(requested[r].size(), 1u) << "request " << r;
        }
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] != odd) {
            EXPECT_TRUE(results[i].result) << ids[i];
        }
    }
    ASSERT_FALSE(results[9].result);
    const ApiError& error = results[9].result.error();
    EXPECT_EQ(error.code, util::ErrorCode::kUnavailable);
    EXPECT_TRUE(error.retryable);
    EXPECT_EQ(error.attempts, 3);
    EXPECT_THAT(error.message, HasSubstr("Something odd happened"));
    EXPECT_EQ(error.trace_id, TraceFor(odd));
}

TEST_F(StatusBatchTest, AnUnrecognisedInternalErrorThatClearsUpAloneGivesTheStatus) {
    Make();
    const auto ids = Ids(10);
    transport_.SetHandler([&](const net::HttpRequest& r) {
        // Railway fails the id only when it is asked together with others.
        return StatusAnswer(r, "DEPLOYING",
                            AliasesOf(r).size() > 1 ? std::map<std::string, std::string>{{ids[4], "Upstream hiccup"}}
                                                    : std::map<std::string, std::string>{});
    });
    const auto results = client_->GetDeployments(ids);
    EXPECT_EQ(transport_.request_count(), 3u);
    for (const auto& r : results)
        ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
}

TEST_F(StatusBatchTest, AnswersThatNameNoFailingAliasAreRetriedABoundedNumberOfTimes) {
    ClientConfig config;
    config.max_attempts = 3;
    Make(config);
    // data: null with an error whose path names no alias of the request.
    transport_.PushResponse(200, R"({"data":null,"errors":[{"message":"odd","path":["elsewhere"]}]})");
    transport_.PushResponse(200, R"({"data":null,"errors":[{"message":"odd","path":["elsewhere"]}]})");
    transport_.PushResponse(200, R"({"data":null,"errors":[{"message":"odd","path":["elsewhere"]}]})");
    const auto results = client_->GetDeployments(Ids(3));
    EXPECT_EQ(transport_.request_count(), 3u);
    for (const auto& r : results) {
        ASSERT_FALSE(r.result);
        EXPECT_EQ(r.result.error().code, util::ErrorCode::kParse);
        EXPECT_THAT(r.result.error().message, HasSubstr("no data and no error"));
        EXPECT_EQ(r.result.error().attempts, 3);
    }
}

// A token Railway refuses gets the same answer at every size: halving is tried one half at a time
// (about two requests per halving of one batch), then every id has the refusal; after three such
// calls in a row, calls do not halve again until some request is answered.
TEST_F(StatusBatchTest, AWholeRequestFailureAtEverySizeIsEveryIdsAnswerAfterOneProbe) {
    Make(HundredPerRequest());
    transport_.SetHandler([](const net::HttpRequest&) {
        return answers::Answer(200, answers::WholeFailure("Not Authorized", "abc123"));
    });
    for (std::size_t call = 1; call <= 3; ++call) {
        const auto results = client_->GetDeployments(Ids(100));
        // 100, then 50 + 50, then two halves of one refused half at a time down to one id: 25,
        // 13, 7, 4, 2, 1.
        EXPECT_EQ(transport_.request_count(), 15u * call);
        for (const auto& r : results) {
            ASSERT_FALSE(r.result);
            EXPECT_EQ(r.result.error().code, util::ErrorCode::kUnauthenticated);
            EXPECT_THAT(r.result.error().message, HasSubstr("(Railway traceId abc123)"));
        }
    }
    EXPECT_EQ(client_->StatusBatchSize(), 100u);  // nothing learned from refusals alone
    const auto again = client_->GetDeployments(Ids(100));
    EXPECT_EQ(transport_.request_count(), 46u);  // one request: three calls in a row got no answer
    for (const auto& r : again)
        EXPECT_FALSE(r.result);
}

// "Not found" for a request of several ids without a path says nothing about any one of them:
// only an id asked alone takes it as its own (which ends its monitoring); the others of a refusal
// that was never narrowed down get an error that does not say "not found".
TEST_F(StatusBatchTest, ARefusalNeverNarrowedToOneIdIsNoIdsNotFound) {
    Make();
    transport_.SetHandler([](const net::HttpRequest&) {
        return answers::Answer(200, answers::WholeFailure("Deployment not found", "t0"));
    });
    const auto results = client_->GetDeployments(Ids(8));
    std::set<std::string> alone;  // ids Railway was asked about on their own
    for (const auto& request : transport_.requests()) {
        const auto aliases = AliasesOf(request);
        if (aliases.size() == 1) alone.insert(aliases.begin()->second);
    }
    ASSERT_FALSE(alone.empty());
    for (const auto& r : results) {
        ASSERT_FALSE(r.result);
        if (alone.count(r.deployment_id)) {
            EXPECT_EQ(r.result.error().kind, core::ApiFailureKind::kNotFound) << r.deployment_id;
        } else {
            EXPECT_NE(r.result.error().kind, core::ApiFailureKind::kNotFound) << r.deployment_id;
            EXPECT_THAT(r.result.error().message, HasSubstr("without naming which")) << r.deployment_id;
        }
    }
}

// Railway documents no limit on aliases, a document's size or its complexity (FACTS §7). Each
// plausible refusal of a request that carries too many: the request is asked again in halves,
// every id is answered, and later requests carry no more than the size that was answered.
struct SizeRefusal {
    const char* name;
    int status;
    const char* body;
};

void PrintTo(const SizeRefusal& r, std::ostream* os) {
    *os << r.name;
}

class RefusedForItsSize : public StatusBatchTest, public ::testing::WithParamInterface<SizeRefusal> {};

TEST_P(RefusedForItsSize, IsAskedInHalvesAndLaterRequestsCarryNoMoreThanWasAnswered) {
    Make(HundredPerRequest());
    const SizeRefusal refusal = GetParam();
    transport_.SetHandler([refusal](const net::HttpRequest& request) {
        if (AliasesOf(request).size() > 30) return answers::Answer(refusal.status, refusal.body);
        return StatusAnswer(request, "BUILDING");
    });
    const auto results = client_->GetDeployments(Ids(100));
    for (const auto& r : results)
        ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
    // 100 refused; 50 + 50 refused; one 50 as 25 + 25, answered; the other 50 as 25 + 25.
    EXPECT_EQ(transport_.request_count(), 7u);
    EXPECT_EQ(client_->StatusBatchSize(), 25u);
    EXPECT_TRUE(std::any_of(logs_.begin(), logs_.end(),
                            [](const std::string& l) { return l.find("carry at most 25") != std::string::npos; }));
    const auto later = client_->GetDeployments(Ids(100, "later-"));
    EXPECT_EQ(transport_.request_count(), 11u);
    for (std::size_t k = 7; k < 11; ++k)
        EXPECT_EQ(AliasesOf(transport_.requests()[k]).size(), 25u);
    for (const auto& r : later)
        EXPECT_TRUE(r.result);
}

// A lowered size holds for an hour; then the configured size is tried again, and a refusal halves
// it again (Railway's limit may have been raised, or the refusal may have been passing).
TEST_F(StatusBatchTest, ALoweredSizeIsTriedAgainAfterAnHour) {
    Make(HundredPerRequest());
    std::size_t limit = 30;
    transport_.SetHandler([&limit](const net::HttpRequest& request) {
        if (AliasesOf(request).size() > limit) return answers::Answer(413, "413 Request Entity Too Large");
        return StatusAnswer(request, "BUILDING");
    });
    (void)client_->GetDeployments(Ids(100));
    ASSERT_EQ(client_->StatusBatchSize(), 25u);
    clock_.Advance(StatusChecker::kRelearnAfter - core::Seconds(1));
    (void)client_->GetDeployments(Ids(100));
    EXPECT_EQ(transport_.request_count(), 7u + 4u);  // still 25 a request
    clock_.Advance(core::Seconds(1));
    (void)client_->GetDeployments(Ids(100));
    EXPECT_EQ(transport_.request_count(), 11u + 7u);  // 100 tried, refused, halved as the first time
    EXPECT_EQ(client_->StatusBatchSize(), 25u);
    EXPECT_TRUE(std::any_of(logs_.begin(), logs_.end(),
                            [](const std::string& l) { return l.find("trying 100 again") != std::string::npos; }));
    // Railway's limit raised: after another hour, 100 a request again.
    limit = 100;
    clock_.Advance(StatusChecker::kRelearnAfter);
    const auto results = client_->GetDeployments(Ids(100));
    EXPECT_EQ(transport_.request_count(), 18u + 1u);
    EXPECT_EQ(client_->StatusBatchSize(), 100u);
    for (const auto& r : results)
        EXPECT_TRUE(r.result);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RefusedForItsSize,
    ::testing::Values(
        SizeRefusal{
            "complexity", 400,
            R"({"errors":[{"message":"Query is too complex","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]})"},
        SizeRefusal{"payload_too_large", 413, "413 Request Entity Too Large"},
        SizeRefusal{
            "no_path", 200,
            R"({"data":null,"errors":[{"message":"Problem processing request","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]})"}),
    [](const auto& info) { return std::string(info.param.name); });

// One id whose error comes without a path (the answer names no alias): halving finds it, the
// others are answered, and the batch size stays (a refused half always held the bad id).
TEST_F(StatusBatchTest, AnIdWhoseErrorComesWithoutAPathIsFoundByHalving) {
    Make(HundredPerRequest());
    transport_.SetHandler([](const net::HttpRequest& request) {
        for (const auto& [alias, id] : AliasesOf(request)) {
            if (id == "dep-37") return answers::Answer(200, answers::WholeFailure("Deployment not found", "t37"));
        }
        return StatusAnswer(request, "SUCCESS");
    });
    const auto results = client_->GetDeployments(Ids(100));
    for (const auto& r : results) {
        if (r.deployment_id == "dep-37") {
            ASSERT_FALSE(r.result);
            EXPECT_EQ(r.result.error().code, util::ErrorCode::kNotFound);
        } else {
            ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
        }
    }
    // Two requests per halving down to one id (100 → 50 → 25 → 13 → 7 → 4 → 2 → 1), and the first.
    EXPECT_LE(transport_.request_count(), 15u);
    EXPECT_EQ(client_->StatusBatchSize(), 100u);
}

// A server that times out, or fails with a 5xx, on documents of some size instead of refusing
// them (Railway documents no limit, FACTS §7). Each plausible failure of a request carrying more
// than 30 ids, after its retries.
struct SizeFailure {
    const char* name;
    net::HttpResponse answer;
};

void PrintTo(const SizeFailure& f, std::ostream* os) {
    *os << f.name;
}

net::HttpResponse TransportFailure(core::TransportErrorKind kind, const char* message) {
    net::HttpResponse r;
    r.error = kind;
    r.error_message = message;
    return r;
}

class FailedAtItsSize : public StatusBatchTest, public ::testing::WithParamInterface<SizeFailure> {};

// After its retries, such a request is asked again in halves (one refused half at a time while
// nothing is answered), every id gets its status, and once two requests failed that way with
// their halves answered and no full-size request answered in between, later requests carry a
// half.
TEST_P(FailedAtItsSize, IsAskedInHalvesAndTheSizeIsLearntWhenItFailsAgain) {
    Make(HundredPerRequest(/*max_attempts=*/2));
    const net::HttpResponse failure = GetParam().answer;
    transport_.SetHandler([failure](const net::HttpRequest& request) {
        // (a copy each time: the handler answers many requests)
        if (AliasesOf(request).size() > 30) return failure;  // NOLINT(performance-no-automatic-move)
        return StatusAnswer(request, "BUILDING");
    });
    const auto results = client_->GetDeployments(Ids(100));
    for (const auto& r : results)
        ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
    // 100 failed twice; 50 and 50 failed twice; one 50 as 25 + 25, answered (a first witness);
    // the held 50 again, failed twice, as 25 + 25 (the second: 25 from now on).
    EXPECT_EQ(transport_.request_count(), 2u + 4u + 2u + 2u + 2u);
    EXPECT_EQ(client_->StatusBatchSize(), 25u);
    EXPECT_TRUE(std::any_of(logs_.begin(), logs_.end(), [](const std::string& l) {
        return l.find("2 times in a row after retries") != std::string::npos &&
               l.find("carry at most 25") != std::string::npos;
    }));
    const auto later = client_->GetDeployments(Ids(100, "later-"));
    EXPECT_EQ(transport_.request_count(), 12u + 4u);
    for (std::size_t k = 12; k < 16; ++k)
        EXPECT_EQ(AliasesOf(transport_.requests()[k]).size(), 25u);
    for (const auto& r : later)
        EXPECT_TRUE(r.result);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FailedAtItsSize,
    ::testing::Values(
        SizeFailure{"envoy_503", answers::Answer(503, "upstream connect error or disconnect/reset before headers")},
        SizeFailure{"internal_500",
                    answers::Answer(500, R"({"errors":[{"message":"Internal Server Error","extensions":{"code":)"
                                         R"("INTERNAL_SERVER_ERROR"}}]})")},
        SizeFailure{"gateway_timeout_504", answers::Answer(504, "upstream request timeout")},
        SizeFailure{"no_answer_in_time", TransportFailure(core::TransportErrorKind::kTimeout, "timed out")},
        SizeFailure{"connection_reset", TransportFailure(core::TransportErrorKind::kReset, "reset by peer")}),
    [](const auto& info) { return std::string(info.param.name); });

// A random failure that outlasted its retries says nothing about the size: its halves are
// answered, and a full-size request answered after it clears the witness, so a second such
// failure later lowers nothing.
TEST_F(StatusBatchTest, ARandomFailureAfterRetriesIsHalvedButLowersNoSize) {
    Make(HundredPerRequest(/*max_attempts=*/2));
    int failures_left = 0;
    transport_.SetHandler([&failures_left](const net::HttpRequest& request) {
        if (failures_left > 0) {
            --failures_left;
            return answers::Answer(503, "upstream connect error or disconnect/reset before headers");
        }
        return StatusAnswer(request, "SUCCESS");
    });
    for (int round = 0; round < 3; ++round) {
        failures_left = 2;  // the first request and its retry
        const auto failed_then_halved = client_->GetDeployments(Ids(100));
        for (const auto& r : failed_then_halved)
            ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
        const auto answered = client_->GetDeployments(Ids(100));
        for (const auto& r : answered)
            ASSERT_TRUE(r.result);
        EXPECT_EQ(client_->StatusBatchSize(), 100u) << "round " << round;
    }
    // Each round: the failed request twice, its two halves, one full-size request.
    EXPECT_EQ(transport_.request_count(), 3u * (2u + 2u + 1u));
}

// Railway down (a 5xx for everything): halving is tried one half at a time, every id keeps the
// failure, nothing is learnt, and after three such calls in a row calls do not halve.
TEST_F(StatusBatchTest, AFailureAtEverySizeCostsOneProbeAndLowersNothing) {
    Make(HundredPerRequest(/*max_attempts=*/2));
    transport_.SetHandler([](const net::HttpRequest&) { return answers::Answer(503, "no healthy upstream"); });
    for (std::size_t call = 1; call <= 3; ++call) {
        const auto results = client_->GetDeployments(Ids(100));
        // As a refused token: 100, 50 + 50, then one half of each level down to one id (15
        // requests), each tried twice.
        EXPECT_EQ(transport_.request_count(), 30u * call);
        for (const auto& r : results) {
            ASSERT_FALSE(r.result);
            EXPECT_EQ(r.result.error().kind, core::ApiFailureKind::kUnavailable);
            EXPECT_TRUE(r.result.error().retryable);
        }
    }
    EXPECT_EQ(client_->StatusBatchSize(), 100u);
    (void)client_->GetDeployments(Ids(100));
    EXPECT_EQ(transport_.request_count(), 92u);  // no halving: three calls in a row got no answer
}

// What never reached Railway says nothing about a document's size: not halved.
TEST_F(StatusBatchTest, AFailureToConnectIsNotHalved) {
    Make(HundredPerRequest(/*max_attempts=*/2));
    transport_.SetHandler([](const net::HttpRequest&) {
        return TransportFailure(core::TransportErrorKind::kConnect, "connection refused");
    });
    const auto results = client_->GetDeployments(Ids(100));
    for (const auto& r : results)
        EXPECT_FALSE(r.result);
    ASSERT_GT(transport_.request_count(), 0u);
    for (const auto& request : transport_.requests())
        EXPECT_EQ(AliasesOf(request).size(), 100u);
}

// A server that charges each alias against a window of 10 (RequestBudget::Observe): a request of
// 100 never fits and gets 429 after every wait. The second such 429 teaches the budget, the
// request is not sent a third time, and its ids are asked one per request; so are later calls'.
TEST_F(StatusBatchTest, ARequestRefusedWith429ForItsRootFieldsIsAskedOneIdPerRequest) {
    Make(HundredPerRequest(/*max_attempts=*/3));
    transport_.SetHandler([](const net::HttpRequest& request) {
        if (AliasesOf(request).size() > 10) {
            net::HttpResponse refused = answers::Answer(429, R"({"errors":[{"message":"Rate limit exceeded"}]})");
            refused.headers.emplace_back("Retry-After", "1");
            return refused;
        }
        return StatusAnswer(request, "DEPLOYING");
    });
    const auto results = client_->GetDeployments(Ids(100));
    for (const auto& r : results) {
        ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
        EXPECT_EQ(r.result->status.value, core::DeploymentStatus::kDeploying);
    }
    ASSERT_EQ(transport_.request_count(), 2u + 100u);
    EXPECT_EQ(AliasesOf(transport_.requests()[1]).size(), 100u);
    for (std::size_t k = 2; k < transport_.request_count(); ++k)
        EXPECT_EQ(AliasesOf(transport_.requests()[k]).size(), 1u) << k;
    EXPECT_EQ(client_->StatusBatchSize(), 1u);
    EXPECT_TRUE(client_->Budget().priced_per_root_field);
    EXPECT_TRUE(std::any_of(logs_.begin(), logs_.end(), [](const std::string& l) {
        return l.find("seems to charge each root field") != std::string::npos;
    }));
    const auto later = client_->GetDeployments(Ids(20, "later-"));
    EXPECT_EQ(transport_.request_count(), 102u + 20u);
    for (const auto& r : later)
        EXPECT_TRUE(r.result);
    EXPECT_EQ(client_->Budget().rate_limited, 2);
}

// Each request carries the document of its own size, cut from the pieces made once.
TEST_F(StatusBatchTest, EachRequestCarriesTheDocumentOfItsOwnSize) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& r) { return StatusAnswer(r, "SUCCESS"); });
    const auto ids = Ids(437);
    const auto results = client_->GetDeployments(ids);
    ASSERT_EQ(transport_.request_count(), 2u);
    for (const auto& [request, count] : {std::pair<std::size_t, std::size_t>{0, 400}, {1, 37}}) {
        const auto body = nlohmann::json::parse(transport_.requests()[request].body);
        EXPECT_EQ(body["query"], documents::DeploymentStatusBatch(count)) << count;
        EXPECT_EQ(body["variables"].size(), count);
        EXPECT_EQ(body["variables"]["id" + std::to_string(count - 1)], ids[request * 400 + count - 1]);
    }
    for (const auto& r : results)
        EXPECT_TRUE(r.result);
}

// HTTP 200 with `{"data": data}`.
net::HttpResponse DataAnswer(const nlohmann::json& data) {
    net::HttpResponse r;
    r.status = 200;
    r.body = nlohmann::json{{"data", data}}.dump();
    return r;
}

// The answer is read in place (simdjson): each alias's value goes to its own id whatever the
// order of the keys, keys that are not the document's aliases ("d01", "d7" of a batch of three,
// "other") are ignored, and every field of the selection is mapped.
TEST_F(StatusBatchTest, EachAliasIsReadForItsOwnIdWhateverTheKeysAroundIt) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& request) {
        const auto aliases = AliasesOf(request);
        nlohmann::json data = nlohmann::json::object();
        data["other"] = answers::DeploymentNode("not-asked", "FAILED");
        data["d01"] = answers::DeploymentNode("not-asked", "FAILED");
        data["d7"] = answers::DeploymentNode("not-asked", "FAILED");
        for (auto it = aliases.rbegin(); it != aliases.rend(); ++it)  // d2, d1, d0
            data[it->first] = answers::DeploymentNode(it->second, it->first == "d1" ? "BUILDING" : "SUCCESS");
        return DataAnswer(data);
    });
    const auto results = client_->GetDeployments(Ids(3));
    ASSERT_EQ(results.size(), 3u);
    std::map<std::string, std::string> status;
    for (const auto& r : results) {
        ASSERT_TRUE(r.result) << r.deployment_id << ": " << r.result.error().message;
        EXPECT_EQ(r.result->id, r.deployment_id);
        status[r.deployment_id] = r.result->status.raw;
        const Deployment& d = *r.result;
        ASSERT_TRUE(d.status_updated_at);
        EXPECT_EQ(util::FormatRfc3339(*d.status_updated_at), "2026-01-01T00:00:05.123Z");
        EXPECT_EQ(d.url, "app.up.railway.app");
        EXPECT_FALSE(d.static_url);  // null
        EXPECT_FALSE(d.deployment_stopped);
        EXPECT_TRUE(d.can_redeploy);
        ASSERT_EQ(d.instances.size(), 1u);
        EXPECT_EQ(d.instances[0].status, "RUNNING");
        EXPECT_EQ(d.service_id, "svc");
        EXPECT_EQ(d.environment_id, "env");
    }
    EXPECT_EQ(status["dep-0"], "SUCCESS");
    EXPECT_EQ(status["dep-1"], "BUILDING");
    EXPECT_EQ(status["dep-2"], "SUCCESS");
    EXPECT_EQ(transport_.request_count(), 1u);
}

// An alias whose value is not a deployment object is that id's malformed answer, the others stand.
TEST_F(StatusBatchTest, AnAliasThatIsNotADeploymentIsReportedMalformedAlone) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& request) {
        nlohmann::json data = nlohmann::json::object();
        for (const auto& [alias, id] : AliasesOf(request))
            data[alias] = alias == "d1" ? nlohmann::json{{"id", 42}} : answers::DeploymentNode(id, "SUCCESS");
        return DataAnswer(data);
    });
    const auto results = client_->GetDeployments(Ids(3));
    ASSERT_EQ(results.size(), 3u);
    for (const auto& r : results) {
        if (r.deployment_id == "dep-1") {
            ASSERT_FALSE(r.result);
            EXPECT_EQ(r.result.error().code, util::ErrorCode::kParse);
            EXPECT_THAT(r.result.error().message, HasSubstr("Deployment.id is missing or not a string"));
        } else {
            EXPECT_TRUE(r.result) << r.deployment_id;
        }
    }
}

// The poll (PollStatuses): the same batching with the poll's selection, read without the fields
// the check does not decide on.
std::vector<std::string_view> Views(const std::vector<std::string>& ids) {
    return {ids.begin(), ids.end()};
}

// Only the poll's fields, as Railway answers a `DeploymentPoll` document.
nlohmann::json PollNode(const std::string& status, bool stopped = false) {
    return {{"status", status},
            {"statusUpdatedAt", "2026-01-01T00:00:05.123Z"},
            {"createdAt", "2026-01-01T00:00:00Z"},
            {"updatedAt", "2026-01-01T00:00:06Z"},
            {"deploymentStopped", stopped}};
}

TEST_F(StatusBatchTest, APollAsksOnlyThePollsFieldsAndReadsEachAliasForItsId) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& request) {
        nlohmann::json data = nlohmann::json::object();
        for (const auto& [alias, id] : AliasesOf(request))
            data[alias] = PollNode(id == "dep-1" ? "BUILDING" : "SUCCESS", id == "dep-2");
        return DataAnswer(data);
    });
    const auto ids = Ids(3);
    const auto results = client_->PollStatuses(Views(ids));
    ASSERT_EQ(transport_.request_count(), 1u);
    const auto body = nlohmann::json::parse(transport_.requests()[0].body);
    EXPECT_EQ(body["operationName"], "DeploymentPoll");
    EXPECT_EQ(body["query"], documents::DeploymentPollBatch(3));
    EXPECT_EQ(body["variables"]["id1"], "dep-1");
    ASSERT_EQ(results.size(), 3u);
    for (const auto& r : results)
        ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(results[0]->status.raw, "SUCCESS");
    EXPECT_EQ(results[1]->status.raw, "BUILDING");
    EXPECT_EQ(results[1]->status.value, core::DeploymentStatus::kBuilding);
    ASSERT_TRUE(results[1]->status_updated_at);
    EXPECT_EQ(util::FormatRfc3339(*results[1]->status_updated_at), "2026-01-01T00:00:05.123Z");
    ASSERT_TRUE(results[1]->created_at && results[1]->updated_at);
    EXPECT_EQ(util::FormatRfc3339(*results[1]->updated_at), "2026-01-01T00:00:06.000Z");
    EXPECT_FALSE(results[1]->deployment_stopped);
    EXPECT_TRUE(results[2]->deployment_stopped);
}

TEST_F(StatusBatchTest, APollsFailingIdCostsTheOthersNothingAndNeverRidesAgainWithThem) {
    Make();
    const auto ids = Ids(50);
    const std::string& bad = ids[17];
    transport_.SetHandler([&](const net::HttpRequest& r) {
        return StatusAnswer(r, "SUCCESS", {{bad, "Deployment not found"}});  // data nulled, the alias named
    });
    const auto results = client_->PollStatuses(Views(ids));
    ASSERT_EQ(results.size(), 50u);
    EXPECT_EQ(transport_.request_count(), 2u);
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i == 17) continue;
        ASSERT_TRUE(results[i]) << ids[i] << ": " << results[i].error().message;
        EXPECT_EQ(results[i]->status.raw, "SUCCESS");
    }
    ASSERT_FALSE(results[17]);
    EXPECT_EQ(results[17].error().code, util::ErrorCode::kNotFound);
    EXPECT_THAT(results[17].error().message, HasSubstr(bad));
    EXPECT_EQ(RequestedIds()[1].count(bad), 0u);
    for (const auto& request : transport_.requests())
        EXPECT_EQ(answers::OperationOf(request), "DeploymentPoll");
}

TEST_F(StatusBatchTest, APolledAliasWithoutAStatusIsReportedMalformedAlone) {
    Make();
    transport_.SetHandler([](const net::HttpRequest& request) {
        nlohmann::json data = nlohmann::json::object();
        for (const auto& [alias, id] : AliasesOf(request)) {
            data[alias] =
                alias == "d1" ? nlohmann::json{{"statusUpdatedAt", "2026-01-01T00:00:05Z"}} : PollNode("SUCCESS");
        }
        return DataAnswer(data);
    });
    const auto ids = Ids(3);
    const auto results = client_->PollStatuses(Views(ids));
    ASSERT_EQ(results.size(), 3u);
    EXPECT_TRUE(results[0]);
    EXPECT_TRUE(results[2]);
    ASSERT_FALSE(results[1]);
    EXPECT_EQ(results[1].error().code, util::ErrorCode::kParse);
    EXPECT_THAT(results[1].error().message, HasSubstr("Deployment.status is missing or not a string"));
    EXPECT_THAT(results[1].error().message, HasSubstr("dep-1"));
}

// Requests parked until the test answers them, one by one, from its own thread.
class ParkingTransport final : public net::HttpTransport {
  public:
    net::RequestId Submit(net::HttpRequest request, net::Completion done) override {
        std::lock_guard lock(mutex_);
        parked_.push_back(Parked{next_id_, std::move(request), std::move(done)});
        ++submitted_;
        changed_.notify_all();
        return next_id_++;
    }
    void Cancel(net::RequestId id) override {
        net::Completion done;
        {
            std::lock_guard lock(mutex_);
            const auto it = std::find_if(parked_.begin(), parked_.end(), [&](const Parked& p) { return p.id == id; });
            if (it == parked_.end()) return;
            done = std::move(it->done);
            parked_.erase(it);
        }
        net::HttpResponse cancelled;
        cancelled.error = core::TransportErrorKind::kCancelled;
        done(std::move(cancelled));
    }
    // Waits until `count` requests were submitted in all (false after 10 s).
    bool AwaitSubmitted(std::size_t count) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return submitted_ >= count; });
    }
    // Answers every request waiting now with what `answer` makes of it.
    void AnswerAll(const std::function<net::HttpResponse(const net::HttpRequest&)>& answer) {
        std::vector<Parked> all;
        {
            std::lock_guard lock(mutex_);
            all.swap(parked_);
        }
        for (Parked& parked : all)
            parked.done(answer(parked.request));
    }
    // Answers the oldest parked request asking for `id` with what `answer` makes of it.
    void Answer(const std::string& id, const std::function<net::HttpResponse(const net::HttpRequest&)>& answer) {
        Parked parked;
        {
            std::lock_guard lock(mutex_);
            const auto it = std::find_if(parked_.begin(), parked_.end(), [&](const Parked& p) {
                for (const auto& [alias, asked] : AliasesOf(p.request))
                    if (asked == id) return true;
                return false;
            });
            ASSERT_NE(it, parked_.end()) << "no request for " << id << " is waiting";
            parked = std::move(*it);
            parked_.erase(it);
        }
        parked.done(answer(parked.request));
    }

  private:
    struct Parked {
        net::RequestId id = 0;
        net::HttpRequest request;
        net::Completion done;
    };
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<Parked> parked_;
    net::RequestId next_id_ = 1;
    std::size_t submitted_ = 0;
};

// A poll's requests are in flight together, and their caller is woken for the last answer rather
// than for each: but an answer that calls for a retry (here a 503) is acted on at once, not held
// until a slow sibling request answers.
TEST(StatusBatchWakeups, ARetryIsSentWhileAnotherRequestOfThePollIsStillOut) {
    util::SystemClock clock;
    ParkingTransport transport;
    core::SequenceRandom random{{0.5}};
    RequestBudget budget{clock, BudgetConfig{100'000, 1'000}};
    ClientConfig config;
    config.api_url = "https://backboard.railway.com/graphql/v2";
    config.batch_size = 1;  // one request per id
    config.retry_base_delay = core::Millis(10);
    config.retry_max_delay = core::Millis(20);
    RailwayClient client(transport, clock, budget, random, Credentials{TokenKind::kAccount, kToken}, config,
                         [](std::string_view) {});
    const auto ids = Ids(2);
    std::vector<ApiResult<PolledStatus>> results;
    std::atomic<bool> done{false};
    std::thread poller([&] {
        results = client.PollStatuses(Views(ids));
        done = true;
    });
    const auto poll_answer = [](const net::HttpRequest& request) {
        nlohmann::json data = nlohmann::json::object();
        for (const auto& [alias, id] : AliasesOf(request))
            data[alias] = PollNode("SUCCESS");
        return DataAnswer(data);
    };
    ASSERT_TRUE(transport.AwaitSubmitted(2));
    transport.Answer("dep-1", [](const net::HttpRequest&) {
        net::HttpResponse busy;
        busy.status = 503;
        busy.body = "upstream busy";
        return busy;
    });
    // dep-0's request is still out: the retry of dep-1 goes out meanwhile.
    EXPECT_TRUE(transport.AwaitSubmitted(3));
    transport.Answer("dep-0", poll_answer);
    // The retry (and, had it not gone out above, whatever comes after dep-0's answer).
    for (int i = 0; i < 1000 && !done; ++i) {
        transport.AnswerAll(poll_answer);
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    poller.join();
    ASSERT_EQ(results.size(), 2u);
    for (const auto& r : results)
        EXPECT_TRUE(r) << r.error().message;
}

}  // namespace
}  // namespace railwatch::railway
