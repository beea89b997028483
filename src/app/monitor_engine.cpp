#include "app/monitor_engine.hpp"

#include <fmt/format.h>
#include <spdlog/logger.h>

#include "app/root.hpp"
#include "core/deployment_status.hpp"
#include "core/notify_event.hpp"
#include "net/probe_transport.hpp"
#include "notify/notifier.hpp"

namespace railwatch::app {

namespace {

bool WasFailing(const std::optional<std::string>& status) {
    return status == "FAILED" || status == "CRASHED";
}

core::NotifyEvent EventOf(const monitor::ChangeToPlan& change, core::NotifyEventType type) {
    const store::Instance& instance = change.instance;
    const store::Transition& t = change.transition;
    core::NotifyEvent event;
    event.type = type;
    event.at = t.at;
    event.id = core::MakeEventId(type, instance.id, t.deployment_id, t.at);
    event.instance_id = instance.id;
    event.project_name = instance.project_name.value_or("");
    event.service_id = instance.service_id;
    event.environment_id = instance.environment_id;
    event.deployment_id = t.deployment_id;
    if (change.classification) {
        event.error_class = change.classification->error_class;
        event.message = change.classification->reason;
        event.evidence = change.classification->evidence;
    } else if (instance.state.error_type) {
        event.error_class = instance.state.error_type;
    }
    if (event.message.empty()) event.message = instance.state.error_message.value_or("");
    return event;
}

}  // namespace

std::vector<core::NotifyEvent> NotifyEventsFor(const monitor::ChangeToPlan& change) {
    std::vector<core::NotifyEvent> events;
    const store::Transition& t = change.transition;
    if (change.kind == "status") {
        if (t.to_status == "SUCCESS" && WasFailing(t.from_status))
            events.push_back(EventOf(change, core::NotifyEventType::kDeploymentRecovered));
    } else if (change.kind == "reaction") {
        for (const core::Action& action : change.actions) {
            auto type = core::EventTypeForAction(action);
            if (!type) continue;
            if (*type == core::NotifyEventType::kDeploymentFailed && t.to_status == "CRASHED")
                type = core::NotifyEventType::kDeploymentCrashed;
            core::NotifyEvent event = EventOf(change, *type);
            if (!action.reason.empty()) event.message = action.reason;
            event.next_step = action.suggestion;
            events.push_back(std::move(event));
        }
    } else if ((change.kind == "attention" || change.kind == "crash_loop") && t.state.needs_attention) {
        core::NotifyEvent event =
            EventOf(change, change.kind == "crash_loop" ? core::NotifyEventType::kCrashLoop
                                                        : core::NotifyEventType::kDeploymentStuck);
        event.message = t.state.attention_reason.value_or("");
        events.push_back(std::move(event));
    } else if (change.kind == "timeout" && t.state.needs_attention) {
        core::NotifyEvent event = EventOf(change, core::NotifyEventType::kTimeoutError);
        event.message = t.state.attention_reason.value_or("");
        events.push_back(std::move(event));
    } else if (change.kind == "redeploy_failed" && t.state.needs_attention) {
        // The NETWORK reaction's redeploys are used up, only that Railway refused them.
        core::NotifyEvent event = EventOf(change, core::NotifyEventType::kNetworkError);
        event.message = t.state.attention_reason.value_or("");
        events.push_back(std::move(event));
    }
    return events;
}

monitor::MonitorOptions MonitorOptionsFrom(const Config& config, std::string worker_id) {
    monitor::MonitorOptions options;
    options.worker_id = std::move(worker_id);
    options.intervals = config.monitor.IntervalPolicy();
    options.check.stuck = config.monitor.StuckPolicy();
    options.check.timeout_after = core::Seconds(config.monitor.timeout_after_seconds);
    options.max_logs = config.monitor.max_logs;
    options.lease = core::Seconds(config.monitor.lease_seconds);
    options.discovery_interval = core::Seconds(config.monitor.discovery_interval_seconds);
    options.discovery_whole_read_interval = core::Seconds(config.monitor.discovery_whole_read_seconds);
    options.keep_claims = config.monitor.keep_claims;
    options.poll_threads = static_cast<std::size_t>(config.monitor.poll_threads);
    options.requests_per_poll = static_cast<std::size_t>(config.monitor.requests_per_poll);
    options.batch_size = static_cast<std::size_t>(config.railway.batch_size);
    options.requests_per_hour = config.railway.requests_per_hour;
    options.requests_per_second = config.railway.requests_per_second;
    return options;
}

monitor::ProberOptions ProberOptionsFrom(const HealthProbeSettings& settings) {
    monitor::ProberOptions options;
    options.interval = core::Seconds(settings.interval_seconds);
    options.timeout = core::Seconds(settings.timeout_seconds);
    options.policy.failure_threshold = settings.failure_threshold;
    options.policy.success_threshold = settings.success_threshold;
    options.policy.slow_threshold = core::Millis(settings.slow_ms);
    options.keep = core::Seconds(86400LL * settings.keep_days);
    options.max_in_flight = static_cast<std::size_t>(settings.max_connections);
    return options;
}

net::ProbeTransportOptions ProbeTransportOptionsFrom(const HealthProbeSettings& settings, net::ProbeProxies proxies) {
    net::ProbeTransportOptions options;
    options.max_host_connections = static_cast<std::size_t>(settings.max_connections_per_host);
    options.max_total_connections = static_cast<std::size_t>(settings.max_connections);
    options.connect_timeout = core::Seconds(settings.timeout_seconds);
    options.user_agent = "railwatch-probe";
    options.proxies = std::move(proxies);
    return options;
}

void MonitorEngine::WakingSink::OnInstance(const store::Instance& instance) {
    inner_.OnInstance(instance);
    Wake();
}

void MonitorEngine::WakingSink::OnTransition(const store::Instance& instance, const store::TimelineEvent& event) {
    inner_.OnTransition(instance, event);
    if (metrics_ != nullptr) metrics_->OnTransition(event);
    Wake();
}

void MonitorEngine::WakingSink::OnChecks(const monitor::CheckBatchReport& report) {
    inner_.OnChecks(report);
    if (metrics_ != nullptr) metrics_->OnChecks(report);
    if (history_ != nullptr) history_->OnChecks(report.checked);
}

void MonitorEngine::WakingSink::OnHealth(const store::Instance& instance, const store::HealthCheck& check) {
    inner_.OnHealth(instance, check);
    if (metrics_ != nullptr) metrics_->OnHealth(check);
}

void MonitorEngine::WakingSink::Wake() {
    // A change of another instance may be reported first and take the flag: the dispatcher then
    // looks a moment early, and the rows of the change still being written wait for its poll.
    if (notifier_ != nullptr && rows_planned_.exchange(false)) notifier_->Notify();
}

MonitorEngine::MonitorEngine(const EngineDeps& deps, std::string worker_id)
    : description_(fmt::format("monitoring engine (worker {})", worker_id)), sink_(deps.events, deps.notifier) {
    store::Store& store = deps.root.store();
    monitor::OutboxPlanner planner;
    if (deps.notifier != nullptr) {
        notify::Notifier* notifier = deps.notifier;
        const util::Clock* clock = &deps.root.clock();
        WakingSink* sink = &sink_;
        planner = [notifier, &store, clock, sink](const monitor::ChangeToPlan& change) {
            std::vector<store::OutboxMessage> rows;
            for (core::NotifyEvent& event : NotifyEventsFor(change)) {
                if (change.instance.user_id) {
                    if (auto user = store.GetUser(*change.instance.user_id))
                        event.user = core::NotifyUser{user->id, user->email, user->name};
                }
                auto planned = notifier->planner().Plan(event, clock->Now());
                for (auto& message : planned.messages)
                    rows.push_back(std::move(message));
            }
            if (!rows.empty()) sink->RowsPlanned();
            return rows;
        };
    }
    history_ =
        std::make_unique<EngineHistory>(deps.root.clock(), store, &deps.root.budget(), worker_id, &deps.root.logger());
    sink_.SetHistory(history_.get());
    monitor_ =
        std::make_unique<monitor::Monitor>(deps.root.railway(), store, store, store, store, deps.root.clock(), sink_,
                                           MonitorOptionsFrom(deps.root.config(), worker_id), std::move(planner));
    const HealthProbeSettings& probes = deps.root.config().monitor.health;
    if (probes.On()) {
        // Probes get a transport of their own: services that hang hold its connections, never
        // the ones Railway requests and webhooks wait for.
        const net::ProbeTransportOptions transport = ProbeTransportOptionsFrom(probes, deps.root.probe_proxies());
        for (const auto& [scheme, proxy] :
             {std::pair("https", transport.proxies.https), std::pair("http", transport.proxies.http)}) {
            if (proxy) {
                deps.root.logger().info("health probes of {}:// URLs go through the proxy {}:{}", scheme, proxy->host,
                                        proxy->port);
            }
        }
        probe_transport_ = std::make_unique<net::ProbeTransport>(transport);
        monitor_->EnableProbes(store, *probe_transport_, ProberOptionsFrom(probes));
    }
    monitor::Monitor* monitor = monitor_.get();
    metrics_ = std::make_unique<EngineMetrics>(deps.root.metrics(), [monitor] { return monitor->Capacity(); });
    sink_.SetMetrics(metrics_.get());
    if (probe_transport_) {
        const net::ProbeTransport* transport = probe_transport_.get();
        metrics_->WatchProbeTransport([transport] { return transport->Stats(); });
    }
    if (deps.notifier != nullptr) {
        EngineMetrics* metrics = metrics_.get();
        deps.notifier->dispatcher().SetListener(
            [metrics, deliveries = deps.deliveries](const notify::DeliveryReport& report) {
                metrics->OnDelivery(report);
                if (deliveries && report.recorded) deliveries(*report.recorded);
            });
    }
}

MonitorEngine::~MonitorEngine() {
    monitor_->Stop();
    history_->Stop();
}

util::Result<void> MonitorEngine::Start() {
    auto started = monitor_->Start();
    if (started) history_->Start();
    return started;
}

void MonitorEngine::Stop() {
    monitor_->Stop();
    history_->Stop();
}

}  // namespace railwatch::app
