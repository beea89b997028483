#include "sim/webhook_sender.hpp"

#include <algorithm>
#include <chrono>

#include "util/thread_name.hpp"

namespace railwatch::sim {
namespace {

/// The longest single wait: a safety net in case a notification is ever missed.
constexpr core::Duration kMaxWait = std::chrono::minutes(1);

}  // namespace

WebhookSender::WebhookSender(Simulator& simulator, net::HttpTransport& transport, const util::Clock& clock)
    : simulator_(simulator), transport_(transport), clock_(clock) {}

WebhookSender::~WebhookSender() {
    Stop();
}

void WebhookSender::Start() {
    thread_ = std::thread([this] { Run(); });
}

void WebhookSender::Stop() {
    simulator_.WebhookWakeup().Stop();
    if (thread_.joinable()) thread_.join();
}

void WebhookSender::Run() {
    util::NameThisThread("rw-sim-hooks");
    util::Wakeup& wakeup = simulator_.WebhookWakeup();
    while (!wakeup.Stopped()) {
        const WebhookBatch batch = simulator_.TakeWebhooks();
        Deliver(batch);
        core::Duration wait = kMaxWait;
        if (batch.next_at)
            wait = std::clamp<core::Duration>(*batch.next_at - clock_.Now(), core::Duration(0), kMaxWait);
        clock_.WaitFor(wait, wakeup);
    }
}

void WebhookSender::Deliver(const WebhookBatch& batch) {
    for (const std::string& body : batch.bodies) {
        if (in_flight_->load() >= kMaxInFlight) {
            simulator_.RecordWebhook(WebhookOutcome::kDropped);
            continue;
        }
        net::HttpRequest request;
        request.method = "POST";
        request.url = batch.url;
        request.body = body;
        request.timeout = core::Seconds(10);
        request.headers = {{"Content-Type", "application/json"}, {"User-Agent", "railwatch-sim-webhooks"}};
        if (!batch.secret_header.first.empty()) request.headers.push_back(batch.secret_header);
        ++*in_flight_;
        transport_.Submit(
            std::move(request), [simulator = &simulator_, in_flight = in_flight_](const net::HttpResponse& response) {
                const bool delivered = response.Answered() && response.status >= 200 && response.status < 300;
                simulator->RecordWebhook(delivered ? WebhookOutcome::kDelivered : WebhookOutcome::kFailed);
                --*in_flight;
            });
    }
}

}  // namespace railwatch::sim
