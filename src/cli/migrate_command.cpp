#include <fmt/core.h>

#include <memory>
#include <string>

#include "app/config.hpp"
#include "app/root.hpp"
#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "cli/run.hpp"

namespace railwatch::cli {

void AddMigrateCommand(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("migrate", "Create or upgrade the database schema");
    // The store URL comes through the configuration: --db beats $RAILWATCH_DB beats [store] url
    // of the config file beats sqlite:railwatch.db.
    auto flags = std::make_shared<ConfigFlags>(*cmd, std::vector<std::string_view>{"--db"});
    cmd->callback([flags, &exit_code] {
        auto loaded = app::LoadConfig(flags->Sources());
        if (!loaded) {
            exit_code = ReportConfigErrors("railwatch migrate", loaded.error());
            return;
        }
        app::RootOptions options;
        options.parts = {.store = true, .railway = false, .http = false};
        options.store.migrate = false;  // applied below, to report each migration
        options.store.connections = 1;
        auto root = app::Root::Build(std::move(loaded->config), std::move(options));
        if (!root) {
            fmt::print(stderr, "railwatch migrate: {}\n", root.error().message);
            exit_code = kExitFailure;
            return;
        }
        auto& s = (*root)->store();
        auto applied = s.Migrate();
        if (!applied) {
            fmt::print(stderr, "railwatch migrate: migrating {} failed: {}\n", s.Describe(), applied.error().message);
            exit_code = kExitFailure;
            return;
        }
        const auto version = s.SchemaVersion();
        const int v = version ? *version : 0;
        fmt::print("database {}\n", s.Describe());
        if (applied->empty()) {
            fmt::print("schema is up to date (schema version {})\n", v);
        } else {
            for (const auto& m : *applied)
                fmt::print("applied migration {}: {}\n", m.version, m.name);
            fmt::print("now at schema version {}\n", v);
        }
        exit_code = kExitOk;
    });
}

}  // namespace railwatch::cli
