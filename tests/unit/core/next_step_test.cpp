// FailureNextStep: the step of the rule that classified a failure, made specific with what its
// evidence names, from the same evidence the classifier saw (ClassifyDeploymentFailure).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/classify.hpp"

namespace railwatch::core {
namespace {

using ::testing::HasSubstr;

// The step for a failure whose logs are `lines` (newest last), as the engine computes it: the
// classification's reason and evidence, and the lines.
std::string StepFor(std::vector<std::string> lines, std::optional<DeploymentEventStep> failed_step = std::nullopt) {
    FailureEvidence evidence;
    evidence.status = DeploymentStatus::kFailed;
    evidence.log_lines = lines;
    evidence.failed_step = failed_step;
    const Classification verdict = ClassifyDeploymentFailure(evidence);
    return FailureNextStep(verdict.error_class, verdict.reason, verdict.evidence, lines);
}

TEST(FailureNextStep, NamesTheMissingVariable) {
    EXPECT_EQ(StepFor({"Starting Container", "Error: Missing required environment variable: DATABASE_URL"}),
              "Set DATABASE_URL in the service's variables on Railway, then redeploy.");
    EXPECT_EQ(StepFor({"    raise KeyError(key) from None", "KeyError: 'SECRET_KEY'"}),
              "Set SECRET_KEY in the service's variables on Railway, then redeploy.");
    EXPECT_EQ(StepFor({"ERROR: environment variable PORT is not set"}),
              "Set PORT in the service's variables on Railway, then redeploy.");
    EXPECT_EQ(StepFor({"Error: JWT_SECRET must be set"}),
              "Set JWT_SECRET in the service's variables on Railway (or wherever the app reads it from), then "
              "redeploy.");
    // Nothing in capitals to name: the rule's general step.
    EXPECT_EQ(StepFor({"error: missing environment variable"}),
              "Add the missing one to the service's environment variables on Railway (the deciding line names it), "
              "then redeploy.");
}

TEST(FailureNextStep, SaysWhereTheAppListensAgainstWhereRailwaySendsTraffic) {
    // Bound to loopback: unreachable whatever the port.
    EXPECT_EQ(StepFor({"Server listening on http://127.0.0.1:3000", "Application failed to respond"}),
              "The app listens on 127.0.0.1:3000, which Railway cannot reach: listen on 0.0.0.0 (every interface) "
              "and on the port in $PORT, then redeploy.");
    EXPECT_EQ(StepFor({"Listening on port 3000.", "Application failed to respond"}),
              "The app listens on port 3000: if the port in $PORT is another, listen on $PORT or set PORT=3000 in the "
              "service's variables; if not, check that the app answers (its deploy log), then redeploy.");
    EXPECT_THAT(StepFor({"Server listening on 0.0.0.0:8080", "Healthcheck failed!"}, DeploymentEventStep::kHealthcheck),
                HasSubstr("The healthcheck never got an answer: the app listens on port 8080: if the port in $PORT is "
                          "another, listen on $PORT or set PORT=8080 in the service's variables; if not, make the "
                          "healthcheck path answer within its timeout"));
    // The healthcheck that never got an answer says the same, as its cause.
    EXPECT_THAT(StepFor({"INFO:     Uvicorn running on http://localhost:8000 (Press CTRL+C to quit)",
                         "Attempt #6 failed with service unavailable. Continuing to retry for 4s",
                         "1/1 replicas never became healthy!", "Healthcheck failed!"},
                        DeploymentEventStep::kHealthcheck),
                HasSubstr("The healthcheck never got an answer: the app listens on localhost:8000, which Railway "
                          "cannot reach"));
    EXPECT_THAT(StepFor({"Healthcheck failed!"}, DeploymentEventStep::kHealthcheck),
                HasSubstr("listens on 0.0.0.0 and the port in $PORT, and answers the healthcheck path"));
    // A time of day is not an address.
    EXPECT_THAT(StepFor({"12:30:45 server listening", "Application failed to respond"}),
                HasSubstr("Make the app listen on 0.0.0.0 and on the port in $PORT"));
}

TEST(FailureNextStep, NamesThePackageTheCommandAndTheCompileError) {
    EXPECT_EQ(StepFor({"Error: Cannot find module 'express'", "Require stack:"}),
              "Add express to the dependencies (package.json, requirements.txt…) and commit the lock file, then push.");
    EXPECT_THAT(StepFor({"ModuleNotFoundError: No module named 'flask'"}), HasSubstr("Add flask to the dependencies"));
    EXPECT_THAT(StepFor({"Error: Cannot find module '/app/dist/index.js'"}),
                HasSubstr("The start command runs /app/dist/index.js, which is not in the image"));
    EXPECT_THAT(StepFor({"/bin/bash: line 1: gunicorn: command not found"}),
                HasSubstr("Install gunicorn in the image"));
    EXPECT_THAT(StepFor({"exec: \"uvicorn\": executable file not found in $PATH"}), HasSubstr("Install uvicorn in"));
    EXPECT_THAT(
        StepFor({"ERROR: Could not find a version that satisfies the requirement flask==99.0 (from versions: 1.0)"}),
        HasSubstr("The dependency flask==99.0 cannot be installed"));
    EXPECT_THAT(StepFor({"npm ERR! missing script: \"build\""}), HasSubstr("Add a \"build\" script to package.json"));
    // The simulator's failed build: tsc's error, then npm's and Docker's wrappers of it.
    EXPECT_EQ(StepFor({"src/index.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
                       "npm ERR! code ELIFECYCLE", "npm ERR! Exit status 2",
                       "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c npm run build\" did not complete "
                       "successfully: exit code: 2",
                       "Error: Docker build failed"}),
              "Fix the compile error at src/index.ts(14,7) (the deciding line says what is wrong), check that it "
              "builds locally, then push.");
    EXPECT_THAT(StepFor({"error[E0308]: mismatched types", "  --> src/main.rs:3:5", "error: could not compile `app`"}),
                HasSubstr("Fix the compile error at src/main.rs:3:5"));
    // Go's errors, each behind Docker's wrapper of the failed `go build`.
    for (const std::string error :
         {"./main.go:12:2: undefined: handler", "./main.go:12:2: declared and not used: x",
          "./main.go:12:2: x declared but not used", "./main.go:12:2: \"os\" imported and not used",
          "./main.go:12:2: cannot use n (variable of type int) as string value in argument",
          "./main.go:12:2: syntax error: unexpected newline, expected comma or )"}) {
        EXPECT_EQ(StepFor({"# example.com/app", error,
                           "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c go build -o out\" did not "
                           "complete successfully: exit code: 1"}),
                  "Fix the compile error at ./main.go:12:2 (the deciding line says what is wrong), check that it "
                  "builds locally, then push.")
            << error;
    }
}

// pydantic's settings name their fields on the lines after the error: each is read from the
// variable of its name in capitals.
TEST(FailureNextStep, NamesTheSettingsPydanticRejected) {
    // v2, two fields missing, with its links to the docs between them.
    EXPECT_EQ(StepFor({"Traceback (most recent call last):", "  File \"/app/main.py\", line 4, in <module>",
                       "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings", "database_url",
                       "  Field required [type=missing, input_value={}, input_type=dict]",
                       "    For further information visit https://errors.pydantic.dev/2.5/v/missing", "secret_key",
                       "  Field required [type=missing, input_value={}, input_type=dict]",
                       "    For further information visit https://errors.pydantic.dev/2.5/v/missing"}),
              "Set DATABASE_URL and SECRET_KEY in the service's variables on Railway, then redeploy (pydantic reads "
              "each field from the variable of its name, after the settings' env_prefix if they have one).");
    // v1, a settings class of another name, one field missing and one of the wrong type; Railway
    // may drop the indentation.
    EXPECT_EQ(StepFor({"pydantic.error_wrappers.ValidationError: 2 validation errors for AppSettings", "redis_url",
                       "field required (type=value_error.missing)", "port",
                       "value is not a valid integer (type=type_error.integer)", "Worker exited"}),
              "Set REDIS_URL in the service's variables on Railway, and fix PORT (value is not a valid integer) there, "
              "then redeploy (pydantic reads each field from the variable of its name, after the settings' env_prefix "
              "if they have one).");
    EXPECT_THAT(StepFor({"pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings", "port",
                         "  Input should be a valid integer, unable to parse string as an integer [type=int_parsing, "
                         "input_value='abc', input_type=str]"}),
                HasSubstr("Fix PORT (Input should be a valid integer, unable to parse string as an integer) in the "
                          "service's variables on Railway, then redeploy"));
    // A nested field's variable depends on the settings' delimiter: none named.
    EXPECT_THAT(StepFor({"ValidationError: 1 validation error for Settings", "database.url", "  Field required"}),
                HasSubstr("Set the settings the lines after the deciding one name"));
}

TEST(FailureNextStep, TellsALoopbackConnectionFromADependencyThatIsDown) {
    EXPECT_THAT(StepFor({"Error: connect ECONNREFUSED 127.0.0.1:5432"}),
                HasSubstr("The service connects to 127.0.0.1:5432, which on Railway is the service's own container"));
    EXPECT_THAT(StepFor({"Error: connect ECONNREFUSED ::1:6379"}), HasSubstr("connects to ::1:6379, which on Railway"));
    EXPECT_THAT(StepFor({"connect ECONNREFUSED 10.0.3.7:5432"}),
                HasSubstr("Nothing accepted connections at 10.0.3.7:5432"));
    EXPECT_THAT(StepFor({"Error: getaddrinfo ENOTFOUND postgres.railway.internal"}),
                HasSubstr("The host postgres.railway.internal did not resolve"));
}

TEST(FailureNextStep, WithoutASpecificStepTheClassSays) {
    EXPECT_EQ(FailureNextStep(ErrorClass::kUnknown, "no rule matched the deployment's evidence", "", {}),
              "Read the deployment's logs for the cause, then redeploy.");
    EXPECT_THAT(FailureNextStep(ErrorClass::kResource, "usage or plan limit reached", "usage limit", {}),
                HasSubstr("upgrade the plan"));
    for (const ErrorClass c : kAllErrorClasses) {
        const std::string step = FailureNextStep(c, "a reason of no rule", "", {});
        EXPECT_FALSE(step.empty());
        EXPECT_EQ(step.back(), '.') << step;
    }
}

// Each step belongs to a reason some rule gives: a reworded reason would silently lose its step.
TEST(FailureNextStep, EveryStepIsForTheReasonOfARule) {
    const auto rules = MessageRules();
    const auto reasons = NextStepReasons();
    EXPECT_GE(reasons.size(), 20u);
    for (const std::string_view reason : reasons) {
        EXPECT_TRUE(std::any_of(rules.begin(), rules.end(), [&](const MessageRule& r) { return r.reason == reason; }))
            << "no rule gives the reason \"" << reason << "\"";
    }
}

// Whatever the rule, the step is a sentence a person can act on.
TEST(FailureNextStep, EveryRulesStepIsASentence) {
    for (const MessageRule& rule : MessageRules()) {
        const std::string step = FailureNextStep(rule.error_class, rule.reason, "", {});
        SCOPED_TRACE(rule.pattern);
        ASSERT_FALSE(step.empty());
        EXPECT_TRUE(step.front() >= 'A' && step.front() <= 'Z') << rule.reason << ": " << step;
        EXPECT_EQ(step.back(), '.');
    }
}

}  // namespace
}  // namespace railwatch::core
