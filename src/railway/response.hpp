#pragma once

#include <simdjson.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/classify.hpp"
#include "net/http_transport.hpp"
#include "railway/api_error.hpp"
#include "railway/config.hpp"
#include "util/result.hpp"

/// Reading Railway's answers: the HTTP exchange → a GraphQL envelope or an ApiError. The verdict
/// on a failure (class, kind, retryability) is the core's (core::ClassifyApiFailure); this file
/// only gathers the facts, maps the verdict to util::ErrorCode and words the message. Pure
/// functions; thread-safe.
namespace railwatch::railway {

/// One entry of a GraphQL `errors` array (message, extensions.code, path head, traceId).
using GraphqlError = core::GraphqlErrorFacts;

/// A parsed GraphQL answer. Every text in `errors` has the token redacted.
struct Envelope {
    /// The answer's `data` when it is an object (none when the server sent null or nothing),
    /// read in place with simdjson: it points into `document`, which lives as long as any copy
    /// of this envelope.
    std::optional<simdjson::dom::object> data;
    std::shared_ptr<const simdjson::dom::document> document;
    std::vector<GraphqlError> errors;
    int http_status = 0;

    /// The first error whose path starts at `field` (an alias or a root field); null if none.
    const GraphqlError* ErrorFor(std::string_view field) const;
    /// True when some error's path starts at one of `fields`.
    bool NamesAnyOf(const std::vector<std::string>& fields) const;
    /// The value of `data.<field>` unless it is absent or null.
    std::optional<simdjson::dom::element> Field(std::string_view field) const;
};

/// Parsed documents kept for the next answer. A fresh document allocates a tape of 8 bytes per
/// byte of the answer (200 kB for a 50-deployment status answer), and glibc's malloc searched and
/// consolidated its bins for each; reusing them took serve's CPU per check at 100,000 instances
/// to 0.92-0.94x (docs/PERFORMANCE.md, "Lean polls").
/// Thread-safe; must outlive every document it handed out.
class DocumentPool {
  public:
    static constexpr std::size_t kDefaultIdle = 8;               ///< documents kept idle
    static constexpr std::size_t kDefaultCapacity = 128u << 10;  ///< largest answer (bytes) kept for

    /// Keeps up to `max_idle` returned documents whose capacity is at most `max_capacity` bytes of
    /// JSON (a document costs ~9.7 bytes per byte of capacity); larger ones are freed when returned.
    DocumentPool(std::size_t max_idle, std::size_t max_capacity);

    /// An idle document (its contents are stale: parse into it), or a new one; it comes back to the
    /// pool when the last copy of the pointer goes.
    std::shared_ptr<simdjson::dom::document> Take();
    /// Documents idle in the pool.
    std::size_t idle() const;

  private:
    void Give(simdjson::dom::document* returned);

    const std::size_t max_idle_;
    const std::size_t max_capacity_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<simdjson::dom::document>> idle_;  // guarded by mutex_
};

/// A simdjson value as an nlohmann::json value (for the answers off the hot path, whose mapping
/// is written against nlohmann's DOM).
nlohmann::json ToNlohmann(simdjson::dom::element value);

/// What an error message may say about the call, and the secret it must never contain.
struct ErrorContext {
    std::string operation;  ///< "status check of 50 deployments", "redeploy of deployment X"
    std::string endpoint;   ///< the URL without its query
    TokenKind token_kind = TokenKind::kAccount;
    std::string_view secret;  ///< redacted from every message

    /// The same context for another operation.
    ErrorContext For(std::string other_operation) const;
};

/// Interprets one exchange. Success: the body was GraphQL JSON and is not a whole-request failure
/// (a failure that names no path in `data`). Failure: transport errors, 429, 5xx, 400 validation,
/// HTML or malformed bodies, and whole-request GraphQL errors such as "Not Authorized".
ApiResult<Envelope> InterpretResponse(const net::HttpResponse& response, const ErrorContext& context);

/// The capacity (bytes of JSON) the calling thread's parser keeps for InterpretResponse's next
/// answer: at most kMaxParserCapacity after any answer (a rare larger one's buffers, ~4 bytes of
/// stage-one indexes per byte of JSON, go when it is read, as a large document's do).
std::size_t ParserCapacityForTest();
inline constexpr std::size_t kMaxParserCapacity = std::size_t{1} << 20;

/// The ApiError for one GraphQL error (a per-alias error, or the error of a root field).
ApiError ApiErrorFromGraphql(const GraphqlError& error, int http_status, const ErrorContext& context);

/// The ApiError for an answer whose JSON lacks what the document asked for (`what`).
ApiError MalformedAnswer(std::string_view what, int http_status, const ErrorContext& context);

/// The ApiError for a call railwatch did not send because a check it made first failed.
/// `what_and_what_to_do` is the sentence a person reads after "<operation>: not sent: ".
ApiError PreconditionFailed(std::string what_and_what_to_do, const ErrorContext& context);

/// The util::ErrorCode a verdict maps to (kAuth → kUnauthenticated, kPrecondition → kConflict, ...).
util::ErrorCode ErrorCodeFor(core::ApiFailureKind kind);

}  // namespace railwatch::railway
