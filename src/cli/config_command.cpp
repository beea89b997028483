#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "cli/commands.hpp"
#include "cli/config_flags.hpp"
#include "cli/run.hpp"

namespace railwatch::cli {
namespace {

int RunConfigCheck(const ConfigFlags& flags, const std::string& file) {
    app::ConfigSources sources = flags.Sources();
    if (!file.empty()) sources.file = file;
    auto loaded = app::LoadConfig(sources);
    if (!loaded) return ReportConfigErrors("railwatch config check", loaded.error());
    fmt::print("{}", app::FormatEffectiveConfig(*loaded));
    fmt::print("\n# the configuration is valid\n");
    return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& app, int& exit_code) {
    auto* config = app.add_subcommand("config", "Inspect railwatch's configuration (docs/CONFIG.md)");
    config->require_subcommand(1);
    auto* check = config->add_subcommand(
        "check",
        "Validate a config file and print the effective configuration with each value's source, secrets masked; "
        "exits 0 when valid, 78 when the file or environment is invalid, 64 for bad usage or a bad flag value");
    auto file = std::make_shared<std::string>();
    check->add_option("FILE", *file, "The TOML file to check (default: --config, else $RAILWATCH_CONFIG)");
    auto flags = std::make_shared<ConfigFlags>(*check);
    check->callback([flags, file, &exit_code] { exit_code = RunConfigCheck(*flags, *file); });
}

}  // namespace railwatch::cli
