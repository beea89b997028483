#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

/// Many Server-Sent Events clients of one server on loopback, all read by one thread with poll():
/// the load of N dashboards, for the stream tests and the API load run (docs/PERFORMANCE.md).
/// Each client is a plain HTTP/1.1 GET with `Accept: text/event-stream`; it counts the events it
/// receives by their `event:` line.
namespace railwatch::test {

struct SseClientsOptions {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path = "/api/v1/stream";
    std::string api_token;  ///< sent as `Authorization: Bearer`; empty: none
    int clients = 1;
};

/// What one client saw so far.
struct SseClientState {
    int status = 0;                ///< the answer's status; 0 until its status line arrived
    bool closed = false;           ///< the server closed the connection (or it failed)
    std::int64_t events = 0;       ///< events of any type (`event:` lines)
    std::int64_t transitions = 0;  ///< `event: transition`
    std::int64_t logs = 0;         ///< `event: log`
    std::int64_t deliveries = 0;   ///< `event: delivery`
    std::int64_t bytes = 0;        ///< everything received, headers included
};

/// Thread-safety: Snapshot() from any thread; Start()/Stop() from the owner. The destructor stops.
class SseClients {
  public:
    explicit SseClients(SseClientsOptions options);
    ~SseClients();
    SseClients(const SseClients&) = delete;
    SseClients& operator=(const SseClients&) = delete;

    /// Connects every client and sends its request, then reads on a background thread. False
    /// when a connection could not be made (the clients connected so far stay open).
    bool Start();
    /// Closes every connection and joins the reader. Idempotent.
    void Stop();
    /// Every client's state, in the order they were opened.
    std::vector<SseClientState> Snapshot() const;

  private:
    struct Client {
        int fd = -1;
        bool headers_done = false;
        std::string pending;  // an incomplete line (or the incomplete headers)
        SseClientState state;
    };

    void ReadLoop();
    void Consume(Client& client, const char* data, std::size_t size);

    SseClientsOptions options_;
    mutable std::mutex mutex_;
    std::vector<Client> clients_;  // guarded by mutex_ once the reader runs
    std::atomic<bool> stop_{false};
    std::thread reader_;
};

}  // namespace railwatch::test
