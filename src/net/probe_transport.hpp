#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "net/http_transport.hpp"
#include "net/submission_queue.hpp"
#include "util/result.hpp"

/// An HttpTransport for health probes: many small HTTP/1.1 exchanges with many hosts, each seen
/// once every interval. Its own client on epoll and OpenSSL, where CurlTransport suits few hosts
/// and large answers (Railway's API: HTTP/2, compression).
namespace railwatch::net {

/// An HTTP proxy (RFC 9110): https:// targets go through a CONNECT tunnel (TLS end to end, the
/// target's certificate verified as without a proxy), http:// targets as absolute URLs.
struct ProbeProxy {
    std::string host;
    std::uint16_t port = 0;
    std::string authorization;  ///< a Proxy-Authorization value ("Basic …") from the URL's user info; empty: none

    bool operator==(const ProbeProxy&) const = default;
};

/// Which proxy a probe goes through, by its URL's scheme; hosts in `no_proxy` go direct.
struct ProbeProxies {
    std::optional<ProbeProxy> https;
    std::optional<ProbeProxy> http;
    /// Lower-cased, without leading or trailing dots (NoProxyCovers says what each covers).
    std::vector<std::string> no_proxy;

    bool operator==(const ProbeProxies&) const = default;
};

/// Whether `host` (an IPv6 literal without brackets) goes direct by `no_proxy`, as libcurl 7.86
/// and later decide: "*" covers every host; a name covers itself and its subdomains
/// ("example.com": www.example.com, not notexample.com; case and a trailing dot ignored); an
/// IPv4 or IPv6 literal host is covered only by an address entry, the same address or a range of
/// it in CIDR notation ("10.0.0.0/8", "fd00::/8"; a prefix of 0 bits, or one longer than the
/// address: as libcurl, the whole address is compared, or nothing matches). Pure.
bool NoProxyCovers(const std::vector<std::string>& no_proxy, std::string_view host);

/// The proxies the environment names, read as libcurl reads them for Railway's requests:
/// https_proxy (or HTTPS_PROXY) for https:// targets, http_proxy (lower case only, as libcurl)
/// for http:// ones, all_proxy (or ALL_PROXY) for either without its own; no_proxy (or NO_PROXY)
/// a comma-separated list of hosts reached directly. A proxy is http://[user:password@]host[:port]
/// (the scheme may be left out; port 1080 when none, as libcurl); user info may be
/// percent-encoded. Errors (kInvalidArgument) name the variable, never its value (it may hold a
/// password): another scheme (socks, https:// proxies are not supported) or no host. Pure.
util::Result<ProbeProxies> ProbeProxiesFromEnvironment(
    const std::function<std::optional<std::string>(std::string_view name)>& env);

struct ProbeTransportOptions {
    /// Connections open at once to one scheme://host:port; more requests to it wait their turn.
    std::size_t max_host_connections = 16;
    /// Connections open at once in total. At the cap a new connection closes the idle one used
    /// longest ago; with none idle the request waits for a connection to close or come free.
    std::size_t max_total_connections = 256;
    /// Upper bound on connection set-up (name lookup, TCP, TLS); a request's own timeout applies
    /// when it is shorter.
    core::Duration connect_timeout = core::Seconds(10);
    /// An idle kept connection is closed after this long (servers close theirs after a while;
    /// one that did so is noticed at once and dropped).
    core::Duration idle_timeout = core::Seconds(120);
    /// A host name's addresses are looked up again after this long, or after a connection to
    /// them failed.
    core::Duration dns_ttl = core::Seconds(300);
    /// TLS sessions kept for resumption, one per scheme://host:port (its most recent); beyond
    /// this many, another host's is dropped for a new one. 0 keeps none.
    std::size_t max_tls_sessions = 20'000;
    /// Sent as User-Agent unless the request sets one itself; empty sends none.
    std::string user_agent;
    /// A CA bundle file to verify servers with; empty means the system's default store.
    std::string ca_file;
    /// The proxies to go through (ProbeProxiesFromEnvironment); none by default.
    ProbeProxies proxies;
    /// The longest head (status line and headers, or a chunked body's trailers) accepted.
    std::size_t max_head_bytes = std::size_t{64} * 1024;
};

/// What the transport has done since it was made (for tests, benchmarks and metrics).
struct ProbeTransportStats {
    std::uint64_t connects = 0;        ///< TCP connections established
    std::uint64_t tls_handshakes = 0;  ///< TLS handshakes completed
    std::uint64_t tls_resumed = 0;     ///< of those, with a session resumed
    std::uint64_t reused = 0;          ///< requests sent on a connection kept from an earlier one
    std::uint64_t lookups = 0;         ///< host names looked up (getaddrinfo)
    std::uint64_t resent = 0;          ///< requests sent again after a kept connection died under them
    /// Held now, after the worker's last wake: scheme://host:port entries (hosts with a connection
    /// or a request waiting) and host names (being looked up, or with addresses not expired).
    std::uint64_t hosts_held = 0;
    std::uint64_t names_held = 0;
};

/// HTTP/1.1 over kept connections, TLS through one shared OpenSSL context (its CA store read once,
/// a session kept per host and offered on the next connection), on one worker thread with epoll;
/// host names looked up on a resolver thread of its own (started at the first name) and cached
/// for `dns_ttl`; "localhost" and names under ".localhost" are loopback without a lookup (RFC 6761).
/// Through `proxies` when one is set for the URL's scheme and the host is not in their no_proxy.
/// No HTTP/2, no compression asked for, redirects not followed; TLS 1.2 or later, the
/// server's certificate and name always verified. A request's body is sent with a Content-Length.
/// An idempotent request whose kept connection turns out closed before any of its answer came is
/// sent once more on a new connection; one with `idempotent == false` gets a connection of its own,
/// closed after it.
///
/// Thread-safety: Submit/SubmitAll/Cancel/Stats from any thread. Completions run on the worker
/// thread and may call Submit or Cancel. The destructor completes everything outstanding with
/// kCancelled, joins the worker and closes every connection; it must not be called from a
/// completion. A lookup still running in the resolver at destruction is left to end on its own
/// (getaddrinfo cannot be interrupted): its result is dropped.
class ProbeTransport final : public HttpTransport {
  public:
    /// Throws std::runtime_error when the event loop or the TLS context cannot be set up (the CA
    /// file unreadable).
    explicit ProbeTransport(ProbeTransportOptions options = {});
    ~ProbeTransport() override;

    ProbeTransport(const ProbeTransport&) = delete;
    ProbeTransport& operator=(const ProbeTransport&) = delete;

    RequestId Submit(HttpRequest request, Completion done) override;
    /// All queued under one lock, the worker woken once.
    void SubmitAll(std::span<Submission> submissions) override;
    void Cancel(RequestId id) override;

    ProbeTransportStats Stats() const;

  private:
    struct Loop;

    void Run();
    void Wake();

    ProbeTransportOptions options_;
    std::unique_ptr<Loop> loop_;  // the worker's state; only the worker touches it after construction
    int wake_fd_ = -1;            // an eventfd in the worker's epoll set, written by Wake
    SubmissionQueue queue_;
    struct AtomicStats {
        std::atomic<std::uint64_t> connects{0}, tls_handshakes{0}, tls_resumed{0}, reused{0}, lookups{0}, resent{0},
            hosts_held{0}, names_held{0};
    };
    AtomicStats stats_;
    std::thread worker_;
};

}  // namespace railwatch::net
