#include "api/event_hub.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "util/clock.hpp"

namespace railwatch::api {
namespace {

store::Instance MakeInstance(const std::string& id) {
    store::Instance instance;
    instance.id = id;
    instance.service_id = "svc";
    instance.environment_id = "env";
    instance.state.deployment_id = "dep-" + id;
    return instance;
}

/// Runs `steps` steps of a stream and returns everything it wrote.
std::string Drain(net::ServerResponse& res, int steps) {
    std::string out;
    const net::ChunkWriter writer = [&out](std::string_view chunk) {
        out += chunk;
        return true;
    };
    for (int i = 0; i < steps; ++i) {
        if (!res.stream(writer)) break;
    }
    return out;
}

/// The first event's data in a stream's output (discarded JSON when there is none).
nlohmann::json FirstData(const std::string& out) {
    const auto start = out.find("data: ");
    if (start == std::string::npos) return nlohmann::json::parse("", nullptr, false);
    return nlohmann::json::parse(out.substr(start + 6, out.find('\n', start) - start - 6), nullptr, false);
}

TEST(EventHub, AStreamReceivesEventsPublishedAfterItOpenedWithGrowingIds) {
    util::FakeClock clock;
    EventHub hub(clock);
    hub.OnInstance(MakeInstance("before"));
    auto res = hub.OpenStream(std::nullopt, std::nullopt);
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.content_type, "text/event-stream");
    hub.OnInstance(MakeInstance("a"));
    store::TimelineEvent event;
    event.deployment_id = "dep-a";
    event.to_status = "SUCCESS";
    hub.OnTransition(MakeInstance("a"), event);
    const std::string out = Drain(res, 1);
    EXPECT_EQ(out.find("before"), std::string::npos);
    EXPECT_NE(out.find("id: 2\nevent: instance\ndata: {"), std::string::npos) << out;
    EXPECT_NE(out.find("id: 3\nevent: transition\ndata: {"), std::string::npos) << out;
    EXPECT_NE(out.find("\"instanceId\":\"a\""), std::string::npos);
}

// An event's JSON is made when a stream first sends it, not on the engine's thread, from copies
// taken when it was published: the caller's later changes do not show in it, and two streams
// reading the same events at once (two threads) send the same text.
TEST(EventHub, EventsAreFormattedFromWhatWasPublishedWhicheverStreamReadsThemFirst) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto first = hub.OpenStream(std::nullopt, std::nullopt);
    auto second = hub.OpenStream(std::nullopt, std::nullopt);
    store::Instance instance = MakeInstance("a");
    instance.state.deployment_status = "BUILDING";
    hub.OnInstance(instance);
    store::TimelineEvent event;
    event.deployment_id = "dep-a";
    event.to_status = "DEPLOYING";
    hub.OnTransition(instance, event);
    instance.state.deployment_status = "CRASHED";  // the engine's copy moves on
    event.to_status = "CRASHED";
    std::string from_first;
    std::thread reader([&] { from_first = Drain(first, 1); });
    const std::string from_second = Drain(second, 1);
    reader.join();
    EXPECT_EQ(from_first, from_second);
    EXPECT_NE(from_first.find("id: 1\nevent: instance\ndata: {"), std::string::npos) << from_first;
    EXPECT_NE(from_first.find("\"BUILDING\""), std::string::npos) << from_first;
    EXPECT_NE(from_first.find("\"DEPLOYING\""), std::string::npos) << from_first;
    EXPECT_EQ(from_first.find("CRASHED"), std::string::npos) << from_first;
}

// An instance event says the interval the engine checks the instance at (CheckIntervalWith), as
// the API's instance objects do; without the engine's answer, null.
TEST(EventHub, InstanceEventsCarryTheEnginesCheckInterval) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto res = hub.OpenStream(std::nullopt, std::nullopt);
    const auto null_interval = [](const nlohmann::json& data) {
        return data.contains("effectiveIntervalSeconds") && data["effectiveIntervalSeconds"].is_null();
    };
    hub.OnInstance(MakeInstance("none"));
    EXPECT_TRUE(null_interval(FirstData(Drain(res, 1))));
    hub.CheckIntervalWith([](const store::Instance& instance) -> std::optional<core::Duration> {
        if (instance.id == "a") return core::Millis(12500);
        return std::nullopt;
    });
    hub.OnInstance(MakeInstance("a"));
    EXPECT_EQ(FirstData(Drain(res, 1))["effectiveIntervalSeconds"], 12.5);
    hub.OnInstance(MakeInstance("unmonitored"));
    EXPECT_TRUE(null_interval(FirstData(Drain(res, 1))));
}

TEST(EventHub, QuietStreamsGetKeepAliveComments) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto res = hub.OpenStream(std::nullopt, std::nullopt);
    const auto before = clock.Steady();
    const std::string out = Drain(res, 2);
    EXPECT_EQ(out, ": keep-alive\n\n: keep-alive\n\n");
    EXPECT_EQ(clock.Steady() - before, core::Seconds(30));
}

TEST(EventHub, LastEventIdResumesFromTheRingOrResetsWhenTooOld) {
    util::FakeClock clock;
    EventHubOptions options;
    options.ring_size = 3;
    EventHub hub(clock, options);
    for (int i = 1; i <= 5; ++i)
        hub.OnInstance(MakeInstance("i" + std::to_string(i)));
    auto resumed = hub.OpenStream(std::nullopt, "3");
    std::string out = Drain(resumed, 1);
    EXPECT_EQ(out.find("id: 3\n"), std::string::npos);
    EXPECT_NE(out.find("id: 4\n"), std::string::npos);
    EXPECT_NE(out.find("id: 5\n"), std::string::npos);

    auto too_old = hub.OpenStream(std::nullopt, "1");
    out = Drain(too_old, 1);
    EXPECT_EQ(out, "id: 5\nevent: reset\ndata: {}\n\n");

    auto from_the_future = hub.OpenStream(std::nullopt, "99");
    EXPECT_EQ(Drain(from_the_future, 1), "id: 5\nevent: reset\ndata: {}\n\n");
    auto garbage = hub.OpenStream(std::nullopt, "abc");
    EXPECT_EQ(Drain(garbage, 1), "id: 5\nevent: reset\ndata: {}\n\n");
}

TEST(EventHub, AnInstanceStreamGetsOnlyThatInstancesEvents) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto res = hub.OpenStream(std::string("a"), std::nullopt);
    hub.OnInstance(MakeInstance("b"));
    hub.OnInstance(MakeInstance("a"));
    store::HealthCheck check;
    check.ok = true;
    hub.OnHealth(MakeInstance("a"), check);
    const std::string out = Drain(res, 1);
    EXPECT_EQ(out.find("\"id\":\"b\""), std::string::npos);
    EXPECT_NE(out.find("id: 2\nevent: instance"), std::string::npos) << out;
    EXPECT_NE(out.find("id: 3\nevent: health"), std::string::npos) << out;
}

store::LogLine MakeLine(const std::string& instance_id, const std::string& message) {
    store::LogLine line;
    line.instance_id = instance_id;
    line.deployment_id = "dep-" + instance_id;
    line.kind = core::LogKind::kBuild;
    line.severity = "info";
    line.message = message;
    return line;
}

// Log lines go to the streams of their instance only, and are kept only while one is open (the
// fleet's stream never carries them; without a reader they cost no event).
TEST(EventHub, LogLinesGoOnlyToStreamsOfTheirInstanceWhileOneIsOpen) {
    util::FakeClock clock;
    EventHub hub(clock);
    const std::vector<store::LogLine> lines{MakeLine("a", "npm ci"), MakeLine("a", "tsc -p .")};
    hub.OnLogLines("a", lines);
    EXPECT_EQ(hub.LastEventId(), 0u);
    auto fleet = hub.OpenStream(std::nullopt, std::nullopt);
    {
        auto other = hub.OpenStream(std::string("b"), std::nullopt);
        auto stream = hub.OpenStream(std::string("a"), std::nullopt);
        hub.OnLogLines("a", lines);
        hub.OnInstance(MakeInstance("a"));
        EXPECT_EQ(hub.LastEventId(), 3u);
        const std::string out = Drain(stream, 1);
        EXPECT_NE(out.find("id: 1\nevent: log\ndata: {"), std::string::npos) << out;
        EXPECT_NE(out.find("id: 2\nevent: log\ndata: {"), std::string::npos) << out;
        const nlohmann::json first = FirstData(out);
        EXPECT_EQ(first["instanceId"], "a");
        EXPECT_EQ(first["deploymentId"], "dep-a");
        EXPECT_EQ(first["kind"], "build");
        EXPECT_EQ(first["severity"], "info");
        EXPECT_EQ(first["message"], "npm ci");
        EXPECT_TRUE(first.contains("timestamp"));
        // b's stream: woken by a's events (every stream is), it sends nothing of them.
        EXPECT_EQ(Drain(other, 2), ": keep-alive\n\n");
    }
    const std::string fleet_out = Drain(fleet, 1);
    EXPECT_EQ(fleet_out.find("event: log"), std::string::npos) << fleet_out;
    EXPECT_NE(fleet_out.find("id: 3\nevent: instance"), std::string::npos) << fleet_out;
    hub.OnLogLines("a", lines);  // a's stream is gone
    EXPECT_EQ(hub.LastEventId(), 3u);
}

// An instance's stream asks for its log lines when it opens and every log_follow_interval while
// it stays open (waking for that between keep-alives); the fleet's stream never asks.
TEST(EventHub, AnInstanceStreamAsksForItsLogLinesWhenItOpensAndEveryInterval) {
    util::FakeClock clock;
    EventHubOptions options;
    options.log_follow_interval = core::Seconds(5);
    EventHub hub(clock, options);
    std::vector<std::string> asked;
    hub.FollowLogsWith([&asked](const std::string& id) { asked.push_back(id); });
    auto fleet = hub.OpenStream(std::nullopt, std::nullopt);
    EXPECT_EQ(Drain(fleet, 1), ": keep-alive\n\n");
    EXPECT_TRUE(asked.empty());
    auto stream = hub.OpenStream(std::string("a"), std::nullopt);
    const auto before = clock.Steady();
    EXPECT_EQ(Drain(stream, 3), ": keep-alive\n\n");  // asks at 0 s, 5 s and 10 s; quiet until 15 s
    EXPECT_EQ(asked, (std::vector<std::string>{"a", "a", "a"}));
    EXPECT_EQ(clock.Steady() - before, core::Seconds(15));
}

TEST(EventHub, RefusesClientsOverTheCapAndFreesASlotWhenAStreamGoes) {
    util::FakeClock clock;
    EventHubOptions options;
    options.max_clients = 2;
    EventHub hub(clock, options);
    auto first = hub.OpenStream(std::nullopt, std::nullopt);
    {
        auto second = hub.OpenStream(std::nullopt, std::nullopt);
        EXPECT_EQ(second.status, 200);
        EXPECT_EQ(hub.Clients(), 2u);
        EXPECT_EQ(hub.OpenStream(std::nullopt, std::nullopt).status, 503);
    }
    EXPECT_EQ(hub.Clients(), 1u);
    EXPECT_EQ(hub.OpenStream(std::nullopt, std::nullopt).status, 200);
}

TEST(EventHub, StopEndsOpenStreamsAndRefusesNewOnes) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto res = hub.OpenStream(std::nullopt, std::nullopt);
    hub.Stop();
    const net::ChunkWriter writer = [](std::string_view) { return true; };
    EXPECT_FALSE(res.stream(writer));
    EXPECT_EQ(hub.OpenStream(std::nullopt, std::nullopt).status, 503);
}

TEST(EventHub, AClientThatCannotBeWrittenToEndsItsStream) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto res = hub.OpenStream(std::nullopt, std::nullopt);
    hub.OnInstance(MakeInstance("a"));
    const net::ChunkWriter gone = [](std::string_view) { return false; };
    EXPECT_FALSE(res.stream(gone));
}

// A delivery's event is the delivery as GET /deliveries lists it, about the instance its payload
// names (so that the instance's stream carries it too).
TEST(EventHub, DeliveryEventsCarryTheDeliveryAndReachItsInstancesStream) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto instance_stream = hub.OpenStream(std::string("ins_1"), std::nullopt);
    auto other_stream = hub.OpenStream(std::string("ins_2"), std::nullopt);
    store::OutboxRow row;
    row.message.id = "out_1";
    row.message.channel = "webhook";
    row.message.payload = R"({"type":"deployment_failed","instanceId":"ins_1"})";
    row.status = store::OutboxStatus::kFailed;
    row.attempts = 2;
    row.last_error = "HTTP 500 (the receiver failed)";
    hub.OnDelivery(row);
    const std::string out = Drain(instance_stream, 1);
    ASSERT_NE(out.find("id: 1\nevent: delivery\ndata: {"), std::string::npos) << out;
    const nlohmann::json data = FirstData(out);
    EXPECT_EQ(data["id"], "out_1");
    EXPECT_EQ(data["channel"], "webhook");
    EXPECT_EQ(data["status"], "failed");
    EXPECT_EQ(data["attempts"], 2);
    EXPECT_EQ(data["lastError"], "HTTP 500 (the receiver failed)");
    EXPECT_EQ(data["instanceId"], "ins_1");
    EXPECT_EQ(Drain(other_stream, 2), ": keep-alive\n\n");
}

TEST(EventHub, NotificationEventsCarryTheNotification) {
    util::FakeClock clock;
    EventHub hub(clock);
    auto res = hub.OpenStream(std::string("ins_1"), std::nullopt);
    store::Notification n;
    n.id = "ntf_1";
    n.user_id = "usr";
    n.type = "DEPLOYMENT_FAILED";
    n.data = R"({"instanceId":"ins_1"})";
    hub.OnNotification(n);
    const std::string out = Drain(res, 1);
    EXPECT_NE(out.find("event: notification\ndata: "), std::string::npos) << out;
    EXPECT_NE(out.find("\"id\":\"ntf_1\""), std::string::npos);
}

}  // namespace
}  // namespace railwatch::api
