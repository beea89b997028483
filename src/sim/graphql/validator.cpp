#include "sim/graphql/validator.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>
#include <unordered_map>

#include "util/json.hpp"

namespace railwatch::sim::graphql {
namespace {

struct VariableUsage {
    std::string name;
    std::string expected_type;
    bool location_has_default = false;
    Location loc;
};

class Validator {
  public:
    Validator(const Schema& schema, const Document& doc) : schema_(schema), doc_(doc) {
        for (const auto& f : doc_.fragments)
            fragments_.emplace(f.name, &f);
    }

    std::vector<GraphqlError> Run() {
        CheckOperations();
        CheckFragmentDefinitions();
        return std::move(errors_);
    }

  private:
    void Error(std::string message, std::vector<Location> locations) {
        errors_.push_back(GraphqlError{std::move(message), std::move(locations), {}, kValidationFailed, {}});
    }

    void CheckOperations() {
        std::map<std::string, Location> names;
        const bool several = doc_.operations.size() > 1;
        for (const auto& op : doc_.operations) {
            if (op.name.empty() && several) {
                Error("This anonymous operation must be the only defined operation.", {op.loc});
            }
            if (!op.name.empty()) {
                const auto [it, inserted] = names.emplace(op.name, op.loc);
                if (!inserted) {
                    Error(fmt::format("There can be only one operation named \"{}\".", op.name), {it->second, op.loc});
                }
            }
            CheckOperation(op);
        }
    }

    void CheckOperation(const Operation& op) {
        const TypeDef* root = nullptr;
        if (op.kind == OperationKind::kQuery) root = schema_.Type("Query");
        if (op.kind == OperationKind::kMutation) root = schema_.Type("Mutation");
        if (root == nullptr) {
            Error(op.kind == OperationKind::kSubscription
                      ? "Schema is not configured to execute subscription operation."
                      : "Schema is not configured to execute this operation.",
                  {op.loc});
            return;
        }
        // Variable definitions.
        std::map<std::string, const VariableDefinition*> defined;
        for (const auto& def : op.variables) {
            if (!defined.emplace(def.name, &def).second) {
                Error(fmt::format("There can be only one variable named \"${}\".", def.name), {def.loc});
            }
            const TypeDef* t = schema_.Type(NamedType(def.type));
            if (t == nullptr) {
                Error(fmt::format("Unknown type \"{}\".", NamedType(def.type)), {def.loc});
            } else if (t->kind == TypeKind::kObject) {
                Error(fmt::format("Variable \"${}\" cannot be non-input type \"{}\".", def.name, def.type), {def.loc});
            } else if (def.default_value) {
                CheckValue(*def.default_value, def.type);
            }
        }
        CheckDirectives(op.directives);

        usages_.clear();
        visited_fragments_.clear();
        report_ = true;
        CheckSelectionSet(op.selections, *root);

        std::set<std::string> used;
        for (const auto& u : usages_) {
            used.insert(u.name);
            const auto it = defined.find(u.name);
            if (it == defined.end()) {
                Error(op.name.empty()
                          ? fmt::format("Variable \"${}\" is not defined.", u.name)
                          : fmt::format("Variable \"${}\" is not defined by operation \"{}\".", u.name, op.name),
                      {u.loc, op.loc});
                continue;
            }
            const VariableDefinition& def = *it->second;
            if (schema_.Type(NamedType(def.type)) == nullptr) continue;
            std::string var_type = def.type;
            const bool var_has_default = def.default_value && def.default_value->kind != ValueKind::kNull;
            if (IsNonNull(u.expected_type) && !IsNonNull(var_type) && (var_has_default || u.location_has_default)) {
                if (IsTypeSubTypeOf(var_type, StripNonNull(u.expected_type))) continue;
            }
            if (!IsTypeSubTypeOf(var_type, u.expected_type)) {
                Error(fmt::format("Variable \"${}\" of type \"{}\" used in position expecting type \"{}\".", u.name,
                                  def.type, u.expected_type),
                      {def.loc, u.loc});
            }
        }
        for (const auto& def : op.variables) {
            if (used.count(def.name) == 0) {
                Error(op.name.empty()
                          ? fmt::format("Variable \"${}\" is never used.", def.name)
                          : fmt::format("Variable \"${}\" is never used in operation \"{}\".", def.name, op.name),
                      {def.loc});
            }
        }
        for (const auto& name : visited_fragments_)
            used_fragments_.insert(name);
    }

    void CheckFragmentDefinitions() {
        std::map<std::string, Location> seen;
        for (const auto& frag : doc_.fragments) {
            const auto [it, inserted] = seen.emplace(frag.name, frag.loc);
            if (!inserted) {
                Error(fmt::format("There can be only one fragment named \"{}\".", frag.name), {it->second, frag.loc});
            }
            if (used_fragments_.count(frag.name) == 0) {
                Error(fmt::format("Fragment \"{}\" is never used.", frag.name), {frag.loc});
            }
            CheckDirectives(frag.directives);
            std::set<std::string> path;
            if (SpreadsItself(frag.name, frag.selections, path)) {
                Error(fmt::format("Cannot spread fragment \"{}\" within itself.", frag.name), {frag.loc});
                continue;
            }
            const TypeDef* t = schema_.Type(frag.type_condition);
            if (t == nullptr) {
                Error(fmt::format("Unknown type \"{}\".", frag.type_condition), {frag.loc});
                continue;
            }
            if (t->kind != TypeKind::kObject) {
                Error(fmt::format("Fragment \"{}\" cannot condition on non composite type \"{}\".", frag.name,
                                  frag.type_condition),
                      {frag.loc});
                continue;
            }
            // Fields inside fragments are checked once here; spreads in operations only collect
            // variable usages.
            report_ = true;
            usages_.clear();
            visited_fragments_.clear();
            CheckSelectionSet(frag.selections, *t);
        }
    }

    bool SpreadsItself(const std::string& target, const std::vector<Selection>& selections,
                       std::set<std::string>& path) {
        for (const auto& sel : selections) {
            if (sel.kind == SelectionKind::kFragmentSpread) {
                if (sel.name == target) return true;
                if (path.count(sel.name) != 0) continue;
                const auto it = fragments_.find(sel.name);
                if (it == fragments_.end()) continue;
                path.insert(sel.name);
                if (SpreadsItself(target, it->second->selections, path)) return true;
            } else if (SpreadsItself(target, sel.selections, path)) {
                return true;
            }
        }
        return false;
    }

    void CheckDirectives(const std::vector<Directive>& directives) {
        for (const auto& d : directives) {
            if (d.name != "include" && d.name != "skip") {
                if (report_) Error(fmt::format("Unknown directive \"@{}\".", d.name), {d.loc});
                continue;
            }
            bool has_if = false;
            for (const auto& a : d.arguments) {
                if (a.name != "if") {
                    if (report_)
                        Error(fmt::format("Unknown argument \"{}\" on directive \"@{}\".", a.name, d.name), {a.loc});
                    continue;
                }
                has_if = true;
                CheckValue(a.value, "Boolean!");
            }
            if (!has_if && report_) {
                Error(fmt::format("Directive \"@{}\" argument \"if\" of type \"Boolean!\" is required, but it was not "
                                  "provided.",
                                  d.name),
                      {d.loc});
            }
        }
    }

    struct Collected {
        const Selection* field;
        const FieldDef* def;
    };

    void CheckSelectionSet(const std::vector<Selection>& selections, const TypeDef& parent) {
        std::vector<Collected> fields;
        CollectAndCheck(selections, parent, fields);
        if (!report_) return;
        // Overlapping fields: the same response key must mean the same field with the same arguments.
        std::unordered_map<std::string, const Collected*> by_key;
        for (const auto& c : fields) {
            const auto [it, inserted] = by_key.emplace(c.field->ResponseName(), &c);
            if (inserted) continue;
            const Selection& a = *it->second->field;
            const Selection& b = *c.field;
            if (a.name != b.name) {
                Error(fmt::format("Fields \"{}\" conflict because \"{}\" and \"{}\" are different fields. Use "
                                  "different aliases on the fields to fetch both if this was intentional.",
                                  b.ResponseName(), a.name, b.name),
                      {a.loc, b.loc});
            } else if (PrintArgs(a.arguments) != PrintArgs(b.arguments)) {
                Error(fmt::format("Fields \"{}\" conflict because they have differing arguments. Use different "
                                  "aliases on the fields to fetch both if this was intentional.",
                                  b.ResponseName()),
                      {a.loc, b.loc});
            }
        }
    }

    static std::string PrintArgs(const std::vector<Argument>& args) {
        std::map<std::string, std::string> sorted;
        for (const auto& a : args)
            sorted[a.name] = PrintValue(a.value);
        std::string out;
        for (const auto& [k, v] : sorted)
            out.append(k).append(":").append(v).append(",");
        return out;
    }

    void CollectAndCheck(const std::vector<Selection>& selections, const TypeDef& parent,
                         std::vector<Collected>& fields) {
        for (const auto& sel : selections) {
            CheckDirectives(sel.directives);
            switch (sel.kind) {
                case SelectionKind::kField:
                    CheckField(sel, parent, fields);
                    break;
                case SelectionKind::kInlineFragment: {
                    const TypeDef* t = &parent;
                    if (!sel.type_condition.empty()) {
                        t = schema_.Type(sel.type_condition);
                        if (t == nullptr) {
                            if (report_) Error(fmt::format("Unknown type \"{}\".", sel.type_condition), {sel.loc});
                            break;
                        }
                        if (t->kind != TypeKind::kObject) {
                            if (report_) {
                                Error(fmt::format("Fragment cannot condition on non composite type \"{}\".", t->name),
                                      {sel.loc});
                            }
                            break;
                        }
                        if (t != &parent) {
                            if (report_) {
                                Error(fmt::format("Fragment cannot be spread here as objects of type \"{}\" can never "
                                                  "be of type \"{}\".",
                                                  parent.name, t->name),
                                      {sel.loc});
                            }
                            break;
                        }
                    }
                    CollectAndCheck(sel.selections, *t, fields);
                    break;
                }
                case SelectionKind::kFragmentSpread: {
                    const auto it = fragments_.find(sel.name);
                    if (it == fragments_.end()) {
                        if (report_) Error(fmt::format("Unknown fragment \"{}\".", sel.name), {sel.loc});
                        break;
                    }
                    const Fragment& frag = *it->second;
                    used_fragments_.insert(frag.name);  // used, even where it cannot apply
                    const TypeDef* t = schema_.Type(frag.type_condition);
                    if (t == nullptr || t->kind != TypeKind::kObject) break;  // reported with the fragment
                    if (t != &parent) {
                        if (report_) {
                            Error(fmt::format("Fragment \"{}\" cannot be spread here as objects of type \"{}\" can "
                                              "never be of type \"{}\".",
                                              frag.name, parent.name, t->name),
                                  {sel.loc});
                        }
                        break;
                    }
                    if (!visited_fragments_.insert(frag.name).second) break;  // cycles are reported elsewhere
                    const bool saved = report_;
                    report_ = false;  // the fragment's own fields are checked with its definition
                    std::vector<Collected> inner;
                    CollectAndCheck(frag.selections, *t, inner);
                    report_ = saved;
                    fields.insert(fields.end(), inner.begin(), inner.end());
                    break;
                }
            }
        }
    }

    void CheckField(const Selection& sel, const TypeDef& parent, std::vector<Collected>& fields) {
        if (sel.name == "__typename") {
            if (report_ && !sel.arguments.empty()) {
                Error(fmt::format("Unknown argument \"{}\" on field \"{}.__typename\".", sel.arguments[0].name,
                                  parent.name),
                      {sel.arguments[0].loc});
            }
            if (report_ && sel.has_selection_set) {
                Error("Field \"__typename\" must not have a selection since type \"String!\" has no subfields.",
                      {sel.loc});
            }
            fields.push_back({&sel, nullptr});
            return;
        }
        const FieldDef* def = parent.Field(sel.name);
        if (def == nullptr) {
            if (report_)
                Error(fmt::format("Cannot query field \"{}\" on type \"{}\".", sel.name, parent.name), {sel.loc});
            return;
        }
        fields.push_back({&sel, def});
        // Arguments.
        std::set<std::string> seen;
        for (const auto& arg : sel.arguments) {
            if (!seen.insert(arg.name).second && report_) {
                Error(fmt::format("There can be only one argument named \"{}\".", arg.name), {arg.loc});
            }
            const InputValueDef* arg_def = def->Arg(arg.name);
            if (arg_def == nullptr) {
                if (report_) {
                    Error(fmt::format("Unknown argument \"{}\" on field \"{}.{}\".", arg.name, parent.name, sel.name),
                          {arg.loc});
                }
                continue;
            }
            CheckValue(arg.value, arg_def->type, arg_def->has_default);
        }
        if (report_) {
            for (const auto& arg_def : def->args) {
                if (IsNonNull(arg_def.type) && !arg_def.has_default && seen.count(arg_def.name) == 0) {
                    Error(fmt::format("Field \"{}\" argument \"{}\" of type \"{}\" is required, but it was not "
                                      "provided.",
                                      sel.name, arg_def.name, arg_def.type),
                          {sel.loc});
                }
            }
        }
        // Leaf or object.
        const TypeDef* type = schema_.Type(NamedType(def->type));
        if (type == nullptr) return;
        if (type->kind == TypeKind::kObject) {
            if (!sel.has_selection_set) {
                if (report_) {
                    Error(fmt::format("Field \"{}\" of type \"{}\" must have a selection of subfields. Did you mean "
                                      "\"{} {{ ... }}\"?",
                                      sel.name, def->type, sel.name),
                          {sel.loc});
                }
                return;
            }
            CheckSelectionSet(sel.selections, *type);
        } else if (sel.has_selection_set && report_) {
            Error(fmt::format("Field \"{}\" must not have a selection since type \"{}\" has no subfields.", sel.name,
                              def->type),
                  {sel.loc});
        }
    }

    void CheckValue(const Value& value, std::string_view type, bool location_has_default = false) {
        if (value.kind == ValueKind::kVariable) {
            usages_.push_back({value.text, std::string(type), location_has_default, value.loc});
            return;
        }
        if (!report_) {
            // Still collect variable usages nested in lists and objects.
            CollectNestedVariables(value, type);
            return;
        }
        if (value.kind == ValueKind::kNull) {
            if (IsNonNull(type)) Error(fmt::format("Expected value of type \"{}\", found null.", type), {value.loc});
            return;
        }
        const std::string_view nullable = StripNonNull(type);
        if (IsListType(nullable)) {
            const std::string_view item = ListItemType(nullable);
            if (value.kind == ValueKind::kList) {
                for (const auto& v : value.items)
                    CheckValue(v, item);
            } else {
                CheckValue(value, item);
            }
            return;
        }
        const TypeDef* t = schema_.Type(nullable);
        if (t == nullptr) return;
        switch (t->kind) {
            case TypeKind::kInputObject: {
                if (value.kind != ValueKind::kObject) {
                    Error(fmt::format("Expected value of type \"{}\", found {}.", type, PrintValue(value)),
                          {value.loc});
                    return;
                }
                std::set<std::string> present;
                for (const auto& [name, v] : value.fields) {
                    if (!present.insert(name).second) {
                        Error(fmt::format("There can be only one input field named \"{}\".", name), {v.loc});
                    }
                    const InputValueDef* f = t->InputField(name);
                    if (f == nullptr) {
                        Error(fmt::format("Field \"{}\" is not defined by type \"{}\".", name, t->name), {v.loc});
                        continue;
                    }
                    CheckValue(v, f->type, f->has_default);
                }
                for (const auto& f : t->input_fields) {
                    if (IsNonNull(f.type) && !f.has_default && present.count(f.name) == 0) {
                        Error(fmt::format("Field \"{}.{}\" of required type \"{}\" was not provided.", t->name, f.name,
                                          f.type),
                              {value.loc});
                    }
                }
                return;
            }
            case TypeKind::kEnum:
                if (value.kind != ValueKind::kEnum) {
                    Error(fmt::format("Enum \"{}\" cannot represent non-enum value: {}.", t->name, PrintValue(value)),
                          {value.loc});
                } else if (!t->HasEnumValue(value.text)) {
                    Error(fmt::format("Value \"{}\" does not exist in \"{}\" enum.", value.text, t->name), {value.loc});
                }
                return;
            case TypeKind::kScalar:
                CheckScalar(value, *t);
                return;
            case TypeKind::kObject:
                return;
        }
    }

    void CollectNestedVariables(const Value& value, std::string_view type) {
        const std::string_view nullable = StripNonNull(type);
        if (value.kind == ValueKind::kList) {
            for (const auto& v : value.items)
                CheckValue(v, IsListType(nullable) ? ListItemType(nullable) : nullable);
        } else if (value.kind == ValueKind::kObject) {
            const TypeDef* t = schema_.Type(nullable);
            for (const auto& [name, v] : value.fields) {
                const InputValueDef* f = t != nullptr ? t->InputField(name) : nullptr;
                if (f != nullptr) CheckValue(v, f->type, f->has_default);
            }
        }
    }

    void CheckScalar(const Value& value, const TypeDef& t) {
        const std::string printed = PrintValue(value);
        if (value.kind == ValueKind::kList || value.kind == ValueKind::kObject) {
            if (t.name == "String" || t.name == "ID" || t.name == "Int" || t.name == "Float" || t.name == "Boolean") {
                Error(fmt::format("Expected value of type \"{}\", found {}.", t.name, printed), {value.loc});
            }
            return;
        }
        if (t.name == "String") {
            if (value.kind != ValueKind::kString)
                Error(fmt::format("String cannot represent a non string value: {}", printed), {value.loc});
        } else if (t.name == "ID") {
            if (value.kind != ValueKind::kString && value.kind != ValueKind::kInt)
                Error(fmt::format("ID cannot represent a non-string and non-integer value: {}", printed), {value.loc});
        } else if (t.name == "Boolean") {
            if (value.kind != ValueKind::kBoolean)
                Error(fmt::format("Boolean cannot represent a non boolean value: {}", printed), {value.loc});
        } else if (t.name == "Int") {
            if (value.kind != ValueKind::kInt) {
                Error(fmt::format("Int cannot represent non-integer value: {}", printed), {value.loc});
                return;
            }
            errno = 0;
            const long long n = std::strtoll(value.text.c_str(), nullptr, 10);
            if (errno == ERANGE || n > 2147483647LL || n < -2147483648LL)
                Error(fmt::format("Int cannot represent non 32-bit signed integer value: {}", printed), {value.loc});
        } else if (t.name == "Float") {
            if (value.kind != ValueKind::kInt && value.kind != ValueKind::kFloat)
                Error(fmt::format("Float cannot represent non numeric value: {}", printed), {value.loc});
        }
        // Custom scalars (DateTime, JSON, ...) accept any literal, as graphql-js does without a
        // parseLiteral of their own.
    }

    const Schema& schema_;
    const Document& doc_;
    std::unordered_map<std::string, const Fragment*> fragments_;
    std::vector<GraphqlError> errors_;
    std::vector<VariableUsage> usages_;
    std::set<std::string> visited_fragments_;
    std::set<std::string> used_fragments_;
    bool report_ = true;
};

}  // namespace

std::string PrintValue(const Value& value) {
    switch (value.kind) {
        case ValueKind::kNull:
            return "null";
        case ValueKind::kInt:
        case ValueKind::kFloat:
        case ValueKind::kEnum:
            return value.text;
        case ValueKind::kString:
            return util::JsonString(value.text);
        case ValueKind::kBoolean:
            return value.boolean ? "true" : "false";
        case ValueKind::kVariable:
            return "$" + value.text;
        case ValueKind::kList: {
            std::string out = "[";
            for (std::size_t i = 0; i < value.items.size(); ++i) {
                if (i > 0) out += ", ";
                out += PrintValue(value.items[i]);
            }
            return out + "]";
        }
        case ValueKind::kObject: {
            std::string out = "{";
            for (std::size_t i = 0; i < value.fields.size(); ++i) {
                if (i > 0) out += ", ";
                out += value.fields[i].first + ": " + PrintValue(value.fields[i].second);
            }
            return out + "}";
        }
    }
    return "";
}

std::vector<GraphqlError> Validate(const Schema& schema, const Document& document) {
    return Validator(schema, document).Run();
}

}  // namespace railwatch::sim::graphql
