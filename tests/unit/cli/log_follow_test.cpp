#include "cli/log_follow.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fakes/scripted_transport.hpp"

namespace railwatch::cli {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

json Line(const std::string& at, const std::string& message, const std::string& kind = "build") {
    return {{"timestamp", at}, {"severity", "info"}, {"message", message}, {"kind", kind}};
}

json Answer(const std::string& deployment, std::vector<json> lines) {
    return {{"instanceId", "ins_1"}, {"deploymentId", deployment}, {"items", std::move(lines)}};
}

std::vector<std::string> Messages(const std::vector<json>& lines) {
    std::vector<std::string> out;
    out.reserve(lines.size());
    for (const json& line : lines)
        out.push_back(line["message"].get<std::string>());
    return out;
}

TEST(LogFollower, ReturnsEveryLineOfTheFirstAnswer) {
    LogFollower follower;
    const auto lines =
        follower.Take(Answer("d1", {Line("2026-01-01T00:00:01Z", "a"), Line("2026-01-01T00:00:02Z", "b")}));
    EXPECT_THAT(Messages(lines), ElementsAre("a", "b"));
    EXPECT_FALSE(follower.deployment_changed());
    EXPECT_EQ(follower.deployment_id(), "d1");
}

TEST(LogFollower, ReturnsOnlyTheLinesNotSeenBefore) {
    LogFollower follower;
    (void)follower.Take(Answer("d1", {Line("2026-01-01T00:00:01Z", "a"), Line("2026-01-01T00:00:02Z", "b")}));
    const auto lines = follower.Take(Answer("d1", {Line("2026-01-01T00:00:01Z", "a"), Line("2026-01-01T00:00:02Z", "b"),
                                                   Line("2026-01-01T00:00:03Z", "c")}));
    EXPECT_THAT(Messages(lines), ElementsAre("c"));
    EXPECT_TRUE(follower.Take(Answer("d1", {Line("2026-01-01T00:00:03Z", "c")})).empty());
}

TEST(LogFollower, TellsApartNewLinesWithTheSameTimestamp) {
    LogFollower follower;
    (void)follower.Take(Answer("d1", {Line("2026-01-01T00:00:01Z", "a")}));
    const auto lines =
        follower.Take(Answer("d1", {Line("2026-01-01T00:00:01Z", "a"), Line("2026-01-01T00:00:01Z", "a2"),
                                    Line("2026-01-01T00:00:01Z", "a", "deploy")}));
    EXPECT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["message"], "a2");
    EXPECT_EQ(lines[1]["kind"], "deploy");
}

TEST(LogFollower, IgnoresOlderLinesThatALargerPollBringsBack) {
    LogFollower follower;
    (void)follower.Take(Answer("d1", {Line("2026-01-01T00:00:05Z", "e")}));
    const auto lines = follower.Take(Answer("d1", {Line("2026-01-01T00:00:01Z", "a"), Line("2026-01-01T00:00:05Z", "e"),
                                                   Line("2026-01-01T00:00:06Z", "f")}));
    EXPECT_THAT(Messages(lines), ElementsAre("f"));
}

TEST(LogFollower, StartsOverWhenTheDeploymentChanges) {
    LogFollower follower;
    (void)follower.Take(Answer("d1", {Line("2026-01-01T00:00:05Z", "old")}));
    const auto lines = follower.Take(Answer("d2", {Line("2026-01-01T00:00:01Z", "new")}));
    EXPECT_THAT(Messages(lines), ElementsAre("new"));
    EXPECT_TRUE(follower.deployment_changed());
    EXPECT_EQ(follower.deployment_id(), "d2");
}

net::HttpResponse Json(const json& body) {
    net::HttpResponse response;
    response.status = 200;
    response.body = body.dump();
    return response;
}

ServerConfig Config() {
    ServerConfig config;
    config.base_url = "http://127.0.0.1:8080";
    return config;
}

TEST(FollowLogs, PrintsTheLastLinesThenOnlyNewOnesUntilStopped) {
    util::FakeClock clock;
    util::Wakeup wakeup;
    fakes::ScriptedTransport transport;
    std::vector<json> answers = {
        Answer("d1", {Line("2026-01-01T00:00:01Z", "a")}),
        Answer("d1", {Line("2026-01-01T00:00:01Z", "a")}),
        Answer("d1", {Line("2026-01-01T00:00:01Z", "a"), Line("2026-01-01T00:00:02Z", "b")}),
        Answer("d2", {Line("2026-01-01T00:00:03Z", "c")}),
    };
    std::size_t asked = 0;
    transport.SetHandler([&](const net::HttpRequest&) {
        const json answer = answers.at(std::min(asked, answers.size() - 1));
        if (++asked == answers.size()) wakeup.Stop();  // a person presses Ctrl-C during the last poll
        return Json(answer);
    });
    RestClient client(transport, Config());
    std::vector<std::string> printed;
    FollowSink sink;
    sink.on_line = [&](const json& line, const std::string& deployment) {
        printed.push_back(deployment + ":" + line["message"].get<std::string>());
    };
    sink.on_deployment = [&](const std::string& deployment) { printed.push_back("switch:" + deployment); };
    FollowOptions options;
    options.initial_limit = 7;
    options.interval = core::Seconds(2);

    auto followed = FollowLogs(client, clock, wakeup, "ins_1", options, sink);
    ASSERT_TRUE(followed) << followed.error().message;
    EXPECT_THAT(printed, ElementsAre("d1:a", "d1:b", "switch:d2", "d2:c"));
    const auto requests = transport.requests();
    ASSERT_EQ(requests.size(), 4u);
    EXPECT_EQ(requests[0].url, "http://127.0.0.1:8080/api/v1/instances/ins_1/logs?limit=7");
    EXPECT_EQ(requests[1].url, "http://127.0.0.1:8080/api/v1/instances/ins_1/logs?limit=1000");
    // One wait of the interval between polls, none after the stop.
    EXPECT_THAT(clock.Waits(), ElementsAre(core::Seconds(2), core::Seconds(2), core::Seconds(2)));
}

TEST(FollowLogs, EndsWithTheErrorWhenARequestFails) {
    util::FakeClock clock;
    util::Wakeup wakeup;
    fakes::ScriptedTransport transport;
    transport.PushResponse(200, Answer("d1", {}).dump());
    transport.PushError(core::TransportErrorKind::kConnect, "connection refused");
    RestClient client(transport, Config());
    FollowSink sink;
    sink.on_line = [](const json&, const std::string&) {};
    auto followed = FollowLogs(client, clock, wakeup, "ins_1", {}, sink);
    ASSERT_FALSE(followed);
    EXPECT_EQ(followed.error().code, util::ErrorCode::kUnavailable);
    EXPECT_THAT(followed.error().message, HasSubstr("railwatch serve"));
}

TEST(FollowLogs, AStopBeforeTheFirstPollAsksNothing) {
    util::FakeClock clock;
    util::Wakeup wakeup;
    wakeup.Stop();
    fakes::ScriptedTransport transport;
    RestClient client(transport, Config());
    FollowSink sink;
    sink.on_line = [](const json&, const std::string&) {};
    EXPECT_TRUE(FollowLogs(client, clock, wakeup, "ins_1", {}, sink));
    EXPECT_EQ(transport.request_count(), 0u);
}

}  // namespace
}  // namespace railwatch::cli
