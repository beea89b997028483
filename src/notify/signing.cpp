#include "notify/signing.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "util/base64.hpp"

namespace railwatch::notify {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Sha256Hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    std::string out;
    out.reserve(std::size_t{2} * SHA256_DIGEST_LENGTH);
    for (const unsigned char b : digest)
        out += fmt::format("{:02x}", b);
    return out;
}

util::Result<std::string> DecodeWebhookSecret(std::string_view secret) {
    if (!secret.starts_with(kSecretPrefix)) {
        return util::Fail(util::ErrorCode::kInvalidArgument, "a webhook secret must start with \"whsec_\"");
    }
    auto key = util::Base64Decode(secret.substr(kSecretPrefix.size()));
    if (!key || key->empty()) {
        return util::Fail(util::ErrorCode::kInvalidArgument,
                          "a webhook secret must be \"whsec_\" followed by base64 key bytes");
    }
    return key;
}

std::string WebhookMessageId(std::string_view dedup_key) {
    return "msg_" + Sha256Hex(dedup_key).substr(0, 32);
}

util::Result<WebhookSigner> WebhookSigner::Create(const std::vector<std::string>& secrets) {
    WebhookSigner signer;
    for (std::size_t i = 0; i < secrets.size(); ++i) {
        auto key = DecodeWebhookSecret(secrets[i]);
        if (!key) {
            return util::Fail(util::ErrorCode::kInvalidArgument,
                              fmt::format("webhook secret {}: {}", i + 1, key.error().message));
        }
        signer.keys_.push_back(std::move(*key));
    }
    return signer;
}

std::string WebhookSigner::Sign(std::string_view webhook_id, std::int64_t unix_seconds, std::string_view body) const {
    std::string signed_content;
    signed_content.reserve(webhook_id.size() + body.size() + 24);
    signed_content.append(webhook_id);
    signed_content += '.';
    signed_content += std::to_string(unix_seconds);
    signed_content += '.';
    signed_content.append(body);
    std::string header;
    for (const std::string& key : keys_) {
        if (!header.empty()) header += ' ';
        header += "v1,";
        header += util::Base64Encode(HmacSha256(key, signed_content));
    }
    return header;
}

}  // namespace railwatch::notify
