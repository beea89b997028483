#include "app/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "app/monitor_engine.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

railway::EnvLookup Env(const std::map<std::string, std::string>& vars) {
    return [vars](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

// The problems of a config that must fail.
std::vector<ConfigProblem> Problems(const tl::expected<LoadedConfig, ConfigErrors>& result) {
    EXPECT_FALSE(result.has_value()) << "the configuration was accepted";
    if (result) return {};
    return result.error().problems;
}

LoadedConfig Valid(const tl::expected<LoadedConfig, ConfigErrors>& result) {
    EXPECT_TRUE(result.has_value()) << (result ? "" : result.error().ToString());
    return result ? *result : LoadedConfig{};
}

// The contract's example file (interface.md, "Configuration file (TOML)"), verbatim.
constexpr std::string_view kContractExample = R"toml(
[railway]
api_url = "https://backboard.railway.com/graphql/v2"
requests_per_hour = 1000          # the token's plan: 100 Free, 1000 Hobby, 10000 Pro
requests_per_second = 10
batch_size = 50                   # deployments per status request

[store]
url = "sqlite:railwatch.db"       # or "postgresql://user@host/db"

[server]
listen = "127.0.0.1:8080"
api_token_env = "RAILWATCH_API_TOKEN"

[monitor]
max_logs = 1000
stuck_after_seconds = 600
timeout_after_seconds = 600
[monitor.intervals]               # seconds, per Railway status
INITIALIZING = 10
BUILDING = 15
DEPLOYING = 10
SUCCESS = 60
FAILED = 30
CRASHED = 30
default = 30

[retry]
max_attempts = 3
base_delay_ms = 1000
max_delay_ms = 30000
factor = 2

[notify.email]
smtp_url = "smtp://127.0.0.1:2525"    # smtps:// or smtp:// + STARTTLS
from = "railwatch@example.com"
starttls = "required"                 # "required" | "off" (loopback relays only)
username = ""
password_env = "RAILWATCH_SMTP_PASSWORD"

[notify.webhook]
url = "https://example.com/hooks/railwatch"
secret_env = "RAILWATCH_WEBHOOK_SECRET"   # Standard Webhooks secret, "whsec_" + base64
format = "standard"                       # "standard" | "slack" | "discord"

[notify.admin]
emails = ["ops@example.com"]
)toml";

TEST(Config, DefaultsAreTheContractsValues) {
    const Config c;
    EXPECT_EQ(c.railway.api_url, "https://backboard.railway.com/graphql/v2");
    EXPECT_EQ(c.railway.requests_per_hour, 1000);
    EXPECT_EQ(c.railway.requests_per_second, 10);
    // The contract's example file sets 50; the default carries 400 (an eighth of the requests per
    // check), and the client asks for fewer when Railway refuses that many, or fails them every
    // time after retries (docs/CLIENT.md).
    EXPECT_EQ(c.railway.batch_size, 400);
    EXPECT_EQ(c.store.url, "sqlite:railwatch.db");
    EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
    EXPECT_EQ(c.server.api_token_env, "RAILWATCH_API_TOKEN");
    EXPECT_EQ(c.monitor.max_logs, 1000);
    EXPECT_EQ(c.monitor.stuck_after_seconds, 600);
    EXPECT_EQ(c.monitor.timeout_after_seconds, 600);
    EXPECT_EQ(c.monitor.lease_seconds, 120);
    EXPECT_EQ(c.monitor.intervals.initializing_s, 10);
    EXPECT_EQ(c.monitor.intervals.building_s, 15);
    EXPECT_EQ(c.monitor.intervals.deploying_s, 10);
    EXPECT_EQ(c.monitor.intervals.success_s, 60);
    EXPECT_EQ(c.monitor.intervals.failed_s, 30);
    EXPECT_EQ(c.monitor.intervals.crashed_s, 30);
    EXPECT_EQ(c.monitor.intervals.default_s, 30);
    EXPECT_EQ(c.retry.max_attempts, 3);
    EXPECT_EQ(c.retry.base_delay_ms, 1000);
    EXPECT_EQ(c.retry.max_delay_ms, 30000);
    EXPECT_EQ(c.retry.factor, 2.0);
    EXPECT_EQ(c.notify.email.from, "railwatch@example.com");
    EXPECT_EQ(c.notify.email.starttls, StartTls::kRequired);
    EXPECT_EQ(c.notify.email.password_env, "RAILWATCH_SMTP_PASSWORD");
    EXPECT_EQ(c.notify.webhook.secret_env, "RAILWATCH_WEBHOOK_SECRET");
    EXPECT_EQ(c.notify.webhook.format, WebhookFormat::kStandard);
    EXPECT_EQ(c.log.level, LogLevel::kInfo);
    EXPECT_EQ(c.log.format, LogFormat::kText);
    // Channels that would send data somewhere are off until configured.
    EXPECT_EQ(c.notify.email.smtp_url, "");
    EXPECT_EQ(c.notify.webhook.url, "");
    EXPECT_TRUE(c.notify.admin.emails.empty());
}

TEST(Config, TheContractsExampleFileIsValid) {
    const LoadedConfig loaded = Valid(LoadConfigText(kContractExample, "railwatch.toml"));
    EXPECT_EQ(loaded.config.notify.email.smtp_url, "smtp://127.0.0.1:2525");
    EXPECT_EQ(loaded.config.notify.admin.emails, std::vector<std::string>{"ops@example.com"});
    EXPECT_EQ(loaded.SourceOf("railway.batch_size").Describe(), "railwatch.toml:6");
    EXPECT_EQ(loaded.SourceOf("monitor.intervals.default").Describe(), "railwatch.toml:26");
}

TEST(Config, EveryKeysDefaultPassesItsOwnCheckAndNamesAreUnique) {
    std::set<std::string_view> names;
    const Config defaults;
    for (const auto& key : ConfigKeys()) {
        SCOPED_TRACE(std::string(key.name));
        EXPECT_TRUE(names.insert(key.name).second);
        EXPECT_FALSE(key.doc.empty());
        EXPECT_FALSE(key.allowed.empty());
        EXPECT_EQ(key.check(key.get(defaults)), std::nullopt);
    }
    for (const auto& secret : ConfigSecrets())
        EXPECT_TRUE(names.insert(secret.name).second) << secret.name;
}

TEST(Config, AFileValueBeatsTheDefaultAndRecordsItsLine) {
    const LoadedConfig loaded =
        Valid(LoadConfigText("[railway]\n\nbatch_size = 20\n[monitor.intervals]\nBUILDING = 5\n", "cfg.toml"));
    EXPECT_EQ(loaded.config.railway.batch_size, 20);
    EXPECT_EQ(loaded.config.monitor.intervals.building_s, 5);
    EXPECT_EQ(loaded.SourceOf("railway.batch_size").kind, ValueSource::Kind::kFile);
    EXPECT_EQ(loaded.SourceOf("railway.batch_size").line, 3);
    EXPECT_EQ(loaded.SourceOf("railway.requests_per_hour").Describe(), "default");
}

TEST(Config, AStatusRequestMayAskForUpTo500Deployments) {
    // Railway documents no limit on aliases (a size it refuses is halved: docs/CLIENT.md); a
    // large fleet may ask more per request against its plan's requests per hour.
    EXPECT_EQ(Valid(LoadConfigText("[railway]\nbatch_size = 500\n", "cfg.toml")).config.railway.batch_size, 500);
    for (const auto& [asked, kept] : {std::pair<std::size_t, std::size_t>{501, 500}, {0, 1}, {500, 500}}) {
        railway::ClientConfig client;
        client.batch_size = asked;
        EXPECT_EQ(std::move(client).Normalized().batch_size, kept) << asked;
    }
}

TEST(Config, EveryProblemOfAFileIsReportedAtOnceWithKeyFileLineAndWhatIsAllowed) {
    const auto problems = Problems(LoadConfigText(R"toml([railway]
batch_size = 501
[server]
listen = "not an address"
[monitor.intervals]
BUILDING = -5
[notify.email]
starttls = "maybe"
[notify.webhook]
format = "teams"
)toml",
                                                  "bad.toml"));
    ASSERT_EQ(problems.size(), 5u);
    EXPECT_EQ(problems[0].key, "railway.batch_size");
    EXPECT_EQ(problems[0].origin, "bad.toml:2:14");
    EXPECT_THAT(problems[0].message, AllOf(HasSubstr("501"), HasSubstr("allowed: 1..500")));
    EXPECT_EQ(problems[1].key, "server.listen");
    EXPECT_EQ(problems[1].line, 4);
    EXPECT_THAT(problems[1].message, HasSubstr("HOST:PORT"));
    EXPECT_EQ(problems[2].key, "monitor.intervals.BUILDING");
    EXPECT_EQ(problems[2].line, 6);
    EXPECT_THAT(problems[2].message, AllOf(HasSubstr("-5"), HasSubstr("allowed: 1..86400")));
    EXPECT_EQ(problems[3].key, "notify.email.starttls");
    EXPECT_EQ(problems[3].line, 8);
    EXPECT_THAT(problems[3].message, HasSubstr("allowed: one of \"required\", \"off\""));
    EXPECT_EQ(problems[4].key, "notify.webhook.format");
    EXPECT_EQ(problems[4].line, 10);
    EXPECT_THAT(problems[4].message, HasSubstr("\"standard\", \"slack\", \"discord\""));
    EXPECT_EQ(problems[4].ToString(),
              "bad.toml:10:10: notify.webhook.format: \"teams\" is not allowed; allowed: one of \"standard\", "
              "\"slack\", \"discord\"");
}

TEST(Config, PollThreadsComeFromMonitorWithinTheirRangeAndReachTheEngine) {
    EXPECT_EQ(Config{}.monitor.poll_threads, 4);
    EXPECT_EQ(MonitorOptionsFrom(Config{}, "w").poll_threads, 4u);

    const LoadedConfig loaded =
        Valid(LoadConfigText("[monitor]\npoll_threads = 2\nclaim_mode = \"per_check\"\n", "pollers.toml"));
    EXPECT_EQ(loaded.SourceOf("monitor.poll_threads").Describe(), "pollers.toml:2");
    const monitor::MonitorOptions options = MonitorOptionsFrom(loaded.config, "w");
    EXPECT_EQ(options.poll_threads, 2u);
    EXPECT_FALSE(options.keep_claims);

    const auto problems = Problems(LoadConfigText("[monitor]\npoll_threads = 0\n", "bad-pollers.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "monitor.poll_threads");
    EXPECT_THAT(problems[0].message, AllOf(HasSubstr("0"), HasSubstr("allowed: 1..64")));
}

TEST(Config, RequestsPerPollComeFromMonitorWithinTheirRangeAndReachTheEngine) {
    EXPECT_EQ(Config{}.monitor.requests_per_poll, 4);
    EXPECT_EQ(MonitorOptionsFrom(Config{}, "w").requests_per_poll, 4u);
    const LoadedConfig loaded = Valid(LoadConfigText("[monitor]\nrequests_per_poll = 1\n", "polls.toml"));
    EXPECT_EQ(loaded.SourceOf("monitor.requests_per_poll").Describe(), "polls.toml:2");
    EXPECT_EQ(MonitorOptionsFrom(loaded.config, "w").requests_per_poll, 1u);
    const auto problems = Problems(LoadConfigText("[monitor]\nrequests_per_poll = 17\n", "bad-polls.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "monitor.requests_per_poll");
    EXPECT_THAT(problems[0].message, AllOf(HasSubstr("17"), HasSubstr("allowed: 1..16")));
}

TEST(Config, TheProbesConnectionCapsComeFromMonitorHealthAndReachTheProberAndItsTransport) {
    const Config defaults;
    EXPECT_EQ(ProberOptionsFrom(defaults.monitor.health).max_in_flight, 256u);
    const net::ProbeTransportOptions default_transport = ProbeTransportOptionsFrom(defaults.monitor.health, {});
    EXPECT_EQ(default_transport.max_total_connections, 256u);
    EXPECT_EQ(default_transport.max_host_connections, 16u);
    EXPECT_EQ(default_transport.connect_timeout, core::Seconds(10));

    const LoadedConfig loaded = Valid(
        LoadConfigText("[monitor.health]\nmax_connections = 1000\nmax_connections_per_host = 4\ntimeout_seconds = 5\n",
                       "probes.toml"));
    EXPECT_EQ(loaded.SourceOf("monitor.health.max_connections").Describe(), "probes.toml:2");
    EXPECT_EQ(ProberOptionsFrom(loaded.config.monitor.health).max_in_flight, 1000u);
    net::ProbeProxies proxies;
    proxies.no_proxy = {"internal.example"};
    const net::ProbeTransportOptions transport = ProbeTransportOptionsFrom(loaded.config.monitor.health, proxies);
    EXPECT_EQ(transport.max_total_connections, 1000u);
    EXPECT_EQ(transport.max_host_connections, 4u);
    EXPECT_EQ(transport.connect_timeout, core::Seconds(5));
    EXPECT_EQ(transport.proxies, proxies);

    const auto problems = Problems(
        LoadConfigText("[monitor.health]\nmax_connections = 0\nmax_connections_per_host = 1001\n", "bad.toml"));
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].key, "monitor.health.max_connections");
    EXPECT_THAT(problems[0].message, HasSubstr("allowed: 1..10000"));
    EXPECT_EQ(problems[1].key, "monitor.health.max_connections_per_host");
    EXPECT_THAT(problems[1].message, HasSubstr("allowed: 1..1000"));
}

TEST(Config, TheStreamLimitAndHttpWorkersComeFromServerWithinTheirRanges) {
    const Config defaults;
    EXPECT_EQ(defaults.server.max_streams, 64);
    EXPECT_EQ(defaults.server.http_workers, 32);

    const LoadedConfig loaded =
        Valid(LoadConfigText("[server]\nmax_streams = 256\nhttp_workers = 40\n", "streams.toml"));
    EXPECT_EQ(loaded.config.server.max_streams, 256);
    EXPECT_EQ(loaded.config.server.http_workers, 40);
    EXPECT_EQ(loaded.SourceOf("server.max_streams").Describe(), "streams.toml:2");
    EXPECT_EQ(loaded.SourceOf("server.http_workers").Describe(), "streams.toml:3");

    const auto problems =
        Problems(LoadConfigText("[server]\nmax_streams = 0\nhttp_workers = 1001\n", "bad-streams.toml"));
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].key, "server.max_streams");
    EXPECT_THAT(problems[0].message, AllOf(HasSubstr("0"), HasSubstr("allowed: 1..10000")));
    EXPECT_EQ(problems[1].key, "server.http_workers");
    EXPECT_THAT(problems[1].message, AllOf(HasSubstr("1001"), HasSubstr("allowed: 1..1000")));

    const auto wrong_type = Problems(LoadConfigText("[server]\nmax_streams = \"many\"\n", "type.toml"));
    ASSERT_EQ(wrong_type.size(), 1u);
    EXPECT_EQ(wrong_type[0].key, "server.max_streams");
}

TEST(Config, BadRoutesScheduleAndReminderTypesAreRejectedWithKeyAndLine) {
    const auto problems = Problems(LoadConfigText(R"toml([notify.routes]
deployment_failed = ["email", "sms"]
deployment_exploded = ["email"]
crash_loop = "email"
[notify.retry]
schedule_seconds = [1, 0]
[notify.reminders]
types = ["crash_loop", "lunch"]
)toml",
                                                  "bad.toml"));
    ASSERT_EQ(problems.size(), 5u);
    EXPECT_EQ(problems[0].key, "notify.routes.deployment_failed");
    EXPECT_EQ(problems[0].line, 2);
    EXPECT_THAT(problems[0].message,
                AllOf(HasSubstr("item 2: \"sms\" is not a route"), HasSubstr("email, in_app, admin_email, webhook")));
    EXPECT_EQ(problems[1].key, "notify.routes.deployment_exploded");
    EXPECT_EQ(problems[1].line, 3);
    EXPECT_THAT(problems[1].message, HasSubstr("unknown key"));
    EXPECT_EQ(problems[2].key, "notify.routes.crash_loop");
    EXPECT_EQ(problems[2].line, 4);
    EXPECT_THAT(problems[2].message, HasSubstr("expected an array of strings"));
    EXPECT_EQ(problems[3].key, "notify.retry.schedule_seconds");
    EXPECT_EQ(problems[3].line, 6);
    EXPECT_THAT(problems[3].message, AllOf(HasSubstr("item 2: 0 is out of range"), HasSubstr("1..86400")));
    EXPECT_EQ(problems[4].key, "notify.reminders.types");
    EXPECT_EQ(problems[4].line, 8);
    EXPECT_THAT(problems[4].message, AllOf(HasSubstr("\"lunch\" is not an event type"), HasSubstr("crash_loop")));
}

TEST(Config, BadSilencesAreRejectedWithTheirIndexKeyAndLine) {
    const auto problems = Problems(LoadConfigText(R"toml([[notify.silences]]
id = "a"
starts_at = "2027-01-15T10:00:00Z"
ends_at = "2027-01-15T09:00:00Z"
[[notify.silences]]
id = "b"
starts_at = "yesterday"
ends_at = 2027-01-15T09:00:00
types = ["crash_loop", "lunch"]
colour = "red"
[[notify.silences]]
starts_at = "2027-01-15T08:00:00Z"
[[notify.silences]]
id = "c"
starts_at = "2027-01-15T08:00:00Z"
ends_at = "2027-01-15T09:00:00Z"
[[notify.silences]]
id = "c"
starts_at = "2027-01-16T08:00:00Z"
ends_at = "2027-01-16T09:00:00Z"
)toml",
                                                  "bad.toml"));
    std::vector<std::string> keys;
    keys.reserve(problems.size());
    for (const auto& p : problems)
        keys.push_back(p.key + "@" + std::to_string(p.line));
    EXPECT_THAT(keys, ::testing::ElementsAre("notify.silences[1].ends_at@4", "notify.silences[2].starts_at@7",
                                             "notify.silences[2].ends_at@8", "notify.silences[2].types@9",
                                             "notify.silences[2].colour@10", "notify.silences[3].id@11",
                                             "notify.silences[3].ends_at@11", "notify.silences[5].id@17"));
    ASSERT_EQ(problems.size(), 8u);
    EXPECT_THAT(problems[0].message, HasSubstr("later than starts_at"));
    EXPECT_THAT(problems[1].message, HasSubstr("\"yesterday\" is not an RFC 3339 time"));
    EXPECT_THAT(problems[2].message, HasSubstr("without an offset"));
    EXPECT_THAT(problems[3].message, HasSubstr("\"lunch\" is not an event type"));
    EXPECT_THAT(problems[4].message, HasSubstr("keys of [[notify.silences]]"));
    EXPECT_THAT(problems[7].message, HasSubstr("names another silence too"));

    const auto single = Problems(LoadConfigText("[notify.silences]\nid = \"x\"\n", "bad.toml"));
    ASSERT_EQ(single.size(), 1u);
    EXPECT_EQ(single[0].key, "notify.silences");
    EXPECT_EQ(single[0].line, 1);
    EXPECT_THAT(single[0].message, HasSubstr("[[notify.silences]]"));
}

TEST(Config, ConfigCheckShowsRoutesScheduleAndSilences) {
    const LoadedConfig loaded = Valid(LoadConfigText(R"toml([notify.routes]
deployment_recovered = ["in_app"]
[notify.retry]
schedule_seconds = [1, 2]
[[notify.silences]]
id = "maintenance"
starts_at = "2027-01-15T08:00:00Z"
ends_at = "2027-01-15T10:00:00Z"
)toml",
                                                     "cfg.toml"));
    const std::string text = FormatEffectiveConfig(loaded);
    EXPECT_THAT(text, HasSubstr("deployment_recovered = [\"in_app\"]"));
    EXPECT_THAT(text, HasSubstr("deployment_failed = [\"email\", \"in_app\", \"webhook\"]"));
    EXPECT_THAT(text, HasSubstr("schedule_seconds = [1, 2]"));
    EXPECT_THAT(text, HasSubstr("[[notify.silences]]"));
    EXPECT_THAT(text, HasSubstr("id = \"maintenance\""));
    EXPECT_THAT(text, HasSubstr("ends_at = \"2027-01-15T10:00:00.000Z\""));
}

TEST(Config, AnUnknownKeyIsAnErrorWithASuggestion) {
    const auto problems = Problems(LoadConfigText("[railway]\nbatch_sise = 10\n[monitor]\nfoo = 1\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].key, "railway.batch_sise");
    EXPECT_EQ(problems[0].origin, "cfg.toml:2:1");
    EXPECT_THAT(problems[0].message, HasSubstr("did you mean railway.batch_size?"));
    EXPECT_EQ(problems[1].key, "monitor.foo");
    EXPECT_THAT(problems[1].message, HasSubstr("keys of [monitor]: max_logs, stuck_after_seconds"));
}

TEST(Config, ALeaseShorterThanTenSecondsIsRefused) {
    EXPECT_EQ(Valid(LoadConfigText("[monitor]\nlease_seconds = 10\n", "cfg.toml")).config.monitor.lease_seconds, 10);
    const auto problems = Problems(LoadConfigText("[monitor]\nlease_seconds = 5\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "monitor.lease_seconds");
    EXPECT_THAT(problems[0].message, HasSubstr("10..86400"));
}

TEST(Config, AKnownKeyInTheWrongTableIsAnErrorThatNamesTheRightOne) {
    const auto problems = Problems(LoadConfigText("batch_size = 10\n[server]\nmax_logs = 5\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].key, "batch_size");
    EXPECT_THAT(problems[0].message, HasSubstr("did you mean railway.batch_size (under [railway])?"));
    EXPECT_EQ(problems[1].key, "server.max_logs");
    EXPECT_THAT(problems[1].message, HasSubstr("did you mean monitor.max_logs (under [monitor])?"));
}

TEST(Config, AnUnknownTableIsAnError) {
    const auto problems = Problems(LoadConfigText("[railwai]\nbatch_size = 10\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "railwai");
    EXPECT_THAT(problems[0].message, AllOf(HasSubstr("unknown table [railwai]"), HasSubstr("[railway]")));
}

TEST(Config, AWrongTypeNamesWhatWasExpected) {
    const auto problems = Problems(LoadConfigText(
        "[railway]\nbatch_size = \"50\"\nrequests_per_hour = 1.5\n[notify.admin]\nemails = [\"a@b.c\", 3]\n"
        "[store]\nurl = { path = \"x\" }\n",
        "cfg.toml"));
    ASSERT_EQ(problems.size(), 4u);
    EXPECT_EQ(problems[0].key, "railway.batch_size");
    EXPECT_THAT(problems[0].message, HasSubstr("expected an integer, got a string"));
    EXPECT_THAT(problems[1].message, HasSubstr("expected an integer, got a float"));
    EXPECT_EQ(problems[2].key, "notify.admin.emails");
    EXPECT_EQ(problems[2].origin, "cfg.toml:5:20");  // the offending item
    EXPECT_THAT(problems[2].message, HasSubstr("expected an array of strings, got an integer"));
    EXPECT_EQ(problems[3].key, "store.url");
    EXPECT_THAT(problems[3].message, HasSubstr("got a table"));
}

TEST(Config, ATomlSyntaxErrorNamesFileAndLine) {
    const auto problems = Problems(LoadConfigText("[railway]\nbatch_size = 10\nrequests_per_hour = \n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "");
    EXPECT_EQ(problems[0].line, 3);
    EXPECT_THAT(problems[0].ToString(), AllOf(HasSubstr("cfg.toml:3:"), HasSubstr("TOML syntax error")));
}

TEST(Config, ADuplicateKeyIsASyntaxError) {
    const auto problems = Problems(LoadConfigText("[railway]\nbatch_size = 10\nbatch_size = 20\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].line, 3);
}

TEST(Config, SecretsInTheFileAreRejectedWithWhereToPutThem) {
    const auto problems = Problems(LoadConfigText("[notify.email]\npassword = \"hunter2-password\"\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "notify.email.password");
    EXPECT_THAT(problems[0].message, HasSubstr("the variable notify.email.password_env names"));
    EXPECT_THAT(problems[0].ToString(), Not(HasSubstr("hunter2-password")));
}

TEST(Config, FlagsBeatEnvironmentBeatsFileBeatsDefaults) {
    const std::string file =
        "[store]\nurl = \"sqlite:file.db\"\n[server]\nlisten = \"127.0.0.1:1111\"\n"
        "[railway]\napi_url = \"https://file.example/graphql/v2\"\n";
    // File only.
    LoadedConfig loaded = Valid(LoadConfigText(file, "cfg.toml"));
    EXPECT_EQ(loaded.config.store.url, "sqlite:file.db");
    EXPECT_EQ(loaded.SourceOf("store.url").Describe(), "cfg.toml:2");
    // Environment beats the file.
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_DB", "sqlite:env.db"},
                       {"RAILWATCH_LISTEN", "127.0.0.1:2222"},
                       {"RAILWAY_API_URL", "https://env.example/graphql/v2"}});
    loaded = Valid(LoadConfigText(file, "cfg.toml", sources));
    EXPECT_EQ(loaded.config.store.url, "sqlite:env.db");
    EXPECT_EQ(loaded.config.server.listen, "127.0.0.1:2222");
    EXPECT_EQ(loaded.config.railway.api_url, "https://env.example/graphql/v2");
    EXPECT_EQ(loaded.SourceOf("store.url").Describe(), "env RAILWATCH_DB");
    // Flags beat the environment.
    sources.flags = {{"--db", "sqlite:flag.db"}, {"--listen", "127.0.0.1:3333"}, {"--railway-url", "https://flag/x"}};
    loaded = Valid(LoadConfigText(file, "cfg.toml", sources));
    EXPECT_EQ(loaded.config.store.url, "sqlite:flag.db");
    EXPECT_EQ(loaded.config.server.listen, "127.0.0.1:3333");
    EXPECT_EQ(loaded.config.railway.api_url, "https://flag/x");
    EXPECT_EQ(loaded.SourceOf("server.listen").Describe(), "flag --listen");
    // An empty variable counts as unset.
    sources.flags.clear();
    sources.env = Env({{"RAILWATCH_DB", ""}});
    loaded = Valid(LoadConfigText(file, "cfg.toml", sources));
    EXPECT_EQ(loaded.config.store.url, "sqlite:file.db");
}

TEST(Config, ABadEnvironmentValueNamesTheVariableAndABadFlagIsAUsageError) {
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_LISTEN", "8080"}});
    auto result = LoadConfigText("", "cfg.toml", sources);
    auto problems = Problems(result);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].origin, "env RAILWATCH_LISTEN");
    EXPECT_EQ(problems[0].key, "server.listen");
    EXPECT_EQ(result.error().ExitCode(64), kExitInvalidConfig);

    sources.env = Env({});
    sources.flags = {{"--db", "mongodb://x"}};
    result = LoadConfigText("", "cfg.toml", sources);
    problems = Problems(result);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].origin, "flag --db");
    EXPECT_THAT(problems[0].message, HasSubstr("sqlite:PATH"));
    EXPECT_EQ(result.error().ExitCode(64), 64);
}

TEST(Config, TheFileComesFromTheArgumentThenFlagThenRailwatchConfig) {
    test::TempDir dir;
    const std::string missing = dir.File("missing.toml");
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_CONFIG", missing}});
    auto problems = Problems(LoadConfig(sources));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].origin, missing);
    EXPECT_THAT(problems[0].message, AllOf(HasSubstr("cannot read"), HasSubstr("env RAILWATCH_CONFIG")));

    sources.flags = {{"--config", dir.File("flag.toml")}};
    problems = Problems(LoadConfig(sources));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].origin, dir.File("flag.toml"));

    sources.file = dir.File("argument.toml");
    problems = Problems(LoadConfig(sources));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].origin, dir.File("argument.toml"));

    // No file named anywhere: defaults.
    EXPECT_TRUE(LoadConfig(ConfigSources{}));
}

TEST(Config, SecretsComeFromTheVariablesTheEnvKeysName) {
    ConfigSources sources;
    sources.env = Env({{"MY_API_TOKEN", "api-token-123456"},
                       {"RAILWATCH_SMTP_PASSWORD", "smtp-password-123"},
                       {"HOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                       {"RAILWATCH_API_TOKEN", "not-this-one"}});
    const LoadedConfig loaded = Valid(
        LoadConfigText("[server]\napi_token_env = \"MY_API_TOKEN\"\n[notify.webhook]\nsecret_env = \"HOOK_SECRET\"\n",
                       "cfg.toml", sources));
    EXPECT_EQ(loaded.config.server.api_token.Reveal(), "api-token-123456");
    EXPECT_EQ(loaded.config.notify.email.password.Reveal(), "smtp-password-123");
    EXPECT_EQ(loaded.config.notify.webhook.secret.Reveal(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    EXPECT_EQ(loaded.SourceOf("server.api_token").Describe(), "env MY_API_TOKEN");
    EXPECT_EQ(loaded.config.server.api_token.Masked(), "********");
    EXPECT_EQ(Secret().Masked(), "(not set)");
}

TEST(Config, AMalformedWebhookSecretIsAnErrorThatDoesNotShowIt) {
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_WEBHOOK_SECRET", "plain-secret-value"}});
    const auto problems = Problems(LoadConfigText("", "cfg.toml", sources));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "notify.webhook.secret");
    EXPECT_EQ(problems[0].origin, "env RAILWATCH_WEBHOOK_SECRET");
    EXPECT_THAT(problems[0].ToString(), AllOf(HasSubstr("whsec_"), Not(HasSubstr("plain-secret-value"))));
}

TEST(Config, TheProjectTokenWinsOverTheAccountToken) {
    ConfigSources sources;
    sources.env = Env({{"RAILWAY_TOKEN", "project-token-1"}, {"RAILWAY_API_TOKEN", "account-token-1"}});
    LoadedConfig loaded = Valid(LoadConfigText("", "cfg.toml", sources));
    EXPECT_EQ(loaded.config.railway.token.Reveal(), "project-token-1");
    EXPECT_EQ(loaded.config.railway.token_kind, railway::TokenKind::kProject);
    EXPECT_EQ(loaded.SourceOf("railway.token").Describe(), "env RAILWAY_TOKEN");

    sources.env = Env({{"RAILWAY_TOKEN", ""}, {"RAILWAY_API_TOKEN", "account-token-1"}});
    loaded = Valid(LoadConfigText("", "cfg.toml", sources));
    EXPECT_EQ(loaded.config.railway.token_kind, railway::TokenKind::kAccount);
    EXPECT_EQ(loaded.config.railway.token.Reveal(), "account-token-1");
}

TEST(Config, MaxDelayBelowBaseDelayIsAnErrorAtItsLine) {
    const auto problems = Problems(LoadConfigText("[retry]\nbase_delay_ms = 5000\nmax_delay_ms = 100\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "retry.max_delay_ms");
    EXPECT_EQ(problems[0].origin, "cfg.toml:3");
    EXPECT_THAT(problems[0].message, HasSubstr("less than retry.base_delay_ms (5000)"));
}

TEST(Config, APlainHttpRailwayUrlIsAllowedOnlyToThisMachine) {
    EXPECT_TRUE(LoadConfigText("[railway]\napi_url = \"http://127.0.0.1:4000/graphql/v2\"\n", "c"));
    const auto problems =
        Problems(LoadConfigText("[railway]\napi_url = \"http://backboard.example/graphql/v2\"\n", "cfg.toml"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "railway.api_url");
    EXPECT_EQ(problems[0].origin, "cfg.toml:2:11");
    EXPECT_THAT(problems[0].message, HasSubstr("clear"));
}

TEST(Config, StarttlsOffIsAllowedForLoopbackRelaysOnly) {
    EXPECT_TRUE(LoadConfigText("[notify.email]\nsmtp_url = \"smtp://127.0.0.1:2525\"\nstarttls = \"off\"\n", "c"));
    const auto problems = Problems(
        LoadConfigText("[notify.email]\nsmtp_url = \"smtp://mail.example.com:587\"\nstarttls = \"off\"\n", "c"));
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key, "notify.email.starttls");
    EXPECT_THAT(problems[0].message, HasSubstr("loopback"));
}

TEST(Config, WarnsAboutAPublicListenAddressWithoutAnApiToken) {
    LoadedConfig loaded = Valid(LoadConfigText("[server]\nlisten = \"0.0.0.0:8080\"\n", "cfg.toml"));
    ASSERT_FALSE(loaded.warnings.empty());
    EXPECT_THAT(loaded.warnings[0], AllOf(HasSubstr("0.0.0.0:8080"), HasSubstr("RAILWATCH_API_TOKEN")));
    ConfigSources sources;
    sources.env = Env({{"RAILWATCH_API_TOKEN", "token-123456"}, {"RAILWAY_API_TOKEN", "t-123456"}});
    loaded = Valid(LoadConfigText("[server]\nlisten = \"0.0.0.0:8080\"\n", "cfg.toml", sources));
    EXPECT_TRUE(loaded.warnings.empty()) << loaded.warnings[0];
}

TEST(Config, TheEffectiveConfigShowsSourcesAndMasksEverySecret) {
    ConfigSources sources;
    sources.env = Env({{"RAILWAY_TOKEN", "project-token-abcdef"},
                       {"RAILWATCH_API_TOKEN", "api-token-abcdef"},
                       {"RAILWATCH_SMTP_PASSWORD", "smtp-password-abcdef"},
                       {"RAILWATCH_DB", "postgresql://rw:db-password-abcdef@127.0.0.1:5432/railwatch"}});
    sources.flags = {{"--listen", "127.0.0.1:0"}};
    const LoadedConfig loaded =
        Valid(LoadConfigText("[railway]\nbatch_size = 25\n[log]\nformat = \"json\"\n", "cfg.toml", sources));
    const std::string text = FormatEffectiveConfig(loaded);
    EXPECT_THAT(text, HasSubstr("batch_size = 25"));
    EXPECT_THAT(text, HasSubstr("# cfg.toml:2"));
    EXPECT_THAT(text, HasSubstr("url = \"postgresql://rw:***@127.0.0.1:5432/railwatch\""));
    EXPECT_THAT(text, HasSubstr("# env RAILWATCH_DB"));
    EXPECT_THAT(text, HasSubstr("listen = \"127.0.0.1:0\""));
    EXPECT_THAT(text, HasSubstr("# flag --listen"));
    EXPECT_THAT(text, HasSubstr("requests_per_hour = 1000"));
    EXPECT_THAT(text, HasSubstr("# default"));
    EXPECT_THAT(text, HasSubstr("[monitor.intervals]\nINITIALIZING = 10"));
    EXPECT_THAT(text, HasSubstr("env RAILWAY_TOKEN (project token)"));
    for (const char* secret :
         {"project-token-abcdef", "api-token-abcdef", "smtp-password-abcdef", "db-password-abcdef"}) {
        EXPECT_THAT(text, Not(HasSubstr(secret)));
    }
    EXPECT_THAT(text, HasSubstr("********"));
}

TEST(Config, SecretsListsEverySecretIncludingTheStorePassword) {
    ConfigSources sources;
    sources.env = Env({{"RAILWAY_API_TOKEN", "account-token-1"},
                       {"RAILWATCH_DB", "postgresql://rw:pw-in-url@db.example/railwatch?password=pw-in-query"}});
    const LoadedConfig loaded = Valid(LoadConfigText("", "cfg.toml", sources));
    const auto secrets = loaded.config.Secrets();
    const std::set<std::string_view> set(secrets.begin(), secrets.end());
    EXPECT_EQ(set, (std::set<std::string_view>{"account-token-1", "pw-in-url", "pw-in-query"}));
}

TEST(Config, PoliciesCarryTheConfiguredValues) {
    const LoadedConfig loaded =
        Valid(LoadConfigText("[retry]\nmax_attempts = 5\nbase_delay_ms = 250\nmax_delay_ms = 4000\nfactor = 3.5\n"
                             "[monitor.intervals]\nBUILDING = 7\ndefault = 45\n",
                             "cfg.toml"));
    const core::BackoffPolicy backoff = loaded.config.retry.Policy();
    EXPECT_EQ(backoff.max_attempts, 5);
    EXPECT_EQ(backoff.base, core::Millis(250));
    EXPECT_EQ(backoff.cap, core::Millis(4000));
    EXPECT_EQ(backoff.factor, 3.5);
    const core::IntervalPolicy intervals = loaded.config.monitor.IntervalPolicy();
    EXPECT_EQ(core::BaseCheckInterval(intervals, core::DeploymentStatus::kBuilding), core::Seconds(7));
    EXPECT_EQ(core::BaseCheckInterval(intervals, core::DeploymentStatus::kQueued), core::Seconds(45));
    EXPECT_EQ(core::BaseCheckInterval(intervals, core::DeploymentStatus::kSuccess), core::Seconds(60));
}

TEST(ListenAddress, ParsesHostAndPortAndRejectsTheRest) {
    struct Case {
        std::string_view text;
        bool ok;
        std::string_view host;
        int port;
    };
    for (const Case& c : std::vector<Case>{{"127.0.0.1:8080", true, "127.0.0.1", 8080},
                                           {"0.0.0.0:0", true, "0.0.0.0", 0},
                                           {"localhost:65535", true, "localhost", 65535},
                                           {"[::1]:9000", true, "::1", 9000},
                                           {"8080", false, "", 0},
                                           {":8080", false, "", 0},
                                           {"127.0.0.1:", false, "", 0},
                                           {"127.0.0.1:65536", false, "", 0},
                                           {"127.0.0.1:-1", false, "", 0},
                                           {"127.0.0.1:80x", false, "", 0},
                                           {"exa mple:80", false, "", 0},
                                           {"[::1:80", false, "", 0}}) {
        SCOPED_TRACE(std::string(c.text));
        const auto parsed = ParseListenAddress(c.text);
        ASSERT_EQ(parsed.has_value(), c.ok);
        if (c.ok) {
            EXPECT_EQ(parsed->host, c.host);
            EXPECT_EQ(parsed->port, c.port);
        } else {
            EXPECT_THAT(parsed.error().message, HasSubstr("HOST:PORT"));
        }
    }
}

}  // namespace
}  // namespace railwatch::app
