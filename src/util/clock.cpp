#include "util/clock.hpp"

#include <cassert>

namespace railwatch::util {

Timestamp SystemClock::Now() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

SteadyTime SystemClock::Steady() const {
    return std::chrono::time_point_cast<Duration>(std::chrono::steady_clock::now());
}

Timestamp FakeClock::DefaultStart() {
    using namespace std::chrono;
    return sys_days{year{2026} / January / 1};
}

FakeClock::FakeClock(Timestamp start)
    : wall_ns_(start.time_since_epoch().count()),
      steady_ns_(std::chrono::nanoseconds(std::chrono::hours(24)).count()) {}

Timestamp FakeClock::Now() const {
    return Timestamp(Duration(wall_ns_.load()));
}

SteadyTime FakeClock::Steady() const {
    return SteadyTime(Duration(steady_ns_.load()));
}

void FakeClock::Advance(Duration d) {
    assert(d.count() >= 0);
    wall_ns_.fetch_add(d.count());
    steady_ns_.fetch_add(d.count());
}

void FakeClock::Set(Timestamp t) {
    const long long previous = wall_ns_.exchange(t.time_since_epoch().count());
    const long long delta = t.time_since_epoch().count() - previous;
    if (delta > 0) steady_ns_.fetch_add(delta);
}

}  // namespace railwatch::util
