// `railwatch watch` as a user runs it: the real binary (RAILWATCH_BINARY) against a loopback fake
// Railway, on a pseudo-terminal and on pipes, checking exit codes and what it prints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/child_process.hpp"
#include "support/fake_railway.hpp"
#include "support/pty.hpp"

namespace railwatch {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kToken = "test-account-token";

enum class Terminal { kPty, kPipes };

class WatchTest : public ::testing::TestWithParam<Terminal> {
  protected:
    test::TerminalRun Watch(std::vector<std::string> args, std::vector<std::string> env = {},
                            std::string interrupt_after = {}) {
        std::vector<std::string> argv = {RAILWATCH_BINARY, "watch"};
        argv.insert(argv.end(), args.begin(), args.end());
        test::RunOptions options;
        options.env = {"RAILWAY_API_URL=" + railway_.Url(), "PATH=/usr/bin:/bin", "TERM=xterm"};
        if (env.empty()) env = {std::string("RAILWAY_API_TOKEN=") + kToken};
        options.env.insert(options.env.end(), env.begin(), env.end());
        options.timeout = std::chrono::seconds(60);
        options.interrupt_after = std::move(interrupt_after);
        test::TerminalRun run =
            GetParam() == Terminal::kPty ? test::RunOnPty(argv, options) : test::RunOnPipes(argv, options);
        EXPECT_FALSE(run.timed_out);
        EXPECT_THAT(run.output + run.error_output, Not(HasSubstr(kToken)));
        return run;
    }
    std::string All(const test::TerminalRun& run) { return run.output + run.error_output; }

    test::FakeRailway railway_;
};

TEST_P(WatchTest, ExitsZeroWhenTheDeploymentSucceeds) {
    railway_.AddDeployment("dep-ok", {{"INITIALIZING", "BUILDING", "BUILDING", "DEPLOYING", "SUCCESS"}, {}, {}});
    const auto run = Watch({"dep-ok", "--interval", "20ms"});
    EXPECT_EQ(run.exit_code, 0) << All(run);
    EXPECT_THAT(All(run), HasSubstr("Building"));
    EXPECT_THAT(All(run), HasSubstr("Online"));
    if (GetParam() == Terminal::kPty) {
        EXPECT_THAT(run.output, HasSubstr("\r\033[K"));  // one line, redrawn
        EXPECT_THAT(run.output, HasSubstr("[############"));
        EXPECT_THAT(run.output, HasSubstr("100%"));
    } else {
        EXPECT_THAT(run.output, Not(HasSubstr("\033[")));  // plain lines off a terminal
        EXPECT_THAT(run.output, HasSubstr("Deploying (DEPLOYING)"));
    }
    EXPECT_EQ(railway_.status_queries("dep-ok"), 5);
}

TEST_P(WatchTest, ExitsOneOnFailureAndPrintsTheLastBuildLogLines) {
    railway_.AddDeployment(
        "dep-bad",
        {{"BUILDING", "FAILED"}, {"installing", "npm ERR! code ELIFECYCLE", "Error: Cannot find module 'x'"}, {}});
    const auto run = Watch({"dep-bad", "--interval", "20ms"});
    EXPECT_EQ(run.exit_code, 1) << All(run);
    EXPECT_THAT(All(run), HasSubstr("Failed (FAILED)"));
    EXPECT_THAT(run.output, HasSubstr("build log line"));
    EXPECT_THAT(run.output, HasSubstr("Cannot find module 'x'"));
    // What to do about it, named after what the log names.
    EXPECT_THAT(All(run), HasSubstr("Next step: Add x to the dependencies (package.json, requirements.txt…) and "
                                    "commit the lock file, then push."));

    const auto json_run = Watch({"dep-bad", "--interval", "20ms", "--json"});
    EXPECT_EQ(json_run.exit_code, 1) << All(json_run);
    std::istringstream lines(json_run.output);
    std::string last;  // the result: the last line
    for (std::string line; std::getline(lines, line);) {
        if (line.find_first_not_of("\r ") != std::string::npos) last = line;
    }
    const nlohmann::json result = nlohmann::json::parse(last, nullptr, false);
    ASSERT_TRUE(result.is_object()) << json_run.output;
    EXPECT_EQ(result["errorClass"], "CONFIGURATION");
    EXPECT_EQ(result["cause"], "a module or package the code imports is missing");
    EXPECT_EQ(result["nextStep"],
              "Add x to the dependencies (package.json, requirements.txt…) and commit the lock file, then push.");
}

// A Python service whose settings pydantic rejected: the next step names the variables, from the
// lines after the deciding one.
TEST_P(WatchTest, NamesTheVariablesPydanticsSettingsMiss) {
    railway_.AddDeployment("dep-settings",
                           {{"DEPLOYING", "CRASHED"},
                            {"built"},
                            {"Traceback (most recent call last):", "  File \"/app/main.py\", line 4, in <module>",
                             "pydantic_core._pydantic_core.ValidationError: 2 validation errors for Settings",
                             "database_url", "  Field required [type=missing, input_value={}, input_type=dict]",
                             "secret_key", "  Field required [type=missing, input_value={}, input_type=dict]"}});
    const auto run = Watch({"dep-settings", "--interval", "20ms"});
    EXPECT_EQ(run.exit_code, 1) << All(run);
    EXPECT_THAT(All(run), HasSubstr("Next step: Set DATABASE_URL and SECRET_KEY in the service's variables on "
                                    "Railway, then redeploy"));
}

TEST_P(WatchTest, ExitsOneFastOnCrashWithDeployLogs) {
    railway_.AddDeployment("dep-crash",
                           {{"DEPLOYING", "CRASHED"}, {"built"}, {"listening", "JavaScript heap out of memory"}});
    const auto run = Watch({"dep-crash", "--interval", "20ms"});
    EXPECT_EQ(run.exit_code, 1) << All(run);
    EXPECT_THAT(run.output, HasSubstr("deploy log line"));
    EXPECT_THAT(run.output, HasSubstr("heap out of memory"));
    EXPECT_EQ(railway_.status_queries("dep-crash"), 2);
}

TEST_P(WatchTest, ExitsOneForRemovedAndSkipped) {
    railway_.AddDeployment("dep-removed", {{"REMOVED"}, {}, {}});
    EXPECT_EQ(Watch({"dep-removed", "--interval", "20ms"}).exit_code, 1);
    railway_.AddDeployment("dep-skipped", {{"WAITING", "SKIPPED"}, {}, {}});
    EXPECT_EQ(Watch({"dep-skipped", "--interval", "20ms"}).exit_code, 1);
}

TEST_P(WatchTest, ExitsTwoWhenTheStatusStalls) {
    railway_.AddDeployment("dep-stuck", {{"BUILDING"}, {}, {}});
    const auto run = Watch({"dep-stuck", "--interval", "20ms", "--stall", "300ms", "--timeout", "1m"});
    EXPECT_EQ(run.exit_code, 2) << All(run);
    EXPECT_THAT(All(run), HasSubstr("stalled"));
}

TEST_P(WatchTest, ExitsTwoOnTimeout) {
    std::vector<std::string> statuses;
    statuses.reserve(200);
    for (int i = 0; i < 200; ++i)
        statuses.push_back(i % 2 == 0 ? "BUILDING" : "DEPLOYING");  // never stalls
    railway_.AddDeployment("dep-slow", {statuses, {}, {}});
    const auto run = Watch({"dep-slow", "--interval", "20ms", "--timeout", "400ms"});
    EXPECT_EQ(run.exit_code, 2) << All(run);
    EXPECT_THAT(All(run), HasSubstr("timed out"));
}

TEST_P(WatchTest, ExitsThreeWhenTheTokenIsRejected) {
    railway_.AddDeployment("dep-ok", {{"SUCCESS"}, {}, {}});
    const auto run = Watch({"dep-ok", "--interval", "20ms"}, {"RAILWAY_API_TOKEN=not-the-right-one"});
    EXPECT_EQ(run.exit_code, 3) << All(run);
    EXPECT_THAT(All(run), HasSubstr("Not Authorized"));
    EXPECT_THAT(All(run), HasSubstr("RAILWAY_API_TOKEN"));
    EXPECT_THAT(All(run), Not(HasSubstr("not-the-right-one")));
}

TEST_P(WatchTest, ExitsThreeForAnUnknownDeployment) {
    const auto run = Watch({"dep-nope", "--interval", "20ms"});
    EXPECT_EQ(run.exit_code, 3) << All(run);
    EXPECT_THAT(All(run), HasSubstr("not found"));
}

TEST_P(WatchTest, ProjectTokenWinsOverAccountToken) {
    railway_.AddDeployment("dep-ok", {{"SUCCESS"}, {}, {}});
    // The account token is wrong but the project token is right: RAILWAY_TOKEN must be the one used.
    const auto run =
        Watch({"dep-ok", "--interval", "20ms"}, {"RAILWAY_TOKEN=test-project-token", "RAILWAY_API_TOKEN=wrong"});
    EXPECT_EQ(run.exit_code, 0) << All(run);
}

TEST_P(WatchTest, ExitsSixtyFourOnUsageErrors) {
    EXPECT_EQ(Watch({"dep", "--timeout", "soon"}).exit_code, 64);
    EXPECT_THAT(All(Watch({"dep", "--stall", "10"})), HasSubstr("unit is missing"));
    EXPECT_EQ(Watch({}).exit_code, 64);  // no DEPLOYMENT_ID
    const auto no_token = Watch({"dep"}, {"RAILWAY_TOKEN="});
    EXPECT_EQ(no_token.exit_code, 64);
    EXPECT_THAT(All(no_token), HasSubstr("RAILWAY_API_TOKEN"));
    EXPECT_EQ(railway_.requests(), 0u);
}

TEST_P(WatchTest, JsonPrintsOneObjectPerChangeAndTheResult) {
    railway_.AddDeployment("dep-json", {{"QUEUED", "QUEUED", "BUILDING", "SUCCESS"}, {}, {}});
    const auto run = Watch({"dep-json", "--interval", "20ms", "--json"});
    EXPECT_EQ(run.exit_code, 0) << All(run);
    std::istringstream lines(run.output);
    std::vector<nlohmann::json> events;
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        events.push_back(nlohmann::json::parse(line));  // every line is one JSON object
    }
    ASSERT_EQ(events.size(), 4u);  // QUEUED, BUILDING, SUCCESS, result (the repeated QUEUED is not a change)
    EXPECT_EQ(events[0]["status"], "QUEUED");
    EXPECT_EQ(events[1]["status"], "BUILDING");
    EXPECT_EQ(events[1]["progress"], 40);
    EXPECT_EQ(events[3]["event"], "result");
    EXPECT_EQ(events[3]["exitCode"], 0);
    EXPECT_EQ(events[3]["result"], "succeeded");
}

TEST_P(WatchTest, CtrlCEndsTheWatchPromptlyWithExit130) {
    railway_.AddDeployment("dep-long", {{"BUILDING"}, {}, {}});  // would wait 10 minutes for a stall
    const auto run = Watch({"dep-long", "--interval", "50ms"}, {}, "Building");
    ASSERT_TRUE(run.interrupted) << All(run);
    EXPECT_EQ(run.exit_code, 130) << All(run);
    EXPECT_THAT(All(run), HasSubstr("interrupted after"));
    EXPECT_THAT(All(run), HasSubstr("was Building when the watch was stopped"));
    EXPECT_LT(run.after_interrupt, std::chrono::seconds(20));  // prompt; generous for a busy machine
}

TEST_P(WatchTest, CtrlCEndsTheWatchPromptlyEvenWhileAStatusCheckHangs) {
    railway_.AddDeployment("dep-ok", {{"SUCCESS"}, {}, {}});
    railway_.SetFaults({.hang = 1.0, .hang_for = std::chrono::seconds(120)});
    // The header comes just before the first status check, which hangs: the client would wait
    // 30 s for an answer, then retry.
    const auto run = Watch({"dep-ok", "--interval", "50ms"}, {}, "Watching deployment dep-ok");
    ASSERT_TRUE(run.interrupted) << All(run);
    EXPECT_EQ(run.exit_code, 130) << All(run);
    EXPECT_THAT(All(run), HasSubstr("was not known yet when the watch was stopped"));
    EXPECT_LT(run.after_interrupt, std::chrono::seconds(20));
}

TEST_P(WatchTest, ExitsTwoAtTheTimeoutEvenWhileAStatusCheckHangs) {
    railway_.AddDeployment("dep-ok", {{"SUCCESS"}, {}, {}});
    railway_.SetFaults({.hang = 1.0, .hang_for = std::chrono::seconds(120)});
    const auto started = std::chrono::steady_clock::now();
    // Each attempt may take the whole 5 s and the client makes four: before, the watch ended only
    // after all of them (20 s and more).
    const auto run = Watch({"dep-ok", "--timeout", "5s", "--stall", "1h"});
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(run.exit_code, 2) << All(run);
    EXPECT_THAT(All(run), HasSubstr("timed out after 5s"));
    EXPECT_THAT(All(run), HasSubstr("still waiting for Railway's answer"));
    EXPECT_LT(took, std::chrono::seconds(15));
}

INSTANTIATE_TEST_SUITE_P(Terminals, WatchTest, ::testing::Values(Terminal::kPty, Terminal::kPipes),
                         [](const auto& info) { return info.param == Terminal::kPty ? "OnPty" : "OnPipes"; });

// An exception that escapes a command ends railwatch with exit 70 and one line on stderr, not with
// std::terminate. A real way to provoke one: fmt::print throws when standard output cannot take
// the text (here /dev/full, a full disk) and the text is larger than stdio's buffer, as the JSON
// result of a failure with long log lines is.
TEST(WatchUnexpectedError, AFullStandardOutputEndsWithExit70AndOneLine) {
    test::FakeRailway railway;
    railway.AddDeployment("dep-bad", {{"FAILED"}, std::vector<std::string>(20, std::string(1000, 'x')), {}});
    const std::string command = "exec env -i PATH=/usr/bin:/bin RAILWAY_API_URL='" + railway.Url() +
                                "' RAILWAY_API_TOKEN=" + kToken + " '" + RAILWATCH_BINARY +
                                "' watch dep-bad --json --interval 20ms >/dev/full";
    const auto result = test::RunCommand({"/bin/sh", "-c", command}, std::chrono::seconds(60));
    EXPECT_TRUE(result.status.exited) << result.status.Describe();
    EXPECT_EQ(result.status.code, 70) << result.output;
    EXPECT_THAT(result.output, HasSubstr("railwatch: internal error: cannot write to file"));
    EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
    EXPECT_THAT(result.output, Not(HasSubstr(kToken)));
    EXPECT_EQ(railway.status_queries("dep-bad"), 1);  // it got as far as the result
}

TEST(WatchUnexpectedError, OutputThatCannotBeWrittenAtExitIsAnErrorNotSuccess) {
    const auto result = test::RunCommand(
        {"/bin/sh", "-c", std::string("exec '") + RAILWATCH_BINARY + "' version >/dev/full"}, std::chrono::seconds(30));
    EXPECT_TRUE(result.status.exited) << result.status.Describe();
    EXPECT_EQ(result.status.code, 70) << result.output;
    EXPECT_THAT(result.output, HasSubstr("cannot write to standard output"));
}

}  // namespace
}  // namespace railwatch
