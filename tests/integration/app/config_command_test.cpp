// `railwatch config check` and `railwatch migrate`'s store URL, through the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/config.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs the binary with a clean railwatch environment plus `env` (NAME=VALUE entries).
test::CommandResult Railwatch(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                              const std::string& cwd = "") {
    std::vector<std::string> argv = {"env"};
    for (const char* name :
         {"RAILWAY_API_TOKEN", "RAILWAY_TOKEN", "RAILWAY_API_URL", "RAILWATCH_DB", "RAILWATCH_LISTEN",
          "RAILWATCH_API_TOKEN", "RAILWATCH_CONFIG", "RAILWATCH_SMTP_PASSWORD", "RAILWATCH_WEBHOOK_SECRET"}) {
        argv.push_back("-u");
        argv.push_back(name);
    }
    if (!cwd.empty()) argv.push_back("--chdir=" + cwd);
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(RAILWATCH_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    return test::RunCommand(argv, std::chrono::seconds(60));
}

std::string Write(const test::TempDir& dir, const std::string& name, const std::string& text) {
    std::string path = dir.File(name);
    std::ofstream(path) << text;
    return path;
}

TEST(ConfigCheck, AValidFilePrintsTheEffectiveConfigWithSourcesAndMaskedSecrets) {
    test::TempDir dir;
    const std::string file =
        Write(dir, "railwatch.toml", "[railway]\nbatch_size = 20\n\n[server]\nlisten = \"127.0.0.1:9090\"\n");
    const auto r = Railwatch({"config", "check", file, "--db", "sqlite:flag.db"},
                             {"RAILWAY_TOKEN=project-secret-token", "RAILWATCH_API_TOKEN=api-secret-token",
                              "RAILWAY_API_URL=http://127.0.0.1:7070/graphql/v2"});
    EXPECT_TRUE(r.status.Ok()) << r.status.Describe() << "\n" << r.output;
    EXPECT_THAT(r.output, AllOf(HasSubstr("batch_size = 20"), HasSubstr("# " + file + ":2"),
                                HasSubstr("listen = \"127.0.0.1:9090\""), HasSubstr("# " + file + ":5"),
                                HasSubstr("url = \"sqlite:flag.db\""), HasSubstr("# flag --db"),
                                HasSubstr("api_url = \"http://127.0.0.1:7070/graphql/v2\""),
                                HasSubstr("# env RAILWAY_API_URL"), HasSubstr("requests_per_hour = 1000"),
                                HasSubstr("env RAILWAY_TOKEN (project token)"), HasSubstr("is valid")));
    EXPECT_THAT(r.output, AllOf(Not(HasSubstr("project-secret-token")), Not(HasSubstr("api-secret-token"))));
}

TEST(ConfigCheck, AnInvalidFileListsEveryProblemWithItsLineAndExits78) {
    test::TempDir dir;
    const std::string file =
        Write(dir, "bad.toml", "[railway]\nbatch_size = 0\nunknown_key = 1\n[monitor.intervals]\nSUCCESS = -60\n");
    const auto r = Railwatch({"config", "check", file});
    EXPECT_TRUE(r.status.exited);
    EXPECT_EQ(r.status.code, kExitInvalidConfig) << r.output;
    EXPECT_EQ(r.status.code, 78);
    EXPECT_THAT(r.output, AllOf(HasSubstr("3 problems"), HasSubstr(file + ":2:14: railway.batch_size"),
                                HasSubstr(file + ":3:1: railway.unknown_key: unknown key"),
                                HasSubstr(file + ":5:11: monitor.intervals.SUCCESS: -60 is out of range")));
}

TEST(ConfigCheck, TheFileMayComeFromRailwatchConfigOrTheConfigFlag) {
    test::TempDir dir;
    const std::string env_file = Write(dir, "env.toml", "[railway]\nbatch_size = 11\n");
    const std::string flag_file = Write(dir, "flag.toml", "[railway]\nbatch_size = 12\n");
    auto r = Railwatch({"config", "check"}, {"RAILWATCH_CONFIG=" + env_file});
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_THAT(r.output, AllOf(HasSubstr("batch_size = 11"), HasSubstr("named by env RAILWATCH_CONFIG")));
    r = Railwatch({"config", "check", "--config", flag_file}, {"RAILWATCH_CONFIG=" + env_file});
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_THAT(r.output, HasSubstr("batch_size = 12"));
    r = Railwatch({"config", "check"});
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_THAT(r.output, HasSubstr("no configuration file"));
}

TEST(ConfigCheck, BadUsageAndBadFlagValuesExit64) {
    auto r = Railwatch({"config", "check", "a.toml", "b.toml"});
    EXPECT_EQ(r.status.code, 64) << r.output;
    r = Railwatch({"config"});
    EXPECT_EQ(r.status.code, 64) << r.output;
    r = Railwatch({"config", "check", "--listen", "nonsense"});
    EXPECT_EQ(r.status.code, 64) << r.output;
    EXPECT_THAT(r.output, HasSubstr("flag --listen: server.listen"));
}

TEST(ConfigCheck, AMissingFileIsAnInvalidConfig) {
    test::TempDir dir;
    const auto r = Railwatch({"config", "check", dir.File("nope.toml")});
    EXPECT_EQ(r.status.code, 78) << r.output;
    EXPECT_THAT(r.output, HasSubstr("cannot read the config file"));
}

TEST(Migrate, TakesTheStoreUrlFromTheConfigFileWhenNoFlagOrVariableSaysOtherwise) {
    test::TempDir dir;
    const std::string file =
        Write(dir, "railwatch.toml", "[store]\nurl = \"sqlite:" + dir.File("from-config.db") + "\"\n");
    auto r = Railwatch({"migrate", "--config", file});
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.File("from-config.db")));

    r = Railwatch({"migrate"}, {"RAILWATCH_CONFIG=" + file, "RAILWATCH_DB=sqlite:" + dir.File("from-env.db")});
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.File("from-env.db")));

    r = Railwatch({"migrate", "--db", "sqlite:" + dir.File("from-flag.db")},
                  {"RAILWATCH_CONFIG=" + file, "RAILWATCH_DB=sqlite:" + dir.File("not-this.db")});
    EXPECT_TRUE(r.status.Ok()) << r.output;
    EXPECT_TRUE(std::filesystem::exists(dir.File("from-flag.db")));
    EXPECT_FALSE(std::filesystem::exists(dir.File("not-this.db")));
}

TEST(Migrate, AnInvalidConfigFileStopsItBeforeTouchingAnyDatabase) {
    test::TempDir dir;
    const std::string file = Write(dir, "bad.toml", "[store]\nurl = \"mysql://x\"\n");
    const auto r = Railwatch({"migrate", "--config", file}, {}, dir.path().string());
    EXPECT_EQ(r.status.code, 78) << r.output;
    EXPECT_THAT(r.output, AllOf(HasSubstr(file + ":2:7: store.url"), HasSubstr("sqlite:PATH")));
    EXPECT_FALSE(std::filesystem::exists(dir.File("railwatch.db")));
}

}  // namespace
}  // namespace railwatch::app
