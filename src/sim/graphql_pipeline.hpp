#pragma once

#include <optional>
#include <string>
#include <vector>

#include "net/http_server.hpp"
#include "sim/graphql/ast.hpp"
#include "sim/rate_limiter.hpp"
#include "sim/resolvers.hpp"
#include "sim/sim_state.hpp"

/// POST /graphql/v2 as a pipeline of stages, each of which may answer early:
/// faults → edge limit → rate limit → parse (JSON body and document) → validate → per-field cost
/// → authenticate → execute. Internal to src/sim; Simulator::HandleGraphql is the entry point.
namespace railwatch::sim {

/// The stages of one GraphQL request over the shared SimState.
class GraphqlPipeline {
  public:
    /// `state` must outlive the pipeline.
    explicit GraphqlPipeline(SimState& state) : state_(state) {}

    /// Answers one request. Thread-safe.
    net::ServerResponse Handle(const net::ServerRequest& req);

  private:
    enum class Fault { kNone, kHttp500, kHttp503, kHang, kReset, kMalformedJson, kHtml403 };

    /// What the stages learn about one request as it goes through them.
    struct Request {
        Request(const net::ServerRequest& req, core::Timestamp at, std::string trace)
            : http(req), now(at), trace_id(std::move(trace)) {}

        const net::ServerRequest& http;
        core::Timestamp now;
        std::string trace_id;
        Fault fault = Fault::kNone;
        RateLimitConfig limits;   ///< a snapshot, so that one request sees one configuration
        int max_root_fields = 0;  ///< ErrorConfig's, snapshot with `limits`
        RootFieldRefusal root_field_refusal = RootFieldRefusal::kComplexity;
        int hang_ms = 0;  ///< FaultConfig's, snapshot with `limits`
        std::string budget_key;
        std::optional<RateLimiter::Decision> budget;  ///< set by the rate-limit stage
        std::string query;
        nlohmann::json variables = nlohmann::json::object();
        std::string operation_name;
        std::optional<graphql::Document> document;
        std::vector<std::string> root_fields;  ///< per response key, after validation
        AuthKind auth = AuthKind::kAccount;
    };
    using Answer = std::optional<net::ServerResponse>;

    Answer InjectFaults(Request& r);
    /// No answer: the connection is reset (or, without a resetter, closed).
    net::ServerResponse BreakConnection(const Request& r);
    Answer EdgeLimit(Request& r);
    Answer RateLimit(Request& r);
    Answer ParseBody(Request& r);
    Answer ParseQuery(Request& r);
    Answer Validate(Request& r);
    Answer LimitRootFields(Request& r);
    Answer ChargeRootFields(Request& r);
    Answer Authenticate(Request& r);
    net::ServerResponse Execute(Request& r);

    /// Adds the rate-limit headers the configuration asks for (once the budget is known).
    net::ServerResponse WithBudgetHeaders(const Request& r, net::ServerResponse res) const;
    /// A request-level error body with Railway's extensions (code and traceId).
    static std::string ErrorBody(const Request& r, std::string message, std::string code, bool null_data = false);

    SimState& state_;
};

}  // namespace railwatch::sim
