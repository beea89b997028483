#include <fmt/core.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "cli/commands.hpp"
#include "cli/run.hpp"
#include "store/store.hpp"

namespace railwatch::cli {

void AddMigrateCommand(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("migrate", "Create or upgrade the database schema");
    auto db = std::make_shared<std::string>();
    cmd->add_option("--db", *db,
                    "Database URL: sqlite:PATH or postgresql://USER@HOST:PORT/DB (default: $RAILWATCH_DB, "
                    "else sqlite:railwatch.db)");
    cmd->callback([db, &exit_code] {
        // Flag beats environment beats default.
        std::string url = *db;
        if (url.empty()) {
            const char* env = std::getenv("RAILWATCH_DB");
            url = env != nullptr && *env != '\0' ? env : std::string(store::kDefaultStoreUrl);
        }
        store::StoreOptions options;
        options.migrate = false;
        options.connections = 1;
        auto opened = store::OpenStore(url, options);
        if (!opened) {
            fmt::print(stderr, "railwatch migrate: {}\n", opened.error().message);
            exit_code = kExitFailure;
            return;
        }
        auto& s = **opened;
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
