#include "cli/config_flags.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

#include "cli/run.hpp"

namespace railwatch::cli {
namespace {

std::string_view ValueName(std::string_view flag) {
    if (flag == "--config") return "FILE";
    if (flag == "--db" || flag == "--railway-url") return "URL";
    if (flag == "--listen") return "HOST:PORT";
    return "VALUE";
}

}  // namespace

ConfigFlags::ConfigFlags(CLI::App& command, std::vector<std::string_view> flags) {
    auto add = [&](std::string_view name, std::string help) {
        auto flag = std::make_unique<Flag>();
        flag->name = std::string(name);
        flag->option = command.add_option(flag->name, flag->value, std::move(help));
        flag->option->type_name(std::string(ValueName(name)));
        flags_.push_back(std::move(flag));
    };
    add("--config", "TOML configuration file (default: $RAILWATCH_CONFIG; docs/CONFIG.md)");
    for (const auto& key : app::ConfigKeys()) {
        if (key.flag.empty()) continue;
        if (!flags.empty() && std::find(flags.begin(), flags.end(), key.flag) == flags.end()) continue;
        const std::string_view section = key.name.substr(0, key.name.rfind('.'));
        const std::string_view leaf = key.name.substr(key.name.rfind('.') + 1);
        add(key.flag, fmt::format("{} ({}; beats ${}, then {} in [{}] of the config file, then the default {})",
                                  key.doc, key.allowed, key.env, leaf, section, app::DisplayValue(key, app::Config{})));
    }
}

app::ConfigSources ConfigFlags::Sources() const {
    app::ConfigSources sources;
    sources.env = railway::ProcessEnvironment();
    for (const auto& flag : flags_)
        if (flag->option->count() > 0) sources.flags[flag->name] = flag->value;
    return sources;
}

int ReportConfigErrors(std::string_view command, const app::ConfigErrors& errors) {
    fmt::print(stderr, "{}: invalid configuration ({} problem{}; see docs/CONFIG.md):\n", command,
               errors.problems.size(), errors.problems.size() == 1 ? "" : "s");
    for (const auto& problem : errors.problems)
        fmt::print(stderr, "  {}\n", problem.ToString());
    return errors.ExitCode(kExitUsage);
}

}  // namespace railwatch::cli
