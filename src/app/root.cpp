#include "app/root.hpp"

#include <spdlog/logger.h>

#include <cstdio>
#include <cstdlib>

#include "app/logging.hpp"

namespace railwatch::app {
namespace {

template <typename T>
T& Require(const std::unique_ptr<T>& part, const char* what) {
    if (!part) {
        // A command asked for a part it did not build: a wiring bug, not a run-time condition.
        std::fprintf(stderr, "railwatch: internal error: %s was not built (RootParts)\n", what);
        std::abort();
    }
    return *part;
}

}  // namespace

Root::Root(Config config, std::shared_ptr<spdlog::logger> logger)
    : config_(std::move(config)), logger_(logger ? std::move(logger) : NullLogger()) {}

Root::~Root() {
    StopRailway();
}

util::Result<std::unique_ptr<Root>> Root::Build(Config config, RootOptions options) {
    std::unique_ptr<Root> root(new Root(std::move(config), std::move(options.logger)));
    const Config& c = root->config_;
    root->probe_proxies_ = std::move(options.probe_proxies);

    if (options.parts.store) {
        auto opened = store::OpenStore(c.store.url, options.store);
        if (!opened) return tl::unexpected(opened.error());
        root->store_ = std::move(*opened);
        root->logger_->info("store: {}", root->store_->Describe());
    }

    if (options.parts.http || options.parts.railway) {
        if (options.transport.user_agent.empty()) options.transport.user_agent = railway::DefaultUserAgent();
        root->transport_ = std::make_unique<net::CurlTransport>(options.transport);
        net::CurlTransport* transport = root->transport_.get();
        root->metric_callbacks_.push_back(root->metrics_.AddCallbackGauge(
            "railwatch_http_requests_in_flight", "Outgoing HTTP requests submitted and not yet completed",
            [transport] { return static_cast<double>(transport->InFlight()); }));
    }

    if (options.parts.railway) {
        if (c.railway.token.empty()) {
            // The railway module owns the wording (which variables, where to get a token).
            auto none = railway::CredentialsFromEnvironment([](std::string_view) { return std::nullopt; });
            return tl::unexpected(none.error());
        }
        railway::BudgetConfig budget_config;
        budget_config.requests_per_hour = c.railway.requests_per_hour;
        budget_config.requests_per_second = c.railway.requests_per_second;
        root->budget_ = std::make_unique<railway::RequestBudget>(root->clock_, budget_config);

        railway::ClientConfig client_config;
        client_config.api_url = c.railway.api_url;
        client_config.batch_size = static_cast<std::size_t>(c.railway.batch_size);
        client_config.max_attempts = c.retry.max_attempts;
        client_config.max_mutation_attempts = c.retry.max_attempts;
        client_config.retry_base_delay = core::Millis(c.retry.base_delay_ms);
        client_config.retry_max_delay = core::Millis(c.retry.max_delay_ms);
        client_config.retry_factor = c.retry.factor;

        railway::Credentials credentials{c.railway.token_kind, c.railway.token.Reveal()};
        std::shared_ptr<spdlog::logger> logger = root->logger_;
        root->client_ = std::make_unique<railway::RailwayClient>(
            *root->transport_, root->clock_, *root->budget_, root->random_, std::move(credentials),
            std::move(client_config), [logger](std::string_view line) { logger->info("railway: {}", line); });
        root->logger_->info("railway: {} via {}", net::UrlForMessages(c.railway.api_url),
                            railway::Credentials{c.railway.token_kind, {}}.Describe());

        railway::RequestBudget* budget = root->budget_.get();
        root->metric_callbacks_.push_back(root->metrics_.AddCallbackGauge(
            "railwatch_railway_budget_remaining", "Railway requests the budget can still grant, per window", {"window"},
            [budget] {
                const railway::BudgetSnapshot s = budget->Snapshot();
                return std::vector<util::MetricSample>{{{"hour"}, s.hour_remaining}, {{"second"}, s.second_remaining}};
            }));
        root->metric_callbacks_.push_back(root->metrics_.AddCallbackCounter(
            "railwatch_railway_requests_total", "Requests sent to Railway (granted by the budget)", {}, [budget] {
                return std::vector<util::MetricSample>{{{}, static_cast<double>(budget->Snapshot().requests_sent)}};
            }));
        root->metric_callbacks_.push_back(root->metrics_.AddCallbackCounter(
            "railwatch_railway_rate_limited_total", "HTTP 429 answers from Railway", {}, [budget] {
                return std::vector<util::MetricSample>{{{}, static_cast<double>(budget->Snapshot().rate_limited)}};
            }));
        root->metric_callbacks_.push_back(root->metrics_.AddCallbackGauge(
            "railwatch_railway_priced_per_root_field",
            "1 while Railway seems to charge each root field of a request (status requests carry one deployment)", {},
            [budget] {
                return std::vector<util::MetricSample>{{{}, budget->Snapshot().priced_per_root_field ? 1.0 : 0.0}};
            }));
    }
    return root;
}

store::Store& Root::store() {
    return Require(store_, "the store");
}

railway::RailwayApi& Root::railway() {
    return Require(client_, "the Railway client");
}

railway::RequestBudget& Root::budget() {
    return Require(budget_, "the Railway request budget");
}

net::HttpTransport& Root::http() {
    return Require(transport_, "the HTTP transport");
}

void Root::StopRailway() {
    if (client_) client_->Stop();
}

}  // namespace railwatch::app
