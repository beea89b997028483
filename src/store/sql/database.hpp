#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/model.hpp"
#include "store/sql/statements.hpp"
#include "store/store.hpp"
#include "util/result.hpp"

/// The seam between the dialect-neutral store (sql_store.cpp) and the two drivers (SQLite,
/// PostgreSQL). Internal to src/store.
namespace railwatch::store::sql {

/// A statement parameter. Text is borrowed: it must outlive the Exec call.
using Param = std::variant<std::monostate, std::int64_t, double, std::string_view>;

/// A column value as a driver returns it. PostgreSQL returns every non-null value as text;
/// the Row accessors convert.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;

/// One result row.
struct Row {
    std::vector<Value> values;

    bool IsNull(std::size_t i) const { return std::holds_alternative<std::monostate>(values.at(i)); }
    std::int64_t Int(std::size_t i) const;
    double Real(std::size_t i) const;
    std::string Text(std::size_t i) const;
    std::optional<std::int64_t> OptInt(std::size_t i) const;
    std::optional<std::string> OptText(std::size_t i) const;
    /// Text and OptText that move the column's string out (the value is left empty): for a row
    /// read once, without a copy of each string.
    std::string TakeText(std::size_t i);
    std::optional<std::string> TakeOptText(std::size_t i);
    Timestamp Time(std::size_t i) const;
    std::optional<Timestamp> OptTime(std::size_t i) const;
};

struct ExecResult {
    std::vector<Row> rows;
    std::int64_t affected = 0;  ///< rows changed by INSERT / UPDATE / DELETE
};

/// A failure inside a transaction: thrown by Tx::Exec (driver errors, already mapped to a code
/// and an actionable message) or by the store's own code to abort the transaction. Drivers
/// catch it at the transaction boundary, roll back and return the error.
class DbError : public std::exception {
  public:
    explicit DbError(util::Error error) : error_(std::move(error)) {}
    DbError(util::ErrorCode code, std::string message) : error_(code, std::move(message)) {}
    const char* what() const noexcept override { return error_.message.c_str(); }
    const util::Error& error() const { return error_; }

  private:
    util::Error error_;
};

/// A transaction in progress. Not thread-safe: used by the one thread running the transaction.
class Tx {
  public:
    virtual ~Tx() = default;
    /// Runs a cached prepared statement. Throws DbError.
    virtual ExecResult Exec(Stmt stmt, std::span<const Param> params) = 0;
    ExecResult Exec(Stmt stmt, std::initializer_list<Param> params) {
        return Exec(stmt, std::span<const Param>(params.begin(), params.size()));
    }
    /// Runs SQL that is not worth caching (migrations), possibly several statements when
    /// `params` is empty. Throws DbError.
    virtual ExecResult ExecRaw(const std::string& sql, std::span<const Param> params = {}) = 0;
};

/// A connection provider for one backend.
/// Thread-safe: Write and Read may be called from any thread at the same time.
class Driver {
  public:
    virtual ~Driver() = default;
    virtual Backend backend() const = 0;
    virtual std::string Describe() const = 0;
    /// Runs `work` in a write transaction and returns once it committed (or failed: then none
    /// of its changes remain). DbError thrown by `work` becomes the returned error.
    virtual util::Result<void> Write(const std::function<void(Tx&)>& work) = 0;
    /// Runs each of `works` as Write would, each on its own: one that fails rolls back only its
    /// own changes (unless the database fails them all), and returns once all are done, with
    /// their results in the order given. A backend may commit them in one transaction (SQLite:
    /// the writer's next batch); this default runs one Write after another.
    virtual std::vector<util::Result<void>> WriteEach(std::span<const std::function<void(Tx&)>> works);
    /// Runs `work` in a read-only snapshot.
    virtual util::Result<void> Read(const std::function<void(Tx&)>& work) = 0;
};

}  // namespace railwatch::store::sql
