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
/// Null propagation follows the spec ("Handling Field Errors"): a field error, or a null, in a
/// non-null position makes the nearest nullable ancestor null; when every field from the root
/// to the error is non-null, `data` itself is null. Railway's root fields are non-null
/// (`deployment(id): Deployment!`), so one unknown id among 50 aliases nulls the whole answer,
/// and the error's `path` names the alias that failed.
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
    std::string code;  ///< extensions.code; empty means INTERNAL_SERVER_ERROR (as Railway sends)
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

/// Which errors an answer reports once a non-null field error has nulled a parent.
enum class SiblingErrors {
    /// The parent's remaining fields are not completed, so only the first error is reported, as
    /// graphql-js does (its executeFields stops at the first error, and with asynchronous resolvers
    /// Promise.all keeps only the first rejection).
    kFirst,
    /// The remaining fields are completed too and every error is reported (the data is the same).
    kAll,
};

/// Per-request execution settings.
struct ExecutionOptions {
    std::string trace_id;  ///< extensions.traceId of every error of the answer (may be empty)
    SiblingErrors sibling_errors = SiblingErrors::kFirst;
    bool error_paths = true;  ///< field errors carry `path` (false: left out, as some servers do)
};

/// Runs operations. Holds only a reference to the schema; thread-safe (no shared state).
class Executor {
  public:
    explicit Executor(const Schema& schema) : schema_(schema) {}

    /// Executes the chosen operation of a *validated* document. Field errors carry
    /// extensions.code (INTERNAL_SERVER_ERROR unless the resolver gave one) and options.trace_id.
    ExecutionResult Execute(const Document& document, std::string_view operation_name, const nlohmann::json& variables,
                            const Object& query_root, const Object& mutation_root,
                            const ExecutionOptions& options) const;

  private:
    const Schema& schema_;
};

/// The root fields the chosen operation of a validated document selects, one entry (the field
/// name) per response key: aliases count separately, `__typename` does not, fragments are
/// followed, and `@skip`/`@include` are honoured with literal or variable conditions (a variable
/// that is absent or not a boolean counts as false). Empty when no operation can be chosen.
/// For request counters and per-field costs, before execution.
std::vector<std::string> RootFieldNames(const Document& document, std::string_view operation_name,
                                        const nlohmann::json& variables);

/// Coerces a JSON variable value to `type`; returns an error text (graphql-js wording) or "".
std::string CoerceVariable(const Schema& schema, const nlohmann::json& value, std::string_view type,
                           nlohmann::json& out);

}  // namespace railwatch::sim::graphql
