#include "railway/response.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

namespace railwatch::railway {
namespace {

using core::ApiFailureKind;
using core::TransportErrorKind;
using nlohmann::json;
using util::ErrorCode;

// The calling thread's parser for InterpretResponse.
simdjson::dom::parser& ThreadParser() {
    thread_local simdjson::dom::parser parser;
    return parser;
}

// The pool every answer's document comes from (never destroyed: documents may outlive statics).
DocumentPool& Documents() {
    static auto* const pool = new DocumentPool(DocumentPool::kDefaultIdle, DocumentPool::kDefaultCapacity);
    return *pool;
}

constexpr std::size_t kRailwayTextChars = 200;  // of a GraphQL message, in an error message
constexpr std::size_t kBodyTextChars = 100;     // of a non-JSON body or its HTML title

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool Contains(std::string_view haystack, std::string_view needle) {
    return Lower(haystack).find(Lower(needle)) != std::string::npos;
}

std::string_view TokenAdvice(TokenKind kind) {
    return kind == TokenKind::kProject
               ? "check RAILWAY_TOKEN: a project token works only for its own project and environment; create one "
                 "in the project's Settings → Tokens"
               : "check RAILWAY_API_TOKEN: it may be invalid, expired, or not allowed to see this resource; create "
                 "one at https://railway.com/account/tokens";
}

std::string_view TokenName(TokenKind kind) {
    return kind == TokenKind::kProject ? "project token (RAILWAY_TOKEN)" : "token (RAILWAY_API_TOKEN)";
}

// The message Railway's edge (Cloudflare) shows on an HTML page, if any.
std::string HtmlTitle(std::string_view body) {
    const auto lower = Lower(body.substr(0, 4096));
    const auto start = lower.find("<title>");
    if (start == std::string::npos) return {};
    const auto end = lower.find("</title>", start);
    if (end == std::string::npos) return {};
    return std::string(body.substr(start + 7, end - start - 7));
}

bool LooksLikeHtml(std::string_view body) {
    return !HtmlTitle(body).empty() || body.find("<html") != std::string_view::npos ||
           body.find("<!DOCTYPE") != std::string_view::npos;
}

// `lead` + `text` in quotes + `tail`, or nothing when there is no text.
std::string QuoteIf(std::string_view lead, const std::string& text, std::string_view tail = "") {
    return text.empty() ? std::string() : fmt::format("{}\"{}\"{}", lead, text, tail);
}

// What, besides the classified facts, a message may quote. Every text here is raw: Word()
// redacts before it excerpts.
struct Detail {
    std::string_view transport_message;  // HttpResponse::error_message
    std::string_view body;               // a body that is not GraphQL JSON
    std::string_view what;               // MalformedAnswer: what the JSON lacks
    std::optional<std::string_view> retry_after;
};

std::string TransportText(TransportErrorKind kind, const ErrorContext& c, std::string_view detail) {
    switch (kind) {
        case TransportErrorKind::kDns:
            return fmt::format(
                "{}: could not resolve Railway's host ({}); check the network, DNS or RAILWAY_API_URL ({})",
                c.operation, detail, c.endpoint);
        case TransportErrorKind::kConnect:
            return fmt::format("{}: could not connect to {} ({}); check the network, a proxy or RAILWAY_API_URL",
                               c.operation, c.endpoint, detail);
        case TransportErrorKind::kReset:
            return fmt::format("{}: the connection to {} broke before a full answer arrived ({})", c.operation,
                               c.endpoint, detail);
        case TransportErrorKind::kTls:
            return fmt::format(
                "{}: TLS with {} failed ({}); check the system's CA certificates, the clock, or a "
                "proxy that intercepts TLS",
                c.operation, c.endpoint, detail);
        case TransportErrorKind::kTimeout:
            return fmt::format("{}: {} did not answer in time ({})", c.operation, c.endpoint, detail);
        case TransportErrorKind::kCancelled:
            return fmt::format("{}: cancelled ({})", c.operation, detail);
        case TransportErrorKind::kNone:
        case TransportErrorKind::kOther:
            break;
    }
    return fmt::format("{}: request to {} failed ({})", c.operation, c.endpoint, detail);
}

// The sentence a person reads for a verdict. `quoted` is the deciding GraphQL message, redacted
// and cut; `decider` the deciding error (null when none decided).
std::string Word(const core::ApiClassification& verdict, const core::ApiFailure& f, const GraphqlError* decider,
                 const std::string& quoted, const ErrorContext& c, const Detail& d) {
    const std::string& op = c.operation;
    const int status = f.http_status;
    if (f.transport != TransportErrorKind::kNone) {
        return TransportText(f.transport, c, RedactedExcerpt(d.transport_message, c.secret, 300));
    }
    const std::string title = HtmlTitle(d.body);
    const std::string body_text = RedactedExcerpt(title.empty() ? d.body : title, c.secret, kBodyTextChars);
    switch (verdict.kind) {
        case ApiFailureKind::kAuth:
            if (quoted.empty())
                return fmt::format("{}: Railway answered HTTP {}; {}", op, status, TokenAdvice(c.token_kind));
            if (Contains(quoted, "project token not found")) {
                return fmt::format("{}: Railway does not know this project token (\"{}\"); {}", op, quoted,
                                   TokenAdvice(TokenKind::kProject));
            }
            return fmt::format("{}: Railway refused the {} (\"{}\"); {}", op, TokenName(c.token_kind), quoted,
                               TokenAdvice(c.token_kind));
        case ApiFailureKind::kNotFound:
            return fmt::format(
                "{}: Railway says \"{}\"; check the id (and that the token's project or workspace owns it)", op,
                quoted);
        case ApiFailureKind::kInvalidArgument:
            return fmt::format("{}: Railway rejected an argument (\"{}\"); check the ids and dates given", op, quoted);
        case ApiFailureKind::kBadDocument: {
            const std::string label =
                decider != nullptr && !decider->code.empty() ? decider->code : fmt::format("HTTP {}", status);
            return fmt::format(
                "{}: Railway rejected railwatch's GraphQL document ({}: \"{}\"); this is a railwatch "
                "bug (its documents are checked against Railway's schema, which may have changed): "
                "please report it",
                op, label, quoted.empty() ? body_text : quoted);
        }
        case ApiFailureKind::kEndpoint:
            return fmt::format("{}: {} answered HTTP {}{}, which is not Railway's GraphQL API; check RAILWAY_API_URL",
                               op, c.endpoint, status, QuoteIf(" (", body_text, ")"));
        case ApiFailureKind::kPrecondition:
            return fmt::format("{}: not sent: {}", op, f.precondition);
        case ApiFailureKind::kRateLimited:
            if (status == 429) {
                return fmt::format(
                    "{}: Railway's rate limit was reached (HTTP 429{}); railwatch waits and retries. If this keeps "
                    "happening, watch fewer deployments, check them less often, or set requests_per_hour to the "
                    "token's plan",
                    op,
                    d.retry_after ? fmt::format(", Retry-After {} s", RedactedExcerpt(*d.retry_after, c.secret, 20))
                                  : "");
            }
            if (f.malformed_body) {
                return fmt::format(
                    "{}: Railway's edge answered with an HTML page instead of JSON (HTTP {}, \"{}\"), "
                    "most likely its limit on unidentified traffic; railwatch waits and retries",
                    op, status, body_text);
            }
            return fmt::format("{}: Railway's rate limit (\"{}\"); railwatch waits and retries", op, quoted);
        case ApiFailureKind::kUnavailable:
            if (status >= 500) {
                return fmt::format("{}: Railway answered HTTP {} (server error, usually temporary){}", op, status,
                                   QuoteIf(": ", quoted.empty() ? body_text : quoted));
            }
            return fmt::format("{}: Railway had an internal error (\"{}\"); usually temporary", op, quoted);
        case ApiFailureKind::kTimeout:
            return fmt::format("{}: Railway answered HTTP {} (it timed the request out); usually temporary", op,
                               status);
        case ApiFailureKind::kMalformed:
            if (!d.what.empty()) {
                return fmt::format("{}: Railway's answer (HTTP {}) was not what railwatch expected: {}", op, status,
                                   RedactedExcerpt(d.what, c.secret, 300));
            }
            return fmt::format(
                "{}: Railway's answer was not GraphQL JSON (HTTP {}, {} bytes{}): is RAILWAY_API_URL ({}) Railway's "
                "GraphQL endpoint?",
                op, status, d.body.size(), QuoteIf(": ", body_text), c.endpoint);
        case ApiFailureKind::kCancelled:  // only transport errors are cancelled: worded above
        case ApiFailureKind::kUnknown:
            break;
    }
    if (!quoted.empty()) {
        return fmt::format("{}: Railway returned an error: \"{}\"{}", op, quoted,
                           decider != nullptr && !decider->code.empty() ? fmt::format(" ({})", decider->code) : "");
    }
    return fmt::format("{}: Railway answered HTTP {}{}", op, status, QuoteIf(": ", body_text));
}

// The one path from facts to an ApiError: the core's verdict, its ErrorCode, and the words.
ApiError Judge(core::ApiFailure failure, const ErrorContext& context, const Detail& detail = {}) {
    const core::ApiClassification verdict = core::ClassifyApiFailure(failure);
    const auto& errors = failure.graphql_errors;
    const GraphqlError* decider = verdict.deciding_error >= 0
                                      ? &errors[static_cast<std::size_t>(verdict.deciding_error)]
                                  : errors.empty() ? nullptr
                                                   : &errors.front();
    const std::string quoted =
        decider != nullptr ? RedactedExcerpt(decider->message, context.secret, kRailwayTextChars) : std::string();
    ApiError error;
    error.kind = verdict.kind;
    error.error_class = verdict.error_class;
    error.retryable = verdict.retryable;
    error.code = ErrorCodeFor(verdict.kind);
    if (decider != nullptr && !decider->trace_id.empty()) {
        error.trace_id = decider->trace_id;
    } else {
        const auto traced =
            std::find_if(errors.begin(), errors.end(), [](const GraphqlError& e) { return !e.trace_id.empty(); });
        if (traced != errors.end()) error.trace_id = traced->trace_id;
    }
    std::string message = Word(verdict, failure, decider, quoted, context, detail);
    if (!error.trace_id.empty()) message += fmt::format(" (Railway traceId {})", error.trace_id);
    error.message = Redact(std::move(message), context.secret);
    error.failure = std::move(failure);
    return error;
}

GraphqlError ReadGraphqlError(const json& e, std::string_view secret) {
    GraphqlError gql;
    if (!e.is_object()) return gql;
    const auto text = [&](const json& node) {
        return Redact(node.is_string() ? node.get<std::string>() : node.dump(), secret);
    };
    if (auto m = e.find("message"); m != e.end() && m->is_string()) gql.message = text(*m);
    if (auto p = e.find("path"); p != e.end() && p->is_array() && !p->empty()) gql.path_head = text(p->front());
    if (auto ext = e.find("extensions"); ext != e.end() && ext->is_object()) {
        if (auto c = ext->find("code"); c != ext->end() && c->is_string()) gql.code = text(*c);
        if (auto t = ext->find("traceId"); t != ext->end() && (t->is_string() || t->is_number())) {
            gql.trace_id = text(*t);
        }
    }
    return gql;
}

}  // namespace

ErrorContext ErrorContext::For(std::string other_operation) const {
    ErrorContext out = *this;
    out.operation = std::move(other_operation);
    return out;
}

std::optional<simdjson::dom::element> Envelope::Field(std::string_view field) const {
    simdjson::dom::element value;
    if (!data || data->at_key(field).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
    return value;
}

DocumentPool::DocumentPool(std::size_t max_idle, std::size_t max_capacity)
    : max_idle_(max_idle), max_capacity_(max_capacity) {}

std::shared_ptr<simdjson::dom::document> DocumentPool::Take() {
    std::unique_ptr<simdjson::dom::document> document;
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            document = std::move(idle_.back());
            idle_.pop_back();
        }
    }
    if (!document) document = std::make_unique<simdjson::dom::document>();
    return {document.release(), [this](simdjson::dom::document* returned) { Give(returned); }};
}

void DocumentPool::Give(simdjson::dom::document* returned) {
    std::unique_ptr<simdjson::dom::document> document(returned);
    if (document->capacity() > max_capacity_) return;  // a rare large answer: its memory goes
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) idle_.push_back(std::move(document));
}

std::size_t ParserCapacityForTest() {
    return ThreadParser().capacity();
}

std::size_t DocumentPool::idle() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
}

nlohmann::json ToNlohmann(simdjson::dom::element value) {
    return json::parse(simdjson::minify(value), nullptr, /*allow_exceptions=*/false);
}

const GraphqlError* Envelope::ErrorFor(std::string_view field) const {
    for (const auto& error : errors) {
        if (error.path_head == field) return &error;
    }
    return nullptr;
}

bool Envelope::NamesAnyOf(const std::vector<std::string>& fields) const {
    return std::any_of(errors.begin(), errors.end(), [&](const GraphqlError& e) {
        return !e.path_head.empty() && std::find(fields.begin(), fields.end(), e.path_head) != fields.end();
    });
}

util::ErrorCode ErrorCodeFor(ApiFailureKind kind) {
    switch (kind) {
        case ApiFailureKind::kAuth:
            return ErrorCode::kUnauthenticated;
        case ApiFailureKind::kNotFound:
            return ErrorCode::kNotFound;
        case ApiFailureKind::kInvalidArgument:
        case ApiFailureKind::kBadDocument:
        case ApiFailureKind::kEndpoint:
            return ErrorCode::kInvalidArgument;
        case ApiFailureKind::kPrecondition:
            // util has no "failed precondition"; kConflict ("the thing's current state does not
            // allow it") is the closest.
            return ErrorCode::kConflict;
        case ApiFailureKind::kRateLimited:
            return ErrorCode::kRateLimited;
        case ApiFailureKind::kUnavailable:
            return ErrorCode::kUnavailable;
        case ApiFailureKind::kTimeout:
            return ErrorCode::kTimeout;
        case ApiFailureKind::kMalformed:
            return ErrorCode::kParse;
        case ApiFailureKind::kCancelled:
            return ErrorCode::kCancelled;
        case ApiFailureKind::kUnknown:
            break;
    }
    return ErrorCode::kInternal;
}

ApiError ApiErrorFromGraphql(const GraphqlError& gql, int http_status, const ErrorContext& context) {
    core::ApiFailure failure;
    failure.http_status = http_status;
    failure.graphql_errors = {gql};
    return Judge(std::move(failure), context);
}

ApiError MalformedAnswer(std::string_view what, int http_status, const ErrorContext& context) {
    core::ApiFailure failure;
    failure.http_status = http_status;
    failure.malformed_body = true;
    Detail detail;
    detail.what = what;
    return Judge(std::move(failure), context, detail);
}

ApiError PreconditionFailed(std::string what_and_what_to_do, const ErrorContext& context) {
    core::ApiFailure failure;
    failure.precondition = Redact(std::move(what_and_what_to_do), context.secret);
    return Judge(std::move(failure), context);
}

ApiResult<Envelope> InterpretResponse(const net::HttpResponse& response, const ErrorContext& context) {
    core::ApiFailure failure;
    Detail detail;
    if (!response.Answered()) {
        failure.transport = response.error;
        detail.transport_message = response.error_message;
        return tl::unexpected(Judge(std::move(failure), context, detail));
    }
    const int status = response.status;
    failure.http_status = status;

    if (status == 429) {
        detail.retry_after = response.Header("Retry-After");
        ApiError error = Judge(std::move(failure), context, detail);
        if (detail.retry_after) error.retry_after = ParseRetryAfter(*detail.retry_after);
        return tl::unexpected(std::move(error));
    }

    // simdjson: the status answers are most of what railwatch reads, and nlohmann's DOM of them
    // was ~13 % of serve's CPU at 100,000 instances (docs/PERFORMANCE.md). The parser's buffers
    // are reused by the thread; the document is the envelope's, from a pool (DocumentPool).
    simdjson::dom::parser& parser = ThreadParser();
    std::shared_ptr<simdjson::dom::document> document = Documents().Take();
    simdjson::dom::element root;
    simdjson::dom::object top;
    simdjson::dom::element data, errors;
    const bool parsed = parser.parse_into_document(*document, response.body).get(root) == simdjson::SUCCESS &&
                        root.get_object().get(top) == simdjson::SUCCESS;
    // Everything read from here on is the document's; the parser's buffers are only reused by
    // the thread's next answer, and a rare large one's are not kept for that.
    if (parser.capacity() > kMaxParserCapacity) parser = simdjson::dom::parser();
    const bool has_data = parsed && top.at_key("data").get(data) == simdjson::SUCCESS;
    const bool has_errors = parsed && top.at_key("errors").get(errors) == simdjson::SUCCESS;
    if (!has_data && !has_errors) {
        failure.malformed_body = true;
        failure.edge_page =
            LooksLikeHtml(response.body) && Contains(std::string_view(response.body).substr(0, 8192), "cloudflare");
        detail.body = response.body;
        // The edge sends no Retry-After: the caller decides how long to pause (CallEngine grows
        // the pause while the edge keeps refusing, so one stray page costs a second, a real
        // block no more requests than it lets through).
        return tl::unexpected(Judge(std::move(failure), context, detail));
    }

    Envelope envelope;
    envelope.http_status = status;
    if (simdjson::dom::array list; has_errors && errors.get_array().get(list) == simdjson::SUCCESS) {
        envelope.errors.reserve(list.size());
        for (simdjson::dom::element e : list)
            envelope.errors.push_back(ReadGraphqlError(ToNlohmann(e), context.secret));  // rare: off the hot path
    }
    if (simdjson::dom::object object; has_data && data.get_object().get(object) == simdjson::SUCCESS) {
        envelope.data = object;
        envelope.document = std::move(document);
    }

    const bool whole_failure = !envelope.errors.empty() && !envelope.data &&
                               std::none_of(envelope.errors.begin(), envelope.errors.end(),
                                            [](const GraphqlError& e) { return !e.path_head.empty(); });
    if (whole_failure || status < 200 || status >= 300) {
        failure.graphql_errors = std::move(envelope.errors);
        return tl::unexpected(Judge(std::move(failure), context, detail));
    }
    if (envelope.errors.empty() && !envelope.data) {
        return tl::unexpected(MalformedAnswer("it has neither data nor errors", status, context));
    }
    return envelope;
}

}  // namespace railwatch::railway
