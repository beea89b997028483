#include "cli/unexpected_error.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

#include "railway/api_error.hpp"

extern char** environ;  // POSIX: the process environment

namespace railwatch::cli {
namespace {

constexpr std::size_t kMaxWhat = 300;

std::string Lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool NamesASecret(std::string_view name) {
    const std::string lower = Lower(name);
    for (std::string_view word : {"token", "secret", "password", "key"}) {
        if (lower.find(word) != std::string::npos) return true;
    }
    return false;
}

// Replaces the password of every "scheme://user:password@" in `text`.
std::string HideUrlPasswords(std::string text) {
    std::size_t pos = 0;
    while ((pos = text.find("://", pos)) != std::string::npos) {
        const std::size_t user = pos + 3;
        const std::size_t end = text.find_first_of("@/ ", user);
        pos = user;
        if (end == std::string::npos || text[end] != '@') continue;
        const std::size_t colon = text.find(':', user);
        if (colon == std::string::npos || colon > end) continue;
        text.replace(colon + 1, end - colon - 1, "[redacted]");
    }
    return text;
}

}  // namespace

std::string UnexpectedErrorLine(std::string_view what, std::span<const std::string> args,
                                std::span<const std::string> environment) {
    std::vector<std::string> secrets;
    for (const std::string& entry : environment) {
        const std::size_t eq = entry.find('=');
        if (eq != std::string::npos && NamesASecret(entry.substr(0, eq))) secrets.push_back(entry.substr(eq + 1));
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (!arg.starts_with("-")) continue;
        const std::size_t eq = arg.find('=');
        if (!NamesASecret(arg.substr(0, eq))) continue;
        if (eq != std::string::npos) {
            secrets.push_back(arg.substr(eq + 1));
        } else if (i + 1 < args.size()) {
            secrets.push_back(args[i + 1]);
        }
    }
    // Longest first, so that a secret containing another is replaced whole.
    std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
    std::string text = HideUrlPasswords(std::string(what));
    for (const std::string& secret : secrets)
        text = railway::Redact(std::move(text), secret);
    return "railwatch: internal error: " + railway::Excerpt(text, kMaxWhat) +
           "; this is a bug in railwatch or an unexpected environment (e.g. a full disk); please report it with the "
           "command you ran";
}

int ReportUnexpectedError(std::string_view what, int argc, char** argv) noexcept {
    try {
        std::vector<std::string> args(argv, argv + argc);
        std::vector<std::string> environment;
        for (char** e = environ; e != nullptr && *e != nullptr; ++e)
            environment.emplace_back(*e);
        const std::string line = UnexpectedErrorLine(what, args, environment);
        std::fprintf(stderr, "%s\n", line.c_str());
    } catch (...) {
        // Out of memory while describing the error: say the least that is still true.
        std::fputs("railwatch: internal error (no details: out of memory)\n", stderr);
    }
    return kExitSoftware;
}

}  // namespace railwatch::cli
