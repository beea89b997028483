#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "railway/call_engine.hpp"
#include "railway/documents.hpp"
#include "railway/railway_api.hpp"
#include "railway/response.hpp"

/// Batched status checks: many `deployment(id)` aliases per request, and one bad id never costing
/// another id its answer.
namespace railwatch::railway {

/// What one status answer says about one id of its batch (`T`: Deployment for the full
/// selection, PolledStatus for the poll's).
template <typename T>
struct AliasReadingOf {
    enum class Outcome {
        kFinal,       ///< `result` is the id's final answer: its deployment, or an error that asking
                      ///< again would not change ("Deployment not found", "Not Authorized", ...)
        kAskAlone,    ///< `result` is an error that says nothing certain about the id (an
                      ///< unrecognised message with INTERNAL_SERVER_ERROR): ask for it alone again
        kUnanswered,  ///< neither data nor an error for this alias (another alias's error nulled
                      ///< `data`): ask again in a batch without the failing ids
    };
    Outcome outcome = Outcome::kUnanswered;
    ApiResult<T> result;
};
using AliasReading = AliasReadingOf<Deployment>;

/// Reads a status answer for `ids` (alias dK ↔ ids[K]). Errors are worded in `context` with the
/// operation "status check of deployment <id>". Pure; thread-safe.
std::vector<AliasReading> ReadStatusBatch(const Envelope& envelope, std::span<const std::string> ids,
                                          const ErrorContext& context);
/// The same for a poll's answer (documents::DeploymentPollBatch).
std::vector<AliasReadingOf<PolledStatus>> ReadPollBatch(const Envelope& envelope, std::span<const std::string_view> ids,
                                                        const ErrorContext& context);

/// Runs status checks through a CallEngine. Thread-safe; the engine must outlive it.
///
/// Ids go in batches of `batch_size` aliases, up to `max_in_flight` requests at once. When an
/// answer's errors name aliases (by `path`), the failing ids are decided on their own — by
/// message first (core::ClassifyApiFailure): a final error when the message says what is wrong,
/// asked again alone (up to `max_attempts` answers for that id) when it says nothing certain —
/// and the other ids of the batch are asked again in new batches without them. Ids that got
/// neither data nor error from an answer that named no alias count that as a failed attempt
/// (at most `max_attempts`). A request Railway refuses as a whole without naming an alias (a
/// final error: a limit on its size, or one id's error without a path) is asked again as two
/// halves: a bad id is found in about two requests per halving, and when both halves of a refused
/// request are answered, later requests carry no more than a half (BatchSize). Halving that gets
/// no answer at all in three calls in a row (a refused token) is not tried again until a request
/// is answered. A request of several ids that fails with a timeout or a 5xx after its retries (a
/// server that cannot answer documents of that size) is halved the same way; later requests carry
/// no more than a half only once kFailuresAtSizeToLearn such requests had both halves answered
/// with no full-size request answered in between (a random failure that outlasted its retries
/// lowers nothing). A refusal that was not narrowed down to one id never says "not found" of each
/// id of its request (ApiFailureKind::kUnknown instead): that would end their monitoring. While
/// the budget charges each root field (RequestBudget::MaxRootFieldsPerRequest), requests carry
/// one id each, and a request that got 429 for carrying more is asked again in requests of one.
class StatusChecker {
  public:
    /// Runs its requests through `engine` (not owned; must outlive the checker).
    explicit StatusChecker(CallEngine& engine);

    /// One result per id, in the order given, with the full selection (`DeploymentStatuses`).
    /// Blocks.
    std::vector<DeploymentResult> Check(std::span<const std::string> ids);
    /// One result per id, in the order given, with the poll's selection (`DeploymentPoll`).
    /// Blocks.
    std::vector<ApiResult<PolledStatus>> Poll(std::span<const std::string_view> ids);

    /// The most ids one status request carries now: the client's batch_size, lowered when Railway
    /// refused a request as a whole and answered each of its halves (a limit on aliases or on a
    /// document's size or complexity, which Railway does not document). A lowered size is kept
    /// for kRelearnAfter; then the next call tries batch_size again (a refusal halves it again).
    /// At most RequestBudget::MaxRootFieldsPerRequest (1 while Railway seems to charge each root
    /// field). Thread-safe.
    std::size_t BatchSize() const;

    /// How long a lowered batch size holds before batch_size is tried again.
    static constexpr core::Duration kRelearnAfter = core::Seconds(3600);

    /// The JSON body of a status request (the full selection) for `ids` (documents are built once,
    /// for every size up to the most a request may carry).
    std::string BuildBody(std::span<const std::string> ids);
    /// The same for a poll.
    std::string BuildPollBody(std::span<const std::string_view> ids);

    /// One selection a batch can ask for (status_batch.cpp).
    template <typename T>
    struct Selection;

  private:
    template <typename T>
    std::vector<ApiResult<T>> Run(std::span<const std::string_view> ids, const Selection<T>& selection);
    template <typename T>
    std::string Body(const Selection<T>& selection, std::span<const std::string_view> ids);
    template <typename T>
    const documents::AliasBatchParts& Document(const Selection<T>& selection);

    // `answered` ids per request from now on, when fewer than now (`refused` were refused; `why`
    // begins the log line: "Railway refused").
    void LearnBatchSize(std::size_t refused, std::size_t answered, std::string_view why);
    // A request of `failed` ids failed with a timeout or 5xx after its retries and both its halves
    // were answered: the size is learnt once that happens kFailuresAtSizeToLearn times with no
    // full-size request answered in between.
    void WitnessFailedSize(std::size_t failed, std::size_t answered);

    // batch_size again once a lowered size has held kRelearnAfter.
    void MaybeRelearn();

    CallEngine& engine_;
    std::atomic<std::size_t> batch_size_;
    std::atomic<util::SteadyTime::rep> lowered_at_{0};  // steady time of the last lowering
    // Calls in a row that halved refused requests and got no answer at all; from
    // kFruitlessRunsToStop on, refusals are not halved until a request is answered.
    static constexpr int kFruitlessRunsToStop = 3;
    std::atomic<int> fruitless_runs_{0};
    // Requests that failed at their size (WitnessFailedSize) since a full-size one was answered.
    static constexpr int kFailuresAtSizeToLearn = 2;
    std::atomic<int> failed_at_size_streak_{0};
    // Each selection's documents, JSON-escaped, for up to max(batch_size, kMaxBatchSize) aliases;
    // set once (document_once_), then only read.
    std::once_flag document_once_[2];
    documents::AliasBatchParts documents_[2];
};

}  // namespace railwatch::railway
