#include "app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "util/json.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::app {
namespace {

constexpr std::string_view kTruncatedMark = "…[truncated]";

spdlog::level::level_enum ToSpdlog(LogLevel level) {
    switch (level) {
        case LogLevel::kTrace:
            return spdlog::level::trace;
        case LogLevel::kDebug:
            return spdlog::level::debug;
        case LogLevel::kInfo:
            return spdlog::level::info;
        case LogLevel::kWarn:
            return spdlog::level::warn;
        case LogLevel::kError:
            return spdlog::level::err;
        case LogLevel::kOff:
            return spdlog::level::off;
    }
    return spdlog::level::info;
}

std::string_view LevelName(spdlog::level::level_enum level) {
    switch (level) {
        case spdlog::level::trace:
            return "trace";
        case spdlog::level::debug:
            return "debug";
        case spdlog::level::info:
            return "info";
        case spdlog::level::warn:
            return "warn";
        case spdlog::level::err:
            return "error";
        case spdlog::level::critical:
            return "critical";
        default:
            return "off";
    }
}

core::Timestamp ToTimestamp(spdlog::log_clock::time_point time) {
    return std::chrono::time_point_cast<core::Duration>(time);
}

/// Text lines: "<RFC 3339 UTC> <level> <message>".
class TextFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string line = util::FormatRfc3339(ToTimestamp(msg.time));
        line.push_back(' ');
        line += LevelName(msg.level);
        line.push_back(' ');
        line.append(msg.payload.data(), msg.payload.size());
        line.push_back('\n');
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }
};

/// JSON lines: {"ts":"…","level":"…","logger":"…","msg":"…"}.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string line = "{\"ts\":\"" + util::FormatRfc3339(ToTimestamp(msg.time)) + "\",\"level\":\"";
        line += LevelName(msg.level);
        line += "\",\"logger\":";
        util::AppendJsonString(line, std::string_view(msg.logger_name.data(), msg.logger_name.size()));
        line += ",\"msg\":";
        util::AppendJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
        line += "}\n";
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

// --- SecretRedactor -----------------------------------------------------------------------------

void SecretRedactor::Add(std::string_view secret) {
    if (secret.empty()) return;
    std::vector<std::string> forms = {std::string(secret)};
    std::string escaped = util::JsonString(secret);
    escaped = escaped.substr(1, escaped.size() - 2);  // without the quotes
    if (escaped != secret) forms.push_back(std::move(escaped));

    std::lock_guard lock(mutex_);
    auto next = std::make_shared<std::vector<std::string>>(*secrets_);
    for (auto& form : forms)
        if (std::find(next->begin(), next->end(), form) == next->end()) next->push_back(std::move(form));
    secrets_ = std::move(next);
}

void SecretRedactor::AddAll(const Config& config) {
    for (std::string_view secret : config.Secrets())
        Add(secret);
}

std::size_t SecretRedactor::size() const {
    std::lock_guard lock(mutex_);
    return secrets_->size();
}

std::string SecretRedactor::Redact(std::string_view text) const {
    std::shared_ptr<const std::vector<std::string>> secrets;
    {
        std::lock_guard lock(mutex_);
        secrets = secrets_;
    }
    // Mark every occurrence first and replace afterwards: replacing one secret at a time could
    // leave part of another that overlaps it ("abcdef" and "defghi" in "abcdefghi").
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (const auto& secret : *secrets) {
        for (auto pos = text.find(secret); pos != std::string_view::npos; pos = text.find(secret, pos + 1))
            ranges.emplace_back(pos, pos + secret.size());
    }
    if (ranges.empty()) return std::string(text);
    std::sort(ranges.begin(), ranges.end());
    std::string out;
    out.reserve(text.size());
    std::size_t copied = 0;
    for (std::size_t i = 0; i < ranges.size();) {
        const std::size_t begin = ranges[i].first;
        std::size_t end = ranges[i].second;
        for (++i; i < ranges.size() && ranges[i].first <= end; ++i)
            end = std::max(end, ranges[i].second);
        out.append(text.substr(copied, begin - copied));
        out += kRedactedMark;
        copied = end;
    }
    out.append(text.substr(copied));
    return out;
}

// --- sink and logger ----------------------------------------------------------------------------------

std::string TruncateMessage(std::string text, std::size_t max_bytes) {
    if (text.size() <= max_bytes) return text;
    std::size_t cut = max_bytes > kTruncatedMark.size() ? max_bytes - kTruncatedMark.size() : 0;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
        --cut;
    text.resize(cut);
    text += kTruncatedMark;
    return text;
}

RedactingSink::RedactingSink(spdlog::sink_ptr target, std::shared_ptr<SecretRedactor> redactor,
                             std::size_t max_message_bytes)
    : target_(std::move(target)), redactor_(std::move(redactor)), max_message_bytes_(max_message_bytes) {}

void RedactingSink::log(const spdlog::details::log_msg& msg) {
    // Redact the whole message before cutting it: a cut first could leave the start of a secret
    // that no longer matches.
    std::string text = redactor_->Redact(std::string_view(msg.payload.data(), msg.payload.size()));
    text = TruncateMessage(std::move(text), max_message_bytes_);
    spdlog::details::log_msg redacted(msg);
    redacted.payload = spdlog::string_view_t(text.data(), text.size());
    target_->log(redacted);
}

void RedactingSink::flush() {
    target_->flush();
}

void RedactingSink::set_pattern(const std::string& pattern) {
    target_->set_pattern(pattern);
}

void RedactingSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
    target_->set_formatter(std::move(formatter));
}

std::shared_ptr<spdlog::logger> SetupLogging(const LogSettings& settings, std::shared_ptr<SecretRedactor> redactor,
                                             const LoggingOptions& options) {
    if (!redactor) redactor = std::make_shared<SecretRedactor>();
    spdlog::sink_ptr target = options.target ? options.target : std::make_shared<spdlog::sinks::stderr_sink_mt>();
    if (settings.format == LogFormat::kJson) {
        target->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        target->set_formatter(std::make_unique<TextFormatter>());
    }
    auto sink = std::make_shared<RedactingSink>(std::move(target), redactor, options.max_message_bytes);
    auto logger = std::make_shared<spdlog::logger>(options.name, std::move(sink));
    logger->set_level(ToSpdlog(settings.level));
    logger->flush_on(spdlog::level::warn);
    // spdlog reports its own failures (a bad format string) outside the sinks; keep those
    // redacted too.
    logger->set_error_handler([redactor](const std::string& message) {
        const std::string text = redactor->Redact(message);
        std::fprintf(stderr, "railwatch: logging failed: %s\n", text.c_str());
    });
    return logger;
}

void InstallAsDefault(std::shared_ptr<spdlog::logger> logger) {
    spdlog::set_default_logger(std::move(logger));
}

std::shared_ptr<spdlog::logger> NullLogger() {
    return std::make_shared<spdlog::logger>("null", std::make_shared<spdlog::sinks::null_sink_mt>());
}

}  // namespace railwatch::app
