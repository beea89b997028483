#include "app/service.hpp"

#include <spdlog/spdlog.h>

#include "app/notify_config.hpp"

namespace railwatch::app {

util::Result<bool> Service::StreamingInbox::AddNotification(const store::Notification& notification) {
    auto added = inner_.AddNotification(notification);
    if (added && *added) hub_.OnNotification(notification);
    return added;
}

void Service::NotifierControl::WakeDispatcher() {
    if (service_.notifier_) service_.notifier_->Notify();
}

void Service::NotifierControl::EndpointEnabled(const std::string& key) {
    if (service_.notifier_) service_.notifier_->EndpointEnabled(key);
}

Service::Service(Root& root, ServiceOptions options)
    : root_(root),
      options_(options),
      hub_(root.clock(), api::EventHubOptions{.ring_size = options.event_ring_size,
                                              .max_clients = static_cast<std::size_t>(root.config().server.max_streams),
                                              .keep_alive = options.stream_keep_alive}),
      notify_store_(root.store(), root.store()),
      reminder_source_(root.store(), root.store(), root.store()),
      inbox_(notify_store_, hub_),
      lifecycle_(&root.logger()) {}

Service::~Service() {
    Stop();
}

util::Result<std::unique_ptr<Service>> Service::Build(Root& root, ServiceOptions options) {
    const Config& config = root.config();
    auto listen = ParseListenAddress(config.server.listen);
    if (!listen) return tl::unexpected(listen.error());

    std::unique_ptr<Service> service(new Service(root, options));
    Service& s = *service;
    auto notifier = notify::Notifier::Create(NotifyConfigFrom(config), s.notify_store_, s.inbox_, root.http(),
                                             root.clock(), &s.notify_store_, &s.reminder_source_);
    if (!notifier) return tl::unexpected(notifier.error());
    s.notifier_ = std::move(*notifier);

    auto engine = MakeEngine(EngineDeps{root, s.hub_, s.notifier_.get(),
                                        [&hub = s.hub_](const store::OutboxRow& row) { hub.OnDelivery(row); }});
    if (!engine) return tl::unexpected(engine.error());
    s.engine_ = std::move(*engine);

    store::Store& st = root.store();
    api::RestApiOptions api_options;
    api_options.api_token = config.server.api_token.Reveal();
    api_options.webhook_secret = config.server.hook_secret.Reveal();
    api_options.deliveries = &s.notifier_control_;
    // An instance's open stream asks for its new log lines (a dashboard's live tail).
    s.hub_.FollowLogsWith([engine = s.engine_.get()](const std::string& id) { (void)engine->FollowLogs(id); });
    // An instance event says the interval it is checked at, as the API's instance objects do.
    s.hub_.CheckIntervalWith(
        [engine = s.engine_.get()](const store::Instance& instance) { return engine->CheckInterval(instance); });
    api_options.budget = [engine = s.engine_.get()] { return engine->Budget(); };
    api_options.checks_per_minute = [engine = s.engine_.get()] { return engine->ChecksPerMinute(); };
    api_options.stuck_policy = config.monitor.StuckPolicy();  // the engine's: its flags and the list agree
    s.api_ = std::make_unique<api::RestApi>(api::StoreRoles{st, st, st, st, st, st, st, st, st}, *s.engine_,
                                            root.clock(), &root.metrics(), &s.hub_, api_options);
    api::ApiServerOptions server_options;
    server_options.host = listen->host;
    server_options.port = listen->port;
    server_options.threads =
        static_cast<std::size_t>(config.server.max_streams) + static_cast<std::size_t>(config.server.http_workers);
    s.server_ = std::make_unique<api::ApiServer>(*s.api_, &s.hub_, server_options, api_options.max_body_bytes);

    s.lifecycle_.Add(
        "notifier",
        [&s] {
            s.notifier_->Start();
            return util::Ok();
        },
        [&s] { s.notifier_->Stop(); });
    s.lifecycle_.Add("railway client", nullptr, [&root] { root.StopRailway(); });
    s.lifecycle_.Add(
        "engine", [&s] { return s.engine_->Start(); }, [&s] { s.engine_->Stop(); });
    s.lifecycle_.Add(
        "api server",
        [&s]() -> util::Result<void> {
            auto port = s.server_->Start();
            if (!port) return tl::unexpected(port.error());
            return util::Ok();
        },
        [&s] { s.server_->Stop(); });
    return service;
}

util::Result<void> Service::Start() {
    root_.logger().info("engine: {}", engine_->Describe());
    return lifecycle_.Start();
}

void Service::Stop() {
    lifecycle_.Stop();
}

}  // namespace railwatch::app
