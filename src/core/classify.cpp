#include "core/classify.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstddef>
#include <string>

namespace railwatch::core {
namespace {

constexpr ErrorClass kConfig = ErrorClass::kConfiguration;
constexpr ErrorClass kNet = ErrorClass::kNetwork;
constexpr ErrorClass kAuth = ErrorClass::kAuthentication;
constexpr ErrorClass kRes = ErrorClass::kResource;
constexpr ErrorClass kTime = ErrorClass::kTimeout;
constexpr RuleStrength kStrong = RuleStrength::kStrong;
constexpr RuleStrength kWeak = RuleStrength::kWeak;

// Reasons shared by several patterns.
constexpr std::string_view kOom = "out of memory: the process was killed or could not allocate";
constexpr std::string_view kDisk = "disk full (no space left on device)";
constexpr std::string_view kUsage = "usage or plan limit reached";
constexpr std::string_view kRate = "rate limited by a service (too many requests)";
constexpr std::string_view kDbSlots = "the database has no free connection slots";
constexpr std::string_view kHealth = "the healthcheck never succeeded within its window";
constexpr std::string_view kDeadline = "a deployment step ran over its time limit";
constexpr std::string_view kDepAuth = "a dependency rejected the service's credentials";
constexpr std::string_view kApiKey = "a dependency rejected the service's API key";
constexpr std::string_view kRailwayToken = "Railway rejected the token";
constexpr std::string_view kTimedOut = "a connection or request to a dependency timed out";
constexpr std::string_view kRefused = "a dependency refused the connection (not listening or down)";
constexpr std::string_view kReset = "a connection to a dependency was reset or closed";
constexpr std::string_view kDns = "a host name did not resolve (DNS)";
constexpr std::string_view kUnreachable = "a dependency's network is unreachable";
constexpr std::string_view kUpstream = "a dependency answered 502/503/504 (upstream down or overloaded)";
constexpr std::string_view kMissingEnv = "missing environment variable";
constexpr std::string_view kUnsetSetting = "a required setting is not set (environment variable?)";
constexpr std::string_view kSettings = "the service's settings failed validation (env vars)";
// pydantic: "1 validation error for Settings", "2 validation errors for AppSettings"; the rule's
// pattern, and where SettingsFields finds the error in the lines.
constexpr std::string_view kSettingsPattern = "validation error*for*settings";
constexpr std::string_view kStart = "no start command: Railway does not know how to run the service";
constexpr std::string_view kBuildPlan = "the builder could not make a build plan for this repository";
constexpr std::string_view kDeps = "dependencies could not be resolved or installed";
constexpr std::string_view kDockerfile = "the Dockerfile is missing or invalid";
constexpr std::string_view kModule = "a module or package the code imports is missing";
constexpr std::string_view kCommand = "a command or executable is missing from the image";
constexpr std::string_view kImage = "the image cannot be pulled (wrong name, tag or private registry)";
constexpr std::string_view kTlsConfig = "TLS certificate verification failed (CA or sslmode setting)";
constexpr std::string_view kCompile = "the code does not compile";
constexpr std::string_view kPort = "the app does not listen where Railway expects it ($PORT)";
constexpr std::string_view kBuildStep = "a build step failed (see the lines before it for the cause)";
constexpr std::string_view kScript = "a start or build script exited with an error";

// Priority order matters only within one strength: the first matching row wins for a line.
// TIMEOUT rows come first so that "time limit exceeded" is not read as a resource limit, and
// RESOURCE rows before CONFIGURATION so that "failed to solve: ... exit code: 137" is memory.
constexpr std::array kRules = std::to_array<MessageRule>({
    // ---- TIMEOUT. A failed healthcheck is weak evidence: it is usually the symptom of a crash
    // at start-up whose cause (missing variable, refused database) is printed in the deploy log.
    {"healthcheck failed", kTime, kHealth, kWeak},
    {"health check failed", kTime, kHealth, kWeak},
    {"never became healthy", kTime, kHealth, kWeak},
    {"failed with service unavailable", kTime, kHealth, kWeak},
    {"healthcheck timeout", kTime, kHealth, kWeak},
    {"healthcheck timed out", kTime, kHealth, kWeak},
    {"build timed out", kTime, kDeadline, kStrong},
    {"deploy timed out", kTime, kDeadline, kStrong},
    {"deployment timed out", kTime, kDeadline, kStrong},
    {"command timed out", kTime, kDeadline, kStrong},
    {"time limit", kTime, kDeadline, kStrong},
    {"maximum build time", kTime, kDeadline, kStrong},
    // ---- RESOURCE (strong)
    {"javascript heap out of memory", kRes, "Node.js ran out of heap memory", kStrong},
    {"outofmemoryerror", kRes, "the JVM ran out of memory", kStrong},
    {"out of memory", kRes, kOom, kStrong},
    {"oomkilled", kRes, "the container was killed for exceeding its memory (OOMKilled)", kStrong},
    {"oom-kill", kRes, kOom, kStrong},
    {"oom killer", kRes, kOom, kStrong},
    {"memoryerror", kRes, "Python ran out of memory (MemoryError)", kStrong},
    {"cannot allocate memory", kRes, kOom, kStrong},
    {"<enomem", kRes, kOom, kStrong},
    {"code 137", kRes, "exit code 137: killed by SIGKILL, almost always for memory", kStrong},
    {"code: 137", kRes, "exit code 137: killed by SIGKILL, almost always for memory", kStrong},
    {"errno 137", kRes, "exit code 137: killed by SIGKILL, almost always for memory", kStrong},
    {"status 137", kRes, "exit code 137: killed by SIGKILL, almost always for memory", kStrong},
    {"signal: killed", kRes, "the process was killed (SIGKILL), almost always for memory", kStrong},
    {"no space left on device", kRes, kDisk, kStrong},
    {"<enospc", kRes, kDisk, kStrong},
    {"disk quota exceeded", kRes, kDisk, kStrong},
    {"disk full", kRes, kDisk, kStrong},
    {"too many open files", kRes, "the process ran out of file descriptors", kStrong},
    {"<emfile", kRes, "the process ran out of file descriptors", kStrong},
    {"usage limit", kRes, kUsage, kStrong},
    {"hard limit", kRes, kUsage, kStrong},
    {"plan limit", kRes, kUsage, kStrong},
    {"quota", kRes, kUsage, kStrong},
    {"trial has expired", kRes, kUsage, kStrong},
    {"trial has ended", kRes, kUsage, kStrong},
    {"payment required", kRes, kUsage, kStrong},
    {"rate limit", kRes, kRate, kStrong},
    {"ratelimit", kRes, kRate, kStrong},
    {"too many requests", kRes, kRate, kStrong},
    {"toomanyrequests", kRes, kRate, kStrong},
    {"limit exceeded", kRes, kUsage, kStrong},
    {"too many clients already", kRes, kDbSlots, kStrong},
    {"remaining connection slots are reserved", kRes, kDbSlots, kStrong},
    {"too many connections", kRes, kDbSlots, kStrong},
    // ---- AUTHENTICATION (strong); the specific "permission denied (publickey)" before the
    // configuration row "permission denied".
    {"not authorized", kAuth, "a token or credentials were not accepted (Not Authorized)", kStrong},
    {"project token not found", kAuth, "Railway does not know this project token", kStrong},
    {"two factor authentication required", kAuth, "the workspace requires two-factor authentication", kStrong},
    {"permission denied (publickey)", kAuth, "an SSH key was rejected", kStrong},
    {"password authentication failed", kAuth, "the database rejected the user or password", kStrong},
    {"access denied for user", kAuth, "the database rejected the user or password", kStrong},
    {"authentication failed", kAuth, kDepAuth, kStrong},
    {"authentication required", kAuth, kDepAuth, kStrong},
    {"wrongpass", kAuth, kDepAuth, kStrong},
    {"invalid*api key", kAuth, kApiKey, kStrong},
    {"invalid_api_key", kAuth, kApiKey, kStrong},
    {"incorrect api key", kAuth, kApiKey, kStrong},
    {"api key not valid", kAuth, kApiKey, kStrong},
    {"api key*invalid", kAuth, kApiKey, kStrong},
    {"invalid credentials", kAuth, kDepAuth, kStrong},
    {"bad credentials", kAuth, kDepAuth, kStrong},
    {"security token included in the request is invalid", kAuth, kDepAuth, kStrong},
    {"invalidclienttokenid", kAuth, kDepAuth, kStrong},
    {"signaturedoesnotmatch", kAuth, kDepAuth, kStrong},
    {"jwt expired", kAuth, "a token has expired", kStrong},
    {"token has expired", kAuth, "a token has expired", kStrong},
    {"token expired", kAuth, "a token has expired", kStrong},
    {"unauthorized", kAuth, "a dependency answered 401 Unauthorized", kStrong},
    {"unauthenticated", kAuth, "a dependency answered 401 Unauthorized", kStrong},
    {"status code 401", kAuth, "a dependency answered 401 Unauthorized", kStrong},
    {"status 401", kAuth, "a dependency answered 401 Unauthorized", kStrong},
    {"forbidden", kAuth, "a dependency answered 403 Forbidden", kStrong},
    {"status code 403", kAuth, "a dependency answered 403 Forbidden", kStrong},
    {"status 403", kAuth, "a dependency answered 403 Forbidden", kStrong},
    // ---- NETWORK (strong)
    {"<etimedout", kNet, kTimedOut, kStrong},
    {"connection timeout", kNet, kTimedOut, kStrong},
    {"connection timed out", kNet, kTimedOut, kStrong},
    {"connect timeout", kNet, kTimedOut, kStrong},
    {"i/o timeout", kNet, kTimedOut, kStrong},
    {"sockettimeoutexception", kNet, kTimedOut, kStrong},
    {"context deadline exceeded", kNet, kTimedOut, kStrong},
    {"tls handshake timeout", kNet, kTimedOut, kStrong},
    {"<econnrefused", kNet, kRefused, kStrong},
    {"connection refused", kNet, kRefused, kStrong},
    {"could not connect to server", kNet, kRefused, kStrong},
    {"connectexception", kNet, kRefused, kStrong},
    {"communications link failure", kNet, kRefused, kStrong},
    {"<econnreset", kNet, kReset, kStrong},
    {"connection reset", kNet, kReset, kStrong},
    {"socket hang up", kNet, kReset, kStrong},
    {"<econnaborted", kNet, kReset, kStrong},
    {"broken pipe", kNet, kReset, kStrong},
    {"<epipe", kNet, kReset, kStrong},
    {"connection terminated unexpectedly", kNet, kReset, kStrong},
    {"server closed the connection unexpectedly", kNet, kReset, kStrong},
    {"<eai_again", kNet, kDns, kStrong},
    {"<enotfound", kNet, kDns, kStrong},
    {"getaddrinfo", kNet, kDns, kStrong},
    {"temporary failure in name resolution", kNet, kDns, kStrong},
    {"name or service not known", kNet, kDns, kStrong},
    {"no such host", kNet, kDns, kStrong},
    {"could not resolve host", kNet, kDns, kStrong},
    {"could not translate host name", kNet, kDns, kStrong},
    {"unknownhostexception", kNet, kDns, kStrong},
    {"<ehostunreach", kNet, kUnreachable, kStrong},
    {"<enetunreach", kNet, kUnreachable, kStrong},
    {"no route to host", kNet, kUnreachable, kStrong},
    {"network is unreachable", kNet, kUnreachable, kStrong},
    {"fetch failed", kNet, "an HTTP request to a dependency failed below HTTP", kStrong},
    {"upstream connect error", kNet, kUpstream, kStrong},
    {"bad gateway", kNet, kUpstream, kStrong},
    {"gateway timeout", kNet, kUpstream, kStrong},
    {"gateway time-out", kNet, kUpstream, kStrong},
    {"status code 502", kNet, kUpstream, kStrong},
    {"status code 504", kNet, kUpstream, kStrong},
    {"service unavailable", kNet, kUpstream, kStrong, true},
    {"status code 503", kNet, kUpstream, kStrong, true},
    // ---- CONFIGURATION (strong)
    {"environment variable not found", kConfig, kMissingEnv, kStrong},
    {"missing*environment variable", kConfig, kMissingEnv, kStrong},
    {"environment variable*not set", kConfig, kMissingEnv, kStrong},
    {"environment variable*required", kConfig, kMissingEnv, kStrong},
    {"environment variable*missing", kConfig, kMissingEnv, kStrong},
    {"environment variable*undefined", kConfig, kMissingEnv, kStrong},
    {"env var*not set", kConfig, kMissingEnv, kStrong},
    {"env var*missing", kConfig, kMissingEnv, kStrong},
    {"environ[", kConfig, kMissingEnv, kStrong},
    {"environ.get(", kConfig, kMissingEnv, kStrong},
    {"required key*missing value", kConfig, kMissingEnv, kStrong},
    {"could not resolve placeholder", kConfig, kMissingEnv, kStrong},
    {kSettingsPattern, kConfig, kSettings, kStrong},
    {"is not set", kConfig, kUnsetSetting, kStrong},
    {"must be set", kConfig, kUnsetSetting, kStrong},
    {"no start command", kConfig, kStart, kStrong},
    {"unable to generate a build plan", kConfig, kBuildPlan, kStrong},
    {"error creating build plan", kConfig, kBuildPlan, kStrong},
    {"missing script", kConfig, "package.json has no such script", kStrong},
    {"<eresolve", kConfig, kDeps, kStrong},
    {"could not resolve dependency", kConfig, kDeps, kStrong},
    {"could not find a version that satisfies", kConfig, kDeps, kStrong},
    {"npm err! 404", kConfig, kDeps, kStrong},
    {"npm error 404", kConfig, kDeps, kStrong},
    {"dockerfile parse error", kConfig, kDockerfile, kStrong},
    {"failed to read dockerfile", kConfig, kDockerfile, kStrong},
    {"dockerfile*not found", kConfig, kDockerfile, kStrong},
    {"unknown instruction", kConfig, kDockerfile, kStrong},
    {"cannot find module", kConfig, kModule, kStrong},
    {"modulenotfounderror", kConfig, kModule, kStrong},
    {"no module named", kConfig, kModule, kStrong},
    {"importerror", kConfig, kModule, kStrong},
    {"command not found", kConfig, kCommand, kStrong},
    {"executable file not found", kConfig, kCommand, kStrong},
    {"exec format error", kConfig, "the executable is for another CPU architecture or lacks a shebang", kStrong},
    {"pull access denied", kConfig, kImage, kStrong},
    {"manifest unknown", kConfig, kImage, kStrong},
    {"invalid reference format", kConfig, kImage, kStrong},
    {"certificate verify failed", kConfig, kTlsConfig, kStrong},
    {"self signed certificate", kConfig, kTlsConfig, kStrong},
    {"self-signed certificate", kConfig, kTlsConfig, kStrong},
    {"unable to verify the first certificate", kConfig, kTlsConfig, kStrong},
    {"x509:", kConfig, kTlsConfig, kStrong},
    {"could not compile", kConfig, kCompile, kStrong},
    {"compilation failed", kConfig, kCompile, kStrong},
    {"failed to compile", kConfig, kCompile, kStrong},
    {"): error ts", kConfig, kCompile, kStrong},                 // tsc: src/index.ts(14,7): error TS2322: …
    {" - error ts", kConfig, kCompile, kStrong},                 // tsc --pretty: src/index.ts:14:7 - error TS2322: …
    {"error[e0", kConfig, kCompile, kStrong},                    // rustc: error[E0308]: mismatched types
    {".go:*: undefined: ", kConfig, kCompile, kStrong},          // go: ./main.go:12:2: undefined: foo
    {".go:*declared and not used", kConfig, kCompile, kStrong},  // go 1.20: …: declared and not used: x
    {".go:*declared but not used", kConfig, kCompile, kStrong},  // before: …: x declared but not used
    {".go:*imported and not used", kConfig, kCompile, kStrong},  // ./main.go:4:2: "os" imported and not used
    {".go:*: cannot use ", kConfig, kCompile, kStrong},
    {".go:*: syntax error: ", kConfig, kCompile, kStrong},
    {"<eaddrinuse", kConfig, "the port is already in use", kStrong},
    {"address already in use", kConfig, "the port is already in use", kStrong},
    {"application failed to respond", kConfig, kPort, kStrong},
    // ---- weak rows: symptoms that wrap a cause printed elsewhere
    {"timed out", kTime, "something timed out", kWeak},
    {"timeout", kTime, "something timed out", kWeak},
    {"<killed", kRes, "the process was killed, most likely for memory", kWeak},
    {"sigkill", kRes, "the process was killed, most likely for memory", kWeak},
    {"<elifecycle", kConfig, kScript, kWeak},
    {"failed to solve", kConfig, kBuildStep, kWeak},
    {"did not complete successfully", kConfig, kBuildStep, kWeak},
    {"build failed", kConfig, kBuildStep, kWeak},
    {"exit code 1", kConfig, kScript, kWeak},
    {"exit code: 1", kConfig, kScript, kWeak},
    {"exit status 1", kConfig, kScript, kWeak},
    {"exited with code 1", kConfig, kScript, kWeak},
    {"container failed to start", kConfig, "the container did not start", kWeak},
    {"keyerror", kConfig, kMissingEnv, kWeak},
    {"syntaxerror", kConfig, "the code or a config file has a syntax error", kWeak},
    {"syntax error", kConfig, "the code or a config file has a syntax error", kWeak},
    {"permission denied", kConfig, "a file or resource is not accessible (permissions)", kWeak},
    {"<eacces", kConfig, "a file or resource is not accessible (permissions)", kWeak},
    {"does not exist", kConfig, "something the service expects does not exist (database, table, file)", kWeak},
    {"no such file or directory", kConfig, "a file the service expects is missing", kWeak},
    {"invalid configuration", kConfig, "the configuration is invalid", kWeak},
});

constexpr std::size_t kMaxEvidence = 240;

char Lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ToLower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), Lower);
    return out;
}

bool IsWordChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// True when every '*'-separated piece of `pattern` occurs in `text`, in order. A leading '<'
// anchors the first piece at the start of a word ("<enotfound" must not match
// "modulenotfounderror").
bool Matches(std::string_view text, std::string_view pattern) {
    bool word_start = false;
    if (!pattern.empty() && pattern.front() == '<') {
        word_start = true;
        pattern.remove_prefix(1);
    }
    std::size_t from = 0;
    while (true) {
        const std::size_t star = pattern.find('*');
        const std::string_view piece = pattern.substr(0, star);
        if (!piece.empty()) {
            std::size_t at = text.find(piece, from);
            while (word_start && at != std::string_view::npos && at > 0 && IsWordChar(text[at - 1])) {
                at = text.find(piece, at + 1);
            }
            if (at == std::string_view::npos) return false;
            from = at + piece.size();
        }
        word_start = false;
        if (star == std::string_view::npos) return true;
        pattern.remove_prefix(star + 1);
    }
}

std::string Trimmed(std::string_view text) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    if (text.size() > kMaxEvidence) return std::string(text.substr(0, kMaxEvidence - 3)) + "...";
    return std::string(text);
}

// Words that show a line belongs to Railway's healthcheck output.
constexpr std::array<std::string_view, 5> kHealthcheckMarkers = {
    "healthcheck", "health check", "never became healthy", "failed with service unavailable", "continuing to retry",
};

bool MentionsHealthcheck(std::string_view lowered) {
    return std::any_of(kHealthcheckMarkers.begin(), kHealthcheckMarkers.end(),
                       [&](std::string_view marker) { return lowered.find(marker) != std::string_view::npos; });
}

// A rule that matched, and what it means in context.
struct Hit {
    const MessageRule* rule = nullptr;
    RuleStrength strength = RuleStrength::kWeak;
    bool healthcheck_timeout = false;  ///< "service unavailable" during a healthcheck
};

// The best rule for one lower-cased text: strong before weak, then table order. During a
// healthcheck a "service unavailable" rule means TIMEOUT and is only a symptom (weak).
Hit BestRule(std::string_view lowered, bool in_healthcheck) {
    Hit weak;
    for (const MessageRule& rule : kRules) {
        if (!Matches(lowered, rule.pattern)) continue;
        const bool as_timeout = in_healthcheck && rule.timeout_in_healthcheck;
        const RuleStrength strength = as_timeout ? RuleStrength::kWeak : rule.strength;
        if (strength == RuleStrength::kStrong) return Hit{&rule, strength, false};
        if (weak.rule == nullptr) weak = Hit{&rule, strength, as_timeout};
    }
    return weak;
}

Classification Make(ErrorClass error_class, std::string_view reason, std::string_view evidence,
                    bool retryable = false) {
    return Classification{error_class, std::string(reason), Trimmed(evidence), retryable};
}

Classification FromHit(const Hit& hit, std::string_view text) {
    if (hit.healthcheck_timeout) {
        return Make(kTime, std::string(kHealth) + " (the app answered \"service unavailable\")", text);
    }
    return Make(hit.rule->error_class, hit.rule->reason, text);
}

// ---- API failures

using Kind = ApiFailureKind;

// GraphQL `errors[].message` texts Railway is known to send (../railway-api/FACTS.md §6). Railway
// puts extensions.code INTERNAL_SERVER_ERROR on every error, so the message decides first.
// "project token not found" comes before "not found".
constexpr std::array kApiMessageRules = std::to_array<ApiMessageRule>({
    {"not authorized", kAuth, Kind::kAuth, false,
     "Railway rejected the token (invalid, expired, or not allowed to see this resource)"},
    {"project token not found", kAuth, Kind::kAuth, false, "Railway does not know this project token"},
    {"two factor authentication required", kAuth, Kind::kAuth, false,
     "the workspace requires two-factor authentication for this token's user"},
    {"unauthenticated", kAuth, Kind::kAuth, false, kRailwayToken},
    {"unauthorized", kAuth, Kind::kAuth, false, kRailwayToken},
    {"rate limit", kRes, Kind::kRateLimited, true, "Railway's API request budget is used up"},
    {"too many requests", kRes, Kind::kRateLimited, true, "Railway's API request budget is used up"},
    {"problem processing request", kConfig, Kind::kInvalidArgument, false,
     "Railway could not process an argument (e.g. a log date outside retention, a bad id)"},
    {"not found", kConfig, Kind::kNotFound, false,
     "Railway does not know this id (project, service, environment or deployment)"},
    {"cannot query field", kConfig, Kind::kBadDocument, false, "the GraphQL document does not match Railway's schema"},
    {"unknown argument", kConfig, Kind::kBadDocument, false, "the GraphQL document does not match Railway's schema"},
    {"syntax error", kConfig, Kind::kBadDocument, false, "the GraphQL document does not parse"},
    {"internal server error", kNet, Kind::kUnavailable, true, "Railway had an internal error"},
});

constexpr std::array kApiCodeRules = std::to_array<ApiCodeRule>({
    {"graphql_parse_failed", kConfig, Kind::kBadDocument, false, "the GraphQL document does not parse"},
    {"graphql_validation_failed", kConfig, Kind::kBadDocument, false,
     "the GraphQL document does not match Railway's schema"},
    {"bad_user_input", kConfig, Kind::kInvalidArgument, false, "Railway rejected an argument of the request"},
    {"unauthenticated", kAuth, Kind::kAuth, false, kRailwayToken},
    {"forbidden", kAuth, Kind::kAuth, false, kRailwayToken},
    {"internal_server_error", kNet, Kind::kUnavailable, true,
     "Railway had an internal error, and its message says nothing more"},
});

ApiClassification Verdict(ErrorClass error_class, Kind kind, bool retryable, std::string_view reason,
                          std::string_view evidence, int deciding_error = -1) {
    ApiClassification out;
    out.error_class = error_class;
    out.reason = std::string(reason);
    out.evidence = Trimmed(evidence);
    out.retryable = retryable;
    out.kind = kind;
    out.deciding_error = deciding_error;
    return out;
}

ApiClassification ClassifyTransport(TransportErrorKind kind) {
    const std::string_view evidence = ToString(kind);
    switch (kind) {
        case TransportErrorKind::kDns:
            return Verdict(kNet, Kind::kUnavailable, true, "the Railway API host name did not resolve (DNS)", evidence);
        case TransportErrorKind::kConnect:
            return Verdict(kNet, Kind::kUnavailable, true, "could not connect to the Railway API", evidence);
        case TransportErrorKind::kReset:
            return Verdict(kNet, Kind::kUnavailable, true, "the connection to the Railway API was reset", evidence);
        case TransportErrorKind::kTimeout:
            // A request deadline, not a deployment deadline: transient, so NETWORK (retry), not
            // TIMEOUT (whose reaction is about deployments running too long).
            return Verdict(kNet, Kind::kTimeout, true, "the Railway API did not answer before the request deadline",
                           evidence);
        case TransportErrorKind::kTls:
            // Handshake/verification failures rarely heal by themselves: a wrong RAILWAY_API_URL,
            // a missing CA bundle or an intercepting proxy. A person has to look.
            return Verdict(kConfig, Kind::kUnavailable, false,
                           "TLS with the Railway API failed: check RAILWAY_API_URL and the CA certificates", evidence);
        case TransportErrorKind::kCancelled:
            return Verdict(ErrorClass::kUnknown, Kind::kCancelled, false,
                           "the request was cancelled locally (shutdown)", evidence);
        case TransportErrorKind::kOther:
        case TransportErrorKind::kNone:
            break;
    }
    // Nothing is known, but nothing says the next try fails the same way: a read may be repeated.
    return Verdict(ErrorClass::kUnknown, Kind::kUnavailable, true, "the HTTP transport failed for an unknown reason",
                   evidence);
}

// HTTP statuses that are not 2xx, 401, 403, 408, 429 or a retryable 5xx (decided earlier).
ApiClassification ClassifyOtherHttpStatus(int status) {
    const std::string evidence = "HTTP " + std::to_string(status);
    if (status == 501 || status == 505) {
        return Verdict(kConfig, Kind::kEndpoint, false,
                       "the server does not support this request: check RAILWAY_API_URL", evidence);
    }
    if (status == 400) {
        // Railway answers 400 for documents that do not parse or validate: our request is wrong.
        return Verdict(kConfig, Kind::kBadDocument, false, "Railway rejected the request document (400)", evidence);
    }
    if (status == 404) {
        return Verdict(kConfig, Kind::kEndpoint, false, "no GraphQL endpoint here (404): check RAILWAY_API_URL",
                       evidence);
    }
    if (status >= 300 && status < 400) {
        return Verdict(kConfig, Kind::kEndpoint, false, "the API URL redirects (not followed): check RAILWAY_API_URL",
                       evidence);
    }
    if (status >= 400) return Verdict(kConfig, Kind::kUnknown, false, "Railway rejected the request (4xx)", evidence);
    return Verdict(ErrorClass::kUnknown, Kind::kUnknown, false, "unexpected HTTP status", evidence);
}

bool IsRetryableServerStatus(int status) {
    return status >= 500 && status != 501 && status != 505;
}

}  // namespace

std::string_view ToString(TransportErrorKind kind) {
    switch (kind) {
        case TransportErrorKind::kNone:
            return "none";
        case TransportErrorKind::kDns:
            return "dns";
        case TransportErrorKind::kConnect:
            return "connect";
        case TransportErrorKind::kReset:
            return "reset";
        case TransportErrorKind::kTls:
            return "tls";
        case TransportErrorKind::kTimeout:
            return "timeout";
        case TransportErrorKind::kCancelled:
            return "cancelled";
        case TransportErrorKind::kOther:
            return "other";
    }
    return "other";
}

std::span<const MessageRule> MessageRules() {
    return kRules;
}

Classification ClassifyMessage(std::string_view message) {
    const std::string lowered = ToLower(message);
    const Hit hit = BestRule(lowered, MentionsHealthcheck(lowered));
    if (hit.rule != nullptr) return FromHit(hit, message);
    return Classification{ErrorClass::kUnknown, "no rule matched", Trimmed(message), false};
}

std::string_view ToString(ApiFailureKind kind) {
    switch (kind) {
        case Kind::kAuth:
            return "auth";
        case Kind::kNotFound:
            return "not_found";
        case Kind::kInvalidArgument:
            return "invalid_argument";
        case Kind::kBadDocument:
            return "bad_document";
        case Kind::kEndpoint:
            return "endpoint";
        case Kind::kPrecondition:
            return "precondition";
        case Kind::kRateLimited:
            return "rate_limited";
        case Kind::kUnavailable:
            return "unavailable";
        case Kind::kTimeout:
            return "timeout";
        case Kind::kMalformed:
            return "malformed";
        case Kind::kCancelled:
            return "cancelled";
        case Kind::kUnknown:
            return "unknown";
    }
    return "unknown";
}

std::span<const ApiMessageRule> ApiMessageRules() {
    return kApiMessageRules;
}

std::span<const ApiCodeRule> ApiCodeRules() {
    return kApiCodeRules;
}

ApiClassification ClassifyApiFailure(const ApiFailure& failure) {
    if (!failure.precondition.empty()) {
        // Nothing was sent: a check made first (e.g. canRedeploy) says the call cannot succeed
        // as things are. A person has to change something; asking again changes nothing.
        return Verdict(kConfig, Kind::kPrecondition, false, "Railway's state does not allow this call",
                       failure.precondition);
    }
    if (failure.transport != TransportErrorKind::kNone) return ClassifyTransport(failure.transport);

    const int status = failure.http_status;
    const std::string status_text = "HTTP " + std::to_string(status);
    // 429, and Cloudflare's HTML refusal in front of Railway (error 1015 / "Access denied ... used
    // Cloudflare to restrict access"), mean the request budget is used up: RESOURCE, because the
    // remedy is fewer requests or a bigger plan, never a redeploy (NETWORK's reaction, which would
    // spend more requests). The call itself is retried after Retry-After.
    if (status == 429) {
        return Verdict(kRes, Kind::kRateLimited, true, "Railway's API request budget is used up (429)", status_text);
    }
    if (failure.malformed_body && (failure.edge_page || status == 403)) {
        return Verdict(kRes, Kind::kRateLimited, true,
                       "Railway's edge refused the request with an HTML page (rate limit for unidentified traffic; "
                       "keep a query string such as ?source=railwatch on the API URL)",
                       status_text);
    }
    if (status == 401 || status == 403) {
        return Verdict(kAuth, Kind::kAuth, false, "Railway rejected the token (" + std::to_string(status) + ")",
                       status_text);
    }
    // A server failure says nothing about the request: whatever the body says, try again later.
    if (status == 408) {
        return Verdict(kNet, Kind::kTimeout, true, "the Railway API timed out the request (408)", status_text);
    }
    if (IsRetryableServerStatus(status)) {
        return Verdict(kNet, Kind::kUnavailable, true, "the Railway API is failing or overloaded (5xx)", status_text);
    }

    // Message first: the code is the same for every error Railway sends.
    const auto& errors = failure.graphql_errors;
    for (std::size_t i = 0; i < errors.size(); ++i) {
        const std::string lowered = ToLower(errors[i].message);
        for (const ApiMessageRule& rule : kApiMessageRules) {
            if (Matches(lowered, rule.pattern)) {
                return Verdict(rule.error_class, rule.kind, rule.retryable, rule.reason, errors[i].message,
                               static_cast<int>(i));
            }
        }
    }
    for (std::size_t i = 0; i < errors.size(); ++i) {
        if (errors[i].code.empty()) continue;
        const std::string code = ToLower(errors[i].code);
        for (const ApiCodeRule& rule : kApiCodeRules) {
            if (code == rule.code) {
                const std::string_view evidence =
                    errors[i].message.empty() ? std::string_view(errors[i].code) : std::string_view(errors[i].message);
                return Verdict(rule.error_class, rule.kind, rule.retryable, rule.reason, evidence, static_cast<int>(i));
            }
        }
    }
    if (status != 0 && (status < 200 || status >= 300)) return ClassifyOtherHttpStatus(status);
    if (failure.malformed_body) {
        // A 2xx that is not our JSON: an edge, proxy or captive portal answered. Transient.
        return Verdict(kNet, Kind::kMalformed, true,
                       "the API answered with something that is not the JSON railwatch expected", status_text);
    }
    for (std::size_t i = 0; i < errors.size(); ++i) {
        const Classification c = ClassifyMessage(errors[i].message);
        if (c.error_class != ErrorClass::kUnknown) {
            return Verdict(c.error_class, Kind::kUnknown, false, c.reason, errors[i].message, static_cast<int>(i));
        }
    }
    if (!errors.empty()) {
        return Verdict(ErrorClass::kUnknown, Kind::kUnknown, false,
                       "Railway returned an error railwatch does not recognise", errors.front().message, 0);
    }
    return Verdict(ErrorClass::kUnknown, Kind::kUnknown, false, "the call failed without any detail",
                   status == 0 ? "" : status_text);
}

bool IsRetryableApiFailure(const ApiFailure& failure) {
    return ClassifyApiFailure(failure).retryable;
}

Classification ClassifyDeploymentFailure(const FailureEvidence& evidence) {
    std::vector<std::string> event_lower, log_lower;
    event_lower.reserve(evidence.event_errors.size());
    log_lower.reserve(evidence.log_lines.size());
    for (const std::string& line : evidence.event_errors)
        event_lower.push_back(ToLower(line));
    for (const std::string& line : evidence.log_lines)
        log_lower.push_back(ToLower(line));
    const auto any_marker = [](const std::vector<std::string>& lines) {
        return std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return MentionsHealthcheck(l); });
    };
    const bool in_healthcheck =
        evidence.failed_step == DeploymentEventStep::kHealthcheck || any_marker(event_lower) || any_marker(log_lower);

    struct Match {
        Hit hit;
        const std::string* text = nullptr;
    };
    // The newest hit per (strength, source): scanning newest first, the first hit is kept.
    Match strong_event, weak_event, strong_log, weak_log;
    const auto scan = [&](const std::vector<std::string>& lines, const std::vector<std::string>& lowered, Match& strong,
                          Match& weak) {
        for (std::size_t i = lines.size(); i-- > 0;) {
            const Hit hit = BestRule(lowered[i], in_healthcheck);
            if (hit.rule == nullptr) continue;
            Match& slot = hit.strength == RuleStrength::kStrong ? strong : weak;
            if (slot.text == nullptr) slot = Match{hit, &lines[i]};
        }
    };
    scan(evidence.event_errors, event_lower, strong_event, weak_event);
    scan(evidence.log_lines, log_lower, strong_log, weak_log);

    for (const Match* m : {&strong_event, &strong_log, &weak_event, &weak_log}) {
        if (m->text != nullptr) return FromHit(m->hit, *m->text);
    }
    if (evidence.failed_step == DeploymentEventStep::kHealthcheck) {
        return Make(kTime, kHealth, "HEALTHCHECK step failed");
    }
    if (evidence.failed_step == DeploymentEventStep::kBuildImage) {
        // Builds that fail without a recognised infrastructure cause are the repository's doing.
        return Make(kConfig, "the build failed; see the build logs", "BUILD_IMAGE step failed");
    }
    const std::string status(ToString(evidence.status));
    return Make(ErrorClass::kUnknown, "no rule matched the deployment's evidence",
                evidence.status == DeploymentStatus::kUnknown ? "" : status);
}

// ---- Next steps

namespace {

bool IsUpperOrDigit(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsDigit(char c) {
    return c >= '0' && c <= '9';
}

// Words in capitals that are not a variable's name.
constexpr std::array<std::string_view, 16> kNotVariables = {
    "ERROR", "ERR",  "WARN",  "WARNING", "INFO", "FATAL", "DEBUG", "NPM",
    "ENV",   "HTTP", "HTTPS", "URL",     "API",  "JSON",  "TLS",   "SSL",
};

// The environment variable `text` names: the last word in capitals with an underscore
// (DATABASE_URL), else the last other word in capitals of three letters or more (PORT).
std::optional<std::string> VariableName(std::string_view text) {
    std::optional<std::string> with_underscore, plain;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!IsWordChar(text[i])) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && IsWordChar(text[end]))
            ++end;
        const std::string_view word = text.substr(i, end - i);
        const bool capitals =
            word.front() >= 'A' && word.front() <= 'Z' && std::all_of(word.begin(), word.end(), IsUpperOrDigit);
        if (capitals && std::find(kNotVariables.begin(), kNotVariables.end(), word) == kNotVariables.end()) {
            if (word.find('_') != std::string_view::npos) {
                with_underscore = std::string(word);
            } else if (word.size() >= 3) {
                plain = std::string(word);
            }
        }
        i = end;
    }
    return with_underscore ? with_underscore : plain;
}

// The first text in quotes ('…', "…", `…` or ‘…’) after `from` in `text`, when not empty.
std::optional<std::string> Quoted(std::string_view text, std::size_t from = 0) {
    for (std::size_t i = from; i < text.size(); ++i) {
        const char open = text[i];
        if (open != '\'' && open != '"' && open != '`') continue;
        const std::size_t close = text.find(open, i + 1);
        if (close == std::string_view::npos) return std::nullopt;
        if (close > i + 1) return std::string(text.substr(i + 1, close - i - 1));
        i = close;
    }
    return std::nullopt;
}

// The text in quotes after the first occurrence of `marker` (lower case) in `text`.
std::optional<std::string> QuotedAfter(std::string_view text, std::string_view marker) {
    const std::string lowered = ToLower(text);
    const std::size_t at = lowered.find(marker);
    if (at == std::string::npos) return std::nullopt;
    return Quoted(text, at + marker.size());
}

// The word (up to a space, a comma or a parenthesis) after `marker` (lower case) in `text`.
std::optional<std::string> WordAfter(std::string_view text, std::string_view marker) {
    const std::string lowered = ToLower(text);
    const std::size_t at = lowered.find(marker);
    if (at == std::string::npos) return std::nullopt;
    std::size_t from = at + marker.size();
    std::size_t end = from;
    while (end < text.size() && text[end] != ' ' && text[end] != ',' && text[end] != '(' && text[end] != ')')
        ++end;
    if (end == from) return std::nullopt;
    return std::string(text.substr(from, end - from));
}

// An address "HOST:PORT" in a text: a name, an IPv4 address, [v6] or ::1, and a port of 2–5 digits.
struct Address {
    std::string host;
    std::string port;
    bool loopback() const {
        return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]" ||
               host == "0:0:0:0:0:0:0:1";
    }
    std::string text() const { return host + ":" + port; }
};

std::optional<Address> FindAddress(std::string_view text) {
    const auto is_host_char = [](char c) { return IsWordChar(c) || c == '.' || c == '-'; };
    for (std::size_t colon = text.find(':'); colon != std::string_view::npos; colon = text.find(':', colon + 1)) {
        std::size_t end = colon + 1;
        while (end < text.size() && IsDigit(text[end]))
            ++end;
        const std::size_t digits = end - colon - 1;
        if (digits < 2 || digits > 5 || (end < text.size() && (IsWordChar(text[end]) || text[end] == ':'))) continue;
        std::size_t start = colon;
        if (start > 0 && text[start - 1] == ']') {
            const std::size_t open = text.rfind('[', start);
            if (open == std::string_view::npos) continue;
            start = open;
        } else {
            while (start > 0 && is_host_char(text[start - 1]))
                --start;
            // ::1, or an IPv6 address written without brackets before the port
            while (start > 0 && (text[start - 1] == ':' || std::isxdigit(static_cast<unsigned char>(text[start - 1]))))
                --start;
        }
        const std::string_view host = text.substr(start, colon - start);
        // Digits alone, or one colon between them, are a time of day ("12:30:45"), not a host.
        if (host.empty() || std::all_of(host.begin(), host.end(), IsDigit)) continue;
        if (host.find(':') != std::string_view::npos && host.find("::") == std::string_view::npos &&
            std::count(host.begin(), host.end(), ':') < 2)
            continue;
        const int port = std::stoi(std::string(text.substr(colon + 1, digits)));
        if (port < 1 || port > 65535) continue;
        return Address{std::string(host), std::string(text.substr(colon + 1, digits))};
    }
    return std::nullopt;
}

// Where the app said it listens: the newest line of `lines` that says so, with an address (or
// "port N" alone, then host "").
std::optional<Address> ListeningAddress(std::span<const std::string> lines) {
    static constexpr std::array<std::string_view, 7> kListening = {
        "listening", "listen on", "running on", "started on", "serving on", "ready on", "bound to",
    };
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        const std::string lowered = ToLower(*it);
        if (std::none_of(kListening.begin(), kListening.end(),
                         [&](std::string_view word) { return lowered.find(word) != std::string::npos; }))
            continue;
        if (auto address = FindAddress(*it)) return address;
        if (auto word = WordAfter(*it, "port ")) {  // "port 3000", "port 3000."
            const std::string port = word->substr(
                0, static_cast<std::size_t>(std::find_if_not(word->begin(), word->end(), IsDigit) - word->begin()));
            if (!port.empty() && port.size() <= 5) return Address{"", port};
        }
    }
    return std::nullopt;
}

std::string ClassStep(ErrorClass error_class) {
    switch (error_class) {
        case ErrorClass::kConfiguration:
            return "Check the service's environment variables and build settings (the deciding line says what is "
                   "wrong), then redeploy.";
        case ErrorClass::kNetwork:
            return "Let railwatch's redeploys try again; if it keeps failing, check that the services it connects to "
                   "are up, and Railway's status.";
        case ErrorClass::kAuthentication:
            return "Check the credentials in the service's variables (a rotated key, a password for another "
                   "environment), then redeploy.";
        case ErrorClass::kResource:
            return "Raise the service's resource limits or lower its use (or upgrade the plan), then redeploy.";
        case ErrorClass::kTimeout:
            return "Check the deployment's configuration (healthcheck path and timeout) and resource limits, then "
                   "redeploy.";
        case ErrorClass::kUnknown:
            break;
    }
    return "Read the deployment's logs for the cause, then redeploy.";
}

std::string PortStep(std::span<const std::string> lines, std::string_view evidence, bool healthcheck) {
    const std::string before = healthcheck ? "The healthcheck never got an answer: the" : "The";
    const std::string deciding(evidence);
    auto address = ListeningAddress(lines);
    if (!address) address = ListeningAddress(std::span(&deciding, 1));
    if (address) {
        if (address->loopback()) {
            return before + " app listens on " + address->text() +
                   ", which Railway cannot reach: listen on 0.0.0.0 (every interface) and on the port in $PORT, then "
                   "redeploy.";
        }
        // The port may be $PORT's own: said as a condition, with the other cause of each failure.
        return before + " app listens on port " + address->port + ": if the port in $PORT is another, listen on " +
               "$PORT or set PORT=" + address->port + " in the service's variables" +
               (healthcheck ? "; if not, make the healthcheck path answer within its timeout"
                            : "; if not, check that the app answers (its deploy log)") +
               ", then redeploy.";
    }
    if (healthcheck) {
        return "Make sure the app starts, listens on 0.0.0.0 and the port in $PORT, and answers the healthcheck path "
               "within its timeout (the deploy log shows why it did not), then redeploy.";
    }
    return "Make the app listen on 0.0.0.0 and on the port in $PORT, then redeploy.";
}

// A field a pydantic ValidationError names, and what is wrong with it.
struct SettingsField {
    std::string name;     ///< the field, as the error names it (database_url)
    std::string message;  ///< its message without pydantic's "[type=…]" / "(type=…)"
    bool missing = false;
};

// The fields the newest pydantic ValidationError of settings in `lines` lists: after its "N
// validation error(s) for Settings" line, each field's name on a line of its own and its message on the next
// ("Field required [type=missing, …]" in v2, "field required (type=value_error.missing)" in v1);
// v2's "For further information visit …" lines are passed over. Nested fields (a.b) and list
// items are left out: their variable depends on the settings' nesting delimiter.
std::vector<SettingsField> SettingsFields(std::span<const std::string> lines) {
    std::size_t at = lines.size();
    for (std::size_t i = lines.size(); i-- > 0;) {
        if (Matches(ToLower(lines[i]), kSettingsPattern)) {
            at = i + 1;
            break;
        }
    }
    const auto is_name = [](std::string_view text) {
        return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return IsWordChar(c) || c == '.'; });
    };
    std::vector<SettingsField> fields;
    while (at + 1 < lines.size() && fields.size() < 10) {
        const std::string name = Trimmed(lines[at]);
        if (!is_name(name)) break;
        std::string message = Trimmed(lines[at + 1]);
        if (is_name(message)) break;
        for (const std::string_view tail : {" [type=", " (type="}) {
            if (const std::size_t cut = message.find(tail); cut != std::string::npos) message.resize(cut);
        }
        const bool missing = ToLower(message) == "field required";
        if (name.find('.') == std::string::npos && !std::all_of(name.begin(), name.end(), IsDigit))
            fields.push_back(SettingsField{name, message, missing});
        at += 2;
        while (at < lines.size() && ToLower(Trimmed(lines[at])).starts_with("for further information"))
            ++at;
    }
    return fields;
}

// "A", "A and B", "A, B and C".
std::string JoinedWithAnd(const std::vector<std::string>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
        out += words[i];
    }
    return out;
}

std::string SettingsStep(std::span<const std::string> lines) {
    std::vector<std::string> missing;
    std::vector<std::string> wrong;
    for (const SettingsField& field : SettingsFields(lines)) {
        std::string variable = field.name;
        std::transform(variable.begin(), variable.end(), variable.begin(),
                       [](char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; });
        if (field.missing) {
            missing.push_back(variable);
        } else {
            wrong.push_back(variable + " (" + field.message + ")");
        }
    }
    if (missing.empty() && wrong.empty()) {
        return "Set the settings the lines after the deciding one name (each read from the variable of its name in "
               "capitals) in the service's variables on Railway, then redeploy.";
    }
    std::string step;
    if (!missing.empty()) step = "Set " + JoinedWithAnd(missing) + " in the service's variables on Railway";
    if (!wrong.empty()) {
        step += missing.empty() ? "Fix " + JoinedWithAnd(wrong) + " in the service's variables on Railway"
                                : ", and fix " + JoinedWithAnd(wrong) + " there";
    }
    return step +
           ", then redeploy (pydantic reads each field from the variable of its name, after the settings' "
           "env_prefix if they have one).";
}

using StepFn = std::string (*)(std::string_view evidence, std::span<const std::string> lines);

struct StepRule {
    std::string_view reason;  ///< a MessageRule's reason (or its start)
    StepFn step;
};

constexpr std::array kSteps = std::to_array<StepRule>({
    {kMissingEnv,
     [](std::string_view evidence, std::span<const std::string>) {
         if (const auto name = VariableName(evidence))
             return "Set " + *name + " in the service's variables on Railway, then redeploy.";
         return std::string("Add the missing one to the service's environment variables on Railway (the deciding "
                            "line names it), then redeploy.");
     }},
    {kUnsetSetting,
     [](std::string_view evidence, std::span<const std::string>) {
         if (const auto name = VariableName(evidence)) {
             return "Set " + *name + " in the service's variables on Railway (or wherever the app reads it from), then "
                                     "redeploy.";
         }
         return std::string("Set the setting the deciding line names (an environment variable, most often) in the "
                            "service's variables on Railway, then redeploy.");
     }},
    {kSettings, [](std::string_view, std::span<const std::string> lines) { return SettingsStep(lines); }},
    {kPort, [](std::string_view evidence, std::span<const std::string> lines) { return PortStep(lines, evidence, false); }},
    {kHealth, [](std::string_view evidence, std::span<const std::string> lines) { return PortStep(lines, evidence, true); }},
    {kModule,
     [](std::string_view evidence, std::span<const std::string>) {
         auto name = QuotedAfter(evidence, "cannot find module");
         if (!name) name = QuotedAfter(evidence, "no module named");
         if (name && (name->front() == '.' || name->front() == '/')) {
             return "The start command runs " + *name +
                    ", which is not in the image: build it first (a build script) or fix the path in the start "
                    "command, then redeploy.";
         }
         if (name) {
             return "Add " + *name +
                    " to the dependencies (package.json, requirements.txt…) and commit the lock file, then push.";
         }
         return std::string("Add the package the deciding line names to the dependencies and commit the lock file, "
                            "then push.");
     }},
    {kCommand,
     [](std::string_view evidence, std::span<const std::string>) {
         std::optional<std::string> name = Quoted(evidence);
         if (const std::size_t at = ToLower(evidence).find(": command not found"); !name && at != std::string::npos) {
             const std::size_t from = evidence.rfind(": ", at > 0 ? at - 1 : 0);
             const std::size_t begin = from == std::string_view::npos ? 0 : from + 2;
             if (at > begin) name = std::string(evidence.substr(begin, at - begin));
         }
         if (name) {
             return "Install " + *name +
                    " in the image (add it to the dependencies) or change the start command, then redeploy.";
         }
         return std::string("Install the command the deciding line names in the image, or change the start command, "
                            "then redeploy.");
     }},
    {kDeps,
     [](std::string_view evidence, std::span<const std::string>) {
         std::optional<std::string> name = WordAfter(evidence, "satisfies the requirement ");
         if (!name) name = Quoted(evidence);
         if (name) {
             return "The dependency " + *name +
                    " cannot be installed (no such name or version in the registry, or versions that conflict): fix "
                    "it in the dependencies, update the lock file, then push.";
         }
         return std::string("Fix the dependency the deciding line names (its name or version), update the lock file, "
                            "then push.");
     }},
    {kCompile,
     [](std::string_view evidence, std::span<const std::string> lines) {
         std::string where;
         if (const std::size_t at = ToLower(evidence).find(": error ts"); at != std::string::npos) {
             where = Trimmed(evidence.substr(0, at));
         } else if (const std::size_t dash = ToLower(evidence).find(" - error ts"); dash != std::string::npos) {
             where = Trimmed(evidence.substr(0, dash));
         } else if (const std::size_t go = evidence.find(".go:"); go != std::string_view::npos) {
             where = Trimmed(evidence.substr(0, evidence.find(": ", go)));  // go: ./main.go:12:2: undefined: foo
         } else {
             for (const std::string& line : lines) {  // rustc: "  --> src/main.rs:3:5"
                 if (const std::size_t arrow = line.find("--> "); arrow != std::string::npos) {
                     where = Trimmed(std::string_view(line).substr(arrow + 4));
                     break;
                 }
             }
         }
         if (!where.empty()) {
             return "Fix the compile error at " + where +
                    " (the deciding line says what is wrong), check that it builds locally, then push.";
         }
         return std::string("Fix the compile errors the build log shows, check that it builds locally, then push.");
     }},
    {kRefused,
     [](std::string_view evidence, std::span<const std::string>) {
         const auto address = FindAddress(evidence);
         if (address && address->loopback()) {
             return "The service connects to " + address->text() +
                    ", which on Railway is the service's own container: connect through the other service's "
                    "variables (e.g. DATABASE_URL=${{Postgres.DATABASE_URL}}) or its private host "
                    "(NAME.railway.internal), then redeploy.";
         }
         if (address) {
             return "Nothing accepted connections at " + address->text() +
                    ": check that that service is up and listens there (a private host needs the port the service "
                    "listens on), then redeploy.";
         }
         return std::string("Check that the service it connects to is up and that the address in its variables is "
                            "right, then redeploy.");
     }},
    {kDns,
     [](std::string_view evidence, std::span<const std::string>) {
         std::optional<std::string> host = WordAfter(evidence, "enotfound ");
         if (!host) host = WordAfter(evidence, "eai_again ");
         if (!host) host = WordAfter(evidence, "could not resolve host: ");
         if (host) {
             return "The host " + *host +
                    " did not resolve: check the host name in the service's variables (a private host ends in "
                    ".railway.internal and resolves only inside its project and environment), then redeploy.";
         }
         return std::string("Check the host names in the service's variables (a private host ends in .railway.internal "
                            "and resolves only inside its project and environment), then redeploy.");
     }},
    {kStart,
     [](std::string_view, std::span<const std::string>) {
         return std::string("Give the service a start command (its Custom Start Command in the service's settings, a "
                            "\"start\" script in package.json, or a Procfile), then redeploy.");
     }},
    {kBuildPlan,
     [](std::string_view, std::span<const std::string>) {
         return std::string("Railway's builder found nothing it knows at the service's root: set the service's Root "
                            "Directory, or add a Dockerfile (or package.json, requirements.txt, go.mod…), then redeploy.");
     }},
    {"package.json has no such script",
     [](std::string_view evidence, std::span<const std::string>) {
         if (const auto name = QuotedAfter(evidence, "missing script")) {
             return "Add a \"" + *name + "\" script to package.json, or change the command that runs it, then push.";
         }
         return std::string("Add the missing script to package.json, or change the command that runs it, then push.");
     }},
    {kDockerfile,
     [](std::string_view, std::span<const std::string>) {
         return std::string("Fix the Dockerfile (the deciding line names the problem), or set RAILWAY_DOCKERFILE_PATH "
                            "in the service's variables to where it is, then redeploy.");
     }},
    {kImage,
     [](std::string_view, std::span<const std::string>) {
         return std::string("Check the image's name and tag, and the registry credentials of a private image, then "
                            "redeploy.");
     }},
    {"the port is already in use",
     [](std::string_view, std::span<const std::string>) {
         return std::string("Two listeners want one port: start one server on $PORT only (look for a second process in "
                            "the start command), then redeploy.");
     }},
    {kBuildStep,
     [](std::string_view, std::span<const std::string>) {
         return std::string("The build log lines before the deciding one are the failing step's own output: fix what "
                            "they report, then push.");
     }},
    {kScript,
     [](std::string_view, std::span<const std::string>) {
         return std::string("The log lines before the script's exit say why it failed: fix that, then push.");
     }},
    {"Node.js ran out of heap memory",
     [](std::string_view, std::span<const std::string>) {
         return std::string("Raise the service's memory limit, or cap Node's heap below it (NODE_OPTIONS="
                            "--max-old-space-size=…) and lower the app's use, then redeploy.");
     }},
    {kOom,
     [](std::string_view, std::span<const std::string>) {
         return std::string("Raise the service's memory limit, or lower the app's memory use (a leak, a cache, too "
                            "many workers), then redeploy.");
     }},
    {kDbSlots,
     [](std::string_view, std::span<const std::string>) {
         return std::string("The database has no free connection slots: make the app's connection pool smaller (or put "
                            "a pooler in front), then redeploy.");
     }},
    {kDisk,
     [](std::string_view, std::span<const std::string>) {
         return std::string("Free or enlarge the volume the service writes to (or write less: logs, caches, "
                            "uploads), then redeploy.");
     }},
    {"the database rejected the user or password",
     [](std::string_view, std::span<const std::string>) {
         return std::string("Check the database user and password in the service's variables (reference the "
                            "database's own, e.g. ${{Postgres.DATABASE_URL}}), then redeploy.");
     }},
});

}  // namespace

std::string FailureNextStep(ErrorClass error_class, std::string_view reason, std::string_view evidence,
                            std::span<const std::string> log_lines) {
    for (const StepRule& rule : kSteps) {
        if (reason.starts_with(rule.reason)) return rule.step(evidence, log_lines);
    }
    return ClassStep(error_class);
}

std::vector<std::string_view> NextStepReasons() {
    std::vector<std::string_view> reasons;
    reasons.reserve(kSteps.size());
    for (const StepRule& rule : kSteps)
        reasons.push_back(rule.reason);
    return reasons;
}

}  // namespace railwatch::core
