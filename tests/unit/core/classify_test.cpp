#include "core/classify.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <set>
#include <string>

namespace railwatch::core {
namespace {

constexpr ErrorClass kConfig = ErrorClass::kConfiguration;
constexpr ErrorClass kNet = ErrorClass::kNetwork;
constexpr ErrorClass kAuth = ErrorClass::kAuthentication;
constexpr ErrorClass kRes = ErrorClass::kResource;
constexpr ErrorClass kTime = ErrorClass::kTimeout;
constexpr ErrorClass kUnknown = ErrorClass::kUnknown;

// ---- One realistic line each: what the class must be, and a word the reason must contain.
struct LineCase {
    const char* name;
    const char* line;
    ErrorClass expected;
    const char* reason_word;
};

void PrintTo(const LineCase& c, std::ostream* os) {
    *os << c.name;
}

class RealLogLine : public ::testing::TestWithParam<LineCase> {};

TEST_P(RealLogLine, IsClassifiedWithAReason) {
    const LineCase& c = GetParam();
    const Classification result = ClassifyMessage(c.line);
    EXPECT_EQ(result.error_class, c.expected) << c.line << "\nreason: " << result.reason;
    EXPECT_NE(result.reason.find(c.reason_word), std::string::npos) << result.reason;
    EXPECT_FALSE(result.evidence.empty());
    EXPECT_FALSE(result.retryable);
}

INSTANTIATE_TEST_SUITE_P(
    Classify, RealLogLine,
    ::testing::Values(
        // Node.js
        LineCase{"NodeHeapOom", "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                 kRes, "memory"},
        LineCase{"NodeEtimedout", "Error: connect ETIMEDOUT 10.0.3.7:5432", kNet, "timed out"},
        LineCase{"NodeEconnrefused", "Error: connect ECONNREFUSED 127.0.0.1:6379", kNet, "refused"},
        LineCase{"NodeEconnreset",
                 "Error: read ECONNRESET\n    at TCP.onStreamRead (node:internal/stream_base_commons:217:20)", kNet,
                 "reset"},
        LineCase{"NodeEaiAgain", "Error: getaddrinfo EAI_AGAIN postgres.railway.internal", kNet, "DNS"},
        LineCase{
            "NodeEnotfound",
            "FetchError: request to https://api.stripe.com/v1 failed, reason: getaddrinfo ENOTFOUND api.stripe.com",
            kNet, "DNS"},
        LineCase{"NodeSocketHangUp", "Error: socket hang up at connResetException (node:internal/errors:720:14)", kNet,
                 "reset"},
        LineCase{"NodeCannotFindModule", "Error: Cannot find module 'express'\nRequire stack:\n- /app/server.js",
                 kConfig, "module"},
        LineCase{"NodeEaddrinuse", "Error: listen EADDRINUSE: address already in use :::3000", kConfig, "port"},
        LineCase{"NodeEnospc", "Error: ENOSPC: no space left on device, write", kRes, "disk"},
        LineCase{"NodeUndiciFetchFailed",
                 "TypeError: fetch failed\n  cause: ConnectTimeoutError: Connect Timeout Error", kNet, "timed out"},
        LineCase{"NodeUndiciFetchFailedAlone", "TypeError: fetch failed", kNet, "HTTP"},
        LineCase{"NodeEnvThrow", "Error: Missing required environment variable: DATABASE_URL", kConfig, "environment"},
        LineCase{"AxiosUpstream503", "AxiosError: Request failed with status code 503", kNet, "503"},
        LineCase{"Axios401", "AxiosError: Request failed with status code 401", kAuth, "401"},
        LineCase{"OpenAiKey", "Error: 401 Incorrect API key provided: sk-proj-****abcd.", kAuth, "API key"},
        LineCase{"PgPoolTimeout", "Error: Connection terminated due to connection timeout", kNet, "timed out"},
        LineCase{"PgTerminated", "Error: Connection terminated unexpectedly", kNet, "reset"},
        // npm / package managers
        LineCase{"NpmElifecycle", "npm ERR! code ELIFECYCLE", kConfig, "script"},
        LineCase{"NpmMissingScript", "npm error Missing script: \"start\"", kConfig, "script"},
        LineCase{"NpmEresolve", "npm ERR! ERESOLVE unable to resolve dependency tree", kConfig, "dependencies"},
        LineCase{"Npm404", "npm ERR! 404 Not Found - GET https://registry.npmjs.org/@acme%2finternal - Not found",
                 kConfig, "dependencies"},
        LineCase{"PipNoVersion",
                 "ERROR: Could not find a version that satisfies the requirement torch==2.9.9 (from versions: none)",
                 kConfig, "dependencies"},
        // Python
        LineCase{"PythonKeyErrorEnviron", "    SECRET_KEY = os.environ[\"SECRET_KEY\"]", kConfig, "environment"},
        LineCase{"PythonModuleNotFound", "ModuleNotFoundError: No module named 'psycopg2'", kConfig, "module"},
        LineCase{"PythonMemoryError", "MemoryError: Unable to allocate 3.2 GiB for an array", kRes, "memory"},
        LineCase{"PythonDnsRequests",
                 "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.example.com', port=443): Max "
                 "retries exceeded with url: / (Caused by NewConnectionError('Failed to establish a new connection: "
                 "[Errno -3] Temporary failure in name resolution'))",
                 kNet, "DNS"},
        LineCase{"PydanticSettings", "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
                 kConfig, "settings"},
        // PostgreSQL clients
        LineCase{"PgPassword", "FATAL:  password authentication failed for user \"postgres\"", kAuth, "password"},
        LineCase{"PgTooManyClients", "FATAL: sorry, too many clients already", kRes, "connection slots"},
        LineCase{"LibpqDns",
                 "psycopg2.OperationalError: could not translate host name \"postgres.railway.internal\" to address: "
                 "Name or service not known",
                 kNet, "DNS"},
        LineCase{
            "LibpqRefused",
            "could not connect to server: Connection refused\n\tIs the server running on host \"db\" and accepting",
            kNet, "refused"},
        LineCase{"PrismaEnv", "error: Environment variable not found: DATABASE_URL.", kConfig, "environment"},
        LineCase{"MysqlAccessDenied",
                 "ERROR 1045 (28000): Access denied for user 'root'@'10.0.0.5' (using password: YES)", kAuth,
                 "password"},
        LineCase{"RedisWrongPass", "ReplyError: WRONGPASS invalid username-password pair or user is disabled.", kAuth,
                 "credentials"},
        // Go
        LineCase{"GoDialTimeout", "dial tcp 10.0.0.12:5432: i/o timeout", kNet, "timed out"},
        LineCase{"GoNoSuchHost", "dial tcp: lookup redis.railway.internal on [fd12::10]:53: no such host", kNet, "DNS"},
        LineCase{"GoOom", "fatal error: runtime: out of memory", kRes, "memory"},
        LineCase{"GoEnvconfig", "envconfig: required key DATABASE_URL missing value", kConfig, "environment"},
        LineCase{"GoContextDeadline", "Post \"https://hooks.slack.com/x\": context deadline exceeded", kNet,
                 "timed out"},
        // Java
        LineCase{"JavaOom", "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space", kRes, "JVM"},
        LineCase{"JavaConnectException", "java.net.ConnectException: Connection refused (Connection refused)", kNet,
                 "refused"},
        LineCase{"JavaUnknownHost", "java.net.UnknownHostException: mysql.railway.internal", kNet, "DNS"},
        LineCase{
            "SpringPlaceholder",
            "java.lang.IllegalArgumentException: Could not resolve placeholder 'JWT_SECRET' in value \"${JWT_SECRET}\"",
            kConfig, "environment"},
        // Docker / BuildKit
        LineCase{
            "DockerBuildOom",
            "ERROR: failed to solve: process \"/bin/sh -c npm run build\" did not complete successfully: exit code: "
            "137",
            kRes, "137"},
        LineCase{
            "DockerBuildExit1",
            "ERROR: failed to solve: process \"/bin/sh -c yarn build\" did not complete successfully: exit code: 1",
            kConfig, "build step"},
        LineCase{"DockerfileUnknownInstruction",
                 "Dockerfile:12\nerror: dockerfile parse error line 12: unknown instruction: RUNN", kConfig,
                 "Dockerfile"},
        LineCase{"DockerPullDenied",
                 "pull access denied for acme/api, repository does not exist or may require 'docker login'", kConfig,
                 "image"},
        LineCase{"DockerHubRateLimit",
                 "toomanyrequests: You have reached your pull rate limit. You may increase the limit by authenticating",
                 kRes, "rate"},
        LineCase{"ExecNotFound", "exec: \"gunicorn\": executable file not found in $PATH", kConfig, "executable"},
        LineCase{"OomKilled", "container exited: OOMKilled (exit code 137)", kRes, "OOMKilled"},
        LineCase{"ShellKilled", "/bin/sh: line 1:    29 Killed                  node dist/main.js", kRes, "killed"},
        // Nixpacks / Railpack / Railway
        LineCase{"RailpackNoStart", "No start command was found", kConfig, "start command"},
        LineCase{"NixpacksNoPlan", "Nixpacks was unable to generate a build plan for this app.", kConfig, "build plan"},
        LineCase{"RailwayHealthcheckFailed", "Healthcheck failed!", kTime, "healthcheck"},
        LineCase{"RailwayReplicasNeverHealthy", "1/1 replicas never became healthy!", kTime, "healthcheck"},
        LineCase{"RailwayHealthAttempt", "Attempt #4 failed with service unavailable. Continuing to retry for 3m42s",
                 kTime, "healthcheck"},
        LineCase{"RailwayAppFailedToRespond", "Application failed to respond", kConfig, "PORT"},
        LineCase{"RailwayUsageLimit", "Deploys have been paused because your workspace reached its usage limit", kRes,
                 "limit"},
        LineCase{"RailwayBuildTimedOut", "Build timed out after 20 minutes", kTime, "time limit"},
        LineCase{"RailwayNotAuthorized", "Not Authorized", kAuth, "Not Authorized"},
        // Misc dependencies
        LineCase{"AwsBadToken", "UnrecognizedClientException: The security token included in the request is invalid.",
                 kAuth, "credentials"},
        LineCase{"GithubBadCreds", "HttpError: Bad credentials - https://docs.github.com/rest", kAuth, "credentials"},
        LineCase{"JwtExpired", "TokenExpiredError: jwt expired", kAuth, "expired"},
        LineCase{"Upstream502",
                 "upstream connect error or disconnect/reset before headers. reset reason: connection failure", kNet,
                 "502"},
        LineCase{"Nginx504", "<html><head><title>504 Gateway Time-out</title></head>", kNet, "504"},
        LineCase{"TlsSelfSigned", "Error: self-signed certificate in certificate chain", kConfig, "TLS"},
        LineCase{"TooManyOpenFiles", "accept4: too many open files; retrying in 1s", kRes, "file descriptors"},
        LineCase{"RustCompile", "error: could not compile `api` (bin \"api\") due to 2 previous errors", kConfig,
                 "compile"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ClassifyMessage, MatchingIsCaseInsensitive) {
    EXPECT_EQ(ClassifyMessage("ERROR: CONNECT econnREFUSED 10.0.0.1:80").error_class, kNet);
    EXPECT_EQ(ClassifyMessage("out OF MEMORY").error_class, kRes);
}

TEST(ClassifyMessage, UnrecognisedTextIsUnknownAndKeepsTheText) {
    const Classification c = ClassifyMessage("  Listening on port 8080  ");
    EXPECT_EQ(c.error_class, kUnknown);
    EXPECT_EQ(c.evidence, "Listening on port 8080");
    EXPECT_EQ(ClassifyMessage("").error_class, kUnknown);
}

TEST(ClassifyMessage, StrongRuleBeatsWeakRuleOnTheSameLine) {
    // "timeout" (weak TIMEOUT) and "ETIMEDOUT" (strong NETWORK) on one line.
    EXPECT_EQ(ClassifyMessage("request timeout: connect ETIMEDOUT 1.2.3.4:443").error_class, kNet);
    // "exit code: 1" is a weak substring of "exit code: 137"; 137 (strong) wins.
    EXPECT_EQ(ClassifyMessage("did not complete successfully: exit code: 137").error_class, kRes);
}

TEST(ClassifyMessage, TimeLimitIsTimeoutNotAResourceLimit) {
    EXPECT_EQ(ClassifyMessage("Deployment exceeded its time limit").error_class, kTime);
    EXPECT_EQ(ClassifyMessage("Rate limit exceeded").error_class, kRes);
}

TEST(ClassifyMessage, WildcardPatternsNeedThePiecesInOrder) {
    EXPECT_EQ(ClassifyMessage("environment variable REDIS_URL is not set").error_class, kConfig);
    EXPECT_EQ(ClassifyMessage("invalid Stripe API key provided").error_class, kAuth);
    // "api key" followed by "invalid" is the other row; "api key" alone is not evidence.
    EXPECT_EQ(ClassifyMessage("the API key you sent is invalid").error_class, kAuth);
    EXPECT_EQ(ClassifyMessage("API key rotated successfully").error_class, kUnknown);
}

TEST(ClassifyMessage, ErrnoCodesMatchOnlyAtTheStartOfAWord) {
    EXPECT_EQ(ClassifyMessage("getaddrinfo ENOTFOUND db").error_class, kNet);
    EXPECT_EQ(ClassifyMessage("code: 'ENOTFOUND'").error_class, kNet);
    EXPECT_EQ(ClassifyMessage("ModuleNotFoundError: No module named 'x'").error_class, kConfig);
    EXPECT_EQ(ClassifyMessage("skilled workers").error_class, kUnknown);
    EXPECT_EQ(ClassifyMessage("recipe pipeline").error_class, kUnknown);
}

TEST(ClassifyMessage, LongEvidenceIsTruncated) {
    const std::string line = "Error: connect ECONNREFUSED " + std::string(1000, 'x');
    const Classification c = ClassifyMessage(line);
    EXPECT_EQ(c.error_class, kNet);
    EXPECT_EQ(c.evidence.size(), 240u);
    EXPECT_EQ(c.evidence.substr(237), "...");
}

TEST(MessageRules, EveryPatternIsLowerCaseNonEmptyAndHasAReason) {
    std::set<std::string_view> seen;
    for (const MessageRule& rule : MessageRules()) {
        EXPECT_FALSE(rule.pattern.empty());
        EXPECT_FALSE(rule.reason.empty()) << rule.pattern;
        for (char ch : rule.pattern)
            EXPECT_FALSE(ch >= 'A' && ch <= 'Z') << rule.pattern;
        EXPECT_TRUE(seen.insert(rule.pattern).second) << "duplicate pattern " << rule.pattern;
    }
    EXPECT_GT(seen.size(), 100u);
}

TEST(MessageRules, EveryRuleIsReachableFromItsOwnPattern) {
    // A rule shadowed by an earlier rule of the same strength for its own text could never
    // decide anything; its pattern (with '*' as a space) must classify as its own class.
    for (const MessageRule& rule : MessageRules()) {
        std::string text(rule.pattern.substr(rule.pattern.front() == '<' ? 1 : 0));
        for (char& ch : text) {
            if (ch == '*') ch = ' ';
        }
        EXPECT_EQ(ClassifyMessage(text).error_class, rule.error_class) << rule.pattern;
    }
}

TEST(MessageRules, TheTableCoversEveryClassButUnknown) {
    std::set<ErrorClass> classes;
    for (const MessageRule& rule : MessageRules())
        classes.insert(rule.error_class);
    EXPECT_EQ(classes, (std::set<ErrorClass>{kConfig, kNet, kAuth, kRes, kTime}));
}

// ---- Deployment evidence

TEST(ClassifyDeploymentFailure, EventErrorsWinOverLogLines) {
    FailureEvidence e;
    e.status = DeploymentStatus::kFailed;
    e.event_errors = {"Error: Missing required environment variable: STRIPE_SECRET"};
    e.log_lines = {"Error: connect ECONNREFUSED 10.0.0.3:5432"};
    const Classification c = ClassifyDeploymentFailure(e);
    EXPECT_EQ(c.error_class, kConfig);
    EXPECT_NE(c.evidence.find("STRIPE_SECRET"), std::string::npos);
}

TEST(ClassifyDeploymentFailure, NewestLineWinsAmongEquals) {
    FailureEvidence e;
    e.status = DeploymentStatus::kCrashed;
    e.log_lines = {"Error: connect ECONNREFUSED 10.0.0.3:5432", "FATAL ERROR: JavaScript heap out of memory"};
    EXPECT_EQ(ClassifyDeploymentFailure(e).error_class, kRes);
    std::swap(e.log_lines[0], e.log_lines[1]);
    EXPECT_EQ(ClassifyDeploymentFailure(e).error_class, kNet);
}

TEST(ClassifyDeploymentFailure, RootCauseBeatsTheNewerWrapperLine) {
    FailureEvidence e;
    e.status = DeploymentStatus::kCrashed;
    e.log_lines = {
        "> api@1.0.0 start /app",
        "> node server.js",
        "<--- Last few GCs --->",
        "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory",
        "npm ERR! code ELIFECYCLE",
        "npm ERR! errno 134",
        "npm ERR! api@1.0.0 start: `node server.js`",
        "npm ERR! A complete log of this run can be found in: /root/.npm/_logs/2026-01-01-debug.log",
    };
    const Classification c = ClassifyDeploymentFailure(e);
    EXPECT_EQ(c.error_class, kRes);
    EXPECT_NE(c.evidence.find("heap out of memory"), std::string::npos);
}

TEST(ClassifyDeploymentFailure, CrashBeforeAFailedHealthcheckIsTheCause) {
    FailureEvidence e;
    e.status = DeploymentStatus::kFailed;
    e.failed_step = DeploymentEventStep::kHealthcheck;
    e.event_errors = {"Healthcheck failed"};
    e.log_lines = {"Starting Container", "Error: Missing required environment variable: DATABASE_URL",
                   "Attempt #1 failed with service unavailable. Continuing to retry for 4m49s",
                   "1/1 replicas never became healthy!", "Healthcheck failed!"};
    EXPECT_EQ(ClassifyDeploymentFailure(e).error_class, kConfig);
}

TEST(ClassifyDeploymentFailure, HealthcheckWithoutACauseIsTimeout) {
    FailureEvidence e;
    e.status = DeploymentStatus::kFailed;
    e.log_lines = {"====================",
                   "Starting Healthcheck",
                   "Path: /health",
                   "Retry window: 5m0s",
                   "Attempt #1 failed with service unavailable. Continuing to retry for 4m49s",
                   "1/1 replicas never became healthy!",
                   "Healthcheck failed!"};
    const Classification c = ClassifyDeploymentFailure(e);
    EXPECT_EQ(c.error_class, kTime);
    EXPECT_EQ(c.evidence, "Healthcheck failed!");
}

TEST(ClassifyDeploymentFailure, ServiceUnavailableDuringHealthcheckIsTimeoutElsewhereNetwork) {
    FailureEvidence during;
    during.status = DeploymentStatus::kFailed;
    during.failed_step = DeploymentEventStep::kHealthcheck;
    during.log_lines = {"GET /health 503 Service Unavailable"};
    const Classification c = ClassifyDeploymentFailure(during);
    EXPECT_EQ(c.error_class, kTime);
    EXPECT_NE(c.reason.find("healthcheck"), std::string::npos);

    FailureEvidence runtime;
    runtime.status = DeploymentStatus::kCrashed;
    runtime.log_lines = {"GET /health 503 Service Unavailable"};
    EXPECT_EQ(ClassifyDeploymentFailure(runtime).error_class, kNet);
}

TEST(ClassifyDeploymentFailure, HealthcheckMentionInLogsSetsTheContext) {
    FailureEvidence e;
    e.status = DeploymentStatus::kFailed;
    e.log_lines = {"Starting Healthcheck", "AxiosError: Request failed with status code 503"};
    EXPECT_EQ(ClassifyDeploymentFailure(e).error_class, kTime);
}

TEST(ClassifyDeploymentFailure, FailedStepIsTheFallback) {
    FailureEvidence health;
    health.status = DeploymentStatus::kFailed;
    health.failed_step = DeploymentEventStep::kHealthcheck;
    health.log_lines = {"Listening on 0.0.0.0:8080"};
    EXPECT_EQ(ClassifyDeploymentFailure(health).error_class, kTime);

    FailureEvidence build;
    build.status = DeploymentStatus::kFailed;
    build.failed_step = DeploymentEventStep::kBuildImage;
    EXPECT_EQ(ClassifyDeploymentFailure(build).error_class, kConfig);

    FailureEvidence network_step;
    network_step.status = DeploymentStatus::kFailed;
    network_step.failed_step = DeploymentEventStep::kConfigureNetwork;
    EXPECT_EQ(ClassifyDeploymentFailure(network_step).error_class, kUnknown);
}

TEST(ClassifyDeploymentFailure, NoEvidenceIsUnknownWithTheStatus) {
    FailureEvidence e;
    e.status = DeploymentStatus::kCrashed;
    const Classification c = ClassifyDeploymentFailure(e);
    EXPECT_EQ(c.error_class, kUnknown);
    EXPECT_EQ(c.evidence, "CRASHED");
    EXPECT_EQ(ClassifyDeploymentFailure(FailureEvidence{}).evidence, "");
}

TEST(ClassifyDeploymentFailure, StrongLogBeatsWeakEvent) {
    FailureEvidence e;
    e.status = DeploymentStatus::kFailed;
    e.event_errors = {"Build failed"};
    e.log_lines = {"ERROR: failed to solve: process \"/bin/sh -c npm ci\" did not complete: exit code: 137"};
    EXPECT_EQ(ClassifyDeploymentFailure(e).error_class, kRes);
}

TEST(ClassifyDeploymentFailure, WeakEventBeatsWeakLog) {
    FailureEvidence e;
    e.status = DeploymentStatus::kFailed;
    e.event_errors = {"process killed"};
    e.log_lines = {"npm ERR! code ELIFECYCLE"};
    EXPECT_EQ(ClassifyDeploymentFailure(e).error_class, kRes);
}

// ---- API failures

using Kind = ApiFailureKind;

std::string ToLower(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
}

struct ApiCase {
    const char* name;
    ApiFailure failure;
    ErrorClass expected;
    bool retryable;
    ApiFailureKind kind;
};

void PrintTo(const ApiCase& c, std::ostream* os) {
    *os << c.name;
}

class ApiFailureCase : public ::testing::TestWithParam<ApiCase> {};

TEST_P(ApiFailureCase, IsClassified) {
    const ApiCase& c = GetParam();
    const ApiClassification result = ClassifyApiFailure(c.failure);
    EXPECT_EQ(result.error_class, c.expected) << result.reason;
    EXPECT_EQ(result.retryable, c.retryable) << result.reason;
    EXPECT_EQ(result.kind, c.kind) << result.reason;
    EXPECT_EQ(IsRetryableApiFailure(c.failure), c.retryable);
    EXPECT_FALSE(result.reason.empty());
}

ApiFailure Transport(TransportErrorKind kind) {
    ApiFailure f;
    f.transport = kind;
    return f;
}

ApiFailure Status(int status, bool malformed = false) {
    ApiFailure f;
    f.http_status = status;
    f.malformed_body = malformed;
    return f;
}

// Errors as Railway sends them: every one carries the same `code` (INTERNAL_SERVER_ERROR on real
// Railway, whatever the message says).
ApiFailure GraphQl(std::vector<std::string> messages, const std::string& code = "", int status = 200) {
    ApiFailure f;
    f.http_status = status;
    for (auto& message : messages)
        f.graphql_errors.push_back({std::move(message), code, "", ""});
    return f;
}

ApiFailure Railway(std::string message, std::string path = "d0") {
    ApiFailure f = GraphQl({std::move(message)}, "INTERNAL_SERVER_ERROR");
    f.graphql_errors[0].path_head = std::move(path);
    f.graphql_errors[0].trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    return f;
}

ApiFailure EdgePage(int status) {
    ApiFailure f = Status(status, true);
    f.edge_page = true;
    return f;
}

ApiFailure Precondition() {
    ApiFailure f;
    f.precondition = "canRedeploy is false";
    return f;
}

INSTANTIATE_TEST_SUITE_P(
    Classify, ApiFailureCase,
    ::testing::Values(
        ApiCase{"Dns", Transport(TransportErrorKind::kDns), kNet, true, Kind::kUnavailable},
        ApiCase{"Connect", Transport(TransportErrorKind::kConnect), kNet, true, Kind::kUnavailable},
        ApiCase{"Reset", Transport(TransportErrorKind::kReset), kNet, true, Kind::kUnavailable},
        ApiCase{"RequestTimeout", Transport(TransportErrorKind::kTimeout), kNet, true, Kind::kTimeout},
        ApiCase{"Tls", Transport(TransportErrorKind::kTls), kConfig, false, Kind::kUnavailable},
        ApiCase{"Cancelled", Transport(TransportErrorKind::kCancelled), kUnknown, false, Kind::kCancelled},
        ApiCase{"OtherTransport", Transport(TransportErrorKind::kOther), kUnknown, true, Kind::kUnavailable},
        ApiCase{"Precondition", Precondition(), kConfig, false, Kind::kPrecondition},
        ApiCase{"Http401", Status(401), kAuth, false, Kind::kAuth},
        ApiCase{"Http403", Status(403), kAuth, false, Kind::kAuth},
        ApiCase{"Http429", Status(429), kRes, true, Kind::kRateLimited},
        ApiCase{"CloudflareHtml403", Status(403, true), kRes, true, Kind::kRateLimited},
        ApiCase{"CloudflareHtml429", Status(429, true), kRes, true, Kind::kRateLimited},
        ApiCase{"CloudflarePageWith200", EdgePage(200), kRes, true, Kind::kRateLimited},
        ApiCase{"Http500", Status(500), kNet, true, Kind::kUnavailable},
        ApiCase{"Http502Html", Status(502, true), kNet, true, Kind::kUnavailable},
        ApiCase{"Http503", Status(503), kNet, true, Kind::kUnavailable},
        ApiCase{"Http504", Status(504), kNet, true, Kind::kUnavailable},
        ApiCase{"Http408", Status(408), kNet, true, Kind::kTimeout},
        ApiCase{"Http501", Status(501), kConfig, false, Kind::kEndpoint},
        ApiCase{"Http400Validation", Status(400), kConfig, false, Kind::kBadDocument},
        ApiCase{"Http404", Status(404), kConfig, false, Kind::kEndpoint},
        ApiCase{"Http301", Status(301), kConfig, false, Kind::kEndpoint},
        ApiCase{"Http418", Status(418), kConfig, false, Kind::kUnknown},
        ApiCase{"HtmlWith200", Status(200, true), kNet, true, Kind::kMalformed},
        ApiCase{"NotAuthorized", GraphQl({"Not Authorized"}), kAuth, false, Kind::kAuth},
        ApiCase{"ProjectTokenNotFound", GraphQl({"Project Token not found"}), kAuth, false, Kind::kAuth},
        ApiCase{"TwoFactor", GraphQl({"Two Factor Authentication Required"}), kAuth, false, Kind::kAuth},
        ApiCase{"ProblemProcessing", GraphQl({"Problem processing request"}), kConfig, false, Kind::kInvalidArgument},
        ApiCase{"ProjectNotFound", GraphQl({"Project not found"}), kConfig, false, Kind::kNotFound},
        ApiCase{"DeploymentNotFound", GraphQl({"Deployment not found"}), kConfig, false, Kind::kNotFound},
        ApiCase{"RateLimitMessage", GraphQl({"Rate limit exceeded, retry later"}), kRes, true, Kind::kRateLimited},
        ApiCase{"InternalServerError", GraphQl({"Internal server error"}), kNet, true, Kind::kUnavailable},
        ApiCase{"ValidationCode400",
                GraphQl({"Cannot query field \"foo\" on type \"Deployment\"."}, "GRAPHQL_VALIDATION_FAILED", 400),
                kConfig, false, Kind::kBadDocument},
        ApiCase{"ParseCode", GraphQl({"Expected Name, found <EOF>"}, "GRAPHQL_PARSE_FAILED", 400), kConfig, false,
                Kind::kBadDocument},
        ApiCase{"BadUserInput", GraphQl({"Variable \"$id\" got invalid value"}, "BAD_USER_INPUT"), kConfig, false,
                Kind::kInvalidArgument},
        ApiCase{"InternalCode", GraphQl({"Something broke"}, "INTERNAL_SERVER_ERROR"), kNet, true, Kind::kUnavailable},
        // Real Railway: INTERNAL_SERVER_ERROR on every error, a path and a traceId. The message decides.
        ApiCase{"RailwayNotAuthorized", Railway("Not Authorized"), kAuth, false, Kind::kAuth},
        ApiCase{"RailwayDeploymentNotFound", Railway("Deployment not found"), kConfig, false, Kind::kNotFound},
        ApiCase{"RailwayProblemProcessing", Railway("Problem processing request"), kConfig, false,
                Kind::kInvalidArgument},
        ApiCase{"RailwayUnrecognised", Railway("Something odd happened"), kNet, true, Kind::kUnavailable},
        ApiCase{"MessageFallsBackToTable", GraphQl({"connect ECONNREFUSED 10.1.1.1:443"}), kNet, false, Kind::kUnknown},
        ApiCase{"UnrecognisedMessage", GraphQl({"You must be a member of this team"}), kUnknown, false, Kind::kUnknown},
        ApiCase{"NoDetail", ApiFailure{}, kUnknown, false, Kind::kUnknown}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ClassifyApiFailure, TheFirstRecognisedMessageDecides) {
    const ApiClassification c = ClassifyApiFailure(GraphQl({"Something odd", "Not Authorized"}));
    EXPECT_EQ(c.error_class, kAuth);
    EXPECT_EQ(c.evidence, "Not Authorized");
    EXPECT_EQ(c.deciding_error, 1);
}

TEST(ClassifyApiFailure, AnyErrorsMessageBeatsAnyErrorsCode) {
    ApiFailure f = GraphQl({"Something odd"}, "INTERNAL_SERVER_ERROR");
    f.graphql_errors.push_back({"Problem processing request", "", "d3", ""});
    const ApiClassification c = ClassifyApiFailure(f);
    EXPECT_EQ(c.kind, Kind::kInvalidArgument);
    EXPECT_FALSE(c.retryable);
    EXPECT_EQ(c.deciding_error, 1);
}

TEST(ClassifyApiFailure, CodeDecidesOnlyWhenNoMessageIsKnown) {
    const ApiClassification c = ClassifyApiFailure(Railway("Something odd happened"));
    EXPECT_EQ(c.kind, Kind::kUnavailable);
    EXPECT_TRUE(c.retryable);
    EXPECT_EQ(c.deciding_error, 0);
    EXPECT_EQ(c.evidence, "Something odd happened");
}

TEST(ClassifyApiFailure, ServerErrorStatusWinsOverTheBodysMessages) {
    const ApiClassification c = ClassifyApiFailure(GraphQl({"Problem processing request"}, "", 503));
    EXPECT_EQ(c.kind, Kind::kUnavailable);
    EXPECT_TRUE(c.retryable);
}

TEST(ClassifyApiFailure, TransportErrorWinsOverAnythingElse) {
    ApiFailure f = GraphQl({"Not Authorized"});
    f.transport = TransportErrorKind::kReset;
    f.http_status = 0;
    EXPECT_EQ(ClassifyApiFailure(f).error_class, kNet);
    EXPECT_EQ(ClassifyApiFailure(f).deciding_error, -1);
}

TEST(ClassifyApiFailure, UnrecognisedMessageIsKeptAsEvidence) {
    const ApiClassification c = ClassifyApiFailure(GraphQl({"You must be a member of this team"}));
    EXPECT_EQ(c.evidence, "You must be a member of this team");
}

TEST(ApiRules, EveryPatternAndCodeIsLowerCaseAndEveryRuleIsReachable) {
    for (const ApiMessageRule& rule : ApiMessageRules()) {
        SCOPED_TRACE(rule.pattern);
        std::string text(rule.pattern);
        EXPECT_EQ(text, ToLower(text));
        std::replace(text.begin(), text.end(), '*', ' ');
        const ApiClassification c = ClassifyApiFailure(GraphQl({text}, "INTERNAL_SERVER_ERROR"));
        EXPECT_EQ(c.reason, rule.reason);
        EXPECT_EQ(c.kind, rule.kind);
    }
    for (const ApiCodeRule& rule : ApiCodeRules()) {
        SCOPED_TRACE(rule.code);
        EXPECT_EQ(std::string(rule.code), ToLower(std::string(rule.code)));
        const ApiClassification c = ClassifyApiFailure(GraphQl({"x"}, std::string(rule.code)));
        EXPECT_EQ(c.reason, rule.reason);
        EXPECT_EQ(c.retryable, rule.retryable);
    }
}

TEST(ApiFailureKind, EveryKindHasADistinctName) {
    std::set<std::string_view> names;
    for (auto kind : {Kind::kAuth, Kind::kNotFound, Kind::kInvalidArgument, Kind::kBadDocument, Kind::kEndpoint,
                      Kind::kPrecondition, Kind::kRateLimited, Kind::kUnavailable, Kind::kTimeout, Kind::kMalformed,
                      Kind::kCancelled, Kind::kUnknown}) {
        names.insert(ToString(kind));
    }
    EXPECT_EQ(names.size(), 12u);
}

TEST(TransportErrorKind, EveryKindHasADistinctName) {
    std::set<std::string_view> names;
    for (auto kind : {TransportErrorKind::kNone, TransportErrorKind::kDns, TransportErrorKind::kConnect,
                      TransportErrorKind::kReset, TransportErrorKind::kTls, TransportErrorKind::kTimeout,
                      TransportErrorKind::kCancelled, TransportErrorKind::kOther}) {
        names.insert(ToString(kind));
    }
    EXPECT_EQ(names.size(), 8u);
}

}  // namespace
}  // namespace railwatch::core
