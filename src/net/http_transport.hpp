#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/classify.hpp"
#include "core/time.hpp"

/// The outgoing-HTTP seam: everything railwatch sends (Railway GraphQL, webhooks) goes through an
/// HttpTransport, so tests can script the other side (tests/fakes/scripted_transport.hpp).
namespace railwatch::net {

/// ASCII case-insensitive equality (HTTP header names, content codings). Pure.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

/// One header line. Names compare case-insensitively (see FindHeader).
using HttpHeader = std::pair<std::string, std::string>;
using HttpHeaders = std::vector<HttpHeader>;

/// An HTTP request. `timeout` bounds the whole exchange (connect + send + answer).
struct HttpRequest {
    std::string method = "POST";
    std::string url;
    HttpHeaders headers;
    std::string body;
    core::Duration timeout = core::Seconds(30);
    /// Whether the transport may send this request more than once on its own. HTTP clients
    /// silently re-send a request when a reused keep-alive connection turns out to be dead,
    /// although the server may have received (and acted on) the first copy. False for requests
    /// with effects (a GraphQL mutation): the transport then sends it on a connection of its own
    /// that is used for nothing else, so it reaches the server at most once per Submit.
    bool idempotent = true;
    /// The longest answer body accepted, in bytes: a longer one ends the exchange as a transport
    /// failure (kOther, "the answer is larger than … bytes") without reading the rest, so a
    /// misbehaving or hostile server cannot fill this process's memory. Railway's answers and
    /// webhook receivers' replies are far smaller than the default (64 MiB).
    std::size_t max_response_bytes = std::size_t{64} << 20;
    /// Read the answer's body and keep none of it (a health probe needs only the status and the
    /// time): `max_response_bytes` does not apply, `HttpResponse::body` stays empty.
    bool discard_body = false;
};

/// The outcome of one exchange: either an HTTP answer (`error == kNone`, any status code), or a
/// transport failure (`error != kNone`, `status == 0`) with a message that names what failed.
/// Messages never contain request headers (where tokens live).
struct HttpResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;
    core::TransportErrorKind error = core::TransportErrorKind::kNone;
    std::string error_message;

    /// True when an HTTP answer arrived (whatever its status).
    bool Answered() const { return error == core::TransportErrorKind::kNone; }
    /// The first header named `name` (case-insensitive), if any.
    std::optional<std::string_view> Header(std::string_view name) const;
};

/// Bytes of capacity a transport leaves past a body whose length it knew and reserved, so that a
/// parser reading past the end (simdjson reads up to 64) need not copy the body.
inline constexpr std::size_t kBodySlack = 64;
/// The largest Content-Length a transport reserves at once: a larger claim is not trusted for a
/// reservation (the body grows as it comes).
inline constexpr std::uint64_t kMaxBodyReserve = std::uint64_t{16} << 20;

/// Case-insensitive header lookup.
std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name);

/// The URL without user info, query string or fragment (what messages about a well-known API
/// endpoint may show: user info and a query may carry a secret).
std::string UrlForMessages(std::string_view url);

/// Only "scheme://host[:port]" of the URL: what a transport error may show. A webhook URL's path
/// is often itself the secret (Slack, Discord), and the transport cannot tell which URLs those
/// are. Pure; "(a URL without a scheme)" for text that has none.
std::string OriginForMessages(std::string_view url);

/// The authority of a URL, split.
struct UrlParts {
    std::string scheme;    ///< lower-cased
    std::string userinfo;  ///< "user:password" before '@'; empty when absent
    std::string host;      ///< without IPv6 brackets
    int port = 0;          ///< 0 when absent
};

/// Splits "scheme://[userinfo@]host[:port][/...]" ("smtp://[::1]:25/x" → {"smtp", "", "::1", 25});
/// nullopt when it is not of that form or the port is not 1..65535. Pure.
std::optional<UrlParts> ParseUrl(std::string_view url);

/// Whether `host` (a URL's host, brackets around an IPv6 address allowed) is this machine's
/// loopback: "localhost", 127.0.0.0/8 as a dotted quad, ::1. A name that merely starts like one
/// ("127.0.0.1.nip.io", "localhost.example.com") is not. Pure. The one rule for what may go
/// without TLS or listen without a token.
bool IsLoopbackHost(std::string_view host);

/// What failed, in a few words for messages ("could not connect", "timed out"): the transports'
/// failure messages read "<METHOD> <origin> failed (<these words>): <detail>".
std::string_view DescribeTransportError(core::TransportErrorKind kind);

/// Identifies a submitted request, for Cancel.
using RequestId = std::uint64_t;

/// Called exactly once per submitted request, with its outcome.
using Completion = std::function<void(HttpResponse)>;

/// Sends HTTP requests asynchronously. Implementations are thread-safe: Submit and Cancel may be
/// called from any thread, including from inside a completion. Completions may run on a
/// transport-owned thread (or inline, for fakes): they must be quick and must not block on
/// other requests of the same transport.
class HttpTransport {
  public:
    virtual ~HttpTransport() = default;

    /// Queues `request`; `done` is called exactly once — with the answer, a transport error, or
    /// kCancelled (after Cancel or at shutdown).
    virtual RequestId Submit(HttpRequest request, Completion done) = 0;

    /// One request of SubmitAll, with the id it was given.
    struct Submission {
        HttpRequest request;
        Completion done;
        RequestId id = 0;  ///< set by SubmitAll
    };
    /// Submits each of `submissions` as Submit would, in order, and sets each one's id. A
    /// transport with a thread of its own is told once for all of them (one wake-up, not one
    /// each); this default calls Submit for each.
    virtual void SubmitAll(std::span<Submission> submissions);

    /// Cancels a request that has not completed yet; its completion gets kCancelled. No effect
    /// on a completed or unknown id.
    virtual void Cancel(RequestId id) = 0;

    /// Convenience: Submit with a future. Do not wait on the future from inside a completion.
    std::future<HttpResponse> Send(HttpRequest request);
};

}  // namespace railwatch::net
