#include "app/logging.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <sstream>

namespace railwatch::app {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr std::string_view kSecret = "sk_live_Q9zX7wPq";

// A logger writing into a string, with `secrets` registered.
struct Captured {
    std::ostringstream out;
    std::shared_ptr<SecretRedactor> redactor = std::make_shared<SecretRedactor>();
    std::shared_ptr<spdlog::logger> logger;

    explicit Captured(const std::vector<std::string_view>& secrets = {kSecret}, LogSettings settings = {},
                      std::size_t max_message_bytes = std::size_t{16} * 1024) {
        for (auto s : secrets)
            redactor->Add(s);
        LoggingOptions options;
        options.target = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
        options.max_message_bytes = max_message_bytes;
        logger = SetupLogging(settings, redactor, options);
    }
    std::string Text() {
        logger->flush();
        return out.str();
    }
};

// True when `text` contains any piece of `secret` at least `min` bytes long: what a cut could
// leave behind.
bool ContainsPieceOf(std::string_view text, std::string_view secret, std::size_t min = 4) {
    for (std::size_t start = 0; start + min <= secret.size(); ++start) {
        if (text.find(secret.substr(start, min)) != std::string_view::npos) return true;
    }
    return false;
}

TEST(Logging, ASecretNeverReachesTheSink) {
    Captured c;
    c.logger->info("token {}", kSecret);
    c.logger->warn("Authorization: Bearer {}", kSecret);
    const std::string text = c.Text();
    EXPECT_THAT(text, AllOf(HasSubstr("token [redacted]"), HasSubstr("Authorization: Bearer [redacted]")));
    EXPECT_FALSE(ContainsPieceOf(text, kSecret)) << text;
}

TEST(Logging, ASecretInsideALongerStringIsRedacted) {
    Captured c;
    c.logger->info("url=https://x/?t={}&next=1 and again:{}{}", kSecret, kSecret, "tail");
    const std::string text = c.Text();
    EXPECT_THAT(text, HasSubstr("url=https://x/?t=[redacted]&next=1 and again:[redacted]tail"));
    EXPECT_FALSE(ContainsPieceOf(text, kSecret)) << text;
}

TEST(Logging, ASecretAcrossTheTruncationBoundaryIsRedactedNotCut) {
    constexpr std::size_t kMax = 40;
    for (std::size_t offset = 0; offset < kMax + 4; ++offset) {
        Captured c({kSecret}, {}, kMax);
        c.logger->info("{}{}{}", std::string(offset, 'a'), kSecret, std::string(60, 'z'));
        const std::string text = c.Text();
        SCOPED_TRACE("secret at byte " + std::to_string(offset) + ": " + text);
        EXPECT_FALSE(ContainsPieceOf(text, kSecret));
        EXPECT_THAT(text, HasSubstr("…[truncated]"));
    }
}

TEST(Logging, OverlappingSecretsAreRedactedTogether) {
    Captured c({"abcdef12", "ef12ghij"});
    c.logger->info("x abcdef12ghij y");
    EXPECT_THAT(c.Text(), HasSubstr("x [redacted] y"));
}

TEST(Logging, AJsonEscapedSecretIsRedactedToo) {
    const std::string secret = "pa\"ss\\word-123";
    Captured c({secret});
    c.logger->info(R"(body {{"password":"pa\"ss\\word-123"}})");
    const std::string text = c.Text();
    EXPECT_THAT(text, HasSubstr(R"("password":"[redacted]")"));
    EXPECT_THAT(text, Not(HasSubstr("word-123")));
}

TEST(Logging, EverySecretOfAConfigIsRegistered) {
    ConfigSources sources;
    sources.env = [](std::string_view name) -> std::optional<std::string> {
        if (name == "RAILWAY_API_TOKEN") return "account-token-secret";
        if (name == "RAILWATCH_SMTP_PASSWORD") return "smtp-password-secret";
        if (name == "RAILWATCH_DB") return "postgresql://rw:db-password-secret@127.0.0.1/railwatch";
        return std::nullopt;
    };
    auto loaded = LoadConfigText("", "cfg.toml", sources);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    Captured c(std::vector<std::string_view>{});
    c.redactor->AddAll(loaded->config);
    c.logger->error("a {} b {} c {}", "account-token-secret", "smtp-password-secret", loaded->config.store.url);
    const std::string text = c.Text();
    EXPECT_THAT(text, HasSubstr("a [redacted] b [redacted] c postgresql://rw:[redacted]@127.0.0.1/railwatch"));
}

TEST(Logging, TextLinesHaveUtcTimeLevelAndMessage) {
    Captured c;
    c.logger->warn("disk {} full", 90);
    const std::string text = c.Text();
    EXPECT_THAT(text, AllOf(StartsWith("20"), HasSubstr("Z warn disk 90 full\n")));
}

TEST(Logging, JsonFormatWritesOneObjectPerLine) {
    LogSettings settings;
    settings.format = LogFormat::kJson;
    Captured c({kSecret}, settings);
    c.logger->info("first \"quoted\" {}", kSecret);
    c.logger->error("second\nline");
    std::istringstream lines(c.Text());
    std::string line;
    std::vector<nlohmann::json> objects;
    while (std::getline(lines, line))
        objects.push_back(nlohmann::json::parse(line));
    ASSERT_EQ(objects.size(), 2u);
    EXPECT_EQ(objects[0]["level"], "info");
    EXPECT_EQ(objects[0]["msg"], "first \"quoted\" [redacted]");
    EXPECT_EQ(objects[0]["logger"], "railwatch");
    EXPECT_THAT(objects[0]["ts"].get<std::string>(), HasSubstr("Z"));
    EXPECT_EQ(objects[1]["level"], "error");
    EXPECT_EQ(objects[1]["msg"], "second\nline");
}

TEST(Logging, TheLevelFromTheConfigFiltersMessages) {
    LogSettings settings;
    settings.level = LogLevel::kWarn;
    Captured c({}, settings);
    c.logger->info("quiet");
    c.logger->debug("quieter");
    c.logger->warn("loud");
    const std::string text = c.Text();
    EXPECT_THAT(text, AllOf(HasSubstr("loud"), Not(HasSubstr("quiet"))));
}

TEST(Logging, TheDefaultLoggerIsRedactedOnceInstalled) {
    auto previous = spdlog::default_logger();
    Captured c;
    InstallAsDefault(c.logger);
    spdlog::info("library code logs {}", kSecret);
    spdlog::set_default_logger(previous);
    EXPECT_THAT(c.Text(), HasSubstr("library code logs [redacted]"));
}

TEST(Logging, TruncationKeepsUtf8Whole) {
    const std::string text = "ab" + std::string("é") + std::string(40, 'x');
    // "…[truncated]" is 14 bytes: a limit of 17 leaves 3 bytes, which would split "é".
    const std::string cut = TruncateMessage(text, 17);
    EXPECT_EQ(cut, "ab…[truncated]");
    EXPECT_EQ(TruncateMessage("short", 17), "short");
}

TEST(Logging, SecretsAddedLaterAreRedactedFromThenOn) {
    Captured c(std::vector<std::string_view>{});
    c.logger->info("before {}", "late-secret-1");
    c.redactor->Add("late-secret-1");
    c.logger->info("after {}", "late-secret-1");
    const std::string text = c.Text();
    EXPECT_THAT(text, AllOf(HasSubstr("before late-secret-1"), HasSubstr("after [redacted]")));
}

}  // namespace
}  // namespace railwatch::app
