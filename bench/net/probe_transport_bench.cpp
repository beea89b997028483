// Health probes through a transport against the project's HTTP server on loopback: the CPU of the
// transport's thread per request ("thread_us" counter), by transport (net::CurlTransport, or
// net::ProbeTransport: the prober's), by how many requests go to it together (SubmitAll) and
// whether the answer is asked for compressed (a probe discards its body, so it does not ask:
// HttpRequest::discard_body; ProbeTransport never asks). The server's text answers are compressed
// when asked, as a real service's pages often are. RailwayAnswers: the same for requests shaped
// as the status polls' (a large POST, a large answer), through CurlTransport.
#include <benchmark/benchmark.h>
#include <dirent.h>
#include <fmt/format.h>
#include <httplib.h>
#include <stdlib.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/curl_transport.hpp"
#include "net/http_server.hpp"
#include "net/probe_transport.hpp"

namespace railwatch::net {
namespace {

// CPU seconds (user + system) of this process's threads named `name`.
double ThreadCpuSeconds(const std::string& name) {
    double total = 0;
    DIR* dir = ::opendir("/proc/self/task");
    if (dir == nullptr) return 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] == '.') continue;
        const std::string base = std::string("/proc/self/task/") + entry->d_name;
        std::ifstream comm_file(base + "/comm");
        std::string comm;
        std::getline(comm_file, comm);
        if (comm != name) continue;
        std::ifstream stat_file(base + "/stat");
        std::string line;
        std::getline(stat_file, line);
        // Fields after the command's closing parenthesis: state is field 3, utime 14, stime 15.
        std::istringstream fields(line.substr(line.rfind(')') + 2));
        std::string field;
        long long ticks = 0;
        for (int k = 3; k <= 15 && fields >> field; ++k)
            if (k == 14 || k == 15) ticks += std::stoll(field);
        total += static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    }
    ::closedir(dir);
    return total;
}

// The transport's thread, by name.
constexpr const char* kCurlThread = "rw-curl";
constexpr const char* kProbeThread = "rw-probe-net";

// Sends `together` requests made by `make` at once through `transport` and waits for their
// answers: `warm` times first (connections open, handles pooled), then once per iteration. Sets
// "thread_us", the CPU per request of the transport's thread (named `thread`); an answer `ok`
// refuses fails the benchmark.
void SendTogether(benchmark::State& state, HttpTransport& transport, const char* thread, std::size_t together, int warm,
                  const std::function<HttpRequest()>& make, const std::function<bool(const HttpResponse&)>& ok) {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t left = 0;
    std::size_t failed = 0;
    const auto send = [&] {
        std::vector<HttpTransport::Submission> batch;
        {
            std::lock_guard lock(mutex);
            left = together;
        }
        for (std::size_t k = 0; k < together; ++k) {
            batch.push_back({make(), [&](const HttpResponse& response) {
                                 std::lock_guard lock(mutex);
                                 if (!ok(response)) ++failed;
                                 if (--left == 0) done.notify_all();
                             }});
        }
        transport.SubmitAll(batch);
        std::unique_lock lock(mutex);
        done.wait(lock, [&] { return left == 0; });
    };
    for (int n = 0; n < warm; ++n)
        send();
    const double cpu_before = ThreadCpuSeconds(thread);
    std::size_t requests = 0;
    for (auto _ : state) {
        send();
        requests += together;
    }
    const double cpu = ThreadCpuSeconds(thread) - cpu_before;
    if (failed > 0) state.SkipWithError("an answer was not the one expected");
    state.counters["thread_us"] = benchmark::Counter(cpu * 1e6 / static_cast<double>(requests));
    state.SetItemsProcessed(static_cast<std::int64_t>(requests));
}

// The caps and user agent of the prober's transport (app/monitor_engine.cpp), on either.
template <typename Options>
Options ProberOptions() {
    Options options;
    options.max_host_connections = 16;
    options.max_total_connections = 256;
    options.user_agent = "railwatch-probe";
    return options;
}

// Transport 0: CurlTransport; 1: ProbeTransport (the prober's). `ca_file` for TLS.
std::unique_ptr<HttpTransport> MakeTransport(long which, const std::string& ca_file = "",
                                             std::size_t tls_sessions = 20'000) {
    if (which == 0) {
        auto options = ProberOptions<CurlTransportOptions>();
        options.ca_file = ca_file;
        return std::make_unique<CurlTransport>(options);
    }
    auto options = ProberOptions<ProbeTransportOptions>();
    options.ca_file = ca_file;
    options.max_tls_sessions = tls_sessions;
    return std::make_unique<ProbeTransport>(options);
}

void ProbeRequests(benchmark::State& state) {
    const auto together = static_cast<std::size_t>(state.range(0));
    const bool discard_body = state.range(1) == 1;
    // Spread: each answer comes 0-9 ms late (by its path), as real services' answers come one by
    // one rather than together; the transport wakes for each.
    const bool spread = state.range(2) == 1;
    HttpServerOptions server_options;
    server_options.threads = spread ? 128 : 16;
    HttpServer server(server_options);
    server.Route("GET", "/s/.*", [spread](const ServerRequest& req, ServerResponse& res) {
        if (spread) std::this_thread::sleep_for(std::chrono::milliseconds(std::hash<std::string>{}(req.path) % 10));
        res.status = 200;
        res.content_type = "text/html";
        res.body = "<html><body>service is up</body></html>";
    });
    if (!server.Start()) {
        state.SkipWithError("the HTTP server did not start");
        return;
    }
    const long which = state.range(3);
    const auto transport = MakeTransport(which);
    std::size_t sent = 0;
    SendTogether(
        state, *transport, which == 0 ? kCurlThread : kProbeThread, together, 20,
        [&] {
            HttpRequest request;
            request.method = "GET";
            request.url = server.BaseUrl() + "/s/service-" + std::to_string(sent++) + "/health";
            request.discard_body = discard_body;
            return request;
        },
        [](const HttpResponse& response) { return response.status == 200; });
}
// Args: requests sent together; 1 = the body discarded (no compressed answer asked for); 1 = the
// answers spread over 10 ms; the transport (0: CurlTransport, 1: ProbeTransport).
BENCHMARK(ProbeRequests)
    ->ArgsProduct({{1, 5, 100}, {0, 1}, {0}, {0}})
    ->ArgsProduct({{1, 5, 100}, {1}, {0}, {1}})
    ->Args({100, 1, 1, 0})
    ->Args({250, 1, 1, 0})
    ->Args({100, 1, 1, 1})
    ->Args({250, 1, 1, 1})
    ->ArgNames({"together", "discard", "spread", "transport"})
    ->MinTime(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Probes over TLS, as real services are probed (https, a host each): the transport thread's CPU
// per probe when every probe opens its own connection to a host of its own (a fleet's services,
// too many and too far apart to keep connections or TLS sessions: a full handshake each), against
// probes of one host over kept connections, and over new connections whose session is resumed. The server: cpp-httplib
// over OpenSSL with a P-256 certificate for localhost and *.probes.localhost (both transports resolve *.localhost to
// loopback), made by the openssl command; the fresh probes go to s0..s999.probes.localhost.
void TlsProbes(benchmark::State& state) {
    // 0: one host, connections kept; 1: fresh, a host each, no session kept; 2: fresh, one host;
    // 3: fresh, a host each, each host's session kept (ProbeTransport only)
    const long mode = state.range(0);
    const long which = state.range(1);  // 0: CurlTransport; 1: ProbeTransport
    const bool fresh = mode != 0;
    constexpr std::size_t kTogether = 5;
    constexpr int kHosts = 1000;
    std::string dir_template = (std::filesystem::temp_directory_path() / "railwatch-bench-tls-XXXXXX").string();
    const char* dir = ::mkdtemp(dir_template.data());
    if (dir == nullptr) {
        state.SkipWithError("no temporary directory");
        return;
    }
    const std::string cert = std::string(dir) + "/cert.pem";
    const std::string key = std::string(dir) + "/key.pem";
    const std::string names = "DNS:localhost,DNS:*.probes.localhost";
    const std::string command = fmt::format(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost "
        "-addext subjectAltName={} -keyout {} -out {} >/dev/null 2>&1",
        names, key, cert);
    if (std::system(command.c_str()) != 0) {
        state.SkipWithError("the openssl command could not make a certificate");
        return;
    }
    httplib::SSLServer server(cert.c_str(), key.c_str());
    server.new_task_queue = [] { return new httplib::ThreadPool(16); };
    // As the project's HttpServer: no Nagle wait between header and body, 1,000 requests a connection.
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(1000);
    server.Get("/s/.*", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("<html><body>service is up</body></html>", "text/html");
    });
    const int port = server.bind_to_any_port("127.0.0.1");
    std::thread listener([&] { server.listen_after_bind(); });
    for (int n = 0; n < 500 && !server.is_running(); ++n)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    {
        // Mode 1 on ProbeTransport keeps no session (libcurl's cache of a few, cycled through a
        // thousand hosts, keeps none either); mode 3 keeps one per host.
        const auto transport = MakeTransport(which, cert, mode == 1 ? 0 : 20'000);
        std::size_t sent = 0;
        SendTogether(
            state, *transport, which == 0 ? kCurlThread : kProbeThread, kTogether, 20,
            [&] {
                HttpRequest request;
                request.method = "GET";
                const std::string host = mode == 1 || mode == 3 ? fmt::format("s{}.probes.localhost", sent % kHosts)
                                                                : std::string("localhost");
                request.url = fmt::format("https://{}:{}/s/service-{}/health", host, port, sent++);
                request.discard_body = true;
                // A connection of its own, closed after it (the transport's non-idempotent path).
                request.idempotent = !fresh;
                return request;
            },
            [](const HttpResponse& response) { return response.status == 200; });
        if (const auto* own = dynamic_cast<const ProbeTransport*>(transport.get())) {
            const ProbeTransportStats stats = own->Stats();
            state.counters["resumed"] = static_cast<double>(stats.tls_resumed) /
                                        static_cast<double>(std::max<std::uint64_t>(stats.tls_handshakes, 1));
        }
    }
    server.stop();
    listener.join();
    std::filesystem::remove_all(dir);
}
// Arg: 0 = one host, connections kept; 1 = a new connection to a host of its own per probe, no
// session to resume; 2 = a new connection per probe to one host (its TLS session resumed: the cost
// of a handshake without the certificate's verification and the full key exchange); 3 = a host of
// its own per probe, its session from the last probe of that host resumed (ProbeTransport keeps
// one per host; libcurl's cache of a few cannot). "resumed": the share of handshakes resumed.
// Second arg: the transport (0: CurlTransport, 1: ProbeTransport).
BENCHMARK(TlsProbes)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->Args({3, 1})
    ->ArgNames({"mode", "transport"})
    ->MinTime(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Railway-shaped requests: a status batch's POST (~48 KB: 400 aliases, their variables) and its
// answer (~72 KB of JSON, uncompressed as the simulator sends it), `together` in flight at once as
// a poll sends them. "thread_us": the transport thread's CPU per request.
void RailwayAnswers(benchmark::State& state) {
    const auto together = static_cast<std::size_t>(state.range(0));
    std::string answer = R"({"data":{)";
    for (int k = 0; k < 400; ++k) {
        answer += fmt::format(R"({}"d{}":{{"status":"DEPLOYING","statusUpdatedAt":"2026-12-05T10:00:00.000Z",)"
                              R"("createdAt":"2026-12-05T09:58:00.000Z","updatedAt":"2026-12-05T10:00:00.000Z",)"
                              R"("deploymentStopped":false}})",
                              k == 0 ? "" : ",", k);
    }
    answer += "}}";
    std::string request_body = R"({"query":")";
    while (request_body.size() < 48'000)
        request_body += fmt::format(" d{0}: deployment(id: $id{0}) {{ ...DeploymentPollFields }}", request_body.size());
    request_body += R"("})";
    HttpServerOptions server_options;
    server_options.threads = 4;
    HttpServer server(server_options);
    server.Route("POST", "/graphql/v2", [&answer](const ServerRequest&, ServerResponse& res) {
        res.status = 200;
        res.content_type = "application/json; charset=utf-8";  // as the simulator's (not compressed)
        res.body = answer;
    });
    if (!server.Start()) {
        state.SkipWithError("the HTTP server did not start");
        return;
    }
    CurlTransport transport;  // as the root's (app/root.cpp)
    SendTogether(
        state, transport, kCurlThread, together, 10,
        [&] {
            HttpRequest request;
            request.method = "POST";
            request.url = server.BaseUrl() + "/graphql/v2";
            request.body = request_body;
            request.headers = {{"Content-Type", "application/json"}};
            return request;
        },
        [&](const HttpResponse& response) { return response.status == 200 && response.body.size() == answer.size(); });
}
BENCHMARK(RailwayAnswers)
    ->Arg(1)
    ->Arg(3)
    ->ArgName("together")
    ->MinTime(2)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace railwatch::net

BENCHMARK_MAIN();
