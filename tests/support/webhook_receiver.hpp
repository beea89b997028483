#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

/// A webhook receiver on 127.0.0.1 that checks Standard Webhooks signatures the way a consumer
/// would — with its own SHA-256 and HMAC (FIPS 180-4, RFC 2104), independent of railwatch's
/// OpenSSL-based signer — and records what it got. It can be stopped (connections refused) and
/// started again on the same port, and told what to answer. For integration tests and benchmarks.
namespace railwatch::test {

/// SHA-256 of `data`: 32 raw bytes. Independent implementation (no OpenSSL).
std::string Sha256(std::string_view data);
/// HMAC-SHA256 (RFC 2104) on top of Sha256: 32 raw bytes.
std::string HmacSha256Independent(std::string_view key, std::string_view data);
/// Standard base64 with padding; decoding ignores nothing and returns nullopt on bad input.
std::string Base64EncodeIndependent(std::string_view bytes);
std::optional<std::string> Base64DecodeIndependent(std::string_view text);

/// One request the receiver accepted or refused.
struct ReceivedWebhook {
    std::string id;         ///< webhook-id
    std::string timestamp;  ///< webhook-timestamp
    std::string signature;  ///< webhook-signature
    std::string body;
    bool signature_valid = false;
    int answered = 0;  ///< the status it answered
};

/// Thread-safe. Listens from Start() until Stop() or destruction.
class WebhookReceiver {
  public:
    /// `secrets` are "whsec_…" strings; a request is valid when one of its v1 signatures matches
    /// one of them and its timestamp is within `tolerance_s` of the real clock. No secrets: every
    /// request counts as valid (Slack/Discord formats are unsigned by their receivers).
    explicit WebhookReceiver(const std::vector<std::string>& secrets, int tolerance_s = 300);
    ~WebhookReceiver();

    WebhookReceiver(const WebhookReceiver&) = delete;
    WebhookReceiver& operator=(const WebhookReceiver&) = delete;

    /// Listens on 127.0.0.1: at a free port the first time, on the same port afterwards. Throws
    /// std::runtime_error when it cannot bind.
    void Start();
    /// Closes the listener and every connection: new connections are refused until Start().
    void Stop();

    /// What to answer a request with a valid signature (invalid ones always get 401).
    void AnswerWith(int status, std::string retry_after = {});
    /// How long to wait before deciding and answering each request (a slow receiver); 0 by default.
    /// The wait ends early when the receiver stops.
    void SetDelay(std::chrono::milliseconds delay);
    /// Whether Received() keeps every request (default true; benchmarks turn it off).
    void SetKeepLog(bool keep);

    int port() const { return port_; }
    /// "http://127.0.0.1:<port>" + path.
    std::string Url(std::string_view path = "/hooks/railwatch") const;

    /// Requests answered 2xx, per webhook-id (a receiver's idempotency key): more than 1 means
    /// the same message was accepted twice.
    std::map<std::string, int> AcceptedById() const;
    std::size_t accepted() const;
    std::size_t duplicates() const;  ///< accepted requests whose id had been accepted before
    std::size_t invalid_signatures() const;
    std::size_t requests() const;
    std::vector<ReceivedWebhook> Received() const;

  private:
    void AcceptLoop(int listen_fd);
    void Serve(int fd);
    bool Verify(const ReceivedWebhook& hook) const;
    int Decide(ReceivedWebhook& hook, std::string& retry_after);

    std::vector<std::string> keys_;
    int tolerance_s_;
    int port_ = 0;
    std::atomic<bool> stop_{true};
    int listen_fd_ = -1;
    std::thread acceptor_;
    std::mutex threads_mutex_;
    std::list<std::thread> threads_;  // guarded by threads_mutex_
    std::set<int> open_fds_;          // guarded by threads_mutex_

    mutable std::mutex mutex_;
    int status_ = 200;                           // guarded by mutex_
    std::string retry_after_;                    // guarded by mutex_
    std::chrono::milliseconds delay_{0};         // guarded by mutex_
    std::vector<ReceivedWebhook> log_;           // guarded by mutex_
    std::map<std::string, int> accepted_by_id_;  // guarded by mutex_
    std::size_t accepted_ = 0;                   // guarded by mutex_
    std::size_t duplicates_ = 0;                 // guarded by mutex_
    std::size_t invalid_ = 0;                    // guarded by mutex_
    std::atomic<std::size_t> requests_{0};
    bool keep_log_ = true;  // guarded by mutex_
};

}  // namespace railwatch::test
