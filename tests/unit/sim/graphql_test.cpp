#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/graphql/executor.hpp"
#include "sim/graphql/parser.hpp"
#include "sim/graphql/validator.hpp"
#include "sim/simulator.hpp"

namespace railwatch::sim::graphql {
namespace {

using json = nlohmann::json;

std::vector<std::string> Messages(std::string_view query) {
    auto doc = ParseDocument(query);
    if (!doc) return {doc.error().message};
    std::vector<std::string> out;
    for (const auto& e : Validate(SimulatorSchema(), *doc))
        out.push_back(e.message);
    return out;
}

TEST(GraphqlParser, ParsesOperationsAliasesArgumentsAndFragments) {
    auto doc = ParseDocument(R"(
        # a comment
        query Statuses($id: String!, $n: Int = 3) {
          d0: deployment(id: $id) { id ...F }
          d1: deployments(input: {serviceId: "s", status: {in: [SUCCESS, FAILED]}}, first: 1) {
            edges { node { ... on Deployment { id } } }
          }
        }
        fragment F on Deployment { status }
        mutation M { deploymentRestart(id: "x") }
    )");
    ASSERT_TRUE(doc) << doc.error().message;
    ASSERT_EQ(doc->operations.size(), 2u);
    const auto& op = doc->operations[0];
    EXPECT_EQ(op.name, "Statuses");
    ASSERT_EQ(op.variables.size(), 2u);
    EXPECT_EQ(op.variables[0].type, "String!");
    EXPECT_EQ(op.variables[1].type, "Int");
    ASSERT_TRUE(op.variables[1].default_value);
    EXPECT_EQ(op.variables[1].default_value->text, "3");
    ASSERT_EQ(op.selections.size(), 2u);
    EXPECT_EQ(op.selections[0].alias, "d0");
    EXPECT_EQ(op.selections[0].name, "deployment");
    EXPECT_EQ(op.selections[0].arguments[0].value.kind, ValueKind::kVariable);
    EXPECT_EQ(op.selections[0].selections[1].kind, SelectionKind::kFragmentSpread);
    const auto& input = op.selections[1].arguments[0].value;
    ASSERT_EQ(input.kind, ValueKind::kObject);
    EXPECT_EQ(input.fields[1].second.fields[0].second.items[1].text, "FAILED");
    EXPECT_EQ(doc->fragments.at(0).type_condition, "Deployment");
    EXPECT_EQ(doc->operations[1].kind, OperationKind::kMutation);
}

TEST(GraphqlParser, DecodesStringEscapesAndBlockStrings) {
    auto doc = ParseDocument(
        "{ a: deployment(id: \"caf\\u00e9 \\ud83d\\ude80 \\\"q\\\" \\n\") { id } "
        "b: deployment(id: \"\"\"\n    two\n      lines\n\"\"\") { id } }");
    ASSERT_TRUE(doc) << doc.error().message;
    EXPECT_EQ(doc->operations[0].selections[0].arguments[0].value.text, "caf\xC3\xA9 \xF0\x9F\x9A\x80 \"q\" \n");
    EXPECT_EQ(doc->operations[0].selections[1].arguments[0].value.text, "two\n  lines");
}

TEST(GraphqlParser, ReportsSyntaxErrorsWithGraphqlJsWordingAndLocation) {
    auto doc = ParseDocument("{\n  deployment(id: \"1\") { id }");
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().message, "Syntax Error: Expected Name, found <EOF>.");
    EXPECT_EQ(doc.error().code, kParseFailed);
    EXPECT_EQ(doc.error().locations.at(0).line, 2);

    auto unterminated = ParseDocument("{ deployment(id: \"1) { id } }");
    ASSERT_FALSE(unterminated);
    EXPECT_EQ(unterminated.error().message, "Syntax Error: Unterminated string.");

    auto bad_char = ParseDocument("{ deployment(id: \"1\") { id % } }");
    ASSERT_FALSE(bad_char);
    EXPECT_EQ(bad_char.error().message, "Syntax Error: Unexpected character: \"%\".");
    EXPECT_EQ(bad_char.error().locations.at(0).column, 28);

    EXPECT_FALSE(ParseDocument(""));
    EXPECT_FALSE(ParseDocument("{ a(x: \"\\q\") }"));
    EXPECT_FALSE(ParseDocument("type Foo { a: Int }"));
}

TEST(GraphqlParser, RejectsDocumentsNestedTooDeeply) {
    std::string q;
    for (int i = 0; i < 100; ++i)
        q += "{ a ";
    for (int i = 0; i < 100; ++i)
        q += "} ";
    EXPECT_FALSE(ParseDocument(q));
}

TEST(GraphqlValidator, UsesGraphqlJsMessagesForUnknownFieldsAndArguments) {
    EXPECT_EQ(Messages(R"({ deployment(id: "1") { id foo } })"),
              std::vector<std::string>{"Cannot query field \"foo\" on type \"Deployment\"."});
    EXPECT_EQ(Messages(R"({ deployment(id: "1", foo: 2) { id } })"),
              std::vector<std::string>{"Unknown argument \"foo\" on field \"Query.deployment\"."});
    EXPECT_EQ(Messages("{ deployment { id } }"),
              std::vector<std::string>{
                  "Field \"deployment\" argument \"id\" of type \"String!\" is required, but it was not provided."});
    EXPECT_EQ(Messages(R"({ deployment(id: "1") })"),
              std::vector<std::string>{"Field \"deployment\" of type \"Deployment!\" must have a selection of "
                                       "subfields. Did you mean \"deployment { ... }\"?"});
    EXPECT_EQ(Messages(R"({ deployment(id: "1") { status { x } } })"),
              std::vector<std::string>{
                  "Field \"status\" must not have a selection since type \"DeploymentStatus!\" has no subfields."});
}

TEST(GraphqlValidator, ChecksVariablesValuesFragmentsAndAliases) {
    EXPECT_EQ(Messages("{ deployment(id: $id) { id } }"), std::vector<std::string>{"Variable \"$id\" is not defined."});
    EXPECT_EQ(Messages("query Q($id: String!) { me { id } }"),
              std::vector<std::string>{"Variable \"$id\" is never used in operation \"Q\"."});
    EXPECT_EQ(
        Messages("query Q($id: Int!) { deployment(id: $id) { id } }"),
        std::vector<std::string>{"Variable \"$id\" of type \"Int!\" used in position expecting type \"String!\"."});
    EXPECT_EQ(Messages("{ deployment(id: 5) { id } }"),
              std::vector<std::string>{"String cannot represent a non string value: 5"});
    EXPECT_EQ(Messages("{ deployments(input: {status: {in: [DONE]}}) { edges { cursor } } }"),
              std::vector<std::string>{"Value \"DONE\" does not exist in \"DeploymentStatus\" enum."});
    EXPECT_EQ(Messages("{ deployments(input: {status: {successfulOnly: true}}) { edges { cursor } } }"),
              std::vector<std::string>{"Field \"successfulOnly\" is not defined by type \"DeploymentStatusInput\"."});
    EXPECT_EQ(Messages(R"({ deployment(id: "1") { ...Nope } })"),
              std::vector<std::string>{"Unknown fragment \"Nope\"."});
    EXPECT_EQ(Messages("{ me { ...D } } fragment D on Deployment { id }"),
              std::vector<std::string>{"Fragment \"D\" cannot be spread here as objects of type \"User\" can never be "
                                       "of type \"Deployment\"."});
    EXPECT_EQ(Messages("{ me { id } } fragment D on Deployment { id }"),
              std::vector<std::string>{"Fragment \"D\" is never used."});
    EXPECT_EQ(Messages(R"({ a: deployment(id: "1") { id } a: me { id } })"),
              std::vector<std::string>{"Fields \"a\" conflict because \"deployment\" and \"me\" are different fields. "
                                       "Use different aliases on the fields to fetch both if this was intentional."});
    EXPECT_EQ(Messages(R"({ a: deployment(id: "1") { id } a: deployment(id: "2") { id } })").size(), 1u);
    EXPECT_EQ(Messages("{ me { id } } { me { id } }").size(), 2u);
    EXPECT_TRUE(Messages(R"({ a: deployment(id: "1") { id } b: deployment(id: "2") { id } })").empty());
}

/// The corpus the node check (sim.schema_corpus_agrees_with_graphql_js) runs through graphql-js
/// against Railway's schema: the simulator must give every document the same verdict.
TEST(GraphqlValidator, CorpusVerdictsMatchTheGraphqlJsCheck) {
    std::ifstream in(std::string(RAILWATCH_SOURCE_DIR) + "/tests/unit/sim/schema_documents.json");
    ASSERT_TRUE(in);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const json corpus = json::parse(buffer.str());
    ASSERT_GE(corpus.size(), 30u);
    int rejected = 0;
    for (const auto& doc : corpus) {
        const auto messages = Messages(doc["query"].get<std::string>());
        const bool valid = messages.empty();
        EXPECT_EQ(valid, doc.value("valid", true))
            << doc["name"].get<std::string>() << ": " << (messages.empty() ? "" : messages.front());
        rejected += valid ? 0 : 1;
    }
    EXPECT_GE(rejected, 10);
}

class MapObject final : public Object {
  public:
    explicit MapObject(std::map<std::string, ResolvedValue> fields) : fields_(std::move(fields)) {}
    ResolvedValue Resolve(std::string_view field, const json& args) const override {
        last_args = args;
        const auto it = fields_.find(std::string(field));
        return it == fields_.end() ? ResolvedValue() : it->second;
    }
    mutable json last_args;

  private:
    std::map<std::string, ResolvedValue> fields_;
};

TEST(GraphqlExecutor, NullsOnlyTheFailingAliasAndReportsItsPath) {
    Schema schema = *Schema::FromSdl(R"(
        type Query { deployment(id: String!): Deployment! }
        type Mutation { x: Boolean }
        type Deployment { id: ID! status: String! url: String }
    )");
    auto good = std::make_shared<MapObject>(std::map<std::string, ResolvedValue>{{"id", "a"}, {"status", "SUCCESS"}});
    class Root final : public Object {
      public:
        explicit Root(ObjectPtr good) : good_(std::move(good)) {}
        ResolvedValue Resolve(std::string_view, const json& args) const override {
            if (args["id"] == "a") return good_;
            if (args["id"] == "nullstatus")
                return std::make_shared<MapObject>(std::map<std::string, ResolvedValue>{{"id", "n"}});
            return FieldFailure{"Deployment not found", ""};
        }
        ObjectPtr good_;
    };
    Root root(good);
    auto doc = ParseDocument(R"({ a: deployment(id: "a") { id status url }
                                 b: deployment(id: "zz") { id }
                                 c: deployment(id: "nullstatus") { id status } })");
    ASSERT_TRUE(doc);
    std::vector<std::string> counted;
    Executor executor(schema);
    const auto result =
        executor.Execute(*doc, "", json::object(), root, root, [&](std::string_view f) { counted.emplace_back(f); });
    EXPECT_EQ(result.http_status, 200);
    const json body = json::parse(result.body);
    EXPECT_EQ(body["data"]["a"], (json{{"id", "a"}, {"status", "SUCCESS"}, {"url", nullptr}}));
    EXPECT_TRUE(body["data"]["b"].is_null());
    EXPECT_TRUE(body["data"]["c"].is_null());
    ASSERT_EQ(body["errors"].size(), 2u);
    EXPECT_EQ(body["errors"][0]["message"], "Deployment not found");
    EXPECT_EQ(body["errors"][0]["path"], json::array({"b"}));
    EXPECT_EQ(body["errors"][1]["message"], "Cannot return null for non-nullable field Deployment.status.");
    EXPECT_EQ(body["errors"][1]["path"], json::array({"c", "status"}));
    EXPECT_EQ(counted.size(), 3u);
}

TEST(GraphqlExecutor, CoercesVariablesAndRejectsBadOnesWith400) {
    Schema schema = *Schema::FromSdl(R"(
        type Query { deployment(id: String!): D! }
        type Mutation { x: Boolean }
        type D { id: ID! }
    )");
    auto obj = std::make_shared<MapObject>(std::map<std::string, ResolvedValue>{{"id", "a"}});
    MapObject root(std::map<std::string, ResolvedValue>{{"deployment", ObjectPtr(obj)}});
    auto doc = ParseDocument("query Q($id: String!) { deployment(id: $id) { id } }");
    ASSERT_TRUE(doc);
    Executor executor(schema);
    auto noop = [](std::string_view) {};
    auto ok = executor.Execute(*doc, "Q", json{{"id", "abc"}}, root, root, noop);
    EXPECT_EQ(ok.http_status, 200);
    EXPECT_EQ(root.last_args, (json{{"id", "abc"}}));
    auto missing = executor.Execute(*doc, "", json::object(), root, root, noop);
    EXPECT_EQ(missing.http_status, 400);
    EXPECT_NE(missing.body.find("Variable \\\"$id\\\" of required type \\\"String!\\\" was not provided."),
              std::string::npos)
        << missing.body;
    auto wrong = executor.Execute(*doc, "", json{{"id", 5}}, root, root, noop);
    EXPECT_EQ(wrong.http_status, 400);
    EXPECT_NE(wrong.body.find("BAD_USER_INPUT"), std::string::npos);
    auto unknown_op = executor.Execute(*doc, "Nope", json::object(), root, root, noop);
    EXPECT_EQ(unknown_op.http_status, 400);
}

}  // namespace
}  // namespace railwatch::sim::graphql
