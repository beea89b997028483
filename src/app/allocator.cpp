#include "app/allocator.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

namespace railwatch::app {
namespace {

constexpr std::string_view kHugeTlb = "glibc.malloc.hugetlb";

// A tunable's value in a GLIBC_TUNABLES text ("name=value:name=value…"), or nullopt.
std::optional<std::string_view> TunableOf(std::string_view tunables, std::string_view name) {
    while (!tunables.empty()) {
        const std::size_t end = tunables.find(':');
        const std::string_view item = tunables.substr(0, end);
        if (item.size() > name.size() && item.substr(0, name.size()) == name && item[name.size()] == '=')
            return item.substr(name.size() + 1);
        if (end == std::string_view::npos) break;
        tunables.remove_prefix(end + 1);
    }
    return std::nullopt;
}

// The mode the kernel's THP setting selects: "always [madvise] never" → "madvise".
std::string_view SelectedMode(std::string_view text) {
    const std::size_t open = text.find('[');
    const std::size_t close = open == std::string_view::npos ? open : text.find(']', open);
    if (close == std::string_view::npos) return {};
    return text.substr(open + 1, close - open - 1);
}

}  // namespace

std::optional<int> MallocArenaLimitToSet(const railway::EnvLookup& env) {
    if (env("MALLOC_ARENA_MAX")) return std::nullopt;
    if (auto tunables = env("GLIBC_TUNABLES"); tunables && TunableOf(*tunables, "glibc.malloc.arena_max"))
        return std::nullopt;
    return kServeMallocArenas;
}

std::optional<std::string> LimitMallocArenas(const railway::EnvLookup& env) {
#if defined(__GLIBC__) && defined(M_ARENA_MAX)
    const std::optional<int> limit = MallocArenaLimitToSet(env);
    if (!limit) return std::nullopt;
    if (mallopt(M_ARENA_MAX, *limit) != 1) return fmt::format("could not limit malloc to {} arenas", *limit);
    return fmt::format("malloc limited to {} arenas (set MALLOC_ARENA_MAX to choose)", *limit);
#else
    (void)env;
    return std::nullopt;
#endif
}

std::optional<std::string> TunablesForHugePages(const railway::EnvLookup& env, std::string_view thp_enabled) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    const std::string_view mode = SelectedMode(thp_enabled);
    if (mode != "always" && mode != "madvise") return std::nullopt;
    const std::optional<std::string> tunables = env("GLIBC_TUNABLES");
    if (tunables && TunableOf(*tunables, kHugeTlb)) return std::nullopt;
    std::string out = tunables && !tunables->empty() ? *tunables + ":" : std::string();
    out += kHugeTlb;
    out += "=1";
    return out;
#else
    (void)env;
    (void)thp_enabled;
    return std::nullopt;
#endif
}

std::optional<std::string> RestartWithHugePages(const railway::EnvLookup& env) {
    std::string thp;
    {
        std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
        std::getline(in, thp);
    }
    const std::optional<std::string> tunables = TunablesForHugePages(env, thp);
    if (!tunables) return std::nullopt;
    // The arguments as this process got them, NUL after each.
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    std::string arguments((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (arguments.empty() || arguments.back() != '\0')
        return "cannot read /proc/self/cmdline: malloc stays on 4 KiB pages";
    std::vector<char*> argv;
    for (std::size_t at = 0; at < arguments.size(); at = arguments.find('\0', at) + 1)
        argv.push_back(arguments.data() + at);
    argv.push_back(nullptr);
    const std::optional<std::string> before = env("GLIBC_TUNABLES");
    if (setenv("GLIBC_TUNABLES", tunables->c_str(), 1) != 0)
        return fmt::format("cannot set GLIBC_TUNABLES ({}): malloc stays on 4 KiB pages", std::strerror(errno));
    execv("/proc/self/exe", argv.data());
    const int error = errno;
    if (before) {
        setenv("GLIBC_TUNABLES", before->c_str(), 1);
    } else {
        unsetenv("GLIBC_TUNABLES");
    }
    return fmt::format("cannot restart with malloc on transparent huge pages ({}): it stays on 4 KiB pages",
                       std::strerror(error));
}

std::optional<std::string> HugePagesInUse(const railway::EnvLookup& env) {
    const std::optional<std::string> tunables = env("GLIBC_TUNABLES");
    if (!tunables) return std::nullopt;
    const std::optional<std::string_view> value = TunableOf(*tunables, kHugeTlb);
    if (!value || *value == "0") return std::nullopt;
    return fmt::format("malloc on transparent huge pages ({}={}; set {}=0 in GLIBC_TUNABLES to keep 4 KiB pages)",
                       kHugeTlb, *value, kHugeTlb);
}

}  // namespace railwatch::app
