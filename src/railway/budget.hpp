#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "net/http_transport.hpp"
#include "util/clock.hpp"

/// The Railway request budget: how many API requests railwatch may still send, and how many
/// deployments that lets it watch.
namespace railwatch::railway {

/// Plan limits (Railway docs: Free 100/h, Hobby 1,000/h and 10/s, Pro 10,000/h and 50/s).
struct BudgetConfig {
    int requests_per_hour = 1000;
    int requests_per_second = 10;
};

/// Whether a request may go now, or how long to wait.
struct BudgetGrant {
    bool granted = false;
    core::Duration wait{0};  ///< when not granted: the earliest moment worth asking again
    /// When granted: what the request took from the buckets; give it back to Observe (answered)
    /// or Release (not answered) — until then it counts as in flight.
    double cost = 0;
};

/// What the budget knows right now.
struct BudgetSnapshot {
    int hour_limit = 0;                           ///< requests per hour (the server's X-RateLimit-Limit once seen)
    int second_limit = 0;                         ///< requests per second
    double hour_remaining = 0;                    ///< tokens left in the hourly bucket
    double second_remaining = 0;                  ///< tokens left in the per-second bucket
    std::optional<int> server_remaining;          ///< last X-RateLimit-Remaining of the hourly window
    std::optional<core::Timestamp> server_reset;  ///< last X-RateLimit-Reset of the hourly window
    std::optional<int> server_second_remaining;   ///< last X-RateLimit-Remaining of the per-second window
    core::Duration paused_for{0};  ///< > 0 while a 429 Retry-After (or an exhausted window) holds requests
    long long requests_sent = 0;   ///< requests granted since start
    long long rate_limited = 0;    ///< 429 answers seen
    /// Railway seems to charge each root field (alias) of a request, not each request
    /// (RequestBudget::Observe): requests then cost their root fields, and status requests carry
    /// one deployment each (MaxRootFieldsPerRequest), for RequestBudget::kPerRootFieldFor.
    bool priced_per_root_field = false;
    /// Processes sharing the token's limits (RequestBudget::SetShare): the buckets above refill
    /// at the limits divided by this.
    int parts = 1;
};

/// Fleet capacity: how many deployments a request budget can watch.
struct FleetCapacity {
    long long max_deployments = 0;        ///< watchable at `check_interval` with `batch_size` aliases
    double requests_per_hour_needed = 0;  ///< for `deployments` (when given)
    bool fits = true;                     ///< requests_per_hour_needed ≤ the hourly limit
};

/// Deployments watchable with `hour_limit` requests/hour and `second_limit` requests/second when
/// each is checked every `check_interval`, `batch_size` per request; and the requests/hour
/// `deployments` would need. Pure.
FleetCapacity ComputeFleetCapacity(int hour_limit, int second_limit, core::Duration check_interval,
                                   std::size_t batch_size, long long deployments = 0);

/// Parses X-RateLimit-Reset into a point in time. Railway does not document the unit, so this
/// accepts epoch seconds, epoch milliseconds, seconds from now (small numbers) and RFC 3339.
std::optional<core::Timestamp> ParseRateLimitReset(std::string_view value, core::Timestamp now);

/// Parses Retry-After: delta seconds (what Railway sends) or an HTTP date is not supported and
/// yields nullopt.
std::optional<core::Duration> ParseRetryAfter(std::string_view value);

/// One quota of a `RateLimit-Policy` header: `quota` requests per `window_s` seconds.
struct RateLimitPolicyItem {
    long long quota = 0;
    long long window_s = 0;
};

/// Parses `RateLimit-Policy` in either IETF draft syntax: `10000;w=3600, 50;w=1` (drafts ≤ 06) or
/// `"hourly";q=10000;w=3600, "burst";q=50;w=1` (later drafts). Items without a positive quota
/// and window are skipped.
std::vector<RateLimitPolicyItem> ParseRateLimitPolicy(std::string_view value);

/// Which window an answer's X-RateLimit-Limit/Remaining/Reset describe.
enum class RateLimitWindow {
    kUnknown,  ///< cannot tell: the numbers are not used
    kSecond,   ///< the per-second window
    kHour,     ///< the hourly window
};

/// Tells the window of X-RateLimit-* (Railway does not document it; the limits are per hour and
/// per second by plan): a `RateLimit-Policy` quota equal to `limit` (or a policy of one quota)
/// names it; else the reset horizon does — up to a minute away is the per-second window (unless
/// `limit` is at least the hourly limit known: then the hour is ending), further is the hourly
/// one; without a reset, only a limit of at least the hourly limit known is taken as hourly, so
/// that a per-second limit never shrinks the hourly budget. Pure.
RateLimitWindow RateLimitWindowOf(long long limit, std::optional<core::Duration> reset_in,
                                  const std::vector<RateLimitPolicyItem>& policy, int hour_limit);

/// Two token buckets (per second and per hour), corrected by the server's X-RateLimit-* headers and
/// paused by 429 Retry-After; besides, the requests granted in any second (kOneSecondWindow) never
/// exceed the per-second limit (this process's share of it): a full bucket alone would let a window
/// that starts with its burst take twice the limit (the burst, then the refill), which a server
/// counting fixed or sliding one-second windows refuses. Time comes from the injected clock (steady
/// time for refills, wall time to read X-RateLimit-Reset). When several processes send with one
/// token, each holds its share (SetShare): its buckets refill at the token's limits divided among
/// them, and what the server says remains of a window is divided the same way. Thread-safe.
class RequestBudget {
  public:
    RequestBudget(const util::Clock& clock, BudgetConfig config);

    /// Takes what a request of `root_fields` root fields (aliases) costs from both buckets if both
    /// hold it; otherwise says how long to wait. A request costs 1 while Railway charges per
    /// request, its root fields once Railway seems to charge each of them (never more than a
    /// bucket holds).
    BudgetGrant TryAcquire(int root_fields = 1);

    /// Reads the answer to a request of `root_fields` root fields that was granted `granted`
    /// (BudgetGrant::cost): `RateLimit-Policy` sets both limits; X-RateLimit-Limit/Remaining/Reset
    /// correct the bucket of the window they describe (RateLimitWindowOf; Reset as epoch s, epoch
    /// ms, seconds from now or RFC 3339) — to what remains less what this process has in flight
    /// (granted, not yet answered: the server may not have counted those yet; counting one it has
    /// only delays a request a little), so that requests in flight when a window's Remaining
    /// arrives do not overfill it — a Remaining of 0 pauses requests until Reset; on a 429,
    /// Retry-After (1 s without one) pauses them.
    ///
    /// Railway documents its limits in requests, yet its schema speaks of points
    /// (`ApiTokenRateLimit.remainingPoints`), and a server may charge each root field. A 429 for a
    /// request of several root fields while, counted in requests, there was room — the answer says
    /// its per-second window had some left; or, when it describes the hour or nothing, this process
    /// had spent less than half its per-second share and the hour was not used up — is one that
    /// counting requests cannot explain; the second
    /// such 429 within kUnexplainedWithin makes the budget charge each root field from then on, for
    /// kPerRootFieldFor (then requests cost 1 again; a server that still charges per field is
    /// learnt again from two more 429s). Returns true for the answer that taught it that.
    bool Observe(int http_status, const net::HttpHeaders& headers, int root_fields = 1, double granted = 0);

    /// A granted request of `granted` cost (BudgetGrant::cost) that got no answer (never sent,
    /// cancelled, a transport failure): no longer in flight.
    void Release(double granted);

    /// The most root fields worth putting in one request: no limit (SIZE_MAX) while Railway
    /// charges per request; 1 while it seems to charge each root field — batching then saves no
    /// budget, a request of several could exceed a whole window and never fit, and with one
    /// deployment per request every plan made in requests (the monitor's, Capacity) holds.
    std::size_t MaxRootFieldsPerRequest() const;

    /// The span over which the grants never exceed the per-second limit: a second and a tenth, as
    /// a request granted a second after another may reach the server less than a second after it
    /// (the first one's way was slower), and the server counts arrivals.
    static constexpr core::Duration kOneSecondWindow = core::Millis(1100);

    /// Unexplained 429s this close together make the budget charge per root field.
    static constexpr core::Duration kUnexplainedWithin = core::Seconds(60);
    /// How long it charges per root field before trying per request again.
    static constexpr core::Duration kPerRootFieldFor = core::Seconds(3600);

    /// Holds every request for `delay` (a 429's Retry-After).
    void PauseFor(core::Duration delay);

    /// This process is one of `parts` (clamped to ≥ 1) sending with the token: from now on its
    /// buckets refill at 1/parts of each limit, hold at most that share (never less than one
    /// request), and take 1/parts of what the server says remains. Tokens already in a bucket
    /// above its new share are dropped; a larger share refills from now on.
    void SetShare(int parts);

    BudgetSnapshot Snapshot() const;

    /// Fleet capacity for the current limits.
    FleetCapacity Capacity(core::Duration check_interval, std::size_t batch_size, long long deployments = 0) const;

  private:
    void RefillLocked(util::SteadyTime now);
    // Drops from `recent_` the grants kOneSecondWindow old or older.
    void ForgetOlderThanASecondLocked(util::SteadyTime now);
    // What the grants of the kOneSecondWindow before `now` cost.
    double CostOfTheLastSecondLocked(util::SteadyTime now) const;
    // How long until the grants of the last second leave room for `cost` (zero: now).
    core::Duration WaitForTheLastSecondLocked(util::SteadyTime now, double cost) const;
    // This process's share of each limit per second (hour: per second of the hour), and the
    // most each bucket holds.
    double HourRateLocked() const;
    double SecondRateLocked() const;
    double HourCapLocked() const;
    double SecondCapLocked() const;
    bool PerRootFieldLocked(util::SteadyTime now) const;

    const util::Clock& clock_;
    mutable std::mutex mutex_;
    int hour_limit_;
    int second_limit_;
    double hour_tokens_;
    double second_tokens_;
    util::SteadyTime last_refill_;
    util::SteadyTime paused_until_;
    std::optional<int> server_remaining_;
    std::optional<core::Timestamp> server_reset_;
    std::optional<int> server_second_remaining_;
    long long requests_sent_ = 0;
    long long rate_limited_ = 0;
    int parts_ = 1;
    double in_flight_ = 0;  // cost granted and not yet observed or released
    // The grants of the last kOneSecondWindow (time, cost), oldest first.
    std::deque<std::pair<util::SteadyTime, double>> recent_;
    // Charging per root field until then (none: per request).
    std::optional<util::SteadyTime> per_root_field_until_;
    // The last 429 that counting requests could not explain.
    std::optional<util::SteadyTime> last_unexplained_429_;
};

}  // namespace railwatch::railway
