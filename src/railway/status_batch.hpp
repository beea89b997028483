#pragma once

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "railway/call_engine.hpp"
#include "railway/railway_api.hpp"
#include "railway/response.hpp"

/// Batched status checks: many `deployment(id)` aliases per request, and one bad id never costing
/// another id its answer.
namespace railwatch::railway {

/// What one status answer says about one id of its batch.
struct AliasReading {
    enum class Outcome {
        kFinal,       ///< `result` is the id's final answer: its deployment, or an error that asking
                      ///< again would not change ("Deployment not found", "Not Authorized", ...)
        kAskAlone,    ///< `result` is an error that says nothing certain about the id (an
                      ///< unrecognised message with INTERNAL_SERVER_ERROR): ask for it alone again
        kUnanswered,  ///< neither data nor an error for this alias (another alias's error nulled
                      ///< `data`): ask again in a batch without the failing ids
    };
    Outcome outcome = Outcome::kUnanswered;
    ApiResult<Deployment> result;
};

/// Reads a status answer for `ids` (alias dK ↔ ids[K]). Errors are worded in `context` with the
/// operation "status check of deployment <id>". Pure; thread-safe.
std::vector<AliasReading> ReadStatusBatch(const Envelope& envelope, std::span<const std::string> ids,
                                          const ErrorContext& context);

/// Runs status checks through a CallEngine. Thread-safe; the engine must outlive it.
///
/// Ids go in batches of `batch_size` aliases, up to `max_in_flight` requests at once. When an
/// answer's errors name aliases (by `path`), the failing ids are decided on their own — by
/// message first (core::ClassifyApiFailure): a final error when the message says what is wrong,
/// asked again alone (up to `max_attempts` answers for that id) when it says nothing certain —
/// and the other ids of the batch are asked again in new batches without them. Ids that got
/// neither data nor error from an answer that named no alias count that as a failed attempt
/// (at most `max_attempts`).
class StatusChecker {
  public:
    /// Runs its requests through `engine` (not owned; must outlive the checker).
    explicit StatusChecker(CallEngine& engine);

    /// One result per id, in the order given. Blocks.
    std::vector<DeploymentResult> Check(std::span<const std::string> ids);

    /// The JSON body of a status request for `ids` (documents are built once per batch size).
    std::string BuildBody(std::span<const std::string> ids);

  private:
    const std::string& DocumentJson(std::size_t count);

    CallEngine& engine_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<std::string>> documents_;  // JSON-escaped, by size; guarded by mutex_
};

}  // namespace railwatch::railway
