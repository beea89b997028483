// Checks that docs/STATUSES.md and docs/ERRORS.md say what the code does.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/classify.hpp"
#include "core/deployment_status.hpp"
#include "core/detect.hpp"
#include "core/health.hpp"
#include "core/interval.hpp"
#include "core/progress.hpp"
#include "support/source_file.hpp"

namespace railwatch::core {
namespace {

std::string ReadDoc(const std::string& name) {
    return test::ReadSourceFile("docs/" + name);
}

std::string Trim(const std::string& s) {
    const auto first = s.find_first_not_of(' ');
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// Rows of the first markdown table whose header starts with `first_header`.
std::vector<std::vector<std::string>> TableRows(const std::string& text, const std::string& first_header) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(text);
    std::string line;
    bool in_table = false;
    while (std::getline(lines, line)) {
        if (line.rfind("| " + first_header + " |", 0) == 0) {
            in_table = true;
            continue;
        }
        if (!in_table) continue;
        if (line.empty() || line[0] != '|') break;
        if (line.rfind("|---", 0) == 0) continue;
        std::vector<std::string> cells;
        std::string cell;
        // Split on '|' that is not escaped.
        for (std::size_t i = 1; i < line.size(); ++i) {
            if (line[i] == '|' && line[i - 1] != '\\') {
                cells.push_back(Trim(cell));
                cell.clear();
            } else {
                cell += line[i];
            }
        }
        rows.push_back(cells);
    }
    return rows;
}

TEST(Docs, StatusTableMatchesTheCode) {
    const auto rows = TableRows(ReadDoc("STATUSES.md"), "status");
    ASSERT_EQ(rows.size(), 14u) << "13 statuses + unknown";
    std::set<DeploymentStatus> seen;
    const Timestamp t0{};
    for (const auto& row : rows) {
        ASSERT_GE(row.size(), 8u);
        const DeploymentStatus status = ParseDeploymentStatus(row[0]).value_or(DeploymentStatus::kUnknown);
        if (status == DeploymentStatus::kUnknown) {
            EXPECT_EQ(row[0], "*(unknown)*");
        }
        seen.insert(status);
        SCOPED_TRACE(row[0]);
        EXPECT_EQ(row[1], ToString(GroupOf(status)));
        const auto instance = ToInstanceStatus(status);
        EXPECT_EQ(row[2], instance ? std::string(ToString(*instance)) : "kept");
        const auto percent = StatusProgress(status);
        EXPECT_EQ(row[3], percent ? std::to_string(static_cast<int>(*percent)) : "kept");
        ProgressInput progress;
        progress.status = status;
        EXPECT_DOUBLE_EQ(ComputeProgress(progress, t0).percent, percent.value_or(0.0));
        EXPECT_EQ(row[4], std::to_string(ToSeconds(BaseCheckInterval(IntervalPolicy{}, status))) + " s");
        HealthInput health;
        health.deployment_status = status;
        EXPECT_EQ(row[5], ToString(EvaluateHealth(health, HealthPolicy{}, t0).status));
        const auto deadline = StuckDeadline(StuckPolicy{}, status);
        EXPECT_EQ(row[6], deadline ? std::to_string(ToSeconds(*deadline)) + " s" : "none");
        EXPECT_FALSE(row[7].empty());
        ASSERT_GE(row.size(), 10u);
        if (status == DeploymentStatus::kUnknown) {
            EXPECT_EQ(row[8], "Railway's text");
        } else if (status == DeploymentStatus::kSuccess) {
            EXPECT_EQ(row[8], std::string(StatusLabel(status)) + " (" + std::string(StatusLabel(status, true)) +
                                  " if stopped)");
        } else {
            EXPECT_EQ(row[8], StatusLabel(status));
        }
        const Outcome outcome = OutcomeOf(status);
        EXPECT_EQ(row[9], outcome == Outcome::kUndecided ? "waits" : std::string(ToString(outcome)));
    }
    EXPECT_EQ(seen.size(), 14u);
}

TEST(Docs, ErrorsPageListsExactlyTheMessageRules) {
    const auto rows = TableRows(ReadDoc("ERRORS.md"), "# | pattern");
    std::vector<const std::vector<std::string>*> rule_rows;
    for (const auto& row : rows) {
        if (row.size() == 5 && row[1].size() > 2 && row[1].front() == '`') rule_rows.push_back(&row);
    }
    const auto rules = MessageRules();
    ASSERT_EQ(rule_rows.size(), rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        const auto& row = *rule_rows[i];
        SCOPED_TRACE(rules[i].pattern);
        EXPECT_EQ(row[1], "`" + std::string(rules[i].pattern) + "`");
        EXPECT_EQ(row[2].substr(0, ToString(rules[i].error_class).size()), ToString(rules[i].error_class));
        EXPECT_EQ(row[3], rules[i].strength == RuleStrength::kStrong ? "strong" : "weak");
        EXPECT_EQ(row[4], rules[i].reason);
    }
}

TEST(Docs, ErrorsPageListsTheNextStepsInTheirOrder) {
    const auto rows = TableRows(ReadDoc("ERRORS.md"), "reason");
    const auto reasons = NextStepReasons();
    ASSERT_EQ(rows.size(), reasons.size());
    for (std::size_t i = 0; i < reasons.size(); ++i)
        EXPECT_EQ(rows[i][0], reasons[i]);
}

std::string YesNo(bool value) {
    return value ? "yes" : "no";
}

std::string Lower(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
}

// The ERRORS.md table under `header` lists `rules` row for row; `key` is a rule's pattern or code.
template <typename Rule, typename Key>
void ExpectApiTable(const std::string& header, std::span<const Rule> rules, Key key) {
    const auto rows = TableRows(ReadDoc("ERRORS.md"), header);
    ASSERT_EQ(rows.size(), rules.size());
    for (std::size_t i = 0; i < rules.size(); ++i) {
        SCOPED_TRACE(key(rules[i]));
        ASSERT_GE(rows[i].size(), 6u);
        EXPECT_EQ(Lower(rows[i][1]), "`" + std::string(key(rules[i])) + "`");
        EXPECT_EQ(rows[i][2], ToString(rules[i].error_class));
        EXPECT_EQ(rows[i][3], ToString(rules[i].kind));
        EXPECT_EQ(rows[i][4], YesNo(rules[i].retryable));
        EXPECT_EQ(rows[i][5], rules[i].reason);
    }
}

TEST(Docs, ErrorsPageListsExactlyTheApiMessageRules) {
    ExpectApiTable("# | message contains", ApiMessageRules(), [](const ApiMessageRule& r) { return r.pattern; });
}

TEST(Docs, ErrorsPageListsExactlyTheApiCodeRules) {
    ExpectApiTable("# | extensions.code", ApiCodeRules(), [](const ApiCodeRule& r) { return r.code; });
}

}  // namespace
}  // namespace railwatch::core
