#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/run.hpp"

namespace railwatch::cli {

void AddVersionCommand(CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("version", "Print railwatch's version");
    cmd->callback([&exit_code] {
        fmt::print("railwatch {}\n", RAILWATCH_VERSION);
        exit_code = kExitOk;
    });
}

}  // namespace railwatch::cli
