#include "railway/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "railway/documents.hpp"
#include "util/json.hpp"

namespace railwatch::railway {
namespace {

using nlohmann::json;
using util::ErrorCode;

std::string FormatDelay(core::Duration d) {
    return fmt::format("{:.1f} s", core::ToSecondsF(d));
}

}  // namespace

/// One request the engine drives to a final outcome.
struct RailwayClient::Call {
    std::string operation;  // for messages: "status check of 50 deployments"
    std::string body;
    bool mutation = false;
    enum class State { kWaiting, kInFlight, kDone } state = State::kWaiting;
    int attempts = 0;
    util::SteadyTime due{};
    net::RequestId request_id = 0;
    std::optional<ApiResult<Envelope>> outcome;
};

/// Answers that arrived for one Execute, guarded by the client's mutex.
struct RailwayClient::Inbox {
    std::vector<std::pair<std::size_t, net::HttpResponse>> answers;
    util::Wakeup wakeup;  // notified by each answer and by Stop()
};

RailwayClient::RailwayClient(net::HttpTransport& transport, const util::Clock& clock, RequestBudget& budget,
                             core::RandomSource& random, Credentials credentials, ClientConfig config, LogSink log)
    : transport_(transport),
      clock_(clock),
      budget_(budget),
      random_(random),
      credentials_(std::move(credentials)),
      config_(std::move(config)),
      log_(std::move(log)) {
    config_.batch_size = std::clamp<std::size_t>(config_.batch_size, 1, 100);
    config_.max_in_flight = std::max<std::size_t>(config_.max_in_flight, 1);
    config_.max_attempts = std::max(config_.max_attempts, 1);
    config_.max_mutation_attempts = std::max(config_.max_mutation_attempts, 1);
    endpoint_ = EndpointWithSource(config_.api_url);
    endpoint_for_text_ = net::UrlForMessages(config_.api_url);
    user_agent_ = config_.user_agent.empty() ? DefaultUserAgent() : config_.user_agent;
}

void RailwayClient::Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (Inbox* inbox : active_)
        inbox->wakeup.Notify();
}

void RailwayClient::Log(const std::string& line) const {
    if (log_) log_(Redact(line, credentials_.token));
}

ErrorContext RailwayClient::Context(std::string operation) const {
    return ErrorContext{std::move(operation), endpoint_for_text_, credentials_.kind, credentials_.token};
}

core::Duration RailwayClient::RetryDelay(int attempts_made, std::optional<core::Duration> retry_after) {
    core::BackoffPolicy policy;
    policy.max_attempts = attempts_made + 1;  // the caller has already decided to retry
    policy.base = config_.retry_base_delay;
    policy.cap = config_.retry_max_delay;
    policy.factor = config_.retry_factor;
    double unit = 0;
    {
        std::lock_guard lock(mutex_);
        unit = random_.NextUnit();
    }
    return core::NextRetryDelay(policy, attempts_made, unit, retry_after).value_or(policy.cap);
}

const std::string& RailwayClient::BatchDocumentJson(std::size_t count) {
    std::lock_guard lock(mutex_);
    if (batch_documents_.size() <= count) batch_documents_.resize(count + 1);
    auto& slot = batch_documents_[count];
    if (!slot) {
        slot = std::make_unique<std::string>();
        util::AppendJsonString(*slot, documents::DeploymentStatusBatch(count));
    }
    return *slot;  // never freed or moved while the client lives
}

std::string RailwayClient::BuildStatusBatchBody(std::span<const std::string> ids) {
    const std::string& document = BatchDocumentJson(ids.size());
    std::string body;
    body.reserve(document.size() + 64 + ids.size() * 56);
    body += "{\"operationName\":\"DeploymentStatuses\",\"query\":";
    body += document;
    body += ",\"variables\":{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) body.push_back(',');
        fmt::format_to(std::back_inserter(body), "\"id{}\":", i);
        util::AppendJsonString(body, ids[i]);
    }
    body += "}}";
    return body;
}

std::string RailwayClient::Body(std::string_view query, std::string_view operation_name, const json& variables) const {
    json body = {{"operationName", operation_name}, {"query", query}};
    if (!variables.is_null()) body["variables"] = variables;
    return body.dump();
}

void RailwayClient::Execute(std::vector<Call>& calls) {
    auto inbox = std::make_shared<Inbox>();
    {
        std::lock_guard lock(mutex_);
        active_.push_back(inbox.get());
    }
    struct Deactivate {
        RailwayClient& client;
        Inbox* inbox;
        ~Deactivate() {
            std::lock_guard lock(client.mutex_);
            client.active_.erase(std::find(client.active_.begin(), client.active_.end(), inbox));
        }
    } deactivate{*this, inbox.get()};
    std::size_t in_flight = 0;
    std::size_t done = 0;
    for (auto& call : calls)
        call.due = clock_.Steady();

    const auto finish = [&](Call& call, ApiResult<Envelope> outcome) {
        if (!outcome) {
            outcome.error().attempts = call.attempts;
            Classify(outcome.error());
        }
        call.outcome = std::move(outcome);
        call.state = Call::State::kDone;
        ++done;
    };

    while (done < calls.size()) {
        bool stopped = false;
        {
            std::lock_guard lock(mutex_);
            stopped = stopped_;
        }
        const auto now = clock_.Steady();
        if (stopped) {
            for (auto& call : calls) {
                if (call.state == Call::State::kWaiting) {
                    ApiError error;
                    error.code = ErrorCode::kCancelled;
                    error.message = call.operation + ": cancelled (railwatch is stopping)";
                    error.failure.transport = core::TransportErrorKind::kCancelled;
                    finish(call, tl::unexpected(std::move(error)));
                } else if (call.state == Call::State::kInFlight) {
                    transport_.Cancel(call.request_id);
                }
            }
        }

        // Launch what is due, within the in-flight cap and the budget.
        std::optional<core::Duration> budget_wait;
        while (!stopped && in_flight < config_.max_in_flight) {
            Call* next = nullptr;
            std::size_t next_index = 0;
            for (std::size_t i = 0; i < calls.size(); ++i) {
                auto& call = calls[i];
                if (call.state != Call::State::kWaiting || call.due > now) continue;
                if (next == nullptr || call.due < next->due) {
                    next = &call;
                    next_index = i;
                }
            }
            if (next == nullptr) break;
            const BudgetGrant grant = budget_.TryAcquire();
            if (!grant.granted) {
                budget_wait = grant.wait;
                break;
            }
            next->state = Call::State::kInFlight;
            ++next->attempts;
            ++in_flight;
            net::HttpRequest request;
            request.method = "POST";
            request.url = endpoint_;
            request.body = next->body;
            request.timeout = config_.request_timeout;
            request.headers = {{"Content-Type", "application/json"},
                               {"Accept", "application/json"},
                               {"User-Agent", user_agent_},
                               credentials_.AuthHeader()};
            // Submit may complete inline (fakes): the completion takes the mutex, so do not hold it.
            next->request_id =
                transport_.Submit(std::move(request), [this, inbox, next_index](net::HttpResponse response) {
                    {
                        std::lock_guard lock(mutex_);
                        inbox->answers.emplace_back(next_index, std::move(response));
                    }
                    inbox->wakeup.Notify();
                });
        }

        std::vector<std::pair<std::size_t, net::HttpResponse>> answers;
        {
            std::lock_guard lock(mutex_);
            answers.swap(inbox->answers);
        }
        for (auto& [index, response] : answers) {
            --in_flight;
            Call& call = calls[index];
            if (response.Answered()) budget_.Observe(response.status, response.headers);
            ApiResult<Envelope> outcome = InterpretResponse(response, Context(call.operation));
            if (outcome || stopped) {
                finish(call, std::move(outcome));
                continue;
            }
            const ApiError& error = outcome.error();
            bool may_retry = error.retryable && error.code != ErrorCode::kCancelled;
            if (call.mutation) {
                // Railway may have run a mutation that failed afterwards: repeat only when it surely did not.
                const auto kind = error.failure.transport;
                may_retry =
                    may_retry && (kind == core::TransportErrorKind::kDns ||
                                  kind == core::TransportErrorKind::kConnect || error.failure.http_status == 429);
            }
            const int max_attempts = call.mutation ? config_.max_mutation_attempts : config_.max_attempts;
            if (!may_retry || call.attempts >= max_attempts) {
                finish(call, std::move(outcome));
                continue;
            }
            const core::Duration delay = RetryDelay(call.attempts, error.retry_after);
            if (error.retry_after) budget_.PauseFor(*error.retry_after);
            Log(fmt::format("railway: {} (attempt {}/{}); retrying in {}", error.message, call.attempts, max_attempts,
                            FormatDelay(delay)));
            call.state = Call::State::kWaiting;
            call.due = clock_.Steady() + delay;
        }
        if (!answers.empty() || done == calls.size()) continue;

        // Nothing arrived: wait for an answer, the next due retry, or the budget.
        const auto now2 = clock_.Steady();
        std::optional<core::Duration> wait;
        for (const auto& call : calls) {
            if (call.state != Call::State::kWaiting) continue;
            const core::Duration until = call.due > now2 ? call.due - now2 : core::Duration{0};
            if (!wait || until < *wait) wait = until;
        }
        if (wait && budget_wait) wait = std::max(*wait, *budget_wait);
        if (wait && *wait <= core::Duration{0} && !budget_wait && in_flight < config_.max_in_flight) continue;
        if (!wait) wait = core::Seconds(3600);  // only in-flight requests: their answers wake us
        if (in_flight >= config_.max_in_flight && in_flight > 0) wait = core::Seconds(3600);
        clock_.WaitFor(*wait, inbox->wakeup);
    }
}

ApiResult<Envelope> RailwayClient::ExecuteOne(std::string operation, std::string body, bool mutation) {
    std::vector<Call> calls(1);
    calls[0].operation = std::move(operation);
    calls[0].body = std::move(body);
    calls[0].mutation = mutation;
    Execute(calls);
    return std::move(*calls[0].outcome);
}

ApiResult<json> RailwayClient::RootField(const Envelope& envelope, std::string_view field,
                                         const std::string& operation) const {
    if (envelope.data.is_object()) {
        auto it = envelope.data.find(field);
        if (it != envelope.data.end() && !it->is_null()) return *it;
    }
    const GraphqlError* error = envelope.ErrorFor(field);
    if (error == nullptr && !envelope.errors.empty()) error = &envelope.errors.front();
    ApiError out = error != nullptr ? ApiErrorFromGraphql(*error, envelope.http_status, Context(operation))
                                    : MalformedAnswer(fmt::format("data.{} is missing", field), envelope.http_status,
                                                      Context(operation));
    out.attempts = 1;
    Classify(out);
    return tl::unexpected(std::move(out));
}

void RailwayClient::MapStatusBatch(const Envelope& envelope, std::span<const std::string> ids,
                                   std::vector<std::pair<std::size_t, ApiResult<Deployment>>>& out,
                                   std::vector<std::size_t>& retry, std::size_t first_index) const {
    const json* data = envelope.data.is_object() ? &envelope.data : nullptr;
    for (std::size_t k = 0; k < ids.size(); ++k) {
        const std::string alias = documents::Alias(k);
        const std::size_t index = first_index + k;
        if (data != nullptr) {
            auto it = data->find(alias);
            if (it != data->end() && !it->is_null()) {
                auto parsed = ParseDeployment(*it);
                if (parsed) {
                    out.emplace_back(index, std::move(*parsed));
                } else {
                    ApiError error = MalformedAnswer(parsed.error().message, envelope.http_status,
                                                     Context("status check of deployment " + ids[k]));
                    error.retryable = false;
                    out.emplace_back(index, tl::unexpected(std::move(Classify(error))));
                }
                continue;
            }
        }
        if (const GraphqlError* gql = envelope.ErrorFor(alias)) {
            ApiError error =
                ApiErrorFromGraphql(*gql, envelope.http_status, Context("status check of deployment " + ids[k]));
            if (error.retryable) {
                retry.push_back(index);
            } else {
                out.emplace_back(index, tl::unexpected(std::move(Classify(error))));
            }
            continue;
        }
        retry.push_back(index);
    }
}

std::vector<DeploymentResult> RailwayClient::GetDeployments(std::span<const std::string> ids) {
    std::vector<std::optional<ApiResult<Deployment>>> results(ids.size());
    std::vector<std::size_t> pending(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        pending[i] = i;
    std::vector<int> attempts(ids.size(), 0);
    std::vector<ApiError> last_alias_error(ids.size());

    for (int round = 1; !pending.empty(); ++round) {
        std::vector<Call> calls;
        std::vector<std::vector<std::size_t>> members;
        for (std::size_t start = 0; start < pending.size(); start += config_.batch_size) {
            const std::size_t end = std::min(pending.size(), start + config_.batch_size);
            std::vector<std::size_t> group(pending.begin() + static_cast<long>(start),
                                           pending.begin() + static_cast<long>(end));
            std::vector<std::string> batch_ids;
            batch_ids.reserve(group.size());
            for (std::size_t i : group)
                batch_ids.push_back(ids[i]);
            Call call;
            call.operation = group.size() == 1 ? "status check of deployment " + ids[group[0]]
                                               : fmt::format("status check of {} deployments", group.size());
            call.body = BuildStatusBatchBody(batch_ids);
            calls.push_back(std::move(call));
            members.push_back(std::move(group));
        }
        Execute(calls);

        std::vector<std::size_t> next;
        for (std::size_t c = 0; c < calls.size(); ++c) {
            const auto& group = members[c];
            auto& outcome = *calls[c].outcome;
            if (!outcome) {
                for (std::size_t i : group) {
                    ApiError error = outcome.error();
                    error.attempts += attempts[i];
                    results[i] = tl::unexpected(std::move(error));
                }
                continue;
            }
            std::vector<std::string> batch_ids;
            for (std::size_t i : group)
                batch_ids.push_back(ids[i]);
            std::vector<std::pair<std::size_t, ApiResult<Deployment>>> mapped;
            std::vector<std::size_t> retry;
            MapStatusBatch(*outcome, batch_ids, mapped, retry, 0);
            for (auto& [k, result] : mapped) {
                const std::size_t i = group[k];
                if (!result) result.error().attempts = attempts[i] + calls[c].attempts;
                results[i] = std::move(result);
            }
            for (std::size_t k : retry) {
                const std::size_t i = group[k];
                attempts[i] += calls[c].attempts;
                if (const GraphqlError* gql = outcome->ErrorFor(documents::Alias(k))) {
                    last_alias_error[i] = ApiErrorFromGraphql(*gql, outcome->http_status,
                                                              Context("status check of deployment " + ids[i]));
                } else {
                    last_alias_error[i] = MalformedAnswer(
                        "no data and no error for this deployment (another deployment's error nulled the batch)",
                        outcome->http_status, Context("status check of deployment " + ids[i]));
                }
                if (round >= config_.max_attempts) {
                    ApiError error = last_alias_error[i];
                    error.attempts = attempts[i];
                    results[i] = tl::unexpected(std::move(Classify(error)));
                } else {
                    next.push_back(i);
                }
            }
        }
        if (!next.empty()) {
            Log(fmt::format("railway: asking again for {} deployment(s) that got no answer in a batch (round {})",
                            next.size(), round + 1));
        }
        pending = std::move(next);
    }

    std::vector<DeploymentResult> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        out.push_back({ids[i], std::move(*results[i])});
    return out;
}

ApiResult<std::optional<Deployment>> RailwayClient::GetLatestDeployment(const std::string& service_id,
                                                                        const std::string& environment_id) {
    const std::string op = fmt::format("latest deployment of service {} in environment {}", service_id, environment_id);
    auto envelope = ExecuteOne(op,
                               Body(documents::kLatestDeployment, "LatestDeployment",
                                    {{"serviceId", service_id}, {"environmentId", environment_id}}),
                               false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, "deployments", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    auto edges = root->find("edges");
    if (edges == root->end() || !edges->is_array()) {
        ApiError error = MalformedAnswer("deployments.edges is missing", envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    if (edges->empty()) return std::optional<Deployment>{};
    const json& node = (*edges)[0].contains("node") ? (*edges)[0]["node"] : json();
    auto parsed = ParseDeployment(node);
    if (!parsed) {
        ApiError error = MalformedAnswer(parsed.error().message, envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    return std::optional<Deployment>(std::move(*parsed));
}

ApiResult<std::vector<DeploymentEvent>> RailwayClient::GetDeploymentEvents(const std::string& deployment_id,
                                                                           int first) {
    const std::string op = "steps of deployment " + deployment_id;
    auto envelope = ExecuteOne(
        op, Body(documents::kDeploymentEvents, "DeploymentEvents", {{"id", deployment_id}, {"first", first}}), false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, "deploymentEvents", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    std::vector<DeploymentEvent> events;
    if (auto edges = root->find("edges"); edges != root->end() && edges->is_array()) {
        for (const auto& edge : *edges) {
            auto node = edge.find("node");
            if (node == edge.end()) continue;
            auto parsed = ParseDeploymentEvent(*node);
            if (!parsed) {
                ApiError error = MalformedAnswer(parsed.error().message, envelope->http_status, Context(op));
                return tl::unexpected(std::move(Classify(error)));
            }
            events.push_back(std::move(*parsed));
        }
    }
    return events;
}

ApiResult<std::vector<LogLine>> RailwayClient::GetNewLogs(LogKind kind, const std::string& deployment_id,
                                                          LogCursor& cursor, int limit) {
    limit = std::clamp(limit, 1, 5000);
    const bool build = kind == LogKind::kBuild;
    const std::string op = fmt::format("{} logs of deployment {}", build ? "build" : "deploy", deployment_id);
    json variables = {{"deploymentId", deployment_id}, {"limit", limit}};
    if (cursor.last) variables["startDate"] = cursor.last_raw;
    auto envelope = ExecuteOne(op,
                               Body(build ? documents::kBuildLogs : documents::kDeploymentLogs,
                                    build ? "BuildLogs" : "DeploymentLogs", variables),
                               false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, build ? "buildLogs" : "deploymentLogs", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    if (!root->is_array()) {
        ApiError error = MalformedAnswer("the log list is not an array", envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    std::vector<LogLine> lines;
    lines.reserve(root->size());
    for (const auto& node : *root) {
        auto parsed = ParseLogLine(node);
        if (!parsed) {
            ApiError error = MalformedAnswer(parsed.error().message, envelope->http_status, Context(op));
            return tl::unexpected(std::move(Classify(error)));
        }
        lines.push_back(std::move(*parsed));
    }
    return TakeNewLogLines(std::move(lines), cursor, static_cast<std::size_t>(limit));
}

ApiResult<ServiceInstanceInfo> RailwayClient::GetServiceInstance(const std::string& service_id,
                                                                 const std::string& environment_id) {
    const std::string op = fmt::format("settings of service {} in environment {}", service_id, environment_id);
    auto envelope = ExecuteOne(op,
                               Body(documents::kServiceInstance, "ServiceInstance",
                                    {{"serviceId", service_id}, {"environmentId", environment_id}}),
                               false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, "serviceInstance", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    auto parsed = ParseServiceInstance(*root);
    if (!parsed) {
        ApiError error = MalformedAnswer(parsed.error().message, envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    return std::move(*parsed);
}

ApiResult<std::string> RailwayClient::Redeploy(const std::string& deployment_id) {
    const std::string op = "redeploy of deployment " + deployment_id;
    auto envelope =
        ExecuteOne(op, Body(documents::kDeploymentRedeploy, "DeploymentRedeploy", {{"id", deployment_id}}), true);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, "deploymentRedeploy", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    auto id = root->find("id");
    if (id == root->end() || !id->is_string()) {
        ApiError error = MalformedAnswer("deploymentRedeploy.id is missing", envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    return id->get<std::string>();
}

namespace {

ApiResult<bool> BoolRoot(ApiResult<json> root) {
    if (!root) return tl::unexpected(std::move(root.error()));
    return root->is_boolean() && root->get<bool>();
}

}  // namespace

ApiResult<bool> RailwayClient::Restart(const std::string& deployment_id) {
    const std::string op = "restart of deployment " + deployment_id;
    auto envelope =
        ExecuteOne(op, Body(documents::kDeploymentRestart, "DeploymentRestart", {{"id", deployment_id}}), true);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    return BoolRoot(RootField(*envelope, "deploymentRestart", op));
}

ApiResult<bool> RailwayClient::CancelDeployment(const std::string& deployment_id) {
    const std::string op = "cancel of deployment " + deployment_id;
    auto envelope =
        ExecuteOne(op, Body(documents::kDeploymentCancel, "DeploymentCancel", {{"id", deployment_id}}), true);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    return BoolRoot(RootField(*envelope, "deploymentCancel", op));
}

ApiResult<TokenInfo> RailwayClient::ValidateToken() {
    const bool project = credentials_.kind == TokenKind::kProject;
    const std::string op = "validation of the " + credentials_.Describe();
    auto envelope = ExecuteOne(
        op, project ? Body(documents::kProjectToken, "ProjectToken", json()) : Body(documents::kMe, "Me", json()),
        false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, project ? "projectToken" : "me", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    TokenInfo info;
    info.is_project_token = project;
    const auto str = [&](const char* key) {
        auto it = root->find(key);
        return it != root->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (project) {
        info.project_id = str("projectId");
        info.environment_id = str("environmentId");
    } else {
        info.user_id = str("id");
        info.user_email = str("email");
    }
    return info;
}

ApiResult<PlatformStatus> RailwayClient::GetPlatformStatus() {
    const std::string op = "Railway platform status";
    auto envelope = ExecuteOne(op, Body(documents::kPlatformStatus, "PlatformStatus", json()), false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, "platformStatus", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    auto parsed = ParsePlatformStatus(*root);
    if (!parsed) {
        ApiError error = MalformedAnswer(parsed.error().message, envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    return *parsed;
}

ApiResult<WorkspaceUsage> RailwayClient::GetWorkspaceUsage(const std::string& workspace_id) {
    const std::string op = "usage of workspace " + workspace_id;
    auto envelope =
        ExecuteOne(op, Body(documents::kWorkspaceUsage, "WorkspaceUsage", {{"workspaceId", workspace_id}}), false);
    if (!envelope) return tl::unexpected(std::move(envelope.error()));
    auto root = RootField(*envelope, "workspace", op);
    if (!root) return tl::unexpected(std::move(root.error()));
    auto parsed = ParseWorkspaceUsage(*root);
    if (!parsed) {
        ApiError error = MalformedAnswer(parsed.error().message, envelope->http_status, Context(op));
        return tl::unexpected(std::move(Classify(error)));
    }
    return *parsed;
}

}  // namespace railwatch::railway
