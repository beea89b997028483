// Checks that docs/NOTIFY.md says what the code does: the event-type table (names, audience,
// default routes) and the default retry schedule.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/notify_delivery.hpp"
#include "core/notify_plan.hpp"
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

// Cells of the rows of the first markdown table whose header line starts with `header`.
std::vector<std::vector<std::string>> TableRows(const std::string& text, const std::string& header) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(text);
    std::string line;
    bool in_table = false;
    while (std::getline(lines, line)) {
        if (!in_table) {
            in_table = line.rfind(header, 0) == 0;
            continue;
        }
        if (line.empty() || line[0] != '|') break;
        if (line.rfind("|---", 0) == 0) continue;
        std::vector<std::string> cells;
        std::string cell;
        for (std::size_t i = 1; i < line.size(); ++i) {
            if (line[i] == '|') {
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

TEST(NotifyDocs, EventTypeTableMatchesTheCode) {
    const auto rows = TableRows(ReadDoc("NOTIFY.md"), "| type | audience | default routes |");
    ASSERT_EQ(rows.size(), kAllNotifyEventTypes.size());
    std::set<NotifyEventType> seen;
    for (const auto& row : rows) {
        ASSERT_GE(row.size(), 4u);
        SCOPED_TRACE(row[0]);
        ASSERT_GT(row[0].size(), 2u);
        const auto type = ParseNotifyEventType(row[0].substr(1, row[0].size() - 2));  // `name`
        ASSERT_TRUE(type);
        seen.insert(*type);
        EXPECT_EQ(row[1], AudienceOf(*type) == Audience::kUser ? "user" : "admin");
        std::string routes;
        for (const NotifyRoute route : DefaultRoutes(*type)) {
            if (!routes.empty()) routes += ", ";
            routes += ToString(route);
        }
        EXPECT_EQ(row[2], routes);
        EXPECT_FALSE(row[3].empty());
    }
    EXPECT_EQ(seen.size(), kAllNotifyEventTypes.size());
}

TEST(NotifyDocs, ConfigTableStatesTheDefaultRetrySchedule) {
    std::string seconds;
    for (const Duration d : StandardWebhooksSchedule()) {
        if (!seconds.empty()) seconds += ", ";
        seconds += std::to_string(ToSeconds(d));
    }
    EXPECT_NE(ReadDoc("NOTIFY.md").find("| `retry.delays` | " + seconds + " |"), std::string::npos) << seconds;
}

}  // namespace
}  // namespace railwatch::core
