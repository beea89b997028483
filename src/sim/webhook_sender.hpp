#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>

#include "net/http_transport.hpp"
#include "sim/simulator.hpp"
#include "util/clock.hpp"

/// Delivers the simulator's project webhooks (FACTS §9) from a background thread: it sleeps until
/// the next planned status change (or until the simulator says something changed), takes what is
/// due and POSTs each body through an HttpTransport without waiting for the answers. Best effort:
/// no retries, and a delivery is dropped when too many are still in flight. Request handling
/// never waits for it.
namespace railwatch::sim {

class WebhookSender {
  public:
    /// At most this many deliveries in flight; more are dropped (and counted).
    static constexpr std::size_t kMaxInFlight = 256;

    /// All three must outlive the sender, and `simulator` must also outlive the completions of the
    /// requests the sender submitted (destroy the transport before the simulator).
    WebhookSender(Simulator& simulator, net::HttpTransport& transport, const util::Clock& clock);
    /// Stops the thread if Stop was not called.
    ~WebhookSender();
    WebhookSender(const WebhookSender&) = delete;
    WebhookSender& operator=(const WebhookSender&) = delete;

    /// Starts the thread. Called at most once.
    void Start();
    /// Ends the thread: stops the simulator's webhook wakeup and joins. Idempotent.
    void Stop();

  private:
    void Run();
    void Deliver(const WebhookBatch& batch);

    Simulator& simulator_;
    net::HttpTransport& transport_;
    const util::Clock& clock_;
    /// Shared with the completions, which may run after the sender is gone.
    std::shared_ptr<std::atomic<std::size_t>> in_flight_ = std::make_shared<std::atomic<std::size_t>>(0);
    std::thread thread_;
};

}  // namespace railwatch::sim
