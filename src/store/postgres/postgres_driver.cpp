#include "store/postgres/postgres_driver.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>

namespace railwatch::store::postgres {
namespace {

using sql::DbError;
using sql::ExecResult;
using sql::Param;
using sql::Row;
using sql::Stmt;
using util::ErrorCode;

// Where the URL points, for messages (no password).
struct Target {
    std::string host = "localhost";
    std::string port = "5432";
    std::string dbname;
    std::string user;
};

Target ParseTarget(const std::string& conninfo) {
    Target t;
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (error != nullptr) PQfreemem(error);
    if (options == nullptr) return t;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const std::string_view key = o->keyword;
        if (key == "host" || (key == "hostaddr" && t.host == "localhost")) t.host = o->val;
        if (key == "port") t.port = o->val;
        if (key == "dbname") t.dbname = o->val;
        if (key == "user") t.user = o->val;
    }
    PQconninfoFree(options);
    return t;
}

std::string FirstLine(std::string_view text) {
    const auto end = text.find('\n');
    std::string line(text.substr(0, end));
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
        line.pop_back();
    return line;
}

std::string ToText(const Param& p) {
    if (const auto* n = std::get_if<std::int64_t>(&p)) return std::to_string(*n);
    if (const auto* d = std::get_if<double>(&p)) return fmt::format("{}", *d);
    return std::string(std::get<std::string_view>(p));
}

std::vector<std::optional<std::string>> ToParams(std::span<const Param> params) {
    std::vector<std::optional<std::string>> out;
    out.reserve(params.size());
    for (const auto& p : params) {
        if (std::holds_alternative<std::monostate>(p)) {
            out.emplace_back(std::nullopt);
        } else {
            out.emplace_back(ToText(p));
        }
    }
    return out;
}

ExecResult ToExecResult(const pqxx::result& r) {
    ExecResult out;
    out.affected = static_cast<std::int64_t>(r.affected_rows());
    out.rows.reserve(r.size());
    for (const auto& row : r) {
        Row converted;
        converted.values.reserve(row.size());
        for (const auto& field : row) {
            if (field.is_null()) {
                converted.values.emplace_back(std::monostate{});
            } else {
                converted.values.emplace_back(std::string(field.c_str(), field.size()));
            }
        }
        out.rows.push_back(std::move(converted));
    }
    return out;
}

// Connection-level failure: the server went away or refused us.
bool IsConnectionState(const std::string& sqlstate) {
    return sqlstate.starts_with("08") || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

class PgTx final : public sql::Tx {
  public:
    explicit PgTx(pqxx::work& w) : w_(w) {}

    ExecResult Exec(Stmt stmt, std::span<const Param> params) override {
        const auto values = ToParams(params);
        return ToExecResult(w_.exec_prepared(std::string(sql::Name(stmt)), pqxx::prepare::make_dynamic_params(values)));
    }

    ExecResult ExecRaw(const std::string& text, std::span<const Param> params) override {
        if (params.empty()) return ToExecResult(w_.exec(text));
        const auto values = ToParams(params);
        return ToExecResult(w_.exec_params(text, pqxx::prepare::make_dynamic_params(values)));
    }

  private:
    pqxx::work& w_;
};

class PostgresDriver final : public sql::Driver {
  public:
    PostgresDriver(StoreUrl url, const StoreOptions& options)
        : url_(std::move(url)), options_(options), target_(ParseTarget(url_.conninfo)) {
        slots_.resize(static_cast<std::size_t>(std::max(1, options_.connections)));
        for (std::size_t i = 0; i < slots_.size(); ++i)
            free_.push_back(i);
        conninfo_ = url_.conninfo;
        if (conninfo_.find("connect_timeout=") == std::string::npos) {
            conninfo_ += conninfo_.find('?') == std::string::npos ? '?' : '&';
            conninfo_ += fmt::format("connect_timeout={}", std::max(1, options_.connect_timeout_s));
        }
    }

    Backend backend() const override { return Backend::kPostgres; }
    std::string Describe() const override { return url_.redacted; }

    util::Result<void> Write(const std::function<void(sql::Tx&)>& work) override { return Run(work); }
    util::Result<void> Read(const std::function<void(sql::Tx&)>& work) override { return Run(work); }

    /// Connects one pool slot now, so that OpenStore reports an unreachable server.
    util::Result<void> Probe() {
        return Run([](sql::Tx& tx) { tx.ExecRaw("SELECT 1"); });
    }

  private:
    util::Error Unreachable(const std::string& detail) const {
        return util::Error(
            ErrorCode::kUnavailable,
            fmt::format("cannot reach PostgreSQL at {}:{} (database \"{}\", user \"{}\"): {}: is the server running "
                        "and accepting TCP connections there, and are the database and user right?",
                        target_.host, target_.port, target_.dbname, target_.user, FirstLine(detail)));
    }

    util::Result<std::size_t> Acquire() {
        std::unique_lock lock(mutex_);
        if (!available_.wait_for(lock, options_.acquire_timeout, [this] { return !free_.empty(); })) {
            return util::Fail(
                ErrorCode::kUnavailable,
                fmt::format("all {} PostgreSQL connections stayed busy for {} ms: the database is "
                            "overloaded or a query hangs; retry later or raise the pool size",
                            slots_.size(),
                            std::chrono::duration_cast<std::chrono::milliseconds>(options_.acquire_timeout).count()));
        }
        const std::size_t slot = free_.back();
        free_.pop_back();
        return slot;
    }

    void Release(std::size_t slot) {
        {
            std::lock_guard lock(mutex_);
            free_.push_back(slot);
        }
        available_.notify_one();
    }

    // Opens the slot's connection if needed and prepares every statement on it.
    util::Result<pqxx::connection*> Connect(std::size_t slot) {
        auto& c = slots_[slot];
        if (c && c->is_open()) return c.get();
        c.reset();
        try {
            auto fresh = std::make_unique<pqxx::connection>(conninfo_);
            for (int i = 0; i < static_cast<int>(Stmt::kCount); ++i) {
                const auto stmt = static_cast<Stmt>(i);
                fresh->prepare(std::string(sql::Name(stmt)), sql::Sql(stmt, Backend::kPostgres));
            }
            c = std::move(fresh);
        } catch (const pqxx::broken_connection& e) {
            return tl::unexpected(Unreachable(e.what()));
        } catch (const std::exception& e) {
            return tl::unexpected(Unreachable(e.what()));
        }
        return c.get();
    }

    util::Result<void> Run(const std::function<void(sql::Tx&)>& work) {
        auto slot = Acquire();
        if (!slot) return tl::unexpected(slot.error());
        util::Result<void> result;
        // A connection found broken before anything committed is replaced and the work retried
        // once: the server may have restarted since the connection was last used.
        for (int attempt = 0; attempt < 2; ++attempt) {
            auto conn = Connect(*slot);
            if (!conn) {
                result = tl::unexpected(conn.error());
                break;
            }
            bool retry = false;
            result = Attempt(**conn, *slot, work, retry);
            if (!retry) break;
        }
        Release(*slot);
        return result;
    }

    util::Result<void> Attempt(pqxx::connection& conn, std::size_t slot, const std::function<void(sql::Tx&)>& work,
                               bool& retry) {
        bool committing = false;
        try {
            pqxx::work w(conn);
            PgTx tx(w);
            work(tx);
            committing = true;
            w.commit();
            return util::Ok();
        } catch (const DbError& e) {
            return tl::unexpected(e.error());
        } catch (const pqxx::in_doubt_error& e) {
            slots_[slot].reset();
            return util::Fail(ErrorCode::kUnavailable,
                              fmt::format("the connection to PostgreSQL at {}:{} broke while committing, so it is "
                                          "unknown whether the change was saved: check and retry ({})",
                                          target_.host, target_.port, FirstLine(e.what())));
        } catch (const pqxx::broken_connection& e) {
            slots_[slot].reset();
            retry = !committing;
            return tl::unexpected(Unreachable(e.what()));
        } catch (const pqxx::sql_error& e) {
            const std::string& state = e.sqlstate();
            if (IsConnectionState(state)) {
                slots_[slot].reset();
                retry = !committing;
                return tl::unexpected(Unreachable(e.what()));
            }
            return tl::unexpected(MapSqlError(state, e.what()));
        } catch (const std::exception& e) {
            // libpqxx reports a lost connection in several ways; treat a closed one as such.
            if (!conn.is_open()) {
                slots_[slot].reset();
                retry = !committing;
                return tl::unexpected(Unreachable(e.what()));
            }
            return util::Fail(ErrorCode::kInternal, fmt::format("PostgreSQL call failed: {}", FirstLine(e.what())));
        }
    }

    static util::Error MapSqlError(const std::string& state, const std::string& what) {
        const std::string detail = FirstLine(what);
        if (state == "23505") return {ErrorCode::kConflict, fmt::format("already exists: {}", detail)};
        if (state == "23503") return {ErrorCode::kNotFound, fmt::format("refers to a missing row: {}", detail)};
        if (state.starts_with("22")) {
            return {ErrorCode::kInvalidArgument, fmt::format("PostgreSQL rejected a value: {}", detail)};
        }
        if (state == "40001" || state == "40P01" || state == "55P03" || state == "53300") {
            return {ErrorCode::kUnavailable, fmt::format("PostgreSQL is busy ({}); retry later", detail)};
        }
        if (state == "42P01" || state == "42703") {
            return {
                ErrorCode::kInternal,
                fmt::format("the database schema is not what railwatch expects ({}): run `railwatch migrate`", detail)};
        }
        return {ErrorCode::kInternal, fmt::format("PostgreSQL error {}: {}", state, detail)};
    }

    StoreUrl url_;
    StoreOptions options_;
    Target target_;
    std::string conninfo_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<pqxx::connection>> slots_;
    std::vector<std::size_t> free_;
};

}  // namespace

util::Result<std::unique_ptr<sql::Driver>> OpenPostgresDriver(const StoreUrl& url, const StoreOptions& options) {
    auto driver = std::make_unique<PostgresDriver>(url, options);
    if (auto r = driver->Probe(); !r) return tl::unexpected(r.error());
    return std::unique_ptr<sql::Driver>(std::move(driver));
}

}  // namespace railwatch::store::postgres
