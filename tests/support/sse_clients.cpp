#include "support/sse_clients.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace railwatch::test {

SseClients::SseClients(SseClientsOptions options) : options_(std::move(options)) {}

SseClients::~SseClients() {
    Stop();
}

bool SseClients::Start() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(options_.port));
    if (::inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr) != 1) return false;
    std::string request = "GET " + options_.path + " HTTP/1.1\r\nHost: " + options_.host + ":" +
                          std::to_string(options_.port) + "\r\nAccept: text/event-stream\r\n";
    if (!options_.api_token.empty()) request += "Authorization: Bearer " + options_.api_token + "\r\n";
    request += "\r\n";
    clients_.reserve(static_cast<std::size_t>(options_.clients));
    for (int n = 0; n < options_.clients; ++n) {
        Client client;
        client.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (client.fd < 0) break;
        if (::connect(client.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
            ::send(client.fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
            ::close(client.fd);
            break;
        }
        clients_.push_back(std::move(client));
    }
    const bool all = static_cast<int>(clients_.size()) == options_.clients;
    reader_ = std::thread([this] { ReadLoop(); });
    return all;
}

void SseClients::Stop() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    std::lock_guard lock(mutex_);
    for (Client& client : clients_) {
        if (client.fd >= 0) ::close(client.fd);
        client.fd = -1;
    }
}

std::vector<SseClientState> SseClients::Snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<SseClientState> out;
    out.reserve(clients_.size());
    for (const Client& client : clients_)
        out.push_back(client.state);
    return out;
}

void SseClients::ReadLoop() {
    std::vector<pollfd> fds;
    std::vector<std::size_t> index;
    char buffer[16384];
    while (!stop_) {
        fds.clear();
        index.clear();
        {
            std::lock_guard lock(mutex_);
            for (std::size_t n = 0; n < clients_.size(); ++n) {
                if (clients_[n].state.closed) continue;
                fds.push_back(pollfd{clients_[n].fd, POLLIN, 0});
                index.push_back(n);
            }
        }
        if (fds.empty()) return;
        // A short timeout: Stop() is noticed within it.
        const int ready = ::poll(fds.data(), fds.size(), 50);
        if (ready <= 0) continue;
        std::lock_guard lock(mutex_);
        for (std::size_t k = 0; k < fds.size(); ++k) {
            if (fds[k].revents == 0) continue;
            Client& client = clients_[index[k]];
            const ssize_t got = ::recv(client.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
            if (got > 0) {
                Consume(client, buffer, static_cast<std::size_t>(got));
            } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                client.state.closed = true;
            }
        }
    }
}

void SseClients::Consume(Client& client, const char* data, std::size_t size) {
    client.state.bytes += static_cast<std::int64_t>(size);
    client.pending.append(data, size);
    if (!client.headers_done) {
        const auto end = client.pending.find("\r\n\r\n");
        if (end == std::string::npos) return;
        // "HTTP/1.1 200 OK": the status is the second word.
        const auto space = client.pending.find(' ');
        if (space != std::string::npos) client.state.status = std::atoi(client.pending.c_str() + space + 1);
        client.headers_done = true;
        client.pending.erase(0, end + 4);
    }
    // Whole lines only. A record never spans two chunks (the server writes each batch of records
    // as one chunk), so the chunk-size lines between chunks never split an `event:` line.
    std::size_t start = 0;
    for (auto nl = client.pending.find('\n'); nl != std::string::npos; nl = client.pending.find('\n', start)) {
        const std::string_view line(client.pending.data() + start, nl - start);
        if (line.rfind("event: ", 0) == 0) {
            ++client.state.events;
            if (line == "event: transition") ++client.state.transitions;
            if (line == "event: log") ++client.state.logs;
            if (line == "event: delivery") ++client.state.deliveries;
        }
        start = nl + 1;
    }
    client.pending.erase(0, start);
}

}  // namespace railwatch::test
