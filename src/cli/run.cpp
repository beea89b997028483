#include "cli/run.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.hpp"
#include "cli/unexpected_error.hpp"

namespace railwatch::cli {

void AddCommands(CLI::App& app, int& exit_code) {
    AddVersionCommand(app, exit_code);
    AddSimCommand(app, exit_code);
    AddWatchCommand(app, exit_code);
    AddMigrateCommand(app, exit_code);
    AddConfigCommand(app, exit_code);
    AddServeCommand(app, exit_code);
    AddDemoCommand(app, exit_code);
    AddRestClientCommands(app, exit_code);
}

int Run(int argc, char** argv) try {
    CLI::App app{"railwatch: watches Railway.app deployments until they run or fail", "railwatch"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Show help for every subcommand");

    int exit_code = kExitOk;
    AddCommands(app, exit_code);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? kExitOk : kExitUsage;
    }
    // Output still buffered is written now; a failure there (a full disk, a closed pipe) must not
    // end with exit code 0 as if everything had been printed.
    if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
        const int error = errno;
        return ReportUnexpectedError(std::string("cannot write to standard output: ") + std::strerror(error), argc,
                                     argv);
    }
    return exit_code;
} catch (const std::exception& e) {
    // A command let an exception escape: end with a documented code and one line, not
    // std::terminate's abort and core dump.
    return ReportUnexpectedError(e.what(), argc, argv);
} catch (...) {
    return ReportUnexpectedError("an exception of unknown type", argc, argv);
}

}  // namespace railwatch::cli
