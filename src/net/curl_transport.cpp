#include "net/curl_transport.hpp"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "util/thread_name.hpp"

namespace railwatch::net {
namespace {

using core::TransportErrorKind;

void GlobalInitOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("libcurl could not be initialised (curl_global_init failed)");
        }
    });
}

TransportErrorKind KindOf(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
            return TransportErrorKind::kDns;
        case CURLE_COULDNT_CONNECT:
            return TransportErrorKind::kConnect;
        case CURLE_OPERATION_TIMEDOUT:
            return TransportErrorKind::kTimeout;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_SHUTDOWN_FAILED:
        case CURLE_USE_SSL_FAILED:
            return TransportErrorKind::kTls;
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
        case CURLE_WEIRD_SERVER_REPLY:
            return TransportErrorKind::kReset;
        case CURLE_ABORTED_BY_CALLBACK:
            return TransportErrorKind::kCancelled;
        default:
            return TransportErrorKind::kOther;
    }
}

void ReplaceAll(std::string& text, std::string_view what, std::string_view with) {
    if (what.empty()) return;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
        text.replace(at, what.size(), with);
}

// Removes the URL's path, query and user info from libcurl's error text (it rarely quotes them,
// but a webhook URL's path is a secret wherever it appears).
void ScrubUrl(std::string& text, std::string_view url) {
    const std::string origin = OriginForMessages(url);
    ReplaceAll(text, url, origin);
    const auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return;
    if (const auto path = url.find('/', scheme + 3); path != std::string_view::npos && url.size() > path + 1) {
        ReplaceAll(text, url.substr(path), "/…");
        const auto cut = url.find_first_of("?#", path);
        if (cut != std::string_view::npos && cut > path + 1) ReplaceAll(text, url.substr(path, cut - path), "/…");
    }
    const auto authority_end = url.find_first_of("/?#", scheme + 3);
    if (const auto at = url.substr(0, authority_end).rfind('@'); at != std::string_view::npos && at > scheme) {
        ReplaceAll(text, url.substr(scheme + 3, at - scheme - 3), "…");
    }
}

std::string Trim(std::string_view s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    return std::string(s);
}

// What libcurl asks of the event loop (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION): the
// sockets to watch, in the loop's epoll set, and when to call it with CURL_SOCKET_TIMEOUT.
struct EventLoop {
    int epoll_fd = -1;
    std::optional<std::chrono::steady_clock::time_point> deadline;  // none: no timer set

    static int OnSocket(CURL* /*easy*/, curl_socket_t socket, int what, void* user, void* socket_data) {
        auto* self = static_cast<EventLoop*>(user);
        CURLM* multi = self->multi;
        if (what == CURL_POLL_REMOVE) {
            // (fails harmlessly when libcurl closed the socket first: the set dropped it then)
            ::epoll_ctl(self->epoll_fd, EPOLL_CTL_DEL, socket, nullptr);
            return 0;
        }
        epoll_event event{};
        event.data.fd = socket;
        event.events = ((what & CURL_POLL_IN) != 0 ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) != 0 ? EPOLLOUT : 0u);
        // socket_data: set once the socket is in the set (libcurl forgets it with the socket).
        if (socket_data != nullptr && ::epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, socket, &event) == 0) return 0;
        if (::epoll_ctl(self->epoll_fd, EPOLL_CTL_ADD, socket, &event) != 0 &&
            (errno != EEXIST || ::epoll_ctl(self->epoll_fd, EPOLL_CTL_MOD, socket, &event) != 0)) {
            return -1;  // libcurl fails the transfers on this socket
        }
        curl_multi_assign(multi, socket, self);
        return 0;
    }

    static int OnTimer(CURLM* /*multi*/, long timeout_ms, void* user) {
        auto* self = static_cast<EventLoop*>(user);
        if (timeout_ms < 0) {
            self->deadline.reset();
        } else {
            self->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
        }
        return 0;
    }

    CURLM* multi = nullptr;
};

long ClampMillis(core::Duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return static_cast<long>(std::clamp<long long>(ms, 1, 24LL * 3600 * 1000));
}

}  // namespace

struct CurlTransport::Transfer {
    RequestId id = 0;
    HttpRequest request;
    Completion done;
    CURL* easy = nullptr;
    curl_slist* header_list = nullptr;
    HttpResponse response;
    bool too_large = false;  // the body went past request.max_response_bytes: reading stopped
    char error_buffer[CURL_ERROR_SIZE] = {};

    ~Transfer() {
        if (easy != nullptr) curl_easy_cleanup(easy);
        if (header_list != nullptr) curl_slist_free_all(header_list);
    }

    static size_t OnBody(char* data, size_t size, size_t count, void* user) {
        auto* self = static_cast<Transfer*>(user);
        const std::size_t bytes = size * count;
        if (self->request.discard_body) return bytes;
        if (bytes > self->request.max_response_bytes - self->response.body.size()) {
            self->too_large = true;
            return 0;  // libcurl ends the transfer (CURLE_WRITE_ERROR)
        }
        if (self->response.body.empty()) self->ReserveBody();
        self->response.body.append(data, bytes);
        return bytes;
    }

    // Room for the whole body at once when the server said its length (no growth by copies), plus
    // kBodySlack bytes a parser may read past the end (simdjson: 64) so it need not copy the body.
    // A length beyond kMaxBodyReserve is not trusted for a reservation.
    void ReserveBody() {
        curl_off_t length = -1;
        if (curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) != CURLE_OK || length <= 0) return;
        if (static_cast<std::uint64_t>(length) > kMaxBodyReserve) return;  // (beyond the limit: refused before)
        response.body.reserve(static_cast<std::size_t>(length) + kBodySlack);
    }

    static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
        auto* self = static_cast<Transfer*>(user);
        const std::string_view line(data, size * count);
        if (line.starts_with("HTTP/")) {
            self->response.headers.clear();  // a new response (after 100 Continue) starts over
        } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
            self->response.headers.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
        }
        return size * count;
    }
};

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
    GlobalInitOnce();
    // The worker's epoll set, with the eventfd that wakes it (Wake).
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event wake_event{};
    wake_event.events = EPOLLIN;
    wake_event.data.fd = wake_fd_;
    if (wake_fd_ < 0 || epoll_fd_ < 0 || ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event) != 0) {
        const std::string reason = std::strerror(errno);
        CloseFds();
        throw std::runtime_error("the HTTP transport's event loop could not be set up: " + reason);
    }
    CURLM* multi = curl_multi_init();
    if (multi == nullptr) {
        CloseFds();
        throw std::runtime_error("libcurl could not create a multi handle");
    }
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
    // Idle connections kept for reuse: as many as may be open. libcurl's default keeps four per
    // request still in flight, so the connections a group of requests opened were closed as the
    // group's last answers came in, and the next group connected again (a connect per five probes).
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options_.max_total_connections);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    multi_ = multi;
    worker_ = std::thread([this] { Run(); });
}

CurlTransport::~CurlTransport() {
    queue_.Stop();
    Wake();
    if (worker_.joinable()) worker_.join();
    curl_multi_cleanup(static_cast<CURLM*>(multi_));
    CloseFds();
}

void CurlTransport::CloseFds() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    epoll_fd_ = wake_fd_ = -1;
}

void CurlTransport::Wake() {
    const std::uint64_t one = 1;
    // (EAGAIN: the counter is full, so the worker is to wake anyway)
    [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
}

RequestId CurlTransport::Submit(HttpRequest request, Completion done) {
    Submission one{std::move(request), std::move(done)};
    SubmitAll(std::span(&one, 1));
    return one.id;
}

void CurlTransport::SubmitAll(std::span<Submission> submissions) {
    // Counted before they are queued (the worker counts each out as it completes), the refused
    // counted out again.
    in_flight_.fetch_add(submissions.size());
    const std::size_t queued = queue_.Add(submissions);
    in_flight_.fetch_sub(submissions.size() - queued);
    if (queued > 0) Wake();
}

void CurlTransport::Cancel(RequestId id) {
    queue_.Cancel(id);
    Wake();
}

std::size_t CurlTransport::InFlight() const {
    return in_flight_.load();
}

void CurlTransport::Run() {
    util::NameThisThread("rw-curl");
    auto* multi = static_cast<CURLM*>(multi_);
    // libcurl's socket interface on epoll: a wake (an answer's bytes, a timer) runs only the
    // transfers it concerns. curl_multi_poll + curl_multi_perform visited every transfer in flight
    // on each wake, each with a poll of its socket: with 100 in flight and their answers coming one
    // by one, a request cost 1.4-1.7x the CPU it costs now (bench_net ProbeRequests, spread).
    EventLoop loop;
    loop.multi = multi;
    loop.epoll_fd = epoll_fd_;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &EventLoop::OnSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, &loop);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &EventLoop::OnTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, &loop);
    struct ForgetLoop {  // the loop dies with this frame; the multi handle outlives it
        CURLM* multi;
        ~ForgetLoop() {
            curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, nullptr);
            curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, nullptr);
        }
    } forget_loop{multi};
    std::unordered_map<RequestId, std::unique_ptr<Transfer>> active;
    // Request handles of finished transfers, reset and used again: a new one per request cost an
    // allocation of several KB and its setup (curl_easy_reset keeps the caches, drops the options).
    struct SpareHandles {
        std::vector<CURL*> handles;
        ~SpareHandles() {
            for (CURL* easy : handles)
                curl_easy_cleanup(easy);
        }
    } spare;
    constexpr std::size_t kMaxSpareHandles = 64;

    const auto finish = [&](std::unique_ptr<Transfer> transfer) {
        in_flight_.fetch_sub(1);
        try {
            transfer->done(std::move(transfer->response));
        } catch (...) {
            // A completion must not throw; if one does, the other transfers still complete.
        }
        // Not in the multi handle any more (remove(), or never added): kept for the next request.
        if (transfer->easy != nullptr && spare.handles.size() < kMaxSpareHandles) {
            curl_easy_reset(transfer->easy);
            spare.handles.push_back(std::exchange(transfer->easy, nullptr));
        }
    };
    const auto fail = [&](std::unique_ptr<Transfer> transfer, TransportErrorKind kind, std::string message) {
        transfer->response = HttpResponse{};
        transfer->response.error = kind;
        transfer->response.error_message = std::move(message);
        finish(std::move(transfer));
    };
    const auto remove = [&](RequestId id) -> std::unique_ptr<Transfer> {
        auto it = active.find(id);
        if (it == active.end()) return nullptr;
        auto transfer = std::move(it->second);
        active.erase(it);
        curl_multi_remove_handle(multi, transfer->easy);
        return transfer;
    };

    // Completes the transfers libcurl reports done.
    const auto complete_finished = [&] {
        int queued = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
            if (msg->msg != CURLMSG_DONE) continue;
            Transfer* raw = nullptr;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
            const CURLcode code = msg->data.result;
            auto transfer = remove(raw->id);
            if (code == CURLE_OK) {
                long status = 0;
                curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
                transfer->response.status = static_cast<int>(status);
                finish(std::move(transfer));
            } else if (transfer->too_large || code == CURLE_FILESIZE_EXCEEDED) {
                const std::string message =
                    fmt::format("{} {} failed: the answer is larger than {} bytes, the most this client reads",
                                transfer->request.method, OriginForMessages(transfer->request.url),
                                transfer->request.max_response_bytes);
                fail(std::move(transfer), TransportErrorKind::kOther, message);
            } else {
                std::string detail =
                    transfer->error_buffer[0] != '\0' ? std::string(transfer->error_buffer) : curl_easy_strerror(code);
                // Only the origin, here and in libcurl's own words: the path may be a secret.
                ScrubUrl(detail, transfer->request.url);
                const std::string message =
                    fmt::format("{} {} failed ({}): {}", transfer->request.method,
                                OriginForMessages(transfer->request.url), DescribeTransportError(KindOf(code)), detail);
                fail(std::move(transfer), KindOf(code), message);
            }
        }
    };

    for (;;) {
        auto [incoming, cancels, stopping] = queue_.Take();

        for (auto& item : incoming) {
            auto transfer = std::make_unique<Transfer>();
            transfer->id = item.id;
            transfer->request = std::move(item.request);
            transfer->done = std::move(item.done);
            const HttpRequest& req = transfer->request;
            CURL* easy = nullptr;
            if (spare.handles.empty()) {
                easy = curl_easy_init();
            } else {
                easy = spare.handles.back();
                spare.handles.pop_back();
            }
            if (easy == nullptr) {
                fail(std::move(transfer), TransportErrorKind::kOther, "libcurl could not create a request handle");
                continue;
            }
            transfer->easy = easy;
            curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
            curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
            curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
            curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
            // Over TLS, wait for a connection being set up to learn (ALPN) whether it multiplexes, rather
            // than opening another. Over plain HTTP there is no h2 (2TLS), and waiting would serialise
            // requests behind the first answer.
            if (req.url.starts_with("https://")) curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
            curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
            curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
            if (!options_.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
            curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
            if (!req.idempotent) {
                // libcurl re-sends a request by itself when a reused connection turns out dead
                // (the peer closed it after reading the request): a new connection that is never
                // reused leaves it nothing to re-send on.
                curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
                curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
            }
            // Answers are asked for compressed (every encoding libcurl decodes), unless their body is
            // discarded: decoding a body nobody reads (a health probe's page) costs both sides CPU
            // for nothing (a decoder set up per answer).
            if (!req.discard_body) curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
            // A length announced beyond the limit fails before any of the body is read (OnBody
            // checks bodies of unannounced length as they come).
            if (!req.discard_body) {
                curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE,
                                 static_cast<curl_off_t>(std::min<std::size_t>(
                                     req.max_response_bytes, std::numeric_limits<curl_off_t>::max())));
            }
            curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ClampMillis(req.timeout));
            curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                             ClampMillis(std::min(req.timeout, options_.connect_timeout)));
            curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
            curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
            curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
            curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
            curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
            curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
            if (!options_.user_agent.empty()) curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());

            if (req.method == "GET") {
                curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
            } else {
                curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
                curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
                if (req.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
            }
            // "Expect:" turns off 100-continue, which would cost a round trip on every large POST.
            curl_slist* list = curl_slist_append(nullptr, "Expect:");
            for (const auto& [name, value] : req.headers) {
                std::string line = name;
                line.append(": ").append(value);
                if (curl_slist* next = curl_slist_append(list, line.c_str()); next != nullptr) list = next;
            }
            transfer->header_list = list;
            curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);

            if (stopping) {
                fail(std::move(transfer), TransportErrorKind::kCancelled,
                     "request cancelled: the HTTP transport is shutting down");
                continue;
            }
            if (curl_multi_add_handle(multi, easy) != CURLM_OK) {
                fail(std::move(transfer), TransportErrorKind::kOther, "libcurl refused the request handle");
                continue;
            }
            const RequestId id = transfer->id;
            active.emplace(id, std::move(transfer));
        }

        for (RequestId id : cancels) {
            if (auto transfer = remove(id)) {
                fail(std::move(transfer), TransportErrorKind::kCancelled, "request cancelled before an answer arrived");
            }
        }

        if (stopping) {
            std::vector<RequestId> ids;
            ids.reserve(active.size());
            for (const auto& [id, transfer] : active)
                ids.push_back(id);
            for (RequestId id : ids) {
                fail(remove(id), TransportErrorKind::kCancelled,
                     "request cancelled: the HTTP transport is shutting down");
            }
            // Requests submitted between the swap above and now were refused by Submit.
            return;
        }

        int running = 0;
        // A timer due (a request just added asks for one at once), then the sockets ready.
        if (loop.deadline && std::chrono::steady_clock::now() >= *loop.deadline) {
            loop.deadline.reset();
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        // Before the wait is reckoned: a transfer's end may set the timer (another one waiting for
        // its connection starts at once).
        complete_finished();
        constexpr int kMaxEvents = 64;
        epoll_event events[kMaxEvents];
        long wait_ms = 1000;  // bounds a lost wake-up
        if (loop.deadline) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(*loop.deadline - std::chrono::steady_clock::now());
            wait_ms = std::clamp<long>(static_cast<long>(left.count()), 0, wait_ms);
        }
        const int ready = ::epoll_wait(loop.epoll_fd, events, kMaxEvents, static_cast<int>(wait_ms));
        for (int k = 0; k < ready; ++k) {
            if (events[k].data.fd == wake_fd_) {
                std::uint64_t count = 0;
                [[maybe_unused]] const auto read = ::read(wake_fd_, &count, sizeof count);
                continue;
            }
            int action = ((events[k].events & EPOLLIN) != 0 ? CURL_CSELECT_IN : 0) |
                         ((events[k].events & EPOLLOUT) != 0 ? CURL_CSELECT_OUT : 0);
            // An error or a hang-up alone: libcurl reads, and meets it.
            if (action == 0) action = CURL_CSELECT_IN;
            curl_multi_socket_action(multi, events[k].data.fd, action, &running);
        }
        if (loop.deadline && std::chrono::steady_clock::now() >= *loop.deadline) {
            loop.deadline.reset();
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        complete_finished();
    }
}

}  // namespace railwatch::net
