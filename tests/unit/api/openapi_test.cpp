#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include "api_test_support.hpp"

namespace railwatch::api::test {
namespace {

/// The "METHOD /path" of every operation under `paths:` in docs/openapi.yaml. The file is kept in
/// block style (its header says so): a path is a key at two spaces ("  /api/v1/users:"), an
/// operation a method key at four ("    get:"). Anything else at those depths inside `paths:` is a
/// test failure, so a change of style cannot make routes silently disappear from the comparison.
/// The integration test (integration.openapi) reads the same file with a real YAML parser.
std::set<std::string> OpenApiOperations() {
    std::ifstream in(std::string(RAILWATCH_SOURCE_DIR) + "/docs/openapi.yaml");
    EXPECT_TRUE(in.good()) << "docs/openapi.yaml is missing";
    const std::set<std::string, std::less<>> methods{"get",   "put",  "post",    "delete",
                                                     "patch", "head", "options", "trace"};
    const std::set<std::string, std::less<>> path_item_fields{"parameters", "summary", "description", "servers"};
    std::set<std::string> operations;
    bool in_paths = false;
    std::string path;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line.find_first_not_of(' ') == std::string::npos) continue;
        const std::size_t indent = line.find_first_not_of(' ');
        if (line[indent] == '#') continue;
        if (indent == 0) {
            in_paths = line == "paths:";
            continue;
        }
        if (!in_paths) continue;
        const std::string key = line.substr(indent, line.find(':', indent) - indent);
        const bool is_key_line = line.back() == ':' && key.size() + indent + 1 == line.size();
        if (indent == 2) {
            EXPECT_TRUE(is_key_line && key.starts_with('/')) << "not a path key in block style: " << line;
            path = key;
        } else if (indent == 4) {
            if (methods.count(key)) {
                EXPECT_TRUE(is_key_line) << "not an operation key in block style: " << line;
                std::string method = key;
                for (char& c : method)
                    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                operations.insert(method + " " + path);
            } else {
                EXPECT_TRUE(path_item_fields.count(key)) << "unexpected key under " << path << ": " << line;
            }
        }
    }
    return operations;
}

TEST_F(ApiTest, OpenApiListsExactlyTheRoutesOfTheRouter) {
    std::set<std::string> served;
    for (const RouteInfo& route : api_.Routes())
        served.insert(route.method + " " + route.pattern);
    const std::set<std::string> documented = OpenApiOperations();
    for (const std::string& route : served)
        EXPECT_TRUE(documented.count(route)) << route << " is served but not in docs/openapi.yaml";
    for (const std::string& route : documented)
        EXPECT_TRUE(served.count(route)) << route << " is in docs/openapi.yaml but not served";
    EXPECT_EQ(documented.size(), served.size());
}

// The kinds GET /attention sends (AttentionKind in rest_api.cpp; the API tests see each) are the
// enum docs/openapi.yaml gives attentionKind and the ones docs/DASHBOARD.md lists.
TEST(OpenApiDocs, AttentionKindListsEveryKindTheApiSends) {
    const std::string sent = "[stuck, crash_loop, failed, unhealthy, other]";
    std::ifstream in(std::string(RAILWATCH_SOURCE_DIR) + "/docs/openapi.yaml");
    std::string line;
    bool in_kind = false;
    std::string documented;
    while (std::getline(in, line) && documented.empty()) {
        if (line.find("attentionKind:") != std::string::npos) in_kind = true;
        if (in_kind && line.find("enum: ") != std::string::npos) documented = line.substr(line.find('['));
    }
    EXPECT_EQ(documented, sent);
    std::ifstream dashboard(std::string(RAILWATCH_SOURCE_DIR) + "/docs/DASHBOARD.md");
    std::stringstream text;
    text << dashboard.rdbuf();
    EXPECT_NE(
        text.str().find(
            R"(| `attentionKind` | `"stuck"` \| `"crash_loop"` \| `"failed"` \| `"unhealthy"` \| `"other"` \| null |)"),
        std::string::npos);
}

}  // namespace
}  // namespace railwatch::api::test
