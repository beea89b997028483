#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <unordered_map>
#include <vector>

/// The type system the simulator validates and executes against: read from SDL text. The
/// simulator's own schema (RailwaySubsetSdl) is a verbatim subset of Railway's public schema —
/// every type, field and argument it lists exists in third_party/railway/schema.json with the
/// same type (a unit test checks this), so a document the simulator accepts is valid for Railway.
namespace railwatch::sim::graphql {

struct InputValueDef {
    std::string name;
    std::string type;  ///< canonical, e.g. "String!", "[DeploymentStatus!]"
    bool has_default = false;
};

struct FieldDef {
    std::string name;
    std::string type;
    std::vector<InputValueDef> args;

    const InputValueDef* Arg(std::string_view arg_name) const;
};

enum class TypeKind { kScalar, kObject, kEnum, kInputObject };

struct TypeDef {
    std::string name;
    TypeKind kind = TypeKind::kScalar;
    std::vector<FieldDef> fields;             ///< kObject
    std::vector<InputValueDef> input_fields;  ///< kInputObject
    std::vector<std::string> enum_values;     ///< kEnum

    const FieldDef* Field(std::string_view field_name) const;
    const InputValueDef* InputField(std::string_view field_name) const;
    bool HasEnumValue(std::string_view value) const;

    std::unordered_map<std::string, std::size_t> field_index;  ///< name → index into `fields`
};

/// An immutable schema. Thread-safe after construction.
class Schema {
  public:
    /// Reads `type`, `input`, `enum` and `scalar` definitions (descriptions and directives are
    /// skipped). Errors name the problem and its line. The built-in scalars (String, Int, Float,
    /// Boolean, ID) are always present.
    static tl::expected<Schema, std::string> FromSdl(std::string_view sdl);

    const TypeDef* Type(std::string_view name) const;
    const std::vector<TypeDef>& Types() const { return types_; }

  private:
    std::vector<TypeDef> types_;
    std::unordered_map<std::string, std::size_t> index_;
};

/// The SDL of the part of Railway's schema the simulator serves (copied from Railway's schema).
std::string_view RailwaySubsetSdl();

/// Type-reference helpers on canonical spellings.
bool IsNonNull(std::string_view type);
std::string_view StripNonNull(std::string_view type);
bool IsListType(std::string_view type);                ///< "[X]" or "[X]!"
std::string_view ListItemType(std::string_view type);  ///< "[X!]!" → "X!"
std::string_view NamedType(std::string_view type);     ///< "[X!]!" → "X"

/// Whether a value of variable type `var_type` may be used where `expected` is required
/// (spec "IsVariableUsageAllowed", with `has_default` covering defaults on either side).
bool IsTypeSubTypeOf(std::string_view var_type, std::string_view expected);

}  // namespace railwatch::sim::graphql
