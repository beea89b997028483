#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "api_test_support.hpp"

namespace railwatch::api::test {
namespace {

/// The "METHOD /path" of every row of docs/API.md's route table.
std::set<std::string> DocumentedRoutes() {
    std::ifstream in(std::string(RAILWATCH_SOURCE_DIR) + "/docs/API.md");
    EXPECT_TRUE(in.good()) << "docs/API.md is missing";
    std::stringstream text;
    text << in.rdbuf();
    std::set<std::string> routes;
    const std::regex row(R"(\n\| `(GET|POST|PUT|DELETE|PATCH) (/[^` ]*)` \|)");
    const std::string doc = text.str();
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
