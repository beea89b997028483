#include "webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace railwatch::test {
namespace {

constexpr int kPollMs = 20;

std::uint32_t Rotr(std::uint32_t x, int n) {
    return (x >> n) | (x << (32 - n));
}

constexpr std::array<std::uint32_t, 64> kK = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

bool SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

}  // namespace

std::string Sha256(std::string_view data) {
    std::array<std::uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::string message(data);
    const std::uint64_t bit_length = static_cast<std::uint64_t>(data.size()) * 8;
    message += static_cast<char>(0x80);
    while (message.size() % 64 != 56)
        message += '\0';
    for (int i = 7; i >= 0; --i)
        message += static_cast<char>((bit_length >> (8 * i)) & 0xFF);
    for (std::size_t block = 0; block < message.size(); block += 64) {
        std::array<std::uint32_t, 64> w{};
        for (int i = 0; i < 16; ++i) {
            const auto* p = reinterpret_cast<const unsigned char*>(message.data() + block +
                                                                   std::size_t{4} * static_cast<std::size_t>(i));
            w[i] = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
        }
        for (int i = 16; i < 64; ++i) {
            const std::uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
            const std::uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        std::array<std::uint32_t, 8> v = h;
        for (int i = 0; i < 64; ++i) {
            const std::uint32_t s1 = Rotr(v[4], 6) ^ Rotr(v[4], 11) ^ Rotr(v[4], 25);
            const std::uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
            const std::uint32_t t1 = v[7] + s1 + ch + kK[i] + w[i];
            const std::uint32_t s0 = Rotr(v[0], 2) ^ Rotr(v[0], 13) ^ Rotr(v[0], 22);
            const std::uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            const std::uint32_t t2 = s0 + maj;
            v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
        }
        for (int i = 0; i < 8; ++i)
            h[i] += v[i];
    }
    std::string digest;
    for (const std::uint32_t word : h) {
        for (int shift = 24; shift >= 0; shift -= 8)
            digest += static_cast<char>((word >> shift) & 0xFF);
    }
    return digest;
}

std::string HmacSha256Independent(std::string_view key, std::string_view data) {
    std::string k = key.size() > 64 ? Sha256(key) : std::string(key);
    k.resize(64, '\0');
    std::string inner(64, '\0');
    std::string outer(64, '\0');
    for (int i = 0; i < 64; ++i) {
        inner[i] = static_cast<char>(k[i] ^ 0x36);
        outer[i] = static_cast<char>(k[i] ^ 0x5c);
    }
    return Sha256(outer + Sha256(inner + std::string(data)));
}

std::string Base64EncodeIndependent(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                                static_cast<unsigned char>(bytes[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (i + 1 == bytes.size()) {
        const std::uint32_t n = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const std::uint32_t n = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                                (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

std::optional<std::string> Base64DecodeIndependent(std::string_view text) {
    while (!text.empty() && text.back() == '=')
        text.remove_suffix(1);
    std::string out;
    std::uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        if (c >= '0' && c <= '9') v = c - '0' + 52;
        if (c == '+') v = 62;
        if (c == '/') v = 63;
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return out;
}

WebhookReceiver::WebhookReceiver(const std::vector<std::string>& secrets, int tolerance_s) : tolerance_s_(tolerance_s) {
    for (const std::string& secret : secrets) {
        const std::string_view encoded = std::string_view(secret).substr(secret.rfind("whsec_", 0) == 0 ? 6 : 0);
        auto key = Base64DecodeIndependent(encoded);
        if (!key) throw std::runtime_error("webhook receiver: a secret is not base64");
        keys_.push_back(std::move(*key));
    }
}

WebhookReceiver::~WebhookReceiver() {
    Stop();
}

void WebhookReceiver::Start() {
    if (!stop_.load()) return;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("webhook receiver: socket() failed");
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port_));
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 512) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("webhook receiver: bind/listen failed: ") + std::strerror(errno));
    }
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen_fd_ = fd;
    stop_ = false;
    acceptor_ = std::thread([this, fd] { AcceptLoop(fd); });
}

void WebhookReceiver::Stop() {
    if (stop_.exchange(true)) return;
    if (acceptor_.joinable()) acceptor_.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
    std::list<std::thread> threads;
    {
        std::lock_guard lock(threads_mutex_);
        // Wake connection threads blocked in poll; each closes its own descriptor.
        for (const int fd : open_fds_)
            ::shutdown(fd, SHUT_RDWR);
        threads.swap(threads_);
    }
    for (auto& t : threads)
        t.join();
}

void WebhookReceiver::AnswerWith(int status, std::string retry_after) {
    std::lock_guard lock(mutex_);
    status_ = status;
    retry_after_ = std::move(retry_after);
}

void WebhookReceiver::SetDelay(std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delay_ = delay;
}

void WebhookReceiver::SetKeepLog(bool keep) {
    std::lock_guard lock(mutex_);
    keep_log_ = keep;
}

std::string WebhookReceiver::Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::map<std::string, int> WebhookReceiver::AcceptedById() const {
    std::lock_guard lock(mutex_);
    return accepted_by_id_;
}

std::size_t WebhookReceiver::accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_;
}

std::size_t WebhookReceiver::duplicates() const {
    std::lock_guard lock(mutex_);
    return duplicates_;
}

std::size_t WebhookReceiver::invalid_signatures() const {
    std::lock_guard lock(mutex_);
    return invalid_;
}

std::size_t WebhookReceiver::requests() const {
    return requests_.load();
}

std::vector<ReceivedWebhook> WebhookReceiver::Received() const {
    std::lock_guard lock(mutex_);
    return log_;
}

bool WebhookReceiver::Verify(const ReceivedWebhook& hook) const {
    if (keys_.empty()) return true;
    if (hook.id.empty() || hook.timestamp.empty() || hook.signature.empty()) return false;
    long long ts = 0;
    try {
        ts = std::stoll(hook.timestamp);
    } catch (...) {
        return false;
    }
    const long long now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    if (ts < now - tolerance_s_ || ts > now + tolerance_s_) return false;
    const std::string signed_content = hook.id + "." + hook.timestamp + "." + hook.body;
    std::vector<std::string> expected;
    for (const std::string& key : keys_)
        expected.push_back(Base64EncodeIndependent(HmacSha256Independent(key, signed_content)));
    // "v1,<sig> v1,<sig>": any listed signature matching any key is enough.
    std::size_t at = 0;
    while (at < hook.signature.size()) {
        std::size_t end = hook.signature.find(' ', at);
        if (end == std::string::npos) end = hook.signature.size();
        const std::string_view item = std::string_view(hook.signature).substr(at, end - at);
        if (item.starts_with("v1,")) {
            for (const std::string& e : expected) {
                if (ConstantTimeEqual(item.substr(3), e)) return true;
            }
        }
        at = end + 1;
    }
    return false;
}

int WebhookReceiver::Decide(ReceivedWebhook& hook, std::string& retry_after) {
    hook.signature_valid = Verify(hook);
    std::lock_guard lock(mutex_);
    if (!hook.signature_valid) {
        ++invalid_;
        hook.answered = 401;
    } else {
        hook.answered = status_;
        retry_after = retry_after_;
        if (status_ >= 200 && status_ < 300) {
            ++accepted_;
            if (++accepted_by_id_[hook.id] > 1) ++duplicates_;
        }
    }
    if (keep_log_) log_.push_back(hook);
    return hook.answered;
}

void WebhookReceiver::AcceptLoop(int listen_fd) {
    while (!stop_.load()) {
        pollfd pfd{listen_fd, POLLIN, 0};
        if (::poll(&pfd, 1, kPollMs) <= 0) continue;
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        std::lock_guard lock(threads_mutex_);
        open_fds_.insert(fd);
        threads_.emplace_back([this, fd] { Serve(fd); });
    }
}

void WebhookReceiver::Serve(int fd) {
    std::string buffer;
    char chunk[16384];
    const auto read_more = [&]() -> bool {
        while (!stop_.load()) {
            pollfd pfd{fd, POLLIN, 0};
            const int ready = ::poll(&pfd, 1, kPollMs);
            if (ready == 0) continue;
            if (ready < 0) {
                if (errno == EINTR) continue;
                return false;
            }
            const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
            if (n <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        return false;
    };
    for (;;) {
        std::size_t header_end;
        bool open = true;
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!read_more()) {
                open = false;
                break;
            }
        }
        if (!open) break;
        ReceivedWebhook hook;
        std::size_t content_length = 0;
        bool close_after = false;
        std::size_t line_start = buffer.find("\r\n") + 2;
        while (line_start < header_end) {
            const std::size_t line_end = buffer.find("\r\n", line_start);
            const std::string line = buffer.substr(line_start, line_end - line_start);
            line_start = line_end + 2;
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            const std::string name = Lower(line.substr(0, colon));
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            if (name == "content-length") content_length = std::stoul(value);
            if (name == "connection" && Lower(value) == "close") close_after = true;
            if (name == "webhook-id") hook.id = value;
            if (name == "webhook-timestamp") hook.timestamp = value;
            if (name == "webhook-signature") hook.signature = value;
        }
        while (buffer.size() < header_end + 4 + content_length) {
            if (!read_more()) {
                open = false;
                break;
            }
        }
        if (!open) break;
        hook.body = buffer.substr(header_end + 4, content_length);
        buffer.erase(0, header_end + 4 + content_length);
        ++requests_;
        std::chrono::milliseconds delay;
        {
            std::lock_guard lock(mutex_);
            delay = delay_;
        }
        for (const auto until = std::chrono::steady_clock::now() + delay;
             !stop_.load() && std::chrono::steady_clock::now() < until;)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (stop_.load()) break;  // stopped while waiting: no answer, like a receiver going down
        std::string retry_after;
        const int status = Decide(hook, retry_after);
        std::string reply = "HTTP/1.1 " + std::to_string(status) + " Status\r\nContent-Length: 0\r\n";
        if (!retry_after.empty()) reply += "Retry-After: " + retry_after + "\r\n";
        if (close_after) reply += "Connection: close\r\n";
        reply += "\r\n";
        if (!SendAll(fd, reply) || close_after) break;
    }
    {
        std::lock_guard lock(threads_mutex_);
        open_fds_.erase(fd);
    }
    ::close(fd);
}

}  // namespace railwatch::test
