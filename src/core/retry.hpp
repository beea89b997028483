#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/time.hpp"

/// Retry with exponential backoff and full jitter (AWS Architecture Blog, "Exponential Backoff
/// and Jitter"): the delay before retry n is uniform in [0, min(cap, base * factor^(n-1))), and
/// never less than a server's Retry-After.
///
///   BackoffPolicy{}                         max 3 attempts, base 1 s, cap 30 s, factor 2
///   BackoffCeiling(policy, attempts_made)   -> min(cap, base * factor^(attempts_made-1))
///   NextRetryDelay(policy, attempts_made, unit_random, retry_after) -> delay, or nullopt when
///                                           the attempts are used up
///   RetryWithBackoff(op, retryable, sleep, random, policy) -> RetryResult<R>
///   RandomSource / SequenceRandom           injected randomness (core may not use <random>)
///
/// Everything here is pure except through the callables the caller passes in.
namespace railwatch::core {

/// The seed's retry configuration. Values out of range are clamped by the functions below:
/// max_attempts < 1 counts as 1, factor < 1 as 1, negative durations as 0.
struct BackoffPolicy {
    int max_attempts = 3;        ///< total attempts, the first one included
    Duration base = Seconds(1);  ///< ceiling of the first retry's delay
    Duration cap = Seconds(30);  ///< the ceiling never exceeds this
    double factor = 2.0;         ///< growth of the ceiling per attempt
};

/// A source of uniform numbers in [0, 1). Implementations need not be thread-safe; give each
/// thread its own. util/ provides the real one; tests use SequenceRandom.
class RandomSource {
  public:
    virtual ~RandomSource() = default;
    /// A number in [0, 1).
    virtual double NextUnit() = 0;
};

/// A deterministic RandomSource for tests: returns `values` in order and starts over at the end.
/// Values are clamped into [0, 1); an empty list yields 0 forever. Not thread-safe.
class SequenceRandom final : public RandomSource {
  public:
    explicit SequenceRandom(std::vector<double> values);
    double NextUnit() override;
    /// How many numbers have been drawn.
    std::size_t draws() const { return draws_; }

  private:
    std::vector<double> values_;
    std::size_t next_ = 0;
    std::size_t draws_ = 0;
};

/// Clamps `unit` into [0, 1) (NaN becomes 0).
double ClampUnit(double unit);

/// The jitter ceiling after `attempts_made` failed attempts (>= 1):
/// min(cap, base * factor^(attempts_made - 1)). Saturates instead of overflowing.
Duration BackoffCeiling(const BackoffPolicy& policy, int attempts_made);

/// The delay before the next attempt, after `attempts_made` attempts have failed; nullopt when
/// attempts_made >= max_attempts (give up). Full jitter: floor(unit_random * ceiling), then raised
/// to `retry_after` when the server asked for a longer wait (the delay is never below it; it may
/// exceed `cap`, since the server knows best). `unit_random` is clamped into [0, 1).
std::optional<Duration> NextRetryDelay(const BackoffPolicy& policy, int attempts_made, double unit_random,
                                       std::optional<Duration> retry_after = std::nullopt);

/// What a retryable predicate may return instead of a bool: whether to retry and the server's
/// Retry-After, if it sent one.
struct RetryVerdict {
    bool retry = false;
    std::optional<Duration> retry_after;
};

/// The outcome of RetryWithBackoff: the last result, how many attempts ran and the total delay
/// requested from `sleep`.
template <typename R>
struct RetryResult {
    R result;
    int attempts = 0;
    Duration waited{};
};

/// Runs `operation()` until it returns a result that `retryable(result)` rejects, or the attempts
/// run out. `retryable` returns bool or RetryVerdict (true = a retryable failure; successes and
/// permanent failures return false). Between attempts it calls `sleep(delay)` with the delay from
/// NextRetryDelay and one number from `random`. The caller supplies `sleep`, so tests pass a
/// recorder and never sleep. Exceptions from the callables propagate unchanged.
template <typename Operation, typename Retryable, typename Sleep>
auto RetryWithBackoff(Operation&& operation, Retryable&& retryable, Sleep&& sleep, RandomSource& random,
                      const BackoffPolicy& policy = {}) -> RetryResult<std::invoke_result_t<Operation&>> {
    using R = std::invoke_result_t<Operation&>;
    RetryResult<R> out{operation(), 1, Duration{}};
    while (true) {
        RetryVerdict verdict;
        if constexpr (std::is_same_v<std::invoke_result_t<Retryable&, const R&>, RetryVerdict>) {
            verdict = retryable(std::as_const(out.result));
        } else {
            verdict.retry = static_cast<bool>(retryable(std::as_const(out.result)));
        }
        if (!verdict.retry) return out;
        const std::optional<Duration> delay =
            NextRetryDelay(policy, out.attempts, random.NextUnit(), verdict.retry_after);
        if (!delay) return out;
        sleep(*delay);
        out.waited += *delay;
        out.result = operation();
        ++out.attempts;
    }
}

}  // namespace railwatch::core
