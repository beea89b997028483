#pragma once

#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.hpp"

/// The process's logger (spdlog): level and format from [log], lines on stderr, and every
/// registered secret replaced by "[redacted]" in every message before it is written, whatever
/// code logged it.
namespace railwatch::app {

/// What a secret is replaced with.
inline constexpr std::string_view kRedactedMark = "[redacted]";

/// The secrets to keep out of log output. Thread-safe: Add from any thread (start-up, a token
/// rotated at run time); Redact reads a snapshot without waiting for a writer.
class SecretRedactor {
  public:
    /// Registers `secret` (ignored when empty). Its JSON-escaped form is registered too when it
    /// differs, since messages may quote request bodies.
    void Add(std::string_view secret);
    /// Registers every secret of a configuration (Config::Secrets()).
    void AddAll(const Config& config);

    /// `text` with every occurrence of every secret replaced by kRedactedMark; overlapping or
    /// adjacent occurrences become one mark.
    std::string Redact(std::string_view text) const;

    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::shared_ptr<const std::vector<std::string>> secrets_ = std::make_shared<std::vector<std::string>>();
};

/// How SetupLogging builds the logger.
struct LoggingOptions {
    /// Where formatted lines go; nullptr: stderr. Tests pass a capturing sink.
    spdlog::sink_ptr target;
    /// Longest message written, in bytes, after redaction; longer ones are cut (at a UTF-8
    /// boundary) and end with "…[truncated]".
    std::size_t max_message_bytes = std::size_t{16} * 1024;
    /// The logger's name (shown in JSON lines as "logger").
    std::string name = "railwatch";
};

/// Builds the process's logger from [log]: level, text ("2026-01-01T00:00:00.000Z info message")
/// or JSON lines ({"ts":…,"level":…,"logger":…,"msg":…}), in UTC, flushed at warn and above.
/// Every message passes through `redactor` first. The logger is thread-safe; keep `redactor`
/// alive with it (the logger shares ownership). Nothing global is changed: call
/// InstallAsDefault for code that logs through spdlog's default logger.
std::shared_ptr<spdlog::logger> SetupLogging(const LogSettings& settings, std::shared_ptr<SecretRedactor> redactor,
                                             const LoggingOptions& options = {});

/// Makes `logger` spdlog's default, so that spdlog::info(...) anywhere in the process is
/// redacted and formatted the same way. Call once, at start-up, before threads that log exist.
void InstallAsDefault(std::shared_ptr<spdlog::logger> logger);

/// A logger that drops everything (for components built without one, and tests).
std::shared_ptr<spdlog::logger> NullLogger();

/// A sink that redacts each message, cuts it to a maximum size, and hands it to `target`.
/// Thread-safe when `target` is (spdlog's *_mt sinks are).
class RedactingSink final : public spdlog::sinks::sink {
  public:
    RedactingSink(spdlog::sink_ptr target, std::shared_ptr<SecretRedactor> redactor, std::size_t max_message_bytes);

    void log(const spdlog::details::log_msg& msg) override;
    void flush() override;
    void set_pattern(const std::string& pattern) override;
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

  private:
    spdlog::sink_ptr target_;
    std::shared_ptr<SecretRedactor> redactor_;
    std::size_t max_message_bytes_;
};

/// Cuts `text` to at most `max_bytes` bytes without splitting a UTF-8 sequence, appending
/// "…[truncated]" (counted in the limit) when it cut anything.
std::string TruncateMessage(std::string text, std::size_t max_bytes);

}  // namespace railwatch::app
