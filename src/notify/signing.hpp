#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

/// Standard Webhooks signing (conventions.md): `webhook-signature: v1,<base64 HMAC-SHA256(key,
/// "<webhook-id>.<webhook-timestamp>.<body>")>`, one value per valid secret, the key being the
/// base64-decoded part of a "whsec_" secret. Built on OpenSSL's libcrypto.
namespace railwatch::notify {

/// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

/// SHA-256 of `data` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view data);

/// The key bytes of a "whsec_" + base64 secret; kInvalidArgument otherwise (the secret is not
/// quoted).
util::Result<std::string> DecodeWebhookSecret(std::string_view secret);

/// The `webhook-id` of a delivery: "msg_" + the first 32 hex digits of SHA-256(dedup_key). Stable:
/// every attempt of the same outbox row (and a row enqueued twice with the same key) carries it.
std::string WebhookMessageId(std::string_view dedup_key);

/// Signs webhook requests with one or more secrets. Immutable after Create; thread-safe.
class WebhookSigner {
  public:
    /// Decodes every secret; kInvalidArgument naming the secret's position (not its value) when
    /// one is not "whsec_" + base64. No secrets: Sign returns an empty string (unsigned).
    static util::Result<WebhookSigner> Create(const std::vector<std::string>& secrets);

    /// The `webhook-signature` header value: "v1,<sig1> v1,<sig2> …", one per secret, in order.
    std::string Sign(std::string_view webhook_id, std::int64_t unix_seconds, std::string_view body) const;

    std::size_t key_count() const { return keys_.size(); }

  private:
    std::vector<std::string> keys_;
};

}  // namespace railwatch::notify
