#include "loopback_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace railwatch::test {
namespace {

constexpr int kPollMs = 20;

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

const char* Reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
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

}  // namespace

std::string LoopbackRequest::Header(std::string_view name) const {
    const std::string wanted = Lower(name);
    for (const auto& [key, value] : headers) {
        if (Lower(key) == wanted) return value;
    }
    return {};
}

LoopbackReply LoopbackReply::Json(int status, std::string body) {
    LoopbackReply reply;
    reply.status = status;
    reply.body = std::move(body);
    reply.headers.emplace_back("Content-Type", "application/json");
    return reply;
}

LoopbackHttpServer::LoopbackHttpServer(LoopbackHandler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0) throw std::runtime_error("loopback server: socket() failed");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(listen_fd_, 128) != 0) {
        ::close(listen_fd_);
        throw std::runtime_error(std::string("loopback server: bind/listen failed: ") + std::strerror(errno));
    }
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
    stop_ = true;
    if (acceptor_.joinable()) acceptor_.join();
    std::list<std::thread> threads;
    {
        std::lock_guard lock(threads_mutex_);
        threads.swap(threads_);
    }
    for (auto& t : threads)
        t.join();
    ::close(listen_fd_);
}

std::string LoopbackHttpServer::Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void LoopbackHttpServer::AcceptLoop() {
    while (!stop_) {
        pollfd pfd{listen_fd_, POLLIN, 0};
        if (::poll(&pfd, 1, kPollMs) <= 0) continue;
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ++connections_;
        std::lock_guard lock(threads_mutex_);
        threads_.emplace_back([this, fd] { Serve(fd); });
    }
}

void LoopbackHttpServer::Serve(int fd) {
    std::string buffer;
    char chunk[16384];
    const auto read_more = [&]() -> bool {  // false: peer closed, error, or stopping
        while (!stop_) {
            pollfd pfd{fd, POLLIN, 0};
            const int ready = ::poll(&pfd, 1, kPollMs);
            if (ready == 0) continue;
            if (ready < 0) return errno == EINTR;
            const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
            if (n <= 0) return false;
            buffer.append(chunk, static_cast<std::size_t>(n));
            return true;
        }
        return false;
    };
    const auto sleep_interruptibly = [&](std::chrono::milliseconds total) {
        const auto until = std::chrono::steady_clock::now() + total;
        while (!stop_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
        }
    };

    bool open = true;
    while (open && !stop_) {
        std::size_t header_end;
        while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
            if (!read_more()) {
                open = false;
                break;
            }
        }
        if (!open) break;
        LoopbackRequest request;
        const std::string head = buffer.substr(0, header_end);
        std::size_t line_end = head.find("\r\n");
        const std::string request_line = head.substr(0, line_end);
        const auto sp1 = request_line.find(' ');
        const auto sp2 = request_line.find(' ', sp1 + 1);
        request.method = request_line.substr(0, sp1);
        request.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
        std::size_t content_length = 0;
        bool close_after = false;
        while (line_end != std::string::npos && line_end < head.size()) {
            const std::size_t next = head.find("\r\n", line_end + 2);
            const std::string line =
                head.substr(line_end + 2, next == std::string::npos ? std::string::npos : next - line_end - 2);
            line_end = next;
            const auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ')
                value.erase(0, 1);
            const std::string name = line.substr(0, colon);
            if (Lower(name) == "content-length") content_length = std::stoul(value);
            if (Lower(name) == "connection" && Lower(value) == "close") close_after = true;
            request.headers.emplace_back(name, value);
        }
        while (buffer.size() < header_end + 4 + content_length) {
            if (!read_more()) {
                open = false;
                break;
            }
        }
        if (!open) break;
        request.body = buffer.substr(header_end + 4, content_length);
        buffer.erase(0, header_end + 4 + content_length);
        ++requests_;

        const LoopbackReply reply = handler_(request);
        switch (reply.action) {
            case LoopbackReply::Action::kHang:
                sleep_interruptibly(reply.delay);
                open = false;
                break;
            case LoopbackReply::Action::kReset: {
                linger hard{1, 0};
                ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
                open = false;
                break;
            }
            case LoopbackReply::Action::kClose:
                open = false;
                break;
            case LoopbackReply::Action::kRespond: {
                if (reply.delay.count() > 0) sleep_interruptibly(reply.delay);
                std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + Reason(reply.status) + "\r\n";
                for (const auto& [name, value] : reply.headers)
                    out += name + ": " + value + "\r\n";
                out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
                if (close_after) out += "Connection: close\r\n";
                out += "\r\n";
                out += reply.body;
                if (!SendAll(fd, out) || close_after) open = false;
                break;
            }
        }
    }
    ::close(fd);
}

}  // namespace railwatch::test
