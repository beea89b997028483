#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/time.hpp"
#include "monitor/operations.hpp"
#include "net/http_server.hpp"
#include "store/model.hpp"
#include "util/clock.hpp"

/// The live event stream `GET /api/v1/stream` (Server-Sent Events, docs/API.md): the engine's
/// EventSink fans out to every connected client through a bounded ring of recent events, so that
/// a client reconnecting with `Last-Event-ID` gets what it missed (or `reset` when the ring no
/// longer holds it).
namespace railwatch::api {

struct EventHubOptions {
    std::size_t ring_size = 10000;                  ///< events kept for Last-Event-ID resume (≥ 1)
    std::size_t max_clients = 64;                   ///< streams open at once; more get 503
    core::Duration keep_alive = core::Seconds(15);  ///< a `: keep-alive` comment after this much quiet
    /// How often an instance's stream asks for its new log lines (FollowLogsWith).
    core::Duration log_follow_interval = monitor::kLogFollowInterval;
};

/// Thread-safety: every method from any thread. The On* methods (the engine's threads) only
/// copy what an event is made of, append it to the ring and wake the clients: they never wait
/// for a client, and never format: an event's JSON is made once, by the first stream that sends
/// it, outside the hub's lock (an event no client reads costs no JSON). Must outlive
/// the HTTP server that serves its streams; Stop() it before stopping that server.
class EventHub final : public monitor::EventSink {
  public:
    /// `clock` (for keep-alive waits) must outlive the hub.
    EventHub(const util::Clock& clock, EventHubOptions options = {});
    ~EventHub() override;
    EventHub(const EventHub&) = delete;
    EventHub& operator=(const EventHub&) = delete;

    /// `instance`: the instance object (without `recentChecks`' history: the sink must not read
    /// the store on the engine's thread, so the list is empty).
    void OnInstance(const store::Instance& instance) override;
    /// `transition`: `{instanceId, deploymentId, from, to, at, source}`.
    void OnTransition(const store::Instance& instance, const store::TimelineEvent& event) override;
    /// `health`: `{instanceId, at, ok, httpStatus, latencyMs, error, status}`.
    void OnHealth(const store::Instance& instance, const store::HealthCheck& check) override;
    /// `log`: `{instanceId, deploymentId, kind, timestamp, severity, message}` per line, sent only
    /// on streams of that instance (`?instanceId=`), and only kept while one is open.
    void OnLogLines(const std::string& instance_id, std::span<const store::LogLine> lines) override;
    /// `notification`: the notification object. For whoever creates in-app notifications.
    void OnNotification(const store::Notification& notification);
    /// `delivery`: the delivery object (as `GET /deliveries` lists it), after each attempt was
    /// recorded. For the notifier's dispatcher (app wires it).
    void OnDelivery(const store::OutboxRow& row);

    /// While a stream of one instance is open, `follow` is called with the instance's id when it
    /// opens and every `log_follow_interval` after (on the stream's thread; it must not block
    /// long): the engine's Operations::FollowLogs, so that the lines a reader is waiting for are
    /// fetched. Set once, before the first stream opens; none: streams ask for nothing.
    void FollowLogsWith(std::function<void(const std::string& instance_id)> follow);

    /// An instance event's `effectiveIntervalSeconds` comes from `interval_of` (the engine's
    /// Operations::CheckInterval), called when a stream first sends the event (it must not block
    /// long). Set once, before the first event; none: null.
    void CheckIntervalWith(std::function<std::optional<core::Duration>(const store::Instance&)> interval_of);

    /// The answer to `GET /api/v1/stream`: 200 with a stream of events newer than
    /// `last_event_id` (when given and still held; else a `reset` event first, then new ones), or
    /// 503 when max_clients streams are open or the hub is stopped. `instance_id`: only events
    /// about that instance. The stream ends when the client goes, or at Stop().
    net::ServerResponse OpenStream(std::optional<std::string> instance_id,
                                   std::optional<std::string_view> last_event_id);

    /// Ends every stream (their next chunk is their last) and refuses new ones. Idempotent.
    void Stop();

    /// Streams open now.
    std::size_t Clients() const;
    /// The id of the newest event (0 before the first).
    std::uint64_t LastEventId() const;

  private:
    struct Event {
        std::uint64_t id = 0;
        std::string type;
        std::string instance_id;             // empty: about no instance in particular
        bool instance_streams_only = false;  // not sent on the fleet's stream (log lines)
        // Makes the data's JSON from the copies it holds; called once, by Record.
        std::function<std::string()> format;
        std::once_flag formatted;
        std::string record;  // "id: ..\nevent: ..\ndata: ..\n\n", once formatted
    };
    struct Client;

    void Publish(std::string type, std::string instance_id, std::function<std::string()> format,
                 bool instance_streams_only = false);
    /// The event's text on the stream, formatted by the first caller (any thread, no lock held).
    static const std::string& Record(Event& event);
    /// One step of a client's stream; false ends it.
    bool Step(Client& client, const net::ChunkWriter& write);
    void Unregister(const Client* client);

    const util::Clock& clock_;
    const EventHubOptions options_;
    mutable std::mutex mutex_;
    std::deque<std::shared_ptr<Event>> ring_;     // guarded by mutex_ (an event itself: Record)
    std::uint64_t last_id_ = 0;                   // guarded by mutex_
    std::list<std::shared_ptr<Client>> clients_;  // guarded by mutex_
    // Streams open per instance (those with `?instanceId=`): guarded by mutex_.
    std::unordered_map<std::string, std::size_t> instance_streams_;
    std::function<void(const std::string&)> follow_logs_;  // guarded by mutex_; set before the first stream
    // guarded by mutex_; set before the first event
    std::function<std::optional<core::Duration>(const store::Instance&)> interval_of_;
    // interval_of_(instance), or none when not set; on a stream's thread, as an event is formatted.
    std::optional<core::Duration> IntervalOf(const store::Instance& instance);
    bool stopped_ = false;  // guarded by mutex_
};

}  // namespace railwatch::api
