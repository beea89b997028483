#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <variant>
#include <vector>

#include "core/detect.hpp"
#include "core/interval.hpp"
#include "core/retry.hpp"
#include "core/time.hpp"
#include "railway/config.hpp"
#include "store/store.hpp"

/// railwatch's configuration: one Config value resolved from defaults, a TOML file, the
/// environment and command-line flags (flags > environment > file > defaults), validated before
/// anything starts. Every key is one row of one table (ConfigKeys()), which drives parsing,
/// validation, `railwatch config check` and docs/CONFIG.md (a test holds the page to the table).
///
/// To add a key: a field with its default in the settings struct below, one row in ConfigKeys()
/// (config.cpp), one line in docs/CONFIG.md's key table.
namespace railwatch::app {

/// Exit code of a command whose configuration is invalid (sysexits EX_CONFIG).
inline constexpr int kExitInvalidConfig = 78;

/// A secret (token, password, webhook secret). It has no formatting and no stream operator, so
/// that it cannot end up in a message by accident: Reveal() is the one way to read it, to be
/// called only where the secret is used (an Authorization header, an SMTP login).
class Secret {
  public:
    Secret() = default;
    explicit Secret(std::string value) : value_(std::move(value)) {}

    bool empty() const { return value_.empty(); }
    const std::string& Reveal() const { return value_; }
    /// "********" when set, "(not set)" otherwise; never depends on the value.
    std::string_view Masked() const { return value_.empty() ? "(not set)" : "********"; }

  private:
    std::string value_;
};

// --- the settings, one struct per TOML table -------------------------------------------------

struct RailwaySettings {
    std::string api_url = std::string(railway::kDefaultApiUrl);
    int requests_per_hour = 1000;
    int requests_per_second = 10;
    int batch_size = static_cast<int>(railway::kDefaultBatchSize);
    /// RAILWAY_TOKEN (project token) when set, else RAILWAY_API_TOKEN (account/workspace token).
    Secret token;
    railway::TokenKind token_kind = railway::TokenKind::kAccount;
};

struct StoreSettings {
    std::string url = std::string(store::kDefaultStoreUrl);
};

struct ServerSettings {
    std::string listen = "127.0.0.1:8080";
    std::string api_token_env = "RAILWATCH_API_TOKEN";
    /// The bearer token /api/* requires, read from the variable api_token_env names.
    Secret api_token;
    std::string hook_secret_env = "RAILWATCH_HOOK_SECRET";
    /// The shared secret `POST /api/v1/hooks/railway` requires (header X-Webhook-Secret), read
    /// from the variable hook_secret_env names; empty: the receiver takes any caller.
    Secret hook_secret;
    /// Event streams (`GET /api/v1/stream`) open at once; more get 503. Each open stream holds
    /// one HTTP thread for as long as it is open.
    int max_streams = 64;
    /// HTTP threads for everything but event streams. The server keeps max_streams + http_workers
    /// threads, so that streams can never take the threads /metrics and the API need. A
    /// connection holds its thread while it is kept alive (5 s idle at most); when a new one finds
    /// no thread idle, another starts (up to 4 times as many in all, at least 64), so that busy
    /// keep-alive clients cannot lock the others out.
    int http_workers = 32;
};

/// Check intervals per Railway status, in seconds ([monitor.intervals]).
struct MonitorIntervals {
    int initializing_s = 10;
    int building_s = 15;
    int deploying_s = 10;
    int success_s = 60;
    int failed_s = 30;
    int crashed_s = 30;
    int default_s = 30;  ///< every other status
};

/// [monitor.health]: HTTP probes of running services (monitor/prober.hpp).
struct HealthProbeSettings {
    int interval_seconds = 60;  ///< 0: no probes
    /// Whether serve probes at all (what the probes' transport and proxies are made for).
    bool On() const { return interval_seconds > 0; }
    int timeout_seconds = 10;
    int failure_threshold = 3;
    int success_threshold = 2;
    int slow_ms = 2000;
    int keep_days = 7;
    int max_connections = 256;          ///< probes in flight at once, and connections open for them
    int max_connections_per_host = 16;  ///< connections to one scheme://host:port
};

struct MonitorSettings {
    /// Names this process in the schedule's leases; empty: "<host name>-<server.listen>". Keep
    /// it across restarts (a restarted process then takes back its crashed life's claims at once)
    /// and unique among processes sharing a store.
    std::string worker_id;
    /// How long a claim holds an instance; a process that dies leaves its claims to the others
    /// after this long. Longer than one status request with its retries can take.
    int lease_seconds = 120;
    int max_logs = 1000;
    int stuck_after_seconds = 600;
    int timeout_after_seconds = 600;
    int discovery_interval_seconds = 60;     ///< 0: no environment reads for new deployments
    int discovery_whole_read_seconds = 300;  ///< 0: every environment read is whole
    bool keep_claims = true;                 ///< claim_mode "kept"
    int poll_threads = 4;                    ///< threads sending status requests, one poll each
    int requests_per_poll = 4;               ///< status requests one poll sends at once (docs/ENGINE.md)
    MonitorIntervals intervals;
    HealthProbeSettings health;

    /// The core's interval policy with these intervals (jitter and floor as the core defaults).
    core::IntervalPolicy IntervalPolicy() const;
    /// The core's stall deadlines: stuck_after_seconds for every phase (NEEDS_APPROVAL none, as
    /// the core's default). The engine flags with it and `GET /attention` judges with it.
    core::StuckPolicy StuckPolicy() const;
};

struct RetrySettings {
    int max_attempts = 3;
    int base_delay_ms = 1000;
    int max_delay_ms = 30000;
    double factor = 2;

    /// The core's backoff policy with these values.
    core::BackoffPolicy Policy() const;
};

enum class StartTls { kRequired, kOff };
enum class WebhookFormat { kStandard, kSlack, kDiscord };

struct EmailSettings {
    std::string smtp_url;  ///< empty: no email channel
    std::string from = "railwatch@example.com";
    StartTls starttls = StartTls::kRequired;
    std::string username;
    std::string password_env = "RAILWATCH_SMTP_PASSWORD";
    std::string ca_file;       ///< PEM bundle to verify the server with; empty: the system store
    int timeout_seconds = 30;  ///< one whole SMTP conversation
    /// The SMTP password, read from the variable password_env names.
    Secret password;
};

struct WebhookSettings {
    std::string url;  ///< empty: no webhook channel
    std::string secret_env = "RAILWATCH_WEBHOOK_SECRET";
    WebhookFormat format = WebhookFormat::kStandard;
    int timeout_seconds = 15;  ///< one request, connection included
    /// The Standard Webhooks signing secret ("whsec_" + base64), read from the variable
    /// secret_env names.
    Secret secret;
};

struct AdminSettings {
    std::vector<std::string> emails;
};

/// [notify.retry]: the delivery retry schedule (Standard Webhooks' by default).
struct NotifyRetrySettings {
    /// Seconds between attempts (the last one repeats when max_attempts asks for more); empty:
    /// Standard Webhooks' schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h).
    std::vector<std::int64_t> schedule_seconds;
    int max_attempts = 0;  ///< attempts in total, the first included; 0: the schedule's length + 1
    double jitter = 0.2;   ///< each delay is spread by ± this fraction
};

/// [notify.dispatch]: how the outbox is drained.
struct NotifyDispatchSettings {
    int concurrency = 8;            ///< deliveries in flight at once
    int poll_interval_seconds = 2;  ///< the longest wait for rows written by other processes
    int lease_seconds = 0;          ///< the claim lease; 0: 4 × the slowest channel's timeout + 60 s
};

/// [notify.reminders]: repeated notices for problems that stay unresolved.
struct NotifyReminderSettings {
    int repeat_every_seconds = 0;  ///< 0: no reminders
    int max_reminders = 3;
    std::vector<std::string> types;  ///< event type names that get reminders; empty: every problem type
};

/// One [[notify.silences]] entry: while it is active, matching events send no email and no
/// webhook (core::Silence).
struct NotifySilenceSettings {
    std::string id;                  ///< names the silence in plans and logs; required, unique
    core::Timestamp starts_at{};     ///< inclusive
    core::Timestamp ends_at{};       ///< exclusive; after starts_at
    std::string instance;            ///< empty: every instance
    std::vector<std::string> types;  ///< event type names; empty: every type
    bool mute_in_app = false;        ///< mute the in-app inbox too
    std::string comment;
    int line = 0;  ///< where the entry starts in the file (for messages); 0 when not from a file
};

struct NotifySettings {
    EmailSettings email;
    WebhookSettings webhook;
    AdminSettings admin;
    NotifyRetrySettings retry;
    NotifyDispatchSettings dispatch;
    NotifyReminderSettings reminders;
    /// [notify.routes]: event type name → route names ("email", "in_app", "admin_email",
    /// "webhook"); a type not listed keeps its default routes (docs/NOTIFY.md), `[]` sends it
    /// nowhere.
    std::map<std::string, std::vector<std::string>, std::less<>> routes;
    /// [[notify.silences]], in file order.
    std::vector<NotifySilenceSettings> silences;
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class LogFormat { kText, kJson };

struct LogSettings {
    LogLevel level = LogLevel::kInfo;
    LogFormat format = LogFormat::kText;
};

/// The whole configuration; a default-constructed Config holds every documented default.
/// A plain value: copy it, pass it by const reference; thread-safe to read.
struct Config {
    RailwaySettings railway;
    StoreSettings store;
    ServerSettings server;
    MonitorSettings monitor;
    RetrySettings retry;
    NotifySettings notify;
    LogSettings log;

    /// Every secret that is set (tokens, passwords, webhook secret, the store URL's password), for
    /// the log redactor. The views point into this Config.
    std::vector<std::string_view> Secrets() const;
};

// --- where values come from ------------------------------------------------------------------

/// Where a value came from, for `config check` and messages.
struct ValueSource {
    enum class Kind { kDefault, kFile, kEnv, kFlag };
    Kind kind = Kind::kDefault;
    std::string name;  ///< the file, the variable, or the flag
    int line = 0;      ///< kFile: 1-based line

    /// "default", "railwatch.toml:12", "env RAILWATCH_DB", "flag --db".
    std::string Describe() const;
};

/// What LoadConfig reads besides defaults.
struct ConfigSources {
    /// The config file named on the command line (`config check FILE`), beating `--config`.
    std::optional<std::string> file;
    /// Command-line values by flag name ("--config", "--db", "--listen", "--railway-url");
    /// flags not given are absent. ConfigFlagNames() lists the flags that exist.
    std::map<std::string, std::string, std::less<>> flags;
    /// The environment. Empty: none at all (tests); commands pass railway::ProcessEnvironment().
    railway::EnvLookup env;
};

/// One thing wrong with the configuration.
struct ConfigProblem {
    std::string key;      ///< dotted path ("railway.batch_size"); empty for a file that cannot be read or parsed
    std::string origin;   ///< "railwatch.toml:12:14", "env RAILWATCH_DB" or "flag --db"
    std::string message;  ///< what is wrong and what is allowed; never contains a secret
    int line = 0;         ///< file line, for ordering (0 outside files)
    int column = 0;
    bool from_flag = false;

    /// "railwatch.toml:12:14: railway.batch_size: 500 is out of range; allowed: 1..100".
    std::string ToString() const;
};

/// Every problem found, in file order (then environment, then flags).
struct ConfigErrors {
    std::vector<ConfigProblem> problems;

    /// One problem per line.
    std::string ToString() const;
    /// cli's usage code (64) when a flag was wrong, else kExitInvalidConfig.
    int ExitCode(int usage_code) const;
};

/// A resolved configuration and where each value came from.
struct LoadedConfig {
    Config config;
    /// The file read, if any, and what named it ("argument", "flag --config", "env RAILWATCH_CONFIG").
    std::optional<std::string> file;
    std::string file_named_by;
    /// Source of every key and secret, by dotted name.
    std::map<std::string, ValueSource, std::less<>> sources;
    /// Things that are valid but probably not meant (a public listen address without an API token).
    std::vector<std::string> warnings;

    const ValueSource& SourceOf(std::string_view key) const;
};

/// Resolves the configuration: defaults, then the file (`sources.file`, else flag --config, else
/// RAILWATCH_CONFIG; none is fine), then environment variables, then flags; then reads the
/// secrets from the variables the *_env keys name, then checks values that depend on each other.
/// Every problem is collected (a TOML syntax error ends the file's part: the parser stops
/// there). Thread-safe (reads only its arguments and the file).
tl::expected<LoadedConfig, ConfigErrors> LoadConfig(const ConfigSources& sources);

/// LoadConfig for a TOML document held in memory (`file_name` appears in messages) instead of a
/// file. For tests and tools.
tl::expected<LoadedConfig, ConfigErrors> LoadConfigText(std::string_view toml, std::string_view file_name,
                                                        ConfigSources sources = {});

// --- the key table ---------------------------------------------------------------------------

/// The value types a key can have.
enum class ValueKind { kBool, kInt, kDouble, kString, kStringList, kIntList };

/// A value as read from a file, a variable or a flag, before it is stored in Config.
using ConfigValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>, std::vector<std::int64_t>>;

/// One configuration key.
struct KeySpec {
    std::string_view name;  ///< dotted path: table, then key ("monitor.intervals.BUILDING")
    ValueKind kind = ValueKind::kString;
    std::string allowed;    ///< what values are accepted, for messages and docs ("1..100")
    std::string_view env;   ///< a variable that overrides the file, or empty
    std::string_view flag;  ///< a flag that overrides the variable, or empty
    std::string_view doc;   ///< one line: what the key means
    /// The value has a secret part that `config check` masks (a PostgreSQL password in a URL).
    bool masked = false;
    /// nullopt when `value` (of this kind) is acceptable, else why not (without the value).
    std::function<std::optional<std::string>(const ConfigValue&)> check;
    std::function<void(Config&, const ConfigValue&)> set;
    std::function<ConfigValue(const Config&)> get;
};

/// A secret: read only from the environment, never from the file.
struct SecretSpec {
    std::string_view name;       ///< dotted name shown by `config check` ("notify.email.password")
    std::string_view env_key;    ///< the key naming its variable ("notify.email.password_env"), or empty
    std::string_view variables;  ///< fixed variables when env_key is empty ("RAILWAY_TOKEN, RAILWAY_API_TOKEN")
    std::string_view doc;
    const Secret& (*get)(const Config&);
};

/// Every key, in the order `config check` and docs/CONFIG.md list them.
std::span<const KeySpec> ConfigKeys();
/// Every secret.
std::span<const SecretSpec> ConfigSecrets();
/// The key named `name`, or nullptr.
const KeySpec* FindKey(std::string_view name);
/// Every flag LoadConfig understands: "--config" and the keys' flags.
std::vector<std::string_view> ConfigFlagNames();

/// "bool", "integer", "float", "string", "list of strings".
std::string_view ToString(ValueKind kind);
/// `value` as TOML (strings quoted and escaped, lists in brackets).
std::string FormatValue(const ConfigValue& value);
/// The value of `key` in `config` as `config check` shows it (TOML, secret parts masked).
std::string DisplayValue(const KeySpec& key, const Config& config);

/// The effective configuration as `railwatch config check` prints it: TOML tables with each
/// value's source in a comment, then the secrets (masked) and the warnings.
std::string FormatEffectiveConfig(const LoadedConfig& loaded);

// --- values with a shape ---------------------------------------------------------------------

/// A listen address.
struct ListenAddress {
    std::string host;  ///< without brackets for IPv6
    int port = 0;      ///< 0: any free port
};

/// Parses HOST:PORT ("127.0.0.1:8080", "[::1]:0", "localhost:8080"). Errors (kInvalidArgument)
/// say what is allowed.
util::Result<ListenAddress> ParseListenAddress(std::string_view text);

/// spdlog's name of a level ("trace", "debug", "info", "warn", "error", "off").
std::string_view ToString(LogLevel level);
std::string_view ToString(LogFormat format);
std::string_view ToString(StartTls starttls);
std::string_view ToString(WebhookFormat format);

}  // namespace railwatch::app
