#include "sim/resolvers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "util/rfc3339.hpp"

namespace railwatch::sim {
namespace {

using core::DeploymentStatus;
using graphql::FieldFailure;
using graphql::Object;
using graphql::RawJson;
using graphql::ResolvedValue;
using json = nlohmann::json;

constexpr int kMaxLogLimit = 5000;
constexpr int kDefaultLogLimit = 100;

std::string Time(core::Timestamp t) {
    return util::FormatRfc3339(t, util::TimePrecision::kMillis);
}

/// A fixed set of field values (for small objects: page info, log lines, users, ...).
class Record final : public Object {
  public:
    using Fields = std::vector<std::pair<std::string_view, ResolvedValue>>;
    explicit Record(Fields fields) : fields_(std::move(fields)) {}
    ResolvedValue Resolve(std::string_view field, const json&) const override {
        for (const auto& [name, value] : fields_)
            if (name == field) return value;
        return nullptr;
    }

  private:
    Fields fields_;
};

ResolvedValue Rec(Record::Fields fields) {
    return ResolvedValue(std::make_shared<Record>(std::move(fields)));
}

FieldFailure NotFound(std::string_view what) {
    return FieldFailure{fmt::format("{} not found", what), ""};
}

FieldFailure NotAuthorized() {
    return FieldFailure{"Not Authorized", ""};
}

/// Whether the token may see this environment (a project token sees only its own).
bool EnvironmentAllowed(const RequestContext& ctx, std::string_view environment_id) {
    return ctx.auth != AuthKind::kProject || environment_id == ctx.project_environment;
}

/// The deployment `id` names when the token may see it; otherwise null, with the field error to
/// answer in `failure` (the configured unknown-id message, or "Not Authorized").
const SimDeployment* Lookup(const RequestContext& ctx, std::string_view id, FieldFailure& failure) {
    const SimDeployment* d = ctx.world->Find(id);
    if (d == nullptr) {
        failure = FieldFailure{ctx.config->errors.unknown_deployment, ""};
        return nullptr;
    }
    if (!EnvironmentAllowed(ctx, d->environment_id)) {
        failure = NotAuthorized();
        return nullptr;
    }
    return d;
}

std::string ArgString(const json& args, const char* name) {
    const auto it = args.find(name);
    return it != args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<long long> ArgInt(const json& args, const char* name) {
    const auto it = args.find(name);
    if (it == args.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<long long>();
}

ResolvedValue PageInfo(const std::string& start, const std::string& end, bool has_next, bool has_previous) {
    return Rec({{"startCursor", start.empty() ? ResolvedValue() : ResolvedValue(start)},
                {"endCursor", end.empty() ? ResolvedValue() : ResolvedValue(end)},
                {"hasNextPage", has_next},
                {"hasPreviousPage", has_previous}});
}

ResolvedValue ServiceInstanceRecord(const RequestContext& ctx, const SimService& s, const std::string& environment_id);

/// An environment; its service instances are listed only when asked for.
class EnvironmentObject final : public Object {
  public:
    EnvironmentObject(const RequestContext& ctx, std::string id) : ctx_(ctx), id_(std::move(id)) {}

    ResolvedValue Resolve(std::string_view f, const json& args) const override {
        if (f == "id") return id_;
        if (f == "name") return id_ == World::kEnvironmentId ? std::string("production") : id_;
        if (f == "projectId") return std::string(World::kProjectId);
        if (f == "isEphemeral") return false;
        if (f == "createdAt") return Time(ctx_.now - std::chrono::hours(24 * 30));
        if (f == "updatedAt") return Time(ctx_.now - std::chrono::hours(24));
        if (f == "deletedAt") return nullptr;
        if (f == "serviceInstances") return ServiceInstances(args);
        return nullptr;
    }

  private:
    /// The services with an instance here, in creation order (cursor = service id).
    ResolvedValue ServiceInstances(const json& args) const;

    const RequestContext& ctx_;
    std::string id_;
};

ResolvedValue EnvironmentRecord(const RequestContext& ctx, std::string_view id) {
    return ResolvedValue(std::make_shared<EnvironmentObject>(ctx, std::string(id)));
}

ResolvedValue ProjectRecord(const RequestContext& ctx) {
    return Rec({{"id", std::string(World::kProjectId)},
                {"name", "railwatch-sim"},
                {"description", "A project simulated by railwatch sim"},
                {"createdAt", Time(ctx.now - std::chrono::hours(24 * 30))},
                {"updatedAt", Time(ctx.now - std::chrono::hours(24))},
                {"deletedAt", nullptr},
                {"workspaceId", std::string(World::kWorkspaceId)}});
}

ResolvedValue ServiceRecord(const RequestContext& ctx, const SimService& s) {
    return Rec({{"id", s.id},
                {"name", s.name},
                {"projectId", std::string(World::kProjectId)},
                {"isRestricted", false},
                {"icon", nullptr},
                {"createdAt", Time(ctx.now - std::chrono::hours(24 * 7))},
                {"updatedAt", Time(ctx.now - std::chrono::hours(1))},
                {"deletedAt", nullptr},
                {"project", ProjectRecord(ctx)}});
}

ResolvedValue RateLimitRecord(const RequestContext& ctx) {
    return Rec({{"remainingPoints", static_cast<std::int64_t>(ctx.remaining_points)},
                {"resetsAt", util::FormatRfc3339(ctx.resets_at, util::TimePrecision::kSeconds)}});
}

ResolvedValue WorkspaceRecord(const RequestContext& ctx, std::string id) {
    const SimConfig& cfg = *ctx.config;
    const bool over = cfg.usage_hard_limit ? cfg.current_usage >= *cfg.usage_hard_limit : false;
    using namespace std::chrono;
    const auto today = floor<days>(ctx.now);
    const year_month_day ymd{today};
    const sys_days period_start{ymd.year() / ymd.month() / 1};
    const sys_days period_end{(ymd.year() / ymd.month() / 1) + months(1)};
    auto usage_limit =
        Rec({{"id", "usage-limit-sim"},
             {"customerId", "customer-sim"},
             {"softLimit", cfg.usage_soft_limit},
             {"hardLimit", cfg.usage_hard_limit ? ResolvedValue(*cfg.usage_hard_limit) : ResolvedValue()},
             {"isOverLimit", over},
             {"agentHardLimitCents", nullptr},
             {"agentSoftLimitCents", nullptr}});
    auto customer =
        Rec({{"id", "customer-sim"},
             {"currentUsage", cfg.current_usage},
             {"creditBalance", 0.0},
             {"appliedCredits", 0.0},
             {"remainingUsageCreditBalance", 0.0},
             {"billingEmail", "billing@example.com"},
             {"hasExhaustedFreePlan", false},
             {"isPrepaying", false},
             {"isTrialing", false},
             {"isUsageSubscriber", true},
             {"trialDaysRemaining", 0},
             {"state", "ACTIVE"},
             {"billingPeriod",
              Rec({{"start", Time(core::Timestamp(period_start))}, {"end", Time(core::Timestamp(period_end))}})},
             {"usageLimit", usage_limit},
             {"workspace", nullptr}});
    return Rec({{"id", std::move(id)},
                {"name", "Simulated Workspace"},
                {"plan", cfg.plan},
                {"avatar", nullptr},
                {"preferredRegion", "us-west1"},
                {"createdAt", Time(ctx.now - std::chrono::hours(24 * 365))},
                {"updatedAt", Time(ctx.now - std::chrono::hours(24))},
                {"customer", customer},
                {"apiTokenRateLimit", RateLimitRecord(ctx)}});
}

std::string_view InstanceStatus(DeploymentStatus s, bool built) {
    switch (s) {
        case DeploymentStatus::kSuccess:
            return "RUNNING";
        case DeploymentStatus::kCrashed:
            return "CRASHED";
        case DeploymentStatus::kDeploying:
            return "INITIALIZING";
        case DeploymentStatus::kSleeping:
            return "STOPPED";
        case DeploymentStatus::kRemoving:
            return "REMOVING";
        case DeploymentStatus::kRemoved:
            return "REMOVED";
        case DeploymentStatus::kFailed:
            return built ? "EXITED" : "";
        default:
            return "";
    }
}

class DeploymentObject final : public Object {
  public:
    DeploymentObject(const RequestContext& ctx, const SimDeployment& d) : ctx_(ctx), d_(d) {}

    ResolvedValue Resolve(std::string_view f, const json&) const override {
        const SimService& service = ctx_.world->ServiceOf(d_);
        const std::size_t entry = EntryAt(d_.timeline, ctx_.now);
        const DeploymentStatus status = d_.StatusAt(ctx_.now);
        if (f == "id") return d_.id;
        if (f == "status") return std::string(core::ToString(status));
        if (f == "statusUpdatedAt" || f == "updatedAt") {
            core::Timestamp at = d_.timeline.empty() ? d_.created_at : d_.timeline[entry].at;
            if (f == "updatedAt" && ctx_.config != nullptr &&
                ctx_.config->errors.updated_at == UpdatedAtFollows::kLogs) {
                // Its newest log line so far moves it too (the lines are sorted, oldest first).
                const LifecycleFacts facts = ctx_.world->FactsOf(d_);
                for (const auto& lines : {BuildLogLines(facts, ctx_.now), DeployLogLines(facts, ctx_.now)}) {
                    if (!lines.empty()) at = std::max(at, lines.back().timestamp);
                }
            }
            return Time(at);
        }
        if (f == "createdAt") return Time(d_.created_at);
        if (f == "projectId") return std::string(World::kProjectId);
        if (f == "environmentId") return d_.environment_id;
        if (f == "serviceId") return service.id;
        if (f == "snapshotId") return "snap-" + d_.id.substr(0, 8);
        if (f == "url") return ServiceUrl(ctx_, service);
        if (f == "staticUrl") {
            const std::string url = ServiceUrl(ctx_, service);
            const auto scheme = url.find("://");
            return scheme == std::string::npos ? url : url.substr(scheme + 3);
        }
        if (f == "canRedeploy") return true;
        if (f == "canRollback") return status == DeploymentStatus::kRemoved;
        if (f == "deploymentStopped") {
            return status == DeploymentStatus::kFailed || status == DeploymentStatus::kCrashed ||
                   status == DeploymentStatus::kRemoved || status == DeploymentStatus::kSkipped ||
                   status == DeploymentStatus::kSleeping;
        }
        if (f == "suggestAddServiceDomain") return false;
        if (f == "diagnosis") return nullptr;
        if (f == "meta") {
            json meta = {{"repo", "acme/" + service.name},
                         {"branch", "main"},
                         {"commitHash", d_.id.substr(0, 8) + d_.id.substr(9, 4) + "c0ffee"},
                         {"commitMessage", "Simulated change #" + std::to_string(d_.number + 1)},
                         {"reason", d_.redeploy ? "redeploy" : "deploy"},
                         {"simKind", std::string(ToString(d_.kind))}};
            return RawJson{meta.dump()};
        }
        if (f == "instances") {
            const bool built =
                std::any_of(d_.timeline.begin(), d_.timeline.begin() + static_cast<long>(entry + 1),
                            [](const TimelineEntry& e) { return e.status == DeploymentStatus::kDeploying; });
            const std::string_view s = InstanceStatus(status, built);
            ResolvedValue::List list;
            if (!s.empty()) list.push_back(Rec({{"id", "inst-" + d_.id.substr(0, 8)}, {"status", std::string(s)}}));
            return list;
        }
        if (f == "creator") {
            return Rec(
                {{"id", "user-sim"}, {"email", "dev@example.com"}, {"name", "Sim Developer"}, {"avatar", nullptr}});
        }
        if (f == "sockets") {
            ResolvedValue::List list;
            if (status == DeploymentStatus::kSuccess) {
                list.push_back(Rec({{"ipv6", false},
                                    {"port", 8080},
                                    {"processName", "node"},
                                    {"updatedAt", static_cast<std::int64_t>(
                                                      core::ToSeconds(d_.timeline[entry].at.time_since_epoch()))}}));
            }
            return list;
        }
        if (f == "environment") return EnvironmentRecord(ctx_, d_.environment_id);
        if (f == "service") return ServiceRecord(ctx_, service);
        return nullptr;
    }

  private:
    const RequestContext& ctx_;
    const SimDeployment& d_;
};

ResolvedValue Deployment(const RequestContext& ctx, const SimDeployment* d) {
    if (d == nullptr) return nullptr;
    return ResolvedValue(std::make_shared<DeploymentObject>(ctx, *d));
}

/// Whether a line shows its severity under LogSeverity::kSometimes: about half of them, chosen by
/// a hash of the line's time (the same line always answers the same).
bool ShowsSeverity(const LogConfig& logs, const LogLine& line, std::uint64_t seed) {
    switch (logs.severity) {
        case LogSeverity::kAlways:
            return true;
        case LogSeverity::kNever:
            return false;
        case LogSeverity::kSometimes:
            break;
    }
    std::uint64_t x = static_cast<std::uint64_t>(line.timestamp.time_since_epoch().count()) ^ seed;
    x = (x ^ (x >> 31)) * 0x7FB5D329728EA185ULL;
    x = (x ^ (x >> 27)) * 0x81DADEF4BC2DD44DULL;
    return ((x ^ (x >> 33)) & 1U) == 0;
}

ResolvedValue LogsField(const RequestContext& ctx, const json& args, bool build) {
    FieldFailure failure;
    const SimDeployment* d = Lookup(ctx, ArgString(args, "deploymentId"), failure);
    if (d == nullptr) return failure;
    long long limit = ArgInt(args, "limit").value_or(kDefaultLogLimit);
    if (limit < 0) return FieldFailure{"Problem processing request", ""};
    limit = std::min<long long>(limit, kMaxLogLimit);
    std::optional<core::Timestamp> start, end;
    for (const auto& [key, target] :
         {std::pair<const char*, std::optional<core::Timestamp>*>{"startDate", &start}, {"endDate", &end}}) {
        const std::string text = ArgString(args, key);
        if (text.empty()) continue;
        auto t = util::ParseRfc3339(text);
        if (!t) return FieldFailure{"Problem processing request", ""};
        *target = *t;
    }
    const std::string filter = ArgString(args, "filter");
    const LifecycleFacts facts = ctx.world->FactsOf(*d);
    std::vector<LogLine> lines = build ? BuildLogLines(facts, ctx.now) : DeployLogLines(facts, ctx.now);
    std::erase_if(lines, [&](const LogLine& l) {
        if (start && l.timestamp < *start) return true;
        if (end && l.timestamp > *end) return true;
        if (filter.empty()) return false;
        if (filter.rfind("@level:", 0) == 0) return l.severity != filter.substr(7);
        return l.message.find(filter) == std::string::npos;
    });
    // A full page: the newest lines without startDate; with it, the oldest (head) or the newest
    // (tail) lines at or after it. Railway is reported to return limit + 1 lines
    // (railwayapp/cli controllers/deployment.rs).
    const LogConfig& logs = ctx.config->logs;
    const std::size_t keep = static_cast<std::size_t>(limit) + (logs.extra_line ? 1 : 0);
    if (lines.size() > keep) {
        if (start && logs.page_with_start_date == LogPage::kHead) {
            lines.resize(keep);
        } else {
            lines.erase(lines.begin(), lines.end() - static_cast<long>(keep));
        }
    }
    const SimService& service = ctx.world->ServiceOf(*d);
    ResolvedValue::List out;
    out.reserve(lines.size());
    for (auto& l : lines) {
        auto tags = Rec({{"deploymentId", d->id},
                         {"deploymentInstanceId", "inst-" + d->id.substr(0, 8)},
                         {"environmentId", d->environment_id},
                         {"projectId", std::string(World::kProjectId)},
                         {"serviceId", service.id},
                         {"snapshotId", "snap-" + d->id.substr(0, 8)},
                         {"pluginId", nullptr}});
        // Attribute values are JSON-encoded, as Railway's look ("\"error\"").
        ResolvedValue::List attributes;
        attributes.push_back(Rec({{"key", "level"}, {"value", json(l.severity).dump()}}));
        const bool show_severity = ShowsSeverity(logs, l, d->seed);
        out.push_back(Rec({{"message", std::move(l.message)},
                           {"timestamp", util::FormatRfc3339(l.timestamp, util::TimePrecision::kNanos)},
                           {"severity", show_severity ? ResolvedValue(l.severity) : ResolvedValue()},
                           {"attributes", std::move(attributes)},
                           {"tags", std::move(tags)}}));
    }
    return out;
}

ResolvedValue EventsField(const RequestContext& ctx, const json& args) {
    FieldFailure failure;
    const SimDeployment* d = Lookup(ctx, ArgString(args, "id"), failure);
    if (d == nullptr) return failure;
    std::vector<EventStep> steps = EventSteps(ctx.world->FactsOf(*d), ctx.now);
    const std::string after = ArgString(args, "after");
    if (!after.empty()) {
        const auto it = std::find_if(steps.begin(), steps.end(), [&](const EventStep& e) { return e.id == after; });
        steps.erase(steps.begin(), it == steps.end() ? steps.end() : it + 1);
    }
    bool has_next = false;
    if (auto first = ArgInt(args, "first"); first && *first >= 0 && static_cast<std::size_t>(*first) < steps.size()) {
        steps.resize(static_cast<std::size_t>(*first));
        has_next = true;
    }
    ResolvedValue::List edges;
    for (const auto& e : steps) {
        auto payload = Rec(
            {{"attempt", e.attempt ? ResolvedValue(*e.attempt) : ResolvedValue()},
             {"maxAttempts", e.max_attempts ? ResolvedValue(*e.max_attempts) : ResolvedValue()},
             {"durationMs", e.duration_ms ? ResolvedValue(static_cast<std::int64_t>(*e.duration_ms)) : ResolvedValue()},
             {"error", e.error ? ResolvedValue(*e.error) : ResolvedValue()},
             {"reason", nullptr},
             {"detail", nullptr},
             {"skipped", false}});
        auto node = Rec({{"id", e.id},
                         {"step", e.step},
                         {"createdAt", Time(e.created_at)},
                         {"completedAt", e.completed_at ? ResolvedValue(Time(*e.completed_at)) : ResolvedValue()},
                         {"payload", payload}});
        edges.push_back(Rec({{"cursor", e.id}, {"node", node}}));
    }
    const std::string start = steps.empty() ? "" : steps.front().id;
    const std::string end = steps.empty() ? "" : steps.back().id;
    return Rec({{"edges", std::move(edges)}, {"pageInfo", PageInfo(start, end, has_next, !after.empty())}});
}

std::vector<DeploymentStatus> Statuses(const json& list) {
    std::vector<DeploymentStatus> out;
    if (!list.is_array()) return out;
    for (const auto& s : list) {
        if (s.is_string())
            if (auto parsed = core::ParseDeploymentStatus(s.get<std::string>())) out.push_back(*parsed);
    }
    return out;
}

ResolvedValue DeploymentsField(const RequestContext& ctx, const json& args) {
    DeploymentFilter filter;
    const json input = args.value("input", json::object());
    filter.service_id = ArgString(input, "serviceId");
    filter.environment_id = ArgString(input, "environmentId");
    filter.project_id = ArgString(input, "projectId");
    if (ctx.auth == AuthKind::kProject) {
        if (!filter.environment_id.empty() && !EnvironmentAllowed(ctx, filter.environment_id)) return NotAuthorized();
        filter.environment_id = ctx.project_environment;
    }
    if (input.contains("status") && input["status"].is_object()) {
        filter.status_in = Statuses(input["status"].value("in", json::array()));
        filter.status_not_in = Statuses(input["status"].value("notIn", json::array()));
        if (input["status"].contains("in") && filter.status_in.empty() && input["status"]["in"].is_array())
            return Rec({{"edges", ResolvedValue::List{}}, {"pageInfo", PageInfo("", "", false, false)}});
    }
    std::vector<const SimDeployment*> list = ctx.world->List(filter, ctx.now);
    if (ctx.config->errors.deployment_order == DeploymentOrder::kOldestFirst) std::reverse(list.begin(), list.end());
    const std::string after = ArgString(args, "after");
    if (!after.empty()) {
        const auto it = std::find_if(list.begin(), list.end(), [&](const SimDeployment* d) { return d->id == after; });
        list.erase(list.begin(), it == list.end() ? list.end() : it + 1);
    }
    bool has_next = false;
    const long long first = std::clamp<long long>(ArgInt(args, "first").value_or(100), 0, 5000);
    if (static_cast<std::size_t>(first) < list.size()) {
        list.resize(static_cast<std::size_t>(first));
        has_next = true;
    }
    ResolvedValue::List edges;
    for (const SimDeployment* d : list)
        edges.push_back(Rec({{"cursor", d->id}, {"node", Deployment(ctx, d)}}));
    return Rec({{"edges", std::move(edges)},
                {"pageInfo", PageInfo(list.empty() ? "" : list.front()->id, list.empty() ? "" : list.back()->id,
                                      has_next, !after.empty())}});
}

ResolvedValue ServiceInstanceRecord(const RequestContext& ctx, const SimService& s, const std::string& environment_id) {
    ResolvedValue::List active;
    for (auto it = s.deployments.rbegin(); it != s.deployments.rend(); ++it) {
        const SimDeployment& d = ctx.world->Deployments()[*it];
        if (d.Deleted() || d.environment_id != environment_id) continue;
        const DeploymentStatus st = d.StatusAt(ctx.now);
        if (st == DeploymentStatus::kSuccess || st == DeploymentStatus::kSleeping)
            active.push_back(Deployment(ctx, &d));
    }
    const std::string url = ServiceUrl(ctx, s);
    const auto scheme = url.find("://");
    const std::string domain = scheme == std::string::npos ? url : url.substr(scheme + 3);
    ResolvedValue::List service_domains;
    service_domains.push_back(Rec({{"id", "domain-" + s.id.substr(0, 8)},
                                   {"domain", domain},
                                   {"environmentId", environment_id},
                                   {"serviceId", s.id},
                                   {"projectId", std::string(World::kProjectId)},
                                   {"suffix", nullptr},
                                   {"syncStatus", "ACTIVE"},
                                   {"targetPort", 8080},
                                   {"edgeId", nullptr},
                                   {"createdAt", Time(ctx.now - std::chrono::hours(24 * 7))},
                                   {"updatedAt", Time(ctx.now - std::chrono::hours(24 * 7))},
                                   {"deletedAt", nullptr}}));
    auto domains = Rec({{"serviceDomains", std::move(service_domains)}, {"customDomains", ResolvedValue::List{}}});
    return Rec({{"id", s.id + ":" + environment_id},
                {"serviceId", s.id},
                {"serviceName", s.name},
                {"environmentId", environment_id},
                {"latestDeployment", Deployment(ctx, ctx.world->Latest(s.id, environment_id))},
                {"activeDeployments", std::move(active)},
                {"healthcheckPath", "/health"},
                {"healthcheckTimeout", 300},
                {"numReplicas", 1},
                {"restartPolicyType", "ON_FAILURE"},
                {"restartPolicyMaxRetries", ctx.world->GetDurations().crash_loop_restarts},
                {"domains", domains},
                {"region", "us-west1"},
                {"sleepApplication", false},
                {"startCommand", "npm start"},
                {"buildCommand", nullptr},
                {"rootDirectory", nullptr},
                {"cronSchedule", nullptr},
                {"nextCronRunAt", nullptr},
                {"drainingSeconds", nullptr},
                {"overlapSeconds", nullptr},
                {"upstreamUrl", nullptr},
                {"isUpdatable", false},
                {"watchPatterns", ResolvedValue::List{}},
                {"source", Rec({{"repo", "acme/" + s.name}, {"image", nullptr}})},
                {"service", ServiceRecord(ctx, s)},
                {"createdAt", Time(ctx.now - std::chrono::hours(24 * 7))},
                {"updatedAt", Time(ctx.now - std::chrono::hours(1))},
                {"deletedAt", nullptr}});
}

ResolvedValue ServiceInstanceField(const RequestContext& ctx, const json& args) {
    const std::string environment_id = ArgString(args, "environmentId");
    if (!EnvironmentAllowed(ctx, environment_id)) return NotAuthorized();
    const SimService* s = ctx.world->FindService(ArgString(args, "serviceId"));
    if (s == nullptr || !World::HasInstance(*s, environment_id)) return NotFound("ServiceInstance");
    return ServiceInstanceRecord(ctx, *s, environment_id);
}

ResolvedValue EnvironmentObject::ServiceInstances(const json& args) const {
    std::vector<const SimService*> services;
    for (const SimService& s : ctx_.world->Services())
        if (World::HasInstance(s, id_)) services.push_back(&s);
    const std::string after = ArgString(args, "after");
    if (!after.empty()) {
        const auto it =
            std::find_if(services.begin(), services.end(), [&](const SimService* s) { return s->id == after; });
        services.erase(services.begin(), it == services.end() ? services.end() : it + 1);
    }
    std::optional<long long> first = ArgInt(args, "first");
    if (const int most = ctx_.config->errors.max_page_size; most > 0) {
        if (ctx_.config->errors.large_page == LargePage::kRefuse && first && *first > most)
            return FieldFailure{"Problem processing request", graphql::kBadUserInput};
        first = std::min<long long>(first.value_or(most), most);
    }
    bool has_next = false;
    if (first && *first >= 0 && static_cast<std::size_t>(*first) < services.size()) {
        services.resize(static_cast<std::size_t>(*first));
        has_next = true;
    }
    ResolvedValue::List edges;
    for (const SimService* s : services)
        edges.push_back(Rec({{"cursor", s->id}, {"node", ServiceInstanceRecord(ctx_, *s, id_)}}));
    return Rec({{"edges", std::move(edges)},
                {"pageInfo", PageInfo(services.empty() ? "" : services.front()->id,
                                      services.empty() ? "" : services.back()->id, has_next, !after.empty())}});
}

class QueryRoot final : public Object {
  public:
    explicit QueryRoot(const RequestContext& ctx) : ctx_(ctx) {}

    ResolvedValue Resolve(std::string_view f, const json& args) const override {
        if (f == "deployment") {
            const std::string id = ArgString(args, "id");
            if (ctx_.on_deployment_query) ctx_.on_deployment_query(id);
            FieldFailure failure;
            const SimDeployment* d = Lookup(ctx_, id, failure);
            if (d == nullptr) return failure;
            return Deployment(ctx_, d);
        }
        if (f == "deployments") return DeploymentsField(ctx_, args);
        if (f == "deploymentLogs") return LogsField(ctx_, args, false);
        if (f == "buildLogs") return LogsField(ctx_, args, true);
        if (f == "deploymentEvents") return EventsField(ctx_, args);
        if (f == "serviceInstance") return ServiceInstanceField(ctx_, args);
        if (f == "service") {
            const SimService* s = ctx_.world->FindService(ArgString(args, "id"));
            if (s == nullptr) return NotFound("Service");
            return ServiceRecord(ctx_, *s);
        }
        if (f == "environment") {
            const std::string id = ArgString(args, "id");
            if (!EnvironmentAllowed(ctx_, id)) return NotAuthorized();
            if (!ctx_.world->HasEnvironment(id)) return NotFound("Environment");
            const std::string project = ArgString(args, "projectId");
            if (!project.empty() && project != World::kProjectId) return NotFound("Environment");
            return EnvironmentRecord(ctx_, id);
        }
        if (f == "project") {
            if (ArgString(args, "id") != World::kProjectId) return NotFound("Project");
            return ProjectRecord(ctx_);
        }
        if (f == "me") {
            // Personal: workspace and project tokens are not a user (FACTS §1).
            if (ctx_.auth != AuthKind::kAccount) return NotAuthorized();
            ResolvedValue::List workspaces;
            workspaces.push_back(WorkspaceRecord(ctx_, std::string(World::kWorkspaceId)));
            return Rec({{"id", "user-sim"},
                        {"name", "Sim Developer"},
                        {"email", "dev@example.com"},
                        {"username", "simdev"},
                        {"avatar", nullptr},
                        {"has2FA", false},
                        {"isAdmin", false},
                        {"isVerified", true},
                        {"createdAt", Time(ctx_.now - std::chrono::hours(24 * 400))},
                        {"workspaces", std::move(workspaces)},
                        {"apiTokenRateLimit", RateLimitRecord(ctx_)}});
        }
        if (f == "apiToken") {
            if (ctx_.auth == AuthKind::kProject) return NotAuthorized();
            ResolvedValue::List workspaces;
            workspaces.push_back(Rec({{"id", std::string(World::kWorkspaceId)}, {"name", "Simulated Workspace"}}));
            return Rec({{"workspaces", std::move(workspaces)}});
        }
        if (f == "projectToken") {
            if (ctx_.auth != AuthKind::kProject) return FieldFailure{"Project Token not found", ""};
            return Rec({{"id", "project-token-sim"},
                        {"name", "railwatch"},
                        {"displayToken", ctx_.config->project_token.substr(0, 4) + "…"},
                        {"projectId", std::string(World::kProjectId)},
                        {"environmentId", ctx_.project_environment},
                        {"createdAt", Time(ctx_.now - std::chrono::hours(24 * 10))},
                        {"project", ProjectRecord(ctx_)},
                        {"environment", EnvironmentRecord(ctx_, ctx_.project_environment)}});
        }
        if (f == "workspace") {
            const std::string id = ArgString(args, "workspaceId");
            // A workspace token sees its own workspace only; an account token any of "its".
            if (ctx_.auth == AuthKind::kProject) return NotAuthorized();
            if (ctx_.auth == AuthKind::kWorkspace && id != World::kWorkspaceId) return NotAuthorized();
            return WorkspaceRecord(ctx_, id);
        }
        if (f == "platformStatus") {
            const auto& incident = ctx_.config->incident;
            return Rec({{"isStable", !incident.has_value()},
                        {"incident", incident ? Rec({{"id", "incident-sim"},
                                                     {"message", *incident},
                                                     {"status", "INVESTIGATING"},
                                                     {"url", "https://status.railway.com/"},
                                                     {"createdAt", Time(ctx_.now - std::chrono::minutes(20))}})
                                              : ResolvedValue()},
                        {"maintenance", nullptr}});
        }
        return nullptr;
    }

  private:
    const RequestContext& ctx_;
};

class MutationRoot final : public Object {
  public:
    explicit MutationRoot(const RequestContext& ctx) : ctx_(ctx) {}

    ResolvedValue Resolve(std::string_view f, const json& args) const override {
        const std::string id = ArgString(args, "id");
        FieldFailure failure;
        if (Lookup(ctx_, id, failure) == nullptr) return failure;
        World& world = *ctx_.world;
        auto boolean = [](const util::Result<void>& r) -> ResolvedValue {
            if (r) return true;
            return FieldFailure{r.error().message, ""};
        };
        if (f == "deploymentRedeploy") {
            auto d = world.Redeploy(id, ctx_.now);
            if (!d) return FieldFailure{d.error().message, ""};
            return Deployment(ctx_, *d);
        }
        if (f == "deploymentRestart") return boolean(world.Restart(id, ctx_.now));
        if (f == "deploymentCancel") return boolean(world.Cancel(id, ctx_.now));
        if (f == "deploymentRemove") return boolean(world.Remove(id, ctx_.now));
        if (f == "deploymentApprove") return boolean(world.Approve(id, ctx_.now));
        return nullptr;
    }

  private:
    const RequestContext& ctx_;
};

}  // namespace

std::string ServiceUrl(const RequestContext& ctx, const SimService& service) {
    const std::string base = ctx.health_base_url.empty() ? "http://127.0.0.1:9" : ctx.health_base_url;
    return base + "/s/" + service.id;
}

std::shared_ptr<graphql::Object> MakeQueryRoot(const RequestContext& ctx) {
    return std::make_shared<QueryRoot>(ctx);
}

std::shared_ptr<graphql::Object> MakeMutationRoot(const RequestContext& ctx) {
    return std::make_shared<MutationRoot>(ctx);
}

}  // namespace railwatch::sim
