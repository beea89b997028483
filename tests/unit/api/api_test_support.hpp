#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/event_hub.hpp"
#include "api/rest_api.hpp"
#include "fakes/fake_operations.hpp"
#include "net/http_server.hpp"
#include "store/store.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"
#include "util/metrics.hpp"

/// A RestApi over a real SQLite store in a temp dir, a FakeOperations and a FakeClock; requests
/// are built as the HTTP adapter would build them, without sockets.
namespace railwatch::api::test {

inline constexpr std::string_view kToken = "test-api-token-0123456789";

/// "%2C" → ",", "+" → " ".
inline std::string PercentDecode(std::string_view in) {
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size()) {
            out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
            i += 2;
        } else if (in[i] == '+') {
            out += ' ';
        } else {
            out += in[i];
        }
    }
    return out;
}

/// A request for `target` ("/api/v1/instances?limit=2"), as net::HttpServer hands it over.
inline net::ServerRequest MakeRequest(std::string method, std::string_view target, std::string body = {},
                                      bool with_token = true) {
    net::ServerRequest req;
    req.method = std::move(method);
    const auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) {
        req.has_query = true;
        req.query = std::string(target.substr(q + 1));
        std::string_view rest = req.query;
        while (!rest.empty()) {
            const auto amp = rest.find('&');
            std::string_view pair = rest.substr(0, amp);
            const auto eq = pair.find('=');
            req.params.emplace_back(PercentDecode(pair.substr(0, eq)),
                                    eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
            if (amp == std::string_view::npos) break;
            rest.remove_prefix(amp + 1);
        }
    }
    if (with_token) req.headers.emplace_back("Authorization", "Bearer " + std::string(kToken));
    req.body = std::move(body);
    req.remote_addr = "127.0.0.1";
    return req;
}

class ApiTest : public ::testing::Test {
  protected:
    ApiTest()
        : store_(store::OpenStore("sqlite:" + dir_.File("railwatch.db")).value()),
          ops_(*store_, clock_),
          hub_(clock_),
          api_(Roles(), ops_, clock_, &metrics_, &hub_, Options()) {}

    api::StoreRoles Roles() {
        store::Store& s = *store_;
        return api::StoreRoles{s, s, s, s, s, s, s, s, s};
    }

    static api::RestApiOptions Options() {
        api::RestApiOptions options;
        options.api_token = std::string(kToken);
        options.max_body_bytes = 4096;
        options.webhook_secret = "hook-secret";
        return options;
    }

    net::ServerResponse Call(std::string method, std::string_view target, std::string body = {},
                             bool with_token = true) {
        return api_.Handle(MakeRequest(std::move(method), target, std::move(body), with_token));
    }

    /// The JSON body of an answer (fails the test when it is not JSON).
    static nlohmann::json Json(const net::ServerResponse& res) {
        nlohmann::json parsed = nlohmann::json::parse(res.body, nullptr, false);
        EXPECT_FALSE(parsed.is_discarded()) << res.body;
        return parsed;
    }

    /// Adds an instance through the API and returns its id.
    std::string AddInstance(const std::string& service = "svc-1", const std::string& deployment = "dep-1") {
        auto res = Call("POST", "/api/v1/instances",
                        nlohmann::json{{"serviceId", service},
                                       {"environmentId", "env-1"},
                                       {"deploymentId", deployment},
                                       {"projectName", "checkout"}}
                            .dump());
        EXPECT_EQ(res.status, 201) << res.body;
        return Json(res)["id"].get<std::string>();
    }

    railwatch::test::TempDir dir_{"railwatch-api-"};
    util::FakeClock clock_;
    util::MetricsRegistry metrics_;
    std::unique_ptr<store::Store> store_;
    fakes::FakeOperations ops_;
    EventHub hub_;
    RestApi api_;
};

}  // namespace railwatch::api::test
