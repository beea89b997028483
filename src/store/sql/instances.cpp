// Instances: create, read, list, state, monitoring settings, delete.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "store/sql/checks.hpp"
#include "store/sql/rows.hpp"
#include "store/sql/sql_store.hpp"
#include "store/text.hpp"

namespace railwatch::store::sql {

using util::ErrorCode;
using util::Result;

Result<void> SqlStore::CreateInstance(const Instance& i) {
    Checker c;
    c.Id("instance id", i.id);
    c.OptId("user_id", i.user_id);
    c.OptText("project_name", i.project_name);
    c.OptId("project_id", i.project_id);
    c.Id("service_id", i.service_id);
    c.Id("environment_id", i.environment_id);
    c.That(!i.check_interval_s || *i.check_interval_s >= 1,
           fmt::format("check_interval_s {} is out of range: use 1 or more, or none", i.check_interval_s.value_or(0)));
    CheckState(c, i.state);
    if (!c.result()) return c.result();
    const auto params = InstanceParams(i);
    return driver_->Write([&](Tx& tx) {
        if (i.user_id && tx.Exec(Stmt::kUserExists, {std::string_view(*i.user_id)}).rows.empty()) {
            ThrowNotFound("user", *i.user_id);
        }
        if (tx.Exec(Stmt::kInsertInstance, params).affected == 0) {
            throw DbError(ErrorCode::kConflict, fmt::format("an instance with id \"{}\" exists already", i.id));
        }
    });
}

namespace {

// The instance `id` as stored (its lease included), or none.
std::optional<Instance> ReadInstance(Tx& tx, std::string_view id) {
    auto rows = tx.Exec(Stmt::kGetInstance, {id}).rows;
    if (rows.empty()) return std::nullopt;
    return RowToInstance(std::move(rows.front()));
}

}  // namespace

Result<Instance> SqlStore::GetInstance(const std::string& id) {
    std::optional<Instance> out;
    auto r = driver_->Read([&](Tx& tx) {
        out = ReadInstance(tx, id);
        if (!out) ThrowNotFound("instance", id);
    });
    if (!r) return tl::unexpected(r.error());
    return std::move(*out);
}

Result<std::vector<Instance>> SqlStore::FindInstancesByDeployment(const std::string& deployment_id) {
    std::vector<Instance> out;
    auto r = driver_->Read([&](Tx& tx) {
        out.clear();
        for (auto& row : tx.Exec(Stmt::kInstancesByDeployment, {std::string_view(deployment_id)}).rows)
            out.push_back(RowToInstance(std::move(row)));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<InstanceChanges> SqlStore::ChangedInstances(std::optional<std::int64_t> since, const HeldChanges& held) {
    Checker c;
    c.That(!since || *since >= 0, "a change feed position is never negative: pass one a call returned");
    if (!c.result()) return tl::unexpected(c.result().error());
    InstanceChanges out;
    auto r = driver_->Read([&](Tx& tx) {
        out.instances.clear();
        // The position first: a change committed after it is read comes from here on (with this
        // call's rows too, if this read sees it, and again with the next call's).
        const auto ends = tx.Exec(Stmt::kChangePosition, {}).rows.at(0);
        out.next = ends.Int(0);
        if (!since) return;
        // A position before the feed's horizon may have lost changes: every row answers it.
        const bool lost = *since < ends.Int(1);
        const std::int64_t end = std::numeric_limits<std::int64_t>::max();
        if (!lost && !held.empty() && backend() == Backend::kSqlite) {
            // The ids first, then the rows of those the caller does not hold as they are.
            for (auto& changed : tx.Exec(Stmt::kChangedIds, {*since, end}).rows) {
                const std::string id = changed.TakeText(0);
                if (const auto h = held.find(id); h != held.end() && h->second == changed.Int(1)) continue;
                if (auto instance = ReadInstance(tx, id)) out.instances.push_back(std::move(*instance));
            }
            return;
        }
        auto rows = lost ? tx.Exec(Stmt::kAllInstances, {}).rows : tx.Exec(Stmt::kChangedInstances, {*since, end}).rows;
        for (auto& row : rows)
            out.instances.push_back(RowToInstance(std::move(row)));
    });
    if (!r) return tl::unexpected(r.error());
    return out;
}

Result<std::vector<Instance>> SqlStore::GetInstances(const std::vector<std::string>& ids) {
    Checker c;
    c.That(ids.size() <= static_cast<std::size_t>(kMaxLimit),
           fmt::format("{} ids in one call: give at most {}", ids.size(), kMaxLimit));
    // (id, its place in `ids`), by id: repeated ids side by side, and PostgreSQL's rows placed.
    std::vector<std::pair<std::string_view, std::size_t>> order;
    order.reserve(ids.size());
    for (std::size_t k = 0; k < ids.size(); ++k)
        order.emplace_back(ids[k], k);
    std::sort(order.begin(), order.end());
    const auto repeated =
        std::adjacent_find(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first == b.first; });
    if (repeated != order.end())
        c.That(false, fmt::format("id \"{}\" is given twice: give each once", repeated->first));
    if (!c.result()) return tl::unexpected(c.result().error());
    std::vector<std::optional<Instance>> found(ids.size());
    const Backend b = backend();
    auto r = driver_->Read([&](Tx& tx) {
        std::fill(found.begin(), found.end(), std::nullopt);
        if (b == Backend::kPostgres) {  // one statement (a round trip per id would cost more)
            PgArray array;
            for (const std::string& id : ids)
                array.Add(id);
            const std::string list = array.Take();
            for (auto& row : tx.Exec(Stmt::kGetInstancesIn, {std::string_view(list)}).rows) {
                Instance instance = RowToInstance(std::move(row));
                const auto at =
                    std::lower_bound(order.begin(), order.end(), std::string_view(instance.id),
                                     [](const auto& entry, std::string_view id) { return entry.first < id; });
                found[at->second] = std::move(instance);
            }
            return;
        }
        // SQLite: a prepared lookup per id costs about a microsecond in-process.
        for (std::size_t k = 0; k < ids.size(); ++k)
            found[k] = ReadInstance(tx, ids[k]);
    });
    if (!r) return tl::unexpected(r.error());
    std::vector<Instance> out;
    out.reserve(ids.size());
    for (auto& instance : found)
        if (instance) out.push_back(std::move(*instance));
    return out;
}

Result<InstancePage> SqlStore::ListInstances(const InstanceQuery& q) {
    Checker c;
    c.Limit(q.limit);
    for (const std::string& h : q.health)
        c.That(!h.empty() && h.find(',') == std::string::npos, fmt::format("health value \"{}\" is not one", h));
    if (!c.result()) return tl::unexpected(c.result().error());
    auto decoded = DecodePageCursor(q.cursor);
    if (!decoded) return tl::unexpected(decoded.error());
    const std::optional<InstanceCursor> cursor = std::move(*decoded);
    // The lists travel as comma-separated text, so that one statement serves every filter on both
    // backends (see InstanceFilter in statements.cpp).
    const auto joined = [](const auto& values, auto to_text) {
        std::string out;
        for (const auto& v : values) {
            if (!out.empty()) out += ',';
            out += to_text(v);
        }
        return out;
    };
    const std::string statuses = joined(q.statuses, [](core::InstanceStatus s) { return core::ToString(s); });
    const std::string health = joined(q.health, [](const std::string& h) { return std::string_view(h); });
    const std::string classes = joined(q.error_types, [](core::ErrorClass e) { return core::ToString(e); });
    std::string pattern;
    if (!q.text.empty()) {
        pattern = "%";
        for (const char ch : q.text) {
            if (ch == '!' || ch == '%' || ch == '_') pattern += '!';
            pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        }
        pattern += '%';
    }
    const auto text_or_null = [](const std::string& text) {
        return text.empty() ? Param(std::monostate{}) : Param(std::string_view(text));
    };
    const std::array<Param, 5> filter = {
        text_or_null(statuses), text_or_null(health),
        text_or_null(classes),  q.needs_attention ? Bool(*q.needs_attention) : Param(std::monostate{}),
        text_or_null(pattern),
    };
    InstancePage page;
    auto r = driver_->Read([&](Tx& tx) {
        page.items.clear();
        std::vector<Param> p(filter.begin(), filter.end());
        // Always a row-value bound, never "no bound": `(created_at, id) < (x, y)` is a range of
        // the (created_at, id) index in both databases, where a "bound IS NULL OR ..." made SQLite
        // walk the index from the newest row to the cursor (a page in the middle of 100,000
        // instances cost 15x the first). Without a cursor the bound is the largest Timestamp,
        // which no stored instance has in practice (the year 2262).
        p.push_back(cursor ? Param(Ns(cursor->created_at)) : Param(std::numeric_limits<std::int64_t>::max()));
        p.push_back(cursor ? Param(std::string_view(cursor->id)) : Param(std::string_view()));
        p.push_back(static_cast<std::int64_t>(q.limit + 1));
        for (auto& row : tx.Exec(Stmt::kListInstances, p).rows)
            page.items.push_back(RowToInstance(std::move(row)));
        // In the same read, so that the total and the page agree.
        if (q.with_total) {
            const auto rows = tx.Exec(Stmt::kCountInstances, filter).rows;
            page.total_count = rows.empty() ? 0 : rows.front().Int(0);
        }
    });
    if (!r) return tl::unexpected(r.error());
    if (page.items.size() > static_cast<std::size_t>(q.limit)) {
        page.items.resize(static_cast<std::size_t>(q.limit));
        const auto& last = page.items.back();
        page.next_cursor = EncodeInstanceCursor(last.created_at, last.id);
    }
    return page;
}

Result<void> SqlStore::SaveState(const std::string& id, const InstanceState& state) {
    Checker c;
    CheckState(c, state);
    if (!c.result()) return c.result();
    return driver_->Write([&](Tx& tx) {
        UpdateState(tx, id, state, state.deployment_id,
                    IndexedToSet(tx, driver_->backend(), id, state, state.deployment_id, false));
    });
}

Result<void> SqlStore::SetMonitoring(const std::string& id, bool enabled, std::optional<int> interval_s,
                                     Timestamp next_check_at) {
    Checker c;
    c.That(!interval_s || *interval_s >= 0,
           fmt::format("check interval {} s is out of range: use 1 or more, or 0 for none", interval_s.value_or(0)));
    if (!c.result()) return c.result();
    return driver_->Write([&](Tx& tx) {
        const auto r =
            tx.Exec(Stmt::kSetMonitoring, {std::string_view(id), Bool(enabled), OptInt(interval_s), Ns(next_check_at)});
        if (r.affected == 0) {
            RequireInstance(tx, id);
            throw DbError(ErrorCode::kConflict,
                          fmt::format("instance \"{}\" is deleted: add it again to monitor it", id));
        }
        tx.Exec(Stmt::kDropLease, {std::string_view(id)});
    });
}

Result<void> SqlStore::DeleteInstance(const std::string& id, Timestamp at) {
    return driver_->Write([&](Tx& tx) {
        if (tx.Exec(Stmt::kDeleteInstance, {std::string_view(id), Ns(at)}).affected == 0) {
            ThrowNotFound("instance", id);
        }
        tx.Exec(Stmt::kDropLease, {std::string_view(id)});
    });
}

}  // namespace railwatch::store::sql
