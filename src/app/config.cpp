#include "app/config.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <deque>
#include <set>
#include <sstream>
#include <system_error>

#include "core/notify_event.hpp"
#include "core/notify_plan.hpp"
#include "net/http_transport.hpp"
#include "store/text.hpp"
#include "util/metrics.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::app {
namespace {

using Check = std::function<std::optional<std::string>(const ConfigValue&)>;
using TextCheck = std::function<std::optional<std::string>(std::string_view)>;

constexpr std::string_view kConfigFlag = "--config";
constexpr std::string_view kConfigEnv = "RAILWATCH_CONFIG";
constexpr std::string_view kSilencesKey = "notify.silences";

// --- small text helpers ----------------------------------------------------------------------

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

std::string Quote(std::string_view s) {
    // A TOML basic string: the escapes TOML and JSON share.
    std::string out = "\"";
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\r':
                out += "\\r";
                break;
            default:
                if (u < 0x20 || u == 0x7F) {
                    out += fmt::format("\\u{:04X}", u);
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
    return out;
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t up = row[j];
            const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(b[j - 1]));
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

std::string_view SectionOf(std::string_view key) {
    const auto dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view{} : key.substr(0, dot);
}

std::string_view LeafOf(std::string_view key) {
    const auto dot = key.rfind('.');
    return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

bool HasHost(std::string_view url, std::string_view scheme) {
    if (!url.starts_with(scheme)) return false;
    const std::string_view rest = url.substr(scheme.size());
    return !rest.empty() && rest.front() != '/' && rest.front() != ':' && rest.find_first_of(" \t\n") == rest.npos;
}

// The host of scheme://[user@]host[:port][/...].
std::string_view UrlHost(std::string_view url) {
    auto start = url.find("://");
    if (start == url.npos) return {};
    std::string_view rest = url.substr(start + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != rest.npos) rest.remove_prefix(at + 1);
    if (rest.starts_with('[')) return rest.substr(1, rest.find(']') == rest.npos ? rest.npos : rest.find(']') - 1);
    return rest.substr(0, rest.rfind(':') == rest.npos ? rest.size() : rest.rfind(':'));
}

bool ValidEnvName(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
                        (i > 0 && std::isdigit(static_cast<unsigned char>(c)));
        if (!ok) return false;
    }
    return true;
}

bool ValidEmail(std::string_view email) {
    const auto at = email.find('@');
    return at != email.npos && at > 0 && at + 1 < email.size() && email.find('@', at + 1) == email.npos &&
           email.find_first_of(" \t\r\n<>,;\"") == email.npos;
}

bool IsBase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return false;
    std::size_t padding = 0;
    for (char c : text) {
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding > 0) return false;  // '=' only at the end
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
    }
    return padding <= 2;
}

// The password parts of a PostgreSQL URL (user:PASSWORD@ and password=…), as views into `url`.
std::vector<std::string_view> StoreUrlPasswords(std::string_view url) {
    std::vector<std::string_view> out;
    if (!url.starts_with("postgresql://") && !url.starts_with("postgres://")) return out;
    const auto scheme_end = url.find("://") + 3;
    const auto at = url.find('@', scheme_end);
    const auto slash = url.find('/', scheme_end);
    if (at != url.npos && (slash == url.npos || at < slash)) {
        const auto colon = url.find(':', scheme_end);
        if (colon != url.npos && colon < at && at > colon + 1) out.push_back(url.substr(colon + 1, at - colon - 1));
    }
    for (auto pw = url.find("password="); pw != url.npos; pw = url.find("password=", pw + 9)) {
        const auto end = url.find('&', pw);
        const auto value = url.substr(pw + 9, (end == url.npos ? url.size() : end) - pw - 9);
        if (!value.empty()) out.push_back(value);
    }
    return out;
}

// --- checks ---------------------------------------------------------------------------------

std::optional<std::string> CheckHttpUrl(std::string_view url) {
    auto valid = railway::ValidateApiUrl(url);
    if (valid) return std::nullopt;
    return valid.error().message;  // says why: not http(s), or plain http off this machine
}

std::optional<std::string> CheckStoreUrl(std::string_view url) {
    auto parsed = store::ParseStoreUrl(url);
    if (parsed) return std::nullopt;
    return parsed.error().message;  // ParseStoreUrl never echoes a password
}

std::optional<std::string> CheckListen(std::string_view text) {
    auto parsed = ParseListenAddress(text);
    if (parsed) return std::nullopt;
    return parsed.error().message;
}

std::optional<std::string> CheckEnvName(std::string_view name) {
    if (name.empty() || ValidEnvName(name)) return std::nullopt;
    return fmt::format("{} is not an environment variable name", Quote(name));
}

std::optional<std::string> CheckOptionalHttpUrl(std::string_view url) {
    if (url.empty() || HasHost(url, "http://") || HasHost(url, "https://")) return std::nullopt;
    return fmt::format("{} is not an http(s) URL", Quote(url));
}

std::optional<std::string> CheckSmtpUrl(std::string_view url) {
    if (url.empty() || HasHost(url, "smtp://") || HasHost(url, "smtps://")) return std::nullopt;
    return fmt::format("{} is not an smtp:// or smtps:// URL", Quote(url));
}

std::optional<std::string> CheckWorkerId(std::string_view id) {
    const bool printable = std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
    if (id.size() <= 200 && printable) return std::nullopt;
    return fmt::format("{} is not a worker id: use at most 200 printable characters without spaces", Quote(id));
}

std::optional<std::string> CheckEmail(std::string_view email) {
    if (ValidEmail(email)) return std::nullopt;
    return fmt::format("{} is not an email address", Quote(email));
}

std::optional<std::string> CheckEventType(std::string_view text) {
    if (core::ParseNotifyEventType(text)) return std::nullopt;
    return fmt::format("{} is not an event type", Quote(text));
}

std::optional<std::string> CheckRoute(std::string_view text) {
    if (core::ParseNotifyRoute(text)) return std::nullopt;
    return fmt::format("{} is not a route", Quote(text));
}

std::string EventTypesAllowed() {
    std::vector<std::string> names;
    names.reserve(core::kAllNotifyEventTypes.size());
    for (const core::NotifyEventType type : core::kAllNotifyEventTypes)
        names.emplace_back(core::ToString(type));
    return "event types: " + fmt::format("{}", fmt::join(names, ", "));
}

// --- key builders -----------------------------------------------------------------------------

// What a row may add to name, type and meaning: the variable and flag that override the file,
// and whether the value holds a secret part to mask.
struct Overrides {
    std::string_view env;
    std::string_view flag;
    bool masked = false;
};

std::string RangeText(long long min, long long max) {
    return fmt::format("{}..{}", min, max);
}

template <typename Field>
KeySpec IntKey(std::string_view name, Field field, long long min, long long max, std::string_view doc,
               Overrides overrides = {}) {
    KeySpec key;
    key.name = name;
    key.kind = ValueKind::kInt;
    key.allowed = RangeText(min, max);
    key.env = overrides.env;
    key.flag = overrides.flag;
    key.doc = doc;
    key.check = [min, max](const ConfigValue& value) -> std::optional<std::string> {
        const auto n = std::get<std::int64_t>(value);
        if (n < min || n > max) return fmt::format("{} is out of range", n);
        return std::nullopt;
    };
    key.set = [field](Config& config, const ConfigValue& value) {
        using T = std::remove_reference_t<decltype(field(config))>;
        field(config) = static_cast<T>(std::get<std::int64_t>(value));
    };
    key.get = [field](const Config& config) { return ConfigValue(static_cast<std::int64_t>(field(config))); };
    return key;
}

template <typename Field>
KeySpec DoubleKey(std::string_view name, Field field, double min, double max, std::string_view doc) {
    KeySpec key;
    key.name = name;
    key.kind = ValueKind::kDouble;
    key.allowed = fmt::format("{}..{}", util::FormatMetricValue(min), util::FormatMetricValue(max));
    key.doc = doc;
    key.check = [min, max](const ConfigValue& value) -> std::optional<std::string> {
        const double d = std::get<double>(value);
        if (!(d >= min && d <= max)) return fmt::format("{} is out of range", util::FormatMetricValue(d));
        return std::nullopt;
    };
    key.set = [field](Config& config, const ConfigValue& value) { field(config) = std::get<double>(value); };
    key.get = [field](const Config& config) { return ConfigValue(field(config)); };
    return key;
}

template <typename Field>
KeySpec StringKey(std::string_view name, Field field, std::string allowed, TextCheck check, std::string_view doc,
                  Overrides overrides = {}) {
    KeySpec key;
    key.name = name;
    key.kind = ValueKind::kString;
    key.allowed = std::move(allowed);
    key.env = overrides.env;
    key.flag = overrides.flag;
    key.masked = overrides.masked;
    key.doc = doc;
    key.check = [check = std::move(check)](const ConfigValue& value) -> std::optional<std::string> {
        return check ? check(std::get<std::string>(value)) : std::nullopt;
    };
    key.set = [field](Config& config, const ConfigValue& value) { field(config) = std::get<std::string>(value); };
    key.get = [field](const Config& config) { return ConfigValue(field(config)); };
    return key;
}

template <typename Enum, typename Field>
KeySpec EnumKey(std::string_view name, Field field, std::vector<std::pair<std::string_view, Enum>> choices,
                std::string_view doc) {
    KeySpec key;
    key.name = name;
    key.kind = ValueKind::kString;
    std::vector<std::string> quoted;
    quoted.reserve(choices.size());
    for (const auto& [text, value] : choices)
        quoted.push_back(Quote(text));
    key.allowed = fmt::format("one of {}", fmt::join(quoted, ", "));
    key.doc = doc;
    key.check = [choices](const ConfigValue& value) -> std::optional<std::string> {
        const auto& text = std::get<std::string>(value);
        for (const auto& choice : choices)
            if (choice.first == text) return std::nullopt;
        return fmt::format("{} is not allowed", Quote(text));
    };
    key.set = [field, choices](Config& config, const ConfigValue& value) {
        for (const auto& [text, e] : choices)
            if (text == std::get<std::string>(value)) field(config) = e;
    };
    key.get = [field, choices](const Config& config) {
        for (const auto& [text, e] : choices)
            if (e == field(config)) return ConfigValue(std::string(text));
        return ConfigValue(std::string());
    };
    return key;
}

template <typename Field>
KeySpec ListKey(std::string_view name, Field field, std::string allowed, const TextCheck& element_check,
                std::string_view doc) {
    KeySpec key;
    key.name = name;
    key.kind = ValueKind::kStringList;
    key.allowed = std::move(allowed);
    key.doc = doc;
    key.check = [element_check](const ConfigValue& value) -> std::optional<std::string> {
        const auto& items = std::get<std::vector<std::string>>(value);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (auto bad = element_check(items[i])) return fmt::format("item {}: {}", i + 1, *bad);
        }
        return std::nullopt;
    };
    key.set = [field](Config& config, const ConfigValue& value) {
        field(config) = std::get<std::vector<std::string>>(value);
    };
    key.get = [field](const Config& config) { return ConfigValue(field(config)); };
    return key;
}

template <typename Field>
KeySpec IntListKey(std::string_view name, Field field, long long min, long long max, std::size_t max_items,
                   std::string_view doc) {
    KeySpec key;
    key.name = name;
    key.kind = ValueKind::kIntList;
    key.allowed = fmt::format("up to {} integers, each {}", max_items, RangeText(min, max));
    key.doc = doc;
    key.check = [min, max, max_items](const ConfigValue& value) -> std::optional<std::string> {
        const auto& items = std::get<std::vector<std::int64_t>>(value);
        if (items.size() > max_items) return fmt::format("{} items are too many", items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (items[i] < min || items[i] > max) return fmt::format("item {}: {} is out of range", i + 1, items[i]);
        }
        return std::nullopt;
    };
    key.set = [field](Config& config, const ConfigValue& value) {
        field(config) = std::get<std::vector<std::int64_t>>(value);
    };
    key.get = [field](const Config& config) { return ConfigValue(field(config)); };
    return key;
}

// The names and docs of the [notify.routes] keys, one per event type; they live as long as the
// key table, which holds views of them.
struct RouteKeyText {
    core::NotifyEventType type;
    std::string name;
    std::string doc;
};

const std::deque<RouteKeyText>& RouteKeyTexts() {
    static const std::deque<RouteKeyText> texts = [] {
        std::deque<RouteKeyText> out;
        for (const core::NotifyEventType type : core::kAllNotifyEventTypes) {
            out.push_back({type, "notify.routes." + std::string(core::ToString(type)),
                           fmt::format("Where {} notices go; [] sends them nowhere", core::ToString(type))});
        }
        return out;
    }();
    return texts;
}

KeySpec RouteKey(const RouteKeyText& text) {
    KeySpec key;
    key.name = text.name;
    key.kind = ValueKind::kStringList;
    key.allowed = "routes: email, in_app, admin_email, webhook";
    key.doc = text.doc;
    key.check = [](const ConfigValue& value) -> std::optional<std::string> {
        const auto& items = std::get<std::vector<std::string>>(value);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (auto bad = CheckRoute(items[i])) return fmt::format("item {}: {}", i + 1, *bad);
        }
        return std::nullopt;
    };
    const std::string type(core::ToString(text.type));
    key.set = [type](Config& config, const ConfigValue& value) {
        config.notify.routes[type] = std::get<std::vector<std::string>>(value);
    };
    key.get = [type, event_type = text.type](const Config& config) {
        if (auto it = config.notify.routes.find(type); it != config.notify.routes.end()) return ConfigValue(it->second);
        std::vector<std::string> defaults;
        for (const core::NotifyRoute route : core::DefaultRoutes(event_type))
            defaults.emplace_back(core::ToString(route));
        return ConfigValue(std::move(defaults));
    };
    return key;
}

// A generic lambda selecting one field of a Config (const or not); keeps each table row on a line
// or two.
// `path` is a member path (a.b), not an expression: it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define RW_FIELD(path)     \
    [](auto& c) -> auto& { \
        return c.path;     \
    }
// NOLINTEND(bugprone-macro-parentheses)

std::vector<KeySpec> BuildKeys() {
    constexpr long long kDay = 86400;
    constexpr long long kWeek = 7 * kDay;
    const std::string url_allowed = "an https:// URL (http:// only to 127.0.0.1, ::1 or localhost)";
    const std::string env_allowed = "a variable name, or empty";
    std::vector<KeySpec> k;
    // [railway]
    k.push_back(StringKey("railway.api_url", RW_FIELD(railway.api_url), url_allowed, CheckHttpUrl,
                          "Railway's GraphQL endpoint (the simulator's, for trials)",
                          {.env = "RAILWAY_API_URL", .flag = "--railway-url"}));
    k.push_back(IntKey("railway.requests_per_hour", RW_FIELD(railway.requests_per_hour), 1, 1'000'000,
                       "Requests per hour the token's plan allows: 100 Free, 1000 Hobby, 10000 Pro; serve processes "
                       "sharing a store and the token divide it"));
    k.push_back(IntKey("railway.requests_per_second", RW_FIELD(railway.requests_per_second), 1, 1000,
                       "Requests per second the plan allows: 10 Hobby, 50 Pro; divided the same way"));
    k.push_back(IntKey("railway.batch_size", RW_FIELD(railway.batch_size), 1, static_cast<int>(railway::kMaxBatchSize),
                       "Deployments per status request (GraphQL aliases); fewer once Railway refuses, or fails "
                       "after retries, requests that size and answers their halves"));
    // [store]
    k.push_back(StringKey("store.url", RW_FIELD(store.url), "sqlite:PATH or postgresql://USER@HOST:PORT/DB",
                          CheckStoreUrl, "The database; a password in it is masked in every output",
                          {.env = "RAILWATCH_DB", .flag = "--db", .masked = true}));
    // [server]
    k.push_back(StringKey("server.listen", RW_FIELD(server.listen), "HOST:PORT (port 0: any free port)", CheckListen,
                          "Address of the REST API and dashboard", {.env = "RAILWATCH_LISTEN", .flag = "--listen"}));
    k.push_back(StringKey("server.api_token_env", RW_FIELD(server.api_token_env), env_allowed, CheckEnvName,
                          "Variable holding the bearer token /api/* requires"));
    k.push_back(StringKey("server.hook_secret_env", RW_FIELD(server.hook_secret_env), env_allowed, CheckEnvName,
                          "Variable holding the shared secret POST /api/v1/hooks/railway requires"));
    k.push_back(IntKey("server.max_streams", RW_FIELD(server.max_streams), 1, 10'000,
                       "Event streams (GET /api/v1/stream) open at once; more get 503. Each holds a thread"));
    k.push_back(IntKey("server.http_workers", RW_FIELD(server.http_workers), 1, 1'000,
                       "HTTP threads for everything but event streams; the server keeps max_streams + http_workers and "
                       "starts more while connections wait (up to 4x as many, at least 64)"));
    // [monitor]
    k.push_back(IntKey("monitor.max_logs", RW_FIELD(monitor.max_logs), 1, 100'000,
                       "Log lines kept per instance, newest first"));
    k.push_back(IntKey("monitor.stuck_after_seconds", RW_FIELD(monitor.stuck_after_seconds), 1, kWeek,
                       "Seconds without a sign of life (a status change, Railway's `updatedAt`, a log line) in a "
                       "phase that is in progress (INITIALIZING, BUILDING, DEPLOYING, QUEUED, WAITING; not "
                       "NEEDS_APPROVAL) after which an instance needs attention: the engine flags it, "
                       "`GET /api/v1/attention` lists it as `stuck`"));
    k.push_back(IntKey("monitor.timeout_after_seconds", RW_FIELD(monitor.timeout_after_seconds), 1, kWeek,
                       "Seconds after which a deployment that has not finished counts as timed out"));
    k.push_back(StringKey("monitor.worker_id", RW_FIELD(monitor.worker_id),
                          "empty, or at most 200 printable characters without spaces", CheckWorkerId,
                          "This process's name in the schedule's leases; empty: host name and server.listen. Keep "
                          "it across restarts, unique among processes sharing a store"));
    k.push_back(IntKey("monitor.lease_seconds", RW_FIELD(monitor.lease_seconds), 10, kDay,
                       "How long a claimed instance stays this process's without a heartbeat (every third of it): "
                       "a process that dies leaves its claims to the others after this long. Longer than a status "
                       "request with its retries"));
    k.push_back(IntKey("monitor.discovery_interval_seconds", RW_FIELD(monitor.discovery_interval_seconds), 0, kDay,
                       "Seconds between reads of what is new in an environment (a list of the deployments created "
                       "since the last read, usually one request), so a new deployment of a watched service is "
                       "followed; 0: only when the followed one is removed or skipped"));
    k.push_back(IntKey("monitor.discovery_whole_read_seconds", RW_FIELD(monitor.discovery_whole_read_seconds), 0, kDay,
                       "Seconds between whole reads of an environment (every service's latest deployment and probe "
                       "target, a request per 500 services); the reads between list only the deployments created "
                       "since the last one (usually one request); 0: every read is whole"));
    k.push_back(EnumKey<bool>("monitor.claim_mode", RW_FIELD(monitor.keep_claims),
                              {{"per_check", false}, {"kept", true}},
                              "\"kept\": claims are kept from check to check, due times in memory (no row written "
                              "for a check that changes nothing); \"per_check\": each check claims and releases its "
                              "row"));
    k.push_back(IntKey("monitor.poll_threads", RW_FIELD(monitor.poll_threads), 1, 64,
                       "Threads sending status requests, one poll each (docs/ENGINE.md): a slow or retried poll "
                       "holds only its own thread"));
    k.push_back(IntKey("monitor.requests_per_poll", RW_FIELD(monitor.requests_per_poll), 1, 16,
                       "Status requests one poll sends at once while Railway answers well, their answers judged and "
                       "written together; one per poll for 60 s after a poll with an error or slower than 3 s"));
    // [monitor.intervals]
    k.push_back(IntKey("monitor.intervals.INITIALIZING", RW_FIELD(monitor.intervals.initializing_s), 1, kDay,
                       "Longest wait between checks of an INITIALIZING deployment, in seconds"));
    k.push_back(IntKey("monitor.intervals.BUILDING", RW_FIELD(monitor.intervals.building_s), 1, kDay,
                       "Longest wait between checks of a BUILDING deployment, in seconds"));
    k.push_back(IntKey("monitor.intervals.DEPLOYING", RW_FIELD(monitor.intervals.deploying_s), 1, kDay,
                       "Longest wait between checks of a DEPLOYING deployment, in seconds"));
    k.push_back(IntKey("monitor.intervals.SUCCESS", RW_FIELD(monitor.intervals.success_s), 1, kDay,
                       "Longest wait between checks of a SUCCESS deployment, in seconds"));
    k.push_back(IntKey("monitor.intervals.FAILED", RW_FIELD(monitor.intervals.failed_s), 1, kDay,
                       "Longest wait between checks of a FAILED deployment, in seconds"));
    k.push_back(IntKey("monitor.intervals.CRASHED", RW_FIELD(monitor.intervals.crashed_s), 1, kDay,
                       "Longest wait between checks of a CRASHED deployment, in seconds"));
    k.push_back(IntKey("monitor.intervals.default", RW_FIELD(monitor.intervals.default_s), 1, kDay,
                       "Longest wait between checks in every other status, in seconds"));
    // [monitor.health]
    k.push_back(IntKey("monitor.health.interval_seconds", RW_FIELD(monitor.health.interval_seconds), 0, kDay,
                       "Seconds between HTTP probes of a running service's domain and healthcheck path; 0: no probes"));
    k.push_back(IntKey("monitor.health.timeout_seconds", RW_FIELD(monitor.health.timeout_seconds), 1, 300,
                       "Seconds a probe may take before it counts as failed"));
    k.push_back(IntKey("monitor.health.failure_threshold", RW_FIELD(monitor.health.failure_threshold), 1, 100,
                       "Failed probes in a row that make a service UNHEALTHY"));
    k.push_back(IntKey("monitor.health.success_threshold", RW_FIELD(monitor.health.success_threshold), 1, 100,
                       "Passing probes in a row that make an UNHEALTHY service healthy again"));
    k.push_back(IntKey("monitor.health.slow_ms", RW_FIELD(monitor.health.slow_ms), 1, 600'000,
                       "A passing probe slower than this many milliseconds makes the service DEGRADED"));
    k.push_back(IntKey("monitor.health.keep_days", RW_FIELD(monitor.health.keep_days), 1, 3650,
                       "Days probe results are kept (each ~85 bytes on SQLite: a service probed once a minute "
                       "takes ~120 KiB a day, ~0.8 MiB for 7 days; docs/PERFORMANCE.md)"));
    k.push_back(IntKey("monitor.health.max_connections", RW_FIELD(monitor.health.max_connections), 1, 10'000,
                       "Probes in flight at once, and the connections open for them; more probes wait their turn. "
                       "Each connection is a file descriptor: keep it well under the open-file limit (ulimit -n)"));
    k.push_back(IntKey("monitor.health.max_connections_per_host", RW_FIELD(monitor.health.max_connections_per_host), 1,
                       1'000, "Connections open at once to one scheme://host:port"));
    // [retry]
    k.push_back(IntKey("retry.max_attempts", RW_FIELD(retry.max_attempts), 1, 100,
                       "Attempts per Railway request, the first one included"));
    k.push_back(IntKey("retry.base_delay_ms", RW_FIELD(retry.base_delay_ms), 1, 3'600'000,
                       "Ceiling of the first retry's random delay, in milliseconds (full jitter)"));
    k.push_back(IntKey("retry.max_delay_ms", RW_FIELD(retry.max_delay_ms), 1, 3'600'000,
                       "Largest delay ceiling, in milliseconds; at least base_delay_ms"));
    k.push_back(DoubleKey("retry.factor", RW_FIELD(retry.factor), 1, 10, "Growth of the delay ceiling per attempt"));
    // [notify.email]
    k.push_back(StringKey("notify.email.smtp_url", RW_FIELD(notify.email.smtp_url),
                          "empty, smtps://HOST[:PORT] or smtp://HOST[:PORT]", CheckSmtpUrl,
                          "SMTP server: smtps:// is implicit TLS, smtp:// uses STARTTLS; empty: no email"));
    k.push_back(StringKey("notify.email.from", RW_FIELD(notify.email.from), "an email address", CheckEmail,
                          "Sender address of notification emails"));
    k.push_back(EnumKey<StartTls>("notify.email.starttls", RW_FIELD(notify.email.starttls),
                                  {{"required", StartTls::kRequired}, {"off", StartTls::kOff}},
                                  "smtp:// only: \"off\" sends in clear text, allowed for loopback relays only"));
    k.push_back(StringKey("notify.email.username", RW_FIELD(notify.email.username), "any text", nullptr,
                          "SMTP login; empty: no login"));
    k.push_back(StringKey("notify.email.password_env", RW_FIELD(notify.email.password_env), env_allowed, CheckEnvName,
                          "Variable holding the SMTP password"));
    k.push_back(StringKey("notify.email.ca_file", RW_FIELD(notify.email.ca_file), "a file path, or empty", nullptr,
                          "PEM bundle to verify the SMTP server with; empty: the system store"));
    k.push_back(IntKey("notify.email.timeout_seconds", RW_FIELD(notify.email.timeout_seconds), 1, 3600,
                       "Longest SMTP conversation (one message), in seconds"));
    // [notify.webhook]
    k.push_back(StringKey("notify.webhook.url", RW_FIELD(notify.webhook.url), "empty or an http(s) URL",
                          CheckOptionalHttpUrl, "Where webhook notifications are POSTed; empty: no webhook"));
    k.push_back(StringKey("notify.webhook.secret_env", RW_FIELD(notify.webhook.secret_env), env_allowed, CheckEnvName,
                          "Variable holding the Standard Webhooks signing secret"));
    k.push_back(EnumKey<WebhookFormat>("notify.webhook.format", RW_FIELD(notify.webhook.format),
                                       {{"standard", WebhookFormat::kStandard},
                                        {"slack", WebhookFormat::kSlack},
                                        {"discord", WebhookFormat::kDiscord}},
                                       "Body: signed Standard Webhooks JSON, a Slack message or a Discord message"));
    k.push_back(IntKey("notify.webhook.timeout_seconds", RW_FIELD(notify.webhook.timeout_seconds), 1, 3600,
                       "Longest webhook request, connection included, in seconds"));
    // [notify.admin]
    k.push_back(ListKey("notify.admin.emails", RW_FIELD(notify.admin.emails), "email addresses", CheckEmail,
                        "Who is told about instances without a user and about railwatch itself"));
    // [notify.retry], [notify.dispatch], [notify.reminders]
    k.push_back(IntListKey("notify.retry.schedule_seconds", RW_FIELD(notify.retry.schedule_seconds), 1, kDay, 100,
                           "Seconds between delivery attempts, the last repeating; []: Standard Webhooks' "
                           "5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h"));
    k.push_back(IntKey("notify.retry.max_attempts", RW_FIELD(notify.retry.max_attempts), 0, 100,
                       "Delivery attempts per notification, the first included; 0: Standard Webhooks' ten"));
    k.push_back(DoubleKey("notify.retry.jitter", RW_FIELD(notify.retry.jitter), 0, 1,
                          "Spread of each retry delay, as a fraction of it (0.2: ±20 %)"));
    k.push_back(IntKey("notify.dispatch.concurrency", RW_FIELD(notify.dispatch.concurrency), 1, 256,
                       "Notifications delivered at once"));
    k.push_back(IntKey("notify.dispatch.poll_interval_seconds", RW_FIELD(notify.dispatch.poll_interval_seconds), 1,
                       3600, "Longest wait before looking for notifications written by other processes"));
    k.push_back(IntKey("notify.dispatch.lease_seconds", RW_FIELD(notify.dispatch.lease_seconds), 0, 86400,
                       "How long notifications claimed by a process that died wait for another; 0: 4 × the "
                       "slowest channel's timeout + 60 s"));
    k.push_back(IntKey("notify.reminders.repeat_every_seconds", RW_FIELD(notify.reminders.repeat_every_seconds), 0,
                       kWeek, "Remind about an unresolved problem this often; 0: no reminders"));
    k.push_back(IntKey("notify.reminders.max_reminders", RW_FIELD(notify.reminders.max_reminders), 0, 100,
                       "Most reminders per problem"));
    k.push_back(ListKey("notify.reminders.types", RW_FIELD(notify.reminders.types), EventTypesAllowed(), CheckEventType,
                        "Event types that get reminders; []: every problem type"));
    // [notify.routes]
    for (const RouteKeyText& text : RouteKeyTexts())
        k.push_back(RouteKey(text));
    // [log]
    k.push_back(EnumKey<LogLevel>("log.level", RW_FIELD(log.level),
                                  {{"trace", LogLevel::kTrace},
                                   {"debug", LogLevel::kDebug},
                                   {"info", LogLevel::kInfo},
                                   {"warn", LogLevel::kWarn},
                                   {"error", LogLevel::kError},
                                   {"off", LogLevel::kOff}},
                                  "Least severe level written"));
    k.push_back(EnumKey<LogFormat>("log.format", RW_FIELD(log.format),
                                   {{"text", LogFormat::kText}, {"json", LogFormat::kJson}},
                                   "Log lines on stderr: text, or one JSON object per line"));
    return k;
}

#undef RW_FIELD

const std::vector<KeySpec>& KeyTable() {
    static const std::vector<KeySpec> keys = BuildKeys();
    return keys;
}

const std::vector<SecretSpec>& SecretTable() {
    static const std::vector<SecretSpec> secrets = {
        {"railway.token", "", "RAILWAY_TOKEN, else RAILWAY_API_TOKEN",
         "Railway token: a project token (Project-Access-Token) wins over an account/workspace token (Bearer)",
         [](const Config& c) -> const Secret& { return c.railway.token; }},
        {"server.api_token", "server.api_token_env", "", "Bearer token /api/* requires",
         [](const Config& c) -> const Secret& { return c.server.api_token; }},
        {"server.hook_secret", "server.hook_secret_env", "",
         "Shared secret the Railway webhook receiver requires in X-Webhook-Secret; not set: none",
         [](const Config& c) -> const Secret& { return c.server.hook_secret; }},
        {"notify.email.password", "notify.email.password_env", "", "SMTP password",
         [](const Config& c) -> const Secret& { return c.notify.email.password; }},
        {"notify.webhook.secret", "notify.webhook.secret_env", "",
         "Standard Webhooks signing secret: \"whsec_\" followed by base64; two, space-separated, during a rotation",
         [](const Config& c) -> const Secret& { return c.notify.webhook.secret; }},
    };
    return secrets;
}

// Every table name a key lives in, with its parents ("notify.email" and "notify").
const std::set<std::string, std::less<>>& Sections() {
    static const std::set<std::string, std::less<>> sections = [] {
        std::set<std::string, std::less<>> out;
        for (const auto& key : KeyTable()) {
            for (std::string_view s = SectionOf(key.name); !s.empty(); s = SectionOf(s))
                out.emplace(s);
        }
        return out;
    }();
    return sections;
}

// --- reading values -----------------------------------------------------------------------------

std::string_view TomlTypeName(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date/time";
        default:
            return "nothing";
    }
}

std::string_view Expected(ValueKind kind) {
    switch (kind) {
        case ValueKind::kBool:
            return "true or false";
        case ValueKind::kInt:
            return "an integer";
        case ValueKind::kDouble:
            return "a number";
        case ValueKind::kString:
            return "a string";
        case ValueKind::kStringList:
            return "an array of strings";
        case ValueKind::kIntList:
            return "an array of integers";
    }
    return "a value";
}

// A value from text (environment variables and flags); nullopt when it does not parse.
std::optional<ConfigValue> FromText(ValueKind kind, std::string_view text) {
    switch (kind) {
        case ValueKind::kString:
            return ConfigValue(std::string(text));
        case ValueKind::kBool: {
            if (text == "true" || text == "1" || text == "yes") return ConfigValue(true);
            if (text == "false" || text == "0" || text == "no") return ConfigValue(false);
            return std::nullopt;
        }
        case ValueKind::kInt: {
            const std::string_view t = Trim(text);
            std::int64_t n = 0;
            const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
            if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) return std::nullopt;
            return ConfigValue(n);
        }
        case ValueKind::kDouble: {
            const std::string_view t = Trim(text);
            double d = 0;
            const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
            if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(d)) {
                return std::nullopt;
            }
            return ConfigValue(d);
        }
        case ValueKind::kStringList: {
            std::vector<std::string> items;
            std::size_t start = 0;
            while (start <= text.size()) {
                const auto comma = text.find(',', start);
                const auto item = Trim(text.substr(start, comma == text.npos ? text.npos : comma - start));
                if (!item.empty()) items.emplace_back(item);
                if (comma == text.npos) break;
                start = comma + 1;
            }
            return ConfigValue(std::move(items));
        }
        case ValueKind::kIntList: {
            std::vector<std::int64_t> items;
            std::size_t start = 0;
            while (start <= text.size()) {
                const auto comma = text.find(',', start);
                const auto item = Trim(text.substr(start, comma == text.npos ? text.npos : comma - start));
                if (!item.empty()) {
                    std::int64_t n = 0;
                    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), n);
                    if (ec != std::errc() || ptr != item.data() + item.size()) return std::nullopt;
                    items.push_back(n);
                }
                if (comma == text.npos) break;
                start = comma + 1;
            }
            return ConfigValue(std::move(items));
        }
    }
    return std::nullopt;
}

struct Position {
    int line = 0;
    int column = 0;
};

Position PositionOf(const toml::source_region& region) {
    return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}

class Loader {
  public:
    explicit Loader(const ConfigSources& sources) : sources_(sources) {}

    tl::expected<LoadedConfig, ConfigErrors> Run(std::optional<std::string_view> text) {
        ChooseFile();
        if (text) {
            ApplyDocument(*text, *loaded_.file);
        } else if (loaded_.file) {
            if (auto content = ReadFile(*loaded_.file)) ApplyDocument(*content, *loaded_.file);
        }
        // File problems in line order; environment and flag problems after them, in table order.
        std::stable_sort(problems_.begin(), problems_.end(), [](const ConfigProblem& a, const ConfigProblem& b) {
            return std::pair(a.line, a.column) < std::pair(b.line, b.column);
        });
        ApplyOverrides(/*flags=*/false);
        ApplyOverrides(/*flags=*/true);
        ResolveSecrets();
        CheckTogether();
        if (!problems_.empty()) return tl::unexpected(ConfigErrors{std::move(problems_)});
        return std::move(loaded_);
    }

  private:
    std::optional<std::string> Env(std::string_view name) const {
        if (!sources_.env) return std::nullopt;
        auto value = sources_.env(name);
        if (!value || value->empty()) return std::nullopt;
        return value;
    }

    void ChooseFile() {
        if (sources_.file) {
            loaded_.file = *sources_.file;
            loaded_.file_named_by = "argument";
        } else if (auto flag = sources_.flags.find(kConfigFlag);
                   flag != sources_.flags.end() && !flag->second.empty()) {
            loaded_.file = flag->second;
            loaded_.file_named_by = "flag --config";
        } else if (auto env = Env(kConfigEnv)) {
            loaded_.file = *env;
            loaded_.file_named_by = "env RAILWATCH_CONFIG";
        }
    }

    std::optional<std::string> ReadFile(const std::string& path) {
        std::FILE* file = std::fopen(path.c_str(), "rb");
        if (file == nullptr) {
            const int error = errno;
            AddProblem({"", path,
                        fmt::format("cannot read the config file ({}, named by {}); check the path",
                                    std::error_code(error, std::generic_category()).message(), loaded_.file_named_by)});
            return std::nullopt;
        }
        std::string content;
        char buffer[8192];
        std::size_t n = 0;
        while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0)
            content.append(buffer, n);
        const bool failed = std::ferror(file) != 0;
        const int error = errno;
        std::fclose(file);
        if (failed) {
            AddProblem({"", path,
                        fmt::format("cannot read the config file ({}); check the path",
                                    std::error_code(error, std::generic_category()).message())});
            return std::nullopt;
        }
        return content;
    }

    void AddProblem(ConfigProblem problem) { problems_.push_back(std::move(problem)); }

    void AddFileProblem(std::string key, Position at, std::string message) {
        ConfigProblem problem;
        problem.key = std::move(key);
        problem.origin = fmt::format("{}:{}:{}", file_name_, at.line, at.column);
        problem.message = std::move(message);
        problem.line = at.line;
        problem.column = at.column;
        AddProblem(std::move(problem));
    }

    void ApplyDocument(std::string_view text, std::string_view file_name) {
        file_name_ = std::string(file_name);
        toml::table root;
        try {
            root = toml::parse(text, file_name);
        } catch (const toml::parse_error& e) {
            AddFileProblem(
                "", PositionOf(e.source()),
                fmt::format("TOML syntax error: {} (nothing after it was read; see https://toml.io)", e.description()));
            return;
        }
        Walk(root, "");
    }

    void Walk(const toml::table& table, const std::string& prefix) {
        for (const auto& [k, node] : table) {
            const std::string path = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
            const Position key_at = PositionOf(k.source());
            const KeySpec* spec = FindKey(path);
            if (path == kSilencesKey) {
                ApplySilences(node, key_at);
                continue;
            }
            if (node.is_table()) {
                if (Sections().contains(path)) {
                    Walk(*node.as_table(), path);
                } else if (spec != nullptr) {
                    AddFileProblem(
                        path, key_at,
                        fmt::format("expected {}, got a table; allowed: {}", Expected(spec->kind), spec->allowed));
                } else {
                    AddFileProblem(path, key_at, UnknownTable(path));
                }
                continue;
            }
            if (spec == nullptr) {
                if (Sections().contains(path)) {
                    AddFileProblem(
                        path, key_at,
                        fmt::format("[{}] is a table, not a value; put its keys under a [{}] header", path, path));
                } else {
                    AddFileProblem(path, key_at, UnknownKey(path));
                }
                continue;
            }
            ApplyNode(*spec, node);
        }
    }

    // [[notify.silences]]: an array of tables, which the flat key table does not express.
    void ApplySilences(const toml::node& node, Position key_at) {
        const toml::array* array = node.as_array();
        if (array == nullptr || !array->is_array_of_tables()) {
            AddFileProblem(std::string(kSilencesKey), key_at,
                           fmt::format("expected an array of tables, got {}; write each silence under its own "
                                       "[[notify.silences]] header (two brackets)",
                                       TomlTypeName(node)));
            return;
        }
        std::vector<NotifySilenceSettings> silences;
        std::set<std::string, std::less<>> ids;
        bool ok = true;
        std::size_t index = 0;
        for (const toml::node& item : *array) {
            ++index;
            auto silence = ReadSilence(*item.as_table(), index);
            if (!silence) {
                ok = false;
                continue;
            }
            if (!ids.insert(silence->id).second) {
                AddFileProblem(
                    fmt::format("{}[{}].id", kSilencesKey, index), PositionOf(item.source()),
                    fmt::format("{} names another silence too; give each silence its own id", Quote(silence->id)));
                ok = false;
                continue;
            }
            silences.push_back(std::move(*silence));
        }
        if (!ok) return;
        loaded_.config.notify.silences = std::move(silences);
        loaded_.sources[std::string(kSilencesKey)] = ValueSource{ValueSource::Kind::kFile, file_name_, key_at.line};
    }

    // One silence; nullopt (with the problems recorded) when a value is wrong.
    std::optional<NotifySilenceSettings> ReadSilence(const toml::table& table, std::size_t index) {
        NotifySilenceSettings out;
        out.line = PositionOf(table.source()).line;
        bool ok = true;
        const auto problem = [&](std::string_view leaf, const toml::source_region& at, std::string message) {
            AddFileProblem(fmt::format("{}[{}].{}", kSilencesKey, index, leaf), PositionOf(at), std::move(message));
            ok = false;
        };
        const auto read_time = [&](std::string_view leaf, const toml::node& value) -> std::optional<core::Timestamp> {
            std::string text;
            if (auto s = value.value_exact<std::string>()) {
                text = *s;
            } else if (const auto* dt = value.as_date_time(); dt != nullptr && dt->get().offset) {
                std::ostringstream printed;
                printed << dt->get();
                text = printed.str();
            } else {
                problem(leaf, value.source(),
                        fmt::format("expected an RFC 3339 time with its offset (\"2026-01-01T00:00:00Z\"), got {}",
                                    value.is_date_time() ? "a date/time without an offset" : TomlTypeName(value)));
                return std::nullopt;
            }
            auto parsed = util::ParseRfc3339(text);
            if (!parsed) {
                problem(leaf, value.source(),
                        fmt::format("{} is not an RFC 3339 time; write it like \"2026-01-01T00:00:00Z\"", Quote(text)));
                return std::nullopt;
            }
            return *parsed;
        };
        const auto read_string = [&](std::string_view leaf, const toml::node& value) -> std::optional<std::string> {
            if (auto s = value.value_exact<std::string>()) return *s;
            problem(leaf, value.source(), fmt::format("expected a string, got {}", TomlTypeName(value)));
            return std::nullopt;
        };
        bool has_start = false;
        bool has_end = false;
        for (const auto& [k, value] : table) {
            const std::string_view leaf = k.str();
            if (leaf == "id") {
                if (auto id = read_string(leaf, value)) {
                    if (id->empty()) {
                        problem(leaf, value.source(), "an empty id; name the silence");
                    } else {
                        out.id = *id;
                    }
                }
            } else if (leaf == "starts_at") {
                if (auto t = read_time(leaf, value)) out.starts_at = *t;
                has_start = true;
            } else if (leaf == "ends_at") {
                if (auto t = read_time(leaf, value)) out.ends_at = *t;
                has_end = true;
            } else if (leaf == "instance") {
                if (auto instance = read_string(leaf, value)) out.instance = *instance;
            } else if (leaf == "comment") {
                if (auto comment = read_string(leaf, value)) out.comment = *comment;
            } else if (leaf == "mute_in_app") {
                if (auto b = value.value_exact<bool>()) {
                    out.mute_in_app = *b;
                } else {
                    problem(leaf, value.source(), fmt::format("expected true or false, got {}", TomlTypeName(value)));
                }
            } else if (leaf == "types") {
                const toml::array* types = value.as_array();
                if (types == nullptr) {
                    problem(leaf, value.source(),
                            fmt::format("expected an array of strings, got {}; allowed: {}", TomlTypeName(value),
                                        EventTypesAllowed()));
                    continue;
                }
                for (const toml::node& type : *types) {
                    auto name = type.value_exact<std::string>();
                    if (!name || CheckEventType(*name)) {
                        problem(
                            leaf, type.source(),
                            fmt::format("{} is not an event type; allowed: {}",
                                        name ? Quote(*name) : std::string(TomlTypeName(type)), EventTypesAllowed()));
                        continue;
                    }
                    out.types.push_back(*name);
                }
            } else {
                problem(leaf, k.source(),
                        "unknown key; keys of [[notify.silences]]: id, starts_at, ends_at, instance, types, "
                        "mute_in_app, comment");
            }
        }
        const toml::source_region& at = table.source();
        if (out.id.empty() && !table.contains("id")) problem("id", at, "missing; name the silence (id = \"...\")");
        if (!has_start) problem("starts_at", at, "missing; when the silence begins (RFC 3339)");
        if (!has_end) problem("ends_at", at, "missing; when the silence ends (RFC 3339)");
        if (ok && out.ends_at <= out.starts_at) {
            problem("ends_at", table.get("ends_at")->source(), "must be later than starts_at");
        }
        if (!ok) return std::nullopt;
        return out;
    }

    std::string UnknownTable(const std::string& path) const {
        std::vector<std::string> names;
        for (const auto& section : Sections())
            names.push_back("[" + section + "]");
        return fmt::format("unknown table [{}]; tables: {}", path, fmt::join(names, ", "));
    }

    std::string UnknownKey(const std::string& path) const {
        for (const auto& secret : ConfigSecrets()) {
            if (path == secret.name) {
                return fmt::format(
                    "unknown key: secrets are not read from the config file; put it in the "
                    "environment ({})",
                    secret.env_key.empty() ? std::string(secret.variables)
                                           : "the variable " + std::string(secret.env_key) + " names");
            }
        }
        // The right key in the wrong table ("batch_size" at the top level).
        for (const auto& key : KeyTable()) {
            if (LeafOf(key.name) == LeafOf(path)) {
                return fmt::format("unknown key; did you mean {} (under [{}])?", key.name, SectionOf(key.name));
            }
        }
        // The nearest known key, if it is near enough to be a typo.
        const KeySpec* best = nullptr;
        std::size_t best_distance = 0;
        for (const auto& key : KeyTable()) {
            const std::size_t d = EditDistance(path, key.name);
            if (best == nullptr || d < best_distance) {
                best = &key;
                best_distance = d;
            }
        }
        if (best != nullptr && best_distance <= std::max<std::size_t>(2, LeafOf(path).size() / 3)) {
            return fmt::format("unknown key; did you mean {}?", best->name);
        }
        const std::string_view section = SectionOf(path);
        std::vector<std::string_view> siblings;
        for (const auto& key : KeyTable())
            if (SectionOf(key.name) == section) siblings.push_back(LeafOf(key.name));
        if (siblings.empty()) return "unknown key; see docs/CONFIG.md for the keys";
        return fmt::format("unknown key; keys of {}: {}",
                           section.empty() ? "the top level" : "[" + std::string(section) + "]",
                           fmt::join(siblings, ", "));
    }

    // The array at `node` as items of type T, or nullopt: not an array (the caller reports the
    // type), or items of another type (each reported through `wrong_type`, and `reported` set).
    template <typename T, typename WrongType>
    static std::optional<ConfigValue> ListOf(const toml::node& node, const WrongType& wrong_type, bool& reported) {
        const toml::array* array = node.as_array();
        if (array == nullptr) return std::nullopt;
        std::vector<T> items;
        bool ok = true;
        for (const auto& item : *array) {
            if (auto v = item.value_exact<T>()) {
                items.push_back(*v);
            } else {
                wrong_type(item);
                ok = false;
            }
        }
        reported = !ok;
        if (!ok) return std::nullopt;
        return ConfigValue(std::move(items));
    }

    void ApplyNode(const KeySpec& spec, const toml::node& node) {
        const Position at = PositionOf(node.source());
        const auto wrong_type = [&](const toml::node& n) {
            AddFileProblem(
                std::string(spec.name), PositionOf(n.source()),
                fmt::format("expected {}, got {}; allowed: {}", Expected(spec.kind), TomlTypeName(n), spec.allowed));
        };
        std::optional<ConfigValue> value;
        bool reported = false;  // a list's items were reported one by one
        switch (spec.kind) {
            case ValueKind::kBool:
                if (auto b = node.value_exact<bool>()) value = *b;
                break;
            case ValueKind::kInt:
                if (auto n = node.value_exact<std::int64_t>()) value = *n;
                break;
            case ValueKind::kDouble:
                if (node.is_integer()) {
                    value = static_cast<double>(*node.value_exact<std::int64_t>());
                } else if (auto d = node.value_exact<double>()) {
                    value = *d;
                }
                break;
            case ValueKind::kString:
                if (auto s = node.value_exact<std::string>()) value = *s;
                break;
            case ValueKind::kStringList:
                value = ListOf<std::string>(node, wrong_type, reported);
                break;
            case ValueKind::kIntList:
                value = ListOf<std::int64_t>(node, wrong_type, reported);
                break;
        }
        if (reported) return;
        if (!value) {
            wrong_type(node);
            return;
        }
        if (auto bad = spec.check(*value)) {
            AddFileProblem(std::string(spec.name), at, fmt::format("{}; allowed: {}", *bad, spec.allowed));
            return;
        }
        spec.set(loaded_.config, *value);
        loaded_.sources[std::string(spec.name)] = ValueSource{ValueSource::Kind::kFile, file_name_, at.line};
    }

    void ApplyOverrides(bool flags) {
        for (const auto& spec : KeyTable()) {
            const std::string_view name = flags ? spec.flag : spec.env;
            if (name.empty()) continue;
            std::optional<std::string> text;
            if (flags) {
                if (auto it = sources_.flags.find(name); it != sources_.flags.end()) text = it->second;
            } else {
                text = Env(name);
            }
            if (!text) continue;
            ConfigProblem problem;
            problem.key = std::string(spec.name);
            problem.origin = fmt::format("{} {}", flags ? "flag" : "env", name);
            problem.from_flag = flags;
            auto value = FromText(spec.kind, *text);
            if (!value) {
                problem.message = fmt::format("expected {}; allowed: {}", Expected(spec.kind), spec.allowed);
                AddProblem(std::move(problem));
                continue;
            }
            if (auto bad = spec.check(*value)) {
                problem.message = fmt::format("{}; allowed: {}", *bad, spec.allowed);
                AddProblem(std::move(problem));
                continue;
            }
            spec.set(loaded_.config, *value);
            loaded_.sources[std::string(spec.name)] =
                ValueSource{flags ? ValueSource::Kind::kFlag : ValueSource::Kind::kEnv, std::string(name), 0};
        }
    }

    void ResolveSecrets() {
        Config& c = loaded_.config;
        auto& railway_source = loaded_.sources["railway.token"];
        if (auto project = Env("RAILWAY_TOKEN")) {
            c.railway.token = Secret(*project);
            c.railway.token_kind = railway::TokenKind::kProject;
            railway_source = {ValueSource::Kind::kEnv, "RAILWAY_TOKEN", 0};
        } else if (auto account = Env("RAILWAY_API_TOKEN")) {
            c.railway.token = Secret(*account);
            c.railway.token_kind = railway::TokenKind::kAccount;
            railway_source = {ValueSource::Kind::kEnv, "RAILWAY_API_TOKEN", 0};
        }
        const auto from_variable = [&](std::string_view name, const std::string& variable, Secret& target) {
            auto& source = loaded_.sources[std::string(name)];
            source = {ValueSource::Kind::kDefault, variable, 0};
            if (variable.empty()) return;
            if (auto value = Env(variable)) {
                target = Secret(*value);
                source.kind = ValueSource::Kind::kEnv;
            }
        };
        from_variable("server.api_token", c.server.api_token_env, c.server.api_token);
        from_variable("server.hook_secret", c.server.hook_secret_env, c.server.hook_secret);
        from_variable("notify.email.password", c.notify.email.password_env, c.notify.email.password);
        from_variable("notify.webhook.secret", c.notify.webhook.secret_env, c.notify.webhook.secret);

        // One secret, or two separated by spaces while a secret rotates (both sign every request).
        std::vector<std::string_view> secrets;
        const std::string_view all = c.notify.webhook.secret.Reveal();
        for (std::size_t at = 0; at < all.size();) {
            const auto end = std::min(all.find(' ', at), all.size());
            if (end > at) secrets.push_back(all.substr(at, end - at));
            at = end + 1;
        }
        const bool well_formed = std::all_of(secrets.begin(), secrets.end(), [](std::string_view secret) {
            return secret.starts_with("whsec_") && IsBase64(secret.substr(6));
        });
        if (!all.empty() && (secrets.empty() || secrets.size() > 2 || !well_formed)) {
            AddProblem({"notify.webhook.secret", "env " + c.notify.webhook.secret_env,
                        "is not a Standard Webhooks secret (the value is not shown); allowed: \"whsec_\" followed by "
                        "base64 of the key bytes, or two of them separated by a space during a rotation"});
        }
    }

    std::string OriginOf(std::string_view key) const {
        const ValueSource& source = loaded_.SourceOf(key);
        return source.kind == ValueSource::Kind::kDefault ? "default" : source.Describe();
    }

    void CheckTogether() {
        const Config& c = loaded_.config;
        if (c.retry.max_delay_ms < c.retry.base_delay_ms) {
            const ValueSource& source = loaded_.SourceOf("retry.max_delay_ms");
            AddProblem({"retry.max_delay_ms", OriginOf("retry.max_delay_ms"),
                        fmt::format("{} is less than retry.base_delay_ms ({}); allowed: at least base_delay_ms",
                                    c.retry.max_delay_ms, c.retry.base_delay_ms),
                        source.line, 0, source.kind == ValueSource::Kind::kFlag});
        }
        const std::string_view smtp_host = UrlHost(c.notify.email.smtp_url);
        if (c.notify.email.starttls == StartTls::kOff && c.notify.email.smtp_url.starts_with("smtp://") &&
            !net::IsLoopbackHost(smtp_host)) {
            const ValueSource& source = loaded_.SourceOf("notify.email.starttls");
            AddProblem({"notify.email.starttls", OriginOf("notify.email.starttls"),
                        fmt::format("\"off\" sends mail in clear text and is allowed only for a loopback relay, not "
                                    "{}; allowed: \"required\", or smtps://",
                                    Quote(smtp_host)),
                        source.line, 0, false});
        }

        auto& w = loaded_.warnings;
        if (auto listen = ParseListenAddress(c.server.listen);
            listen && !net::IsLoopbackHost(listen->host) && c.server.api_token.empty()) {
            w.push_back(
                fmt::format("server.listen {} is not a loopback address and no API token is set (${}): serve "
                            "will refuse to start; set {} or listen on 127.0.0.1",
                            c.server.listen, c.server.api_token_env,
                            c.server.api_token_env.empty() ? "server.api_token_env" : c.server.api_token_env));
        }
        if (c.railway.token.empty()) {
            w.push_back(
                "no Railway token: serve needs RAILWAY_TOKEN (project token) or RAILWAY_API_TOKEN (account or "
                "workspace token)");
        }
        if (!c.notify.email.username.empty() && c.notify.email.password.empty()) {
            w.push_back(fmt::format("notify.email.username is set but the SMTP password is not (${})",
                                    c.notify.email.password_env));
        }
        if (!c.notify.webhook.url.empty() && c.notify.webhook.format == WebhookFormat::kStandard &&
            c.notify.webhook.secret.empty()) {
            w.push_back(
                fmt::format("notify.webhook.url is set but the signing secret is not (${}): receivers cannot "
                            "verify the webhooks",
                            c.notify.webhook.secret_env));
        }
    }

    const ConfigSources& sources_;
    LoadedConfig loaded_;
    std::vector<ConfigProblem> problems_;
    std::string file_name_;
};

}  // namespace

// --- Config -----------------------------------------------------------------------------------

core::StuckPolicy MonitorSettings::StuckPolicy() const {
    core::StuckPolicy policy;
    policy.default_deadline = core::Seconds(stuck_after_seconds);
    return policy;
}

core::IntervalPolicy MonitorSettings::IntervalPolicy() const {
    core::IntervalPolicy policy;
    using core::DeploymentStatus;
    policy.per_status[DeploymentStatus::kInitializing] = core::Seconds(intervals.initializing_s);
    policy.per_status[DeploymentStatus::kBuilding] = core::Seconds(intervals.building_s);
    policy.per_status[DeploymentStatus::kDeploying] = core::Seconds(intervals.deploying_s);
    policy.per_status[DeploymentStatus::kSuccess] = core::Seconds(intervals.success_s);
    policy.per_status[DeploymentStatus::kFailed] = core::Seconds(intervals.failed_s);
    policy.per_status[DeploymentStatus::kCrashed] = core::Seconds(intervals.crashed_s);
    policy.fallback = core::Seconds(intervals.default_s);
    return policy;
}

core::BackoffPolicy RetrySettings::Policy() const {
    core::BackoffPolicy policy;
    policy.max_attempts = max_attempts;
    policy.base = core::Millis(base_delay_ms);
    policy.cap = core::Millis(max_delay_ms);
    policy.factor = factor;
    return policy;
}

std::vector<std::string_view> Config::Secrets() const {
    std::vector<std::string_view> out;
    for (const auto& spec : ConfigSecrets()) {
        const Secret& secret = spec.get(*this);
        if (!secret.empty()) out.push_back(secret.Reveal());
    }
    for (auto password : StoreUrlPasswords(store.url))
        out.push_back(password);
    return out;
}

std::string ValueSource::Describe() const {
    switch (kind) {
        case Kind::kDefault:
            return "default";
        case Kind::kFile:
            return fmt::format("{}:{}", name, line);
        case Kind::kEnv:
            return "env " + name;
        case Kind::kFlag:
            return "flag " + name;
    }
    return "default";
}

std::string ConfigProblem::ToString() const {
    if (key.empty()) return fmt::format("{}: {}", origin, message);
    return fmt::format("{}: {}: {}", origin, key, message);
}

std::string ConfigErrors::ToString() const {
    std::string out;
    for (const auto& problem : problems) {
        out += problem.ToString();
        out.push_back('\n');
    }
    return out;
}

int ConfigErrors::ExitCode(int usage_code) const {
    const bool usage = std::any_of(problems.begin(), problems.end(), [](const auto& p) { return p.from_flag; });
    return usage ? usage_code : kExitInvalidConfig;
}

const ValueSource& LoadedConfig::SourceOf(std::string_view key) const {
    static const ValueSource kDefault;
    auto it = sources.find(key);
    return it == sources.end() ? kDefault : it->second;
}

tl::expected<LoadedConfig, ConfigErrors> LoadConfig(const ConfigSources& sources) {
    return Loader(sources).Run(std::nullopt);
}

tl::expected<LoadedConfig, ConfigErrors> LoadConfigText(std::string_view toml, std::string_view file_name,
                                                        ConfigSources sources) {
    sources.file = std::string(file_name);
    return Loader(sources).Run(toml);
}

// --- the table ------------------------------------------------------------------------------------

std::span<const KeySpec> ConfigKeys() {
    return KeyTable();
}

std::span<const SecretSpec> ConfigSecrets() {
    return SecretTable();
}

const KeySpec* FindKey(std::string_view name) {
    for (const auto& key : KeyTable())
        if (key.name == name) return &key;
    return nullptr;
}

std::vector<std::string_view> ConfigFlagNames() {
    std::vector<std::string_view> out = {kConfigFlag};
    for (const auto& key : KeyTable())
        if (!key.flag.empty()) out.push_back(key.flag);
    return out;
}

std::string_view ToString(ValueKind kind) {
    switch (kind) {
        case ValueKind::kBool:
            return "bool";
        case ValueKind::kInt:
            return "integer";
        case ValueKind::kDouble:
            return "float";
        case ValueKind::kString:
            return "string";
        case ValueKind::kStringList:
            return "list of strings";
        case ValueKind::kIntList:
            return "list of integers";
    }
    return "string";
}

std::string FormatValue(const ConfigValue& value) {
    struct Visitor {
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(std::int64_t n) const { return std::to_string(n); }
        std::string operator()(double d) const {
            std::string text = util::FormatMetricValue(d);
            // TOML tells floats from integers by the point.
            if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
            return text;
        }
        std::string operator()(const std::string& s) const { return Quote(s); }
        std::string operator()(const std::vector<std::string>& items) const {
            std::vector<std::string> quoted;
            quoted.reserve(items.size());
            for (const auto& item : items)
                quoted.push_back(Quote(item));
            return fmt::format("[{}]", fmt::join(quoted, ", "));
        }
        std::string operator()(const std::vector<std::int64_t>& items) const {
            return fmt::format("[{}]", fmt::join(items, ", "));
        }
    };
    return std::visit(Visitor{}, value);
}

std::string DisplayValue(const KeySpec& key, const Config& config) {
    ConfigValue value = key.get(config);
    if (key.masked) {
        if (auto* text = std::get_if<std::string>(&value)) {
            if (auto parsed = store::ParseStoreUrl(*text)) *text = parsed->redacted;
        }
    }
    return FormatValue(value);
}

std::string FormatEffectiveConfig(const LoadedConfig& loaded) {
    struct Line {
        std::string section;
        std::string text;
        std::string source;
    };
    std::vector<Line> lines;
    std::size_t width = 0;
    for (const auto& key : ConfigKeys()) {
        Line line{std::string(SectionOf(key.name)),
                  fmt::format("{} = {}", LeafOf(key.name), DisplayValue(key, loaded.config)),
                  loaded.SourceOf(key.name).Describe()};
        width = std::max(width, line.text.size());
        lines.push_back(std::move(line));
    }
    width = std::min<std::size_t>(width, 64);

    std::string out;
    if (loaded.file) {
        out += fmt::format("# configuration file: {} (named by {})\n", *loaded.file, loaded.file_named_by);
    } else {
        out += "# no configuration file (--config or RAILWATCH_CONFIG): defaults, environment and flags\n";
    }
    out += "# each value is followed by where it came from\n";
    std::string section;
    for (const auto& line : lines) {
        if (line.section != section) {
            section = line.section;
            out += fmt::format("\n[{}]\n", section);
        }
        out += fmt::format("{:<{}}  # {}\n", line.text, width, line.source);
    }
    for (const NotifySilenceSettings& silence : loaded.config.notify.silences) {
        out += fmt::format("\n[[{}]]  # {}:{}\n", kSilencesKey, loaded.file.value_or(""), silence.line);
        out += fmt::format("id = {}\n", Quote(silence.id));
        out += fmt::format("starts_at = {}\n", Quote(util::FormatRfc3339(silence.starts_at)));
        out += fmt::format("ends_at = {}\n", Quote(util::FormatRfc3339(silence.ends_at)));
        if (!silence.instance.empty()) out += fmt::format("instance = {}\n", Quote(silence.instance));
        if (!silence.types.empty()) out += fmt::format("types = {}\n", FormatValue(ConfigValue(silence.types)));
        out += fmt::format("mute_in_app = {}\n", silence.mute_in_app ? "true" : "false");
        if (!silence.comment.empty()) out += fmt::format("comment = {}\n", Quote(silence.comment));
    }

    out += "\n# secrets: read from the environment only, never shown\n";
    std::size_t name_width = 0;
    for (const auto& spec : ConfigSecrets())
        name_width = std::max(name_width, spec.name.size());
    for (const auto& spec : ConfigSecrets()) {
        const Secret& secret = spec.get(loaded.config);
        const ValueSource& source = loaded.SourceOf(spec.name);
        std::string where;
        if (source.kind == ValueSource::Kind::kEnv) {
            where = "env " + source.name;
        } else if (!spec.env_key.empty()) {
            where = source.name.empty() ? fmt::format("{} is empty", spec.env_key) : "env " + source.name;
        } else {
            where = "env " + std::string(spec.variables);
        }
        std::string note;
        if (spec.name == "railway.token" && !secret.empty()) {
            note = loaded.config.railway.token_kind == railway::TokenKind::kProject ? " (project token)"
                                                                                    : " (account/workspace token)";
        }
        out += fmt::format("# {:<{}}  {:<9}  {}{}\n", spec.name, name_width, secret.Masked(), where, note);
    }
    if (!loaded.warnings.empty()) {
        out += "\n";
        for (const auto& warning : loaded.warnings)
            out += fmt::format("# warning: {}\n", warning);
    }
    return out;
}

// --- shaped values ---------------------------------------------------------------------------------

util::Result<ListenAddress> ParseListenAddress(std::string_view text) {
    const auto fail = [&] {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("{} is not HOST:PORT (e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080; port "
                                      "0..65535, 0 for any free port)",
                                      Quote(text)));
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return fail();
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return fail();
        host = host.substr(1, host.size() - 2);
        for (char c : host)
            if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return fail();
    } else {
        for (char c : host)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return fail();
    }
    int port = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535) return fail();
    return ListenAddress{std::string(host), port};
}

std::string_view ToString(LogLevel level) {
    switch (level) {
        case LogLevel::kTrace:
            return "trace";
        case LogLevel::kDebug:
            return "debug";
        case LogLevel::kInfo:
            return "info";
        case LogLevel::kWarn:
            return "warn";
        case LogLevel::kError:
            return "error";
        case LogLevel::kOff:
            return "off";
    }
    return "info";
}

std::string_view ToString(LogFormat format) {
    return format == LogFormat::kJson ? "json" : "text";
}

std::string_view ToString(StartTls starttls) {
    return starttls == StartTls::kOff ? "off" : "required";
}

std::string_view ToString(WebhookFormat format) {
    switch (format) {
        case WebhookFormat::kStandard:
            return "standard";
        case WebhookFormat::kSlack:
            return "slack";
        case WebhookFormat::kDiscord:
            return "discord";
    }
    return "standard";
}

}  // namespace railwatch::app
