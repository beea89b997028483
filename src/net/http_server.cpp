#include "net/http_server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>

#include "net/http_transport.hpp"
#include "util/thread_name.hpp"

namespace railwatch::net {
namespace {

// The most workers when HttpServerOptions::max_threads is 0: four times the kept ones, at least this.
constexpr std::size_t kMinMaxThreads = 64;

std::string JsonError(std::string_view code, std::string_view message) {
    // Messages here are fixed ASCII strings without quotes or backslashes.
    return fmt::format(R"({{"error":{{"code":"{}","message":"{}"}}}})", code, message);
}

// httplib hands each accepted connection to a task queue, and a worker holds the connection for
// as long as it stays open: with keep-alive, as long as its client sends the next request within
// the keep-alive timeout. With a fixed pool, as many busy keep-alive clients as there are
// workers lock every other client out for as long as they keep sending (`railwatch sim`'s eight
// workers and eight clients sending a request every 2 s: a ninth client's request unanswered
// after 30 s). This pool keeps `base` workers and starts another whenever a connection would
// otherwise wait, up to `most`; beyond that connections wait in order. Workers, once started,
// stay until shutdown (idle, they only wait on a condition).
class ElasticPool final : public httplib::TaskQueue {
  public:
    ElasticPool(std::size_t base, std::size_t most) : most_(std::max(most, base)) {
        std::lock_guard lock(mutex_);
        try {
            for (std::size_t i = 0; i < base; ++i)
                StartWorker();
        } catch (const std::system_error&) {
            // Fewer threads to be had than asked (a resource limit): those started serve, and
            // each connection that finds none idle tries to start another.
        }
    }
    ~ElasticPool() override { shutdown(); }
    ElasticPool(const ElasticPool&) = delete;
    ElasticPool& operator=(const ElasticPool&) = delete;

    void enqueue(std::function<void()> fn) override {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(fn));
            // Every idle worker already has a job waiting for it: one more, if allowed.
            if (jobs_.size() > idle_ && workers_.size() < most_) {
                try {
                    StartWorker();
                    return;
                } catch (const std::system_error&) {
                    // No thread to be had (a resource limit): the job waits for a worker.
                }
            }
        }
        wake_.notify_one();
    }

    // Runs the jobs already queued, then joins every worker (as httplib's ThreadPool does).
    void shutdown() override {
        std::vector<std::thread> workers;
        {
            std::lock_guard lock(mutex_);
            if (stopping_ && workers_.empty()) return;
            stopping_ = true;
            workers.swap(workers_);
        }
        wake_.notify_all();
        for (std::thread& worker : workers)
            worker.join();
    }

  private:
    // Under mutex_. A worker counts as idle from its start (it cannot take a job before the
    // caller lets go of the mutex), so that a burst of connections starts one worker each.
    void StartWorker() {
        workers_.emplace_back([this] { Work(); });
        ++idle_;
    }

    void Work() {
        util::NameThisThread("rw-http");
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) break;  // stopping, nothing left
            std::function<void()> job = std::move(jobs_.front());
            jobs_.pop_front();
            --idle_;
            lock.unlock();
            job();
            job = nullptr;
            lock.lock();
            ++idle_;
        }
        --idle_;
    }

    const std::size_t most_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::thread> workers_;
    std::size_t idle_ = 0;
    bool stopping_ = false;
};

}  // namespace

std::optional<std::string_view> ServerRequest::Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (EqualsIgnoreCase(key, name)) return std::string_view(value);
    }
    return std::nullopt;
}

std::optional<std::string_view> ServerRequest::Param(std::string_view name) const {
    for (const auto& [key, value] : params) {
        if (key == name) return std::string_view(value);
    }
    return std::nullopt;
}

struct HttpServer::Impl {
    HttpServerOptions options;
    httplib::Server server;
    std::thread thread;
    int port = 0;
    bool started = false;
    std::atomic<bool> stop_requested{false};
    ServerHandler not_found;

    void Dispatch(const httplib::Request& in, httplib::Response& out, const ServerHandler& handler) {
        ServerRequest req;
        req.method = in.method;
        req.path = in.path;
        const auto q = in.target.find('?');
        if (q != std::string::npos) {
            req.has_query = true;
            req.query = in.target.substr(q + 1);
        }
        req.headers.reserve(in.headers.size());
        for (const auto& [k, v] : in.headers)
            req.headers.emplace_back(k, v);
        for (const auto& [k, v] : in.params)
            req.params.emplace_back(k, v);
        for (const auto& m : in.matches)
            req.matches.push_back(m.str());
        req.body = in.body;
        req.remote_addr = in.remote_addr;
        req.remote_port = in.remote_port;
        req.local_port = in.local_port;

        ServerResponse res;
        try {
            handler(req, res);
        } catch (const std::exception& e) {
            res = ServerResponse{};
            res.status = 500;
            res.body = JsonError("internal", "the handler failed; see the server log");
        }

        if (res.action == ServerResponse::Action::kAbort) {
            // cpp-httplib has no "close without answering": promise a body and fail to produce
            // it, which ends the exchange with the connection closed and no body. The status
            // stays below 400, or the error handler would replace the failing body with a page.
            out.status = 200;
            out.set_content_provider(1024, "application/json",
                                     [](size_t, size_t, httplib::DataSink&) { return false; });
            return;
        }

        out.status = res.status;
        bool encoded = false;
        for (auto& [k, v] : res.headers) {
            encoded = encoded || EqualsIgnoreCase(k, "Content-Encoding");
            out.set_header(k, v);
        }
        if (encoded || res.stream) {
            // cpp-httplib compresses text answers on its own when the client accepts gzip or br,
            // deciding from the request's Accept-Encoding after the handler ran. A body the handler
            // encoded itself must not be compressed twice, and a stream must not sit in a
            // compressor's buffer (Server-Sent Events would arrive late or never): hide the header.
            // The request object is httplib's own, not const; only its view here is.
            const_cast<httplib::Request&>(in).headers.erase("Accept-Encoding");
        }
        if (res.stream) {
            auto stream = std::move(res.stream);
            out.set_chunked_content_provider(res.content_type, [this, stream](size_t, httplib::DataSink& sink) {
                const ChunkWriter writer = [&sink](std::string_view chunk) {
                    if (!sink.is_writable()) return false;
                    return sink.write(chunk.data(), chunk.size());
                };
                if (stop_requested.load() || !stream(writer)) {
                    sink.done();
                }
                return true;
            });
            return;
        }
        out.set_content(res.body, res.content_type.c_str());
    }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    if (impl_->options.threads == 0) impl_->options.threads = 1;
    const std::size_t threads = impl_->options.threads;
    const std::size_t most = impl_->options.max_threads != 0 ? impl_->options.max_threads
                                                             : std::max<std::size_t>(4 * threads, kMinMaxThreads);
    impl_->server.new_task_queue = [threads, most] { return new ElasticPool(threads, most); };
    impl_->server.set_payload_max_length(impl_->options.max_body_bytes);
    impl_->server.set_read_timeout(impl_->options.read_timeout);
    impl_->server.set_write_timeout(impl_->options.write_timeout);
    impl_->server.set_keep_alive_timeout(impl_->options.keep_alive_timeout.count());
    impl_->server.set_keep_alive_max_count(impl_->options.keep_alive_max_requests);
    impl_->server.set_tcp_nodelay(true);
    // cpp-httplib's default also sets SO_REUSEPORT, which lets a second server bind a port that is
    // in use; keep only SO_REUSEADDR so that "address in use" is reported.
    impl_->server.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    impl_->server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return;
        if (res.status == 413) {
            res.set_content(JsonError("payload_too_large", "the request body is larger than the server accepts"),
                            "application/json");
        } else if (res.status >= 400) {
            res.set_content(JsonError("bad_request", "the server could not handle this request"), "application/json");
        }
    });
    impl_->not_found = [](const ServerRequest&, ServerResponse& res) {
        res.status = 404;
        res.body = JsonError("not_found", "no such route");
    };
}

HttpServer::~HttpServer() {
    Stop();
}

void HttpServer::Route(const std::string& method, const std::string& pattern, ServerHandler handler) {
    Impl* impl = impl_.get();
    auto wrapped = [impl, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        impl->Dispatch(req, res, handler);
    };
    if (method == "GET") {
        impl_->server.Get(pattern, wrapped);
    } else if (method == "POST") {
        impl_->server.Post(pattern, wrapped);
    } else if (method == "PUT") {
        impl_->server.Put(pattern, wrapped);
    } else if (method == "PATCH") {
        impl_->server.Patch(pattern, wrapped);
    } else if (method == "DELETE") {
        impl_->server.Delete(pattern, wrapped);
    } else if (method == "OPTIONS") {
        impl_->server.Options(pattern, wrapped);
    }
}

void HttpServer::SetNotFoundHandler(ServerHandler handler) {
    impl_->not_found = std::move(handler);
}

util::Result<int> HttpServer::Start() {
    if (impl_->started) return impl_->port;
    Impl* impl = impl_.get();
    // Unmatched paths: cpp-httplib calls the error handler with 404; answer through ours.
    impl_->server.set_error_handler([impl](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404 && res.body.empty()) {
            impl->Dispatch(req, res, impl->not_found);
            return;
        }
        if (!res.body.empty()) return;
        if (res.status == 413) {
            res.set_content(JsonError("payload_too_large", "the request body is larger than the server accepts"),
                            "application/json");
        } else if (res.status >= 400) {
            res.set_content(JsonError("bad_request", "the server could not handle this request"), "application/json");
        }
    });

    int port = impl_->options.port;
    if (port == 0) {
        port = impl_->server.bind_to_any_port(impl_->options.host);
        if (port <= 0) {
            return util::Fail(util::ErrorCode::kUnavailable,
                              fmt::format("cannot listen on {}:0: no free port could be bound; check the host address",
                                          impl_->options.host));
        }
    } else if (!impl_->server.bind_to_port(impl_->options.host, port)) {
        return util::Fail(util::ErrorCode::kUnavailable,
                          fmt::format("cannot listen on {}:{}: the address is in use or not local; choose another "
                                      "--listen address",
                                      impl_->options.host, port));
    }
    impl_->port = port;
    impl_->started = true;
    impl_->thread = std::thread([impl] {
        util::NameThisThread("rw-http");  // its request threads inherit the name
        impl->server.listen_after_bind();
    });
    // cpp-httplib's stop() is a no-op until the accept loop runs: wait for it (bounded), so
    // that a Stop() right after Start() cannot be lost.
    for (int i = 0; i < 5000 && !impl_->server.is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return port;
}

void HttpServer::Stop() {
    impl_->stop_requested.store(true);
    if (!impl_->started) return;
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
    impl_->started = false;
}

int HttpServer::Port() const {
    return impl_->port;
}

const std::string& HttpServer::Host() const {
    return impl_->options.host;
}

std::string HttpServer::BaseUrl() const {
    return fmt::format("http://{}:{}", impl_->options.host, impl_->port);
}

bool HttpServer::StopRequested() const {
    return impl_->stop_requested.load();
}

}  // namespace railwatch::net
