// The composition root against real things: an SQLite file in a temp dir and a Railway stand-in on
// a loopback port.
#include "app/root.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "app/config.hpp"
#include "support/fake_railway.hpp"
#include "support/temp_dir.hpp"

namespace railwatch::app {
namespace {

using ::testing::HasSubstr;

railway::EnvLookup Env(const std::map<std::string, std::string>& vars) {
    return [vars](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

ConfigSources Sources(railway::EnvLookup env) {
    ConfigSources sources;
    sources.env = std::move(env);
    return sources;
}

Config LoadOrFail(const std::string& toml, railway::EnvLookup env) {
    auto loaded = LoadConfigText(toml, "root.toml", Sources(std::move(env)));
    EXPECT_TRUE(loaded) << loaded.error().ToString();
    return loaded ? loaded->config : Config{};
}

TEST(Root, BuildsEveryPartFromTheConfigAndTearsDownCleanly) {
    test::FakeRailway fake("wrong-account-token", "test-project-token");
    fake.AddSuccessfulDeployments(2);
    test::TempDir dir;
    const std::string db = dir.File("railwatch.db");
    const Config config = LoadOrFail(
        "[railway]\napi_url = \"" + fake.Url() +
            "\"\nrequests_per_second = 50\n"
            "[store]\nurl = \"sqlite:" +
            db +
            "\"\n"
            "[retry]\nmax_attempts = 2\nbase_delay_ms = 1\nmax_delay_ms = 5\n",
        Env({{"RAILWAY_TOKEN", "test-project-token"}, {"RAILWAY_API_TOKEN", "an-account-token-that-would-fail"}}));

    auto built = Root::Build(config);
    ASSERT_TRUE(built) << built.error().message;
    Root& root = **built;

    // The store: opened and migrated, in the temp dir.
    EXPECT_TRUE(std::filesystem::exists(db));
    const auto version = root.store().SchemaVersion();
    ASSERT_TRUE(version) << version.error().message;
    EXPECT_GE(*version, 1);

    // Railway: the project token (which wins over the account token) is accepted.
    auto deployment = root.railway().GetDeployment("dep-0");
    ASSERT_TRUE(deployment) << deployment.error().message;
    EXPECT_EQ(deployment->status.raw, "SUCCESS");
    EXPECT_TRUE(fake.all_requests_had_source());
    EXPECT_TRUE(fake.all_requests_had_user_agent());

    // The retry policy comes from [retry]: two attempts, then the error.
    fake.SetFaults({.http5xx = 1.0});
    const std::size_t before = fake.requests();
    auto failed = root.railway().GetDeployment("dep-1");
    EXPECT_FALSE(failed);
    EXPECT_EQ(fake.requests() - before, 2u);

    // The budget comes from [railway] and its figures are exported.
    EXPECT_EQ(root.budget().Snapshot().second_limit, 50);
    const std::string metrics = root.metrics().Render();
    EXPECT_THAT(metrics, HasSubstr("railwatch_railway_requests_total 3\n"));
    EXPECT_THAT(metrics, HasSubstr("railwatch_railway_budget_remaining{window=\"hour\"}"));
    EXPECT_THAT(metrics, HasSubstr("railwatch_railway_priced_per_root_field 0\n"));
    EXPECT_THAT(metrics, HasSubstr("railwatch_http_requests_in_flight 0\n"));

    built->reset();  // joins the transport's worker and closes the store; must not hang or crash
    EXPECT_TRUE(std::filesystem::exists(db));
}

TEST(Root, WithoutARailwayTokenBuildFailsWithWhatToDo) {
    test::TempDir dir;
    const Config config = LoadOrFail("[store]\nurl = \"sqlite:" + dir.File("x.db") + "\"\n", Env({}));
    auto built = Root::Build(config);
    ASSERT_FALSE(built);
    EXPECT_EQ(built.error().code, util::ErrorCode::kUnauthenticated);
    EXPECT_THAT(built.error().message, HasSubstr("RAILWAY_API_TOKEN"));
}

TEST(Root, BuildsOnlyThePartsACommandAsksFor) {
    test::TempDir dir;
    const Config config = LoadOrFail("[store]\nurl = \"sqlite:" + dir.File("only-store.db") + "\"\n", Env({}));
    RootOptions options;
    options.parts = {.store = true, .railway = false, .http = false};
    auto built = Root::Build(config, options);
    ASSERT_TRUE(built) << built.error().message;
    EXPECT_TRUE((*built)->store().SchemaVersion());
    EXPECT_THAT((*built)->metrics().Render(), ::testing::Not(HasSubstr("railwatch_railway")));
}

TEST(Root, AStoreThatCannotBeOpenedFailsTheBuild) {
    test::TempDir dir;
    const Config config =
        LoadOrFail("[store]\nurl = \"sqlite:" + dir.File("no/such/dir/x.db") + "\"\n", Env({{"RAILWAY_TOKEN", "t"}}));
    auto built = Root::Build(config);
    ASSERT_FALSE(built);
    EXPECT_NE(built.error().code, util::ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace railwatch::app
