#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

/// The syntax tree of a GraphQL executable document (operations and fragments), as the
/// simulator's parser produces it. Plain data, no behaviour.
namespace railwatch::sim::graphql {

/// 1-based line and column of a token, as graphql-js reports them in `locations`.
struct Location {
    int line = 1;
    int column = 1;
};

enum class ValueKind { kNull, kInt, kFloat, kString, kBoolean, kEnum, kList, kObject, kVariable };

/// A literal (or a variable reference) in an argument, a default value or a directive.
struct Value {
    ValueKind kind = ValueKind::kNull;
    std::string text;  ///< int/float digits as written, the decoded string, the enum or variable name
    bool boolean = false;
    std::vector<Value> items;                           ///< kList
    std::vector<std::pair<std::string, Value>> fields;  ///< kObject, in source order
    Location loc;
};

struct Argument {
    std::string name;
    Value value;
    Location loc;
};

struct Directive {
    std::string name;
    std::vector<Argument> arguments;
    Location loc;
};

enum class SelectionKind { kField, kFragmentSpread, kInlineFragment };

/// A field, a `...Name` spread or an inline `... on Type { }` fragment.
struct Selection {
    SelectionKind kind = SelectionKind::kField;
    std::string alias;           ///< kField: empty when no alias was given
    std::string name;            ///< kField: field name; kFragmentSpread: fragment name
    std::string type_condition;  ///< kInlineFragment: empty when `... { }` has no `on Type`
    std::vector<Argument> arguments;
    std::vector<Directive> directives;
    bool has_selection_set = false;
    std::vector<Selection> selections;
    Location loc;

    /// The key of this field in the answer: the alias if there is one, else the name.
    const std::string& ResponseName() const { return alias.empty() ? name : alias; }
};

/// `$name: Type = default`. `type` is written canonically: "String!", "[DeploymentStatus!]".
struct VariableDefinition {
    std::string name;
    std::string type;
    std::optional<Value> default_value;
    Location loc;
};

enum class OperationKind { kQuery, kMutation, kSubscription };

struct Operation {
    OperationKind kind = OperationKind::kQuery;
    std::string name;  ///< empty for anonymous operations (including the `{ ... }` shorthand)
    std::vector<VariableDefinition> variables;
    std::vector<Directive> directives;
    std::vector<Selection> selections;
    Location loc;
};

struct Fragment {
    std::string name;
    std::string type_condition;
    std::vector<Directive> directives;
    std::vector<Selection> selections;
    Location loc;
};

struct Document {
    std::vector<Operation> operations;
    std::vector<Fragment> fragments;
};

}  // namespace railwatch::sim::graphql
