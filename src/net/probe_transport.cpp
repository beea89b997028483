#include "net/probe_transport.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "util/base64.hpp"
#include "util/thread_name.hpp"

namespace railwatch::net {
namespace {

using core::TransportErrorKind;
using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr std::size_t kReadChunk = std::size_t{16} * 1024;

char Lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view TrimSpace(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    return s;
}

// Whether the comma-separated header value lists `token` (case-insensitive).
bool HasToken(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (EqualsIgnoreCase(TrimSpace(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

// The last token of a comma-separated header value.
std::string_view LastToken(std::string_view value) {
    const auto comma = value.rfind(',');
    return TrimSpace(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

bool HasControlOrSpace(std::string_view text) {
    return std::any_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

bool HasLineBreak(std::string_view text) {
    return text.find_first_of("\r\n", 0) != std::string_view::npos || text.find('\0') != std::string_view::npos;
}

// Where a request goes: the parts of its URL the exchange needs.
struct Target {
    bool tls = false;
    std::string host;         // without brackets (an IPv6 literal bare), as given
    std::string host_header;  // Host: host[:port], brackets kept
    std::uint16_t port = 0;
    std::string path;  // path and query, never empty ("/")
    std::string key;   // scheme://host:port: which connections it may share
};

// The host as a URL or a Host header writes it: brackets around an IPv6 literal.
std::string Bracketed(const std::string& host) {
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// "host:port": a CONNECT request's target, and what a connection is to (Target::key).
std::string Authority(const std::string& host, std::uint16_t port) {
    return fmt::format("{}:{}", Bracketed(host), port);
}

// Parses an absolute http(s) URL (its authority by ParseUrl); nullopt with `why` for anything else.
std::optional<Target> ParseTarget(std::string_view url, std::string& why) {
    const auto parts = ParseUrl(url);
    if (!parts || (parts->scheme != "http" && parts->scheme != "https")) {
        why = "only http:// and https:// URLs with a host and a port from 1 to 65535 are supported";
        return std::nullopt;
    }
    if (!parts->userinfo.empty()) {
        why = "user info in the URL is not supported";
        return std::nullopt;
    }
    if (HasControlOrSpace(parts->host) || parts->host.find_first_of("/\\[]") != std::string::npos) {
        why = "the URL has no valid host";
        return std::nullopt;
    }
    Target t;
    t.tls = parts->scheme == "https";
    t.host = parts->host;
    t.port = static_cast<std::uint16_t>(parts->port != 0 ? parts->port : (t.tls ? 443 : 80));
    t.host_header =
        parts->port != 0 ? Authority(t.host, t.port) : Bracketed(t.host);  // the port only if the URL names it
    // The path and query: what follows the authority, without a fragment.
    std::string_view rest = url.substr(url.find("://") + 3);
    const auto authority_end = rest.find_first_of("/?#");
    rest = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
    rest = rest.substr(0, rest.find('#'));
    if (HasControlOrSpace(rest)) {
        why = "the URL's path has spaces or control characters";
        return std::nullopt;
    }
    t.path = rest.empty() || rest.front() != '/' ? "/" + std::string(rest) : std::string(rest);
    t.key = parts->scheme + "://" + Authority(t.host, t.port);
    for (char& c : t.key)
        c = Lower(c);
    return t;
}

// --- Proxies ---------------------------------------------------------------------------------

std::string PercentDecoded(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        unsigned value = 0;
        if (text[i] == '%' && i + 2 < text.size() &&
            std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr == text.data() + i + 3) {
            out.push_back(static_cast<char>(value));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

// `value` of environment variable `variable` as a proxy. Messages name the variable only.
util::Result<ProbeProxy> ParseProxy(std::string_view value, std::string_view variable) {
    const std::string url =
        value.find("://") == std::string_view::npos ? "http://" + std::string(value) : std::string(value);
    const auto parts = ParseUrl(url);
    if (!parts || parts->scheme != "http" || parts->host.empty() || HasControlOrSpace(parts->host)) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          fmt::format("${} is not a proxy the probes can use: give http://[user:password@]host[:port] "
                                      "(socks and https:// proxies are not supported)",
                                      variable));
    }
    ProbeProxy proxy;
    proxy.host = parts->host;
    proxy.port = static_cast<std::uint16_t>(parts->port != 0 ? parts->port : 1080);
    if (!parts->userinfo.empty()) {
        const auto colon = parts->userinfo.find(':');
        const std::string user = PercentDecoded(std::string_view(parts->userinfo).substr(0, colon));
        const std::string password =
            colon == std::string::npos ? "" : PercentDecoded(std::string_view(parts->userinfo).substr(colon + 1));
        proxy.authorization = "Basic " + util::Base64Encode(user + ":" + password);
    }
    return proxy;
}

// Whether the first `length` bytes of `address` lie in `network` with a prefix of `bits` bits;
// 0 bits compares the whole address, as libcurl does.
bool InPrefix(const unsigned char* address, const unsigned char* network, std::size_t length, std::size_t bits) {
    if (bits == 0) bits = length * 8;
    if (bits > length * 8) return false;
    const std::size_t bytes = bits / 8;
    const std::size_t rest = bits % 8;
    if (std::memcmp(address, network, bytes) != 0) return false;
    const auto mask = static_cast<unsigned char>(0xFF << (8 - rest));
    return rest == 0 || ((address[bytes] ^ network[bytes]) & mask) == 0;
}

// Whether the address `literal` (of `family`, `length` bytes) is the entry's address, or in its
// range when the entry names one ("10.0.0.0/8", "fd00::/8").
bool CoversAddress(std::string_view entry, int family, const unsigned char* literal, std::size_t length) {
    const std::size_t slash = entry.find('/');
    std::size_t bits = 0;
    if (slash != std::string_view::npos) {
        const std::string_view digits = entry.substr(slash + 1);
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) return false;
    }
    unsigned char network[16];
    const std::string text(entry.substr(0, slash));
    return ::inet_pton(family, text.c_str(), network) == 1 && InPrefix(literal, network, length, bits);
}

}  // namespace

bool NoProxyCovers(const std::vector<std::string>& no_proxy, std::string_view host) {
    std::string name(host);
    for (char& c : name)
        c = Lower(c);
    unsigned char address[16];
    std::size_t length = 0;
    int family = AF_UNSPEC;
    if (::inet_pton(AF_INET, name.c_str(), address) == 1) {
        family = AF_INET;
        length = 4;
    } else if (name.find(':') != std::string::npos && ::inet_pton(AF_INET6, name.c_str(), address) == 1) {
        family = AF_INET6;
        length = 16;
    }
    if (family == AF_UNSPEC) {
        while (name.ends_with('.'))
            name.pop_back();  // the root's dot names the same host
    }
    return std::any_of(no_proxy.begin(), no_proxy.end(), [&](const std::string& entry) {
        if (entry == "*") return true;
        if (family != AF_UNSPEC) return CoversAddress(entry, family, address, length);
        return name == entry ||
               (name.size() > entry.size() && name.ends_with(entry) && name[name.size() - entry.size() - 1] == '.');
    });
}

namespace {

// --- Addresses and their lookup ------------------------------------------------------------

struct Address {
    sockaddr_storage storage{};
    socklen_t length = 0;
};

// A literal IPv4 or IPv6 address, or a loopback name (RFC 6761: "localhost" and names under
// ".localhost" are this machine's, never asked of DNS); nullopt for a name to look up.
std::optional<std::vector<Address>> WithoutLookup(const std::string& host, std::uint16_t port) {
    Address v4;
    auto* in4 = reinterpret_cast<sockaddr_in*>(&v4.storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    v4.length = sizeof(sockaddr_in);
    if (::inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) return std::vector<Address>{v4};
    Address v6;
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&v6.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    v6.length = sizeof(sockaddr_in6);
    if (::inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) return std::vector<Address>{v6};
    std::string name = host;
    for (char& c : name)
        c = Lower(c);
    if (name.ends_with('.')) name.pop_back();
    if (name == "localhost" || name.ends_with(".localhost")) {
        in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        in6->sin6_addr = in6addr_loopback;
        return std::vector<Address>{v4, v6};
    }
    return std::nullopt;
}

struct Lookup {
    std::string name;
    std::vector<Address> addresses;  // the port left 0: set per connection
    std::string error;               // set when none
};

// getaddrinfo on threads of their own. The state they share outlives the transport: a lookup
// cannot be interrupted, so at destruction its thread is left to end by itself, and its result
// is dropped (`stopped`, checked under the mutex before the worker is woken through its fd).
struct ResolverShared {
    std::mutex mutex;
    std::condition_variable work;
    std::deque<std::string> names;  // guarded by mutex
    std::vector<Lookup> done;       // guarded by mutex
    bool stopped = false;           // guarded by mutex
    int wake_fd = -1;               // written under mutex while !stopped

    static void Run(std::shared_ptr<ResolverShared> self) {
        util::NameThisThread("rw-probe-dns");
        for (;;) {
            std::string name;
            {
                std::unique_lock lock(self->mutex);
                self->work.wait(lock, [&] { return self->stopped || !self->names.empty(); });
                if (self->stopped) return;
                name = std::move(self->names.front());
                self->names.pop_front();
            }
            Lookup result{name, {}, {}};
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            addrinfo* found = nullptr;
            if (const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found); rc != 0) {
                result.error = ::gai_strerror(rc);
            } else {
                for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
                    if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
                        a->ai_addrlen > sizeof(sockaddr_storage))
                        continue;
                    Address address;
                    std::memcpy(&address.storage, a->ai_addr, a->ai_addrlen);
                    address.length = a->ai_addrlen;
                    result.addresses.push_back(address);
                }
                ::freeaddrinfo(found);
                if (result.addresses.empty()) result.error = "no IPv4 or IPv6 address";
            }
            std::lock_guard lock(self->mutex);
            if (self->stopped) return;
            self->done.push_back(std::move(result));
            const std::uint64_t one = 1;
            [[maybe_unused]] const auto written = ::write(self->wake_fd, &one, sizeof one);
        }
    }
};

constexpr std::size_t kResolverThreads = 2;

// --- TLS ------------------------------------------------------------------------------------

// A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own writes with write(2), and a peer
// gone would raise SIGPIPE, which ends the process.
int BioWrite(BIO* bio, const char* data, int length) {
    const int fd = static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::send(fd, data, static_cast<std::size_t>(length), MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return static_cast<int>(n);
}

int BioRead(BIO* bio, char* data, int length) {
    const int fd = static_cast<int>(reinterpret_cast<std::intptr_t>(BIO_get_data(bio)));
    BIO_clear_retry_flags(bio);
    const ssize_t n = ::recv(fd, data, static_cast<std::size_t>(length), 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return static_cast<int>(n);
}

long BioControl(BIO* /*bio*/, int command, long /*number*/, void* /*pointer*/) {
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int BioCreate(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO_METHOD* SocketBio() {
    static BIO_METHOD* const method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "railwatch probe socket");
        if (m == nullptr) return m;
        BIO_meth_set_write(m, BioWrite);
        BIO_meth_set_read(m, BioRead);
        BIO_meth_set_ctrl(m, BioControl);
        BIO_meth_set_create(m, BioCreate);
        return m;
    }();
    return method;
}

// The oldest error in this thread's OpenSSL queue, as text (the queue cleared).
std::string OpenSslError() {
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) return "the TLS library reported no detail";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

// --- The answer ------------------------------------------------------------------------------

// Reads one HTTP/1.x answer from the bytes as they come: its head into the response, its body
// kept or discarded. Not a general parser: what a client that sent one request needs.
class AnswerReader {
  public:
    enum class Step { kMore, kDone, kFailed };

    AnswerReader(const HttpRequest& request, std::size_t max_head)
        : head_request_(request.method == "HEAD"),
          keep_body_(!request.discard_body),
          max_body_(request.max_response_bytes),
          max_head_(max_head) {}

    /// Consumes `data`. kDone: the answer is whole (`extra()` says whether bytes came after it).
    Step Feed(std::string_view data, HttpResponse& response) {
        received_ = received_ || !data.empty();
        while (!data.empty() && phase_ != Phase::kDone) {
            switch (phase_) {
                case Phase::kHead: {
                    const std::size_t searched = head_.size() >= 3 ? head_.size() - 3 : 0;
                    const std::size_t take = std::min(data.size(), max_head_ + 4 - std::min(head_.size(), max_head_));
                    head_.append(data.substr(0, take));
                    const auto end = head_.find("\r\n\r\n", searched);
                    if (end == std::string::npos) {
                        if (head_.size() > max_head_)
                            return Fail(fmt::format("the answer's head is longer than {} bytes", max_head_));
                        data.remove_prefix(take);
                        break;
                    }
                    // The bytes after the head's end go on to the body.
                    const std::size_t used = end + 4 - (head_.size() - take);
                    data.remove_prefix(used);
                    head_.resize(end + 2);
                    if (!ReadHead(response)) return Step::kFailed;
                    break;
                }
                case Phase::kLength: {
                    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
                    if (!Body(data.substr(0, take), response)) return Step::kFailed;
                    data.remove_prefix(take);
                    remaining_ -= take;
                    if (remaining_ == 0) phase_ = Phase::kDone;
                    break;
                }
                case Phase::kUntilClose:
                    if (!Body(data, response)) return Step::kFailed;
                    data = {};
                    break;
                case Phase::kChunkSize:
                case Phase::kChunkEnd:
                case Phase::kTrailers: {
                    const auto newline = data.find('\n');
                    const std::size_t take = newline == std::string_view::npos ? data.size() : newline + 1;
                    line_.append(data.substr(0, take));
                    data.remove_prefix(take);
                    if (line_.size() > max_head_) return Fail("a chunk's size line or the trailers are too long");
                    if (newline == std::string_view::npos) break;
                    const std::string_view line = TrimSpace(std::string_view(line_).substr(0, line_.size() - 1));
                    if (!ChunkLine(line)) return Step::kFailed;
                    line_.clear();
                    break;
                }
                case Phase::kChunkData: {
                    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size()));
                    if (!Body(data.substr(0, take), response)) return Step::kFailed;
                    data.remove_prefix(take);
                    remaining_ -= take;
                    if (remaining_ == 0) phase_ = Phase::kChunkEnd;
                    break;
                }
                case Phase::kDone:
                    break;
            }
        }
        extra_ = extra_ || !data.empty();
        return phase_ == Phase::kDone ? Step::kDone : Step::kMore;
    }

    /// The peer closed the connection: kDone when that ends the answer (no length given).
    Step AtEnd() {
        if (phase_ == Phase::kUntilClose || phase_ == Phase::kDone) {
            phase_ = Phase::kDone;
            return Step::kDone;
        }
        return Fail(received_ ? "the connection closed before the answer was complete"
                              : "the connection closed without an answer");
    }

    bool received() const { return received_; }
    bool keep_alive() const { return keep_alive_ && !extra_; }
    const std::string& error() const { return error_; }
    TransportErrorKind error_kind() const { return error_kind_; }

  private:
    enum class Phase { kHead, kLength, kUntilClose, kChunkSize, kChunkData, kChunkEnd, kTrailers, kDone };

    Step Fail(std::string message, TransportErrorKind kind = TransportErrorKind::kReset) {
        error_ = std::move(message);
        error_kind_ = kind;
        return Step::kFailed;
    }

    bool Body(std::string_view bytes, HttpResponse& response) {
        if (!keep_body_ || bytes.empty()) return true;
        if (bytes.size() > max_body_ - response.body.size()) {
            Fail(fmt::format("the answer is larger than {} bytes, the most this client reads", max_body_),
                 TransportErrorKind::kOther);
            return false;
        }
        response.body.append(bytes);
        return true;
    }

    // The head in head_ (lines ending "\r\n"): status and headers into the response, the body's
    // framing chosen.
    bool ReadHead(HttpResponse& response) {
        std::string_view head = head_;
        const auto first_end = head.find("\r\n");
        const std::string_view status_line = head.substr(0, first_end);
        head.remove_prefix(first_end + 2);
        // "HTTP/1.x NNN reason"
        if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.") || status_line[8] != ' ') {
            Fail("the answer is not HTTP/1.x", TransportErrorKind::kOther);
            return false;
        }
        const bool http10 = status_line[7] == '0';
        int status = 0;
        const auto [end, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
        if (ec != std::errc() || end != status_line.data() + 12 || status < 100 || status > 999 ||
            (status_line.size() > 12 && status_line[12] != ' ')) {
            Fail("the answer's status line is malformed", TransportErrorKind::kOther);
            return false;
        }
        response.headers.clear();
        std::optional<std::uint64_t> length;
        bool chunked = false;
        bool close = http10;
        while (!head.empty()) {
            const auto line_end = head.find("\r\n");
            const std::string_view line = head.substr(0, line_end);
            head.remove_prefix(line_end + 2);
            const auto colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0) continue;  // (obsolete folding: ignored)
            const std::string_view name = TrimSpace(line.substr(0, colon));
            const std::string_view value = TrimSpace(line.substr(colon + 1));
            response.headers.emplace_back(std::string(name), std::string(value));
            if (EqualsIgnoreCase(name, "content-length")) {
                std::uint64_t n = 0;
                const auto [e, code] = std::from_chars(value.data(), value.data() + value.size(), n);
                if (code != std::errc() || e != value.data() + value.size() || (length && *length != n)) {
                    Fail("the answer's Content-Length is malformed", TransportErrorKind::kOther);
                    return false;
                }
                length = n;
            } else if (EqualsIgnoreCase(name, "transfer-encoding")) {
                chunked = EqualsIgnoreCase(LastToken(value), "chunked");
                if (!chunked) close = true;  // framed by the connection's end
            } else if (EqualsIgnoreCase(name, "connection")) {
                if (HasToken(value, "close")) close = true;
                if (http10 && HasToken(value, "keep-alive")) close = false;
            }
        }
        if (status < 200 && status != 101) {  // an interim answer (100 Continue, 103): the real one follows
            head_.clear();
            phase_ = Phase::kHead;
            return true;
        }
        if (status == 101) {
            Fail("the server switched protocols, which was not asked for", TransportErrorKind::kOther);
            return false;
        }
        response.status = status;
        keep_alive_ = !close;
        if (head_request_ || status == 204 || status == 304) {
            phase_ = Phase::kDone;
        } else if (chunked) {
            phase_ = Phase::kChunkSize;
        } else if (length) {
            if (keep_body_ && *length > max_body_) {
                Fail(fmt::format("the answer is larger than {} bytes, the most this client reads", max_body_),
                     TransportErrorKind::kOther);
                return false;
            }
            if (keep_body_ && *length > 0 && *length <= kMaxBodyReserve)
                response.body.reserve(static_cast<std::size_t>(*length) + kBodySlack);
            remaining_ = *length;
            phase_ = remaining_ == 0 ? Phase::kDone : Phase::kLength;
        } else {
            phase_ = Phase::kUntilClose;
            keep_alive_ = false;
        }
        return true;
    }

    bool ChunkLine(std::string_view line) {
        if (phase_ == Phase::kChunkEnd) {
            if (!line.empty()) {
                Fail("a chunk of the answer does not end where its size says", TransportErrorKind::kOther);
                return false;
            }
            phase_ = Phase::kChunkSize;
            return true;
        }
        if (phase_ == Phase::kTrailers) {
            if (line.empty()) phase_ = Phase::kDone;
            return true;
        }
        const std::string_view digits = TrimSpace(line.substr(0, line.find(';')));
        std::uint64_t size = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
        if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
            Fail("a chunk's size is malformed", TransportErrorKind::kOther);
            return false;
        }
        remaining_ = size;
        phase_ = size == 0 ? Phase::kTrailers : Phase::kChunkData;
        return true;
    }

    const bool head_request_;
    const bool keep_body_;
    const std::size_t max_body_;
    const std::size_t max_head_;
    Phase phase_ = Phase::kHead;
    std::string head_;
    std::string line_;
    std::uint64_t remaining_ = 0;
    bool received_ = false;
    bool keep_alive_ = false;
    bool extra_ = false;  // bytes after the answer's end (none was asked for): the connection is not kept
    std::string error_;
    TransportErrorKind error_kind_ = TransportErrorKind::kNone;
};

// The request's bytes; through a proxy (`via`) an http:// request names its whole URL and carries
// the proxy's authorization.
std::string RequestBytes(const HttpRequest& request, const Target& target, const std::string& user_agent,
                         const ProbeProxy* via) {
    std::string out;
    out.reserve(128 + target.path.size() + request.body.size());
    out.append(request.method).append(" ");
    if (via != nullptr) out.append("http://").append(target.host_header);
    out.append(target.path).append(" HTTP/1.1\r\nHost: ");
    out.append(target.host_header).append("\r\n");
    if (via != nullptr && !via->authorization.empty())
        out.append("Proxy-Authorization: ").append(via->authorization).append("\r\n");
    bool has_agent = false;
    bool has_accept = false;
    for (const auto& [name, value] : request.headers) {
        has_agent = has_agent || EqualsIgnoreCase(name, "user-agent");
        has_accept = has_accept || EqualsIgnoreCase(name, "accept");
        out.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_agent && !user_agent.empty()) out.append("User-Agent: ").append(user_agent).append("\r\n");
    if (!has_accept) out.append("Accept: */*\r\n");
    if (!request.body.empty() || (request.method != "GET" && request.method != "HEAD"))
        out.append(fmt::format("Content-Length: {}\r\n", request.body.size()));
    out.append("\r\n").append(request.body);
    return out;
}

long long Millis(core::Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

util::Result<ProbeProxies> ProbeProxiesFromEnvironment(
    const std::function<std::optional<std::string>(std::string_view name)>& env) {
    // The first of `names` set and not empty: (name, value).
    const auto first_of =
        [&](std::initializer_list<std::string_view> names) -> std::optional<std::pair<std::string_view, std::string>> {
        for (const std::string_view name : names) {
            if (auto value = env(name); value && !TrimSpace(*value).empty())
                return std::pair(name, std::string(TrimSpace(*value)));
        }
        return std::nullopt;
    };
    ProbeProxies out;
    if (const auto https = first_of({"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})) {
        auto proxy = ParseProxy(https->second, https->first);
        if (!proxy) return tl::unexpected(proxy.error());
        out.https = std::move(*proxy);
    }
    if (const auto http = first_of({"http_proxy", "all_proxy", "ALL_PROXY"})) {
        auto proxy = ParseProxy(http->second, http->first);
        if (!proxy) return tl::unexpected(proxy.error());
        out.http = std::move(*proxy);
    }
    if (const auto direct = first_of({"no_proxy", "NO_PROXY"})) {
        std::string_view rest = direct->second;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            std::string_view entry = TrimSpace(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
            while (entry.starts_with('.'))
                entry.remove_prefix(1);
            while (entry.ends_with('.'))
                entry.remove_suffix(1);
            if (entry.starts_with('[') && entry.ends_with(']')) entry = entry.substr(1, entry.size() - 2);
            if (entry.empty()) continue;
            std::string name(entry);
            for (char& c : name)
                c = Lower(c);
            out.no_proxy.push_back(std::move(name));
        }
    }
    return out;
}

// --- The worker's state ----------------------------------------------------------------------

struct ProbeTransport::Loop {
    struct Connection;

    struct Exchange {
        RequestId id = 0;
        HttpRequest request;
        Completion done;
        Target target;
        const ProbeProxy* via = nullptr;  // the proxy it goes through (in options); none: direct
        TimePoint deadline;
        std::multimap<TimePoint, RequestId>::iterator timer;
        Connection* connection = nullptr;
        bool waiting = false;  // in its host's queue for a connection
        bool fresh = false;    // needs a new connection (not idempotent, or sent again)
        bool resent = false;
        std::string out;
        std::size_t sent = 0;
        std::optional<AnswerReader> reader;
        HttpResponse response;
    };

    enum class Phase { kResolving, kConnecting, kTunneling, kHandshaking, kOpen, kClosed };

    struct Connection {
        int fd = -1;
        SSL* ssl = nullptr;
        std::string key;
        std::string host;
        std::uint16_t port = 0;
        bool tls = false;
        const ProbeProxy* via = nullptr;
        std::string dial_host;  // where it connects to: the host, or its proxy
        std::uint16_t dial_port = 0;
        std::string tunnel;  // through a proxy to a TLS host: the CONNECT request, then the proxy's answer
        std::size_t tunnel_sent = 0;
        bool tunnel_asked = false;  // the CONNECT request is sent: `tunnel` holds the answer so far
        Phase phase = Phase::kResolving;
        std::vector<Address> addresses;
        std::size_t next_address = 0;
        std::string connect_error;  // the last address's failure
        Exchange* exchange = nullptr;
        bool used = false;  // an answer came on it: a later request's failure may be the server's close
        bool keep = true;   // may serve another request after this one
        bool idle = false;
        TimePoint idle_since;
        std::list<Connection*>::iterator idle_at;  // in idle_lru while idle
        std::uint32_t interest = 0;
        std::list<std::unique_ptr<Connection>>::iterator at;  // in connections
    };

    struct Host {
        std::size_t open = 0;
        std::vector<Connection*> idle;  // most recently used last
        std::deque<Exchange*> waiting;
    };

    struct Name {
        std::vector<Address> addresses;
        TimePoint until;
        bool pending = false;
        std::vector<Connection*> waiting;
    };

    Loop(const ProbeTransportOptions& options, AtomicStats& stats) : options(options), stats(stats) {}

    ~Loop() {
        for (auto& [key, session] : sessions)
            SSL_SESSION_free(session);
        if (ctx != nullptr) SSL_CTX_free(ctx);
        if (epoll_fd >= 0) ::close(epoll_fd);
        if (resolver) {
            {
                std::lock_guard lock(resolver->mutex);
                resolver->stopped = true;
            }
            resolver->work.notify_all();
        }
        for (std::thread& thread : resolver_threads)
            thread.detach();  // (each holds the shared state; a lookup in progress ends by itself)
    }

    const ProbeTransportOptions& options;
    AtomicStats& stats;
    int epoll_fd = -1;
    SSL_CTX* ctx = nullptr;
    std::unordered_map<RequestId, std::unique_ptr<Exchange>> exchanges;
    std::multimap<TimePoint, RequestId> timers;
    std::list<std::unique_ptr<Connection>> connections;
    std::vector<std::unique_ptr<Connection>> closed;  // freed after the events of a wake are handled
    // Only hosts with connections or requests waiting (ForgetUnused): a service probed once, or
    // whose domain changed, holds nothing here after its last connection closes.
    std::unordered_map<std::string, Host> hosts;
    std::vector<std::string> unused;  // hosts whose last connection closed in this wake
    std::list<Connection*> idle_lru;  // oldest first
    std::deque<std::string> blocked;  // hosts with requests waiting for the total cap, in order (may be gone)
    std::size_t open_total = 0;
    // Names being looked up or with addresses not expired (ForgetUnused drops the expired).
    std::unordered_map<std::string, Name> names;
    TimePoint names_swept{};
    std::unordered_map<std::string, SSL_SESSION*> sessions;
    std::shared_ptr<ResolverShared> resolver;
    std::vector<std::thread> resolver_threads;
    int wake_fd = -1;
    bool stopping = false;  // the transport is shutting down: no new connections

    // --- Set-up -------------------------------------------------------------------------------

    void SetUpTls() {
        ctx = SSL_CTX_new(TLS_client_method());
        if (ctx == nullptr) throw std::runtime_error("the probes' TLS context could not be made: " + OpenSslError());
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
        const int loaded = options.ca_file.empty()
                               ? SSL_CTX_set_default_verify_paths(ctx)
                               : SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr);
        if (loaded != 1) {
            throw std::runtime_error(
                options.ca_file.empty() ? "the system's CA certificates could not be loaded: " + OpenSslError()
                                        : "the CA file " + options.ca_file + " could not be loaded: " + OpenSslError());
        }
        // Idle connections hold no read or write buffers (the memory a kept connection costs).
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        // A server that closes without close_notify after an answer framed by the close.
        SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
        SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_set_app_data(ctx, this);
        SSL_CTX_sess_set_new_cb(ctx, &Loop::OnNewSession);
    }

    static int OnNewSession(SSL* ssl, SSL_SESSION* session) {
        auto* self = static_cast<Loop*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
        auto* connection = static_cast<Connection*>(SSL_get_app_data(ssl));
        if (self == nullptr || connection == nullptr || self->options.max_tls_sessions == 0) return 0;
        auto [at, added] = self->sessions.try_emplace(connection->key, session);
        if (!added) {
            SSL_SESSION_free(at->second);
            at->second = session;
        } else if (self->sessions.size() > self->options.max_tls_sessions) {
            // Beyond the cap one other host's session goes (which one does not matter much: each
            // saves a third of one handshake).
            auto other = self->sessions.begin();
            if (other == at) ++other;
            SSL_SESSION_free(other->second);
            self->sessions.erase(other);
        }
        return 1;  // the session's reference is kept
    }

    // --- Requests -----------------------------------------------------------------------------

    void Start(SubmissionQueue::Pending pending) {
        auto exchange = std::make_unique<Exchange>();
        exchange->id = pending.id;
        exchange->request = std::move(pending.request);
        exchange->done = std::move(pending.done);
        Exchange* x = exchange.get();
        x->timer = timers.end();  // (none until the request is checked)
        exchanges.emplace(x->id, std::move(exchange));
        std::string why;
        auto target = ParseTarget(x->request.url, why);
        if (!target) return Fail(x, TransportErrorKind::kOther, why);
        x->target = std::move(*target);
        x->via = ProxyFor(x->target);
        if (HasLineBreak(x->request.method) || HasControlOrSpace(x->request.method) || x->request.method.empty())
            return Fail(x, TransportErrorKind::kOther, "the request's method is not a token");
        for (const auto& [name, value] : x->request.headers) {
            if (HasLineBreak(name) || HasLineBreak(value) || name.find(':') != std::string::npos)
                return Fail(x, TransportErrorKind::kOther, "a request header holds a line break or a colon");
        }
        x->out = RequestBytes(x->request, x->target, options.user_agent, x->target.tls ? nullptr : x->via);
        x->fresh = !x->request.idempotent;
        x->deadline = SteadyClock::now() + x->request.timeout;
        x->timer = timers.emplace(x->deadline, x->id);
        Dispatch(x);
    }

    // The proxy a request to `target` goes through; none: direct.
    const ProbeProxy* ProxyFor(const Target& target) const {
        const std::optional<ProbeProxy>& proxy = target.tls ? options.proxies.https : options.proxies.http;
        if (!proxy || NoProxyCovers(options.proxies.no_proxy, target.host)) return nullptr;
        return &*proxy;
    }

    // Sends `x` on a kept connection of its host, or on a new one, or queues it.
    void Dispatch(Exchange* x) {
        Host& host = hosts[x->target.key];
        if (!x->fresh && !host.idle.empty()) {
            Connection* c = host.idle.back();
            Unidle(c);
            stats.reused.fetch_add(1, std::memory_order_relaxed);
            Attach(c, x);
            Send(c);
            return;
        }
        if (host.open < options.max_host_connections &&
            (open_total < options.max_total_connections || CloseOldestIdle())) {
            Open(x, host);
            return;
        }
        x->waiting = true;
        host.waiting.push_back(x);
        if (host.open < options.max_host_connections) blocked.push_back(x->target.key);
    }

    void Attach(Connection* c, Exchange* x) {
        c->exchange = x;
        x->connection = c;
        x->sent = 0;
        x->reader.emplace(x->request, options.max_head_bytes);
        x->response = HttpResponse{};
        if (x->fresh) c->keep = false;
    }

    bool CloseOldestIdle() {
        if (idle_lru.empty()) return false;
        Close(idle_lru.front());
        return open_total < options.max_total_connections;
    }

    // --- Connections --------------------------------------------------------------------------

    void Open(Exchange* x, Host& host) {
        auto owned = std::make_unique<Connection>();
        Connection* c = owned.get();
        c->at = connections.insert(connections.end(), std::move(owned));
        c->key = x->target.key;
        c->host = x->target.host;
        c->port = x->target.port;
        c->tls = x->target.tls;
        c->via = x->via;
        c->dial_host = c->via != nullptr ? c->via->host : c->host;
        c->dial_port = c->via != nullptr ? c->via->port : c->port;
        ++host.open;
        ++open_total;
        Attach(c, x);
        // The connection's set-up ends sooner than the request when connect_timeout is shorter.
        Rearm(x, std::min(x->deadline, SteadyClock::now() + options.connect_timeout));
        if (auto fixed = WithoutLookup(c->dial_host, c->dial_port)) {
            c->addresses = std::move(*fixed);
            return Connect(c);
        }
        Name& name = names[c->dial_host];
        if (!name.addresses.empty() && SteadyClock::now() < name.until) {
            c->addresses = name.addresses;
            for (Address& a : c->addresses)
                SetPort(a, c->dial_port);
            return Connect(c);
        }
        name.waiting.push_back(c);
        if (!name.pending) {
            name.pending = true;
            LookUp(c->dial_host);
        }
    }

    static void SetPort(Address& address, std::uint16_t port) {
        if (address.storage.ss_family == AF_INET) {
            reinterpret_cast<sockaddr_in*>(&address.storage)->sin_port = htons(port);
        } else {
            reinterpret_cast<sockaddr_in6*>(&address.storage)->sin6_port = htons(port);
        }
    }

    void LookUp(const std::string& name) {
        stats.lookups.fetch_add(1, std::memory_order_relaxed);
        if (!resolver) {
            resolver = std::make_shared<ResolverShared>();
            resolver->wake_fd = wake_fd;
            for (std::size_t k = 0; k < kResolverThreads; ++k)
                resolver_threads.emplace_back(&ResolverShared::Run, resolver);
        }
        {
            std::lock_guard lock(resolver->mutex);
            resolver->names.push_back(name);
        }
        resolver->work.notify_one();
    }

    void TakeLookups() {
        if (!resolver) return;
        std::vector<Lookup> done;
        {
            std::lock_guard lock(resolver->mutex);
            done.swap(resolver->done);
        }
        for (const Lookup& lookup : done) {
            auto found = names.find(lookup.name);
            if (found == names.end()) continue;
            // (the connections below may add names: nothing of `found` is used after them)
            std::vector<Connection*> waiting = std::move(found->second.waiting);
            if (lookup.error.empty()) {
                found->second.pending = false;
                found->second.waiting.clear();
                found->second.addresses = lookup.addresses;
                found->second.until = SteadyClock::now() + options.dns_ttl;
            } else {
                names.erase(found);  // the next connection asks again
            }
            for (Connection* c : waiting) {
                if (c->phase != Phase::kResolving) continue;  // closed meanwhile (its request ended)
                if (!lookup.error.empty()) {
                    FailConnection(c, TransportErrorKind::kDns,
                                   fmt::format("could not resolve {} {}: {}", c->via != nullptr ? "proxy" : "host",
                                               c->dial_host, lookup.error));
                    continue;
                }
                c->addresses = lookup.addresses;
                for (Address& a : c->addresses)
                    SetPort(a, c->dial_port);
                Connect(c);
            }
        }
    }

    // Connects to the next address; at the last one's failure the request fails.
    void Connect(Connection* c) {
        c->phase = Phase::kConnecting;
        while (c->next_address < c->addresses.size()) {
            const Address& address = c->addresses[c->next_address++];
            const int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                c->connect_error = std::strerror(errno);
                continue;
            }
            const int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (::connect(fd, reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 &&
                errno != EINPROGRESS) {
                c->connect_error = std::strerror(errno);
                ::close(fd);
                continue;
            }
            c->fd = fd;
            epoll_event event{};
            event.events = EPOLLOUT;
            event.data.ptr = c;
            if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0) {
                c->connect_error = std::strerror(errno);
                ::close(fd);
                c->fd = -1;
                continue;
            }
            c->interest = EPOLLOUT;
            return;  // OnEvent continues when the connection is made or refused
        }
        names.erase(c->dial_host);  // its addresses may be stale: the next connection looks them up again
        const std::string why = c->connect_error.empty() ? std::string("no address to connect to") : c->connect_error;
        FailConnection(
            c, TransportErrorKind::kConnect,
            c->via != nullptr ? fmt::format("to the proxy {}: {}", Authority(c->dial_host, c->dial_port), why) : why);
    }

    void Want(Connection* c, std::uint32_t interest) {
        if (c->interest == interest || c->fd < 0) return;
        epoll_event event{};
        event.events = interest;
        event.data.ptr = c;
        ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
        c->interest = interest;
    }

    void OnEvent(Connection* c, std::uint32_t events) {
        switch (c->phase) {
            case Phase::kConnecting: {
                int error = 0;
                socklen_t length = sizeof error;
                if (::getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
                if (error == 0 && (events & (EPOLLERR | EPOLLHUP)) != 0) error = ECONNREFUSED;
                if (error != 0) {
                    c->connect_error = std::strerror(error);
                    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
                    ::close(c->fd);
                    c->fd = -1;
                    return Connect(c);  // the next address, if any
                }
                stats.connects.fetch_add(1, std::memory_order_relaxed);
                if (c->tls && c->via != nullptr) return StartTunnel(c);
                if (c->tls) return StartTls(c);
                c->phase = Phase::kOpen;
                return Send(c);
            }
            case Phase::kTunneling:
                return Tunnel(c);
            case Phase::kHandshaking:
                return Handshake(c);
            case Phase::kOpen:
                // A request still being written goes on at any event (TLS may need to read before it
                // can write); else the answer, or an idle connection's close, is read (and TLS may
                // need to write before it can read: Receive then waits for EPOLLOUT too).
                if (c->exchange != nullptr && c->exchange->sent < c->exchange->out.size()) {
                    Flush(c);
                } else {
                    Receive(c);
                }
                return;
            case Phase::kResolving:
            case Phase::kClosed:
                return;
        }
    }

    // Through a proxy to a TLS host: a CONNECT to the host, then TLS through the tunnel.
    void StartTunnel(Connection* c) {
        c->phase = Phase::kTunneling;
        const std::string authority = Authority(c->host, c->port);
        c->tunnel = fmt::format("CONNECT {} HTTP/1.1\r\nHost: {}\r\n", authority, authority);
        if (!c->via->authorization.empty()) c->tunnel += "Proxy-Authorization: " + c->via->authorization + "\r\n";
        if (!options.user_agent.empty()) c->tunnel += "User-Agent: " + options.user_agent + "\r\n";
        c->tunnel += "\r\n";
        c->tunnel_sent = 0;
        c->tunnel_asked = false;
        Tunnel(c);
    }

    // Sends the CONNECT request, then reads the proxy's answer: a 2xx opens the tunnel.
    void Tunnel(Connection* c) {
        const std::string proxy = Authority(c->dial_host, c->dial_port);
        while (!c->tunnel_asked) {
            const long n =
                ::send(c->fd, c->tunnel.data() + c->tunnel_sent, c->tunnel.size() - c->tunnel_sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Want(c, EPOLLOUT);
            if (n < 0) {
                return FailConnection(c, TransportErrorKind::kConnect,
                                      fmt::format("the proxy {}: {}", proxy, std::strerror(errno)));
            }
            c->tunnel_sent += static_cast<std::size_t>(n);
            if (c->tunnel_sent == c->tunnel.size()) {
                c->tunnel.clear();  // the answer comes in its place
                c->tunnel_asked = true;
            }
        }
        char buffer[1024];
        for (;;) {
            const long n = ::recv(c->fd, buffer, sizeof buffer, 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Want(c, EPOLLIN);
            if (n <= 0) {
                return FailConnection(c, TransportErrorKind::kConnect,
                                      fmt::format("the proxy {} closed the connection before it answered CONNECT{}",
                                                  proxy, n < 0 ? std::string(": ") + std::strerror(errno) : ""));
            }
            c->tunnel.append(buffer, static_cast<std::size_t>(n));
            const auto end = c->tunnel.find("\r\n\r\n");
            if (end == std::string::npos) {
                if (c->tunnel.size() > options.max_head_bytes) {
                    return FailConnection(c, TransportErrorKind::kConnect,
                                          fmt::format("the proxy {} sent an answer to CONNECT longer than {} bytes",
                                                      proxy, options.max_head_bytes));
                }
                continue;
            }
            // "HTTP/1.1 200 Connection established": the status is the second word. The tunnel
            // carries nothing before our TLS client hello, so nothing may follow the head.
            const std::string_view head(c->tunnel.data(), end);
            const std::string_view status_line = head.substr(0, head.find("\r\n"));
            const auto space = status_line.find(' ');
            const std::string_view code = space == std::string_view::npos ? "" : status_line.substr(space + 1, 3);
            if (!status_line.starts_with("HTTP/1.") || code.size() != 3 || code.front() != '2' ||
                end + 4 != c->tunnel.size()) {
                return FailConnection(
                    c, TransportErrorKind::kConnect,
                    fmt::format("the proxy {} refused the tunnel to {}: {}", proxy, Authority(c->host, c->port),
                                std::string(status_line.substr(0, 200))));
            }
            c->tunnel.clear();
            c->tunnel.shrink_to_fit();
            return StartTls(c);
        }
    }

    void StartTls(Connection* c) {
        c->phase = Phase::kHandshaking;
        c->ssl = SSL_new(ctx);
        BIO* bio = c->ssl != nullptr ? BIO_new(SocketBio()) : nullptr;
        if (bio == nullptr) return FailConnection(c, TransportErrorKind::kTls, "TLS set-up failed: " + OpenSslError());
        // The BIO's data is the socket itself (SocketBio reads it back), not an address.
        BIO_set_data(bio,
                     reinterpret_cast<void*>(static_cast<std::intptr_t>(c->fd)));  // NOLINT(performance-no-int-to-ptr)
        SSL_set_bio(c->ssl, bio, bio);
        SSL_set_app_data(c->ssl, c);
        in6_addr ip6{};
        in_addr ip4{};
        const bool literal =
            ::inet_pton(AF_INET, c->host.c_str(), &ip4) == 1 || ::inet_pton(AF_INET6, c->host.c_str(), &ip6) == 1;
        if (literal) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host.c_str());
        } else {
            SSL_set_tlsext_host_name(c->ssl, c->host.c_str());
            SSL_set1_host(c->ssl, c->host.c_str());
        }
        if (auto found = sessions.find(c->key); found != sessions.end()) {
            if (SSL_SESSION_is_resumable(found->second) == 1) {
                SSL_set_session(c->ssl, found->second);
            } else {
                SSL_SESSION_free(found->second);
                sessions.erase(found);
            }
        }
        SSL_set_connect_state(c->ssl);
        Handshake(c);
    }

    void Handshake(Connection* c) {
        ERR_clear_error();
        const int result = SSL_do_handshake(c->ssl);
        if (result == 1) {
            stats.tls_handshakes.fetch_add(1, std::memory_order_relaxed);
            if (SSL_session_reused(c->ssl) == 1) stats.tls_resumed.fetch_add(1, std::memory_order_relaxed);
            c->phase = Phase::kOpen;
            return Send(c);
        }
        const int error = SSL_get_error(c->ssl, result);
        if (error == SSL_ERROR_WANT_READ) return Want(c, EPOLLIN);
        if (error == SSL_ERROR_WANT_WRITE) return Want(c, EPOLLIN | EPOLLOUT);
        std::string detail;
        if (const long verify = SSL_get_verify_result(c->ssl); verify != X509_V_OK) {
            detail = std::string("the server's certificate was not accepted: ") + X509_verify_cert_error_string(verify);
            ERR_clear_error();
        } else if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            detail = "the connection closed during the TLS handshake";
        } else {
            detail = "TLS handshake failed: " + OpenSslError();
        }
        if (auto found = sessions.find(c->key); found != sessions.end()) {
            SSL_SESSION_free(found->second);
            sessions.erase(found);
        }
        FailConnection(c, TransportErrorKind::kTls, detail);
    }

    // The connection is ready to carry its exchange: the request's timer is its own deadline again.
    void Send(Connection* c) {
        Exchange* x = c->exchange;
        Rearm(x, x->deadline);
        Flush(c);
    }

    void Flush(Connection* c) {
        Exchange* x = c->exchange;
        while (x->sent < x->out.size()) {
            const char* data = x->out.data() + x->sent;
            const std::size_t left = x->out.size() - x->sent;
            long n = 0;
            if (c->ssl != nullptr) {
                ERR_clear_error();
                const int result = SSL_write(c->ssl, data, static_cast<int>(std::min<std::size_t>(left, 1 << 30)));
                if (result <= 0) {
                    const int error = SSL_get_error(c->ssl, result);
                    if (error == SSL_ERROR_WANT_WRITE) return Want(c, EPOLLIN | EPOLLOUT);
                    if (error == SSL_ERROR_WANT_READ) return Want(c, EPOLLIN);
                    return Broken(c, error == SSL_ERROR_SYSCALL && errno != 0 ? std::strerror(errno) : OpenSslError());
                }
                n = result;
            } else {
                n = ::send(c->fd, data, left, MSG_NOSIGNAL);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Want(c, EPOLLIN | EPOLLOUT);
                    return Broken(c, std::strerror(errno));
                }
            }
            x->sent += static_cast<std::size_t>(n);
        }
        Want(c, EPOLLIN | EPOLLRDHUP);
    }

    // Reads what the connection has: the exchange's answer, or (idle) the server's close.
    void Receive(Connection* c) {
        char buffer[kReadChunk];
        for (;;) {
            long n = 0;
            bool closed = false;
            if (c->ssl != nullptr) {
                ERR_clear_error();
                const int result = SSL_read(c->ssl, buffer, sizeof buffer);
                if (result <= 0) {
                    const int error = SSL_get_error(c->ssl, result);
                    if (error == SSL_ERROR_WANT_READ) return Want(c, EPOLLIN | EPOLLRDHUP);
                    if (error == SSL_ERROR_WANT_WRITE) return Want(c, EPOLLIN | EPOLLOUT);
                    if (error != SSL_ERROR_ZERO_RETURN) {
                        return Broken(c,
                                      error == SSL_ERROR_SYSCALL && errno != 0 ? std::strerror(errno) : OpenSslError());
                    }
                    closed = true;
                }
                n = std::max(result, 0);
            } else {
                n = ::recv(c->fd, buffer, sizeof buffer, 0);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
                    return Broken(c, std::strerror(errno));
                }
                closed = n == 0;
            }
            Exchange* x = c->exchange;
            if (x == nullptr) return Close(c);  // idle: the server closed it (or spoke out of turn)
            if (closed) return Ended(c);
            const AnswerReader::Step step =
                x->reader->Feed(std::string_view(buffer, static_cast<std::size_t>(n)), x->response);
            if (step == AnswerReader::Step::kFailed)
                return FailConnection(c, x->reader->error_kind(), x->reader->error());
            if (step == AnswerReader::Step::kDone) return Answered(c);
            // A full buffer may have more behind it; TLS may hold decrypted bytes.
            if (static_cast<std::size_t>(n) < sizeof buffer && (c->ssl == nullptr || SSL_pending(c->ssl) == 0)) return;
        }
    }

    // The server closed the connection while an exchange was on it.
    void Ended(Connection* c) {
        Exchange* x = c->exchange;
        if (x->reader->AtEnd() == AnswerReader::Step::kDone) {
            c->keep = false;
            return Answered(c);
        }
        if (MaySendAgain(c)) return SendAgain(c);
        FailConnection(c, x->reader->error_kind(), x->reader->error());
    }

    // A send or a read failed (reset, broken pipe).
    void Broken(Connection* c, const std::string& detail) {
        if (MaySendAgain(c)) return SendAgain(c);
        FailConnection(c, TransportErrorKind::kReset, detail);
    }

    // A kept connection the server closed just as this request came: no byte of an answer, an
    // idempotent request not sent again yet.
    bool MaySendAgain(Connection* c) const {
        const Exchange* x = c->exchange;
        return c->used && !x->reader->received() && x->request.idempotent && !x->resent;
    }

    void SendAgain(Connection* c) {
        Exchange* x = c->exchange;
        Detach(c);
        Close(c);
        x->resent = true;
        x->fresh = true;
        stats.resent.fetch_add(1, std::memory_order_relaxed);
        Dispatch(x);
    }

    void Answered(Connection* c) {
        Exchange* x = c->exchange;
        const bool keep = c->keep && x->reader->keep_alive();
        Detach(c);
        c->used = true;
        x->response.error = TransportErrorKind::kNone;
        Finish(x);
        if (keep) {
            Release(c);
        } else {
            Close(c);
        }
    }

    void Detach(Connection* c) {
        if (c->exchange != nullptr) c->exchange->connection = nullptr;
        c->exchange = nullptr;
    }

    // A kept connection free again: to a request of its host that waits, else idle.
    void Release(Connection* c) {
        Host& host = hosts[c->key];
        if (!host.waiting.empty()) {
            Exchange* next = host.waiting.front();
            // One that needs a connection of its own: closing this one makes room (ServeWaiting).
            if (next->fresh) return Close(c);
            host.waiting.pop_front();
            next->waiting = false;
            stats.reused.fetch_add(1, std::memory_order_relaxed);
            Attach(c, next);
            Send(c);
            return;
        }
        while (!blocked.empty() && !HasWaiting(blocked.front()))
            blocked.pop_front();                // (their requests ended meanwhile)
        if (!blocked.empty()) return Close(c);  // another host waits for a connection of the total
        c->idle = true;
        c->idle_since = SteadyClock::now();
        host.idle.push_back(c);
        c->idle_at = idle_lru.insert(idle_lru.end(), c);
        Want(c, EPOLLIN | EPOLLRDHUP);
    }

    void Unidle(Connection* c) {
        if (!c->idle) return;
        c->idle = false;
        idle_lru.erase(c->idle_at);
        auto& idle = hosts[c->key].idle;
        idle.erase(std::find(idle.begin(), idle.end(), c));
    }

    // The request on `c` fails; the connection is closed.
    void FailConnection(Connection* c, TransportErrorKind kind, const std::string& detail) {
        Exchange* x = c->exchange;
        Detach(c);
        Close(c);
        if (x != nullptr) Fail(x, kind, detail);
    }

    void Close(Connection* c) {
        if (c->phase == Phase::kClosed) return;
        Unidle(c);
        if (c->phase == Phase::kResolving) {
            // No longer waits for its host's addresses (it is freed after this wake).
            if (auto name = names.find(c->dial_host); name != names.end()) std::erase(name->second.waiting, c);
        }
        if (c->exchange != nullptr) {
            // (callers detach first; a request left on a closing connection would never end)
            Exchange* x = c->exchange;
            Detach(c);
            Fail(x, TransportErrorKind::kReset, "the connection was closed");
        }
        if (c->ssl != nullptr) {
            if (c->phase == Phase::kOpen) (void)SSL_shutdown(c->ssl);  // close_notify, if the socket takes it
            SSL_free(c->ssl);
            c->ssl = nullptr;
            ERR_clear_error();
        }
        if (c->fd >= 0) {
            ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
            ::close(c->fd);
            c->fd = -1;
        }
        c->phase = Phase::kClosed;
        Host& host = hosts[c->key];
        --host.open;
        --open_total;
        if (host.open == 0) unused.push_back(c->key);  // (callers may hold the host: forgotten later)
        closed.push_back(std::move(*c->at));
        connections.erase(c->at);
        ServeWaiting(c->key);
    }

    bool HasWaiting(const std::string& key) const {
        const auto host = hosts.find(key);
        return host != hosts.end() && !host->second.waiting.empty();
    }

    // After a wake's events: hosts left without a connection or a request waiting, and names
    // whose addresses expired (looked at once per dns_ttl), are forgotten, so that what the
    // transport holds follows the hosts it probes now, not every host it ever probed.
    void ForgetUnused(TimePoint now) {
        for (const std::string& key : unused) {
            const auto host = hosts.find(key);
            if (host != hosts.end() && host->second.open == 0 && host->second.waiting.empty()) hosts.erase(host);
        }
        unused.clear();
        if (now - names_swept >= options.dns_ttl) {
            names_swept = now;
            std::erase_if(names, [&](const auto& entry) {
                const Name& name = entry.second;
                return !name.pending && name.waiting.empty() && name.until <= now;
            });
        }
        stats.hosts_held.store(hosts.size(), std::memory_order_relaxed);
        stats.names_held.store(names.size(), std::memory_order_relaxed);
    }

    // Room for one more connection: a request of `key` that waits first, then one blocked by the
    // total cap.
    void ServeWaiting(const std::string& key) {
        if (stopping) return;  // (every request is being cancelled)
        if (Host& host = hosts[key]; !host.waiting.empty() && host.open < options.max_host_connections) {
            Exchange* x = host.waiting.front();
            host.waiting.pop_front();
            x->waiting = false;
            return Dispatch(x);
        }
        while (!blocked.empty() && open_total < options.max_total_connections) {
            const std::string other = std::move(blocked.front());
            blocked.pop_front();
            const auto found = hosts.find(other);
            if (found == hosts.end()) continue;  // (forgotten: its requests ended meanwhile)
            Host& host = found->second;
            if (host.waiting.empty() || host.open >= options.max_host_connections) continue;
            Exchange* x = host.waiting.front();
            host.waiting.pop_front();
            x->waiting = false;
            return Dispatch(x);
        }
    }

    // --- Ends -------------------------------------------------------------------------------

    void Rearm(Exchange* x, TimePoint at) {
        if (x->timer != timers.end() && x->timer->first == at) return;
        if (x->timer != timers.end()) timers.erase(x->timer);
        x->timer = timers.emplace(at, x->id);
    }

    void Fail(Exchange* x, TransportErrorKind kind, const std::string& detail) {
        if (x->connection != nullptr) {
            Connection* c = x->connection;
            Detach(c);
            Close(c);
        }
        if (x->waiting) {
            Host& host = hosts[x->target.key];
            host.waiting.erase(std::find(host.waiting.begin(), host.waiting.end(), x));
            x->waiting = false;
            if (host.open == 0 && host.waiting.empty()) unused.push_back(x->target.key);
        }
        x->response = HttpResponse{};
        x->response.error = kind;
        x->response.error_message =
            fmt::format("{} {} failed ({}): {}", x->request.method, OriginForMessages(x->request.url),
                        DescribeTransportError(kind), detail);
        Finish(x);
    }

    // Completes `x` with its response and forgets it.
    void Finish(Exchange* x) {
        if (x->timer != timers.end()) timers.erase(x->timer);
        auto found = exchanges.find(x->id);
        std::unique_ptr<Exchange> owned = std::move(found->second);
        exchanges.erase(found);
        try {
            owned->done(std::move(owned->response));
        } catch (...) {
            // A completion must not throw; if one does, the other requests still complete.
        }
    }

    void Cancel(RequestId id, const std::string& why) {
        auto found = exchanges.find(id);
        if (found == exchanges.end()) return;
        Fail(found->second.get(), TransportErrorKind::kCancelled, why);
    }

    // Requests past their deadline fail; idle connections past idle_timeout close. The next
    // deadline (or none).
    std::optional<TimePoint> Expire(TimePoint now) {
        while (!timers.empty() && timers.begin()->first <= now) {
            const RequestId id = timers.begin()->second;
            Exchange* x = exchanges.at(id).get();
            timers.erase(timers.begin());
            x->timer = timers.end();
            const bool connecting = x->connection != nullptr && x->connection->phase != Phase::kOpen;
            const bool resolving = x->connection != nullptr && x->connection->phase == Phase::kResolving;
            const auto limit = connecting ? std::min(Millis(options.connect_timeout), Millis(x->request.timeout))
                                          : Millis(x->request.timeout);
            Fail(x, TransportErrorKind::kTimeout,
                 resolving    ? fmt::format("the host's name was not resolved within {} ms", limit)
                 : connecting ? fmt::format("no connection within {} ms", limit)
                 : x->waiting ? fmt::format("no connection came free within {} ms", limit)
                              : fmt::format("no complete answer within {} ms", limit));
        }
        while (!idle_lru.empty() && idle_lru.front()->idle_since + options.idle_timeout <= now)
            Close(idle_lru.front());
        std::optional<TimePoint> next;
        if (!timers.empty()) next = timers.begin()->first;
        if (!idle_lru.empty())
            next = std::min(next.value_or(TimePoint::max()), idle_lru.front()->idle_since + options.idle_timeout);
        return next;
    }
};

// --- The transport ---------------------------------------------------------------------------

ProbeTransport::ProbeTransport(ProbeTransportOptions options)
    : options_(std::move(options)), loop_(std::make_unique<Loop>(options_, stats_)) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop_->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    loop_->wake_fd = wake_fd_;
    epoll_event wake_event{};
    wake_event.events = EPOLLIN;
    wake_event.data.ptr = nullptr;
    if (wake_fd_ < 0 || loop_->epoll_fd < 0 ||
        ::epoll_ctl(loop_->epoll_fd, EPOLL_CTL_ADD, wake_fd_, &wake_event) != 0) {
        const std::string reason = std::strerror(errno);
        if (wake_fd_ >= 0) ::close(wake_fd_);
        throw std::runtime_error("the probes' HTTP transport could not set up its event loop: " + reason);
    }
    try {
        loop_->SetUpTls();
    } catch (...) {
        ::close(wake_fd_);
        throw;
    }
    worker_ = std::thread([this] { Run(); });
}

ProbeTransport::~ProbeTransport() {
    queue_.Stop();
    Wake();
    if (worker_.joinable()) worker_.join();
    loop_.reset();  // (stops the resolver before its fd closes)
    ::close(wake_fd_);
}

void ProbeTransport::Wake() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

RequestId ProbeTransport::Submit(HttpRequest request, Completion done) {
    Submission one{std::move(request), std::move(done)};
    SubmitAll(std::span(&one, 1));
    return one.id;
}

void ProbeTransport::SubmitAll(std::span<Submission> submissions) {
    if (queue_.Add(submissions) > 0) Wake();
}

void ProbeTransport::Cancel(RequestId id) {
    queue_.Cancel(id);
    Wake();
}

ProbeTransportStats ProbeTransport::Stats() const {
    ProbeTransportStats out;
    out.connects = stats_.connects.load(std::memory_order_relaxed);
    out.tls_handshakes = stats_.tls_handshakes.load(std::memory_order_relaxed);
    out.tls_resumed = stats_.tls_resumed.load(std::memory_order_relaxed);
    out.reused = stats_.reused.load(std::memory_order_relaxed);
    out.lookups = stats_.lookups.load(std::memory_order_relaxed);
    out.resent = stats_.resent.load(std::memory_order_relaxed);
    out.hosts_held = stats_.hosts_held.load(std::memory_order_relaxed);
    out.names_held = stats_.names_held.load(std::memory_order_relaxed);
    return out;
}

void ProbeTransport::Run() {
    util::NameThisThread("rw-probe-net");
    Loop& loop = *loop_;
    constexpr int kMaxEvents = 64;
    epoll_event events[kMaxEvents];
    for (;;) {
        auto [incoming, cancels, stopping] = queue_.Take();
        for (SubmissionQueue::Pending& pending : incoming)
            loop.Start(std::move(pending));
        for (const RequestId id : cancels)
            loop.Cancel(id, "request cancelled before an answer arrived");
        if (stopping) {
            loop.stopping = true;
            std::vector<RequestId> ids;
            ids.reserve(loop.exchanges.size());
            for (const auto& [id, exchange] : loop.exchanges)
                ids.push_back(id);
            for (const RequestId id : ids)
                loop.Cancel(id, "the HTTP transport is shutting down");
            while (!loop.connections.empty())
                loop.Close(loop.connections.front().get());
            // Requests submitted from here on are refused by SubmitAll.
            return;
        }
        loop.TakeLookups();
        const TimePoint now = SteadyClock::now();
        std::optional<TimePoint> next = loop.Expire(now);
        loop.ForgetUnused(now);
        loop.closed.clear();
        long wait_ms = 1000;  // bounds a lost wake-up
        if (next) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - SteadyClock::now());
            wait_ms = std::clamp<long>(static_cast<long>(left.count()), 0, wait_ms);
        }
        const int ready = ::epoll_wait(loop.epoll_fd, events, kMaxEvents, static_cast<int>(wait_ms));
        for (int k = 0; k < ready; ++k) {
            auto* c = static_cast<Loop::Connection*>(events[k].data.ptr);
            if (c == nullptr) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto read = ::read(wake_fd_, &count, sizeof count);
                continue;
            }
            if (c->phase == Loop::Phase::kClosed) continue;  // closed by an earlier event of this wake
            loop.OnEvent(c, events[k].events);
        }
        loop.closed.clear();
    }
}

}  // namespace railwatch::net
