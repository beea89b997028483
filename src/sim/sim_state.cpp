#include "sim/sim_state.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "sim/split_mix.hpp"
#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using json = nlohmann::json;

}  // namespace

const graphql::Schema& SimulatorSchema() {
    static const graphql::Schema schema = [] {
        auto parsed = graphql::Schema::FromSdl(graphql::RailwaySubsetSdl());
        if (!parsed) throw std::logic_error("the simulator's built-in schema is invalid: " + parsed.error());
        return std::move(*parsed);
    }();
    return schema;
}

void SimCounters::Update(const std::function<void(Values&)>& update) {
    std::lock_guard lock(mutex_);
    update(values_);
}

void SimCounters::Reset() {
    std::lock_guard lock(mutex_);
    values_ = Values{};
}

json SimCounters::ToJson() const {
    std::lock_guard lock(mutex_);
    json root_fields = json::object();
    for (const auto& [k, v] : values_.root_fields)
        root_fields[k] = v;
    json faults = json::object();
    for (const auto& [k, v] : values_.faults)
        faults[k] = v;
    json by_status = json::object();
    for (const auto& [k, v] : values_.by_status)
        by_status[std::to_string(k)] = v;
    return json{{"total", values_.total},
                {"rootFields", root_fields},
                {"rateLimited", values_.rate_limited},
                {"edgeBlocked", values_.edge_blocked},
                {"parseErrors", values_.parse_errors},
                {"validationErrors", values_.validation_errors},
                {"rootFieldRefusals", values_.root_field_refusals},
                {"authErrors", values_.auth_errors},
                {"latencyInjected", values_.latency_injected},
                {"faults", faults},
                {"byStatus", by_status},
                {"webhooks",
                 {{"sent", values_.webhooks_sent},
                  {"delivered", values_.webhooks_delivered},
                  {"failed", values_.webhooks_failed},
                  {"dropped", values_.webhooks_dropped}}}};
}

std::uint32_t QueryLog::Intern(const std::string& text) {
    auto [tag, fresh] = tag_index_.try_emplace(text, static_cast<std::uint32_t>(tags_.size()));
    if (fresh) tags_.push_back(text);
    return tag->second;
}

void QueryLog::Record(const std::string& id, core::Timestamp at, const std::string& query,
                      const std::string& operation) {
    std::lock_guard lock(mutex_);
    if (entries_ >= kMaxEntries) {
        ++dropped_;
        return;
    }
    by_id_[id].push_back(Entry{at, Intern(query), Intern(operation)});
    ++entries_;
}

json QueryLog::ToJson(const std::vector<std::string>& ids) const {
    std::lock_guard lock(mutex_);
    json deployments = json::object();
    json unknown = json::array();
    const auto describe = [&](const std::vector<Entry>& entries) {
        json list = json::array();
        for (const Entry& e : entries) {
            list.push_back(json{{"at", util::FormatRfc3339(e.at, util::TimePrecision::kMicros)},
                                {"query", tags_[e.query]},
                                {"operation", tags_[e.operation]}});
        }
        return list;
    };
    if (ids.empty()) {
        for (const auto& [id, entries] : by_id_)
            deployments[id] = describe(entries);
    }
    for (const std::string& id : ids) {
        const auto found = by_id_.find(id);
        if (found == by_id_.end()) {
            unknown.push_back(id);
        } else {
            deployments[id] = describe(found->second);
        }
    }
    return json{{"deployments", std::move(deployments)}, {"unknown", std::move(unknown)}, {"dropped", dropped_}};
}

void QueryLog::Reset() {
    std::lock_guard lock(mutex_);
    by_id_.clear();
    tags_.clear();
    tag_index_.clear();
    entries_ = 0;
    dropped_ = 0;
}

SimState::SimState(SimConfig cfg, const util::Clock& clock_in, ConnectionResetter* resetter_in)
    : clock(clock_in),
      resetter(resetter_in),
      schema(SimulatorSchema()),
      executor(schema),
      initial_config(cfg),
      config(std::move(cfg)),
      world(std::make_unique<World>(config.seed, config.durations, config.time_scale)),
      fault_rng_(config.seed ^ 0xFA017ULL),
      trace_seed_(SplitMix(config.seed ^ 0x7ACE1DULL)) {
    SyncWebhookFeed();
}

std::string SimState::NextTraceId() {
    const std::uint64_t n = trace_counter_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t a = SplitMix(trace_seed_ + n);
    const std::uint64_t b = SplitMix(a ^ n);
    return fmt::format("{:016x}{:016x}", a, b);
}

double SimState::DrawFraction() {
    std::lock_guard lock(fault_mutex_);
    return std::uniform_real_distribution<double>(0.0, 1.0)(fault_rng_);
}

void SimState::ResetFaultDraws() {
    std::lock_guard lock(fault_mutex_);
    fault_rng_.seed(initial_config.seed ^ 0xFA017ULL);
}

std::string_view SimState::ProjectTokenEnvironment() const {
    return config.project_token_environment_id.empty() ? World::kEnvironmentId
                                                       : std::string_view(config.project_token_environment_id);
}

void SimState::SyncWebhookFeed() {
    const bool wanted = !config.webhook.url.empty();
    if (wanted && !feed.Active()) feed.Start(*world, clock.Now());
    if (!wanted && feed.Active()) feed.Stop(*world);
    webhook_changes.Notify();
}

}  // namespace railwatch::sim
