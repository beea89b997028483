// load_stream_clients: N event-stream clients on a running `railwatch serve` while /metrics is
// fetched again and again, each time on a new connection (the way a scraper that was idle arrives),
// for the API load run (scripts/load-api.sh, docs/PERFORMANCE.md).
//
//   build/bench/load_stream_clients --port 8080 --token T --clients 200 --seconds 60
//
// Prints how many streams were accepted, how many received `transition` events, and the latency
// of /metrics (p50 / p99 / max over every sample). Exit status 0 only when every stream was
// accepted and received at least one transition and every /metrics request answered 200.

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "support/sse_clients.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double Percentile(std::vector<double> sorted, double p) {
    if (sorted.empty()) return 0;
    const auto at = static_cast<std::size_t>(std::lround(p * static_cast<double>(sorted.size() - 1)));
    return sorted[std::min(at, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Event-stream clients and /metrics latency against a running railwatch serve"};
    railwatch::test::SseClientsOptions options;
    int seconds = 60;
    int interval_ms = 50;
    app.add_option("--host", options.host, "Server address")->capture_default_str();
    app.add_option("--port", options.port, "Server port")->required();
    app.add_option("--token", options.api_token, "API token (Authorization: Bearer)");
    app.add_option("--clients", options.clients, "Event streams to open")->capture_default_str();
    app.add_option("--seconds", seconds, "How long to keep them open and sample /metrics")->capture_default_str();
    app.add_option("--interval-ms", interval_ms, "Pause between /metrics requests")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    railwatch::test::SseClients clients(options);
    const auto opened_at = Clock::now();
    if (!clients.Start()) std::fprintf(stderr, "load_stream_clients: not every connection could be made\n");
    // Every stream answers at once (200 or 503); wait for the status lines, bounded.
    while (Clock::now() - opened_at < std::chrono::seconds(30)) {
        const auto states = clients.Snapshot();
        if (std::all_of(states.begin(), states.end(), [](const auto& s) { return s.status != 0 || s.closed; })) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double open_s = std::chrono::duration<double>(Clock::now() - opened_at).count();

    std::vector<double> latencies_ms;
    int failures = 0;
    const auto end = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < end) {
        httplib::Client metrics(options.host, options.port);
        metrics.set_keep_alive(false);
        metrics.set_connection_timeout(std::chrono::seconds(10));
        metrics.set_read_timeout(std::chrono::seconds(10));
        const auto start = Clock::now();
        auto res = metrics.Get("/metrics");
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (!res || res->status != 200) {
            ++failures;
        } else {
            latencies_ms.push_back(ms);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
    }
    const auto states = clients.Snapshot();
    clients.Stop();

    int accepted = 0;
    int refused = 0;
    int receiving = 0;
    int closed = 0;
    std::int64_t events = 0;
    std::int64_t min_transitions = -1;
    std::int64_t max_transitions = 0;
    for (const auto& s : states) {
        if (s.status == 200) ++accepted;
        if (s.status != 200) ++refused;
        if (s.status == 200 && s.closed) ++closed;
        if (s.status == 200 && s.transitions > 0) ++receiving;
        events += s.events;
        if (s.status == 200) {
            min_transitions = min_transitions < 0 ? s.transitions : std::min(min_transitions, s.transitions);
            max_transitions = std::max(max_transitions, s.transitions);
        }
    }
    std::sort(latencies_ms.begin(), latencies_ms.end());
    std::printf("streams: %d opened, %d accepted (200) in %.2f s, %d refused, %d closed early\n",
                static_cast<int>(states.size()), accepted, open_s, refused, closed);
    std::printf("streams receiving transitions: %d of %d (per stream: min %lld, max %lld; events of all types %lld)\n",
                receiving, accepted, static_cast<long long>(std::max<std::int64_t>(min_transitions, 0)),
                static_cast<long long>(max_transitions), static_cast<long long>(events));
    std::printf("/metrics: %zu answers, %d failures, latency ms p50 %.2f p99 %.2f max %.2f\n", latencies_ms.size(),
                failures, Percentile(latencies_ms, 0.50), Percentile(latencies_ms, 0.99),
                latencies_ms.empty() ? 0.0 : latencies_ms.back());
    const bool ok = accepted == options.clients && receiving == accepted && failures == 0 && !latencies_ms.empty();
    return ok ? 0 : 1;
}
