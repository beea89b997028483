#include "store/queries.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace railwatch::store {

util::Result<std::vector<AttentionItem>> ListAttention(Queries& queries, const AttentionQuery& query) {
    constexpr int kMaxLimit = 10000;
    if (query.limit < 1 || query.limit > kMaxLimit) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("limit {} is out of range: use 1..{}", query.limit, kMaxLimit));
    }
    auto candidates = queries.ListAttentionCandidates();
    if (!candidates) return tl::unexpected(candidates.error());
    std::vector<AttentionItem> out;
    for (auto& c : *candidates) {
        const Instance& i = c.instance;
        core::AttentionFacts facts;
        facts.flagged = i.state.needs_attention;
        facts.flag_reason = i.state.attention_reason;
        facts.status = i.state.status;
        facts.deployment_status = i.state.deployment_status;
        facts.created_at = i.created_at;
        facts.deployment_started_at = i.state.deployment_started_at;
        facts.deployment_updated_at = i.state.deployment_updated_at;
        facts.status_entered_at = c.status_entered_at;
        facts.last_log_at = c.last_log_at;
        facts.decided_at = c.decided_at;
        core::AttentionVerdict verdict =
            core::DecideAttention(facts, query.stuck_policy, query.now, query.platform_incident);
        if (!verdict.needs_attention) continue;
        out.push_back(AttentionItem{std::move(c.instance), std::move(c.user), std::move(verdict)});
    }
    std::sort(out.begin(), out.end(), [](const AttentionItem& a, const AttentionItem& b) {
        return std::tie(a.verdict.platform_suspected, a.verdict.since, a.instance.id) <
               std::tie(b.verdict.platform_suspected, b.verdict.since, b.instance.id);
    });
    if (out.size() > static_cast<std::size_t>(query.limit)) out.resize(static_cast<std::size_t>(query.limit));
    return out;
}

util::Result<core::FleetStats> GetFleetStats(Queries& queries) {
    auto counts = queries.CountFleet();
    if (!counts) return tl::unexpected(counts.error());
    return core::ComputeFleetStats(*counts);
}

util::Result<std::vector<core::HistoryPoint>> GetStatsHistory(Queries& queries, const core::HistoryWindow& window) {
    if (window.count == 0) return std::vector<core::HistoryPoint>{};
    auto deployments = queries.ListFinishedDeployments(window.first, window.End());
    if (!deployments) return tl::unexpected(deployments.error());
    auto minutes = queries.ListEngineMinutes(window.first, window.End());
    if (!minutes) return tl::unexpected(minutes.error());
    return core::ComputeStatsHistory(window, *deployments, *minutes);
}

}  // namespace railwatch::store
