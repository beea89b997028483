#include "railway/status_batch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "railway/documents.hpp"
#include "railway/parse.hpp"
#include "util/json.hpp"

namespace railwatch::railway {
namespace {

std::string OperationFor(const std::string& id) {
    return "status check of deployment " + id;
}

// What is known about one id while Check runs.
struct IdState {
    int requests = 0;           // requests that carried this id
    int uncertain_answers = 0;  // answers whose error said nothing certain (kAskAlone)
    int unanswered_rounds = 0;  // answers with neither data nor error that named no failing alias
    std::optional<ApiResult<Deployment>> result;
};

// The ids of `group` (indexes into `ids`): a view of `ids` where the group is a run of
// consecutive indexes (every first request is), else copies held in `copies`.
std::span<const std::string> IdsOf(std::span<const std::string> ids, const std::vector<std::size_t>& group,
                                   std::vector<std::string>& copies) {
    bool run = true;
    for (std::size_t k = 1; k < group.size() && run; ++k)
        run = group[k] == group[0] + k;
    if (run) return group.empty() ? std::span<const std::string>() : ids.subspan(group[0], group.size());
    copies.clear();
    copies.reserve(group.size());
    for (std::size_t i : group)
        copies.push_back(ids[i]);
    return copies;
}

}  // namespace

std::vector<AliasReading> ReadStatusBatch(const Envelope& envelope, std::span<const std::string> ids,
                                          const ErrorContext& context) {
    using Outcome = AliasReading::Outcome;
    std::vector<AliasReading> out(ids.size());
    // Each alias's value, found in one pass over `data` (its keys are d0, d1, …: documents::Alias).
    std::vector<std::optional<simdjson::dom::element>> values(ids.size());
    if (envelope.data) {
        for (const simdjson::dom::key_value_pair field : *envelope.data) {
            const std::string_view key = field.key;
            std::size_t k = 0;
            if (key.size() < 2 || key.front() != 'd' ||
                std::from_chars(key.data() + 1, key.data() + key.size(), k).ptr != key.data() + key.size() ||
                k >= ids.size() || (key.size() > 2 && key[1] == '0') || field.value.is_null())
                continue;
            values[k] = field.value;
        }
    }
    for (std::size_t k = 0; k < ids.size(); ++k) {
        AliasReading& reading = out[k];
        if (values[k]) {
            reading.outcome = Outcome::kFinal;
            auto parsed = ParseDeployment(*values[k]);
            if (parsed) {
                reading.result = std::move(*parsed);
            } else {
                reading.result = tl::unexpected(
                    MalformedAnswer(parsed.error().message, envelope.http_status, context.For(OperationFor(ids[k]))));
            }
            continue;
        }
        if (const GraphqlError* gql = envelope.ErrorFor(documents::Alias(k))) {
            ApiError error = ApiErrorFromGraphql(*gql, envelope.http_status, context.For(OperationFor(ids[k])));
            reading.outcome = error.retryable ? Outcome::kAskAlone : Outcome::kFinal;
            reading.result = tl::unexpected(std::move(error));
            continue;
        }
        reading.outcome = Outcome::kUnanswered;
        reading.result = tl::unexpected(
            MalformedAnswer("no data and no error for this deployment (another deployment's error nulled the answer)",
                            envelope.http_status, context.For(OperationFor(ids[k]))));
    }
    return out;
}

StatusChecker::StatusChecker(CallEngine& engine) : engine_(engine) {}

const std::string& StatusChecker::DocumentJson(std::size_t count) {
    std::lock_guard lock(mutex_);
    if (documents_.size() <= count) documents_.resize(count + 1);
    auto& slot = documents_[count];
    if (!slot) {
        slot = std::make_unique<std::string>();
        util::AppendJsonString(*slot, documents::DeploymentStatusBatch(count));
    }
    return *slot;  // never freed or moved while the checker lives
}

std::string StatusChecker::BuildBody(std::span<const std::string> ids) {
    const std::string& document = DocumentJson(ids.size());
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

std::vector<DeploymentResult> StatusChecker::Check(std::span<const std::string> ids) {
    using Outcome = AliasReading::Outcome;
    const ClientConfig& config = engine_.config();
    std::vector<IdState> state(ids.size());
    std::vector<std::size_t> batched(ids.size());  // indexes to ask in batches
    for (std::size_t i = 0; i < ids.size(); ++i)
        batched[i] = i;
    std::vector<std::size_t> alone;  // indexes to ask one per request

    const auto finish = [&](std::size_t i, ApiResult<Deployment> result) {
        if (!result) result.error().attempts = state[i].requests;
        state[i].result = std::move(result);
    };

    while (!batched.empty() || !alone.empty()) {
        std::vector<CallRequest> calls;
        std::vector<std::vector<std::size_t>> members;
        std::vector<std::string> copies;
        const auto add_call = [&](std::vector<std::size_t> group, core::Duration delay) {
            CallRequest call;
            call.operation = group.size() == 1 ? OperationFor(ids[group[0]])
                                               : fmt::format("status check of {} deployments", group.size());
            call.body = BuildBody(IdsOf(ids, group, copies));
            call.delay = delay;
            calls.push_back(std::move(call));
            members.push_back(std::move(group));
        };
        for (std::size_t start = 0; start < batched.size(); start += config.batch_size) {
            const std::size_t end = std::min(batched.size(), start + config.batch_size);
            add_call({batched.begin() + static_cast<long>(start), batched.begin() + static_cast<long>(end)},
                     core::Duration{0});
        }
        for (std::size_t i : alone)
            add_call({i}, engine_.RetryDelay(state[i].uncertain_answers));
        batched.clear();
        alone.clear();

        std::vector<CallOutcome> outcomes = engine_.Execute(std::move(calls));
        std::size_t nulled = 0;
        for (std::size_t c = 0; c < outcomes.size(); ++c) {
            const std::vector<std::size_t>& group = members[c];
            for (std::size_t i : group)
                state[i].requests += outcomes[c].attempts;
            auto& outcome = outcomes[c].result;
            if (!outcome) {
                for (std::size_t i : group)
                    finish(i, tl::unexpected(outcome.error()));
                continue;
            }
            std::vector<std::string> aliases;
            aliases.reserve(group.size());
            for (std::size_t k = 0; k < group.size(); ++k)
                aliases.push_back(documents::Alias(k));
            const std::span<const std::string> group_ids = IdsOf(ids, group, copies);
            // Railway said which aliases failed: the others lost their data to null propagation
            // only, and asking again without the failing ones costs them no attempt.
            const bool named_failures = outcome->NamesAnyOf(aliases);
            auto readings = ReadStatusBatch(*outcome, group_ids, engine_.Context(""));
            for (std::size_t k = 0; k < group.size(); ++k) {
                const std::size_t i = group[k];
                IdState& id = state[i];
                switch (readings[k].outcome) {
                    case Outcome::kFinal:
                        finish(i, std::move(readings[k].result));
                        break;
                    case Outcome::kAskAlone:
                        if (++id.uncertain_answers >= config.max_attempts) {
                            finish(i, std::move(readings[k].result));
                        } else {
                            engine_.Log(fmt::format("railway: {} (answer {}/{}); asking for it alone again",
                                                    readings[k].result.error().message, id.uncertain_answers,
                                                    config.max_attempts));
                            alone.push_back(i);
                        }
                        break;
                    case Outcome::kUnanswered:
                        if (!named_failures && ++id.unanswered_rounds >= config.max_attempts) {
                            finish(i, std::move(readings[k].result));
                        } else {
                            batched.push_back(i);
                            ++nulled;
                        }
                        break;
                }
            }
        }
        if (nulled > 0) {
            engine_.Log(fmt::format(
                "railway: asking again for {} deployment(s) that got no answer in a batch, without the failing ones",
                nulled));
        }
        // Keep the caller's order within the next batches.
        std::sort(batched.begin(), batched.end());
    }

    std::vector<DeploymentResult> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        out.push_back({ids[i], std::move(*state[i].result)});
    return out;
}

}  // namespace railwatch::railway
