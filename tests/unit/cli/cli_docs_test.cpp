// The command line's documentation tied to the code: every command the binary registers is shown
// in the README or docs/CLI.md, and every flag of the REST client commands in docs/CLI.md.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "support/source_file.hpp"

namespace railwatch::cli {
namespace {

// Every command path below `app` ("instances monitoring"), with the command itself.
void Walk(const CLI::App& app, const std::string& prefix, std::vector<std::pair<std::string, const CLI::App*>>& out) {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        const std::string path = prefix.empty() ? sub->get_name() : prefix + " " + sub->get_name();
        out.emplace_back(path, sub);
        Walk(*sub, path, out);
    }
}

std::vector<std::pair<std::string, const CLI::App*>> Commands(CLI::App& app) {
    int exit_code = 0;
    AddCommands(app, exit_code);
    std::vector<std::pair<std::string, const CLI::App*>> commands;
    Walk(app, "", commands);
    return commands;
}

TEST(CliDocs, EveryCommandIsShownInTheReadmeOrTheClientPage) {
    CLI::App app;
    const std::string readme = test::ReadSourceFile("README.md");
    const std::string client_page = test::ReadSourceFile("docs/CLI.md");
    ASSERT_FALSE(readme.empty());
    ASSERT_FALSE(client_page.empty());
    const auto commands = Commands(app);
    ASSERT_GT(commands.size(), 15u);
    for (const auto& [path, command] : commands) {
        const std::string shown = "railwatch " + path;
        EXPECT_TRUE(readme.find(shown) != std::string::npos || client_page.find(shown) != std::string::npos)
            << "`" << shown << "` is in neither README.md nor docs/CLI.md";
    }
}

TEST(CliDocs, EveryFlagOfTheClientCommandsIsInTheClientPage) {
    CLI::App app;
    const std::string client_page = test::ReadSourceFile("docs/CLI.md");
    const std::vector<std::string> client = {"instances", "logs", "health", "stats", "attention", "notifications"};
    int flags = 0;
    for (const auto& [path, command] : Commands(app)) {
        if (std::find(client.begin(), client.end(), path.substr(0, path.find(' '))) == client.end()) continue;
        for (const CLI::Option* option : command->get_options()) {
            for (const std::string& name : option->get_lnames()) {
                if (name == "help") continue;
                ++flags;
                EXPECT_NE(client_page.find("--" + name), std::string::npos)
                    << "`railwatch " << path << " --" << name << "` is not in docs/CLI.md";
            }
        }
    }
    EXPECT_GT(flags, 10);
}

}  // namespace
}  // namespace railwatch::cli
