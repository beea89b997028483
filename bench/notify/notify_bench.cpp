// Notification delivery throughput through the whole notifier — outbox rows in a real SQLite
// store, claimed with leases by the dispatcher, delivered by its workers, marked sent — each next
// to the receiver's own raw rate measured in the same run:
//
//   webhooks: signed Standard Webhooks POSTs to a loopback receiver that verifies every
//             signature (tests/support/webhook_receiver.hpp)   vs   the same receiver hammered
//             with the same signed requests straight through the HTTP transport (no store, no
//             dispatcher);
//   emails:   multipart messages over SMTP (libcurl, connections reused) to a loopback SMTP
//             server   vs   a minimal SMTP client loop (one connection per worker, MAIL / RCPT /
//             DATA per message) against the same server.
//
//   build/bench/bench_notify --benchmark_counters_tabular=true
//
// Figures are wall-clock (UseRealTime): the work happens on the dispatcher's, the transport's and
// the receivers' threads. items_per_second is deliveries (or raw requests / messages) per second.

#include <SQLiteCpp/SQLiteCpp.h>
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "net/curl_transport.hpp"
#include "notify/dispatcher.hpp"
#include "notify/email_channel.hpp"
#include "notify/planner.hpp"
#include "notify/signing.hpp"
#include "notify/webhook_channel.hpp"
#include "store/store.hpp"
#include "support/smtp_server.hpp"
#include "support/temp_dir.hpp"
#include "support/webhook_receiver.hpp"
#include "util/base64.hpp"
#include "util/clock.hpp"

namespace {

using namespace railwatch;
using namespace std::chrono_literals;

constexpr int kWebhooksPerIteration = 4000;
constexpr int kEmailsPerIteration = 1000;
const std::string kSecret = "whsec_" + util::Base64Encode("benchmark-webhook-secret-32-byte");

/// Counts delivery reports and lets the benchmark wait for a total.
class Counter {
  public:
    notify::DeliveryListener Listener() {
        return [this](const notify::DeliveryReport& report) {
            std::lock_guard lock(mutex_);
            if (report.verdict == core::DeliveryVerdict::kAccepted) {
                ++accepted_;
            } else {
                ++failed_;
            }
            changed_.notify_all();
        };
    }
    bool AwaitAccepted(std::uint64_t n, std::chrono::seconds timeout = 300s) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] { return accepted_ >= n; });
    }
    std::uint64_t failed() const {
        std::lock_guard lock(mutex_);
        return failed_;
    }

  private:
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::uint64_t accepted_ = 0;
    std::uint64_t failed_ = 0;
};

std::vector<store::OutboxMessage> Rows(const notify::OutboxPlanner& planner, core::NotifyEventType type, int first,
                                       int count, core::Timestamp now) {
    std::vector<store::OutboxMessage> out;
    for (int n = first; n < first + count; ++n) {
        core::NotifyEvent event;
        event.type = type;
        event.at = now;
        event.instance_id = "ins_" + std::to_string(n % 97);
        event.deployment_id = "dep-" + std::to_string(n);
        event.id = core::MakeEventId(type, event.instance_id, event.deployment_id, now);
        event.project_name = "shop";
        event.error_class = core::ErrorClass::kConfiguration;
        event.message = "missing environment variable DATABASE_URL";
        event.evidence = "Error: DATABASE_URL is not set";
        event.next_step = "set DATABASE_URL in the service's variables";
        for (auto& m : planner.Plan(event, now).messages)
            out.push_back(std::move(m));
    }
    return out;
}

/// The bench's SQLite store. With `old_claim_index`, the outbox gets back the index it had before
/// migration 4 (`outbox_due (status, next_attempt_at)`, on which SQLite sorted every due row on
/// every claim) in place of `outbox_open`, to show what the migration changed.
std::unique_ptr<store::Store> OpenBenchStore(const test::TempDir& dir, bool old_claim_index) {
    const std::string path = dir.File("bench.db");
    auto store = std::move(store::OpenStore("sqlite:" + path).value());
    if (old_claim_index) {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("DROP INDEX outbox_open");
        db.exec("CREATE INDEX outbox_due ON outbox (status, next_attempt_at)");
    }
    return store;
}

// --- webhooks ----------------------------------------------------------------------------------

void BM_WebhooksThroughDispatcher(benchmark::State& state) {
    const int concurrency = static_cast<int>(state.range(0));
    test::TempDir dir("railwatch-bench-notify-");
    auto store = OpenBenchStore(dir, state.range(1) != 0);
    notify::StoreAdapter adapter(*store, *store);
    test::WebhookReceiver receiver({kSecret});
    receiver.SetKeepLog(false);
    receiver.Start();
    util::SystemClock clock;
    net::CurlTransportOptions transport_options;
    transport_options.max_host_connections = concurrency;
    transport_options.max_total_connections = concurrency;
    net::CurlTransport transport(transport_options);
    notify::NotifyConfig config;
    config.webhook.url = receiver.Url();
    config.webhook.secrets = {kSecret};
    const notify::OutboxPlanner planner(config);
    auto channel = std::move(notify::WebhookChannel::Create(config.webhook, transport, clock, &adapter).value());
    notify::DispatcherOptions options;
    options.concurrency = concurrency;
    notify::Dispatcher dispatcher(adapter, {channel.get()}, clock, options);
    Counter counter;
    dispatcher.SetListener(counter.Listener());
    dispatcher.Start();

    int next = 0;
    std::uint64_t target = 0;
    for (auto _ : state) {
        state.PauseTiming();
        // Admin notices go to the webhook only: one row per event.
        const auto rows =
            Rows(planner, core::NotifyEventType::kConfigurationError, next, kWebhooksPerIteration, clock.Now());
        next += kWebhooksPerIteration;
        if (store->EnqueueOutbox(rows).value_or(0) != kWebhooksPerIteration) state.SkipWithError("enqueue failed");
        target += kWebhooksPerIteration;
        state.ResumeTiming();
        dispatcher.Notify();
        if (!counter.AwaitAccepted(target)) state.SkipWithError("deliveries did not finish");
    }
    dispatcher.Stop();
    state.SetItemsProcessed(static_cast<std::int64_t>(target));
    state.counters["failed"] = static_cast<double>(counter.failed());
    state.counters["bad_signatures"] = static_cast<double>(receiver.invalid_signatures());
    state.counters["duplicates"] = static_cast<double>(receiver.duplicates());
}

void BM_WebhookReceiverRaw(benchmark::State& state) {
    const int concurrency = static_cast<int>(state.range(0));
    test::WebhookReceiver receiver({kSecret});
    receiver.SetKeepLog(false);
    receiver.Start();
    auto signer = std::move(notify::WebhookSigner::Create({kSecret}).value());
    const std::string body =
        R"({"type":"configuration_error","timestamp":"2026-01-01T00:00:00.000Z","data":{"message":"raw"}})";

    // Shared with the completions, which run on the transport's thread: declared before the
    // transport, so the transport (joining its thread) goes first.
    std::vector<net::HttpRequest> requests;
    std::atomic<int> next{0};
    std::atomic<std::uint64_t> ok{0};
    std::atomic<std::uint64_t> failed{0};
    std::mutex mutex;
    std::condition_variable done;
    net::CurlTransportOptions transport_options;
    transport_options.max_host_connections = concurrency;
    transport_options.max_total_connections = concurrency;
    net::CurlTransport transport(transport_options);

    std::uint64_t total = 0;
    for (auto _ : state) {
        state.PauseTiming();
        requests.clear();
        const auto ts =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        for (int i = 0; i < kWebhooksPerIteration; ++i) {
            net::HttpRequest request;
            request.url = receiver.Url();
            request.body = body;
            request.timeout = 15s;
            const std::string id = "msg_raw_" + std::to_string(total + static_cast<std::uint64_t>(i));
            request.headers = {{"Content-Type", "application/json"},
                               {"webhook-id", id},
                               {"webhook-timestamp", std::to_string(ts)},
                               {"webhook-signature", signer.Sign(id, ts, body)}};
            requests.push_back(std::move(request));
        }
        next = 0;
        total += kWebhooksPerIteration;
        state.ResumeTiming();
        // Keep `concurrency` requests in flight, like the dispatcher's workers: each completion
        // submits the next request, then counts itself.
        const auto submit_next = [&](auto&& self) -> void {
            const int i = next.fetch_add(1);
            if (i >= kWebhooksPerIteration) return;
            transport.Submit(std::move(requests[static_cast<std::size_t>(i)]), [&, self](const net::HttpResponse& r) {
                self(self);
                (r.status >= 200 && r.status < 300 ? ok : failed).fetch_add(1);
                std::lock_guard lock(mutex);
                done.notify_all();
            });
        };
        for (int c = 0; c < concurrency; ++c)
            submit_next(submit_next);
        std::unique_lock lock(mutex);
        done.wait_for(lock, 300s, [&] { return ok.load() + failed.load() >= total; });
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
    state.counters["failed"] = static_cast<double>(failed.load());
    state.counters["bad_signatures"] = static_cast<double>(receiver.invalid_signatures());
}

/// A channel that accepts at once: what the dispatcher and the store cost by themselves.
class NullChannel final : public notify::Channel {
  public:
    std::string_view name() const override { return "webhook"; }
    notify::DeliveryOutcome Deliver(const store::OutboxRow&) override {
        return notify::DeliveryOutcome::Accepted("accepted");
    }
    core::Duration MaxDeliveryTime() const override { return 15s; }
};

void BM_DispatcherWithoutIo(benchmark::State& state) {
    const int concurrency = static_cast<int>(state.range(0));
    test::TempDir dir("railwatch-bench-notify-");
    auto store = OpenBenchStore(dir, state.range(1) != 0);
    notify::StoreAdapter adapter(*store, *store);
    util::SystemClock clock;
    notify::NotifyConfig config;
    config.webhook.url = "http://127.0.0.1:9/unused";
    const notify::OutboxPlanner planner(config);
    NullChannel channel;
    notify::DispatcherOptions options;
    options.concurrency = concurrency;
    notify::Dispatcher dispatcher(adapter, {&channel}, clock, options);
    Counter counter;
    dispatcher.SetListener(counter.Listener());
    dispatcher.Start();
    int next = 0;
    std::uint64_t target = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const auto rows =
            Rows(planner, core::NotifyEventType::kConfigurationError, next, kWebhooksPerIteration, clock.Now());
        next += kWebhooksPerIteration;
        if (store->EnqueueOutbox(rows).value_or(0) != kWebhooksPerIteration) state.SkipWithError("enqueue failed");
        target += kWebhooksPerIteration;
        state.ResumeTiming();
        dispatcher.Notify();
        if (!counter.AwaitAccepted(target)) state.SkipWithError("deliveries did not finish");
    }
    dispatcher.Stop();
    state.SetItemsProcessed(static_cast<std::int64_t>(target));
}

// --- email -------------------------------------------------------------------------------------

test::SmtpServer* g_smtp = nullptr;

test::SmtpServer& Smtp() {
    if (g_smtp == nullptr) {
        auto server = test::SmtpServer::Start();
        if (!server) {
            std::cerr << server.error().message << "\n";
            std::abort();
        }
        g_smtp = server->release();
    }
    return *g_smtp;
}

void BM_EmailsThroughDispatcher(benchmark::State& state) {
    const int concurrency = static_cast<int>(state.range(0));
    test::SmtpServer& smtp = Smtp();
    test::TempDir dir("railwatch-bench-notify-");
    auto store = std::move(store::OpenStore("sqlite:" + dir.File("bench.db")).value());
    notify::StoreAdapter adapter(*store, *store);
    util::SystemClock clock;
    notify::NotifyConfig config;
    config.email.smtp_url = smtp.Url();
    config.email.from = "railwatch@example.com";
    config.email.starttls = notify::StartTls::kOff;  // loopback relay
    config.admin_emails = {"ops@example.com"};
    const notify::OutboxPlanner planner(config);
    auto mail = std::move(notify::CurlMailTransport::Create(config.email).value());
    notify::EmailChannel channel(config.email, *mail);
    notify::DispatcherOptions options;
    options.concurrency = concurrency;
    notify::Dispatcher dispatcher(adapter, {&channel}, clock, options);
    Counter counter;
    dispatcher.SetListener(counter.Listener());
    dispatcher.Start();

    static int next = 0;
    std::uint64_t target = 0;
    for (auto _ : state) {
        state.PauseTiming();
        const auto rows =
            Rows(planner, core::NotifyEventType::kConfigurationError, next, kEmailsPerIteration, clock.Now());
        next += kEmailsPerIteration;
        if (store->EnqueueOutbox(rows).value_or(0) != kEmailsPerIteration) state.SkipWithError("enqueue failed");
        target += kEmailsPerIteration;
        state.ResumeTiming();
        dispatcher.Notify();
        if (!counter.AwaitAccepted(target)) state.SkipWithError("deliveries did not finish");
    }
    dispatcher.Stop();
    state.SetItemsProcessed(static_cast<std::int64_t>(target));
    state.counters["failed"] = static_cast<double>(counter.failed());
    // Connection reuse: one EHLO per connection, so EHLOs per message well below 1 means reuse.
    const auto commands = smtp.Commands();
    const auto ehlo = std::count(commands.begin(), commands.end(), "EHLO");
    state.counters["ehlo_per_msg"] = static_cast<double>(ehlo) / static_cast<double>(target);
}

/// One SMTP session on a raw socket: EHLO once, then MAIL / RCPT / DATA per message.
class RawSmtpClient {
  public:
    explicit RawSmtpClient(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int one = 1;
        ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 && Expect("220") &&
              Command("EHLO bench\r\n", "250 ");
    }
    ~RawSmtpClient() {
        if (ok_) Command("QUIT\r\n", "221");
        ::close(fd_);
    }
    bool Send(const std::string& message) {
        return ok_ && Command("MAIL FROM:<bench@example.com>\r\n", "250") &&
               Command("RCPT TO:<ops@example.com>\r\n", "250") && Command("DATA\r\n", "354") &&
               Command(message + "\r\n.\r\n", "250");
    }

  private:
    bool Command(const std::string& line, std::string_view want) {
        if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) return false;
        return Expect(want);
    }
    // Reads reply lines until one starts with `want` followed by a space (the last line).
    bool Expect(std::string_view want) {
        for (;;) {
            const auto end = buffer_.find("\r\n");
            if (end != std::string::npos) {
                const std::string line = buffer_.substr(0, end);
                buffer_.erase(0, end + 2);
                if (line.size() >= 4 && line[3] == '-') continue;
                return line.rfind(want.substr(0, 3), 0) == 0;
            }
            char chunk[4096];
            const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
            if (n <= 0) return false;
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    int fd_ = -1;
    bool ok_ = false;
    std::string buffer_;
};

void BM_SmtpServerRaw(benchmark::State& state) {
    const int concurrency = static_cast<int>(state.range(0));
    test::SmtpServer& smtp = Smtp();
    // A message of the size the notifier sends (headers + base64 text and HTML parts, lines of 76).
    std::string message = "From: bench@example.com\r\nTo: ops@example.com\r\nSubject: raw\r\n\r\n";
    for (int line = 0; line < 36; ++line)
        message += std::string(76, 'x') + "\r\n";
    message.resize(message.size() - 2);
    std::atomic<std::uint64_t> failed{0};
    std::uint64_t total = 0;
    for (auto _ : state) {
        std::vector<std::thread> threads;
        threads.reserve(concurrency);
        for (int c = 0; c < concurrency; ++c) {
            threads.emplace_back([&, c] {
                RawSmtpClient client(smtp.port());
                for (int i = c; i < kEmailsPerIteration; i += concurrency) {
                    if (!client.Send(message)) failed.fetch_add(1);
                }
            });
        }
        for (auto& t : threads)
            t.join();
        total += kEmailsPerIteration;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(total));
    state.counters["failed"] = static_cast<double>(failed.load());
}

// Second argument: 0 = the store as it is; 1 = the outbox index from before migration 4 (see
// OpenBenchStore).
BENCHMARK(BM_WebhooksThroughDispatcher)
    ->Args({16, 0})
    ->Args({16, 1})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WebhookReceiverRaw)->Arg(16)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DispatcherWithoutIo)
    ->Args({16, 0})
    ->Args({16, 1})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EmailsThroughDispatcher)->Arg(8)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SmtpServerRaw)->Arg(8)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
