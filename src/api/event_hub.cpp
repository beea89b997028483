#include "api/event_hub.hpp"

#include <algorithm>
#include <charconv>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

#include "api/render.hpp"

namespace railwatch::api {

struct EventHub::Client {
    std::optional<std::string> instance_id;
    std::uint64_t last_sent = 0;
    bool reset_pending = false;
    util::SteadyTime last_write{};
    util::SteadyTime next_log_follow{};  // when to ask for the instance's new log lines again
    util::Wakeup wakeup;
};

namespace {

std::string Dump(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// Unregisters the client when the last copy of its stream function goes (the client left, the
/// stream ended or the server dropped it at stop).
struct ClientGuard {
    std::function<void()> release;
    ~ClientGuard() {
        if (release) release();
    }
};

}  // namespace

EventHub::EventHub(const util::Clock& clock, EventHubOptions options) : clock_(clock), options_(options) {}

EventHub::~EventHub() {
    Stop();
}

// The engine's calls copy what an event's JSON is made of; the JSON is made when a stream first
// sends it (Record). Formatting each changed instance on the engine's threads was ~13 % of the
// pollers' CPU in a flood of transitions, with no client listening (docs/PERFORMANCE.md).
void EventHub::OnInstance(const store::Instance& instance) {
    Publish("instance", instance.id,
            [this, instance] { return Dump(InstanceJson(instance, {}, IntervalOf(instance))); });
}

void EventHub::OnTransition(const store::Instance& instance, const store::TimelineEvent& event) {
    Publish("transition", instance.id, [event, instance_id = instance.id] {
        nlohmann::json data = TimelineJson(event);
        data["instanceId"] = instance_id;
        return Dump(data);
    });
}

void EventHub::OnHealth(const store::Instance& instance, const store::HealthCheck& check) {
    Publish("health", instance.id,
            [check, instance_id = instance.id,
             status = instance.state.health ? *instance.state.health : std::string("UNKNOWN")] {
                nlohmann::json data = HealthCheckJson(check);
                data["instanceId"] = instance_id;
                data["status"] = status;
                return Dump(data);
            });
}

void EventHub::OnLogLines(const std::string& instance_id, std::span<const store::LogLine> lines) {
    {
        std::lock_guard lock(mutex_);
        if (!instance_streams_.contains(instance_id)) return;  // nobody follows them
    }
    for (const store::LogLine& line : lines) {
        Publish(
            "log", instance_id,
            [line] {
                nlohmann::json data = LogJson(line);
                data["instanceId"] = line.instance_id;
                data["deploymentId"] = line.deployment_id;
                return Dump(data);
            },
            true);
    }
}

void EventHub::FollowLogsWith(std::function<void(const std::string& instance_id)> follow) {
    std::lock_guard lock(mutex_);
    follow_logs_ = std::move(follow);
}

void EventHub::CheckIntervalWith(std::function<std::optional<core::Duration>(const store::Instance&)> interval_of) {
    std::lock_guard lock(mutex_);
    interval_of_ = std::move(interval_of);
}

std::optional<core::Duration> EventHub::IntervalOf(const store::Instance& instance) {
    std::function<std::optional<core::Duration>(const store::Instance&)> interval_of;
    {
        std::lock_guard lock(mutex_);
        interval_of = interval_of_;
    }
    return interval_of ? interval_of(instance) : std::nullopt;
}

void EventHub::OnNotification(const store::Notification& notification) {
    nlohmann::json data = NotificationJson(notification);
    std::string instance_id = data["instanceId"].is_string() ? data["instanceId"].get<std::string>() : "";
    Publish("notification", std::move(instance_id), [text = Dump(data)]() mutable { return std::move(text); });
}

void EventHub::OnDelivery(const store::OutboxRow& row) {
    nlohmann::json data = DeliveryJson(row);
    std::string instance_id = data["instanceId"].is_string() ? data["instanceId"].get<std::string>() : "";
    Publish("delivery", std::move(instance_id), [text = Dump(data)]() mutable { return std::move(text); });
}

void EventHub::Publish(std::string type, std::string instance_id, std::function<std::string()> format,
                       bool instance_streams_only) {
    auto event = std::make_shared<Event>();
    event->type = std::move(type);
    event->instance_id = std::move(instance_id);
    event->format = std::move(format);
    event->instance_streams_only = instance_streams_only;
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    event->id = ++last_id_;
    ring_.push_back(std::move(event));
    while (ring_.size() > std::max<std::size_t>(options_.ring_size, 1))
        ring_.pop_front();
    for (const auto& client : clients_)
        client->wakeup.Notify();
}

const std::string& EventHub::Record(Event& event) {
    std::call_once(event.formatted, [&event] {
        event.record =
            "id: " + std::to_string(event.id) + "\nevent: " + event.type + "\ndata: " + event.format() + "\n\n";
        event.format = nullptr;  // the copies it held are not needed any more
    });
    return event.record;
}

net::ServerResponse EventHub::OpenStream(std::optional<std::string> instance_id,
                                         std::optional<std::string_view> last_event_id) {
    auto client = std::make_shared<Client>();
    client->instance_id = std::move(instance_id);
    {
        std::lock_guard lock(mutex_);
        if (stopped_) {
            net::ServerResponse res;
            res.status = 503;
            res.body = R"({"error":{"code":"unavailable","message":"the server is stopping; reconnect later"}})";
            return res;
        }
        if (clients_.size() >= options_.max_clients) {
            net::ServerResponse res;
            res.status = 503;
            res.body =
                R"({"error":{"code":"unavailable","message":"too many event streams are open; close one or retry later"}})";
            res.SetHeader("Retry-After", "5");
            return res;
        }
        client->last_sent = last_id_;
        if (last_event_id) {
            std::uint64_t wanted = 0;
            const char* begin = last_event_id->data();
            const char* end = begin + last_event_id->size();
            const auto [ptr, ec] = std::from_chars(begin, end, wanted);
            const std::uint64_t oldest_held = ring_.empty() ? last_id_ + 1 : ring_.front()->id;
            // Resumable when every event after `wanted` is still in the ring (or none happened).
            if (ec == std::errc() && ptr == end && wanted <= last_id_ && wanted + 1 >= oldest_held) {
                client->last_sent = wanted;
            } else {
                client->reset_pending = true;
            }
        }
        client->last_write = clock_.Steady();
        clients_.push_back(client);
        if (client->instance_id) ++instance_streams_[*client->instance_id];
    }
    auto guard = std::make_shared<ClientGuard>();
    guard->release = [this, raw = client.get()] { Unregister(raw); };

    net::ServerResponse res;
    res.status = 200;
    res.content_type = "text/event-stream";
    res.SetHeader("Cache-Control", "no-cache");
    res.SetHeader("X-Accel-Buffering", "no");
    res.stream = [this, client, guard](const net::ChunkWriter& write) { return Step(*client, write); };
    return res;
}

bool EventHub::Step(Client& client, const net::ChunkWriter& write) {
    std::string out;
    std::vector<std::shared_ptr<Event>> events;  // to send, formatted below without the lock
    util::SteadyTime deadline;
    std::function<void(const std::string&)> follow;
    {
        std::lock_guard lock(mutex_);
        if (stopped_) return false;
        if (client.instance_id && follow_logs_) follow = follow_logs_;
        if (client.reset_pending) {
            client.reset_pending = false;
            client.last_sent = last_id_;
            out = "id: " + std::to_string(last_id_) + "\nevent: reset\ndata: {}\n\n";
        } else if (!ring_.empty() && client.last_sent + 1 < ring_.front()->id) {
            // The client fell further behind than the ring holds: it must reload.
            client.last_sent = last_id_;
            out = "id: " + std::to_string(last_id_) + "\nevent: reset\ndata: {}\n\n";
        } else {
            // Events are in id order: find the first one newer than last_sent, then copy on.
            auto first = ring_.begin();
            if (!ring_.empty() && client.last_sent >= ring_.front()->id)
                first += static_cast<std::ptrdiff_t>(client.last_sent - ring_.front()->id + 1);
            for (auto it = first; it != ring_.end(); ++it) {
                if (client.instance_id ? (*it)->instance_id != *client.instance_id : (*it)->instance_streams_only)
                    continue;
                events.push_back(*it);
            }
            client.last_sent = last_id_;
        }
        deadline = client.last_write + options_.keep_alive;
    }
    if (follow) {
        // Outside the lock: the engine reads the store to decide.
        const util::SteadyTime now = clock_.Steady();
        if (now >= client.next_log_follow) {
            client.next_log_follow = now + options_.log_follow_interval;
            follow(*client.instance_id);
        }
        deadline = std::min(deadline, client.next_log_follow);
    }
    for (const auto& event : events)
        out += Record(*event);
    if (out.empty()) {
        const util::WakeReason reason = clock_.WaitUntil(deadline, client.wakeup);
        if (reason == util::WakeReason::kStopped) return false;
        if (reason == util::WakeReason::kNotified) return true;
        // Woken to ask for log lines, not yet quiet for keep_alive: the next step asks.
        if (clock_.Steady() < client.last_write + options_.keep_alive) return true;
        out = ": keep-alive\n\n";
    }
    client.last_write = clock_.Steady();
    return write(out);
}

void EventHub::Unregister(const Client* client) {
    std::lock_guard lock(mutex_);
    if (client->instance_id) {
        if (const auto open = instance_streams_.find(*client->instance_id);
            open != instance_streams_.end() && --open->second == 0)
            instance_streams_.erase(open);
    }
    clients_.remove_if([client](const std::shared_ptr<Client>& c) { return c.get() == client; });
}

void EventHub::Stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    for (const auto& client : clients_)
        client->wakeup.Stop();
}

std::size_t EventHub::Clients() const {
    std::lock_guard lock(mutex_);
    return clients_.size();
}

std::uint64_t EventHub::LastEventId() const {
    std::lock_guard lock(mutex_);
    return last_id_;
}

}  // namespace railwatch::api
