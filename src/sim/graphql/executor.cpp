#include "sim/graphql/executor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "sim/graphql/json_writer.hpp"
#include "sim/graphql/validator.hpp"

namespace railwatch::sim::graphql {
namespace {

using json = nlohmann::json;

std::string DumpForMessage(const json& v) {
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsBuiltinScalar(std::string_view name) {
    return name == "String" || name == "ID" || name == "Int" || name == "Float" || name == "Boolean";
}

/// A response key and the field selections that share it (merged sub-selections).
struct FieldGroup {
    std::string key;
    std::vector<const Selection*> selections;
};

class Execution {
  public:
    Execution(const Schema& schema, const Document& doc, const ExecutionOptions& options)
        : schema_(schema), doc_(doc), options_(options) {
        for (const auto& f : doc_.fragments)
            fragments_.emplace(f.name, &f);
    }

    std::string Run(const Operation& op, const Object& root, const TypeDef& root_type) {
        out_.reserve(4096);
        out_ += "{\"data\":";
        const std::size_t data_start = out_.size();
        out_ += '{';
        std::vector<FieldGroup> groups;
        CollectFields(op.selections, root_type, groups);
        // The root fields are non-null in Railway's schema: a failed one nulls `data` (spec,
        // "Handling Field Errors"), whose value is then dropped.
        bool data_null = false;
        bool first = true;
        for (const auto& group : groups) {
            if (data_null && options_.sibling_errors == SiblingErrors::kFirst) break;
            if (!first) out_ += ',';
            first = false;
            AppendJsonString(out_, group.key);
            out_ += ':';
            path_.clear();
            path_.emplace_back(group.key);
            if (!ExecuteField(root, root_type, group)) data_null = true;
        }
        if (data_null) {
            out_.resize(data_start);
            out_ += "null";
        } else {
            out_ += '}';
        }
        if (!errors_.empty()) {
            out_ += ",\"errors\":[";
            for (std::size_t i = 0; i < errors_.size(); ++i) {
                if (i > 0) out_ += ',';
                AppendError(out_, errors_[i]);
            }
            out_ += ']';
        }
        out_ += '}';
        return std::move(out_);
    }

  private:
    bool Included(const std::vector<Directive>& directives) const {
        for (const auto& d : directives) {
            if (d.name != "include" && d.name != "skip") continue;
            bool condition = d.name == "include";
            for (const auto& a : d.arguments) {
                if (a.name != "if") continue;
                const json v = ValueToJson(a.value, "Boolean!");
                condition = v.is_boolean() && v.get<bool>();
            }
            if (d.name == "include" && !condition) return false;
            if (d.name == "skip" && condition) return false;
        }
        return true;
    }

    void CollectFields(const std::vector<Selection>& selections, const TypeDef& type, std::vector<FieldGroup>& groups,
                       int depth = 0) const {
        if (depth > 64) return;
        for (const auto& sel : selections) {
            if (!Included(sel.directives)) continue;
            switch (sel.kind) {
                case SelectionKind::kField: {
                    const std::string& key = sel.ResponseName();
                    bool merged = false;
                    for (auto& g : groups) {
                        if (g.key == key) {
                            g.selections.push_back(&sel);
                            merged = true;
                            break;
                        }
                    }
                    if (!merged) groups.push_back(FieldGroup{key, {&sel}});
                    break;
                }
                case SelectionKind::kInlineFragment:
                    if (sel.type_condition.empty() || sel.type_condition == type.name)
                        CollectFields(sel.selections, type, groups, depth + 1);
                    break;
                case SelectionKind::kFragmentSpread: {
                    const auto it = fragments_.find(sel.name);
                    if (it != fragments_.end() && it->second->type_condition == type.name)
                        CollectFields(it->second->selections, type, groups, depth + 1);
                    break;
                }
            }
        }
    }

    json ValueToJson(const Value& value, std::string_view type) const {
        switch (value.kind) {
            case ValueKind::kNull:
                return nullptr;
            case ValueKind::kVariable: {
                const auto it = coerced_.find(value.text);
                return it == coerced_.end() ? json(nullptr) : it->second;
            }
            case ValueKind::kInt: {
                const std::string_view named = NamedType(type);
                if (named == "Float") return std::strtod(value.text.c_str(), nullptr);
                if (named == "ID" || named == "String") return value.text;
                return std::strtoll(value.text.c_str(), nullptr, 10);
            }
            case ValueKind::kFloat:
                return std::strtod(value.text.c_str(), nullptr);
            case ValueKind::kString:
            case ValueKind::kEnum:
                return value.text;
            case ValueKind::kBoolean:
                return value.boolean;
            case ValueKind::kList: {
                json arr = json::array();
                const std::string_view item = ListItemType(type);
                for (const auto& v : value.items)
                    arr.push_back(ValueToJson(v, item));
                return arr;
            }
            case ValueKind::kObject: {
                json obj = json::object();
                const TypeDef* t = schema_.Type(NamedType(type));
                for (const auto& [name, v] : value.fields) {
                    const InputValueDef* f = t != nullptr ? t->InputField(name) : nullptr;
                    obj[name] = ValueToJson(v, f != nullptr ? std::string_view(f->type) : std::string_view("JSON"));
                }
                return obj;
            }
        }
        return nullptr;
    }

    json CoerceArguments(const Selection& sel, const FieldDef& def) const {
        json args = json::object();
        for (const auto& arg : sel.arguments) {
            const InputValueDef* arg_def = def.Arg(arg.name);
            if (arg_def == nullptr) continue;
            if (arg.value.kind == ValueKind::kVariable && coerced_.find(arg.value.text) == coerced_.end()) continue;
            json v = ValueToJson(arg.value, arg_def->type);
            // A single value where a list is expected is coerced to a one-item list.
            if (IsListType(StripNonNull(arg_def->type)) && !v.is_array() && !v.is_null()) v = json::array({v});
            args[arg.name] = std::move(v);
        }
        return args;
    }

    void AddError(std::string message, const Selection& sel, std::string code = {}) {
        if (code.empty()) code = kInternalServerError;
        errors_.push_back(GraphqlError{std::move(message),
                                       {sel.loc},
                                       options_.error_paths ? path_ : std::vector<PathElement>{},
                                       std::move(code),
                                       options_.trace_id});
    }

    /// After an item or field failed in a non-null position: whether to go on completing its
    /// siblings (only to report their errors; the parent is null either way).
    bool GoOnAfterFailure() const { return options_.sibling_errors == SiblingErrors::kAll; }

    /// Resolves and writes one field; false when it produced null in a non-null position.
    bool ExecuteField(const Object& object, const TypeDef& parent, const FieldGroup& group) {
        const Selection& sel = *group.selections.front();
        if (sel.name == "__typename") {
            AppendJsonString(out_, parent.name);
            return true;
        }
        const FieldDef* def = parent.Field(sel.name);
        if (def == nullptr) {  // cannot happen after validation
            out_ += "null";
            return true;
        }
        ResolvedValue value = object.Resolve(sel.name, CoerceArguments(sel, *def));
        return Complete(def->type, value, group, parent, *def);
    }

    bool Complete(std::string_view type, const ResolvedValue& value, const FieldGroup& group, const TypeDef& parent,
                  const FieldDef& def) {
        const Selection& sel = *group.selections.front();
        if (const auto* failure = std::get_if<FieldFailure>(&value.v)) {
            AddError(failure->message, sel, failure->code);
            if (IsNonNull(type)) return false;
            out_ += "null";
            return true;
        }
        if (std::holds_alternative<std::monostate>(value.v)) {
            if (IsNonNull(type)) {
                AddError(fmt::format("Cannot return null for non-nullable field {}.{}.", parent.name, def.name), sel);
                return false;
            }
            out_ += "null";
            return true;
        }
        const std::string_view nullable = StripNonNull(type);
        if (IsListType(nullable)) {
            const auto* list = std::get_if<ResolvedValue::List>(&value.v);
            if (list == nullptr) {
                AddError(
                    fmt::format("Expected Iterable, but did not find one for field \"{}.{}\".", parent.name, def.name),
                    sel);
                return !IsNonNull(type) && (out_ += "null", true);
            }
            const std::size_t start = out_.size();
            out_ += '[';
            const std::string_view item_type = ListItemType(nullable);
            bool failed = false;
            for (std::size_t i = 0; i < list->size(); ++i) {
                if (failed && !GoOnAfterFailure()) break;
                if (i > 0) out_ += ',';
                path_.emplace_back(static_cast<int>(i));
                if (!Complete(item_type, (*list)[i], group, parent, def)) failed = true;
                path_.pop_back();
            }
            if (failed) {
                out_.resize(start);
                if (IsNonNull(type)) return false;
                out_ += "null";
                return true;
            }
            out_ += ']';
            return true;
        }
        const TypeDef* t = schema_.Type(nullable);
        if (t == nullptr) {
            out_ += "null";
            return true;
        }
        if (t->kind == TypeKind::kObject) {
            const auto* obj = std::get_if<ObjectPtr>(&value.v);
            if (obj == nullptr || *obj == nullptr) {
                if (IsNonNull(type)) {
                    AddError(fmt::format("Cannot return null for non-nullable field {}.{}.", parent.name, def.name),
                             sel);
                    return false;
                }
                out_ += "null";
                return true;
            }
            std::vector<FieldGroup> groups;
            for (const Selection* s : group.selections)
                CollectFields(s->selections, *t, groups);
            const std::size_t start = out_.size();
            out_ += '{';
            bool first = true;
            bool failed = false;
            for (const auto& g : groups) {
                if (failed && !GoOnAfterFailure()) break;
                if (!first) out_ += ',';
                first = false;
                AppendJsonString(out_, g.key);
                out_ += ':';
                path_.emplace_back(g.key);
                if (!ExecuteField(**obj, *t, g)) failed = true;
                path_.pop_back();
            }
            if (failed) {
                out_.resize(start);
                if (IsNonNull(type)) return false;
                out_ += "null";
                return true;
            }
            out_ += '}';
            return true;
        }
        // Leaves.
        if (const auto* b = std::get_if<bool>(&value.v)) {
            out_ += *b ? "true" : "false";
        } else if (const auto* i = std::get_if<std::int64_t>(&value.v)) {
            out_ += std::to_string(*i);
        } else if (const auto* d = std::get_if<double>(&value.v)) {
            out_ += std::isfinite(*d) ? fmt::format("{}", *d) : std::string("null");
        } else if (const auto* s = std::get_if<std::string>(&value.v)) {
            AppendJsonString(out_, *s);
        } else if (const auto* raw = std::get_if<RawJson>(&value.v)) {
            out_ += raw->text.empty() ? "null" : raw->text;
        } else {
            out_ += "null";
        }
        return true;
    }

  public:
    std::unordered_map<std::string, json> coerced_;

  private:
    const Schema& schema_;
    const Document& doc_;
    const ExecutionOptions& options_;
    std::unordered_map<std::string, const Fragment*> fragments_;
    std::vector<GraphqlError> errors_;
    std::vector<PathElement> path_;
    std::string out_;
};

}  // namespace

std::string CoerceVariable(const Schema& schema, const json& value, std::string_view type, json& out) {
    if (value.is_null()) {
        if (IsNonNull(type)) return fmt::format("Expected non-nullable type \"{}\" not to be null.", type);
        out = nullptr;
        return {};
    }
    const std::string_view nullable = StripNonNull(type);
    if (IsListType(nullable)) {
        const std::string_view item = ListItemType(nullable);
        out = json::array();
        if (!value.is_array()) {
            json one;
            if (auto err = CoerceVariable(schema, value, item, one); !err.empty()) return err;
            out.push_back(std::move(one));
            return {};
        }
        for (const auto& v : value) {
            json one;
            if (auto err = CoerceVariable(schema, v, item, one); !err.empty()) return err;
            out.push_back(std::move(one));
        }
        return {};
    }
    const TypeDef* t = schema.Type(nullable);
    if (t == nullptr) return fmt::format("Unknown type \"{}\".", nullable);
    switch (t->kind) {
        case TypeKind::kInputObject: {
            if (!value.is_object()) return fmt::format("Expected type \"{}\" to be an object.", t->name);
            out = json::object();
            for (const auto& [k, v] : value.items()) {
                const InputValueDef* f = t->InputField(k);
                if (f == nullptr) return fmt::format("Field \"{}\" is not defined by type \"{}\".", k, t->name);
                json one;
                if (auto err = CoerceVariable(schema, v, f->type, one); !err.empty()) return err;
                out[k] = std::move(one);
            }
            for (const auto& f : t->input_fields) {
                if (IsNonNull(f.type) && !f.has_default && !value.contains(f.name))
                    return fmt::format("Field \"{}\" of required type \"{}\" was not provided.", f.name, f.type);
            }
            return {};
        }
        case TypeKind::kEnum:
            if (!value.is_string() || !t->HasEnumValue(value.get<std::string>()))
                return fmt::format("Value {} does not exist in \"{}\" enum.", DumpForMessage(value), t->name);
            out = value;
            return {};
        case TypeKind::kObject:
            return fmt::format("Type \"{}\" is not an input type.", t->name);
        case TypeKind::kScalar:
            break;
    }
    if (t->name == "String") {
        if (!value.is_string())
            return fmt::format("String cannot represent a non string value: {}", DumpForMessage(value));
    } else if (t->name == "ID") {
        if (value.is_number_integer()) {
            out = std::to_string(value.get<long long>());
            return {};
        }
        if (!value.is_string()) return fmt::format("ID cannot represent value: {}", DumpForMessage(value));
    } else if (t->name == "Int") {
        if (!value.is_number_integer())
            return fmt::format("Int cannot represent non-integer value: {}", DumpForMessage(value));
        const long long n = value.get<long long>();
        if (n > 2147483647LL || n < -2147483648LL)
            return fmt::format("Int cannot represent non 32-bit signed integer value: {}", DumpForMessage(value));
    } else if (t->name == "Float") {
        if (!value.is_number())
            return fmt::format("Float cannot represent non numeric value: {}", DumpForMessage(value));
    } else if (t->name == "Boolean") {
        if (!value.is_boolean())
            return fmt::format("Boolean cannot represent a non boolean value: {}", DumpForMessage(value));
    } else if (!IsBuiltinScalar(t->name)) {
        // Custom scalars: DateTime must be a string; JSON-like ones accept anything.
        if (t->name == "DateTime" && !value.is_string())
            return fmt::format("DateTime cannot represent a non string value: {}", DumpForMessage(value));
    }
    out = value;
    return {};
}

namespace {

/// The operation a request names (or its only operation); nullptr when there is none such.
const Operation* ChooseOperation(const Document& document, std::string_view operation_name) {
    if (operation_name.empty()) return document.operations.size() == 1 ? &document.operations.front() : nullptr;
    const Operation* op = nullptr;
    for (const auto& candidate : document.operations)
        if (candidate.name == operation_name) op = &candidate;
    return op;
}

/// Whether @skip/@include let a selection through, with raw (uncoerced) request variables.
bool IncludedByRawVariables(const std::vector<Directive>& directives, const json& variables) {
    for (const auto& d : directives) {
        if (d.name != "include" && d.name != "skip") continue;
        bool condition = false;
        for (const auto& a : d.arguments) {
            if (a.name != "if") continue;
            if (a.value.kind == ValueKind::kBoolean) {
                condition = a.value.boolean;
            } else if (a.value.kind == ValueKind::kVariable && variables.is_object()) {
                const auto it = variables.find(a.value.text);
                condition = it != variables.end() && it->is_boolean() && it->get<bool>();
            }
        }
        if (d.name == "include" && !condition) return false;
        if (d.name == "skip" && condition) return false;
    }
    return true;
}

void CollectRootFields(const Document& document, const std::vector<Selection>& selections, const json& variables,
                       std::vector<std::pair<std::string, std::string>>& keys, int depth) {
    if (depth > 64) return;
    for (const auto& sel : selections) {
        if (!IncludedByRawVariables(sel.directives, variables)) continue;
        switch (sel.kind) {
            case SelectionKind::kField: {
                if (sel.name == "__typename") break;
                const std::string& key = sel.ResponseName();
                const bool seen = std::any_of(keys.begin(), keys.end(), [&](const auto& k) { return k.first == key; });
                if (!seen) keys.emplace_back(key, sel.name);
                break;
            }
            case SelectionKind::kInlineFragment:
                CollectRootFields(document, sel.selections, variables, keys, depth + 1);
                break;
            case SelectionKind::kFragmentSpread:
                for (const auto& f : document.fragments)
                    if (f.name == sel.name) CollectRootFields(document, f.selections, variables, keys, depth + 1);
                break;
        }
    }
}

}  // namespace

std::vector<std::string> RootFieldNames(const Document& document, std::string_view operation_name,
                                        const json& variables) {
    const Operation* op = ChooseOperation(document, operation_name);
    if (op == nullptr) return {};
    std::vector<std::pair<std::string, std::string>> keys;
    CollectRootFields(document, op->selections, variables, keys, 0);
    std::vector<std::string> names;
    names.reserve(keys.size());
    for (auto& [key, name] : keys)
        names.push_back(std::move(name));
    return names;
}

ExecutionResult Executor::Execute(const Document& document, std::string_view operation_name, const json& variables,
                                  const Object& query_root, const Object& mutation_root,
                                  const ExecutionOptions& options) const {
    auto request_error = [&options](std::string message, std::string code = kBadUserInput) {
        return ExecutionResult{
            400, ErrorsBody({GraphqlError{std::move(message), {}, {}, std::move(code), options.trace_id}})};
    };
    const Operation* op = ChooseOperation(document, operation_name);
    if (op == nullptr) {
        if (!operation_name.empty())
            return request_error(fmt::format("Unknown operation named \"{}\".", operation_name));
        return request_error(document.operations.empty()
                                 ? "Must provide an operation."
                                 : "Must provide operation name if query contains multiple operations.");
    }
    if (op->kind == OperationKind::kSubscription)
        return request_error("Subscriptions are not served over HTTP POST; use a WebSocket (graphql-transport-ws).");

    const bool is_mutation = op->kind == OperationKind::kMutation;
    const TypeDef* root_type = schema_.Type(is_mutation ? "Mutation" : "Query");
    if (root_type == nullptr)
        return request_error("Schema is not configured for this operation.", kInternalServerError);

    Execution execution(schema_, document, options);
    // Variable coercion (spec §6.1.2): a bad or missing variable fails the whole request.
    std::vector<GraphqlError> var_errors;
    for (const auto& def : op->variables) {
        const bool provided = variables.is_object() && variables.contains(def.name);
        json coerced;
        if (!provided) {
            if (def.default_value) {
                // Defaults are literals; their validity was checked by the validator.
                json v;
                const Value& dv = *def.default_value;
                switch (dv.kind) {
                    case ValueKind::kNull:
                        v = nullptr;
                        break;
                    case ValueKind::kBoolean:
                        v = dv.boolean;
                        break;
                    case ValueKind::kInt:
                        v = NamedType(def.type) == "Float" ? json(std::strtod(dv.text.c_str(), nullptr))
                                                           : json(std::strtoll(dv.text.c_str(), nullptr, 10));
                        break;
                    case ValueKind::kFloat:
                        v = std::strtod(dv.text.c_str(), nullptr);
                        break;
                    default:
                        v = dv.text;
                        break;
                }
                if (dv.kind == ValueKind::kList || dv.kind == ValueKind::kObject)
                    v = nullptr;  // rare; treated as absent
                if (!v.is_null()) execution.coerced_[def.name] = v;
                continue;
            }
            if (IsNonNull(def.type)) {
                var_errors.push_back(GraphqlError{
                    fmt::format("Variable \"${}\" of required type \"{}\" was not provided.", def.name, def.type),
                    {def.loc},
                    {},
                    kBadUserInput,
                    options.trace_id});
            }
            continue;
        }
        const std::string err = CoerceVariable(schema_, variables[def.name], def.type, coerced);
        if (!err.empty()) {
            var_errors.push_back(GraphqlError{fmt::format("Variable \"${}\" got invalid value {}; {}", def.name,
                                                          DumpForMessage(variables[def.name]), err),
                                              {def.loc},
                                              {},
                                              kBadUserInput,
                                              options.trace_id});
            continue;
        }
        execution.coerced_[def.name] = std::move(coerced);
    }
    if (!var_errors.empty()) return ExecutionResult{400, ErrorsBody(var_errors)};

    return ExecutionResult{200, execution.Run(*op, is_mutation ? mutation_root : query_root, *root_type)};
}

}  // namespace railwatch::sim::graphql
