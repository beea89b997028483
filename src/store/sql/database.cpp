#include "store/sql/database.hpp"

#include <charconv>
#include <cstdlib>

namespace railwatch::store::sql {
namespace {

[[noreturn]] void BadColumn(std::size_t i, std::string_view want) {
    throw DbError(util::ErrorCode::kInternal,
                  "column " + std::to_string(i) + " is not " + std::string(want) + " (schema mismatch?)");
}

}  // namespace

std::int64_t Row::Int(std::size_t i) const {
    const Value& v = values.at(i);
    if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
    if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
    if (const auto* s = std::get_if<std::string>(&v)) {
        std::int64_t out = 0;
        const auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
        if (ec == std::errc() && ptr == s->data() + s->size()) return out;
    }
    BadColumn(i, "an integer");
}

double Row::Real(std::size_t i) const {
    const Value& v = values.at(i);
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* n = std::get_if<std::int64_t>(&v)) return static_cast<double>(*n);
    if (const auto* s = std::get_if<std::string>(&v)) {
        char* end = nullptr;
        const double out = std::strtod(s->c_str(), &end);
        if (end == s->c_str() + s->size() && !s->empty()) return out;
    }
    BadColumn(i, "a number");
}

std::string Row::Text(std::size_t i) const {
    const Value& v = values.at(i);
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
    BadColumn(i, "text");
}

std::string Row::TakeText(std::size_t i) {
    if (auto* s = std::get_if<std::string>(&values.at(i))) return std::move(*s);
    return Text(i);
}

std::optional<std::string> Row::TakeOptText(std::size_t i) {
    if (IsNull(i)) return std::nullopt;
    return TakeText(i);
}

std::optional<std::int64_t> Row::OptInt(std::size_t i) const {
    if (IsNull(i)) return std::nullopt;
    return Int(i);
}

std::optional<std::string> Row::OptText(std::size_t i) const {
    if (IsNull(i)) return std::nullopt;
    return Text(i);
}

Timestamp Row::Time(std::size_t i) const {
    return Timestamp(Duration(Int(i)));
}

std::optional<Timestamp> Row::OptTime(std::size_t i) const {
    if (IsNull(i)) return std::nullopt;
    return Time(i);
}

std::vector<util::Result<void>> Driver::WriteEach(std::span<const std::function<void(Tx&)>> works) {
    std::vector<util::Result<void>> results;
    results.reserve(works.size());
    for (const auto& work : works)
        results.push_back(Write(work));
    return results;
}

}  // namespace railwatch::store::sql
