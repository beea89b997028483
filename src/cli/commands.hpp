#pragma once

#include <CLI/CLI.hpp>

/// Each subcommand lives in its own file and registers itself on the root app here.
/// A command's callback stores its exit code in `exit_code`.
namespace railwatch::cli {

void AddVersionCommand(CLI::App& app, int& exit_code);
void AddSimCommand(CLI::App& app, int& exit_code);
void AddWatchCommand(CLI::App& app, int& exit_code);
void AddMigrateCommand(CLI::App& app, int& exit_code);
void AddConfigCommand(CLI::App& app, int& exit_code);
void AddServeCommand(CLI::App& app, int& exit_code);
void AddDemoCommand(CLI::App& app, int& exit_code);
/// The REST client commands (instances, logs, health, stats, attention, notifications).
void AddRestClientCommands(CLI::App& app, int& exit_code);
/// Every command above, in the order `railwatch --help` lists them.
void AddCommands(CLI::App& app, int& exit_code);

}  // namespace railwatch::cli
