// The notifier end to end: events planned into a real SQLite outbox, the dispatcher's threads
// delivering them to a real SMTP server (aiosmtpd), a webhook receiver that verifies signatures
// and the SQLite inbox — exactly once per channel and recipient, through outages, and into the
// dead letters when a receiver never accepts.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "net/curl_transport.hpp"
#include "notify/dispatcher.hpp"
#include "notify/email_channel.hpp"
#include "notify/email_message.hpp"
#include "notify/in_app_channel.hpp"
#include "notify/planner.hpp"
#include "notify/signing.hpp"
#include "notify/webhook_channel.hpp"
#include "store/store.hpp"
#include "support/child_process.hpp"
#include "support/postgres_cluster.hpp"
#include "support/smtp_server.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace railwatch::notify::test {
namespace {

using namespace std::chrono_literals;
using railwatch::test::SmtpServer;
using railwatch::test::TempDir;
using railwatch::test::WebhookReceiver;
using store::OutboxStatus;

const std::string kOldSecret = "whsec_" + util::Base64Encode("the-old-webhook-secret-32-bytes!");
const std::string kNewSecret = "whsec_" + util::Base64Encode("the-new-webhook-secret-32-bytes!");
constexpr const char* kFrom = "railwatch@example.com";

/// Waits (real time, polling) until `done` holds or `timeout` passes; returns whether it holds.
bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return done();
}

/// A real SQLite store with users, the three channels wired to real receivers, and a dispatcher.
class Rig {
  public:
    explicit Rig(DispatcherOptions options, bool with_email = true)
        : receiver_({kNewSecret}) {  // the consumer already has the new secret; we sign with both
        store_ = std::move(store::OpenStore("sqlite:" + dir_.File("railwatch.db")).value());
        adapter_ = std::make_unique<StoreAdapter>(*store_, *store_);
        for (int i = 0; i < 5; ++i) {
            store::User user;
            user.id = "usr_" + std::to_string(i);
            user.email = "dev" + std::to_string(i) + "@example.com";
            user.name = "Dev " + std::to_string(i);
            EXPECT_TRUE(store_->CreateUser(user));
        }
        receiver_.Start();
        config_.webhook.url = receiver_.Url();
        config_.webhook.secrets = {kOldSecret, kNewSecret};
        config_.admin_emails = {"ops@example.com", "oncall@example.com"};
        if (with_email) {
            smtp_ = std::move(SmtpServer::Start().value());
            config_.email.smtp_url = smtp_->Url();
            config_.email.from = kFrom;
            config_.email.starttls = StartTls::kOff;  // a relay on loopback
        }
        EXPECT_TRUE(ValidateNotifyConfig(config_)) << ValidateNotifyConfig(config_).error().message;
        planner_ = std::make_unique<OutboxPlanner>(config_);
        webhook_ = std::move(WebhookChannel::Create(config_.webhook, transport_, clock_).value());
        in_app_ = std::make_unique<InAppChannel>(*adapter_);
        std::vector<Channel*> channels{webhook_.get(), in_app_.get()};
        if (with_email) {
            mail_ = std::move(CurlMailTransport::Create(config_.email).value());
            email_ = std::make_unique<EmailChannel>(config_.email, *mail_);
            channels.push_back(email_.get());
        }
        dispatcher_ = std::make_unique<Dispatcher>(*adapter_, channels, clock_, std::move(options));
    }

    ~Rig() { dispatcher_->Stop(); }

    core::NotifyEvent Event(int n, core::NotifyEventType type) const {
        core::NotifyEvent event;
        event.type = type;
        event.at = clock_.Now();
        event.instance_id = "ins_" + std::to_string(n % 5);
        event.deployment_id = "dep-" + std::to_string(n);
        event.id = core::MakeEventId(type, event.instance_id, event.deployment_id, event.at);
        event.user =
            core::NotifyUser{"usr_" + std::to_string(n % 5), "dev" + std::to_string(n % 5) + "@example.com", "Dev"};
        event.error_class = core::ErrorClass::kConfiguration;
        event.message = "event " + std::to_string(n);
        event.next_step = "look at the logs";
        return event;
    }

    /// Plans and enqueues `event` twice (a producer replaying it); returns the rows it planned.
    std::vector<store::OutboxMessage> Enqueue(const core::NotifyEvent& event) {
        auto first = planner_->Plan(event, clock_.Now()).messages;
        EXPECT_EQ(store_->EnqueueOutbox(first).value(), static_cast<int>(first.size()));
        EXPECT_EQ(store_->EnqueueOutbox(planner_->Plan(event, clock_.Now()).messages).value(), 0);
        return first;
    }

    std::vector<store::OutboxRow> Rows(std::optional<OutboxStatus> status = std::nullopt) const {
        return store_->ListDeliveries(status, 1000).value();
    }

    store::Store& store() { return *store_; }
    WebhookReceiver& receiver() { return receiver_; }
    SmtpServer& smtp() { return *smtp_; }
    Dispatcher& dispatcher() { return *dispatcher_; }
    OutboxPlanner& planner() { return *planner_; }

  private:
    TempDir dir_{"railwatch-notify-e2e-"};
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<StoreAdapter> adapter_;
    WebhookReceiver receiver_;
    std::unique_ptr<SmtpServer> smtp_;
    NotifyConfig config_;
    util::SystemClock clock_;
    net::CurlTransport transport_;
    std::unique_ptr<OutboxPlanner> planner_;
    std::unique_ptr<WebhookChannel> webhook_;
    std::unique_ptr<InAppChannel> in_app_;
    std::unique_ptr<CurlMailTransport> mail_;
    std::unique_ptr<EmailChannel> email_;
    std::unique_ptr<Dispatcher> dispatcher_;
};

/// Checks that every planned row reached its receiver exactly once.
void ExpectEachDeliveredOnce(Rig& rig, const std::vector<store::OutboxMessage>& planned) {
    const auto webhooks = rig.receiver().AcceptedById();
    EXPECT_EQ(rig.receiver().invalid_signatures(), 0u);
    EXPECT_EQ(rig.receiver().duplicates(), 0u);
    std::map<std::string, int> mails;
    for (const auto& m : rig.smtp().Messages())
        ++mails[m.Header("Message-ID") + " to " + m.rcpt_tos.at(0)];
    std::set<std::string> inbox;
    const std::vector<store::Notification> notifications =
        rig.store().ListNotifications(store::NotificationQuery{std::nullopt, false, 1000}).value();
    for (const auto& n : notifications)
        inbox.insert(n.id);

    std::size_t webhook_rows = 0;
    std::size_t email_rows = 0;
    for (const auto& m : planned) {
        if (m.channel == "webhook") {
            ++webhook_rows;
            const auto it = webhooks.find(WebhookMessageId(m.dedup_key));
            EXPECT_TRUE(it != webhooks.end() && it->second == 1) << m.dedup_key;
        } else if (m.channel == "email") {
            ++email_rows;
            const std::string recipient = m.dedup_key.substr(m.dedup_key.rfind('|') + 1);
            EXPECT_EQ(mails[MessageIdFor(m.dedup_key, kFrom) + " to " + recipient], 1) << m.dedup_key;
        } else {
            EXPECT_TRUE(inbox.contains(InAppNotificationId(m.dedup_key))) << m.dedup_key;
        }
    }
    EXPECT_EQ(webhooks.size(), webhook_rows);
    EXPECT_EQ(rig.smtp().Messages().size(), email_rows);
}

DispatcherOptions FastRetries() {
    DispatcherOptions options;
    options.concurrency = 4;
    options.poll_interval = 200ms;
    // Short delays so that an outage of a few seconds is ridden out within the test.
    options.retry.delays = {500ms, 1s, 1s, 2s};
    options.retry.max_attempts = 30;
    return options;
}

TEST(NotifyEndToEnd, EveryEventIsDeliveredExactlyOncePerChannelAndRecipient) {
    Rig rig(FastRetries());
    std::vector<store::OutboxMessage> planned;
    const std::vector<core::NotifyEventType> types = {
        core::NotifyEventType::kDeploymentFailed,   core::NotifyEventType::kDeploymentCrashed,
        core::NotifyEventType::kCrashLoop,          core::NotifyEventType::kDeploymentRecovered,
        core::NotifyEventType::kConfigurationError, core::NotifyEventType::kTokenInvalid};
    for (int n = 0; n < 24; ++n) {
        const auto rows = rig.Enqueue(rig.Event(n, types[static_cast<std::size_t>(n) % types.size()]));
        planned.insert(planned.end(), rows.begin(), rows.end());
    }

    // One more event through a recorded transition, applied twice (a replayed poll answer).
    store::Instance instance;
    instance.id = "ins_t";
    instance.user_id = "usr_1";
    instance.service_id = "svc";
    instance.environment_id = "env";
    ASSERT_TRUE(rig.store().CreateInstance(instance));
    core::NotifyEvent failed = rig.Event(100, core::NotifyEventType::kDeploymentFailed);
    failed.instance_id = "ins_t";
    failed.id = core::MakeEventId(failed.type, failed.instance_id, failed.deployment_id, failed.at);
    store::Transition transition;
    transition.instance_id = "ins_t";
    transition.deployment_id = failed.deployment_id;
    transition.to_status = "FAILED";
    transition.at = failed.at;
    transition.state.status = core::InstanceStatus::kFailed;
    transition.outbox = rig.planner().Plan(failed, failed.at).messages;
    ASSERT_TRUE(rig.store().ApplyTransition(transition).value().applied);
    transition.outbox = rig.planner().Plan(failed, failed.at).messages;  // new row ids, same keys
    ASSERT_FALSE(rig.store().ApplyTransition(transition).value().applied);
    planned.insert(planned.end(), transition.outbox.begin(), transition.outbox.end());
    ASSERT_EQ(rig.Rows().size(), planned.size());

    rig.dispatcher().Start();
    rig.dispatcher().Notify();
    ASSERT_TRUE(Eventually([&] { return rig.Rows(OutboxStatus::kSent).size() == planned.size(); }))
        << rig.Rows(OutboxStatus::kSent).size() << " of " << planned.size()
        << " sent; last store error: " << rig.dispatcher().Stats().last_store_error;
    rig.dispatcher().Stop();
    ExpectEachDeliveredOnce(rig, planned);
    for (const auto& row : rig.Rows()) {
        EXPECT_EQ(row.attempts, 1) << row.message.dedup_key;
        EXPECT_TRUE(row.sent_at);
    }
    EXPECT_EQ(rig.dispatcher().Stats().delivered, planned.size());
}

TEST(NotifyEndToEnd, ReceiversDownForAWhileGetEverythingOnceWhenTheyReturn) {
    Rig rig(FastRetries());
    rig.receiver().Stop();
    rig.smtp().Stop();
    std::vector<store::OutboxMessage> planned;
    for (int n = 0; n < 10; ++n) {
        const auto rows = rig.Enqueue(rig.Event(n, core::NotifyEventType::kDeploymentFailed));
        planned.insert(planned.end(), rows.begin(), rows.end());
    }
    rig.dispatcher().Start();
    rig.dispatcher().Notify();
    // The outage lasts until every email and webhook row has failed at least twice (about 2 s with
    // these delays; Standard Webhooks' own schedule would wait 5 s, then 5 min).
    ASSERT_TRUE(Eventually([&] {
        int retried = 0;
        for (const auto& row : rig.Rows()) {
            if (row.message.channel != "in_app" && row.attempts >= 2 && row.status == OutboxStatus::kFailed) ++retried;
        }
        return retried == 20;
    }));
    for (const auto& row : rig.Rows(OutboxStatus::kFailed)) {
        ASSERT_TRUE(row.last_error);
        EXPECT_NE(row.last_error->find("attempt"), std::string::npos) << *row.last_error;
    }
    EXPECT_EQ(rig.Rows(OutboxStatus::kSent).size(), 10u);  // the inbox was up all along

    rig.receiver().Start();
    ASSERT_TRUE(rig.smtp().Restart());
    ASSERT_TRUE(Eventually([&] { return rig.Rows(OutboxStatus::kSent).size() == planned.size(); }))
        << rig.Rows(OutboxStatus::kSent).size() << " of " << planned.size() << " sent";
    rig.dispatcher().Stop();
    ExpectEachDeliveredOnce(rig, planned);
    EXPECT_TRUE(rig.Rows(OutboxStatus::kDead).empty());
}

TEST(NotifyEndToEnd, AReceiverAnswering500ForeverIsDeadLetteredWithItsLastErrorAndAReplayDeliversItOnce) {
    DispatcherOptions options;
    options.poll_interval = 100ms;
    options.retry.delays = {200ms};
    options.retry.max_attempts = 4;
    options.retry.jitter = 0;
    Rig rig(options, /*with_email=*/false);
    rig.receiver().AnswerWith(500);
    core::NotifyEvent event = rig.Event(1, core::NotifyEventType::kConfigurationError);  // admin: webhook only
    const auto planned = rig.Enqueue(event);
    ASSERT_EQ(planned.size(), 1u);
    // The rows the listener is told (the event stream's `delivery` events), attempt by attempt.
    std::mutex told_mutex;
    std::vector<store::OutboxRow> told;
    rig.dispatcher().SetListener([&](const DeliveryReport& report) {
        std::lock_guard lock(told_mutex);
        if (report.recorded) told.push_back(*report.recorded);
    });
    const auto last_told = [&] {
        std::lock_guard lock(told_mutex);
        return told.empty() ? store::OutboxRow{} : told.back();
    };
    rig.dispatcher().Start();
    rig.dispatcher().Notify();
    ASSERT_TRUE(Eventually([&] { return rig.Rows(OutboxStatus::kDead).size() == 1; }));
    // What GET /deliveries?status=dead lists: the row with its last error.
    store::DeliveryQuery dead_only;
    dead_only.status = OutboxStatus::kDead;
    const auto page = rig.store().ListDeliveries(dead_only).value();
    ASSERT_EQ(page.items.size(), 1u);
    const store::OutboxRow dead = page.items.front();
    EXPECT_EQ(dead.attempts, 4);
    ASSERT_TRUE(dead.last_error);
    EXPECT_NE(dead.last_error->find("dead after attempt 4/4"), std::string::npos) << *dead.last_error;
    EXPECT_NE(dead.last_error->find("HTTP 500"), std::string::npos) << *dead.last_error;
    EXPECT_FALSE(dead.sent_at);
    EXPECT_EQ(rig.receiver().requests(), 4u);
    EXPECT_EQ(rig.receiver().accepted(), 0u);
    // The dispatcher counts a row once the store has marked it: the count may come a moment after
    // the row is seen dead.
    EXPECT_TRUE(Eventually([&] { return rig.dispatcher().Stats().dead == 1u; }))
        << rig.dispatcher().Stats().dead << " dead counted";
    // Each attempt was told with the row as the store then held it: the last one is the dead row.
    // (Told just after it was counted.)
    const auto told_count = [&] {
        std::lock_guard lock(told_mutex);
        return told.size();
    };
    EXPECT_TRUE(Eventually([&] { return told_count() == 4u; })) << told_count() << " told";
    EXPECT_EQ(last_told(), dead);
    {
        std::lock_guard lock(told_mutex);
        ASSERT_EQ(told.size(), 4u);
        for (int i = 0; i < 3; ++i) {
            EXPECT_EQ(told[i].status, OutboxStatus::kFailed) << i;
            EXPECT_EQ(told[i].attempts, i + 1);
        }
    }

    // The receiver is fixed; the row is replayed (twice: a double click) while the dispatcher runs.
    rig.receiver().AnswerWith(200);
    ASSERT_TRUE(rig.store().ReplayOutbox(dead.message.id, util::SystemClock().Now()));
    const auto again = rig.store().ReplayOutbox(dead.message.id, util::SystemClock().Now());
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, util::ErrorCode::kConflict);
    ASSERT_TRUE(Eventually([&] { return rig.Rows(OutboxStatus::kSent).size() == 1; }));
    rig.dispatcher().Stop();
    EXPECT_EQ(last_told(), rig.Rows(OutboxStatus::kSent).front());  // the sent row, as stored
    EXPECT_EQ(rig.receiver().accepted(), 1u);
    EXPECT_EQ(rig.receiver().duplicates(), 0u);
    const auto accepted = rig.receiver().AcceptedById();
    ASSERT_EQ(accepted.size(), 1u);
    EXPECT_EQ(accepted.begin()->first, WebhookMessageId(planned[0].dedup_key));
    EXPECT_EQ(rig.Rows(OutboxStatus::kSent).front().attempts, 1);
}

TEST(NotifyEndToEnd, StarttlsRequiredSendsNoCredentialsToAServerWithoutStarttls) {
    TempDir dir("railwatch-notify-starttls-");
    auto store = std::move(store::OpenStore("sqlite:" + dir.File("railwatch.db")).value());
    StoreAdapter adapter(*store, *store);
    railwatch::test::SmtpServerOptions server_options;
    server_options.auth = "railwatch:NEVER-SENT-PASSWORD";  // AUTH is offered, in clear text
    auto server = std::move(SmtpServer::Start(server_options).value());

    EmailConfig email;
    email.smtp_url = server->Url();
    email.from = kFrom;
    email.starttls = StartTls::kRequired;
    email.username = "railwatch";
    email.password = "NEVER-SENT-PASSWORD";
    auto transport = std::move(CurlMailTransport::Create(email).value());
    EmailChannel channel(email, *transport);
    NotifyConfig config;
    config.email = email;
    config.admin_emails = {"ops@example.com"};
    const OutboxPlanner planner(config);
    util::SystemClock clock;
    core::NotifyEvent event;
    event.type = core::NotifyEventType::kTokenInvalid;
    event.at = clock.Now();
    event.id = core::MakeEventId(event.type, "", "", event.at);
    event.message = "the Railway token is invalid";
    ASSERT_EQ(store->EnqueueOutbox(planner.Plan(event, clock.Now()).messages).value(), 1);

    Dispatcher dispatcher(adapter, {&channel}, clock);
    ASSERT_EQ(dispatcher.RunOnce(), 1);
    const auto rows = store->ListDeliveries(std::nullopt, 10).value();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].status, OutboxStatus::kFailed);
    ASSERT_TRUE(rows[0].last_error);
    const std::string& error = *rows[0].last_error;
    EXPECT_NE(error.find("does not offer STARTTLS"), std::string::npos) << error;
    EXPECT_NE(error.find("sent neither credentials nor the message"), std::string::npos) << error;
    EXPECT_EQ(error.find("NEVER-SENT-PASSWORD"), std::string::npos) << error;

    const std::vector<std::string> commands = server->Commands();
    EXPECT_NE(std::find(commands.begin(), commands.end(), "EHLO"), commands.end());
    for (const std::string& command : commands) {
        EXPECT_NE(command.rfind("AUTH", 0), 0u) << "the client tried to authenticate without TLS";
        EXPECT_NE(command, "MAIL") << "the client sent a message without TLS";
    }
    EXPECT_TRUE(server->Messages().empty());

    // starttls = "off" would send in clear text: refused for anything but a loopback relay.
    EmailConfig remote = email;
    remote.smtp_url = "smtp://mail.example.com:587";
    remote.starttls = StartTls::kOff;
    const auto refused = CurlMailTransport::Create(remote);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("refused"), std::string::npos);
}

TEST(NotifyEndToEnd, PythonsHmacVerifiesTheWebhookSignatures) {
    Rig rig(FastRetries(), /*with_email=*/false);
    rig.Enqueue(rig.Event(7, core::NotifyEventType::kQuotaExceeded));
    ASSERT_EQ(rig.dispatcher().RunOnce(), 1);
    const auto received = rig.receiver().Received();
    ASSERT_EQ(received.size(), 1u);
    const auto& hook = received[0];
    TempDir dir("railwatch-notify-hmac-");
    std::ofstream(dir.File("body"), std::ios::binary) << hook.body;
    // Python's own hmac and base64 check both signatures (old and new secret), as a consumer would.
    const std::string script =
        "import base64,hashlib,hmac,sys\n"
        "body=open(sys.argv[1],'rb').read()\n"
        "content=sys.argv[2].encode()+b'.'+sys.argv[3].encode()+b'.'+body\n"
        "want=[s.split(',',1)[1] for s in sys.argv[4].split(' ')]\n"
        "for secret in sys.argv[5:]:\n"
        "    key=base64.b64decode(secret[len('whsec_'):])\n"
        "    sig=base64.b64encode(hmac.new(key,content,hashlib.sha256).digest()).decode()\n"
        "    assert sig in want, (sig, want)\n"
        "print('verified', len(want))\n";
    const auto result = railwatch::test::RunCommand({SmtpServer::Python(), "-c", script, dir.File("body"), hook.id,
                                                     hook.timestamp, hook.signature, kOldSecret, kNewSecret});
    EXPECT_TRUE(result.status.Ok()) << result.output;
    EXPECT_NE(result.output.find("verified 2"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace railwatch::notify::test

namespace railwatch::notify::test {
namespace {

/// Two dispatchers (as two railwatch processes would) on two connections to one database, both
/// delivering to one receiver: every row goes to exactly one of them, once.
void TwoDispatchersDeliverEachRowOnce(const std::string& url) {
    auto first_store = std::move(store::OpenStore(url).value());
    auto second_store = std::move(store::OpenStore(url).value());
    StoreAdapter first_adapter(*first_store, *first_store);
    StoreAdapter second_adapter(*second_store, *second_store);
    WebhookReceiver receiver({kNewSecret});
    receiver.SetKeepLog(false);
    receiver.Start();
    NotifyConfig config;
    config.webhook.url = receiver.Url();
    config.webhook.secrets = {kNewSecret};
    const OutboxPlanner planner(config);
    util::SystemClock clock;
    net::CurlTransport transport;
    auto channel = std::move(WebhookChannel::Create(config.webhook, transport, clock).value());

    constexpr int kEvents = 300;
    std::vector<store::OutboxMessage> rows;
    for (int n = 0; n < kEvents; ++n) {
        core::NotifyEvent event;
        event.type = core::NotifyEventType::kTokenInvalid;
        event.at = clock.Now();
        event.id = core::MakeEventId(event.type, "ins_" + std::to_string(n), "dep", event.at);
        event.message = "event " + std::to_string(n);
        const auto planned = planner.Plan(event, clock.Now()).messages;
        rows.insert(rows.end(), planned.begin(), planned.end());
    }
    ASSERT_EQ(first_store->EnqueueOutbox(rows).value(), kEvents);

    DispatcherOptions options;
    options.concurrency = 4;
    options.poll_interval = 100ms;
    options.owner = "process-a";
    Dispatcher a(first_adapter, {channel.get()}, clock, options);
    options.owner = "process-b";
    Dispatcher b(second_adapter, {channel.get()}, clock, options);
    a.Start();
    b.Start();
    a.Notify();
    b.Notify();
    ASSERT_TRUE(Eventually([&] { return receiver.accepted() >= static_cast<std::size_t>(kEvents); }));
    ASSERT_TRUE(
        Eventually([&] { return first_store->ListDeliveries(OutboxStatus::kSent, 1000).value().size() == kEvents; }));
    a.Stop();
    b.Stop();
    EXPECT_EQ(receiver.accepted(), static_cast<std::size_t>(kEvents));
    EXPECT_EQ(receiver.duplicates(), 0u);
    EXPECT_EQ(receiver.AcceptedById().size(), static_cast<std::size_t>(kEvents));
    EXPECT_EQ(a.Stats().delivered + b.Stats().delivered, static_cast<std::uint64_t>(kEvents));
    EXPECT_EQ(a.Stats().lost_leases + b.Stats().lost_leases, 0u);
}

/// Whether something listens on 127.0.0.1:`port` within `timeout` (connects every 10 ms; no thread).
bool ListeningWithin(int port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
        ::close(fd);
        if (connected) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
}

/// The body of a dispatcher process (a forked copy of the test): its own store connection, HTTP
/// transport and webhook channel; delivers until it is killed, or, with `until_done`, until no
/// row is open and then exits 0. Short timeout and lease margin, so that rows a killed process
/// held come back within seconds (lease = 4 × 2 s + 1 s). It starts once the receiver listens
/// at `receiver_port` (the parent starts the receiver's threads only after the fork).
int RunDispatcherProcess(const std::string& url, const std::string& receiver_url, int receiver_port,
                         const std::string& owner, bool until_done) {
    if (!ListeningWithin(receiver_port, 30s)) return 4;
    auto store = store::OpenStore(url);
    if (!store) return 2;
    StoreAdapter adapter(**store, **store);
    NotifyConfig config;
    config.webhook.url = receiver_url;
    config.webhook.secrets = {kNewSecret};
    config.webhook.timeout = 2s;
    util::SystemClock clock;
    net::CurlTransport transport;
    auto channel = WebhookChannel::Create(config.webhook, transport, clock, &adapter);
    if (!channel) return 3;
    DispatcherOptions options;
    options.owner = owner;
    options.concurrency = 4;
    options.poll_interval = 100ms;
    options.lease_margin = 1s;
    Dispatcher dispatcher(adapter, {channel->get()}, clock, options);
    dispatcher.Start();
    dispatcher.Notify();
    for (;;) {
        std::this_thread::sleep_for(100ms);
        if (!until_done) continue;
        auto due = (*store)->NextOutboxDue(clock.Now());
        if (due && !*due) break;
    }
    dispatcher.Stop();
    return 0;
}

TEST(NotifyEndToEnd, ADispatcherKilledMidDeliveryAndRestartedDeliversEveryEventUnderOneWebhookId) {
    TempDir dir("railwatch-notify-kill-");
    const std::string url = "sqlite:" + dir.File("railwatch.db");
    constexpr int kEvents = 400;
    std::set<std::string> planned_ids;
    {
        auto store = std::move(store::OpenStore(url).value());
        NotifyConfig config;
        config.webhook.url = "http://127.0.0.1:9/unused";
        const OutboxPlanner planner(config);
        util::SystemClock clock;
        std::vector<store::OutboxMessage> rows;
        for (int n = 0; n < kEvents; ++n) {
            core::NotifyEvent event;
            event.type = core::NotifyEventType::kTokenInvalid;  // admin notice: one webhook row
            event.at = clock.Now();
            event.id = core::MakeEventId(event.type, "ins_" + std::to_string(n), "dep", event.at);
            event.message = "event " + std::to_string(n);
            for (auto& m : planner.Plan(event, clock.Now()).messages) {
                planned_ids.insert(WebhookMessageId(m.dedup_key));
                rows.push_back(std::move(m));
            }
        }
        ASSERT_EQ(store->EnqueueOutbox(rows).value(), kEvents);
    }
    ASSERT_EQ(planned_ids.size(), static_cast<std::size_t>(kEvents));

    WebhookReceiver receiver({kNewSecret});
    // Each answer takes 25 ms, so the 400 take ~2.5 s at 4 at a time: a busy machine that wakes
    // this thread late still kills the child mid-run (unslowed, CI once saw all 400 delivered
    // before the kill).
    receiver.SetDelay(25ms);
    // ChildProcess::Fork wants a process of one thread (ThreadSanitizer refuses to run a child
    // forked from more): the receiver takes its port, stops its threads for each fork, and starts
    // them again on that port after it; each child waits until the receiver listens.
    receiver.Start();
    const std::string hook_url = receiver.Url();
    const int hook_port = receiver.port();
    receiver.Stop();
    auto first = railwatch::test::ChildProcess::Fork(
        [&] { return RunDispatcherProcess(url, hook_url, hook_port, "process-1", /*until_done=*/false); });
    receiver.Start();
    // Kill it while it is busy: some rows delivered, others claimed or in flight.
    ASSERT_TRUE(Eventually([&] { return receiver.accepted() >= 40; }, 60s));
    first.Signal(SIGKILL);
    const auto killed = first.Wait();
    EXPECT_TRUE(killed.signaled && killed.signal == SIGKILL) << killed.Describe();
    const std::size_t before_restart = receiver.accepted();
    EXPECT_LT(before_restart, static_cast<std::size_t>(kEvents)) << "the kill came too late to test anything";

    receiver.Stop();
    auto second = railwatch::test::ChildProcess::Fork(
        [&] { return RunDispatcherProcess(url, hook_url, hook_port, "process-2", /*until_done=*/true); });
    receiver.Start();
    const auto finished = second.Wait(180s);
    EXPECT_TRUE(finished.Ok()) << finished.Describe();

    auto store = std::move(store::OpenStore(url).value());
    EXPECT_EQ(store->ListDeliveries(OutboxStatus::kSent, 1000).value().size(), static_cast<std::size_t>(kEvents));
    EXPECT_EQ(receiver.invalid_signatures(), 0u);
    // Every event arrived, each under the one webhook-id of its row: a receiver deduplicating by
    // webhook-id sees every event once. A row delivered just before the kill may arrive again
    // (at-least-once), but always with the same id.
    std::set<std::string> arrived;
    for (const auto& [id, count] : receiver.AcceptedById()) {
        EXPECT_TRUE(planned_ids.contains(id)) << id;
        arrived.insert(id);
    }
    EXPECT_EQ(arrived, planned_ids);
}

TEST(NotifyEndToEnd, TwoDispatchersOnOneSqliteFileDeliverEachRowOnce) {
    TempDir dir("railwatch-notify-two-");
    TwoDispatchersDeliverEachRowOnce("sqlite:" + dir.File("shared.db"));
}

TEST(NotifyEndToEnd, TwoDispatchersOnOnePostgresDatabaseDeliverEachRowOnce) {
    auto cluster = railwatch::test::PostgresCluster::Start();
    ASSERT_TRUE(cluster) << cluster.error().message;
    ASSERT_TRUE((*cluster)->CreateDatabase("notify_e2e"));
    TwoDispatchersDeliverEachRowOnce((*cluster)->Url("notify_e2e"));
}

}  // namespace
}  // namespace railwatch::notify::test
