#pragma once

#include <memory>
#include <string>

#include "api/api_server.hpp"
#include "api/event_hub.hpp"
#include "api/rest_api.hpp"
#include "app/engine.hpp"
#include "app/lifecycle.hpp"
#include "app/root.hpp"
#include "notify/notifier.hpp"
#include "notify/outbox_store.hpp"
#include "util/result.hpp"

/// `railwatch serve` without the command line: on top of a Root it builds the event hub, the
/// notifier (outbox dispatcher), the engine (app/engine.hpp: monitor::Monitor) and the REST
/// API server on [server] listen, and starts and stops them in order.
namespace railwatch::app {

/// What the configuration does not set. The stream limit and the HTTP threads come from
/// [server] max_streams and http_workers: the server keeps max_streams + http_workers threads,
/// so that open streams (one thread each) never take every thread (and starts more while
/// connections wait, up to four times as many and at least 64: net::HttpServerOptions::max_threads).
struct ServiceOptions {
    std::size_t event_ring_size = 10000;                   ///< events kept for Last-Event-ID resume
    core::Duration stream_keep_alive = core::Seconds(15);  ///< a keep-alive comment after this much quiet
};

/// Not thread-safe: one owner builds, starts and stops it. Root must outlive it.
class Service {
  public:
    /// Builds every component (nothing runs yet). Errors: kInvalidArgument for an unusable
    /// listen address or notifier configuration.
    static util::Result<std::unique_ptr<Service>> Build(Root& root, ServiceOptions options = {});
    ~Service();
    Service(const Service&) = delete;
    Service& operator=(const Service&) = delete;

    /// Starts the notifier, the engine, then the API server; on failure what started is stopped
    /// again and the error names the component (e.g. the address in use).
    util::Result<void> Start();
    /// Stops in reverse: the API (its streams first, then running requests), the engine (after
    /// its in-flight writes), Railway calls, the notifier. Idempotent.
    void Stop();

    /// "http://HOST:PORT" with the real port (after Start).
    std::string BaseUrl() const { return server_->BaseUrl(); }
    const Engine& engine() const { return *engine_; }
    api::EventHub& events() { return hub_; }

  private:
    /// Forwards in-app notifications to the store, then to the stream.
    class StreamingInbox final : public notify::InboxStore {
      public:
        StreamingInbox(notify::InboxStore& inner, api::EventHub& hub) : inner_(inner), hub_(hub) {}
        util::Result<bool> AddNotification(const store::Notification& notification) override;

      private:
        notify::InboxStore& inner_;
        api::EventHub& hub_;
    };

    /// Tells the notifier what the API changed (replays, re-enabled endpoints).
    class NotifierControl final : public api::DeliveryControl {
      public:
        explicit NotifierControl(Service& service) : service_(service) {}
        void WakeDispatcher() override;
        void EndpointEnabled(const std::string& key) override;

      private:
        Service& service_;
    };

    Service(Root& root, ServiceOptions options);

    Root& root_;
    ServiceOptions options_;
    api::EventHub hub_;
    notify::StoreAdapter notify_store_;
    notify::StoreReminderSource reminder_source_;
    StreamingInbox inbox_;
    NotifierControl notifier_control_{*this};
    std::unique_ptr<notify::Notifier> notifier_;
    std::unique_ptr<Engine> engine_;
    std::unique_ptr<api::RestApi> api_;
    std::unique_ptr<api::ApiServer> server_;
    Lifecycle lifecycle_;
};

}  // namespace railwatch::app
