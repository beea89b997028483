#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "sim/graphql/ast.hpp"
#include "sim/graphql/errors.hpp"
#include "sim/graphql/schema.hpp"

/// Executes a validated document against resolver objects and writes the JSON answer.
///
/// Null propagation: inside a root field, a null (or an error) in a non-null position makes the
/// nearest nullable parent null, as the spec says. At the root it stops at the root field: that
/// key (alias) becomes null and the other root fields keep their data, even though Railway's
/// root fields are non-null (`deployment(id): Deployment!`) and a strict server would null the
/// whole `data`. This is what a batched status request needs (one unknown id must not hide 49
/// good answers) and what docs/SIMULATOR.md promises; the error still carries the alias's path.
namespace railwatch::sim::graphql {

class Object;
using ObjectPtr = std::shared_ptr<const Object>;

/// A JSON value written verbatim (for JSON-like scalars such as DeploymentMeta).
struct RawJson {
    std::string text;
};

/// A field-level error: becomes `errors[]` with the field's path, and the field is null.
struct FieldFailure {
    std::string message;
    std::string code;  ///< extensions.code, may be empty
};

/// What a resolver returns: null, a scalar (enum values as strings), an object, a list, or an error.
struct ResolvedValue {
    using List = std::vector<ResolvedValue>;
    std::variant<std::monostate, bool, std::int64_t, double, std::string, RawJson, ObjectPtr, List, FieldFailure> v;

    ResolvedValue() = default;
    ResolvedValue(std::nullptr_t) {}
    ResolvedValue(bool b) : v(b) {}
    ResolvedValue(int i) : v(static_cast<std::int64_t>(i)) {}
    ResolvedValue(std::int64_t i) : v(i) {}
    ResolvedValue(double d) : v(d) {}
    ResolvedValue(std::string s) : v(std::move(s)) {}
    ResolvedValue(const char* s) : v(std::string(s)) {}
    ResolvedValue(std::string_view s) : v(std::string(s)) {}
    ResolvedValue(RawJson j) : v(std::move(j)) {}
    ResolvedValue(ObjectPtr o) : v(std::move(o)) {}
    template <typename T>
    requires std::is_base_of_v<Object, T> ResolvedValue(std::shared_ptr<T> o) : v(ObjectPtr(std::move(o))) {}
    ResolvedValue(List l) : v(std::move(l)) {}
    ResolvedValue(FieldFailure f) : v(std::move(f)) {}
};

/// An object of some GraphQL type. Implementations are immutable snapshots or views; Resolve is
/// called on the executing thread only.
class Object {
  public:
    virtual ~Object() = default;
    /// Resolves `field` with its coerced arguments (a JSON object; absent arguments are absent).
    virtual ResolvedValue Resolve(std::string_view field, const nlohmann::json& args) const = 0;
};

/// The outcome of a request: the HTTP status (200, or 400 for request errors such as an unknown
/// operation name or bad variables) and the body.
struct ExecutionResult {
    int http_status = 200;
    std::string body;
};

/// Runs operations. Holds only a reference to the schema; thread-safe (no shared state).
class Executor {
  public:
    explicit Executor(const Schema& schema) : schema_(schema) {}

    /// Executes the chosen operation of a *validated* document. `on_root_field(name)` is called
    /// once per executed root field, aliases counted separately (for request counters).
    ExecutionResult Execute(const Document& document, std::string_view operation_name, const nlohmann::json& variables,
                            const Object& query_root, const Object& mutation_root,
                            const std::function<void(std::string_view)>& on_root_field) const;

  private:
    const Schema& schema_;
};

/// Coerces a JSON variable value to `type`; returns an error text (graphql-js wording) or "".
std::string CoerceVariable(const Schema& schema, const nlohmann::json& value, std::string_view type,
                           nlohmann::json& out);

}  // namespace railwatch::sim::graphql
