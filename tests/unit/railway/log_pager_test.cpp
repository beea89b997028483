// Incremental logs against a scripted Railway that cuts full pages either way: the oldest lines
// after startDate ("head") or the newest ("tail"), with the extra line the CLI mentions.
#include "railway/log_pager.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/scripted_transport.hpp"
#include "railway/client.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

using nlohmann::json;

enum class Cut { kHead, kTail };

std::string CutName(Cut cut) {
    return cut == Cut::kHead ? "Head" : "Tail";
}

// Railway's deploymentLogs over a list of lines, one millisecond apart.
class ScriptedLogs {
  public:
    explicit ScriptedLogs(Cut cut) : cut_(cut) {}

    void Add(int count) {
        for (int i = 0; i < count; ++i) {
            const core::Timestamp at = core::Timestamp(std::chrono::seconds(1'767'225'600)) + core::Millis(next_);
            lines_.push_back(
                {util::FormatRfc3339(at, util::TimePrecision::kNanos), at, "line " + std::to_string(next_)});
            ++next_;
        }
    }

    net::HttpResponse Answer(const net::HttpRequest& request) {
        const json variables = json::parse(request.body)["variables"];
        const auto bound = [&](const char* name) -> std::optional<core::Timestamp> {
            if (!variables.contains(name)) return std::nullopt;
            return *util::ParseRfc3339(variables[name].get<std::string>());
        };
        const auto start = bound("startDate");
        const auto end = bound("endDate");
        if (end) ++end_date_requests_;
        const std::size_t limit = variables["limit"].get<std::size_t>();
        std::vector<const Line*> window;
        for (const auto& line : lines_) {
            if ((!start || line.at >= *start) && (!end || line.at <= *end)) window.push_back(&line);
        }
        // Railway returns limit + 1 lines when more match (the CLI keeps the last N).
        if (window.size() > limit + 1) {
            if (cut_ == Cut::kHead) {
                window.resize(limit + 1);
            } else {
                window.erase(window.begin(), window.end() - static_cast<long>(limit + 1));
            }
        }
        json list = json::array();
        for (const Line* line : window) {
            list.push_back({{"timestamp", line->raw},
                            {"message", line->message},
                            {"severity", "info"},
                            {"attributes", json::array()}});
        }
        net::HttpResponse response;
        response.status = 200;
        response.body = json{{"data", {{"deploymentLogs", list}}}}.dump();
        return response;
    }

    std::vector<std::string> Messages(int from, int to) const {
        std::vector<std::string> out;
        for (int i = from; i < to; ++i)
            out.push_back("line " + std::to_string(i));
        return out;
    }

    int end_date_requests() const { return end_date_requests_; }

  private:
    struct Line {
        std::string raw;
        core::Timestamp at;
        std::string message;
    };
    Cut cut_;
    int next_ = 0;
    int end_date_requests_ = 0;
    std::vector<Line> lines_;
};

std::vector<std::string> MessagesOf(const std::vector<LogLine>& lines) {
    std::vector<std::string> out;
    out.reserve(lines.size());
    for (const auto& line : lines)
        out.push_back(line.message);
    return out;
}

class LogPaging : public ::testing::TestWithParam<Cut> {
  protected:
    void Make(std::size_t max_pages = 10) {
        ClientConfig config;
        config.max_log_pages = max_pages;
        client_ = std::make_unique<RailwayClient>(transport_, clock_, budget_, random_,
                                                  Credentials{TokenKind::kAccount, "tok_0123456789"}, config);
        transport_.SetHandler([this](const net::HttpRequest& r) { return logs_.Answer(r); });
    }

    // Calls GetNewLogs until it returns nothing (at most `calls` times); every line returned.
    std::vector<std::string> Drain(LogCursor& cursor, int limit, int calls) {
        std::vector<std::string> all;
        for (int i = 0; i < calls; ++i) {
            auto lines = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, limit);
            EXPECT_TRUE(lines) << lines.error().message;
            if (!lines || lines->empty()) break;
            for (std::size_t k = 1; k < lines->size(); ++k)
                EXPECT_LE((*lines)[k - 1].timestamp, (*lines)[k].timestamp);
            auto messages = MessagesOf(*lines);
            all.insert(all.end(), messages.begin(), messages.end());
        }
        return all;
    }

    util::FakeClock clock_;
    fakes::ScriptedTransport transport_;
    core::SequenceRandom random_{{0.5}};
    RequestBudget budget_{clock_, BudgetConfig{100'000, 1'000}};
    ScriptedLogs logs_{GetParam()};
    std::unique_ptr<RailwayClient> client_;
};

TEST_P(LogPaging, MoreLinesThanOnePageArriveInOneCallEveryLineOnceInOrder) {
    Make();
    logs_.Add(1200);
    LogCursor cursor;
    auto lines = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 500);
    ASSERT_TRUE(lines) << lines.error().message;
    EXPECT_EQ(MessagesOf(*lines), logs_.Messages(0, 1200));
    EXPECT_FALSE(cursor.older_lines_omitted);
    EXPECT_EQ(cursor.messages_at_last, std::vector<std::string>{"line 1199"});
    EXPECT_LE(transport_.request_count(), 10u);
}

TEST_P(LogPaging, NewLinesAfterTheCursorArriveExactlyOnceAndAFullPageGapIsFilledWithEndDate) {
    Make();
    logs_.Add(100);
    LogCursor cursor;
    auto first = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 500);
    ASSERT_TRUE(first);
    EXPECT_EQ(MessagesOf(*first), logs_.Messages(0, 100));
    logs_.Add(1300);
    auto second = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 500);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_EQ(MessagesOf(*second), logs_.Messages(100, 1400));
    if (GetParam() == Cut::kTail) {
        EXPECT_GT(logs_.end_date_requests(), 0);
    }
    auto third = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 500);
    ASSERT_TRUE(third);
    EXPECT_TRUE(third->empty());
}

TEST_P(LogPaging, APageBoundEndsACallWithoutAGapAndTheNextCallsGoOn) {
    Make(/*max_pages=*/4);
    logs_.Add(10);
    LogCursor cursor;
    ASSERT_EQ(Drain(cursor, 100, 1), logs_.Messages(0, 10));
    logs_.Add(1000);
    const auto rest = Drain(cursor, 100, 200);
    EXPECT_EQ(rest, logs_.Messages(10, 1010));  // no line twice, none skipped, in order
}

TEST_P(LogPaging, AFirstFetchBeyondThePageBoundSaysWhetherOlderLinesWereLeftOut) {
    Make(/*max_pages=*/3);
    logs_.Add(1000);
    LogCursor cursor;
    auto lines = client_->GetNewLogs(LogKind::kDeploy, "dep-1", cursor, 100);
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_FALSE(lines->empty());
    const auto messages = MessagesOf(*lines);
    if (GetParam() == Cut::kHead) {
        // The oldest lines, without a hole; the next calls go on from there.
        EXPECT_FALSE(cursor.older_lines_omitted);
        EXPECT_EQ(messages, logs_.Messages(0, static_cast<int>(messages.size())));
    } else {
        // Only the newest lines could be reached: they are returned, up to the newest, and flagged.
        EXPECT_TRUE(cursor.older_lines_omitted);
        EXPECT_EQ(messages, logs_.Messages(1000 - static_cast<int>(messages.size()), 1000));
    }
}

INSTANTIATE_TEST_SUITE_P(RailwayCutsFullPages, LogPaging, ::testing::Values(Cut::kHead, Cut::kTail),
                         [](const auto& info) { return CutName(info.param); });

TEST(LogLines, LevelAttributeBecomesTheSeverityWhenRailwaySendsNone) {
    util::FakeClock clock;
    fakes::ScriptedTransport transport;
    core::SequenceRandom random({0.5});
    RequestBudget budget(clock, {});
    RailwayClient client(transport, clock, budget, random, {TokenKind::kAccount, "tok_0123456789"}, {});
    transport.PushResponse(200, R"({"data":{"buildLogs":[
        {"timestamp":"2026-01-01T00:00:01Z","message":"{\"level\":\"error\",\"msg\":\"boom\"}","severity":null,
         "attributes":[{"key":"level","value":"\"error\""},{"key":"user","value":"42"}]},
        {"timestamp":"2026-01-01T00:00:02Z","message":"plain","severity":"info","attributes":[
         {"key":"level","value":"\"debug\""}]}]}})");
    LogCursor cursor;
    auto lines = client.GetNewLogs(LogKind::kBuild, "dep-1", cursor);
    ASSERT_TRUE(lines) << lines.error().message;
    ASSERT_EQ(lines->size(), 2u);
    EXPECT_EQ((*lines)[0].severity, "error");
    EXPECT_EQ((*lines)[0].attributes,
              (std::vector<LogAttribute>{{"level", "\"error\""}, {"user", "42"}}));  // kept as Railway sent them
    EXPECT_EQ((*lines)[1].severity, "info");                                         // Railway's own severity wins
    const std::string query = json::parse(transport.requests()[0].body)["query"];
    EXPECT_THAT(query, ::testing::HasSubstr("attributes { key value }"));
}

TEST(TakeNewLogLines, KeepsEveryNewLineAndDropsWhatTheCursorReturnedBefore) {
    const auto line = [](int second, std::string message) {
        LogLine l;
        l.timestamp = core::Timestamp(std::chrono::seconds(second));
        l.timestamp_raw = std::to_string(second);
        l.message = std::move(message);
        return l;
    };
    LogCursor cursor;
    cursor.last = core::Timestamp(std::chrono::seconds(2));
    cursor.messages_at_last = {"b"};
    const auto fresh = TakeNewLogLines({line(3, "c"), line(1, "a"), line(2, "b"), line(2, "b2"), line(4, "d")}, cursor);
    EXPECT_EQ(MessagesOf(fresh), (std::vector<std::string>{"b2", "c", "d"}));
    EXPECT_EQ(cursor.last, core::Timestamp(std::chrono::seconds(4)));
    EXPECT_EQ(cursor.messages_at_last, std::vector<std::string>{"d"});
}

}  // namespace
}  // namespace railwatch::railway
