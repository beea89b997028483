#include "sim/connection_reset.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>

namespace railwatch::sim {
namespace {

int PortOf(const sockaddr_storage& addr) {
    if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(addr).sin_port);
    if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(addr).sin6_port);
    return -1;
}

/// The descriptor of the socket with these local and peer ports, or -1.
int FindConnectionSocket(int local_port, int remote_port) {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int found = -1;
    while (dirent* entry = ::readdir(dir)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (end == entry->d_name || *end != '\0') continue;
        sockaddr_storage local{};
        sockaddr_storage peer{};
        socklen_t local_len = sizeof(local);
        socklen_t peer_len = sizeof(peer);
        if (::getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
        if (::getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
        if (PortOf(local) == local_port && PortOf(peer) == remote_port) {
            found = static_cast<int>(fd);
            break;
        }
    }
    ::closedir(dir);
    return found;
}

}  // namespace

bool TcpConnectionResetter::Reset(const net::ServerRequest& req) {
    if (req.local_port <= 0 || req.remote_port <= 0) return false;
    const int fd = FindConnectionSocket(req.local_port, req.remote_port);
    if (fd < 0) return false;
    // SO_LINGER 0 turns the disconnect into an RST; connect() with AF_UNSPEC disconnects the
    // socket without closing the descriptor (the server closes it once its next write fails).
    linger lin{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lin, sizeof(lin));
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    return ::connect(fd, &unspec, sizeof(unspec)) == 0;
}

}  // namespace railwatch::sim
