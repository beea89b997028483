#include "railway/status_batch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "railway/documents.hpp"
#include "railway/parse.hpp"
#include "util/json.hpp"

namespace railwatch::railway {

template <typename T>
struct StatusChecker::Selection {
    std::size_t kind;                                       // index into documents_
    std::string_view operation;                             // the document's operation name
    documents::AliasBatchParts (*parts)(std::size_t max);   // its documents for up to `max` aliases
    util::Result<T> (*parse)(simdjson::dom::element node);  // one alias's value
};

namespace {

const StatusChecker::Selection<Deployment> kFullSelection{0, "DeploymentStatuses",
                                                          documents::DeploymentStatusBatchParts, ParseDeployment};
const StatusChecker::Selection<PolledStatus> kPollSelection{1, "DeploymentPoll", documents::DeploymentPollBatchParts,
                                                            ParsePolledStatus};

std::string OperationFor(std::string_view id) {
    return fmt::format("status check of deployment {}", id);
}

// What is known about one id while a check runs (its result goes straight to Run's output).
struct IdState {
    int requests = 0;           // requests that carried this id
    int uncertain_answers = 0;  // answers whose error said nothing certain (kAskAlone)
    int unanswered_rounds = 0;  // answers with neither data nor error that named no failing alias
};

// The ids of `group` (indexes into `ids`): a view of `ids` where the group is a run of
// consecutive indexes (every first request is), else copies held in `copies`.
std::span<const std::string_view> IdsOf(std::span<const std::string_view> ids, const std::vector<std::size_t>& group,
                                        std::vector<std::string_view>& copies) {
    bool run = true;
    for (std::size_t k = 1; k < group.size() && run; ++k)
        run = group[k] == group[0] + k;
    if (run) return group.empty() ? std::span<const std::string_view>() : ids.subspan(group[0], group.size());
    copies.clear();
    copies.reserve(group.size());
    for (std::size_t i : group)
        copies.push_back(ids[i]);
    return copies;
}

std::vector<std::string_view> ViewsOf(std::span<const std::string> ids) {
    return {ids.begin(), ids.end()};
}

// Reads an answer for `ids` (alias dK <-> ids[K]): `visit(k, outcome, result)` is called once
// for each k in order, with the result to move from.
template <typename T, typename Visit>
void ReadBatch(const Envelope& envelope, std::span<const std::string_view> ids, const ErrorContext& context,
               util::Result<T> (*parse)(simdjson::dom::element), Visit&& visit) {
    using Outcome = typename AliasReadingOf<T>::Outcome;
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
        if (values[k]) {
            auto parsed = parse(*values[k]);
            if (parsed) {
                visit(k, Outcome::kFinal, ApiResult<T>(std::move(*parsed)));
            } else {
                visit(k, Outcome::kFinal,
                      ApiResult<T>(tl::unexpect, MalformedAnswer(parsed.error().message, envelope.http_status,
                                                                 context.For(OperationFor(ids[k])))));
            }
            continue;
        }
        if (const GraphqlError* gql = envelope.ErrorFor(documents::Alias(k))) {
            ApiError error = ApiErrorFromGraphql(*gql, envelope.http_status, context.For(OperationFor(ids[k])));
            const Outcome outcome = error.retryable ? Outcome::kAskAlone : Outcome::kFinal;
            visit(k, outcome, ApiResult<T>(tl::unexpect, std::move(error)));
            continue;
        }
        visit(k, Outcome::kUnanswered,
              ApiResult<T>(tl::unexpect, MalformedAnswer("no data and no error for this deployment (another "
                                                         "deployment's error nulled the answer)",
                                                         envelope.http_status, context.For(OperationFor(ids[k])))));
    }
}

// ReadBatch's readings as a vector.
template <typename T>
std::vector<AliasReadingOf<T>> ReadingsOf(const Envelope& envelope, std::span<const std::string_view> ids,
                                          const ErrorContext& context,
                                          util::Result<T> (*parse)(simdjson::dom::element)) {
    std::vector<AliasReadingOf<T>> out(ids.size());
    ReadBatch(envelope, ids, context, parse,
              [&out](std::size_t k, typename AliasReadingOf<T>::Outcome outcome, ApiResult<T>&& result) {
                  out[k].outcome = outcome;
                  out[k].result = std::move(result);
              });
    return out;
}

}  // namespace

std::vector<AliasReading> ReadStatusBatch(const Envelope& envelope, std::span<const std::string> ids,
                                          const ErrorContext& context) {
    return ReadingsOf(envelope, ViewsOf(ids), context, kFullSelection.parse);
}

std::vector<AliasReadingOf<PolledStatus>> ReadPollBatch(const Envelope& envelope, std::span<const std::string_view> ids,
                                                        const ErrorContext& context) {
    return ReadingsOf(envelope, ids, context, kPollSelection.parse);
}

namespace {

// Whether a batch refused as a whole is worth asking again in halves: Railway gave a final answer
// to the request without naming an alias (a size or complexity limit, an unreadable 4xx, a 413, or
// one id's error sent without a path). Not for what says nothing about the request's content
// (the budget, the endpoint, the network: those are retried or end the call as they are).
bool RefusedAsAWhole(const ApiError& error) {
    if (error.retryable) return false;
    switch (error.kind) {
        case core::ApiFailureKind::kBadDocument:
        case core::ApiFailureKind::kInvalidArgument:
        case core::ApiFailureKind::kNotFound:
        case core::ApiFailureKind::kAuth:
        case core::ApiFailureKind::kMalformed:
        case core::ApiFailureKind::kUnknown:
            return true;
        default:
            return false;
    }
}

// Whether a batch's final failure (after the call's own retries) that says nothing about its
// content may still be its size: a server that times out, or fails with a 5xx, on documents of
// some size instead of refusing them. Not what no request reached (DNS, connect, TLS) nor 429.
bool FailedAtItsSize(const ApiError& error) {
    if (error.kind != core::ApiFailureKind::kTimeout && error.kind != core::ApiFailureKind::kUnavailable) return false;
    switch (error.failure.transport) {
        case core::TransportErrorKind::kDns:
        case core::TransportErrorKind::kConnect:
        case core::TransportErrorKind::kTls:
        case core::TransportErrorKind::kCancelled:
            return false;
        default:
            return true;
    }
}

// The error every id of a group of `count` gets from a refusal of the whole group that was not
// narrowed down: it is none of theirs in particular, so it must not say "not found" of each (that
// ends a deployment's monitoring) — only that the request was refused.
ApiError ForEachOf(const ApiError& error, std::size_t count) {
    if (count <= 1 || error.kind != core::ApiFailureKind::kNotFound) return error;
    ApiError out = error;
    out.kind = core::ApiFailureKind::kUnknown;
    out.code = util::ErrorCode::kInternal;
    out.message = fmt::format("Railway refused a status request of {} deployments without naming which ({})", count,
                              error.message);
    return out;
}

}  // namespace

StatusChecker::StatusChecker(CallEngine& engine) : engine_(engine), batch_size_(engine.config().batch_size) {}

std::size_t StatusChecker::BatchSize() const {
    return std::min(batch_size_.load(), engine_.budget().MaxRootFieldsPerRequest());
}

void StatusChecker::LearnBatchSize(std::size_t refused, std::size_t answered, std::string_view why) {
    // The time first: a relearn that sees the new size must not see an older lowering's time.
    lowered_at_.store(engine_.clock().Steady().time_since_epoch().count());
    std::size_t current = batch_size_.load();
    while (answered < current && !batch_size_.compare_exchange_weak(current, answered)) {
    }
    if (answered < current) {
        engine_.Log(
            fmt::format("railway: {} {} deployments in one status request and answered each half: status "
                        "requests carry at most {} from now on (railway.batch_size is {})",
                        why, refused, answered, engine_.config().batch_size));
    }
}

void StatusChecker::WitnessFailedSize(std::size_t failed, std::size_t answered) {
    // Only a failure that comes again before a full-size request is answered: a random 5xx or
    // timeout that outlasted its retries (the halves then answered) says nothing about the size.
    if (failed_at_size_streak_.fetch_add(1) + 1 < kFailuresAtSizeToLearn) return;
    failed_at_size_streak_.store(0);
    LearnBatchSize(
        failed, answered,
        fmt::format("Railway failed (timeout or 5xx, {} times in a row after retries)", kFailuresAtSizeToLearn));
}

void StatusChecker::MaybeRelearn() {
    const std::size_t configured = engine_.config().batch_size;
    std::size_t current = batch_size_.load();
    if (current >= configured) return;
    const auto now = engine_.clock().Steady().time_since_epoch().count();
    if (now - lowered_at_.load() < kRelearnAfter.count()) return;
    if (!batch_size_.compare_exchange_strong(current, configured)) return;
    engine_.Log(fmt::format("railway: status requests carried at most {} for {} s; trying {} again", current,
                            core::ToSeconds(kRelearnAfter), configured));
}

namespace {

// `raw` with every piece JSON-escaped (without quotes), its ends moved to match.
documents::AliasBatchParts Escaped(const documents::AliasBatchParts& raw) {
    const auto escape = [](std::string_view text) {
        std::string quoted;
        util::AppendJsonString(quoted, text);
        return quoted.substr(1, quoted.size() - 2);
    };
    const auto pieces = [&](const std::string& text, const std::vector<std::size_t>& ends, std::string& out,
                            std::vector<std::size_t>& out_ends) {
        std::size_t from = 0;
        for (const std::size_t end : ends) {
            out += escape(std::string_view(text).substr(from, end - from));
            out_ends.push_back(out.size());
            from = end;
        }
    };
    documents::AliasBatchParts escaped;
    escaped.head = escape(raw.head);
    pieces(raw.variables, raw.variables_end, escaped.variables, escaped.variables_end);
    escaped.middle = escape(raw.middle);
    pieces(raw.fields, raw.fields_end, escaped.fields, escaped.fields_end);
    escaped.tail = escape(raw.tail);
    return escaped;
}

}  // namespace

template <typename T>
const documents::AliasBatchParts& StatusChecker::Document(const Selection<T>& selection) {
    std::call_once(document_once_[selection.kind], [&] {
        documents_[selection.kind] = Escaped(selection.parts(std::max(engine_.config().batch_size, kMaxBatchSize)));
    });
    return documents_[selection.kind];  // never changed again while the checker lives
}

template <typename T>
std::string StatusChecker::Body(const Selection<T>& selection, std::span<const std::string_view> ids) {
    const documents::AliasBatchParts& document = Document(selection);
    std::string body;
    body.reserve(document.Size(ids.size()) + 64 + ids.size() * 56);
    fmt::format_to(std::back_inserter(body), "{{\"operationName\":\"{}\",\"query\":\"", selection.operation);
    document.AppendDocument(body, ids.size());
    body += "\",\"variables\":{";
    // Each id's variable name by hand: no format string parsed again per id.
    char number[std::numeric_limits<std::size_t>::digits10 + 1];
    for (std::size_t i = 0; i < ids.size(); ++i) {
        body += i > 0 ? ",\"id" : "\"id";
        body.append(number, std::to_chars(number, number + sizeof number, i).ptr);
        body += "\":";
        util::AppendJsonString(body, ids[i]);
    }
    body += "}}";
    return body;
}

std::string StatusChecker::BuildBody(std::span<const std::string> ids) {
    return Body(kFullSelection, ViewsOf(ids));
}

std::string StatusChecker::BuildPollBody(std::span<const std::string_view> ids) {
    return Body(kPollSelection, ids);
}

std::vector<DeploymentResult> StatusChecker::Check(std::span<const std::string> ids) {
    auto results = Run(ViewsOf(ids), kFullSelection);
    std::vector<DeploymentResult> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
        out.push_back({ids[i], std::move(results[i])});
    return out;
}

std::vector<ApiResult<PolledStatus>> StatusChecker::Poll(std::span<const std::string_view> ids) {
    return Run(ids, kPollSelection);
}

template <typename T>
std::vector<ApiResult<T>> StatusChecker::Run(std::span<const std::string_view> ids, const Selection<T>& selection) {
    using Outcome = typename AliasReadingOf<T>::Outcome;
    const ClientConfig& config = engine_.config();
    MaybeRelearn();
    std::vector<IdState> state(ids.size());
    std::vector<ApiResult<T>> out(ids.size());
    std::vector<char> finished(ids.size(), 0);
    std::vector<std::size_t> batched(ids.size());  // indexes to ask in batches
    for (std::size_t i = 0; i < ids.size(); ++i)
        batched[i] = i;
    std::vector<std::size_t> alone;  // indexes to ask one per request

    const auto finish = [&](std::size_t i, ApiResult<T>&& result) {
        out[i] = std::move(result);
        if (!out[i]) out[i].error().attempts = state[i].requests;
        finished[i] = 1;
    };

    // Requests Railway refused as a whole without naming an alias (RefusedAsAWhole), or that
    // failed with a timeout or 5xx after their retries (FailedAtItsSize), are asked again as two
    // halves, each with its parent's index in `parents`: a refused parent both of whose halves are
    // answered was refused for its size, and later requests carry no more than a half
    // (LearnBatchSize); a failed one is a witness (WitnessFailedSize). While nothing of this call
    // has been answered, only one refused half is halved further at a time (a probe); the others
    // are held until an answer comes (then they are asked again) or the probe is refused at one id
    // (then they keep their refusal): a token Railway refuses, or a document it refuses at any
    // size, costs about two requests per halving of one batch, not of each.
    constexpr std::size_t kNoParent = std::numeric_limits<std::size_t>::max();
    struct Parent {
        std::size_t size = 0;
        bool failed = false;  // a timeout or 5xx after retries (FailedAtItsSize), not a refusal
        int answered = 0;
        int ended = 0;
    };
    std::vector<Parent> parents;
    std::vector<std::pair<std::vector<std::size_t>, std::size_t>> halves;  // (group, parent)
    std::vector<std::pair<std::vector<std::size_t>, ApiError>> held;       // (group, its refusal)
    bool answered_any = false;
    const auto half_ended = [&](std::size_t parent, bool answered) {
        if (parent == kNoParent) return;
        Parent& p = parents[parent];
        ++p.ended;
        if (answered) ++p.answered;
        if (p.ended < 2 || p.answered < 2) return;
        if (p.failed) {
            WitnessFailedSize(p.size, (p.size + 1) / 2);
        } else {
            LearnBatchSize(p.size, (p.size + 1) / 2, "Railway refused");
        }
    };
    const auto halve = [&](const std::vector<std::size_t>& group, bool failed) {
        parents.push_back(Parent{group.size(), failed});
        const auto middle = group.begin() + static_cast<long>((group.size() + 1) / 2);
        halves.emplace_back(std::vector<std::size_t>(group.begin(), middle), parents.size() - 1);
        halves.emplace_back(std::vector<std::size_t>(middle, group.end()), parents.size() - 1);
    };

    std::vector<std::string_view> copies;
    while (!batched.empty() || !alone.empty() || !halves.empty()) {
        std::vector<CallRequest> calls;
        std::vector<std::pair<std::vector<std::size_t>, std::size_t>> members;  // (group, parent)
        const auto add_call = [&](std::vector<std::size_t> group, core::Duration delay, std::size_t parent) {
            CallRequest call;
            call.operation = group.size() == 1 ? OperationFor(ids[group[0]])
                                               : fmt::format("status check of {} deployments", group.size());
            call.body = Body(selection, IdsOf(ids, group, copies));
            call.delay = delay;
            call.root_fields = static_cast<int>(group.size());
            calls.push_back(std::move(call));
            members.emplace_back(std::move(group), parent);
        };
        const std::size_t cut = BatchSize();
        for (std::size_t start = 0; start < batched.size(); start += cut) {
            const std::size_t end = std::min(batched.size(), start + cut);
            add_call({batched.begin() + static_cast<long>(start), batched.begin() + static_cast<long>(end)},
                     core::Duration{0}, kNoParent);
        }
        for (std::size_t i : alone)
            add_call({i}, engine_.RetryDelay(state[i].uncertain_answers), kNoParent);
        for (auto& [group, parent] : halves)
            add_call(std::move(group), core::Duration{0}, parent);
        batched.clear();
        alone.clear();
        halves.clear();

        std::vector<CallOutcome> outcomes = engine_.Execute(std::move(calls));
        answered_any = answered_any || std::any_of(outcomes.begin(), outcomes.end(),
                                                   [](const CallOutcome& o) { return o.result.has_value(); });
        bool probing = false;  // a refused or failed half is being halved while nothing is answered
        std::size_t nulled = 0;
        for (std::size_t c = 0; c < outcomes.size(); ++c) {
            // (not a structured binding: the reading's lambda below captures `group`)
            const std::vector<std::size_t>& group = members[c].first;
            const std::size_t parent = members[c].second;
            for (std::size_t i : group)
                state[i].requests += outcomes[c].attempts;
            auto& outcome = outcomes[c].result;
            if (!outcome) {
                half_ended(parent, false);
                const ApiError& error = outcome.error();
                if (error.failure.http_status == 429 && group.size() > BatchSize()) {
                    // Railway charges each root field (RequestBudget::Observe), and this request
                    // carried more than one may now: asked again in requests of that size.
                    batched.insert(batched.end(), group.begin(), group.end());
                    continue;
                }
                const bool refused = RefusedAsAWhole(error);
                if (group.size() > 1 && (refused || FailedAtItsSize(error)) &&
                    fruitless_runs_.load() < kFruitlessRunsToStop) {
                    // Its size (refused, or failing at it), or one id whose error came without a
                    // path: ask in halves.
                    if (answered_any || parent == kNoParent || !probing) {
                        engine_.Log(
                            fmt::format("railway: {} a status request of {} deployments {} ({}); asking "
                                        "again in two halves",
                                        refused ? "Railway refused" : "after its retries,", group.size(),
                                        refused ? "as a whole" : "failed", error.message));
                        probing = probing || (!answered_any && parent != kNoParent);
                        halve(group, !refused);
                    } else {
                        held.emplace_back(group, error);
                    }
                    continue;
                }
                const ApiError each = ForEachOf(error, group.size());
                for (std::size_t i : group)
                    finish(i, tl::unexpected(each));
                continue;
            }
            half_ended(parent, true);
            if (group.size() >= BatchSize() && failed_at_size_streak_.load(std::memory_order_relaxed) != 0)
                failed_at_size_streak_.store(0);  // a full-size request answered
            // Railway said which aliases failed: the others lost their data to null propagation
            // only, and asking again without the failing ones costs them no attempt.
            bool named_failures = false;
            if (!outcome->errors.empty()) {
                std::vector<std::string> aliases;
                aliases.reserve(group.size());
                for (std::size_t k = 0; k < group.size(); ++k)
                    aliases.push_back(documents::Alias(k));
                named_failures = outcome->NamesAnyOf(aliases);
            }
            ReadBatch(*outcome, IdsOf(ids, group, copies), engine_.Context(""), selection.parse,
                      [&](std::size_t k, Outcome reading, ApiResult<T>&& result) {
                          const std::size_t i = group[k];
                          IdState& id = state[i];
                          switch (reading) {
                              case Outcome::kFinal:
                                  finish(i, std::move(result));
                                  break;
                              case Outcome::kAskAlone:
                                  if (++id.uncertain_answers >= config.max_attempts) {
                                      finish(i, std::move(result));
                                  } else {
                                      engine_.Log(fmt::format("railway: {} (answer {}/{}); asking for it alone again",
                                                              result.error().message, id.uncertain_answers,
                                                              config.max_attempts));
                                      alone.push_back(i);
                                  }
                                  break;
                              case Outcome::kUnanswered:
                                  if (!named_failures && ++id.unanswered_rounds >= config.max_attempts) {
                                      finish(i, std::move(result));
                                  } else {
                                      batched.push_back(i);
                                      ++nulled;
                                  }
                                  break;
                          }
                      });
        }
        if (nulled > 0) {
            engine_.Log(fmt::format(
                "railway: asking again for {} deployment(s) that got no answer in a batch, without the failing ones",
                nulled));
        }
        if (answered_any) {
            // Railway answers this call: what was held while nothing was is asked again.
            for (auto& [group, error] : held)
                batched.insert(batched.end(), group.begin(), group.end());
            held.clear();
        }
        // Keep the caller's order within the next batches.
        std::sort(batched.begin(), batched.end());
    }
    // The probe was refused down to one id and nothing was answered: the held ids keep their
    // refusal.
    for (auto& [group, error] : held) {
        const ApiError each = ForEachOf(error, group.size());
        for (std::size_t i : group)
            finish(i, tl::unexpected(each));
    }
    // Halving that gets no answer in several calls in a row (a refused token, a document Railway
    // rejects at any size) is not tried again until some request is answered: it would only
    // multiply the requests. (One such call alone may just have held only bad ids.)
    if (answered_any) {
        fruitless_runs_.store(0);
    } else if (!parents.empty()) {  // halved, and nothing answered
        fruitless_runs_.fetch_add(1);
    }

    // Every id ends with a result above; one that did not would be a defect here, told as one
    // rather than passed on as an empty answer.
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!finished[i]) {
            out[i] = tl::unexpected(MalformedAnswer("the status check recorded no result for this deployment", 0,
                                                    engine_.Context("").For(OperationFor(ids[i]))));
        }
    }
    return out;
}

}  // namespace railwatch::railway
