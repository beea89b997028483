#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/config.hpp"

/// The configuration flags (--config, --db, --listen, --railway-url: every flag of app's key
/// table) for the commands that resolve a configuration, and one way to report its problems.
namespace railwatch::cli {

/// Adds `--config` and the key flags to a subcommand and turns what was given into
/// app::ConfigSources. CLI11 writes into this object: create it with std::make_shared, keep it
/// alive in the command's callback. Not thread-safe (command-line parsing is single-threaded).
class ConfigFlags {
  public:
    /// Adds --config and the flags of `flags` (every key flag when empty) to `command`.
    explicit ConfigFlags(CLI::App& command, std::vector<std::string_view> flags = {});
    ConfigFlags(const ConfigFlags&) = delete;
    ConfigFlags& operator=(const ConfigFlags&) = delete;

    /// The flags given on the command line, and the process environment.
    app::ConfigSources Sources() const;

  private:
    struct Flag {
        std::string name;
        std::string value;
        CLI::Option* option = nullptr;
    };
    std::vector<std::unique_ptr<Flag>> flags_;  // stable addresses: CLI11 keeps &value
};

/// Prints "<command>: invalid configuration" and one problem per line to stderr; returns the exit
/// code (64 when a flag was wrong, else app::kExitInvalidConfig).
int ReportConfigErrors(std::string_view command, const app::ConfigErrors& errors);

}  // namespace railwatch::cli
