#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "api_test_support.hpp"
#include "support/source_file.hpp"

namespace railwatch::api::test {
namespace {

/// The "METHOD /path" of every row of docs/API.md's route table.
std::set<std::string> DocumentedRoutes() {
    const std::string doc = railwatch::test::ReadSourceFile("docs/API.md");
    EXPECT_FALSE(doc.empty()) << "docs/API.md is missing";
    std::set<std::string> routes;
    const std::regex row(R"(\n\| `(GET|POST|PUT|DELETE|PATCH) (/[^` ]*)` \|)");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it)
        routes.insert((*it)[1].str() + " " + (*it)[2].str());
    return routes;
}

TEST_F(ApiTest, DocsApiMdListsExactlyTheRoutesOfTheRouter) {
    std::set<std::string> served;
    for (const RouteInfo& route : api_.Routes())
        served.insert(route.method + " " + route.pattern);
    const std::set<std::string> documented = DocumentedRoutes();
    for (const std::string& route : served)
        EXPECT_TRUE(documented.count(route)) << route << " is served but not in docs/API.md";
    for (const std::string& route : documented)
        EXPECT_TRUE(served.count(route)) << route << " is in docs/API.md but not served";
    EXPECT_GE(documented.size(), 20u);
}

}  // namespace
}  // namespace railwatch::api::test
