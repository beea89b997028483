// The notification acceptance through `railwatch serve` (docs/NOTIFY.md, "Acceptance"): real
// processes only — `railwatch sim` for Railway, `railwatch serve` on a SQLite file, a loopback
// webhook receiver that verifies Standard Webhooks signatures with its own HMAC, and aiosmtpd as a
// plain loopback relay. The notifications come from the monitoring engine: failing deployments are
// created in the simulator and added through the REST API, and the engine records their failures
// with the outbox rows the notifier then delivers.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/serve_process.hpp"
#include "support/sim_process.hpp"
#include "support/smtp_server.hpp"
#include "support/sse_clients.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"

namespace railwatch::test {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kSimToken = "sim-account-token";
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kUserEmail = "dev@example.com";
constexpr const char* kAdminEmail = "ops@example.com";

double Seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

/// Polls `done` every 200 ms until it holds or `limit` passes; true when it held.
bool Eventually(const std::function<bool()>& done, Clock::duration limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(200ms);
    }
    return done();
}

/// What a run is configured with beyond the shared settings.
struct RunSettings {
    std::string schedule_seconds = "[1, 2, 3]";
    int max_attempts = 100;
    int timeout_seconds = 5;  ///< webhook and SMTP
    int lease_seconds = 0;    ///< 0: automatic (4 × the in-app channel's 30 s + 60 s)
    int poll_interval_seconds = 1;
    std::string extra_config;  ///< appended to the config file
};

class ServeDeliveryTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        // Minutes of Railway time pass in a fraction of a second.
        sim_ = new SimProcess({"--account-token", kSimToken, "--time-scale", "600", "--seed", "10"});
        ASSERT_GT(sim_->port(), 0) << sim_->Log();
        const json answer =
            json::parse(sim_->Post("/_sim/config", R"({"rateLimit":{"rps":0,"rph":0,"edgeRps":0}})"), nullptr, false);
        ASSERT_FALSE(answer.is_discarded() || answer.contains("error")) << answer.dump();
    }
    static void TearDownTestSuite() {
        delete sim_;
        sim_ = nullptr;
    }

    void SetUp() override {
        receiver_ = std::make_unique<WebhookReceiver>(std::vector<std::string>{kSecret});
        receiver_->Start();
        auto smtp = SmtpServer::Start();
        ASSERT_TRUE(smtp) << smtp.error().message;
        smtp_ = std::move(*smtp);
    }

    void TearDown() override {
        if (HasFailure() && serve_) std::fprintf(stderr, "serve log:\n%s\n", serve_->Log().c_str());
        serve_.reset();
    }

    std::string ConfigText(const RunSettings& run) const {
        return "[railway]\nrequests_per_hour = 1000000\nrequests_per_second = 1000\n\n"
               "[monitor.intervals]\nINITIALIZING = 1\nBUILDING = 1\nDEPLOYING = 1\nSUCCESS = 2\nFAILED = 2\n"
               "CRASHED = 2\ndefault = 1\n\n"
               "[notify.email]\nsmtp_url = \"" +
               smtp_->Url() + "\"\nfrom = \"railwatch@example.com\"\nstarttls = \"off\"\ntimeout_seconds = " +
               std::to_string(run.timeout_seconds) + "\n\n[notify.webhook]\nurl = \"" + receiver_->Url() +
               "\"\ntimeout_seconds = " + std::to_string(run.timeout_seconds) + "\n\n[notify.admin]\nemails = [\"" +
               kAdminEmail + "\"]\n\n[notify.retry]\nschedule_seconds = " + run.schedule_seconds +
               "\nmax_attempts = " + std::to_string(run.max_attempts) +
               "\n\n[notify.dispatch]\nconcurrency = 4\npoll_interval_seconds = " +
               std::to_string(run.poll_interval_seconds) + "\nlease_seconds = " + std::to_string(run.lease_seconds) +
               "\n\n" + run.extra_config;
    }

    /// Starts (or restarts, on the same database and log) `railwatch serve`.
    void StartServe(const RunSettings& run) {
        const std::string config = dir_.File("railwatch.toml");
        std::ofstream(config) << ConfigText(run);
        ServeOptions options;
        options.db_url = "sqlite:" + dir_.File("railwatch.db");
        options.railway_url = sim_->GraphqlUrl();
        options.config_file = config;
        options.log_file = dir_.File("serve.log");
        options.env = {std::string("RAILWAY_API_TOKEN=") + kSimToken,
                       std::string("RAILWATCH_WEBHOOK_SECRET=") + kSecret};
        serve_ = std::make_unique<ServeProcess>(options);
        ASSERT_TRUE(serve_->Start()) << serve_->Log();
    }

    void CreateUser() {
        const auto reply = serve_->Post("/api/v1/users", {{"id", "usr_dev"}, {"email", kUserEmail}, {"name", "Dev"}});
        ASSERT_EQ(reply.status, 201) << reply.raw;
    }

    /// Failing deployments in the simulator, each added through the API for usr_dev; their ids.
    std::vector<std::string> AddFailingDeployments(int count) {
        static const std::vector<std::pair<std::string, std::string>> kinds = {
            {"build_failed", "npm_elifecycle"}, {"deploy_failed", "missing_env"}, {"build_failed", "missing_env"}};
        std::vector<std::string> ids;
        for (int i = 0; i < count; ++i) {
            const auto& [kind, reason] = kinds[static_cast<std::size_t>(i) % kinds.size()];
            const json created = json::parse(
                sim_->Post("/_sim/deployments", json{{"kind", kind}, {"reason", reason}}.dump()), nullptr, false);
            EXPECT_TRUE(created.contains("ids")) << created.dump();
            if (!created.contains("ids")) return ids;
            const std::string id = created["ids"][0].get<std::string>();
            const json truth = json::parse(sim_->Get("/_sim/truth?id=" + id), nullptr, false)["deployments"][0];
            const auto added = serve_->Post("/api/v1/instances", {{"serviceId", truth["serviceId"]},
                                                                  {"environmentId", truth["environmentId"]},
                                                                  {"deploymentId", id},
                                                                  {"projectName", "shop-" + std::to_string(i)},
                                                                  {"userId", "usr_dev"},
                                                                  {"checkIntervalSeconds", 1}});
            EXPECT_EQ(added.status, 201) << added.raw;
            ids.push_back(id);
        }
        return ids;
    }

    /// Every outbox row (newest first), through the API.
    json Deliveries(const std::string& query = {}) const {
        const auto reply = serve_->Get("/api/v1/deliveries?limit=1000" + query);
        return reply.status == 200 ? reply.body["items"] : json::array();
    }

    /// Rows of `channel`.
    static std::vector<json> OfChannel(const json& rows, const std::string& channel) {
        std::vector<json> out;
        for (const json& row : rows)
            if (row["channel"] == channel) out.push_back(row);
        return out;
    }

    /// True when every email and webhook row is sent and there is at least one webhook row per
    /// deployment.
    bool AllSent(std::size_t deployments) const {
        const json rows = Deliveries();
        std::size_t webhooks = 0;
        for (const json& row : rows) {
            if (row["channel"] == "in_app") continue;
            if (row["status"] != "sent") return false;
            if (row["channel"] == "webhook") ++webhooks;
        }
        return webhooks >= deployments;
    }

    /// The event id of each accepted (2xx) webhook request's body, and how often.
    std::map<std::string, int> AcceptedEvents() const {
        std::map<std::string, int> out;
        for (const ReceivedWebhook& hook : receiver_->Received()) {
            if (hook.answered < 200 || hook.answered >= 300) continue;
            const json body = json::parse(hook.body, nullptr, false);
            ++out[body["data"]["id"].get<std::string>()];
        }
        return out;
    }

    /// Checks that each deployment's failure reached the receiver: an event about it.
    void ExpectEveryDeploymentNotified(const std::vector<std::string>& deployments) const {
        std::set<std::string> notified;
        for (const ReceivedWebhook& hook : receiver_->Received()) {
            const json body = json::parse(hook.body, nullptr, false);
            if (hook.signature_valid && body["data"]["deployment_id"].is_string())
                notified.insert(body["data"]["deployment_id"].get<std::string>());
        }
        for (const std::string& id : deployments)
            EXPECT_TRUE(notified.count(id)) << "no webhook about deployment " << id;
    }

    /// Message-ID → how many times the SMTP server accepted it.
    std::map<std::string, int> SmtpMessageIds() const {
        std::map<std::string, int> out;
        for (const SmtpMessage& message : smtp_->Messages())
            ++out[message.Header("Message-ID")];
        return out;
    }

    static SimProcess* sim_;
    TempDir dir_{"railwatch-serve-notify-"};
    std::unique_ptr<WebhookReceiver> receiver_;
    std::unique_ptr<SmtpServer> smtp_;
    std::unique_ptr<ServeProcess> serve_;
};

SimProcess* ServeDeliveryTest::sim_ = nullptr;

TEST_F(ServeDeliveryTest, ReceiversDownFor30SecondsGetEveryNotificationOnceAfterTheyComeBack) {
    RunSettings run;
    run.schedule_seconds = "[1, 2, 3]";  // then every 3 s (±20 %) for as long as the outage lasts
    receiver_->Stop();
    smtp_->Stop();
    const auto down_at = Clock::now();
    StartServe(run);
    CreateUser();
    const std::vector<std::string> deployments = AddFailingDeployments(4);
    ASSERT_EQ(deployments.size(), 4u);

    // The engine notices the failures and the dispatcher tries, and fails, while both are down.
    ASSERT_TRUE(Eventually(
        [&] {
            const json rows = Deliveries();
            std::size_t tried_webhooks = 0;
            for (const json& row : rows)
                if (row["channel"] == "webhook" && row["attempts"].get<int>() >= 2) ++tried_webhooks;
            return tried_webhooks >= deployments.size();
        },
        25s))
        << Deliveries().dump(1);
    std::this_thread::sleep_until(down_at + 30s);
    const json during = Deliveries();
    for (const json& row : during) {
        if (row["channel"] == "in_app") continue;
        EXPECT_NE(row["status"], "sent") << row.dump();
        EXPECT_NE(row["status"], "dead") << row.dump();
    }
    int most_attempts = 0;
    for (const json& row : during)
        most_attempts = std::max(most_attempts, row["attempts"].get<int>());

    receiver_->Start();
    ASSERT_TRUE(smtp_->Restart());
    const auto up_at = Clock::now();
    const double outage_s = Seconds(up_at - down_at);
    EXPECT_GE(outage_s, 30.0);
    ASSERT_TRUE(Eventually([&] { return AllSent(deployments.size()); }, 60s)) << Deliveries().dump(1);
    const double recovery_s = Seconds(Clock::now() - up_at);
    // Late copies would show up now, if there were any.
    std::this_thread::sleep_for(3s);

    const json rows = Deliveries();
    const std::vector<json> webhook_rows = OfChannel(rows, "webhook");
    const std::vector<json> email_rows = OfChannel(rows, "email");
    std::set<std::string> row_events;
    for (const json& row : webhook_rows)
        row_events.insert(row["eventId"].get<std::string>());

    EXPECT_EQ(receiver_->invalid_signatures(), 0u);
    EXPECT_EQ(receiver_->duplicates(), 0u);
    EXPECT_EQ(receiver_->AcceptedById().size(), webhook_rows.size());
    const std::map<std::string, int> events = AcceptedEvents();
    EXPECT_EQ(events.size(), row_events.size());
    for (const auto& [event, times] : events) {
        EXPECT_EQ(times, 1) << event << " arrived " << times << " times";
        EXPECT_TRUE(row_events.count(event)) << event;
    }
    ExpectEveryDeploymentNotified(deployments);

    const std::map<std::string, int> messages = SmtpMessageIds();
    EXPECT_GE(email_rows.size(), deployments.size());
    EXPECT_EQ(messages.size(), email_rows.size());
    for (const auto& [id, times] : messages) {
        EXPECT_FALSE(id.empty());
        EXPECT_EQ(times, 1) << "Message-ID " << id << " arrived " << times << " times";
    }
    std::printf(
        "[ figures ] outage %.1f s; attempts per row during it up to %d; every one of %zu webhook and %zu "
        "email notifications delivered %.1f s after recovery, each once\n",
        outage_s, most_attempts, webhook_rows.size(), email_rows.size(), recovery_s);
}

TEST_F(ServeDeliveryTest, ServeKilledMidDeliveryAndRestartedDeliversEverythingUnderOneWebhookIdPerEvent) {
    RunSettings run;
    run.timeout_seconds = 4;
    run.lease_seconds = 12;       // the rows the killed process claimed come back after this
    receiver_->SetDelay(1500ms);  // slow: deliveries are in flight when serve dies
    StartServe(run);
    CreateUser();
    const std::vector<std::string> deployments = AddFailingDeployments(6);
    ASSERT_EQ(deployments.size(), 6u);

    ASSERT_TRUE(Eventually([&] { return receiver_->requests() >= 2; }, 30s)) << Deliveries().dump(1);
    const json before_kill = Deliveries();
    serve_->Kill();
    const auto killed_at = Clock::now();
    const std::size_t requests_at_kill = receiver_->requests();
    const std::size_t accepted_at_kill = receiver_->accepted();
    std::size_t open_at_kill = 0;
    for (const json& row : before_kill)
        if (row["channel"] != "in_app" && row["status"] != "sent") ++open_at_kill;
    EXPECT_GT(open_at_kill, 0u) << "nothing was left to deliver when serve was killed";

    receiver_->SetDelay(100ms);
    StartServe(run);
    ASSERT_TRUE(Eventually([&] { return AllSent(deployments.size()); }, 90s)) << Deliveries().dump(1);
    const double recovery_s = Seconds(Clock::now() - killed_at);
    std::this_thread::sleep_for(3s);

    // One webhook-id per event, over every request the receiver saw (answered or cut off).
    std::map<std::string, std::set<std::string>> ids_by_event;
    std::map<std::string, int> accepted_by_event;
    for (const ReceivedWebhook& hook : receiver_->Received()) {
        EXPECT_TRUE(hook.signature_valid);
        const json body = json::parse(hook.body, nullptr, false);
        const std::string event = body["data"]["id"].get<std::string>();
        ids_by_event[event].insert(hook.id);
        if (hook.answered >= 200 && hook.answered < 300) ++accepted_by_event[event];
    }
    for (const auto& [event, ids] : ids_by_event)
        EXPECT_EQ(ids.size(), 1u) << event << " arrived under " << ids.size() << " webhook-ids";

    const json rows = Deliveries();
    const std::vector<json> webhook_rows = OfChannel(rows, "webhook");
    std::size_t twice = 0;
    for (const json& row : webhook_rows) {
        const std::string event = row["eventId"].get<std::string>();
        EXPECT_GE(accepted_by_event[event], 1) << event << " never arrived";
        if (accepted_by_event[event] > 1) ++twice;
    }
    EXPECT_EQ(receiver_->AcceptedById().size(), webhook_rows.size());
    ExpectEveryDeploymentNotified(deployments);

    const std::map<std::string, int> messages = SmtpMessageIds();
    const std::vector<json> email_rows = OfChannel(rows, "email");
    EXPECT_EQ(messages.size(), email_rows.size());
    std::printf(
        "[ figures ] killed with %zu webhook requests made (%zu accepted) and %zu deliveries open; after the "
        "restart all %zu webhook and %zu email notifications arrived %.1f s after the kill, %zu event(s) "
        "twice under the same webhook-id\n",
        requests_at_kill, accepted_at_kill, open_at_kill, webhook_rows.size(), email_rows.size(), recovery_s, twice);
}

TEST_F(ServeDeliveryTest, AReceiverFailingForeverDeadLettersTheRowAndAReplayThroughTheApiDeliversItOnce) {
    RunSettings run;
    run.schedule_seconds = "[1]";
    run.max_attempts = 3;
    // Without the replay's wake-up the dispatcher would look again only after this poll.
    run.poll_interval_seconds = 30;
    receiver_->AnswerWith(500);
    StartServe(run);
    // The fleet's event stream, as the dashboard's deliveries page reads it: one `delivery` event
    // per recorded attempt.
    test::SseClientsOptions stream_options;
    stream_options.port = serve_->port();
    test::SseClients stream(stream_options);
    ASSERT_TRUE(stream.Start());
    CreateUser();
    const std::vector<std::string> deployments = AddFailingDeployments(1);
    ASSERT_EQ(deployments.size(), 1u);

    const auto started = Clock::now();
    std::vector<json> dead;
    ASSERT_TRUE(Eventually(
        [&] {
            dead = OfChannel(Deliveries("&status=dead"), "webhook");
            return !dead.empty();
        },
        25s))
        << "not dead well before the 30 s poll: the engine's new rows did not wake the dispatcher\n"
        << Deliveries().dump(1);
    const double dead_after_s = Seconds(Clock::now() - started);
    std::this_thread::sleep_for(2s);  // every webhook row of the failure is dead by now
    dead = OfChannel(Deliveries("&status=dead"), "webhook");
    for (const json& row : dead) {
        EXPECT_EQ(row["attempts"], 3);
        const std::string error = row["lastError"].get<std::string>();
        EXPECT_NE(error.find("dead after attempt 3/3"), std::string::npos) << error;
        EXPECT_NE(error.find("500"), std::string::npos) << error;
        EXPECT_EQ(error.find("/hooks/railwatch"), std::string::npos) << "the URL's path is shown: " << error;
    }
    const std::size_t requests_before = receiver_->requests();
    EXPECT_EQ(receiver_->accepted(), 0u);
    EXPECT_GE(requests_before, 3 * dead.size());

    receiver_->AnswerWith(200);
    const auto replayed_at = Clock::now();
    for (const json& row : dead) {
        const std::string id = row["id"].get<std::string>();
        const auto replay = serve_->Post("/api/v1/deliveries/" + id + "/replay", json::object());
        ASSERT_EQ(replay.status, 202) << replay.raw;
        EXPECT_EQ(replay.body["status"], "pending");
        EXPECT_EQ(replay.body["attempts"], 0);
    }
    ASSERT_TRUE(Eventually([&] { return receiver_->accepted() >= dead.size(); }, 15s))
        << "the replayed rows were not delivered well before the 30 s poll: the dispatcher was not woken";
    const double delivered_after_s = Seconds(Clock::now() - replayed_at);
    ASSERT_TRUE(
        Eventually([&] { return OfChannel(Deliveries("&status=sent"), "webhook").size() == dead.size(); }, 20s));
    // A second replay of a sent row is refused and sends nothing.
    const auto again = serve_->Post("/api/v1/deliveries/" + dead[0]["id"].get<std::string>() + "/replay", json{});
    EXPECT_EQ(again.status, 409) << again.raw;
    EXPECT_NE(again.raw.find("not dead"), std::string::npos) << again.raw;
    EXPECT_EQ(serve_->Post("/api/v1/deliveries/out_missing/replay", json{}).status, 404);
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(receiver_->accepted(), dead.size());
    EXPECT_EQ(receiver_->duplicates(), 0u);
    // Three attempts of each dead row and the replay's delivery, at least (the failure's other
    // channels' rows are told too).
    EXPECT_GE(stream.Snapshot().at(0).deliveries, static_cast<std::int64_t>(4 * dead.size()));
    for (const auto& [id, times] : receiver_->AcceptedById())
        EXPECT_EQ(times, 1) << id;
    ExpectEveryDeploymentNotified(deployments);
    std::printf(
        "[ figures ] %zu webhook row(s) dead after 3 attempts %.1f s after the failure was added; "
        "replayed through the API, delivered once %.2f s later\n",
        dead.size(), dead_after_s, delivered_after_s);
}

/// The accepted webhooks about `deployment`, by reminder number (0: the first notice) and event.
std::map<int, std::map<std::string, int>> RemindersOf(const std::vector<ReceivedWebhook>& hooks,
                                                      const std::string& deployment) {
    std::map<int, std::map<std::string, int>> out;
    for (const ReceivedWebhook& hook : hooks) {
        if (hook.answered < 200 || hook.answered >= 300) continue;
        const json body = json::parse(hook.body, nullptr, false);
        if (body["data"]["deployment_id"] == deployment)
            ++out[body["data"]["reminder"].get<int>()][body["data"]["id"].get<std::string>()];
    }
    return out;
}

TEST_F(ServeDeliveryTest, UnresolvedFailuresAreRemindedOnScheduleOnceEachAndADeletedOneNoMore) {
    RunSettings run;
    run.extra_config = "[notify.reminders]\nrepeat_every_seconds = 6\nmax_reminders = 2\n";
    StartServe(run);
    CreateUser();
    const std::vector<std::string> deployments = AddFailingDeployments(3);
    ASSERT_EQ(deployments.size(), 3u);
    const std::string resolved = deployments[2];

    // Every failure's first notice arrives; then the third instance is deleted (monitoring ends:
    // nobody is to be reminded about it).
    ASSERT_TRUE(Eventually(
        [&] {
            const auto hooks = receiver_->Received();
            for (const std::string& id : deployments)
                if (RemindersOf(hooks, id)[0].empty()) return false;
            return true;
        },
        60s))
        << Deliveries().dump(1);
    std::string resolved_instance;
    const auto listed = serve_->Get("/api/v1/instances?limit=100");
    ASSERT_EQ(listed.status, 200) << listed.raw;
    for (const json& instance : listed.body["items"])
        if (instance["deploymentId"] == resolved) resolved_instance = instance["id"].get<std::string>();
    ASSERT_FALSE(resolved_instance.empty()) << listed.raw;
    const auto deleted = serve_->Delete("/api/v1/instances/" + resolved_instance);
    ASSERT_EQ(deleted.status, 200) << deleted.raw;
    const auto deleted_at = Clock::now();
    // A sweep that read the instance just before the delete may still store one reminder.
    std::this_thread::sleep_for(2s);
    const auto resolved_before = RemindersOf(receiver_->Received(), resolved);

    // The other two get reminder 1 (after 6 s) and 2 (after 12 s), then no more (at most 2).
    ASSERT_TRUE(Eventually(
        [&] {
            const auto hooks = receiver_->Received();
            return !RemindersOf(hooks, deployments[0])[2].empty() && !RemindersOf(hooks, deployments[1])[2].empty();
        },
        60s))
        << Deliveries().dump(1);
    std::this_thread::sleep_until(std::max(Clock::now() + 8s, deleted_at + 20s));

    // Each failure's notices (the user's and the admin's: two events) come back as reminders 1
    // and 2, each once, and never a third.
    const auto hooks = receiver_->Received();
    std::size_t open_events = 0;
    for (std::size_t i = 0; i < 2; ++i) {
        auto got = RemindersOf(hooks, deployments[i]);
        const std::map<std::string, int> firsts = got[0];
        EXPECT_FALSE(firsts.empty());
        open_events += firsts.size();
        for (const auto& [event, times] : firsts)
            EXPECT_EQ(times, 1) << event;
        EXPECT_EQ(got[1], firsts) << deployments[i];
        EXPECT_EQ(got[2], firsts) << deployments[i];
        EXPECT_EQ(got.size(), 3u) << "a reminder past max_reminders about " << deployments[i];
    }
    EXPECT_EQ(RemindersOf(hooks, resolved), resolved_before) << "a reminder about a deleted instance";
    EXPECT_EQ(receiver_->duplicates(), 0u);
    EXPECT_EQ(receiver_->invalid_signatures(), 0u);

    // By email (to the user and the admin): two reminders per open event, each once.
    int reminder_emails = 0;
    for (const SmtpMessage& message : smtp_->Messages())
        if (message.Header("Subject").find("Reminder") != std::string::npos) ++reminder_emails;
    std::size_t resolved_reminders = 0;
    for (const auto& [number, events] : resolved_before)
        if (number > 0) resolved_reminders += events.size();
    EXPECT_EQ(static_cast<std::size_t>(reminder_emails), 2 * open_events + resolved_reminders);
    for (const auto& [id, times] : SmtpMessageIds())
        EXPECT_EQ(times, 1) << "Message-ID " << id << " arrived " << times << " times";
    std::printf(
        "[ figures ] reminders: %zu notices of 2 open failures got reminders 1 and 2 once each by webhook "
        "and email, none a third; the deleted failure got %zu before its deletion and none after\n",
        open_events, resolved_reminders);
}

}  // namespace
}  // namespace railwatch::test
