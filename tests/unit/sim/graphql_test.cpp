#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/graphql/executor.hpp"
#include "sim/graphql/parser.hpp"
#include "sim/graphql/validator.hpp"
#include "sim/sim_state.hpp"

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

/// Answers `deployment(id)` from a table: "a" → a full object, "nullstatus" → an object whose
/// non-null `status` is null, anything else → a field error.
class DeploymentRoot final : public Object {
  public:
    ResolvedValue Resolve(std::string_view, const json& args) const override {
        if (args["id"] == "a") {
            return std::make_shared<MapObject>(
                std::map<std::string, ResolvedValue>{{"id", "a"}, {"status", "SUCCESS"}});
        }
        if (args["id"] == "nullstatus")
            return std::make_shared<MapObject>(std::map<std::string, ResolvedValue>{{"id", "n"}});
        return FieldFailure{"Deployment not found", ""};
    }
};

const Schema& DeploymentSchema() {
    static const Schema schema = *Schema::FromSdl(R"(
        type Query { deployment(id: String!): Deployment! maybe(id: String!): Deployment }
        type Mutation { x: Boolean }
        type Deployment { id: ID! status: String! url: String }
    )");
    return schema;
}

json ExecuteQuery(std::string_view query, const ExecutionOptions& options = {}) {
    auto doc = ParseDocument(query);
    EXPECT_TRUE(doc) << doc.error().message;
    DeploymentRoot root;
    const auto result = Executor(DeploymentSchema()).Execute(*doc, "", json::object(), root, root, options);
    EXPECT_EQ(result.http_status, 200);
    return json::parse(result.body);
}

TEST(GraphqlExecutor, AFailedNonNullRootFieldNullsAllOfDataAndTheErrorNamesItsAlias) {
    const json body = ExecuteQuery(R"({ a: deployment(id: "a") { id status url }
                               b: deployment(id: "zz") { id }
                               c: deployment(id: "a") { id } })",
                                   {.trace_id = "trace-1"});
    ASSERT_TRUE(body.contains("data"));
    EXPECT_TRUE(body["data"].is_null());
    ASSERT_EQ(body["errors"].size(), 1u);
    const json& e = body["errors"][0];
    EXPECT_EQ(e["message"], "Deployment not found");
    EXPECT_EQ(e["path"], json::array({"b"}));
    EXPECT_EQ(e["locations"], json::parse(R"([{"line":2,"column":32}])"));
    EXPECT_EQ(e["extensions"], (json{{"code", "INTERNAL_SERVER_ERROR"}, {"traceId", "trace-1"}}));
}

TEST(GraphqlExecutor, ANullInANonNullFieldNullsTheNearestNullableAncestorOnly) {
    // `maybe` is nullable: the null status stops there and the other fields keep their data.
    const json body = ExecuteQuery(R"({ m: maybe(id: "nullstatus") { id status } a: deployment(id: "a") { id } })");
    EXPECT_TRUE(body["data"]["m"].is_null());
    EXPECT_EQ(body["data"]["a"]["id"], "a");
    ASSERT_EQ(body["errors"].size(), 1u);
    EXPECT_EQ(body["errors"][0]["message"], "Cannot return null for non-nullable field Deployment.status.");
    EXPECT_EQ(body["errors"][0]["path"], json::array({"m", "status"}));
    EXPECT_EQ(body["errors"][0]["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    // Under a non-null root field the same null goes all the way up.
    const json up = ExecuteQuery(R"({ a: deployment(id: "a") { id } d: deployment(id: "nullstatus") { id status } })");
    EXPECT_TRUE(up["data"].is_null());
    EXPECT_EQ(up["errors"][0]["path"], json::array({"d", "status"}));
    // A nullable field's error nulls only that field.
    const json nullable = ExecuteQuery(R"({ m: maybe(id: "zz") { id } a: deployment(id: "a") { id } })");
    EXPECT_TRUE(nullable["data"]["m"].is_null());
    EXPECT_EQ(nullable["data"]["a"]["id"], "a");
    EXPECT_EQ(nullable["errors"][0]["path"], json::array({"m"}));
}

TEST(GraphqlExecutor, ReportsOnlyTheFirstSiblingErrorUnlessAskedForAll) {
    const std::string query = R"({ a: deployment(id: "x1") { id } b: deployment(id: "a") { id }
                                   c: deployment(id: "x2") { id } })";
    const json first = ExecuteQuery(query);
    EXPECT_TRUE(first["data"].is_null());
    ASSERT_EQ(first["errors"].size(), 1u);
    EXPECT_EQ(first["errors"][0]["path"], json::array({"a"}));
    const json all = ExecuteQuery(query, {.trace_id = "t", .sibling_errors = SiblingErrors::kAll});
    EXPECT_TRUE(all["data"].is_null());
    ASSERT_EQ(all["errors"].size(), 2u);
    EXPECT_EQ(all["errors"][0]["path"], json::array({"a"}));
    EXPECT_EQ(all["errors"][1]["path"], json::array({"c"}));
}

TEST(GraphqlExecutor, RootFieldNamesCountEveryAliasOnceAndHonourSkipAndInclude) {
    auto doc = ParseDocument(R"(query Q($on: Boolean!) {
        a: deployment(id: "1") { id } b: deployment(id: "2") { id } __typename
        ... on Query { c: deployment(id: "3") { id } a: deployment(id: "1") { status } }
        ...F
        d: deployment(id: "4") @include(if: $on) { id }
        e: deployment(id: "5") @skip(if: true) { id }
      }
      fragment F on Query { me: maybe(id: "6") { id } })");
    ASSERT_TRUE(doc);
    EXPECT_EQ(RootFieldNames(*doc, "", json{{"on", true}}),
              (std::vector<std::string>{"deployment", "deployment", "deployment", "maybe", "deployment"}));
    EXPECT_EQ(RootFieldNames(*doc, "Q", json{{"on", false}}).size(), 4u);
    EXPECT_TRUE(RootFieldNames(*doc, "Other", json::object()).empty());
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
    const ExecutionOptions noop{.trace_id = "trace-2"};
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
    EXPECT_NE(wrong.body.find(R"("traceId":"trace-2")"), std::string::npos) << wrong.body;
    auto unknown_op = executor.Execute(*doc, "Nope", json::object(), root, root, noop);
    EXPECT_EQ(unknown_op.http_status, 400);
}

}  // namespace
}  // namespace railwatch::sim::graphql
