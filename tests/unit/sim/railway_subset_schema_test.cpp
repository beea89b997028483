#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/graphql/schema.hpp"
#include "sim/sim_state.hpp"

namespace railwatch::sim::graphql {
namespace {

using json = nlohmann::json;

/// "[String!]!" from an introspection type reference.
std::string TypeString(const json& t) {
    const std::string kind = t["kind"].get<std::string>();
    if (kind == "NON_NULL") return TypeString(t["ofType"]) + "!";
    if (kind == "LIST") return "[" + TypeString(t["ofType"]) + "]";
    return t["name"].get<std::string>();
}

class RailwaySubsetSchema : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        std::ifstream in(std::string(RAILWATCH_SOURCE_DIR) + "/third_party/railway/schema.json");
        ASSERT_TRUE(in) << "third_party/railway/schema.json is missing";
        std::stringstream buffer;
        buffer << in.rdbuf();
        json root = json::parse(buffer.str());
        const json& schema = root.contains("data") ? root["data"]["__schema"] : root["__schema"];
        for (const auto& t : schema["types"])
            types_[t["name"].get<std::string>()] = t;
    }
    static std::map<std::string, json> types_;
};
std::map<std::string, json> RailwaySubsetSchema::types_;

TEST_F(RailwaySubsetSchema, EveryFieldAndArgumentExistsInRailwaysSchemaWithTheSameType) {
    const Schema& sim = SimulatorSchema();
    int fields_checked = 0;
    for (const auto& type : sim.Types()) {
        if (type.name == "String" || type.name == "Int" || type.name == "Float" || type.name == "Boolean" ||
            type.name == "ID")
            continue;
        ASSERT_TRUE(types_.count(type.name)) << "type " << type.name << " is not in Railway's schema";
        const json& real = types_[type.name];
        for (const auto& field : type.fields) {
            const json* real_field = nullptr;
            for (const auto& f : real["fields"])
                if (f["name"] == field.name) real_field = &f;
            ASSERT_NE(real_field, nullptr) << type.name << "." << field.name << " is not in Railway's schema";
            EXPECT_EQ(TypeString((*real_field)["type"]), field.type) << type.name << "." << field.name;
            ++fields_checked;
            // Every argument Railway has must be known (so valid calls are accepted), with its type.
            EXPECT_EQ((*real_field)["args"].size(), field.args.size()) << type.name << "." << field.name;
            for (const auto& a : (*real_field)["args"]) {
                const InputValueDef* mine = field.Arg(a["name"].get<std::string>());
                ASSERT_NE(mine, nullptr) << type.name << "." << field.name << "(" << a["name"] << ") missing";
                EXPECT_EQ(mine->type, TypeString(a["type"]))
                    << type.name << "." << field.name << "(" << a["name"] << ")";
            }
        }
        for (const auto& f : type.input_fields) {
            const json* real_field = nullptr;
            for (const auto& rf : real["inputFields"])
                if (rf["name"] == f.name) real_field = &rf;
            ASSERT_NE(real_field, nullptr) << type.name << "." << f.name;
            EXPECT_EQ(TypeString((*real_field)["type"]), f.type);
        }
        if (type.kind == TypeKind::kInputObject) {
            EXPECT_EQ(real["inputFields"].size(), type.input_fields.size());
        }
        if (type.kind == TypeKind::kEnum) {
            std::vector<std::string> values;
            for (const auto& v : real["enumValues"])
                values.push_back(v["name"].get<std::string>());
            EXPECT_EQ(values, type.enum_values) << type.name;
        }
    }
    EXPECT_GT(fields_checked, 150);
}

TEST(SchemaSdl, RejectsUndefinedTypesAndReportsTheLine) {
    auto bad = Schema::FromSdl("type Query {\n  a: Missing\n}");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("Missing"), std::string::npos);
    auto syntax = Schema::FromSdl("type Query {\n  a Int\n}");
    ASSERT_FALSE(syntax);
    EXPECT_NE(syntax.error().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace railwatch::sim::graphql
